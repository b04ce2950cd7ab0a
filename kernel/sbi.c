/* SPDX-License-Identifier: MIT */
#include "sbi.h"

#define SBI_EXT_TIME 0x54494d45ul
#define SBI_EXT_LEGACY_SET_TIMER 0x0ul

struct sbiret {
    long error;
    long value;
};

static struct sbiret sbi_call(unsigned long eid, unsigned long fid, unsigned long arg0)
{
    register unsigned long a0 __asm__("a0") = arg0;
    register unsigned long a1 __asm__("a1") = 0;
    register unsigned long a6 __asm__("a6") = fid;
    register unsigned long a7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
    return (struct sbiret){ (long)a0, (long)a1 };
}

void sbi_set_timer(uint64_t stime)
{
    /* Fall back to the legacy call on firmware without the TIME extension. */
    if (sbi_call(SBI_EXT_TIME, 0, stime).error != 0)
        sbi_call(SBI_EXT_LEGACY_SET_TIMER, 0, stime);
}
