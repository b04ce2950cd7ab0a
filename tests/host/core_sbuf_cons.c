/* SPDX-License-Identifier: MIT */
/* SharedBuffer, the consumer's side (core/sbuf_cons.c): every value a
 * hostile producer can write into the shared control area or the delivery
 * ring is refused with PROTOCOL, and honest streams are received in order
 * across full and empty rings and across the 64-bit wrap of sequence
 * numbers and ring indices. */
#include <string.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "sbuf_sim.h"
#include "common/leakcheck.h"

static struct sim s;

/* A buffer with one consumer `a`; seq and ring indices start at the given
 * values (near 2^64 to cross the wrap). */
static uint32_t setup(uint32_t slots, uint32_t held, uint32_t policy, uint64_t seq,
                      uint64_t index)
{
    cm_sbuf_config_t c = sim_cfg(slots, 1, held, 1, policy);
    assert_status(sim_init(&s, &c, seq, index), CM_OK);
    uint32_t a;
    assert_status(sim_join(&s, &a), CM_OK);
    return a;
}

static void test_empty_ring_is_should_wait_and_full_ring_has_every_message(void **state)
{
    (void)state;
    uint32_t a = setup(4, 4, CM_SBUF_BLOCK, 0, 0);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_ERR_SHOULD_WAIT);
    uint64_t seq[4];
    for (int i = 0; i < 4; i++)
        assert_status(sim_send(&s, &seq[i]), CM_OK);
    assert_status(sim_send(&s, NULL), CM_ERR_SHOULD_WAIT); /* full: BLOCK waits */
    assert_int_equal(s.sh[a].p.tail - s.sh[a].c.read, 4);  /* ring exactly full */
    for (int i = 0; i < 4; i++) {
        int ok;
        assert_status(sim_receive(&s, a, &d, NULL, &ok), CM_OK);
        assert_int_equal(d.seq, seq[i]);
        assert_true(ok);
    }
    assert_status(sim_release(&s, a, seq[0]), CM_OK);
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_ERR_SHOULD_WAIT);
}

/* Streams n messages through a consumer that holds up to `held`, checking
 * order and intact data every time. */
static void stream(uint32_t a, int n, uint32_t held)
{
    uint64_t next = s.own.next_seq, want = next;
    uint64_t queue[SIM_SLOTS];
    uint32_t nq = 0;
    for (int i = 0; i < n; i++) {
        uint64_t seq;
        cm_status_t st = sim_send(&s, &seq);
        if (st == CM_ERR_SHOULD_WAIT) {
            assert_true(nq > 0);
            assert_status(sim_release(&s, a, queue[0]), CM_OK);
            memmove(queue, queue + 1, --nq * sizeof(queue[0]));
            assert_status(sim_send(&s, &seq), CM_OK);
        }
        assert_int_equal(seq, next++);
        struct cm_sbuf_desc d;
        int ok;
        if (nq == held) {
            assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_ERR_NO_RESOURCES);
            assert_status(sim_release(&s, a, queue[0]), CM_OK);
            memmove(queue, queue + 1, --nq * sizeof(queue[0]));
        }
        assert_status(sim_receive(&s, a, &d, NULL, &ok), CM_OK);
        assert_int_equal(d.seq, want++);
        assert_true(ok);
        queue[nq++] = d.seq;
    }
    assert_int_equal(s.evictions, 0);
}

static void test_order_holds_across_the_64_bit_wrap_of_seq_and_ring_index(void **state)
{
    (void)state;
    uint32_t a = setup(3, 2, CM_SBUF_BLOCK, UINT64_MAX - 5, UINT64_MAX - 6);
    stream(a, 40, 2);
    assert_true(s.own.next_seq < 100);        /* seq wrapped */
    assert_true(s.sh[a].c.read < 100);        /* read index wrapped */
    assert_true(s.sh[a].c.rel_tail < 100);    /* release index wrapped */
    assert_int_equal(s.cons[a].received, 40);
}

static void test_ring_cells_stay_contiguous_across_the_index_wrap(void **state)
{
    (void)state;
    /* 2^64 is a multiple of the ring size: the cell after index 2^64-1
     * (cell size-1) is cell 0 of index 0. */
    assert_int_equal(cm__sbuf_cell(UINT64_MAX, 8), 7);
    assert_int_equal(cm__sbuf_cell(UINT64_MAX + 1ull, 8), 0);
    assert_int_equal(cm__sbuf_count(UINT64_MAX - 1, 2), 4);
    assert_true(cm__sbuf_within(UINT64_MAX - 1, 1, 2));
    assert_false(cm__sbuf_within(UINT64_MAX - 1, UINT64_MAX - 2, 2));
    assert_true(cm__sbuf_forward(UINT64_MAX, 3));
    assert_false(cm__sbuf_forward(3, UINT64_MAX));
    assert_int_equal(cm__sbuf_age(1, UINT64_MAX), 2);
}

static void test_tail_behind_read_or_beyond_a_ring_is_protocol_and_sticks(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 0, 100);
    struct cm_sbuf_cons *cs = &s.cons[a];
    assert_status(cm__sbuf_cons_poll(cs, 100, 100 + s.ring), CM_OK); /* full ring: fine */
    assert_status(cm__sbuf_cons_poll(cs, 100, 100 + s.ring + 1), CM_ERR_PROTOCOL);
    assert_true(cs->broken);
    /* Broken for good: even an honest state is refused now. */
    assert_status(cm__sbuf_cons_poll(cs, 100, 100), CM_ERR_PROTOCOL);
    assert_status(cm__sbuf_cons_can_receive(cs), CM_ERR_PROTOCOL);
    struct cm_sbuf_rel r;
    uint64_t idx;
    assert_status(cm__sbuf_cons_release(cs, 0, 100, &r, &idx), CM_ERR_PROTOCOL);

    a = setup(4, 2, CM_SBUF_BLOCK, 0, 100);
    assert_status(cm__sbuf_cons_poll(&s.cons[a], 100, 99), CM_ERR_PROTOCOL);
}

static void test_read_moved_by_the_producer_is_protocol_under_block(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 0, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    s.sh[a].c.read++; /* a "drop": BLOCK never drops */
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_PROTOCOL);
}

static void test_read_moved_backwards_is_protocol_under_drop_oldest(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_DROP_OLDEST, 0, 50);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    s.sh[a].c.read = 50; /* back to the first, already received */
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_PROTOCOL);
}

static void test_descriptor_with_slot_or_length_out_of_range_is_protocol(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 7, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    s.sh[a].ring[0].slot = 4;
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_PROTOCOL);

    a = setup(4, 2, CM_SBUF_BLOCK, 7, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    s.sh[a].ring[0].len = s.cfg.slot_size + 1;
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_PROTOCOL);
    assert_int_equal(s.cons[a].received, 0);
    assert_int_equal(s.sh[a].c.read, 0); /* nothing claimed */
}

static void test_forged_sequence_numbers_are_protocol(void **state)
{
    (void)state;
    /* BLOCK: no gap, no repeat, no going back. */
    static const int64_t delta[] = { 1, -1, 1000, INT64_MIN };
    for (unsigned i = 0; i < 4; i++) {
        uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 7, 0);
        assert_status(sim_send(&s, NULL), CM_OK);
        s.sh[a].ring[0].seq += (uint64_t)delta[i];
        assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_PROTOCOL);
    }
    /* DROP_OLDEST: the gap must be exactly the entries the producer took
     * back (read moved by as many); a gap without a drop is forged. */
    uint32_t a = setup(4, 1, CM_SBUF_DROP_OLDEST, 7, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    s.sh[a].ring[0].seq += 1;
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_PROTOCOL);
}

static void test_gap_after_drops_equals_the_dropped_count(void **state)
{
    (void)state;
    uint32_t a = setup(4, 1, CM_SBUF_DROP_OLDEST, UINT64_MAX - 2, UINT64_MAX);
    /* 10 messages into 4 slots with nobody reading: 6 are taken back. */
    for (int i = 0; i < 10; i++)
        assert_status(sim_send(&s, NULL), CM_OK);
    assert_int_equal(s.peers[a].dropped, 6);
    struct cm_sbuf_desc d;
    uint64_t gap;
    int ok;
    assert_status(sim_receive(&s, a, &d, &gap, &ok), CM_OK);
    assert_int_equal(gap, 6);
    assert_int_equal(d.seq, UINT64_MAX - 2 + 6);
    assert_true(ok);
    assert_int_equal(s.cons[a].dropped, 6);
    assert_status(sim_release(&s, a, d.seq), CM_OK);
    assert_status(sim_receive(&s, a, &d, &gap, NULL), CM_OK);
    assert_int_equal(gap, 0);
}

static void test_receive_past_max_held_is_no_resources_until_a_release(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 0, 0);
    for (int i = 0; i < 3; i++)
        assert_status(sim_send(&s, NULL), CM_OK);
    struct cm_sbuf_desc d0, d1;
    assert_status(sim_receive(&s, a, &d0, NULL, NULL), CM_OK);
    assert_status(sim_receive(&s, a, &d1, NULL, NULL), CM_OK);
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_ERR_NO_RESOURCES);
    assert_status(sim_release(&s, a, d1.seq), CM_OK); /* any order */
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_OK);
}

static void test_release_of_a_message_not_held_is_bad_state(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 0, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_status(sim_release(&s, a, d.seq + 1), CM_ERR_BAD_STATE); /* pending, not received */
    assert_status(sim_release(&s, a, d.seq), CM_OK);
    assert_status(sim_release(&s, a, d.seq), CM_ERR_BAD_STATE);     /* twice */
    assert_int_equal(s.sh[a].c.rel_tail, 1);                        /* one entry written */
}

static void test_release_index_out_of_its_window_is_protocol(void **state)
{
    (void)state;
    uint32_t a = setup(4, 2, CM_SBUF_BLOCK, 0, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    struct cm_sbuf_rel r;
    uint64_t idx;
    /* rel_head ahead of what the consumer wrote. */
    assert_status(cm__sbuf_cons_release(&s.cons[a], d.seq, 1, &r, &idx), CM_ERR_PROTOCOL);
    a = setup(4, 2, CM_SBUF_BLOCK, 0, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    /* rel_head a whole ring behind: a full ring, which an honest producer
     * never leaves. */
    s.cons[a].rel_tail = s.ring;
    assert_status(cm__sbuf_cons_release(&s.cons[a], d.seq, 0, &r, &idx), CM_ERR_PROTOCOL);
}

static void test_a_bad_configuration_from_the_producer_is_protocol(void **state)
{
    (void)state;
    struct cm_sbuf_cons cs;
    struct cm_sbuf_hold h[4];
    cm_sbuf_config_t c = sim_cfg(4, 1, 2, 1, CM_SBUF_BLOCK);
    assert_status(cm__sbuf_cons_init(&cs, h, &c, 0, 0), CM_OK);
    c.slot_count = CM_SBUF_MAX_SLOTS + 1;
    assert_status(cm__sbuf_cons_init(&cs, h, &c, 0, 0), CM_ERR_PROTOCOL);
    c = sim_cfg(4, 1, 2, 1, 9);
    assert_status(cm__sbuf_cons_init(&cs, h, &c, 0, 0), CM_ERR_PROTOCOL);
    assert_status(cm__sbuf_cons_init(&cs, NULL, &c, 0, 0), CM_ERR_INVALID_ARGS);
}

static void test_torn_copy_of_a_dropped_entry_is_never_used(void **state)
{
    (void)state;
    /* The consumer copied the descriptor at r, then the producer took r
     * back (read moves to r + 1) and rewrote the cell: the consumer's claim
     * of r fails, and a retry sees r + 1 with the matching gap. */
    uint32_t a = setup(2, 1, CM_SBUF_DROP_OLDEST, 0, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    uint64_t r = s.sh[a].c.read;
    struct cm_sbuf_desc stale = s.sh[a].ring[cm__sbuf_cell(r, s.ring)];
    assert_status(sim_send(&s, NULL), CM_OK); /* drops r */
    assert_true(s.sh[a].c.read != r);          /* the CAS from r would fail */
    /* Using the stale copy at the new index is refused (seq off by one). */
    assert_status(cm__sbuf_cons_check(&s.cons[a], &stale, s.sh[a].c.read, NULL), CM_ERR_PROTOCOL);
    a = setup(2, 1, CM_SBUF_DROP_OLDEST, 0, 0);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    struct cm_sbuf_desc d;
    uint64_t gap;
    assert_status(sim_receive(&s, a, &d, &gap, NULL), CM_OK);
    assert_int_equal(gap, 1);
    assert_int_equal(d.seq, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_ring_is_should_wait_and_full_ring_has_every_message),
        cmocka_unit_test(test_order_holds_across_the_64_bit_wrap_of_seq_and_ring_index),
        cmocka_unit_test(test_ring_cells_stay_contiguous_across_the_index_wrap),
        cmocka_unit_test(test_tail_behind_read_or_beyond_a_ring_is_protocol_and_sticks),
        cmocka_unit_test(test_read_moved_by_the_producer_is_protocol_under_block),
        cmocka_unit_test(test_read_moved_backwards_is_protocol_under_drop_oldest),
        cmocka_unit_test(test_descriptor_with_slot_or_length_out_of_range_is_protocol),
        cmocka_unit_test(test_forged_sequence_numbers_are_protocol),
        cmocka_unit_test(test_gap_after_drops_equals_the_dropped_count),
        cmocka_unit_test(test_receive_past_max_held_is_no_resources_until_a_release),
        cmocka_unit_test(test_release_of_a_message_not_held_is_bad_state),
        cmocka_unit_test(test_release_index_out_of_its_window_is_protocol),
        cmocka_unit_test(test_a_bad_configuration_from_the_producer_is_protocol),
        cmocka_unit_test(test_torn_copy_of_a_dropped_entry_is_never_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
