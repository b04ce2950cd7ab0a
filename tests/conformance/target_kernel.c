/* SPDX-License-Identifier: MIT */
/* The conformance suite's shim for the capmem kernel target. */
#include "harness.h"

static int live_handles(void)
{
    return -1; /* no per-process count in the API; init checks kernel counters around the run */
}

const struct conf_target conf_target = {
    .name = "kernel",
    .tap_prefix = "conformance: ",
    .has_files = 0,
    .existing_file = 0,
    .unsealed_ro_transfer = 1, /* the kernel enforces a handle's rights itself */
    .has_vmar = 1,
    .has_dma = 1, /* kernel/object/dma_pool.c */
    .has_mmio = 1,
    .live_handles = live_handles,
};
