/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_MEMFD_H
#define CAPMEM_TESTS_MEMFD_H

#include <stdint.h>

/* A sealable, close-on-exec memfd of `size` bytes (sparse), no seals yet;
 * -1 on error. */
int memfd_of(uint64_t size);

/* A new open file description of fd through /proc/self/fd, opened with
 * `flags` | O_CLOEXEC (e.g. O_RDONLY, O_WRONLY, O_PATH); -1 on error. */
int reopen(int fd, int flags);

/* Reads one byte of every page of [p, p+len) and its last byte (len > 0):
 * a mapping past the object's end raises SIGBUS here, so call it in a
 * forked child (common/child.h). */
void touch(const void *p, uint64_t len);

#endif
