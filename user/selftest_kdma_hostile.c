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

