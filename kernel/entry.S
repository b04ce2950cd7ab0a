/* SPDX-License-Identifier: MIT */
/* First instructions: OpenSBI enters in S-mode with a0 = hartid,
 * a1 = device tree, MMU off. Only hart 0 is booted (-smp 1). */
    .section .text.entry
    .globl _start
_start:
    la sp, boot_stack_top
    /* BSS is not guaranteed zero by fw_dynamic. */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call kmain /* a0, a1 untouched since entry */
3:  wfi
    j 3b

    .section .bss
    .balign 16
boot_stack:
    .space 16384
    .globl boot_stack_top
boot_stack_top:
