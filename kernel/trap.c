/* SPDX-License-Identifier: MIT */
/* Trap handling. A user trap is a syscall, a timer tick (preemption) or a
 * fault; a fault ends the process (recorded as CMK_EXIT_FAULTED with scause
 * and stval) and never reaches the kernel's own state. A trap taken in
 * S-mode other than the idle loop's timer is a kernel bug. */
#include <stdint.h>

#include "console.h"
#include "proc.h"
#include "riscv.h"
#include "sbi.h"
#include "syscall.h"
#include "vm.h"

void usertrap(void);
void kerneltrap(void);
void trap_init(void);
extern char kernelvec[];

void trap_init(void)
{
    csr_write(stvec, (uint64_t)kernelvec);
    /* OpenSBI leaves the FPU on; nothing here uses or saves it (soft-float
     * build), so it is Off for the kernel too and for user mode
     * (usertrapret clears it again on every return). */
    csr_clear(sstatus, SSTATUS_FS | SSTATUS_VS);
    csr_write(sscratch, 0);
    /* Let user code read the time CSR (app_now_ns) without a syscall. */
    csr_write(scounteren, 2);
    csr_set(sie, SIE_STIE);
    sbi_set_timer(rdtime() + TICK_CYCLES);
}

static void timer_interrupt(void)
{
    uint64_t now = rdtime();
    sbi_set_timer(now + TICK_CYCLES);
    proc_timer_tick(now);
}

/* The typed class of a fault (abi cmk_exit_info_t.status): a page fault
 * on a page mapped without the access is ACCESS_DENIED, on nothing mapped
 * INVALID_ARGS; every other fault BAD_STATE. */
static cm_status_t fault_status(struct proc *p, uint64_t scause, uint64_t stval)
{
    if (scause != EXC_LOAD_PAGE_FAULT && scause != EXC_STORE_PAGE_FAULT &&
        scause != EXC_INSN_PAGE_FAULT)
        return CM_ERR_BAD_STATE;
    return uvm_mapped(p->as.root, stval)
               ? CM_ERR_ACCESS_DENIED
               : CM_ERR_INVALID_ARGS;
}

void usertrap(void)
{
    struct proc *p = proc_current();
    uint64_t scause = csr_read(scause);
    if ((csr_read(sstatus) & SSTATUS_SPP) != 0)
        panic("usertrap: not from user mode");
    if (scause == EXC_ECALL_U) {
        p->tf.epc += 4;
        syscall_dispatch(p);
    } else if (scause == (SCAUSE_INTR | SCAUSE_S_TIMER)) {
        timer_interrupt();
        yield();
    } else if ((scause & SCAUSE_INTR) == 0) {
        uint64_t stval = csr_read(stval);
        cm_status_t st = CM_ERR_BAD_STATE;
        if (scause == EXC_LOAD_PAGE_FAULT || scause == EXC_STORE_PAGE_FAULT) {
            /* Demand commit and reservation mappings; else the typed status. */
            st = as_fault(&p->as, stval, scause == EXC_STORE_PAGE_FAULT);
            if (st == CM_OK)
                usertrapret();
        } else if (scause == EXC_INSN_PAGE_FAULT) {
            st = fault_status(p, scause, stval);
        }
        kprintf("capmem: pid %d (%s) killed: scause %lu at pc %lx, addr %lx\n", p->pid,
                p->name, (unsigned long)scause, (unsigned long)p->tf.epc, (unsigned long)stval);
        proc_exit_fault((int32_t)scause, stval, st);
    }
    usertrapret();
}

void kerneltrap(void)
{
    uint64_t scause = csr_read(scause);
    if (scause == (SCAUSE_INTR | SCAUSE_S_TIMER)) {
        timer_interrupt();
        return;
    }
    panic("kernel trap: scause %lx sepc %lx stval %lx", (unsigned long)scause,
          (unsigned long)csr_read(sepc), (unsigned long)csr_read(stval));
}
