/* SPDX-License-Identifier: MIT */
#include "sbuf_cons.h"

cm_status_t cm__sbuf_cons_init(struct cm_sbuf_cons *cs, struct cm_sbuf_hold *holds,
                               const cm_sbuf_config_t *cfg, uint64_t join_seq,
                               uint64_t index_base)
{
    if (cs == 0 || holds == 0 || cfg == 0)
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_layout lay;
    if (cm__sbuf_layout(cfg, &lay) != CM_OK)
        return CM_ERR_PROTOCOL;
    cs->slot_count = cfg->slot_count;
    cs->slot_size = cfg->slot_size;
    cs->ring_size = lay.ring_size;
    cs->max_held = cfg->max_held;
    cs->policy = cfg->policy;
    cs->broken = 0;
    cs->read = index_base;
    cs->expected = join_seq;
    cs->rel_tail = index_base;
    cs->held = 0;
    cs->received = cs->released = cs->dropped = 0;
    cs->holds = holds;
    for (uint32_t i = 0; i < cfg->max_held; i++)
        holds[i].used = 0;
    return CM_OK;
}

static cm_status_t broken(struct cm_sbuf_cons *cs)
{
    cs->broken = 1;
    return CM_ERR_PROTOCOL;
}

cm_status_t cm__sbuf_cons_can_receive(const struct cm_sbuf_cons *cs)
{
    if (cs->broken)
        return CM_ERR_PROTOCOL;
    if (cs->held >= cs->max_held)
        return CM_ERR_NO_RESOURCES;
    return CM_OK;
}

cm_status_t cm__sbuf_cons_poll(struct cm_sbuf_cons *cs, uint64_t read, uint64_t tail)
{
    if (cs->broken)
        return CM_ERR_PROTOCOL;
    /* tail - read <= ring_size: the producer never has more than
     * slot_count <= ring_size entries pending at one consumer (a tail behind
     * read wraps to a huge count). */
    if (cm__sbuf_count(read, tail) > cs->ring_size)
        return broken(cs);
    /* read at or ahead of this consumer's position: only the producer's
     * drops move it, and only forward (by any amount: a stalled consumer
     * may lose many messages). */
    if (!cm__sbuf_forward(cs->read, read))
        return broken(cs);
    if (cs->policy == CM_SBUF_BLOCK && read != cs->read)
        return broken(cs);
    return read == tail ? CM_ERR_SHOULD_WAIT : CM_OK;
}

cm_status_t cm__sbuf_cons_check(struct cm_sbuf_cons *cs, const struct cm_sbuf_desc *desc,
                                uint64_t read, uint64_t *gap)
{
    if (cs->broken)
        return CM_ERR_PROTOCOL;
    struct cm_sbuf_desc d = *desc; /* one copy: what is checked is what is used */
    uint64_t skipped = cm__sbuf_count(cs->read, read);
    if (!cm__sbuf_forward(cs->read, read) || (cs->policy == CM_SBUF_BLOCK && skipped != 0))
        return broken(cs);
    if (d.slot >= cs->slot_count || d.len > cs->slot_size)
        return broken(cs);
    if (d.seq != cs->expected + skipped)
        return broken(cs);
    if (gap != 0)
        *gap = skipped;
    return CM_OK;
}

cm_status_t cm__sbuf_cons_received(struct cm_sbuf_cons *cs, const struct cm_sbuf_desc *desc,
                                   uint64_t read)
{
    uint64_t skipped = cm__sbuf_count(cs->read, read);
    if (!cm__sbuf_forward(cs->read, read) || cs->held >= cs->max_held)
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_hold *h = 0;
    for (uint32_t i = 0; i < cs->max_held; i++) {
        if (!cs->holds[i].used) {
            h = &cs->holds[i];
            break;
        }
    }
    if (h == 0)
        return CM_ERR_INVALID_ARGS;
    h->used = 1;
    h->seq = desc->seq;
    h->slot = desc->slot;
    cs->held++;
    cs->received++;
    cs->dropped += skipped;
    cs->read = read + 1;
    cs->expected = desc->seq + 1;
    return CM_OK;
}

cm_status_t cm__sbuf_cons_release(struct cm_sbuf_cons *cs, uint64_t seq, uint64_t rel_head,
                                  struct cm_sbuf_rel *rel, uint64_t *index)
{
    if (cs->broken)
        return CM_ERR_PROTOCOL;
    /* rel_head in [rel_tail - ring_size + 1, rel_tail]: behind, with room. */
    if (cm__sbuf_count(rel_head, cs->rel_tail) >= cs->ring_size)
        return broken(cs);
    struct cm_sbuf_hold *h = 0;
    for (uint32_t i = 0; i < cs->max_held; i++) {
        if (cs->holds[i].used && cs->holds[i].seq == seq) {
            h = &cs->holds[i];
            break;
        }
    }
    if (h == 0)
        return CM_ERR_BAD_STATE;
    rel->seq = h->seq;
    rel->slot = h->slot;
    rel->reserved = 0;
    *index = cs->rel_tail;
    h->used = 0;
    cs->held--;
    cs->released++;
    cs->rel_tail++;
    return CM_OK;
}
