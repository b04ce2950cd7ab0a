/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_EVLOOP_H
#define CAPMEM_TESTS_EVLOOP_H

/* Event-loop helpers for the pollable-fd tests (docs/integration.md): one
 * epoll set per fd, and one io_uring poll request at a time. */

#include <stdint.h>
#include <liburing.h>
#include "leakcheck.h" /* cmocka */

/* A bound on every wait that should end at once: only a defect reaches it. */
#define HANG_MS 10000

/* An epoll set watching fd for `events` (data.u32 = 7). */
int epoll_of(int fd, uint32_t events);

/* epoll_wait for at most ms; returns the events reported (0: none). */
uint32_t epoll_events(int ep, int ms);

/* Inits a 4-entry ring, or skips the test where io_uring is disabled
 * (kernel.io_uring_disabled, seccomp): the epoll tests cover the same fds. */
void uring_init_or_skip(struct io_uring *ring);

/* Submits one IORING_OP_POLL_ADD on fd for events (user data 42). */
void uring_poll_submit(struct io_uring *ring, int fd, uint32_t events);

/* Its completion's revents: waits at most HANG_MS (wait) or only peeks;
 * 0 if none came. */
int uring_poll_result(struct io_uring *ring, int wait);

#endif
