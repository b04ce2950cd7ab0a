/* <capmem/vmar.h> on the kernel target, until the kernel implements it
 * (issue 11, part B merges this header into kernel/): every call is the typed
 * UNSUPPORTED, never a link error and never a silent success. The conformance
 * suite skips its VMAR cases there (conf_target.has_vmar = 0) and says so.
 * Delete this file when the kernel's syscalls land. */
#include <capmem/capmem.h>

cm_status_t cm_vmar_reserve(void *hint, uint64_t len, uint32_t flags, cm_handle_t *out,
                            void **base)
{
    (void)hint, (void)len, (void)flags, (void)out, (void)base;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmar_map(cm_handle_t vmar, uint64_t vmar_offset, cm_handle_t vmo,
                        uint64_t vmo_offset, uint64_t len, uint32_t flags, void **addr)
{
    (void)vmar, (void)vmar_offset, (void)vmo, (void)vmo_offset, (void)len, (void)flags,
        (void)addr;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmar_unmap(cm_handle_t vmar, void *addr, uint64_t len)
{
    (void)vmar, (void)addr, (void)len;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmar_unmap_vmo(cm_handle_t vmar, cm_handle_t vmo, void *addr, uint64_t len)
{
    (void)vmar, (void)vmo, (void)addr, (void)len;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmar_protect(cm_handle_t vmar, void *addr, uint64_t len, uint32_t flags)
{
    (void)vmar, (void)addr, (void)len, (void)flags;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmar_get_info(cm_handle_t vmar, cm_vmar_info_t *info)
{
    (void)vmar, (void)info;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_mapping_get_info(const void *addr, cm_mapping_info_t *info)
{
    (void)addr, (void)info;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmo_op_range(cm_handle_t vmo, uint32_t op, uint64_t offset, uint64_t len)
{
    (void)vmo, (void)op, (void)offset, (void)len;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmo_get_committed(cm_handle_t vmo, uint64_t *bytes)
{
    (void)vmo, (void)bytes;
    return CM_ERR_UNSUPPORTED;
}
