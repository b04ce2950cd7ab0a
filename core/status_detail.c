/* SPDX-License-Identifier: MIT */
/* cm_status_detail: one bounded buffer per thread on host (_Thread_local);
 * kernel-target processes have one thread, so one static buffer there. */
#include <stdarg.h>
#include <stddef.h>

#include "status_detail.h"

#if __STDC_HOSTED__
#include <stdio.h>
#define CM__DETAIL_TLS _Thread_local
#define CM__DETAIL_VFMT vsnprintf
#else
#include "fmt.h"
#define CM__DETAIL_TLS
#define CM__DETAIL_VFMT cm__vsnprintf
#endif

#ifdef CM__NO_DETAIL
/* Kernel target's user runtime: nothing is recorded (status_detail.h). */
const char *cm_status_detail(void)
{
    return "";
}
#else
static CM__DETAIL_TLS char detail_text[CM__DETAIL_MAX];

cm_status_t cm__detail_set(cm_status_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = CM__DETAIL_VFMT(detail_text, sizeof detail_text, fmt, ap);
    va_end(ap);
    if (n < 0)
        detail_text[0] = '\0';
    return status;
}

void cm__detail_clear(void)
{
    detail_text[0] = '\0';
}

const char *cm_status_detail(void)
{
    return detail_text;
}
#endif
