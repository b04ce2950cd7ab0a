/* SPDX-License-Identifier: MIT */
/* The kernel syscall fuzzer's memory and handle pool (user/selftest_sysfuzz.c
 * says what the fuzzer does): the random stream, the area the kernel may
 * write, the pool with a live handle of every object type (remade when the
 * fuzzing closes or moves one) and what successful calls handed back. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>

#include "cmk.h"
#include "selftest.h"
#include "selftest_sysfuzz.h"
#include "sys.h"

uint64_t fz_rng_state = FZ_SEED_BASE;

uint64_t fz_rng(void)
{
    fz_rng_state ^= fz_rng_state << 13;
    fz_rng_state ^= fz_rng_state >> 7;
    fz_rng_state ^= fz_rng_state << 17;
    return fz_rng_state;
}

/* ---- the area the kernel may write ---- */

uint64_t fz_area;        /* base: FZ_RW_PAGES read-write, then one read-only page */
const uint8_t fz_ro_image_page[PAGE] __attribute__((aligned(PAGE))) = { 1 };

/* ---- the pool ---- */

const uint8_t fz_slot_type[S_COUNT] = {
    [S_VMO] = CM_OBJ_VMO, [S_VMO_RO] = CM_OBJ_VMO, [S_VMO_SNAP] = CM_OBJ_VMO,
    [S_CH0] = CM_OBJ_CHANNEL, [S_CH1] = CM_OBJ_CHANNEL, [S_CH_IDLE] = CM_OBJ_CHANNEL,
    [S_VMAR] = CM_OBJ_VMAR, [S_VMAR_NESTED] = CM_OBJ_VMAR, [S_VMAR_RO] = CM_OBJ_VMAR,
    [S_SBUF] = CM_OBJ_SBUF, [S_CONS] = CM_OBJ_SBUF_CONSUMER, [S_CONS_RO] = CM_OBJ_SBUF_CONSUMER,
    [S_DMA_POOL] = CM_OBJ_DMA_POOL, [S_ACCT] = CM_OBJ_ACCOUNT, [S_ACCT_RO] = CM_OBJ_ACCOUNT,
    [S_PROC] = CM_OBJ_PROCESS, [S_PROC_RO] = CM_OBJ_PROCESS, [S_MMIO] = CM_OBJ_MMIO,
    [S_MMIO_RO] = CM_OBJ_MMIO, [S_DMA_DEV] = CM_OBJ_DMA_DEVICE,
};
cm_handle_t fz_pool[S_COUNT];
cm_handle_t fz_extra[FZ_EXTRA];
uint8_t fz_extra_type[FZ_EXTRA];
static uint32_t extra_next;
cm_handle_t fz_dead[FZ_DEAD];
static uint32_t dead_next;
uint64_t fz_addrs[FZ_ADDRS];
uint32_t fz_addrs_next;
uint64_t fz_ids[FZ_IDS];
uint32_t fz_ids_next;
cm_handle_t fz_window[2]; /* the empty device windows given to this child, never fuzzed */
static uint32_t dev_names;
static char dev_name[16]; /* the name fz_device registered */
cm_handle_t fz_device = CM_HANDLE_INVALID; /* never fuzzed */

int64_t fz_sys(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
               uint64_t a5, uint64_t a6)
{
    return cmk__syscall(n, a0, a1, a2, a3, a4, a5, a6);
}

int fz_live(cm_handle_t h)
{
    cm_handle_info_t hi;
    return fz_sys(CMK_SYS_HANDLE_GET_INFO, h, (uint64_t)(uintptr_t)&hi, 0, 0, 0, 0, 0) == CM_OK;
}

static void forget(cm_handle_t h)
{
    if (h == CM_HANDLE_INVALID)
        return;
    (void)fz_sys(CMK_SYS_HANDLE_CLOSE, h, 0, 0, 0, 0, 0, 0);
    fz_dead[dead_next++ % FZ_DEAD] = h;
}

void fz_keep_extra(cm_handle_t h)
{
    uint32_t i = extra_next++ % FZ_EXTRA;
    cm_handle_info_t hi = { 0, 0 };
    forget(fz_extra[i]);
    fz_extra[i] = h;
    (void)fz_sys(CMK_SYS_HANDLE_GET_INFO, h, (uint64_t)(uintptr_t)&hi, 0, 0, 0, 0, 0);
    fz_extra_type[i] = (uint8_t)hi.type;
}

cm_handle_t fz_dup(cm_handle_t h, cm_rights_t rights)
{
    cm_handle_t out = CM_HANDLE_INVALID;
    if (fz_sys(CMK_SYS_HANDLE_DUPLICATE, h, rights, (uint64_t)(uintptr_t)&out, 0, 0, 0, 0) != CM_OK)
        return CM_HANDLE_INVALID;
    return out;
}

uint64_t fz_va(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* Rebuilds a group of slots when any of them was closed, moved or
 * replaced by the fuzzing: the pool always has every type it can. */
static int group_dead(enum slot first, enum slot last)
{
    for (int s = first; s <= (int)last; s++) {
        if (!fz_live(fz_pool[s]))
            return 1;
    }
    return 0;
}

static void group_reset(enum slot first, enum slot last)
{
    for (int s = first; s <= (int)last; s++) {
        forget(fz_pool[s]);
        fz_pool[s] = CM_HANDLE_INVALID;
    }
}

void fz_refill(void)
{
    static const char text[] = "fuzz";
    if (group_dead(S_VMO, S_VMO_SNAP)) {
        group_reset(S_VMO, S_VMO_SNAP);
        if (fz_sys(CMK_SYS_VMO_CREATE, PAGE * (1 + fz_rng() % 4), 0, fz_va(&fz_pool[S_VMO]), 0, 0, 0, 0) ==
            CM_OK) {
            (void)fz_sys(CMK_SYS_VMO_WRITE, fz_pool[S_VMO], fz_va(text), 0, sizeof(text), 0, 0, 0);
            fz_pool[S_VMO_RO] = fz_dup(fz_pool[S_VMO], CM_RIGHT_READ | CM_RIGHT_MAP);
            (void)fz_sys(CMK_SYS_VMO_SNAPSHOT, fz_pool[S_VMO], fz_va(&fz_pool[S_VMO_SNAP]), 0, 0, 0, 0, 0);
        }
    }
    if (group_dead(S_CH0, S_CH1)) {
        group_reset(S_CH0, S_CH1);
        (void)fz_sys(CMK_SYS_CHANNEL_CREATE, 0, fz_va(&fz_pool[S_CH0]), fz_va(&fz_pool[S_CH1]), 0, 0, 0, 0);
    }
    if (group_dead(S_VMAR, S_VMAR_RO)) {
        uint64_t base, addr;
        group_reset(S_VMAR, S_VMAR_RO);
        if (fz_sys(CMK_SYS_VMAR_RESERVE, 0, 64 * PAGE, 0, fz_va(&fz_pool[S_VMAR]), fz_va(&base), 0, 0) ==
            CM_OK) {
            (void)fz_sys(CMK_SYS_VMAR_RESERVE_IN, fz_pool[S_VMAR], 16 * PAGE, 16 * PAGE,
                      CM_VMAR_FIXED | CM_VMAR_CAN_MAP_READ | CM_VMAR_CAN_MAP_WRITE,
                      fz_va(&fz_pool[S_VMAR_NESTED]), fz_va(&base), 0);
            if (fz_sys(CMK_SYS_VMAR_MAP_ANON, fz_pool[S_VMAR_NESTED], 0, 2 * PAGE,
                    CM_MAP_READ | CM_MAP_WRITE, fz_va(&addr), 0, 0) == CM_OK)
                fz_addrs[fz_addrs_next++ % FZ_ADDRS] = addr;
            /* Reservation handles have no DUPLICATE: the reduced one is a
             * second child that can only map read-only. */
            (void)fz_sys(CMK_SYS_VMAR_RESERVE_IN, fz_pool[S_VMAR], 40 * PAGE, 8 * PAGE,
                      CM_VMAR_FIXED | CM_VMAR_CAN_MAP_READ, fz_va(&fz_pool[S_VMAR_RO]), fz_va(&base), 0);
        }
    }
    if (group_dead(S_SBUF, S_CONS_RO)) {
        cm_sbuf_config_t cfg = { 8, 256, 2, 2, 2, fz_rng() % 2 ? CM_SBUF_BLOCK : CM_SBUF_DROP_OLDEST,
                                 0, 0 };
        group_reset(S_SBUF, S_CONS_RO);
        if (fz_sys(CMK_SYS_SBUF_CREATE, fz_va(&cfg), fz_va(&fz_pool[S_SBUF]), 0, 0, 0, 0, 0) == CM_OK) {
            (void)fz_sys(CMK_SYS_SBUF_CONSUMER_CREATE, fz_pool[S_SBUF], CM_RIGHTS_SAME,
                      fz_va(&fz_pool[S_CONS]), 0, 0, 0, 0);
            (void)fz_sys(CMK_SYS_SBUF_CONSUMER_CREATE, fz_pool[S_SBUF], CM_RIGHT_READ,
                      fz_va(&fz_pool[S_CONS_RO]), 0, 0, 0, 0);
        }
    }
    if (!fz_live(fz_pool[S_DMA_POOL])) {
        cm_dma_pool_config_t cfg = { 4, PAGE, 2, 0 };
        uint64_t buf;
        forget(fz_pool[S_DMA_POOL]);
        fz_pool[S_DMA_POOL] = CM_HANDLE_INVALID;
        if (fz_sys(CMK_SYS_DMA_POOL_CREATE, fz_va(&cfg), fz_va(&fz_pool[S_DMA_POOL]), 0, 0, 0, 0, 0) == CM_OK) {
            if (dev_name[0] != 0)
                (void)fz_sys(CMK_SYS_DMA_POOL_ATTACH, fz_pool[S_DMA_POOL], fz_va(dev_name),
                          CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE, 0, 0, 0, 0);
            if (fz_sys(CMK_SYS_DMA_BUFFER_ACQUIRE, fz_pool[S_DMA_POOL], fz_va(&buf), 0, 0, 0, 0, 0) == CM_OK)
                fz_ids[fz_ids_next++ % FZ_IDS] = buf;
        }
    }
    if (group_dead(S_ACCT, S_ACCT_RO)) {
        group_reset(S_ACCT, S_ACCT_RO);
        if (fz_sys(CMK_SYS_ACCOUNT_CREATE, 0, 0, fz_va(&fz_pool[S_ACCT]), 0, 0, 0, 0) == CM_OK)
            fz_pool[S_ACCT_RO] = fz_dup(fz_pool[S_ACCT], CM_RIGHT_READ);
    }
    /* The process handles are not remade: one idle child per run. */
    if (fz_window[0] != CM_HANDLE_INVALID && group_dead(S_MMIO, S_MMIO_RO)) {
        group_reset(S_MMIO, S_MMIO_RO);
        fz_pool[S_MMIO] = fz_dup(fz_window[fz_rng() % 2], CM_RIGHTS_SAME);
        fz_pool[S_MMIO_RO] = fz_dup(fz_pool[S_MMIO], CM_RIGHT_READ);
    }
    /* One device for the run, on window[0] (a window keeps its device
     * while this process holds the window): the pool gets duplicates. */
    if (fz_window[0] != CM_HANDLE_INVALID && !fz_live(fz_device)) {
        snprintf(dev_name, sizeof(dev_name), "fz%u", dev_names++);
        if (fz_sys(CMK_SYS_DMA_DEVICE_CREATE, fz_window[0], fz_va(dev_name), 512, 1u << 20,
                CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE, fz_va(&fz_device), 0) == CM_OK)
            (void)fz_sys(CMK_SYS_DMA_POOL_ATTACH, fz_pool[S_DMA_POOL], fz_va(dev_name),
                      CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE, 0, 0, 0, 0);
    }
    if (!fz_live(fz_pool[S_DMA_DEV])) {
        forget(fz_pool[S_DMA_DEV]);
        fz_pool[S_DMA_DEV] = fz_dup(fz_device, CM_RIGHTS_SAME);
    }
}

/* The fuzzing may unmap or protect the area (a forged handle value can
 * name its reservation): the fuzzer itself never touches it but through
 * the kernel, by way of a staging VMO, so a broken area is a refusal here
 * too, never a fault. 0 when the bytes moved. */
static cm_handle_t stage = CM_HANDLE_INVALID;

int fz_area_put(uint64_t dst, const void *src, uint64_t len)
{
    return fz_sys(CMK_SYS_VMO_WRITE, stage, fz_va(src), 0, len, 0, 0, 0) == CM_OK &&
                   fz_sys(CMK_SYS_VMO_READ, stage, dst, 0, len, 0, 0, 0) == CM_OK
               ? 0
               : -1;
}

int fz_area_get(void *dst, uint64_t src, uint64_t len)
{
    return fz_sys(CMK_SYS_VMO_WRITE, stage, src, 0, len, 0, 0, 0) == CM_OK &&
                   fz_sys(CMK_SYS_VMO_READ, stage, fz_va(dst), 0, len, 0, 0, 0) == CM_OK
               ? 0
               : -1;
}

int fz_in_area(uint64_t p, uint64_t size)
{
    return p >= fz_area && p <= fz_area + FZ_RW_PAGES * PAGE - size;
}

/* The fuzzer's own area: FZ_RW_PAGES read-write, a read-only page of a
 * VMO, the rest reserved and never mapped (its handle stays out of the
 * pool, so nothing but the fuzzer's address picks names it). */
int fz_make_area(void)
{
    cm_handle_t r, v;
    uint64_t addr;
    CHECK_ST(fz_sys(CMK_SYS_VMAR_RESERVE, 0, FZ_AREA_PAGES * PAGE, 0, fz_va(&r), fz_va(&fz_area), 0, 0),
             CM_OK);
    CHECK_ST(fz_sys(CMK_SYS_VMAR_MAP_ANON, r, 0, FZ_RW_PAGES * PAGE,
                 CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE | CM_VMAR_MAP_SPECIFIC, fz_va(&addr), 0,
                 0), CM_OK);
    CHECK(addr == fz_area);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "ro", 0, 2), CM_OK);
    CHECK_ST(fz_sys(CMK_SYS_VMAR_MAP, r, FZ_RW_PAGES * PAGE, v, 0, PAGE,
                 CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, fz_va(&addr)), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &stage), CM_OK);
    for (uint32_t i = 0; i < FZ_ADDRS; i++)
        fz_addrs[i] = fz_area;
    return 0;
}

/* Lowers every limit of this process to what it uses plus a little. */
int fz_tighten(void)
{
    static const uint64_t unit[CM_LEDGER_KIND_COUNT] = {
        [CM_LEDGER_VIRTUAL] = 16 * PAGE, [CM_LEDGER_COMMIT] = 4 * PAGE,
        [CM_LEDGER_OBJECT_BACKING] = 4 * PAGE, [CM_LEDGER_PINS] = 1,
    };
    cm_ledger_info_t l;
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        uint64_t u = unit[k] != 0 ? unit[k] : 1;
        uint64_t want = l.entry[k].used + l.entry[k].given + u * (fz_rng() % 4);
        if (want < l.entry[k].limit)
            (void)cm_ledger_set_limit((cm_ledger_kind_t)k, want);
    }
    return 0;
}
