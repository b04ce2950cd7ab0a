#ifndef CAPMEM_USER_STRING_H
#define CAPMEM_USER_STRING_H

/* Implemented by kernel/lib/string.c, compiled into the user runtime. */
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
