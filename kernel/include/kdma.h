#ifndef CAPMEM_KERNEL_KDMA_H
#define CAPMEM_KERNEL_KDMA_H

#include <stdint.h>
#include <capmem/status.h>

/* DMA devices (CM_OBJ_DMA_DEVICE, kernel/object/dma_device.c) and pools
 * (CM_OBJ_DMA_POOL, kernel/object/dma_pool.c). docs/dma.md "Kernel". */

struct kdma_dev;
struct kobj;
struct proc;

/* The device's MMIO window was quiesced (kernel/object/mmio.c): every
 * outstanding request completes with IO, the name is unregistered. stopped
 * 0: the device did not reset, so the buffers of those requests stay
 * quarantined for good (never reused while it may DMA). */
void kdma_device_quiesced(struct kdma_dev *d, int stopped);
void kdma_device_destroy(struct kobj *o);

int64_t sys_dma_device_create(struct proc *p, const uint64_t *a);
int64_t sys_dma_device_next(struct proc *p, const uint64_t *a);
int64_t sys_dma_device_complete(struct proc *p, const uint64_t *a);

#endif
