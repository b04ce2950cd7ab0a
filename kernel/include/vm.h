/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_VM_H
#define CAPMEM_KERNEL_VM_H

#include <stdint.h>
#include <capmem/status.h>

/* Sv39 page tables. The kernel's table maps RAM and the two devices
 * identity; a user table shares the kernel's root slots and adds user
 * pages (always PTE_U, never W and X together) above USER_BASE. */

void kvm_init(void);
/* Switches to the kernel's own table (used while a user table is torn down). */
void kvm_switch(void);
uint64_t kvm_root(void);

struct kacct;

/* User page-table pages are frames charged to the address space's account
 * (COMMIT), taken when allocated and released when a table page has no
 * valid entry left (uvm_prune, after every unmap) or by uvm_destroy. The
 * root stays for the table's life. */

/* A new user root table with the kernel slots filled in, or the charge's
 * status (QUOTA_COMMIT, MEMORY_PRESSURE). */
cm_status_t uvm_create(struct kacct *a, uint64_t *root);
/* Frees every page-table page of a user table (not the leaves' frames:
 * those belong to the address space's owners and are unmapped first). */
void uvm_destroy(uint64_t root, struct kacct *a);

/* Maps one user page. perm is a subset of PTE_R|PTE_W|PTE_X; PTE_U|PTE_V|
 * PTE_A|PTE_D are added. Returns QUOTA_COMMIT / MEMORY_PRESSURE when a
 * table page cannot be charged or allocated, INTERNAL if the page is
 * already mapped (reservation bug). */
cm_status_t uvm_map_page(uint64_t root, uint64_t va, uint64_t pa, uint64_t perm,
                         struct kacct *a);
/* Unmaps one user page and returns its frame, or 0 if it was not mapped.
 * The caller flushes the TLB before the frame is reused. */
uint64_t uvm_unmap_page(uint64_t root, uint64_t va);
/* Clears the PTEs of the user pages in [va, va+len), skipping regions
 * with no table; frees no frame and does not flush (uvm_prune does). */
void uvm_unmap_range(uint64_t root, uint64_t va, uint64_t len);
/* Makes every table page [va, va+len) needs (charged to a), so that
 * uvm_map_page cannot fail for want of one. QUOTA_COMMIT / MEMORY_PRESSURE
 * part way leaves the tables made so far: the caller prunes the range. */
cm_status_t uvm_prepare(uint64_t root, uint64_t va, uint64_t len, struct kacct *a);
/* Frees every intermediate table page (leaf tables, then middle tables;
 * never the root) over [va, va+len) that has no valid entry, each one
 * COMMIT frame released from `a` exactly once. Always flushes the TLB
 * (sfence.vma), after the entries pointing at those pages are cleared and
 * before any of them goes back to the frame pool. Returns how many. */
uint64_t uvm_prune(uint64_t root, uint64_t va, uint64_t len, struct kacct *a);
/* Physical address of the user page at va if its PTE is valid, user and
 * allows the access (write != 0: PTE_W; else PTE_R); else 0. */
uint64_t uvm_translate(uint64_t root, uint64_t va, int write);
/* Whether a user page is mapped at va, whatever its permissions. */
int uvm_mapped(uint64_t root, uint64_t va);

#endif
