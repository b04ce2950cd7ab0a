/* SPDX-License-Identifier: MIT */
/* The virtio-blk driver (drivers/virtio_blk/) under QEMU, against the disk
 * scripts/mkdisk.sh writes: sector n holds n as a little-endian 64-bit
 * integer in bytes 0..7 and (n + i) mod 256 in byte i >= 8, so every
 * expected byte is computed here, never read from the same path.
 *
 * The runner gives the tests named test_kdma_* the device windows init
 * holds; each test starts its own driver process with them, and stops it
 * (closing its service channel, or killing it) before returning, so the
 * runner's counter check covers the driver's queue memory and buffers too. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>
#include <capmem/mmio.h>

#include "cmk.h"
#include "selftest.h"
#include "sha256.h"
#include "vblk_proto.h"

#define DEV "virtio-blk0"
#define DISK_BYTES (1024u * 1024u)
/* Writes go to the last 8 KiB; every other test reads below it. */
#define SCRATCH_OFFSET (DISK_BYTES - 8192u)
#define SCRATCH_LEN 8192u
#define READY_TIMEOUT_NS (10ll * 1000 * 1000 * 1000)

static uint8_t image_byte(uint64_t pos)
{
    uint64_t n = pos / 512, i = pos % 512;
    return i < 8 ? (uint8_t)(n >> (8 * i)) : (uint8_t)((n + i) % 256);
}

/* First mismatch of p against the image at `offset`, or -1. */
static long image_mismatch(const uint8_t *p, uint64_t offset, uint32_t len)
{
    for (uint32_t k = 0; k < len; k++) {
        if (p[k] != image_byte(offset + k))
            return (long)k;
    }
    return -1;
}

static void image_sha256(uint64_t offset, uint32_t len, uint8_t digest[32])
{
    static uint8_t tmp[VBLK_MAX_IO];
    for (uint32_t k = 0; k < len; k++)
        tmp[k] = image_byte(offset + k);
    cm_sha256(tmp, len, digest);
}

struct driver {
    cm_handle_t ch;   /* our end of the driver's service channel */
    cm_handle_t proc; /* the driver process */
};

/* The driver this test started and has not stopped yet: a test that fails
 * half-way kills it (with_cleanup) rather than leave an orphan holding
 * the runner's quota and the device name for the next test. */
static cm_handle_t running_driver = CM_HANDLE_INVALID;

static int with_cleanup(int (*body)(void))
{
    int rc = body();
    if (running_driver != CM_HANDLE_INVALID) {
        cmk_exit_info_t info;
        (void)cmk_proc_kill(running_driver);
        (void)cmk_proc_wait(running_driver, CM_TIMEOUT_INFINITE, &info);
        (void)cm_handle_close(running_driver);
        running_driver = CM_HANDLE_INVALID;
        rc = 1;
    }
    return rc;
}

/* Starts the driver with `args`, its service channel's other end given to
 * whoever `peer_out` is for (NULL: this process reads the ready message).
 * Windows are passed highest slot first (QEMU plugs the first device into
 * the last transport), at most CMK_SPAWN_MAX_HANDLES - 1 of them. */
static int driver_start(const char *const *args, uint32_t nargs, struct driver *d,
                        cm_handle_t *peer_out)
{
    cm_handle_t h[CMK_SPAWN_MAX_HANDLES];
    uint32_t slot[CMK_SPAWN_MAX_HANDLES];
    uint32_t n = 1;
    uint32_t count = cmk_startup_handle_count();
    CHECK(count > 0); /* the runner gives test_kdma_* the windows */
    for (uint32_t i = 0; i < count; i++) {
        cm_mmio_info_t info;
        cm_handle_t w = cmk_startup_handle(i);
        if (cm_mmio_get_info(w, &info) != CM_OK)
            continue;
        /* insertion by slot, descending; keep the 7 highest */
        uint32_t at = n;
        while (at > 1 && slot[at - 1] < info.slot)
            at--;
        if (at >= CMK_SPAWN_MAX_HANDLES)
            continue;
        if (n == CMK_SPAWN_MAX_HANDLES) {
            cm_handle_close(h[n - 1]);
            n--;
        }
        cm_handle_t dup;
        CHECK_ST(cm_handle_duplicate(w, CM_RIGHTS_SAME, &dup), CM_OK);
        for (uint32_t k = n; k > at; k--) {
            h[k] = h[k - 1];
            slot[k] = slot[k - 1];
        }
        h[at] = dup;
        slot[at] = info.slot;
        n++;
    }
    CHECK(n > 1);
    cm_handle_t mine;
    CHECK_ST(cm_channel_create(0, &mine, &h[0]), CM_OK);
    cmk_quota_t q;
    CHECK_ST(cmk_quota_share(&q, 2), CM_OK);
    int32_t pid = cmk_spawn_ex("virtio_blk", args, nargs, h, n, CMK_ROLE_MAIN, &q, &d->proc);
    CHECK(pid > 0);
    running_driver = d->proc;
    if (peer_out != NULL) {
        *peer_out = mine;
        d->ch = CM_HANDLE_INVALID;
        return 0;
    }
    d->ch = mine;
    struct vblk_reply rp;
    uint32_t nb = 0, nh = 0;
    CHECK_ST(cm_channel_wait_readable(mine, READY_TIMEOUT_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, &rp, sizeof(rp), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == sizeof(rp) && nh == 0 && rp.magic == VBLK_MAGIC && rp.status == CM_OK);
    CHECK(rp.capacity == DISK_BYTES && rp.block_size == VBLK_BLOCK_SIZE);
    return 0;
}

/* Stops the driver by closing its channel; it must exit cleanly. */
static int driver_stop(struct driver *d)
{
    cmk_exit_info_t info;
    if (d->ch != CM_HANDLE_INVALID)
        CHECK_ST(cm_handle_close(d->ch), CM_OK);
    CHECK_ST(cmk_proc_wait(d->proc, CM_TIMEOUT_INFINITE, &info), CM_OK);
    running_driver = CM_HANDLE_INVALID;
    CHECK_ST(cm_handle_close(d->proc), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    return 0;
}

/* One block-service request and its reply. */
static int call(cm_handle_t ch, const struct vblk_request *rq, cm_handle_t *send,
                struct vblk_reply *rp, cm_handle_t *vmo)
{
    uint32_t nb = 0, nh = 0;
    cm_handle_t got = CM_HANDLE_INVALID;
    CHECK_ST(cm_channel_write(ch, rq, sizeof(*rq), send, send != NULL ? 1 : 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(ch, READY_TIMEOUT_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, rp, sizeof(*rp), &nb, &got, 1, &nh), CM_OK);
    CHECK(nb == sizeof(*rp) && rp->magic == VBLK_MAGIC && rp->tag == rq->tag);
    if (vmo != NULL)
        *vmo = nh == 1 ? got : CM_HANDLE_INVALID;
    else
        CHECK(nh == 0);
    return 0;
}

/* A real read by DMA into a pool buffer, with the ownership rules checked
 * while the device holds it: no CPU access, no second submit; the fence is
 * consumed by its wait (a stale fence is refused); the bytes are the
 * image's. */
static int test_kdma_vblk_dma_read_matches_image_with_ownership_rules_body(void)
{
    struct driver d;
    CHECK(driver_start(NULL, 0, &d, NULL) == 0);
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { 2, 16 * PAGE, 2, 0 };
    cm_dma_pool_info_t pi;
    cm_dma_buffer_t b;
    cm_dma_fence_t f, f2;
    cm_dma_completion_t c;
    void *p;
    uint8_t tmp[16];
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "virtio-blk9", CM_DMA_ATTACH_READ), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_dma_pool_attach(pool, DEV, CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE), CM_OK);
    CHECK_ST(cm_dma_pool_get_info(pool, &pi), CM_OK);
    CHECK(pi.device_block_size == VBLK_BLOCK_SIZE && pi.device_size == DISK_BYTES);
    CHECK((pi.flags & CM_DMA_INFO_DEVICE) && (pi.flags & CM_DMA_INFO_DIRECT));
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    /* window 8 KiB into the buffer, 48 KiB from disk offset 72 KiB + 512 */
    const uint64_t off = 72 * 1024 + 512;
    const uint32_t len = 48 * 1024;
    cm_dma_op_t op = { CM_DMA_OP_READ, 8192, len, 0, off };
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, NULL), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_read(pool, b, 0, tmp, sizeof(tmp)), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_submit(pool, b, &op, &f2), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_fence_wait(pool, f, READY_TIMEOUT_NS, &c), CM_OK);
    CHECK(c.buffer == b && c.status == CM_OK && c.bytes == len);
    CHECK_ST(cm_dma_fence_wait(pool, f, 0, &c), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_fence_poll(pool, f, &c), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    long bad = image_mismatch((uint8_t *)p + 8192, off, len);
    if (bad >= 0)
        printf("# byte %ld of the read differs from the image\n", bad);
    CHECK(bad < 0);
    /* the rest of the buffer was not touched by the device */
    for (uint32_t k = 0; k < 8192; k++)
        CHECK(((uint8_t *)p)[k] == 0);
    /* the device refuses what it was not asked to do: past the end */
    cm_dma_op_t past = { CM_DMA_OP_READ, 0, 4096, 0, DISK_BYTES };
    cm_dma_fence_t f3;
    cm_status_t st = cm_dma_submit(pool, b, &past, &f3);
    if (st == CM_OK) {
        CHECK_ST(cm_dma_fence_wait(pool, f3, READY_TIMEOUT_NS, &c), CM_OK);
        CHECK(c.status != CM_OK && c.bytes == 0);
    } else {
        CHECK_ST(st, CM_ERR_OUT_OF_RANGE);
    }
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK(driver_stop(&d) == 0);
    printf("SELFTEST: dmabuffer ownership ok\n");
    return 0;
}

/* The block service: a second process reads through the driver's channel
 * and hashes the sealed VMO it receives (child_vblk_reader). */
static int test_kdma_vblk_read_served_to_second_process_as_sealed_vmo_body(void)
{
    struct driver d;
    cm_handle_t peer;
    cmk_exit_info_t info;
    CHECK(driver_start(NULL, 0, &d, &peer) == 0);
    const char *args[1] = { "child_vblk_reader" };
    int32_t pid = cmk_spawn("selftest", args, 1, &peer, 1, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    /* the child's exit closed the driver's only channel: it exits */
    CHECK(driver_stop(&d) == 0);
    return 0;
}

int child_vblk_reader(void)
{
    CHECK(cmk_startup_handle_count() == 1);
    cm_handle_t ch = cmk_startup_handle(0);
    struct vblk_reply rp;
    uint32_t nb = 0, nh = 0;
    CHECK_ST(cm_channel_wait_readable(ch, READY_TIMEOUT_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, &rp, sizeof(rp), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == sizeof(rp) && rp.status == CM_OK && rp.capacity == DISK_BYTES);

    const uint64_t off = 200 * 1024;
    const uint32_t len = 40 * 1024;
    struct vblk_request rq = { VBLK_MAGIC, VBLK_OP_READ, off, len, 0, 7 };
    cm_handle_t vmo;
    CHECK(call(ch, &rq, NULL, &rp, &vmo) == 0);
    CHECK(rp.status == CM_OK && rp.bytes == len && vmo != CM_HANDLE_INVALID);
    /* facts from the object, not from the driver */
    cm_vmo_info_t vi;
    cm_handle_info_t hi;
    void *p, *w;
    CHECK_ST(cm_vmo_get_info(vmo, &vi), CM_OK);
    CHECK_ST(cm_handle_get_info(vmo, &hi), CM_OK);
    CHECK(hi.type == CM_OBJ_VMO && (hi.rights & CM_RIGHT_WRITE) == 0);
    CHECK((vi.flags & CM_VMO_INFO_IMMUTABLE) != 0 && vi.size >= len);
    CHECK_ST(cm_vmo_map(vmo, 0, vi.size, CM_MAP_READ | CM_MAP_WRITE, &w), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(vmo, 0, vi.size, CM_MAP_READ, &p), CM_OK);
    uint8_t got[32], want[32];
    cm_sha256(p, len, got);
    image_sha256(off, len, want);
    CHECK_ST(cm_vmo_unmap(p, vi.size), CM_OK);
    CHECK(memcmp(got, want, 32) == 0);
    CHECK_ST(cm_handle_close(vmo), CM_OK);

    /* hostile requests: typed refusals, the driver keeps serving */
    struct { struct vblk_request rq; cm_status_t want; } bad[] = {
        { { VBLK_MAGIC ^ 1, VBLK_OP_READ, 0, 512, 0, 1 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, 9, 0, 512, 0, 2 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, VBLK_OP_READ, 100, 512, 0, 3 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, VBLK_OP_READ, 0, 100, 0, 4 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, VBLK_OP_READ, 0, 0, 0, 5 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, VBLK_OP_READ, 0, VBLK_MAX_IO + 512, 0, 6 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, VBLK_OP_READ, DISK_BYTES, 512, 0, 7 }, CM_ERR_OUT_OF_RANGE },
        { { VBLK_MAGIC, VBLK_OP_READ, UINT64_MAX - 511, 512, 0, 8 }, CM_ERR_OUT_OF_RANGE },
        { { VBLK_MAGIC, VBLK_OP_READ, 0, 512, 1, 9 }, CM_ERR_INVALID_ARGS },
        { { VBLK_MAGIC, VBLK_OP_WRITE, 0, 512, 0, 10 }, CM_ERR_INVALID_ARGS }, /* no VMO */
    };
    for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(call(ch, &bad[i].rq, NULL, &rp, &vmo) == 0);
        if (rp.status != bad[i].want)
            printf("# hostile request %u: %s\n", i, cm_status_name(rp.status));
        CHECK(rp.status == bad[i].want && vmo == CM_HANDLE_INVALID);
    }
    /* a write carrying a channel instead of a VMO; a short message */
    cm_handle_t x, y;
    CHECK_ST(cm_channel_create(0, &x, &y), CM_OK);
    struct vblk_request wr = { VBLK_MAGIC, VBLK_OP_WRITE, SCRATCH_OFFSET, 512, 0, 11 };
    CHECK(call(ch, &wr, &x, &rp, &vmo) == 0);
    CHECK(rp.status == CM_ERR_WRONG_TYPE && vmo == CM_HANDLE_INVALID);
    CHECK_ST(cm_handle_close(y), CM_OK);
    CHECK_ST(cm_channel_write(ch, "vblk", 4, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(ch, READY_TIMEOUT_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, &rp, sizeof(rp), &nb, NULL, 0, &nh), CM_OK);
    CHECK(rp.status == CM_ERR_INVALID_ARGS);
    /* still serving */
    CHECK(call(ch, &rq, NULL, &rp, &vmo) == 0);
    CHECK(rp.status == CM_OK && vmo != CM_HANDLE_INVALID);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    printf("SELFTEST: virtio-blk read served as a sealed VMO ok\n");
    CHECK_ST(cm_handle_close(ch), CM_OK);
    return 0;
}

/* Writes a pattern to the scratch region, reads it back through the
 * service (and so through the DMA path), then restores the image content
 * and checks it, so the next run finds the disk as mkdisk.sh wrote it. */
static int write_and_check(cm_handle_t ch, const uint8_t *data, uint32_t len, uint64_t tag)
{
    cm_handle_t src, vmo;
    struct vblk_reply rp;
    CHECK_ST(cm_vmo_create(len, 0, &src), CM_OK);
    CHECK_ST(cm_vmo_write(src, data, 0, len), CM_OK);
    struct vblk_request wr = { VBLK_MAGIC, VBLK_OP_WRITE, SCRATCH_OFFSET, len, 0, tag };
    CHECK(call(ch, &wr, &src, &rp, NULL) == 0);
    CHECK(rp.status == CM_OK && rp.bytes == len);
    struct vblk_request rd = { VBLK_MAGIC, VBLK_OP_READ, SCRATCH_OFFSET, len, 0, tag + 1 };
    CHECK(call(ch, &rd, NULL, &rp, &vmo) == 0);
    CHECK(rp.status == CM_OK && vmo != CM_HANDLE_INVALID);
    void *p;
    CHECK_ST(cm_vmo_map(vmo, 0, VBLK_MAX_IO, CM_MAP_READ, &p), CM_OK);
    int same = memcmp(p, data, len) == 0;
    CHECK_ST(cm_vmo_unmap(p, VBLK_MAX_IO), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    CHECK(same);
    return 0;
}

static int test_kdma_vblk_write_then_read_back_body(void)
{
    static uint8_t pattern[SCRATCH_LEN], original[SCRATCH_LEN];
    uint64_t seed = now_ticks();
    for (uint32_t k = 0; k < SCRATCH_LEN; k++) {
        pattern[k] = (uint8_t)((seed >> (8 * (k % 8))) + k * 13u);
        original[k] = image_byte(SCRATCH_OFFSET + k);
    }
    struct driver d;
    CHECK(driver_start(NULL, 0, &d, NULL) == 0);
    CHECK(write_and_check(d.ch, pattern, SCRATCH_LEN, 100) == 0);
    CHECK(write_and_check(d.ch, original, SCRATCH_LEN, 200) == 0);
    CHECK(driver_stop(&d) == 0);
    printf("SELFTEST: virtio-blk write read back ok\n");
    return 0;
}

/* Starts a driver that takes the first request to the device and never
 * completes it; returns with that request in flight on `pool`. */
static int start_stalled(struct driver *d, cm_handle_t *pool, cm_dma_buffer_t *b,
                         cm_dma_fence_t *f, cmk_counters_t *driver_only)
{
    static const char *const args[1] = { "--stall" };
    cm_dma_completion_t c;
    CHECK(driver_start(args, 1, d, NULL) == 0);
    CHECK_ST(cmk_counters(driver_only), CM_OK);
    cm_dma_pool_config_t cfg = { 2, 16 * PAGE, 2, 0 };
    CHECK_ST(cm_dma_pool_create(&cfg, pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(*pool, DEV, CM_DMA_ATTACH_READ), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(*pool, b), CM_OK);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 16 * PAGE, 0, 0 };
    CHECK_ST(cm_dma_submit(*pool, *b, &op, f), CM_OK);
    /* the driver has it and will never finish it */
    CHECK_ST(cm_dma_fence_wait(*pool, *f, 300ll * 1000 * 1000, &c), CM_ERR_TIMED_OUT);
    return 0;
}

static int kill_driver(struct driver *d)
{
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_kill(d->proc), CM_OK);
    CHECK_ST(cmk_proc_wait(d->proc, CM_TIMEOUT_INFINITE, &info), CM_OK);
    running_driver = CM_HANDLE_INVALID;
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cm_handle_close(d->proc), CM_OK);
    CHECK_ST(cm_handle_close(d->ch), CM_OK);
    return 0;
}

/* The pool's owner keeps waiting: killing the driver quiesces the device
 * and the fence returns the buffer with IO. */
static int test_kdma_vblk_driver_killed_mid_request_fails_the_fence_with_io_body(void)
{
    struct driver d;
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    cm_dma_pool_info_t pi;
    void *p;
    cmk_counters_t cd;
    CHECK(start_stalled(&d, &pool, &b, &f, &cd) == 0);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, NULL), CM_ERR_BAD_STATE);
    CHECK(kill_driver(&d) == 0);
    CHECK_ST(cm_dma_fence_wait(pool, f, READY_TIMEOUT_NS, &c), CM_OK);
    CHECK(c.buffer == b && c.status == CM_ERR_IO);
    CHECK_ST(cm_dma_pool_get_info(pool, &pi), CM_OK);
    CHECK(pi.in_flight == 0 && pi.quarantined == 0);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    /* the name is gone with its driver */
    cm_handle_t p2;
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    CHECK_ST(cm_dma_pool_create(&cfg, &p2), CM_OK);
    CHECK_ST(cm_dma_pool_attach(p2, DEV, CM_DMA_ATTACH_READ), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_handle_close(p2), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

/* The pool is destroyed while the device holds a buffer: its frames stay
 * out of the free list (quarantined) until the driver dies and the kernel
 * has reset the device; then every frame is back. */
static int test_kdma_vblk_buffers_quarantined_until_quiesced_then_reclaimed_body(void)
{
    cmk_counters_t c0, cd, c1, c2, c3;
    struct driver d;
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(start_stalled(&d, &pool, &b, &f, &cd) == 0);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cmk_counters(&c2), CM_OK);
    /* The idle buffer's 16 frames came back, the in-flight one's 16 did
     * not: with the driver alive and no pool there were cd.free_frames. */
    printf("# frames: no driver %lu, driver %lu, pool in flight %lu, pool closed %lu\n",
           (unsigned long)c0.free_frames, (unsigned long)cd.free_frames,
           (unsigned long)c1.free_frames, (unsigned long)c2.free_frames);
    CHECK(c2.free_frames >= c1.free_frames + 16);
    CHECK(c2.free_frames + 16 <= cd.free_frames);
    CHECK(kill_driver(&d) == 0);
    CHECK_ST(cmk_counters(&c3), CM_OK);
    CHECK(c3.free_frames == c0.free_frames);
    CHECK(c3.live_objects == c0.live_objects);
    printf("SELFTEST: virtio-blk quarantine until quiesce ok\n");
    return 0;
}

/* apps/dma_read_share.c, unchanged from the host, against "virtio-blk0":
 * its reference read goes through the driver's block service (the channel
 * given as its start-up handle 0, apps/platform.h app_plain_read). */
/* The driver registers DEV after its device handshake, and the app
 * attaches to DEV as soon as it starts: without this wait the app could
 * run first and fail with NOT_FOUND (seen under load). Polls every 10 ms
 * with a probe pool, for at most READY_TIMEOUT_NS. */
static int wait_registered(void)
{
    cm_dma_pool_config_t one = { 1, CM_PAGE_SIZE, 1, 0 };
    cm_handle_t pool, a, b;
    cm_status_t st = CM_ERR_NOT_FOUND;
    CHECK_ST(cm_dma_pool_create(&one, &pool), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    for (int i = 0; i < (int)(READY_TIMEOUT_NS / 10000000) && st == CM_ERR_NOT_FOUND; i++) {
        st = cm_dma_pool_attach(pool, DEV, CM_DMA_ATTACH_READ);
        if (st == CM_ERR_NOT_FOUND)
            CHECK_ST(cm_channel_wait_readable(a, 10000000), CM_ERR_TIMED_OUT);
    }
    CHECK_ST(st, CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int run_dma_read_share(const char *const *args, uint32_t nargs, cmk_exit_info_t *info)
{
    struct driver d;
    cm_handle_t peer;
    CHECK(driver_start(NULL, 0, &d, &peer) == 0);
    CHECK(wait_registered() == 0);
    int32_t pid = cmk_spawn("dma_read_share", args, nargs, &peer, 1, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cmk_wait(pid, info), CM_OK);
    CHECK(driver_stop(&d) == 0);
    return 0;
}

static int test_kdma_vblk_dma_read_share_app_runs_unchanged_body(void)
{
    static const char *const args[] = { DEV, "--offset", "131072", "--length", "98304" };
    cmk_exit_info_t info;
    CHECK(run_dma_read_share(args, 5, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    return 0;
}

static int test_kdma_vblk_dma_read_share_app_detects_corrupted_hash_body(void)
{
    static const char *const args[] = { DEV, "--offset", "4096", "--length", "8192",
                                        "--break-hash" };
    cmk_exit_info_t info;
    printf("# the next dma_read_share run must report a failure\n");
    CHECK(run_dma_read_share(args, 6, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code != 0);
    return 0;
}

/* CPU access in flight is refused by the MMU too: a pointer kept from
 * before the submit faults (the kernel removed the owner's PTEs), and the
 * child's death with its buffer held by the device leaves nothing behind
 * once the driver completes it (the runner's counter check). */
static int test_kdma_vblk_kept_pointer_faults_while_in_flight_body(void)
{
    struct driver d;
    cmk_exit_info_t info;
    CHECK(driver_start(NULL, 0, &d, NULL) == 0);
    const char *args[1] = { "child_vblk_touch_in_flight" };
    int32_t pid = cmk_spawn("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    printf("# child ended: reason %u scause %d\n", info.reason, info.code);
    CHECK(info.reason == CMK_EXIT_FAULTED);
    CHECK(info.code == 13 || info.code == 15); /* load / store page fault */
    CHECK(driver_stop(&d) == 0);
    return 0;
}

int child_vblk_touch_in_flight(void)
{
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    void *p;
    cm_dma_pool_config_t cfg = { 1, 4 * PAGE, 1, 0 };
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, DEV, CM_DMA_ATTACH_READ), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    ((volatile uint8_t *)p)[0] = 1; /* CPU-owned: fine */
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 4 * PAGE, 0, 0 };
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    uint8_t v = ((volatile uint8_t *)p)[0]; /* must fault */
    printf("# read %u from a buffer in flight: not refused\n", v);
    return 0;
}

/* A request split into several chains: the driver runs with at most 3
 * segments per chain and no merging, so a 60 KiB window starting 512
 * bytes into its buffer (16 segments: 3584, 14 x 4096, 512) takes 6
 * chains, each with its own sector; and the whole disk (1 MiB, 256 pages)
 * takes 86. Every byte is the image's. */
static int test_kdma_vblk_request_split_across_chains_reads_the_right_sectors_body(void)
{
    static const char *const args[] = { "--chain-segs", "3" };
    struct driver d;
    CHECK(driver_start(args, 2, &d, NULL) == 0);
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    void *p;
    cm_dma_pool_config_t cfg = { 1, CM_DMA_MAX_BUFFER_SIZE, 1, 0 };
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, DEV, CM_DMA_ATTACH_READ), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_op_t op = { CM_DMA_OP_READ, 512, 60 * 1024, 0, 3 * 512 };
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHECK_ST(cm_dma_fence_wait(pool, f, READY_TIMEOUT_NS, &c), CM_OK);
    CHECK(c.status == CM_OK && c.bytes == op.length);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    CHECK(((uint8_t *)p)[0] == 0 && ((uint8_t *)p)[511] == 0);
    CHECK(image_mismatch((uint8_t *)p + 512, op.device_offset, op.length) < 0);
    cm_dma_op_t all = { CM_DMA_OP_READ, 0, DISK_BYTES, 0, 0 };
    CHECK_ST(cm_dma_submit(pool, b, &all, &f), CM_OK);
    CHECK_ST(cm_dma_fence_wait(pool, f, READY_TIMEOUT_NS, &c), CM_OK);
    CHECK(c.status == CM_OK && c.bytes == DISK_BYTES);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    long bad = image_mismatch(p, 0, DISK_BYTES - SCRATCH_LEN);
    if (bad >= 0)
        printf("# byte %ld of the disk differs from the image\n", bad);
    CHECK(bad < 0);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK(driver_stop(&d) == 0);
    return 0;
}

/* The tests (user/selftest.c lists them), each with its driver cleanup. */
int test_kdma_vblk_dma_read_matches_image_with_ownership_rules(void)
{
    return with_cleanup(test_kdma_vblk_dma_read_matches_image_with_ownership_rules_body);
}

int test_kdma_vblk_read_served_to_second_process_as_sealed_vmo(void)
{
    return with_cleanup(test_kdma_vblk_read_served_to_second_process_as_sealed_vmo_body);
}

int test_kdma_vblk_write_then_read_back(void)
{
    return with_cleanup(test_kdma_vblk_write_then_read_back_body);
}

int test_kdma_vblk_driver_killed_mid_request_fails_the_fence_with_io(void)
{
    return with_cleanup(test_kdma_vblk_driver_killed_mid_request_fails_the_fence_with_io_body);
}

int test_kdma_vblk_buffers_quarantined_until_quiesced_then_reclaimed(void)
{
    return with_cleanup(test_kdma_vblk_buffers_quarantined_until_quiesced_then_reclaimed_body);
}

int test_kdma_vblk_dma_read_share_app_runs_unchanged(void)
{
    return with_cleanup(test_kdma_vblk_dma_read_share_app_runs_unchanged_body);
}

int test_kdma_vblk_dma_read_share_app_detects_corrupted_hash(void)
{
    return with_cleanup(test_kdma_vblk_dma_read_share_app_detects_corrupted_hash_body);
}

int test_kdma_vblk_kept_pointer_faults_while_in_flight(void)
{
    return with_cleanup(test_kdma_vblk_kept_pointer_faults_while_in_flight_body);
}

int test_kdma_vblk_request_split_across_chains_reads_the_right_sectors(void)
{
    return with_cleanup(test_kdma_vblk_request_split_across_chains_reads_the_right_sectors_body);
}
