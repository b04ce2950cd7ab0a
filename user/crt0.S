/* SPDX-License-Identifier: MIT */
/* Process entry. The kernel starts us with a0 = argc, a1 = argv,
 * a2 = start-up block (initial handles), a3 = role, sp 16-byte aligned.
 * BSS is zero: the loader maps fresh zeroed frames. */
    .section .text.entry
    .globl _start
_start:
    mv fp, zero
    call __cm_start
1:  j 1b
