/* SPDX-License-Identifier: MIT */
#include <capmem/status.h>

const char *cm_status_str(cm_status_t status)
{
    switch (status) {
#define CM__STATUS_MSG(name, value, msg) case (value): return (msg);
        CM_STATUS_TABLE(CM__STATUS_MSG)
#undef CM__STATUS_MSG
    }
    return "unknown status";
}

const char *cm_status_name(cm_status_t status)
{
    if (status == CM_OK)
        return "CM_OK";
    switch (status) {
#define CM__STATUS_NAME(name, value, msg) case (value): return "CM_ERR_" #name;
        CM_STATUS_TABLE(CM__STATUS_NAME)
#undef CM__STATUS_NAME
    }
    return "CM_ERR_UNKNOWN";
}
