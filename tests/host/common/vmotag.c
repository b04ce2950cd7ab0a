/* SPDX-License-Identifier: MIT */
#include "vmotag.h"

cm_handle_t tagged_vmo(uint8_t tag)
{
    cm_handle_t v;
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, &tag, 0, 1), CM_OK);
    return v;
}

int tag_of(cm_handle_t v)
{
    uint8_t tag = 0;
    return cm_vmo_read(v, &tag, 0, 1) == CM_OK ? tag : -1;
}
