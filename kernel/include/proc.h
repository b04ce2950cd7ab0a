/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_PROC_H
#define CAPMEM_KERNEL_PROC_H

#include <stdint.h>
#include <capmem/limits.h>

#include "as.h"
#include "handle_table.h"
#include "kobj.h"
#include "syscall_abi.h"

/* Fixed process table: bounded, no allocation. Enough for init, one test
 * and its helpers. */
#define MAX_PROCS 32u
#define KSTACK_SIZE 16384u
#define PROC_NAME_MAX CMK_SPAWN_MAX_NAME

struct context {
    uint64_t ra, sp;
    uint64_t s[12];
};

/* Layout shared with trapvec.S (TF_REG, TF_EPC, TF_KSP). */
struct trapframe {
    uint64_t regs[32]; /* x0..x31; regs[0] unused */
    uint64_t epc;
    uint64_t kernel_sp;
};
_Static_assert(__builtin_offsetof(struct trapframe, epc) == 256, "TF_EPC");
_Static_assert(__builtin_offsetof(struct trapframe, kernel_sp) == 264, "TF_KSP");

#define REG_SP 2
#define REG_A0 10
#define REG_A7 17

enum proc_state {
    PROC_UNUSED = 0,
    PROC_RUNNABLE,
    PROC_RUNNING,
    PROC_SLEEPING,
    PROC_ZOMBIE,
};

struct proc {
    enum proc_state state;
    int32_t pid;
    struct proc *parent; /* NULL: orphan, freed at exit without a wait */
    char name[PROC_NAME_MAX];
    struct context ctx;
    struct trapframe tf;
    /* Sleeping: what it waits for, and an absolute rdtime deadline
     * (SLEEP_FOREVER: none). */
    const void *wchan;
    uint64_t deadline;
    int timed_out;
    cmk_exit_info_t exit;
    struct kacct *acct;     /* its ledger (account.h); ends after the process */
    struct kproc_obj *pobj; /* its process object while one exists */
    int killed;             /* ends at its next return to user mode */
    struct addrspace as;
    struct cm_htab htab;
    struct cm_htab_entry hentries[CM_MAX_HANDLES];
    uint8_t kstack[KSTACK_SIZE] __attribute__((aligned(16)));
};

void proc_init(void);
struct proc *proc_current(void);
uint64_t proc_live_count(void);
/* p's slot in the process table, < MAX_PROCS (per-process kernel tables). */
uint32_t proc_index(const struct proc *p);
/* The live (not zombie) process with this pid, or NULL. */
struct proc *proc_by_pid(int32_t pid);

/* A process object (CM_OBJ_PROCESS): what a process handle names. It
 * outlives the process and keeps its exit record. */
struct kproc_obj {
    struct kobj obj;
    struct proc *p; /* NULL once the slot is freed */
    int32_t pid;
    int32_t exited;
    cmk_exit_info_t exit;
};

/* Creates a process running the built-in program `name` with its own
 * account carved from the parent's (quota: a limit per ledger kind or
 * CMK_QUOTA_DEFAULT; NULL: every default). Validates every handle first
 * (each needs TRANSFER, no repeats); on success moves them into the child
 * and returns its pid; on failure the caller keeps them and every charge
 * is back. proc_out != 0: also publishes a process handle there. into
 * not NULL: the child is charged to that account (quota unused). */
int64_t proc_spawn(struct proc *parent, const char *name, const char *argv,
                   uint32_t argv_len, const cm_handle_t *handles, uint32_t nhandles,
                   uint32_t role, const uint64_t *quota, struct kacct *into,
                   uint64_t proc_out);
/* Blocks until child `pid` of `p` ends, then frees its slot. */
cm_status_t proc_wait(struct proc *p, int32_t pid, cmk_exit_info_t *out);
/* Waits until the process of `o` ends or the deadline passes (TIMED_OUT);
 * then reaps it (frees the slot) and returns its exit record. */
cm_status_t proc_obj_wait(struct kproc_obj *o, uint64_t deadline, cmk_exit_info_t *out);
/* Kills the process of `o` and every process it spawned that is still
 * running: each ends (CMK_EXIT_KILLED) at its next return to user mode,
 * and a sleeping one wakes for it. Ended already: OK, nothing changes. */
void proc_obj_kill(struct kproc_obj *o);
void proc_obj_destroy(struct kobj *o);
/* True for a process that has been killed: its waits end at once. */
int proc_killed(const struct proc *p);
/* Ends the current process: frees everything it holds, wakes its parent. */
void proc_exit(uint32_t reason, int32_t code, uint64_t fault_va) __attribute__((noreturn));
/* The same, for a fault, with its typed class (cmk_exit_info_t.status). */
void proc_exit_fault(int32_t scause, uint64_t stval, cm_status_t status)
    __attribute__((noreturn));

void scheduler(void) __attribute__((noreturn));
void yield(void);
/* A sleep deadline is an absolute rdtime value; SLEEP_FOREVER is none. */
#define SLEEP_FOREVER UINT64_MAX
/* The one conversion of a caller's timeout (ns, core/deadline.h rules:
 * CM_TIMEOUT_INFINITE is SLEEP_FOREVER, other negatives INVALID_ARGS,
 * saturating) into a sleep deadline, rounded up so no wait ends early.
 * Every kernel wait with a timeout goes through it. */
cm_status_t sleep_deadline(int64_t timeout_ns, uint64_t *deadline);
int sleep_deadline_passed(uint64_t deadline);
/* Sleeps on chan until wakeup(chan) or the deadline passes. Returns 1 if
 * woken by the deadline. Callers re-check their condition either way. */
int sleep_on(const void *chan, uint64_t deadline);
void wakeup(const void *chan);
/* Timer tick: wakes sleepers whose deadline passed. */
void proc_timer_tick(uint64_t now);
/* Returns to user mode in the current process. */
void usertrapret(void) __attribute__((noreturn));

#endif
