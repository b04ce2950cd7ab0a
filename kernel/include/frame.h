/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_FRAME_H
#define CAPMEM_KERNEL_FRAME_H

#include <stdint.h>

/* Physical frame allocator: 4 KiB frames of the RAM above the kernel image.
 * Frames are zeroed on allocation, so no frame reaches a new owner with a
 * previous owner's bytes. */

void frame_init(void);
/* Returns the physical (== kernel virtual) address of a zeroed frame, or 0. */
uint64_t frame_alloc(void);
/* Returns a frame. Panics on an address the allocator never handed out
 * range-wise (a kernel bug, never user-controlled). */
void frame_free(uint64_t pa);
uint64_t frame_free_count(void);

#endif
