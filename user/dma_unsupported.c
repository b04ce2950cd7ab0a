/* <capmem/dma.h> on the kernel target, today: the kernel has no DMA device
 * path yet (the virtio-blk driver and kernel DMA buffers are their own
 * work), so every call is the typed UNSUPPORTED, never a link error and
 * never a silent success. docs/api.md lists the difference. */
#include <capmem/capmem.h>

cm_status_t cm_dma_pool_create(const cm_dma_pool_config_t *config, cm_handle_t *pool)
{
    (void)config;
    (void)pool;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_pool_attach(cm_handle_t pool, const char *device, uint32_t flags)
{
    (void)pool;
    (void)device;
    (void)flags;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_pool_get_info(cm_handle_t pool, cm_dma_pool_info_t *info)
{
    (void)pool;
    (void)info;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_buffer_acquire(cm_handle_t pool, cm_dma_buffer_t *buffer)
{
    (void)pool;
    (void)buffer;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_buffer_map(cm_handle_t pool, cm_dma_buffer_t buffer, void **addr,
                              uint32_t *size)
{
    (void)pool;
    (void)buffer;
    (void)addr;
    (void)size;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_buffer_read(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                               void *dst, uint32_t len)
{
    (void)pool;
    (void)buffer;
    (void)offset;
    (void)dst;
    (void)len;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_buffer_write(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                                const void *src, uint32_t len)
{
    (void)pool;
    (void)buffer;
    (void)offset;
    (void)src;
    (void)len;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_submit(cm_handle_t pool, cm_dma_buffer_t buffer, const cm_dma_op_t *op,
                          cm_dma_fence_t *fence)
{
    (void)pool;
    (void)buffer;
    (void)op;
    (void)fence;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_fence_wait(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *completion)
{
    (void)pool;
    (void)fence;
    (void)timeout_ns;
    (void)completion;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_fence_poll(cm_handle_t pool, cm_dma_fence_t fence,
                              cm_dma_completion_t *completion)
{
    (void)pool;
    (void)fence;
    (void)completion;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_buffer_release(cm_handle_t pool, cm_dma_buffer_t buffer)
{
    (void)pool;
    (void)buffer;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_dma_buffer_detach_vmo(cm_handle_t pool, cm_dma_buffer_t buffer, cm_handle_t *vmo)
{
    (void)pool;
    (void)buffer;
    (void)vmo;
    return CM_ERR_UNSUPPORTED;
}
