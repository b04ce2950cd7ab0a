/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "memfd.h"

int memfd_of(uint64_t size)
{
    int fd = memfd_create("capmem-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int reopen(int fd, int flags)
{
    char path[40];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return open(path, flags | O_CLOEXEC);
}

void touch(const void *p, uint64_t len)
{
    for (uint64_t off = 0; off < len; off += CM_PAGE_SIZE)
        (void)*(const volatile char *)((const char *)p + off);
    (void)*(const volatile char *)((const char *)p + len - 1);
}
