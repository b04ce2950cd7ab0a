#ifndef CAPMEM_TESTS_CHILD_H
#define CAPMEM_TESTS_CHILD_H

/* Runs code that could die of a signal or hang in a forked child, so that a
 * defect is a failed test, not a dead test program. */

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

#endif
