/* SPDX-License-Identifier: MIT */
/* Exhaustive check of the SharedBuffer rules (core/sbuf_own.c and
 * core/sbuf_cons.c driven as tests/host/sbuf_sim.h drives them): every
 * sequence of operations up to DEPTH steps, over 3 slots, 2 consumer
 * positions, one loan and one held message per consumer, under each
 * overflow policy. The operations: loan, publish, cancel; per consumer
 * receive, release, join-or-leave, and a reap by the producer.
 *
 * After every step, against ground truth gathered from the consumers' own
 * state and the shared rings (not from the producer's bookkeeping):
 *   - a loaned slot is held by no consumer, pending in no ring and named by
 *     no unprocessed release (no slot is written while a consumer has it);
 *   - every message a consumer holds still has its bytes (the slot was not
 *     handed out again under it);
 *   - a FREE slot is held, pending and released-unprocessed nowhere;
 *   - the producer's counters equal a recount, no honest step evicts;
 *   - each consumer receives in publication order: with BLOCK exactly
 *     every message since it joined, with DROP_OLDEST with gaps equal to
 *     the dropped count; DROP_OLDEST loans never wait;
 *   - draining (every consumer receives and releases everything, the
 *     producer reaps, the loan is cancelled) frees every slot: nothing leaks.
 * Then a long random walk with sequence numbers and ring indices that
 * cross 2^64. */
#include <stdio.h>
#include <string.h>

#define SIM_SLOTS 3u
#define SIM_CONS 2u
#define SIM_RING 4u
#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "sbuf_sim.h"
#include "common/leakcheck.h"

#if defined(__SANITIZE_ADDRESS__)
#define DEPTH 7
#else
#define DEPTH 9
#endif

enum { OP_LOAN, OP_PUBLISH, OP_CANCEL, OP_CONS_BASE };
enum { C_RECEIVE, C_RELEASE, C_JOIN_LEAVE, C_REAP, OPS_PER_CONS };
#define NOPS (OP_CONS_BASE + SIM_CONS * OPS_PER_CONS)

struct world {
    struct sim s;
    uint64_t loan;      /* 0: none */
    int joined[SIM_CONS];
    uint64_t last[SIM_CONS]; /* next seq this consumer should see (BLOCK) */
};

static uint64_t nodes;
static int trace[64];
static long walk_step = -1;

static void die(const char *what, int depth)
{
    if (walk_step >= 0)
        fprintf(stderr, "violation (%s) at random-walk step %ld\n", what, walk_step);
    else {
        fprintf(stderr, "violation (%s) after ops:", what);
        for (int i = 0; i <= depth; i++)
            fprintf(stderr, " %d", trace[i]);
        fprintf(stderr, "\n");
    }
    fail();
}

/* Does consumer c have `slot` in any form: held, pending in its shared
 * delivery window, or named by a release the producer has not processed? */
static int has(const struct world *w, uint32_t c, uint32_t slot)
{
    const struct sim *s = &w->s;
    const struct cm_sbuf_cons *cs = &s->cons[c];
    for (uint32_t i = 0; i < s->cfg.max_held; i++)
        if (cs->holds[i].used && cs->holds[i].slot == slot)
            return 1;
    for (uint64_t i = s->sh[c].c.read; i != s->sh[c].p.tail; i++)
        if (s->sh[c].ring[cm__sbuf_cell(i, s->ring)].slot == slot)
            return 1;
    for (uint64_t i = s->sh[c].p.rel_head; i != s->sh[c].c.rel_tail; i++)
        if (s->sh[c].rel[cm__sbuf_cell(i, s->ring)].slot == slot)
            return 1;
    return 0;
}

static void check(const struct world *w, int depth)
{
    const struct sim *s = &w->s;
    if (s->evictions != 0)
        die("an honest step evicted a consumer", depth);
    uint32_t f, l, p;
    cm__sbuf_own_count(&s->own, &f, &l, &p);
    if (f != s->own.free || l != s->own.loaned || p != s->own.published ||
        f + l + p != s->cfg.slot_count)
        die("counters", depth);
    for (uint32_t slot = 0; slot < s->cfg.slot_count; slot++) {
        uint8_t st = s->slots[slot].state;
        for (uint32_t c = 0; c < SIM_CONS; c++) {
            if (!w->joined[c] || !has(w, c, slot))
                continue;
            if (st == CM_SBUF_SLOT_LOANED)
                die("slot loaned while a consumer has it", depth);
            if (st == CM_SBUF_SLOT_FREE)
                die("slot free while a consumer has it", depth);
        }
    }
    for (uint32_t c = 0; c < SIM_CONS; c++) {
        if (!w->joined[c])
            continue;
        const struct cm_sbuf_cons *cs = &s->cons[c];
        for (uint32_t i = 0; i < s->cfg.max_held; i++)
            if (cs->holds[i].used && s->data[cs->holds[i].slot] != cs->holds[i].seq)
                die("held message overwritten", depth);
    }
}

/* Applies op; returns 0 if it was not applicable (the sequence is pruned). */
static int apply(struct world *w, int op, int depth)
{
    struct sim *s = &w->s;
    uint32_t slot;
    if (op == OP_LOAN) {
        if (w->loan != 0)
            return 0;
        cm_status_t st = sim_loan(s, &w->loan, &slot);
        if (st == CM_ERR_SHOULD_WAIT && s->cfg.policy == CM_SBUF_DROP_OLDEST)
            die("DROP_OLDEST loan waited", depth);
        if (st != CM_OK) {
            if (st != CM_ERR_SHOULD_WAIT || s->own.free != 0)
                die("loan failed with a free slot", depth);
            w->loan = 0;
        }
        return 1;
    }
    if (op == OP_PUBLISH || op == OP_CANCEL) {
        if (w->loan == 0)
            return 0;
        cm_status_t st = op == OP_PUBLISH ? sim_publish(s, w->loan, 8, NULL)
                                          : cm__sbuf_own_cancel(&s->own, w->loan);
        if (st != CM_OK)
            die("publish/cancel of a live loan", depth);
        w->loan = 0;
        return 1;
    }
    uint32_t c = (uint32_t)(op - OP_CONS_BASE) / OPS_PER_CONS;
    int k = (op - OP_CONS_BASE) % OPS_PER_CONS;
    if (k == C_JOIN_LEAVE) {
        if (w->joined[c]) {
            if (cm__sbuf_own_leave(&s->own, c, NULL) != CM_OK)
                die("leave", depth);
            w->joined[c] = 0;
        } else {
            uint32_t got;
            if (sim_join(s, &got) != CM_OK)
                return 0; /* the lower position is free: joining takes that one */
            if (got != c) {
                w->joined[got] = 1;
                w->last[got] = s->peers[got].join_seq;
                return 1;
            }
            w->joined[c] = 1;
            w->last[c] = s->peers[c].join_seq;
        }
        return 1;
    }
    if (!w->joined[c])
        return 0;
    if (k == C_REAP) {
        if (sim_reap(s, c) != CM_OK)
            die("reap of an honest consumer", depth);
        return 1;
    }
    if (k == C_RECEIVE) {
        struct cm_sbuf_desc d = { 0, 0, 0 };
        uint64_t gap = 0;
        int intact = 0;
        cm_status_t st = sim_receive(s, c, &d, &gap, &intact);
        if (st == CM_ERR_SHOULD_WAIT || st == CM_ERR_NO_RESOURCES)
            return 1;
        if (st != CM_OK)
            die("honest receive failed", depth);
        if (!intact)
            die("received a slot being rewritten", depth);
        if (s->cfg.policy == CM_SBUF_BLOCK && (gap != 0 || d.seq != w->last[c]))
            die("BLOCK delivered out of order or with a gap", depth);
        if (d.seq - w->last[c] != gap)
            die("gap does not match the sequence numbers", depth);
        w->last[c] = d.seq + 1;
        return 1;
    }
    /* C_RELEASE: the held message, if any. */
    const struct cm_sbuf_cons *cs = &s->cons[c];
    for (uint32_t i = 0; i < s->cfg.max_held; i++) {
        if (!cs->holds[i].used)
            continue;
        if (sim_release(s, c, cs->holds[i].seq) != CM_OK)
            die("release of a held message", depth);
        return 1;
    }
    return 0;
}

/* Everyone finishes: nothing may be left allocated. */
static void drain(const struct world *w0, int depth)
{
    static struct world w;
    w = *w0;
    sim_rebase(&w.s);
    struct sim *s = &w.s;
    if (w.loan != 0)
        cm__sbuf_own_cancel(&s->own, w.loan);
    for (int round = 0; round < 8; round++) {
        for (uint32_t c = 0; c < SIM_CONS; c++) {
            if (!w.joined[c])
                continue;
            for (uint32_t i = 0; i < s->cfg.max_held; i++)
                if (s->cons[c].holds[i].used)
                    sim_release(s, c, s->cons[c].holds[i].seq);
            struct cm_sbuf_desc d;
            if (sim_receive(s, c, &d, NULL, NULL) == CM_OK)
                sim_release(s, c, d.seq);
        }
        sim_reap_all(s);
    }
    if (s->own.free != s->cfg.slot_count || s->evictions != 0)
        die("slots leaked after draining", depth);
}

static void walk(const struct world *w, int depth)
{
    if (depth == DEPTH)
        return;
    for (int op = 0; op < (int)NOPS; op++) {
        struct world next = *w;
        sim_rebase(&next.s);
        trace[depth] = op;
        if (!apply(&next, op, depth))
            continue;
        nodes++;
        check(&next, depth);
        drain(&next, depth);
        walk(&next, depth + 1);
    }
}

static void explore(uint32_t policy)
{
    static struct world w;
    memset(&w, 0, sizeof(w));
    cm_sbuf_config_t c = sim_cfg(3, 2, 1, 1, policy);
    assert_status(sim_init(&w.s, &c, 0, 0), CM_OK);
    nodes = 0;
    walk_step = -1;
    walk(&w, 0);
    printf("# %s: %llu states checked at depth %d\n",
           policy == CM_SBUF_BLOCK ? "BLOCK" : "DROP_OLDEST", (unsigned long long)nodes, DEPTH);
    assert_true(nodes > 50000);
}

static void test_every_sequence_keeps_slots_safe_under_block(void **state)
{
    (void)state;
    explore(CM_SBUF_BLOCK);
}

static void test_every_sequence_keeps_slots_safe_under_drop_oldest(void **state)
{
    (void)state;
    explore(CM_SBUF_DROP_OLDEST);
}

/* xorshift64: a fixed seed, the same walk every run. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void random_walk(uint32_t policy)
{
    static struct world w;
    memset(&w, 0, sizeof(w));
    cm_sbuf_config_t c = sim_cfg(3, 2, 1, 1, policy);
    /* Start both counters just below 2^64 so the walk crosses the wrap. */
    assert_status(sim_init(&w.s, &c, UINT64_MAX - 500, UINT64_MAX - 300), CM_OK);
    uint64_t x = 0x9e3779b97f4a7c15ull, published_before = w.s.own.next_seq;
    for (walk_step = 0; walk_step < 400000; walk_step++) {
        int op = (int)(rnd(&x) % NOPS);
        /* Joins and leaves are rarer than traffic. */
        if ((op - OP_CONS_BASE) % OPS_PER_CONS == C_JOIN_LEAVE && op >= OP_CONS_BASE &&
            rnd(&x) % 16 != 0)
            continue;
        apply(&w, op, 0);
        check(&w, 0);
        if (walk_step % 1000 == 0)
            drain(&w, 0);
    }
    walk_step = -1;
    assert_true(w.s.own.next_seq - published_before > 10000);
    assert_true(w.s.own.next_seq < published_before); /* wrapped */
}

static void test_random_walk_across_the_64_bit_wrap_under_block(void **state)
{
    (void)state;
    random_walk(CM_SBUF_BLOCK);
}

static void test_random_walk_across_the_64_bit_wrap_under_drop_oldest(void **state)
{
    (void)state;
    random_walk(CM_SBUF_DROP_OLDEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sequence_keeps_slots_safe_under_block),
        cmocka_unit_test(test_every_sequence_keeps_slots_safe_under_drop_oldest),
        cmocka_unit_test(test_random_walk_across_the_64_bit_wrap_under_block),
        cmocka_unit_test(test_random_walk_across_the_64_bit_wrap_under_drop_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
