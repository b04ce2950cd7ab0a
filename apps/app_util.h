/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_APPS_APP_UTIL_H
#define CAPMEM_APPS_APP_UTIL_H

/* Small helpers shared by the apps and tools: target-independent, header
 * only (the kernel target's minimal libc has no strtoull). */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <capmem/status.h>

/* Parses a decimal u64; -1 on empty input, a non-digit, or overflow. */
static inline int app_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* Formats a SHA-256 digest as 64 lowercase hex digits plus NUL. */
static inline void app_hex_digest(const uint8_t d[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = '\0';
}

/* Reports a failed call on stdout as "APP: ROLE: WHAT failed: NAME
 * (message)", followed by the library's detail when it recorded one (the
 * system call and errno, the limit and its value, a hint: capmem/status.h).
 * Call it before any other capmem call but cm_handle_close, which keeps the
 * detail. Returns 1, an app's failure exit code. */
static inline int app_fail(const char *app, const char *role, const char *what, cm_status_t st)
{
    const char *detail = cm_status_detail();
    printf("%s: %s: %s failed: %s (%s)%s%s\n", app, role, what, cm_status_name(st),
           cm_status_str(st), detail[0] != '\0' ? ": " : "", detail);
    return 1;
}

#endif
