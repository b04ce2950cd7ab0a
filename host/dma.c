/* DMA pools on Linux: core/dma_own.c's ownership model over a real device.
 *
 * Device path. Each pool has its own io_uring. Every buffer is one memfd,
 * mapped MAP_SHARED and registered as fixed buffer `slot` (a sparse table
 * filled slot by slot), so the kernel pins its pages once; operations are
 * IORING_OP_READ_FIXED / WRITE_FIXED with buf_index = slot on the attached
 * O_DIRECT file or block device, and the block layer DMAs straight into or
 * out of those pinned pages. The SQE's user_data is the fence id, so a
 * completion names exactly one submission and a stale one is dropped by
 * cm__dma_own_complete.
 *
 * CPU guard. A buffer's mapping is PROT_READ|PROT_WRITE only while it is
 * CPU_OWNED and PROT_NONE otherwise (the registered pages do not depend on
 * the mapping's protection), so a pointer kept across submit or release
 * faults instead of racing the device or reading another client's data.
 * It costs two mprotect calls (and TLB flushes) per operation, so a pool
 * can opt out with CM_DMA_POOL_NO_CPU_GUARD; the API checks remain.
 *
 * Why one memfd per buffer: cm_dma_buffer_detach_vmo hands the very pages
 * the device wrote to a VMO without a copy. Sealing a memfd IMMUTABLE
 * (F_SEAL_WRITE) needs no writable mapping and no pinned page (the kernel
 * refuses with EBUSY while pins remain), so detaching first replaces the
 * slot's registration with fresh memory (unpinning the old pages) and
 * unmaps the old pages from the pool; the memfd then belongs to the VMO alone.
 *
 * Locking. pool->lock guards all pool state. One waiter at a time
 * ("reaper") sleeps in the ring without the lock; it only waits for CQEs and
 * never consumes them outside the lock. Others sleep on pool->cond, which is
 * broadcast after every drain of the completion queue.
 *
 * Quarantine. When the last reference to a pool goes while the device holds
 * buffers, those become QUARANTINED: the pool's memory, registrations, ring
 * and fds stay until each completion arrives, on a detached thread, and only
 * then is everything freed. A device that never completes keeps them forever
 * (as Zircon's PMT quarantine would): bounded by CM_DMA_MAX_BUFFERS per pool. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/magic.h>
#include <liburing.h>

#include <capmem/host_dma.h>
#include <capmem/limits.h>
#include <capmem/vmo.h>
#include "dma_own.h"
#include "internal.h"
#include "dma_internal.h"

/* Fallback direct-I/O alignment when the kernel does not report one: the
 * largest logical block size in common use (4Kn disks). */
#define DMA_DEFAULT_BLOCK 4096u

/* Ring entries beyond max_in_flight: room for test NOPs so that an injected
 * completion can never take a real submission's SQE. */
#define DMA_RING_SPARE 4u

struct dma_mem {
    int fd;         /* memfd, -1 when none */
    uint8_t *addr;  /* MAP_SHARED mapping of fd, NULL when none */
};

struct dma_pool {
    struct cm__hobj hdr;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* broadcast after each drain */

    /* Under lock. */
    int reaping;             /* a thread sleeps in the ring without the lock */
    int abandoned;           /* the last reference is gone */
    struct cm_dma_own own;
    struct cm_dma_slot slots[CM_DMA_MAX_BUFFERS];
    struct dma_mem mem[CM_DMA_MAX_BUFFERS];
    int dev_fd;              /* -1 until attached */
    uint32_t dev_flags;      /* CM_DMA_ATTACH_* */
    uint32_t block;
    uint64_t dev_size;
    uint32_t info_flags;

    /* Set at creation, then read-only. */
    uint32_t size;
    int guarded;             /* no CM_DMA_POOL_NO_CPU_GUARD */
    int ring_ok;
    struct io_uring ring;
};

/* Process-wide quarantine bookkeeping (cm_host_dma_quarantined). */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static uint32_t q_pools;               /* destroyed pools not yet freed */
static atomic_uint q_buffers;          /* their quarantined buffers */
static atomic_uint registered_buffers; /* registered fixed buffers, all pools */

/* ---- time ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Deadline for a relative timeout; UINT64_MAX for none (also on overflow). */
static uint64_t deadline_after(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return UINT64_MAX;
    uint64_t now = now_ns();
    return (uint64_t)timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)timeout_ns;
}

static struct timespec abs_timespec(uint64_t deadline)
{
    struct timespec ts = { (time_t)(deadline / 1000000000ull),
                           (long)(deadline % 1000000000ull) };
    return ts;
}

/* ---- memory ---- */

static cm_status_t status_from_errno(int err)
{
    return err == ENOMEM ? CM_ERR_NO_MEMORY : cm__status_from_errno(err);
}

/* Creates zero-filled buffer memory, mapped read-write. */
static cm_status_t mem_create(uint32_t size, struct dma_mem *m)
{
    cm_status_t st;
    m->addr = NULL;
    m->fd = memfd_create("capmem-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (m->fd < 0)
        return status_from_errno(errno);
    if (ftruncate(m->fd, size) != 0) {
        st = errno == ENOSPC ? CM_ERR_NO_MEMORY : status_from_errno(errno);
        goto bad;
    }
    void *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (a == MAP_FAILED) {
        st = status_from_errno(errno);
        goto bad;
    }
    /* A forked child must not inherit a view of DMA memory (and Linux
     * advises DONTFORK for pinned ranges). */
    (void)madvise(a, size, MADV_DONTFORK);
    m->addr = a;
    return CM_OK;
bad:
    close(m->fd);
    m->fd = -1;
    return st;
}

static void mem_destroy(uint32_t size, struct dma_mem *m)
{
    if (m->addr != NULL)
        munmap(m->addr, size);
    if (m->fd >= 0)
        close(m->fd);
    m->addr = NULL;
    m->fd = -1;
}

/* Points fixed buffer `slot` at m (NULL: empty), unpinning what was there. */
static cm_status_t mem_register(struct dma_pool *p, uint32_t slot, const struct dma_mem *m)
{
    struct iovec iov = { m != NULL ? m->addr : NULL, m != NULL ? p->size : 0 };
    __u64 tag = 0;
    int r = io_uring_register_buffers_update_tag(&p->ring, slot, &iov, &tag, 1);
    if (r < 0)
        return r == -ENOMEM ? CM_ERR_NO_RESOURCES : status_from_errno(-r);
    return r == 1 ? CM_OK : CM_ERR_IO;
}

/* CPU access follows ownership: read-write only while CPU_OWNED. */
static int guard(struct dma_pool *p, uint32_t slot, int cpu_owned)
{
    if (!p->guarded)
        return 0;
    return mprotect(p->mem[slot].addr, p->size, cpu_owned ? PROT_READ | PROT_WRITE : PROT_NONE);
}

/* Zeroes a DIRTY slot and makes it FREE. The mapping may be PROT_NONE. */
static void scrub(struct dma_pool *p, uint32_t slot)
{
    uint8_t *a = p->mem[slot].addr;
    if (guard(p, slot, 1) == 0) {
        memset(a, 0, p->size);
    } else {
        /* No mprotect: swap in fresh zeroed memory instead of writing. */
        struct dma_mem fresh;
        if (mem_create(p->size, &fresh) != CM_OK || mem_register(p, slot, &fresh) != CM_OK) {
            /* Cannot scrub now: the slot stays DIRTY, never acquirable. */
            return;
        }
        mem_destroy(p->size, &p->mem[slot]);
        p->mem[slot] = fresh;
    }
    (void)guard(p, slot, 0);
    (void)cm__dma_own_scrubbed(&p->own, slot);
}

/* ---- completions ---- */

static cm_status_t status_from_res(int res)
{
    if (res >= 0)
        return CM_OK;
    return res == -EINVAL ? CM_ERR_INVALID_ARGS : CM_ERR_IO;
}

/* Applies every CQE in the completion queue. Lock held, no reaper active. */
static unsigned drain(struct dma_pool *p)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&p->ring, head, cqe) {
        uint32_t slot, action = 0;
        int res = cqe->res;
        cm_status_t st = cm__dma_own_complete(&p->own, cqe->user_data, status_from_res(res),
                                              res > 0 ? (uint32_t)res : 0u, &slot, &action);
        if (st == CM_OK && (action & CM_DMA_ACT_SCRUB) != 0) {
            /* A quarantined buffer is back from the device. */
            atomic_fetch_sub(&q_buffers, 1);
            if (!p->abandoned)
                scrub(p, slot);
        }
        n++;
    }
    if (n != 0) {
        io_uring_cq_advance(&p->ring, n);
        pthread_cond_broadcast(&p->cond);
    }
    return n;
}

/* ---- pool lifetime ---- */

static void pool_free(struct dma_pool *p)
{
    if (p->ring_ok) {
        /* Unregisters (unpins) every fixed buffer and closes the ring. */
        io_uring_queue_exit(&p->ring);
        atomic_fetch_sub(&registered_buffers, p->own.count);
    }
    for (uint32_t i = 0; i < p->own.count; i++)
        mem_destroy(p->size, &p->mem[i]);
    if (p->dev_fd >= 0)
        close(p->dev_fd);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Waits out the device for every quarantined buffer, then frees the pool.
 * Nobody else references the pool any more. */
static void *quarantine_main(void *arg)
{
    struct dma_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (p->own.quarantined > 0) {
        if (drain(p) != 0)
            continue;
        struct io_uring_cqe *cqe;
        pthread_mutex_unlock(&p->lock);
        (void)io_uring_wait_cqe(&p->ring, &cqe); /* EINTR: just loop */
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    pool_free(p);
    pthread_mutex_lock(&q_lock);
    q_pools--;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

/* The last reference is gone: owner death for every buffer (ABANDON). */
static void pool_destroy(struct cm__hobj *obj)
{
    struct dma_pool *p = (struct dma_pool *)obj;
    pthread_mutex_lock(&p->lock);
    p->abandoned = 1;
    if (p->ring_ok)
        (void)drain(p);
    cm__dma_own_abandon_all(&p->own);
    /* DIRTY buffers are not scrubbed: nobody can acquire them again, and
     * their pages go back to Linux, which zeroes pages before reuse. */
    uint32_t quarantined = p->own.quarantined;
    pthread_mutex_unlock(&p->lock);
    if (quarantined == 0) {
        pool_free(p);
        return;
    }
    atomic_fetch_add(&q_buffers, quarantined);
    pthread_mutex_lock(&q_lock);
    q_pools++;
    pthread_mutex_unlock(&q_lock);
    pthread_t t;
    pthread_attr_t attr;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok && pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
        pthread_create(&t, &attr, quarantine_main, p) == 0) {
        pthread_attr_destroy(&attr);
        return;
    }
    if (ok)
        pthread_attr_destroy(&attr);
    /* No thread: wait for the device here rather than free early. */
    quarantine_main(p);
}

static cm_status_t ring_status(int r)
{
    switch (-r) {
    case ENOSYS:
    case EPERM: /* io_uring disabled by sysctl or seccomp */
        return CM_ERR_UNSUPPORTED;
    case ENOMEM: /* also RLIMIT_MEMLOCK for pinned buffers */
    case EMFILE:
    case ENFILE:
        return CM_ERR_NO_RESOURCES;
    default:
        return status_from_errno(-r);
    }
}

static uint32_t ring_entries(uint32_t max_in_flight)
{
    uint32_t want = max_in_flight + DMA_RING_SPARE, n = 1;
    while (n < want)
        n <<= 1;
    return n;
}

static cm_status_t config_ok(const cm_dma_pool_config_t *c)
{
    if ((c->options & ~CM_DMA_POOL_NO_CPU_GUARD) != 0 || c->buffer_count == 0 || c->buffer_count > CM_DMA_MAX_BUFFERS)
        return CM_ERR_INVALID_ARGS;
    if (c->buffer_size == 0 || c->buffer_size > CM_DMA_MAX_BUFFER_SIZE ||
        c->buffer_size % CM_PAGE_SIZE != 0)
        return CM_ERR_INVALID_ARGS;
    if (c->max_in_flight == 0 || c->max_in_flight > CM_DMA_MAX_IN_FLIGHT ||
        c->max_in_flight > c->buffer_count)
        return CM_ERR_INVALID_ARGS;
    return CM_OK;
}

cm_status_t cm_dma_pool_create(const cm_dma_pool_config_t *config, cm_handle_t *pool)
{
    if (config == NULL || pool == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = config_ok(config);
    if (st != CM_OK)
        return st;
    struct dma_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&p->hdr, CM_OBJ_DMA_POOL, pool_destroy);
    p->dev_fd = -1;
    p->size = config->buffer_size;
    p->guarded = (config->options & CM_DMA_POOL_NO_CPU_GUARD) == 0;
    for (uint32_t i = 0; i < CM_DMA_MAX_BUFFERS; i++)
        p->mem[i].fd = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->lock, NULL);
    /* A random generation seed per pool: ids of one pool do not name
     * buffers of another (they would collide from the first acquire). */
    uint32_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (uint32_t)now_ns() ^ (uint32_t)(uintptr_t)p;
    st = cm__dma_own_init(&p->own, p->slots, config->buffer_count, config->max_in_flight,
                          seed);
    if (st != CM_OK)
        goto bad;

    int r = io_uring_queue_init(ring_entries(config->max_in_flight), &p->ring, 0);
    if (r < 0) {
        st = ring_status(r);
        goto bad;
    }
    r = io_uring_register_buffers_sparse(&p->ring, config->buffer_count);
    if (r < 0) {
        io_uring_queue_exit(&p->ring);
        st = ring_status(r);
        goto bad;
    }
    p->ring_ok = 1;
    atomic_fetch_add(&registered_buffers, config->buffer_count);
    for (uint32_t i = 0; i < config->buffer_count; i++) {
        if ((st = mem_create(p->size, &p->mem[i])) != CM_OK ||
            (st = mem_register(p, i, &p->mem[i])) != CM_OK)
            goto bad;
        /* FREE: no CPU access until acquired. */
        if (guard(p, i, 0) != 0) {
            st = status_from_errno(errno);
            goto bad;
        }
    }
    p->info_flags = p->guarded ? CM_DMA_INFO_CPU_GUARD : 0u;
    st = cm__handle_install(&p->hdr, CM_DMA_POOL_DEFAULT_RIGHTS, pool);
    if (st != CM_OK)
        goto bad;
    return CM_OK;
bad:
    pool_free(p);
    return st;
}

/* Looks up a pool handle needing `need`, returns a reference. */
static cm_status_t get_pool(cm_handle_t h, cm_rights_t need, struct dma_pool **p)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_DMA_POOL, need, &obj, NULL);
    if (st == CM_OK)
        *p = (struct dma_pool *)obj;
    return st;
}

static void put_pool(struct dma_pool *p)
{
    cm__hobj_put(&p->hdr);
}

/* ---- device ---- */

static int memory_fs(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return 0;
    return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

/* Block size and size of an O_DIRECT device fd; 0 if it is no DMA device. */
static cm_status_t probe_direct(int fd, uint32_t *block, uint64_t *size)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return status_from_errno(errno);
    if (S_ISBLK(sb.st_mode)) {
        int lbs = 0;
        uint64_t bytes = 0;
        if (ioctl(fd, BLKSSZGET, &lbs) != 0 || lbs <= 0)
            lbs = (int)DMA_DEFAULT_BLOCK;
        if (ioctl(fd, BLKGETSIZE64, &bytes) != 0)
            bytes = 0;
        *block = (uint32_t)lbs;
        *size = bytes;
        return CM_OK;
    }
    if (!S_ISREG(sb.st_mode))
        return CM_ERR_INVALID_ARGS;
    /* tmpfs accepts O_DIRECT since Linux 6.6 but has no device behind it:
     * the "DMA" would be a memcpy. Refuse rather than fake the device. */
    if (memory_fs(fd))
        return CM_ERR_UNSUPPORTED;
    uint32_t align = DMA_DEFAULT_BLOCK;
#ifdef STATX_DIOALIGN
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
        (sx.stx_mask & STATX_DIOALIGN) != 0) {
        if (sx.stx_dio_offset_align == 0)
            return CM_ERR_UNSUPPORTED; /* the filesystem says: no direct I/O */
        align = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align
                                                                : sx.stx_dio_mem_align;
    }
#endif
    /* Buffers are page aligned, so any alignment up to a page is met by the
     * memory side; a larger one cannot be, by construction of the pool. */
    if (align > CM_PAGE_SIZE || (align & (align - 1)) != 0)
        return CM_ERR_UNSUPPORTED;
    *block = align;
    *size = (uint64_t)sb.st_size;
    return CM_OK;
}

/* Takes ownership of fd on success. */
static cm_status_t attach(cm_handle_t pool, int fd, uint32_t flags, int direct)
{
    struct dma_pool *p;
    uint32_t block = 1;
    uint64_t size = 0;
    cm_status_t st;
    if (direct && (st = probe_direct(fd, &block, &size)) != CM_OK)
        return st;
    if ((st = get_pool(pool, CM_RIGHT_SIGNAL, &p)) != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    if (p->dev_fd >= 0) {
        st = CM_ERR_BAD_STATE;
    } else {
        p->dev_fd = fd;
        p->dev_flags = flags;
        p->block = block;
        p->dev_size = size;
        p->info_flags |= CM_DMA_INFO_DEVICE | (direct ? CM_DMA_INFO_DIRECT : 0u) |
                         ((flags & CM_DMA_ATTACH_READ) ? CM_DMA_INFO_DEV_READ : 0u) |
                         ((flags & CM_DMA_ATTACH_WRITE) ? CM_DMA_INFO_DEV_WRITE : 0u);
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

static int flags_ok(uint32_t flags)
{
    return flags != 0 && (flags & ~(CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE)) == 0;
}

/* Checks handle type and right before touching the filesystem, so a bad
 * handle never opens a file. */
static cm_status_t precheck(cm_handle_t pool)
{
    struct dma_pool *p;
    cm_status_t st = get_pool(pool, CM_RIGHT_SIGNAL, &p);
    if (st == CM_OK)
        put_pool(p);
    return st;
}

cm_status_t cm_dma_pool_attach(cm_handle_t pool, const char *device, uint32_t flags)
{
    if (device == NULL || !flags_ok(flags))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = precheck(pool);
    if (st != CM_OK)
        return st;
    /* Kind first (fstat re-checks after open): a directory or character
     * device is not a DMA device, whatever O_DIRECT says about it. */
    struct stat sb;
    if (stat(device, &sb) != 0)
        return status_from_errno(errno);
    if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
        return CM_ERR_INVALID_ARGS;
    int mode = (flags & CM_DMA_ATTACH_WRITE) ? O_RDWR : O_RDONLY;
    int fd = open(device, mode | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return errno == EINVAL ? CM_ERR_UNSUPPORTED : status_from_errno(errno);
    st = attach(pool, fd, flags, 1);
    if (st != CM_OK)
        close(fd);
    return st;
}

cm_status_t cm_host_dma_attach_fd(cm_handle_t pool, int fd, uint32_t flags)
{
    if (fd < 0 || !flags_ok(flags))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = precheck(pool);
    if (st != CM_OK)
        return st;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return CM_ERR_INVALID_ARGS;
    int acc = fl & O_ACCMODE;
    if (((flags & CM_DMA_ATTACH_READ) && acc == O_WRONLY) ||
        ((flags & CM_DMA_ATTACH_WRITE) && acc == O_RDONLY))
        return CM_ERR_ACCESS_DENIED;
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return status_from_errno(errno);
    struct stat sb;
    int direct = (fl & O_DIRECT) != 0 && fstat(dup_fd, &sb) == 0 &&
                 (S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode)) && !memory_fs(dup_fd);
    st = attach(pool, dup_fd, flags, direct);
    if (st != CM_OK)
        close(dup_fd);
    return st;
}

/* ---- info ---- */

cm_status_t cm_dma_pool_get_info(cm_handle_t pool, cm_dma_pool_info_t *info)
{
    struct dma_pool *p;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, 0, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    if (!p->reaping)
        (void)drain(p);
    info->buffer_count = p->own.count;
    info->buffer_size = p->size;
    info->max_in_flight = p->own.max_in_flight;
    info->free = p->own.free;
    info->in_flight = p->own.device_held;
    info->quarantined = p->own.quarantined;
    info->device_block_size = p->dev_fd >= 0 ? p->block : 0;
    info->flags = p->info_flags;
    info->device_size = p->dev_size;
    info->dropped_completions = p->own.dropped;
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return CM_OK;
}

/* ---- buffers ---- */

cm_status_t cm_dma_buffer_acquire(cm_handle_t pool, cm_dma_buffer_t *buffer)
{
    struct dma_pool *p;
    if (buffer == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    /* Open the lowest FREE slot to the CPU first (the one acquire takes),
     * so that a failed mprotect leaves the slot FREE. */
    uint32_t slot = 0;
    while (slot < p->own.count && p->slots[slot].state != CM_DMA_FREE)
        slot++;
    if (slot == p->own.count) {
        st = CM_ERR_NO_RESOURCES;
    } else if (guard(p, slot, 1) != 0) {
        st = status_from_errno(errno);
    } else {
        uint32_t got;
        st = cm__dma_own_acquire(&p->own, buffer, &got);
        if (st != CM_OK || got != slot)
            st = CM_ERR_INTERNAL;
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

cm_status_t cm_dma_buffer_map(cm_handle_t pool, cm_dma_buffer_t buffer, void **addr,
                              uint32_t *size)
{
    struct dma_pool *p;
    uint32_t slot;
    if (addr == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_READ | CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    st = cm__dma_own_check_cpu(&p->own, buffer, &slot);
    if (st == CM_OK) {
        *addr = p->mem[slot].addr;
        if (size != NULL)
            *size = p->size;
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

static cm_status_t copy(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset, void *dst,
                        const void *src, uint32_t len)
{
    struct dma_pool *p;
    uint32_t slot;
    if ((dst == NULL && src == NULL) && len > 0)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, dst != NULL ? CM_RIGHT_READ : CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    st = cm__dma_own_check_cpu(&p->own, buffer, &slot);
    if (st == CM_OK && (len > p->size || offset > p->size - len))
        st = CM_ERR_OUT_OF_RANGE;
    /* Copy under the lock: a concurrent submit cannot take the memory away
     * (and make it PROT_NONE) in the middle. */
    if (st == CM_OK && len > 0) {
        if (dst != NULL)
            memcpy(dst, p->mem[slot].addr + offset, len);
        else
            memcpy(p->mem[slot].addr + offset, src, len);
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

cm_status_t cm_dma_buffer_read(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                               void *dst, uint32_t len)
{
    if (dst == NULL && len > 0)
        return CM_ERR_INVALID_ARGS;
    static uint8_t none;
    return copy(pool, buffer, offset, dst != NULL ? dst : &none, NULL, len);
}

cm_status_t cm_dma_buffer_write(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                                const void *src, uint32_t len)
{
    if (src == NULL && len > 0)
        return CM_ERR_INVALID_ARGS;
    static const uint8_t none;
    return copy(pool, buffer, offset, NULL, src != NULL ? src : &none, len);
}

cm_status_t cm_dma_buffer_release(cm_handle_t pool, cm_dma_buffer_t buffer)
{
    struct dma_pool *p;
    uint32_t slot;
    cm_status_t st = get_pool(pool, CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    st = cm__dma_own_release(&p->own, buffer, &slot);
    if (st == CM_OK)
        scrub(p, slot);
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

cm_status_t cm_dma_buffer_detach_vmo(cm_handle_t pool, cm_dma_buffer_t buffer,
                                     cm_handle_t *vmo)
{
    struct dma_pool *p;
    struct dma_mem fresh = { -1, NULL };
    struct cm__vmo *v = NULL;
    uint32_t slot;
    int vfd = -1;
    if (vmo == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_READ | CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    /* Validate, then build everything that can fail, then commit. */
    if ((st = cm__dma_own_check_cpu(&p->own, buffer, &slot)) != CM_OK)
        goto out;
    if ((st = mem_create(p->size, &fresh)) != CM_OK)
        goto out;
    /* The VMO gets its own fd (a dup), so that a failure below leaves the
     * buffer's memfd with the pool untouched. */
    vfd = fcntl(p->mem[slot].fd, F_DUPFD_CLOEXEC, 0);
    if (vfd < 0) {
        st = status_from_errno(errno);
        goto out;
    }
    if ((st = cm__vmo_wrap_memfd(vfd, &v)) != CM_OK)
        goto out;
    vfd = -1; /* owned by v now */
    if ((st = cm__handle_install(&v->hdr, CM_VMO_DEFAULT_RIGHTS, vmo)) != CM_OK)
        goto out;
    /* Registration switches to the fresh pages; the old ones are unpinned
     * (no request uses them: the buffer is CPU-owned). */
    if ((st = mem_register(p, slot, &fresh)) != CM_OK) {
        cm_handle_close(*vmo); /* drops v and the dup; the pool keeps its memfd */
        v = NULL;
        *vmo = CM_HANDLE_INVALID;
        goto out;
    }
    v = NULL;
    mem_destroy(p->size, &p->mem[slot]); /* unmap + close: the VMO holds the pages */
    p->mem[slot] = fresh;
    fresh.fd = -1;
    fresh.addr = NULL;
    (void)guard(p, slot, 0);
    if (cm__dma_own_detach(&p->own, buffer, &slot) != CM_OK)
        st = CM_ERR_INTERNAL;
out:
    if (v != NULL)
        cm__hobj_put(&v->hdr);
    if (vfd >= 0)
        close(vfd);
    mem_destroy(p->size, &fresh);
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

/* ---- submit and fences ---- */

static cm_status_t op_ok(const struct dma_pool *p, const cm_dma_op_t *op)
{
    if (op->kind != CM_DMA_OP_READ && op->kind != CM_DMA_OP_WRITE)
        return CM_ERR_INVALID_ARGS;
    if (op->reserved != 0 || op->length == 0)
        return CM_ERR_INVALID_ARGS;
    if (op->length > p->size || op->buffer_offset > p->size - op->length)
        return CM_ERR_OUT_OF_RANGE;
    if (op->device_offset > (uint64_t)INT64_MAX - op->length)
        return CM_ERR_OUT_OF_RANGE;
    if (op->buffer_offset % p->block != 0 || op->length % p->block != 0 ||
        op->device_offset % p->block != 0)
        return CM_ERR_INVALID_ARGS;
    return CM_OK;
}

/* io_uring_submit, retried while the kernel is only briefly short of
 * request memory or interrupted. */
static int submit_ring(struct dma_pool *p)
{
    int r;
    for (int tries = 0; tries < 8; tries++) {
        r = io_uring_submit(&p->ring);
        if (r != -EAGAIN && r != -EINTR)
            return r;
    }
    return r;
}

cm_status_t cm_dma_submit(cm_handle_t pool, cm_dma_buffer_t buffer, const cm_dma_op_t *op,
                          cm_dma_fence_t *fence)
{
    struct dma_pool *p;
    uint32_t slot;
    uint64_t f;
    if (op == NULL || fence == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_SIGNAL, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    if (p->dev_fd < 0) {
        st = CM_ERR_BAD_STATE;
        goto out;
    }
    if ((st = cm__dma_own_submit_check(&p->own, buffer, &slot, &f)) != CM_OK)
        goto out;
    if ((st = op_ok(p, op)) != CM_OK)
        goto out;
    uint32_t need = op->kind == CM_DMA_OP_READ ? CM_DMA_ATTACH_READ : CM_DMA_ATTACH_WRITE;
    if ((p->dev_flags & need) == 0) {
        st = CM_ERR_ACCESS_DENIED;
        goto out;
    }
    if (!p->reaping)
        (void)drain(p); /* frees SQ/CQ room held by finished requests */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);
    if (sqe == NULL) {
        st = CM_ERR_NO_RESOURCES;
        goto out;
    }
    /* Take the memory away from the CPU before the device gets it. If the
     * SQE cannot be turned into a request, it becomes a NOP with an
     * invalid tag, which the drain drops. */
    if (guard(p, slot, 0) != 0) {
        st = status_from_errno(errno);
        io_uring_prep_nop(sqe);
        sqe->user_data = 0;
        goto out;
    }
    uint8_t *addr = p->mem[slot].addr + op->buffer_offset;
    if (op->kind == CM_DMA_OP_READ)
        io_uring_prep_read_fixed(sqe, p->dev_fd, addr, op->length, op->device_offset, (int)slot);
    else
        io_uring_prep_write_fixed(sqe, p->dev_fd, addr, op->length, op->device_offset,
                                  (int)slot);
    sqe->user_data = f;
    (void)cm__dma_own_submit(&p->own, buffer, &slot, &f); /* validated above */
    int r = submit_ring(p);
    if (r < 0) {
        /* The kernel took nothing: neutralize the SQE and give the buffer
         * back through the legal path complete -> wait. */
        io_uring_prep_nop(sqe);
        sqe->user_data = 0;
        uint64_t back;
        cm_status_t res;
        uint32_t bytes;
        (void)cm__dma_own_complete(&p->own, f, CM_ERR_IO, 0, NULL, NULL);
        (void)cm__dma_own_wait(&p->own, f, &slot, &back, &res, &bytes);
        (void)guard(p, slot, 1);
        st = CM_ERR_IO;
        goto out;
    }
    *fence = f;
out:
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

/* Claims a SIGNALED fence: the CPU gets the memory back, then ownership.
 * Returns SHOULD_WAIT while in flight. Lock held. */
static cm_status_t claim(struct dma_pool *p, cm_dma_fence_t fence, cm_dma_completion_t *c)
{
    uint32_t slot;
    cm_status_t st = cm__dma_own_fence(&p->own, fence, &slot);
    if (st != CM_OK)
        return st;
    if (p->slots[slot].state != CM_DMA_SIGNALED)
        return CM_ERR_SHOULD_WAIT;
    if (guard(p, slot, 1) != 0)
        return status_from_errno(errno); /* nothing changed: retry later */
    st = cm__dma_own_wait(&p->own, fence, &slot, &c->buffer, &c->status, &c->bytes);
    return st;
}

static cm_status_t wait_fence(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *c)
{
    struct dma_pool *p;
    if (c == NULL || timeout_ns < -1)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_SIGNAL, &p);
    if (st != CM_OK)
        return st;
    uint64_t deadline = deadline_after(timeout_ns);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (!p->reaping)
            (void)drain(p);
        st = claim(p, fence, c);
        if (st != CM_ERR_SHOULD_WAIT)
            break;
        uint64_t now = now_ns();
        if (timeout_ns == 0 || now >= deadline) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        if (p->reaping) {
            if (deadline == UINT64_MAX) {
                pthread_cond_wait(&p->cond, &p->lock);
            } else {
                struct timespec ts = abs_timespec(deadline);
                (void)pthread_cond_timedwait(&p->cond, &p->lock, &ts);
            }
            continue;
        }
        /* Become the reaper: sleep in the ring for the next completion. */
        p->reaping = 1;
        pthread_mutex_unlock(&p->lock);
        struct io_uring_cqe *cqe;
        if (deadline == UINT64_MAX) {
            (void)io_uring_wait_cqe(&p->ring, &cqe);
        } else {
            uint64_t left = deadline - now;
            struct __kernel_timespec ts = { (long long)(left / 1000000000ull),
                                            (long long)(left % 1000000000ull) };
            (void)io_uring_wait_cqe_timeout(&p->ring, &cqe, &ts);
        }
        pthread_mutex_lock(&p->lock);
        p->reaping = 0;
        pthread_cond_broadcast(&p->cond); /* another waiter may take over */
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

cm_status_t cm_dma_fence_wait(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *completion)
{
    return wait_fence(pool, fence, timeout_ns, completion);
}

cm_status_t cm_dma_fence_poll(cm_handle_t pool, cm_dma_fence_t fence,
                              cm_dma_completion_t *completion)
{
    cm_status_t st = wait_fence(pool, fence, 0, completion);
    return st == CM_ERR_TIMED_OUT ? CM_ERR_SHOULD_WAIT : st;
}

/* ---- host extras ---- */

uint32_t cm_host_dma_quarantined(void)
{
    return atomic_load(&q_buffers);
}

cm_status_t cm_host_dma_quarantine_wait(int64_t timeout_ns)
{
    if (timeout_ns < -1)
        return CM_ERR_INVALID_ARGS;
    uint64_t deadline = deadline_after(timeout_ns);
    cm_status_t st = CM_OK;
    pthread_mutex_lock(&q_lock);
    while (q_pools > 0) {
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&q_cond, &q_lock);
            continue;
        }
        /* q_cond uses CLOCK_REALTIME (static init): wait in short slices
         * against our monotonic deadline instead of converting clocks. */
        if (now_ns() >= deadline) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&q_cond, &q_lock, &ts);
    }
    pthread_mutex_unlock(&q_lock);
    return st;
}

cm_status_t cm__dma_inject_completion(cm_handle_t pool, uint64_t tag)
{
    struct dma_pool *p;
    cm_status_t st = get_pool(pool, 0, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);
    if (sqe == NULL) {
        st = CM_ERR_NO_RESOURCES;
    } else {
        io_uring_prep_nop(sqe);
        sqe->user_data = tag;
        if (submit_ring(p) < 0)
            st = CM_ERR_IO;
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

uint32_t cm__dma_registered_buffers(void)
{
    return atomic_load(&registered_buffers);
}
