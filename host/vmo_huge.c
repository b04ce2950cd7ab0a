/* SPDX-License-Identifier: MIT */
/* Huge-page VMOs: creation and the byte moves hugetlbfs has no system call
 * for (see vmo_huge.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "status_detail.h"
#include "vmo_huge.h"

/* memfd_create's page-size selector for 2 MiB pages (linux/memfd.h, which
 * clashes with glibc's own MFD_* definitions): log2(size) << MFD_HUGE_SHIFT. */
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26)
#endif
_Static_assert(CM_HUGE_PAGE_SIZE == 1u << 21, "MFD_HUGE_2MB selects CM_HUGE_PAGE_SIZE");

int cm__huge_wanted(uint64_t size, uint32_t options)
{
    if (size == 0 || (options & CM_VMO_BASE_PAGES))
        return 0;
    return (options & CM_VMO_HUGE) || size >= CM_HUGE_PAGE_SIZE;
}

cm_status_t cm__huge_reserve(int fd, uint64_t from, uint64_t to)
{
    if (to <= from)
        return CM_OK;
    while (fallocate(fd, 0, (off_t)from, (off_t)(to - from)) != 0) {
        if (errno == EINTR)
            continue;
        return cm__vmo_pages_errno("fallocate of huge pages", errno);
    }
    return CM_OK;
}

int cm__huge_probe_memfd(void)
{
    return memfd_create("capmem-probe", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
}

int cm__huge_memfd(const char *name, uint64_t size)
{
    uint64_t file = cm__huge_round(size);
    /* Past RLIMIT_FSIZE ftruncate raises SIGXFSZ: the rounded size is what
     * the file gets, so it is what must fit. */
    if (cm__fsize_allows(file) != CM_OK)
        return -1;
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_HUGE_2MB);
    if (fd < 0)
        return -1;
    /* fallocate sets the size too (no ftruncate): with an empty pool the
     * whole attempt costs three system calls. */
    if (cm__huge_reserve(fd, 0, file) != CM_OK) {
        close(fd);
        return -1;
    }
    return fd;
}

char *cm__huge_map(int fd, uint64_t off, uint64_t len, uint64_t *delta, uint64_t *mlen,
                       cm_status_t *st)
{
    uint64_t base = off & ~(uint64_t)(CM_HUGE_PAGE_SIZE - 1);
    *delta = off - base;
    *mlen = cm__huge_round(off + len) - base;
    /* Every caller writes into each huge page it maps, and a VMO of ours has
     * them allocated: populating maps them in the mmap, which measured
     * cheaper than a fault per page during the copy. On a sparse (foreign)
     * file it allocates what the write would have faulted in anyway; a
     * failed populate is silent and leaves the fault to the write. */
    void *p = mmap(NULL, *mlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   (off_t)base);
    if (p == MAP_FAILED) {
        *st = errno == EPERM ? CM_ERR_ACCESS_DENIED : cm__errno_detail("mmap", errno);
        return NULL;
    }
    return p;
}

/* Copies len bytes from buf to p, which maps pages another process can
 * punch out (cm__vmo_huge_pages_fixed): process_vm_writev into our own
 * address space faults the pages in through the kernel, which reports a
 * page it cannot get (punched, the pool empty) as EFAULT where a memcpy
 * would be killed by SIGBUS. */
static cm_status_t fault_safe_copy(char *p, const void *buf, uint64_t len)
{
    pid_t self = getpid();
    for (uint64_t done = 0; done < len;) {
        struct iovec local = { (char *)(uintptr_t)buf + done, (size_t)(len - done) };
        struct iovec remote = { p + done, (size_t)(len - done) };
        ssize_t n = process_vm_writev(self, &local, 1, &remote, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == ENOSYS || errno == EPERM))
            return CM_ERR_UNSUPPORTED; /* not in this kernel, or a seccomp filter */
        if (n <= 0)
            /* EFAULT: a page punched out, no huge page left to fault in. */
            return cm__detail_set(CM_ERR_MEMORY_PRESSURE,
                                  "no huge page left for a page punched out of the VMO");
        done += (uint64_t)n;
    }
    return CM_OK;
}

static cm_status_t move_in(int fd, uint64_t off, const void *buf, uint64_t len, int fault_safe)
{
    uint64_t delta, mlen;
    cm_status_t st = CM_OK;
    if (len == 0)
        return CM_OK;
    char *p = cm__huge_map(fd, off, len, &delta, &mlen, &st);
    if (p == NULL)
        return st;
    if (fault_safe && buf != NULL)
        st = fault_safe_copy(p + delta, buf, len);
    else if (buf != NULL)
        memcpy(p + delta, buf, len);
    else
        memset(p + delta, 0, len);
    munmap(p, mlen);
    return st;
}

cm_status_t cm__huge_copy_in(int fd, uint64_t off, const void *buf, uint64_t len, int fault_safe)
{
    return move_in(fd, off, buf, len, fault_safe);
}

cm_status_t cm__huge_zero(int fd, uint64_t from, uint64_t to)
{
    return to > from ? move_in(fd, from, NULL, to - from, 0) : CM_OK;
}
