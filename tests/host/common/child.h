/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_CHILD_H
#define CAPMEM_TESTS_CHILD_H

/* Runs code that could die of a signal or hang in a forked child, so that a
 * defect is a failed test, not a dead test program. */

#include <stdio.h>
#include <sys/types.h>

#include <capmem/host.h>
#include "leakcheck.h" /* cmocka */

/* Default time bound of a child, below lease-break-time (45 s). */
#define CHILD_ALARM_S 30

/* Runs fn(arg) in a forked child under an alarm of alarm_s seconds, with the
 * fatal signals cmocka catches (SIGBUS, SIGSEGV, SIGILL, SIGFPE, SIGABRT)
 * reset to their default, and stdio flushed before the fork. Returns the
 * child's exit code, or 1000 + signal if it died of one. The child never
 * returns into cmocka. */
int in_child_alarm(int (*fn)(void *), void *arg, unsigned alarm_s);

/* in_child_alarm with CHILD_ALARM_S. */
int in_child(int (*fn)(void *), void *arg);

/* Fails the test, saying how, unless rc (from in_child) is 0. */
#define assert_child_ok(rc)                                                       \
    do {                                                                          \
        int rc_ = (rc);                                                           \
        if (rc_ != 0)                                                             \
            fail_msg("child failed: %s %d", rc_ >= 1000 ? "signal" : "exit code", \
                     rc_ >= 1000 ? rc_ - 1000 : rc_);                             \
    } while (0)

/* ---- children that count their failed checks ----
 *
 * The child cannot use cmocka (a failed assert would longjmp into the
 * child's copy of the runner): it counts its failed checks with
 * CHILD_EXPECT/CHILD_CHECK, prints what failed, and reports the count
 * through its exit status (child_exit); an alarm turns a hang into a signal
 * the parent sees. Exit status CHILD_SKIP means the child could not set the
 * test up: assert_child_passed skips the test. */

#define CHECKED_CHILD_ALARM_S 20
#define CHILD_SKIP 77

/* Failed checks in this child; 0 in the parent. */
extern int child_failures;

#define CHILD_EXPECT(call, expected)                                                  \
    do {                                                                              \
        cm_status_t got_ = (call);                                                    \
        if (got_ != (expected)) {                                                     \
            fprintf(stderr, "child: %s: %s, expected %s\n", #call, cm_status_name(got_), \
                    cm_status_name(expected));                                        \
            child_failures++;                                                         \
        }                                                                             \
    } while (0)

#define CHILD_CHECK(cond)                                                             \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "child: %s is false\n", #cond);                           \
            child_failures++;                                                         \
        }                                                                             \
    } while (0)

/* First thing a checked child does (fork_checked_child does it): fatal
 * signals to their default (as in_child), no failures yet, the alarm. */
void checked_child_begin(void);

/* Flushes stdio and forks; in the child, checked_child_begin. Returns the
 * pid, 0 in the child; fails the test if fork fails. */
pid_t fork_checked_child(void);

/* Ends a checked child: exit status = its failure count, at most 100 and
 * never CHILD_SKIP (a failure count is never read as a skip). */
__attribute__((noreturn)) void child_exit(void);

/* Waits for the checked child pid: fails the test if a signal killed it
 * (SIGALRM for a hang) or if it reported failed checks; skips the test if
 * it exited CHILD_SKIP. */
void assert_child_passed(pid_t pid);

#endif
