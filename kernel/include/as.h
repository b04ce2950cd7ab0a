/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_AS_H
#define CAPMEM_KERNEL_AS_H

#include <stdint.h>
#include <capmem/limits.h>
#include <capmem/status.h>

#include "interval.h"

/* A user address space: a set of reservations in a core/interval map over
 * [USER_BASE, USER_TOP), each backed by page-table entries. Image and stack
 * reservations own their frames; VMO mappings borrow the VMO's frames and
 * hold a reference on it. */

#define AS_MAX_SEGMENTS 8u /* PT_LOAD segments accepted per image */
/* Every reservation is one node (distinct tags), plus room for the stack. */
#define AS_IV_NODES (CM_MAX_MAPPINGS + CM_MAX_VMARS + AS_MAX_SEGMENTS + 2u)

enum as_kind {
    AS_KIND_IMAGE = 1, /* ELF segment, frames owned */
    AS_KIND_STACK = 2, /* stack, frames owned        */
    AS_KIND_VMO = 3,   /* VMO mapping, frames borrowed */
    AS_KIND_VMAR = 4,  /* reservation (kernel/object/vmar.c), tag: its pool slot + 1 */
    AS_KIND_DEV = 5,   /* device window or queue pages (kernel/object/mmio.c): the
                        * MMIO object owns the pages; it unmaps them before teardown */
};

struct vmo;
struct addrspace;

struct mapping {
    uint64_t va;
    uint64_t len;      /* as requested: cm_vmo_unmap must match it exactly */
    uint64_t npages;
    uint64_t offset;   /* into the VMO, page aligned */
    struct vmo *vmo;   /* NULL when the slot is free; holds a reference */
    uint32_t writable;
    uint32_t slot;
    uint64_t gen;             /* mapping generation (cm_mapping_info_t) */
    struct addrspace *as;     /* whose page table maps it */
    struct mapping *vmo_next; /* the VMO's list of its mappings */
};

struct kacct;

struct addrspace {
    struct kacct *acct; /* charged VIRTUAL per reservation, COMMIT per owned
                         * frame and page-table frame (docs/ledger.md) */
    uint64_t root;
    struct cm__iv_map iv;
    struct cm__iv_node nodes[AS_IV_NODES];
    struct mapping maps[CM_MAX_MAPPINGS];
    uint32_t nmaps;        /* cm_vmo_map mappings and reservation mappings */
    uint64_t mapped_bytes; /* of both, against CMK_MAX_MAPPED_BYTES */
    uint64_t gen;          /* unique for the life of the system */
    uint64_t next_map_gen; /* mapping generations, never reused here */
    uint64_t next_vmar_id;
    uint32_t nvmars;
    uint64_t reserved_bytes; /* of live reservations, <= CM_MAX_RESERVED_BYTES */
};

/* QUOTA_COMMIT / MEMORY_PRESSURE: the root table could not be charged. */
cm_status_t as_init(struct addrspace *as, struct kacct *acct);
/* Unmaps everything, returns owned frames, drops VMO references and frees
 * the page tables. The caller must not be running on this table. */
void as_destroy(struct addrspace *as);

/* Reserves [va, va+len) (page aligned) and backs it with zeroed, owned
 * frames mapped with perm (never W and X together). Frees what it
 * allocated on failure. */
cm_status_t as_alloc_fixed(struct addrspace *as, uint64_t va, uint64_t len,
                           enum as_kind kind, uint64_t perm);

/* Copies into user memory regardless of its protection (the ELF loader
 * fills read-only segments). The range must be mapped. */
cm_status_t as_fill(struct addrspace *as, uint64_t va, const void *src, uint64_t len);

/* VMO mappings. as_map_vmo validates nothing about rights: the caller has
 * decided. Reserves a range, maps the VMO's pages, links the mapping to the
 * VMO and takes a reference. */
cm_status_t as_map_vmo(struct addrspace *as, struct vmo *vmo, uint64_t offset,
                       uint64_t len, int writable, uint64_t *out_va);
/* The live mapping at exactly (va, len), or NULL. */
struct mapping *as_find_mapping(struct addrspace *as, uint64_t va, uint64_t len);

/* A reservation's range in the interval map, charged VIRTUAL (placement
 * as cm__iv_reserve). Its page-table entries are kernel/object/vmar.c's. */
cm_status_t as_reserve_vmar(struct addrspace *as, uint64_t hint, uint64_t len, int fixed,
                            uint32_t tag, uint64_t *start);
void as_release_vmar(struct addrspace *as, uint64_t start, uint64_t len);

/* A user page fault at va: commits and maps the page if a mapping allows
 * the access (demand commit after DECOMMIT, reservation mappings, no-access
 * protection restored). Otherwise the process's typed death status:
 * INVALID_ARGS (nothing mapped), ACCESS_DENIED (mapped without the access),
 * QUOTA_COMMIT / MEMORY_PRESSURE (the page cannot be committed). */
cm_status_t as_fault(struct addrspace *as, uint64_t va, int write);
void as_unmap(struct addrspace *as, struct mapping *m);

/* Removes the PTEs of [va, va+len) (frames not freed: the caller owns or
 * borrows them), frees the table pages left empty and flushes the TLB
 * before any of them is reused. */
void as_unmap_range(struct addrspace *as, uint64_t va, uint64_t len);
/* Prefault (CM_MAP_POPULATE in a reservation): commits pages [first,
 * first+n) of v and maps them at va.. with perm (PTE_R, PTE_R|PTE_W), all
 * or nothing: QUOTA_COMMIT / MEMORY_PRESSURE leave no PTE, no new table
 * page and no new commit charged. The range must have no PTE. */
cm_status_t as_populate(struct addrspace *as, uint64_t va, struct vmo *v, uint64_t first,
                        uint64_t n, uint64_t perm);

/* Device mappings (kernel/object/mmio.c): npages pages at physical
 * pas[i] (pas NULL: contiguous from pa0), user R or RW, never X. Each
 * counts as one mapping (CM_MAX_MAPPINGS, CM_MAX_MAPPED_BYTES: NO_RESOURCES)
 * and is charged VIRTUAL. The pages are not the address space's: teardown
 * panics on one left mapped, so the owner unmaps first (kmmio_proc_exit). */
cm_status_t as_map_dev(struct addrspace *as, uint64_t pa0, const uint64_t *pas, uint64_t npages,
                       int writable, uint32_t tag, uint64_t *out_va);
void as_unmap_dev(struct addrspace *as, uint64_t va, uint64_t npages);

#endif
