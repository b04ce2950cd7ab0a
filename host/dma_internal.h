/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_DMA_INTERNAL_H
#define CAPMEM_HOST_DMA_INTERNAL_H

/* Test hooks of host/dma.c. Not installed, not exported from the .so (the
 * version script exports cm_[a-z]* only). */

#include <stdatomic.h>
#include <stdint.h>
#include <capmem/dma.h>

/* Posts a real completion carrying `tag` through the pool's io_uring (an
 * IORING_OP_NOP whose user_data is the tag), as a late or forged device
 * completion would arrive. It is processed by the next wait or poll.
 * Errors: BAD_HANDLE; WRONG_TYPE; NO_RESOURCES (ring full); IO. */
cm_status_t cm__dma_inject_completion(cm_handle_t pool, uint64_t tag);

/* Registered buffers of live and quarantined pools in this process
 * (leak checks: must return to its baseline after every test). */
uint32_t cm__dma_registered_buffers(void);

/* Fault injection. When set, called before each fallible system call of
 * host/dma.c with the call's site; a non-zero return is an errno, and the
 * call fails with it as if Linux had returned it (the call is not made). */
enum cm__dma_site {
    CM__DMA_SITE_MEMFD = 1, /* memfd_create */
    CM__DMA_SITE_FTRUNCATE, /* ftruncate of a buffer memfd */
    CM__DMA_SITE_MMAP,      /* mmap of a buffer */
    CM__DMA_SITE_MADVISE,   /* madvise MADV_DONTFORK */
    CM__DMA_SITE_MPROTECT,  /* the CPU guard's protection change */
    CM__DMA_SITE_REGISTER,  /* io_uring fixed-buffer update (register or unregister) */
    CM__DMA_SITE_DUP,       /* fcntl F_DUPFD_CLOEXEC */
    CM__DMA_SITE_SUBMIT,    /* io_uring_submit */
    CM__DMA_SITE_EVENTFD,   /* eventfd creation or registration with the ring */
    CM__DMA_SITE_RING,      /* io_uring setup and ring memory advice */
    CM__DMA_SITE_THREAD,    /* starting a quarantine thread */
    CM__DMA_SITE_OPEN,      /* between attach's stat and open of the path (result ignored) */
};
extern int (*cm__dma_fault_hook)(int site);

/* When set, waiters sleep on the pool's eventfd (the path for kernels
 * without IORING_FEAT_EXT_ARG) instead of on the ring, so that tests cover
 * both. Set only while no wait is in progress. */
extern int cm__dma_no_ring_wait;

/* Times cm_host_dma_quarantine_wait went to sleep (a wait that sleeps
 * without an event to wake it is a poll). */
extern atomic_uint cm__dma_quarantine_sleeps;

/* Waits until the pool's ring holds a completion nobody consumed yet,
 * consuming nothing (tests: make "the device has finished" a fact before
 * the call under test). Errors: BAD_HANDLE; WRONG_TYPE; TIMED_OUT. */
cm_status_t cm__dma_wait_posted(cm_handle_t pool, int64_t timeout_ns);

#endif
