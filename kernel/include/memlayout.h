/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_MEMLAYOUT_H
#define CAPMEM_KERNEL_MEMLAYOUT_H

/* QEMU `virt` physical map (hw/riscv/virt.c) and the kernel's virtual map.
 *
 * The kernel runs identity-mapped: every physical address it touches (RAM,
 * UART, test device) has VA == PA, all below 4 GiB, i.e. in Sv39 root slots
 * 0..3. Every user page table shares those root slots (non-U), so a trap
 * needs no page-table switch and the kernel reaches any frame by its PA.
 * User space starts at 4 GiB, so no user VA can alias a kernel VA. */

#include "syscall_abi.h" /* CMK_USER_IMAGE_BASE */

#define SIFIVE_TEST_BASE 0x00100000ul
#define UART0_BASE       0x10000000ul
/* virtio-mmio transports: VIRTIO_MMIO_SLOTS windows of VIRTIO_MMIO_STRIDE
 * bytes from VIRTIO_MMIO_BASE, slot i on PLIC source VIRTIO_MMIO_IRQ0 + i
 * (hw/riscv/virt.c: VIRT_VIRTIO, VIRTIO_IRQ, VIRTIO_COUNT). The kernel maps
 * them for itself (device reset, kernel/object/mmio.c) and users reach them
 * only through an MMIO handle (docs/mmio.md). */
#define VIRTIO_MMIO_BASE   0x10001000ul
#define VIRTIO_MMIO_STRIDE 0x1000ul
#define VIRTIO_MMIO_SLOTS  8u
#define VIRTIO_MMIO_IRQ0   1u
#define RAM_BASE         0x80000000ul
#define KERNEL_BASE      0x80200000ul  /* OpenSBI fw_dynamic jumps here */
/* The harness boots with -m 128M; the kernel uses exactly that much. */
#define RAM_SIZE         (128ul << 20)
#define PHYS_TOP         (RAM_BASE + RAM_SIZE)

/* Root slots [0, KERNEL_ROOT_SLOTS) belong to the kernel in every table. */
#define KERNEL_ROOT_SLOTS 4u

/* User address space: [USER_BASE, USER_TOP). USER_TOP stays below 2^38 so
 * every user VA is a canonical low-half Sv39 address. */
#define USER_BASE        0x100000000ul
#define USER_TOP         0x3f00000000ul
/* Programs are linked at USER_IMAGE_BASE (user/user.ld): the ABI's number. */
#define USER_IMAGE_BASE  CMK_USER_IMAGE_BASE
/* The stack sits below a guard gap at the top of user space. */
#define USER_STACK_PAGES 32u   /* 128 KiB: apps keep big buffers in VMOs/BSS */
#define USER_STACK_TOP   (USER_TOP - 0x10000ul)
/* VMO mappings are placed by the interval map at or above this hint. */
#define USER_MAP_BASE    0x2000000000ul

#define SIFIVE_TEST_PASS 0x5555u
#define SIFIVE_TEST_FAIL 0x3333u

#endif
