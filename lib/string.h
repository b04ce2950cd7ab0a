/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_LIB_STRING_H
#define CAPMEM_LIB_STRING_H

/* The freestanding subset of <string.h> implemented in lib/string.c,
 * shared by the kernel and the user runtime (there is no libc). */
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
