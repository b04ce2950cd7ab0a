/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_SBUF_SIM_H
#define CAPMEM_TESTS_SBUF_SIM_H

/* A SharedBuffer in one address space, for the core tests: the producer's
 * private bookkeeping (core/sbuf_own), each consumer's private state
 * (core/sbuf_cons), and plain arrays standing in for the shared control
 * areas and the data slots. The loads and stores a target does with
 * acquire/release ordering are plain accesses here (one thread); the
 * protocol steps and their order are the ones docs/sbuf.md prescribes, so
 * a test can also play a hostile side by writing the "shared" arrays.
 *
 * Each slot's data is the sequence number the producer wrote into it, so a
 * consumer can check that what it holds was not overwritten. */

#include <string.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "sbuf_ring.h"
#include "sbuf_own.h"
#include "sbuf_cons.h"

/* A test may shrink these before including (the exhaustive walk copies
 * whole worlds). */
#ifndef SIM_SLOTS
#define SIM_SLOTS 64u
#endif
#ifndef SIM_CONS
#define SIM_CONS 4u
#endif
#ifndef SIM_RING
#define SIM_RING 64u
#endif

struct sim_shared {
    struct cm_sbuf_prod_ctl p;
    struct cm_sbuf_desc ring[SIM_RING];
    struct cm_sbuf_cons_ctl c;
    struct cm_sbuf_rel rel[SIM_RING];
};

struct sim {
    cm_sbuf_config_t cfg;
    uint32_t ring;
    struct cm_sbuf_own own;
    struct cm_sbuf_slot slots[SIM_SLOTS];
    struct cm_sbuf_peer peers[SIM_CONS];
    uint16_t mirror[SIM_CONS * SIM_RING];
    struct sim_shared sh[SIM_CONS];
    struct cm_sbuf_cons cons[SIM_CONS];
    struct cm_sbuf_hold holds[SIM_CONS][SIM_SLOTS];
    uint64_t data[SIM_SLOTS];
    uint32_t evictions;
};

static inline cm_sbuf_config_t sim_cfg(uint32_t slots, uint32_t consumers, uint32_t held,
                                       uint32_t loans, uint32_t policy)
{
    cm_sbuf_config_t c = { .slot_count = slots, .slot_size = 256, .max_consumers = consumers,
                           .max_held = held, .max_loans = loans, .policy = policy };
    return c;
}

static inline cm_status_t sim_init(struct sim *s, const cm_sbuf_config_t *cfg, uint64_t first_seq,
                                   uint64_t index_base)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->ring = cm__sbuf_pow2(cfg->slot_count);
    if (cfg->slot_count > SIM_SLOTS || cfg->max_consumers > SIM_CONS)
        return CM_ERR_OUT_OF_RANGE;
    return cm__sbuf_own_init(&s->own, s->slots, s->peers, s->mirror, cfg, first_seq,
                             index_base, 0);
}

/* A struct sim points into itself; after copying one, re-aim the copy. */
static inline void sim_rebase(struct sim *s)
{
    s->own.slots = s->slots;
    s->own.peers = s->peers;
    for (uint32_t c = 0; c < SIM_CONS; c++) {
        s->peers[c].ring = s->mirror + (uint64_t)c * s->ring;
        s->cons[c].holds = s->holds[c];
    }
}

/* The producer makes a consumer and publishes its control words. */
static inline cm_status_t sim_join(struct sim *s, uint32_t *c)
{
    cm_status_t st = cm__sbuf_own_join(&s->own, c);
    if (st != CM_OK)
        return st;
    struct sim_shared *sh = &s->sh[*c];
    memset(sh, 0, sizeof(*sh));
    const struct cm_sbuf_peer *p = &s->peers[*c];
    sh->p.tail = p->tail;
    sh->p.rel_head = p->rel_head;
    sh->p.join_seq = p->join_seq;
    sh->p.index_base = p->tail;
    sh->p.state = CM_SBUF_CTL_OPEN;
    sh->c.read = p->tail;
    sh->c.rel_tail = p->tail;
    return cm__sbuf_cons_init(&s->cons[*c], s->holds[*c], &s->cfg, sh->p.join_seq,
                              sh->p.index_base);
}

static inline void sim_evict(struct sim *s, uint32_t c)
{
    cm__sbuf_own_evict(&s->own, c, NULL);
    s->sh[c].p.state = CM_SBUF_CTL_EVICTED;
    s->evictions++;
}

/* The producer reaps one consumer: three loads, received accounting, the
 * release entries, the held bound. A PROTOCOL evicts it. */
static inline cm_status_t sim_reap(struct sim *s, uint32_t c)
{
    if (s->peers[c].state != CM_SBUF_PEER_ACTIVE)
        return CM_OK;
    struct sim_shared *sh = &s->sh[c];
    uint64_t r1 = sh->c.read, t = sh->c.rel_tail, r2 = sh->c.read;
    uint32_t n = 0;
    cm_status_t st = cm__sbuf_own_reap_begin(&s->own, c, r1, t, r2, &n);
    for (uint32_t k = 0; st == CM_OK && k < n; k++) {
        struct cm_sbuf_rel r = sh->rel[cm__sbuf_cell(s->peers[c].rel_head, s->ring)];
        st = cm__sbuf_own_reap_release(&s->own, c, &r, NULL);
    }
    sh->p.rel_head = s->peers[c].rel_head;
    if (st == CM_OK)
        st = cm__sbuf_own_reap_end(&s->own, c);
    if (st != CM_OK)
        sim_evict(s, c);
    return st;
}

static inline void sim_reap_all(struct sim *s)
{
    for (uint32_t c = 0; c < s->cfg.max_consumers; c++)
        sim_reap(s, c);
}

/* Loan as a target does: reap, take a FREE slot; with DROP_OLDEST take the
 * oldest unreceived delivery back (the CAS on the consumer's read word)
 * until one is FREE. */
static inline cm_status_t sim_loan(struct sim *s, uint64_t *id, uint32_t *slot)
{
    sim_reap_all(s);
    for (;;) {
        cm_status_t st = cm__sbuf_own_loan(&s->own, id, slot);
        if (st == CM_OK)
            s->data[*slot] = ~0ull; /* the producer starts writing at once */
        if (st != CM_ERR_SHOULD_WAIT || s->cfg.policy != CM_SBUF_DROP_OLDEST)
            return st;
        uint32_t c;
        uint64_t idx;
        st = cm__sbuf_own_drop_candidate(&s->own, &c, &idx);
        if (st != CM_OK)
            return st;
        if (s->sh[c].c.read == idx) { /* CAS(read, idx, idx + 1) */
            s->sh[c].c.read = idx + 1;
            cm__sbuf_own_dropped(&s->own, c, idx, NULL);
        } else {
            sim_reap(s, c);
        }
    }
}

static inline cm_status_t sim_publish(struct sim *s, uint64_t id, uint32_t len, uint64_t *seq)
{
    uint32_t slot, to;
    uint64_t q;
    cm_status_t st = cm__sbuf_own_loan_slot(&s->own, id, &slot);
    if (st == CM_OK && len <= s->cfg.slot_size)
        s->data[slot] = s->own.next_seq; /* the producer fills its loan */
    st = cm__sbuf_own_publish(&s->own, id, len, &q, &slot, &to);
    if (st != CM_OK)
        return st;
    for (uint32_t c = 0; c < s->cfg.max_consumers; c++) {
        if ((to & (1u << c)) == 0)
            continue;
        uint64_t i = s->peers[c].tail - 1;
        struct cm_sbuf_desc d = { q, slot, len };
        s->sh[c].ring[cm__sbuf_cell(i, s->ring)] = d;
        s->sh[c].p.tail = s->peers[c].tail; /* store-release */
    }
    if (seq != NULL)
        *seq = q;
    return CM_OK;
}

/* One loan + publish; returns the loan's status. */
static inline cm_status_t sim_send(struct sim *s, uint64_t *seq)
{
    uint64_t id;
    uint32_t slot;
    cm_status_t st = sim_loan(s, &id, &slot);
    if (st != CM_OK)
        return st;
    return sim_publish(s, id, 8, seq);
}

/* The consumer's receive steps (sbuf_cons.h). *intact says whether the
 * slot still held the message's bytes. */
static inline cm_status_t sim_receive(struct sim *s, uint32_t c, struct cm_sbuf_desc *out,
                                      uint64_t *gap, int *intact)
{
    struct cm_sbuf_cons *cs = &s->cons[c];
    struct sim_shared *sh = &s->sh[c];
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (gap != NULL)
        *gap = 0;
    if (intact != NULL)
        *intact = 0;
    cm_status_t st = cm__sbuf_cons_can_receive(cs);
    if (st != CM_OK)
        return st;
    uint64_t r = sh->c.read, t = sh->p.tail;
    st = cm__sbuf_cons_poll(cs, r, t);
    if (st != CM_OK)
        return st;
    struct cm_sbuf_desc d = sh->ring[cm__sbuf_cell(r, s->ring)];
    uint64_t g = 0;
    st = cm__sbuf_cons_check(cs, &d, r, &g);
    if (st != CM_OK)
        return st;
    sh->c.read = r + 1; /* CAS / store-release */
    st = cm__sbuf_cons_received(cs, &d, r);
    if (st != CM_OK)
        return st;
    if (out != NULL)
        *out = d;
    if (gap != NULL)
        *gap = g;
    if (intact != NULL)
        *intact = s->data[d.slot] == d.seq;
    return CM_OK;
}

static inline cm_status_t sim_release(struct sim *s, uint32_t c, uint64_t seq)
{
    struct cm_sbuf_rel r;
    uint64_t idx;
    cm_status_t st = cm__sbuf_cons_release(&s->cons[c], seq, s->sh[c].p.rel_head, &r, &idx);
    if (st != CM_OK)
        return st;
    s->sh[c].rel[cm__sbuf_cell(idx, s->ring)] = r;
    s->sh[c].c.rel_tail = idx + 1; /* store-release */
    return CM_OK;
}

/* A consumer writes a raw release entry into its own ring (hostile or not). */
static inline void sim_push_raw(struct sim *s, uint32_t c, uint64_t seq, uint32_t slot,
                                uint32_t reserved)
{
    struct sim_shared *sh = &s->sh[c];
    struct cm_sbuf_rel r = { seq, slot, reserved };
    sh->rel[cm__sbuf_cell(sh->c.rel_tail, s->ring)] = r;
    sh->c.rel_tail++;
}

#endif
