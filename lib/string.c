/* SPDX-License-Identifier: MIT */
/* The few libc string functions both the kernel and the user runtime need
 * (GCC also emits calls to memcpy/memset/memmove for struct copies). */
#include <stddef.h>
#include <stdint.h>

#include "string.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* Word copies when both are aligned: VMO payloads move through here. */
    if ((((uintptr_t)d | (uintptr_t)s) & 7u) == 0) {
        while (n >= 8) {
            *(uint64_t *)(void *)d = *(const uint64_t *)(const void *)s;
            d += 8;
            s += 8;
            n -= 8;
        }
    }
    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    while (n-- > 0)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    if (((uintptr_t)d & 7u) == 0) {
        uint64_t w = (unsigned char)c;
        w |= w << 8;
        w |= w << 16;
        w |= w << 32;
        while (n >= 8) {
            *(uint64_t *)(void *)d = w;
            d += 8;
            n -= 8;
        }
    }
    while (n-- > 0)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || a[i] == '\0')
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}
