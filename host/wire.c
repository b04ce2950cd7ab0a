/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "wire.h"

uint32_t cm__wire_fds_of(uint32_t type)
{
    if (type == CM_OBJ_VMO || type == CM_OBJ_CHANNEL)
        return 1;
    return type == CM_OBJ_SBUF_CONSUMER ? CM__WIRE_CONSUMER_FDS : 0;
}

size_t cm__wire_encode(uint8_t *buf, uint32_t num_bytes,
                       const struct cm__wire_handle *handles, uint32_t num_handles,
                       const struct cm__sbuf_wire *consumers, uint32_t num_consumers)
{
    struct cm__wire_hdr hdr = {
        .magic = CM__WIRE_MAGIC, .version = CM__WIRE_VERSION,
        .num_handles = (uint16_t)num_handles, .num_bytes = num_bytes, .reserved = 0,
    };
    memcpy(buf, &hdr, sizeof(hdr));
    if (num_handles > 0)
        memcpy(buf + sizeof(hdr), handles, num_handles * sizeof(*handles));
    size_t off = sizeof(hdr) + num_handles * sizeof(*handles);
    if (num_consumers > 0)
        memcpy(buf + off, consumers, num_consumers * sizeof(*consumers));
    return off + num_consumers * sizeof(*consumers);
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
    /* Both counts are bounded above, so these sums cannot overflow. */
    size_t dlen = sizeof(hdr) + (size_t)hdr.num_handles * sizeof(struct cm__wire_handle);
    if (len < dlen)
        return CM_ERR_PROTOCOL;
    const struct cm__wire_handle *h = (const struct cm__wire_handle *)(const void *)(buf + sizeof(hdr));
    uint32_t consumers = 0, fds = 0;
    for (uint32_t i = 0; i < hdr.num_handles; i++) {
        uint32_t type = h[i].type, n = cm__wire_fds_of(type);
        if (n == 0 || (h[i].rights & ~CM_RIGHTS_ALL) != 0)
            return CM_ERR_PROTOCOL;
        uint64_t size = h[i].size;
        if (type == CM_OBJ_VMO ? size > CM_VMO_MAX_SIZE : size != 0)
            return CM_ERR_PROTOCOL;
        consumers += type == CM_OBJ_SBUF_CONSUMER;
        fds += n;
    }
    if (fds > CM__WIRE_MAX_FDS)
        return CM_ERR_PROTOCOL;
    size_t hlen = dlen + (size_t)consumers * sizeof(struct cm__sbuf_wire);
    if (len != hlen + hdr.num_bytes)
        return CM_ERR_PROTOCOL;
    out->handles = h;
    out->num_handles = hdr.num_handles;
    out->consumers = buf + dlen;
    out->num_consumers = consumers;
    out->num_fds = fds;
    out->bytes = buf + hlen;
    out->num_bytes = hdr.num_bytes;
    return CM_OK;
}

cm_status_t cm__wire_decode(const uint8_t *buf, size_t len, size_t num_fds,
                            struct cm__wire_view *out)
{
    cm_status_t st = cm__wire_parse(buf, len, out);
    if (st == CM_OK && num_fds != out->num_fds)
        return CM_ERR_PROTOCOL;
    return st;
}
