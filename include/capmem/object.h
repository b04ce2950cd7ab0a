/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_OBJECT_H
#define CAPMEM_OBJECT_H

/* Object signals and waiting (Zircon's model), the same on both targets.
 *
 * Every waitable object has a set of signals, each asserted or not at any
 * moment, derived from the object's state (nothing stores them):
 *
 *   channel   READABLE     a message is queued at this end (host, after a
 *                          hang-up: only while a record is still queued,
 *                          as cm_channel_read agrees)
 *             WRITABLE     a cm_channel_write would not return SHOULD_WAIT:
 *                          the peer is alive and its queue has room (kernel:
 *                          fewer than CM_CHANNEL_MAX_QUEUED messages; host:
 *                          the socket's send buffer is not full). Never
 *                          asserted together with PEER_CLOSED.
 *             PEER_CLOSED  the peer endpoint is gone (host: closed, or shut
 *                          down its writing side); it never comes back
 *   listener  READABLE     a connection is pending (cm_host_accept would
 *   (host)                 not block)
 *
 * VMOs and DMA pools have no signals: waiting on them is WRONG_TYPE.
 *
 * Waiting needs no right: it reveals nothing a holder of the handle cannot
 * learn by a read or write attempt, as cm_channel_wait_readable never did.
 *
 * Timeouts are relative, in nanoseconds, like every capmem wait (core/
 * deadline.h): CM_TIMEOUT_INFINITE waits forever, 0 polls, values up to
 * INT64_MAX are honoured (saturating), any other negative value is
 * INVALID_ARGS. */

#include <stdint.h>
#include <capmem/channel.h> /* CM_TIMEOUT_INFINITE */
#include <capmem/handle.h>
#include <capmem/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t cm_signals_t;

/* Values are ABI. */
#define CM_SIGNAL_READABLE    ((cm_signals_t)1u << 0)
#define CM_SIGNAL_WRITABLE    ((cm_signals_t)1u << 1)
#define CM_SIGNAL_PEER_CLOSED ((cm_signals_t)1u << 2)
/* Every signal defined so far: other bits are INVALID_ARGS. */
#define CM_SIGNALS_ALL (CM_SIGNAL_READABLE | CM_SIGNAL_WRITABLE | CM_SIGNAL_PEER_CLOSED)

/* Waits until at least one of `signals` is asserted on the object `handle`
 * names, or timeout_ns passes.
 * Returns OK as soon as one requested signal is asserted (at once if one
 * already is); TIMED_OUT when the timeout passes first (0: a poll).
 * On OK and TIMED_OUT, *observed holds every signal asserted on the object
 * at that moment, requested or not; on other errors it is unspecified.
 * Closing `handle` (or sending or replacing it) in another thread wakes the
 * wait with BAD_HANDLE (host; a kernel process has one thread).
 * Errors, in this order: INVALID_ARGS (signals 0 or with a bit outside
 * CM_SIGNALS_ALL; negative timeout other than CM_TIMEOUT_INFINITE; observed
 * NULL); BAD_HANDLE (also: closed while waiting); WRONG_TYPE (an object
 * without signals: VMO, DMA pool); NO_RESOURCES (host: no fd left for the
 * wake-up of a wait that must block); NO_MEMORY (host: the receive buffer
 * a hung-up channel needs to tell a queued empty record from the end). */
cm_status_t cm_object_wait_one(cm_handle_t handle, cm_signals_t signals, int64_t timeout_ns,
                               cm_signals_t *observed);

typedef struct cm_wait_item {
    cm_handle_t handle;
    cm_signals_t waitfor; /* signals to wait for: non-zero, within CM_SIGNALS_ALL */
    cm_signals_t pending; /* out: every signal asserted on the object */
} cm_wait_item_t;

/* Waits until at least one item's object asserts one of that item's
 * `waitfor` signals, or timeout_ns passes. count is at most
 * CM_WAIT_MANY_MAX (capmem/limits.h). A handle may appear in several items.
 * Returns OK as soon as one item matches; TIMED_OUT when the timeout passes
 * first. On OK and TIMED_OUT every item's `pending` holds all signals then
 * asserted on its object (so the caller sees every item that matched, not
 * only the first); on other errors the `pending` fields are unspecified.
 * Closing any listed handle in another thread wakes the wait with
 * BAD_HANDLE (host).
 * Errors, in this order: INVALID_ARGS (items NULL; count 0; negative
 * timeout other than CM_TIMEOUT_INFINITE); OUT_OF_RANGE (count >
 * CM_WAIT_MANY_MAX); INVALID_ARGS (an item's waitfor 0 or with an unknown
 * bit: checked once the count is known to be bounded); then for each item
 * in order BAD_HANDLE, WRONG_TYPE; NO_RESOURCES, NO_MEMORY (host, as for
 * cm_object_wait_one); kernel target: INVALID_ARGS if `items` is not readable and
 * writable memory. */
cm_status_t cm_object_wait_many(cm_wait_item_t *items, uint32_t count, int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif
