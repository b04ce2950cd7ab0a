/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_ELF_H
#define CAPMEM_KERNEL_ELF_H

#include <stdint.h>
#include <capmem/status.h>

struct addrspace;

/* Loads a static RV64 ELF executable into `as`: every PT_LOAD segment
 * becomes an owned image reservation with exactly its permissions; a
 * segment asking for W and X together, or lying outside the image area,
 * is rejected (INVALID_ARGS). On failure the caller destroys `as`. */
cm_status_t elf_load(struct addrspace *as, const uint8_t *image, uint64_t size,
                     uint64_t *entry);

#endif
