/* SPDX-License-Identifier: MIT */
/* Exhaustive check of the DMA ownership state machine: every sequence of
 * operations up to DEPTH steps, over a 2-slot pool with an in-flight bound
 * of 1, is run against core/dma_own.c and against a reference model written
 * independently below (plain if-chains, no table); then again with a bound
 * of 2. After every step the
 * status, every slot's state, the counters and the id rules must agree.
 *
 * The operations take ids the way a confused or hostile client would: the
 * current buffer id, the previous (stale) one, the current fence, the
 * previous (stale) fence, and a completion tag for each. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>
#include "dma_own.h"
#include "common/leakcheck.h"

#define NSLOTS 2u

/* The in-flight bound of the run: 1 (the bound binds with two buffers) and
 * 2 (both slots in flight at once). */
static uint32_t max_in_flight;

/* Sequence length. The sanitizer build runs ~10x slower, so it explores one
 * step less; both are exhaustive for their length. */
#if defined(__SANITIZE_ADDRESS__)
#define DEPTH 5
#else
#define DEPTH 6
#endif

enum op {
    OP_ACQUIRE, OP_ABANDON,
    /* per slot, OP_SLOT_BASE + slot * OPS_PER_SLOT + k */
    OP_SLOT_BASE
};
enum slot_op {
    S_SUBMIT_CUR, S_SUBMIT_PREV, S_COMPLETE_CUR, S_COMPLETE_PREV, S_WAIT_CUR, S_WAIT_PREV,
    S_RELEASE_CUR, S_RELEASE_PREV, S_SCRUB, S_DETACH_CUR, S_CPU_CUR, OPS_PER_SLOT
};
#define NOPS (OP_SLOT_BASE + NSLOTS * OPS_PER_SLOT)

/* Reference model of one slot. */
enum mstate { M_FREE, M_CPU, M_FLIGHT, M_SIGNALED, M_QUAR, M_DIRTY };

struct mslot {
    enum mstate st;
    int owned_id_live;      /* cur_buf names the live owner */
    int fence_live;         /* cur_fence is claimable / in flight */
    uint64_t cur_buf, prev_buf, cur_fence, prev_fence;
    uint32_t bytes;
};

struct world {
    struct cm_dma_own own;
    struct cm_dma_slot slots[NSLOTS];
    struct mslot m[NSLOTS];
    uint64_t dropped;
    uint32_t next_bytes;
};

static uint64_t sequences, steps;
static int trace[DEPTH];

static long walk_step = -1; /* >= 0 during the random walk */

static void fail_trace(const char *what, int depth)
{
    if (walk_step >= 0) {
        fprintf(stderr, "mismatch (%s) at random-walk step %ld\n", what, walk_step);
        fail();
    }
    fprintf(stderr, "mismatch (%s) after ops:", what);
    for (int i = 0; i <= depth; i++)
        fprintf(stderr, " %d", trace[i]);
    fprintf(stderr, "\n");
    fail();
}

static int held(const struct world *w)
{
    int n = 0;
    for (unsigned i = 0; i < NSLOTS; i++)
        n += w->m[i].st == M_FLIGHT || w->m[i].st == M_QUAR;
    return n;
}

static const uint8_t m_to_core[] = {
    [M_FREE] = CM_DMA_FREE, [M_CPU] = CM_DMA_CPU_OWNED, [M_FLIGHT] = CM_DMA_IN_FLIGHT,
    [M_SIGNALED] = CM_DMA_SIGNALED, [M_QUAR] = CM_DMA_QUARANTINED, [M_DIRTY] = CM_DMA_DIRTY,
};

/* Ids ever issued in this sequence: a new id must never repeat one. */
struct history {
    uint64_t ids[2 * DEPTH + 2];
    int n;
};

static void check_fresh(struct history *h, uint64_t id, int depth)
{
    for (int i = 0; i < h->n; i++)
        if (h->ids[i] == id)
            fail_trace("reissued id", depth);
    /* The random walk outlives the array: keep the most recent half. */
    if (h->n == (int)(sizeof(h->ids) / sizeof(h->ids[0]))) {
        int keep = h->n / 2;
        memmove(h->ids, h->ids + (h->n - keep), (size_t)keep * sizeof(h->ids[0]));
        h->n = keep;
    }
    h->ids[h->n++] = id;
}

/* Runs one operation on both sides and compares. */
static void step(struct world *w, struct history *h, int op, int depth)
{
    cm_status_t got, want;
    uint32_t slot = 0, bytes = 0;
    uint64_t id = 0, back = 0;
    cm_status_t result = CM_OK;

    if (op == OP_ACQUIRE) {
        int first = -1;
        for (unsigned i = 0; i < NSLOTS && first < 0; i++)
            if (w->m[i].st == M_FREE)
                first = (int)i;
        want = first < 0 ? CM_ERR_NO_RESOURCES : CM_OK;
        got = cm__dma_own_acquire(&w->own, &id, &slot);
        if (got != want || (got == CM_OK && slot != (uint32_t)first))
            fail_trace("acquire", depth);
        if (got == CM_OK) {
            check_fresh(h, id, depth);
            struct mslot *s = &w->m[first];
            s->prev_buf = s->cur_buf;
            s->cur_buf = id;
            s->owned_id_live = 1;
            s->st = M_CPU;
        }
        return;
    }
    if (op == OP_ABANDON) {
        cm__dma_own_abandon_all(&w->own);
        for (unsigned i = 0; i < NSLOTS; i++) {
            struct mslot *s = &w->m[i];
            if (s->st == M_CPU || s->st == M_SIGNALED)
                s->st = M_DIRTY;
            else if (s->st == M_FLIGHT)
                s->st = M_QUAR;
            s->owned_id_live = 0;
            s->fence_live = 0;
        }
        return;
    }

    int sl = (op - OP_SLOT_BASE) / OPS_PER_SLOT;
    int k = (op - OP_SLOT_BASE) % OPS_PER_SLOT;
    struct mslot *s = &w->m[sl];
    /* A buffer id is live if it is the slot's current owner id; a fence id
     * if it is the slot's current fence and the fence was not claimed. */
    int cur_buf_ok = s->owned_id_live && s->cur_buf != 0;
    uint64_t buf = (k == S_SUBMIT_PREV || k == S_RELEASE_PREV) ? s->prev_buf : s->cur_buf;
    int buf_live = (k == S_SUBMIT_PREV || k == S_RELEASE_PREV) ? 0 : cur_buf_ok;
    if (buf == 0)
        buf = 0x1; /* a never-issued id: slot 0, generation 0 */
    uint64_t fence = (k == S_COMPLETE_PREV || k == S_WAIT_PREV) ? s->prev_fence : s->cur_fence;
    int fence_is_cur = !(k == S_COMPLETE_PREV || k == S_WAIT_PREV) && s->cur_fence != 0;
    if (fence == 0)
        fence = 0x10001; /* never issued */

    switch (k) {
    case S_SUBMIT_CUR:
    case S_SUBMIT_PREV:
        if (!buf_live)
            want = CM_ERR_BAD_HANDLE;
        else if (s->st != M_CPU)
            want = CM_ERR_BAD_STATE;
        else if (held(w) >= (int)max_in_flight)
            want = CM_ERR_NO_RESOURCES;
        else
            want = CM_OK;
        got = cm__dma_own_submit(&w->own, buf, &slot, &id);
        if (got != want)
            fail_trace("submit", depth);
        if (got == CM_OK) {
            check_fresh(h, id, depth);
            s->prev_fence = s->cur_fence;
            s->cur_fence = id;
            s->fence_live = 1;
            s->st = M_FLIGHT;
        }
        break;
    case S_COMPLETE_CUR:
    case S_COMPLETE_PREV:
        /* The device completes the current submission (fence live or
         * quarantined); everything else must be dropped. */
        if (fence_is_cur && (s->st == M_FLIGHT || s->st == M_QUAR))
            want = CM_OK;
        else
            want = !fence_is_cur ? CM_ERR_BAD_HANDLE : CM_ERR_BAD_STATE;
        got = cm__dma_own_complete(&w->own, fence, CM_OK, ++w->next_bytes, &slot, NULL);
        if (got != want)
            fail_trace("complete", depth);
        if (got == CM_OK) {
            s->bytes = w->next_bytes;
            s->st = s->st == M_FLIGHT ? M_SIGNALED : M_DIRTY;
        } else {
            w->dropped++;
        }
        break;
    case S_WAIT_CUR:
    case S_WAIT_PREV:
        if (!fence_is_cur || !s->fence_live)
            want = CM_ERR_BAD_HANDLE;
        else if (s->st == M_FLIGHT)
            want = CM_ERR_SHOULD_WAIT;
        else
            want = CM_OK; /* fence live implies FLIGHT or SIGNALED */
        got = cm__dma_own_wait(&w->own, fence, &slot, &back, &result, &bytes);
        if (got != want)
            fail_trace("wait", depth);
        if (got == CM_OK) {
            if (back != s->cur_buf || bytes != s->bytes || slot != (uint32_t)sl)
                fail_trace("wait result", depth);
            s->fence_live = 0;
            s->st = M_CPU;
        }
        break;
    case S_RELEASE_CUR:
    case S_RELEASE_PREV:
    case S_DETACH_CUR:
        if (!buf_live)
            want = CM_ERR_BAD_HANDLE;
        else if (s->st != M_CPU)
            want = CM_ERR_BAD_STATE;
        else
            want = CM_OK;
        got = k == S_DETACH_CUR ? cm__dma_own_detach(&w->own, buf, &slot)
                                : cm__dma_own_release(&w->own, buf, &slot);
        if (got != want)
            fail_trace("release/detach", depth);
        if (got == CM_OK) {
            s->owned_id_live = 0;
            s->st = k == S_DETACH_CUR ? M_FREE : M_DIRTY;
        }
        break;
    case S_SCRUB:
        want = s->st == M_DIRTY ? CM_OK : CM_ERR_BAD_STATE;
        got = cm__dma_own_scrubbed(&w->own, (uint32_t)sl);
        if (got != want)
            fail_trace("scrubbed", depth);
        if (got == CM_OK)
            s->st = M_FREE;
        break;
    case S_CPU_CUR:
        if (!buf_live)
            want = CM_ERR_BAD_HANDLE;
        else
            want = s->st == M_CPU ? CM_OK : CM_ERR_BAD_STATE;
        got = cm__dma_own_check_cpu(&w->own, buf, &slot);
        if (got != want)
            fail_trace("cpu access", depth);
        break;
    default:
        fail_trace("bad op", depth);
    }
}

static void compare(const struct world *w, int depth)
{
    uint32_t fr = 0, quar = 0;
    for (unsigned i = 0; i < NSLOTS; i++) {
        if (w->slots[i].state != m_to_core[w->m[i].st])
            fail_trace("slot state", depth);
        fr += w->m[i].st == M_FREE;
        quar += w->m[i].st == M_QUAR;
    }
    if (w->own.device_held != (uint32_t)held(w) || w->own.device_held > max_in_flight)
        fail_trace("in-flight count", depth);
    if (w->own.free != fr || w->own.quarantined != quar || w->own.dropped != w->dropped)
        fail_trace("counters", depth);
}

static void explore(const struct world *w, const struct history *h, int depth)
{
    if (depth == DEPTH) {
        sequences++;
        return;
    }
    for (int op = 0; op < (int)NOPS; op++) {
        struct world next = *w;
        struct history nh = *h;
        /* cm_dma_own points at its slot array: re-point into the copy. */
        next.own.slots = next.slots;
        trace[depth] = op;
        step(&next, &nh, op, depth);
        compare(&next, depth);
        steps++;
        explore(&next, &nh, depth + 1);
    }
}

static void run_all(uint32_t bound)
{
    struct world w;
    struct history h;
    memset(&w, 0, sizeof(w));
    memset(&h, 0, sizeof(h));
    max_in_flight = bound;
    sequences = steps = 0;
    assert_status(cm__dma_own_init(&w.own, w.slots, NSLOTS, bound, 0), CM_OK);
    explore(&w, &h, 0);
    uint64_t expect = 1;
    for (int i = 0; i < DEPTH; i++)
        expect *= NOPS;
    assert_true(sequences == expect);
    printf("# bound %u: %llu sequences of length %d over %d operations, %llu steps checked\n",
           bound, (unsigned long long)sequences, DEPTH, (int)NOPS, (unsigned long long)steps);
}

static void test_all_sequences_match_reference_model_bound_1(void **state)
{
    (void)state;
    run_all(1);
}

static void test_all_sequences_match_reference_model_bound_2(void **state)
{
    (void)state;
    run_all(2);
}

/* Beyond the exhaustive depth: a long seeded random walk (generations
 * advance far, slots are reused thousands of times) against the same
 * reference model, both bounds. Deterministic: fixed seed. */
static void test_long_random_walk_matches_reference_model(void **state)
{
    (void)state;
    uint64_t x = 0x243f6a8885a308d3ull;
    for (uint32_t bound = 1; bound <= NSLOTS; bound++) {
        struct world w;
        struct history h;
        memset(&w, 0, sizeof(w));
        memset(&h, 0, sizeof(h));
        max_in_flight = bound;
        assert_status(cm__dma_own_init(&w.own, w.slots, NSLOTS, bound, 0xfffffff0u), CM_OK);
        for (walk_step = 0; walk_step < 2000000; walk_step++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            step(&w, &h, (int)(x % NOPS), 0);
            compare(&w, 0);
        }
        walk_step = -1;
        for (unsigned i = 0; i < NSLOTS; i++)
            assert_true(w.slots[i].buf_gen < 0xfffffff0u && w.slots[i].io_gen < 0xfffffff0u);
        printf("# bound %u: 2000000 random steps, %llu completions dropped, generations wrapped "
               "past 0\n", bound, (unsigned long long)w.own.dropped);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_sequences_match_reference_model_bound_1),
        cmocka_unit_test(test_all_sequences_match_reference_model_bound_2),
        cmocka_unit_test(test_long_random_walk_matches_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
