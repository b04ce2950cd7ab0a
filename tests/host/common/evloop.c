/* SPDX-License-Identifier: MIT */
/* Event-loop helpers (evloop.h). */
#include <errno.h>
#include <sys/epoll.h>

#include "evloop.h"

int epoll_of(int fd, uint32_t events)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct epoll_event e = { .events = events, .data.u32 = 7 };
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
    return ep;
}

/* epoll_wait for at most ms; returns the events reported (0: none). */
uint32_t epoll_events(int ep, int ms)
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
void uring_poll_submit(struct io_uring *ring, int fd, uint32_t events)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    assert_non_null(sqe);
    io_uring_prep_poll_add(sqe, fd, events);
    io_uring_sqe_set_data64(sqe, 42);
    assert_int_equal(io_uring_submit(ring), 1);
}

int uring_poll_result(struct io_uring *ring, int wait)
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

void uring_init_or_skip(struct io_uring *ring)
{
    int r = io_uring_queue_init(4, ring, 0);
    if (r == -ENOSYS || r == -EPERM) {
        /* io_uring disabled (kernel.io_uring_disabled, seccomp): the epoll
         * tests cover the same fd. */
        skip();
    }
    assert_int_equal(r, 0);
}

/* IORING_OP_POLL_ADD is one-shot and level-checked when armed: armed on an
 * empty channel it completes when the peer sends; re-armed after a drain
 * it stays pending; it completes when the peer closes. */
