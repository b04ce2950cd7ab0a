/* SPDX-License-Identifier: MIT */
/* The user programs, built separately (user/user.ld) and embedded whole.
 * The list is CMK_USER_PROGS from the generated user_progs.h (USER_PROGS in
 * mk/kernel.mk: add a program there, not here). The assembler finds the
 * ELF files through -I$(KBUILD)/user. Table layout matches struct
 * user_image in images.h: name, start, end. */
#include "user_progs.h"

.macro IMAGE name
    .section .rodata
    .balign 8
image_\name\()_start:
    .incbin "\name\().elf"
image_\name\()_end:
    .section .rodata.str
image_\name\()_name:
    .asciz "\name"
.endm

.irp name, CMK_USER_PROGS
IMAGE \name
.endr

    .section .rodata
    .balign 8
    .globl user_images
user_images:
.irp name, CMK_USER_PROGS
    .dword image_\name\()_name, image_\name\()_start, image_\name\()_end
.endr
user_images_end:
    .globl user_image_count
user_image_count:
    .dword (user_images_end - user_images) / 24
