/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_STDIO_H
#define CAPMEM_USER_STDIO_H

/* The user runtime's stdio: formatted output to the kernel console only.
 * Formats: %s %c %d %i %u %x %X %p %% with l/ll/z, '0' flag and width. */
#include <stdarg.h>
#include <stddef.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

#endif
