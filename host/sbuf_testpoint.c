/* SPDX-License-Identifier: MIT */
/* The library's fault-injection points are no-ops (host/sbuf_internal.h,
 * enum cm__sbuf_point). Weak, in a file of its own: a test program that
 * defines cm__sbuf_test_point replaces it when it links libcapmem.a, and
 * this archive member is then not even pulled in. */
#include "sbuf_internal.h"

__attribute__((weak)) void cm__sbuf_test_point(uint32_t where)
{
    (void)where;
}
