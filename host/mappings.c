/* SPDX-License-Identifier: MIT */
/* The process's table of VMO mappings made through cm_vmo_map.
 *
 * Bounds the number of mappings (CM_MAX_MAPPINGS) and their total size
 * (CM_MAX_MAPPED_BYTES), lets cm_vmo_unmap accept only exact live mappings
 * (never an arbitrary address range the caller did not get from us), and
 * lets set_size refuse to cut under a mapping of this process: the size
 * check of a new mapping and a resize both run under map_lock, so neither
 * can slip between the other's check and its system call.
 * Invariant: total_bytes == sum of entries' real lengths (page-rounded; a
 * huge-page VMO's rounded to the huge pages it covers).
 *
 * fork: map_lock is held across fork by a pthread_atfork handler (installed
 * once, on first use), so a child never inherits it locked by a thread that
 * does not exist in the child. The child inherits the table with the
 * mappings (MAP_SHARED mappings are inherited). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "internal.h"
#include "mappings.h"
#include "vmo_huge.h"
#include "validate.h"
#include "status_detail.h"

struct mapping {
    void *addr;         /* the real mapping */
    uint64_t len;       /* its length: page-rounded, or huge-page-rounded */
    void *uaddr;        /* what cm_vmo_map returned (addr, or inside it) */
    uint64_t ulen;      /* the requested length, page-rounded */
    uint64_t obj_end;   /* object offset + requested length */
    dev_t dev;
    ino_t ino;
    /* Identity not read yet: the VMO mapped (alive: cm__map_owner_gone
     * settles its entries before its fd closes). resolve() reads it. */
    struct cm__vmo *owner;
    int id_lost;        /* could not be read: matches every lookup */
    int in_vmar;        /* inside a reservation: cut, never cm_vmo_unmap'ed */
    int prot;           /* PROT_* at map time (plain mappings never change it) */
    uint64_t obj_gen;   /* mapping identity: object serial, mapping generation */
    uint64_t gen;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mapping maps[CM_MAX_MAPPINGS];
static uint32_t map_count;
static uint64_t total_bytes;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    pthread_mutex_lock(&map_lock);
}

static void atfork_release(void)
{
    pthread_mutex_unlock(&map_lock);
}

static void install_atfork(void)
{
    /* Can fail only with ENOMEM; without the handler a fork racing a map
     * call could leave the child's lock held, as before: nothing else to do. */
    (void)pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static void lock_table(void)
{
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&map_lock);
}

int cm__proc_reopen(int fd, int write)
{
    char path[40];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    /* O_NONBLOCK: an open that breaks another process's file lease fails
     * with EWOULDBLOCK instead of waiting up to lease-break-time (45 s).
     * Cleared afterwards so the new description is a plain one. */
    int mine = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (mine < 0)
        return -1;
    int fl = fcntl(mine, F_GETFL);
    if (fl < 0 || fcntl(mine, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int err = errno;
        close(mine);
        errno = err;
        return -1;
    }
    return mine;
}

void *cm__mmap_ro_reopen(int fd, uint64_t len, int flags, uint64_t offset)
{
    int ro = cm__proc_reopen(fd, 0);
    if (ro < 0) {
        /* EMFILE is a limit, not a seal; without /proc the seal stands. */
        if (errno == ENOENT)
            errno = EPERM;
        return MAP_FAILED;
    }
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED | flags, ro, (off_t)offset);
    int err = errno;
    close(ro); /* the mapping holds its own reference to the file */
    errno = err;
    return p;
}

void *cm__mmap_shared(int fd, uint64_t len, int prot, int flags, uint64_t offset)
{
    void *p = mmap(NULL, len, prot, MAP_SHARED | flags, fd, (off_t)offset);
    if (p != MAP_FAILED || errno != EPERM || (prot & PROT_WRITE))
        return p;
    /* Before Linux 6.7 a MAP_SHARED mapping through a writable fd counted
     * as writable even with PROT_READ, so a memfd sealed F_SEAL_WRITE
     * refused it. Through a read-only open of the same file it is allowed
     * (and cannot be mprotect'ed writable either). */
    return cm__mmap_ro_reopen(fd, len, flags, offset);
}

static uint64_t page_round(uint64_t n)
{
    return (n + CM_PAGE_SIZE - 1) & ~(uint64_t)(CM_PAGE_SIZE - 1);
}

/* Gives the entries of owner v the identity in *sb (read from v's fd), or
 * marks them lost when sb is NULL (matched by every lookup, so a truncate
 * that might cut them is refused). Records it in v too. */
static void stamp_locked(struct cm__vmo *v, const struct stat *sb)
{
    for (uint32_t i = 0; i < map_count; i++) {
        if (maps[i].owner != v)
            continue;
        maps[i].owner = NULL;
        if (sb != NULL) {
            maps[i].dev = sb->st_dev;
            maps[i].ino = sb->st_ino;
        } else {
            maps[i].id_lost = 1;
        }
    }
    atomic_store(&v->map_owned, 0); /* no entry names v any more */
    if (sb != NULL) {
        atomic_store(&v->dev, (uint64_t)sb->st_dev);
        atomic_store(&v->ino, (uint64_t)sb->st_ino);
        atomic_store(&v->id_known, 1);
    }
}

/* Reads the identity of every entry that lacks it (one fstat per VMO; none
 * for the VMO whose fd `fd` was just fstat'ed into *known). Caller holds
 * map_lock, or is a forked child's fork handler. */
static void resolve_locked(int fd, const struct stat *known)
{
    for (uint32_t i = 0; i < map_count; i++) {
        struct cm__vmo *v = maps[i].owner;
        struct stat sb;
        if (v == NULL)
            continue;
        if (known != NULL && v->fd == fd)
            stamp_locked(v, known);
        else
            stamp_locked(v, fstat(v->fd, &sb) == 0 ? &sb : NULL);
    }
}

void cm__map_owner_gone(struct cm__vmo *v)
{
    lock_table();
    for (uint32_t i = 0; i < map_count; i++) {
        if (maps[i].owner == v) {
            struct stat sb;
            stamp_locked(v, fstat(v->fd, &sb) == 0 ? &sb : NULL);
            break;
        }
    }
    pthread_mutex_unlock(&map_lock);
}

cm_status_t cm__map_create(const struct cm__map_req *req, void **addr, int *retry)
{
    uint64_t rounded = page_round(req->len);
    uint64_t fd_off = req->fd_offset, delta = 0;
    cm_status_t st = CM_OK;
    uint64_t size = req->obj_size;
    dev_t dev = req->dev;
    ino_t ino = req->ino;
    struct stat sb;
    *retry = 0;
    lock_table();
    if (req->private_of != NULL && !cm__vmo_private(req->private_of)) {
        *retry = 1; /* exported, sent or forked since the caller looked */
        goto out;
    }
    if (req->size_from_fd) {
        if (fstat(req->fd, &sb) != 0) {
            st = cm__errno_detail("fstat of the VMO's memfd", errno);
            goto out;
        }
        size = (uint64_t)sb.st_size;
        if (req->huge && atomic_load(req->exact) < size)
            size = atomic_load(req->exact);
        dev = sb.st_dev;
        ino = sb.st_ino;
    } else if (req->tracked != NULL) {
        size = atomic_load(req->tracked);
    }
    if (req->obj_offset > size || req->len > size - req->obj_offset) {
        st = cm__detail_set(CM_ERR_OUT_OF_RANGE,
                            "range offset %llu + len %llu is past the VMO's size %llu",
                            (unsigned long long)req->obj_offset, (unsigned long long)req->len,
                            (unsigned long long)size);
        goto out;
    }
    if (req->huge) {
        /* hugetlbfs maps from a huge-page-aligned file offset only; the
         * kernel aligns the address. obj_offset+len <= size <= the file
         * size, itself a multiple of the huge page: the cover fits. */
        fd_off = req->fd_offset & ~(uint64_t)(CM_HUGE_PAGE_SIZE - 1);
        delta = req->fd_offset - fd_off;
        rounded = cm__huge_round(delta + req->len);
    }
    if (map_count >= CM_MAX_MAPPINGS) {
        st = cm__detail_set(CM_ERR_NO_RESOURCES,
                            "CM_MAX_MAPPINGS (%u live mappings per process) reached: unmap first",
                            CM_MAX_MAPPINGS);
        goto out;
    }
    if (rounded > CM_MAX_MAPPED_BYTES - total_bytes) {
        st = cm__detail_set(CM_ERR_NO_RESOURCES,
                            "CM_MAX_MAPPED_BYTES (%llu bytes per process) reached: %llu mapped, "
                            "%llu more asked", (unsigned long long)CM_MAX_MAPPED_BYTES,
                            (unsigned long long)total_bytes, (unsigned long long)rounded);
        goto out;
    }
    /* The ledger's VIRTUAL (docs/ledger.md): a plain mapping's bytes, under
     * a limit the process may have lowered (QUOTA_VIRTUAL). A mapping into
     * a reservation is not charged again: its reservation is. */
    if (req->fixed == NULL && (st = cm__hledger_charge(CM_LEDGER_VIRTUAL, rounded)) != CM_OK)
        goto out;
    void *p;
    if (req->fixed != NULL) {
        /* Over the caller's PROT_NONE reservation pages: MAP_FIXED replaces
         * them atomically. A write-sealed memfd refuses even a read-only
         * MAP_SHARED through a writable fd before Linux 6.7 (see
         * cm__mmap_shared); read-only then goes through a read-only open. */
        p = mmap(req->fixed, rounded, req->prot, MAP_SHARED | MAP_FIXED | req->extra_flags,
                 req->fd, (off_t)fd_off);
        if (p == MAP_FAILED && errno == EPERM && !(req->prot & PROT_WRITE)) {
            int ro = cm__proc_reopen(req->fd, 0);
            if (ro >= 0) {
                p = mmap(req->fixed, rounded, PROT_READ,
                         MAP_SHARED | MAP_FIXED | req->extra_flags, ro, (off_t)fd_off);
                int err = errno;
                close(ro);
                errno = err;
            }
        }
    } else {
        p = cm__mmap_shared(req->fd, rounded, req->prot, req->extra_flags, fd_off);
    }
    if (p == MAP_FAILED) {
        if (errno == EPERM && (req->prot & PROT_WRITE))
            st = cm__detail_set(CM_ERR_ACCESS_DENIED,
                                "CM_MAP_WRITE of a write-sealed VMO (mmap PROT_WRITE: EPERM): "
                                "map it with CM_MAP_READ only");
        else
            st = cm__errno_detail("mmap", errno);
        if (req->fixed == NULL)
            cm__hledger_uncharge(CM_LEDGER_VIRTUAL, rounded);
        goto out;
    }
    void *user = (char *)p + delta;
    if (!req->size_from_fd && req->owner != NULL)
        atomic_store(&req->owner->map_owned, 1);
    maps[map_count++] = (struct mapping){ p, rounded, user, page_round(req->len),
                                          req->obj_offset + req->len, dev, ino,
                                          req->size_from_fd ? NULL : req->owner, 0,
                                          req->fixed != NULL, req->prot, req->obj_gen,
                                          req->gen };
    total_bytes += rounded;
    *addr = user;
out:
    pthread_mutex_unlock(&map_lock);
    return st;
}

cm_status_t cm_vmo_unmap(void *addr, uint64_t len)
{
    CM__ENTRY();
    cm_status_t st = CM_ERR_INVALID_ARGS;
    if (addr == NULL || len == 0 || len > CM_MAX_MAPPED_BYTES)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "addr is NULL, or len is 0 or above "
                              "CM_MAX_MAPPED_BYTES");
    uint64_t rounded = page_round(len);
    lock_table();
    for (uint32_t i = 0; i < map_count; i++) {
        if (maps[i].uaddr != addr || maps[i].ulen != rounded || maps[i].in_vmar)
            continue;
        /* The real mapping: a huge-page one starts before addr and ends
         * after addr+len. */
        if (munmap(maps[i].addr, maps[i].len) != 0) {
            st = cm__errno_detail("munmap", errno);
            break;
        }
        total_bytes -= maps[i].len;
        cm__hledger_uncharge(CM_LEDGER_VIRTUAL, maps[i].len);
        maps[i] = maps[--map_count];
        st = CM_OK;
        break;
    }
    pthread_mutex_unlock(&map_lock);
    if (st == CM_ERR_INVALID_ARGS)
        cm__detail_set(st, "no cm_vmo_map mapping starts at %p with length %llu: pass the "
                       "address and length cm_vmo_map gave (reservation mappings: cm_vmar_unmap)",
                       addr, (unsigned long long)len);
    return st;
}

/* Caller holds map_lock. Entries whose identity is not read yet are read
 * first (resolve_locked; fd/known: see there). */
static int extends_past_locked(dev_t dev, ino_t ino, uint64_t size, int fd,
                               const struct stat *known)
{
    resolve_locked(fd, known);
    for (uint32_t i = 0; i < map_count; i++)
        if (((maps[i].dev == dev && maps[i].ino == ino) || maps[i].id_lost) &&
            maps[i].obj_end > size)
            return 1;
    return 0;
}

void cm__map_table_hold(void)
{
    lock_table();
}

void cm__map_table_release(void)
{
    pthread_mutex_unlock(&map_lock);
}

int cm__map_share(struct cm__vmo *v, dev_t dev, ino_t ino)
{
    lock_table();
    atomic_store(&v->shared, 1);
    int found = extends_past_locked(dev, ino, 0, -1, NULL);
    pthread_mutex_unlock(&map_lock);
    return found;
}

int cm__map_extends_past(dev_t dev, ino_t ino, uint64_t size)
{
    lock_table();
    int found = extends_past_locked(dev, ino, size, -1, NULL);
    pthread_mutex_unlock(&map_lock);
    return found;
}

/* Called only in a forked child, from the handle table's fork handler: the
 * child has one thread, and map_lock may be held by that very thread (taken
 * by our prepare handler, released by a child handler that may run later),
 * so the table is read without it. */
int cm__map_extends_past_in_child(dev_t dev, ino_t ino, uint64_t size)
{
    return extends_past_locked(dev, ino, size, -1, NULL);
}

/* The huge-page half of cm__map_truncate, under the lock: the exact size
 * goes from *tracked to size, the file (file_now bytes) to size rounded up.
 * The bytes past the smaller exact size that stay in the file are zeroed,
 * so that growing later shows zeros (as a base-page memfd does): on a
 * shrink only after the file was cut (a failed cut loses no byte), through
 * a mapping made before it (so nothing can fail after the cut). */
static cm_status_t huge_truncate_locked(int fd, uint64_t file_now, uint64_t size,
                                        _Atomic uint64_t *tracked)
{
    uint64_t old = atomic_load(tracked);
    uint64_t lo = old < size ? old : size, file = cm__huge_round(size);
    uint64_t tail = cm__huge_round(lo) < file_now ? cm__huge_round(lo) : file_now;
    uint64_t delta = 0, mlen = 0;
    cm_status_t st = CM_OK;
    char *p = NULL;
    if (tail > lo && (p = cm__huge_map(fd, lo, tail - lo, &delta, &mlen, &st)) == NULL)
        return st;
    if (size >= old && p != NULL)
        memset(p + delta, 0, tail - lo); /* past the old exact size: nobody's bytes */
    if (ftruncate(fd, (off_t)file) != 0) {
        st = cm__errno_detail("ftruncate", errno); /* EPERM: sealed */
    } else if (file > file_now && (st = cm__huge_reserve(fd, file_now, file)) != CM_OK) {
        (void)ftruncate(fd, (off_t)file_now); /* back: a shrink needs no page */
    } else {
        if (size < old && p != NULL)
            memset(p + delta, 0, tail - lo);
        atomic_store(tracked, size);
    }
    if (p != NULL)
        munmap(p, mlen);
    return st;
}

cm_status_t cm__map_truncate(int fd, uint64_t size, int huge, _Atomic uint64_t *tracked)
{
    struct stat sb;
    cm_status_t st = CM_OK;
    lock_table();
    uint64_t now = huge ? atomic_load(tracked) : 0;
    if (fstat(fd, &sb) != 0)
        st = cm__errno_detail("fstat", errno);
    else if (size < (huge ? now : (uint64_t)sb.st_size) &&
             extends_past_locked(sb.st_dev, sb.st_ino, size, fd, &sb))
        st = CM_ERR_BAD_STATE;
    else if (huge)
        st = huge_truncate_locked(fd, (uint64_t)sb.st_size, size, tracked);
    else if (ftruncate(fd, (off_t)size) != 0)
        st = cm__errno_detail("ftruncate", errno); /* EPERM: sealed */
    else
        atomic_store(tracked, size);
    pthread_mutex_unlock(&map_lock);
    return st;
}

cm_status_t cm__map_huge_write(int fd, _Atomic uint64_t *exact, const void *buf,
                               uint64_t off, uint64_t len, int fault_safe,
                               const struct cm__vmo *private_of, int *retry)
{
    struct stat sb = { .st_size = -1 };
    cm_status_t st;
    *retry = 0;
    lock_table();
    if (private_of != NULL && !cm__vmo_private(private_of)) {
        *retry = 1; /* exported, sent or forked since the caller looked */
        st = CM_OK;
    } else if (private_of == NULL && fstat(fd, &sb) != 0) {
        st = cm__errno_detail("fstat", errno);
    } else {
        uint64_t size = atomic_load(exact);
        if (sb.st_size >= 0 && (uint64_t)sb.st_size < size)
            size = (uint64_t)sb.st_size; /* another holder shrank the file */
        st = cm__range_ok(off, len, size) ? cm__huge_copy_in(fd, off, buf, len, fault_safe)
                                          : CM_ERR_OUT_OF_RANGE;
    }
    pthread_mutex_unlock(&map_lock);
    return st;
}

cm_status_t cm__map_vmar_cut_locked(uint64_t addr, uint64_t len, int commit)
{
    uint64_t end = addr + len;
    for (uint32_t i = 0; i < map_count; i++) {
        uint64_t a = (uint64_t)(uintptr_t)maps[i].addr, e = a + maps[i].len;
        if (!maps[i].in_vmar || e <= addr || a >= end)
            continue;
        int head = a < addr, tail = e > end;
        if (head && tail) {
            if (map_count >= CM_MAX_MAPPINGS)
                return CM_ERR_NO_RESOURCES;
            if (!commit)
                return CM_OK;
            struct mapping t = maps[i];
            t.addr = t.uaddr = (void *)(uintptr_t)end;
            t.len = t.ulen = e - end;
            maps[i].len = maps[i].ulen = addr - a;
            maps[i].obj_end -= e - addr;
            maps[map_count++] = t;
            total_bytes -= len;
            return CM_OK;
        }
        if (!commit)
            continue;
        if (head) {
            maps[i].len = maps[i].ulen = addr - a;
            maps[i].obj_end -= e - addr;
            total_bytes -= e - addr;
        } else if (tail) {
            maps[i].addr = maps[i].uaddr = (void *)(uintptr_t)end;
            maps[i].len = maps[i].ulen = e - end;
            total_bytes -= end - a;
        } else {
            total_bytes -= maps[i].len;
            maps[i--] = maps[--map_count];
        }
    }
    return CM_OK;
}

cm_status_t cm__map_lookup(uint64_t addr, uint64_t *obj_id, uint64_t *obj_gen,
                           uint64_t *obj_off, uint64_t *gen, uint64_t *start,
                           uint64_t *len, uint32_t *prot)
{
    cm_status_t st = CM_ERR_NOT_FOUND;
    lock_table();
    resolve_locked(-1, NULL);
    for (uint32_t i = 0; i < map_count; i++) {
        uint64_t a = (uint64_t)(uintptr_t)maps[i].uaddr;
        if (maps[i].in_vmar || addr < a || addr - a >= maps[i].ulen)
            continue;
        uint64_t page = addr & ~(uint64_t)(CM_PAGE_SIZE - 1);
        *obj_id = ((uint64_t)maps[i].dev << 40) ^ (uint64_t)maps[i].ino;
        *obj_gen = maps[i].obj_gen;
        /* obj_end - len, with len unknown: the offset is page-aligned. */
        *obj_off = page_round(maps[i].obj_end) - maps[i].ulen + (page - a);
        *gen = maps[i].gen;
        *start = a;
        *len = maps[i].ulen;
        *prot = ((maps[i].prot & PROT_READ) ? CM_MAP_READ : 0) |
                ((maps[i].prot & PROT_WRITE) ? CM_MAP_WRITE : 0);
        st = CM_OK;
        break;
    }
    pthread_mutex_unlock(&map_lock);
    return st;
}

uint64_t cm__map_total_bytes(void)
{
    lock_table();
    uint64_t n = total_bytes;
    pthread_mutex_unlock(&map_lock);
    return n;
}

uint32_t cm_host_live_mappings(void)
{
    lock_table();
    uint32_t n = map_count;
    pthread_mutex_unlock(&map_lock);
    return n;
}
