/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_SYS_H
#define CAPMEM_USER_SYS_H

/* Raw syscalls (ABI in abi/syscall_abi.h). Internal to user/. */
#include <stdint.h>

#include "syscall_abi.h"

static inline int64_t cmk__syscall(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2,
                                   uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
    register uint64_t r0 __asm__("a0") = a0;
    register uint64_t r1 __asm__("a1") = a1;
    register uint64_t r2 __asm__("a2") = a2;
    register uint64_t r3 __asm__("a3") = a3;
    register uint64_t r4 __asm__("a4") = a4;
    register uint64_t r5 __asm__("a5") = a5;
    register uint64_t r6 __asm__("a6") = a6;
    register uint64_t r7 __asm__("a7") = n;
    __asm__ volatile("ecall"
                     : "+r"(r0)
                     : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r7)
                     : "memory");
    return (int64_t)r0;
}

#define CMK_SYS0(n) cmk__syscall((n), 0, 0, 0, 0, 0, 0, 0)
#define CMK_SYS1(n, a) cmk__syscall((n), (uint64_t)(a), 0, 0, 0, 0, 0, 0)
#define CMK_SYS2(n, a, b) cmk__syscall((n), (uint64_t)(a), (uint64_t)(b), 0, 0, 0, 0, 0)
#define CMK_SYS3(n, a, b, c) \
    cmk__syscall((n), (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), 0, 0, 0, 0)
#define CMK_SYS4(n, a, b, c, d) \
    cmk__syscall((n), (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d), 0, 0, 0)
#define CMK_SYS5(n, a, b, c, d, e)                                                      \
    cmk__syscall((n), (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d),        \
                 (uint64_t)(e), 0, 0)
#define CMK_SYS7(n, a, b, c, d, e, f, g)                                                \
    cmk__syscall((n), (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d),        \
                 (uint64_t)(e), (uint64_t)(f), (uint64_t)(g))

#endif
