/* SPDX-License-Identifier: MIT */
/* The console-read syscall, the input of the interactive shell
 * (user/shell.c, docs/kernel.md "The shell"). The UART raises no interrupt
 * (console.c), so a reader with nothing to read sleeps about one scheduler
 * tick and polls again: up to two ticks (20 ms) of latency per keystroke,
 * no busy loop, and every other process runs meanwhile. Like debug_write,
 * the call is ambient: the console is this kernel's debugging device, not
 * a capability object. */
#include <stddef.h>

#include "console.h"
#include "proc.h"
#include "riscv.h"
#include "sbi.h"
#include "syscall.h"
#include "syscall_abi.h"
#include "usercopy.h"

/* What sleeping readers wait on: nothing wakes it, the deadline does. */
static const char console_poll_chan;

/* (buf, cap, timeout_ns): 1 <= cap <= CMK_CONSOLE_READ_MAX (0 INVALID_ARGS,
 * more OUT_OF_RANGE); returns the byte count (> 0) of what had arrived, or
 * TIMED_OUT when nothing did before the timeout (0: poll once). */
int64_t sys_console_read(struct proc *p, const uint64_t *a)
{
    char buf[CMK_CONSOLE_READ_MAX];
    uint64_t deadline;
    if (a[1] == 0)
        return CM_ERR_INVALID_ARGS;
    if (a[1] > CMK_CONSOLE_READ_MAX)
        return CM_ERR_OUT_OF_RANGE;
    cm_status_t st = sleep_deadline((int64_t)a[2], &deadline);
    if (st != CM_OK)
        return st;
    for (;;) {
        /* Checked before each take, so the copy-out below cannot fail and
         * no byte taken from the UART is ever dropped. */
        if (!user_range_ok(p, a[0], a[1], 1))
            return CM_ERR_INVALID_ARGS;
        size_t n = console_read_avail(buf, (size_t)a[1]);
        if (n > 0) {
            st = copyout(p, a[0], buf, n);
            return st == CM_OK ? (int64_t)n : st;
        }
        if (sleep_deadline_passed(deadline))
            return CM_ERR_TIMED_OUT;
        uint64_t poll = rdtime() + TICK_CYCLES;
        sleep_on(&console_poll_chan, poll < deadline ? poll : deadline);
    }
}
