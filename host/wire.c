#include <string.h>

#include "wire.h"

size_t cm__wire_encode(uint8_t *buf, uint32_t num_bytes,
                       const struct cm__wire_handle *handles, uint32_t num_handles)
{
    struct cm__wire_hdr hdr = {
        .magic = CM__WIRE_MAGIC, .version = CM__WIRE_VERSION,
        .num_handles = (uint16_t)num_handles, .num_bytes = num_bytes, .reserved = 0,
    };
    memcpy(buf, &hdr, sizeof(hdr));
    if (num_handles > 0)
        memcpy(buf + sizeof(hdr), handles, num_handles * sizeof(*handles));
    return sizeof(hdr) + num_handles * sizeof(*handles);
}

cm_status_t cm__wire_parse(const uint8_t *buf, size_t len, struct cm__wire_view *out)
{
    struct cm__wire_hdr hdr;
    if (len < sizeof(hdr))
        return CM_ERR_PROTOCOL;
    memcpy(&hdr, buf, sizeof(hdr));
    if (hdr.magic != CM__WIRE_MAGIC || hdr.version != CM__WIRE_VERSION || hdr.reserved != 0)
        return CM_ERR_PROTOCOL;
    if (hdr.num_handles > CM_CHANNEL_MAX_HANDLES || hdr.num_bytes > CM_CHANNEL_MAX_BYTES)
        return CM_ERR_PROTOCOL;
    /* Both counts are bounded above, so this sum cannot overflow. */
    size_t hlen = sizeof(hdr) + (size_t)hdr.num_handles * sizeof(struct cm__wire_handle);
    if (len != hlen + hdr.num_bytes)
        return CM_ERR_PROTOCOL;
    out->handles = (const struct cm__wire_handle *)(const void *)(buf + sizeof(hdr));
    out->num_handles = hdr.num_handles;
    out->bytes = buf + hlen;
    out->num_bytes = hdr.num_bytes;
    for (uint32_t i = 0; i < hdr.num_handles; i++) {
        uint32_t type = out->handles[i].type;
        if (type != CM_OBJ_VMO && type != CM_OBJ_CHANNEL)
            return CM_ERR_PROTOCOL;
        if ((out->handles[i].rights & ~CM_RIGHTS_ALL) != 0)
            return CM_ERR_PROTOCOL;
        uint64_t size = out->handles[i].size;
        if (type == CM_OBJ_VMO ? size > CM_VMO_MAX_SIZE : size != 0)
            return CM_ERR_PROTOCOL;
    }
    return CM_OK;
}

cm_status_t cm__wire_decode(const uint8_t *buf, size_t len, size_t num_fds,
                            struct cm__wire_view *out)
{
    cm_status_t st = cm__wire_parse(buf, len, out);
    if (st == CM_OK && num_fds != out->num_handles)
        return CM_ERR_PROTOCOL;
    return st;
}
