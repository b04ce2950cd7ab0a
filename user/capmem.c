/* SPDX-License-Identifier: MIT */
/* The public API (include/capmem/) on the kernel target: each function is
 * one syscall; the kernel does all validation and returns the status. */
#include <capmem/capmem.h>

#include "limits_info.h"
#include "sbuf_internal.h"
#include "sys.h"

cm_status_t cm_handle_close(cm_handle_t h)
{
    cmk__sbuf_forget(h);
    return (cm_status_t)CMK_SYS1(CMK_SYS_HANDLE_CLOSE, h);
}

cm_status_t cm_handle_duplicate(cm_handle_t h, cm_rights_t rights, cm_handle_t *out)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_HANDLE_DUPLICATE, h, rights, out);
}

cm_status_t cm_handle_replace(cm_handle_t h, cm_rights_t rights, cm_handle_t *out)
{
    cm_status_t st = (cm_status_t)CMK_SYS3(CMK_SYS_HANDLE_REPLACE, h, rights, out);
    if (st == CM_OK)
        cmk__sbuf_forget(h); /* the new value starts a fresh entry with its rights */
    return st;
}

cm_status_t cm_handle_get_info(cm_handle_t h, cm_handle_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_HANDLE_GET_INFO, h, info);
}

cm_status_t cm_vmo_create(uint64_t size, uint32_t options, cm_handle_t *out)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_VMO_CREATE, size, options, out);
}

cm_status_t cm_vmo_create_from_file(const char *path, uint64_t offset, uint64_t len,
                                    cm_handle_t *out)
{
    /* The kernel target has no filesystem. */
    (void)path;
    (void)offset;
    (void)len;
    (void)out;
    return CM_ERR_UNSUPPORTED;
}

cm_status_t cm_vmo_read(cm_handle_t vmo, void *buf, uint64_t offset, uint64_t len)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_VMO_READ, vmo, buf, offset, len);
}

cm_status_t cm_vmo_write(cm_handle_t vmo, const void *buf, uint64_t offset, uint64_t len)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_VMO_WRITE, vmo, buf, offset, len);
}

cm_status_t cm_vmo_get_size(cm_handle_t vmo, uint64_t *size)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_GET_SIZE, vmo, size);
}

cm_status_t cm_vmo_set_size(cm_handle_t vmo, uint64_t size)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_SET_SIZE, vmo, size);
}

cm_status_t cm_vmo_get_info(cm_handle_t vmo, cm_vmo_info_t *info)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_GET_INFO, vmo, info);
}

cm_status_t cm_vmo_seal(cm_handle_t vmo, cm_seal_t level)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_SEAL, vmo, (uint64_t)level);
}

cm_status_t cm_vmo_snapshot(cm_handle_t vmo, cm_handle_t *out)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_SNAPSHOT, vmo, out);
}

cm_status_t cm_vmo_map(cm_handle_t vmo, uint64_t offset, uint64_t len, uint32_t flags,
                       void **addr)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_VMO_MAP, vmo, offset, len, flags, addr);
}

cm_status_t cm_vmo_unmap(void *addr, uint64_t len)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_VMO_UNMAP, addr, len);
}

cm_status_t cm_channel_create(uint32_t options, cm_handle_t *end0, cm_handle_t *end1)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_CHANNEL_CREATE, options, end0, end1);
}

cm_status_t cm_channel_write(cm_handle_t channel, const void *bytes, uint32_t num_bytes,
                             const cm_handle_t *handles, uint32_t num_handles)
{
    cm_status_t st = (cm_status_t)CMK_SYS5(CMK_SYS_CHANNEL_WRITE, channel, bytes, num_bytes,
                                           handles, num_handles);
    /* Every listed handle leaves the table whatever the outcome. The list
     * is read only while the runtime caches SharedBuffer handles, so a
     * caller that uses none never has its list read here (the kernel
     * checks it: a bad pointer is INVALID_ARGS). */
    for (uint32_t i = 0; cmk__sbuf_cached() && handles != NULL && i < num_handles &&
                         i < CM_CHANNEL_MAX_HANDLES; i++)
        cmk__sbuf_forget(handles[i]);
    return st;
}

cm_status_t cm_channel_read(cm_handle_t channel, void *bytes, uint32_t bytes_cap,
                            uint32_t *actual_bytes, cm_handle_t *handles,
                            uint32_t handles_cap, uint32_t *actual_handles)
{
    return (cm_status_t)CMK_SYS7(CMK_SYS_CHANNEL_READ, channel, bytes, bytes_cap,
                                 actual_bytes, handles, handles_cap, actual_handles);
}

/* A thin wrapper over cm_object_wait_one (the kernel has no listeners, so
 * every object with signals is a channel and WRONG_TYPE comes out the same). */
cm_status_t cm_channel_wait_readable(cm_handle_t channel, int64_t timeout_ns)
{
    cm_signals_t observed;
    cm_status_t st = cm_object_wait_one(channel, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED,
                                        timeout_ns, &observed);
    if (st != CM_OK)
        return st;
    return (observed & CM_SIGNAL_READABLE) ? CM_OK : CM_ERR_PEER_CLOSED;
}

cm_status_t cm_object_wait_one(cm_handle_t handle, cm_signals_t signals, int64_t timeout_ns,
                               cm_signals_t *observed)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_OBJECT_WAIT_ONE, handle, signals, timeout_ns, observed);
}

cm_status_t cm_object_wait_many(cm_wait_item_t *items, uint32_t count, int64_t timeout_ns)
{
    return (cm_status_t)CMK_SYS3(CMK_SYS_OBJECT_WAIT_MANY, items, count, timeout_ns);
}

/* The kernel's limits are fixed at build time (abi/syscall_abi.h): no
 * syscall. Kept in step with core/limits_info.h's CM__KERNEL values. */
cm_status_t cm_limits_get(cm_limits_t *out)
{
    return cm__limits_report(out, CMK_VMO_MAX_SIZE, CMK_MAX_MAPPED_BYTES);
}
