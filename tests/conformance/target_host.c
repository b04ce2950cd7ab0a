/* SPDX-License-Identifier: MIT */
/* The conformance suite's host shim: facts about the Linux target. */
#include <capmem/host.h>
#include "harness.h"

static int live_handles(void)
{
    return (int)cm_host_live_handles();
}

const struct conf_target conf_target = {
    .name = "host",
    .tap_prefix = "",
    .has_files = 1,
    .existing_file = "/proc/self/exe",
    .unsealed_ro_transfer = 0, /* /proc reopen: only seals enforce read-only */
    .has_vmar = 1,
    .has_dma = 1,
    .has_mmio = 0, /* no device windows on Linux (docs/mmio.md) */
    .live_handles = live_handles,
};
