/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_KDMA_H
#define CAPMEM_KERNEL_KDMA_H

#include <stdint.h>
#include <capmem/dma.h>
#include <capmem/limits.h>
#include <capmem/object.h>
#include <capmem/status.h>

#include "dma_own.h"
#include "kobj.h"
#include "ksbuf.h"

/* DMA on the kernel target (docs/dma.md "Kernel target", docs/mmio.md).
 *
 * A driver registers the device behind its MMIO window as a DMA device
 * (CM_OBJ_DMA_DEVICE, kernel/object/dma_device.c) under a name; pools
 * (CM_OBJ_DMA_POOL, kernel/object/dma_pool.c) attach to the name. A submit
 * queues a request on the device; the driver takes it (cmk_dma_device_next:
 * the only place a device address of a buffer is handed out, and only for
 * the window of a buffer in flight to this device) and completes it
 * (cmk_dma_device_complete), which signals the pool's fence.
 *
 * Buffers are pinned kernel VMOs (vmo_make), one per slot: their frames
 * never move while the object lives. A request holds a reference on its
 * buffer's VMO, so a pool that dies mid-flight leaves those frames alive
 * (quarantined) until the request is completed or its device quiesced. */

struct kmmio;
struct kdma_pool;
struct vmo;
struct kacct;

struct kdma_req {
    uint64_t id;            /* 0: free entry; else (index + 1) | gen << 32 */
    uint32_t delivered;     /* handed to the driver by next */
    uint32_t kind;
    uint32_t length;
    uint32_t buffer_offset;
    uint64_t device_offset;
    uint64_t seq;           /* submission order */
    struct kdma_pool *pool; /* NULL once the pool died (buffer quarantined) */
    uint32_t slot;          /* in the pool */
    uint64_t fence;         /* the pool's fence id (the device tag) */
    struct vmo *vmo;        /* one reference: the frames the device may touch */
    struct kacct *pins_acct;/* a quarantined buffer's PINS charge, kept here */
    uint64_t pins;
};

struct kdma_dev {
    struct kobj obj;
    struct kmmio *mmio;     /* NULL once quiesced: unregistered, no requests */
    char name[CMK_DMA_MAX_NAME];
    uint32_t block_size;
    uint32_t flags;         /* CM_DMA_ATTACH_* pools may ask */
    uint64_t device_size;
    uint32_t gen;
    uint32_t queued;        /* live requests */
    uint64_t next_seq;
    struct kdma_req reqs[CMK_DMA_DEVICE_MAX_REQUESTS];
};

/* Queues a request for buffer slot `slot` of pool `pl` (submit). NO_RESOURCES
 * when CMK_DMA_DEVICE_MAX_REQUESTS are live; IO if the device is gone. */
cm_status_t kdma_device_queue(struct kdma_dev *d, struct kdma_pool *pl, uint32_t slot,
                              uint64_t fence, struct vmo *buf, const cm_dma_op_t *op);
/* The pool dies: each of its requests keeps its VMO reference and takes
 * over the pool's PINS charge of that buffer (pages), completed later. */
void kdma_device_orphan(struct kdma_dev *d, struct kdma_pool *pl, struct kacct *a,
                        uint64_t pages);
/* The registered device of that name, or NULL. */
struct kdma_dev *kdma_device_find(const char *name);

/* The device's MMIO window was quiesced (kernel/object/mmio.c): every
 * outstanding request completes with IO, the name is unregistered. stopped
 * 0: the device did not reset, so the buffers of those requests stay
 * quarantined for good (never reused while it may DMA). */
void kdma_device_quiesced(struct kdma_dev *d, int stopped);
void kdma_device_destroy(struct kobj *o);
cm_signals_t kdma_device_signals(const struct kdma_dev *d);

/* The pool side of a completion (dma_pool.c). */
void kdma_pool_completed(struct kdma_pool *pl, uint64_t fence, cm_status_t status,
                         uint32_t bytes);
void kdma_pool_destroy(struct kobj *o);

struct proc;
int64_t sys_dma_device_create(struct proc *p, const uint64_t *a);
int64_t sys_dma_device_next(struct proc *p, const uint64_t *a);
int64_t sys_dma_device_complete(struct proc *p, const uint64_t *a);
int64_t sys_dma_pool_create(struct proc *p, const uint64_t *a);
int64_t sys_dma_pool_attach(struct proc *p, const uint64_t *a);
int64_t sys_dma_pool_get_info(struct proc *p, const uint64_t *a);
int64_t sys_dma_buffer_acquire(struct proc *p, const uint64_t *a);
int64_t sys_dma_buffer_map(struct proc *p, const uint64_t *a);
int64_t sys_dma_buffer_rw(struct proc *p, const uint64_t *a);
int64_t sys_dma_submit(struct proc *p, const uint64_t *a);
int64_t sys_dma_fence_wait(struct proc *p, const uint64_t *a);
int64_t sys_dma_buffer_release(struct proc *p, const uint64_t *a);
int64_t sys_dma_buffer_detach_vmo(struct proc *p, const uint64_t *a);

#endif
