#ifndef CAPMEM_KERNEL_VMO_H
#define CAPMEM_KERNEL_VMO_H

#include <stdint.h>
#include <capmem/limits.h>
#include <capmem/status.h>

#include "kobj.h"

/* A VMO is a set of frames allocated (zeroed) when it is created or grown.
 * Frames are found through a two-level table: a directory frame of 512
 * leaf-frame addresses, each leaf holding 512 frame addresses, which covers
 * exactly CM_VMO_MAX_SIZE. Invariant: bytes past `size` in the last page
 * read as zero whenever the size changes. */

#define KOBJ_MAX_VMOS 256u /* live VMOs in the whole kernel */
#define VMO_PER_LEAF 512u
#define VMO_MAX_PAGES (CM_VMO_MAX_SIZE / CM_PAGE_SIZE)
_Static_assert(VMO_MAX_PAGES == VMO_PER_LEAF * VMO_PER_LEAF, "two levels cover the max size");

struct mapping;

struct vmo {
    struct kobj obj;
    uint64_t size;
    uint64_t npages;
    uint64_t dir;       /* frame of leaf addresses */
    uint32_t seal;      /* 0, CM_SEAL_READONLY or CM_SEAL_IMMUTABLE */
    uint32_t nwritable; /* live writable mappings (IMMUTABLE needs 0) */
    struct mapping *maps;
};

/* Physical address of page i (< npages). */
uint64_t vmo_page(const struct vmo *v, uint64_t i);
void vmo_destroy(struct vmo *v);
/* A new zeroed VMO of `size` bytes (<= CM_VMO_MAX_SIZE) with one
 * reference, for kernel objects built on VMOs, charged to `a`. Errors:
 * NO_RESOURCES (VMO share), QUOTA_COMMIT, MEMORY_PRESSURE (frames). */
struct kacct;
cm_status_t vmo_make(uint64_t size, struct kacct *a, struct vmo **out);
/* Kernel address of byte `off` (< npages pages): valid for an object that
 * does not cross a page boundary. */
void *vmo_kptr(const struct vmo *v, uint64_t off);

#endif
