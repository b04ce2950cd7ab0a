/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "pagemap.h"

long pages_not_mapped(const void *p, size_t len)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    long missing = 0;
    for (uintptr_t a = (uintptr_t)p / pg * pg; a < (uintptr_t)p + len; a += pg) {
        uint64_t e = 0;
        assert_int_equal(pread(fd, &e, sizeof(e), (off_t)(a / pg * sizeof(e))),
                         (ssize_t)sizeof(e));
        missing += (e >> 63) == 0;
    }
    close(fd);
    return missing;
}
