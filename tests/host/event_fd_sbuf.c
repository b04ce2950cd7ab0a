/* SPDX-License-Identifier: MIT */
/* Pollable fds of SharedBuffer consumers and producers
 * (docs/integration.md, docs/sbuf.md "Object waits"): every publish or
 * release after the announcement wakes the fd; the draining call (receive
 * or loan with timeout 0 until SHOULD_WAIT) leaves it quiet. */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/evloop.h"
#include "common/leakcheck.h"

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


int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_epoll_on_a_consumer_fd_wakes_on_publish_and_producer_close),
        LEAK_TEST(test_a_consumer_fd_for_writable_alone_announces_no_sleeper),
        LEAK_TEST(test_io_uring_poll_on_a_consumer_fd_wakes_on_publish),
        LEAK_TEST(test_epoll_on_a_producer_fd_wakes_when_a_slot_frees),
        LEAK_TEST(test_a_consumer_leaving_wakes_the_producer_fd),
        LEAK_TEST(test_io_uring_poll_on_a_producer_fd_wakes_on_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
