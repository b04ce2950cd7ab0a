/* SPDX-License-Identifier: MIT */
#include "limits_info.h"
#include "validate.h"

#include "deadline.h"
#include "status_detail.h"

int cm__range_ok(uint64_t offset, uint64_t len, uint64_t size)
{
    return offset <= size && len <= size - offset;
}

cm_status_t cm__handle_derive_check_args(int out_ok, cm_rights_t want)
{
    if (!out_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "out is NULL");
    if (want != CM_RIGHTS_SAME && (want & ~CM_RIGHTS_ALL) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "unknown rights bits 0x%x (CM_RIGHTS_ALL is "
                              "0x%x; CM_RIGHTS_SAME keeps the handle's)",
                              (unsigned)(want & ~CM_RIGHTS_ALL), (unsigned)CM_RIGHTS_ALL);
    return CM_OK;
}

cm_status_t cm__vmo_create_check(uint64_t size, uint32_t options, int out_ok)
{
    const uint32_t pages = CM_VMO_HUGE | CM_VMO_BASE_PAGES;
    if (!out_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "out is NULL");
    if ((options & ~(CM_VMO_COMMIT | pages)) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "unknown option bits 0x%x (known: CM_VMO_COMMIT, CM_VMO_HUGE, "
                              "CM_VMO_BASE_PAGES)", (unsigned)(options & ~(CM_VMO_COMMIT | pages)));
    if ((options & pages) == pages)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "CM_VMO_HUGE and CM_VMO_BASE_PAGES together: pick one");
    if (size > CM__VMO_MAX_SIZE)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "size %llu above CM_VMO_MAX_SIZE (%llu bytes on this target, "
                              "cm_limits_get)", (unsigned long long)size,
                              (unsigned long long)CM__VMO_MAX_SIZE);
    return CM_OK;
}

cm_status_t cm__vmo_rw_check_args(int buf_ok, uint64_t len)
{
    return !buf_ok && len > 0 ? cm__detail_set(CM_ERR_INVALID_ARGS, "buf is NULL and len %llu",
                                               (unsigned long long)len)
                              : CM_OK;
}

cm_status_t cm__vmo_rw_check_facts(const struct cm__vmo_state *f, uint64_t offset,
                                   uint64_t len, int write)
{
    if (!cm__range_ok(offset, len, f->size))
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "range offset %llu + len %llu is past the VMO's size %llu",
                              (unsigned long long)offset, (unsigned long long)len,
                              (unsigned long long)f->size);
    if (write && f->is_file)
        return cm__detail_set(CM_ERR_ACCESS_DENIED, "a file-window VMO is read-only");
    if (write && f->seal != CM__SEAL_NONE)
        return cm__detail_set(CM_ERR_ACCESS_DENIED,
                              "write to a sealed VMO: seals are permanent; write before "
                              "cm_vmo_seal, or write a new VMO");
    return CM_OK;
}

cm_status_t cm__vmo_set_size_check_args(uint64_t size)
{
    if (size > CM__VMO_MAX_SIZE)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "size %llu above CM_VMO_MAX_SIZE (%llu bytes on this target, "
                              "cm_limits_get)", (unsigned long long)size,
                              (unsigned long long)CM__VMO_MAX_SIZE);
    return CM_OK;
}

cm_status_t cm__vmo_set_size_check_facts(const struct cm__vmo_state *f)
{
    /* Any seal fixes the size, even a resize to the same size. */
    if (f->is_file)
        return cm__detail_set(CM_ERR_ACCESS_DENIED, "a file-window VMO has a fixed size");
    if (f->seal != CM__SEAL_NONE)
        return cm__detail_set(CM_ERR_ACCESS_DENIED, "a sealed VMO's size is fixed");
    return CM_OK;
}

cm_status_t cm__vmo_seal_check_args(uint32_t level)
{
    if (level == CM_SEAL_READONLY || level == CM_SEAL_IMMUTABLE)
        return CM_OK;
    return cm__detail_set(CM_ERR_INVALID_ARGS,
                          "seal level %u: use CM_SEAL_READONLY or CM_SEAL_IMMUTABLE", level);
}

cm_status_t cm__vmo_seal_check_facts(const struct cm__vmo_state *f)
{
    return f->is_file ? cm__detail_set(CM_ERR_UNSUPPORTED,
                                       "a file-window VMO cannot be sealed (it is read-only "
                                       "already; copy it into a VMO to seal a copy)")
                      : CM_OK;
}

cm_status_t cm__vmo_map_check_args(uint64_t offset, uint64_t len, uint32_t flags,
                                   int addr_ok, cm_rights_t *need)
{
    const uint32_t known = CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE;
    if (!addr_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "addr (the out-pointer) is NULL");
    if (len == 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "length 0: a mapping needs at least one byte");
    if (offset % CM_PAGE_SIZE != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "offset %llu is not a multiple of CM_PAGE_SIZE (%u bytes)",
                              (unsigned long long)offset, CM_PAGE_SIZE);
    if ((flags & ~known) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "unknown map flags 0x%x (known: CM_MAP_READ, CM_MAP_WRITE, "
                              "CM_MAP_POPULATE)", (unsigned)(flags & ~known));
    if ((flags & CM_MAP_READ) == 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "flags lack CM_MAP_READ: every mapping is readable");
    /* No target has write-only pages, so a writable mapping is readable. */
    *need = CM_RIGHT_MAP | CM_RIGHT_READ | ((flags & CM_MAP_WRITE) ? CM_RIGHT_WRITE : 0);
    return CM_OK;
}

cm_status_t cm__vmo_map_check_facts(const struct cm__vmo_state *f, uint64_t offset,
                                    uint64_t len, uint32_t flags)
{
    if (!cm__range_ok(offset, len, f->size))
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "range offset %llu + len %llu is past the VMO's size %llu",
                              (unsigned long long)offset, (unsigned long long)len,
                              (unsigned long long)f->size);
    if ((flags & CM_MAP_WRITE) && f->is_file)
        return cm__detail_set(CM_ERR_ACCESS_DENIED,
                              "CM_MAP_WRITE of a file-window VMO: it is read-only");
    if ((flags & CM_MAP_WRITE) && f->seal != CM__SEAL_NONE)
        return cm__detail_set(CM_ERR_ACCESS_DENIED,
                              "CM_MAP_WRITE of a sealed VMO: map it with CM_MAP_READ only");
    return CM_OK;
}

uint32_t cm__vmo_info_flags(const struct cm__vmo_state *f)
{
    if (f->is_file)
        return CM_VMO_INFO_FILE | CM_VMO_INFO_READONLY;
    uint32_t flags = 0;
    if (f->seal >= CM__SEAL_READONLY)
        flags |= CM_VMO_INFO_READONLY;
    if (f->seal == CM__SEAL_IMMUTABLE)
        flags |= CM_VMO_INFO_IMMUTABLE;
    if (f->huge)
        flags |= CM_VMO_INFO_HUGE;
    return flags;
}

cm_rights_t cm__vmo_effective_rights(const struct cm__vmo_state *f, cm_rights_t rights)
{
    return f->seal != CM__SEAL_NONE || f->is_file ? rights & ~CM_RIGHT_WRITE : rights;
}

cm_status_t cm__channel_create_check(uint32_t options, int end0_ok, int end1_ok)
{
    if (options != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "options must be 0 (got 0x%x)", options);
    if (!end0_ok || !end1_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "end0 or end1 is NULL");
    return CM_OK;
}

cm_status_t cm__channel_write_check_args(cm_handle_t channel, int bytes_ok, uint32_t num_bytes,
                                         const cm_handle_t *handles, uint32_t num_handles)
{
    if ((!bytes_ok && num_bytes > 0) || (handles == 0 && num_handles > 0))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "bytes or handles is NULL with a count above 0");
    if (num_bytes > CM_CHANNEL_MAX_BYTES)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE,
                              "%u bytes above CM_CHANNEL_MAX_BYTES (%u): send large payloads "
                              "in a VMO", num_bytes, CM_CHANNEL_MAX_BYTES);
    if (num_handles > CM_CHANNEL_MAX_HANDLES)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "%u handles above CM_CHANNEL_MAX_HANDLES (%u)",
                              num_handles, CM_CHANNEL_MAX_HANDLES);
    for (uint32_t i = 0; i < num_handles; i++) {
        if (handles[i] == channel)
            return cm__detail_set(CM_ERR_INVALID_ARGS,
                                  "handles[%u] is the channel written to", i);
        for (uint32_t j = 0; j < i; j++)
            if (handles[j] == handles[i])
                return cm__detail_set(CM_ERR_INVALID_ARGS,
                                      "handles[%u] repeats handles[%u]", i, j);
    }
    return CM_OK;
}

cm_status_t cm__channel_read_check_args(int bytes_ok, uint32_t bytes_cap, int handles_ok,
                                        uint32_t handles_cap)
{
    if ((!bytes_ok && bytes_cap > 0) || (!handles_ok && handles_cap > 0))
        return CM_ERR_INVALID_ARGS;
    return CM_OK;
}

cm_status_t cm__channel_read_check_fit(uint32_t bytes_cap, uint32_t handles_cap,
                                       uint32_t num_bytes, uint32_t num_handles)
{
    return num_bytes > bytes_cap || num_handles > handles_cap ? CM_ERR_BUFFER_TOO_SMALL : CM_OK;
}

/* ---- signals and waiting ---- */

int cm__signals_valid(cm_signals_t signals)
{
    return signals != 0 && (signals & ~CM_SIGNALS_ALL) == 0;
}

cm_status_t cm__object_wait_one_check_args(cm_signals_t signals, int64_t timeout_ns,
                                           int observed_ok)
{
    if (!cm__signals_valid(signals) || !observed_ok)
        return CM_ERR_INVALID_ARGS;
    return cm__timeout_check(timeout_ns);
}

cm_status_t cm__object_wait_many_check_args(int items_ok, uint32_t count, int64_t timeout_ns)
{
    if (!items_ok || count == 0)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__timeout_check(timeout_ns);
    if (st != CM_OK)
        return st;
    return count > CM_WAIT_MANY_MAX
               ? cm__detail_set(CM_ERR_OUT_OF_RANGE, "%u items above CM_WAIT_MANY_MAX (%u)",
                                count, CM_WAIT_MANY_MAX)
               : CM_OK;
}

cm_status_t cm__object_wait_items_check(const cm_wait_item_t *items, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (!cm__signals_valid(items[i].waitfor))
            return CM_ERR_INVALID_ARGS;
    }
    return CM_OK;
}

cm_status_t cm__object_signals_type_check(uint32_t type)
{
    return type == CM_OBJ_CHANNEL || type == CM_OBJ_LISTENER || type == CM_OBJ_SBUF ||
                   type == CM_OBJ_SBUF_CONSUMER || type == CM_OBJ_DMA_DEVICE
               ? CM_OK
               : CM_ERR_WRONG_TYPE;
}

cm_signals_t cm__channel_signals(int queued, int peer_alive, int room)
{
    cm_signals_t s = queued ? CM_SIGNAL_READABLE : 0;
    /* Zircon's rule: a write to a dead peer fails with PEER_CLOSED, not
     * SHOULD_WAIT, so WRITABLE and PEER_CLOSED exclude each other. */
    if (!peer_alive)
        s |= CM_SIGNAL_PEER_CLOSED;
    else if (room)
        s |= CM_SIGNAL_WRITABLE;
    return s;
}
