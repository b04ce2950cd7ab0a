/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_KVMAR_H
#define CAPMEM_KERNEL_KVMAR_H

#include <stdint.h>
#include <capmem/status.h>

/* Reservations (CM_OBJ_VMAR, include/capmem/vmar.h) on the kernel. Each is
 * a range of its process's interval map (AS_KIND_VMAR) whose mapped runs
 * are core/vmar_rules' state; page-table entries are made at fault time
 * (kvmar_fault) or by a CM_MAP_POPULATE map (as_populate) and removed by
 * unmap, protect, DECOMMIT and release (with the table pages they empty), so
 * the page table never holds more than the rules allow. The one handle is
 * the reservation: closing it (or the process dying) releases the range.
 * A nested reservation (cm_vmar_reserve_in) is a CHILD run of its parent,
 * not a node of the address space: faults and lookups descend from the
 * root through the children. An anonymous mapping's pages are a private
 * VMO's (no handle), so they commit, charge and free on the VMO paths. */

struct addrspace;
struct vmo;
struct kobj;

/* Reservations in the whole kernel: the root of the carved CM_LEDGER_VMARS
 * budget (kernel/account.c), so a process past its share gets NO_RESOURCES
 * and the pool itself is never found full. */
#define KVMAR_POOL 128u

cm_status_t kvmar_fault(struct addrspace *as, uint64_t tag, uint64_t page, int write);
/* Releases every reservation of `as` (process teardown). */
void kvmar_release_all(struct addrspace *as);
void kvmar_destroy(struct kobj *o);
/* Removes every reservation page-table entry of pages [first, first+n) of
 * v and the table pages they leave empty (flushed before those are freed). */
void kvmar_vmo_shoot_down(struct vmo *v, uint64_t first, uint64_t n);
/* The word calls' key (kernel/object/word.c) for uva in the reservation
 * `tag` of `as`: the VMO its run maps and the offset in it. INVALID_ARGS
 * where nothing is mapped; ACCESS_DENIED on a no-access run. */
cm_status_t kvmar_word_key(struct addrspace *as, uint64_t tag, uint64_t uva, struct vmo **v,
                           uint64_t *off);
/* Pages of v that reservation mappings pin (set_size may not go below). */
uint64_t kvmar_vmo_pinned_pages(const struct vmo *v);
/* Whether a reservation mapping of v may be writable (max protection). */
int kvmar_vmo_writable(const struct vmo *v);

struct proc;
int64_t sys_vmar_reserve(struct proc *p, const uint64_t *a);
int64_t sys_vmar_map(struct proc *p, const uint64_t *a);
int64_t sys_vmar_reserve_in(struct proc *p, const uint64_t *a);
int64_t sys_vmar_map_anon(struct proc *p, const uint64_t *a);
int64_t sys_vmar_unmap(struct proc *p, const uint64_t *a);
int64_t sys_vmar_unmap_vmo(struct proc *p, const uint64_t *a);
int64_t sys_vmar_protect(struct proc *p, const uint64_t *a);
int64_t sys_vmar_get_info(struct proc *p, const uint64_t *a);
int64_t sys_mapping_get_info(struct proc *p, const uint64_t *a);
int64_t sys_vmo_op_range(struct proc *p, const uint64_t *a);
int64_t sys_vmo_get_committed(struct proc *p, const uint64_t *a);

#endif
