/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_STATUS_H
#define CAPMEM_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every capmem function returns a cm_status_t: 0 on success, a negative
 * CM_ERR_* code otherwise. errno is never the error channel. */
typedef int32_t cm_status_t;

/* The single table of status codes: X(name, value, message).
 * Code, docs and cm_status_str() are generated from it, so they cannot drift.
 * Values are ABI (shared with the kernel target's syscalls): never renumber. */
#define CM_STATUS_TABLE(X)                                                        \
    X(OK,               0,  "success")                                            \
    X(INVALID_ARGS,    -1,  "invalid argument")                                   \
    X(BAD_HANDLE,      -2,  "handle was never issued, was closed, or is stale")   \
    X(WRONG_TYPE,      -3,  "handle names an object of another type")             \
    X(ACCESS_DENIED,   -4,  "handle lacks a required right, or the object is sealed") \
    X(OUT_OF_RANGE,    -5,  "offset, length or size outside the object or a limit") \
    X(NO_MEMORY,       -6,  "memory could not be allocated")                      \
    X(NO_RESOURCES,    -7,  "a named per-process or per-object limit was reached") \
    X(BAD_STATE,       -8,  "operation not valid in the object's current state")  \
    X(PEER_CLOSED,     -9,  "the other end of the channel is closed")            \
    X(SHOULD_WAIT,     -10, "nothing available now; wait and retry")              \
    X(BUFFER_TOO_SMALL,-11, "caller's buffer too small; message left queued")     \
    X(UNSUPPORTED,     -12, "not supported or not enforceable on this target")   \
    X(IO,              -13, "device or operating system I/O error")               \
    X(TIMED_OUT,       -14, "deadline passed before the condition held")          \
    X(PROTOCOL,        -15, "peer sent a malformed or inconsistent message")      \
    X(NOT_FOUND,       -16, "named entity does not exist")                        \
    X(ALREADY_EXISTS,  -17, "named entity already exists")                        \
    X(QUOTA_VIRTUAL,   -18, "virtual address-space quota exhausted")              \
    X(QUOTA_COMMIT,    -19, "committed-memory quota exhausted")                   \
    X(MEMORY_PRESSURE, -20, "global memory pressure: no frames available")        \
    X(PUBLISH_FAILED,  -21, "result handle could not be published to the caller") \
    X(INTERNAL,        -22, "internal invariant violated (a capmem bug)")          \
    X(CONNECTION_REFUSED, -23, "nothing listens at that name (a stale socket file?)")

enum {
#define CM__STATUS_ENUM(name, value, msg) CM_ERR_##name = (value),
    CM_STATUS_TABLE(CM__STATUS_ENUM)
#undef CM__STATUS_ENUM
};

#define CM_OK ((cm_status_t)CM_ERR_OK)

/* Returns a static, human-readable message for any status; unknown values
 * give "unknown status". Never returns NULL. */
const char *cm_status_str(cm_status_t status);

/* Returns the symbolic name ("CM_ERR_ACCESS_DENIED", "CM_OK"); never NULL. */
const char *cm_status_name(cm_status_t status);

/* A diagnostic for the last failed capmem call on this thread: the system
 * call and errno behind it, the limit that was hit (by name and value), or a
 * hint of what to do ("seal the VMO READONLY or IMMUTABLE before sending it
 * without WRITE"). For people, not programs: the status code stays the API
 * and the text may change between versions; never parse it.
 * - Per thread: other threads' calls never change it.
 * - Every call that returns a cm_status_t clears it on entry, except
 *   cm_handle_close (the cleanup between a failure and its report), which
 *   keeps it and replaces it only when the close itself fails. So it is ""
 *   after a call that succeeded or whose status says all there is
 *   (SHOULD_WAIT, TIMED_OUT...). Read it right after the failed call.
 * - At most 255 bytes, truncated; never NULL; the pointer is valid for the
 *   thread's life, its text changes with the thread's next call.
 * - Kernel target: always "" (only the status crosses the syscall).
 * Thread-safe; like every capmem call, not async-signal-safe. */
const char *cm_status_detail(void);

#ifdef __cplusplus
}
#endif

#endif
