/* SPDX-License-Identifier: MIT */
/* DMA pools on the kernel target (include/capmem/dma.h; CM_OBJ_DMA_POOL).
 *
 * The ownership rules are core/dma_own's (the host's state machine) and
 * the argument rules core/dma_rules'. What is the kernel's own:
 * - memory: one pinned kernel VMO per slot (vmo_make), charged VMOS and
 *   COMMIT like any VMO, plus CM_LEDGER_PINS for the pool's pages;
 * - CPU access: a buffer is mapped into its owner (cm_dma_buffer_map) only
 *   while CPU-owned; submit, release and detach remove the mapping first,
 *   so a kept pointer faults (CM_DMA_INFO_CPU_GUARD always holds here);
 * - the device: a DMA device a driver registered (kernel/object/
 *   dma_device.c); submit queues a request holding a reference on the
 *   buffer's VMO, so frames the device may touch outlive the pool;
 * - scrub: release zeroes the frames before the slot is FREE again. */
#include "kdma.h"

#include <string.h>

#include "account.h"
#include "as.h"
#include "console.h"
#include "dma_rules.h"
#include "khandle.h"
#include "objwait.h"
#include "proc.h"
#include "riscv.h"
#include "usercopy.h"
#include "vmo.h"

struct kdma_pool {
    struct kobj obj;
    struct kacct *acct;
    cm_dma_pool_config_t cfg;
    struct cm_dma_own own;
    struct cm_dma_slot slots[CM_DMA_MAX_BUFFERS];
    struct vmo *bufs[CM_DMA_MAX_BUFFERS];
    struct ksbuf_map maps[CM_DMA_MAX_BUFFERS]; /* the owner's CPU mapping */
    struct kdma_dev *dev;   /* one reference while attached */
    uint32_t attach_flags;
    uint64_t pins;          /* pages charged CM_LEDGER_PINS */
};

static struct kdma_pool pools[CMK_DMA_MAX_POOLS];

static uint64_t pool_pages(const struct kdma_pool *pl)
{
    return pl->cfg.buffer_size / CM_PAGE_SIZE;
}

static cm_status_t get_pool(struct proc *p, uint64_t h, cm_rights_t need, struct kdma_pool **out)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_DMA_POOL, need, &o, 0);
    if (st == CM_OK)
        *out = (struct kdma_pool *)o;
    return st;
}

/* The pool behind handle h, with rights `need`, and the slot of `buffer`,
 * which must be CPU-owned by the caller's pool (core/dma_own rules). */
static cm_status_t get_cpu_buffer(struct proc *p, uint64_t h, cm_rights_t need, uint64_t buffer,
                                  struct kdma_pool **pl, uint32_t *slot)
{
    cm_status_t st = get_pool(p, h, need, pl);
    return st != CM_OK ? st : cm__dma_own_check_cpu(&(*pl)->own, buffer, slot);
}

static int out_ok(struct proc *p, uint64_t uva, uint64_t len)
{
    return uva != 0 && user_range_ok(p, uva, len, 1);
}

/* The owner's mapping of slot i, if it still exists (the owner may have
 * unmapped it with cm_vmo_unmap, or be gone). */
static void unmap_slot(struct kdma_pool *pl, uint32_t i)
{
    ksbuf_unmap(&pl->maps[i]);
}

/* Whether slot i's recorded CPU mapping is live in p (not unmapped by
 * the owner, nor something else mapped at that address since). */
static int mapped_in(struct kdma_pool *pl, uint32_t i, struct proc *p)
{
    const struct ksbuf_map *m = &pl->maps[i];
    const struct mapping *found;
    return m->pid == p->pid && (found = as_find_mapping(&p->as, m->va, m->len)) != 0 &&
           found->vmo == pl->bufs[i];
}

static void zero_vmo(struct vmo *v)
{
    for (uint64_t i = 0; i < v->npages; i++)
        memset((void *)vmo_page(v, i), 0, CM_PAGE_SIZE);
}

void kdma_pool_destroy(struct kobj *o)
{
    struct kdma_pool *pl = (struct kdma_pool *)o;
    uint64_t orphaned = 0;
    for (uint32_t i = 0; i < pl->cfg.buffer_count; i++) {
        unmap_slot(pl, i);
        if (pl->slots[i].state == CM_DMA_IN_FLIGHT)
            orphaned++;
    }
    /* Buffers the device holds: their requests keep the frames (a VMO
     * reference each) and take over their PINS until completed. */
    if (pl->dev != 0 && orphaned > 0)
        kdma_device_orphan(pl->dev, pl, pl->acct, pool_pages(pl));
    if (pl->own.slots != 0)
        cm__dma_own_abandon_all(&pl->own);
    for (uint32_t i = 0; i < CM_DMA_MAX_BUFFERS; i++) {
        if (pl->bufs[i] != 0)
            kobj_unref(&pl->bufs[i]->obj);
        pl->bufs[i] = 0;
    }
    if (pl->pins > orphaned * pool_pages(pl))
        kacct_uncharge(pl->acct, CM_LEDGER_PINS, pl->pins - orphaned * pool_pages(pl));
    pl->pins = 0;
    if (pl->dev != 0)
        kobj_unref(&pl->dev->obj);
    pl->dev = 0;
    pl->own.slots = 0;
}

void kdma_pool_completed(struct kdma_pool *pl, uint64_t fence, cm_status_t status,
                         uint32_t bytes)
{
    uint32_t slot, action;
    (void)cm__dma_own_complete(&pl->own, fence, status, bytes, &slot, &action);
    wakeup(pl);
    object_signals_changed();
}

/* (*config, *out) */
int64_t sys_dma_pool_create(struct proc *p, const uint64_t *a)
{
    cm_dma_pool_config_t cfg;
    if (a[0] == 0 || copyin(p, &cfg, a[0], sizeof(cfg)) != CM_OK ||
        !out_ok(p, a[1], sizeof(cm_handle_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__dma_config_check(&cfg);
    if (st != CM_OK)
        return st;
    if (handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    /* The kernel's table is carved (CM_LEDGER_DMA_POOLS): this process's
     * share first, so no process can take the pools another one needs.
     * kobj_reap releases the charge with the object, once. */
    if ((st = kobj_charge(p->acct, CM_OBJ_DMA_POOL)) != CM_OK)
        return st;
    struct kdma_pool *pl = 0;
    for (uint32_t i = 0; i < CMK_DMA_MAX_POOLS && pl == 0; i++)
        if (pools[i].obj.type == CM_OBJ_NONE)
            pl = &pools[i];
    if (pl == 0)
        panic("dma_pool_create: table full despite the carved DMA_POOLS budget");
    uint64_t pages = (uint64_t)cfg.buffer_count * (cfg.buffer_size / CM_PAGE_SIZE);
    if ((st = kacct_charge(p->acct, CM_LEDGER_PINS, pages)) != CM_OK) {
        kobj_uncharge(p->acct, CM_OBJ_DMA_POOL);
        return st;
    }
    memset(pl, 0, sizeof(*pl));
    kobj_init(&pl->obj, CM_OBJ_DMA_POOL, p->acct);
    pl->acct = p->acct;
    pl->cfg = cfg;
    pl->pins = pages;
    /* From here a failure drops the object: kdma_pool_destroy undoes what
     * was made (at the next reap). */
    for (uint32_t i = 0; i < cfg.buffer_count && st == CM_OK; i++)
        st = vmo_make(cfg.buffer_size, p->acct, &pl->bufs[i]);
    static uint32_t seed = 0x9e3779b9u;
    seed = seed * 1664525u + 1013904223u + (uint32_t)pl->obj.id;
    if (st == CM_OK)
        st = cm__dma_own_init(&pl->own, pl->slots, cfg.buffer_count, cfg.max_in_flight, seed);
    if (st == CM_OK && handle_publish(p, &pl->obj, CM_DMA_POOL_DEFAULT_RIGHTS, a[1], 0) != CM_OK)
        st = CM_ERR_PUBLISH_FAILED;
    if (st != CM_OK)
        kobj_unref(&pl->obj);
    return st;
}

/* (pool, name, flags) */
int64_t sys_dma_pool_attach(struct proc *p, const uint64_t *a)
{
    char name[CMK_DMA_MAX_NAME];
    if (a[1] == 0 || a[2] > UINT32_MAX || !cm__dma_attach_flags_ok((uint32_t)a[2]))
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    cm_status_t st = get_pool(p, a[0], CM_RIGHT_SIGNAL, &pl);
    if (st != CM_OK)
        return st;
    if (copyin_str(p, name, a[1], sizeof(name)) != CM_OK)
        return user_range_ok(p, a[1], sizeof(name), 0) ? CM_ERR_NOT_FOUND : CM_ERR_INVALID_ARGS;
    if (pl->dev != 0)
        return CM_ERR_BAD_STATE;
    struct kdma_dev *d = kdma_device_find(name);
    if (d == 0)
        return CM_ERR_NOT_FOUND;
    if (((uint32_t)a[2] & ~d->flags) != 0)
        return CM_ERR_ACCESS_DENIED; /* the driver does not allow that direction */
    kobj_ref(&d->obj);
    pl->dev = d;
    pl->attach_flags = (uint32_t)a[2];
    return CM_OK;
}

/* (pool, *info) */
int64_t sys_dma_pool_get_info(struct proc *p, const uint64_t *a)
{
    if (!out_ok(p, a[1], sizeof(cm_dma_pool_info_t)))
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    cm_status_t st = get_pool(p, a[0], 0, &pl);
    if (st != CM_OK)
        return st;
    cm_dma_pool_info_t info;
    memset(&info, 0, sizeof(info));
    info.buffer_count = pl->cfg.buffer_count;
    info.buffer_size = pl->cfg.buffer_size;
    info.max_in_flight = pl->cfg.max_in_flight;
    info.free = pl->own.free;
    info.in_flight = pl->own.device_held;
    info.quarantined = pl->own.quarantined;
    info.flags = CM_DMA_INFO_CPU_GUARD;
    if (pl->dev != 0) {
        info.device_block_size = pl->dev->block_size;
        info.device_size = pl->dev->device_size;
        info.flags |= CM_DMA_INFO_DEVICE | CM_DMA_INFO_DIRECT |
                      ((pl->attach_flags & CM_DMA_ATTACH_READ) ? CM_DMA_INFO_DEV_READ : 0) |
                      ((pl->attach_flags & CM_DMA_ATTACH_WRITE) ? CM_DMA_INFO_DEV_WRITE : 0);
    }
    info.dropped_completions = pl->own.dropped;
    return copyout(p, a[1], &info, sizeof(info));
}

/* (pool, *buffer) */
int64_t sys_dma_buffer_acquire(struct proc *p, const uint64_t *a)
{
    if (!out_ok(p, a[1], sizeof(uint64_t)))
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    cm_status_t st = get_pool(p, a[0], CM_RIGHT_WRITE, &pl);
    if (st != CM_OK)
        return st;
    uint64_t id;
    uint32_t slot;
    if ((st = cm__dma_own_acquire(&pl->own, &id, &slot)) != CM_OK)
        return st;
    return copyout(p, a[1], &id, sizeof(id));
}

/* (pool, buffer, *addr, *size) */
int64_t sys_dma_buffer_map(struct proc *p, const uint64_t *a)
{
    if (!out_ok(p, a[2], sizeof(uint64_t)) ||
        (a[3] != 0 && !out_ok(p, a[3], sizeof(uint32_t))))
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    uint32_t slot;
    cm_status_t st = get_cpu_buffer(p, a[0], CM_RIGHT_READ | CM_RIGHT_WRITE, a[1], &pl, &slot);
    if (st != CM_OK)
        return st;
    struct ksbuf_map *m = &pl->maps[slot];
    if (!mapped_in(pl, slot, p)) {
        unmap_slot(pl, slot);
        if ((st = ksbuf_map(p, pl->bufs[slot], pl->cfg.buffer_size, 1, m)) != CM_OK)
            return st;
    }
    uint32_t size = pl->cfg.buffer_size;
    if (copyout(p, a[2], &m->va, sizeof(m->va)) != CM_OK ||
        (a[3] != 0 && copyout(p, a[3], &size, sizeof(size)) != CM_OK))
        panic("dma_buffer_map: validated copyout failed");
    return CM_OK;
}

/* (pool, buffer, offset, buf, len, write) */
int64_t sys_dma_buffer_rw(struct proc *p, const uint64_t *a)
{
    int write = a[5] != 0;
    uint64_t off = a[2], uva = a[3], len = a[4];
    if ((uva == 0 && len > 0) || off > UINT32_MAX || len > UINT32_MAX)
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    uint32_t slot;
    cm_status_t st =
        get_cpu_buffer(p, a[0], write ? CM_RIGHT_WRITE : CM_RIGHT_READ, a[1], &pl, &slot);
    if (st != CM_OK)
        return st;
    if (len > pl->cfg.buffer_size || off > pl->cfg.buffer_size - len)
        return CM_ERR_OUT_OF_RANGE;
    /* The whole user range first: a bad page halfway must not leave the
     * buffer (or the caller's memory) half-copied. */
    if (!user_range_ok(p, uva, len, !write))
        return CM_ERR_INVALID_ARGS;
    struct vmo *v = pl->bufs[slot];
    while (len > 0) {
        uint64_t piece = CM_PAGE_SIZE - off % CM_PAGE_SIZE;
        if (piece > len)
            piece = len;
        void *k = vmo_kptr(v, off);
        st = write ? copyin(p, k, uva, piece) : copyout(p, uva, k, piece);
        if (st != CM_OK)
            return CM_ERR_INVALID_ARGS;
        off += piece;
        uva += piece;
        len -= piece;
    }
    return CM_OK;
}

/* (pool, buffer, *op, *fence) */
int64_t sys_dma_submit(struct proc *p, const uint64_t *a)
{
    cm_dma_op_t op;
    if (a[2] == 0 || copyin(p, &op, a[2], sizeof(op)) != CM_OK ||
        !out_ok(p, a[3], sizeof(uint64_t)))
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    cm_status_t st = get_pool(p, a[0], CM_RIGHT_SIGNAL, &pl);
    if (st != CM_OK)
        return st;
    uint32_t slot;
    uint64_t fence;
    if (cm__dma_own_buffer(&pl->own, a[1], &slot) == CM_OK && mapped_in(pl, slot, p) &&
        cm__dma_out_in_buffer(a[3], sizeof(fence), pl->maps[slot].va, pl->maps[slot].len))
        return CM_ERR_INVALID_ARGS;
    if (pl->dev == 0)
        return CM_ERR_BAD_STATE;
    if ((st = cm__dma_own_submit_check(&pl->own, a[1], &slot, &fence)) != CM_OK ||
        (st = cm__dma_op_check(pl->cfg.buffer_size, pl->dev->block_size, &op)) != CM_OK)
        return st;
    uint32_t need = op.kind == CM_DMA_OP_READ ? CM_DMA_ATTACH_READ : CM_DMA_ATTACH_WRITE;
    if ((pl->attach_flags & need) == 0)
        return CM_ERR_ACCESS_DENIED;
    if (op.device_offset > pl->dev->device_size ||
        op.length > pl->dev->device_size - op.device_offset)
        return CM_ERR_OUT_OF_RANGE;
    if (pl->dev->mmio == 0)
        return CM_ERR_IO; /* the driver is gone */
    if (pl->dev->queued >= CMK_DMA_DEVICE_MAX_REQUESTS)
        return CM_ERR_NO_RESOURCES;
    /* The fence goes out before the commit changes the address space (the
     * rule above keeps *fence out of the buffer the commit unmaps; this
     * order keeps any failure typed, with nothing changed). */
    if (copyout(p, a[3], &fence, sizeof(fence)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    /* Commit. The CPU loses the buffer before the device can see it. */
    unmap_slot(pl, slot);
    uint64_t committed;
    if (cm__dma_own_submit(&pl->own, a[1], &slot, &committed) != CM_OK || committed != fence ||
        kdma_device_queue(pl->dev, pl, slot, fence, pl->bufs[slot], &op) != CM_OK)
        panic("dma_submit: validated submit failed");
    return CM_OK;
}

/* (pool, fence, timeout_ns, *completion, poll) */
int64_t sys_dma_fence_wait(struct proc *p, const uint64_t *a)
{
    uint64_t deadline;
    if (!out_ok(p, a[3], sizeof(cm_dma_completion_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = sleep_deadline((int64_t)a[2], &deadline);
    struct kdma_pool *pl;
    if (st == CM_OK)
        st = get_pool(p, a[0], CM_RIGHT_SIGNAL, &pl);
    if (st != CM_OK)
        return st;
    for (;;) {
        uint32_t slot, bytes;
        uint64_t buffer;
        cm_status_t result;
        /* Probed again after every sleep, before the completion is taken:
         * the page can vanish meanwhile (another process DECOMMITs the VMO
         * under it and no frame can be had again). Then INVALID_ARGS with
         * the completion kept; nothing runs between this probe and the copy. */
        if (!out_ok(p, a[3], sizeof(cm_dma_completion_t)))
            return CM_ERR_INVALID_ARGS;
        st = cm__dma_own_wait(&pl->own, a[1], &slot, &buffer, &result, &bytes);
        if (st == CM_OK) {
            cm_dma_completion_t c = { buffer, result, bytes };
            if (copyout(p, a[3], &c, sizeof(c)) != CM_OK)
                panic("dma_fence_wait: validated copyout failed");
            return CM_OK;
        }
        if (st != CM_ERR_SHOULD_WAIT)
            return st;
        if (a[4] != 0)
            return CM_ERR_SHOULD_WAIT;
        if (sleep_deadline_passed(deadline) || (int64_t)a[2] == 0)
            return CM_ERR_TIMED_OUT;
        sleep_on(pl, deadline);
    }
}

/* (pool, buffer) */
int64_t sys_dma_buffer_release(struct proc *p, const uint64_t *a)
{
    struct kdma_pool *pl;
    uint32_t slot;
    cm_status_t st = get_cpu_buffer(p, a[0], CM_RIGHT_WRITE, a[1], &pl, &slot);
    if (st != CM_OK)
        return st;
    unmap_slot(pl, slot);
    zero_vmo(pl->bufs[slot]);
    if (cm__dma_own_release(&pl->own, a[1], &slot) != CM_OK ||
        cm__dma_own_scrubbed(&pl->own, slot) != CM_OK)
        panic("dma_release: validated release failed");
    return CM_OK;
}

/* (pool, buffer, *vmo) */
int64_t sys_dma_buffer_detach_vmo(struct proc *p, const uint64_t *a)
{
    if (!out_ok(p, a[2], sizeof(cm_handle_t)))
        return CM_ERR_INVALID_ARGS;
    struct kdma_pool *pl;
    uint32_t slot;
    cm_status_t st = get_cpu_buffer(p, a[0], CM_RIGHT_READ | CM_RIGHT_WRITE, a[1], &pl, &slot);
    if (st != CM_OK)
        return st;
    if (handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    struct vmo *fresh;
    if ((st = vmo_make(pl->cfg.buffer_size, pl->acct, &fresh)) != CM_OK)
        return st;
    struct vmo *old = pl->bufs[slot];
    /* The published VMO is an ordinary one: its frames, no copy. */
    old->pinned = 0;
    if (handle_publish(p, &old->obj, CM_VMO_DEFAULT_RIGHTS, a[2], 0) != CM_OK) {
        old->pinned = 1;
        kobj_unref(&fresh->obj);
        return CM_ERR_PUBLISH_FAILED;
    }
    /* Published (the pool's reference went to the handle). */
    unmap_slot(pl, slot);
    pl->bufs[slot] = fresh;
    if (cm__dma_own_detach(&pl->own, a[1], &slot) != CM_OK)
        panic("dma_detach: validated detach failed");
    return CM_OK;
}
