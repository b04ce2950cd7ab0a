/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_DMA_H
#define CAPMEM_DMA_H

#include <stdint.h>
#include <capmem/handle.h>
#include <capmem/limits.h>
#include <capmem/channel.h> /* CM_TIMEOUT_INFINITE */

#ifdef __cplusplus
extern "C" {
#endif

/* DMA buffers with ownership and fences. See docs/dma.md.
 *
 * A pool (a handle of type CM_OBJ_DMA_POOL) owns a bounded number of
 * bounded-size buffers and one device. Each buffer is either owned by the
 * CPU (one client, which may read and write it) or by a fence (the device
 * may read and write it; the API gives the CPU no access at all, and with
 * CM_DMA_POOL_CPU_GUARD neither does the MMU). Submitting a buffer
 * with an operation moves it into a fence; waiting on the fence gives it
 * back, CPU-owned, with the operation's result. A released buffer is zeroed
 * before any client can acquire it again. A buffer whose pool is destroyed
 * while the device holds it is quarantined until the device completes it.
 *
 * Buffer and fence ids are pool-local, 64-bit, and carry generations: an id
 * that was released, consumed or never issued is rejected with BAD_HANDLE,
 * never taken for another buffer. They are not handles: they mean nothing
 * outside their pool and cannot be sent over a channel.
 *
 * The device is named by a string the target resolves (cm_dma_pool_attach):
 * on host a file or block device opened O_DIRECT and driven through io_uring
 * with the pool's buffers registered (pinned), so the storage controller DMAs
 * into them. <capmem/host_dma.h> adds host-only extras.
 *
 * Targets: both implement every call below on the same state machine
 * (core/dma_own.c). The kernel target's device is one a user-space driver
 * registered by name (docs/mmio.md, docs/dma.md "Kernel target"); its
 * buffers are unmapped from the CPU whenever they are not CPU-owned, with or
 * without CM_DMA_POOL_CPU_GUARD.
 *
 * Fork (host). A pool belongs to the process that created it. A child made
 * by fork() inherits the handle value but nothing behind it: every call
 * below on an inherited pool returns BAD_STATE (checked before anything of
 * the pool is touched), and cm_handle_close on it succeeds and releases
 * only the child's own bookkeeping; the parent's buffers, fences and device
 * are never affected. Each "BAD_STATE" below includes this case.
 *
 * Timeouts follow the one rule of every wait: CM_TIMEOUT_INFINITE (-1)
 * waits forever, 0 polls, any other negative value is INVALID_ARGS, and
 * large values (INT64_MAX) are simply "no earlier than that". */

/* Bounds: CM_DMA_MAX_BUFFERS, CM_DMA_MAX_BUFFER_SIZE, CM_DMA_MAX_IN_FLIGHT in
 * <capmem/limits.h>. */

/* Rights of a new pool handle: READ/WRITE for CPU access to buffers,
 * SIGNAL to submit and wait. Pools cannot be transferred (their buffers and
 * device are bound to the creating process). */
#define CM_DMA_POOL_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_SIGNAL | \
                                    CM_RIGHT_DUPLICATE)

typedef uint64_t cm_dma_buffer_t;
typedef uint64_t cm_dma_fence_t;

#define CM_DMA_BUFFER_INVALID ((cm_dma_buffer_t)0)
#define CM_DMA_FENCE_INVALID ((cm_dma_fence_t)0)

/* cm_dma_pool_config.options */
/* Debugging mode: besides the API checks (which hold in every mode: no
 * pointer to a buffer that is not CPU-owned is handed out, and map, read,
 * write, release and detach on one return BAD_STATE), the MMU stops the CPU
 * too. A buffer's memory is inaccessible while the pool or a fence holds it
 * (host: mprotect PROT_NONE on submit and release, back on wait and
 * acquire), so a pointer the caller kept from before a submit faults
 * instead of racing the device. It costs two protection changes, TLB
 * flushes and re-faulting the buffer's pages per operation: several times
 * the CPU time of the I/O itself and a large part of its throughput (see
 * docs/dma.md for the measured price). Off by default. */
#define CM_DMA_POOL_CPU_GUARD (1u << 1)
/* Deprecated, accepted and ignored: the guard is off unless
 * CM_DMA_POOL_CPU_GUARD asks for it. Both together are INVALID_ARGS. */
#define CM_DMA_POOL_NO_CPU_GUARD (1u << 0)

typedef struct cm_dma_pool_config {
    uint32_t buffer_count;  /* 1 .. CM_DMA_MAX_BUFFERS */
    uint32_t buffer_size;   /* multiple of CM_PAGE_SIZE, 1 page .. CM_DMA_MAX_BUFFER_SIZE */
    uint32_t max_in_flight; /* 1 .. min(buffer_count, CM_DMA_MAX_IN_FLIGHT) */
    uint32_t options;       /* CM_DMA_POOL_* flags; others must be 0 */
} cm_dma_pool_config_t;

/* Operation kinds. */
#define CM_DMA_OP_READ  1u /* device -> buffer */
#define CM_DMA_OP_WRITE 2u /* buffer -> device */

/* One device operation on a window of a buffer. buffer_offset, length and
 * device_offset must be multiples of the device's block size
 * (cm_dma_pool_info.device_block_size); length > 0. */
typedef struct cm_dma_op {
    uint32_t kind;          /* CM_DMA_OP_* */
    uint32_t buffer_offset;
    uint32_t length;
    uint32_t reserved;      /* must be 0 */
    uint64_t device_offset;
} cm_dma_op_t;

/* What a fence wait returns with the buffer. */
typedef struct cm_dma_completion {
    cm_dma_buffer_t buffer; /* the submitted buffer, CPU-owned again */
    cm_status_t status;     /* the device's result: OK, IO, INVALID_ARGS (device refused) */
    uint32_t bytes;         /* bytes transferred; less than length at end of device */
} cm_dma_completion_t;

/* cm_dma_pool_info.flags */
#define CM_DMA_INFO_DEVICE    (1u << 0) /* a device is attached */
#define CM_DMA_INFO_DIRECT    (1u << 1) /* the device transfers straight to/from buffer
                                           memory (host: O_DIRECT into registered pages) */
#define CM_DMA_INFO_CPU_GUARD (1u << 2) /* buffers not CPU-owned are inaccessible to the
                                           CPU (host: PROT_NONE), so a kept pointer faults:
                                           the pool was made with CM_DMA_POOL_CPU_GUARD */
#define CM_DMA_INFO_DEV_READ  (1u << 3) /* CM_DMA_OP_READ allowed */
#define CM_DMA_INFO_DEV_WRITE (1u << 4) /* CM_DMA_OP_WRITE allowed */

typedef struct cm_dma_pool_info {
    uint32_t buffer_count;
    uint32_t buffer_size;
    uint32_t max_in_flight;
    uint32_t free;              /* buffers any client could acquire now */
    uint32_t in_flight;         /* buffers the device holds (incl. quarantined) */
    uint32_t quarantined;
    uint32_t device_block_size; /* 0 without a device */
    uint32_t flags;             /* CM_DMA_INFO_* */
    uint64_t device_size;       /* bytes; 0 if unknown or no device */
    uint64_t dropped_completions; /* stale or duplicate completions ignored */
} cm_dma_pool_info_t;

/* Creates a pool of zero-filled buffers, without a device.
 * Errors: INVALID_ARGS (config or out NULL, unknown option, both
 * CM_DMA_POOL_CPU_GUARD and CM_DMA_POOL_NO_CPU_GUARD, a bound violated);
 * NO_MEMORY; NO_RESOURCES (handle limit; fd limit, host RLIMIT_NOFILE: a
 * pool needs buffer_count + 2 fds; pinned-memory limit, host RLIMIT_MEMLOCK
 * without CAP_IPC_LOCK: buffer_count * buffer_size bytes; host
 * RLIMIT_FSIZE below buffer_size);
 * UNSUPPORTED (the target has no DMA path; host: io_uring refused by the
 * kernel, the io_uring_disabled sysctl or a seccomp filter).
 * Nothing is left behind on error. */
cm_status_t cm_dma_pool_create(const cm_dma_pool_config_t *config, cm_handle_t *pool);

/* cm_dma_pool_attach flags */
#define CM_DMA_ATTACH_READ  (1u << 0) /* allow CM_DMA_OP_READ  */
#define CM_DMA_ATTACH_WRITE (1u << 1) /* allow CM_DMA_OP_WRITE */

/* Makes `device` the pool's device, for the pool's lifetime. The name is
 * the target's: on host a path to a regular file or block device, opened
 * with O_DIRECT (the block size is BLKSSZGET for block devices, statx
 * STATX_DIOALIGN for files, 4096 when the kernel does not say); on the
 * kernel target a virtio-blk device name. A file whose filesystem has no
 * device doing DMA behind it (tmpfs, ramfs; or one refusing O_DIRECT) is
 * refused with UNSUPPORTED rather than silently copied. Needs SIGNAL.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED (no SIGNAL; permission);
 * INVALID_ARGS (device NULL, flags 0 or unknown, not a file or block
 * device); NOT_FOUND; BAD_STATE (a device is attached already; inherited);
 * UNSUPPORTED; NO_RESOURCES (fd limit); IO. */
cm_status_t cm_dma_pool_attach(cm_handle_t pool, const char *device, uint32_t flags);

/* Pool counters and device parameters. Needs no right.
 * Errors: BAD_HANDLE; WRONG_TYPE; INVALID_ARGS (info NULL); BAD_STATE
 * (inherited). */
cm_status_t cm_dma_pool_get_info(cm_handle_t pool, cm_dma_pool_info_t *info);

/* Takes a FREE buffer; it is CPU-owned by the caller and reads as zeros.
 * Needs WRITE. Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; INVALID_ARGS;
 * BAD_STATE (inherited); NO_RESOURCES (every buffer taken, in flight, or
 * quarantined); NO_MEMORY (host, CM_DMA_POOL_CPU_GUARD only: the buffer's
 * CPU access could not be opened; nothing changed). */
cm_status_t cm_dma_buffer_acquire(cm_handle_t pool, cm_dma_buffer_t *buffer);

/* Returns the buffer's address and size for direct CPU access. Needs
 * READ|WRITE. The pointer may be used only while the buffer stays
 * CPU-owned: after submit, release or detach the device or another client
 * owns the memory until a fence wait returns it (with CM_DMA_POOL_CPU_GUARD
 * a kept pointer faults; without, a use of it is the caller's bug that
 * nothing stops).
 * Errors: BAD_HANDLE (stale or unknown buffer); BAD_STATE (in flight or
 * signaled but not waited; inherited); WRONG_TYPE; ACCESS_DENIED;
 * INVALID_ARGS; NO_MEMORY (host, CM_DMA_POOL_CPU_GUARD only: CPU access
 * could not be reopened after an earlier failure; retry). */
cm_status_t cm_dma_buffer_map(cm_handle_t pool, cm_dma_buffer_t buffer, void **addr,
                              uint32_t *size);

/* Copies out of / into a CPU-owned buffer. read needs READ, write WRITE.
 * Errors: BAD_HANDLE; BAD_STATE; WRONG_TYPE; ACCESS_DENIED; INVALID_ARGS
 * (NULL with len > 0); OUT_OF_RANGE (offset + len past the buffer);
 * NO_MEMORY (as for map). */
cm_status_t cm_dma_buffer_read(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                               void *dst, uint32_t len);
cm_status_t cm_dma_buffer_write(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                                const void *src, uint32_t len);

/* Hands a CPU-owned buffer and an operation to the device. On OK the
 * buffer belongs to *fence: no CPU access, no second submit, no release,
 * until a wait on the fence returns it. On error nothing changed. Needs
 * SIGNAL. *op is read once, at entry (it may lie in the buffer); *fence
 * must not: the submit takes that memory from the CPU. Errors: BAD_HANDLE;
 * WRONG_TYPE; ACCESS_DENIED (no SIGNAL, or the device was attached without
 * the operation's direction); INVALID_ARGS (op or fence NULL, fence inside
 * the mapping of the buffer being submitted (checked before the state),
 * unknown kind, reserved set, length 0, misaligned);
 * OUT_OF_RANGE (window past the buffer, device offset overflow);
 * BAD_STATE (already submitted: double submit; or no device attached;
 * inherited); NO_RESOURCES (max_in_flight buffers held by the device, after
 * collecting every finished completion; or the slot's fresh memory after a
 * detach cannot be registered, host RLIMIT_MEMLOCK); NO_MEMORY (host,
 * CM_DMA_POOL_CPU_GUARD only: CPU access could not be closed); IO (the
 * device queue refused the request: the buffer is the caller's again). */
cm_status_t cm_dma_submit(cm_handle_t pool, cm_dma_buffer_t buffer, const cm_dma_op_t *op,
                          cm_dma_fence_t *fence);

/* Waits up to timeout_ns (CM_TIMEOUT_INFINITE: no limit; 0: just check)
 * for the fence's operation to finish. On OK the fence is consumed and the
 * buffer is CPU-owned by the caller again; the operation's own result is in
 * completion->status (an I/O error still returns the buffer). Needs SIGNAL.
 * Errors: BAD_HANDLE (stale, consumed or unknown fence); WRONG_TYPE;
 * ACCESS_DENIED; INVALID_ARGS (completion NULL, timeout negative and not
 * CM_TIMEOUT_INFINITE); BAD_STATE (inherited); TIMED_OUT (the fence stays
 * valid); NO_MEMORY (host, CM_DMA_POOL_CPU_GUARD only: CPU access could
 * not be reopened; the fence stays valid, wait again). */
cm_status_t cm_dma_fence_wait(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *completion);

/* As cm_dma_fence_wait with timeout 0, but SHOULD_WAIT when not done. */
cm_status_t cm_dma_fence_poll(cm_handle_t pool, cm_dma_fence_t fence,
                              cm_dma_completion_t *completion);

/* Gives a CPU-owned buffer back to the pool. Its memory is zeroed before
 * any client can acquire it; the id dies. Needs WRITE. On error the buffer
 * is still the caller's (it never returns to the pool unscrubbed); after
 * NO_MEMORY its bytes may already be zeroed, and release can be retried.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; BAD_STATE (held by a
 * fence: wait first; inherited); NO_MEMORY (host, CM_DMA_POOL_CPU_GUARD
 * only: the buffer could not be made inaccessible to the CPU, which a FREE
 * buffer of a guarded pool must be). */
cm_status_t cm_dma_buffer_release(cm_handle_t pool, cm_dma_buffer_t buffer);

/* Takes a CPU-owned buffer's memory out of the pool as a new VMO, without a
 * copy: the bytes the device wrote become the VMO's content (size
 * buffer_size). The pool gets fresh zeroed memory for the slot and the
 * buffer id dies. The pool keeps no mapping of the VMO, so it can be sealed
 * IMMUTABLE at once. The VMO handle has CM_VMO_DEFAULT_RIGHTS. Needs
 * READ|WRITE. The VMO handle is published last: on any error no handle was
 * ever visible and the buffer is unchanged (the caller's, same bytes).
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; INVALID_ARGS;
 * BAD_STATE (not CPU-owned; inherited); NO_MEMORY; NO_RESOURCES (handle or
 * fd limit; host: RLIMIT_FSIZE below buffer_size). */
cm_status_t cm_dma_buffer_detach_vmo(cm_handle_t pool, cm_dma_buffer_t buffer,
                                     cm_handle_t *vmo);

#ifdef __cplusplus
}
#endif

#endif
