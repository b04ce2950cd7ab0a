/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_THREADS_H
#define CAPMEM_TESTS_THREADS_H

/* Threads for tests that block one thread in the library and act on it
 * from another. Whether a thread is already blocked is only made likely
 * (bounded polling of /proc), never relied on: every test must pass
 * whichever order happens. */

#include <pthread.h>
#include <stdatomic.h>

#include "leakcheck.h" /* cmocka */

struct test_thread {
    pthread_t thread;
    atomic_int tid; /* its kernel thread id, 0 until it runs */
    void (*fn)(void *);
    void *arg;
};

/* Starts fn(arg) in a new thread t; fails the test if it cannot. */
void thread_start(struct test_thread *t, void (*fn)(void *), void *arg);

/* Joins t; fails the test if it cannot. */
void thread_join(struct test_thread *t);

/* Sleeps about ms milliseconds. */
void nap_ms(long ms);

/* True once thread tid of this process sleeps in the kernel (state S),
 * e.g. on a lock. */
int task_sleeping(int tid);

/* Returns once t sleeps in poll(2) or futex_waitv(2) (its wchan says so),
 * or after about 5 s. */
void await_blocked(struct test_thread *t);

/* True once thread tid of this process sleeps in futex_waitv(2). */
int task_in_futex_waitv(int tid);

/* Returns once t sleeps in futex_waitv(2), or after about 5 s. */
void await_futex_waitv(struct test_thread *t);

/* Returns once t sleeps in the kernel (task_sleeping), or after about 5 s. */
void await_sleeping(struct test_thread *t);

#endif
