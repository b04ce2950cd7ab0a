/* SPDX-License-Identifier: MIT */
/* The DMA ownership state machine (core/dma_own.c), one test per cell of the
 * transition table, legal and illegal, plus the guards and the id rules.
 *
 * The expected table below is written out again on purpose: it is the spec
 * (the same table as docs/dma.md), and the code's table must agree with it
 * cell by cell. */
#include <string.h>

#include <capmem/capmem.h>
#include "dma_own.h"
#include "common/leakcheck.h"

enum { F = CM_DMA_FREE, C = CM_DMA_CPU_OWNED, I = CM_DMA_IN_FLIGHT, S = CM_DMA_SIGNALED,
       Q = CM_DMA_QUARANTINED, D = CM_DMA_DIRTY };

#define NSLOTS 4u

struct fixture {
    struct cm_dma_own own;
    struct cm_dma_slot slots[NSLOTS];
};

static void fx_init(struct fixture *fx, uint32_t max_in_flight)
{
    memset(fx, 0, sizeof(*fx));
    assert_status(cm__dma_own_init(&fx->own, fx->slots, NSLOTS, max_in_flight, 0), CM_OK);
}

/* Drives slot 0 into `state` through legal events only. */
static void drive_slot0(struct fixture *fx, uint32_t state)
{
    static const uint32_t path[CM_DMA_STATE_COUNT][4] = {
        [CM_DMA_FREE] = { CM_DMA_EVENT_COUNT },
        [CM_DMA_CPU_OWNED] = { CM_DMA_EV_ACQUIRE, CM_DMA_EVENT_COUNT },
        [CM_DMA_IN_FLIGHT] = { CM_DMA_EV_ACQUIRE, CM_DMA_EV_SUBMIT, CM_DMA_EVENT_COUNT },
        [CM_DMA_SIGNALED] = { CM_DMA_EV_ACQUIRE, CM_DMA_EV_SUBMIT, CM_DMA_EV_COMPLETE,
                              CM_DMA_EVENT_COUNT },
        [CM_DMA_QUARANTINED] = { CM_DMA_EV_ACQUIRE, CM_DMA_EV_SUBMIT, CM_DMA_EV_ABANDON,
                                 CM_DMA_EVENT_COUNT },
        [CM_DMA_DIRTY] = { CM_DMA_EV_ACQUIRE, CM_DMA_EV_RELEASE, CM_DMA_EVENT_COUNT },
    };
    for (int k = 0; path[state][k] != CM_DMA_EVENT_COUNT; k++)
        assert_status(cm__dma_own_apply(&fx->own, 0, path[state][k], NULL), CM_OK);
    assert_int_equal(fx->slots[0].state, state);
}

/* One cell: from `state`, `event` must give `status`, `next` and `action`,
 * and an illegal event must change nothing at all. */
static void check_cell(uint32_t state, uint32_t event, cm_status_t status, uint32_t next,
                       uint32_t action)
{
    struct fixture fx;
    fx_init(&fx, NSLOTS);
    drive_slot0(&fx, state);
    struct fixture before = fx;
    uint32_t got_action = 0xdead;
    assert_status(cm__dma_own_apply(&fx.own, 0, event, &got_action), status);
    assert_int_equal(fx.slots[0].state, next);
    if (status == CM_OK) {
        assert_int_equal(got_action, action);
    } else {
        assert_int_equal(got_action, 0xdead);
        assert_memory_equal(fx.slots, before.slots, sizeof(fx.slots));
        assert_int_equal(fx.own.device_held, before.own.device_held);
        assert_int_equal(fx.own.free, before.own.free);
        assert_int_equal(fx.own.quarantined, before.own.quarantined);
    }
    /* The counters always agree with the states. */
    uint32_t held = 0, quar = 0, fr = 0;
    for (uint32_t i = 0; i < NSLOTS; i++) {
        held += fx.slots[i].state == I || fx.slots[i].state == Q;
        quar += fx.slots[i].state == Q;
        fr += fx.slots[i].state == F;
    }
    assert_int_equal(fx.own.device_held, held);
    assert_int_equal(fx.own.quarantined, quar);
    assert_int_equal(fx.own.free, fr);
}

#define SCRUB CM_DMA_ACT_SCRUB
#define START CM_DMA_ACT_START_IO
#define RET CM_DMA_ACT_RETURN
#define UNPUB CM_DMA_ACT_UNPUBLISH
#define BAD CM_ERR_BAD_STATE

/* X(name, state, event, status, next, action) */
#define CELLS(X)                                                                   \
    X(free_acquire_gives_cpu_owned,          F, ACQUIRE,  CM_OK, C, 0)             \
    X(free_submit_refused,                   F, SUBMIT,   BAD,   F, 0)             \
    X(free_complete_refused,                 F, COMPLETE, BAD,   F, 0)             \
    X(free_wait_refused,                     F, WAIT,     BAD,   F, 0)             \
    X(free_release_refused,                  F, RELEASE,  BAD,   F, 0)             \
    X(free_scrubbed_refused,                 F, SCRUBBED, BAD,   F, 0)             \
    X(free_detach_refused,                   F, DETACH,   BAD,   F, 0)             \
    X(free_abandon_stays_free,               F, ABANDON,  CM_OK, F, 0)             \
    X(cpu_owned_acquire_refused,             C, ACQUIRE,  BAD,   C, 0)             \
    X(cpu_owned_submit_moves_to_fence,       C, SUBMIT,   CM_OK, I, START | UNPUB) \
    X(cpu_owned_complete_refused,            C, COMPLETE, BAD,   C, 0)             \
    X(cpu_owned_wait_refused,                C, WAIT,     BAD,   C, 0)             \
    X(cpu_owned_release_needs_scrub,         C, RELEASE,  CM_OK, D, SCRUB | UNPUB) \
    X(cpu_owned_scrubbed_refused,            C, SCRUBBED, BAD,   C, 0)             \
    X(cpu_owned_detach_frees_slot,           C, DETACH,   CM_OK, F, UNPUB)         \
    X(cpu_owned_abandon_needs_scrub,         C, ABANDON,  CM_OK, D, SCRUB | UNPUB) \
    X(in_flight_acquire_refused,             I, ACQUIRE,  BAD,   I, 0)             \
    X(in_flight_double_submit_refused,       I, SUBMIT,   BAD,   I, 0)             \
    X(in_flight_complete_signals,            I, COMPLETE, CM_OK, S, 0)             \
    X(in_flight_wait_refused,                I, WAIT,     BAD,   I, 0)             \
    X(in_flight_release_refused,             I, RELEASE,  BAD,   I, 0)             \
    X(in_flight_scrubbed_refused,            I, SCRUBBED, BAD,   I, 0)             \
    X(in_flight_detach_refused,              I, DETACH,   BAD,   I, 0)             \
    X(in_flight_abandon_quarantines,         I, ABANDON,  CM_OK, Q, 0)             \
    X(signaled_acquire_refused,              S, ACQUIRE,  BAD,   S, 0)             \
    X(signaled_submit_refused,               S, SUBMIT,   BAD,   S, 0)             \
    X(signaled_duplicate_complete_refused,   S, COMPLETE, BAD,   S, 0)             \
    X(signaled_wait_returns_ownership,       S, WAIT,     CM_OK, C, RET)           \
    X(signaled_release_refused,              S, RELEASE,  BAD,   S, 0)             \
    X(signaled_scrubbed_refused,             S, SCRUBBED, BAD,   S, 0)             \
    X(signaled_detach_refused,               S, DETACH,   BAD,   S, 0)             \
    X(signaled_abandon_needs_scrub,          S, ABANDON,  CM_OK, D, SCRUB)         \
    X(quarantined_acquire_refused,           Q, ACQUIRE,  BAD,   Q, 0)             \
    X(quarantined_submit_refused,            Q, SUBMIT,   BAD,   Q, 0)             \
    X(quarantined_complete_needs_scrub,      Q, COMPLETE, CM_OK, D, SCRUB)         \
    X(quarantined_wait_refused,              Q, WAIT,     BAD,   Q, 0)             \
    X(quarantined_release_refused,           Q, RELEASE,  BAD,   Q, 0)             \
    X(quarantined_scrubbed_refused,          Q, SCRUBBED, BAD,   Q, 0)             \
    X(quarantined_detach_refused,            Q, DETACH,   BAD,   Q, 0)             \
    X(quarantined_abandon_stays,             Q, ABANDON,  CM_OK, Q, 0)             \
    X(dirty_acquire_refused_before_scrub,    D, ACQUIRE,  BAD,   D, 0)             \
    X(dirty_submit_refused,                  D, SUBMIT,   BAD,   D, 0)             \
    X(dirty_complete_refused,                D, COMPLETE, BAD,   D, 0)             \
    X(dirty_wait_refused,                    D, WAIT,     BAD,   D, 0)             \
    X(dirty_release_refused,                 D, RELEASE,  BAD,   D, 0)             \
    X(dirty_scrubbed_frees,                  D, SCRUBBED, CM_OK, F, 0)             \
    X(dirty_detach_refused,                  D, DETACH,   BAD,   D, 0)             \
    X(dirty_abandon_still_needs_scrub,       D, ABANDON,  CM_OK, D, SCRUB)

#define DEFINE_CELL(name, st, ev, status, next, action)                  \
    static void test_##name(void **state)                                \
    {                                                                    \
        (void)state;                                                     \
        check_cell(st, CM_DMA_EV_##ev, status, next, action);            \
    }
CELLS(DEFINE_CELL)

/* The code's table has exactly the cells above, no more: every (state,
 * event) pair is listed once. */
static void test_table_has_one_test_per_cell(void **state)
{
    (void)state;
    int seen[CM_DMA_STATE_COUNT][CM_DMA_EVENT_COUNT] = { { 0 } };
#define MARK(name, st, ev, status, next, action) seen[st][CM_DMA_EV_##ev]++;
    CELLS(MARK)
#undef MARK
    for (int s = 0; s < CM_DMA_STATE_COUNT; s++)
        for (int e = 0; e < CM_DMA_EVENT_COUNT; e++)
            assert_int_equal(seen[s][e], 1);
    assert_null(cm__dma_own_transition(CM_DMA_STATE_COUNT, 0));
    assert_null(cm__dma_own_transition(0, CM_DMA_EVENT_COUNT));
    assert_string_equal(cm__dma_state_name(CM_DMA_QUARANTINED), "QUARANTINED");
    assert_string_equal(cm__dma_event_name(CM_DMA_EV_ABANDON), "abandon");
    assert_string_equal(cm__dma_state_name(99), "?");
}

static void test_apply_rejects_out_of_range_slot_and_event(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    assert_status(cm__dma_own_apply(&fx.own, NSLOTS, CM_DMA_EV_ACQUIRE, NULL),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_apply(&fx.own, 0, CM_DMA_EVENT_COUNT, NULL),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_apply(&fx.own, 0xffffffffu, 0, NULL), CM_ERR_INVALID_ARGS);
}

static void test_init_rejects_bad_bounds(void **state)
{
    (void)state;
    struct cm_dma_own o;
    struct cm_dma_slot slots[2];
    assert_status(cm__dma_own_init(&o, slots, 0, 1, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_init(&o, slots, 2, 0, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_init(&o, slots, 2, 3, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_init(&o, NULL, 2, 1, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_init(NULL, slots, 2, 1, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_init(&o, slots, CM_DMA_OWN_MAX_SLOTS + 1u, 1, 0),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm__dma_own_init(&o, slots, 2, 2, 0), CM_OK);
    assert_int_equal(slots[0].buf_gen, 1);
    assert_status(cm__dma_own_init(&o, slots, 2, 2, 0x1234u), CM_OK);
    assert_int_equal(slots[1].io_gen, 0x1234u);
}

/* ---- the typed operations: ids, guards ---- */

static void test_acquire_exhausts_pool_with_typed_error(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    uint64_t b;
    uint32_t slot;
    for (uint32_t i = 0; i < NSLOTS; i++) {
        assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
        assert_int_equal(slot, i);
    }
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_ERR_NO_RESOURCES);
    assert_int_equal(fx.own.free, 0);
}

static void test_ownership_transfer_prevents_double_submit(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 2);
    uint64_t b, f, f2;
    uint32_t slot;
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f2), CM_ERR_BAD_STATE);
    assert_status(cm__dma_own_complete(&fx.own, f, CM_OK, 512, NULL, NULL), CM_OK);
    /* Still held by the fence after the device is done. */
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f2), CM_ERR_BAD_STATE);
    assert_int_equal(fx.own.device_held, 0);
}

static void test_fence_wait_returns_exclusive_ownership(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 2);
    uint64_t b, f, back;
    uint32_t slot, bytes;
    cm_status_t result;
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f), CM_OK);
    assert_status(cm__dma_own_check_cpu(&fx.own, b, &slot), CM_ERR_BAD_STATE);
    assert_status(cm__dma_own_wait(&fx.own, f, &slot, &back, &result, &bytes),
                  CM_ERR_SHOULD_WAIT);
    assert_status(cm__dma_own_complete(&fx.own, f, CM_ERR_IO, 7, NULL, NULL), CM_OK);
    assert_status(cm__dma_own_check_cpu(&fx.own, b, &slot), CM_ERR_BAD_STATE);
    assert_status(cm__dma_own_wait(&fx.own, f, &slot, &back, &result, &bytes), CM_OK);
    assert_true(back == b);
    assert_status(result, CM_ERR_IO);
    assert_int_equal(bytes, 7);
    assert_status(cm__dma_own_check_cpu(&fx.own, b, &slot), CM_OK);
    /* The fence was consumed: a second wait is a stale fence. */
    assert_status(cm__dma_own_wait(&fx.own, f, &slot, &back, &result, &bytes),
                  CM_ERR_BAD_HANDLE);
}

static void test_in_flight_bound_enforced_including_quarantine(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 2);
    uint64_t b[NSLOTS], f[NSLOTS];
    uint32_t slot;
    for (uint32_t i = 0; i < NSLOTS; i++)
        assert_status(cm__dma_own_acquire(&fx.own, &b[i], &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b[0], &slot, &f[0]), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b[1], &slot, &f[1]), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b[2], &slot, &f[2]), CM_ERR_NO_RESOURCES);
    assert_int_equal(fx.slots[2].state, C);
    /* A SIGNALED buffer no longer counts: the device is done with it. */
    assert_status(cm__dma_own_complete(&fx.own, f[0], CM_OK, 0, NULL, NULL), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b[2], &slot, &f[2]), CM_OK);
    assert_int_equal(fx.own.device_held, 2);
}

static void test_stale_buffer_id_rejected_after_release_and_reuse(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    uint64_t b1, b2, f;
    uint32_t slot;
    assert_status(cm__dma_own_acquire(&fx.own, &b1, &slot), CM_OK);
    assert_status(cm__dma_own_release(&fx.own, b1, &slot), CM_OK);
    assert_status(cm__dma_own_check_cpu(&fx.own, b1, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_scrubbed(&fx.own, slot), CM_OK);
    assert_status(cm__dma_own_acquire(&fx.own, &b2, &slot), CM_OK);
    assert_int_equal(slot, 0); /* the same slot, a new generation */
    assert_true(b1 != b2);
    assert_status(cm__dma_own_check_cpu(&fx.own, b1, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_submit(&fx.own, b1, &slot, &f), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_release(&fx.own, b1, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_detach(&fx.own, b1, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_check_cpu(&fx.own, b2, &slot), CM_OK);
}

static void test_stale_completion_dropped_after_resubmit(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    uint64_t b, f1, f2, back;
    uint32_t slot, bytes;
    cm_status_t result;
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f1), CM_OK);
    assert_status(cm__dma_own_complete(&fx.own, f1, CM_OK, 1, NULL, NULL), CM_OK);
    assert_status(cm__dma_own_wait(&fx.own, f1, &slot, &back, &result, &bytes), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f2), CM_OK);
    assert_true(f1 != f2);
    /* A late duplicate of the first completion must not signal the second. */
    assert_status(cm__dma_own_complete(&fx.own, f1, CM_OK, 1, NULL, NULL),
                  CM_ERR_BAD_HANDLE);
    assert_int_equal(fx.slots[0].state, I);
    assert_int_equal(fx.own.dropped, 1);
    assert_status(cm__dma_own_complete(&fx.own, f2, CM_OK, 2, NULL, NULL), CM_OK);
    assert_status(cm__dma_own_complete(&fx.own, f2, CM_OK, 3, NULL, NULL),
                  CM_ERR_BAD_STATE);
    assert_int_equal(fx.own.dropped, 2);
    assert_status(cm__dma_own_wait(&fx.own, f2, &slot, &back, &result, &bytes), CM_OK);
    assert_int_equal(bytes, 2); /* the duplicate did not overwrite the result */
}

static void test_stale_completion_for_quarantined_slot_dropped(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    uint64_t b, f;
    uint32_t slot, action = 0;
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f), CM_OK);
    cm__dma_own_abandon_all(&fx.own);
    assert_int_equal(fx.own.quarantined, 1);
    assert_status(cm__dma_own_complete(&fx.own, f + (1ull << 32), CM_OK, 0, NULL, NULL),
                  CM_ERR_BAD_HANDLE);
    assert_int_equal(fx.slots[0].state, Q);
    assert_status(cm__dma_own_complete(&fx.own, f, CM_OK, 0, &slot, &action), CM_OK);
    assert_int_equal(action, CM_DMA_ACT_SCRUB);
    assert_int_equal(fx.slots[0].state, D);
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_int_not_equal(slot, 0); /* the dirty slot is skipped */
}

static void test_malformed_ids_rejected(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    uint64_t b, f;
    uint32_t slot;
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f), CM_OK);
    const uint64_t bad[] = {
        0, b | (1ull << 20), b & 0xffffffffull /* gen 0 */, cm__dma_buffer_id(NSLOTS, 1),
        f, /* a fence id is not a buffer id */ ~0ull,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_status(cm__dma_own_buffer(&fx.own, bad[i], &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_fence(&fx.own, b, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_fence(&fx.own, f | (1ull << 17), &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_complete(&fx.own, b, CM_OK, 0, NULL, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm__dma_own_fence(&fx.own, f, &slot), CM_OK);
}

static void test_generation_wraps_past_zero(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1);
    uint64_t b, f;
    uint32_t slot;
    fx.slots[0].buf_gen = 0xffffffffu;
    fx.slots[0].io_gen = 0xffffffffu;
    assert_status(cm__dma_own_acquire(&fx.own, &b, &slot), CM_OK);
    assert_int_equal(fx.slots[0].buf_gen, 1);
    assert_status(cm__dma_own_submit(&fx.own, b, &slot, &f), CM_OK);
    assert_int_equal(fx.slots[0].io_gen, 1);
    assert_true((f >> 32) == 1);
}

static void test_abandon_all_kills_every_id(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 2);
    uint64_t b[3], f[2], back;
    uint32_t slot, bytes;
    cm_status_t result;
    for (int i = 0; i < 3; i++)
        assert_status(cm__dma_own_acquire(&fx.own, &b[i], &slot), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b[0], &slot, &f[0]), CM_OK);
    assert_status(cm__dma_own_submit(&fx.own, b[1], &slot, &f[1]), CM_OK);
    assert_status(cm__dma_own_complete(&fx.own, f[1], CM_OK, 0, NULL, NULL), CM_OK);
    cm__dma_own_abandon_all(&fx.own);
    assert_int_equal(fx.slots[0].state, Q);
    assert_int_equal(fx.slots[1].state, D);
    assert_int_equal(fx.slots[2].state, D);
    assert_int_equal(fx.slots[3].state, F);
    for (int i = 0; i < 3; i++)
        assert_status(cm__dma_own_buffer(&fx.own, b[i], &slot), CM_ERR_BAD_HANDLE);
    for (int i = 0; i < 2; i++)
        assert_status(cm__dma_own_wait(&fx.own, f[i], &slot, &back, &result, &bytes),
                      CM_ERR_BAD_HANDLE);
    /* Quarantined slots still count against the device bound. */
    assert_int_equal(fx.own.device_held, 1);
}

#define REG_CELL(name, st, ev, status, next, action) cmocka_unit_test(test_##name),

int main(void)
{
    const struct CMUnitTest tests[] = {
        CELLS(REG_CELL)
        cmocka_unit_test(test_table_has_one_test_per_cell),
        cmocka_unit_test(test_apply_rejects_out_of_range_slot_and_event),
        cmocka_unit_test(test_init_rejects_bad_bounds),
        cmocka_unit_test(test_acquire_exhausts_pool_with_typed_error),
        cmocka_unit_test(test_ownership_transfer_prevents_double_submit),
        cmocka_unit_test(test_fence_wait_returns_exclusive_ownership),
        cmocka_unit_test(test_in_flight_bound_enforced_including_quarantine),
        cmocka_unit_test(test_stale_buffer_id_rejected_after_release_and_reuse),
        cmocka_unit_test(test_stale_completion_dropped_after_resubmit),
        cmocka_unit_test(test_stale_completion_for_quarantined_slot_dropped),
        cmocka_unit_test(test_malformed_ids_rejected),
        cmocka_unit_test(test_generation_wraps_past_zero),
        cmocka_unit_test(test_abandon_all_kills_every_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
