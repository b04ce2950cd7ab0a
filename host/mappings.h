/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_MAPPINGS_H
#define CAPMEM_HOST_MAPPINGS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <capmem/capmem.h>

struct cm__vmo;

struct cm__map_req {
    int fd;
    uint64_t fd_offset;  /* page-aligned offset within fd */
    uint64_t obj_offset; /* offset within the VMO */
    uint64_t len;        /* > 0, requested bytes */
    int prot;
    int extra_flags;     /* e.g. MAP_POPULATE */
    /* Bytes of the object a mapping may cover, and the file's identity:
     * when size_from_fd, one fstat under the table lock (so that no
     * cm__map_truncate of this process can cut it between check and mmap);
     * else the size is *tracked, read under the table lock (a VMO private
     * to this process: cm__map_truncate stores it there), or obj_size (a
     * frozen VMO's, read after its seals), and the identity is dev and
     * ino, or, when owner is set, not known yet: read from owner's fd by
     * the first lookup that needs it (cm__map_extends_past, truncate), so
     * that a mapping nobody asks about costs no fstat. */
    int size_from_fd;
    uint64_t obj_size;
    _Atomic uint64_t *tracked;
    dev_t dev;
    ino_t ino;
    /* A huge-page VMO (host/vmo_huge.h): the mapping covers the huge pages
     * around the request (2 MiB-aligned file offset, rounded length) and
     * the caller gets the interior pointer; with size_from_fd the size is
     * min(file size, *exact), read under the table lock. */
    int huge;
    _Atomic uint64_t *exact;
    struct cm__vmo *owner;
    /* Set when the caller found the VMO private to this process (so asked
     * for no size floor, and may pass `tracked`): privacy ends with an
     * export, a send or a fork, which can land between that check and the
     * lock. It is checked again under the lock; lost, the call makes no
     * mapping and sets *retry, and the caller decides again. */
    const struct cm__vmo *private_of;
    /* Inside a reservation (host/vmar.c): MAP_FIXED at this address, which
     * the caller's reservation owns; the entry is then cut by
     * cm__map_vmar_cut_locked, never removed by cm_vmo_unmap. NULL: anywhere. */
    void *fixed;
    /* Mapping identity (cm_mapping_get_info): the object's instance serial
     * and the mapping's generation. */
    uint64_t obj_gen;
    uint64_t gen;
};

/* Checks obj_offset+len against the object's size, the per-process mapping
 * bounds, maps, and records the mapping, all under the table lock. The
 * bounds are charged the real mapping's length (a huge one's rounded).
 * Errors: OUT_OF_RANGE (past the size); NO_RESOURCES (CM_MAX_MAPPINGS /
 * CM_MAX_MAPPED_BYTES, RLIMIT_NOFILE in the reopen fallback); NO_MEMORY
 * (RLIMIT_AS); ACCESS_DENIED for a sealed object. */
cm_status_t cm__map_create(const struct cm__map_req *req, void **addr, int *retry);

/* Resizes the memfd to `size` unless that would cut a mapping of this
 * process, atomically with respect to cm__map_create, and stores the new
 * size in *tracked under the same lock (struct cm__vmo, local_size).
 * huge: *tracked is the exact size; the file becomes `size` rounded up to a
 * huge page, grown pages are allocated now, and the bytes past the smaller
 * of the old and new exact sizes in its last huge page are zeroed first
 * (they stay in the file, and must read as zero after a later grow).
 * Errors: BAD_STATE (a mapping would be cut); ACCESS_DENIED (sealed);
 * NO_MEMORY (also: no huge pages left for a growth); the ftruncate failure
 * as a status. */
cm_status_t cm__map_truncate(int fd, uint64_t size, int huge, _Atomic uint64_t *tracked);

/* Writes len bytes at off into the huge-page VMO of fd whose exact size is
 * *exact, through a temporary mapping, under the table lock: no
 * cm__map_truncate of this process can cut the file meanwhile (another
 * process cannot either: the caller made sure F_SEAL_SHRINK is set on a
 * shared object). fault_safe: as cm__huge_copy_in (another holder can
 * punch the pages). private_of: as in struct cm__map_req (the caller set
 * no floor because the VMO was private; lost meanwhile: nothing written,
 * *retry set); a private one's size is *exact and needs no fstat (only
 * another holder can cut the file below it). Errors: OUT_OF_RANGE (past min(file size, *exact));
 * ACCESS_DENIED (write-sealed); NO_MEMORY; UNSUPPORTED (fault_safe
 * without process_vm_writev). */
cm_status_t cm__map_huge_write(int fd, _Atomic uint64_t *exact, const void *buf,
                               uint64_t off, uint64_t len, int fault_safe,
                               const struct cm__vmo *private_of, int *retry);

/* mmap(MAP_SHARED) that, for a read-only request refused with EPERM (a
 * write-sealed memfd on Linux < 6.7), retries through a read-only reopen.
 * Returns MAP_FAILED with errno set on failure. */
void *cm__mmap_shared(int fd, uint64_t len, int prot, int flags, uint64_t offset);

/* The retry itself: a read-only shared mapping through a fresh O_RDONLY
 * open of fd's file (/proc/self/fd). Exposed for tests. */
void *cm__mmap_ro_reopen(int fd, uint64_t len, int flags, uint64_t offset);

/* A new open file description of fd's file, O_RDWR if `write` else
 * O_RDONLY, O_CLOEXEC, through /proc/self/fd/N: the only way Linux offers
 * to stop sharing file status flags with whoever else holds fd's
 * description. Never waits for a file lease to break. Returns the fd, or
 * -1 with errno set (ENOENT: /proc is not mounted; EWOULDBLOCK: another
 * process holds a lease). */
int cm__proc_reopen(int fd, int write);

/* Removes [addr, addr+len) from the reservation entries it covers
 * (fixed mappings: each page of the range must lie in one), splitting an
 * entry cut in the middle. Caller holds the table lock (cm__map_table_hold)
 * and has already replaced the pages (so the table never claims less than
 * is mapped). commit 0: only checks that a split would find a slot
 * (NO_RESOURCES: CM_MAX_MAPPINGS). */
cm_status_t cm__map_vmar_cut_locked(uint64_t addr, uint64_t len, int commit);

/* Identity of the cm_vmo_map mapping covering addr (not one in a
 * reservation: host/vmar.c answers for those): object id and serial,
 * object offset of addr's page, generation, run start and length, prot.
 * NOT_FOUND if none. */
cm_status_t cm__map_lookup(uint64_t addr, uint64_t *obj_id, uint64_t *obj_gen,
                           uint64_t *obj_off, uint64_t *gen, uint64_t *start,
                           uint64_t *len, uint32_t *prot);

/* Bytes charged against CM_MAX_MAPPED_BYTES now (the real mappings'
 * lengths). Exposed for tests. */
uint64_t cm__map_total_bytes(void);
/* v is being destroyed (its fd is still open): mappings made through it
 * whose identity was not read yet read it now, since v's fd is about to go.
 * No system call when there are none. */
void cm__map_owner_gone(struct cm__vmo *v);

/* Holds and releases the mapping table's lock: cm_vmo_snapshot copies a
 * private VMO under it (no set_size, export or fork meanwhile); tests use
 * it to order racing calls. Nothing that takes the lock may be called in
 * between. */
void cm__map_table_hold(void);
void cm__map_table_release(void);

/* v is about to be handed to another process (export, send): marks it
 * shared under the table's lock, so that a cm__map_create racing with this
 * either is recorded already (and the return value says so) or sees v no
 * longer private. Returns 1 if a mapping of this process covers v's file
 * (dev, ino). */
int cm__map_share(struct cm__vmo *v, dev_t dev, ino_t ino);

/* True if a mapping of this process covers VMO bytes at or past `size`. */
int cm__map_extends_past(dev_t dev, ino_t ino, uint64_t size);
/* The same, in a forked child's fork handler only (reads without the lock). */
int cm__map_extends_past_in_child(dev_t dev, ino_t ino, uint64_t size);

#endif
