/* SPDX-License-Identifier: MIT */
/* <capmem/dma.h> and the DMA-device extras of user/cmk.h on the kernel
 * target: one syscall each (kernel/object/dma_pool.c, dma_device.c). */
#include <capmem/capmem.h>

#include "cmk.h"
#include "sys.h"

cm_status_t cm_dma_pool_create(const cm_dma_pool_config_t *config, cm_handle_t *pool)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_DMA_POOL_CREATE, config, pool);
}

cm_status_t cm_dma_pool_attach(cm_handle_t pool, const char *device, uint32_t flags)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_DMA_POOL_ATTACH, pool, device, flags);
}

cm_status_t cm_dma_pool_get_info(cm_handle_t pool, cm_dma_pool_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_DMA_POOL_GET_INFO, pool, info);
}

cm_status_t cm_dma_buffer_acquire(cm_handle_t pool, cm_dma_buffer_t *buffer)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_DMA_BUFFER_ACQUIRE, pool, buffer);
}

cm_status_t cm_dma_buffer_map(cm_handle_t pool, cm_dma_buffer_t buffer, void **addr,
                              uint32_t *size)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_DMA_BUFFER_MAP, pool, buffer, addr, size);
}

cm_status_t cm_dma_buffer_read(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                               void *dst, uint32_t len)
{
    return (cm_status_t)cmk__syscall(CMK_SYS_DMA_BUFFER_RW, pool, buffer, offset,
                                     (uint64_t)(uintptr_t)dst, len, 0, 0);
}

cm_status_t cm_dma_buffer_write(cm_handle_t pool, cm_dma_buffer_t buffer, uint32_t offset,
                                const void *src, uint32_t len)
{
    return (cm_status_t)cmk__syscall(CMK_SYS_DMA_BUFFER_RW, pool, buffer, offset,
                                     (uint64_t)(uintptr_t)src, len, 1, 0);
}

cm_status_t cm_dma_submit(cm_handle_t pool, cm_dma_buffer_t buffer, const cm_dma_op_t *op,
                          cm_dma_fence_t *fence)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_DMA_SUBMIT, pool, buffer, op, fence);
}

cm_status_t cm_dma_fence_wait(cm_handle_t pool, cm_dma_fence_t fence, int64_t timeout_ns,
                              cm_dma_completion_t *completion)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_DMA_FENCE_WAIT, pool, fence, timeout_ns, completion, 0);
}

cm_status_t cm_dma_fence_poll(cm_handle_t pool, cm_dma_fence_t fence,
                              cm_dma_completion_t *completion)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_DMA_FENCE_WAIT, pool, fence, 0, completion, 1);
}

cm_status_t cm_dma_buffer_release(cm_handle_t pool, cm_dma_buffer_t buffer)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_DMA_BUFFER_RELEASE, pool, buffer);
}

cm_status_t cm_dma_buffer_detach_vmo(cm_handle_t pool, cm_dma_buffer_t buffer,
                                     cm_handle_t *vmo)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_DMA_BUFFER_DETACH_VMO, pool, buffer, vmo);
}

cm_status_t cmk_dma_device_create(cm_handle_t mmio, const char *name, uint32_t block_size,
                                  uint64_t device_size, uint32_t flags, cm_handle_t *device)
{
    return (cm_status_t)cmk__syscall(CMK_SYS_DMA_DEVICE_CREATE, mmio, (uint64_t)(uintptr_t)name,
                                     block_size, device_size, flags,
                                     (uint64_t)(uintptr_t)device, 0);
}

cm_status_t cmk_dma_device_next(cm_handle_t device, int64_t timeout_ns, cmk_dma_request_t *req)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_DMA_DEVICE_NEXT, device, timeout_ns, req);
}

cm_status_t cmk_dma_device_complete(cm_handle_t device, uint64_t id, cm_status_t status,
                                    uint32_t bytes)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_DMA_DEVICE_COMPLETE, device, id, (int64_t)status,
                                 bytes);
}
