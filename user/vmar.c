/* SPDX-License-Identifier: MIT */
/* <capmem/vmar.h> on the kernel target: each call is one system call
 * (kernel/object/vmar.c, kernel/object/vmo.c); the kernel validates
 * everything through core/vmar_rules. */
#include <capmem/capmem.h>

#include "sys.h"

cm_status_t cm_vmar_reserve(void *hint, uint64_t len, uint32_t flags, cm_handle_t *out,
                            void **base)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_VMAR_RESERVE, hint, len, flags, out, base);
}

cm_status_t cm_vmar_reserve_in(cm_handle_t parent, uint64_t offset, uint64_t len,
                               uint32_t flags, cm_handle_t *out, void **base)
{
    return (cm_status_t)CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, parent, offset, len, flags, out,
                                 base, 0);
}

cm_status_t cm_vmar_map_anon(cm_handle_t vmar, uint64_t vmar_offset, uint64_t len,
                             uint32_t flags, void **addr)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, vmar, vmar_offset, len, flags, addr);
}

cm_status_t cm_vmar_map(cm_handle_t vmar, uint64_t vmar_offset, cm_handle_t vmo,
                        uint64_t vmo_offset, uint64_t len, uint32_t flags, void **addr)
{
    return (cm_status_t)CMK_SYS7(CMK_SYS_VMAR_MAP, vmar, vmar_offset, vmo, vmo_offset, len,
                                 flags, addr);
}

cm_status_t cm_vmar_unmap(cm_handle_t vmar, void *addr, uint64_t len)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_VMAR_UNMAP, vmar, addr, len);
}

cm_status_t cm_vmar_unmap_vmo(cm_handle_t vmar, cm_handle_t vmo, void *addr, uint64_t len)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_VMAR_UNMAP_VMO, vmar, vmo, addr, len);
}

cm_status_t cm_vmar_protect(cm_handle_t vmar, void *addr, uint64_t len, uint32_t flags)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_VMAR_PROTECT, vmar, addr, len, flags);
}

cm_status_t cm_vmar_get_info(cm_handle_t vmar, cm_vmar_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMAR_GET_INFO, vmar, info);
}

cm_status_t cm_mapping_get_info(const void *addr, cm_mapping_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_MAPPING_GET_INFO, addr, info);
}

cm_status_t cm_vmo_op_range(cm_handle_t vmo, uint32_t op, uint64_t offset, uint64_t len)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_VMO_OP_RANGE, vmo, op, offset, len);
}

cm_status_t cm_vmo_get_committed(cm_handle_t vmo, uint64_t *bytes)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_GET_COMMITTED, vmo, bytes);
}
