/* SPDX-License-Identifier: MIT */
/* Device MMIO windows (CM_OBJ_MMIO): kernel/include/kmmio.h, docs/mmio.md.
 *
 * The window list is fixed: QEMU virt's eight virtio-mmio transports
 * (memlayout.h). Each window object is static and immortal (the kernel
 * holds one reference), so a handle never outlives what it names; user
 * access goes only through a binding, and every binding ends in a device
 * reset before any memory the device could still reach is freed. */
#include "kmmio.h"

#include <string.h>

#include "account.h"
#include "console.h"
#include "frame.h"
#include "kdma.h"
#include "khandle.h"
#include "memlayout.h"
#include "proc.h"
#include "riscv.h"
#include "usercopy.h"

/* Rights of the handles init gets: map and use, pass on. */
#define KMMIO_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | \
                      CM_RIGHT_TRANSFER)

/* virtio-mmio Status register (virtio 1.x, 4.2.2): writing 0 resets. */
#define VIRTIO_MMIO_STATUS 0x070u
/* Reads of Status after the reset write before the kernel gives up on the
 * device (QEMU resets synchronously: the first read is 0). */
#define KMMIO_RESET_POLLS 1000000u

/* Interval tags of device mappings: distinct per window and entry so that
 * adjacent reservations never merge (interval.h I4). */
#define TAG_BASE 0x10000u
#define TAG_MAP(slot, i)  (TAG_BASE + (slot) * 64u + (i))
#define TAG_QUEUE(slot, i) (TAG_BASE + (slot) * 64u + 32u + (i))

static struct kmmio windows[VIRTIO_MMIO_SLOTS];
static int revoke_pending;

void kmmio_init(void)
{
    for (uint32_t i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
        struct kmmio *m = &windows[i];
        memset(m, 0, sizeof(*m));
        kobj_init(&m->obj, CM_OBJ_MMIO, 0);
        m->base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE;
        m->length = VIRTIO_MMIO_STRIDE;
        m->slot = i;
        m->irq = VIRTIO_MMIO_IRQ0 + i;
        m->kind = CM_MMIO_KIND_VIRTIO;
        m->allowed = CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE;
    }
}

void kmmio_give_to_init(struct proc *init)
{
    cmk_startup_t su = { CMK_ROLE_MAIN, VIRTIO_MMIO_SLOTS, { 0 } };
    _Static_assert(VIRTIO_MMIO_SLOTS <= CMK_SPAWN_MAX_HANDLES, "init's start-up block");
    for (uint32_t i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
        kobj_ref(&windows[i].obj);
        if (handle_install(init, &windows[i].obj, KMMIO_RIGHTS, &su.handles[i]) != CM_OK)
            panic("kmmio: cannot give init its windows");
    }
    if (as_fill(&init->as, init->tf.regs[REG_A0 + 2], &su, sizeof(su)) != CM_OK)
        panic("kmmio: init's start-up block");
}

cm_status_t kmmio_get(struct proc *p, uint64_t h, cm_rights_t need, struct kmmio **out)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_MMIO, need, &o, 0);
    if (st == CM_OK)
        *out = (struct kmmio *)o;
    return st;
}

cm_status_t kmmio_bind(struct kmmio *m, struct proc *p)
{
    if (m->owner != 0 && m->owner != p)
        return CM_ERR_BAD_STATE;
    m->owner = p;
    return CM_OK;
}

static volatile uint32_t *reg(const struct kmmio *m, uint32_t off)
{
    return (volatile uint32_t *)(m->base + off);
}

/* Device reset: 1 once Status reads back 0. */
static int reset_device(struct kmmio *m)
{
    *reg(m, VIRTIO_MMIO_STATUS) = 0;
    for (uint32_t i = 0; i < KMMIO_RESET_POLLS; i++) {
        if (*reg(m, VIRTIO_MMIO_STATUS) == 0)
            return 1;
    }
    return 0;
}

static void quiesce(struct kmmio *m)
{
    struct proc *p = m->owner;
    /* The CPU side first: nothing of the device stays mapped in p. */
    for (uint32_t i = 0; i < CM_MMIO_MAX_MAPPINGS; i++) {
        if (m->maps[i].npages != 0)
            as_unmap_dev(&p->as, m->maps[i].va, m->maps[i].npages);
        m->maps[i] = (struct kmmio_map){ 0, 0 };
    }
    for (uint32_t i = 0; i < CMK_MMIO_MAX_QUEUE_PAGES; i++) {
        if (m->qruns[i].npages != 0)
            as_unmap_dev(&p->as, m->qruns[i].va, m->qruns[i].npages);
        m->qruns[i] = (struct kmmio_qrun){ 0, 0, 0 };
    }
    /* Then the device: after the reset it no longer reads or writes any
     * queue or buffer, so their frames may go back. A device that does
     * not reset keeps them forever (never reused while it may DMA). */
    int stopped = reset_device(m);
    m->quiesces++;
    if (!stopped)
        kprintf("kmmio: slot %u did not reset; its %u queue frames and DMA buffers stay "
                "quarantined\n", m->slot, m->nqframes);
    if (stopped) {
        for (uint32_t i = 0; i < m->nqframes; i++)
            frame_free(m->qframes[i]);
        if (m->nqframes > 0)
            kacct_uncharge_frames(m->qacct, m->nqframes);
    }
    m->nqframes = 0;
    m->qacct = 0;
    if (m->dev != 0)
        kdma_device_quiesced(m->dev, stopped);
    m->dev = 0;
    m->owner = 0;
}

void kmmio_proc_exit(struct proc *p)
{
    for (uint32_t i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
        if (windows[i].owner == p)
            quiesce(&windows[i]);
    }
}

void kmmio_handle_dropped(void)
{
    revoke_pending = 1;
}

static int holds(const struct proc *q, const struct kobj *o)
{
    for (uint32_t i = 0; i < CM_MAX_HANDLES; i++) {
        const struct cm_htab_entry *e = &q->hentries[i];
        if (e->object == o && e->type != CM_OBJ_NONE)
            return 1;
    }
    return 0;
}

void kmmio_revoke(void)
{
    if (!revoke_pending)
        return;
    revoke_pending = 0;
    for (uint32_t i = 0; i < VIRTIO_MMIO_SLOTS; i++) {
        struct kmmio *m = &windows[i];
        if (m->owner != 0 && !holds(m->owner, &m->obj))
            quiesce(m);
    }
}

void kmmio_destroy(struct kobj *o)
{
    panic("kmmio: window object %lu lost its kernel reference", (unsigned long)o->id);
}

/* (h, *cm_mmio_info_t) */
int64_t sys_mmio_get_info(struct proc *p, const uint64_t *a)
{
    if (a[1] == 0 || !user_range_ok(p, a[1], sizeof(cm_mmio_info_t), 1))
        return CM_ERR_INVALID_ARGS;
    struct kmmio *m;
    cm_status_t st = kmmio_get(p, a[0], 0, &m);
    if (st != CM_OK)
        return st;
    cm_mmio_info_t info = { m->base, m->length, m->kind, m->allowed, m->irq, m->slot };
    return copyout(p, a[1], &info, sizeof(info));
}

/* (h, offset, length, flags, *addr) */
int64_t sys_mmio_map(struct proc *p, const uint64_t *a)
{
    uint64_t off = a[1], len = a[2], flags = a[3], out = a[4];
    const uint64_t known = CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE | CM_MMIO_MAP_EXEC;
    if (out == 0 || !user_range_ok(p, out, sizeof(uint64_t), 1) || (flags & ~known) != 0 ||
        (flags & CM_MMIO_MAP_READ) == 0 || len == 0 || off % PGSIZE != 0 || len % PGSIZE != 0)
        return CM_ERR_INVALID_ARGS;
    struct kmmio *m;
    cm_status_t st = kmmio_get(p, a[0], CM_RIGHT_MAP, &m);
    if (st != CM_OK)
        return st;
    if ((flags & CM_MMIO_MAP_EXEC) != 0)
        return CM_ERR_ACCESS_DENIED; /* device memory is never executable */
    cm_rights_t need = CM_RIGHT_MAP | CM_RIGHT_READ |
                       ((flags & CM_MMIO_MAP_WRITE) != 0 ? CM_RIGHT_WRITE : 0);
    if ((st = kmmio_get(p, a[0], need, &m)) != CM_OK)
        return st;
    if ((flags & ~(uint64_t)m->allowed) != 0)
        return CM_ERR_ACCESS_DENIED;
    if (off > m->length || len > m->length - off)
        return CM_ERR_OUT_OF_RANGE;
    uint32_t slot = CM_MMIO_MAX_MAPPINGS;
    for (uint32_t i = 0; i < CM_MMIO_MAX_MAPPINGS && slot == CM_MMIO_MAX_MAPPINGS; i++)
        if (m->maps[i].npages == 0)
            slot = i;
    if (m->owner != 0 && m->owner != p)
        return CM_ERR_BAD_STATE;
    if (slot == CM_MMIO_MAX_MAPPINGS)
        return CM_ERR_NO_RESOURCES;
    uint64_t va;
    st = as_map_dev(&p->as, m->base + off, 0, len / PGSIZE, (flags & CM_MMIO_MAP_WRITE) != 0,
                    TAG_MAP(m->slot, slot), &va);
    if (st != CM_OK)
        return st;
    kmmio_bind(m, p);
    m->maps[slot] = (struct kmmio_map){ va, len / PGSIZE };
    if (copyout(p, out, &va, sizeof(va)) != CM_OK)
        panic("mmio_map: validated copyout failed");
    return CM_OK;
}

/* (h, addr, length) */
int64_t sys_mmio_unmap(struct proc *p, const uint64_t *a)
{
    struct kmmio *m;
    cm_status_t st = kmmio_get(p, a[0], 0, &m);
    if (st != CM_OK)
        return st;
    if (m->owner != p || a[2] == 0 || a[2] % PGSIZE != 0)
        return CM_ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < CM_MMIO_MAX_MAPPINGS; i++) {
        struct kmmio_map *mp = &m->maps[i];
        if (mp->npages != 0 && mp->va == a[1] && mp->npages == a[2] / PGSIZE) {
            as_unmap_dev(&p->as, mp->va, mp->npages);
            *mp = (struct kmmio_map){ 0, 0 };
            return CM_OK;
        }
    }
    return CM_ERR_INVALID_ARGS;
}

/* (h, pages, *va, *device_addrs[pages]) */
int64_t sys_mmio_queue_alloc(struct proc *p, const uint64_t *a)
{
    uint64_t pages = a[1], va_out = a[2], addrs_out = a[3];
    if (pages == 0 || va_out == 0 || addrs_out == 0 ||
        !user_range_ok(p, va_out, sizeof(uint64_t), 1))
        return CM_ERR_INVALID_ARGS;
    if (pages > CMK_MMIO_MAX_QUEUE_PAGES)
        return CM_ERR_NO_RESOURCES;
    if (!user_range_ok(p, addrs_out, pages * sizeof(uint64_t), 1))
        return CM_ERR_INVALID_ARGS;
    struct kmmio *m;
    cm_status_t st = kmmio_get(p, a[0], CM_RIGHT_MAP | CM_RIGHT_READ | CM_RIGHT_WRITE, &m);
    if (st != CM_OK)
        return st;
    if (m->owner != 0 && m->owner != p)
        return CM_ERR_BAD_STATE;
    if (pages > CMK_MMIO_MAX_QUEUE_PAGES - m->nqframes)
        return CM_ERR_NO_RESOURCES;
    uint32_t run = CMK_MMIO_MAX_QUEUE_PAGES;
    for (uint32_t i = 0; i < CMK_MMIO_MAX_QUEUE_PAGES && run == CMK_MMIO_MAX_QUEUE_PAGES; i++)
        if (m->qruns[i].npages == 0)
            run = i;
    if (run == CMK_MMIO_MAX_QUEUE_PAGES)
        return CM_ERR_NO_RESOURCES; /* cannot happen: a run has >= 1 page */
    if (m->qacct != 0 && m->qacct != p->acct)
        return CM_ERR_BAD_STATE;
    if ((st = kacct_charge_frames(p->acct, pages)) != CM_OK)
        return st;
    uint64_t frames[CMK_MMIO_MAX_QUEUE_PAGES];
    for (uint64_t i = 0; i < pages; i++) {
        frames[i] = frame_alloc(); /* zeroed */
        if (frames[i] == 0)
            panic("mmio_queue_alloc: charged frame missing");
    }
    uint64_t va;
    st = as_map_dev(&p->as, 0, frames, pages, 1, TAG_QUEUE(m->slot, run), &va);
    if (st != CM_OK) {
        for (uint64_t i = 0; i < pages; i++)
            frame_free(frames[i]);
        kacct_uncharge_frames(p->acct, pages);
        return st;
    }
    kmmio_bind(m, p);
    m->qacct = p->acct;
    m->qruns[run] = (struct kmmio_qrun){ va, m->nqframes, (uint32_t)pages };
    for (uint64_t i = 0; i < pages; i++)
        m->qframes[m->nqframes + i] = frames[i];
    m->nqframes += (uint32_t)pages;
    /* Device addresses are physical: no IOMMU on QEMU virt (docs/mmio.md). */
    if (copyout(p, va_out, &va, sizeof(va)) != CM_OK ||
        copyout(p, addrs_out, frames, pages * sizeof(uint64_t)) != CM_OK)
        panic("mmio_queue_alloc: validated copyout failed");
    return CM_OK;
}
