/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_LIB_FMT_H
#define CAPMEM_LIB_FMT_H

/* The printf engine shared by the kernel and the user runtime: one
 * implementation, two sinks. Supports %s %c %d %i %u %x %X %p %% with the
 * l/ll/z length modifiers, a '0' flag and a width ("%02x", "%8lu"). */

#include <stdarg.h>
#include <stddef.h>

typedef void (*cm__fmt_put_fn)(void *ctx, char c);

/* Returns the number of characters produced. */
int cm__vfmt(cm__fmt_put_fn put, void *ctx, const char *fmt, va_list ap);

/* snprintf semantics: always NUL-terminates when cap > 0; returns the length
 * the full output would have had. */
int cm__vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);

#endif
