/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_RIGHTS_H
#define CAPMEM_CORE_RIGHTS_H

#include <capmem/rights.h>
#include <capmem/status.h>

/* Rights arithmetic shared by both targets: rights only shrink. */

/* Computes the rights of a handle derived from one holding `have`.
 * `want` is CM_RIGHTS_SAME or a subset of `have`.
 * Returns OK, or INVALID_ARGS when `want` asks for a right not held or an
 * undefined bit. */
static inline cm_status_t cm__rights_derive(cm_rights_t have, cm_rights_t want,
                                            cm_rights_t *out)
{
    if (want == CM_RIGHTS_SAME) {
        *out = have;
        return CM_OK;
    }
    if ((want & ~CM_RIGHTS_ALL) != 0 || (want & ~have) != 0)
        return CM_ERR_INVALID_ARGS;
    *out = want;
    return CM_OK;
}

static inline int cm__rights_has(cm_rights_t have, cm_rights_t need)
{
    return (have & need) == need;
}

#endif
