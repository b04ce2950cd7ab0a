/* SPDX-License-Identifier: MIT */
/* DMA on the kernel target (docs/dma.md "Kernel target"): the device
 * registry, pools on core/dma_own, and a fake driver process standing in
 * for the virtio-blk driver: it registers a device on an MMIO window and
 * does what its parent asks over a channel (take the next request, complete
 * one), so every ownership rule is exercised with a real second process on
 * the device side. The fake device moves no bytes. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"
#include "selftest.h"

#define SECOND_NS (1000ll * 1000 * 1000)
#define RAM_LO 0x80000000ull
#define RAM_HI 0x88000000ull
#define DEV_SIZE (1ull << 20)

/* ---- the fake driver and its remote control ---- */

enum { DRV_NEXT = 1, DRV_COMPLETE, DRV_SIGNALS, DRV_QUIT };

struct drv_cmd {
    uint32_t op;
    int32_t status;
    uint64_t id;
    uint32_t bytes;
    uint32_t reserved;
};

struct drv_reply {
    int32_t st;
    uint32_t kind;
    uint64_t id;
    uint32_t length;
    uint32_t segments;
    uint64_t seg_total;  /* sum of segment lengths */
    uint32_t segs_ok;    /* every segment in RAM, none crossing a page */
    uint32_t signals;
    uint64_t device_offset;
    uint64_t seg0;       /* device address of the first segment */
};

static cmk_dma_request_t req; /* 4 KiB: not on the stack */

static void drv_answer(cm_handle_t dev, const struct drv_cmd *c, struct drv_reply *r)
{
    memset(r, 0, sizeof(*r));
    switch (c->op) {
    case DRV_NEXT:
        r->st = cmk_dma_device_next(dev, 0, &req);
        if (r->st != CM_OK)
            return;
        r->id = req.id;
        r->kind = req.kind;
        r->length = req.length;
        r->device_offset = req.device_offset;
        r->segments = req.segment_count;
        r->seg0 = req.segments[0].addr;
        r->segs_ok = req.segment_count >= 1 && req.segment_count <= CMK_DMA_MAX_SEGMENTS;
        for (uint32_t i = 0; i < req.segment_count && i < CMK_DMA_MAX_SEGMENTS; i++) {
            const cmk_dma_segment_t *s = &req.segments[i];
            r->seg_total += s->len;
            if (s->len == 0 || s->addr < RAM_LO || s->addr + s->len > RAM_HI)
                r->segs_ok = 0;
        }
        return;
    case DRV_COMPLETE:
        r->st = cmk_dma_device_complete(dev, c->id, c->status, c->bytes);
        return;
    case DRV_SIGNALS: {
        cm_signals_t obs = 0;
        r->st = cm_object_wait_one(dev, CM_SIGNAL_READABLE, 0, &obs);
        r->signals = obs;
        return;
    }
    default:
        r->st = CM_ERR_INVALID_ARGS;
    }
}

/* Child (window, channel): registers "fake0", sets the device's Status to
 * ACKNOWLEDGE|DRIVER (so its parent can see the reset after it dies), says
 * ready, then serves commands until DRV_QUIT. */
int child_kdma_fake_driver(void)
{
    cm_handle_t win = cmk_startup_handle(0), ch = cmk_startup_handle(1), dev;
    volatile void *regs;
    CHECK_ST(cm_mmio_map(win, 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE, &regs), CM_OK);
    *(volatile uint32_t *)((volatile uint8_t *)regs + 0x70) = 3;
    CHECK_ST(cmk_dma_device_create(win, "fake0", 512, DEV_SIZE,
                                   CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE, &dev), CM_OK);
    struct drv_reply r;
    memset(&r, 0, sizeof(r));
    CHECK_ST(cm_channel_write(ch, &r, sizeof(r), NULL, 0), CM_OK);
    for (;;) {
        struct drv_cmd c;
        uint32_t n, nh;
        CHECK_ST(cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE), CM_OK);
        CHECK_ST(cm_channel_read(ch, &c, sizeof(c), &n, NULL, 0, &nh), CM_OK);
        if (c.op == DRV_QUIT)
            return 0;
        drv_answer(dev, &c, &r);
        CHECK_ST(cm_channel_write(ch, &r, sizeof(r), NULL, 0), CM_OK);
    }
}

struct driver {
    cm_handle_t ch;
    cm_handle_t proc;
};

static int drv_call(struct driver *d, uint32_t op, uint64_t id, cm_status_t status,
                    uint32_t bytes, struct drv_reply *r)
{
    struct drv_cmd c = { op, status, id, bytes, 0 };
    uint32_t n, nh;
    CHECK_ST(cm_channel_write(d->ch, &c, sizeof(c), NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(d->ch, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(d->ch, r, sizeof(*r), &n, NULL, 0, &nh), CM_OK);
    CHECK(n == sizeof(*r));
    return 0;
}

/* Starts the fake driver on window `slot` and waits until "fake0" exists. */
static int drv_start(uint32_t slot, struct driver *d)
{
    cm_handle_t hs[2], theirs;
    const char *args[1] = { "child_kdma_fake_driver" };
    struct drv_reply r;
    uint32_t n, nh;
    CHECK_ST(cm_handle_duplicate(window_of_slot(slot), CM_RIGHTS_SAME, &hs[0]), CM_OK);
    CHECK_ST(cm_channel_create(0, &d->ch, &theirs), CM_OK);
    hs[1] = theirs;
    CHECK(cmk_spawn_ex("selftest", args, 1, hs, 2, CMK_ROLE_MAIN, NULL, &d->proc) > 0);
    CHECK_ST(cm_channel_wait_readable(d->ch, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(d->ch, &r, sizeof(r), &n, NULL, 0, &nh), CM_OK);
    return 0;
}

static int drv_stop(struct driver *d)
{
    struct drv_cmd c = { DRV_QUIT, 0, 0, 0, 0 };
    cmk_exit_info_t info;
    CHECK_ST(cm_channel_write(d->ch, &c, sizeof(c), NULL, 0), CM_OK);
    CHECK_ST(cmk_proc_wait(d->proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cm_handle_close(d->proc), CM_OK);
    CHECK_ST(cm_handle_close(d->ch), CM_OK);
    return 0;
}

/* Child: a pool owner that keeps a pointer across its submit and touches
 * it (must fault), leaving its buffer in flight to fake0 as it dies. */
int child_kdma_kept_pointer(void)
{
    cm_dma_pool_config_t cfg = { 1, 2 * PAGE, 1, 0 };
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    void *p;
    uint32_t size;
    cm_dma_op_t op = { CM_DMA_OP_WRITE, 0, 2 * PAGE, 0, 4096 };
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", CM_DMA_ATTACH_WRITE), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, &size), CM_OK);
    memset(p, 0x77, size);
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    printf("# child_kdma_kept_pointer: touching %lx in flight\n", (unsigned long)(uintptr_t)p);
    return *(volatile uint8_t *)p; /* faults: unmapped at submit */
}

/* ---- the tests ---- */

/* One buffer through its whole life with a driver in another process:
 * submit moves it to the device (double submit, CPU access, release and
 * detach refused, BAD_STATE), the driver sees exactly the window in
 * flight and nothing else, bad and duplicate completions are refused,
 * the fence returns it once (stale fence: BAD_HANDLE), release scrubs it,
 * detach hands its frames to a VMO. */
int test_kdma_ownership_with_fake_driver_process(void)
{
    struct driver d;
    struct drv_reply r;
    cm_handle_t pool, vmo;
    cm_dma_pool_config_t cfg = { 1, 2 * PAGE, 1, 0 };
    cm_dma_pool_info_t info;
    cm_dma_buffer_t b, b2;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    void *p, *p2;
    uint32_t size;
    uint8_t byte;
    CHECK(drv_start(0, &d) == 0);
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "nosuch", CM_DMA_ATTACH_READ), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", CM_DMA_ATTACH_READ), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK((info.flags & (CM_DMA_INFO_DEVICE | CM_DMA_INFO_CPU_GUARD)) ==
          (CM_DMA_INFO_DEVICE | CM_DMA_INFO_CPU_GUARD));
    CHECK(info.device_block_size == 512 && info.device_size == DEV_SIZE);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, &size), CM_OK);
    CHECK(size == 2 * PAGE);
    memset(p, 0x5a, size);
    /* The driver has nothing before the submit. */
    CHECK(drv_call(&d, DRV_NEXT, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_ERR_SHOULD_WAIT);
    CHECK(drv_call(&d, DRV_SIGNALS, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_ERR_TIMED_OUT);
    /* Bad ops, then the submit. */
    cm_dma_op_t op = { CM_DMA_OP_READ, PAGE, PAGE, 0, 512 };
    cm_dma_op_t bad = op;
    bad.length = 100;
    CHECK_ST(cm_dma_submit(pool, b, &bad, &f), CM_ERR_INVALID_ARGS);
    bad = op;
    bad.length = 2 * PAGE;
    CHECK_ST(cm_dma_submit(pool, b, &bad, &f), CM_ERR_OUT_OF_RANGE);
    bad = op;
    bad.device_offset = DEV_SIZE;
    CHECK_ST(cm_dma_submit(pool, b, &bad, &f), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    /* In flight: no CPU access of any kind, no second submit. */
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p2, &size), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_read(pool, b, 0, &byte, 1), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_write(pool, b, 0, &byte, 1), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b2), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_dma_fence_poll(pool, f, &c), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_dma_fence_wait(pool, f, 0, &c), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK(info.in_flight == 1 && info.free == 0);
    /* The driver: the device is readable, and next gives exactly the
     * window in flight (one page at buffer offset PAGE), once. */
    CHECK(drv_call(&d, DRV_SIGNALS, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK(r.signals & CM_SIGNAL_READABLE);
    CHECK(drv_call(&d, DRV_NEXT, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK(r.kind == CM_DMA_OP_READ && r.length == PAGE && r.device_offset == 512);
    CHECK(r.segments == 1 && r.seg_total == PAGE && r.segs_ok);
    uint64_t id = r.id, first_seg = r.seg0;
    CHECK(drv_call(&d, DRV_NEXT, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_ERR_SHOULD_WAIT);
    /* Completions: typed refusals, one success, then duplicates/stale. */
    CHECK(drv_call(&d, DRV_COMPLETE, id, CM_ERR_NO_MEMORY, 0, &r) == 0);
    CHECK_ST(r.st, CM_ERR_INVALID_ARGS);
    CHECK(drv_call(&d, DRV_COMPLETE, id, CM_OK, PAGE + 1, &r) == 0);
    CHECK_ST(r.st, CM_ERR_INVALID_ARGS);
    CHECK(drv_call(&d, DRV_COMPLETE, id ^ (1ull << 32), CM_OK, PAGE, &r) == 0);
    CHECK_ST(r.st, CM_ERR_BAD_HANDLE);
    CHECK(drv_call(&d, DRV_COMPLETE, id, CM_OK, PAGE, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK(drv_call(&d, DRV_COMPLETE, id, CM_OK, PAGE, &r) == 0);
    CHECK_ST(r.st, CM_ERR_BAD_HANDLE);
    /* Signaled but not waited: still no CPU access. */
    CHECK_ST(cm_dma_buffer_read(pool, b, 0, &byte, 1), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_fence_wait(pool, f, SECOND_NS, &c), CM_OK);
    CHECK(c.buffer == b && c.status == CM_OK && c.bytes == PAGE);
    CHECK_ST(cm_dma_fence_wait(pool, f, 0, &c), CM_ERR_BAD_HANDLE);
    /* Device addresses follow the window: page 0 of the buffer is another
     * frame than page 1, and the same window gives the same frame again
     * (pinned). */
    uint64_t page1 = first_seg;
    for (uint32_t k = 0; k < 2; k++) {
        cm_dma_op_t op0 = { CM_DMA_OP_READ, k == 0 ? 0 : PAGE, PAGE, 0, 0 };
        CHECK_ST(cm_dma_submit(pool, b, &op0, &f), CM_OK);
        CHECK(drv_call(&d, DRV_NEXT, 0, 0, 0, &r) == 0);
        CHECK_ST(r.st, CM_OK);
        CHECK(r.segments == 1 && r.seg_total == PAGE && r.segs_ok);
        CHECK(k == 0 ? r.seg0 != page1 : r.seg0 == page1);
        CHECK(drv_call(&d, DRV_COMPLETE, r.id, CM_OK, PAGE, &r) == 0);
        CHECK_ST(r.st, CM_OK);
        CHECK_ST(cm_dma_fence_wait(pool, f, SECOND_NS, &c), CM_OK);
    }
    /* Back to the CPU, same frames and bytes (the fake device wrote none). */
    CHECK_ST(cm_dma_buffer_map(pool, b, &p2, &size), CM_OK);
    CHECK(((volatile uint8_t *)p2)[0] == 0x5a && ((volatile uint8_t *)p2)[size - 1] == 0x5a);
    /* Release scrubs: the next client reads zeros. */
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b2), CM_OK);
    CHECK(b2 != b);
    for (uint32_t i = 0; i < 2 * PAGE; i += 512) {
        CHECK_ST(cm_dma_buffer_read(pool, b2, i, &byte, 1), CM_OK);
        CHECK(byte == 0);
    }
    /* Detach: the buffer's bytes become a VMO that can be sealed at once. */
    CHECK_ST(cm_dma_buffer_write(pool, b2, 100, "dma->vmo", 9), CM_OK);
    CHECK_ST(cm_dma_buffer_detach_vmo(pool, b2, &vmo), CM_OK);
    char text[9];
    CHECK_ST(cm_vmo_read(vmo, text, 100, 9), CM_OK);
    CHECK(strcmp(text, "dma->vmo") == 0);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_dma_buffer_read(pool, b2, 0, &byte, 1), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK(drv_stop(&d) == 0);
    return 0;
}

/* A kept pointer faults (typed, in a child), and that child's pool dies
 * with its buffer in flight: the frames stay out of reach until the
 * driver completes the request, then come back. */
int test_kdma_kept_pointer_faults_and_dead_pool_quarantines_until_completion(void)
{
    struct driver d;
    struct drv_reply r;
    cmk_counters_t c0, c1, c2;
    cmk_exit_info_t info;
    cm_handle_t proc;
    const char *args[1] = { "child_kdma_kept_pointer" };
    CHECK(drv_start(1, &d) == 0);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc) > 0);
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 13);
    CHECK(info.status == CM_ERR_INVALID_ARGS); /* nothing mapped there any more */
    /* The child and its pool are gone; its buffer's two frames are not. */
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(c1.free_frames + 2 <= c0.free_frames);
    CHECK(drv_call(&d, DRV_NEXT, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK(r.kind == CM_DMA_OP_WRITE && r.length == 2 * PAGE && r.seg_total == 2 * PAGE);
    CHECK(r.segs_ok);
    CHECK(drv_call(&d, DRV_COMPLETE, r.id, CM_OK, 2 * PAGE, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK_ST(cmk_counters(&c2), CM_OK);
    CHECK(c2.free_frames == c0.free_frames && c2.live_objects == c0.live_objects);
    CHECK(drv_stop(&d) == 0);
    return 0;
}

/* The pool's in-flight bound holds (NO_RESOURCES). The driver dies with a
 * request in flight: its window is quiesced (the
 * device reset: Status reads 0), the request completes with IO, the buffer
 * returns to its owner, further submits fail with IO, and every frame and
 * object comes back. */
int test_kdma_driver_killed_mid_flight_quiesces_and_fails_requests(void)
{
    struct driver d;
    cmk_counters_t c0, c1;
    cmk_exit_info_t info;
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { 2, PAGE, 1, 0 }; /* max_in_flight 1 of 2 */
    cm_dma_buffer_t b, b2;
    cm_dma_fence_t f, f2;
    cm_dma_completion_t c;
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, PAGE, 0, 0 };
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(drv_start(2, &d) == 0);
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", CM_DMA_ATTACH_READ), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b2), CM_OK);
    op.kind = CM_DMA_OP_WRITE;
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_ERR_ACCESS_DENIED); /* attached READ only */
    op.kind = CM_DMA_OP_READ;
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHECK_ST(cm_dma_submit(pool, b2, &op, &f2), CM_ERR_NO_RESOURCES); /* in-flight bound */
    CHECK_ST(cmk_proc_kill(d.proc), CM_OK);
    CHECK_ST(cmk_proc_wait(d.proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cm_dma_fence_wait(pool, f, SECOND_NS, &c), CM_OK);
    CHECK(c.buffer == b && c.status == CM_ERR_IO && c.bytes == 0);
    CHECK_ST(cm_dma_submit(pool, b2, &op, &f2), CM_ERR_IO);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", CM_DMA_ATTACH_READ), CM_ERR_BAD_STATE);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_handle_close(d.proc), CM_OK);
    CHECK_ST(cm_handle_close(d.ch), CM_OK);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(c1.free_frames == c0.free_frames && c1.live_objects == c0.live_objects);
    /* The device was reset: Status (0x70) reads 0 again (the driver left
     * 3). Mapped last: its page-table pages are this process's until exit. */
    volatile void *w;
    CHECK_ST(cm_mmio_map(window_of_slot(2), 0, PAGE, CM_MMIO_MAP_READ, &w), CM_OK);
    CHECK(*(volatile uint32_t *)((volatile uint8_t *)w + 0x70) == 0);
    CHECK_ST(cm_mmio_unmap(window_of_slot(2), w, PAGE), CM_OK);
    return 0;
}

/* The registry's arguments and bounds: CMK_DMA_MAX_NAME,
 * CMK_DMA_MAX_DEVICES, one device per window and per name. */
int test_kdma_device_registry_bounds_and_errors(void)
{
    cm_handle_t w0 = window_of_slot(0), ro, vmo, dev[CMK_DMA_MAX_DEVICES + 1];
    const uint32_t rw = CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE;
    char longname[CMK_DMA_MAX_NAME + 8];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_handle_duplicate(w0, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    CHECK_ST(cmk_dma_device_create(w0, NULL, 512, DEV_SIZE, rw, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, "", 512, DEV_SIZE, rw, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, longname, 512, DEV_SIZE, rw, &dev[0]),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cmk_dma_device_create(w0, "d0", 1000, DEV_SIZE, rw, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, "d0", 512, 0, rw, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, "d0", 512, 1000, rw, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, "d0", 512, DEV_SIZE, 0, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, "d0", 512, DEV_SIZE, 4, &dev[0]), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w0, "d0", 512, DEV_SIZE, rw, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(vmo, "d0", 512, DEV_SIZE, rw, &dev[0]), CM_ERR_WRONG_TYPE);
    CHECK_ST(cmk_dma_device_create(ro, "d0", 512, DEV_SIZE, rw, &dev[0]), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_dma_device_create(CM_HANDLE_INVALID, "d0", 512, DEV_SIZE, rw, &dev[0]),
             CM_ERR_BAD_HANDLE);
    char name[8] = "d0";
    for (uint32_t i = 0; i < CMK_DMA_MAX_DEVICES; i++) {
        name[1] = (char)('0' + i);
        CHECK_ST(cmk_dma_device_create(window_of_slot(i), name, 512, DEV_SIZE, rw, &dev[i]),
                 CM_OK);
        cm_handle_info_t hi;
        CHECK_ST(cm_handle_get_info(dev[i], &hi), CM_OK);
        CHECK(hi.type == CM_OBJ_DMA_DEVICE);
    }
    CHECK_ST(cmk_dma_device_create(w0, "other", 512, DEV_SIZE, rw, &dev[4]), CM_ERR_BAD_STATE);
    CHECK_ST(cmk_dma_device_create(window_of_slot(CMK_DMA_MAX_DEVICES), "d0", 512, DEV_SIZE, rw,
                                   &dev[4]), CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cmk_dma_device_create(window_of_slot(CMK_DMA_MAX_DEVICES), "dx", 512, DEV_SIZE, rw,
                                   &dev[4]), CM_ERR_NO_RESOURCES);
    /* next/complete: typed, and a device is not a pool nor a window. */
    cmk_dma_request_t *rq = &req;
    CHECK_ST(cmk_dma_device_next(dev[0], 0, rq), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cmk_dma_device_next(dev[0], 1000000, rq), CM_ERR_TIMED_OUT);
    CHECK_ST(cmk_dma_device_next(dev[0], -2, rq), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_next(dev[0], 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_next(vmo, 0, rq), CM_ERR_WRONG_TYPE);
    CHECK_ST(cmk_dma_device_complete(dev[0], 0, CM_OK, 0), CM_ERR_BAD_HANDLE);
    CHECK_ST(cmk_dma_device_complete(dev[0], (1ull << 32) | 1, CM_OK, 0), CM_ERR_BAD_HANDLE);
    volatile void *w;
    CHECK_ST(cm_mmio_map(dev[0], 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_WRONG_TYPE);
    cm_dma_pool_info_t pi;
    CHECK_ST(cm_dma_pool_get_info(dev[0], &pi), CM_ERR_WRONG_TYPE);
    /* Closing the device handle keeps the registration (the window's
     * binding decides); the name is free again after this process exits. */
    CHECK_ST(cm_handle_close(dev[0]), CM_OK);
    CHECK_ST(cmk_dma_device_create(window_of_slot(CMK_DMA_MAX_DEVICES), "d0", 512, DEV_SIZE,
                                   rw, &dev[4]), CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}

/* Pool and request bounds: CMK_DMA_MAX_POOLS, CM_LEDGER_PINS (a lowered
 * limit refuses a pool, NO_RESOURCES), CMK_DMA_DEVICE_MAX_REQUESTS. */
int test_kdma_pool_pins_and_request_limits(void)
{
    cm_handle_t pools[CMK_DMA_MAX_POOLS + 1], dev;
    cm_dma_pool_config_t one = { 1, PAGE, 1, 0 };
    cm_ledger_info_t l0, l1;
    for (uint32_t i = 0; i < CMK_DMA_MAX_POOLS; i++)
        CHECK_ST(cm_dma_pool_create(&one, &pools[i]), CM_OK);
    CHECK_ST(cm_dma_pool_create(&one, &pools[CMK_DMA_MAX_POOLS]), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK(l0.entry[CM_LEDGER_PINS].used == CMK_DMA_MAX_POOLS);
    for (uint32_t i = 0; i < CMK_DMA_MAX_POOLS; i++)
        CHECK_ST(cm_handle_close(pools[i]), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_PINS].used == 0);
    /* Requests: two pools of 32 in flight fill the device's table. */
    cm_dma_pool_config_t big = { CM_DMA_MAX_IN_FLIGHT, PAGE, CM_DMA_MAX_IN_FLIGHT, 0 };
    _Static_assert(2 * CM_DMA_MAX_IN_FLIGHT == CMK_DMA_DEVICE_MAX_REQUESTS, "two pools fill it");
    CHECK_ST(cmk_dma_device_create(window_of_slot(5), "lim0", 512, DEV_SIZE,
                                   CM_DMA_ATTACH_READ, &dev), CM_OK);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, PAGE, 0, 0 };
    cm_dma_fence_t f;
    cm_dma_buffer_t b;
    for (uint32_t k = 0; k < 3; k++) {
        CHECK_ST(cm_dma_pool_create(k < 2 ? &big : &one, &pools[k]), CM_OK);
        CHECK_ST(cm_dma_pool_attach(pools[k], "lim0", CM_DMA_ATTACH_READ), CM_OK);
    }
    for (uint32_t k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < CM_DMA_MAX_IN_FLIGHT; i++) {
            CHECK_ST(cm_dma_buffer_acquire(pools[k], &b), CM_OK);
            CHECK_ST(cm_dma_submit(pools[k], b, &op, &f), CM_OK);
        }
    }
    CHECK_ST(cm_dma_buffer_acquire(pools[2], &b), CM_OK);
    CHECK_ST(cm_dma_submit(pools[2], b, &op, &f), CM_ERR_NO_RESOURCES);
    /* One completion makes room. */
    CHECK_ST(cmk_dma_device_next(dev, 0, &req), CM_OK);
    CHECK_ST(cmk_dma_device_complete(dev, req.id, CM_OK, PAGE), CM_OK);
    CHECK_ST(cm_dma_submit(pools[2], b, &op, &f), CM_OK);
    /* PINS: a limit lowered below the next pool's pages refuses it. */
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    uint64_t used = l0.entry[CM_LEDGER_PINS].used;
    CHECK(used == 2 * CM_DMA_MAX_IN_FLIGHT + 1);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_PINS, used + 1), CM_OK);
    cm_dma_pool_config_t two = { 1, 2 * PAGE, 1, 0 };
    CHECK_ST(cm_dma_pool_create(&two, &pools[3]), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_dma_pool_create(&one, &pools[3]), CM_OK);
    CHECK_ST(cm_handle_close(pools[3]), CM_OK);
    /* Everything else ends at exit: quiesce fails the requests with IO,
     * the pools die, the frames come back (the runner's counters). */
    return 0;
}

/* Child: creates one-page pools until refused, reports (status, made),
 * then shows a destroyed pool's charge comes back (close one, create one:
 * both OK), reports that and holds its pools until killed. */
int child_kdma_pool_quota_hog(void)
{
    cm_handle_t ch = cmk_startup_handle(0);
    cm_dma_pool_config_t one = { 1, PAGE, 1, 0 };
    cm_handle_t pools[CMK_DMA_MAX_POOLS + 1];
    int32_t rep[4] = { CM_OK, 0, CM_ERR_INTERNAL, CM_ERR_INTERNAL };
    while (rep[1] <= (int32_t)CMK_DMA_MAX_POOLS) {
        rep[0] = cm_dma_pool_create(&one, &pools[rep[1]]);
        if (rep[0] != CM_OK)
            break;
        rep[1]++;
    }
    if (rep[1] > 0) {
        rep[2] = cm_handle_close(pools[0]);
        rep[3] = cm_dma_pool_create(&one, &pools[0]);
    }
    CHECK_ST(cm_channel_write(ch, rep, sizeof(rep), NULL, 0), CM_OK);
    cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE);
    return 3;
}

/* The kernel's CMK_DMA_MAX_POOLS table is carved per process
 * (CM_LEDGER_DMA_POOLS, docs/ledger.md): a child given a quota of one pool
 * is refused its second (NO_RESOURCES) while its parent still creates
 * every pool of its own share; the child's share comes back when it is
 * killed (ledger given, frames, objects). */
int test_kdma_pool_quota_child_cannot_starve_parent(void)
{
    cmk_counters_t c0, c1;
    cm_ledger_info_t l0, l1;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    const cm_ledger_entry_t *e0 = &l0.entry[CM_LEDGER_DMA_POOLS];
    CHECK((e0->flags & (CM_LEDGER_ENFORCED | CM_LEDGER_CARVED)) ==
          (CM_LEDGER_ENFORCED | CM_LEDGER_CARVED));
    /* The runner gives each test all of init's room: the whole table. */
    CHECK(e0->used == 0 && e0->given == 0 && e0->limit == CMK_DMA_MAX_POOLS);
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_DMA_POOLS] = 1;
    cm_handle_t mine, theirs, proc;
    const char *args[1] = { "child_kdma_pool_quota_hog" };
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    CHECK(cmk_spawn_ex("selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN, &q, &proc) > 0);
    int32_t rep[4];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_wait_readable(mine, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, rep, sizeof(rep), &nb, NULL, 0, &nh), CM_OK);
    printf("# pool hog: %d made, then %s; close %s, create again %s\n", (int)rep[1],
           cm_status_name((cm_status_t)rep[0]), cm_status_name((cm_status_t)rep[2]),
           cm_status_name((cm_status_t)rep[3]));
    CHECK(nb == sizeof(rep));
    CHECK(rep[1] == 1 && rep[0] == CM_ERR_NO_RESOURCES);
    CHECK(rep[2] == CM_OK && rep[3] == CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_DMA_POOLS].given == 1 && l1.entry[CM_LEDGER_DMA_POOLS].used == 0);
    /* The child holds its pool: this process still has the rest. */
    cm_dma_pool_config_t one = { 1, PAGE, 1, 0 };
    cm_handle_t pools[CMK_DMA_MAX_POOLS];
    for (uint32_t i = 0; i < CMK_DMA_MAX_POOLS - 1; i++)
        CHECK_ST(cm_dma_pool_create(&one, &pools[i]), CM_OK);
    CHECK_ST(cm_dma_pool_create(&one, &pools[CMK_DMA_MAX_POOLS - 1]), CM_ERR_NO_RESOURCES);
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    /* The child's pool died with it and its share came back. */
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_DMA_POOLS].given == 0);
    CHECK_ST(cm_dma_pool_create(&one, &pools[CMK_DMA_MAX_POOLS - 1]), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_DMA_POOLS].used == CMK_DMA_MAX_POOLS);
    for (uint32_t i = 0; i < CMK_DMA_MAX_POOLS; i++)
        CHECK_ST(cm_handle_close(pools[i]), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_DMA_POOLS].used == 0 && l1.entry[CM_LEDGER_PINS].used == 0);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(c1.free_frames == c0.free_frames && c1.live_objects == c0.live_objects &&
          c1.live_procs == c0.live_procs);
    return 0;
}

/* A pool destroyed with a buffer in flight: its DMA_POOLS charge goes
 * with the pool object at once (the table slot is free again), while the
 * quarantined buffer keeps its PINS (and frames) until the device
 * completes the request. */
int test_kdma_dead_pool_returns_its_pool_charge_while_buffer_quarantined(void)
{
    struct driver d;
    struct drv_reply r;
    cm_ledger_info_t l0, l1, l2;
    cm_dma_pool_config_t cfg = { 1, 2 * PAGE, 1, 0 };
    cm_dma_op_t op = { CM_DMA_OP_WRITE, 0, 2 * PAGE, 0, 4096 };
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    CHECK(drv_start(1, &d) == 0);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "fake0", CM_DMA_ATTACH_WRITE), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_DMA_POOLS].used == l0.entry[CM_LEDGER_DMA_POOLS].used + 1);
    CHECK(l1.entry[CM_LEDGER_PINS].used == l0.entry[CM_LEDGER_PINS].used + 2);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(l2.entry[CM_LEDGER_DMA_POOLS].used == l0.entry[CM_LEDGER_DMA_POOLS].used);
    CHECK(l2.entry[CM_LEDGER_PINS].used == l1.entry[CM_LEDGER_PINS].used);
    CHECK(drv_call(&d, DRV_NEXT, 0, 0, 0, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK(drv_call(&d, DRV_COMPLETE, r.id, CM_OK, 2 * PAGE, &r) == 0);
    CHECK_ST(r.st, CM_OK);
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        CHECK(l2.entry[k].used == l0.entry[k].used);
    CHECK(drv_stop(&d) == 0);
    return 0;
}
