/* SPDX-License-Identifier: MIT */
#include "sbuf_own.h"

#define ID_SLOT_MASK 0xffffffffull

static uint32_t next_gen(uint32_t gen)
{
    return gen == 0xffffffffu ? 1u : gen + 1u;
}

static uint64_t loan_id_of(uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)slot + 1u);
}

static uint16_t *mirror_cell(const struct cm_sbuf_own *o, const struct cm_sbuf_peer *p,
                             uint64_t index)
{
    return &p->ring[cm__sbuf_cell(index, o->ring_size)];
}

cm_status_t cm__sbuf_own_init(struct cm_sbuf_own *o, struct cm_sbuf_slot *slots,
                              struct cm_sbuf_peer *peers, uint16_t *mirror,
                              const cm_sbuf_config_t *cfg, uint64_t first_seq,
                              uint64_t index_base, uint32_t gen_seed)
{
    if (o == 0 || slots == 0 || peers == 0 || mirror == 0)
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_layout lay;
    cm_status_t st = cm__sbuf_layout(cfg, &lay);
    if (st != CM_OK)
        return st;
    for (uint32_t i = 0; i < cfg->slot_count; i++) {
        slots[i].state = CM_SBUF_SLOT_FREE;
        slots[i].gen = gen_seed != 0 ? gen_seed : 1u;
        slots[i].len = 0;
        slots[i].pending = 0;
        slots[i].held = 0;
        slots[i].seq = 0;
    }
    for (uint32_t c = 0; c < cfg->max_consumers; c++) {
        struct cm_sbuf_peer *p = &peers[c];
        p->state = CM_SBUF_PEER_ABSENT;
        p->join_seq = p->floor = p->tail = p->rel_head = p->mark = 0;
        p->held = p->pending = 0;
        p->received = p->released = p->dropped = 0;
        p->ring = mirror + (uint64_t)c * lay.ring_size;
    }
    o->slots = slots;
    o->peers = peers;
    o->slot_count = cfg->slot_count;
    o->slot_size = cfg->slot_size;
    o->max_consumers = cfg->max_consumers;
    o->max_held = cfg->max_held;
    o->max_loans = cfg->max_loans;
    o->policy = cfg->policy;
    o->ring_size = lay.ring_size;
    o->free = cfg->slot_count;
    o->loaned = 0;
    o->published = 0;
    o->active = 0;
    o->next_seq = first_seq;
    o->index_base = index_base;
    return CM_OK;
}

/* A PUBLISHED slot whose last bit just cleared goes back to the pool. */
static int settle(struct cm_sbuf_own *o, struct cm_sbuf_slot *s)
{
    if (s->state != CM_SBUF_SLOT_PUBLISHED || s->pending != 0 || s->held != 0)
        return 0;
    s->state = CM_SBUF_SLOT_FREE;
    o->published--;
    o->free++;
    return 1;
}

static int active(const struct cm_sbuf_own *o, uint32_t c)
{
    return c < o->max_consumers && o->peers[c].state == CM_SBUF_PEER_ACTIVE;
}

cm_status_t cm__sbuf_own_join(struct cm_sbuf_own *o, uint32_t *consumer)
{
    for (uint32_t c = 0; c < o->max_consumers; c++) {
        struct cm_sbuf_peer *p = &o->peers[c];
        if (p->state != CM_SBUF_PEER_ABSENT)
            continue;
        p->state = CM_SBUF_PEER_ACTIVE;
        p->join_seq = o->next_seq;
        p->floor = p->tail = p->rel_head = o->index_base;
        p->mark = 0;
        p->held = p->pending = 0;
        p->received = p->released = p->dropped = 0;
        o->active |= 1u << c;
        *consumer = c;
        return CM_OK;
    }
    return CM_ERR_NO_RESOURCES;
}

/* Clears the consumer's bit everywhere; the slots left bare are FREE. */
static uint32_t drop_all(struct cm_sbuf_own *o, uint32_t c)
{
    uint32_t bit = 1u << c, freed = 0;
    for (uint32_t i = 0; i < o->slot_count; i++) {
        struct cm_sbuf_slot *s = &o->slots[i];
        if (s->state != CM_SBUF_SLOT_PUBLISHED || ((s->pending | s->held) & bit) == 0)
            continue;
        s->pending &= ~bit;
        s->held &= ~bit;
        freed += (uint32_t)settle(o, s);
    }
    struct cm_sbuf_peer *p = &o->peers[c];
    p->floor = p->tail;
    p->held = p->pending = 0;
    o->active &= ~bit;
    return freed;
}

cm_status_t cm__sbuf_own_leave(struct cm_sbuf_own *o, uint32_t consumer, uint32_t *freed)
{
    if (consumer >= o->max_consumers || o->peers[consumer].state == CM_SBUF_PEER_ABSENT)
        return CM_ERR_INVALID_ARGS;
    uint32_t n = drop_all(o, consumer);
    o->peers[consumer].state = CM_SBUF_PEER_ABSENT;
    if (freed != 0)
        *freed = n;
    return CM_OK;
}

cm_status_t cm__sbuf_own_evict(struct cm_sbuf_own *o, uint32_t consumer, uint32_t *freed)
{
    if (!active(o, consumer))
        return CM_ERR_INVALID_ARGS;
    uint32_t n = drop_all(o, consumer);
    o->peers[consumer].state = CM_SBUF_PEER_EVICTED;
    if (freed != 0)
        *freed = n;
    return CM_OK;
}

cm_status_t cm__sbuf_own_loan(struct cm_sbuf_own *o, uint64_t *loan_id, uint32_t *slot)
{
    if (o->loaned >= o->max_loans)
        return CM_ERR_NO_RESOURCES;
    for (uint32_t i = 0; i < o->slot_count; i++) {
        struct cm_sbuf_slot *s = &o->slots[i];
        if (s->state != CM_SBUF_SLOT_FREE)
            continue;
        s->state = CM_SBUF_SLOT_LOANED;
        s->gen = next_gen(s->gen);
        s->len = 0;
        o->free--;
        o->loaned++;
        *loan_id = loan_id_of(i, s->gen);
        *slot = i;
        return CM_OK;
    }
    return CM_ERR_SHOULD_WAIT;
}

cm_status_t cm__sbuf_own_loan_slot(const struct cm_sbuf_own *o, uint64_t loan_id, uint32_t *slot)
{
    uint64_t idx = loan_id & ID_SLOT_MASK;
    uint32_t gen = (uint32_t)(loan_id >> 32);
    if (idx == 0 || idx > o->slot_count || gen == 0)
        return CM_ERR_BAD_HANDLE;
    const struct cm_sbuf_slot *s = &o->slots[idx - 1];
    if (s->state != CM_SBUF_SLOT_LOANED || s->gen != gen)
        return CM_ERR_BAD_HANDLE;
    *slot = (uint32_t)(idx - 1);
    return CM_OK;
}

cm_status_t cm__sbuf_own_publish(struct cm_sbuf_own *o, uint64_t loan_id, uint32_t len,
                                 uint64_t *seq, uint32_t *slot, uint32_t *to)
{
    uint32_t i;
    cm_status_t st = cm__sbuf_own_loan_slot(o, loan_id, &i);
    if (st != CM_OK)
        return st;
    if (len > o->slot_size)
        return CM_ERR_OUT_OF_RANGE;
    struct cm_sbuf_slot *s = &o->slots[i];
    s->state = CM_SBUF_SLOT_PUBLISHED;
    s->len = len;
    s->seq = o->next_seq++;
    s->pending = o->active;
    s->held = 0;
    o->loaned--;
    o->published++;
    for (uint32_t c = 0; c < o->max_consumers; c++) {
        if ((o->active & (1u << c)) == 0)
            continue;
        struct cm_sbuf_peer *p = &o->peers[c];
        *mirror_cell(o, p, p->tail) = (uint16_t)i;
        p->tail++;
        p->pending++;
    }
    settle(o, s);
    if (seq != 0)
        *seq = s->seq;
    if (slot != 0)
        *slot = i;
    if (to != 0)
        *to = s->pending;
    return CM_OK;
}

cm_status_t cm__sbuf_own_cancel(struct cm_sbuf_own *o, uint64_t loan_id)
{
    uint32_t i;
    cm_status_t st = cm__sbuf_own_loan_slot(o, loan_id, &i);
    if (st != CM_OK)
        return st;
    o->slots[i].state = CM_SBUF_SLOT_FREE;
    o->loaned--;
    o->free++;
    return CM_OK;
}

cm_status_t cm__sbuf_own_reap_begin(struct cm_sbuf_own *o, uint32_t consumer, uint64_t r1,
                                    uint64_t rel_tail, uint64_t r2, uint32_t *nrel)
{
    if (!active(o, consumer))
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_peer *p = &o->peers[consumer];
    /* floor <= r1 <= r2 <= tail on the circle: read only moves forward, and
     * never past what was delivered. */
    if (!cm__sbuf_within(p->floor, r2, p->tail) || !cm__sbuf_within(p->floor, r1, r2))
        return CM_ERR_PROTOCOL;
    if (cm__sbuf_count(p->rel_head, rel_tail) > o->ring_size)
        return CM_ERR_PROTOCOL;
    uint32_t bit = 1u << consumer;
    p->mark = p->received + cm__sbuf_count(p->floor, r1);
    for (uint64_t i = p->floor; i != r2; i++) {
        struct cm_sbuf_slot *s = &o->slots[*mirror_cell(o, p, i)];
        s->pending &= ~bit;
        s->held |= bit;
    }
    uint64_t n = cm__sbuf_count(p->floor, r2);
    p->held += (uint32_t)n;
    p->pending -= (uint32_t)n;
    p->received += n;
    p->floor = r2;
    *nrel = (uint32_t)cm__sbuf_count(p->rel_head, rel_tail);
    return CM_OK;
}

cm_status_t cm__sbuf_own_reap_release(struct cm_sbuf_own *o, uint32_t consumer,
                                      const struct cm_sbuf_rel *rel, int *freed)
{
    if (!active(o, consumer))
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_rel r = *rel; /* one copy: the checks and the effect agree */
    if (r.reserved != 0 || r.slot >= o->slot_count)
        return CM_ERR_PROTOCOL;
    struct cm_sbuf_slot *s = &o->slots[r.slot];
    uint32_t bit = 1u << consumer;
    if (s->state != CM_SBUF_SLOT_PUBLISHED || s->seq != r.seq || (s->held & bit) == 0)
        return CM_ERR_PROTOCOL;
    struct cm_sbuf_peer *p = &o->peers[consumer];
    s->held &= ~bit;
    p->held--;
    p->released++;
    p->rel_head++;
    int f = settle(o, s);
    if (freed != 0)
        *freed = f;
    return CM_OK;
}

cm_status_t cm__sbuf_own_reap_end(struct cm_sbuf_own *o, uint32_t consumer)
{
    if (!active(o, consumer))
        return CM_ERR_INVALID_ARGS;
    const struct cm_sbuf_peer *p = &o->peers[consumer];
    /* released <= received always (each release cleared a held bit). */
    if (p->mark > p->released && p->mark - p->released > o->max_held)
        return CM_ERR_PROTOCOL;
    return CM_OK;
}

cm_status_t cm__sbuf_own_drop_candidate(const struct cm_sbuf_own *o, uint32_t *consumer,
                                        uint64_t *index)
{
    if (o->policy != CM_SBUF_DROP_OLDEST)
        return CM_ERR_BAD_STATE;
    uint32_t best = o->max_consumers;
    uint64_t best_age = 0;
    for (uint32_t c = 0; c < o->max_consumers; c++) {
        const struct cm_sbuf_peer *p = &o->peers[c];
        if (p->state != CM_SBUF_PEER_ACTIVE || p->floor == p->tail)
            continue;
        const struct cm_sbuf_slot *s = &o->slots[*mirror_cell(o, p, p->floor)];
        uint64_t age = cm__sbuf_age(o->next_seq, s->seq);
        if (best == o->max_consumers || age > best_age) {
            best = c;
            best_age = age;
        }
    }
    if (best == o->max_consumers)
        return CM_ERR_SHOULD_WAIT;
    *consumer = best;
    *index = o->peers[best].floor;
    return CM_OK;
}

cm_status_t cm__sbuf_own_dropped(struct cm_sbuf_own *o, uint32_t consumer, uint64_t index,
                                 int *freed)
{
    if (!active(o, consumer))
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_peer *p = &o->peers[consumer];
    if (p->floor == p->tail || index != p->floor)
        return CM_ERR_INVALID_ARGS;
    struct cm_sbuf_slot *s = &o->slots[*mirror_cell(o, p, index)];
    s->pending &= ~(1u << consumer);
    p->floor++;
    p->pending--;
    p->dropped++;
    int f = settle(o, s);
    if (freed != 0)
        *freed = f;
    return CM_OK;
}

void cm__sbuf_own_count(const struct cm_sbuf_own *o, uint32_t *free, uint32_t *loaned,
                        uint32_t *published)
{
    uint32_t n[3] = { 0, 0, 0 };
    for (uint32_t i = 0; i < o->slot_count; i++)
        n[o->slots[i].state < 3 ? o->slots[i].state : 0]++;
    *free = n[CM_SBUF_SLOT_FREE];
    *loaned = n[CM_SBUF_SLOT_LOANED];
    *published = n[CM_SBUF_SLOT_PUBLISHED];
}
