/* SPDX-License-Identifier: MIT */
/* DMA pool and MMIO window cases the two targets share (docs/dma.md,
 * docs/mmio.md). None needs a device: the pools' rules (core/dma_own,
 * core/dma_rules) are the same code on both targets, and these cases show
 * the two implementations apply them the same way. */
#include <string.h>

#include "dma_cases.h"
#include "harness.h"

#define PAGE CM_PAGE_SIZE

int test_dma_pool_config_bounds_are_invalid_args(void)
{
    static const cm_dma_pool_config_t bad[] = {
        { 0, PAGE, 1, 0 },
        { CM_DMA_MAX_BUFFERS + 1, PAGE, 1, 0 },
        { 1, 0, 1, 0 },
        { 1, 100, 1, 0 },
        { 1, CM_DMA_MAX_BUFFER_SIZE + PAGE, 1, 0 },
        { 2, PAGE, 0, 0 },
        { 2, PAGE, 3, 0 },
        { CM_DMA_MAX_BUFFERS, PAGE, CM_DMA_MAX_IN_FLIGHT + 1, 0 },
        { 1, PAGE, 1, 1u << 7 },
        { 1, PAGE, 1, CM_DMA_POOL_CPU_GUARD | CM_DMA_POOL_NO_CPU_GUARD },
    };
    cm_handle_t pool;
    for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ST(cm_dma_pool_create(&bad[i], &pool), CM_ERR_INVALID_ARGS);
    cm_dma_pool_config_t ok = { 1, PAGE, 1, 0 };
    CHECK_ST(cm_dma_pool_create(&ok, NULL), CM_ERR_INVALID_ARGS);
    return 0;
}

int test_dma_buffer_ids_die_and_release_scrubs(void)
{
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    cm_dma_pool_info_t info;
    cm_handle_t pool;
    cm_dma_buffer_t a, b, c;
    uint8_t byte = 0xee;
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &a), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK(info.buffer_count == 1 && info.free == 0 && info.in_flight == 0);
    CHECK_ST(cm_dma_buffer_write(pool, a, PAGE - 1, "x", 1), CM_OK);
    CHECK_ST(cm_dma_buffer_write(pool, a, PAGE, "x", 1), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_dma_buffer_read(pool, a, 0, NULL, 1), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_buffer_release(pool, a), CM_OK);
    CHECK_ST(cm_dma_buffer_release(pool, a), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_buffer_read(pool, a, 0, &byte, 1), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_buffer_acquire(pool, &c), CM_OK);
    CHECK(c != a);
    CHECK_ST(cm_dma_buffer_read(pool, c, PAGE - 1, &byte, 1), CM_OK);
    CHECK(byte == 0); /* scrubbed before reuse */
    CHECK_ST(cm_dma_buffer_read(pool, (cm_dma_buffer_t)0x12345, 0, &byte, 1),
             CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

int test_dma_submit_needs_a_device_and_names_are_resolved(void)
{
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, PAGE, 0, 0 };
    cm_dma_completion_t done;
    cm_handle_t pool;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_ERR_BAD_STATE); /* no device */
    CHECK_ST(cm_dma_pool_attach(pool, "/nonexistent-capmem-dev", CM_DMA_ATTACH_READ),
             CM_ERR_NOT_FOUND);
    CHECK_ST(cm_dma_pool_attach(pool, "/nonexistent-capmem-dev", 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_pool_attach(pool, NULL, CM_DMA_ATTACH_READ), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_fence_wait(pool, (cm_dma_fence_t)0x10001, 0, &done), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_fence_poll(pool, (cm_dma_fence_t)0x10001, &done), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

/* A fence out pointer inside the buffer being submitted is refused
 * (core/dma_rules: the submit takes that memory from the CPU), before the
 * device check and with nothing changed; an op read from the buffer is
 * fine (read once, at entry). */
int test_dma_submit_fence_inside_the_submitted_buffer_is_invalid_args(void)
{
    cm_dma_pool_config_t cfg = { 2, PAGE, 2, 0 };
    cm_dma_pool_info_t info;
    cm_handle_t pool;
    cm_dma_buffer_t b, other;
    void *p, *q;
    uint32_t size;
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &other), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, b, &p, &size), CM_OK);
    CHECK_ST(cm_dma_buffer_map(pool, other, &q, &size), CM_OK);
    cm_dma_op_t *op = (cm_dma_op_t *)p;
    *op = (cm_dma_op_t){ CM_DMA_OP_READ, 0, PAGE, 0, 0 };
    uint8_t *u = p;
    CHECK_ST(cm_dma_submit(pool, b, op, (cm_dma_fence_t *)(u + 64)), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_submit(pool, b, op, (cm_dma_fence_t *)(u + PAGE - 8)), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_submit(pool, b, op, (cm_dma_fence_t *)(u + PAGE - 4)), CM_ERR_INVALID_ARGS);
    /* Elsewhere (another buffer): past this rule, to the device check. */
    CHECK_ST(cm_dma_submit(pool, b, op, (cm_dma_fence_t *)q), CM_ERR_BAD_STATE);
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK(info.in_flight == 0 && info.free == 0);
    u[PAGE - 1] = 0x5a; /* still the CPU's */
    CHECK(u[PAGE - 1] == 0x5a);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

int test_dma_detach_vmo_keeps_bytes_and_frees_the_slot(void)
{
    cm_dma_pool_config_t cfg = { 1, 2 * PAGE, 1, 0 };
    cm_dma_pool_info_t info;
    cm_handle_t pool, vmo;
    cm_dma_buffer_t b, c;
    char text[6] = { 0 };
    uint8_t byte = 0xee;
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_buffer_write(pool, b, PAGE + 7, "bytes", 6), CM_OK);
    CHECK_ST(cm_dma_buffer_detach_vmo(pool, b, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, text, PAGE + 7, 6), CM_OK);
    CHECK(strcmp(text, "bytes") == 0);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK(info.free == 1);
    CHECK_ST(cm_dma_buffer_acquire(pool, &c), CM_OK);
    CHECK_ST(cm_dma_buffer_read(pool, c, PAGE + 7, &byte, 1), CM_OK);
    CHECK(byte == 0); /* fresh memory for the slot */
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, text, PAGE + 7, 6), CM_OK); /* the VMO outlives the pool */
    CHECK(strcmp(text, "bytes") == 0);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}

int test_mmio_map_needs_a_window_capability(void)
{
    cm_handle_t vmo;
    cm_mmio_info_t info;
    volatile void *w;
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    if (!conf_target.has_mmio) {
        CHECK_ST(cm_mmio_map(vmo, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_UNSUPPORTED);
        CHECK_ST(cm_mmio_get_info(vmo, &info), CM_ERR_UNSUPPORTED);
        CHECK_ST(cm_mmio_unmap(vmo, NULL, PAGE), CM_ERR_UNSUPPORTED);
    } else {
        /* This suite holds no window: nothing it has or guesses maps one. */
        CHECK_ST(cm_mmio_map(CM_HANDLE_INVALID, 0, PAGE, CM_MMIO_MAP_READ, &w),
                 CM_ERR_BAD_HANDLE);
        CHECK_ST(cm_mmio_map(vmo, 0, PAGE, CM_MMIO_MAP_READ, &w), CM_ERR_WRONG_TYPE);
        CHECK_ST(cm_mmio_get_info(vmo, &info), CM_ERR_WRONG_TYPE);
        CHECK_ST(cm_mmio_unmap(vmo, NULL, PAGE), CM_ERR_WRONG_TYPE);
    }
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}
