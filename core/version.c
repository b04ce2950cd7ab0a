/* SPDX-License-Identifier: MIT */
#include <capmem/version.h>

/* Compiled into the library, so these report the version it was built as,
 * whatever headers the caller compiled against. */
const char *cm_version(void)
{
    return CAPMEM_VERSION;
}

unsigned long cm_version_number(void)
{
    return CAPMEM_VERSION_NUMBER;
}
