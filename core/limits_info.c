/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "limits_info.h"

_Static_assert(offsetof(cm_limits_t, channel_max_handles) + 4 == 48,
               "cm_limits_t version 1 is 48 bytes; fields are only added at the end");

cm_status_t cm__limits_report(cm_limits_t *out, uint64_t vmo_max_size, uint64_t max_mapped_bytes)
{
    const cm_limits_t eff_v = {
        .struct_size = sizeof(cm_limits_t),
        .version = CM_LIMITS_VERSION,
        .vmo_max_size = vmo_max_size,
        .max_mapped_bytes = max_mapped_bytes,
        .max_reserved_bytes = CM_MAX_RESERVED_BYTES,
        .max_handles = CM_MAX_HANDLES,
        .max_mappings = CM_MAX_MAPPINGS,
        .channel_max_bytes = CM_CHANNEL_MAX_BYTES,
        .channel_max_handles = CM_CHANNEL_MAX_HANDLES,
    };
    const cm_limits_t *eff = &eff_v;
    if (out == NULL || out->struct_size < 48)
        return CM_ERR_INVALID_ARGS;
    uint32_t n = out->struct_size < sizeof *eff ? out->struct_size : (uint32_t)sizeof *eff;
    const unsigned char *src = (const unsigned char *)eff;
    unsigned char *dst = (unsigned char *)out;
    for (uint32_t i = 8; i < n; i++) /* no memcpy: freestanding targets */
        dst[i] = src[i];
    out->struct_size = n;
    out->version = CM_LIMITS_VERSION;
    return CM_OK;
}
