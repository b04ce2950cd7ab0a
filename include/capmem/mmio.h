/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_MMIO_H
#define CAPMEM_MMIO_H

#include <stdint.h>
#include <capmem/handle.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Device MMIO windows (docs/mmio.md). An MMIO handle (CM_OBJ_MMIO) names one
 * physical device register window the kernel made at boot; mapping it is
 * the only way a process reaches device registers. No process has ambient
 * access to device memory: the kernel hands the handles to init only, and
 * init passes each to the driver it starts.
 *
 * Kernel target: one window per QEMU `virt` virtio-mmio slot (docs/mmio.md
 * lists them). Host target: every call returns UNSUPPORTED (a Linux process
 * has no such capability to give); the header builds on both so a driver
 * learns at run time, never at link time.
 *
 * Rights: MAP to map; READ for a readable mapping, WRITE for a writable one. */

#define CM_MMIO_MAP_READ  (1u << 0)
#define CM_MMIO_MAP_WRITE (1u << 1)
#define CM_MMIO_MAP_EXEC  (1u << 2) /* always refused: ACCESS_DENIED */

#define CM_MMIO_KIND_VIRTIO 1u

typedef struct cm_mmio_info {
    uint64_t base;    /* physical base of the window (informational) */
    uint64_t length;  /* bytes */
    uint32_t kind;    /* CM_MMIO_KIND_* */
    uint32_t allowed; /* CM_MMIO_MAP_* the window permits */
    uint32_t irq;     /* PLIC source number, 0 if none */
    uint32_t slot;    /* index in the kernel's window list */
} cm_mmio_info_t;

/* Errors: BAD_HANDLE; WRONG_TYPE; INVALID_ARGS (info NULL); UNSUPPORTED (host). */
cm_status_t cm_mmio_get_info(cm_handle_t mmio, cm_mmio_info_t *info);

/* Maps [offset, offset + length) of the window, page-granular, user R or RW,
 * never executable, device memory (QEMU virt: the PMA of the MMIO region
 * makes it uncached, strongly ordered I/O; no PTE attribute is needed in
 * Sv39). A window is driven by one process at a time: the first process
 * that maps it (or allocates queue memory on it, or registers a DMA device
 * on it) binds it until it exits or drops its last handle, then the kernel
 * resets the device (docs/mmio.md "Quiesce"). Another process's map while
 * bound: BAD_STATE.
 * Errors: BAD_HANDLE, WRONG_TYPE; ACCESS_DENIED (EXEC, a missing right,
 * WRITE on a read-only window); OUT_OF_RANGE (outside the window, overflow);
 * INVALID_ARGS (unaligned offset or length, 0 length, unknown flag, no READ
 * flag, addr NULL); NO_RESOURCES (CM_MMIO_MAX_MAPPINGS, the process's
 * mapping table), QUOTA_VIRTUAL; BAD_STATE (bound to another process);
 * UNSUPPORTED (host). */
cm_status_t cm_mmio_map(cm_handle_t mmio, uint64_t offset, uint64_t length, uint32_t flags,
                        volatile void **addr);

/* Unmaps a mapping made by cm_mmio_map of this window, exactly (addr,
 * length) as mapped. The binding stays (quiesce is at exit or last close).
 * Errors: BAD_HANDLE, WRONG_TYPE; INVALID_ARGS (no such mapping of this
 * window); UNSUPPORTED (host). */
cm_status_t cm_mmio_unmap(cm_handle_t mmio, volatile void *addr, uint64_t length);

#ifdef __cplusplus
}
#endif

#endif
