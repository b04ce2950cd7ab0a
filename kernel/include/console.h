/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_CONSOLE_H
#define CAPMEM_KERNEL_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_write(const char *s, size_t len);
/* Takes up to cap bytes the UART has received, without waiting; returns
 * how many (0: nothing pending). Polled: the UART raises no interrupts. */
size_t console_read_avail(char *buf, size_t cap);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Kernel invariant violated: prints and powers off with a failure code.
 * Never called for anything a user process controls. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Ends the run through the sifive_test device; QEMU exits with status 0
 * when pass is nonzero, else with status `code` (>= 1). */
void poweroff(int pass, unsigned code) __attribute__((noreturn));

#endif
