/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_KMMIO_H
#define CAPMEM_KERNEL_KMMIO_H

#include <stdint.h>
#include <capmem/limits.h>
#include <capmem/mmio.h>

#include "kobj.h"

/* Device MMIO windows (CM_OBJ_MMIO, include/capmem/mmio.h, docs/mmio.md).
 * One static object per virtio-mmio slot, made at boot and never
 * destroyed (the kernel keeps a reference): handles go to init only.
 *
 * Binding. A window is driven by one process at a time: the first map,
 * queue allocation or DMA device registration binds it to the caller; a
 * call from another process while bound is BAD_STATE. The binding ends
 * (quiesce) when that process exits or holds no handle to the window any
 * more (checked after every syscall that dropped an MMIO handle): the
 * kernel unmaps the window from it, resets the device (Status = 0, read
 * back until 0), then frees the queue memory and fails the device's
 * outstanding DMA requests with IO, in that order, so the device never
 * writes into a freed frame (docs/mmio.md "Quiesce"). */

struct proc;
struct kdma_dev;

struct kmmio_map {
    uint64_t va;
    uint64_t npages; /* 0: free entry */
};

struct kmmio_qrun {
    uint64_t va;
    uint32_t first;  /* index of its first frame in qframes */
    uint32_t npages; /* 0: free entry */
};

struct kmmio {
    struct kobj obj;
    uint64_t base;
    uint64_t length;
    uint32_t slot;
    uint32_t irq;
    uint32_t kind;
    uint32_t allowed;
    struct proc *owner;     /* the bound process, or NULL */
    struct kacct *qacct;    /* charged COMMIT for nqframes frames */
    struct kmmio_map maps[CM_MMIO_MAX_MAPPINGS];
    struct kmmio_qrun qruns[CMK_MMIO_MAX_QUEUE_PAGES];
    uint64_t qframes[CMK_MMIO_MAX_QUEUE_PAGES];
    uint32_t nqframes;
    uint32_t quiesces;      /* device resets done (diagnostics) */
    struct kdma_dev *dev;   /* the DMA device registered on it, or NULL */
};

/* Makes the windows (boot, after kvm_init). */
void kmmio_init(void);
/* Installs a handle to every window in init and lists them in its start-up
 * block (boot, right after init is made). */
void kmmio_give_to_init(struct proc *init);
/* Binds m to p (or checks it is p's already): BAD_STATE if another process
 * holds it. */
cm_status_t kmmio_bind(struct kmmio *m, struct proc *p);
/* Looks up an MMIO handle of p with `need`. */
cm_status_t kmmio_get(struct proc *p, uint64_t h, cm_rights_t need, struct kmmio **out);
/* Quiesces every window bound to p (process exit, before as_destroy). */
void kmmio_proc_exit(struct proc *p);
/* An MMIO handle left a table; kmmio_revoke checks the bindings. */
void kmmio_handle_dropped(void);
/* After every syscall: quiesces windows whose process holds no handle. */
void kmmio_revoke(void);
void kmmio_destroy(struct kobj *o);

int64_t sys_mmio_get_info(struct proc *p, const uint64_t *a);
int64_t sys_mmio_map(struct proc *p, const uint64_t *a);
int64_t sys_mmio_unmap(struct proc *p, const uint64_t *a);
int64_t sys_mmio_queue_alloc(struct proc *p, const uint64_t *a);

#endif
