/* SPDX-License-Identifier: MIT */
/* Device MMIO windows (docs/mmio.md): the capability, its bounds, who can
 * reach a device and the reset when its driver goes. The runner gives
 * test_mmio_* processes duplicates of every window as start-up handles. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"
#include "selftest.h"

#define SECOND_NS (1000ll * 1000 * 1000)

/* virtio-mmio registers (virtio 1.x, 4.2.2). */
#define VIRTIO_MAGIC     0x000u
#define VIRTIO_VERSION   0x004u
#define VIRTIO_DEVICE_ID 0x008u
#define VIRTIO_STATUS    0x070u
#define VIRTIO_MAGIC_VALUE 0x74726976u /* "virt" */
#define VIRTIO_ID_BLOCK 2u

#define WINDOW_BASE 0x10001000ull
#define WINDOW_SIZE 0x1000ull

static uint32_t rd(volatile void *base, uint32_t off)
{
    return *(volatile uint32_t *)((volatile uint8_t *)base + off);
}

static void wr(volatile void *base, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)((volatile uint8_t *)base + off) = v;
}

/* The start-up window of slot `slot`, or CM_HANDLE_INVALID (selftest.h). */
cm_handle_t window_of_slot(uint32_t slot)
{
    for (uint32_t i = 0; i < cmk_startup_handle_count(); i++) {
        cm_mmio_info_t info;
        if (cm_mmio_get_info(cmk_startup_handle(i), &info) == CM_OK && info.slot == slot)
            return cmk_startup_handle(i);
    }
    return CM_HANDLE_INVALID;
}

/* Maps window h read-only, reads its device id and unmaps: binds the
 * window to this process (until it exits). */
static int device_id_of(cm_handle_t h, uint32_t *magic, uint32_t *version, uint32_t *id)
{
    volatile void *w;
    CHECK_ST(cm_mmio_map(h, 0, WINDOW_SIZE, CM_MMIO_MAP_READ, &w), CM_OK);
    *magic = rd(w, VIRTIO_MAGIC);
    *version = rd(w, VIRTIO_VERSION);
    *id = rd(w, VIRTIO_DEVICE_ID);
    CHECK_ST(cm_mmio_unmap(h, w, WINDOW_SIZE), CM_OK);
    return 0;
}

/* The slot QEMU put the virtio-blk disk in (the harness adds exactly one
 * virtio device), or -1. Binds every window to this process. */
static int find_block_slot(void)
{
    for (uint32_t s = 0; s < 8; s++) {
        uint32_t magic, version, id;
        cm_handle_t h = window_of_slot(s);
        if (h == CM_HANDLE_INVALID || device_id_of(h, &magic, &version, &id) != 0)
            return -1;
        if (id == VIRTIO_ID_BLOCK)
            return (int)s;
    }
    return -1;
}

/* A duplicate of slot `slot`'s window with `rights` (and TRANSFER), for a
 * child. */
static int dup_window(uint32_t slot, cm_rights_t rights, cm_handle_t *out)
{
    cm_handle_t h = window_of_slot(slot);
    CHECK(h != CM_HANDLE_INVALID);
    if (rights != CM_RIGHTS_SAME)
        rights |= CM_RIGHT_TRANSFER;
    CHECK_ST(cm_handle_duplicate(h, rights, out), CM_OK);
    return 0;
}

/* Runs child `what` with handle h (moved; CM_HANDLE_INVALID: none). */
static int run_mmio_child(const char *what, cm_handle_t h, cmk_exit_info_t *info)
{
    const char *args[1] = { what };
    cm_handle_t proc;
    CHECK(cmk_spawn_ex("selftest", args, 1, &h, h != CM_HANDLE_INVALID ? 1 : 0, CMK_ROLE_MAIN,
                       NULL, &proc) > 0);
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, info), CM_OK);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    return 0;
}

/* The kernel's window list (docs/mmio.md), the virtio-blk identity read
 * through the mapped window, and an empty slot seen as a virtio transport
 * with no device. */
int test_mmio_map_reads_virtio_blk_identity(void)
{
    CHECK(cmk_startup_handle_count() == 8);
    for (uint32_t s = 0; s < 8; s++) {
        cm_mmio_info_t info;
        cm_handle_t h = window_of_slot(s);
        cm_handle_info_t hi;
        CHECK(h != CM_HANDLE_INVALID);
        CHECK_ST(cm_handle_get_info(h, &hi), CM_OK);
        CHECK(hi.type == CM_OBJ_MMIO);
        CHECK_ST(cm_mmio_get_info(h, &info), CM_OK);
        CHECK(info.base == WINDOW_BASE + s * WINDOW_SIZE && info.length == WINDOW_SIZE);
        CHECK(info.kind == CM_MMIO_KIND_VIRTIO && info.irq == 1 + s);
        CHECK(info.allowed == (CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE));
    }
    int blk = find_block_slot();
    CHECK(blk >= 0);
    volatile void *w;
    cm_handle_t h = window_of_slot((uint32_t)blk);
    CHECK_ST(cm_mmio_map(h, 0, WINDOW_SIZE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE, &w), CM_OK);
    CHECK(rd(w, VIRTIO_MAGIC) == VIRTIO_MAGIC_VALUE);
    CHECK(rd(w, VIRTIO_VERSION) == 2); /* modern: force-legacy=false */
    CHECK(rd(w, VIRTIO_DEVICE_ID) == VIRTIO_ID_BLOCK);
    printf("SELFTEST: mmio map ok (slot %d: magic %x version %u device %u)\n", blk,
           rd(w, VIRTIO_MAGIC), rd(w, VIRTIO_VERSION), rd(w, VIRTIO_DEVICE_ID));
    CHECK_ST(cm_mmio_unmap(h, w, WINDOW_SIZE), CM_OK);
    /* An empty slot: the transport answers, device id 0. */
    uint32_t empty = blk == 0 ? 1u : 0u, magic, version, id;
    CHECK(device_id_of(window_of_slot(empty), &magic, &version, &id) == 0);
    CHECK(magic == VIRTIO_MAGIC_VALUE && version == 2 && id == 0);
    return 0;
}

/* Every argument the caller can get wrong, each with its typed error, and
 * the window's bounds (CM_MMIO_MAX_MAPPINGS). */
int test_mmio_map_refuses_bad_arguments_typed(void)
{
    cm_handle_t h = window_of_slot(0), vmo, ro, nomap, closed;
    volatile void *w;
    CHECK(h != CM_HANDLE_INVALID);
    /* No capability, or the wrong one. */
    CHECK_ST(cm_mmio_map(CM_HANDLE_INVALID, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_duplicate(h, CM_RIGHTS_SAME, &closed), CM_OK);
    CHECK_ST(cm_handle_close(closed), CM_OK);
    CHECK_ST(cm_mmio_map(closed, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_mmio_map(vmo, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_WRONG_TYPE);
    cm_mmio_info_t info;
    CHECK_ST(cm_mmio_get_info(vmo, &info), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_mmio_get_info(h, NULL), CM_ERR_INVALID_ARGS);
    /* Outside the window, and arithmetic that would wrap. */
    CHECK_ST(cm_mmio_map(h, PAGE, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_mmio_map(h, 0, 2 * PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_mmio_map(h, UINT64_MAX - PAGE + 1, 2 * PAGE, CM_MMIO_MAP_READ, &w),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_mmio_map(h, PAGE, UINT64_MAX - PAGE + 1, CM_MMIO_MAP_READ, &w),
             CM_ERR_OUT_OF_RANGE);
    /* Execute: never. */
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_EXEC, &w),
             CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE | CM_MMIO_MAP_EXEC,
                         &w), CM_ERR_ACCESS_DENIED);
    /* Malformed. */
    CHECK_ST(cm_mmio_map(h, 1, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_map(h, 0, PAGE - 1, CM_MMIO_MAP_READ, &w), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_map(h, 0, 0, CM_MMIO_MAP_READ, &w), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, 1u << 3, &w), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, 0, &w), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_WRITE, &w), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ, NULL), CM_ERR_INVALID_ARGS);
    /* Rights: WRITE for a writable mapping, MAP for any. */
    CHECK_ST(cm_handle_duplicate(h, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    CHECK_ST(cm_handle_duplicate(h, CM_RIGHT_READ | CM_RIGHT_WRITE, &nomap), CM_OK);
    CHECK_ST(cm_mmio_map(ro, 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE, &w),
             CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_mmio_map(nomap, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_mmio_queue_alloc(ro, 1, (void **)&w, (uint64_t[1]){ 0 }),
             CM_ERR_ACCESS_DENIED);
    /* The bound: CM_MMIO_MAX_MAPPINGS live mappings of one window. */
    volatile void *maps[CM_MMIO_MAX_MAPPINGS];
    for (uint32_t i = 0; i < CM_MMIO_MAX_MAPPINGS; i++)
        CHECK_ST(cm_mmio_map(i % 2 ? ro : h, 0, PAGE, CM_MMIO_MAP_READ, &maps[i]), CM_OK);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_NO_RESOURCES);
    CHECK(rd(maps[CM_MMIO_MAX_MAPPINGS - 1], VIRTIO_MAGIC) == VIRTIO_MAGIC_VALUE);
    /* A syscall never takes its buffer from device memory. */
    CHECK_ST(cm_vmo_write(vmo, (const void *)maps[0], 0, 16), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_read(vmo, (void *)maps[0], 0, 16), CM_ERR_INVALID_ARGS);
    /* Unmap: exactly a mapping of this window. */
    CHECK_ST(cm_mmio_unmap(h, maps[0], 2 * PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_unmap(h, (volatile uint8_t *)maps[0] + 1, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_unmap(window_of_slot(1), maps[0], PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_mmio_unmap(vmo, maps[0], PAGE), CM_ERR_WRONG_TYPE);
    for (uint32_t i = 0; i < CM_MMIO_MAX_MAPPINGS; i++)
        CHECK_ST(cm_mmio_unmap(h, maps[i], PAGE), CM_OK);
    CHECK_ST(cm_mmio_unmap(h, maps[0], PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(nomap), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}

/* Child with no handle at all: no value names a window, and the physical
 * window is outside every address it can reserve. */
int child_mmio_no_capability(void)
{
    volatile void *w;
    cm_handle_t vmar;
    void *base;
    CHECK(cmk_startup_handle_count() == 0);
    for (cm_handle_t v = 0; v < 4096; v++)
        CHECK(cm_mmio_map(v, 0, PAGE, CM_MMIO_MAP_READ, &w) != CM_OK);
    CHECK_ST(cm_mmio_map(UINT32_MAX, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)WINDOW_BASE, PAGE, CM_VMAR_FIXED, &vmar, &base),
             CM_ERR_OUT_OF_RANGE);
    return 0;
}

/* Child: reads the device's registers at their physical address. */
int child_mmio_touch_physical(void)
{
    (void)*(volatile uint32_t *)(uintptr_t)(WINDOW_BASE + 7 * WINDOW_SIZE);
    return 0;
}

/* Child holding a duplicate of a window another process has bound. */
int child_mmio_bound_elsewhere(void)
{
    volatile void *w;
    void *q;
    uint64_t addr[1];
    cm_handle_t h = cmk_startup_handle(0);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_BAD_STATE);
    CHECK_ST(cmk_mmio_queue_alloc(h, 1, &q, addr), CM_ERR_BAD_STATE);
    return 0;
}

/* A process without the capability cannot reach the device by any means:
 * no handle value maps it, its physical address is not in its address
 * space (a load there faults, typed), and a process that holds a
 * duplicate still cannot map a window another process drives. */
int test_mmio_second_process_without_capability_cannot_reach_device(void)
{
    cmk_exit_info_t info;
    CHECK(run_mmio_child("child_mmio_no_capability", CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK(run_mmio_child("child_mmio_touch_physical", CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 13);
    CHECK(info.fault_va == WINDOW_BASE + 7 * WINDOW_SIZE);
    CHECK(info.status == CM_ERR_INVALID_ARGS);
    /* This process binds slot 0; a child with a duplicate cannot map it. */
    volatile void *w;
    cm_handle_t dup;
    CHECK_ST(cm_mmio_map(window_of_slot(0), 0, PAGE, CM_MMIO_MAP_READ, &w), CM_OK);
    CHECK(dup_window(0, CM_RIGHTS_SAME, &dup) == 0);
    CHECK(run_mmio_child("child_mmio_bound_elsewhere", dup, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK(rd(w, VIRTIO_MAGIC) == VIRTIO_MAGIC_VALUE);
    return 0;
}

/* Child: a read-only mapping refuses a store (typed fault). */
int child_mmio_write_read_only(void)
{
    volatile void *w;
    CHECK_ST(cm_mmio_map(cmk_startup_handle(0), 0, PAGE, CM_MMIO_MAP_READ, &w), CM_OK);
    wr(w, VIRTIO_STATUS, 1);
    return 0;
}

/* Child: drives the device a little (ACKNOWLEDGE | DRIVER) and exits. */
int child_mmio_set_status_then_exit(void)
{
    volatile void *w;
    CHECK_ST(cm_mmio_map(cmk_startup_handle(0), 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE,
                         &w), CM_OK);
    wr(w, VIRTIO_STATUS, 3);
    CHECK(rd(w, VIRTIO_STATUS) == 3);
    return 0;
}

/* Child given every window: exits with 100 + the virtio-blk slot, so that
 * its parent learns the slot without binding any window itself. */
int child_mmio_find_block(void)
{
    int blk = find_block_slot();
    return blk < 0 ? 1 : 100 + blk;
}

static int block_slot_via_child(uint32_t *slot)
{
    cm_handle_t dups[8], proc;
    cmk_exit_info_t info;
    const char *args[1] = { "child_mmio_find_block" };
    for (uint32_t s = 0; s < 8; s++)
        CHECK(dup_window(s, CM_RIGHT_READ | CM_RIGHT_MAP, &dups[s]) == 0);
    CHECK(cmk_spawn_ex("selftest", args, 1, dups, 8, CMK_ROLE_MAIN, NULL, &proc) > 0);
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code >= 100 && info.code < 108);
    *slot = (uint32_t)info.code - 100;
    return 0;
}

/* Child: exits with the device's Status register. */
int child_mmio_read_status(void)
{
    volatile void *w;
    CHECK_ST(cm_mmio_map(cmk_startup_handle(0), 0, PAGE, CM_MMIO_MAP_READ, &w), CM_OK);
    return (int)rd(w, VIRTIO_STATUS);
}

/* Child (window, channel): sets Status, drops its only window handle,
 * tells its parent, waits for the answer, then touches the old mapping. */
int child_mmio_close_then_touch(void)
{
    volatile void *w;
    cm_handle_t h = cmk_startup_handle(0), ch = cmk_startup_handle(1);
    char byte = 'c';
    uint32_t n, nh;
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ | CM_MMIO_MAP_WRITE, &w), CM_OK);
    wr(w, VIRTIO_STATUS, 3);
    CHECK(rd(w, VIRTIO_STATUS) == 3);
    CHECK_ST(cm_handle_close(h), CM_OK);
    CHECK_ST(cm_channel_write(ch, &byte, 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(ch, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, &byte, 1, &n, NULL, 0, &nh), CM_OK);
    (void)rd(w, VIRTIO_MAGIC); /* must fault: the window left with the handle */
    return 0;
}

/* Quiesce: when the process driving a window exits, or drops its last
 * handle to it, the kernel unmaps the window from it and resets the device
 * (Status reads 0 again), before the process ends; a read-only mapping
 * never writes. */
int test_mmio_driver_exit_or_close_resets_device(void)
{
    cmk_exit_info_t info;
    cm_handle_t dup, mine, theirs, proc;
    uint32_t slot;
    CHECK(block_slot_via_child(&slot) == 0);
    /* Read-only: a store faults, typed. */
    CHECK(dup_window(slot, CM_RIGHT_READ | CM_RIGHT_MAP, &dup) == 0);
    CHECK(run_mmio_child("child_mmio_write_read_only", dup, &info) == 0);
    CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 15);
    CHECK(info.status == CM_ERR_ACCESS_DENIED);
    CHECK(dup_window(slot, CM_RIGHT_READ | CM_RIGHT_MAP, &dup) == 0);
    CHECK(run_mmio_child("child_mmio_read_status", dup, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    /* Exit: the driver left Status 3; the next one finds the device reset. */
    CHECK(dup_window(slot, CM_RIGHTS_SAME, &dup) == 0);
    CHECK(run_mmio_child("child_mmio_set_status_then_exit", dup, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK(dup_window(slot, CM_RIGHT_READ | CM_RIGHT_MAP, &dup) == 0);
    CHECK(run_mmio_child("child_mmio_read_status", dup, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    /* Close: while the child still runs, its binding is over (this process
     * maps the window) and the device is reset; its old pointer faults. */
    const char *args[1] = { "child_mmio_close_then_touch" };
    cm_handle_t hs[2];
    CHECK(dup_window(slot, CM_RIGHTS_SAME, &hs[0]) == 0);
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    hs[1] = theirs;
    CHECK(cmk_spawn_ex("selftest", args, 1, hs, 2, CMK_ROLE_MAIN, NULL, &proc) > 0);
    CHECK_ST(cm_channel_wait_readable(mine, 10 * SECOND_NS), CM_OK);
    char byte;
    uint32_t n, nh;
    CHECK_ST(cm_channel_read(mine, &byte, 1, &n, NULL, 0, &nh), CM_OK);
    volatile void *w;
    cm_handle_t h = window_of_slot(slot);
    CHECK_ST(cm_mmio_map(h, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_OK);
    CHECK(rd(w, VIRTIO_STATUS) == 0);
    CHECK(rd(w, VIRTIO_DEVICE_ID) == VIRTIO_ID_BLOCK);
    CHECK_ST(cm_channel_write(mine, &byte, 1, NULL, 0), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 13);
    CHECK(info.status == CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    return 0;
}

/* Child: allocates queue pages and exits holding them. */
int child_mmio_queue_then_exit(void)
{
    void *q;
    uint64_t addr[4];
    CHECK_ST(cmk_mmio_queue_alloc(cmk_startup_handle(0), 4, &q, addr), CM_OK);
    memset(q, 0x5a, 4 * PAGE);
    return 0;
}

/* Queue memory: zeroed RAM pages the caller can write, their device
 * addresses page-aligned RAM addresses, bounded per window
 * (CMK_MMIO_MAX_QUEUE_PAGES), charged to the caller and back at its exit
 * (after the device reset). */
int test_mmio_queue_alloc_bounds_and_frames(void)
{
    cm_handle_t h = window_of_slot(2), vmo, ro, dup;
    void *q, *q2;
    uint64_t addr[CMK_MMIO_MAX_QUEUE_PAGES + 1];
    cmk_counters_t c0, c1, c2;
    cmk_exit_info_t info;
    CHECK(h != CM_HANDLE_INVALID);
    /* A child's queue pages come back when it exits. */
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(dup_window(3, CM_RIGHTS_SAME, &dup) == 0);
    CHECK(run_mmio_child("child_mmio_queue_then_exit", dup, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(c1.free_frames == c0.free_frames);
    /* Malformed, wrong handle, missing rights. */
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cmk_mmio_queue_alloc(h, 0, &q, addr), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_mmio_queue_alloc(h, 1, NULL, addr), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_mmio_queue_alloc(h, 1, &q, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_mmio_queue_alloc(vmo, 1, &q, addr), CM_ERR_WRONG_TYPE);
    CHECK_ST(cmk_mmio_queue_alloc(CM_HANDLE_INVALID, 1, &q, addr), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_duplicate(h, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    CHECK_ST(cmk_mmio_queue_alloc(ro, 1, &q, addr), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_mmio_queue_alloc(h, CMK_MMIO_MAX_QUEUE_PAGES + 1, &q, addr),
             CM_ERR_NO_RESOURCES);
    /* Good pages. */
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK_ST(cmk_mmio_queue_alloc(h, 4, &q, addr), CM_OK);
    CHECK_ST(cmk_counters(&c2), CM_OK);
    CHECK(c1.free_frames - c2.free_frames >= 4);
    for (uint32_t i = 0; i < 4; i++) {
        CHECK(addr[i] % PAGE == 0 && addr[i] >= 0x80000000ull && addr[i] < 0x88000000ull);
        for (uint32_t j = 0; j < i; j++)
            CHECK(addr[i] != addr[j]);
        for (uint32_t k = 0; k < PAGE; k++)
            CHECK(((volatile uint8_t *)q)[i * PAGE + k] == 0);
    }
    memset(q, 0xa5, 4 * PAGE);
    CHECK(((volatile uint8_t *)q)[4 * PAGE - 1] == 0xa5);
    /* The bound, then one page past it. */
    CHECK_ST(cmk_mmio_queue_alloc(h, CMK_MMIO_MAX_QUEUE_PAGES - 4, &q2, addr), CM_OK);
    CHECK_ST(cmk_mmio_queue_alloc(h, 1, &q2, addr), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}
