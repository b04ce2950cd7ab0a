/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_SBI_H
#define CAPMEM_KERNEL_SBI_H

#include <stdint.h>

/* QEMU virt's timebase (the ACLINT mtime frequency in the device tree). */
#define TIMEBASE_HZ 10000000ul
/* Scheduler quantum: 10 ms, short enough for round-robin fairness, long
 * enough that TCG spends its time in user code. */
#define TICK_CYCLES (TIMEBASE_HZ / 100ul)

/* Programs the next S-mode timer interrupt (SBI TIME extension). */
void sbi_set_timer(uint64_t stime);

#endif
