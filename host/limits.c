/* SPDX-License-Identifier: MIT */
/* cm_limits_get on host: the ABI maxima are the effective limits. */
#include <capmem/capmem.h>

#include "limits_info.h"
#include "status_detail.h"

cm_status_t cm_limits_get(cm_limits_t *out)
{
    CM__ENTRY();
    static const cm_limits_t eff = {
        .struct_size = sizeof(cm_limits_t),
        .version = CM_LIMITS_VERSION,
        .vmo_max_size = CM__VMO_MAX_SIZE,
        .max_mapped_bytes = CM__MAX_MAPPED_BYTES,
        .max_reserved_bytes = CM_MAX_RESERVED_BYTES,
        .max_handles = CM_MAX_HANDLES,
        .max_mappings = CM_MAX_MAPPINGS,
        .channel_max_bytes = CM_CHANNEL_MAX_BYTES,
        .channel_max_handles = CM_CHANNEL_MAX_HANDLES,
    };
    cm_status_t st = cm__limits_report(out, &eff);
    if (st != CM_OK)
        return cm__detail_set(st, "cm_limits_get: out is NULL or out->struct_size below 48; "
                                  "set it to sizeof(cm_limits_t)");
    return st;
}
