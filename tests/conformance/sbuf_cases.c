/* SPDX-License-Identifier: MIT */
/* SharedBuffer semantics (include/capmem/sbuf.h), the same on both
 * targets: configuration checks in their documented order, each limit's
 * typed error, order across the ring wrap, full and empty, fan-out, late
 * join, both overflow policies, the producer leaving, a consumer leaving,
 * rights, and the get_info counters. */
#include <string.h>

#include <capmem/sbuf.h>

#include "harness.h"
#include "sbuf_cases.h"

static cm_sbuf_config_t cfg_of(uint32_t slots, uint32_t size, uint32_t consumers,
                               uint32_t held, uint32_t loans, uint32_t policy)
{
    cm_sbuf_config_t c = { slots, size, consumers, held, loans, policy, 0, 0 };
    return c;
}

static int send_one(cm_handle_t b, uint8_t tag, uint32_t len, uint64_t *seq)
{
    cm_sbuf_loan_t l;
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    CHECK(l.data != NULL && l.capacity >= len);
    memset(l.data, tag, len);
    CHECK_ST(cm_sbuf_publish(b, l.id, len, seq), CM_OK);
    return 0;
}

/* Receives the next message and checks its seq, length and bytes. */
static int expect_msg(cm_handle_t c, uint64_t seq, uint8_t tag, uint32_t len, int release)
{
    cm_sbuf_msg_t m;
    CHECK_ST(cm_sbuf_receive(c, 0, 0, &m), CM_OK);
    CHECK(m.seq == seq && m.len == len && m.dropped == 0);
    for (uint32_t i = 0; i < len; i++)
        CHECK(((const uint8_t *)m.data)[i] == tag);
    if (release)
        CHECK_ST(cm_sbuf_release(c, m.seq), CM_OK);
    return 0;
}

int test_sbuf_create_checks_config_in_order(void)
{
    cm_handle_t b;
    cm_sbuf_config_t c = cfg_of(4, 64, 2, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(NULL, &b), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_create(&c, NULL), CM_ERR_INVALID_ARGS);
    cm_sbuf_config_t bad = c;
    bad.options = 1;
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    bad = c;
    bad.reserved = 1;
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    bad = c;
    bad.policy = 3;
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    bad = c;
    bad.slot_size = 0;
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    bad = c;
    bad.max_held = 5;
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    /* DROP_OLDEST needs slot_count >= max_consumers * max_held + max_loans. */
    bad = cfg_of(4, 64, 2, 2, 1, CM_SBUF_DROP_OLDEST);
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    /* INVALID_ARGS before OUT_OF_RANGE. */
    bad = cfg_of(CM_SBUF_MAX_SLOTS + 1, 64, 1, 1, 1, 0);
    CHECK_ST(cm_sbuf_create(&bad, &b), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    cm_sbuf_info_t info;
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(memcmp(&info.config, &c, sizeof(c)) == 0);
    CHECK(info.free == 4 && info.loaned == 0 && info.published == 0 && info.self == UINT32_MAX);
    cm_handle_info_t hi;
    CHECK_ST(cm_handle_get_info(b, &hi), CM_OK);
    CHECK(hi.type == CM_OBJ_SBUF && hi.rights == CM_SBUF_DEFAULT_RIGHTS);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_each_limit_has_its_typed_error(void)
{
    cm_handle_t b;
    cm_sbuf_config_t c = cfg_of(CM_SBUF_MAX_SLOTS + 1, 64, 1, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_ERR_OUT_OF_RANGE);
    c = cfg_of(2, CM_SBUF_MAX_SLOT_SIZE + 1, 1, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_ERR_OUT_OF_RANGE);
    c = cfg_of(2, 64, CM_SBUF_MAX_CONSUMERS + 1, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_ERR_OUT_OF_RANGE);
    c = cfg_of(CM_SBUF_MAX_LOANS + 1, 64, 1, 1, CM_SBUF_MAX_LOANS + 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_ERR_OUT_OF_RANGE);
    /* 17 slots of 16 MiB: past CM_SBUF_MAX_DATA_SIZE (256 MiB). */
    c = cfg_of(17, CM_SBUF_MAX_SLOT_SIZE, 1, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_ERR_OUT_OF_RANGE);
    /* max_consumers consumers, then NO_RESOURCES. */
    c = cfg_of(2, 64, 2, 1, 1, CM_SBUF_BLOCK);
    cm_handle_t k[3];
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k[0]), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k[1]), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k[2]), CM_ERR_NO_RESOURCES);
    /* max_held: the second receive without a release. */
    uint64_t s;
    cm_sbuf_msg_t m;
    CHECK(send_one(b, 1, 8, &s) == 0);
    CHECK(send_one(b, 2, 8, &s) == 0);
    CHECK_ST(cm_sbuf_receive(k[0], 0, 0, &m), CM_OK);
    CHECK_ST(cm_sbuf_receive(k[0], 0, 0, &m), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_handle_close(k[0]), CM_OK);
    CHECK_ST(cm_handle_close(k[1]), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_order_and_content_across_ring_wrap(void)
{
    cm_handle_t b, k;
    cm_sbuf_config_t c = cfg_of(3, 100, 1, 3, 3, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    uint64_t next = 0, seq;
    for (uint32_t round = 0; round < 5; round++) {
        for (uint32_t i = 0; i < 3; i++) {
            CHECK(send_one(b, (uint8_t)(round * 3 + i), 10 + i * 40, &seq) == 0);
            if (round == 0 && i == 0)
                next = seq;
            CHECK(seq == next + round * 3 + i);
        }
        for (uint32_t i = 0; i < 3; i++)
            CHECK(expect_msg(k, next + round * 3 + i, (uint8_t)(round * 3 + i), 10 + i * 40, 1) == 0);
    }
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_full_and_empty(void)
{
    cm_handle_t b, k;
    cm_sbuf_msg_t m;
    cm_sbuf_loan_t l;
    uint64_t seq;
    cm_sbuf_config_t c = cfg_of(2, 64, 1, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    CHECK(send_one(b, 7, 4, &seq) == 0);
    CHECK(send_one(b, 8, 4, &seq) == 0);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_ERR_SHOULD_WAIT);
    CHECK(expect_msg(k, seq - 1, 7, 4, 1) == 0);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    CHECK_ST(cm_sbuf_cancel(b, l.id), CM_OK);
    CHECK(expect_msg(k, seq, 8, 4, 1) == 0);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_sbuf_receive(k, 0, 1000000, &m), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_fan_out_slot_returns_after_last_release(void)
{
    cm_handle_t b, k1, k2;
    cm_sbuf_loan_t l;
    uint64_t seq;
    cm_sbuf_config_t c = cfg_of(1, 64, 2, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k1), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k2), CM_OK);
    CHECK(send_one(b, 5, 16, &seq) == 0);
    CHECK(expect_msg(k1, seq, 5, 16, 0) == 0);
    CHECK(expect_msg(k2, seq, 5, 16, 0) == 0);
    CHECK_ST(cm_sbuf_release(k1, seq), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_sbuf_release(k2, seq), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    CHECK_ST(cm_sbuf_cancel(b, l.id), CM_OK);
    CHECK_ST(cm_handle_close(k1), CM_OK);
    CHECK_ST(cm_handle_close(k2), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_late_joiner_sees_only_later_messages(void)
{
    cm_handle_t b, k1, k2;
    uint64_t s0, s1;
    cm_sbuf_msg_t m;
    cm_sbuf_config_t c = cfg_of(4, 64, 2, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k1), CM_OK);
    CHECK(send_one(b, 1, 8, &s0) == 0);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k2), CM_OK);
    CHECK(send_one(b, 2, 8, &s1) == 0);
    CHECK(expect_msg(k2, s1, 2, 8, 1) == 0);
    CHECK_ST(cm_sbuf_receive(k2, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    CHECK(expect_msg(k1, s0, 1, 8, 1) == 0);
    CHECK(expect_msg(k1, s1, 2, 8, 1) == 0);
    CHECK_ST(cm_handle_close(k1), CM_OK);
    CHECK_ST(cm_handle_close(k2), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_drop_oldest_gap_and_dropped_count(void)
{
    cm_handle_t b, k;
    uint64_t first = 0, seq;
    cm_sbuf_msg_t m;
    cm_sbuf_info_t info;
    cm_sbuf_config_t c = cfg_of(3, 64, 1, 1, 1, CM_SBUF_DROP_OLDEST);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    /* Five publishes into three slots, nothing received: the two oldest
     * are taken back; loans never wait. */
    for (uint32_t i = 0; i < 5; i++) {
        CHECK(send_one(b, (uint8_t)i, 8, &seq) == 0);
        if (i == 0)
            first = seq;
    }
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK(m.seq == first + 2 && m.dropped == 2 && ((const uint8_t *)m.data)[0] == 2);
    CHECK_ST(cm_sbuf_release(k, m.seq), CM_OK);
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.consumers[0].dropped == 2 && info.consumers[0].received == 1);
    CHECK_ST(cm_sbuf_get_info(k, &info), CM_OK);
    CHECK(info.consumers[info.self].dropped == 2);
    CHECK(expect_msg(k, first + 3, 3, 8, 1) == 0);
    CHECK(expect_msg(k, first + 4, 4, 8, 1) == 0);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_block_loan_should_wait_timed_out_and_loan_limit(void)
{
    cm_handle_t b, k;
    cm_sbuf_loan_t l1, l2, l3;
    uint64_t seq;
    cm_sbuf_config_t c = cfg_of(3, 64, 1, 1, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l1), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l2), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l3), CM_ERR_NO_RESOURCES); /* max_loans */
    CHECK_ST(cm_sbuf_publish(b, l1.id, 1, &seq), CM_OK);
    CHECK_ST(cm_sbuf_publish(b, l2.id, 1, &seq), CM_OK);
    CHECK(send_one(b, 3, 1, &seq) == 0);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l3), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_sbuf_loan(b, 0, 2000000, &l3), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_sbuf_loan(b, CM_SBUF_BUSY_POLL, 1000000, &l3), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_sbuf_loan(b, 0, -2, &l3), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_loan(b, 4, 0, &l3), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(k), CM_OK); /* leaving frees everything it had */
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l3), CM_OK);
    CHECK_ST(cm_sbuf_cancel(b, l3.id), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_producer_closed_drain_then_peer_closed(void)
{
    cm_handle_t b, k;
    uint64_t s1, s2;
    cm_sbuf_msg_t m;
    char buf[16];
    cm_sbuf_config_t c = cfg_of(4, 64, 1, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK(send_one(b, 9, 5, &s1) == 0);
    CHECK(send_one(b, 10, 6, &s2) == 0);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK(expect_msg(k, s1, 9, 5, 1) == 0);
    CHECK_ST(cm_sbuf_receive_copy(k, 0, 0, buf, sizeof(buf), &m), CM_OK);
    CHECK(m.seq == s2 && m.len == 6 && m.data == NULL && buf[0] == 10);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_sbuf_receive(k, 0, CM_TIMEOUT_INFINITE, &m), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_handle_close(k), CM_OK);
    return 0;
}

int test_sbuf_consumer_close_reclaims_its_slots(void)
{
    cm_handle_t b, k1, k2;
    uint64_t seq;
    cm_sbuf_info_t info;
    cm_sbuf_msg_t m;
    cm_sbuf_config_t c = cfg_of(2, 64, 2, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k1), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k2), CM_OK);
    CHECK(send_one(b, 1, 4, &seq) == 0);
    CHECK(send_one(b, 2, 4, &seq) == 0);
    CHECK_ST(cm_sbuf_receive(k1, 0, 0, &m), CM_OK); /* held by k1 */
    CHECK(expect_msg(k2, seq - 1, 1, 4, 1) == 0);
    CHECK(expect_msg(k2, seq, 2, 4, 1) == 0);
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.free == 0 && info.consumers[0].held == 1 && info.consumers[0].pending == 1);
    CHECK_ST(cm_handle_close(k1), CM_OK);
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.free == 2 && info.consumers[0].state == CM_SBUF_CONSUMER_ABSENT);
    CHECK_ST(cm_handle_close(k2), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_rights_map_and_write(void)
{
    cm_handle_t b, ro, k, k2;
    cm_sbuf_loan_t l;
    cm_sbuf_msg_t m;
    uint64_t seq;
    char buf[8];
    cm_sbuf_config_t c = cfg_of(2, 64, 2, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHT_WRITE, &k), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHT_READ, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHT_READ, &k), CM_OK);
    cm_handle_info_t hi;
    CHECK_ST(cm_handle_get_info(k, &hi), CM_OK);
    CHECK(hi.type == CM_OBJ_SBUF_CONSUMER && hi.rights == CM_RIGHT_READ);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k2), CM_OK);
    CHECK_ST(cm_handle_get_info(k2, &hi), CM_OK);
    CHECK(hi.rights == CM_SBUF_CONSUMER_DEFAULT_RIGHTS);
    CHECK_ST(cm_handle_duplicate(k2, CM_RIGHTS_SAME, &ro), CM_ERR_ACCESS_DENIED);
    CHECK(send_one(b, 4, 3, &seq) == 0);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_ERR_ACCESS_DENIED); /* no MAP */
    CHECK_ST(cm_sbuf_receive_copy(k, 0, 0, buf, sizeof(buf), &m), CM_OK);
    CHECK(m.seq == seq && m.len == 3 && buf[0] == 4 && buf[2] == 4);
    CHECK(expect_msg(k2, seq, 4, 3, 1) == 0);
    /* A buffer handle without WRITE loans nothing; without READ mints no
     * consumer. */
    CHECK_ST(cm_handle_duplicate(b, CM_RIGHT_READ, &ro), CM_OK);
    CHECK_ST(cm_sbuf_loan(ro, 0, 0, &l), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_sbuf_consumer_create(k, CM_RIGHTS_SAME, &k2), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_duplicate(b, CM_RIGHT_WRITE, &ro), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(ro, CM_RIGHTS_SAME, &k2), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_sbuf_receive(b, 0, 0, &m), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(k2), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_publish_len_and_dead_loan_ids(void)
{
    cm_handle_t b, b2;
    cm_sbuf_loan_t l, l2;
    uint64_t seq;
    cm_sbuf_config_t c = cfg_of(2, 64, 1, 1, 1, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &b2), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    CHECK(l.capacity == 64);
    CHECK_ST(cm_sbuf_publish(b, l.id, 65, &seq), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_sbuf_loan(b2, 0, 0, &l2), CM_OK);
    CHECK_ST(cm_sbuf_publish(b2, l.id + (1ull << 32), 1, &seq), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_sbuf_publish(b, l.id, 64, &seq), CM_OK); /* the loan stayed valid */
    CHECK_ST(cm_sbuf_publish(b, l.id, 1, &seq), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_sbuf_cancel(b, l.id), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_sbuf_cancel(b2, l2.id), CM_OK);
    CHECK_ST(cm_sbuf_cancel(b2, l2.id), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_sbuf_publish(CM_HANDLE_INVALID, l.id, 1, &seq), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(b2), CM_OK);
    return 0;
}

int test_sbuf_get_info_counters(void)
{
    cm_handle_t b, k;
    cm_sbuf_info_t info;
    cm_sbuf_msg_t m;
    cm_sbuf_loan_t l;
    uint64_t seq;
    cm_sbuf_config_t c = cfg_of(4, 64, 1, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_sbuf_get_info(b, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_get_info(CM_HANDLE_INVALID, &info), CM_ERR_BAD_HANDLE);
    for (uint32_t i = 0; i < 3; i++)
        CHECK(send_one(b, 1, 1, &seq) == 0);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK_ST(cm_sbuf_release(k, m.seq), CM_OK);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.free == 1 && info.loaned == 1 && info.published == 2);
    CHECK(info.next_seq == seq + 1 && info.self == UINT32_MAX);
    const cm_sbuf_consumer_info_t *ci = &info.consumers[0];
    CHECK(ci->state == CM_SBUF_CONSUMER_ACTIVE && ci->held == 1 && ci->pending == 1);
    CHECK(ci->received == 2 && ci->released == 1 && ci->dropped == 0);
    CHECK(info.consumers[1].state == CM_SBUF_CONSUMER_ABSENT);
    CHECK_ST(cm_sbuf_get_info(k, &info), CM_OK);
    CHECK(info.self == 0 && info.consumers[0].held == 1 && info.consumers[0].pending == 1);
    CHECK(info.consumers[0].received == 2 && info.consumers[0].released == 1);
    CHECK(memcmp(&info.config, &c, sizeof(c)) == 0);
    CHECK_ST(cm_sbuf_cancel(b, l.id), CM_OK);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_sbuf_release_errors(void)
{
    cm_handle_t b, k, v;
    cm_sbuf_msg_t m;
    uint64_t seq;
    cm_sbuf_config_t c = cfg_of(2, 64, 1, 2, 2, CM_SBUF_BLOCK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK(send_one(b, 1, 1, &seq) == 0);
    CHECK_ST(cm_sbuf_release(k, seq), CM_ERR_BAD_STATE); /* not received */
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK_ST(cm_sbuf_release(k, seq + 1), CM_ERR_BAD_STATE);
    CHECK_ST(cm_sbuf_release(k, seq), CM_OK);
    CHECK_ST(cm_sbuf_release(k, seq), CM_ERR_BAD_STATE); /* twice */
    CHECK_ST(cm_sbuf_release(CM_HANDLE_INVALID, seq), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_sbuf_release(b, seq), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    CHECK_ST(cm_sbuf_release(v, seq), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_receive(k, 8, 0, &m), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_receive(k, 0, -5, &m), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_sbuf_receive_copy(k, 0, 0, NULL, 4, &m), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}
