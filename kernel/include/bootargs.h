/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_BOOTARGS_H
#define CAPMEM_KERNEL_BOOTARGS_H

#include <stdint.h>

#include "syscall_abi.h"

/* The kernel command line (QEMU `-append`, the device tree's
 * /chosen/bootargs), split into init's arguments: NUL-separated words, at
 * most CMK_SPAWN_MAX_ARGS - 1 of them in CMK_SPAWN_MAX_ARGV bytes. */
struct bootargs {
    char argv[CMK_SPAWN_MAX_ARGV];
    uint32_t len;   /* bytes of argv used (0: no arguments)       */
    const char *error; /* why the command line was ignored, or 0 */
};

/* Reads /chosen/bootargs from the flattened device tree at `dtb` (the
 * physical address OpenSBI passes in a1). Must run before frame_init,
 * which writes over free RAM, the device tree included. A missing or
 * malformed tree, or no bootargs, gives no arguments; a command line over
 * the spawn bounds gives none and says why in `error`. */
void bootargs_read(uint64_t dtb, struct bootargs *out);

#endif
