/* SPDX-License-Identifier: MIT */
#include "dma_rules.h"
#include "status_detail.h"

cm_status_t cm__dma_config_check(const cm_dma_pool_config_t *c)
{
    const uint32_t guard = CM_DMA_POOL_CPU_GUARD | CM_DMA_POOL_NO_CPU_GUARD;
    if ((c->options & ~guard) != 0 || (c->options & guard) == guard)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "options 0x%x: unknown bits, or both "
                              "CM_DMA_POOL_CPU_GUARD and CM_DMA_POOL_NO_CPU_GUARD", c->options);
    if (c->buffer_count == 0 || c->buffer_count > CM_DMA_MAX_BUFFERS)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "buffer_count %u: 1 to CM_DMA_MAX_BUFFERS "
                              "(%u)", c->buffer_count, CM_DMA_MAX_BUFFERS);
    if (c->buffer_size == 0 || c->buffer_size > CM_DMA_MAX_BUFFER_SIZE ||
        c->buffer_size % CM_PAGE_SIZE != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "buffer_size %u: a multiple of CM_PAGE_SIZE "
                              "(%u) from 1 page to CM_DMA_MAX_BUFFER_SIZE (%u bytes)",
                              c->buffer_size, CM_PAGE_SIZE, CM_DMA_MAX_BUFFER_SIZE);
    if (c->max_in_flight == 0 || c->max_in_flight > CM_DMA_MAX_IN_FLIGHT ||
        c->max_in_flight > c->buffer_count)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "max_in_flight %u: 1 to buffer_count (%u) "
                              "and CM_DMA_MAX_IN_FLIGHT (%u)", c->max_in_flight,
                              c->buffer_count, CM_DMA_MAX_IN_FLIGHT);
    return CM_OK;
}

int cm__dma_attach_flags_ok(uint32_t flags)
{
    return flags != 0 && (flags & ~(CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE)) == 0;
}

cm_status_t cm__dma_op_check(uint32_t size, uint32_t block, const cm_dma_op_t *op)
{
    if (op->kind != CM_DMA_OP_READ && op->kind != CM_DMA_OP_WRITE)
        return CM_ERR_INVALID_ARGS;
    if (op->reserved != 0 || op->length == 0)
        return CM_ERR_INVALID_ARGS;
    if (op->length > size || op->buffer_offset > size - op->length)
        return CM_ERR_OUT_OF_RANGE;
    if (op->device_offset > (uint64_t)INT64_MAX - op->length)
        return CM_ERR_OUT_OF_RANGE;
    if (block == 0 || op->buffer_offset % block != 0 || op->length % block != 0 ||
        op->device_offset % block != 0)
        return CM_ERR_INVALID_ARGS;
    return CM_OK;
}

int cm__dma_out_in_buffer(uint64_t out, uint64_t out_len, uint64_t base, uint64_t len)
{
    if (out_len == 0 || len == 0)
        return 0;
    return out < base ? base - out < out_len : out - base < len;
}
