/* SPDX-License-Identifier: MIT */
/* Channels within one process: messages of bytes plus handles, the named
 * limits, BUFFER_TOO_SMALL leaving the message queued, peer close, waiting,
 * and cm_channel_write consuming the listed handles whatever happens. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/leakcheck.h"
#include "common/vmotag.h"

/* Generous bound for waits whose condition already holds: only a bug makes
 * a wait reach it, and then the test fails instead of hanging. */
#define WAIT_NS (10ll * 1000000000)

static void assert_closed(cm_handle_t h)
{
    cm_handle_info_t info;
    assert_status(cm_handle_get_info(h, &info), CM_ERR_BAD_HANDLE);
}

static void assert_nothing_queued(cm_handle_t ch)
{
    uint8_t b[16];
    uint32_t nb = 99, nh = 99;
    cm_handle_t h[4];
    assert_status(cm_channel_read(ch, b, sizeof(b), &nb, h, 4, &nh), CM_ERR_SHOULD_WAIT);
}

static void test_bytes_and_handles_arrive_in_both_directions(void **state)
{
    (void)state;
    cm_handle_t a, b, v, got[2];
    cm_handle_info_t info;
    char buf[32];
    uint32_t nb = 0, nh = 0;
    uint32_t live = cm_host_live_handles();

    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_get_info(a, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);

    v = tagged_vmo(0x5a);
    assert_status(cm_channel_write(a, "hello", 5, &v, 1), CM_OK);
    assert_closed(v); /* sent handles leave the sender */
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 2, &nh), CM_OK);
    assert_int_equal(nb, 5);
    assert_int_equal(nh, 1);
    assert_memory_equal(buf, "hello", 5);
    assert_status(cm_handle_get_info(got[0], &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_VMO);
    assert_int_equal(tag_of(got[0]), 0x5a);

    /* Back the other way, carrying the same object again. */
    assert_status(cm_channel_write(b, "back", 4, got, 1), CM_OK);
    assert_status(cm_channel_read(a, buf, sizeof(buf), &nb, got + 1, 1, &nh), CM_OK);
    assert_int_equal(nb, 4);
    assert_int_equal(nh, 1);
    assert_memory_equal(buf, "back", 4);
    assert_int_equal(tag_of(got[1]), 0x5a);

    assert_status(cm_handle_close(got[1]), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
    assert_int_equal(cm_host_live_handles(), live);
}

static void test_messages_arrive_in_order_one_per_read(void **state)
{
    (void)state;
    cm_handle_t a, b;
    uint32_t nb, nh;
    char buf[8];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    for (char c = '0'; c <= '9'; c++)
        assert_status(cm_channel_write(a, &c, 1, NULL, 0), CM_OK);
    for (char c = '0'; c <= '9'; c++) {
        assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
        assert_int_equal(nb, 1);
        assert_int_equal(nh, 0);
        assert_int_equal(buf[0], c);
    }
    assert_nothing_queued(b);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_zero_byte_message_is_one_message(void **state)
{
    (void)state;
    cm_handle_t a, b;
    uint32_t nb = 99, nh = 99;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, NULL, 0, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(b, NULL, 0, &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 0);
    assert_int_equal(nh, 0);
    /* It was delivered, not mistaken for the peer closing. */
    assert_nothing_queued(b);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_OK);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_max_bytes_is_ok_and_one_more_is_out_of_range(void **state)
{
    (void)state;
    cm_handle_t a, b;
    uint32_t nb = 0, nh = 0;
    uint8_t *out = malloc(CM_CHANNEL_MAX_BYTES + 1);
    uint8_t *in = malloc(CM_CHANNEL_MAX_BYTES + 1);
    assert_non_null(out);
    assert_non_null(in);
    for (uint32_t i = 0; i <= CM_CHANNEL_MAX_BYTES; i++)
        out[i] = (uint8_t)(i * 7 + (i >> 8));
    assert_status(cm_channel_create(0, &a, &b), CM_OK);

    assert_status(cm_channel_write(a, out, CM_CHANNEL_MAX_BYTES, NULL, 0), CM_OK);
    memset(in, 0, CM_CHANNEL_MAX_BYTES + 1);
    assert_status(cm_channel_read(b, in, CM_CHANNEL_MAX_BYTES + 1, &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, CM_CHANNEL_MAX_BYTES);
    assert_memory_equal(in, out, CM_CHANNEL_MAX_BYTES);

    assert_status(cm_channel_write(a, out, CM_CHANNEL_MAX_BYTES + 1, NULL, 0),
                  CM_ERR_OUT_OF_RANGE);
    assert_nothing_queued(b);
    cm_handle_close(a);
    cm_handle_close(b);
    free(out);
    free(in);
}

static void test_max_handles_is_ok_and_one_more_is_out_of_range_consuming_all(void **state)
{
    (void)state;
    enum { N = CM_CHANNEL_MAX_HANDLES };
    cm_handle_t a, b, vs[N + 1], got[N + 1];
    uint32_t nb = 0, nh = 0;
    uint32_t live;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    live = cm_host_live_handles();

    for (uint32_t i = 0; i < N; i++)
        vs[i] = tagged_vmo((uint8_t)i);
    assert_status(cm_channel_write(a, "max", 3, vs, N), CM_OK);
    assert_int_equal(cm_host_live_handles(), live);
    assert_status(cm_channel_read(b, NULL, 0, &nb, NULL, 0, &nh), CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(nh, N);
    char buf[4];
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, N + 1, &nh), CM_OK);
    assert_int_equal(nh, N);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(tag_of(got[i]), (uint8_t)i); /* order preserved */
        cm_handle_close(got[i]);
    }

    for (uint32_t i = 0; i < N + 1; i++)
        vs[i] = tagged_vmo((uint8_t)i);
    assert_status(cm_channel_write(a, "over", 4, vs, N + 1), CM_ERR_OUT_OF_RANGE);
    for (uint32_t i = 0; i < N + 1; i++)
        assert_closed(vs[i]);
    assert_int_equal(cm_host_live_handles(), live);
    assert_nothing_queued(b);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* A wait that finds a record queued keeps its peek for the next read
 * (host/channel.c, wait_peek): that read delivers exactly the head record,
 * a read whose buffer is too small leaves it queued, a second wait or a
 * close with the peek unread leaves no fd behind (LEAK_TEST), and records
 * still come one per read, in order. */
static void test_wait_peek_is_the_head_record_and_leaks_nothing_unread(void **state)
{
    (void)state;
    cm_handle_t a, b, v, got;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    for (uint8_t tag = 1; tag <= 3; tag++) {
        v = tagged_vmo(tag);
        assert_status(cm_channel_write(a, &tag, 1, &v, 1), CM_OK);
    }
    /* Twice: the second wait drops the first one's peek. */
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 0, &nh),
                  CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(nh, 1);
    for (uint8_t tag = 1; tag <= 2; tag++) {
        if (tag == 1) /* the second read has no wait: it peeks itself */
            assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
        assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
        assert_int_equal(nb, 1);
        assert_int_equal(nh, 1);
        assert_int_equal((uint8_t)buf[0], tag);
        assert_int_equal(tag_of(got), tag);
        assert_status(cm_handle_close(got), CM_OK);
    }
    /* The third stays peeked by a wait and unread when its end closes. */
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
}

static void test_buffer_too_small_reports_sizes_and_leaves_message_queued(void **state)
{
    (void)state;
    cm_handle_t a, b, vs[2], got[2];
    uint8_t msg[100], buf[100];
    uint32_t nb = 0, nh = 0;
    for (uint32_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(0xa0 ^ i);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    vs[0] = tagged_vmo(1);
    vs[1] = tagged_vmo(2);
    assert_status(cm_channel_write(a, msg, sizeof(msg), vs, 2), CM_OK);
    assert_status(cm_channel_write(a, "next", 4, NULL, 0), CM_OK);
    uint32_t live = cm_host_live_handles();

    assert_status(cm_channel_read(b, buf, 10, &nb, got, 2, &nh), CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(nb, sizeof(msg));
    assert_int_equal(nh, 2);
    nb = nh = 0;
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 1, &nh),
                  CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(nb, sizeof(msg));
    assert_int_equal(nh, 2);
    assert_status(cm_channel_read(b, NULL, 0, NULL, NULL, 0, NULL), CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(cm_host_live_handles(), live); /* nothing installed yet */
    assert_status(cm_channel_wait_readable(b, 0), CM_OK);

    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 2, &nh), CM_OK);
    assert_int_equal(nb, sizeof(msg));
    assert_int_equal(nh, 2);
    assert_memory_equal(buf, msg, sizeof(msg));
    assert_int_equal(tag_of(got[0]), 1);
    assert_int_equal(tag_of(got[1]), 2);
    /* The message after it was not disturbed. */
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 4);
    assert_memory_equal(buf, "next", 4);
    cm_handle_close(got[0]);
    cm_handle_close(got[1]);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_message_left_queued_by_buffer_too_small_is_freed_with_the_channel(void **state)
{
    (void)state;
    cm_handle_t a, b, v;
    uint32_t nb, nh;
    uint32_t live = cm_host_live_handles();
    int fds = count_open_fds();
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    v = tagged_vmo(3);
    assert_status(cm_channel_write(a, "z", 1, &v, 1), CM_OK);
    assert_status(cm_channel_read(b, NULL, 0, &nb, NULL, 0, &nh), CM_ERR_BUFFER_TOO_SMALL);
    assert_status(cm_handle_close(b), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_int_equal(count_open_fds(), fds);
    assert_int_equal(cm_host_live_handles(), live);
}

static void test_read_on_empty_channel_should_wait(void **state)
{
    (void)state;
    cm_handle_t a, b;
    uint32_t nb = 7, nh = 7;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    assert_status(cm_channel_read(a, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_peer_closed_fails_read_and_write_with_peer_closed(void **state)
{
    (void)state;
    cm_handle_t a, b, v;
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_ERR_PEER_CLOSED);
    /* Even a failed write to a closed peer consumes what it carried. */
    v = tagged_vmo(4);
    assert_status(cm_channel_write(b, "x", 1, &v, 1), CM_ERR_PEER_CLOSED);
    assert_closed(v);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_ERR_PEER_CLOSED);
    cm_handle_close(b);
}

static void test_queued_messages_stay_readable_after_peer_closed(void **state)
{
    (void)state;
    cm_handle_t a, b, v, got;
    uint32_t nb, nh;
    char buf[8];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "one", 3, NULL, 0), CM_OK);
    v = tagged_vmo(9);
    assert_status(cm_channel_write(a, "two", 3, &v, 1), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);

    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "one", 3);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_memory_equal(buf, "two", 3);
    assert_int_equal(nh, 1);
    assert_int_equal(tag_of(got), 9);
    cm_handle_close(got);

    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    cm_handle_close(b);
}

static void test_wait_readable_times_out_sees_message_then_peer_closed(void **state)
{
    (void)state;
    cm_handle_t a, b;
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_wait_readable(b, 0), CM_ERR_TIMED_OUT);
    assert_status(cm_channel_wait_readable(b, 1000000), CM_ERR_TIMED_OUT);
    assert_status(cm_channel_write(a, "m", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_wait_readable(b, 0), CM_OK); /* waiting does not consume */
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_status(cm_channel_wait_readable(b, 0), CM_ERR_TIMED_OUT);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_ERR_PEER_CLOSED);
    cm_handle_close(b);
}

static void test_write_to_bad_channel_handle_consumes_listed_handles(void **state)
{
    (void)state;
    cm_handle_t a, b, vs[2];
    uint32_t live = cm_host_live_handles();
    vs[0] = tagged_vmo(1);
    vs[1] = tagged_vmo(2);
    assert_status(cm_channel_write(0x7fff1234u, "x", 1, vs, 2), CM_ERR_BAD_HANDLE);
    assert_closed(vs[0]);
    assert_closed(vs[1]);
    assert_int_equal(cm_host_live_handles(), live);

    /* A closed (stale) channel handle behaves the same. */
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    cm_handle_close(a);
    vs[0] = tagged_vmo(3);
    assert_status(cm_channel_write(a, "x", 1, vs, 1), CM_ERR_BAD_HANDLE);
    assert_closed(vs[0]);
    cm_handle_close(b);
    assert_int_equal(cm_host_live_handles(), live);
}

static void test_write_without_write_right_is_denied_and_consumes_handles(void **state)
{
    (void)state;
    cm_handle_t a, b, ro, v;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(a, CM_RIGHT_READ | CM_RIGHT_TRANSFER, &ro), CM_OK);
    v = tagged_vmo(5);
    assert_status(cm_channel_write(ro, "x", 1, &v, 1), CM_ERR_ACCESS_DENIED);
    assert_closed(v);
    assert_nothing_queued(b);
    /* The handle with WRITE still writes: the refusal was the right's. */
    assert_status(cm_channel_write(a, "y", 1, NULL, 0), CM_OK);
    cm_handle_close(ro);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_handle_without_transfer_denies_the_write_and_all_are_consumed(void **state)
{
    (void)state;
    cm_handle_t a, b, vs[3], plain;
    uint32_t live;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    live = cm_host_live_handles();
    vs[0] = tagged_vmo(1);
    plain = tagged_vmo(2);
    assert_status(cm_handle_replace(plain, CM_VMO_DEFAULT_RIGHTS & ~CM_RIGHT_TRANSFER, &vs[1]),
                  CM_OK);
    vs[2] = tagged_vmo(3);
    assert_status(cm_channel_write(a, "x", 1, vs, 3), CM_ERR_ACCESS_DENIED);
    for (int i = 0; i < 3; i++)
        assert_closed(vs[i]);
    assert_int_equal(cm_host_live_handles(), live);
    assert_nothing_queued(b);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_duplicate_handle_in_list_is_invalid_args_and_consumed(void **state)
{
    (void)state;
    cm_handle_t a, b, vs[3];
    uint32_t live;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    live = cm_host_live_handles();
    vs[0] = tagged_vmo(1);
    vs[1] = tagged_vmo(2);
    vs[2] = vs[0];
    assert_status(cm_channel_write(a, "x", 1, vs, 3), CM_ERR_INVALID_ARGS);
    assert_closed(vs[0]);
    assert_closed(vs[1]);
    assert_int_equal(cm_host_live_handles(), live);
    assert_nothing_queued(b);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_channel_listed_in_its_own_write_is_invalid_and_stays_open(void **state)
{
    (void)state;
    cm_handle_t a, b, vs[2];
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    vs[0] = tagged_vmo(1);
    vs[1] = a;
    assert_status(cm_channel_write(a, "x", 1, vs, 2), CM_ERR_INVALID_ARGS);
    assert_closed(vs[0]);
    assert_nothing_queued(b);
    assert_status(cm_channel_write(a, "ok", 2, NULL, 0), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "ok", 2);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_channel_calls_on_a_vmo_are_wrong_type(void **state)
{
    (void)state;
    cm_handle_t v = tagged_vmo(1), other = tagged_vmo(2);
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_write(v, "x", 1, &other, 1), CM_ERR_WRONG_TYPE);
    assert_closed(other);
    assert_status(cm_channel_read(v, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_WRONG_TYPE);
    assert_status(cm_channel_wait_readable(v, 0), CM_ERR_WRONG_TYPE);
    assert_int_equal(tag_of(v), 1); /* untouched */
    cm_handle_close(v);
    assert_status(cm_channel_read(v, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_wait_readable(v, 0), CM_ERR_BAD_HANDLE);
}

static void test_null_pointer_arguments_are_invalid_args(void **state)
{
    (void)state;
    cm_handle_t a, b, v;
    uint32_t nb, nh;
    cm_handle_t h;
    assert_status(cm_channel_create(0, NULL, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_channel_create(0, &a, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_channel_create(1, &a, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);

    assert_status(cm_channel_write(a, NULL, 5, NULL, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm_channel_write(a, "x", 1, NULL, 1), CM_ERR_INVALID_ARGS);
    v = tagged_vmo(1);
    assert_status(cm_channel_write(a, NULL, 5, &v, 1), CM_ERR_INVALID_ARGS);
    assert_closed(v);
    assert_nothing_queued(b);

    assert_status(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_read(b, NULL, 4, &nb, NULL, 0, &nh), CM_ERR_INVALID_ARGS);
    assert_status(cm_channel_read(b, NULL, 0, &nb, NULL, 1, &nh), CM_ERR_INVALID_ARGS);
    /* The invalid reads took nothing: the message is still there. */
    char buf[4];
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &h, 1, &nh), CM_OK);
    assert_int_equal(nb, 1);
    assert_int_equal(nh, 0);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_channel_end_sent_over_a_channel_still_connects_to_its_peer(void **state)
{
    (void)state;
    cm_handle_t a0, a1, b0, b1, got;
    cm_handle_info_t info;
    uint32_t nb, nh;
    char buf[8];
    assert_status(cm_channel_create(0, &a0, &a1), CM_OK);
    assert_status(cm_channel_create(0, &b0, &b1), CM_OK);
    assert_status(cm_channel_write(a0, "end", 3, &b1, 1), CM_OK);
    assert_closed(b1);
    assert_status(cm_channel_read(a1, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    assert_status(cm_handle_get_info(got, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);

    assert_status(cm_channel_write(b0, "ping", 4, NULL, 0), CM_OK);
    assert_status(cm_channel_read(got, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "ping", 4);
    assert_status(cm_channel_write(got, "pong", 4, NULL, 0), CM_OK);
    assert_status(cm_channel_read(b0, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "pong", 4);

    /* The received handle is the only holder of that end: closing it is
     * what b0 sees as its peer closing. */
    assert_status(cm_handle_close(got), CM_OK);
    assert_status(cm_channel_wait_readable(b0, WAIT_NS), CM_ERR_PEER_CLOSED);
    cm_handle_close(b0);
    cm_handle_close(a0);
    cm_handle_close(a1);
}

static void test_channel_end_sent_with_fewer_rights_arrives_with_those_rights(void **state)
{
    (void)state;
    cm_handle_t a0, a1, b0, b1, weak, got;
    cm_handle_info_t info;
    uint32_t nb, nh;
    char buf[8];
    assert_status(cm_channel_create(0, &a0, &a1), CM_OK);
    assert_status(cm_channel_create(0, &b0, &b1), CM_OK);
    assert_status(cm_handle_replace(b1, CM_RIGHT_READ | CM_RIGHT_TRANSFER, &weak), CM_OK);
    assert_status(cm_channel_write(a0, "w", 1, &weak, 1), CM_OK);
    assert_status(cm_channel_read(a1, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_status(cm_handle_get_info(got, &info), CM_OK);
    assert_int_equal(info.rights, CM_RIGHT_READ | CM_RIGHT_TRANSFER);
    assert_status(cm_channel_write(got, "x", 1, NULL, 0), CM_ERR_ACCESS_DENIED);
    assert_status(cm_channel_write(b0, "y", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_read(got, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], 'y');
    cm_handle_close(got);
    cm_handle_close(b0);
    cm_handle_close(a0);
    cm_handle_close(a1);
}

static void test_channel_handle_without_read_cannot_read(void **state)
{
    (void)state;
    cm_handle_t a, b, wo;
    uint32_t nb = 0, nh = 0;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(b, CM_RIGHT_WRITE, &wo), CM_OK);
    assert_status(cm_channel_write(a, "r", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_read(wo, buf, sizeof(buf), &nb, NULL, 0, &nh),
                  CM_ERR_ACCESS_DENIED);
    assert_status(cm_channel_write(wo, "w", 1, NULL, 0), CM_OK);
    /* The denied read left the message for a handle that may read it. */
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], 'r');
    assert_status(cm_channel_read(a, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], 'w');
    cm_handle_close(wo);
    cm_handle_close(a);
    cm_handle_close(b);
}

int main(void)
{
    alarm(300); /* nothing here may hang the suite */
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_bytes_and_handles_arrive_in_both_directions),
        LEAK_TEST(test_messages_arrive_in_order_one_per_read),
        LEAK_TEST(test_zero_byte_message_is_one_message),
        LEAK_TEST(test_max_bytes_is_ok_and_one_more_is_out_of_range),
        LEAK_TEST(test_max_handles_is_ok_and_one_more_is_out_of_range_consuming_all),
        LEAK_TEST(test_buffer_too_small_reports_sizes_and_leaves_message_queued),
        LEAK_TEST(test_wait_peek_is_the_head_record_and_leaks_nothing_unread),
        LEAK_TEST(test_message_left_queued_by_buffer_too_small_is_freed_with_the_channel),
        LEAK_TEST(test_read_on_empty_channel_should_wait),
        LEAK_TEST(test_peer_closed_fails_read_and_write_with_peer_closed),
        LEAK_TEST(test_queued_messages_stay_readable_after_peer_closed),
        LEAK_TEST(test_wait_readable_times_out_sees_message_then_peer_closed),
        LEAK_TEST(test_write_to_bad_channel_handle_consumes_listed_handles),
        LEAK_TEST(test_write_without_write_right_is_denied_and_consumes_handles),
        LEAK_TEST(test_handle_without_transfer_denies_the_write_and_all_are_consumed),
        LEAK_TEST(test_duplicate_handle_in_list_is_invalid_args_and_consumed),
        LEAK_TEST(test_channel_listed_in_its_own_write_is_invalid_and_stays_open),
        LEAK_TEST(test_channel_calls_on_a_vmo_are_wrong_type),
        LEAK_TEST(test_null_pointer_arguments_are_invalid_args),
        LEAK_TEST(test_channel_end_sent_over_a_channel_still_connects_to_its_peer),
        LEAK_TEST(test_channel_end_sent_with_fewer_rights_arrives_with_those_rights),
        LEAK_TEST(test_channel_handle_without_read_cannot_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
