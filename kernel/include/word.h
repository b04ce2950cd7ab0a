/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_WORD_H
#define CAPMEM_KERNEL_WORD_H

#include <stdint.h>

/* Wait/wake on a 32-bit word of a VMO (kernel/object/word.c), keyed by the
 * VMO object and the word's offset in it, never by a virtual address. */

struct vmo;

/* Wakes up to `max` processes waiting on (v, off); returns how many. For
 * kernel objects that change a word of a VMO they own (SharedBuffer). */
uint32_t word_wake_key(const struct vmo *v, uint64_t off, uint32_t max);

#endif
