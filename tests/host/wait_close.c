/* SPDX-License-Identifier: MIT */
/* Waiting and closing: a thread blocked on a handle is woken when that handle
 * is closed (BAD_HANDLE), the object dies with its last handle even while a
 * waiter still holds a reference, closing another handle to the same object
 * wakes nobody, and every timeout goes through the one deadline rule
 * (negative other than CM_TIMEOUT_INFINITE is INVALID_ARGS, huge ones
 * saturate). See docs/channel.md, "Waiting and closing".
 *
 * Waiters wait with a bounded timeout (WAIT_NS), so a wake-up that never
 * comes fails the test with TIMED_OUT instead of hanging it. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capmem/host.h>
#include "../../host/internal.h"
#include "common/fd_limit.h"
#include "common/leakcheck.h"
#include "common/sockdir.h"
#include "common/threads.h"

#define WAIT_NS (10ll * 1000000000)

enum { WAIT_CHANNEL, WAIT_ACCEPT };

struct waiter {
    struct test_thread t;
    int kind;
    cm_handle_t h;
    int64_t timeout;
    cm_handle_t accepted;
    cm_status_t st;
};

static void waiter_main(void *arg)
{
    struct waiter *w = arg;
    if (w->kind == WAIT_CHANNEL)
        w->st = cm_channel_wait_readable(w->h, w->timeout);
    else
        w->st = cm_host_accept(w->h, w->timeout, &w->accepted);
}

/* Set by the _with_handle_eventfd variants: every waited handle has done a
 * blocking wait already, so it keeps its eventfd and the wait registers
 * before its first poll (host/handles.c, struct cm__wake). */
static int arm_first;

/* Blocking waits that time out until the handle has made its eventfd (a
 * wait whose deadline passed before it slept, on a loaded machine, made
 * none). */
#define ARM_NS 1000000
static void arm(int kind, cm_handle_t h)
{
    cm_handle_t got;
    for (int i = 0; i < 1000 && !cm__handle_has_wake(h); i++) {
        if (kind == WAIT_CHANNEL)
            assert_status(cm_channel_wait_readable(h, ARM_NS), CM_ERR_TIMED_OUT);
        else
            assert_status(cm_host_accept(h, ARM_NS, &got), CM_ERR_TIMED_OUT);
    }
    assert_true(cm__handle_has_wake(h));
}

static void start_waiter(struct waiter *w, int kind, cm_handle_t h, int64_t timeout)
{
    if (arm_first)
        arm(kind, h);
    memset(w, 0, sizeof(*w));
    w->kind = kind;
    w->h = h;
    w->timeout = timeout;
    thread_start(&w->t, waiter_main, w);
}

static cm_status_t join_waiter(struct waiter *w)
{
    thread_join(&w->t);
    return w->st;
}

static void test_close_wakes_channel_waiter_with_bad_handle(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, a, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_close_wakes_accept_waiter(void **state)
{
    (void)state;
    cm_handle_t lis, c;
    struct waiter w;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    start_waiter(&w, WAIT_ACCEPT, lis, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(lis), CM_OK);
    /* The listener died with its handle, before the waiter even returned:
     * its path is gone and nothing connects any more. */
    assert_int_equal(access(sock_path, F_OK), -1);
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_NOT_FOUND);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
}

static void test_last_close_with_waiter_gives_peer_closed_now(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, a, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(a), CM_OK);
    /* Now: not after the waiter dropped its reference. */
    assert_status(cm_channel_wait_readable(b, 0), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_ERR_PEER_CLOSED);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_close_of_duplicate_does_not_wake_other_handle_waiter(void **state)
{
    (void)state;
    cm_handle_t a, a2, b;
    struct waiter w;
    char buf[4];
    uint32_t nb, nh;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &a2), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, a, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(a2), CM_OK);
    /* The waiter is still waiting, for the message and nothing else. The
     * pause is not a handshake: it gives a wrongly woken waiter the time to
     * return BAD_HANDLE before the message could hide it. */
    nap_ms(20);
    assert_status(cm_channel_write(b, "m", 1, NULL, 0), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    assert_status(cm_channel_read(a, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], 'm');
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

/* The converse: a waiter through the duplicate is woken by its close, and the
 * object, still named by the original, stays open for the peer. */
static void test_close_of_waited_duplicate_wakes_it_and_keeps_the_object(void **state)
{
    (void)state;
    cm_handle_t a, a2, b;
    struct waiter w;
    char buf[4];
    uint32_t nb, nh;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &a2), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, a2, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_close(a2), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_wait_readable(b, 0), CM_ERR_TIMED_OUT);
    assert_status(cm_channel_write(b, "k", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_read(a, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_replace_wakes_waiter_on_the_old_value(void **state)
{
    (void)state;
    cm_handle_t a, r, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, a, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_handle_replace(a, CM_RIGHTS_SAME, &r), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    /* Same object under the new value: still connected. */
    assert_status(cm_channel_write(b, "r", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(r, WAIT_NS), CM_OK);
    assert_status(cm_handle_close(r), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

/* Sending a handle consumes it: its waiter wakes, and the endpoint lives on
 * in whoever receives it. */
static void test_transfer_of_waited_handle_wakes_waiter_and_endpoint_lives_on(void **state)
{
    (void)state;
    cm_handle_t x, y, p, q, got;
    struct waiter w;
    uint32_t nb, nh;
    assert_status(cm_channel_create(0, &x, &y), CM_OK);
    assert_status(cm_channel_create(0, &p, &q), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, x, WAIT_NS);
    await_blocked(&w.t);
    assert_status(cm_channel_write(p, NULL, 0, &x, 1), CM_OK);
    assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_read(q, NULL, 0, &nb, &got, 1, &nh), CM_OK);
    assert_status(cm_channel_write(y, "t", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(got, WAIT_NS), CM_OK);
    assert_status(cm_channel_wait_readable(y, 0), CM_ERR_TIMED_OUT); /* not closed */
    cm_handle_close(got);
    cm_handle_close(y);
    cm_handle_close(p);
    cm_handle_close(q);
}

/* Many waiters through one handle: one close wakes them all. */
static void test_close_wakes_every_waiter_on_the_handle(void **state)
{
    (void)state;
    enum { N = 4 };
    cm_handle_t a, b;
    struct waiter w[N];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    for (int i = 0; i < N; i++)
        start_waiter(&w[i], WAIT_CHANNEL, a, WAIT_NS);
    for (int i = 0; i < N; i++)
        await_blocked(&w[i].t);
    assert_status(cm_handle_close(a), CM_OK);
    for (int i = 0; i < N; i++)
        assert_status(join_waiter(&w[i]), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(b), CM_OK);
}

/* Whichever comes first, the close or the wait's start, the wait ends with
 * BAD_HANDLE: never a hang, never a stale success. Many rounds, so that every
 * interleaving (before the lookup, between lookup and registration, while
 * blocked) is likely taken. */
static void test_close_racing_with_wait_start_always_gives_bad_handle(void **state)
{
    (void)state;
    enum { ROUNDS = 300 };
    for (int i = 0; i < ROUNDS; i++) {
        cm_handle_t a, b, lis;
        struct waiter w, l;
        assert_status(cm_channel_create(0, &a, &b), CM_OK);
        assert_status(cm_host_listen(sock_path, &lis), CM_OK);
        start_waiter(&w, WAIT_CHANNEL, a, WAIT_NS);
        start_waiter(&l, WAIT_ACCEPT, lis, WAIT_NS);
        if (i % 3 == 1)
            sched_yield();
        else if (i % 3 == 2)
            nap_ms(1);
        assert_status(cm_handle_close(a), CM_OK);
        assert_status(cm_handle_close(lis), CM_OK);
        assert_status(join_waiter(&w), CM_ERR_BAD_HANDLE);
        assert_status(join_waiter(&l), CM_ERR_BAD_HANDLE);
        assert_status(cm_channel_wait_readable(b, 0), CM_ERR_PEER_CLOSED);
        assert_status(cm_handle_close(b), CM_OK);
    }
}

/* A duplicate racing with the last close either wins (the object lives on
 * through it) or fails with BAD_HANDLE: it never names a channel that its
 * last close already shut down. */
struct dupper {
    cm_handle_t src;
    cm_handle_t out;
    cm_status_t st;
    atomic_int go;
};

static void *dup_main(void *arg)
{
    struct dupper *d = arg;
    while (!atomic_load(&d->go))
        ;
    d->st = cm_handle_duplicate(d->src, CM_RIGHTS_SAME, &d->out);
    return NULL;
}

static void test_duplicate_racing_with_last_close_never_revives_it(void **state)
{
    (void)state;
    enum { ROUNDS = 300 };
    for (int i = 0; i < ROUNDS; i++) {
        cm_handle_t a, b;
        pthread_t t;
        struct dupper d = { .out = CM_HANDLE_INVALID };
        assert_status(cm_channel_create(0, &a, &b), CM_OK);
        d.src = a;
        atomic_init(&d.go, 0);
        assert_int_equal(pthread_create(&t, NULL, dup_main, &d), 0);
        atomic_store(&d.go, 1);
        assert_status(cm_handle_close(a), CM_OK);
        assert_int_equal(pthread_join(t, NULL), 0);
        if (d.st == CM_OK) {
            assert_status(cm_channel_wait_readable(b, 0), CM_ERR_TIMED_OUT);
            assert_status(cm_channel_write(d.out, "d", 1, NULL, 0), CM_OK);
            assert_status(cm_handle_close(d.out), CM_OK);
        } else {
            assert_status(d.st, CM_ERR_BAD_HANDLE);
            assert_status(cm_channel_wait_readable(b, 0), CM_ERR_PEER_CLOSED);
        }
        assert_status(cm_handle_close(b), CM_OK);
    }
}

/* ---- timeouts (core/deadline.h) ---- */

static void test_negative_timeouts_other_than_infinite_are_invalid_args(void **state)
{
    (void)state;
    cm_handle_t a, b, lis, c, s = CM_HANDLE_INVALID;
    const int64_t bad[] = { -2, INT64_MIN, INT64_MIN + 1, -1000000000 };
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    /* Whatever state would otherwise decide: a message queued, a connection
     * pending. */
    assert_status(cm_channel_write(a, "q", 1, NULL, 0), CM_OK);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_status(cm_channel_wait_readable(b, bad[i]), CM_ERR_INVALID_ARGS);
        assert_status(cm_channel_wait_readable(a, bad[i]), CM_ERR_INVALID_ARGS); /* empty */
        assert_status(cm_host_accept(lis, bad[i], &s), CM_ERR_INVALID_ARGS);
    }
    assert_int_equal(s, CM_HANDLE_INVALID);
    /* The argument is checked before the handle. */
    assert_status(cm_channel_wait_readable(CM_HANDLE_INVALID, -2), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_accept(CM_HANDLE_INVALID, -2, &s), CM_ERR_INVALID_ARGS);
    /* Nothing was consumed. */
    assert_status(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
    assert_status(cm_host_accept(lis, CM_TIMEOUT_INFINITE, &s), CM_OK);
    cm_handle_close(s);
    cm_handle_close(c);
    cm_handle_close(lis);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_huge_timeouts_saturate_and_ready_waits_return_ok(void **state)
{
    (void)state;
    cm_handle_t a, b, lis, c, s;
    const int64_t huge[] = { INT64_MAX, INT64_MAX - 1, INT64_MAX / 2 + 1 };
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_channel_write(a, "q", 1, NULL, 0), CM_OK);
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        assert_status(cm_channel_wait_readable(b, huge[i]), CM_OK);
        assert_status(cm_host_connect(sock_path, &c), CM_OK);
        assert_status(cm_host_accept(lis, huge[i], &s), CM_OK);
        cm_handle_close(s);
        cm_handle_close(c);
    }
    cm_handle_close(lis);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* A huge timeout really blocks (no wrap to "already passed") and the wait
 * ends when the peer writes. */
static void test_huge_timeout_waits_until_peer_writes(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_waiter(&w, WAIT_CHANNEL, b, INT64_MAX);
    await_blocked(&w.t);
    assert_status(cm_channel_write(a, "z", 1, NULL, 0), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_huge_timeout_accept_waits_until_a_client_connects(void **state)
{
    (void)state;
    cm_handle_t lis, c;
    struct waiter w;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    start_waiter(&w, WAIT_ACCEPT, lis, INT64_MAX);
    await_blocked(&w.t);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(join_waiter(&w), CM_OK);
    cm_handle_close(w.accepted);
    cm_handle_close(c);
    cm_handle_close(lis);
}

/* ---- limits ---- */

/* A blocking wait needs one fd for its wake-up: without one it says so. */
static void test_blocking_wait_without_a_free_fd_is_no_resources(void **state)
{
    (void)state;
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "r", 1, NULL, 0), CM_OK);
    assert_int_equal(leave_fds(0), 0);
    cm_status_t ready = cm_channel_wait_readable(b, WAIT_NS);   /* needs no fd */
    cm_status_t empty = cm_channel_wait_readable(a, 1000000);   /* would block */
    cm_status_t poll0 = cm_channel_wait_readable(a, 0);         /* never blocks */
    assert_int_equal(restore_fds(), 0);
    assert_status(ready, CM_OK);
    assert_status(empty, CM_ERR_NO_RESOURCES);
    assert_status(poll0, CM_ERR_TIMED_OUT);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* A handle's eventfd: made by its first blocking wait, used by every later
 * one (no new fd), its own per handle (a duplicate makes another), and
 * closed when the handle goes (close, replace), nowhere else. */
static void test_handle_keeps_one_eventfd_for_its_waits_and_closes_it_with_itself(void **state)
{
    (void)state;
    cm_handle_t a, b, a2, r;
    int fds = count_open_fds();
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    fds += 2;
    assert_status(cm_channel_wait_readable(a, 0), CM_ERR_TIMED_OUT); /* a poll: none */
    assert_int_equal(count_open_fds(), fds);
    arm(WAIT_CHANNEL, a);
    assert_int_equal(count_open_fds(), fds + 1);
    arm(WAIT_CHANNEL, a);
    arm(WAIT_CHANNEL, a);
    assert_int_equal(count_open_fds(), fds + 1);
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &a2), CM_OK);
    arm(WAIT_CHANNEL, a2);
    assert_int_equal(count_open_fds(), fds + 2);
    assert_status(cm_handle_close(a2), CM_OK);
    assert_int_equal(count_open_fds(), fds + 1);
    assert_status(cm_handle_replace(a, CM_RIGHTS_SAME, &r), CM_OK);
    assert_int_equal(count_open_fds(), fds);
    /* A ready wait through a handle with an eventfd is one poll, and OK. */
    arm(WAIT_CHANNEL, r);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(r, WAIT_NS), CM_OK);
    /* After a hang-up: READABLE while a message is queued, then PEER_CLOSED. */
    char buf[4];
    uint32_t nb, nh;
    arm(WAIT_CHANNEL, b);
    assert_status(cm_channel_write(r, "y", 1, NULL, 0), CM_OK);
    assert_status(cm_handle_close(r), CM_OK);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(b), CM_OK);
}

/* Only the first blocking wait through a handle needs a free fd. */
static void test_handle_with_its_eventfd_waits_without_a_free_fd(void **state)
{
    (void)state;
    cm_handle_t a, b, a2;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &a2), CM_OK);
    arm(WAIT_CHANNEL, a);
    assert_int_equal(leave_fds(0), 0);
    cm_status_t kept = cm_channel_wait_readable(a, ARM_NS);
    cm_status_t fresh = cm_channel_wait_readable(a2, WAIT_NS); /* fails at once */
    assert_int_equal(restore_fds(), 0);
    assert_status(kept, CM_ERR_TIMED_OUT);
    assert_status(fresh, CM_ERR_NO_RESOURCES);
    cm_handle_close(a2);
    cm_handle_close(a);
    cm_handle_close(b);
}

static int armed_setup(void **state)
{
    arm_first = 1;
    return leak_setup(state);
}

static int armed_teardown(void **state)
{
    arm_first = 0;
    return leak_teardown(state);
}

static int armed_dir_setup(void **state)
{
    arm_first = 1;
    return sockdir_setup(state);
}

static int armed_dir_teardown(void **state)
{
    arm_first = 0;
    return sockdir_teardown(state);
}

/* The same test, each waited handle armed first (see arm_first). */
#define ARMED_TEST(t) { #t "_with_handle_eventfd", t, armed_setup, armed_teardown, NULL }
#define ARMED_DIR_TEST(t) \
    { #t "_with_handle_eventfd", t, armed_dir_setup, armed_dir_teardown, NULL }

int main(void)
{
    alarm(300); /* nothing here may hang the suite */
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_close_wakes_channel_waiter_with_bad_handle),
        DIR_TEST(test_close_wakes_accept_waiter),
        LEAK_TEST(test_last_close_with_waiter_gives_peer_closed_now),
        LEAK_TEST(test_close_of_duplicate_does_not_wake_other_handle_waiter),
        LEAK_TEST(test_close_of_waited_duplicate_wakes_it_and_keeps_the_object),
        LEAK_TEST(test_replace_wakes_waiter_on_the_old_value),
        LEAK_TEST(test_transfer_of_waited_handle_wakes_waiter_and_endpoint_lives_on),
        LEAK_TEST(test_close_wakes_every_waiter_on_the_handle),
        DIR_TEST(test_close_racing_with_wait_start_always_gives_bad_handle),
        LEAK_TEST(test_duplicate_racing_with_last_close_never_revives_it),
        DIR_TEST(test_negative_timeouts_other_than_infinite_are_invalid_args),
        DIR_TEST(test_huge_timeouts_saturate_and_ready_waits_return_ok),
        LEAK_TEST(test_huge_timeout_waits_until_peer_writes),
        DIR_TEST(test_huge_timeout_accept_waits_until_a_client_connects),
        LEAK_TEST(test_blocking_wait_without_a_free_fd_is_no_resources),
        LEAK_TEST(test_handle_keeps_one_eventfd_for_its_waits_and_closes_it_with_itself),
        LEAK_TEST(test_handle_with_its_eventfd_waits_without_a_free_fd),
        ARMED_TEST(test_close_wakes_channel_waiter_with_bad_handle),
        ARMED_DIR_TEST(test_close_wakes_accept_waiter),
        ARMED_TEST(test_last_close_with_waiter_gives_peer_closed_now),
        ARMED_TEST(test_close_of_duplicate_does_not_wake_other_handle_waiter),
        ARMED_TEST(test_close_of_waited_duplicate_wakes_it_and_keeps_the_object),
        ARMED_TEST(test_replace_wakes_waiter_on_the_old_value),
        ARMED_TEST(test_transfer_of_waited_handle_wakes_waiter_and_endpoint_lives_on),
        ARMED_TEST(test_close_wakes_every_waiter_on_the_handle),
        ARMED_DIR_TEST(test_close_racing_with_wait_start_always_gives_bad_handle),
        ARMED_TEST(test_huge_timeout_waits_until_peer_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
