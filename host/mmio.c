/* SPDX-License-Identifier: MIT */
/* <capmem/mmio.h> on host: a Linux process has no device window capability
 * to hand out (docs/mmio.md), so every call is a typed UNSUPPORTED, after
 * the arguments a caller could get wrong on any target are ignored. */
#include <capmem/mmio.h>
#include "status_detail.h"

cm_status_t cm_mmio_get_info(cm_handle_t mmio, cm_mmio_info_t *info)
{
    CM__ENTRY();
    (void)mmio;
    (void)info;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_mmio_map(cm_handle_t mmio, uint64_t offset, uint64_t length, uint32_t flags,
                        volatile void **addr)
{
    CM__ENTRY();
    (void)mmio;
    (void)offset;
    (void)length;
    (void)flags;
    (void)addr;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_mmio_unmap(cm_handle_t mmio, volatile void *addr, uint64_t length)
{
    CM__ENTRY();
    (void)mmio;
    (void)addr;
    (void)length;
    return CM_ERR_UNSUPPORTED;
}
