/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_VMO_HUGE_H
#define CAPMEM_HOST_VMO_HUGE_H

/* Huge-page VMOs on Linux: a hugetlbfs memfd of CM_HUGE_PAGE_SIZE pages.
 * The file's size is always a multiple of CM_HUGE_PAGE_SIZE (hugetlbfs
 * refuses anything else), so the VMO's exact size is kept by the library
 * (struct cm__vmo, local_size); bytes of the file past the exact size read
 * as zero (kept so by cm__huge_zero on every size change). hugetlbfs has no
 * write(): writes go through a temporary mapping; pread works. Mapping
 * needs a file offset that is a multiple of CM_HUGE_PAGE_SIZE and a length
 * rounded up to it (munmap of a part of a huge page fails). */

#include <stdint.h>
#include <capmem/capmem.h>

/* n rounded up to CM_HUGE_PAGE_SIZE; n <= CM_VMO_MAX_SIZE (no overflow). */
static inline uint64_t cm__huge_round(uint64_t n)
{
    return (n + CM_HUGE_PAGE_SIZE - 1) & ~(uint64_t)(CM_HUGE_PAGE_SIZE - 1);
}

/* Does cm_vmo_create(size, options) try huge pages? CM_VMO_HUGE, or no page
 * option and size >= CM_HUGE_PAGE_SIZE (the automatic policy); never for
 * size 0 (no page to back: a 0-byte VMO gets base pages). */
int cm__huge_wanted(uint64_t size, uint32_t options);

/* A hugetlbfs memfd (sealable, close-on-exec) of cm__huge_round(size)
 * bytes whose every page is allocated now: hugetlb otherwise reserves pages
 * only at mmap, and a pool that ran dry meanwhile would be a failed mapping
 * or, under a hugetlb cgroup limit, a SIGBUS at fault. Returns the fd, or
 * -1 when the system cannot give the pages (no pool, too few free pages,
 * 2 MiB pages unsupported, RLIMIT_FSIZE below the rounded size): the caller
 * falls back to base pages. Nothing is left open on failure. */
int cm__huge_memfd(const char *name, uint64_t size);

/* An empty 2 MiB hugetlbfs memfd (close-on-exec), or -1: to learn which
 * device such files live on (needs no pool). */
int cm__huge_probe_memfd(void);

/* Allocates the pages of [from, to) of fd (both multiples of the huge page
 * size). Errors: NO_MEMORY (pool exhausted), NO_RESOURCES (RLIMIT_FSIZE). */
cm_status_t cm__huge_reserve(int fd, uint64_t from, uint64_t to);

/* Copies len bytes from buf into fd at off, through a temporary shared
 * writable mapping of the huge pages covering them. The caller guarantees
 * the range lies within the file and cannot shrink meanwhile. fault_safe:
 * another process may punch the pages out meanwhile (the file is not
 * write-sealed and others hold it): the copy is process_vm_writev, whose
 * fault is an error, never a SIGBUS. Errors: ACCESS_DENIED (write-sealed:
 * mmap's EPERM); NO_MEMORY (also: a page punched out with the pool empty,
 * part of the bytes may be written); UNSUPPORTED (fault_safe, and
 * process_vm_writev is unavailable). */
cm_status_t cm__huge_copy_in(int fd, uint64_t off, const void *buf, uint64_t len,
                             int fault_safe);

/* Maps the huge pages covering [off, off+len) (len > 0) shared and
 * writable; *delta is off's place in the mapping, *mlen the mapping's
 * length (munmap(p, *mlen)). NULL with *st on failure: ACCESS_DENIED
 * (write-sealed), NO_MEMORY. */
char *cm__huge_map(int fd, uint64_t off, uint64_t len, uint64_t *delta, uint64_t *mlen,
                   cm_status_t *st);

/* Zeroes [from, to) of fd, as cm__huge_copy_in (same guarantee). */
cm_status_t cm__huge_zero(int fd, uint64_t from, uint64_t to);

#endif
