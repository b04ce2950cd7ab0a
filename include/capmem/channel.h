/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CHANNEL_H
#define CAPMEM_CHANNEL_H

#include <stdint.h>
#include <capmem/handle.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Channels: a connected pair of endpoints carrying messages of bytes plus
 * handles. Bounded by CM_CHANNEL_MAX_BYTES and CM_CHANNEL_MAX_HANDLES.
 * A received object's size, immutability and rights come from the platform,
 * never from the message bytes. */

#define CM_CHANNEL_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | \
                                   CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

/* Infinite timeout for every wait (cm_object_wait_*, cm_channel_wait_readable,
 * cm_host_accept, DMA fences). Any other negative timeout is INVALID_ARGS. */
#define CM_TIMEOUT_INFINITE ((int64_t)-1)

/* Creates a connected pair. `options` must be 0.
 * Errors: INVALID_ARGS; NO_RESOURCES (handle limit); NO_MEMORY. */
cm_status_t cm_channel_create(uint32_t options, cm_handle_t *end0, cm_handle_t *end1);

/* Writes one message. Needs WRITE on `channel`; each sent handle needs
 * TRANSFER. The listed handles are always consumed: every live one is closed
 * in the caller whether the write succeeds or fails, whatever the error. A
 * listed value that is not a live handle fails the write with BAD_HANDLE
 * (the live ones are still consumed). A handle may not be listed twice, nor
 * be `channel` itself (INVALID_ARGS; `channel` stays open, the other listed
 * handles are consumed). Kernel target: no cycle of endpoints may form
 * (they would keep each other alive after every process let go), so
 * sending a channel's own peer endpoint through it is INVALID_ARGS, and
 * sending any endpoint whose queue holds a channel endpoint is BAD_STATE
 * (read those out first; docs/kernel.md, "No cycles"); an unreadable
 * handle array is INVALID_ARGS with nothing consumed, since the values
 * cannot be known.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED (no WRITE, no TRANSFER);
 * BAD_STATE (kernel target: an endpoint carrying endpoints; host: a VMO
 * not frozen that this process maps and cm_host_vmo_export_fd would refuse
 * for the same reason: size not sealed and no WRITE, or huge pages not
 * write-sealed);
 * INVALID_ARGS (NULL with count > 0, duplicate handle); OUT_OF_RANGE
 * (num_bytes > CM_CHANNEL_MAX_BYTES, num_handles > CM_CHANNEL_MAX_HANDLES);
 * UNSUPPORTED (a right the target cannot enforce across processes would be
 * dropped, e.g. a VMO without WRITE that is not sealed on host);
 * PEER_CLOSED; SHOULD_WAIT (queue full: wait for CM_SIGNAL_WRITABLE). */
cm_status_t cm_channel_write(cm_handle_t channel, const void *bytes, uint32_t num_bytes,
                             const cm_handle_t *handles, uint32_t num_handles);

/* Reads one message without blocking. On success the handles are new
 * handles in the caller. If a buffer is too small, returns BUFFER_TOO_SMALL
 * with the needed sizes in *actual_* and leaves the message queued.
 * actual_bytes and actual_handles may be NULL (the sizes are then not
 * reported), on both targets. Needs READ.
 * A message leaves the queue only when it is delivered or found malformed:
 * every local shortage leaves it queued, intact, for a retry.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; INVALID_ARGS;
 * SHOULD_WAIT (empty); PEER_CLOSED (empty and peer gone: closed, or on host
 * shut down its writing side); BUFFER_TOO_SMALL (message stays queued);
 * PROTOCOL (peer sent a malformed message, an empty record included: that
 * message is dropped and everything that arrived with it closed; the next
 * read goes on with the next message); NO_RESOURCES (the caller's handle
 * table, or on host its fd table under RLIMIT_NOFILE, has no room for the
 * message's handles: the message stays queued); NO_MEMORY (stays queued). */
cm_status_t cm_channel_read(cm_handle_t channel, void *bytes, uint32_t bytes_cap,
                            uint32_t *actual_bytes, cm_handle_t *handles,
                            uint32_t handles_cap, uint32_t *actual_handles);

/* A thin wrapper over cm_object_wait_one(channel, READABLE | PEER_CLOSED):
 * OK if READABLE was observed, else PEER_CLOSED (capmem/object.h).
 * Blocks until a message is queued, the peer closed, or timeout_ns passed
 * (CM_TIMEOUT_INFINITE: no limit; 0: poll; values up to INT64_MAX are
 * honoured, saturating). Closing `channel` (or sending or replacing it) in
 * another thread wakes the wait with BAD_HANDLE; closing another handle to
 * the same endpoint does not (docs/channel.md, "Waiting and closing").
 * Returns OK (readable), PEER_CLOSED (nothing queued and peer gone),
 * TIMED_OUT. Errors: INVALID_ARGS (negative timeout other than
 * CM_TIMEOUT_INFINITE; checked first); BAD_HANDLE (also: closed while
 * waiting); WRONG_TYPE; NO_RESOURCES (host: no fd left for the wake-up of a
 * wait that must block). */
cm_status_t cm_channel_wait_readable(cm_handle_t channel, int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif
