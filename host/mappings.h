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

/* True if a mapping of this process covers VMO bytes at or past `size`. */
int cm__map_extends_past(dev_t dev, ino_t ino, uint64_t size);

#endif
