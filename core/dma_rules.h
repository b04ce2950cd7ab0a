/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_DMA_RULES_H
#define CAPMEM_CORE_DMA_RULES_H

/* The argument rules of <capmem/dma.h> both targets apply (host/dma.c,
 * kernel/object/dma_pool.c): one definition, so the two cannot drift.
 * Freestanding. */
#include <stdint.h>
#include <capmem/dma.h>

/* cm_dma_pool_create's config: INVALID_ARGS for an unknown option, both
 * guard options, or a bound of <capmem/limits.h> violated. */
cm_status_t cm__dma_config_check(const cm_dma_pool_config_t *c);

/* cm_dma_pool_attach's flags: non-zero, only CM_DMA_ATTACH_*. */
int cm__dma_attach_flags_ok(uint32_t flags);

/* A submit's op on a buffer of `size` bytes and a device of `block` bytes
 * per block: INVALID_ARGS (kind, reserved, length 0, misaligned);
 * OUT_OF_RANGE (window past the buffer, device offset overflow). */
cm_status_t cm__dma_op_check(uint32_t size, uint32_t block, const cm_dma_op_t *op);

/* A submit's fence out pointer must not lie in the CPU mapping of the
 * buffer being submitted: the submit takes that memory from the CPU
 * (kernel: unmapped; host: PROT_NONE under the CPU guard) and gives it to
 * the device, so the fence would fault or be overwritten. 1 if
 * [out, out + out_len) overlaps [base, base + len) (no overflow); len 0
 * (no mapping): 0. Both targets answer INVALID_ARGS, before any state
 * check, with nothing changed. */
int cm__dma_out_in_buffer(uint64_t out, uint64_t out_len, uint64_t base, uint64_t len);

#endif
