/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_DEADLINE_H
#define CAPMEM_CORE_DEADLINE_H

/* The one deadline rule of every wait on both targets.
 *
 * A caller's timeout is a relative int64_t in nanoseconds: CM_TIMEOUT_INFINITE
 * (-1) waits forever, 0 polls, any other negative value is INVALID_ARGS (a
 * computed timeout that went negative is a caller bug, not "forever").
 * Internally a wait works on an absolute deadline on a monotonic nanosecond
 * clock the target supplies; the arithmetic saturates, so INT64_MAX is simply
 * "later than any clock will reach", never an overflow. */

#include <stdint.h>
#include <capmem/status.h>
#include <capmem/channel.h>

/* No deadline: wait until the condition holds. */
#define CM__DEADLINE_NONE UINT64_MAX

/* The rule alone, for validators that check arguments before any clock is
 * read: OK for CM_TIMEOUT_INFINITE and every value >= 0.
 * Errors: INVALID_ARGS. */
cm_status_t cm__timeout_check(int64_t timeout_ns);

/* Converts a caller's timeout at time now_ns into an absolute deadline.
 * Errors: INVALID_ARGS (negative and not CM_TIMEOUT_INFINITE). */
cm_status_t cm__deadline_from_timeout(uint64_t now_ns, int64_t timeout_ns, uint64_t *deadline);

/* True once now_ns has reached a finite deadline. */
int cm__deadline_passed(uint64_t deadline, uint64_t now_ns);

/* Nanoseconds left (0 once passed; CM__DEADLINE_NONE for no deadline). */
uint64_t cm__deadline_left_ns(uint64_t deadline, uint64_t now_ns);

/* Milliseconds for one poll(2)-style call: -1 for no deadline, else the time
 * left rounded up (a wait never ends early), capped at max_ms so that the
 * caller re-checks the clock at least that often. */
int cm__deadline_poll_ms(uint64_t deadline, uint64_t now_ns, int max_ms);

#endif
