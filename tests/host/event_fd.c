/* SPDX-License-Identifier: MIT */
/* Pollable fds of channels and listeners (docs/integration.md): epoll
 * level- and edge-triggered, io_uring IORING_OP_POLL_ADD, a peer in
 * another process, POLLOUT after a full channel. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/evloop.h"
#include "common/leakcheck.h"
#include "common/sockdir.h"

static int drain(cm_handle_t ch, cm_status_t *end)
{
    char buf[64];
    uint32_t nb, nh;
    int n = 0;
    cm_status_t st;
    while ((st = cm_channel_read(ch, buf, sizeof(buf), &nb, NULL, 0, &nh)) == CM_OK)
        n++;
    *end = st;
    return n;
}

static void test_channel_fd_events_match_the_signals_asked(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd = -1;
    uint32_t ev = 0;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_true(fd >= 0);
    assert_int_equal(ev, POLLIN);
    int fd2 = -1;
    assert_status(cm_host_object_fd(a, CM_SIGNALS_ALL, &fd2, &ev), CM_OK);
    assert_int_equal(fd2, fd); /* the object's one fd */
    assert_int_equal(ev, POLLIN | POLLOUT | POLLRDHUP);
    assert_int_equal((uint32_t)EPOLLIN | EPOLLOUT | EPOLLRDHUP, ev);
    /* A duplicate handle names the same object, so the same fd. */
    cm_handle_t d;
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &d), CM_OK);
    assert_status(cm_host_object_fd(d, CM_SIGNAL_WRITABLE, &fd2, &ev), CM_OK);
    assert_int_equal(fd2, fd);
    assert_int_equal(ev, POLLOUT);
    assert_status(cm_host_object_fd(b, CM_SIGNAL_READABLE, &fd2, &ev), CM_OK);
    assert_int_not_equal(fd2, fd);
    cm_handle_close(d);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_object_fd_refuses_bad_arguments_and_objects_without_fds(void **state)
{
    (void)state;
    cm_handle_t a, b, vmo, buf, cons;
    int fd;
    uint32_t ev;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, 0, &fd, &ev), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_object_fd(a, 1u << 7, &fd, &ev), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, NULL, &ev), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_object_fd(CM_HANDLE_INVALID, CM_SIGNAL_READABLE, &fd, &ev),
                  CM_ERR_BAD_HANDLE);
    assert_status(cm_vmo_create(4096, 0, &vmo), CM_OK);
    assert_status(cm_host_object_fd(vmo, CM_SIGNAL_READABLE, &fd, &ev), CM_ERR_WRONG_TYPE);
    cm_sbuf_config_t cfg = { .slot_count = 2, .slot_size = 64, .max_consumers = 1,
                             .max_held = 1, .max_loans = 1, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &cons), CM_OK);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_int_equal(ev, POLLIN);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    assert_int_equal(ev, 0); /* a consumer is never WRITABLE */
    cm_handle_close(cons);
    cm_handle_close(buf);
    cm_handle_close(vmo);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* Level-triggered: ready while a message is queued, not after the drain;
 * ready again on the next message; ready for good once the peer closes,
 * and the read then says PEER_CLOSED. */
static void test_epoll_on_a_channel_fd_wakes_on_send_and_on_peer_close(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    cm_status_t end;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, &fd, &ev),
                  CM_OK);
    int ep = epoll_of(fd, ev);
    assert_int_equal(epoll_events(ep, 0), 0);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_write(b, "y", 1, NULL, 0), CM_OK);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_true(epoll_events(ep, 0) & EPOLLIN); /* level: still queued */
    assert_int_equal(drain(a, &end), 2);
    assert_status(end, CM_ERR_SHOULD_WAIT);
    assert_int_equal(epoll_events(ep, 0), 0);
    assert_status(cm_channel_write(b, "z", 1, NULL, 0), CM_OK);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_int_equal(drain(a, &end), 1);
    assert_int_equal(epoll_events(ep, 0), 0);
    cm_handle_close(b);
    assert_true(epoll_events(ep, HANG_MS) & (EPOLLRDHUP | EPOLLHUP));
    assert_int_equal(drain(a, &end), 0);
    assert_status(end, CM_ERR_PEER_CLOSED);
    close(ep);
    cm_handle_close(a);
}

/* Edge-triggered: the contract (drain until SHOULD_WAIT, then wait) loses
 * no message sent after the drain. */
static void test_edge_triggered_epoll_loses_no_wakeup_after_a_drain(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    cm_status_t end;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    int ep = epoll_of(fd, ev | EPOLLET);
    for (int round = 0; round < 50; round++) {
        assert_status(cm_channel_write(b, "m", 1, NULL, 0), CM_OK);
        assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
        assert_int_equal(drain(a, &end), 1);
        assert_status(end, CM_ERR_SHOULD_WAIT);
    }
    close(ep);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* The peer in another process: its send and its death both wake a
 * blocked epoll_wait. */
static void test_epoll_wakes_for_a_peer_process_send_and_exit(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd, go[2];
    uint32_t ev;
    cm_status_t end;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        char c;
        cm_handle_close(a);
        CHILD_CHECK(read(go[0], &c, 1) == 1); /* parent sleeps in epoll now */
        CHILD_EXPECT(cm_channel_write(b, "from child", 10, NULL, 0), CM_OK);
        CHILD_CHECK(read(go[0], &c, 1) == 1);
        child_exit(); /* its end closes with the process */
    }
    cm_handle_close(b);
    close(go[0]);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, &fd, &ev),
                  CM_OK);
    int ep = epoll_of(fd, ev);
    assert_int_equal(epoll_events(ep, 0), 0);
    assert_int_equal(write(go[1], "1", 1), 1);
    uint32_t got = epoll_events(ep, HANG_MS);
    assert_true(got & EPOLLIN);
    assert_false(got & EPOLLRDHUP);
    assert_int_equal(drain(a, &end), 1);
    assert_status(end, CM_ERR_SHOULD_WAIT);
    assert_int_equal(write(go[1], "2", 1), 1);
    assert_true(epoll_events(ep, HANG_MS) & (EPOLLRDHUP | EPOLLHUP));
    assert_int_equal(drain(a, &end), 0);
    assert_status(end, CM_ERR_PEER_CLOSED);
    assert_child_passed(pid);
    close(go[1]);
    close(ep);
    cm_handle_close(a);
}

/* WRITABLE: fill until SHOULD_WAIT, then POLLOUT comes once the peer
 * reads. */
static void test_epoll_out_wakes_when_a_full_channel_drains(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    cm_status_t st, end;
    static char big[16384];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    int ep = epoll_of(fd, ev);
    assert_true(epoll_events(ep, 0) & EPOLLOUT);
    int sent = 0;
    while ((st = cm_channel_write(a, big, sizeof(big), NULL, 0)) == CM_OK)
        sent++;
    assert_status(st, CM_ERR_SHOULD_WAIT);
    assert_true(sent > 0);
    assert_int_equal(epoll_events(ep, 0), 0);
    char rd[16384];
    uint32_t nb, nh;
    while (cm_channel_read(b, rd, sizeof(rd), &nb, NULL, 0, &nh) == CM_OK)
        ;
    assert_true(epoll_events(ep, HANG_MS) & EPOLLOUT);
    assert_status(cm_channel_write(a, big, sizeof(big), NULL, 0), CM_OK);
    (void)drain(b, &end);
    close(ep);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* One io_uring poll request: submits it, then waits at most HANG_MS (or
 * only peeks, with wait 0) for its completion. Returns revents, 0 if none
 * came. */
static void test_io_uring_poll_on_a_channel_fd_wakes_on_send_and_on_peer_close(void **state)
{
    (void)state;
    struct io_uring ring;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    cm_status_t end;
    uring_init_or_skip(&ring);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, &fd, &ev),
                  CM_OK);
    uring_poll_submit(&ring, fd, ev);
    assert_int_equal(uring_poll_result(&ring, 0), 0);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_OK);
    assert_true(uring_poll_result(&ring, 1) & POLLIN);
    assert_int_equal(drain(a, &end), 1);
    assert_status(end, CM_ERR_SHOULD_WAIT);
    uring_poll_submit(&ring, fd, ev);
    assert_int_equal(uring_poll_result(&ring, 0), 0);
    cm_handle_close(b);
    assert_true(uring_poll_result(&ring, 1) & (POLLRDHUP | POLLHUP));
    assert_int_equal(drain(a, &end), 0);
    assert_status(end, CM_ERR_PEER_CLOSED);
    io_uring_queue_exit(&ring);
    cm_handle_close(a);
}

/* Armed while a message is queued already: completes at once (the wake-up
 * of a send before the arm is not lost). */
static void test_io_uring_poll_armed_after_a_send_completes_at_once(void **state)
{
    (void)state;
    struct io_uring ring;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    cm_status_t end;
    uring_init_or_skip(&ring);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_OK);
    uring_poll_submit(&ring, fd, ev);
    assert_true(uring_poll_result(&ring, 1) & POLLIN);
    assert_int_equal(drain(a, &end), 1);
    io_uring_queue_exit(&ring);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* A listener's fd: ready when a connection is pending; accept with timeout
 * 0 until it says TIMED_OUT. */
static void test_epoll_and_io_uring_on_a_listener_fd_wake_on_connect(void **state)
{
    (void)state;
    cm_handle_t lis, c1, c2, s;
    int fd;
    uint32_t ev;
    struct io_uring ring;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_host_object_fd(lis, CM_SIGNALS_ALL, &fd, &ev), CM_OK);
    assert_int_equal(ev, POLLIN);
    int ep = epoll_of(fd, ev);
    assert_int_equal(epoll_events(ep, 0), 0);
    assert_status(cm_host_connect(sock_path, &c1), CM_OK);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_status(cm_host_accept(lis, 0, &s), CM_OK);
    cm_handle_close(s);
    assert_status(cm_host_accept(lis, 0, &s), CM_ERR_TIMED_OUT);
    assert_int_equal(epoll_events(ep, 0), 0);
    if (io_uring_queue_init(4, &ring, 0) == 0) {
        uring_poll_submit(&ring, fd, ev);
        assert_int_equal(uring_poll_result(&ring, 0), 0);
        assert_status(cm_host_connect(sock_path, &c2), CM_OK);
        assert_true(uring_poll_result(&ring, 1) & POLLIN);
        assert_status(cm_host_accept(lis, 0, &s), CM_OK);
        cm_handle_close(s);
        cm_handle_close(c2);
        io_uring_queue_exit(&ring);
    }
    close(ep);
    cm_handle_close(c1);
    cm_handle_close(lis);
}


int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_channel_fd_events_match_the_signals_asked),
        LEAK_TEST(test_object_fd_refuses_bad_arguments_and_objects_without_fds),
        LEAK_TEST(test_epoll_on_a_channel_fd_wakes_on_send_and_on_peer_close),
        LEAK_TEST(test_edge_triggered_epoll_loses_no_wakeup_after_a_drain),
        LEAK_TEST(test_epoll_wakes_for_a_peer_process_send_and_exit),
        LEAK_TEST(test_epoll_out_wakes_when_a_full_channel_drains),
        LEAK_TEST(test_io_uring_poll_on_a_channel_fd_wakes_on_send_and_on_peer_close),
        LEAK_TEST(test_io_uring_poll_armed_after_a_send_completes_at_once),
        DIR_TEST(test_epoll_and_io_uring_on_a_listener_fd_wake_on_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
