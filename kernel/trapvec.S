/* SPDX-License-Identifier: MIT */
/* Trap entry and exit.
 *
 * User traps enter at uservec with sscratch holding the current process's
 * trapframe (kernel memory, identity-mapped and present in every page
 * table, so no satp switch is needed). The kernel runs with interrupts off,
 * so traps taken in S-mode are only the idle loop's timer interrupts and
 * kernel bugs; they enter kernelvec on the current stack. */

#define TF_REG(n) (8 * (n))
#define TF_EPC    256
#define TF_KSP    264

    .section .text
    .globl uservec
    .balign 4
uservec:
    csrrw a0, sscratch, a0
    sd x1, TF_REG(1)(a0)
    sd x2, TF_REG(2)(a0)
    sd x3, TF_REG(3)(a0)
    sd x4, TF_REG(4)(a0)
    sd x5, TF_REG(5)(a0)
    sd x6, TF_REG(6)(a0)
    sd x7, TF_REG(7)(a0)
    sd x8, TF_REG(8)(a0)
    sd x9, TF_REG(9)(a0)
    sd x11, TF_REG(11)(a0)
    sd x12, TF_REG(12)(a0)
    sd x13, TF_REG(13)(a0)
    sd x14, TF_REG(14)(a0)
    sd x15, TF_REG(15)(a0)
    sd x16, TF_REG(16)(a0)
    sd x17, TF_REG(17)(a0)
    sd x18, TF_REG(18)(a0)
    sd x19, TF_REG(19)(a0)
    sd x20, TF_REG(20)(a0)
    sd x21, TF_REG(21)(a0)
    sd x22, TF_REG(22)(a0)
    sd x23, TF_REG(23)(a0)
    sd x24, TF_REG(24)(a0)
    sd x25, TF_REG(25)(a0)
    sd x26, TF_REG(26)(a0)
    sd x27, TF_REG(27)(a0)
    sd x28, TF_REG(28)(a0)
    sd x29, TF_REG(29)(a0)
    sd x30, TF_REG(30)(a0)
    sd x31, TF_REG(31)(a0)
    csrr t0, sscratch
    sd t0, TF_REG(10)(a0)
    csrr t0, sepc
    sd t0, TF_EPC(a0)
    ld sp, TF_KSP(a0)
    la t0, kernelvec
    csrw stvec, t0
    call usertrap
    /* usertrap never returns: it leaves through userret or the scheduler. */
1:  j 1b

/* userret(struct trapframe *tf): stvec, sstatus already set for user. */
    .globl userret
userret:
    csrw sscratch, a0
    ld t0, TF_EPC(a0)
    csrw sepc, t0
    ld x1, TF_REG(1)(a0)
    ld x2, TF_REG(2)(a0)
    ld x3, TF_REG(3)(a0)
    ld x4, TF_REG(4)(a0)
    ld x5, TF_REG(5)(a0)
    ld x6, TF_REG(6)(a0)
    ld x7, TF_REG(7)(a0)
    ld x8, TF_REG(8)(a0)
    ld x9, TF_REG(9)(a0)
    ld x11, TF_REG(11)(a0)
    ld x12, TF_REG(12)(a0)
    ld x13, TF_REG(13)(a0)
    ld x14, TF_REG(14)(a0)
    ld x15, TF_REG(15)(a0)
    ld x16, TF_REG(16)(a0)
    ld x17, TF_REG(17)(a0)
    ld x18, TF_REG(18)(a0)
    ld x19, TF_REG(19)(a0)
    ld x20, TF_REG(20)(a0)
    ld x21, TF_REG(21)(a0)
    ld x22, TF_REG(22)(a0)
    ld x23, TF_REG(23)(a0)
    ld x24, TF_REG(24)(a0)
    ld x25, TF_REG(25)(a0)
    ld x26, TF_REG(26)(a0)
    ld x27, TF_REG(27)(a0)
    ld x28, TF_REG(28)(a0)
    ld x29, TF_REG(29)(a0)
    ld x30, TF_REG(30)(a0)
    ld x31, TF_REG(31)(a0)
    ld a0, TF_REG(10)(a0)
    sret

    .globl kernelvec
    .balign 4
kernelvec:
    addi sp, sp, -256
    sd ra, 0(sp)
    sd t0, 8(sp)
    sd t1, 16(sp)
    sd t2, 24(sp)
    sd a0, 32(sp)
    sd a1, 40(sp)
    sd a2, 48(sp)
    sd a3, 56(sp)
    sd a4, 64(sp)
    sd a5, 72(sp)
    sd a6, 80(sp)
    sd a7, 88(sp)
    sd t3, 96(sp)
    sd t4, 104(sp)
    sd t5, 112(sp)
    sd t6, 120(sp)
    sd gp, 128(sp)
    sd tp, 136(sp)
    call kerneltrap
    ld ra, 0(sp)
    ld t0, 8(sp)
    ld t1, 16(sp)
    ld t2, 24(sp)
    ld a0, 32(sp)
    ld a1, 40(sp)
    ld a2, 48(sp)
    ld a3, 56(sp)
    ld a4, 64(sp)
    ld a5, 72(sp)
    ld a6, 80(sp)
    ld a7, 88(sp)
    ld t3, 96(sp)
    ld t4, 104(sp)
    ld t5, 112(sp)
    ld t6, 120(sp)
    ld gp, 128(sp)
    ld tp, 136(sp)
    addi sp, sp, 256
    sret

/* swtch(struct context *old, struct context *new): callee-saved registers
 * only; everything else is saved by the C caller. */
    .globl swtch
swtch:
    sd ra, 0(a0)
    sd sp, 8(a0)
    sd s0, 16(a0)
    sd s1, 24(a0)
    sd s2, 32(a0)
    sd s3, 40(a0)
    sd s4, 48(a0)
    sd s5, 56(a0)
    sd s6, 64(a0)
    sd s7, 72(a0)
    sd s8, 80(a0)
    sd s9, 88(a0)
    sd s10, 96(a0)
    sd s11, 104(a0)
    ld ra, 0(a1)
    ld sp, 8(a1)
    ld s0, 16(a1)
    ld s1, 24(a1)
    ld s2, 32(a1)
    ld s3, 40(a1)
    ld s4, 48(a1)
    ld s5, 56(a1)
    ld s6, 64(a1)
    ld s7, 72(a1)
    ld s8, 80(a1)
    ld s9, 88(a1)
    ld s10, 96(a1)
    ld s11, 104(a1)
    ret
