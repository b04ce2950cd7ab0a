#ifndef CAPMEM_HOST_MAPPINGS_H
#define CAPMEM_HOST_MAPPINGS_H

#include <sys/types.h>
#include <capmem/capmem.h>

struct cm__map_req {
    int fd;
    uint64_t fd_offset;  /* page-aligned offset within fd */
    uint64_t obj_offset; /* offset within the VMO */
    uint64_t len;        /* > 0, requested bytes */
    int prot;
    int extra_flags;     /* e.g. MAP_POPULATE */
    dev_t dev;
    ino_t ino;
};

/* Checks the per-process mapping bounds, maps, and records the mapping.
 * Errors: NO_RESOURCES (CM_MAX_MAPPINGS / CM_MAX_MAPPED_BYTES), or the
 * mmap failure as a status (ACCESS_DENIED for a sealed object). */
cm_status_t cm__map_create(const struct cm__map_req *req, void **addr);

/* mmap(MAP_SHARED) that, for a read-only request refused with EPERM (a
 * write-sealed memfd on Linux < 6.7), retries through a read-only reopen.
 * Returns MAP_FAILED with errno set on failure. */
void *cm__mmap_shared(int fd, uint64_t len, int prot, int flags, uint64_t offset);

/* The retry itself: a read-only shared mapping through a fresh O_RDONLY
 * open of fd's file (/proc/self/fd). Exposed for tests. */
void *cm__mmap_ro_reopen(int fd, uint64_t len, int flags, uint64_t offset);

/* True if a mapping of this process covers VMO bytes at or past `size`. */
int cm__map_extends_past(dev_t dev, ino_t ino, uint64_t size);

#endif
