/* SPDX-License-Identifier: MIT */
/* virtio-blk driver: a user process of the capmem kernel, built only on the
 * MMIO window capability and the DMA device API (docs/virtio-blk.md).
 *
 * Start-up handles: [0] the first service channel (block protocol,
 * vblk_proto.h), [1..] MMIO windows; the driver maps each in turn and keeps
 * the first that is a modern (version 2) virtio block device, closing the
 * others. It negotiates features, sets up queue 0 in queue memory from
 * cmk_mmio_queue_alloc, registers the device as "virtio-blk0"
 * (cmk_dma_device_create) and then serves, in one loop:
 *   - requests of DMA pools attached to "virtio-blk0" (cmk_dma_device_next:
 *     the kernel hands over the device addresses of the buffer window),
 *   - block requests from its service channel (reads answered with sealed
 *     VMOs made of DMA buffers, writes).
 * Completion is by polling the used ring: the kernel has no interrupt
 * capability yet. The driver exits when its service channel's peer closes;
 * the kernel then resets the device (quiesce) before freeing queue memory.
 *
 * Usage: virtio_blk [--stall] [--chain-segs N]
 *   --stall          test-only: take the first device request, start it on
 *                    the device, and then never complete it (the kill test).
 *   --chain-segs N   test-only: no merging of contiguous segments, and at
 *                    most N (1 .. queue size - 2) per chain, so a request
 *                    is split into several chains (the split test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capmem/capmem.h>

#include "cmk.h"
#include "riscv_time.h"
#include "virtq.h"
#include "vblk_proto.h"

/* virtio-mmio registers (virtio 1.x, 4.2.2) */
#define VIRTIO_MMIO_MAGIC          0x000
#define VIRTIO_MMIO_VERSION        0x004
#define VIRTIO_MMIO_DEVICE_ID      0x008
#define VIRTIO_MMIO_DEV_FEATURES   0x010
#define VIRTIO_MMIO_DEV_FEAT_SEL   0x014
#define VIRTIO_MMIO_DRV_FEATURES   0x020
#define VIRTIO_MMIO_DRV_FEAT_SEL   0x024
#define VIRTIO_MMIO_QUEUE_SEL      0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX  0x034
#define VIRTIO_MMIO_QUEUE_NUM      0x038
#define VIRTIO_MMIO_QUEUE_READY    0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY   0x050
#define VIRTIO_MMIO_STATUS         0x070
#define VIRTIO_MMIO_QUEUE_DESC_LO  0x080
#define VIRTIO_MMIO_QUEUE_DESC_HI  0x084
#define VIRTIO_MMIO_QUEUE_DRV_LO   0x090
#define VIRTIO_MMIO_QUEUE_DRV_HI   0x094
#define VIRTIO_MMIO_QUEUE_DEV_LO   0x0a0
#define VIRTIO_MMIO_QUEUE_DEV_HI   0x0a4
#define VIRTIO_MMIO_CONFIG_GEN     0x0fc
#define VIRTIO_MMIO_CONFIG         0x100

#define VIRTIO_MAGIC_VALUE 0x74726976u /* "virt" */
#define VIRTIO_DEVICE_BLOCK 2u

#define VIRTIO_S_ACKNOWLEDGE 1u
#define VIRTIO_S_DRIVER      2u
#define VIRTIO_S_DRIVER_OK   4u
#define VIRTIO_S_FEATURES_OK 8u
#define VIRTIO_S_FAILED      128u

#define VIRTIO_F_VERSION_1_WORD1 (1u << 0) /* feature bit 32 */
#define VIRTIO_BLK_F_RO          (1u << 5)

/* A device that does not finish a request within this long is treated as
 * broken (reset, request failed with IO). */
#define VBLK_IO_TIMEOUT_NS (5ull * 1000 * 1000 * 1000)
#define VBLK_POOL_BUFFERS 2u
#define VBLK_DEVICE_NAME "virtio-blk0"

struct vblk {
    cm_handle_t mmio;
    volatile uint8_t *regs;
    uint64_t regs_len;
    virtq_t q;
    uint64_t capacity; /* bytes */
    int read_only;
    cm_handle_t dev;   /* CM_OBJ_DMA_DEVICE */
    cm_handle_t ch;    /* the service channel */
    cm_handle_t pool;  /* the driver's own pool, for the block service */
    int broken;
    int stall;
    uint32_t chain_segs; /* 0: queue size - 2, with merging */
};

static struct vblk g;
static cmk_dma_request_t g_req;
static virtq_seg_t g_seg[CMK_DMA_MAX_SEGMENTS];
static uint8_t g_msg[CM_CHANNEL_MAX_BYTES];
static cm_handle_t g_handles[CM_CHANNEL_MAX_HANDLES];

static inline void io_fence(void)
{
    __asm__ volatile("fence iorw, iorw" ::: "memory");
}

static uint32_t rd(uint32_t off)
{
    io_fence();
    uint32_t v = *(volatile uint32_t *)(g.regs + off);
    io_fence();
    return v;
}

static void wr(uint32_t off, uint32_t v)
{
    io_fence();
    *(volatile uint32_t *)(g.regs + off) = v;
    io_fence();
}

/* Device reset: write 0 and read it back (virtio 1.x, 4.2.3.1: the device
 * has stopped using the queues once Status reads 0). */
static int device_reset(void)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    for (int i = 0; i < 1000000; i++) {
        if (rd(VIRTIO_MMIO_STATUS) == 0)
            return 0;
    }
    return -1;
}

/* Maps `w` and checks it is a modern virtio block device. */
static int probe(cm_handle_t w)
{
    cm_mmio_info_t info;
    volatile void *p;
    if (cm_mmio_get_info(w, &info) != CM_OK || info.kind != CM_MMIO_KIND_VIRTIO ||
        info.length < VIRTIO_MMIO_CONFIG + 8)
        return -1;
    uint64_t len = CM_PAGE_SIZE; /* registers and config space */
    if (cm_mmio_map(w, 0, len, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE, &p) != CM_OK)
        return -1;
    g.regs = (volatile uint8_t *)p;
    g.regs_len = len;
    if (rd(VIRTIO_MMIO_MAGIC) == VIRTIO_MAGIC_VALUE && rd(VIRTIO_MMIO_VERSION) == 2 &&
        rd(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_DEVICE_BLOCK)
        return 0;
    cm_mmio_unmap(w, p, len);
    g.regs = NULL;
    return -1;
}

static int fail_init(const char *why)
{
    printf("virtio_blk: %s\n", why);
    wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_S_FAILED);
    return -1;
}

/* virtio 1.x, 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK and
 * re-check, queue set-up, DRIVER_OK. */
static int device_init(void)
{
    if (device_reset() != 0)
        return fail_init("device does not reset");
    wr(VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);

    wr(VIRTIO_MMIO_DEV_FEAT_SEL, 0);
    uint32_t f0 = rd(VIRTIO_MMIO_DEV_FEATURES);
    wr(VIRTIO_MMIO_DEV_FEAT_SEL, 1);
    uint32_t f1 = rd(VIRTIO_MMIO_DEV_FEATURES);
    if ((f1 & VIRTIO_F_VERSION_1_WORD1) == 0)
        return fail_init("device does not offer VIRTIO_F_VERSION_1");
    /* Accept VERSION_1 and, if offered, RO (which the driver honours by
     * refusing writes); nothing else: no indirect descriptors, no event
     * index, no multiqueue, no flush. */
    uint32_t want0 = f0 & VIRTIO_BLK_F_RO;
    g.read_only = want0 != 0;
    wr(VIRTIO_MMIO_DRV_FEAT_SEL, 0);
    wr(VIRTIO_MMIO_DRV_FEATURES, want0);
    wr(VIRTIO_MMIO_DRV_FEAT_SEL, 1);
    wr(VIRTIO_MMIO_DRV_FEATURES, VIRTIO_F_VERSION_1_WORD1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
    if ((rd(VIRTIO_MMIO_STATUS) & VIRTIO_S_FEATURES_OK) == 0)
        return fail_init("device refused our features");

    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    if (rd(VIRTIO_MMIO_QUEUE_READY) != 0)
        return fail_init("queue 0 already in use");
    uint32_t max = rd(VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max < 4)
        return fail_init("queue 0 too small or absent");
    uint16_t size = VIRTQ_MAX_SIZE;
    while (size > max)
        size >>= 1;
    void *va;
    uint64_t dev[VIRTQ_PAGES];
    cm_status_t st = cmk_mmio_queue_alloc(g.mmio, VIRTQ_PAGES, &va, dev);
    if (st != CM_OK) {
        printf("virtio_blk: queue memory: %s\n", cm_status_name(st));
        return fail_init("no queue memory");
    }
    void *pages[VIRTQ_PAGES] = { va, (uint8_t *)va + CM_PAGE_SIZE };
    if (virtq_init(&g.q, size, pages, dev) != VIRTQ_OK)
        return fail_init("queue layout");
    wr(VIRTIO_MMIO_QUEUE_NUM, size);
    wr(VIRTIO_MMIO_QUEUE_DESC_LO, (uint32_t)g.q.desc_addr);
    wr(VIRTIO_MMIO_QUEUE_DESC_HI, (uint32_t)(g.q.desc_addr >> 32));
    wr(VIRTIO_MMIO_QUEUE_DRV_LO, (uint32_t)g.q.avail_addr);
    wr(VIRTIO_MMIO_QUEUE_DRV_HI, (uint32_t)(g.q.avail_addr >> 32));
    wr(VIRTIO_MMIO_QUEUE_DEV_LO, (uint32_t)g.q.used_addr);
    wr(VIRTIO_MMIO_QUEUE_DEV_HI, (uint32_t)(g.q.used_addr >> 32));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);

    /* Capacity (512-byte sectors), read under the config generation so a
     * torn 64-bit value is never used. */
    uint64_t sectors = 0;
    int stable = 0;
    for (int tries = 0; tries < 16 && !stable; tries++) {
        uint32_t gen = rd(VIRTIO_MMIO_CONFIG_GEN);
        uint32_t lo = rd(VIRTIO_MMIO_CONFIG);
        uint32_t hi = rd(VIRTIO_MMIO_CONFIG + 4);
        stable = rd(VIRTIO_MMIO_CONFIG_GEN) == gen;
        sectors = (uint64_t)hi << 32 | lo;
    }
    if (!stable || sectors == 0 || sectors > UINT64_MAX / VIRTQ_SECTOR_SIZE)
        return fail_init("capacity unreadable or out of range");
    g.capacity = sectors * VIRTQ_SECTOR_SIZE;
    wr(VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
                               VIRTIO_S_DRIVER_OK);
    return 0;
}

/* The device broke a rule or stopped answering: stop it before anything
 * its queue names is reused. Every later request fails with IO. A device
 * that does not even reset may still write into the buffers its queue
 * names: completing their requests would hand those frames back, so the
 * driver exits instead and leaves them to the kernel's quiesce (which
 * keeps them quarantined if the device does not stop for it either). */
static void device_broken(const char *why)
{
    printf("virtio_blk: device %s: resetting it\n", why);
    g.broken = 1;
    if (device_reset() != 0) {
        printf("virtio_blk: the device does not reset: leaving it to the kernel\n");
        exit(1);
    }
}

/* Runs one chain to completion by polling the used ring. */
static cm_status_t run_chain(uint32_t type, uint64_t sector, virtq_seg_t *seg, uint32_t n)
{
    if (g.broken)
        return CM_ERR_IO;
    virtq_result_t r = virtq_submit(&g.q, type, sector, seg, n, sector, NULL);
    if (r != VIRTQ_OK)
        return CM_ERR_IO; /* one chain at a time: FULL cannot happen; ARGS checked before */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    if (g.stall) {
        printf("virtio_blk: stalling with a request on the device\n");
        cm_signals_t seen;
        for (;;)
            (void)cm_object_wait_one(g.ch, CM_SIGNAL_PEER_CLOSED, CM_TIMEOUT_INFINITE, &seen);
    }
    uint64_t start = cmk_rdtime_ns();
    virtq_done_t d;
    for (;;) {
        r = virtq_harvest(&g.q, &d);
        if (r == VIRTQ_OK)
            break;
        if (r != VIRTQ_EMPTY) {
            device_broken("broke the used ring");
            return CM_ERR_IO;
        }
        if (cmk_rdtime_ns() - start > VBLK_IO_TIMEOUT_NS) {
            device_broken("timed out");
            return CM_ERR_IO;
        }
    }
    return d.result == VIRTQ_REQ_OK ? CM_OK : CM_ERR_IO;
}

/* Checks a request the kernel queued: the kernel is trusted with its
 * own invariants, but a mismatch here must fail the request, not send
 * a wrong chain to the device. */
static cm_status_t check_request(const cmk_dma_request_t *r, uint32_t *type)
{
    if (r->kind == CM_DMA_OP_READ)
        *type = VIRTIO_BLK_T_IN;
    else if (r->kind == CM_DMA_OP_WRITE && !g.read_only)
        *type = VIRTIO_BLK_T_OUT;
    else
        return CM_ERR_INVALID_ARGS;
    if (r->length == 0 || r->length % VBLK_BLOCK_SIZE != 0 ||
        r->device_offset % VBLK_BLOCK_SIZE != 0 || r->device_offset > g.capacity ||
        r->length > g.capacity - r->device_offset || r->segment_count == 0 ||
        r->segment_count > CMK_DMA_MAX_SEGMENTS)
        return CM_ERR_INVALID_ARGS;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < r->segment_count; i++) {
        if (r->segments[i].len == 0 || r->segments[i].len % VBLK_BLOCK_SIZE != 0)
            return CM_ERR_INVALID_ARGS;
        sum += r->segments[i].len;
    }
    return sum == r->length ? CM_OK : CM_ERR_INVALID_ARGS;
}

/* One request of an attached pool: as few chains as the queue allows,
 * one after the other; the first failure ends it (bytes = what finished). */
static void serve_request(const cmk_dma_request_t *r)
{
    uint32_t type = 0, done = 0;
    cm_status_t st = check_request(r, &type);
    if (st == CM_OK) {
        for (uint32_t i = 0; i < r->segment_count; i++) {
            g_seg[i].addr = r->segments[i].addr;
            g_seg[i].len = r->segments[i].len;
        }
        uint32_t n = g.chain_segs != 0 ? r->segment_count
                                       : virtq_coalesce(g_seg, r->segment_count);
        uint32_t per_chain = (uint32_t)g.q.size - 2u;
        if (g.chain_segs != 0 && g.chain_segs < per_chain)
            per_chain = g.chain_segs;
        uint64_t sector = r->device_offset / VIRTQ_SECTOR_SIZE;
        for (uint32_t i = 0; i < n && st == CM_OK; i += per_chain) {
            uint32_t k = n - i < per_chain ? n - i : per_chain;
            uint32_t bytes = 0;
            for (uint32_t j = 0; j < k; j++)
                bytes += g_seg[i + j].len;
            st = run_chain(type, sector, &g_seg[i], k);
            if (st == CM_OK) {
                done += bytes;
                sector += bytes / VIRTQ_SECTOR_SIZE;
            }
        }
    }
    cm_status_t cst = cmk_dma_device_complete(g.dev, r->id, st, done);
    if (cst != CM_OK)
        printf("virtio_blk: completing request: %s\n", cm_status_name(cst));
}

/* Serves every request queued now (timeout 0) or waits up to timeout_ns
 * for the first one. Returns SHOULD_WAIT/TIMED_OUT once the queue is
 * empty, anything else if the device object itself failed. */
static cm_status_t serve_queued(int64_t timeout_ns)
{
    cm_status_t st;
    while ((st = cmk_dma_device_next(g.dev, timeout_ns, &g_req)) == CM_OK) {
        serve_request(&g_req);
        timeout_ns = 0;
    }
    return st;
}

/* Submits an operation on the driver's own pool and serves the device
 * until its fence is done (the driver is the device behind its own pool). */
static cm_status_t own_io(cm_dma_buffer_t b, uint32_t kind, uint64_t offset, uint32_t length)
{
    cm_dma_op_t op = { kind, 0, length, 0, offset };
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    cm_status_t st = cm_dma_submit(g.pool, b, &op, &f);
    if (st != CM_OK)
        return st;
    while ((st = cm_dma_fence_poll(g.pool, f, &c)) == CM_ERR_SHOULD_WAIT) {
        /* Our own request is queued on our own device: serve until it is
         * done. Should the device object fail, wait for the fence (the
         * kernel completes it when the device goes) instead of spinning. */
        cm_status_t q = serve_queued(100ll * 1000 * 1000);
        if (q != CM_ERR_SHOULD_WAIT && q != CM_ERR_TIMED_OUT) {
            st = cm_dma_fence_wait(g.pool, f, CM_TIMEOUT_INFINITE, &c);
            break;
        }
    }
    if (st != CM_OK)
        return st;
    return c.status != CM_OK ? c.status : (c.bytes == length ? CM_OK : CM_ERR_IO);
}

static void reply(cm_handle_t ch, const struct vblk_request *rq, cm_status_t st, uint32_t bytes,
                  cm_handle_t vmo)
{
    struct vblk_reply rp;
    memset(&rp, 0, sizeof(rp));
    rp.magic = VBLK_MAGIC;
    rp.op = rq != NULL ? rq->op : VBLK_OP_INFO;
    rp.status = st;
    rp.bytes = bytes;
    rp.tag = rq != NULL ? rq->tag : 0;
    rp.capacity = g.capacity;
    rp.block_size = VBLK_BLOCK_SIZE;
    /* Never blocks on a client that does not read: on SHOULD_WAIT the
     * reply is dropped (a write consumes its handles whatever happens). */
    (void)cm_channel_write(ch, &rp, sizeof(rp), vmo != CM_HANDLE_INVALID ? &vmo : NULL,
                           vmo != CM_HANDLE_INVALID ? 1 : 0);
}

static cm_status_t client_read(const struct vblk_request *rq, cm_handle_t *out)
{
    cm_dma_buffer_t b;
    cm_status_t st = cm_dma_buffer_acquire(g.pool, &b);
    if (st != CM_OK)
        return st;
    st = own_io(b, CM_DMA_OP_READ, rq->offset, rq->length);
    cm_handle_t vmo = CM_HANDLE_INVALID, ro = CM_HANDLE_INVALID;
    if (st == CM_OK)
        st = cm_dma_buffer_detach_vmo(g.pool, b, &vmo); /* the id dies on success */
    if (st != CM_OK) {
        (void)cm_dma_buffer_release(g.pool, b);
        return st;
    }
    st = cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE);
    if (st == CM_OK)
        st = cm_handle_replace(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro);
    if (st != CM_OK) {
        cm_handle_close(vmo);
        return st;
    }
    *out = ro;
    return CM_OK;
}

static cm_status_t client_write(const struct vblk_request *rq, cm_handle_t src)
{
    cm_handle_info_t hi;
    cm_vmo_info_t vi;
    cm_status_t st = cm_handle_get_info(src, &hi);
    if (st != CM_OK)
        return st;
    if (hi.type != CM_OBJ_VMO)
        return CM_ERR_WRONG_TYPE;
    if ((hi.rights & CM_RIGHT_READ) == 0 || g.read_only)
        return CM_ERR_ACCESS_DENIED;
    if ((st = cm_vmo_get_info(src, &vi)) != CM_OK)
        return st;
    if (vi.size < rq->length)
        return CM_ERR_OUT_OF_RANGE;
    cm_dma_buffer_t b;
    void *p;
    if ((st = cm_dma_buffer_acquire(g.pool, &b)) != CM_OK)
        return st;
    st = cm_dma_buffer_map(g.pool, b, &p, NULL);
    if (st == CM_OK)
        st = cm_vmo_read(src, p, 0, rq->length);
    if (st == CM_OK)
        st = own_io(b, CM_DMA_OP_WRITE, rq->offset, rq->length);
    (void)cm_dma_buffer_release(g.pool, b);
    return st;
}

static cm_status_t check_client(const struct vblk_request *rq, uint32_t n, uint32_t nh)
{
    if (n != sizeof(*rq) || rq->magic != VBLK_MAGIC || rq->reserved != 0)
        return CM_ERR_INVALID_ARGS;
    if (rq->op == VBLK_OP_INFO)
        return nh == 0 ? CM_OK : CM_ERR_INVALID_ARGS;
    if (rq->op != VBLK_OP_READ && rq->op != VBLK_OP_WRITE)
        return CM_ERR_INVALID_ARGS;
    if (nh != (rq->op == VBLK_OP_WRITE ? 1u : 0u))
        return CM_ERR_INVALID_ARGS;
    if (rq->length == 0 || rq->length > VBLK_MAX_IO || rq->length % VBLK_BLOCK_SIZE != 0 ||
        rq->offset % VBLK_BLOCK_SIZE != 0)
        return CM_ERR_INVALID_ARGS;
    if (rq->offset > g.capacity || rq->length > g.capacity - rq->offset)
        return CM_ERR_OUT_OF_RANGE;
    return CM_OK;
}

/* One message from a client; returns -1 when the channel is finished. */
static int serve_client(cm_handle_t ch)
{
    uint32_t n = 0, nh = 0;
    cm_status_t st = cm_channel_read(ch, g_msg, sizeof(g_msg), &n, g_handles,
                                     CM_CHANNEL_MAX_HANDLES, &nh);
    if (st == CM_ERR_SHOULD_WAIT || st == CM_ERR_PROTOCOL)
        return 0; /* nothing, or a malformed message the kernel dropped */
    if (st != CM_OK)
        return -1; /* peer closed, or a message this process cannot take */
    struct vblk_request rq;
    memset(&rq, 0, sizeof(rq));
    memcpy(&rq, g_msg, n < sizeof(rq) ? n : sizeof(rq));
    st = check_client(&rq, n, nh);
    cm_handle_t vmo = CM_HANDLE_INVALID;
    uint32_t bytes = 0;
    if (st == CM_OK) {
        if (rq.op == VBLK_OP_READ)
            st = client_read(&rq, &vmo);
        else if (rq.op == VBLK_OP_WRITE)
            st = client_write(&rq, g_handles[0]);
        bytes = st == CM_OK && rq.op != VBLK_OP_INFO ? rq.length : 0;
    }
    for (uint32_t i = 0; i < nh && i < CM_CHANNEL_MAX_HANDLES; i++)
        cm_handle_close(g_handles[i]);
    reply(ch, &rq, st, bytes, vmo);
    return 0;
}

static int setup(void)
{
    uint32_t count = cmk_startup_handle_count();
    int found = 0;
    for (uint32_t i = 1; i < count; i++) {
        cm_handle_t w = cmk_startup_handle(i);
        if (!found && probe(w) == 0) {
            g.mmio = w;
            found = 1;
        } else {
            cm_handle_close(w);
        }
    }
    if (!found) {
        printf("virtio_blk: no modern virtio block device among %u windows\n",
               count > 0 ? count - 1 : 0);
        return -1;
    }
    if (device_init() != 0)
        return -1;
    uint32_t flags = CM_DMA_ATTACH_READ | (g.read_only ? 0u : CM_DMA_ATTACH_WRITE);
    cm_status_t st = cmk_dma_device_create(g.mmio, VBLK_DEVICE_NAME, VBLK_BLOCK_SIZE, g.capacity,
                                           flags, &g.dev);
    if (st != CM_OK) {
        printf("virtio_blk: registering %s: %s\n", VBLK_DEVICE_NAME, cm_status_name(st));
        return -1;
    }
    cm_dma_pool_config_t cfg = { VBLK_POOL_BUFFERS, VBLK_MAX_IO, VBLK_POOL_BUFFERS, 0 };
    if ((st = cm_dma_pool_create(&cfg, &g.pool)) != CM_OK ||
        (st = cm_dma_pool_attach(g.pool, VBLK_DEVICE_NAME, flags)) != CM_OK) {
        printf("virtio_blk: own pool: %s\n", cm_status_name(st));
        return -1;
    }
    printf("virtio_blk: %s: %llu bytes%s, queue of %u\n", VBLK_DEVICE_NAME,
           (unsigned long long)g.capacity, g.read_only ? " (read-only)" : "", g.q.size);
    return 0;
}

int main(int argc, char **argv)
{
    g.pool = CM_HANDLE_INVALID;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--stall") == 0) {
            g.stall = 1;
        } else if (strcmp(argv[i], "--chain-segs") == 0 && i + 1 < argc) {
            g.chain_segs = 0;
            for (const char *c = argv[++i]; *c >= '0' && *c <= '9' && g.chain_segs < 1000; c++)
                g.chain_segs = g.chain_segs * 10 + (uint32_t)(*c - '0');
            if (g.chain_segs == 0)
                return 2;
        } else {
            printf("usage: virtio_blk [--stall] [--chain-segs N]\n");
            return 2;
        }
    }
    if (cmk_startup_handle_count() < 2)
        return 2;
    cm_handle_t ch = cmk_startup_handle(0);
    g.ch = ch;
    if (setup() != 0)
        return 1;
    reply(ch, NULL, CM_OK, 0, CM_HANDLE_INVALID); /* ready: the name exists */
    for (;;) {
        cm_wait_item_t it[2] = {
            { g.dev, CM_SIGNAL_READABLE, 0 },
            { ch, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, 0 },
        };
        if (cm_object_wait_many(it, 2, CM_TIMEOUT_INFINITE) != CM_OK)
            break;
        if (it[0].pending & CM_SIGNAL_READABLE)
            (void)serve_queued(0);
        if (it[1].pending & CM_SIGNAL_READABLE) {
            if (serve_client(ch) != 0)
                break;
        } else if (it[1].pending & CM_SIGNAL_PEER_CLOSED) {
            break;
        }
    }
    /* Leaving: the kernel resets the device (quiesce) when this process's
     * last handle to the window goes, before queue memory is freed. */
    cm_handle_close(g.pool);
    cm_handle_close(g.dev);
    cm_handle_close(ch);
    return g.broken ? 1 : 0;
}
