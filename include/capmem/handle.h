/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HANDLE_H
#define CAPMEM_HANDLE_H

#include <stdint.h>
#include <capmem/status.h>
#include <capmem/rights.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A handle is a process-local name for an object plus a rights mask.
 * Values carry generation bits: a closed handle's value is not silently
 * reissued for another object soon after. 0 is never a valid handle. */
typedef uint32_t cm_handle_t;

#define CM_HANDLE_INVALID ((cm_handle_t)0)

/* Object types. Values are ABI. */
typedef enum cm_obj_type {
    CM_OBJ_NONE = 0,
    CM_OBJ_VMO = 1,
    CM_OBJ_CHANNEL = 2,
    CM_OBJ_LISTENER = 3,  /* host only: a path others connect channels to */
    CM_OBJ_DMA_POOL = 4,
    CM_OBJ_MMIO = 5,
    CM_OBJ_VMAR = 6,
    CM_OBJ_SBUF = 7,          /* SharedBuffer, producer role (capmem/sbuf.h) */
    CM_OBJ_SBUF_CONSUMER = 8, /* one consumer of a SharedBuffer */
    CM_OBJ_PROCESS = 9,       /* kernel only: a child process (wait, kill) */
    CM_OBJ_DMA_DEVICE = 10,   /* kernel only: a driver's DMA device (user/cmk.h) */
    CM_OBJ_ACCOUNT = 11,      /* kernel only: a ledger account (user/cmk.h) */
    CM_OBJ_TYPE_COUNT
} cm_obj_type_t;

typedef struct cm_handle_info {
    uint32_t type;      /* cm_obj_type_t */
    cm_rights_t rights; /* rights of this handle */
} cm_handle_info_t;

/* Closes a handle. Every thread blocked in a wait through this handle
 * (cm_object_wait_one/many, cm_channel_wait_readable, cm_host_accept) wakes
 * with BAD_HANDLE; waits
 * through other handles to the same object go on. The object is destroyed
 * when its last handle (and, for VMOs, its last mapping) is gone, whether or
 * not a thread is still waiting on it: a channel's peer sees PEER_CLOSED
 * and a listener stops accepting when this call returns.
 * Errors: BAD_HANDLE. Closing CM_HANDLE_INVALID is OK (no-op). */
cm_status_t cm_handle_close(cm_handle_t handle);

/* Creates a second handle to the same object with `rights` (a subset of the
 * source's rights, or CM_RIGHTS_SAME).
 * Errors: BAD_HANDLE; INVALID_ARGS (out is NULL, or rights not a subset);
 * ACCESS_DENIED (source lacks DUPLICATE); NO_RESOURCES (handle limit).
 * BAD_HANDLE also when the source's last handle is closed by another thread
 * during the call: a closed object is never named again. */
cm_status_t cm_handle_duplicate(cm_handle_t handle, cm_rights_t rights, cm_handle_t *out);

/* Replaces `handle` with a new handle with `rights` (subset or
 * CM_RIGHTS_SAME). On success `handle` is invalid (waits through it wake
 * with BAD_HANDLE, as after a close); on failure it is unchanged
 * unless the error is BAD_HANDLE. Needs no right.
 * Errors: BAD_HANDLE; INVALID_ARGS (out NULL, rights not a subset). */
cm_status_t cm_handle_replace(cm_handle_t handle, cm_rights_t rights, cm_handle_t *out);

/* Type and rights of a handle. Errors: BAD_HANDLE; INVALID_ARGS (info NULL). */
cm_status_t cm_handle_get_info(cm_handle_t handle, cm_handle_info_t *info);

#ifdef __cplusplus
}
#endif

#endif
