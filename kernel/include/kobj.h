/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_KOBJ_H
#define CAPMEM_KERNEL_KOBJ_H

#include <stdint.h>
#include <capmem/status.h>

/* The header every kernel object starts with. An object lives while it has
 * references: one per handle, one per mapping (VMOs), one per queued message
 * that carries it. The last unref does not destroy at once: the object goes
 * on a dead list that kobj_reap() empties iteratively, so destroying a
 * channel whose queue carries other channels never recurses. */

struct kacct;

struct kobj {
    uint32_t type;  /* cm_obj_type_t; CM_OBJ_NONE while the slot is free */
    uint32_t refs;
    uint64_t id;    /* unique for the kernel's lifetime (cm_vmo_info.id) */
    struct kobj *next_dead;
    struct kacct *acct; /* charged one of the type's ledger kind (account.h) */
};

/* Charges one object of `type` to `a` (its ledger kind: VMOS, CHANNELS,
 * SBUFS, SBUF_CONSUMERS, VMARS, DMA_POOLS, PROCESSES). NO_RESOURCES past the account's share of the pool. */
cm_status_t kobj_charge(struct kacct *a, uint32_t type);
/* Releases a charge of kobj_charge whose object was never made. */
void kobj_uncharge(struct kacct *a, uint32_t type);
/* The charge taken, the object starts with one reference; kobj_reap
 * releases the charge after the type's destroy. */
void kobj_init(struct kobj *o, uint32_t type, struct kacct *a);
void kobj_ref(struct kobj *o);
/* Drops a reference; the object is destroyed by the next kobj_reap(). */
void kobj_unref(struct kobj *o);
/* Destroys every object whose last reference is gone. Called on the way
 * out of every syscall and of process teardown. */
void kobj_reap(void);
uint64_t kobj_live_count(void);

#endif
