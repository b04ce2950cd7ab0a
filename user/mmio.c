/* SPDX-License-Identifier: MIT */
/* <capmem/mmio.h> and the driver extras of user/cmk.h on the kernel target:
 * one syscall each; the kernel validates (kernel/object/mmio.c). */
#include <capmem/mmio.h>

#include "cmk.h"
#include "sys.h"

cm_status_t cm_mmio_get_info(cm_handle_t mmio, cm_mmio_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_MMIO_GET_INFO, mmio, info);
}

cm_status_t cm_mmio_map(cm_handle_t mmio, uint64_t offset, uint64_t length, uint32_t flags,
                        volatile void **addr)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_MMIO_MAP, mmio, offset, length, flags, addr);
}

cm_status_t cm_mmio_unmap(cm_handle_t mmio, volatile void *addr, uint64_t length)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_MMIO_UNMAP, mmio, (uint64_t)(uintptr_t)addr, length);
}

cm_status_t cmk_mmio_queue_alloc(cm_handle_t mmio, uint32_t pages, void **va,
                                 uint64_t *device_addrs)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_MMIO_QUEUE_ALLOC, mmio, pages, va, device_addrs);
}
