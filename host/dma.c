/* SPDX-License-Identifier: MIT */
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
 * CPU guard (opt-in, CM_DMA_POOL_CPU_GUARD: a debugging mode). The API
 * never hands out a pointer to a buffer that is not CPU-owned, and every
 * CPU access call checks ownership, in every mode. A guarded pool also
 * makes a buffer's mapping PROT_READ|PROT_WRITE only while it is CPU_OWNED
 * and PROT_NONE otherwise (the registered pages do not depend on the
 * mapping's protection), so a pointer kept across submit or release faults
 * instead of racing the device or reading another client's data. That
 * costs two mprotect calls per operation, each a TLB shootdown (io_uring's
 * workers share the address space), and the CPU re-faults every page after
 * the protection comes back: several times plain io_uring's CPU per I/O
 * (docs/dma.md has the figures), hence off by default. The protection each
 * mapping has is recorded (dma_mem.rw): a step that must close it does so
 * before it commits (and fails, changing nothing, if it cannot); a
 * rollback that cannot reopen it leaves rw clear, and the next CPU access
 * reopens it or returns the error. A CPU access never faults.
 *
 * Why one memfd per buffer: cm_dma_buffer_detach_vmo hands the very pages
 * the device wrote to a VMO without a copy. Sealing a memfd IMMUTABLE
 * (F_SEAL_WRITE) needs no writable mapping and no pinned page (the kernel
 * refuses with EBUSY while pins remain), so detaching first unregisters the
 * slot's fixed buffer (unpinning the pages), then publishes the VMO, then
 * gives the slot fresh memory, registered again at its next submit
 * (dma_mem.registered).
 *
 * Locking and waiting. pool->lock guards all pool state; any thread holding
 * it may drain the completion queue. One waiter at a time (the "reaper")
 * sleeps without the lock on the ring itself (io_uring_enter GETEVENTS,
 * which returns while the completion queue is not empty: a completion
 * posted after the reaper's last look wakes it, whoever drains it), as
 * plain io_uring does. Kernels without IORING_FEAT_EXT_ARG (before 5.11)
 * cannot give that sleep a timeout; there the ring signals an eventfd for
 * every completion it posts, and the reaper sleeps on it, resetting the
 * count before its last look at the queue.
 * Other waiters sleep on pool->cond, broadcast after every drain. Every wait
 * runs to a deadline from core/deadline.h.
 *
 * Quarantine. When the last reference to a pool goes while the device holds
 * buffers, those become QUARANTINED: the pool's memory, registrations, ring
 * and fds stay until each completion arrives, on a detached thread, and only
 * then is everything freed. A device that never completes keeps them forever
 * (as Zircon's PMT quarantine would): bounded by CM_DMA_MAX_BUFFERS per pool.
 *
 * Fork. A pool belongs to the process that created it (pool_owned). A fork
 * handler makes the child's copy of every pool a husk: its fds (ring,
 * eventfd, buffers, device) are closed in the child, the ring and buffer
 * memory is not even mapped there (MADV_DONTFORK), every call on it returns
 * BAD_STATE before anything is touched, and its close frees only the husk:
 * it never drains, cancels, unregisters, scrubs or submits anything of the
 * parent's. A child made without fork handlers (a raw clone system call)
 * is caught without a system call per DMA call: the process token lives in
 * a MADV_WIPEONFORK page, which Linux zeroes in every child however it was
 * made, so no pool's token matches there. Process-wide state (pool list,
 * quarantine counts) starts empty
 * in the child. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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

#include <capmem/host.h>
#include <capmem/host_dma.h>
#include <capmem/limits.h>
#include <capmem/vmo.h>
#include "deadline.h"
#include "dma_own.h"
#include "dma_rules.h"
#include "internal.h"
#include "dma_internal.h"
#include "status_detail.h"

/* Fallback direct-I/O alignment when the kernel does not report one: the
 * largest logical block size in common use (4Kn disks). */
#define DMA_DEFAULT_BLOCK 4096u

/* Ring entries beyond max_in_flight: room for test NOPs so that an injected
 * completion can never take a real submission's SQE. */
#define DMA_RING_SPARE 4u

struct dma_mem {
    int fd;         /* memfd, -1 when none */
    uint8_t *addr;  /* MAP_SHARED mapping of fd, NULL when none */
    int rw;         /* the mapping is PROT_READ|PROT_WRITE now */
    int registered; /* fixed buffer `slot` points at these pages */
};

struct dma_pool {
    struct cm__hobj hdr;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* broadcast after each drain */
    struct dma_pool *next, *prev; /* every pool of the process, under g_lock */
    struct dma_pool *qnext;  /* parked quarantine (g_parked), under g_lock */

    /* Under lock. */
    int reaping;             /* a thread sleeps on efd without the lock */
    int abandoned;           /* the last reference is gone */
    struct cm_dma_own own;
    struct cm_dma_slot slots[CM_DMA_MAX_BUFFERS];
    struct dma_mem mem[CM_DMA_MAX_BUFFERS];
    int dev_fd;              /* -1 until attached */
    uint32_t dev_flags;      /* CM_DMA_ATTACH_* */
    uint32_t block;
    uint64_t dev_size;
    uint32_t info_flags;

    /* Set at creation (and by the fork handler in a child), then read-only. */
    uint64_t token;          /* the creating process's token (process_token) */
    pid_t owner;             /* the creating process: the fallback check */
    int inherited;           /* this is a forked child's copy */
    uint32_t size;
    int guarded;             /* CM_DMA_POOL_CPU_GUARD */
    int ring_ok;
    uint32_t table;          /* fixed-buffer table entries (registered_buffers) */
    uint64_t pins;           /* pages charged to CM_LEDGER_PINS, 0 when none */
    int efd;                 /* eventfd the ring signals per completion, -1 when none */
    struct io_uring ring;
};

/* Process-wide state. g_lock guards the pool list and q_pools; it is taken
 * before any pool lock (fork_prepare), never while one is held. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER; /* a quarantined pool was freed */
static struct dma_pool *g_pools;       /* from creation until freed */
static uint32_t q_pools;               /* destroyed pools not yet freed */
/* Quarantined pools whose thread could not be started (RLIMIT_NPROC, no
 * memory), linked by qnext. cm_host_dma_quarantine_wait retries their
 * threads or collects their completions itself: a close never waits for a
 * device. */
static struct dma_pool *g_parked;
static atomic_uint q_buffers;          /* their quarantined buffers */
static atomic_uint registered_buffers; /* registered fixed buffers, all pools */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int fork_handler_err;
/* The process token (see pool_owned): in one MADV_WIPEONFORK page, so it
 * reads 0 in any child. Non-zero once a pool was created in this process;
 * g_token_next (an ordinary, inherited variable, under g_lock) makes each
 * new token larger than any a pool in this address space carries. NULL
 * without the page: pool_owned then asks getpid. Set before main, then
 * read-only. */
static _Atomic uint64_t *g_token;
static uint64_t g_token_next;

/* ---- test hooks (dma_internal.h) ---- */

int (*cm__dma_fault_hook)(int site);
atomic_uint cm__dma_quarantine_sleeps;
int cm__dma_no_ring_wait;

/* The errno a test injects at `site`, 0 normally. */
static int fault(int site)
{
    int (*hook)(int) = cm__dma_fault_hook;
    return hook != NULL ? hook(site) : 0;
}

/* ---- time ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on Linux; a zero reading would only make
     * a deadline later, never earlier. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_timespec(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
    return ts;
}

/* Sleeps on cond until signalled or the deadline (CM__DEADLINE_NONE: no
 * limit). A timeout is not an error: the caller re-checks its condition
 * and the deadline. Errors: INTERNAL (the condition variable refused). */
static cm_status_t cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock,
                                   uint64_t deadline)
{
    int r;
    if (deadline == CM__DEADLINE_NONE) {
        r = pthread_cond_wait(cond, lock);
    } else {
        struct timespec ts = ns_timespec(deadline);
        r = pthread_cond_clockwait(cond, lock, CLOCK_MONOTONIC, &ts);
    }
    return r == 0 || r == ETIMEDOUT ? CM_OK : CM_ERR_INTERNAL;
}

/* ---- memory ---- */

static cm_status_t status_from_errno(int err)
{
    cm_status_t st = cm__errno_detail("io_uring/mmap", err);
    return err == ENOMEM ? CM_ERR_NO_MEMORY : st;
}

/* madvise(MADV_DONTFORK): a forked child gets no view of this range (and
 * Linux advises DONTFORK for pinned ranges). */
static int dontfork(void *addr, size_t len, int site)
{
    int e = fault(site);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return madvise(addr, len, MADV_DONTFORK);
}

/* Creates zero-filled buffer memory, mapped read-write, not inherited by a
 * child, not registered. Frees what it made on failure. */
static cm_status_t mem_create(uint32_t size, struct dma_mem *m)
{
    cm_status_t st;
    int e;
    m->addr = NULL;
    m->rw = 1;
    m->registered = 0;
    if ((e = fault(CM__DMA_SITE_MEMFD)) != 0) {
        m->fd = -1;
        return status_from_errno(e);
    }
    m->fd = memfd_create("capmem-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (m->fd < 0)
        return status_from_errno(errno);
    /* A memfd's ftruncate past RLIMIT_FSIZE raises SIGXFSZ: checked first. */
    if ((st = cm__fsize_allows(size)) != CM_OK)
        goto bad;
    if ((e = fault(CM__DMA_SITE_FTRUNCATE)) != 0 || ftruncate(m->fd, size) != 0) {
        e = e != 0 ? e : errno;
        /* ENOSPC (shmem space): the VMO rule, MEMORY_PRESSURE; EFBIG is
         * RLIMIT_FSIZE with SIGXFSZ ignored (NO_RESOURCES). */
        st = cm__vmo_pages_errno("ftruncate of the pool's memfd", e);
        goto bad;
    }
    void *a = MAP_FAILED;
    if ((e = fault(CM__DMA_SITE_MMAP)) == 0)
        a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (a == MAP_FAILED) {
        st = status_from_errno(e != 0 ? e : errno);
        goto bad;
    }
    if (dontfork(a, size, CM__DMA_SITE_MADVISE) != 0) {
        st = status_from_errno(errno);
        munmap(a, size);
        goto bad;
    }
    m->addr = a;
    return CM_OK;
bad:
    close(m->fd);
    m->fd = -1;
    return st;
}

/* Unmaps and closes. munmap of a whole mapping we made cannot fail. */
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
static cm_status_t ring_register(struct dma_pool *p, uint32_t slot, const struct dma_mem *m)
{
    struct iovec iov = { m != NULL ? m->addr : NULL, m != NULL ? p->size : 0 };
    __u64 tag = 0;
    int e = fault(CM__DMA_SITE_REGISTER);
    int r = e != 0 ? -e : io_uring_register_buffers_update_tag(&p->ring, slot, &iov, &tag, 1);
    if (r == -ENOMEM)
        return cm__detail_set(CM_ERR_NO_RESOURCES, "io_uring_register_buffers_update: ENOMEM "
                              "(pinned pages above RLIMIT_MEMLOCK? raise it: ulimit -l)");
    if (r < 0)
        return status_from_errno(-r);
    return r == 1 ? CM_OK
                  : cm__detail_set(CM_ERR_IO, "io_uring_register_buffers_update registered "
                                   "%d buffers, not 1", r);
}

/* The slot's current memory is what the device will use. */
static cm_status_t ensure_registered(struct dma_pool *p, uint32_t slot)
{
    if (p->mem[slot].registered)
        return CM_OK;
    cm_status_t st = ring_register(p, slot, &p->mem[slot]);
    if (st == CM_OK)
        p->mem[slot].registered = 1;
    return st;
}

/* The slot's fixed buffer no longer pins its memory. */
static cm_status_t ensure_unregistered(struct dma_pool *p, uint32_t slot)
{
    if (!p->mem[slot].registered)
        return CM_OK;
    cm_status_t st = ring_register(p, slot, NULL);
    if (st == CM_OK)
        p->mem[slot].registered = 0;
    return st;
}

/* CPU access to a mapping follows ownership: read-write only while
 * CPU_OWNED. Records what the mapping has; on failure nothing changed. */
static cm_status_t set_cpu_access(struct dma_pool *p, struct dma_mem *m, int rw)
{
    if (!p->guarded || m->rw == rw)
        return CM_OK;
    int e = fault(CM__DMA_SITE_MPROTECT);
    if (e == 0 && mprotect(m->addr, p->size, rw ? PROT_READ | PROT_WRITE : PROT_NONE) != 0)
        e = errno;
    if (e != 0)
        return status_from_errno(e);
    m->rw = rw;
    return CM_OK;
}

static cm_status_t open_cpu(struct dma_pool *p, uint32_t slot)
{
    return set_cpu_access(p, &p->mem[slot], 1);
}

static cm_status_t close_cpu(struct dma_pool *p, uint32_t slot)
{
    return set_cpu_access(p, &p->mem[slot], 0);
}

/* ---- completions ---- */

static cm_status_t status_from_res(int res)
{
    if (res >= 0)
        return CM_OK;
    return res == -EINVAL ? CM_ERR_INVALID_ARGS : CM_ERR_IO;
}

/* Applies every CQE in the completion queue. Lock held. */
static unsigned drain(struct dma_pool *p)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&p->ring, head, cqe) {
        uint32_t slot, action = 0;
        int res = cqe->res;
        cm_status_t st = cm__dma_own_complete(&p->own, cqe->user_data, status_from_res(res),
                                              res > 0 ? (uint32_t)res : 0u, &slot, &action);
        /* A quarantined buffer is back from the device. Its pool is
         * abandoned: the slot stays DIRTY and the memory goes back to
         * Linux with the pool (Linux zeroes pages before reuse). */
        if (st == CM_OK && (action & CM_DMA_ACT_SCRUB) != 0)
            atomic_fetch_sub(&q_buffers, 1);
        n++;
    }
    if (n != 0) {
        io_uring_cq_advance(&p->ring, n);
        pthread_cond_broadcast(&p->cond);
    }
    return n;
}

/* The ring itself can be slept on: io_uring_enter(GETEVENTS) with a
 * timeout argument (IORING_FEAT_EXT_ARG, Linux 5.11) returns as soon as
 * the completion queue holds an entry, consumed or not, so it needs no
 * eventfd and no reset, and it is the path plain io_uring waits on. */
static int ring_waitable(const struct dma_pool *p)
{
    return (p->ring.features & IORING_FEAT_EXT_ARG) != 0 && !cm__dma_no_ring_wait;
}

/* Forgets the completions signalled so far: called by the one sleeper
 * before its last look at the queue. EAGAIN: none. Lock held. Not needed
 * when the sleeper sleeps on the ring itself. */
static void event_reset(struct dma_pool *p)
{
    uint64_t v;
    if (ring_waitable(p))
        return;
    while (read(p->efd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

/* Sleeps on the ring until its completion queue is not empty, or the
 * deadline. Lock not held. */
static cm_status_t ring_wait(struct dma_pool *p, uint64_t deadline)
{
    struct __kernel_timespec ts;
    struct io_uring_getevents_arg arg = { 0, _NSIG / 8, 0, 0 };
    if (deadline != CM__DEADLINE_NONE) {
        uint64_t left = cm__deadline_left_ns(deadline, now_ns());
        ts.tv_sec = (long long)(left / 1000000000ull);
        ts.tv_nsec = (long long)(left % 1000000000ull);
        arg.ts = (uint64_t)(uintptr_t)&ts;
    }
    int r = io_uring_enter2((unsigned)p->ring.ring_fd, 0, 1,
                            IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, (sigset_t *)&arg,
                            sizeof(arg));
    if (r < 0 && r != -EINTR && r != -ETIME && r != -EAGAIN && r != -EBUSY)
        return status_from_errno(-r);
    return CM_OK;
}

/* Sleeps until the ring signals a completion or the deadline. Lock not
 * held. A timeout or a signal is not an error: the caller re-checks.
 * Errors: those of ppoll or io_uring_enter (NO_MEMORY, ...). */
static cm_status_t event_wait(struct dma_pool *p, uint64_t deadline)
{
    if (ring_waitable(p))
        return ring_wait(p, deadline);
    struct pollfd pfd = { p->efd, POLLIN, 0 };
    struct timespec ts, *tsp = NULL;
    if (deadline != CM__DEADLINE_NONE) {
        ts = ns_timespec(cm__deadline_left_ns(deadline, now_ns()));
        tsp = &ts;
    }
    if (ppoll(&pfd, 1, tsp, NULL) < 0 && errno != EINTR)
        return status_from_errno(errno);
    return CM_OK;
}

/* ---- fork ---- */

/* True in the process that created the pool, and no system call: the fork
 * handler marks a child's copies (inherited); a child made without fork
 * handlers (a raw clone) has a zeroed token page, which matches no pool's
 * token. Only without MADV_WIPEONFORK is getpid asked, per call. */
static int pool_owned(const struct dma_pool *p)
{
    if (p->inherited)
        return 0;
    if (g_token != NULL)
        return atomic_load_explicit(g_token, memory_order_relaxed) == p->token;
    return p->owner == getpid();
}

/* The token of the calling process for a new pool: a fresh one if this
 * process has none yet (first pool, or the first in a child). g_lock held. */
static uint64_t process_token(void)
{
    if (g_token == NULL)
        return 0;
    uint64_t t = atomic_load_explicit(g_token, memory_order_relaxed);
    if (t == 0) {
        t = ++g_token_next;
        atomic_store_explicit(g_token, t, memory_order_relaxed);
    }
    return t;
}

/* Closes a husk's copies of the pool's fds (never the ring's or buffers'
 * memory: the child has no mapping of them, and something else of the
 * child's may live at those addresses now). */
static void husk_close_fds(struct dma_pool *p)
{
    if (p->ring_ok)
        close(p->ring.ring_fd);
    p->ring_ok = 0;
    if (p->efd >= 0)
        close(p->efd);
    p->efd = -1;
    for (uint32_t i = 0; i < p->own.count; i++) {
        if (p->mem[i].fd >= 0)
            close(p->mem[i].fd);
        p->mem[i].fd = -1;
    }
    if (p->dev_fd >= 0)
        close(p->dev_fd);
    p->dev_fd = -1;
}

/* Before fork: every pool's state is consistent (no half-made fd). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
    for (struct dma_pool *p = g_pools; p != NULL; p = p->next)
        pthread_mutex_lock(&p->lock);
}

static void fork_parent(void)
{
    for (struct dma_pool *p = g_pools; p != NULL; p = p->next)
        pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&g_lock);
}

/* In the child (async-signal-safe calls only): every pool becomes a husk.
 * Their locks stay as the fork left them: a husk's lock is never taken. */
static void fork_child(void)
{
    struct dma_pool *p = g_pools;
    while (p != NULL) {
        struct dma_pool *next = p->next;
        p->inherited = 1;
        husk_close_fds(p);
        p->next = p->prev = NULL;
        p = next;
    }
    g_pools = NULL;
    g_parked = NULL;
    q_pools = 0;
    atomic_store(&q_buffers, 0);
    atomic_store(&registered_buffers, 0);
    /* Waiters on g_cond were threads of the parent. */
    pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
    g_cond = fresh_cond;
    pthread_mutex_unlock(&g_lock);
}

/* The token page, made when the library is loaded (so it exists before
 * any pool and any test's leak snapshot). Without it (no memory, or no
 * MADV_WIPEONFORK: Linux < 4.14) the owner check falls back to getpid. */
__attribute__((constructor)) static void token_page_create(void)
{
    void *page = mmap(NULL, CM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (page == MAP_FAILED)
        return;
    if (madvise(page, CM_PAGE_SIZE, MADV_WIPEONFORK) != 0) {
        munmap(page, CM_PAGE_SIZE);
        return;
    }
    g_token = page; /* zero-filled: no token yet */
}

static void fork_register(void)
{
    fork_handler_err = pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Registers the fork handler once per process. fork runs prepare handlers
 * in reverse order of registration, and a pool lock is held while the
 * handle table's lock is taken (detach publishes under the pool lock), so
 * ours must run before a handle table handler: the table is initialized
 * (cm_host_live_handles) before we register. Errors: NO_MEMORY. */
static cm_status_t fork_ready(void)
{
    (void)cm_host_live_handles();
    if (pthread_once(&fork_once, fork_register) != 0 || fork_handler_err != 0)
        return CM_ERR_NO_MEMORY;
    return CM_OK;
}

static void list_add(struct dma_pool *p)
{
    p->prev = NULL;
    p->next = g_pools;
    if (g_pools != NULL)
        g_pools->prev = p;
    g_pools = p;
}

static void list_remove(struct dma_pool *p)
{
    if (p->prev != NULL)
        p->prev->next = p->next;
    else if (g_pools == p)
        g_pools = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
}

/* ---- pool lifetime ---- */

/* Frees an owned pool. Its fds close under g_lock, so that a fork sees
 * either all of them (and closes them in the child) or none. */
static void pool_free(struct dma_pool *p)
{
    pthread_mutex_lock(&g_lock);
    list_remove(p);
    if (p->ring_ok) {
        /* Unregisters (unpins) every fixed buffer and closes the ring. */
        io_uring_queue_exit(&p->ring);
        atomic_fetch_sub(&registered_buffers, p->table);
    }
    for (uint32_t i = 0; i < p->own.count; i++)
        mem_destroy(p->size, &p->mem[i]);
    if (p->efd >= 0)
        close(p->efd);
    if (p->dev_fd >= 0)
        close(p->dev_fd);
    pthread_mutex_unlock(&g_lock);
    /* Unpinned above (ring exit, unmap): the charge goes, once. */
    if (p->pins != 0)
        cm__hledger_uncharge(CM_LEDGER_PINS, p->pins);
    p->pins = 0;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* The last reference to a husk is gone (a child's close). Nothing of the
 * parent's is touched. With the fork handler run, the husk is off every
 * list and its fds are closed: free it. Without (a raw clone), it is still
 * on this process's copy of the list: close its fds, keep the memory. */
static void husk_free(struct dma_pool *p)
{
    /* The child's copy of the ledger holds the parent's pin charge until
     * here: release it in this process, once (the parent's stands). */
    if (p->pins != 0)
        cm__hledger_uncharge(CM_LEDGER_PINS, p->pins);
    p->pins = 0;
    if (p->inherited) {
        free(p);
        return;
    }
    husk_close_fds(p);
}

/* Collects a destroyed pool's completions until every quarantined buffer
 * is back (CM_OK), the deadline passes (TIMED_OUT) or the ring cannot be
 * waited on (its error). Nobody else references the pool. */
static cm_status_t quarantine_reap(struct dma_pool *p, uint64_t deadline)
{
    cm_status_t st = CM_OK;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        event_reset(p);
        (void)drain(p);
        if (p->own.quarantined == 0)
            break;
        if (cm__deadline_passed(deadline, now_ns())) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        pthread_mutex_unlock(&p->lock);
        st = event_wait(p, deadline);
        pthread_mutex_lock(&p->lock);
        if (st != CM_OK)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* Frees a pool whose quarantine is over and tells quarantine waiters. */
static void quarantine_end(struct dma_pool *p)
{
    pool_free(p);
    pthread_mutex_lock(&g_lock);
    q_pools--;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* The quarantine thread. A ring it cannot wait on any more is a device
 * that never completes: the pool stays quarantined (counted) rather than
 * freed under the device. */
static void *quarantine_main(void *arg)
{
    struct dma_pool *p = arg;
    if (quarantine_reap(p, CM__DEADLINE_NONE) == CM_OK)
        quarantine_end(p);
    return NULL;
}

/* Starts a detached quarantine thread for p. Returns 0 or an errno. */
static int quarantine_start(struct dma_pool *p)
{
    pthread_t t;
    pthread_attr_t attr;
    int e = fault(CM__DMA_SITE_THREAD);
    if (e != 0 || (e = pthread_attr_init(&attr)) != 0)
        return e;
    if ((e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) == 0)
        e = pthread_create(&t, &attr, quarantine_main, p);
    pthread_attr_destroy(&attr);
    return e;
}

static void park(struct dma_pool *p)
{
    pthread_mutex_lock(&g_lock);
    p->qnext = g_parked;
    g_parked = p;
    pthread_mutex_unlock(&g_lock);
}

/* Takes one parked pool whose thread still cannot start (NULL: none).
 * g_lock held. */
static struct dma_pool *unpark_one(void)
{
    while (g_parked != NULL) {
        struct dma_pool *p = g_parked;
        g_parked = p->qnext;
        p->qnext = NULL;
        if (quarantine_start(p) != 0)
            return p;
    }
    return NULL;
}

/* The last reference is gone: owner death for every buffer (ABANDON). */
static void pool_destroy(struct cm__hobj *obj)
{
    struct dma_pool *p = (struct dma_pool *)obj;
    if (!pool_owned(p)) {
        husk_free(p);
        return;
    }
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
    pthread_mutex_lock(&g_lock);
    q_pools++;
    pthread_mutex_unlock(&g_lock);
    if (quarantine_start(p) != 0)
        park(p);
}

static cm_status_t ring_status(int r)
{
    switch (-r) {
    case ENOSYS:
    case EPERM: /* io_uring disabled by sysctl or seccomp */
        return cm__detail_set(CM_ERR_UNSUPPORTED, "io_uring_setup: %s: io_uring is disabled "
                              "here (kernel.io_uring_disabled, seccomp) or missing",
                              cm__errname(-r));
    case ENOMEM: /* also RLIMIT_MEMLOCK for pinned buffers */
    case EMFILE:
    case ENFILE:
        return cm__detail_set(CM_ERR_NO_RESOURCES, "io_uring_setup: %s (%s)%s",
                              cm__errname(-r), cm__errdesc(-r),
                              -r == ENOMEM ? "; RLIMIT_MEMLOCK may be too low (ulimit -l)" : "");
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

/* The ring, its eventfd and memory a child does not inherit. On failure
 * the caller's pool_free undoes what was made (ring_ok says if the ring
 * exists). */
static cm_status_t ring_create(struct dma_pool *p, const cm_dma_pool_config_t *config)
{
    int e = fault(CM__DMA_SITE_RING);
    int r = e != 0 ? -e : io_uring_queue_init(ring_entries(config->max_in_flight), &p->ring, 0);
    if (r < 0)
        return ring_status(r);
    p->ring_ok = 1;
    /* The SQ and CQ rings and the SQE array are MAP_SHARED views of the
     * ring: a child that kept them could consume the parent's completions. */
    size_t sqes = (size_t)p->ring.sq.ring_entries * sizeof(struct io_uring_sqe);
    if (dontfork(p->ring.sq.ring_ptr, p->ring.sq.ring_sz, CM__DMA_SITE_RING) != 0 ||
        (p->ring.cq.ring_ptr != p->ring.sq.ring_ptr &&
         dontfork(p->ring.cq.ring_ptr, p->ring.cq.ring_sz, CM__DMA_SITE_RING) != 0) ||
        dontfork(p->ring.sq.sqes, sqes, CM__DMA_SITE_RING) != 0)
        return status_from_errno(errno);
    r = (e = fault(CM__DMA_SITE_RING)) != 0 ? -e
        : io_uring_register_buffers_sparse(&p->ring, config->buffer_count);
    if (r < 0)
        return ring_status(r);
    p->table = config->buffer_count;
    atomic_fetch_add(&registered_buffers, p->table);
    if ((e = fault(CM__DMA_SITE_EVENTFD)) != 0)
        return status_from_errno(e);
    p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->efd < 0)
        return errno == EMFILE || errno == ENFILE ? CM_ERR_NO_RESOURCES : status_from_errno(errno);
    r = (e = fault(CM__DMA_SITE_EVENTFD)) != 0 ? -e : io_uring_register_eventfd(&p->ring, p->efd);
    return r < 0 ? ring_status(r) : CM_OK;
}

/* Builds the pool behind its lock (so a fork never sees it half made). */
static cm_status_t pool_build(struct dma_pool *p, const cm_dma_pool_config_t *config)
{
    /* A random generation seed per pool: ids of one pool do not name
     * buffers of another (they would collide from the first acquire). */
    uint32_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (uint32_t)now_ns() ^ (uint32_t)(uintptr_t)p;
    cm_status_t st = cm__dma_own_init(&p->own, p->slots, config->buffer_count,
                                      config->max_in_flight, seed);
    if (st != CM_OK)
        return st;
    /* Charged before anything is pinned, for the pool's whole pin capacity
     * (a detached slot is pinned again at its next submit), until
     * pool_free. cm__dma_config_check bounds both factors: no overflow. */
    uint64_t pins = (uint64_t)config->buffer_count * (config->buffer_size / CM_PAGE_SIZE);
    if ((st = cm__hledger_charge(CM_LEDGER_PINS, pins)) != CM_OK)
        return st;
    p->pins = pins;
    if ((st = ring_create(p, config)) != CM_OK)
        return st;
    for (uint32_t i = 0; i < config->buffer_count; i++) {
        /* FREE: registered, no CPU access until acquired. */
        if ((st = mem_create(p->size, &p->mem[i])) != CM_OK ||
            (st = ensure_registered(p, i)) != CM_OK || (st = close_cpu(p, i)) != CM_OK)
            return st;
    }
    p->info_flags = p->guarded ? CM_DMA_INFO_CPU_GUARD : 0u;
    return CM_OK;
}

cm_status_t cm_dma_pool_create(const cm_dma_pool_config_t *config, cm_handle_t *pool)
{
    CM__ENTRY();
    if (config == NULL || pool == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__dma_config_check(config);
    if (st != CM_OK || (st = fork_ready()) != CM_OK)
        return st;
    struct dma_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&p->hdr, CM_OBJ_DMA_POOL, pool_destroy);
    p->owner = getpid(); /* once per pool, not per call */
    p->dev_fd = -1;
    p->efd = -1;
    p->size = config->buffer_size;
    p->guarded = (config->options & CM_DMA_POOL_CPU_GUARD) != 0;
    for (uint32_t i = 0; i < CM_DMA_MAX_BUFFERS; i++)
        p->mem[i].fd = -1;
    /* Waits use pthread_cond_clockwait on CLOCK_MONOTONIC: no attribute. */
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return CM_ERR_NO_MEMORY;
    }
    if (pthread_cond_init(&p->cond, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return CM_ERR_NO_MEMORY;
    }
    pthread_mutex_lock(&g_lock);
    p->token = process_token();
    list_add(p);
    pthread_mutex_lock(&p->lock);
    pthread_mutex_unlock(&g_lock);
    st = pool_build(p, config);
    pthread_mutex_unlock(&p->lock);
    if (st == CM_OK)
        st = cm__handle_install(&p->hdr, CM_DMA_POOL_DEFAULT_RIGHTS, pool);
    if (st != CM_OK)
        pool_free(p);
    return st;
}

/* Looks up a pool handle needing `need`, returns a reference. A pool this
 * process did not create (inherited through fork) is BAD_STATE for every
 * call, decided before anything of it is touched. */
static cm_status_t get_pool(cm_handle_t h, cm_rights_t need, struct dma_pool **p)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_DMA_POOL, need, &obj, NULL);
    if (st != CM_OK)
        return st;
    if (!pool_owned((struct dma_pool *)obj)) {
        cm__hobj_put(obj);
        return CM_ERR_BAD_STATE;
    }
    *p = (struct dma_pool *)obj;
    return CM_OK;
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
        return cm__detail_set(CM_ERR_INVALID_ARGS, "not a block device or regular file");
    /* tmpfs accepts O_DIRECT since Linux 6.6 but has no device behind it:
     * the "DMA" would be a memcpy. Refuse rather than fake the device. */
    if (memory_fs(fd))
        return cm__detail_set(CM_ERR_UNSUPPORTED, "the file is on a memory filesystem (tmpfs, "
                              "ramfs): no device would do the DMA");
    uint32_t align = DMA_DEFAULT_BLOCK;
#ifdef STATX_DIOALIGN
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
        (sx.stx_mask & STATX_DIOALIGN) != 0) {
        if (sx.stx_dio_offset_align == 0)
            return cm__detail_set(CM_ERR_UNSUPPORTED, /* the filesystem says so */
                                  "the filesystem does not support direct I/O (statx "
                                  "STATX_DIOALIGN offset alignment 0)");
        align = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align
                                                                : sx.stx_dio_mem_align;
    }
#endif
    /* Buffers are page aligned, so any alignment up to a page is met by the
     * memory side; a larger one cannot be, by construction of the pool. */
    if (align > CM_PAGE_SIZE || (align & (align - 1)) != 0)
        return cm__detail_set(CM_ERR_UNSUPPORTED, "direct I/O alignment %u is not a power of "
                              "two up to CM_PAGE_SIZE (%u)", align, CM_PAGE_SIZE);
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
    CM__ENTRY();
    if (device == NULL || !cm__dma_attach_flags_ok(flags))
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
    (void)fault(CM__DMA_SITE_OPEN); /* tests: swap the path here */
    /* O_NONBLOCK for the open only: a FIFO swapped in after the stat must
     * not block us in open (fstat then refuses it); a file or block device
     * then loses it, since io_uring fails reads of a non-blocking file with
     * EAGAIN instead of waiting for the device. */
    int fd = open(device, mode | O_DIRECT | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == EINVAL ? CM_ERR_UNSUPPORTED : status_from_errno(errno);
    if (fstat(fd, &sb) != 0 || (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)))
        st = CM_ERR_INVALID_ARGS;
    else if (fcntl(fd, F_SETFL, mode | O_DIRECT) != 0)
        st = status_from_errno(errno);
    if (st != CM_OK) {
        close(fd);
        return st;
    }
    st = attach(pool, fd, flags, 1);
    if (st != CM_OK)
        close(fd);
    return st;
}

cm_status_t cm_host_dma_attach_fd(cm_handle_t pool, int fd, uint32_t flags)
{
    CM__ENTRY();
    if (fd < 0 || !cm__dma_attach_flags_ok(flags))
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
    CM__ENTRY();
    struct dma_pool *p;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, 0, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
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
    CM__ENTRY();
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
        st = cm__detail_set(CM_ERR_NO_RESOURCES, "every one of the pool's %u buffers is "
                            "acquired, in flight or quarantined: release one", p->own.count);
    } else if ((st = open_cpu(p, slot)) == CM_OK) {
        uint32_t got;
        st = cm__dma_own_acquire(&p->own, buffer, &got);
        if (st != CM_OK || got != slot)
            st = CM_ERR_INTERNAL;
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

/* A CPU-owned buffer whose memory the CPU can touch now. Lock held.
 * Errors: BAD_HANDLE; BAD_STATE; those of mprotect. */
static cm_status_t cpu_buffer(struct dma_pool *p, cm_dma_buffer_t buffer, uint32_t *slot)
{
    cm_status_t st = cm__dma_own_check_cpu(&p->own, buffer, slot);
    return st != CM_OK ? st : open_cpu(p, *slot);
}

cm_status_t cm_dma_buffer_map(cm_handle_t pool, cm_dma_buffer_t buffer, void **addr,
                              uint32_t *size)
{
    CM__ENTRY();
    struct dma_pool *p;
    uint32_t slot;
    if (addr == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_READ | CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    st = cpu_buffer(p, buffer, &slot);
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
    if (st == CM_OK)
        st = open_cpu(p, slot);
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
    CM__ENTRY();
    if (dst == NULL && len > 0)
        return CM_ERR_INVALID_ARGS;
    static uint8_t none;
    return copy(pool, buffer, offset, dst != NULL ? dst : &none, NULL, len);
}

cm_status_t cm_dma_buffer_write(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                                const void *src, uint32_t len)
{
    CM__ENTRY();
    if (src == NULL && len > 0)
        return CM_ERR_INVALID_ARGS;
    static const uint8_t none;
    return copy(pool, buffer, offset, NULL, src != NULL ? src : &none, len);
}

/* Validate, scrub, then commit: the memory is zeroed while the caller
 * still owns it and closed to the CPU before the slot becomes FREE, so a
 * failure returns the error with the buffer still the caller's (its bytes
 * possibly zeroed), and no client ever acquires an unscrubbed slot. */
cm_status_t cm_dma_buffer_release(cm_handle_t pool, cm_dma_buffer_t buffer)
{
    CM__ENTRY();
    struct dma_pool *p;
    uint32_t slot;
    cm_status_t st = get_pool(pool, CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    if ((st = cpu_buffer(p, buffer, &slot)) != CM_OK)
        goto out;
    memset(p->mem[slot].addr, 0, p->size);
    if ((st = close_cpu(p, slot)) != CM_OK)
        goto out;
    if (cm__dma_own_release(&p->own, buffer, &slot) != CM_OK ||
        cm__dma_own_scrubbed(&p->own, slot) != CM_OK)
        st = CM_ERR_INTERNAL; /* validated above: cannot happen */
out:
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

/* Validate; build and do every step that can fail (fresh memory, the
 * VMO's own fd and object, unpinning the buffer's pages); publish the VMO
 * handle last; then the steps that cannot fail. A failure before the
 * publication leaves the buffer the caller's with its bytes (its fixed
 * buffer may be unregistered: the next submit registers it again). */
cm_status_t cm_dma_buffer_detach_vmo(cm_handle_t pool, cm_dma_buffer_t buffer,
                                     cm_handle_t *vmo)
{
    CM__ENTRY();
    struct dma_pool *p;
    struct dma_mem fresh = { -1, NULL, 1, 0 };
    struct cm__vmo *v = NULL;
    uint32_t slot;
    int vfd = -1, e;
    if (vmo == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_pool(pool, CM_RIGHT_READ | CM_RIGHT_WRITE, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    if ((st = cm__dma_own_check_cpu(&p->own, buffer, &slot)) != CM_OK)
        goto out;
    if ((st = mem_create(p->size, &fresh)) != CM_OK)
        goto out;
    /* FREE memory: no CPU access. */
    if ((st = set_cpu_access(p, &fresh, 0)) != CM_OK)
        goto out;
    /* The VMO gets its own fd (a dup), so that a failure leaves the
     * buffer's memfd with the pool untouched. */
    vfd = (e = fault(CM__DMA_SITE_DUP)) != 0 ? -1 : fcntl(p->mem[slot].fd, F_DUPFD_CLOEXEC, 0);
    if (vfd < 0) {
        st = status_from_errno(e != 0 ? e : errno);
        goto out;
    }
    if ((st = cm__vmo_wrap_memfd(vfd, &v)) != CM_OK)
        goto out;
    vfd = -1; /* owned by v now */
    /* Unpin: sealing the VMO needs no pinned page (no request uses them:
     * the buffer is CPU-owned). */
    if ((st = ensure_unregistered(p, slot)) != CM_OK)
        goto out;
    if ((st = cm__handle_install(&v->hdr, CM_VMO_DEFAULT_RIGHTS, vmo)) != CM_OK)
        goto out;
    v = NULL;
    /* Published. Nothing below can fail. */
    mem_destroy(p->size, &p->mem[slot]); /* unmap + close: the VMO holds the pages */
    p->mem[slot] = fresh;
    fresh.fd = -1;
    fresh.addr = NULL;
    if (cm__dma_own_detach(&p->own, buffer, &slot) != CM_OK)
        st = CM_ERR_INTERNAL; /* validated above: cannot happen */
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

/* io_uring_submit, retried while the kernel is only briefly short of
 * request memory or interrupted. */
static int submit_ring(struct dma_pool *p)
{
    int r = -EAGAIN;
    for (int tries = 0; tries < 8; tries++) {
        int e = fault(CM__DMA_SITE_SUBMIT);
        r = e != 0 ? -e : io_uring_submit(&p->ring);
        if (r != -EAGAIN && r != -EINTR)
            return r;
    }
    return r;
}

/* Checks a submit without changing anything. Lock held, queue drained. */
static cm_status_t submit_check(struct dma_pool *p, cm_dma_buffer_t buffer,
                                const cm_dma_op_t *op, uint32_t *slot, uint64_t *fence)
{
    if (p->dev_fd < 0)
        return CM_ERR_BAD_STATE;
    cm_status_t st = cm__dma_own_submit_check(&p->own, buffer, slot, fence);
    if (st != CM_OK || (st = cm__dma_op_check(p->size, p->block, op)) != CM_OK)
        return st;
    uint32_t need = op->kind == CM_DMA_OP_READ ? CM_DMA_ATTACH_READ : CM_DMA_ATTACH_WRITE;
    return (p->dev_flags & need) == 0 ? CM_ERR_ACCESS_DENIED : CM_OK;
}

/* The kernel took nothing: neutralize the SQE (a NOP whose tag 0 the
 * drain drops) and give the buffer back through the legal path complete
 * -> wait. If the CPU guard cannot be lifted now, the mapping is recorded
 * as closed and the owner's next access lifts it (cpu_buffer). */
static void submit_undo(struct dma_pool *p, struct io_uring_sqe *sqe, uint64_t f)
{
    uint32_t slot, bytes;
    uint64_t back;
    cm_status_t res;
    io_uring_prep_nop(sqe);
    sqe->user_data = 0;
    if (cm__dma_own_complete(&p->own, f, CM_ERR_IO, 0, &slot, NULL) == CM_OK &&
        cm__dma_own_wait(&p->own, f, &slot, &back, &res, &bytes) == CM_OK)
        (void)open_cpu(p, slot); /* recorded either way */
}

cm_status_t cm_dma_submit(cm_handle_t pool, cm_dma_buffer_t buffer, const cm_dma_op_t *op_in,
                          cm_dma_fence_t *fence)
{
    CM__ENTRY();
    struct dma_pool *p;
    uint32_t slot;
    uint64_t f;
    if (op_in == NULL || fence == NULL)
        return CM_ERR_INVALID_ARGS;
    /* Read once: *op may lie in the buffer the CPU loses below. */
    const cm_dma_op_t op_copy = *op_in, *op = &op_copy;
    cm_status_t st = get_pool(pool, CM_RIGHT_SIGNAL, &p);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    if (cm__dma_own_buffer(&p->own, buffer, &slot) == CM_OK && p->mem[slot].addr != NULL &&
        cm__dma_out_in_buffer((uint64_t)(uintptr_t)fence, sizeof(*fence),
                              (uint64_t)(uintptr_t)p->mem[slot].addr, p->size)) {
        st = CM_ERR_INVALID_ARGS;
        goto out;
    }
    /* Reap first: finished requests free in-flight capacity and ring room. */
    (void)drain(p);
    if ((st = submit_check(p, buffer, op, &slot, &f)) != CM_OK)
        goto out;
    if ((st = ensure_registered(p, slot)) != CM_OK)
        goto out;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);
    if (sqe == NULL) {
        st = cm__detail_set(CM_ERR_NO_RESOURCES, "the io_uring submission queue is full");
        goto out;
    }
    /* Take the memory away from the CPU before the device gets it. */
    if ((st = close_cpu(p, slot)) != CM_OK) {
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
    if (cm__dma_own_submit(&p->own, buffer, &slot, &f) != CM_OK) {
        io_uring_prep_nop(sqe); /* validated above: cannot happen */
        sqe->user_data = 0;
        st = CM_ERR_INTERNAL;
        goto out;
    }
    int sr = submit_ring(p);
    if (sr < 0) {
        submit_undo(p, sqe, f);
        st = cm__detail_set(CM_ERR_IO, "io_uring_submit failed: %s (%s)", cm__errname(-sr),
                            cm__errdesc(-sr));
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
    if ((st = open_cpu(p, slot)) != CM_OK)
        return st; /* nothing changed: retry later */
    return cm__dma_own_wait(&p->own, fence, &slot, &c->buffer, &c->status, &c->bytes);
}

/* One sleep of a fence waiter until a completion or the deadline. Lock
 * held; released while asleep. */
static cm_status_t sleep_for_completion(struct dma_pool *p, uint64_t deadline)
{
    if (p->reaping)
        return cond_wait_until(&p->cond, &p->lock, deadline);
    p->reaping = 1;
    pthread_mutex_unlock(&p->lock);
    cm_status_t st = event_wait(p, deadline);
    pthread_mutex_lock(&p->lock);
    p->reaping = 0;
    pthread_cond_broadcast(&p->cond); /* another waiter may take over */
    return st;
}

static cm_status_t wait_fence(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *c)
{
    struct dma_pool *p;
    uint64_t deadline;
    if (c == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__deadline_from_timeout(now_ns(), timeout_ns, &deadline);
    if (st != CM_OK || (st = get_pool(pool, CM_RIGHT_SIGNAL, &p)) != CM_OK)
        return st;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        (void)drain(p);
        st = claim(p, fence, c);
        if (st != CM_ERR_SHOULD_WAIT)
            break;
        if (cm__deadline_passed(deadline, now_ns())) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        if (!p->reaping) {
            /* The next sleeper forgets older signals before its last look,
             * so any completion posted after that look wakes it. */
            event_reset(p);
            (void)drain(p);
            if ((st = claim(p, fence, c)) != CM_ERR_SHOULD_WAIT)
                break;
        }
        if ((st = sleep_for_completion(p, deadline)) != CM_OK)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    put_pool(p);
    return st;
}

cm_status_t cm_dma_fence_wait(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *completion)
{
    CM__ENTRY();
    return wait_fence(pool, fence, timeout_ns, completion);
}

cm_status_t cm_dma_fence_poll(cm_handle_t pool, cm_dma_fence_t fence,
                              cm_dma_completion_t *completion)
{
    CM__ENTRY();
    cm_status_t st = wait_fence(pool, fence, 0, completion);
    return st == CM_ERR_TIMED_OUT ? CM_ERR_SHOULD_WAIT : st;
}

/* ---- host extras ---- */

uint32_t cm_host_dma_quarantined(void)
{
    return atomic_load(&q_buffers);
}

/* Sleeps on g_cond, which quarantine_end broadcasts when it frees a pool:
 * one sleep per event, to the deadline. A parked pool (no thread) is
 * reaped here, on its own eventfd, to the same deadline. */
cm_status_t cm_host_dma_quarantine_wait(int64_t timeout_ns)
{
    CM__ENTRY();
    uint64_t deadline;
    cm_status_t st = cm__deadline_from_timeout(now_ns(), timeout_ns, &deadline);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&g_lock);
    while (q_pools > 0) {
        if (cm__deadline_passed(deadline, now_ns())) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        atomic_fetch_add(&cm__dma_quarantine_sleeps, 1);
        struct dma_pool *p = unpark_one();
        if (p == NULL) {
            if ((st = cond_wait_until(&g_cond, &g_lock, deadline)) != CM_OK)
                break;
            continue;
        }
        pthread_mutex_unlock(&g_lock);
        st = quarantine_reap(p, deadline);
        if (st == CM_OK)
            quarantine_end(p);
        else
            park(p);
        pthread_mutex_lock(&g_lock);
        if (st != CM_OK)
            break;
    }
    pthread_mutex_unlock(&g_lock);
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

cm_status_t cm__dma_wait_posted(cm_handle_t pool, int64_t timeout_ns)
{
    struct dma_pool *p;
    uint64_t deadline;
    cm_status_t st = cm__deadline_from_timeout(now_ns(), timeout_ns, &deadline);
    if (st != CM_OK || (st = get_pool(pool, 0, &p)) != CM_OK)
        return st;
    /* The ring fd polls readable while its completion queue is not empty. */
    struct pollfd pfd = { p->ring.ring_fd, POLLIN, 0 };
    int r;
    do {
        r = poll(&pfd, 1, cm__deadline_poll_ms(deadline, now_ns(), INT_MAX));
    } while (r < 0 && errno == EINTR);
    put_pool(p);
    return r == 1 ? CM_OK : r == 0 ? CM_ERR_TIMED_OUT : status_from_errno(errno);
}

uint32_t cm__dma_registered_buffers(void)
{
    return atomic_load(&registered_buffers);
}
