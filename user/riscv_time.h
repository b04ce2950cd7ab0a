/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_RISCV_TIME_H
#define CAPMEM_USER_RISCV_TIME_H

#include <stdint.h>

/* QEMU virt's timebase is 10 MHz; the kernel enables the time CSR for user
 * mode (scounteren.TM), so reading the clock costs no syscall. */
#define CMK_TIMEBASE_HZ 10000000ull

static inline uint64_t cmk_rdtime_ns(void)
{
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t * (1000000000ull / CMK_TIMEBASE_HZ);
}

#endif
