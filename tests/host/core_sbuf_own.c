/* SPDX-License-Identifier: MIT */
/* SharedBuffer configuration, layout and the producer's slot ownership
 * (core/sbuf_ring.c, core/sbuf_own.c): every limit with its typed error,
 * loans and their ids, fan-out, late join, leave, both overflow policies,
 * and every kind of hostile release a consumer can write. */
#include <string.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "sbuf_sim.h"
#include "common/leakcheck.h"

static cm_sbuf_config_t good(void)
{
    return sim_cfg(8, 2, 2, 2, CM_SBUF_BLOCK);
}

/* ---- configuration and limits ---- */

static void test_config_each_malformed_field_is_invalid_args(void **state)
{
    (void)state;
    cm_sbuf_config_t c = good();
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    assert_status(cm__sbuf_config_check(NULL, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm__sbuf_config_check(&c, 0), CM_ERR_INVALID_ARGS);
    c = good(); c.options = 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    c = good(); c.reserved = 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    c = good(); c.policy = 0;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    c = good(); c.policy = 3;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    for (unsigned i = 0; i < 5; i++) {
        c = good();
        uint32_t *f[] = { &c.slot_count, &c.slot_size, &c.max_consumers, &c.max_held,
                          &c.max_loans };
        *f[i] = 0;
        assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    }
    c = good(); c.max_held = c.slot_count + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    c = good(); c.max_loans = c.slot_count + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
}

static void test_drop_oldest_needs_a_slot_beyond_every_hold_and_loan(void **state)
{
    (void)state;
    /* 3 consumers x 2 held + 2 loans = 8 slots: exactly enough. */
    cm_sbuf_config_t c = sim_cfg(8, 3, 2, 2, CM_SBUF_DROP_OLDEST);
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.slot_count = 7;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    c.policy = CM_SBUF_BLOCK; /* BLOCK waits instead: no such bound */
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
}

static void test_every_limit_is_out_of_range_one_past_it(void **state)
{
    (void)state;
    cm_sbuf_config_t c = sim_cfg(CM_SBUF_MAX_SLOTS, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.slot_count = CM_SBUF_MAX_SLOTS + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);

    c = sim_cfg(1, 1, 1, 1, CM_SBUF_BLOCK);
    c.slot_size = CM_SBUF_MAX_SLOT_SIZE;
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.slot_size = CM_SBUF_MAX_SLOT_SIZE + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);

    c = sim_cfg(4, CM_SBUF_MAX_CONSUMERS, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.max_consumers = CM_SBUF_MAX_CONSUMERS + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);

    c = sim_cfg(CM_SBUF_MAX_LOANS + 1, 1, 1, CM_SBUF_MAX_LOANS, CM_SBUF_BLOCK);
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.max_loans = CM_SBUF_MAX_LOANS + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);

    /* Data size: 16 slots of the largest size is the limit exactly, and a
     * slot one byte over a line multiple costs a whole line of stride. */
    c = sim_cfg(16, 1, 1, 1, CM_SBUF_BLOCK);
    c.slot_size = CM_SBUF_MAX_SLOT_SIZE;
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.slot_count = 17;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);
    c.slot_count = 1024;
    c.slot_size = (uint32_t)(CM_SBUF_MAX_DATA_SIZE / 1024);
    assert_status(cm__sbuf_config_check(&c, 1), CM_OK);
    c.slot_size += 1; /* stride grows by a whole CM_SBUF_SLOT_ALIGN */
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);
}

static void test_invalid_args_outranks_out_of_range_and_limits_go_in_field_order(void **state)
{
    (void)state;
    cm_sbuf_config_t c = sim_cfg(CM_SBUF_MAX_SLOTS + 1, CM_SBUF_MAX_CONSUMERS + 1, 1, 1,
                                 CM_SBUF_BLOCK);
    c.options = 4;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
    c.options = 0;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_OUT_OF_RANGE);
    /* Relations between fields are INVALID_ARGS even with a field out of range. */
    c.max_held = c.slot_count + 1;
    assert_status(cm__sbuf_config_check(&c, 1), CM_ERR_INVALID_ARGS);
}

static void test_layout_rounds_stride_to_a_line_and_rings_to_a_power_of_two(void **state)
{
    (void)state;
    struct cm_sbuf_layout l;
    cm_sbuf_config_t c = sim_cfg(5, 1, 1, 1, CM_SBUF_BLOCK);
    c.slot_size = 65;
    assert_status(cm__sbuf_layout(&c, &l), CM_OK);
    assert_int_equal(l.stride, 128);
    assert_int_equal(l.ring_size, 8);
    assert_int_equal(l.data_size, 5 * 128);
    assert_int_equal(l.prod_area_size, CM_PAGE_SIZE);
    assert_int_equal(l.cons_area_size, CM_PAGE_SIZE);
    c.slot_count = CM_SBUF_MAX_SLOTS;
    assert_status(cm__sbuf_layout(&c, &l), CM_OK);
    assert_int_equal(l.ring_size, CM_SBUF_MAX_SLOTS);
    /* 128-byte control block + 1024 x 16-byte entries, page-rounded. */
    assert_int_equal(l.prod_area_size, 5 * CM_PAGE_SIZE);
    assert_status(cm__sbuf_layout(&c, NULL), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__sbuf_pow2(1), 1);
    assert_int_equal(cm__sbuf_pow2(1025), 2048);
    assert_int_equal(cm__sbuf_pow2(0), 0);
}

/* ---- loans ---- */

static void test_loans_stop_at_max_loans_with_no_resources_then_at_empty_pool(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(3, 1, 1, 2, CM_SBUF_BLOCK);
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint64_t id[3];
    uint32_t slot;
    assert_status(cm__sbuf_own_loan(&s.own, &id[0], &slot), CM_OK);
    assert_status(cm__sbuf_own_loan(&s.own, &id[1], &slot), CM_OK);
    assert_status(cm__sbuf_own_loan(&s.own, &id[2], &slot), CM_ERR_NO_RESOURCES);
    uint32_t cons;
    assert_status(sim_join(&s, &cons), CM_OK);
    /* Publish both (the consumer holds nothing yet: pending), loan the third. */
    assert_status(sim_publish(&s, id[0], 1, NULL), CM_OK);
    assert_status(sim_publish(&s, id[1], 1, NULL), CM_OK);
    assert_status(cm__sbuf_own_loan(&s.own, &id[2], &slot), CM_OK);
    assert_status(sim_publish(&s, id[2], 1, NULL), CM_OK);
    assert_status(cm__sbuf_own_loan(&s.own, &id[0], &slot), CM_ERR_SHOULD_WAIT);
    assert_int_equal(s.own.free, 0);
    assert_int_equal(s.own.published, 3);
}

static void test_loan_id_dies_at_publish_and_cancel_and_never_names_another_loan(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint64_t a, b;
    uint32_t sa, sb, slot;
    assert_status(cm__sbuf_own_loan(&s.own, &a, &sa), CM_OK);
    assert_status(cm__sbuf_own_cancel(&s.own, a), CM_OK);
    assert_status(cm__sbuf_own_cancel(&s.own, a), CM_ERR_BAD_HANDLE);
    assert_status(cm__sbuf_own_loan(&s.own, &b, &sb), CM_OK);
    assert_int_equal(sa, sb); /* same slot, new generation */
    assert_true(a != b);
    assert_status(cm__sbuf_own_publish(&s.own, a, 0, NULL, NULL, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm__sbuf_own_publish(&s.own, b, 0, NULL, NULL, NULL), CM_OK);
    assert_status(cm__sbuf_own_publish(&s.own, b, 0, NULL, NULL, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm__sbuf_own_loan_slot(&s.own, 0, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__sbuf_own_loan_slot(&s.own, (1ull << 32) | 9, &slot), CM_ERR_BAD_HANDLE);
    assert_status(cm__sbuf_own_loan_slot(&s.own, 1, &slot), CM_ERR_BAD_HANDLE); /* gen 0 */
    assert_status(cm__sbuf_own_loan_slot(&s.own, b & 0xffffffffull, &slot),
                  CM_ERR_BAD_HANDLE);
}

static void test_message_larger_than_a_slot_is_out_of_range_and_loan_survives(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint64_t id, seq;
    uint32_t slot;
    assert_status(cm__sbuf_own_loan(&s.own, &id, &slot), CM_OK);
    assert_status(cm__sbuf_own_publish(&s.own, id, c.slot_size + 1, &seq, NULL, NULL),
                  CM_ERR_OUT_OF_RANGE);
    assert_int_equal(s.own.loaned, 1);
    assert_status(cm__sbuf_own_publish(&s.own, id, c.slot_size, &seq, NULL, NULL), CM_OK);
}

static void test_publish_with_no_consumer_frees_the_slot_at_once(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 10, 0), CM_OK);
    uint64_t id, seq;
    uint32_t slot, to = 99;
    assert_status(cm__sbuf_own_loan(&s.own, &id, &slot), CM_OK);
    assert_status(cm__sbuf_own_publish(&s.own, id, 4, &seq, &slot, &to), CM_OK);
    assert_int_equal(seq, 10);
    assert_int_equal(to, 0);
    assert_int_equal(s.slots[slot].state, CM_SBUF_SLOT_FREE);
    assert_int_equal(s.own.free, c.slot_count);
    assert_int_equal(s.own.next_seq, 11);
}

/* ---- fan-out, join, leave ---- */

static void test_slot_returns_only_after_the_last_of_two_holders_releases(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, b;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(sim_join(&s, &b), CM_OK);
    uint64_t seq;
    assert_status(sim_send(&s, &seq), CM_OK);
    struct cm_sbuf_desc da, db;
    int ok;
    assert_status(sim_receive(&s, a, &da, NULL, &ok), CM_OK);
    assert_true(ok);
    assert_status(sim_receive(&s, b, &db, NULL, &ok), CM_OK);
    assert_int_equal(da.slot, db.slot);
    assert_status(sim_release(&s, a, seq), CM_OK);
    sim_reap_all(&s);
    assert_int_equal(s.slots[da.slot].state, CM_SBUF_SLOT_PUBLISHED);
    assert_int_equal(s.slots[da.slot].held, 1u << b);
    assert_int_equal(s.peers[a].released, 1);
    assert_status(sim_release(&s, b, seq), CM_OK);
    sim_reap_all(&s);
    assert_int_equal(s.slots[da.slot].state, CM_SBUF_SLOT_FREE);
    assert_int_equal(s.own.free, c.slot_count);
    assert_int_equal(s.evictions, 0);
}

static void test_pending_at_one_consumer_keeps_the_slot_after_the_other_releases(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, b;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(sim_join(&s, &b), CM_OK);
    uint64_t seq;
    assert_status(sim_send(&s, &seq), CM_OK);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_status(sim_release(&s, a, seq), CM_OK);
    sim_reap_all(&s);
    assert_int_equal(s.slots[d.slot].state, CM_SBUF_SLOT_PUBLISHED);
    assert_int_equal(s.slots[d.slot].pending, 1u << b);
    assert_int_equal(s.peers[b].pending, 1);
}

static void test_late_joiner_sees_only_messages_published_after_it_joined(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, b;
    uint64_t s1, s2;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(sim_send(&s, &s1), CM_OK);
    assert_status(sim_join(&s, &b), CM_OK);
    assert_int_equal(s.peers[b].join_seq, s1 + 1);
    assert_status(sim_send(&s, &s2), CM_OK);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, b, &d, NULL, NULL), CM_OK);
    assert_int_equal(d.seq, s2);
    assert_status(sim_receive(&s, b, &d, NULL, NULL), CM_ERR_SHOULD_WAIT);
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_int_equal(d.seq, s1);
    assert_int_equal(s.slots[0].pending | s.slots[0].held, 1u << a);
}

static void test_leave_releases_what_the_consumer_held_and_had_pending(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, b, freed = 99;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(sim_join(&s, &b), CM_OK);
    for (int i = 0; i < 3; i++)
        assert_status(sim_send(&s, NULL), CM_OK);
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_OK); /* a: 1 held, 2 pending */
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, b, &d, NULL, NULL), CM_OK);
    assert_status(sim_release(&s, b, d.seq), CM_OK);
    sim_reap_all(&s);
    assert_int_equal(s.own.published, 3);
    assert_status(cm__sbuf_own_leave(&s.own, a, &freed), CM_OK);
    /* Message 1: only a held it now -> FREE; 2 and 3 still pending at b. */
    assert_int_equal(freed, 1);
    assert_int_equal(s.own.published, 2);
    assert_status(cm__sbuf_own_leave(&s.own, b, &freed), CM_OK);
    assert_int_equal(freed, 2);
    assert_int_equal(s.own.free, c.slot_count);
    assert_status(cm__sbuf_own_leave(&s.own, b, &freed), CM_ERR_INVALID_ARGS);
    assert_status(cm__sbuf_own_leave(&s.own, 7, &freed), CM_ERR_INVALID_ARGS);
}

static void test_consumers_stop_at_max_consumers_and_evicted_positions_wait_for_leave(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = good();
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, b, x;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(sim_join(&s, &b), CM_OK);
    assert_status(cm__sbuf_own_join(&s.own, &x), CM_ERR_NO_RESOURCES);
    assert_status(cm__sbuf_own_evict(&s.own, a, NULL), CM_OK);
    assert_status(cm__sbuf_own_evict(&s.own, a, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm__sbuf_own_join(&s.own, &x), CM_ERR_NO_RESOURCES);
    assert_status(cm__sbuf_own_leave(&s.own, a, NULL), CM_OK);
    assert_status(cm__sbuf_own_join(&s.own, &x), CM_OK);
    assert_int_equal(x, a);
}

/* ---- hostile release entries ---- */

/* One consumer holding message `*seq` in `*slot` (received), one more
 * message pending, ready for a forged release. */
static void hostile_setup(struct sim *s, uint32_t *a, uint32_t *b, uint64_t *seq, uint32_t *slot)
{
    cm_sbuf_config_t c = good();
    assert_status(sim_init(s, &c, 100, 0), CM_OK);
    assert_status(sim_join(s, a), CM_OK);
    assert_status(sim_join(s, b), CM_OK);
    assert_status(sim_send(s, NULL), CM_OK);
    assert_status(sim_send(s, NULL), CM_OK);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(s, *a, &d, NULL, NULL), CM_OK);
    *seq = d.seq;
    *slot = d.slot;
}

static void expect_evicted(struct sim *s, uint32_t a, uint32_t b)
{
    assert_status(sim_reap(s, a), CM_ERR_PROTOCOL);
    assert_int_equal(s->peers[a].state, CM_SBUF_PEER_EVICTED);
    assert_int_equal(s->evictions, 1);
    /* Everything it had is reclaimed; the other consumer is untouched. */
    for (uint32_t i = 0; i < s->cfg.slot_count; i++)
        assert_int_equal((s->slots[i].held | s->slots[i].pending) & (1u << a), 0);
    assert_int_equal(s->peers[b].state, CM_SBUF_PEER_ACTIVE);
    assert_int_equal(s->peers[b].pending, 2);
}

static void test_release_of_a_slot_out_of_range_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    /* A decoy just past the end of the slot table, as if it were a's
     * message: only the range check stands between it and a release. */
    struct cm_sbuf_slot decoy = { CM_SBUF_SLOT_PUBLISHED, 1, 8, 0, 1u << a, seq };
    s.slots[s.cfg.slot_count] = decoy;
    sim_push_raw(&s, a, seq, s.cfg.slot_count, 0);
    expect_evicted(&s, a, b);
    assert_int_equal(s.slots[s.cfg.slot_count].held, 1u << a);
}

static void test_release_with_reserved_bits_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    sim_push_raw(&s, a, seq, slot, 1);
    expect_evicted(&s, a, b);
}

static void test_double_release_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    sim_push_raw(&s, a, seq, slot, 0);
    sim_push_raw(&s, a, seq, slot, 0);
    expect_evicted(&s, a, b);
    assert_int_equal(s.peers[a].released, 1); /* the first one counted */
}

static void test_release_of_a_message_never_received_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    /* Message seq + 1 is pending at a, not received. */
    sim_push_raw(&s, a, seq + 1, s.sh[a].ring[1].slot, 0);
    expect_evicted(&s, a, b);
}

static void test_release_of_another_consumers_message_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    /* b receives the second message; a names it. */
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, b, &d, NULL, NULL), CM_OK);
    assert_status(sim_receive(&s, b, &d, NULL, NULL), CM_OK);
    assert_status(sim_reap(&s, b), CM_OK);
    sim_push_raw(&s, a, d.seq, d.slot, 0);
    assert_status(sim_reap(&s, a), CM_ERR_PROTOCOL);
    assert_int_equal(s.slots[d.slot].held, 1u << b);
}

static void test_release_with_a_forged_sequence_number_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    sim_push_raw(&s, a, seq ^ (1ull << 40), slot, 0);
    expect_evicted(&s, a, b);
}

static void test_stale_release_after_the_slot_was_reused_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(1, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a;
    assert_status(sim_join(&s, &a), CM_OK);
    uint64_t s1, s2;
    struct cm_sbuf_desc d;
    assert_status(sim_send(&s, &s1), CM_OK);
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_status(sim_release(&s, a, s1), CM_OK);
    assert_status(sim_send(&s, &s2), CM_OK); /* reaps, reuses slot 0 */
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_int_equal(d.slot, 0);
    sim_push_raw(&s, a, s1, 0, 0); /* the old message again */
    assert_status(sim_reap(&s, a), CM_ERR_PROTOCOL);
}

static void test_read_index_outside_its_window_is_protocol(void **state)
{
    (void)state;
    static struct sim s;
    uint32_t a, b, slot, n;
    uint64_t seq;
    hostile_setup(&s, &a, &b, &seq, &slot);
    struct cm_sbuf_peer *p = &s.peers[a];
    /* Past the tail (claims a delivery never made), behind the floor, r1 after r2. */
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, p->tail + 1, p->rel_head, p->tail + 1, &n),
                  CM_ERR_PROTOCOL);
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, p->floor, p->rel_head, p->floor, &n), CM_OK);
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, p->floor - 1, p->rel_head, p->floor, &n),
                  CM_ERR_PROTOCOL);
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, p->tail, p->rel_head, p->floor, &n),
                  CM_ERR_PROTOCOL);
    /* A release tail more than a ring ahead, or behind. */
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, p->floor, p->rel_head + s.ring + 1,
                                          p->floor, &n), CM_ERR_PROTOCOL);
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, p->floor, p->rel_head - 1, p->floor, &n),
                  CM_ERR_PROTOCOL);
    assert_status(cm__sbuf_own_reap_begin(&s.own, 3, 0, 0, 0, &n), CM_ERR_INVALID_ARGS);
}

static void test_hoarding_past_max_held_is_protocol_but_release_then_receive_is_not(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(4, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, n;
    assert_status(sim_join(&s, &a), CM_OK);
    for (int i = 0; i < 3; i++)
        assert_status(sim_send(&s, NULL), CM_OK);
    struct cm_sbuf_peer *p = &s.peers[a];
    uint64_t base = p->floor;
    /* Honest: received #1, released it, received #2 between the producer's
     * first read load (r1 = base + 1) and its second (r2 = base + 2). */
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_status(sim_release(&s, a, d.seq), CM_OK);
    assert_status(sim_receive(&s, a, &d, NULL, NULL), CM_OK);
    assert_status(cm__sbuf_own_reap_begin(&s.own, a, base + 1, s.sh[a].c.rel_tail, base + 2, &n),
                  CM_OK);
    assert_int_equal(n, 1);
    struct cm_sbuf_rel r = s.sh[a].rel[cm__sbuf_cell(p->rel_head, s.ring)];
    assert_status(cm__sbuf_own_reap_release(&s.own, a, &r, NULL), CM_OK);
    assert_status(cm__sbuf_own_reap_end(&s.own, a), CM_OK);
    /* Hostile: claims the third too without releasing the second. */
    s.sh[a].c.read = base + 3;
    assert_status(sim_reap(&s, a), CM_ERR_PROTOCOL);
    assert_int_equal(p->state, CM_SBUF_PEER_EVICTED);
    assert_int_equal(s.own.free, 4);
}

/* ---- overflow policies ---- */

static void test_block_policy_loan_waits_while_a_slow_consumer_has_every_slot(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(2, 2, 1, 1, CM_SBUF_BLOCK);
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t fast, slow, cand;
    uint64_t idx;
    assert_status(sim_join(&s, &fast), CM_OK);
    assert_status(sim_join(&s, &slow), CM_OK);
    for (int i = 0; i < 2; i++) {
        struct cm_sbuf_desc d;
        assert_status(sim_send(&s, NULL), CM_OK);
        assert_status(sim_receive(&s, fast, &d, NULL, NULL), CM_OK);
        assert_status(sim_release(&s, fast, d.seq), CM_OK);
    }
    assert_status(sim_send(&s, NULL), CM_ERR_SHOULD_WAIT);
    assert_status(cm__sbuf_own_drop_candidate(&s.own, &cand, &idx), CM_ERR_BAD_STATE);
    struct cm_sbuf_desc d;
    assert_status(sim_receive(&s, slow, &d, NULL, NULL), CM_OK);
    assert_status(sim_release(&s, slow, d.seq), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK);
    assert_int_equal(s.peers[slow].dropped, 0);
}

static void test_drop_oldest_takes_back_the_oldest_unreceived_and_never_waits(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(3, 2, 1, 1, CM_SBUF_DROP_OLDEST);
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t fast, slow;
    assert_status(sim_join(&s, &fast), CM_OK);
    assert_status(sim_join(&s, &slow), CM_OK);
    /* slow holds message 0 and never releases; fast keeps up. */
    uint64_t first;
    struct cm_sbuf_desc d;
    assert_status(sim_send(&s, &first), CM_OK);
    assert_status(sim_receive(&s, slow, &d, NULL, NULL), CM_OK);
    for (int i = 0; i < 50; i++) {
        assert_status(sim_receive(&s, fast, &d, NULL, NULL), CM_OK);
        assert_status(sim_release(&s, fast, d.seq), CM_OK);
        assert_status(sim_send(&s, NULL), CM_OK);
    }
    assert_int_equal(s.evictions, 0);
    assert_true(s.peers[slow].dropped > 40);
    /* slow's next message shows the gap and the count. */
    uint64_t gap;
    int ok;
    assert_status(sim_release(&s, slow, first), CM_OK);
    assert_status(sim_receive(&s, slow, &d, &gap, &ok), CM_OK);
    assert_true(ok);
    assert_int_equal(gap, d.seq - first - 1);
    assert_int_equal(s.cons[slow].dropped, gap);
    assert_int_equal(s.peers[slow].dropped, gap);
}

static void test_drop_candidate_is_the_oldest_message_across_consumers(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(4, 2, 1, 1, CM_SBUF_DROP_OLDEST);
    assert_status(sim_init(&s, &c, UINT64_MAX - 1, 0), CM_OK); /* seqs cross the wrap */
    uint32_t a, b, who;
    uint64_t idx;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(cm__sbuf_own_drop_candidate(&s.own, &who, &idx), CM_ERR_SHOULD_WAIT);
    assert_status(sim_send(&s, NULL), CM_OK); /* seq 2^64-2, only at a */
    assert_status(sim_join(&s, &b), CM_OK);
    assert_status(sim_send(&s, NULL), CM_OK); /* 2^64-1 at a, b */
    assert_status(sim_send(&s, NULL), CM_OK); /* 0 at a, b */
    assert_status(sim_receive(&s, a, NULL, NULL, NULL), CM_OK);
    sim_reap_all(&s);
    /* a's floor has 2^64-1, b's too: the same (oldest pending) message; a first. */
    assert_status(cm__sbuf_own_drop_candidate(&s.own, &who, &idx), CM_OK);
    assert_int_equal(who, a);
    assert_int_equal(s.slots[s.peers[a].ring[cm__sbuf_cell(idx, s.ring)]].seq, UINT64_MAX);
    s.sh[a].c.read = idx + 1;
    int freed = 7;
    assert_status(cm__sbuf_own_dropped(&s.own, a, idx, &freed), CM_OK);
    assert_false(freed); /* still pending at b */
    assert_status(cm__sbuf_own_drop_candidate(&s.own, &who, &idx), CM_OK);
    assert_int_equal(who, b);
    assert_status(cm__sbuf_own_dropped(&s.own, b, idx + 1, &freed), CM_ERR_INVALID_ARGS);
    s.sh[b].c.read = idx + 1;
    assert_status(cm__sbuf_own_dropped(&s.own, b, idx, &freed), CM_OK);
    assert_true(freed);
}

static void test_state_counters_match_a_recount_after_every_step(void **state)
{
    (void)state;
    static struct sim s;
    cm_sbuf_config_t c = sim_cfg(5, 2, 2, 1, CM_SBUF_DROP_OLDEST);
    assert_status(sim_init(&s, &c, 0, 0), CM_OK);
    uint32_t a, b;
    assert_status(sim_join(&s, &a), CM_OK);
    assert_status(sim_join(&s, &b), CM_OK);
    for (int i = 0; i < 200; i++) {
        struct cm_sbuf_desc d;
        if (i % 3 != 2)
            assert_status(sim_send(&s, NULL), CM_OK);
        if (sim_receive(&s, i % 2 ? a : b, &d, NULL, NULL) == CM_OK && i % 5 != 0)
            assert_status(sim_release(&s, i % 2 ? a : b, d.seq), CM_OK);
        if (s.cons[a].held == 2)
            sim_release(&s, a, s.holds[a][0].used ? s.holds[a][0].seq : s.holds[a][1].seq);
        if (s.cons[b].held == 2)
            sim_release(&s, b, s.holds[b][0].used ? s.holds[b][0].seq : s.holds[b][1].seq);
        uint32_t f, l, p;
        cm__sbuf_own_count(&s.own, &f, &l, &p);
        assert_int_equal(f, s.own.free);
        assert_int_equal(l, s.own.loaned);
        assert_int_equal(p, s.own.published);
        assert_int_equal(f + l + p, c.slot_count);
    }
    assert_int_equal(s.evictions, 0);
}

/* The stage-1 argument rules both targets call (core/sbuf_ring.c). */
static void test_loan_and_receive_stage1_args_are_invalid_args(void **state)
{
    (void)state;
    assert_int_equal(cm__sbuf_loan_check_args(1, 0), CM_OK);
    assert_int_equal(cm__sbuf_loan_check_args(1, CM_SBUF_BUSY_POLL), CM_OK);
    assert_int_equal(cm__sbuf_loan_check_args(0, 0), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__sbuf_loan_check_args(1, 2), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__sbuf_loan_check_args(1, ~0u), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__sbuf_receive_check_args(1, CM_SBUF_BUSY_POLL, 0, 0, 5), CM_OK);
    assert_int_equal(cm__sbuf_receive_check_args(1, 0, 1, 0, 0), CM_OK);
    assert_int_equal(cm__sbuf_receive_check_args(1, 0, 1, 0, 1), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__sbuf_receive_check_args(0, 0, 0, 1, 0), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__sbuf_receive_check_args(1, 1u << 31, 0, 1, 0), CM_ERR_INVALID_ARGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_each_malformed_field_is_invalid_args),
        cmocka_unit_test(test_drop_oldest_needs_a_slot_beyond_every_hold_and_loan),
        cmocka_unit_test(test_every_limit_is_out_of_range_one_past_it),
        cmocka_unit_test(test_invalid_args_outranks_out_of_range_and_limits_go_in_field_order),
        cmocka_unit_test(test_layout_rounds_stride_to_a_line_and_rings_to_a_power_of_two),
        cmocka_unit_test(test_loans_stop_at_max_loans_with_no_resources_then_at_empty_pool),
        cmocka_unit_test(test_loan_id_dies_at_publish_and_cancel_and_never_names_another_loan),
        cmocka_unit_test(test_message_larger_than_a_slot_is_out_of_range_and_loan_survives),
        cmocka_unit_test(test_publish_with_no_consumer_frees_the_slot_at_once),
        cmocka_unit_test(test_slot_returns_only_after_the_last_of_two_holders_releases),
        cmocka_unit_test(test_pending_at_one_consumer_keeps_the_slot_after_the_other_releases),
        cmocka_unit_test(test_late_joiner_sees_only_messages_published_after_it_joined),
        cmocka_unit_test(test_leave_releases_what_the_consumer_held_and_had_pending),
        cmocka_unit_test(test_consumers_stop_at_max_consumers_and_evicted_positions_wait_for_leave),
        cmocka_unit_test(test_release_of_a_slot_out_of_range_is_protocol),
        cmocka_unit_test(test_release_with_reserved_bits_is_protocol),
        cmocka_unit_test(test_double_release_is_protocol),
        cmocka_unit_test(test_release_of_a_message_never_received_is_protocol),
        cmocka_unit_test(test_release_of_another_consumers_message_is_protocol),
        cmocka_unit_test(test_release_with_a_forged_sequence_number_is_protocol),
        cmocka_unit_test(test_stale_release_after_the_slot_was_reused_is_protocol),
        cmocka_unit_test(test_read_index_outside_its_window_is_protocol),
        cmocka_unit_test(test_hoarding_past_max_held_is_protocol_but_release_then_receive_is_not),
        cmocka_unit_test(test_block_policy_loan_waits_while_a_slow_consumer_has_every_slot),
        cmocka_unit_test(test_drop_oldest_takes_back_the_oldest_unreceived_and_never_waits),
        cmocka_unit_test(test_drop_candidate_is_the_oldest_message_across_consumers),
        cmocka_unit_test(test_state_counters_match_a_recount_after_every_step),
        cmocka_unit_test(test_loan_and_receive_stage1_args_are_invalid_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
