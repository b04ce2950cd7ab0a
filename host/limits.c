/* SPDX-License-Identifier: MIT */
/* cm_limits_get on host: the ABI maxima are the effective limits. */
#include <capmem/capmem.h>

#include "limits_info.h"
#include "status_detail.h"

cm_status_t cm_limits_get(cm_limits_t *out)
{
    CM__ENTRY();
    cm_status_t st = cm__limits_report(out, CM__VMO_MAX_SIZE, CM__MAX_MAPPED_BYTES);
    if (st != CM_OK)
        return cm__detail_set(st, "cm_limits_get: out is NULL or out->struct_size below 48; "
                                  "set it to sizeof(cm_limits_t)");
    return st;
}
