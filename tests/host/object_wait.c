/* SPDX-License-Identifier: MIT */
/* cm_object_wait_one / cm_object_wait_many with threads (host only; the
 * single-threaded semantics are in tests/conformance/, run on both
 * targets): closing a waited handle wakes the wait with BAD_HANDLE, closing
 * another handle to the object does not, a write, a read or a connection
 * wakes the right waiter, and a hang-up does not wake a wait for signals
 * it can no longer bring (include/capmem/object.h).
 *
 * Waiters wait with a bounded timeout (WAIT_NS), so a wake-up that never
 * comes fails the test with TIMED_OUT instead of hanging it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/leakcheck.h"
#include "common/sockdir.h"
#include "common/threads.h"

#define WAIT_NS (10ll * 1000000000)
#define SIG_R CM_SIGNAL_READABLE
#define SIG_W CM_SIGNAL_WRITABLE
#define SIG_PC CM_SIGNAL_PEER_CLOSED

struct waiter {
    struct test_thread t;
    cm_wait_item_t items[4];
    uint32_t count;     /* 0: wait_one on items[0] */
    int64_t timeout;
    cm_signals_t observed;
    cm_status_t st;
};

static void waiter_main(void *arg)
{
    struct waiter *w = arg;
    if (w->count == 0)
        w->st = cm_object_wait_one(w->items[0].handle, w->items[0].waitfor, w->timeout,
                                   &w->observed);
    else
        w->st = cm_object_wait_many(w->items, w->count, w->timeout);
}

static void start_one(struct waiter *w, cm_handle_t h, cm_signals_t s, int64_t timeout)
{
    memset(w, 0, sizeof(*w));
    w->items[0] = (cm_wait_item_t){ h, s, 0 };
    w->timeout = timeout;
    thread_start(&w->t, waiter_main, w);
}

static void start_many(struct waiter *w, const cm_wait_item_t *items, uint32_t n)
{
    memset(w, 0, sizeof(*w));
    memcpy(w->items, items, n * sizeof(*items));
    w->count = n;
    w->timeout = WAIT_NS;
    thread_start(&w->t, waiter_main, w);
}

static cm_status_t join_waiter(struct waiter *w)
{
    thread_join(&w->t);
    return w->st;
}

static void test_close_wakes_wait_one_with_bad_handle(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_one(&w, b, SIG_R | SIG_PC, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(b), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(a), CM_OK);
}

static void test_close_of_one_item_wakes_wait_many_with_bad_handle(void **state)
{
    (void)state;
    cm_handle_t a[2], b[2];
    struct waiter w;
    for (int i = 0; i < 2; i++)
        assert_status(cm_channel_create(0, &a[i], &b[i]), CM_OK);
    cm_wait_item_t it[2] = { { b[0], SIG_R, 0 }, { b[1], SIG_R, 0 } };
    start_many(&w, it, 2);
    await_blocked(&w.t);
    assert_status(cm_handle_close(b[1]), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    for (int i = 0; i < 2; i++)
        assert_status(cm_handle_close(a[i]), CM_OK);
    assert_status(cm_handle_close(b[0]), CM_OK);
}

static void test_close_of_another_handle_does_not_wake_wait_one(void **state)
{
    (void)state;
    cm_handle_t a, b, b2;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(b, CM_RIGHTS_SAME, &b2), CM_OK);
    start_one(&w, b, SIG_R, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(b2), CM_OK);
    /* Not a handshake: gives a wrongly woken waiter time to return first. */
    nap_ms(20);
    assert_status(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    assert_int_equal(w.observed, SIG_R | SIG_W);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_write_to_any_item_wakes_wait_many(void **state)
{
    (void)state;
    cm_handle_t a[3], b[3];
    struct waiter w;
    cm_wait_item_t it[3];
    for (int i = 0; i < 3; i++) {
        assert_status(cm_channel_create(0, &a[i], &b[i]), CM_OK);
        it[i] = (cm_wait_item_t){ b[i], SIG_R, 0 };
    }
    start_many(&w, it, 3);
    await_blocked(&w.t);
    assert_status(cm_channel_write(a[2], "x", 1, NULL, 0), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    assert_int_equal(w.items[0].pending, SIG_W);
    assert_int_equal(w.items[1].pending, SIG_W);
    assert_int_equal(w.items[2].pending, SIG_R | SIG_W);
    for (int i = 0; i < 3; i++) {
        assert_status(cm_handle_close(a[i]), CM_OK);
        assert_status(cm_handle_close(b[i]), CM_OK);
    }
}

/* The gap WRITABLE closes: a writer that got SHOULD_WAIT can sleep until
 * the reader makes room, instead of polling. */
static void test_writer_waiting_for_writable_wakes_when_reader_drains(void **state)
{
    (void)state;
    static char msg[1024];
    cm_handle_t a, b;
    struct waiter w;
    uint32_t n = 0, nb, nh;
    cm_status_t st;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    while ((st = cm_channel_write(a, msg, sizeof(msg), NULL, 0)) == CM_OK)
        assert_true(++n < 100000);
    assert_status(st, CM_ERR_SHOULD_WAIT);
    start_one(&w, a, SIG_W, WAIT_NS);
    await_blocked(&w.t);
    for (uint32_t i = 0; i < n; i++)
        assert_status(cm_channel_read(b, msg, sizeof(msg), &nb, NULL, 0, &nh), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    assert_int_equal(w.observed, SIG_W);
    assert_status(cm_channel_write(a, msg, sizeof(msg), NULL, 0), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

/* After a hang-up the socket polls ready forever; a wait for READABLE on
 * an empty, peer-closed channel must still sleep to its deadline (and end
 * TIMED_OUT with PEER_CLOSED observed), while a wait that includes
 * PEER_CLOSED wakes at the hang-up. */
static void test_hang_up_wakes_peer_closed_waiter_only(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_one(&w, b, SIG_PC, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    assert_int_equal(w.observed, SIG_PC);
    start_one(&w, b, SIG_R | SIG_W, 50 * 1000000);
    assert_status(join_waiter(&w), CM_ERR_TIMED_OUT);
    assert_int_equal(w.observed, SIG_PC);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_listener_is_readable_when_a_connection_is_pending(void **state)
{
    (void)state;
    cm_handle_t lis, c, s;
    cm_signals_t obs = 0xdead;
    struct waiter w;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_object_wait_one(lis, SIG_R, 0, &obs), CM_ERR_TIMED_OUT);
    assert_int_equal(obs, 0);
    assert_status(cm_object_wait_one(lis, SIG_W | SIG_PC, 0, &obs), CM_ERR_TIMED_OUT);
    start_one(&w, lis, SIG_R, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    assert_int_equal(w.observed, SIG_R);
    assert_status(cm_host_accept(lis, 0, &s), CM_OK);
    assert_status(cm_object_wait_one(lis, SIG_R, 0, &obs), CM_ERR_TIMED_OUT);
    /* A listener is not a channel: the channel-only wrapper refuses it. */
    assert_status(cm_channel_wait_readable(lis, 0), CM_ERR_WRONG_TYPE);
    start_one(&w, lis, SIG_R, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(lis), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(c), CM_OK);
    assert_status(cm_handle_close(s), CM_OK);
}

int main(void)
{
    alarm(300); /* nothing here may hang the suite */
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_close_wakes_wait_one_with_bad_handle),
        LEAK_TEST(test_close_of_one_item_wakes_wait_many_with_bad_handle),
        LEAK_TEST(test_close_of_another_handle_does_not_wake_wait_one),
        LEAK_TEST(test_write_to_any_item_wakes_wait_many),
        LEAK_TEST(test_writer_waiting_for_writable_wakes_when_reader_drains),
        LEAK_TEST(test_hang_up_wakes_peer_closed_waiter_only),
        DIR_TEST(test_listener_is_readable_when_a_connection_is_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
