/* SPDX-License-Identifier: MIT */
/* Kernel DMA and device windows against hostile callers (docs/dma.md
 * "Kernel target", docs/mmio.md): arguments that the call itself makes
 * bad (an out pointer in the memory the call unmaps, a user range that
 * goes bad halfway) and handles that try to leave their process. Each
 * case must be a typed error with nothing changed: no kernel panic, no
 * half-done copy, no binding carried along. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"
#include "selftest.h"
#include "sys.h"

#define SECOND_NS (1000ll * 1000 * 1000)
#define DEV_SIZE (1ull << 20)
#define RW (CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE)

static cmk_dma_request_t hreq; /* 4 KiB: not on the stack */

/* submit's fence out pointer inside the very buffer being submitted, with
 * a device attached (so the call reaches the commit, which unmaps that
 * buffer): INVALID_ARGS with the buffer still CPU-owned, mapped and not
 * queued; once a kernel panic ("validated copyout failed"). */
int test_kdma_hostile_submit_fence_pointer_in_its_own_buffer_is_typed_and_undone(void)
{
    cm_handle_t dev, pool;
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    cm_dma_pool_info_t info;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    void *p, *p2;
    uint32_t size;
    cm_dma_op_t op = { CM_DMA_OP_WRITE, 0, PAGE, 0, 0 };
    CHECK_ST(cmk_dma_device_create(window_of_slot(3), "hs0", 512, DEV_SIZE, RW, &dev), CM_OK);
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "hs0", RW), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, &size), CM_OK);
    memset(p, 0x5a, size);
    /* The fence would land in the buffer the submit unmaps: refused
     * (core/dma_rules), not a kernel panic on the copy-out. */
    CHECK_ST(cm_dma_submit(pool, b, &op, (cm_dma_fence_t *)p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_submit(pool, b, &op, (cm_dma_fence_t *)((uint8_t *)p + PAGE - 8)),
             CM_ERR_INVALID_ARGS);
    /* Nothing happened: still CPU-owned, still mapped, nothing queued. */
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK(info.in_flight == 0 && info.free == 0);
    CHECK_ST(cmk_dma_device_next(dev, 0, &hreq), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p2, &size), CM_OK);
    CHECK(p2 == p);
    /* A proper submit still works and completes. */
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHECK_ST(cmk_dma_device_next(dev, 0, &hreq), CM_OK);
    CHECK_ST(cmk_dma_device_complete(dev, hreq.id, CM_OK, PAGE), CM_OK);
    CHECK_ST(cm_dma_fence_wait(pool, f, 0, &c), CM_OK);
    CHECK(c.buffer == b && c.status == CM_OK && c.bytes == PAGE);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_handle_close(dev), CM_OK);
    return 0;
}

/* cm_dma_buffer_write/read with a user range whose second half is an
 * unmapped page of a reservation: INVALID_ARGS, and neither the buffer
 * nor the caller's memory is changed (no half copy). */
int test_kdma_hostile_buffer_rw_half_bad_user_range_copies_nothing(void)
{
    cm_handle_t pool, vmar, vmo;
    cm_dma_pool_config_t cfg = { 1, 2 * PAGE, 1, 0 };
    cm_dma_buffer_t b;
    void *base, *m;
    static uint8_t fill[2 * PAGE], back[2 * PAGE];
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    memset(fill, 0x11, sizeof(fill));
    CHECK_ST(cm_dma_buffer_write(pool, b, 0, fill, 2 * PAGE), CM_OK);
    /* Page 0 of the reservation mapped, page 1 not. */
    CHECK_ST(cm_vmar_reserve(NULL, 2 * PAGE, 0, &vmar, &base), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmar_map(vmar, 0, vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE | CM_VMAR_MAP_SPECIFIC,
                         &m), CM_OK);
    CHECK(m == base);
    uint8_t *half = (uint8_t *)m + PAGE / 2;
    memset(m, 0x22, PAGE);
    /* Buffer offset PAGE/2: the kernel copies page piece by page piece of
     * the buffer, so the first piece (user bytes still mapped) would go
     * before the second (user page missing) failed. */
    CHECK_ST(cm_dma_buffer_write(pool, b, PAGE / 2, half, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_buffer_read(pool, b, 0, back, 2 * PAGE), CM_OK);
    for (uint32_t i = 0; i < 2 * PAGE; i++)
        CHECK(back[i] == 0x11);
    CHECK_ST(cm_dma_buffer_read(pool, b, PAGE / 2, half, PAGE), CM_ERR_INVALID_ARGS);
    for (uint32_t i = 0; i < PAGE / 2; i++)
        CHECK(half[i] == 0x22);
    CHECK_ST(cm_vmar_unmap(vmar, m, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    CHECK_ST(cm_handle_close(vmar), CM_OK);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

/* What may leave a process. Pool and DMA device handles have no TRANSFER
 * right and cannot gain one (duplicate: INVALID_ARGS, not a subset;
 * channel write and spawn: ACCESS_DENIED, the
 * written duplicate consumed as the channel rules say). An MMIO handle may
 * move, but the binding does not go with it: moving the driver's only
 * handle quiesces the window at once (device reset, its DMA device
 * unregistered), and whoever holds the handle next binds it afresh.
 * (The window is the disk's: a slot without a device ignores Status.) */
int test_kdma_hostile_pool_and_device_stay_home_and_a_moved_window_unbinds(void)
{
    cm_handle_t pool, dev, dup, a, b, moved, dev2;
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    cm_handle_info_t hi;
    volatile void *w;
    cm_handle_t win = window_of_slot(7); /* QEMU plugs the disk in the highest slot */
    uint32_t n, nh;
    char byte;
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cmk_dma_device_create(win, "ht0", 512, DEV_SIZE, RW, &dev), CM_OK);
    CHECK_ST(cm_mmio_map(win, 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE, &w), CM_OK);
    CHECK(*(volatile uint32_t *)((volatile uint8_t *)w + 0x008) == 2); /* a block device */
    *(volatile uint32_t *)((volatile uint8_t *)w + 0x70) = 3; /* ACKNOWLEDGE | DRIVER */
    CHECK(*(volatile uint32_t *)((volatile uint8_t *)w + 0x70) == 3);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    /* Pool and device: no TRANSFER, none to be had. */
    CHECK_ST(cm_handle_duplicate(pool, CM_DMA_POOL_DEFAULT_RIGHTS | CM_RIGHT_TRANSFER, &dup),
             CM_ERR_INVALID_ARGS); /* not a subset */
    CHECK_ST(cm_handle_duplicate(pool, CM_RIGHTS_SAME, &dup), CM_OK);
    CHECK_ST(cm_channel_write(a, "p", 1, &dup, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_get_info(dup, &hi), CM_ERR_BAD_HANDLE); /* consumed */
    CHECK_ST(cm_handle_duplicate(dev, CM_RIGHTS_SAME, &dup), CM_OK);
    CHECK_ST(cm_channel_write(a, "d", 1, &dup, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_get_info(dup, &hi), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_duplicate(pool, CM_RIGHTS_SAME, &dup), CM_OK);
    const char *args[1] = { "child_kdma_fake_driver" };
    CHECK(cmk_spawn_ex("selftest", args, 1, &dup, 1, CMK_ROLE_MAIN, NULL, NULL) ==
          CM_ERR_ACCESS_DENIED);
    (void)cm_handle_close(dup);
    /* The window moves; the binding ends with the mover's last handle. */
    CHECK_ST(cm_channel_write(a, "w", 1, &win, 1), CM_OK);
    CHECK_ST(cmk_dma_device_next(dev, 0, &hreq), CM_ERR_BAD_STATE); /* quiesced */
    CHECK_ST(cm_dma_pool_attach(pool, "ht0", RW), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_channel_read(b, &byte, 1, &n, &moved, 1, &nh), CM_OK);
    CHECK(nh == 1);
    CHECK_ST(cm_mmio_map(moved, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_OK);
    CHECK(*(volatile uint32_t *)((volatile uint8_t *)w + 0x70) == 0); /* reset */
    CHECK_ST(cmk_dma_device_create(moved, "ht0", 512, DEV_SIZE, RW, &dev2), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, "ht0", RW), CM_OK);
    CHECK_ST(cm_handle_close(dev2), CM_OK);
    CHECK_ST(cm_handle_close(dev), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

/* Raw arguments (high bits, overflowing ranges, kernel addresses) and
 * device-window addresses handed to other calls; device-side misuse
 * (another device's id, a bad status or byte count, twice, after the
 * quiesce; a request buffer too small). Attacks that held when written:
 * each is typed, and nothing is lost or half done (a request next could
 * not write stays queued). */
int test_kdma_hostile_raw_arguments_and_device_side_misuse_are_typed(void)
{
    cm_handle_t w5 = window_of_slot(5), w6 = window_of_slot(6), da, db, pool, vmo, a, b;
    cm_dma_pool_config_t cfg = { 2, PAGE, 2, 0 };
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, PAGE, 0, 0 };
    cm_dma_buffer_t x, y;
    cm_dma_fence_t fx;
    cm_dma_completion_t c;
    volatile void *w;
    uint64_t va, addrs[2];
    const uint64_t kernel_va = 0x80200000ull;
    const uint32_t R = CM_MMIO_MAP_READ;
    /* cm_mmio_map: high bits, overflow, misalignment, kernel out pointer. */
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, w5, 1ull << 63, PAGE, R, &va), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, w5, 0, 1ull << 63, R, &va), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, w5, PAGE, 0 - (uint64_t)PAGE, R, &va),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, w5, 8, PAGE, R, &va), CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, w5, 0, PAGE, R | (1ull << 40), &va),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, w5, 0, PAGE, R, kernel_va), CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS5(CMK_SYS_MMIO_MAP, (uint64_t)w5 | (1ull << 32), 0, PAGE, R, &va),
             CM_ERR_BAD_HANDLE);
    CHECK_ST(CMK_SYS4(CMK_SYS_MMIO_QUEUE_ALLOC, w5, (1ull << 61) + 1, &va, addrs),
             CM_ERR_NO_RESOURCES); /* pages * 8 would wrap: the bound comes first */
    CHECK_ST(CMK_SYS4(CMK_SYS_MMIO_QUEUE_ALLOC, w5, 2, &va, kernel_va), CM_ERR_INVALID_ARGS);
    /* Nothing above bound the window: another process could still take it. */
    CHECK_ST(cm_mmio_map(w5, 0, PAGE, R, &w), CM_OK);
    /* Unmap: only the exact mapping, through its own window's handle. */
    CHECK_ST(cm_mmio_unmap(w6, w, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_unmap(w5, w, 2 * PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_unmap(w5, (volatile uint8_t *)w + 8, PAGE), CM_ERR_INVALID_ARGS);
    /* A device window is not memory any other call reads or writes. */
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_write(vmo, (const void *)w, 0, 16), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_read(vmo, (void *)w, 0, 16), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, (const void *)w, 16, NULL, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_word_wait((const volatile uint32_t *)w, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w5, (const char *)w, 512, DEV_SIZE, RW, &da),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_next(CM_HANDLE_INVALID, 0, (cmk_dma_request_t *)w),
             CM_ERR_INVALID_ARGS);
    /* Device registration: bits above 32 in block size or flags. */
    const char *hr0 = "hr0";
    CHECK_ST(cmk__syscall(CMK_SYS_DMA_DEVICE_CREATE, w5, (uint64_t)(uintptr_t)hr0,
                          (1ull << 32) | 512, DEV_SIZE, RW, (uint64_t)(uintptr_t)&da, 0),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk__syscall(CMK_SYS_DMA_DEVICE_CREATE, w5, (uint64_t)(uintptr_t)hr0, 512, DEV_SIZE,
                          (1ull << 32) | RW, (uint64_t)(uintptr_t)&da, 0),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_create(w5, "hr0", 512, DEV_SIZE, RW, &da), CM_OK);
    CHECK_ST(cmk_dma_device_create(w6, "hr1", 512, DEV_SIZE, RW, &db), CM_OK);
    /* Pool side: high bits. */
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(CMK_SYS3(CMK_SYS_DMA_POOL_ATTACH, pool, "hr0", (1ull << 32) | RW),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_pool_attach(pool, "hr0", RW), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &x), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &y), CM_OK);
    uint8_t byte = 0;
    CHECK_ST(cmk__syscall(CMK_SYS_DMA_BUFFER_RW, pool, x, 1ull << 32, (uint64_t)(uintptr_t)&byte,
                          1, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk__syscall(CMK_SYS_DMA_BUFFER_RW, pool, x, PAGE, (uint64_t)(uintptr_t)&byte,
                          0 - 1ull, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS5(CMK_SYS_DMA_FENCE_WAIT, pool, 0x10001, INT64_MIN, &c, 0),
             CM_ERR_INVALID_ARGS);
    /* A buffer in flight is no source for a channel write either. */
    void *px;
    uint32_t size;
    CHECK_ST(cm_dma_buffer_map(pool, x, &px, &size), CM_OK);
    CHECK_ST(cm_dma_submit(pool, x, &op, &fx), CM_OK);
    CHECK_ST(cm_channel_write(a, px, 16, NULL, 0), CM_ERR_INVALID_ARGS);
    /* next into a request buffer too small for a request: typed, and the
     * request stays queued for the next good call. */
    void *small;
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &small), CM_OK);
    CHECK_ST(cmk_dma_device_next(da, 0, (cmk_dma_request_t *)small), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_next(da, 0, &hreq), CM_OK);
    uint64_t id = hreq.id;
    CHECK(hreq.length == PAGE && hreq.segment_count >= 1);
    /* Completion: another device's handle, bad status or bytes, twice. */
    CHECK_ST(cmk_dma_device_complete(db, id, CM_OK, PAGE), CM_ERR_BAD_HANDLE);
    CHECK_ST(cmk_dma_device_complete(da, id, CM_ERR_TIMED_OUT, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS4(CMK_SYS_DMA_DEVICE_COMPLETE, da, id, (uint32_t)CM_ERR_IO, 0),
             CM_ERR_INVALID_ARGS); /* not sign-extended: not a status */
    CHECK_ST(CMK_SYS4(CMK_SYS_DMA_DEVICE_COMPLETE, da, id, 5, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_dma_device_complete(da, id, CM_OK, PAGE + 1), CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS4(CMK_SYS_DMA_DEVICE_COMPLETE, da, id, CM_OK, (1ull << 32) | 1),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(CMK_SYS4(CMK_SYS_DMA_DEVICE_COMPLETE, da, id | (1ull << 16), CM_OK, 0),
             CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_fence_poll(pool, fx, &c), CM_ERR_SHOULD_WAIT); /* none of those counted */
    CHECK_ST(cmk_dma_device_complete(da, id, CM_ERR_IO, 0), CM_OK);
    CHECK_ST(cmk_dma_device_complete(da, id, CM_OK, 0), CM_ERR_BAD_HANDLE); /* twice */
    CHECK_ST(cm_dma_fence_wait(pool, fx, 0, &c), CM_OK);
    CHECK(c.buffer == x && c.status == CM_ERR_IO && c.bytes == 0);
    /* After the quiesce (last window handle moved away): ids stale, next
     * BAD_STATE, submit IO, the buffer back to its owner with IO. */
    cm_dma_fence_t fy;
    CHECK_ST(cm_dma_submit(pool, y, &op, &fy), CM_OK);
    CHECK_ST(cmk_dma_device_next(da, 0, &hreq), CM_OK);
    CHECK_ST(cm_channel_write(a, "w", 1, &w5, 1), CM_OK);
    CHECK_ST(cmk_dma_device_complete(da, hreq.id, CM_OK, PAGE), CM_ERR_BAD_HANDLE);
    CHECK_ST(cmk_dma_device_next(da, 0, &hreq), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_fence_wait(pool, fy, 0, &c), CM_OK);
    CHECK(c.buffer == y && c.status == CM_ERR_IO);
    CHECK_ST(cm_dma_submit(pool, y, &op, &fy), CM_ERR_IO);
    CHECK_ST(cm_handle_close(da), CM_OK);
    CHECK_ST(cm_handle_close(db), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}
