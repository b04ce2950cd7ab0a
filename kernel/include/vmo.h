/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_VMO_H
#define CAPMEM_KERNEL_VMO_H

#include <stdint.h>
#include <capmem/limits.h>
#include <capmem/status.h>
#include "syscall_abi.h"

#include "commit_set.h"
#include "kobj.h"

/* A VMO is a set of pages, each committed (backed by a zeroed frame) on
 * demand: by cm_vmo_op_range(COMMIT), a write through cm_vmo_write, a
 * cm_vmo_map (its range, at map time), or a fault through a reservation
 * mapping (kernel/object/vmar.c). DECOMMIT frees the frames and removes
 * every page-table entry that pointed at them. Frames are found through a
 * two-level table: a directory frame of 512 leaf-frame addresses, each leaf
 * holding 512 frame addresses (0: not committed), which covers exactly
 * CMK_VMO_MAX_SIZE (abi/syscall_abi.h), the kernel's effective VMO limit. Which pages are committed, and how many, is
 * core/commit_set's, in chunks of VMO_CS_CHUNK_PAGES pages whose words are
 * one frame each, allocated with the chunk's first commit.
 * Invariants: a page is committed iff its leaf entry is non-zero iff its
 * bit is set; a committed page is one COMMIT frame charge of the object's
 * account; bytes past `size` in the last page read as zero whenever the
 * size changes. */

#define KOBJ_MAX_VMOS 256u /* live VMOs in the whole kernel */
#define VMO_PER_LEAF 512u
#define VMO_MAX_PAGES (CMK_VMO_MAX_SIZE / CM_PAGE_SIZE)
_Static_assert(VMO_MAX_PAGES == VMO_PER_LEAF * VMO_PER_LEAF, "two levels cover the max size");

#define VMO_CS_CHUNK_PAGES (CM_PAGE_SIZE * 8u) /* one frame of bits */
#define VMO_CS_CHUNKS ((VMO_MAX_PAGES + VMO_CS_CHUNK_PAGES - 1) / VMO_CS_CHUNK_PAGES)

struct mapping;

struct vmo {
    struct kobj obj;
    uint64_t size;
    uint64_t npages;
    uint64_t dir;       /* frame of leaf addresses */
    uint32_t seal;      /* 0, CM_SEAL_READONLY or CM_SEAL_IMMUTABLE */
    uint32_t nwritable; /* live writable mappings (IMMUTABLE needs 0) */
    uint32_t pinned;    /* made by the kernel (vmo_make): always committed,
                         * never decommitted (its bytes are read by the kernel) */
    struct mapping *maps;
    struct cm__commit_set cs[VMO_CS_CHUNKS]; /* words 0: chunk never committed */
};

/* Physical address of page i (< npages), 0 if it is not committed. */
uint64_t vmo_page(const struct vmo *v, uint64_t i);
/* Commits pages [first, first+n) (< npages), all or nothing: QUOTA_COMMIT
 * (the object's account), MEMORY_PRESSURE (no frames). */
cm_status_t vmo_commit(struct vmo *v, uint64_t first, uint64_t n);
/* Committed pages. */
uint64_t vmo_committed_pages(const struct vmo *v);
void vmo_destroy(struct vmo *v);
/* A new zeroed VMO of `size` bytes (<= CMK_VMO_MAX_SIZE) with one
 * reference, for kernel objects built on VMOs, charged to `a`. Errors:
 * NO_RESOURCES (VMO share), QUOTA_COMMIT, MEMORY_PRESSURE (frames). */
struct kacct;
cm_status_t vmo_make(uint64_t size, struct kacct *a, struct vmo **out);
/* A new VMO of `size` bytes with one reference and no page committed
 * (pages commit on demand, as a created VMO's): the private object behind
 * an anonymous mapping (kernel/object/vmar.c). Charged to `a` as a VMO
 * (VMOS, OBJECT_BACKING, its table's frames). Errors as vmo_make. */
cm_status_t vmo_make_lazy(uint64_t size, struct kacct *a, struct vmo **out);
/* Frees the committed frames of pages [first, first+n) (< npages) after
 * removing every page-table entry of them (DECOMMIT). */
void vmo_decommit(struct vmo *v, uint64_t first, uint64_t n);
/* Kernel address of byte `off` (< npages pages): valid for an object that
 * does not cross a page boundary. */
void *vmo_kptr(const struct vmo *v, uint64_t off);

#endif
