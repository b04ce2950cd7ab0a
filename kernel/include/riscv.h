/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_RISCV_H
#define CAPMEM_KERNEL_RISCV_H

/* Hardware facts of RV64 S-mode (privileged spec 1.12) in one place. */

#include <stdint.h>

#define SSTATUS_SIE  (1ul << 1)
#define SSTATUS_SPIE (1ul << 5)
#define SSTATUS_SPP  (1ul << 8)
#define SSTATUS_VS   (3ul << 9)  /* vector unit state; 0 = Off */
#define SSTATUS_FS   (3ul << 13) /* FP unit state; 0 = Off: FP instructions trap */
#define SSTATUS_SUM  (1ul << 18)

#define SIE_STIE (1ul << 5)

#define SCAUSE_INTR          (1ul << 63)
#define SCAUSE_S_TIMER       5ul
#define EXC_INSN_MISALIGNED  0ul
#define EXC_INSN_ACCESS      1ul
#define EXC_ILLEGAL_INSN     2ul
#define EXC_BREAKPOINT       3ul
#define EXC_LOAD_MISALIGNED  4ul
#define EXC_LOAD_ACCESS      5ul
#define EXC_STORE_MISALIGNED 6ul
#define EXC_STORE_ACCESS     7ul
#define EXC_ECALL_U          8ul
#define EXC_INSN_PAGE_FAULT  12ul
#define EXC_LOAD_PAGE_FAULT  13ul
#define EXC_STORE_PAGE_FAULT 15ul

/* Sv39 */
#define PGSIZE   4096ul
#define PGSHIFT  12
#define PTE_V (1ul << 0)
#define PTE_R (1ul << 1)
#define PTE_W (1ul << 2)
#define PTE_X (1ul << 3)
#define PTE_U (1ul << 4)
#define PTE_G (1ul << 5)
#define PTE_A (1ul << 6)
#define PTE_D (1ul << 7)
#define PTE_PPN_SHIFT 10
#define PTE_TO_PA(pte) (((pte) >> PTE_PPN_SHIFT) << PGSHIFT)
#define PA_TO_PTE(pa)  ((((uint64_t)(pa)) >> PGSHIFT) << PTE_PPN_SHIFT)
#define VPN(va, level) ((((uint64_t)(va)) >> (PGSHIFT + 9 * (level))) & 0x1ffu)
#define SATP_SV39 (8ul << 60)
#define MAKE_SATP(root) (SATP_SV39 | (((uint64_t)(root)) >> PGSHIFT))

#define PGROUNDUP(x)   (((x) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(x) ((x) & ~(PGSIZE - 1))

#define csr_read(csr) ({ uint64_t v__; __asm__ volatile("csrr %0, " #csr : "=r"(v__)); v__; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"((uint64_t)(val)))
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" ::"rK"((uint64_t)(val)))
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" ::"rK"((uint64_t)(val)))

static inline void sfence_vma(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }
static inline uint64_t rdtime(void) { uint64_t t; __asm__ volatile("rdtime %0" : "=r"(t)); return t; }
static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline void intr_on(void) { csr_set(sstatus, SSTATUS_SIE); }

#endif
