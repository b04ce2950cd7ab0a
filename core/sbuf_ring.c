/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "sbuf_ring.h"
#include "status_detail.h"

_Static_assert(sizeof(struct cm_sbuf_desc) == 16, "delivery descriptor is ABI");
_Static_assert(sizeof(struct cm_sbuf_rel) == 16, "release descriptor is ABI");
_Static_assert(sizeof(struct cm_sbuf_prod_ctl) == 128, "producer control lines");
_Static_assert(sizeof(struct cm_sbuf_cons_ctl) == 128, "consumer control lines");
/* The word each side spins on is alone on its line with what is written
 * together with it (docs/sbuf.md, "Memory layout"). */
_Static_assert(offsetof(struct cm_sbuf_prod_ctl, rel_head) == 64, "rel_head off tail's line");
_Static_assert(offsetof(struct cm_sbuf_cons_ctl, rel_tail) == 64, "rel_tail off read's line");
_Static_assert(CM_SBUF_MAX_SLOTS <= 0xffffu, "slot numbers fit the 16-bit ring mirror");
_Static_assert(CM_SBUF_MAX_CONSUMERS <= 32u, "holder sets are 32-bit masks");
_Static_assert((CM_SBUF_SLOT_ALIGN & (CM_SBUF_SLOT_ALIGN - 1u)) == 0, "alignment is a power of two");

uint32_t cm__sbuf_pow2(uint32_t n)
{
    if (n == 0 || n > 0x80000000u)
        return 0;
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static uint64_t stride_of(uint32_t slot_size)
{
    return ((uint64_t)slot_size + CM_SBUF_SLOT_ALIGN - 1u) & ~(uint64_t)(CM_SBUF_SLOT_ALIGN - 1u);
}

static uint64_t page_round(uint64_t n)
{
    return (n + CM_PAGE_SIZE - 1u) & ~(uint64_t)(CM_PAGE_SIZE - 1u);
}

cm_status_t cm__sbuf_loan_check_args(int loan_ok, uint32_t flags)
{
    return !loan_ok || (flags & ~CM_SBUF_BUSY_POLL) != 0 ? CM_ERR_INVALID_ARGS : CM_OK;
}

cm_status_t cm__sbuf_receive_check_args(int msg_ok, uint32_t flags, int copy, int buf_ok,
                                        uint32_t cap)
{
    if (!msg_ok || (flags & ~CM_SBUF_BUSY_POLL) != 0 || (copy && !buf_ok && cap > 0))
        return CM_ERR_INVALID_ARGS;
    return CM_OK;
}

cm_status_t cm__sbuf_config_check(const cm_sbuf_config_t *cfg, int out_ok)
{
    if (cfg == 0 || !out_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "config or the out-pointer is NULL");
    if (cfg->options != 0 || cfg->reserved != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "options and reserved must be 0");
    if (cfg->policy != CM_SBUF_BLOCK && cfg->policy != CM_SBUF_DROP_OLDEST)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "policy %u: use CM_SBUF_BLOCK or CM_SBUF_DROP_OLDEST", cfg->policy);
    if (cfg->slot_count == 0 || cfg->slot_size == 0 || cfg->max_consumers == 0 ||
        cfg->max_held == 0 || cfg->max_loans == 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "slot_count, slot_size, max_consumers, "
                              "max_held and max_loans must all be above 0");
    if (cfg->max_held > cfg->slot_count || cfg->max_loans > cfg->slot_count)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "max_held %u or max_loans %u above slot_count %u", cfg->max_held,
                              cfg->max_loans, cfg->slot_count);
    /* 32 x 32 bits cannot overflow 64. */
    if (cfg->policy == CM_SBUF_DROP_OLDEST &&
        (uint64_t)cfg->slot_count < (uint64_t)cfg->max_consumers * cfg->max_held + cfg->max_loans)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "DROP_OLDEST needs slot_count >= max_consumers x max_held + "
                              "max_loans (%u < %u x %u + %u)", cfg->slot_count,
                              cfg->max_consumers, cfg->max_held, cfg->max_loans);
    if (cfg->slot_count > CM_SBUF_MAX_SLOTS)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "slot_count %u above CM_SBUF_MAX_SLOTS (%u)",
                              cfg->slot_count, CM_SBUF_MAX_SLOTS);
    if (cfg->slot_size > CM_SBUF_MAX_SLOT_SIZE)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "slot_size %u above CM_SBUF_MAX_SLOT_SIZE (%u bytes): larger "
                              "messages go in a VMO", cfg->slot_size, CM_SBUF_MAX_SLOT_SIZE);
    if (cfg->max_consumers > CM_SBUF_MAX_CONSUMERS)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "max_consumers %u above CM_SBUF_MAX_CONSUMERS (%u)",
                              cfg->max_consumers, CM_SBUF_MAX_CONSUMERS);
    if (cfg->max_loans > CM_SBUF_MAX_LOANS)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "max_loans %u above CM_SBUF_MAX_LOANS (%u)",
                              cfg->max_loans, CM_SBUF_MAX_LOANS);
    /* Both factors are bounded above (2^10 and 2^24 + 63): no overflow. */
    if ((uint64_t)cfg->slot_count * stride_of(cfg->slot_size) > CM_SBUF_MAX_DATA_SIZE)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "slot_count %u x stride %llu above CM_SBUF_MAX_DATA_SIZE (%llu "
                              "bytes)", cfg->slot_count,
                              (unsigned long long)stride_of(cfg->slot_size),
                              (unsigned long long)CM_SBUF_MAX_DATA_SIZE);
    return CM_OK;
}

cm_status_t cm__sbuf_layout(const cm_sbuf_config_t *cfg, struct cm_sbuf_layout *out)
{
    cm_status_t st = cm__sbuf_config_check(cfg, out != 0);
    if (st != CM_OK)
        return st;
    uint32_t ring = cm__sbuf_pow2(cfg->slot_count);
    out->stride = (uint32_t)stride_of(cfg->slot_size);
    out->ring_size = ring;
    out->data_size = (uint64_t)cfg->slot_count * out->stride;
    out->prod_area_size = page_round(sizeof(struct cm_sbuf_prod_ctl) +
                                     (uint64_t)ring * sizeof(struct cm_sbuf_desc));
    out->cons_area_size = page_round(sizeof(struct cm_sbuf_cons_ctl) +
                                     (uint64_t)ring * sizeof(struct cm_sbuf_rel));
    return CM_OK;
}
