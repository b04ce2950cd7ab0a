/* SPDX-License-Identifier: MIT */
/* VMOs on Linux: a memfd per object.
 *
 * Everything a receiver relies on is enforced by the Linux kernel, not by
 * this library: size is fstat's, seals are F_GET_SEALS', and write
 * protection is a seal (an fd's access mode is not protection: an O_RDONLY
 * memfd can be reopened O_RDWR through /proc/self/fd). Seal levels:
 *   READONLY  = F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK
 *   IMMUTABLE = READONLY | F_SEAL_WRITE   (EBUSY while writably mapped)
 * Seals only ever get added, so every fact is read AFTER the seals that
 * freeze it: a size read after F_SEAL_SHRINK was seen is a floor forever,
 * a size read before it is not.
 * An fd from outside (a channel, cm_host_vmo_from_fd) enters through one
 * admission (cm__vmo_admit, rule in core/vmo_admit.c) and gets its own open
 * file description. A VMO another process may hold is mapped only when its
 * size cannot shrink (F_SEAL_SHRINK): a shrink under a mapping is SIGBUS.
 * A file window (cm_vmo_create_from_file) holds the file's fd and never has
 * WRITE; it is never IMMUTABLE and never mapped, since the file can be
 * truncated underneath by whoever can write it.
 * RLIMIT_FSIZE applies to memfds: a write, ftruncate or fallocate past it
 * raises SIGXFSZ (fatal by default), so each is checked first.
 * Huge-page VMOs (v->huge, host/vmo_huge.h) are hugetlbfs memfds whose
 * file is the exact size rounded up to CM_HUGE_PAGE_SIZE; the exact size is
 * local_size (min the file's size once shared), and writes go through a
 * mapping since hugetlbfs has no write(). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "fd_owned.h"
#include "internal.h"
#include "validate.h"
#include "mappings.h"
#include "vmo_admit.h"
#include "vmo_huge.h"
#include "status_detail.h"

_Static_assert(CM__SEAL_SEAL == F_SEAL_SEAL && CM__SEAL_SHRINK == F_SEAL_SHRINK &&
               CM__SEAL_GROW == F_SEAL_GROW && CM__SEAL_WRITE == F_SEAL_WRITE &&
               CM__SEAL_FUTURE_WRITE == F_SEAL_FUTURE_WRITE,
               "core seal bits are Linux's F_SEAL_* values");

#define SEALS_READONLY  (F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)
#define SEALS_IMMUTABLE (SEALS_READONLY | F_SEAL_WRITE)
#define SEALS_NO_WRITE  (F_SEAL_FUTURE_WRITE | F_SEAL_WRITE)
#define SEALS_FIXED_SIZE (F_SEAL_GROW | F_SEAL_SHRINK)

static void vmo_destroy(struct cm__hobj *obj)
{
    struct cm__vmo *v = (struct cm__vmo *)obj;
    if (v->fd >= 0) {
        if (atomic_load(&v->map_owned))
            cm__map_owner_gone(v); /* mappings that outlive v learn its identity */
        cm__fd_disown(v->fd); /* marked if cm_host_vmo_from_fd kept it */
        close(v->fd);
    }
    pthread_rwlock_destroy(&v->size_lock);
    if (v->counted)
        cm__hledger_uncharge_vmo(&v->backing);
    free(v);
}

/* In a forked child (async-signal-safe calls only): the parent's mappings
 * made before the fork are in the child's inherited mapping table, which
 * the child may empty (cm_vmo_unmap) and then shrink the shared memfd
 * under the parent. Freezing the floor now, while the table still shows
 * them, protects both: F_SEAL_SHRINK binds every holder. A read-only fd
 * cannot add seals; then this process cannot shrink the object either. */
static void vmo_after_fork_child(struct cm__hobj *obj)
{
    struct cm__vmo *v = (struct cm__vmo *)obj;
    struct stat sb;
    /* Not sized at the fork (vmo_before_fork failed, or a parent thread
     * was still at it): the parent may size it later, with its own
     * create's size, and may have set another size by then; two sizers in
     * two processes would cut each other's size. The parent keeps it, this
     * copy is refused (struct cm__vmo, size_state). */
    if (atomic_load(&v->size_state) != CM__SIZE_SET)
        atomic_store(&v->size_state, CM__SIZE_LOST);
    /* A parent thread may have held it at the fork: it is not here. */
    pthread_rwlock_init(&v->size_lock, NULL);
    if (v->is_file || cm__vmo_frozen(v) || fstat(v->fd, &sb) != 0)
        return;
    if (cm__map_extends_past_in_child(sb.st_dev, sb.st_ino, 0))
        (void)fcntl(v->fd, F_ADD_SEALS, F_SEAL_SHRINK);
}

/* Before a fork: the child holds the memfd too, and both read its size
 * from the file from then on, so a lazily sized one gets its size now. If
 * that fails (RLIMIT_FSIZE lowered below the size since the create), the
 * parent sizes it at its next use and the child's copy is refused
 * (vmo_after_fork_child). */
static void vmo_before_fork(struct cm__hobj *obj)
{
    (void)cm__vmo_size_file((struct cm__vmo *)obj);
}

static cm_status_t vmo_alloc(int fd, int is_file, struct cm__vmo **out)
{
    struct cm__vmo *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&v->hdr, CM_OBJ_VMO, vmo_destroy);
    pthread_rwlock_init(&v->size_lock, NULL);
    v->hdr.after_fork_child = vmo_after_fork_child;
    v->hdr.before_fork = vmo_before_fork;
    v->fd = fd;
    v->is_file = is_file;
    *out = v;
    return CM_OK;
}

int cm__vmo_private(const struct cm__vmo *v)
{
    return !v->is_file && !atomic_load(&v->shared) && !cm__hobj_forked(&v->hdr);
}

/* Records the file's identity read by an fstat of v->fd. */
static void vmo_note_identity(struct cm__vmo *v, const struct stat *sb)
{
    atomic_store(&v->dev, (uint64_t)sb->st_dev);
    atomic_store(&v->ino, (uint64_t)sb->st_ino);
    atomic_store(&v->id_known, 1);
}

/* v's (st_dev, st_ino): cached, or one fstat the first time. */
static cm_status_t vmo_identity(struct cm__vmo *v, uint64_t *dev, uint64_t *ino)
{
    struct stat sb;
    if (!atomic_load(&v->id_known)) {
        if (fstat(v->fd, &sb) != 0)
            return cm__errno_detail("fstat", errno);
        vmo_note_identity(v, &sb);
    }
    *dev = atomic_load(&v->dev);
    *ino = atomic_load(&v->ino);
    return CM_OK;
}

cm_status_t cm__vmo_wrap_memfd(int fd, struct cm__vmo **out)
{
    struct stat st;
    /* F_GET_SEALS succeeds only on shmem/hugetlbfs files: a regular file,
     * pipe or socket posing as a VMO is refused here. */
    if (fcntl(fd, F_GET_SEALS) < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return CM_ERR_WRONG_TYPE;
    cm_status_t rc = vmo_alloc(fd, 0, out);
    if (rc == CM_OK) {
        /* Private: the size read now is the size until this process
         * changes it (struct cm__vmo, local_size). */
        atomic_store(&(*out)->local_size, (uint64_t)st.st_size);
        vmo_note_identity(*out, &st);
    }
    return rc;
}

/* The device of the kernel's internal shmem mount, where every memfd
 * lives (not a hugetlbfs one): learned once per process from a memfd of our
 * own, so that admitting a memfd needs no fstatfs. That mount is made at
 * boot and never unmounted, so its device number never names another
 * filesystem. 0: unknown (the probe failed), fstatfs decides every time. */
static pthread_once_t shm_dev_once = PTHREAD_ONCE_INIT;
static dev_t shm_dev;

static void shm_dev_probe(void)
{
    struct stat sb;
    int fd = memfd_create("capmem-probe", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &sb) == 0 && sb.st_dev != 0)
        shm_dev = sb.st_dev;
    close(fd);
}

/* Likewise the device of the kernel's internal hugetlbfs mount of 2 MiB
 * pages, where every MFD_HUGE_2MB memfd lives (one mount per huge page
 * size, made at boot, never unmounted), learned from a memfd of our own
 * (creating one needs no pool). A file there has 2 MiB pages by
 * construction; st_blksize, which hugetlbfs sets to the page size, is
 * checked per fd anyway. 0: unknown, fstatfs decides. A hugetlbfs mounted
 * by an administrator has another device: fstatfs decides. */
static pthread_once_t huge_dev_once = PTHREAD_ONCE_INIT;
static dev_t huge_dev;

static void huge_dev_probe(void)
{
    struct stat sb;
    int fd = cm__huge_probe_memfd();
    if (fd < 0)
        return;
    if (fstat(fd, &sb) == 0 && sb.st_dev != 0 && sb.st_blksize == CM_HUGE_PAGE_SIZE)
        huge_dev = sb.st_dev;
    close(fd);
}

/* Which filesystem fd's file (fstat'ed into sb) is on; for hugetlbfs its
 * page size (f_bsize) in *page_size. */
static uint32_t fs_of(int fd, const struct stat *sb, int *ok, uint32_t *page_size)
{
    struct statfs fs;
    pthread_once(&shm_dev_once, shm_dev_probe);
    *ok = 1;
    if (shm_dev != 0 && sb->st_dev == shm_dev)
        return CM__VMO_FS_SHMEM;
    pthread_once(&huge_dev_once, huge_dev_probe);
    if (huge_dev != 0 && sb->st_dev == huge_dev && sb->st_blksize == CM_HUGE_PAGE_SIZE) {
        *page_size = CM_HUGE_PAGE_SIZE;
        return CM__VMO_FS_HUGETLB;
    }
    if (fstatfs(fd, &fs) != 0) {
        *ok = 0;
        return CM__VMO_FS_OTHER;
    }
    if (fs.f_type == HUGETLBFS_MAGIC) {
        *page_size = fs.f_bsize > 0 && (unsigned long)fs.f_bsize <= UINT32_MAX
                         ? (uint32_t)fs.f_bsize : 0;
        return CM__VMO_FS_HUGETLB;
    }
    return fs.f_type == TMPFS_MAGIC ? CM__VMO_FS_SHMEM : CM__VMO_FS_OTHER;
}

void cm__vmo_gather(int fd, struct cm__vmo_facts *f, struct stat *sb, int defer_mode)
{
    int ok = 0, fl = 0;
    memset(f, 0, sizeof(*f));
    int seals = fcntl(fd, F_GET_SEALS);
    /* Under WRITE|GROW|SHRINK the mode can add no right (core/vmo_admit.h,
     * mode_deferred): a caller that keeps such an fd as it came may leave
     * the mode to the fd's first use. */
    f->mode_deferred = defer_mode && seals >= 0 &&
                       ((uint32_t)seals & CM__SEALS_IMMUTABLE) == CM__SEALS_IMMUTABLE;
    if (seals >= 0 && !f->mode_deferred)
        fl = fcntl(fd, F_GETFL);
    if (seals < 0 || fl < 0 || fstat(fd, sb) != 0) {
        f->mode_deferred = 0;
        return; /* seals_ok == 0: WRONG_TYPE */
    }
    f->fs = fs_of(fd, sb, &ok, &f->page_size);
    if (!ok)
        return;
    f->seals_ok = 1;
    f->seals = (uint32_t)seals;
    f->is_reg = S_ISREG(sb->st_mode);
    f->nlink = (uint64_t)sb->st_nlink;
    f->size = sb->st_size < 0 ? UINT64_MAX : (uint64_t)sb->st_size;
    if (f->mode_deferred)
        return;
    int acc = fl & O_ACCMODE;
    f->readable = !(fl & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
    f->writable = !(fl & O_PATH) && acc == O_RDWR;
}

cm_status_t cm__vmo_readable(struct cm__vmo *v)
{
    if (!atomic_load(&v->mode_deferred))
        return CM_OK;
    int fl = fcntl(v->fd, F_GETFL);
    if (fl < 0)
        return cm__errno_detail("fcntl(F_GETFL) of a received VMO", errno);
    int acc = fl & O_ACCMODE;
    if ((fl & O_PATH) || (acc != O_RDONLY && acc != O_RDWR))
        return cm__detail_set(CM_ERR_PROTOCOL, "the peer sent this VMO as an fd that cannot "
                              "be read (access mode %d): nothing of it can be read or mapped",
                              acc);
    atomic_store(&v->mode_deferred, 0);
    return CM_OK;
}

cm_status_t cm__vmo_use_failed(struct cm__vmo *v, cm_status_t st)
{
    /* What a refused pread (EBADF) or mmap (EACCES) gives. */
    if ((st != CM_ERR_BAD_HANDLE && st != CM_ERR_ACCESS_DENIED) ||
        !atomic_load(&v->mode_deferred))
        return st;
    cm_status_t mode = cm__vmo_readable(v);
    return mode == CM_OK ? st : mode;
}

/* Status for a failed /proc reopen. */
static cm_status_t reopen_status(int err)
{
    if (err == ENOENT)
        return CM_ERR_UNSUPPORTED; /* /proc not mounted: no private description */
    return cm__status_from_errno(err);
}

/* The fd the admitted object holds: fd itself when the verdict makes the
 * shared open file description harmless, else a /proc reopen of its own.
 * Harmless means frozen and read-only: with WRITE|GROW|SHRINK sealed and no
 * WRITE granted, the object is only ever read (pread, which ignores the
 * file offset) and mapped read-only, and no status flag another holder can
 * set on the description changes that: O_APPEND and O_NONBLOCK act on
 * writes and blocking files only, O_DIRECT is refused on shmem (Linux <
 * 6.6) or ignored by its reads, O_ASYNC and F_SETOWN signal nothing for a
 * regular file; no capmem call opens it again, so a lease cannot stall one.
 * That is the sender's reasoning for sending a frozen VMO as its own fd
 * (host/channel.c, prepare_fds). Sets *own = 1 when fd is kept. */
static int admitted_fd(int fd, const struct cm__vmo_verdict *d, const struct stat *sb,
                       int *own, cm_status_t *st)
{
    *own = 0;
    if (d->mode_deferred || (d->immutable && !(d->rights & CM_RIGHT_WRITE))) {
        *own = 1;
        return fd;
    }
    struct stat mine_sb;
    int mine = cm__proc_reopen(fd, (int)d->open_write);
    if (mine < 0) {
        *st = reopen_status(errno);
        return -1;
    }
    /* /proc/self/fd/N names fd's own file; checked anyway, it is cheap. */
    if (fstat(mine, &mine_sb) != 0 || mine_sb.st_dev != sb->st_dev ||
        mine_sb.st_ino != sb->st_ino) {
        close(mine);
        *st = CM_ERR_INTERNAL;
        return -1;
    }
    return mine;
}

cm_status_t cm__vmo_admit_gathered(int fd, const struct cm__vmo_facts *f,
                                   const struct stat *sb, cm_rights_t claimed, uint64_t exact,
                                   struct cm__vmo **out, cm_rights_t *rights, int *took_fd)
{
    struct cm__vmo_verdict d;
    struct cm__vmo *v;
    int own = 0;
    cm_status_t st = cm__vmo_admit_decide(f, claimed, exact, &d);
    if (st != CM_OK)
        return st;
    int mine = admitted_fd(fd, &d, sb, &own, &st);
    if (mine < 0)
        return st;
    st = vmo_alloc(mine, 0, &v);
    if (st != CM_OK) {
        if (!own)
            close(mine);
        return st;
    }
    atomic_store(&v->shared, 1);
    v->huge = (int)d.huge;
    atomic_store(&v->local_size, d.size); /* used as the exact size when huge */
    atomic_store(&v->dev, (uint64_t)sb->st_dev);
    atomic_store(&v->ino, (uint64_t)sb->st_ino);
    atomic_store(&v->id_known, 1);
    atomic_store(&v->mode_deferred, (int)d.mode_deferred);
    if (d.immutable) {
        v->frozen_size = d.size;
        atomic_store_explicit(&v->frozen, 1, memory_order_release);
    }
    *out = v;
    *rights = d.rights;
    *took_fd = own;
    return CM_OK;
}

cm_status_t cm__vmo_admit(int fd, cm_rights_t claimed, struct cm__vmo **out,
                          cm_rights_t *rights, int *took_fd)
{
    struct cm__vmo_facts f;
    struct stat sb;
    cm__vmo_gather(fd, &f, &sb, 0);
    /* No exact size comes with a bare fd: a huge one's is its file's. */
    return cm__vmo_admit_gathered(fd, &f, &sb, claimed, CM__VMO_EXACT_NONE, out, rights,
                                  took_fd);
}

/* After a failed install: drops an admitted object without closing the fd
 * it may have taken over (the caller still owns that fd on failure). */
void cm__vmo_admit_undo(struct cm__vmo *v, int took_fd)
{
    if (took_fd)
        v->fd = -1;
    cm__hobj_put(&v->hdr);
}

cm_status_t cm__vmo_receive(int fd, const struct cm__vmo_facts *f, const struct stat *sb,
                            cm_rights_t claimed, uint64_t exact, cm_handle_t *out)
{
    struct cm__vmo *v;
    cm_rights_t rights;
    int took = 0;
    cm_status_t st = cm__vmo_admit_gathered(fd, f, sb, claimed, exact, &v, &rights, &took);
    if (st == CM_ERR_WRONG_TYPE || st == CM_ERR_OUT_OF_RANGE || st == CM_ERR_ACCESS_DENIED ||
        st == CM_ERR_INVALID_ARGS || st == CM_ERR_SHOULD_WAIT)
        return CM_ERR_PROTOCOL; /* not what a channel carries as a VMO, or leased */
    if (st != CM_OK)
        return st;
    st = cm__handle_install(&v->hdr, rights, out);
    if (st != CM_OK) {
        cm__vmo_admit_undo(v, took); /* the caller closes fd */
        return st;
    }
    if (!took)
        close(fd); /* the handle holds its own reopen */
    return CM_OK;
}

/* A forked child's copy of a VMO the fork could not size. */
static cm_status_t size_lost(void)
{
    return cm__detail_set(CM_ERR_BAD_STATE,
                          "this VMO's memfd had no size yet when the process forked "
                          "(RLIMIT_FSIZE refused it then): the parent alone sizes it, this "
                          "process's copy can only be closed");
}

/* Takes the sizing of v's file (LAZY -> SETTING): 1 when this thread now
 * sizes it and then calls vmo_release_size, 0 when it is sized already,
 * waiting while another thread sizes it. *st: BAD_STATE for a LOST copy.
 * Nothing that takes a lock may run between the two: the handle table's
 * fork_prepare waits for SETTING, holding the locks held across a fork. */
static int vmo_claim_size(struct cm__vmo *v, cm_status_t *st)
{
    int state = atomic_load_explicit(&v->size_state, memory_order_acquire);
    *st = CM_OK;
    for (;;) {
        if (state == CM__SIZE_SET)
            return 0;
        if (state == CM__SIZE_LOST) {
            *st = size_lost();
            return 0;
        }
        if (state == CM__SIZE_LAZY &&
            atomic_compare_exchange_weak(&v->size_state, &state, CM__SIZE_SETTING))
            return 1;
        if (state == CM__SIZE_SETTING) {
            sched_yield(); /* another thread's one ftruncate */
            state = atomic_load_explicit(&v->size_state, memory_order_acquire);
        }
    }
}

/* Ends a vmo_claim_size: SET if the file got local_size, else LAZY again
 * (the file unchanged, or grown within local_size). */
static void vmo_release_size(struct cm__vmo *v, int sized)
{
    atomic_store_explicit(&v->size_state, sized ? CM__SIZE_SET : CM__SIZE_LAZY,
                          memory_order_release);
}

/* ftruncate of a VMO's memfd to size, with its RLIMIT_FSIZE check (no
 * SIGXFSZ). */
static cm_status_t size_memfd(int fd, uint64_t size)
{
    cm_status_t st = cm__fsize_allows(size);
    if (st == CM_OK && ftruncate(fd, (off_t)size) != 0)
        st = cm__vmo_pages_errno("ftruncate of a VMO's memfd", errno);
    return st;
}

cm_status_t cm__vmo_size_file(struct cm__vmo *v)
{
    cm_status_t st;
    if (!vmo_claim_size(v, &st))
        return st;
    /* local_size is the size while not SET (struct cm__vmo). */
    st = size_memfd(v->fd, atomic_load(&v->local_size));
    vmo_release_size(v, st == CM_OK);
    return st;
}

/* cm__vmo_get, with the file sized when `sized` (every use but a write,
 * which sizes it itself, and get_size, which needs no file). */
static cm_status_t vmo_lookup(cm_handle_t h, cm_rights_t need, struct cm__vmo **v,
                              cm_rights_t *rights, int sized)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_VMO, need, &obj, rights);
    if (st != CM_OK)
        return st;
    struct cm__vmo *found = (struct cm__vmo *)obj;
    if (sized)
        st = cm__vmo_size_file(found);
    else if (atomic_load(&found->size_state) == CM__SIZE_LOST)
        st = size_lost(); /* not even its size is known here */
    if (st != CM_OK) {
        cm__hobj_put(obj);
        return st;
    }
    *v = (struct cm__vmo *)obj;
    return CM_OK;
}

cm_status_t cm__vmo_get(cm_handle_t h, cm_rights_t need, struct cm__vmo **v,
                        cm_rights_t *rights)
{
    return vmo_lookup(h, need, v, rights, 1);
}

cm_status_t cm__vmo_get_unsized(cm_handle_t h, cm_rights_t need, struct cm__vmo **v,
                                cm_rights_t *rights)
{
    return vmo_lookup(h, need, v, rights, 0);
}

int cm__vmo_file_sized(const struct cm__vmo *v)
{
    return atomic_load_explicit(&v->size_state, memory_order_acquire) == CM__SIZE_SET;
}

uint64_t cm__vmo_known_size(const struct cm__vmo *v, int file_sized, uint64_t file_size)
{
    /* Not sized: only this process sizes it, so local_size is the size
     * (struct cm__vmo). */
    return file_sized ? file_size : atomic_load(&v->local_size);
}

/* A huge VMO's size given its file's: the exact size, unless another
 * holder cut the file below it. */
static uint64_t huge_size(const struct cm__vmo *v, uint64_t file_size)
{
    uint64_t exact = atomic_load(&v->local_size);
    return file_size < exact ? file_size : exact;
}

static cm_status_t vmo_size(const struct cm__vmo *v, uint64_t *size)
{
    struct stat st;
    if (v->is_file) {
        *size = v->file_len;
        return CM_OK;
    }
    if (cm__vmo_frozen(v)) {
        *size = v->frozen_size;
        return CM_OK;
    }
    /* Not sized yet: this process alone sizes it (struct cm__vmo,
     * size_state), private or not (a fork that could not size it). */
    if (cm__vmo_private(v) || !cm__vmo_file_sized(v)) {
        *size = atomic_load(&v->local_size);
        return CM_OK;
    }
    if (fstat(v->fd, &st) != 0)
        return cm__errno_detail("fstat", errno);
    /* Admission checked the size once; a holder of an unsealed VMO can
     * grow it since (sparse, to any size). Past the documented limit it is
     * not served: OUT_OF_RANGE, until someone shrinks it back. */
    if (st.st_size < 0 || (uint64_t)st.st_size > CM_VMO_MAX_SIZE)
        return CM_ERR_OUT_OF_RANGE;
    *size = v->huge ? huge_size(v, (uint64_t)st.st_size) : (uint64_t)st.st_size;
    return CM_OK;
}

uint64_t cm__vmo_wire_size(const struct cm__hobj *obj)
{
    const struct cm__vmo *v = (const struct cm__vmo *)obj;
    uint64_t size = 0;
    if (obj->type != CM_OBJ_VMO || !v->huge || vmo_size(v, &size) != CM_OK)
        return 0; /* a huge one that cannot say its size: the receiver refuses */
    return size;
}

/* Can this process make a memfd reach `end` bytes (write, ftruncate,
 * fallocate)? Past RLIMIT_FSIZE Linux raises SIGXFSZ, fatal by default:
 * refused here with NO_RESOURCES instead. (A limit lowered by another thread
 * between this check and the call is not covered.) Used by host/dma.c too. */
cm_status_t cm__fsize_allows(uint64_t end)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return CM_OK;
    if (end > (uint64_t)rl.rlim_cur)
        return cm__detail_set(CM_ERR_NO_RESOURCES,
                              "%llu bytes above RLIMIT_FSIZE (%llu bytes): raise it (ulimit -f)",
                              (unsigned long long)end, (unsigned long long)rl.rlim_cur);
    return CM_OK;
}

/* Kernels before 2024 interrupt shmem_fallocate on any pending signal,
 * not only a fatal one, and it frees what that call had allocated: one
 * call for a whole large area, made again on EINTR, never finished while
 * a periodic signal (a profiler's timer) fired more often than it took. */
int cm__fallocate_pieces(int fd, uint64_t offset, uint64_t len)
{
    uint64_t done = 0, piece = CM__FALLOCATE_PIECE;
    while (done < len) {
        uint64_t n = len - done < piece ? len - done : piece;
        if (fallocate(fd, 0, (off_t)(offset + done), (off_t)n) == 0)
            done += n;
        else if (errno != EINTR)
            return -1;
        else if (piece > CM_PAGE_SIZE)
            piece /= 2;
    }
    return 0;
}

cm_status_t cm__vmo_pages_errno(const char *call, int err)
{
    if (err == EFBIG)
        return cm__detail_set(CM_ERR_NO_RESOURCES, "%s: EFBIG: the size is above RLIMIT_FSIZE",
                              call);
    if (err == ENOSPC || err == ENOMEM)
        return cm__detail_set(CM_ERR_MEMORY_PRESSURE,
                              "%s: %s: Linux has no memory for the VMO's pages (shmem space, "
                              "overcommit or memory cgroup limit)",
                              call, cm__errname(err));
    return cm__errno_detail(call, err);
}

static int new_memfd(const char *name)
{
    return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* How a new base-page memfd gets its size. */
enum memfd_size { MEMFD_LAZY, MEMFD_SIZED, MEMFD_COMMITTED };

/* A base-page memfd of size bytes: sized now (every page allocated when
 * MEMFD_COMMITTED), or left empty for its VMO to size (MEMFD_LAZY, see
 * struct cm__vmo, size_state). */
static int base_memfd(const char *name, uint64_t size, enum memfd_size how, cm_status_t *st)
{
    int commit = how == MEMFD_COMMITTED;
    int fd = new_memfd(name);
    if (fd < 0) {
        *st = cm__errno_detail("memfd_create", errno);
        return -1;
    }
    if (how == MEMFD_LAZY)
        return fd;
    /* fallocate is the cheapest way Linux offers to obtain shmem pages
     * (about 3x cheaper than faulting them in one by one); without
     * FALLOC_FL_KEEP_SIZE it also sets the file's size, so it needs no
     * ftruncate before it. In pieces: cm__fallocate_pieces says why. */
    int rc;
    if (commit && size > 0)
        rc = cm__fallocate_pieces(fd, 0, size);
    else
        rc = ftruncate(fd, (off_t)size);
    if (rc != 0) {
        *st = cm__vmo_pages_errno(commit ? "fallocate of a new memfd" : "ftruncate of a new memfd", errno);
        close(fd);
        return -1;
    }
    return fd;
}

/* The memfd of a new VMO: huge pages when wanted and the system has them
 * (every page allocated now), else base pages sized as `how` says; *huge
 * says which. Checks RLIMIT_FSIZE for the size it sets: the huge attempt
 * for the rounded size (which covers size), the base one for size unless
 * MEMFD_LAZY (whose sizing checks it then: cm__vmo_size_file, or the
 * write's own check; the limit can change in between anyway). */
static int vmo_memfd(const char *name, uint64_t size, int want_huge, enum memfd_size how,
                     int *huge, cm_status_t *st)
{
    *huge = 0;
    if (want_huge) {
        int fd = cm__huge_memfd(name, size);
        if (fd >= 0) {
            *huge = 1;
            return fd;
        }
    }
    if (how != MEMFD_LAZY && (*st = cm__fsize_allows(size)) != CM_OK)
        return -1;
    return base_memfd(name, size, how, st);
}

cm_status_t cm_vmo_create(uint64_t size, uint32_t options, cm_handle_t *out)
{
    CM__ENTRY();
    struct cm__vmo *v;
    cm_status_t st;
    int huge = 0;
    if ((st = cm__vmo_create_check(size, options, out != NULL)) != CM_OK)
        return st;
    /* Charged first (docs/ledger.md); each later failure releases both
     * charges exactly once: before the object exists here, after it by
     * its destroy. */
    uint64_t backing = (size + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE * CM_PAGE_SIZE;
    if ((st = cm__hledger_charge_vmo(backing)) != CM_OK)
        return st;
    /* Without COMMIT the file is sized lazily: a one-shot share (create,
     * one write of the whole object, send) then never pays the ftruncate. */
    int fd = vmo_memfd("capmem-vmo", size, cm__huge_wanted(size, options),
                       (options & CM_VMO_COMMIT) ? MEMFD_COMMITTED : MEMFD_LAZY, &huge, &st);
    if (fd < 0)
        goto uncharge;
    st = vmo_alloc(fd, 0, &v);
    if (st != CM_OK)
        goto bad;
    v->counted = 1;
    v->backing = backing;
    v->huge = huge;
    atomic_store(&v->local_size, size);
    if (!huge && !(options & CM_VMO_COMMIT) && size > 0)
        atomic_store(&v->size_state, CM__SIZE_LAZY);
    st = cm__handle_install(&v->hdr, CM_VMO_DEFAULT_RIGHTS, out);
    if (st != CM_OK)
        cm__hobj_put(&v->hdr); /* closes fd, releases the charges */
    return st;
bad:
    close(fd);
uncharge:
    cm__hledger_uncharge_vmo(&backing);
    return st;
}

/* Opens path for a file window without blocking and without a device's
 * open side effects: the path is checked to be a regular file before any
 * open (a FIFO's O_RDONLY open blocks until a writer comes; a tape rewinds,
 * a tty may become the controlling terminal), then opened O_NONBLOCK |
 * O_NOCTTY and checked again to be that same regular file. */
static cm_status_t open_regular(const char *path, int *fd_out, struct stat *st)
{
    struct stat before;
    if (stat(path, &before) != 0) {
        int err = errno;
        return cm__detail_set(cm__status_from_errno(err), "stat(\"%s\") failed: %s (%s)", path, cm__errname(err),
                              cm__errdesc(err));
    }
    if (!S_ISREG(before.st_mode))
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "\"%s\" is not a regular file: only regular files can back a "
                              "file-window VMO (copy a device or pipe into cm_vmo_create)", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int err = errno;
        return cm__detail_set(cm__status_from_errno(err), "open(\"%s\", O_RDONLY) failed: %s (%s)", path,
                              cm__errname(err), cm__errdesc(err));
    }
    cm_status_t rc = CM_OK;
    int fl = fcntl(fd, F_GETFL);
    if (fstat(fd, st) != 0 || fl < 0)
        rc = cm__errno_detail("fstat/fcntl(F_GETFL)", errno);
    else if (!S_ISREG(st->st_mode) || st->st_dev != before.st_dev || st->st_ino != before.st_ino)
        rc = CM_ERR_INVALID_ARGS; /* replaced between stat and open */
    else if (fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        rc = cm__errno_detail("fcntl", errno);
    if (rc != CM_OK) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return CM_OK;
}

cm_status_t cm_vmo_create_from_file(const char *path, uint64_t offset, uint64_t len,
                                    cm_handle_t *out)
{
    CM__ENTRY();
    struct stat st;
    struct cm__vmo *v;
    int fd = -1;
    if (path == NULL || out == NULL)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "path or out is NULL");
    if (offset % CM_PAGE_SIZE != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "offset %llu is not a multiple of CM_PAGE_SIZE (%u bytes)",
                              (unsigned long long)offset, CM_PAGE_SIZE);
    if (len > CM_VMO_MAX_SIZE && len != CM_VMO_TO_END)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "len %llu above CM_VMO_MAX_SIZE (%llu bytes)",
                              (unsigned long long)len, (unsigned long long)CM_VMO_MAX_SIZE);
    cm_status_t rc = open_regular(path, &fd, &st);
    if (rc != CM_OK)
        return rc;
    if (len == CM_VMO_TO_END && offset <= (uint64_t)st.st_size)
        len = (uint64_t)st.st_size - offset;
    if (!cm__range_ok(offset, len, (uint64_t)st.st_size) || len > CM_VMO_MAX_SIZE) {
        rc = cm__detail_set(CM_ERR_OUT_OF_RANGE,
                            "\"%s\": offset %llu + len %llu is past the file's %llu bytes or "
                            "above CM_VMO_MAX_SIZE (%llu bytes)", path,
                            (unsigned long long)offset, (unsigned long long)len,
                            (unsigned long long)st.st_size, (unsigned long long)CM_VMO_MAX_SIZE);
        goto bad;
    }
    rc = vmo_alloc(fd, 1, &v);
    if (rc != CM_OK)
        goto bad;
    v->file_off = offset;
    v->file_len = len;
    rc = cm__handle_install(&v->hdr, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE, out);
    if (rc != CM_OK)
        cm__hobj_put(&v->hdr);
    return rc;
bad:
    close(fd);
    return rc;
}

/* pread/pwrite until len bytes moved. A short count of 0 means the object
 * (or file) shrank under us: OUT_OF_RANGE, never a partial success. */
static cm_status_t rw_full(int fd, void *buf, uint64_t len, uint64_t at, int write)
{
    for (uint64_t done = 0; done < len;) {
        char *p = (char *)buf + done;
        ssize_t n = write ? pwrite(fd, p, len - done, (off_t)(at + done))
                          : pread(fd, p, len - done, (off_t)(at + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return write ? cm__vmo_pages_errno("pwrite to a memfd", errno)
                         : cm__errno_detail("pread", errno);
        if (n == 0)
            return CM_ERR_OUT_OF_RANGE;
        done += (uint64_t)n;
    }
    return CM_OK;
}

/* Copies len bytes between buf and the VMO at offset, after the checks
 * both directions share. A sealed memfd refuses pwrite with EPERM: the
 * kernel, not this library, is what stops a write. */
static cm_status_t size_floor(const struct cm__vmo *v, cm_rights_t rights, int *seals);
static int pages_guaranteed(const struct cm__vmo *v, int seals);

/* cm_vmo_write on a huge VMO (hugetlbfs has no write()): through a
 * temporary mapping, made under the mapping table's lock so no set_size of
 * this process cuts the file meanwhile, and, for a VMO another process may
 * hold, only once F_SEAL_SHRINK is set (as for cm_vmo_map; the writer holds
 * WRITE and sets it), so no other process can either. Such a VMO is not
 * write-sealed (it is being written), so another holder can still punch
 * its pages out (pages_guaranteed): the copy then goes through
 * process_vm_writev, which reports the fault as an error: never a SIGBUS. */
static cm_status_t huge_write(struct cm__vmo *v, cm_rights_t rights, const void *buf,
                              uint64_t offset, uint64_t len)
{
    /* A write seal makes the writable mmap fail with EPERM, which is
     * ACCESS_DENIED as well (cm__huge_map): the look first is only needed
     * where size_floor may add F_SEAL_SHRINK (a VMO another process may
     * hold), so that a refused write adds no seal. */
    int seals = cm__vmo_private(v) ? 0 : fcntl(v->fd, F_GET_SEALS);
    if (seals < 0)
        return CM_ERR_INTERNAL;
    if (seals & SEALS_NO_WRITE)
        return CM_ERR_ACCESS_DENIED; /* as pwrite's EPERM on a base-page memfd */
    /* A second round only after v stopped being private between the look
     * and the copy (an export, a send, a fork): never again. */
    for (int round = 0; round < 2; round++) {
        int retry = 0;
        cm_status_t st = size_floor(v, rights, &seals); /* seals -1: private */
        if (st != CM_OK)
            return st;
        st = cm__map_huge_write(v->fd, &v->local_size, buf, offset, len,
                                seals >= 0 && !pages_guaranteed(v, seals),
                                seals < 0 ? v : NULL, &retry);
        if (!retry)
            return st;
    }
    return CM_ERR_INTERNAL; /* privacy lost twice: cannot happen */
}

static cm_status_t vmo_rw(cm_handle_t vmo, void *buf, uint64_t offset, uint64_t len,
                          int write)
{
    struct cm__vmo *v;
    uint64_t size = 0;
    cm_rights_t rights = 0;
    cm_status_t st = cm__vmo_rw_check_args(buf != NULL, len);
    if (st != CM_OK)
        return st;
    st = vmo_lookup(vmo, write ? CM_RIGHT_WRITE : CM_RIGHT_READ, &v, &rights, !write);
    if (st != CM_OK)
        return st;
    /* A pwrite can extend the file: checked and made with no resize of
     * this process in between (struct cm__vmo, size_lock). A huge VMO is
     * written through a mapping, which extends nothing. */
    int hold = write && !v->huge;
    if (hold)
        pthread_rwlock_rdlock(&v->size_lock);
    st = vmo_size(v, &size);
    if (st == CM_OK && !cm__range_ok(offset, len, size))
        st = CM_ERR_OUT_OF_RANGE;
    /* A huge VMO is written through a mapping, which never changes the
     * file's size: RLIMIT_FSIZE (SIGXFSZ) concerns write() only. */
    if (st == CM_OK && write && len > 0 && !v->huge)
        st = cm__fsize_allows(offset + len); /* <= size <= CM_VMO_MAX_SIZE: no overflow */
    if (st == CM_OK && write && v->huge)
        st = len > 0 ? huge_write(v, rights, buf, offset, len) : CM_OK;
    else if (st == CM_OK)
        st = cm__vmo_use_failed(v, rw_full(v->fd, buf, len, v->file_off + offset, write));
    /* A write that reached the end of a LAZY VMO sized its file: the
     * file is at least offset + len = local_size bytes (and while LAZY,
     * local_size cannot change). One SETTING now calls the same ftruncate. */
    if (st == CM_OK && write && len > 0 && offset + len == size) {
        int lazy = CM__SIZE_LAZY;
        (void)atomic_compare_exchange_strong(&v->size_state, &lazy, CM__SIZE_SET);
    }
    if (hold)
        pthread_rwlock_unlock(&v->size_lock);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_read(cm_handle_t vmo, void *buf, uint64_t offset, uint64_t len)
{
    CM__ENTRY();
    return vmo_rw(vmo, buf, offset, len, 0);
}

cm_status_t cm_vmo_write(cm_handle_t vmo, const void *buf, uint64_t offset, uint64_t len)
{
    CM__ENTRY();
    return vmo_rw(vmo, (void *)(uintptr_t)buf, offset, len, 1);
}

cm_status_t cm_vmo_get_size(cm_handle_t vmo, uint64_t *size)
{
    CM__ENTRY();
    struct cm__vmo *v;
    if (size == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmo_get_unsized(vmo, 0, &v, NULL);
    if (st != CM_OK)
        return st;
    st = vmo_size(v, size);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_set_size(cm_handle_t vmo, uint64_t size)
{
    CM__ENTRY();
    struct cm__vmo *v;
    cm_status_t st = cm__vmo_set_size_check_args(size);
    if (st != CM_OK)
        return st;
    st = cm__vmo_get_unsized(vmo, CM_RIGHT_WRITE, &v, NULL);
    if (st != CM_OK)
        return st;
    pthread_rwlock_wrlock(&v->size_lock); /* no write between check and call */
    int seals = v->is_file ? -1 : fcntl(v->fd, F_GET_SEALS);
    if (seals < 0 || (seals & SEALS_NO_WRITE) != 0 ||
               (seals & SEALS_FIXED_SIZE) == SEALS_FIXED_SIZE) {
        /* A seal level fixes the size, even a no-op resize (same as the
         * kernel target); a file window is never resizable. One size seal
         * alone (F_SEAL_SHRINK, set by a mapping of shared memory) refuses
         * only its direction: ftruncate's EPERM below. */
        st = CM_ERR_ACCESS_DENIED;
    } else if (v->huge && !cm__vmo_private(v)) {
        /* The exact size lives in each process's library, not in the file:
         * another holder would never learn the new one. */
        st = CM_ERR_UNSUPPORTED;
    } else if ((st = cm__fsize_allows(v->huge ? cm__huge_round(size) : size)) == CM_OK) {
        /* A VMO this process created is charged its new size first, and
         * back to the old one if the cut fails. */
        uint64_t old_backing = 0;
        uint64_t backing = (size + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE * CM_PAGE_SIZE;
        if (v->counted)
            st = cm__hledger_resize(CM_LEDGER_OBJECT_BACKING, &v->backing, CM__HLEDGER_ANY,
                                    backing, &old_backing);
        /* A file not sized yet gets the new size as its first (sizing it to
         * the create's size first would need a limit the new size may not):
         * nothing maps it before it is sized, so the cut needs no mapping
         * table lock (none may be taken while claimed: vmo_claim_size). A
         * sized file is checked and cut under that lock, so no cm_vmo_map
         * of this process can slip in between. */
        int claimed = st == CM_OK && vmo_claim_size(v, &st);
        if (claimed) {
            if (ftruncate(v->fd, (off_t)size) == 0) /* the limit checked above */
                atomic_store(&v->local_size, size);
            else
                st = cm__vmo_pages_errno("ftruncate of a VMO's memfd", errno);
            vmo_release_size(v, st == CM_OK);
        } else if (st == CM_OK) {
            st = cm__map_truncate(v->fd, size, v->huge, &v->local_size);
        }
        if (st == CM_ERR_OUT_OF_RANGE)
            st = CM_ERR_NO_RESOURCES; /* EFBIG: RLIMIT_FSIZE with SIGXFSZ ignored */
        /* Undone only if no other resize charged meanwhile. */
        if (st != CM_OK && st != CM_ERR_QUOTA_COMMIT && v->counted)
            (void)cm__hledger_resize(CM_LEDGER_OBJECT_BACKING, &v->backing, backing,
                                     old_backing, NULL);
    }
    pthread_rwlock_unlock(&v->size_lock);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_get_info(cm_handle_t vmo, cm_vmo_info_t *info)
{
    CM__ENTRY();
    struct cm__vmo *v;
    struct stat sb;
    cm_rights_t rights;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmo_get_unsized(vmo, 0, &v, &rights);
    if (st != CM_OK)
        return st;
    memset(info, 0, sizeof(*info));
    /* The host gathers the facts (the seal level from the Linux seals);
     * core/validate turns them into flags and effective rights, as on the
     * kernel target. */
    struct cm__vmo_state f = { 0, CM__SEAL_IMMUTABLE, 0, v->huge };
    if (cm__vmo_frozen(v)) {
        uint64_t dev = 0, ino = 0;
        st = vmo_identity(v, &dev, &ino);
        if (st != CM_OK)
            goto out;
        info->id = (dev << 40) ^ ino;
        f.size = v->frozen_size;
        goto facts;
    }
    if (v->is_file) {
        if (fstat(v->fd, &sb) != 0) {
            st = cm__errno_detail("fstat", errno);
            goto out;
        }
        info->id = ((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino;
        f = (struct cm__vmo_state){ v->file_len, CM__SEAL_NONE, 1, 0 };
        goto facts;
    }
    /* Seals first: the flags below claim only what the seals read here
     * guarantee about the size read after them. */
    int seals = fcntl(v->fd, F_GET_SEALS);
    int fl = fcntl(v->fd, F_GETFL);
    int sized = cm__vmo_file_sized(v); /* before the fstat: cm__vmo_known_size */
    if (seals < 0 || fl < 0 || fstat(v->fd, &sb) != 0) {
        st = CM_ERR_INTERNAL;
        goto out;
    }
    info->id = ((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino;
    if (sb.st_size < 0 || (uint64_t)sb.st_size > CM_VMO_MAX_SIZE) {
        st = CM_ERR_OUT_OF_RANGE; /* grown past the limit since admission: vmo_size */
        goto out;
    }
    f.size = v->huge ? huge_size(v, (uint64_t)sb.st_size)
                     : cm__vmo_known_size(v, sized, (uint64_t)sb.st_size);
    /* IMMUTABLE only when the kernel forbids every change of content and
     * size for every holder; FUTURE_WRITE alone leaves old mappings live. */
    if (((uint32_t)seals & CM__SEALS_IMMUTABLE) == CM__SEALS_IMMUTABLE)
        f.seal = CM__SEAL_IMMUTABLE;
    else if (cm__vmo_write_drop_enforced((uint32_t)seals) &&
             ((uint32_t)seals & CM__SEALS_FIXED_SIZE) == CM__SEALS_FIXED_SIZE)
        f.seal = CM__SEAL_READONLY;
    else
        f.seal = CM__SEAL_NONE;
    /* A host-only fact: an fd not open for writing cannot write. */
    if ((fl & O_ACCMODE) != O_RDWR || cm__vmo_write_drop_enforced((uint32_t)seals))
        rights &= ~CM_RIGHT_WRITE;
facts:
    info->page_size = v->huge ? CM_HUGE_PAGE_SIZE : CM_PAGE_SIZE;
    info->size = f.size;
    info->flags = cm__vmo_info_flags(&f);
    info->rights = cm__vmo_effective_rights(&f, rights);
out:
    cm__hobj_put(&v->hdr);
    return st;
}

/* Caches the size of a VMO whose WRITE|GROW|SHRINK seals are set (by this
 * process: a seal or a snapshot), read after the seals (or tracked, for a
 * private one), so that no later call needs fstat for it (get_info,
 * get_size, map) and a send goes as the object's own fd (host/channel.c,
 * prepare_fds). One thread freezes (0 -> 2 -> 1); a failed fstat leaves it
 * unfrozen, which costs system calls, never correctness. */
static void vmo_freeze(struct cm__vmo *v)
{
    struct stat sb;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&v->frozen, &expect, 2))
        return; /* frozen already, or being frozen */
    if (cm__vmo_private(v)) {
        /* Sealed, so no set_size can change it any more. */
        v->frozen_size = atomic_load(&v->local_size);
    } else if (fstat(v->fd, &sb) == 0) {
        v->frozen_size = v->huge ? huge_size(v, (uint64_t)sb.st_size) : (uint64_t)sb.st_size;
        vmo_note_identity(v, &sb);
    } else {
        atomic_store(&v->frozen, 0);
        return;
    }
    atomic_store_explicit(&v->frozen, 1, memory_order_release);
}

/* EBUSY from F_SEAL_WRITE has two causes: a writable shared mapping (any
 * process; reported at once) or pages with extra references the kernel
 * waited ~150 ms for in memfd_wait_for_pins, which include pages still in a
 * per-CPU LRU batch right after a fill: transient. A few retries absorb the
 * transient case; the mapping case fails them all just as fast. */
#define SEAL_ATTEMPTS 3

static cm_status_t add_seals(int fd, int seals)
{
    for (int i = 0; i < SEAL_ATTEMPTS; i++) {
        if (fcntl(fd, F_ADD_SEALS, seals) == 0)
            return CM_OK;
        if (errno != EBUSY)
            return cm__errno_detail("fcntl", errno);
    }
    return CM_ERR_BAD_STATE; /* writable mapping, or pages pinned (e.g. by DMA) */
}

cm_status_t cm_vmo_seal(cm_handle_t vmo, cm_seal_t level)
{
    CM__ENTRY();
    struct cm__vmo *v;
    cm_status_t st = cm__vmo_seal_check_args((uint32_t)level);
    if (st != CM_OK)
        return st;
    int seals = level == CM_SEAL_READONLY ? SEALS_READONLY : SEALS_IMMUTABLE;
    st = cm__vmo_get(vmo, CM_RIGHT_WRITE, &v, NULL);
    if (st != CM_OK)
        return st;
    if (v->is_file) {
        st = CM_ERR_UNSUPPORTED;
    } else {
        st = add_seals(v->fd, seals);
    }
    if (st == CM_OK && level == CM_SEAL_IMMUTABLE)
        vmo_freeze(v);
    cm__hobj_put(&v->hdr);
    return st;
}

/* Are v's pages beyond another process's reach, given its seals (read
 * because another process may hold v: not private, not frozen)? Only a
 * huge-page VMO's can be taken (cm__vmo_huge_pages_fixed: a hole punched
 * by any holder that can write the file, then a touch is SIGBUS once the
 * pool is empty). A process v was handed to can punch; so can one that
 * forked with it, after handing it out in turn: its table lacks the
 * mappings made here since the fork, so its export guards none of them. */
static int pages_guaranteed(const struct cm__vmo *v, int seals)
{
    return !v->huge || cm__vmo_huge_pages_fixed((uint32_t)seals);
}

/* Can v's size be cut by another process, as it is now? Not if v is
 * private to this process (whose own set_size refuses to cut a mapping),
 * or F_SEAL_SHRINK is set. An object that existed at a fork() is not
 * private: the other process holds the same memfd, and its set_size
 * consults its own copy of the mapping table, which lacks the mappings
 * made here since. A file window always: anyone who can write the file
 * can truncate it. *seals: the seals read, or -1 when none were needed.
 * Errors: UNSUPPORTED (file window); BAD_STATE (shrinkable). */
static cm_status_t size_guaranteed(const struct cm__vmo *v, int *seals)
{
    *seals = -1;
    if (v->is_file)
        return CM_ERR_UNSUPPORTED;
    if (cm__vmo_frozen(v) || (!atomic_load(&v->shared) && !cm__hobj_forked(&v->hdr)))
        return CM_OK; /* frozen: write-sealed too, so its pages are fixed */
    *seals = fcntl(v->fd, F_GET_SEALS);
    if (*seals < 0)
        return CM_ERR_INTERNAL;
    return (*seals & F_SEAL_SHRINK) ? CM_OK : CM_ERR_BAD_STATE;
}

/* size_guaranteed, and where only a missing F_SEAL_SHRINK stands in the
 * way and the handle has WRITE (so our fd is O_RDWR, as F_ADD_SEALS needs),
 * sets it: writing or mapping shared memory freezes its floor for every
 * holder, which the holder who can write may decide. *seals as there
 * (with the floor added). Errors: those of size_guaranteed. */
static cm_status_t size_floor(const struct cm__vmo *v, cm_rights_t rights, int *seals)
{
    cm_status_t st = size_guaranteed(v, seals);
    if (st != CM_ERR_BAD_STATE || !(rights & CM_RIGHT_WRITE))
        return st;
    if (fcntl(v->fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
        return CM_ERR_BAD_STATE; /* F_SEAL_SEAL: nobody can fix the size any more */
    *seals |= F_SEAL_SHRINK;
    return CM_OK;
}

/* Can v be mapped without a SIGBUS risk? Its size cannot be cut
 * (size_floor, which may set the floor) and its pages cannot be taken
 * (pages_guaranteed: a write seal, which the library never sets on the
 * caller's behalf; checked first, so a refused map adds no seal).
 * Errors: UNSUPPORTED (file window); BAD_STATE. */
static cm_status_t make_mappable(const struct cm__vmo *v, cm_rights_t rights)
{
    int seals = -1;
    cm_status_t st = size_guaranteed(v, &seals);
    if (seals >= 0 && !pages_guaranteed(v, seals))
        return CM_ERR_BAD_STATE;
    return st == CM_ERR_BAD_STATE ? size_floor(v, rights, &seals) : st;
}

/* make_mappable without setting anything: can v be read through a mapping
 * now? (snapshot) */
static int mappable_now(const struct cm__vmo *v)
{
    int seals = -1;
    return size_guaranteed(v, &seals) == CM_OK && (seals < 0 || pages_guaranteed(v, seals));
}

/* Bounce buffer of copy_into when the source cannot be mapped safely. */
#define COPY_CHUNK (64u * 1024u)

/* Copies len bytes of v (from its start) into dst_fd at 0. Through a
 * read-only mapping of the source when `mappable` (size_guaranteed said so
 * BEFORE len was read: only a size read after the seals is a floor); one
 * copy, no bounce buffer. Else pread through a bounded buffer (or straight
 * into a huge destination's mapping), so that a source that shrinks
 * mid-copy gives OUT_OF_RANGE, not SIGBUS. A huge destination (a new
 * object nobody else holds, its pages allocated) is written through a
 * mapping: hugetlbfs has no write(). */
static cm_status_t copy_into(const struct cm__vmo *v, int mappable, uint64_t len, int dst_fd,
                             int dst_huge)
{
    cm_status_t st = CM_OK;
    uint64_t delta = 0, dlen = 0;
    char *dst = NULL;
    if (len == 0)
        return CM_OK;
    if (dst_huge && (dst = cm__huge_map(dst_fd, 0, len, &delta, &dlen, &st)) == NULL)
        return st;
    if (!mappable && dst != NULL) {
        st = rw_full(v->fd, dst, len, v->file_off, 0);
    } else if (!mappable) {
        char *buf = malloc(COPY_CHUNK);
        if (buf == NULL)
            return CM_ERR_NO_MEMORY;
        for (uint64_t done = 0; st == CM_OK && done < len; done += COPY_CHUNK) {
            uint64_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
            st = rw_full(v->fd, buf, n, v->file_off + done, 0);
            if (st == CM_OK)
                st = rw_full(dst_fd, buf, n, done, 1);
        }
        free(buf);
    } else {
        /* A huge source maps whole huge pages (len <= its file size, a
         * multiple of them). */
        uint64_t slen = v->huge ? cm__huge_round(len) : len;
        void *p = cm__mmap_shared(v->fd, slen, PROT_READ, 0, v->file_off);
        if (p == MAP_FAILED) {
            st = cm__errno_detail("mmap", errno);
        } else {
            if (dst != NULL)
                memcpy(dst, p, len);
            else
                st = rw_full(dst_fd, p, len, 0, 1);
            munmap(p, slen);
        }
    }
    if (dst != NULL)
        munmap(dst, dlen); /* before the IMMUTABLE seal: F_SEAL_WRITE needs no writable mapping */
    return st;
}

/* A new memfd with v's content, for a snapshot: the size read after the
 * seals (a sender that shrinks and seals between the two must not leave us
 * copying a length it no longer has), a memfd of v's page kind (huge when
 * the system has the pages; a file window's, which has none, follows the
 * automatic policy of cm_vmo_create), the copy. */
static cm_status_t snapshot_fill(const struct cm__vmo *v, int *fd_out, uint64_t *size_out,
                                 int *huge)
{
    uint64_t size = 0;
    int mappable = mappable_now(v);
    cm_status_t st = vmo_size(v, &size);
    if (st == CM_OK && size > CM_VMO_MAX_SIZE)
        st = CM_ERR_OUT_OF_RANGE;
    if (st != CM_OK)
        return st;
    /* vmo_memfd checks RLIMIT_FSIZE for the size it sets. */
    uint32_t pages = v->huge ? CM_VMO_HUGE : v->is_file ? 0 : CM_VMO_BASE_PAGES;
    int fd = vmo_memfd("capmem-snapshot", size, cm__huge_wanted(size, pages), MEMFD_SIZED, huge,
                       &st);
    if (fd < 0)
        return st;
    st = copy_into(v, mappable, size, fd, *huge);
    if (st != CM_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    *size_out = size;
    return CM_OK;
}

cm_status_t cm_vmo_snapshot(cm_handle_t vmo, cm_handle_t *out)
{
    CM__ENTRY();
    struct cm__vmo *v, *snap;
    uint64_t size = 0;
    int fd = -1, huge = 0;
    if (out == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmo_get(vmo, CM_RIGHT_READ, &v, NULL);
    if (st != CM_OK)
        return st;
    /* A private source is copied through a mapping with no size floor:
     * only this process can resize it, by a set_size that runs under the
     * mapping table's lock, as do the export, send and fork that would end
     * its privacy. Holding that lock over the size read and the copy keeps
     * another thread from cutting the source under the copy (SIGBUS). */
    int hold = cm__vmo_private(v);
    if (hold)
        cm__map_table_hold();
    st = cm__vmo_use_failed(v, snapshot_fill(v, &fd, &size, &huge));
    if (hold)
        cm__map_table_release();
    if (st == CM_OK)
        st = add_seals(fd, SEALS_IMMUTABLE);
    if (st == CM_OK)
        st = vmo_alloc(fd, 0, &snap);
    if (st != CM_OK)
        goto bad;
    fd = -1;
    /* Nobody else holds the snapshot and its seals can never be removed. */
    snap->huge = huge;
    atomic_store(&snap->local_size, size);
    vmo_freeze(snap);
    /* A new object holding content READ already exposed: the snapshot
     * rights, never WRITE, as on the kernel target (core/validate.h). */
    st = cm__handle_install(&snap->hdr, CM__SNAPSHOT_RIGHTS, out);
    if (st != CM_OK)
        cm__hobj_put(&snap->hdr);
    cm__hobj_put(&v->hdr);
    return st;
bad:
    if (fd >= 0)
        close(fd);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_map(cm_handle_t vmo, uint64_t offset, uint64_t len, uint32_t flags,
                       void **addr)
{
    CM__ENTRY();
    struct cm__vmo *v;
    cm_rights_t rights;
    cm_rights_t need = 0;
    cm_status_t st = cm__vmo_map_check_args(offset, len, flags, addr != NULL, &need);
    if (st != CM_OK)
        return st;
    st = cm__vmo_get(vmo, need, &v, &rights);
    if (st != CM_OK)
        return st;
    st = cm__vmo_map_at(v, rights, offset, len, flags, NULL, cm__mapping_gen_next(), addr);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm__vmo_id(struct cm__vmo *v, uint64_t *id)
{
    uint64_t dev = 0, ino = 0;
    cm_status_t st = vmo_identity(v, &dev, &ino);
    if (st == CM_OK)
        *id = (dev << 40) ^ ino;
    return st;
}

cm_status_t cm__vmo_map_at(struct cm__vmo *v, cm_rights_t rights, uint64_t offset,
                           uint64_t len, uint32_t flags, void *fixed, uint64_t gen,
                           void **addr)
{
    cm_status_t st = CM_OK;
    /* Seals (here) before the size (in cm__map_create): a size read after
     * F_SEAL_SHRINK was seen can never shrink. A frozen object's size was
     * read at admission or seal and cannot change, a private one's is kept
     * by its own set_size (local_size): no fstat. An identity not read yet
     * is read by the first lookup of the mapping table that needs it. */
    int retry = 1;
    for (int round = 0; st == CM_OK && retry && round < 2; round++) {
        /* A second round only after v stopped being private (an export,
         * a send, a fork since the first look): never again. */
        st = make_mappable(v, rights);
        int frozen = st == CM_OK && cm__vmo_frozen(v);
        int private = st == CM_OK && !frozen && cm__vmo_private(v);
        int id_known = atomic_load(&v->id_known);
        if (st != CM_OK)
            break;
        /* Never PROT_EXEC: data mappings are W^X. A write mapping of a
         * sealed memfd is refused by mmap itself (EPERM). */
        struct cm__map_req req = {
            .fd = v->fd, .fd_offset = offset, .obj_offset = offset,
            .len = len, .prot = PROT_READ | ((flags & CM_MAP_WRITE) ? PROT_WRITE : 0),
            .extra_flags = (flags & CM_MAP_POPULATE) ? MAP_POPULATE : 0,
            .size_from_fd = !frozen && !private, .obj_size = frozen ? v->frozen_size : 0,
            .tracked = private ? &v->local_size : NULL,
            .dev = (dev_t)atomic_load(&v->dev), .ino = (ino_t)atomic_load(&v->ino),
            .owner = id_known ? NULL : v,
            .huge = v->huge, .exact = &v->local_size,
            .private_of = private ? v : NULL,
            .fixed = fixed, .obj_gen = v->hdr.serial, .gen = gen,
        };
        st = cm__map_create(&req, addr, &retry);
    }
    if (st == CM_OK && retry)
        st = CM_ERR_INTERNAL; /* privacy lost twice: cannot happen */
    return cm__vmo_use_failed(v, st);
}
