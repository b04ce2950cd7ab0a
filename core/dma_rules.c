#include "dma_rules.h"

cm_status_t cm__dma_config_check(const cm_dma_pool_config_t *c)
{
    const uint32_t guard = CM_DMA_POOL_CPU_GUARD | CM_DMA_POOL_NO_CPU_GUARD;
    if ((c->options & ~guard) != 0 || (c->options & guard) == guard)
        return CM_ERR_INVALID_ARGS; /* unknown, or both guard and no guard */
    if (c->buffer_count == 0 || c->buffer_count > CM_DMA_MAX_BUFFERS)
        return CM_ERR_INVALID_ARGS;
    if (c->buffer_size == 0 || c->buffer_size > CM_DMA_MAX_BUFFER_SIZE ||
        c->buffer_size % CM_PAGE_SIZE != 0)
        return CM_ERR_INVALID_ARGS;
    if (c->max_in_flight == 0 || c->max_in_flight > CM_DMA_MAX_IN_FLIGHT ||
        c->max_in_flight > c->buffer_count)
        return CM_ERR_INVALID_ARGS;
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
