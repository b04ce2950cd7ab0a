/* SPDX-License-Identifier: MIT */
/* Processes and the scheduler.
 *
 * One hart, and the kernel runs with interrupts off, so kernel code is never
 * preempted: a process leaves the CPU only in sched() (yield on a timer tick
 * taken in user mode, sleep, exit). User mode is preempted by the timer.
 * The scheduler runs on the boot stack and switches to each runnable
 * process round-robin; switching loads that process's page table.
 *
 * Exit frees everything at once (address space, handles, objects whose last
 * reference went); only the slot and the exit record stay until the parent
 * waits. An orphan's slot is freed at exit. */
#include "proc.h"

#include <string.h>

#include "account.h"
#include "console.h"
#include "deadline.h"
#include "elf.h"
#include "images.h"
#include "khandle.h"
#include "kmmio.h"
#include "kobj.h"
#include "memlayout.h"
#include "riscv.h"
#include "sbi.h"
#include "vm.h"

static struct proc procs[MAX_PROCS];
/* Process objects: each is one PROCESSES charge of its creator (kobj.c),
 * so together with the accounts they never outnumber the budget. */
static struct kproc_obj pobjs[MAX_PROCS];
static struct proc *current;
static struct context sched_ctx;
static int32_t next_pid = 1;
static uint64_t live_procs;

extern void swtch(struct context *old, struct context *new);
extern void userret(struct trapframe *tf) __attribute__((noreturn));
extern char uservec[];

struct proc *proc_current(void)
{
    return current;
}

uint64_t proc_live_count(void)
{
    return live_procs;
}

uint32_t proc_index(const struct proc *p)
{
    return (uint32_t)(p - procs);
}

struct proc *proc_by_pid(int32_t pid)
{
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        if (procs[i].pid == pid && (procs[i].state == PROC_RUNNABLE ||
                                    procs[i].state == PROC_RUNNING ||
                                    procs[i].state == PROC_SLEEPING))
            return &procs[i];
    }
    return 0;
}

void proc_init(void)
{
    memset(procs, 0, sizeof(procs));
}

static uint64_t kstack_top(struct proc *p)
{
    return (uint64_t)p->kstack + KSTACK_SIZE;
}

/* Kernel stacks have no guard page: a canary at the bottom catches an
 * overflow at the next return to user mode instead of silently corrupting
 * the neighbouring process's fields. */
#define KSTACK_CANARY 0x6361706d656d4b53ull

static void kstack_check(struct proc *p)
{
    if (*(uint64_t *)(void *)p->kstack != KSTACK_CANARY)
        panic("kernel stack overflow in pid %d", p->pid);
}

void usertrapret(void)
{
    struct proc *p = current;
    if (p->killed)
        proc_exit(CMK_EXIT_KILLED, 0, 0);
    intr_off();
    kstack_check(p);
    csr_write(stvec, (uint64_t)uservec);
    uint64_t s = csr_read(sstatus);
    s &= ~SSTATUS_SPP;
    s |= SSTATUS_SPIE;
    /* FP and vector units Off on every return, whichever path led here
     * (first run, syscall, preemption, another process's turn): user code
     * has no FP, the kernel saves no FP state, so an FP instruction must
     * trap (illegal instruction: the process is killed) rather than read
     * or leave registers another process shares. */
    s &= ~(SSTATUS_FS | SSTATUS_VS);
    csr_write(sstatus, s);
    p->tf.kernel_sp = kstack_top(p);
    /* Drop any LR reservation: a user LR/SC pair must not succeed across
     * a trap, during which the kernel (or another process) may have
     * stored to the word (SharedBuffer's take-back of `read`; the RISC-V
     * spec asks this of context switches). */
    static uint64_t sc_dummy;
    uint64_t sc_fail;
    __asm__ volatile("sc.d %0, zero, (%1)" : "=r"(sc_fail) : "r"(&sc_dummy) : "memory");
    (void)sc_fail;
    userret(&p->tf);
}

/* First kernel-side code of a new process: leave for user mode. */
static void first_run(void)
{
    usertrapret();
}

/* The slot goes; so does the process's own PROCESSES charge, and its
 * account ends once nothing it made is left (account.h). */
static void free_slot(struct proc *p)
{
    if (p->pobj != 0)
        p->pobj->p = 0;
    p->pobj = 0;
    p->state = PROC_UNUSED;
    p->parent = 0;
    p->pid = 0;
    kacct_uncharge(p->acct, CM_LEDGER_PROCESSES, 1);
    kacct_detach(p->acct);
    p->acct = 0;
    live_procs--;
}

/* Parses NUL-separated argv strings; returns the count or -1. */
static int count_args(const char *argv, uint32_t len)
{
    int n = 0;
    if (len == 0)
        return 0;
    if (argv[len - 1] != '\0')
        return -1;
    for (uint32_t i = 0; i < len; i++) {
        if (argv[i] == '\0')
            n++;
    }
    return n;
}

/* Validates the initial handles in the parent: live, TRANSFER, distinct. */
static cm_status_t check_handles(struct proc *parent, const cm_handle_t *h, uint32_t n)
{
    if (n > CMK_SPAWN_MAX_HANDLES)
        return CM_ERR_OUT_OF_RANGE;
    for (uint32_t i = 0; i < n; i++) {
        cm_status_t st = handle_get(parent, h[i], CM_OBJ_NONE, CM_RIGHT_TRANSFER, 0, 0);
        if (st != CM_OK)
            return st;
        for (uint32_t j = 0; j < i; j++) {
            if (h[j] == h[i])
                return CM_ERR_INVALID_ARGS;
        }
    }
    return CM_OK;
}

/* Writes argv strings, the argv array and the start-up block at the top
 * of the new stack; sets sp, a0..a3. */
static cm_status_t build_stack(struct proc *p, const char *name, const char *argv,
                               uint32_t argv_len, int argc, uint64_t *startup_va)
{
    uint64_t sp = USER_STACK_TOP;
    uint64_t ptrs[CMK_SPAWN_MAX_ARGS + 1];
    size_t name_len = strlen(name) + 1;
    sp -= sizeof(cmk_startup_t);
    sp &= ~15ul;
    *startup_va = sp;
    sp -= argv_len + name_len;
    uint64_t strings = sp;
    if (as_fill(&p->as, strings, name, name_len) != CM_OK ||
        as_fill(&p->as, strings + name_len, argv, argv_len) != CM_OK)
        return CM_ERR_INTERNAL;
    ptrs[0] = strings;
    uint64_t at = strings + name_len;
    for (int i = 1; i <= argc; i++) {
        ptrs[i] = at;
        at += strlen(&argv[ptrs[i] - strings - name_len]) + 1;
    }
    ptrs[argc + 1] = 0;
    sp -= (uint64_t)(argc + 2) * sizeof(uint64_t);
    sp &= ~15ul;
    if (as_fill(&p->as, sp, ptrs, (uint64_t)(argc + 2) * sizeof(uint64_t)) != CM_OK)
        return CM_ERR_INTERNAL;
    p->tf.regs[REG_SP] = sp;
    p->tf.regs[REG_A0] = (uint64_t)argc + 1;
    p->tf.regs[REG_A0 + 1] = sp;
    p->tf.regs[REG_A0 + 2] = *startup_va;
    return CM_OK;
}

static struct proc *alloc_slot(void)
{
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        if (procs[i].state == PROC_UNUSED)
            return &procs[i];
    }
    return 0;
}

static struct kproc_obj *pobj_slot(void)
{
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        if (pobjs[i].obj.type == CM_OBJ_NONE)
            return &pobjs[i];
    }
    return 0;
}

/* The child's account and its first charges: its own PROCESSES slot, and
 * room for the handles it is given (all or nothing). `into` not NULL: the
 * child shares that account instead of a new one carved for it. */
static cm_status_t new_account(struct proc *parent, const uint64_t *quota, struct kacct *into,
                               uint32_t nhandles, struct kacct **out)
{
    cm_status_t st = CM_OK;
    if (into != 0) {
        kacct_attach(into);
        *out = into;
    } else if ((st = kacct_new(parent != 0 ? parent->acct : 0, quota, out)) != CM_OK) {
        return st;
    }
    st = kacct_charge(*out, CM_LEDGER_PROCESSES, 1);
    if (st == CM_OK && kacct_room(*out, CM_LEDGER_HANDLES) < nhandles) {
        kacct_uncharge(*out, CM_LEDGER_PROCESSES, 1);
        st = CM_ERR_NO_RESOURCES;
    }
    if (st != CM_OK)
        kacct_detach(*out);
    return st;
}

int64_t proc_spawn(struct proc *parent, const char *name, const char *argv,
                   uint32_t argv_len, const cm_handle_t *handles, uint32_t nhandles,
                   uint32_t role, const uint64_t *quota, struct kacct *into, uint64_t proc_out)
{
    const struct user_image *img = image_find(name);
    if (img == 0)
        return CM_ERR_NOT_FOUND;
    int argc = count_args(argv, argv_len);
    if (argc < 0 || argc + 1 > (int)CMK_SPAWN_MAX_ARGS || argv_len > CMK_SPAWN_MAX_ARGV ||
        (role != CMK_ROLE_MAIN && role != CMK_ROLE_SECOND))
        return CM_ERR_INVALID_ARGS;
    if (nhandles > 0) {
        cm_status_t hst = check_handles(parent, handles, nhandles);
        if (hst != CM_OK)
            return hst;
    }
    if (proc_out != 0 && handles_free(parent) == 0)
        return CM_ERR_NO_RESOURCES;
    struct kacct *acct;
    cm_status_t st = new_account(parent, quota, into, nhandles, &acct);
    if (st != CM_OK)
        return st;
    struct proc *p = alloc_slot();
    if (p == 0)
        panic("spawn: process table full despite the PROCESSES budget");
    struct kproc_obj *po = 0;
    if (proc_out != 0) {
        if ((st = kobj_charge(parent->acct, CM_OBJ_PROCESS)) != CM_OK) {
            kacct_uncharge(acct, CM_LEDGER_PROCESSES, 1);
            kacct_detach(acct);
            return st;
        }
        po = pobj_slot();
        if (po == 0)
            panic("spawn: process objects full despite the PROCESSES budget");
        kobj_init(&po->obj, CM_OBJ_PROCESS, parent->acct);
        po->p = 0;
        po->pid = 0;
        po->exited = 0;
    }

    memset(p, 0, offsetof(struct proc, kstack));
    p->acct = acct;
    st = as_init(&p->as, acct);
    uint64_t entry, startup_va;
    if (st != CM_OK)
        goto bad;
    st = elf_load(&p->as, img->start, (uint64_t)(img->end - img->start), &entry);
    if (st != CM_OK)
        goto bad;
    st = as_alloc_fixed(&p->as, USER_STACK_TOP - USER_STACK_PAGES * PGSIZE,
                        USER_STACK_PAGES * PGSIZE, AS_KIND_STACK, PTE_R | PTE_W);
    if (st != CM_OK)
        goto bad;
    st = build_stack(p, name, argv, argv_len, argc, &startup_va);
    if (st != CM_OK)
        goto bad;
    /* The last step that can fail: the parent's process handle. On failure
     * the object dies at the next reap and releases its charge. */
    if (po != 0 && (st = handle_publish(parent, &po->obj, CMK_PROC_DEFAULT_RIGHTS, proc_out,
                                        0)) != CM_OK)
        goto bad;

    /* Commit: nothing below can fail. */
    handles_init(p);
    cmk_startup_t su = { role, nhandles, { 0 } };
    for (uint32_t i = 0; i < nhandles; i++) {
        struct kobj *o;
        cm_rights_t rights;
        if (handle_take(parent, handles[i], &o, 0, &rights) != CM_OK ||
            handle_install(p, o, rights, &su.handles[i]) != CM_OK)
            panic("spawn: validated handle move failed");
    }
    if (as_fill(&p->as, startup_va, &su, sizeof(su)) != CM_OK)
        panic("spawn: startup block");
    p->tf.regs[REG_A0 + 3] = role;
    p->tf.epc = entry;
    p->pid = next_pid++;
    p->parent = parent;
    memcpy(p->name, name, strlen(name) + 1);
    *(uint64_t *)(void *)p->kstack = KSTACK_CANARY;
    p->ctx.ra = (uint64_t)first_run;
    p->ctx.sp = kstack_top(p);
    if (po != 0) {
        po->p = p;
        po->pid = p->pid;
        p->pobj = po;
    }
    p->state = PROC_RUNNABLE;
    live_procs++;
    return p->pid;
bad:
    as_destroy(&p->as);
    p->state = PROC_UNUSED;
    p->acct = 0;
    if (po != 0)
        kobj_unref(&po->obj);
    kacct_uncharge(acct, CM_LEDGER_PROCESSES, 1);
    kacct_detach(acct);
    return st;
}

static void sched(void)
{
    struct proc *p = current;
    if (p->state == PROC_RUNNING)
        panic("sched: process still running");
    swtch(&p->ctx, &sched_ctx);
}

void yield(void)
{
    current->state = PROC_RUNNABLE;
    sched();
}

/* rdtime ticks are 100 ns at QEMU virt's 10 MHz timebase; the product
 * tick * NS_PER_TICK stays below 2^64 for 58 years of uptime. */
#define NS_PER_TICK (1000000000ull / TIMEBASE_HZ)
_Static_assert(1000000000ull % TIMEBASE_HZ == 0, "whole nanoseconds per tick");

cm_status_t sleep_deadline(int64_t timeout_ns, uint64_t *deadline)
{
    uint64_t ns;
    cm_status_t st = cm__deadline_from_timeout(rdtime() * NS_PER_TICK, timeout_ns, &ns);
    if (st != CM_OK)
        return st;
    /* A finite deadline is below CM__DEADLINE_NONE, so this never yields
     * SLEEP_FOREVER. */
    *deadline = ns == CM__DEADLINE_NONE ? SLEEP_FOREVER
                                        : ns / NS_PER_TICK + (ns % NS_PER_TICK != 0);
    return CM_OK;
}

/* A killed process's waits all end now: every sleeping loop in the
 * kernel re-checks its deadline after sleep_on, so this one test makes
 * each of them return and the process reach usertrapret, where it ends
 * with every reference its syscall held released on the way out. */
int sleep_deadline_passed(uint64_t deadline)
{
    if (current != 0 && current->killed)
        return 1;
    return deadline != SLEEP_FOREVER && rdtime() >= deadline;
}

int proc_killed(const struct proc *p)
{
    return p->killed;
}

int sleep_on(const void *chan, uint64_t deadline)
{
    struct proc *p = current;
    if (p->killed)
        return 1;
    p->wchan = chan;
    p->deadline = deadline;
    p->timed_out = 0;
    p->state = PROC_SLEEPING;
    sched();
    p->wchan = 0;
    p->deadline = SLEEP_FOREVER;
    return p->timed_out;
}

void wakeup(const void *chan)
{
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        if (procs[i].state == PROC_SLEEPING && procs[i].wchan == chan)
            procs[i].state = PROC_RUNNABLE;
    }
}

void proc_timer_tick(uint64_t now)
{
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        struct proc *p = &procs[i];
        if (p->state == PROC_SLEEPING && p->deadline != SLEEP_FOREVER && now >= p->deadline) {
            p->timed_out = 1;
            p->state = PROC_RUNNABLE;
        }
    }
}

cm_status_t proc_wait(struct proc *p, int32_t pid, cmk_exit_info_t *out)
{
    struct proc *child = 0;
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        if (procs[i].state != PROC_UNUSED && procs[i].pid == pid && procs[i].parent == p)
            child = &procs[i];
    }
    if (child == 0)
        return CM_ERR_NOT_FOUND;
    while (child->state != PROC_ZOMBIE) {
        if (sleep_deadline_passed(SLEEP_FOREVER))
            return CM_ERR_TIMED_OUT; /* the waiter itself was killed */
        sleep_on(p, SLEEP_FOREVER);
    }
    *out = child->exit;
    free_slot(child);
    return CM_OK;
}

cm_status_t proc_obj_wait(struct kproc_obj *o, uint64_t deadline, cmk_exit_info_t *out)
{
    while (!o->exited) {
        if (sleep_deadline_passed(deadline))
            return CM_ERR_TIMED_OUT;
        sleep_on(o, deadline);
    }
    if (o->p != 0 && o->p->state == PROC_ZOMBIE)
        free_slot(o->p);
    *out = o->exit;
    return CM_OK;
}

static void kill_tree(struct proc *p)
{
    /* Marks p and every live descendant; the table is small and a chain
     * is at most MAX_PROCS long, so repeated sweeps are enough. */
    p->killed = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t i = 0; i < MAX_PROCS; i++) {
            struct proc *c = &procs[i];
            if (c->state == PROC_UNUSED || c->state == PROC_ZOMBIE || c->killed ||
                c->parent == 0 || !c->parent->killed)
                continue;
            c->killed = 1;
            changed = 1;
        }
    }
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        if (procs[i].killed && procs[i].state == PROC_SLEEPING)
            procs[i].state = PROC_RUNNABLE;
    }
}

void proc_obj_kill(struct kproc_obj *o)
{
    struct proc *p = o->p;
    if (p == 0 || p->state == PROC_ZOMBIE || p->state == PROC_UNUSED)
        return;
    kill_tree(p);
}

void proc_obj_destroy(struct kobj *obj)
{
    struct kproc_obj *o = (struct kproc_obj *)obj;
    struct proc *p = o->p;
    o->p = 0;
    if (p == 0)
        return;
    p->pobj = 0;
    /* An orphan zombie that only this object could have reaped. */
    if (p->state == PROC_ZOMBIE && p->parent == 0)
        free_slot(p);
}

static void exit_with(cmk_exit_info_t info) __attribute__((noreturn));

void proc_exit(uint32_t reason, int32_t code, uint64_t fault_va)
{
    exit_with((cmk_exit_info_t){ reason, code, fault_va, 0, 0 });
}

void proc_exit_fault(int32_t scause, uint64_t stval, cm_status_t status)
{
    exit_with((cmk_exit_info_t){ CMK_EXIT_FAULTED, scause, stval, status, 0 });
}

static void exit_with(cmk_exit_info_t info)
{
    struct proc *p = current;
    uint32_t reason = info.reason;
    int32_t code = info.code;
    p->exit = info;
    kvm_switch(); /* the process's table is about to be freed */
    kmmio_proc_exit(p); /* device reset before its queue memory is freed */
    as_destroy(&p->as);
    handles_close_all(p);
    kobj_reap();
    for (uint32_t i = 0; i < MAX_PROCS; i++) {
        struct proc *c = &procs[i];
        if (c->state == PROC_UNUSED || c->parent != p)
            continue;
        c->parent = 0;
        if (c->state == PROC_ZOMBIE)
            free_slot(c);
    }
    if (p->pid == 1) {
        /* init's end is the end of the run: its exit code is the verdict. */
        int pass = reason == CMK_EXIT_NORMAL && code == 0;
        kprintf("capmem: init %s (code %d); powering off: %s\n",
                reason == CMK_EXIT_NORMAL ? "exited" : "faulted", code, pass ? "PASS" : "FAIL");
        poweroff(pass, reason == CMK_EXIT_NORMAL && code > 0 ? (unsigned)code : 2);
    }
    if (p->pobj != 0) {
        p->pobj->exited = 1;
        p->pobj->exit = p->exit;
        wakeup(p->pobj);
    }
    if (p->parent != 0 || p->pobj != 0) {
        /* A zombie until its parent or a process handle reaps it. */
        p->state = PROC_ZOMBIE;
        if (p->parent != 0)
            wakeup(p->parent);
    } else {
        free_slot(p); /* still on its kernel stack: nothing reuses it before sched() */
    }
    sched();
    panic("proc_exit: zombie ran again");
}

void scheduler(void)
{
    uint32_t next = 0;
    for (;;) {
        struct proc *run = 0;
        for (uint32_t k = 0; k < MAX_PROCS; k++) {
            struct proc *p = &procs[(next + k) % MAX_PROCS];
            if (p->state == PROC_RUNNABLE) {
                run = p;
                next = (uint32_t)(p - procs + 1) % MAX_PROCS;
                break;
            }
        }
        if (run == 0) {
            /* Idle: let the timer wake sleepers with deadlines. */
            intr_on();
            __asm__ volatile("wfi");
            intr_off();
            continue;
        }
        run->state = PROC_RUNNING;
        current = run;
        csr_write(satp, MAKE_SATP(run->as.root));
        sfence_vma();
        swtch(&sched_ctx, &run->ctx);
        current = 0;
        kvm_switch();
    }
}
