/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CONFORMANCE_DMA_CASES_H
#define CAPMEM_CONFORMANCE_DMA_CASES_H

/* DMA pool and MMIO cases (dma_cases.c) whose semantics are the same on
 * both targets, listed in conformance.c's table. DMA cases need no device;
 * the MMIO case checks the capability gate (kernel: the suite holds no
 * window; host: UNSUPPORTED, conf_target.has_mmio). */
int test_dma_pool_config_bounds_are_invalid_args(void);
int test_dma_buffer_ids_die_and_release_scrubs(void);
int test_dma_submit_needs_a_device_and_names_are_resolved(void);
int test_dma_submit_fence_inside_the_submitted_buffer_is_invalid_args(void);
int test_dma_detach_vmo_keeps_bytes_and_frees_the_slot(void);
int test_mmio_map_needs_a_window_capability(void);

#endif
