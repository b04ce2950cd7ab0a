/* SPDX-License-Identifier: MIT */
/* Console read (syscall 76, kernel/console_read.c): the argument checks
 * come before any byte is taken from the UART, so these tests never eat
 * input typed at a shell that runs them (`run selftest`). */
#include "cmk.h"
#include "selftest.h"

static char console_buf[CMK_CONSOLE_READ_MAX + 1];

int test_console_read_bounds_are_typed(void)
{
    CHECK(cmk_console_read(console_buf, 0, 0) == CM_ERR_INVALID_ARGS);
    CHECK(cmk_console_read(console_buf, CMK_CONSOLE_READ_MAX + 1, 0) == CM_ERR_OUT_OF_RANGE);
    CHECK(cmk_console_read(0, 1, 0) == CM_ERR_INVALID_ARGS);
    /* Kernel space, and a range that starts below user space. */
    CHECK(cmk_console_read((void *)0x80200000ul, 1, 0) == CM_ERR_INVALID_ARGS);
    CHECK(cmk_console_read((void *)(CMK_USER_IMAGE_BASE - 8), 16, 0) == CM_ERR_INVALID_ARGS);
    /* core/deadline.h: negatives other than CM_TIMEOUT_INFINITE. */
    CHECK(cmk_console_read(console_buf, 1, -2) == CM_ERR_INVALID_ARGS);
    return 0;
}

/* With nothing typed (make qemu-test's stdin is empty) a read ends at
 * its deadline, not before; a byte typed meanwhile is a count instead. */
int test_console_read_times_out_without_input(void)
{
    uint64_t t0 = now_ticks();
    int64_t r = cmk_console_read(console_buf, 1, 20ll * 1000 * 1000);
    if (r > 0)
        return 0;
    CHECK(r == CM_ERR_TIMED_OUT);
    CHECK(now_ticks() - t0 >= 20 * TICKS_PER_MS);
    r = cmk_console_read(console_buf, CMK_CONSOLE_READ_MAX, 0);
    CHECK(r == CM_ERR_TIMED_OUT || (r > 0 && r <= (int64_t)CMK_CONSOLE_READ_MAX));
    return 0;
}
