/* SPDX-License-Identifier: MIT */
/* fork() and handles (docs/fork.md): a child forked while another thread of
 * the parent is inside a handle call can still use every inherited handle,
 * and what one process does with its copy of a channel never shuts the
 * other's down. Children run under alarm() and are waited for with a bound:
 * a hang fails the test instead of the suite. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capmem/host.h>
#include "../../host/internal.h"
#include "common/leakcheck.h"
#include "common/threads.h"

#define WAIT_NS (10ll * 1000000000)
#define CHILD_LIMIT_S 10

/* Exit status of a child, or -1 if it did not exit by itself in time. */
static int wait_child(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < (CHILD_LIMIT_S + 5) * 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        nap_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

struct holder {
    atomic_int held;
    atomic_int forking;
    int main_tid;
};

/* Holds the table lock until the main thread has started fork() and is
 * asleep (blocked on that lock by the fork handler, or, without one, already
 * past the fork and waiting for its child): either way the fork happens
 * while the lock is held, unless the library waits for it. */
static void *hold_table_lock(void *arg)
{
    struct holder *h = arg;
    cm__handle_table_hold();
    atomic_store(&h->held, 1);
    for (int i = 0; i < 5000 && !atomic_load(&h->forking); i++)
        nap_ms(1);
    for (int i = 0; i < 5000 && !task_sleeping(h->main_tid); i++)
        nap_ms(1);
    nap_ms(20);
    cm__handle_table_release();
    return NULL;
}

/* Child side: every kind of call on inherited handles, plus new ones. */
static int child_uses_handles(cm_handle_t v, cm_handle_t a)
{
    cm_handle_info_t info;
    cm_handle_t w, d;
    uint8_t tag = 0;
    alarm(CHILD_LIMIT_S);
    if (cm_handle_get_info(v, &info) != CM_OK || info.type != CM_OBJ_VMO)
        return 10;
    if (cm_vmo_read(v, &tag, 0, 1) != CM_OK || tag != 'V')
        return 11;
    if (cm_handle_duplicate(v, CM_RIGHTS_SAME, &d) != CM_OK || cm_handle_close(d) != CM_OK)
        return 12;
    if (cm_vmo_create(CM_PAGE_SIZE, 0, &w) != CM_OK || cm_handle_close(w) != CM_OK)
        return 13;
    if (cm_channel_write(a, "c", 1, NULL, 0) != CM_OK)
        return 14;
    if (cm_handle_close(v) != CM_OK)
        return 15;
    return 0;
}

static void test_fork_while_other_thread_holds_table_lock_child_can_use_handles(void **state)
{
    (void)state;
    cm_handle_t v, a, b;
    pthread_t t;
    struct holder h = { .main_tid = (int)gettid() };
    char buf[4];
    uint32_t nb, nh;
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "V", 0, 1), CM_OK);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_int_equal(pthread_create(&t, NULL, hold_table_lock, &h), 0);
    for (int i = 0; i < 5000 && !atomic_load(&h.held); i++)
        nap_ms(1);
    atomic_store(&h.forking, 1);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_uses_handles(v, a));
    assert_true(pid > 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(wait_child(pid), 0);
    assert_status(cm_channel_wait_readable(b, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], 'c');
    /* The parent's handles are untouched by what the child closed. */
    assert_status(cm_vmo_read(v, buf, 0, 1), CM_OK);
    cm_handle_close(v);
    cm_handle_close(a);
    cm_handle_close(b);
}

struct waiter {
    struct test_thread t;
    cm_handle_t h;
    cm_status_t st;
};

static void waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->st = cm_channel_wait_readable(w->h, WAIT_NS);
}

static void start_waiter(struct waiter *w, cm_handle_t h)
{
    w->h = h;
    thread_start(&w->t, waiter_main, w);
    await_sleeping(&w->t);
}

/* The child's copy of the channel still has the parent's waiter's reference
 * counted; its last close there must not shut down the socket it shares
 * with the parent. */
static void test_child_closing_a_channel_a_parent_thread_waits_on_leaves_it_open(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_waiter(&w, a);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(CHILD_LIMIT_S);
        _exit(cm_handle_close(a) == CM_OK && cm_handle_close(b) == CM_OK ? 0 : 1);
    }
    assert_true(pid > 0);
    assert_int_equal(wait_child(pid), 0);
    assert_status(cm_channel_write(b, "p", 1, NULL, 0), CM_OK);
    thread_join(&w.t);
    assert_status(w.st, CM_OK);
    cm_handle_close(a);
    cm_handle_close(b);
}

static int child_reads(cm_handle_t b)
{
    char buf[4];
    uint32_t nb, nh;
    alarm(CHILD_LIMIT_S);
    if (cm_channel_wait_readable(b, WAIT_NS) != CM_OK)
        return 20;
    if (cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh) != CM_OK || buf[0] != 'm')
        return 21;
    return 0;
}

/* The parent closes its last handle to an end the child still uses, while a
 * parent thread waits on it: the waiter wakes, the child's end lives on. */
static void test_parent_closing_a_waited_channel_after_fork_leaves_the_childs_copy(void **state)
{
    (void)state;
    cm_handle_t a, b;
    struct waiter w;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    start_waiter(&w, b);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_reads(b));
    assert_true(pid > 0);
    assert_status(cm_handle_close(b), CM_OK);
    thread_join(&w.t);
    assert_status(w.st, CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_write(a, "m", 1, NULL, 0), CM_OK);
    assert_int_equal(wait_child(pid), 0);
    cm_handle_close(a);
}

/* A handle's eventfd (host/handles.c, struct cm__wake) would be shared
 * with the parent after a fork: a close there writes it, and a wait here
 * would wake for nothing and spin. The child closes its copy and makes its
 * own at its first blocking wait. */
static int child_wait_makes_its_own_eventfd(cm_handle_t a, int fds_at_fork)
{
    alarm(CHILD_LIMIT_S);
    if (count_open_fds() != fds_at_fork - 1)
        return 30; /* the parent's eventfd was kept */
    if (cm__handle_has_wake(a))
        return 34;
    for (int i = 0; i < 1000 && !cm__handle_has_wake(a); i++)
        if (cm_channel_wait_readable(a, 1000000) != CM_ERR_TIMED_OUT)
            return 31;
    if (count_open_fds() != fds_at_fork)
        return 32;
    if (cm_handle_close(a) != CM_OK || count_open_fds() != fds_at_fork - 2)
        return 33; /* the child's eventfd goes with its handle */
    return 0;
}

static void test_child_does_not_share_a_handles_eventfd_with_the_parent(void **state)
{
    (void)state;
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    for (int i = 0; i < 1000 && !cm__handle_has_wake(a); i++)
        assert_status(cm_channel_wait_readable(a, 1000000), CM_ERR_TIMED_OUT);
    assert_true(cm__handle_has_wake(a));
    int fds = count_open_fds();
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_wait_makes_its_own_eventfd(a, fds));
    assert_true(pid > 0);
    assert_int_equal(wait_child(pid), 0);
    /* The parent's is still there, and still works. */
    assert_int_equal(count_open_fds(), fds);
    assert_status(cm_channel_wait_readable(a, 1000000), CM_ERR_TIMED_OUT);
    assert_int_equal(count_open_fds(), fds);
    cm_handle_close(a);
    cm_handle_close(b);
}

struct many_waiter {
    struct test_thread t;
    cm_handle_t h[2];
    cm_status_t st;
};

static void many_waiter_main(void *arg)
{
    struct many_waiter *w = arg;
    cm_wait_item_t items[2] = {
        { w->h[0], CM_SIGNAL_READABLE, 0 },
        { w->h[1], CM_SIGNAL_READABLE, 0 },
    };
    w->st = cm_object_wait_many(items, 2, WAIT_NS);
}

/* A wait on several objects makes an eventfd of its own; a child forked
 * while a parent thread sleeps in one inherits it, and nothing in the child
 * will ever use or close it: the child closes it at once, as it closes the
 * handles' own. */
static void test_child_closes_the_eventfd_of_a_parent_threads_wait_many(void **state)
{
    (void)state;
    cm_handle_t a1, b1, a2, b2;
    struct many_waiter w;
    assert_status(cm_channel_create(0, &a1, &b1), CM_OK);
    assert_status(cm_channel_create(0, &a2, &b2), CM_OK);
    w.h[0] = a1;
    w.h[1] = a2;
    thread_start(&w.t, many_waiter_main, &w);
    await_blocked(&w.t);
    int fds = count_open_fds(); /* with the wait's eventfd */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(CHILD_LIMIT_S);
        _exit(count_open_fds() == fds - 1 ? 0 : 40);
    }
    assert_true(pid > 0);
    assert_int_equal(wait_child(pid), 0);
    assert_status(cm_channel_write(b2, "m", 1, NULL, 0), CM_OK);
    thread_join(&w.t);
    assert_status(w.st, CM_OK);
    cm_handle_close(a1);
    cm_handle_close(b1);
    cm_handle_close(a2);
    cm_handle_close(b2);
}

int main(void)
{
    alarm(300);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_fork_while_other_thread_holds_table_lock_child_can_use_handles),
        LEAK_TEST(test_child_closing_a_channel_a_parent_thread_waits_on_leaves_it_open),
        LEAK_TEST(test_parent_closing_a_waited_channel_after_fork_leaves_the_childs_copy),
        LEAK_TEST(test_child_does_not_share_a_handles_eventfd_with_the_parent),
        LEAK_TEST(test_child_closes_the_eventfd_of_a_parent_threads_wait_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
