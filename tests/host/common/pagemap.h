/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TEST_PAGEMAP_H
#define CAPMEM_TEST_PAGEMAP_H

#include <stddef.h>

/* How many of the pages of [p, p + len) have no page table entry in this
 * process (/proc/self/pagemap bit 63: present; a shared file page not
 * mapped here reads 0 even when the file holds it). Fails the test if
 * pagemap cannot be read. */
long pages_not_mapped(const void *p, size_t len);

#endif
