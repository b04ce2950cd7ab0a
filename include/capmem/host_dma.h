/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_DMA_H
#define CAPMEM_HOST_DMA_H

/* Host-only (Linux) extras for DMA pools. Nothing here exists on the kernel
 * target. The device path itself is target-neutral (cm_dma_pool_attach with
 * a path): io_uring with every pool buffer registered as a fixed (pinned)
 * buffer, IORING_OP_READ_FIXED / WRITE_FIXED on an O_DIRECT file or block
 * device, so the storage controller DMAs straight into the buffer's pages. */

#include <stdint.h>
#include <capmem/dma.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes a duplicate of `fd` the pool's device (the caller keeps `fd`). For
 * an fd without O_DIRECT, or one that is not a file or block device (a pipe
 * in tests: a device whose completion the test controls), operations still
 * go through io_uring, the registered buffers and the fences, but they are
 * CPU copies, not DMA: cm_dma_pool_info then lacks CM_DMA_INFO_DIRECT and
 * the block size is 1. flags: CM_DMA_ATTACH_*. Needs SIGNAL.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; INVALID_ARGS (fd < 0,
 * flags); BAD_STATE (a device is attached already; a pool inherited
 * through fork); NO_RESOURCES. */
cm_status_t cm_host_dma_attach_fd(cm_handle_t pool, int fd, uint32_t flags);

/* Buffers of destroyed pools in this process still quarantined: the device
 * has not completed them, so their memory, registration and fds are kept.
 * Their pool's remains are freed when its last one completes. A forked
 * child starts at 0: its parent's quarantine is not its own. */
uint32_t cm_host_dma_quarantined(void);

/* Waits up to timeout_ns (CM_TIMEOUT_INFINITE: no limit) until every
 * destroyed pool of this process has been freed (nothing quarantined).
 * Sleeps until a pool is freed or the deadline, never in slices.
 * Errors: TIMED_OUT; INVALID_ARGS (timeout negative and not
 * CM_TIMEOUT_INFINITE). */
cm_status_t cm_host_dma_quarantine_wait(int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif
