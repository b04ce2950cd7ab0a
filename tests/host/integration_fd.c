/* Event-loop integration (docs/integration.md): the pollable fd of a
 * channel and a listener under epoll and io_uring poll, and adopting an
 * already-connected socket as a channel. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/sockdir.h"

/* A bound on every wait that should end at once: only a defect reaches it. */
#define HANG_MS 10000

static int epoll_of(int fd, uint32_t events)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct epoll_event e = { .events = events, .data.u32 = 7 };
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
    return ep;
}

/* epoll_wait for at most ms; returns the events reported (0: none). */
static uint32_t epoll_events(int ep, int ms)
{
    struct epoll_event e;
    int n;
    do
        n = epoll_wait(ep, &e, 1, ms);
    while (n < 0 && errno == EINTR);
    assert_true(n >= 0);
    if (n == 0)
        return 0;
    assert_int_equal(e.data.u32, 7);
    return e.events;
}

/* The contract's loop: read until SHOULD_WAIT (or PEER_CLOSED). Returns
 * the number of messages read; *end the status that ended it. */
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
static void uring_poll_submit(struct io_uring *ring, int fd, uint32_t events)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    assert_non_null(sqe);
    io_uring_prep_poll_add(sqe, fd, events);
    io_uring_sqe_set_data64(sqe, 42);
    assert_int_equal(io_uring_submit(ring), 1);
}

static int uring_poll_result(struct io_uring *ring, int wait)
{
    struct io_uring_cqe *cqe = NULL;
    struct __kernel_timespec ts = { HANG_MS / 1000, 0 };
    int r = wait ? io_uring_wait_cqe_timeout(ring, &cqe, &ts) : io_uring_peek_cqe(ring, &cqe);
    if (r == -ETIME || r == -EAGAIN)
        return 0;
    assert_int_equal(r, 0);
    assert_int_equal(io_uring_cqe_get_data64(cqe), 42);
    int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    assert_true(res > 0);
    return res;
}

static int uring_init_or_skip(struct io_uring *ring)
{
    int r = io_uring_queue_init(4, ring, 0);
    if (r == -ENOSYS || r == -EPERM) {
        /* io_uring disabled (kernel.io_uring_disabled, seccomp): the epoll
         * tests cover the same fd. */
        skip();
    }
    assert_int_equal(r, 0);
    return 0;
}

/* IORING_OP_POLL_ADD is one-shot and level-checked when armed: armed on an
 * empty channel it completes when the peer sends; re-armed after a drain
 * it stays pending; it completes when the peer closes. */
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

/* ---- SharedBuffer consumers ---- */

static void publish(cm_handle_t buf, const char *text)
{
    cm_sbuf_loan_t loan;
    assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_OK);
    memcpy(loan.data, text, strlen(text));
    assert_status(cm_sbuf_publish(buf, loan.id, (uint32_t)strlen(text), NULL), CM_OK);
}

/* The contract's loop for a consumer: receive (timeout 0) and release
 * until SHOULD_WAIT. */
static int drain_consumer(cm_handle_t cons, cm_status_t *end)
{
    cm_sbuf_msg_t m;
    int n = 0;
    cm_status_t st;
    while ((st = cm_sbuf_receive(cons, 0, 0, &m)) == CM_OK) {
        assert_status(cm_sbuf_release(cons, m.seq), CM_OK);
        n++;
    }
    *end = st;
    return n;
}

static void make_sbuf(cm_handle_t *buf, cm_handle_t *cons)
{
    cm_sbuf_config_t cfg = { .slot_count = 4, .slot_size = 64, .max_consumers = 1,
                             .max_held = 4, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(*buf, CM_RIGHTS_SAME, cons), CM_OK);
}

/* Every publish wakes the fd (the consumer stays announced as a sleeper);
 * a receive that finds nothing drains the wake-ups, so after SHOULD_WAIT
 * the level-triggered fd is quiet until the next publish; a blocking wait
 * that comes and goes does not take the announcement down; the
 * producer's close wakes it for good and the receive says PEER_CLOSED. */
static void test_epoll_on_a_consumer_fd_wakes_on_publish_and_producer_close(void **state)
{
    (void)state;
    cm_handle_t buf, cons;
    int fd;
    uint32_t ev;
    cm_status_t end;
    cm_signals_t seen;
    make_sbuf(&buf, &cons);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, &fd, &ev),
                  CM_OK);
    int ep = epoll_of(fd, ev);
    assert_int_equal(epoll_events(ep, 0), 0);
    publish(buf, "one");
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    publish(buf, "two");
    assert_int_equal(drain_consumer(cons, &end), 2);
    assert_status(end, CM_ERR_SHOULD_WAIT);
    assert_int_equal(epoll_events(ep, 0), 0);
    /* A wait that sleeps and gives up (armed, then disarmed). */
    assert_status(cm_object_wait_one(cons, CM_SIGNAL_READABLE, 1000000, &seen),
                  CM_ERR_TIMED_OUT);
    publish(buf, "three");
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_int_equal(drain_consumer(cons, &end), 1);
    assert_int_equal(epoll_events(ep, 0), 0);
    cm_handle_close(buf);
    assert_true(epoll_events(ep, HANG_MS) & (EPOLLIN | EPOLLHUP));
    assert_int_equal(drain_consumer(cons, &end), 0);
    assert_status(end, CM_ERR_PEER_CLOSED);
    close(ep);
    cm_handle_close(cons);
}

/* Asking a consumer only for a signal it never asserts announces nothing:
 * publishes cost the producer no wake-up byte. */
static void test_a_consumer_fd_for_writable_alone_announces_no_sleeper(void **state)
{
    (void)state;
    cm_handle_t buf, cons;
    int fd;
    uint32_t ev;
    cm_status_t end;
    make_sbuf(&buf, &cons);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    assert_int_equal(ev, 0);
    int ep = epoll_of(fd, EPOLLIN);
    publish(buf, "quiet");
    assert_int_equal(epoll_events(ep, 0), 0);
    assert_int_equal(drain_consumer(cons, &end), 1);
    close(ep);
    cm_handle_close(cons);
    cm_handle_close(buf);
}

static void test_io_uring_poll_on_a_consumer_fd_wakes_on_publish(void **state)
{
    (void)state;
    struct io_uring ring;
    cm_handle_t buf, cons;
    int fd;
    uint32_t ev;
    cm_status_t end;
    uring_init_or_skip(&ring);
    make_sbuf(&buf, &cons);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    for (int round = 0; round < 20; round++) {
        uring_poll_submit(&ring, fd, ev);
        assert_int_equal(uring_poll_result(&ring, 0), 0);
        publish(buf, "m");
        assert_true(uring_poll_result(&ring, 1) & POLLIN);
        assert_int_equal(drain_consumer(cons, &end), 1);
        assert_status(end, CM_ERR_SHOULD_WAIT);
    }
    io_uring_queue_exit(&ring);
    cm_handle_close(cons);
    cm_handle_close(buf);
}

/* ---- SharedBuffer producers ---- */

/* Loans and publishes until the loan says SHOULD_WAIT (every slot held by
 * the consumers): the contract's draining loop for a producer. */
static int fill(cm_handle_t buf)
{
    cm_sbuf_loan_t loan;
    cm_status_t st;
    int n = 0;
    while ((st = cm_sbuf_loan(buf, 0, 0, &loan)) == CM_OK) {
        assert_status(cm_sbuf_publish(buf, loan.id, 1, NULL), CM_OK);
        n++;
    }
    assert_status(st, CM_ERR_SHOULD_WAIT);
    return n;
}

static void receive_release_one(cm_handle_t cons)
{
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(cons, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(cons, m.seq), CM_OK);
}

/* WRITABLE: after a loan said SHOULD_WAIT, a consumer's release makes the
 * producer's fd ready (the loop stays announced across a blocking wait
 * that comes and goes, and for a consumer that joins later); a slot freed
 * by a cancel in another call does too; after the next SHOULD_WAIT it is
 * quiet again. */
static void test_epoll_on_a_producer_fd_wakes_when_a_slot_frees(void **state)
{
    (void)state;
    cm_handle_t buf, cons, cons2;
    int fd;
    uint32_t ev;
    cm_signals_t seen;
    cm_sbuf_config_t cfg = { .slot_count = 3, .slot_size = 64, .max_consumers = 2,
                             .max_held = 3, .max_loans = 3, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &cons), CM_OK);
    assert_status(cm_host_object_fd(buf, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    assert_int_equal(ev, POLLIN);
    assert_status(cm_host_object_fd(buf, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_int_equal(ev, 0); /* a producer is never READABLE */
    int ep = epoll_of(fd, EPOLLIN);
    assert_int_equal(fill(buf), 3);
    assert_int_equal(epoll_events(ep, 0), 0);
    receive_release_one(cons);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_int_equal(fill(buf), 1);
    assert_int_equal(epoll_events(ep, 0), 0);
    /* A blocking wait that sleeps and gives up (armed, disarmed). */
    assert_status(cm_object_wait_one(buf, CM_SIGNAL_WRITABLE, 1000000, &seen), CM_ERR_TIMED_OUT);
    /* A loan that sleeps and times out (spins first on several CPUs). */
    cm_sbuf_loan_t late;
    assert_status(cm_sbuf_loan(buf, 0, 20000000, &late), CM_ERR_TIMED_OUT);
    receive_release_one(cons);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    /* A cancel frees the slot a loan held. */
    cm_sbuf_loan_t loan, none;
    assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 0, &none), CM_ERR_SHOULD_WAIT);
    assert_int_equal(epoll_events(ep, 0), 0);
    assert_status(cm_sbuf_cancel(buf, loan.id), CM_OK);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    /* Drain everything, then a consumer joins after the announcement. */
    cm_status_t end;
    (void)drain_consumer(cons, &end);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &cons2), CM_OK);
    assert_int_equal(fill(buf), 3);
    (void)drain_consumer(cons, &end);
    assert_int_equal(fill(buf), 0); /* cons2 holds every slot */
    assert_int_equal(epoll_events(ep, 0), 0);
    receive_release_one(cons2);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    close(ep);
    cm_handle_close(cons2);
    cm_handle_close(cons);
    cm_handle_close(buf);
}

/* A consumer that leaves holding every slot frees them: the hang-up wakes
 * the producer's fd, and the next loan succeeds. */
static void test_a_consumer_leaving_wakes_the_producer_fd(void **state)
{
    (void)state;
    cm_handle_t buf, cons;
    int fd;
    uint32_t ev;
    cm_sbuf_loan_t loan;
    make_sbuf(&buf, &cons);
    assert_status(cm_host_object_fd(buf, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    int ep = epoll_of(fd, ev);
    assert_int_equal(fill(buf), 4);
    assert_int_equal(epoll_events(ep, 0), 0);
    cm_handle_close(cons);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_OK);
    assert_status(cm_sbuf_cancel(buf, loan.id), CM_OK);
    close(ep);
    cm_handle_close(buf);
}

static void test_io_uring_poll_on_a_producer_fd_wakes_on_release(void **state)
{
    (void)state;
    struct io_uring ring;
    cm_handle_t buf, cons;
    int fd;
    uint32_t ev;
    uring_init_or_skip(&ring);
    make_sbuf(&buf, &cons);
    assert_status(cm_host_object_fd(buf, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    cm_sbuf_loan_t loan;
    for (int i = 0; i < 4; i++) {
        assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_OK);
        assert_status(cm_sbuf_publish(buf, loan.id, 1, NULL), CM_OK);
    }
    for (int round = 0; round < 20; round++) {
        assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_ERR_SHOULD_WAIT);
        uring_poll_submit(&ring, fd, ev);
        assert_int_equal(uring_poll_result(&ring, 0), 0);
        receive_release_one(cons);
        assert_true(uring_poll_result(&ring, 1) & POLLIN);
        assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_OK);
        assert_status(cm_sbuf_publish(buf, loan.id, 1, NULL), CM_OK);
    }
    io_uring_queue_exit(&ring);
    cm_handle_close(cons);
    cm_handle_close(buf);
}

/* ---- cm_host_channel_from_fd ---- */

static void roundtrip(cm_handle_t x, cm_handle_t y)
{
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_write(x, "hi", 2, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(y, (int64_t)HANG_MS * 1000000), CM_OK);
    assert_status(cm_channel_read(y, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 2);
    assert_memory_equal(buf, "hi", 2);
}

static void test_adopted_socketpair_ends_are_a_working_channel_owning_their_fds(void **state)
{
    (void)state;
    int sv[2];
    cm_handle_t x, y;
    cm_handle_info_t info;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x), CM_OK);
    assert_status(cm_host_channel_from_fd(sv[1], CM_RIGHTS_SAME, &y), CM_OK);
    assert_status(cm_handle_get_info(x, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);
    /* Made like every channel fd: close-on-exec, blocking. */
    assert_true(fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    roundtrip(x, y);
    roundtrip(y, x);
    /* The handle's fd is the adopted one. */
    int fd;
    uint32_t ev;
    assert_status(cm_host_object_fd(x, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_int_equal(fd, sv[0]);
    /* A handle over an adopted fd travels like any channel. */
    cm_handle_t a, b, got;
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "c", 1, &y, 1), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    roundtrip(x, got);
    cm_handle_close(got);
    cm_handle_close(a);
    cm_handle_close(b);
    /* Closing the handle closes the fd it owns. */
    assert_status(cm_handle_close(x), CM_OK);
    assert_int_equal(fcntl(sv[0], F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

static void test_adoption_rights_only_reduce(void **state)
{
    (void)state;
    int sv[2];
    cm_handle_t x, d;
    cm_handle_info_t info;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    /* MAP is not a channel right: asking for it grants nothing more. */
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP,
                                          &x),
                  CM_OK);
    assert_status(cm_handle_get_info(x, &info), CM_OK);
    assert_int_equal(info.rights, CM_RIGHT_READ | CM_RIGHT_WRITE);
    assert_status(cm_handle_duplicate(x, CM_RIGHTS_SAME, &d), CM_ERR_ACCESS_DENIED);
    cm_handle_close(x);
    /* Undefined bits: refused, fd still the caller's. */
    assert_status(cm_host_channel_from_fd(sv[1], 1u << 30, &x), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_channel_from_fd(sv[1], CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    assert_int_equal(close(sv[1]), 0);
}

static int tcp_pair(int *client, int *server, int *lis)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    *lis = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*lis < 0)
        return -1;
    if (bind(*lis, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(*lis, 1) != 0 ||
        getsockname(*lis, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return -1;
    *server = accept4(*lis, NULL, NULL, SOCK_CLOEXEC);
    return *server < 0 ? -1 : 0;
}

/* Each hostile fd: the typed error, the fd still open and unchanged (its
 * flags as before), no handle made. */
static void expect_refused(int fd, cm_status_t want)
{
    cm_handle_t h = CM_HANDLE_INVALID;
    int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
    uint32_t live = cm_host_live_handles();
    assert_true(fdfl >= 0 && fl >= 0);
    assert_status(cm_host_channel_from_fd(fd, CM_RIGHTS_SAME, &h), want);
    assert_int_equal(h, CM_HANDLE_INVALID);
    assert_int_equal(cm_host_live_handles(), live);
    assert_int_equal(fcntl(fd, F_GETFD), fdfl);
    assert_int_equal(fcntl(fd, F_GETFL), fl);
    assert_true(cm_status_detail()[0] != '\0');
}

static void test_adopting_anything_but_a_connected_seqpacket_socket_is_refused(void **state)
{
    (void)state;
    int sv[2], p[2], c = -1, s = -1, l = -1;
    /* TCP, connected. */
    assert_int_equal(tcp_pair(&c, &s, &l), 0);
    expect_refused(c, CM_ERR_WRONG_TYPE);
    expect_refused(s, CM_ERR_WRONG_TYPE);
    expect_refused(l, CM_ERR_WRONG_TYPE); /* a TCP listener: not AF_UNIX first */
    close(c);
    close(s);
    close(l);
    /* Seqpacket of another family (vsock, where the kernel has it): the
     * family is checked, not only the type. */
    int v = socket(AF_VSOCK, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (v >= 0) {
        expect_refused(v, CM_ERR_WRONG_TYPE);
        assert_non_null(strstr(cm_status_detail(), "AF_UNIX"));
        close(v);
    }
    /* AF_UNIX, but a byte stream or datagrams: no message boundaries/peer. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    expect_refused(sv[0], CM_ERR_WRONG_TYPE);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    expect_refused(sv[0], CM_ERR_WRONG_TYPE);
    close(sv[0]);
    close(sv[1]);
    /* Seqpacket, but listening, or not connected. */
    l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
    assert_true(l >= 0);
    expect_refused(l, CM_ERR_BAD_STATE); /* unconnected */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 1), 0);
    expect_refused(l, CM_ERR_BAD_STATE); /* listening */
    assert_non_null(strstr(cm_status_detail(), "listening"));
    close(l);
    unlink(sock_path);
    /* Not a socket at all. */
    assert_int_equal(pipe(p), 0);
    expect_refused(p[0], CM_ERR_WRONG_TYPE);
    expect_refused(p[1], CM_ERR_WRONG_TYPE);
    close(p[1]);
    /* A closed fd, and -1. */
    cm_handle_t h;
    assert_status(cm_host_channel_from_fd(p[1], CM_RIGHTS_SAME, &h), CM_ERR_INVALID_ARGS);
    close(p[0]);
    assert_status(cm_host_channel_from_fd(-1, CM_RIGHTS_SAME, &h), CM_ERR_INVALID_ARGS);
}

/* A full handle table: NO_RESOURCES, and the fd is the caller's again,
 * open, with the flags it had (O_NONBLOCK set back). */
static void test_adoption_failing_for_the_handle_limit_gives_the_fd_back_unchanged(void **state)
{
    (void)state;
    static cm_handle_t dups[CM_MAX_HANDLES];
    cm_handle_t a, b;
    int sv[2];
    uint32_t n = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    while (n < CM_MAX_HANDLES && cm_handle_duplicate(a, CM_RIGHTS_SAME, &dups[n]) == CM_OK)
        n++;
    assert_true(n < CM_MAX_HANDLES);
    expect_refused(sv[0], CM_ERR_NO_RESOURCES);
    while (n > 0)
        cm_handle_close(dups[--n]);
    cm_handle_t x, y;
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x), CM_OK);
    assert_status(cm_host_channel_from_fd(sv[1], CM_RIGHTS_SAME, &y), CM_OK);
    roundtrip(x, y);
    cm_handle_close(x);
    cm_handle_close(y);
    cm_handle_close(a);
    cm_handle_close(b);
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
        LEAK_TEST(test_epoll_on_a_consumer_fd_wakes_on_publish_and_producer_close),
        LEAK_TEST(test_a_consumer_fd_for_writable_alone_announces_no_sleeper),
        LEAK_TEST(test_io_uring_poll_on_a_consumer_fd_wakes_on_publish),
        LEAK_TEST(test_epoll_on_a_producer_fd_wakes_when_a_slot_frees),
        LEAK_TEST(test_a_consumer_leaving_wakes_the_producer_fd),
        LEAK_TEST(test_io_uring_poll_on_a_producer_fd_wakes_on_release),
        LEAK_TEST(test_adopted_socketpair_ends_are_a_working_channel_owning_their_fds),
        LEAK_TEST(test_adoption_rights_only_reduce),
        DIR_TEST(test_adopting_anything_but_a_connected_seqpacket_socket_is_refused),
        LEAK_TEST(test_adoption_failing_for_the_handle_limit_gives_the_fd_back_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
