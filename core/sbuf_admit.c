/* SPDX-License-Identifier: MIT */
/* Admission of a SharedBuffer consumer from another process: the decision
 * only (see sbuf_admit.h). */
#include "sbuf_admit.h"
#include "sbuf_cons.h"

/* An unlinked shmem file (a memfd) of exactly `size` bytes whose size is
 * sealed, write-sealed exactly when `ro`. */
static int area_ok(const struct cm__vmo_facts *f, uint64_t size, int ro)
{
    if (!f->seals_ok || !f->is_reg || f->fs != CM__VMO_FS_SHMEM || f->nlink != 0)
        return 0;
    if ((f->seals & CM__SEALS_FIXED_SIZE) != CM__SEALS_FIXED_SIZE)
        return 0;
    if (ro ? (f->seals & CM__SEALS_NO_WRITE) == 0 : (f->seals & CM__SEALS_NO_WRITE) != 0)
        return 0;
    if (!f->readable || (!ro && !f->writable))
        return 0;
    return f->size == size;
}

cm_status_t cm__sbuf_admit_decide(const struct cm__sbuf_wire *meta,
                                  const struct cm__sbuf_admit_facts *f, cm_rights_t claimed,
                                  struct cm__sbuf_admit_verdict *out)
{
    struct cm_sbuf_layout lay;
    if (meta == 0 || f == 0 || out == 0)
        return CM_ERR_PROTOCOL;
    cm_sbuf_config_t cfg = meta->config; /* one copy: checked and used */
    if (cm__sbuf_layout(&cfg, &lay) != CM_OK)
        return CM_ERR_PROTOCOL;
    if (meta->pos >= cfg.max_consumers || (meta->flags & ~CM__SBUF_WIRE_FLAGS) != 0)
        return CM_ERR_PROTOCOL;
    uint64_t held = meta->received - meta->released;
    if (meta->released > meta->received ||
        ((meta->flags & CM__SBUF_WIRE_BROKEN) ? held > cfg.max_held : held != 0))
        return CM_ERR_PROTOCOL;
    if (!area_ok(&f->data, lay.data_size, 1) || !area_ok(&f->prod, lay.prod_area_size, 1) ||
        !area_ok(&f->cons, lay.cons_area_size, 0))
        return CM_ERR_PROTOCOL;
    const struct cm__sbuf_sock_facts *s = &f->sock;
    if (!s->is_sock || !s->unix_domain || !s->seqpacket || s->listening || !s->connected)
        return CM_ERR_PROTOCOL;
    out->rights = claimed & CM_SBUF_CONSUMER_DEFAULT_RIGHTS;
    out->lay = lay;
    return CM_OK;
}

cm_status_t cm__sbuf_cons_adopt(struct cm_sbuf_cons *cs, struct cm_sbuf_hold *holds,
                                const struct cm__sbuf_wire *meta, uint64_t join_seq,
                                uint64_t index_base, uint64_t read, uint64_t rel_tail,
                                uint64_t tail, uint64_t rel_head)
{
    cm_sbuf_config_t cfg = meta->config;
    if (cm__sbuf_cons_init(cs, holds, &cfg, join_seq, index_base) != CM_OK)
        return CM_ERR_PROTOCOL;
    const uint64_t ring = cs->ring_size;
    if (rel_tail != meta->rel_tail || cm__sbuf_count(rel_head, rel_tail) > ring)
        return CM_ERR_PROTOCOL;
    if (cfg.policy == CM_SBUF_BLOCK ? read != meta->read
                                    : cm__sbuf_count(meta->read, read) > ring)
        return CM_ERR_PROTOCOL;
    if (cm__sbuf_count(meta->read, tail) > ring)
        return CM_ERR_PROTOCOL;
    cs->read = meta->read;
    cs->expected = join_seq + (meta->read - index_base);
    cs->rel_tail = meta->rel_tail;
    cs->received = meta->received;
    cs->released = meta->released;
    cs->dropped = meta->dropped;
    cs->broken = (meta->flags & CM__SBUF_WIRE_BROKEN) != 0;
    return CM_OK;
}
