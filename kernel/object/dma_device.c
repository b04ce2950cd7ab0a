/* SPDX-License-Identifier: MIT */
/* DMA devices (CM_OBJ_DMA_DEVICE): the registry drivers put their device
 * in, and the request queue between pools and the driver. kernel/include/
 * kdma.h; docs/mmio.md "DMA devices".
 *
 * References on a device: its driver's handles, one for being registered
 * (dropped at quiesce) and one per attached pool. A device is registered
 * exactly while its MMIO window is bound to the driver: quiesce fails every
 * outstanding request with IO and unregisters it, so a request never waits
 * for a driver that is gone. */
#include "kdma.h"

#include <string.h>

#include "account.h"
#include "console.h"
#include "dma_rules.h"
#include "khandle.h"
#include "kmmio.h"
#include "objwait.h"
#include "proc.h"
#include "riscv.h"
#include "usercopy.h"
#include "vmo.h"

#define KDMA_DEVICE_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_SIGNAL | CM_RIGHT_DUPLICATE)

static struct kdma_dev devs[CMK_DMA_MAX_DEVICES];

struct kdma_dev *kdma_device_find(const char *name)
{
    for (uint32_t i = 0; i < CMK_DMA_MAX_DEVICES; i++) {
        if (devs[i].obj.type == CM_OBJ_DMA_DEVICE && devs[i].mmio != 0 &&
            strcmp(devs[i].name, name) == 0)
            return &devs[i];
    }
    return 0;
}

cm_signals_t kdma_device_signals(const struct kdma_dev *d)
{
    for (uint32_t i = 0; i < CMK_DMA_DEVICE_MAX_REQUESTS; i++) {
        if (d->reqs[i].id != 0 && !d->reqs[i].delivered)
            return CM_SIGNAL_READABLE;
    }
    return d->mmio == 0 ? CM_SIGNAL_PEER_CLOSED : 0;
}

cm_status_t kdma_device_queue(struct kdma_dev *d, struct kdma_pool *pl, uint32_t slot,
                              uint64_t fence, struct vmo *buf, const cm_dma_op_t *op)
{
    if (d->mmio == 0)
        return CM_ERR_IO; /* its driver is gone */
    struct kdma_req *r = 0;
    uint32_t idx = 0;
    for (; idx < CMK_DMA_DEVICE_MAX_REQUESTS; idx++) {
        if (d->reqs[idx].id == 0) {
            r = &d->reqs[idx];
            break;
        }
    }
    if (r == 0)
        return CM_ERR_NO_RESOURCES;
    if (++d->gen == 0)
        d->gen = 1;
    *r = (struct kdma_req){ 0 };
    r->id = (uint64_t)(idx + 1) | ((uint64_t)d->gen << 32);
    r->kind = op->kind;
    r->length = op->length;
    r->buffer_offset = op->buffer_offset;
    r->device_offset = op->device_offset;
    r->seq = d->next_seq++;
    r->pool = pl;
    r->slot = slot;
    r->fence = fence;
    r->vmo = buf;
    kobj_ref(&buf->obj);
    d->queued++;
    wakeup(d);
    object_signals_changed();
    return CM_OK;
}

/* Ends request r: the pool's fence gets (status, bytes), or, for a pool
 * that died, the quarantined buffer's frames and pins go back. */
static void finish(struct kdma_dev *d, struct kdma_req *r, cm_status_t status, uint32_t bytes)
{
    if (r->pool != 0)
        kdma_pool_completed(r->pool, r->fence, status, bytes);
    if (r->pins != 0)
        kacct_uncharge(r->pins_acct, CM_LEDGER_PINS, r->pins);
    kobj_unref(&r->vmo->obj);
    *r = (struct kdma_req){ 0 };
    d->queued--;
    object_signals_changed();
}

void kdma_device_orphan(struct kdma_dev *d, struct kdma_pool *pl, struct kacct *a,
                        uint64_t pages)
{
    for (uint32_t i = 0; i < CMK_DMA_DEVICE_MAX_REQUESTS; i++) {
        struct kdma_req *r = &d->reqs[i];
        if (r->id != 0 && r->pool == pl) {
            r->pool = 0;
            r->pins_acct = a;
            r->pins = pages;
        }
    }
}

void kdma_device_quiesced(struct kdma_dev *d, int stopped)
{
    for (uint32_t i = 0; i < CMK_DMA_DEVICE_MAX_REQUESTS; i++) {
        struct kdma_req *r = &d->reqs[i];
        if (r->id == 0)
            continue;
        if (stopped) {
            finish(d, r, CM_ERR_IO, 0);
        } else {
            /* The device may still write these frames: they stay out of
             * every reach for good (the VMO reference is never dropped),
             * and the fence never signals. */
            *r = (struct kdma_req){ 0 };
            d->queued--;
        }
    }
    d->mmio = 0;
    wakeup(d);
    object_signals_changed();
    kobj_unref(&d->obj); /* the registry's reference */
}

void kdma_device_destroy(struct kobj *o)
{
    struct kdma_dev *d = (struct kdma_dev *)o;
    if (d->mmio != 0 || d->queued != 0)
        panic("kdma: device %lu destroyed while registered", (unsigned long)o->id);
}

static cm_status_t get_dev(struct proc *p, uint64_t h, cm_rights_t need, struct kdma_dev **d)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_DMA_DEVICE, need, &o, 0);
    if (st == CM_OK)
        *d = (struct kdma_dev *)o;
    return st;
}

static int block_size_ok(uint64_t b)
{
    return b >= 512 && b <= CM_PAGE_SIZE && (b & (b - 1)) == 0;
}

/* (mmio, name, block_size, device_size, flags, *out) */
int64_t sys_dma_device_create(struct proc *p, const uint64_t *a)
{
    char name[CMK_DMA_MAX_NAME];
    uint64_t block = a[2], size = a[3], flags = a[4], out = a[5];
    if (out == 0 || !user_range_ok(p, out, sizeof(cm_handle_t), 1) || !block_size_ok(block) ||
        size == 0 || size % block != 0 || flags > UINT32_MAX ||
        !cm__dma_attach_flags_ok((uint32_t)flags))
        return CM_ERR_INVALID_ARGS;
    if (copyin_str(p, name, a[1], sizeof(name)) != CM_OK)
        return a[1] != 0 && user_range_ok(p, a[1], sizeof(name), 0) ? CM_ERR_OUT_OF_RANGE
                                                                    : CM_ERR_INVALID_ARGS;
    if (name[0] == '\0')
        return CM_ERR_INVALID_ARGS;
    struct kmmio *m;
    cm_status_t st = kmmio_get(p, a[0], CM_RIGHT_MAP | CM_RIGHT_WRITE, &m);
    if (st != CM_OK)
        return st;
    if (m->owner != 0 && m->owner != p)
        return CM_ERR_BAD_STATE;
    if (m->dev != 0)
        return CM_ERR_BAD_STATE; /* one device per window */
    if (kdma_device_find(name) != 0)
        return CM_ERR_ALREADY_EXISTS;
    if (handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    struct kdma_dev *d = 0;
    for (uint32_t i = 0; i < CMK_DMA_MAX_DEVICES && d == 0; i++)
        if (devs[i].obj.type == CM_OBJ_NONE)
            d = &devs[i];
    if (d == 0)
        return CM_ERR_NO_RESOURCES;
    memset(d, 0, sizeof(*d));
    kobj_init(&d->obj, CM_OBJ_DMA_DEVICE, p->acct);
    if (handle_publish(p, &d->obj, KDMA_DEVICE_RIGHTS, out, 0) != CM_OK) {
        kobj_unref(&d->obj);
        return CM_ERR_PUBLISH_FAILED;
    }
    memcpy(d->name, name, sizeof(name));
    d->block_size = (uint32_t)block;
    d->device_size = size;
    d->flags = (uint32_t)flags;
    d->mmio = m;
    kobj_ref(&d->obj); /* registered */
    kmmio_bind(m, p);
    m->dev = d;
    return CM_OK;
}

/* The oldest request not yet handed out, or NULL. */
static struct kdma_req *oldest_new(struct kdma_dev *d)
{
    struct kdma_req *best = 0;
    for (uint32_t i = 0; i < CMK_DMA_DEVICE_MAX_REQUESTS; i++) {
        struct kdma_req *r = &d->reqs[i];
        if (r->id != 0 && !r->delivered && (best == 0 || r->seq < best->seq))
            best = r;
    }
    return best;
}

/* Writes r's header and segments to the driver: the device addresses of
 * exactly the buffer window in flight, page pieces with adjacent frames
 * merged. */
static cm_status_t deliver(struct proc *p, uint64_t uva, const struct kdma_req *r)
{
    cmk_dma_request_t h;
    cmk_dma_segment_t seg = { 0, 0, 0 };
    uint32_t n = 0;
    uint64_t off = r->buffer_offset, end = (uint64_t)r->buffer_offset + r->length;
    uint64_t segs_uva = uva + offsetof(cmk_dma_request_t, segments);
    while (off < end) {
        uint64_t pa = vmo_page(r->vmo, off / CM_PAGE_SIZE) + off % CM_PAGE_SIZE;
        uint64_t piece = CM_PAGE_SIZE - off % CM_PAGE_SIZE;
        if (piece > end - off)
            piece = end - off;
        if (seg.len != 0 && seg.addr + seg.len == pa) {
            seg.len += (uint32_t)piece;
        } else {
            if (seg.len != 0 &&
                copyout(p, segs_uva + n++ * sizeof(seg), &seg, sizeof(seg)) != CM_OK)
                return CM_ERR_INVALID_ARGS;
            seg = (cmk_dma_segment_t){ pa, (uint32_t)piece, 0 };
        }
        off += piece;
    }
    if (copyout(p, segs_uva + n++ * sizeof(seg), &seg, sizeof(seg)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    h.id = r->id;
    h.kind = r->kind;
    h.length = r->length;
    h.device_offset = r->device_offset;
    h.segment_count = n;
    h.reserved = 0;
    return copyout(p, uva, &h, offsetof(cmk_dma_request_t, segments));
}

/* (device, timeout_ns, *req) */
int64_t sys_dma_device_next(struct proc *p, const uint64_t *a)
{
    uint64_t deadline;
    if (a[2] == 0 || !user_range_ok(p, a[2], sizeof(cmk_dma_request_t), 1))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = sleep_deadline((int64_t)a[1], &deadline);
    struct kdma_dev *d;
    if (st == CM_OK)
        st = get_dev(p, a[0], CM_RIGHT_READ, &d);
    if (st != CM_OK)
        return st;
    for (;;) {
        if (d->mmio == 0)
            return CM_ERR_BAD_STATE; /* quiesced: no request will come */
        struct kdma_req *r = oldest_new(d);
        if (r != 0) {
            /* Validated above; the copy cannot fail unless the process
             * unmapped the buffer during a sleep: then it stays queued. */
            if ((st = deliver(p, a[2], r)) != CM_OK)
                return st;
            r->delivered = 1;
            object_signals_changed();
            return CM_OK;
        }
        if ((int64_t)a[1] == 0)
            return CM_ERR_SHOULD_WAIT;
        if (sleep_deadline_passed(deadline))
            return CM_ERR_TIMED_OUT;
        sleep_on(d, deadline);
    }
}

/* (device, id, status, bytes) */
int64_t sys_dma_device_complete(struct proc *p, const uint64_t *a)
{
    struct kdma_dev *d;
    cm_status_t st = get_dev(p, a[0], CM_RIGHT_WRITE, &d);
    if (st != CM_OK)
        return st;
    uint64_t id = a[1], idx = (id & 0xffffu);
    if (idx == 0 || idx > CMK_DMA_DEVICE_MAX_REQUESTS)
        return CM_ERR_BAD_HANDLE;
    struct kdma_req *r = &d->reqs[idx - 1];
    if (r->id == 0 || r->id != id || !r->delivered)
        return CM_ERR_BAD_HANDLE; /* stale, duplicate, never handed out */
    /* A status travels sign-extended (cm_status_t is negative). A value
     * outside int32 is refused, never mapped to a status: mapping it to
     * INVALID_ARGS once made it a status the driver may report, so any
     * 64-bit garbage completed the request. */
    int64_t sv = (int64_t)a[2];
    if (sv < INT32_MIN || sv > INT32_MAX)
        return CM_ERR_INVALID_ARGS;
    int32_t status = (int32_t)sv;
    if ((status != CM_OK && status != CM_ERR_IO && status != CM_ERR_INVALID_ARGS) ||
        a[3] > r->length)
        return CM_ERR_INVALID_ARGS;
    finish(d, r, status, (uint32_t)a[3]);
    return CM_OK;
}
