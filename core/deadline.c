/* SPDX-License-Identifier: MIT */
#include "deadline.h"

cm_status_t cm__timeout_check(int64_t timeout_ns)
{
    return timeout_ns < 0 && timeout_ns != CM_TIMEOUT_INFINITE ? CM_ERR_INVALID_ARGS : CM_OK;
}

cm_status_t cm__deadline_from_timeout(uint64_t now_ns, int64_t timeout_ns, uint64_t *deadline)
{
    cm_status_t st = cm__timeout_check(timeout_ns);
    if (st != CM_OK)
        return st;
    if (timeout_ns == CM_TIMEOUT_INFINITE) {
        *deadline = CM__DEADLINE_NONE;
        return CM_OK;
    }
    uint64_t t = (uint64_t)timeout_ns;
    /* Saturate one below NONE: a finite timeout stays a finite deadline. */
    *deadline = t >= CM__DEADLINE_NONE - 1 - now_ns ? CM__DEADLINE_NONE - 1 : now_ns + t;
    return CM_OK;
}

int cm__deadline_passed(uint64_t deadline, uint64_t now_ns)
{
    return deadline != CM__DEADLINE_NONE && now_ns >= deadline;
}

uint64_t cm__deadline_left_ns(uint64_t deadline, uint64_t now_ns)
{
    if (deadline == CM__DEADLINE_NONE)
        return CM__DEADLINE_NONE;
    return now_ns >= deadline ? 0 : deadline - now_ns;
}

int cm__deadline_poll_ms(uint64_t deadline, uint64_t now_ns, int max_ms)
{
    if (deadline == CM__DEADLINE_NONE)
        return -1;
    uint64_t left = cm__deadline_left_ns(deadline, now_ns);
    uint64_t ms = left / 1000000u + (left % 1000000u != 0);
    if (max_ms < 0)
        max_ms = 0;
    return ms > (uint64_t)max_ms ? max_ms : (int)ms;
}
