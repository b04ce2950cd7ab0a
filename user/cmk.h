/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_CMK_H
#define CAPMEM_USER_CMK_H

/* Kernel-target extras outside the portable API: process control and the
 * debug counters the selftests use. Apps in apps/ never include this;
 * only user/ programs (init, selftest) and the platform layer do. */
#include <stdint.h>
#include <capmem/capmem.h>
#include <capmem/ledger.h>
#include <capmem/mmio.h>

#include "syscall_abi.h"

/* Starts built-in program `name` with argv[1..] = args (argv[0] = name) and
 * moves `handles` into it (each needs TRANSFER; on failure the caller
 * keeps them). Returns the pid (> 0) or a negative status. */
int32_t cmk_spawn(const char *name, const char *const *args, uint32_t nargs,
                  const cm_handle_t *handles, uint32_t nhandles, uint32_t role);
/* Waits for child pid to end. */
cm_status_t cmk_wait(int32_t pid, cmk_exit_info_t *info);

/* cmk_spawn with quotas and a process handle (docs/ledger.md). quota NULL:
 * every default (pool kinds: half of this process's room, rounded up;
 * virtual and handles: this process's limit); an entry above this
 * process's room in a pool kind fails the spawn with that kind's status
 * (NO_RESOURCES, QUOTA_COMMIT). proc_out not NULL: receives a process
 * handle (CM_OBJ_PROCESS, CMK_PROC_DEFAULT_RIGHTS); PUBLISH_FAILED if it
 * cannot be installed, with no process started and every charge back. */
int32_t cmk_spawn_ex(const char *name, const char *const *args, uint32_t nargs,
                     const cm_handle_t *handles, uint32_t nhandles, uint32_t role,
                     const cmk_quota_t *quota, cm_handle_t *proc_out);
void cmk_quota_defaults(cmk_quota_t *q);
/* A quota of 1/parts of this process's room in every pool kind (at least
 * one process slot), defaults elsewhere: `parts` children started with it
 * leave this process nothing; parts = n + 1 keeps it a share too. */
cm_status_t cmk_quota_share(cmk_quota_t *q, uint32_t parts);
/* Waits (SIGNAL right) until the process ends or timeout_ns passes
 * (TIMED_OUT, the process still running; core/deadline.h rules). The first
 * successful wait, by handle or by pid, reaps it; later handle waits still
 * return its exit record. */
cm_status_t cmk_proc_wait(cm_handle_t proc, int64_t timeout_ns, cmk_exit_info_t *info);
/* Kills the process and every process it spawned (WRITE right): each
 * ends with CMK_EXIT_KILLED, everything it held is released and its
 * ledger with it. Already ended: OK. */
cm_status_t cmk_proc_kill(cm_handle_t proc);

/* Account objects (docs/ledger.md "Account objects"): a ledger with no
 * process of its own that several children can be spawned into and share.
 *
 * cmk_account_create: carved from this process's account exactly as a
 * child's quota at cmk_spawn_ex (same defaults, same typed errors, same
 * carving), plus one PROCESSES of this process for the account itself
 * while it lives; *out gets a CM_OBJ_ACCOUNT handle with
 * CMK_ACCOUNT_DEFAULT_RIGHTS. flags: 0 or CMK_ACCOUNT_OVERCOMMIT (COMMIT
 * and OBJECT_BACKING are caps, at most this account's limits, not carved:
 * each frame is drawn from this account's room when it is charged, and a
 * charge within the cap that finds no room there is MEMORY_PRESSURE).
 * Errors: INVALID_ARGS (unknown flags, a bad quota or out pointer);
 * NO_RESOURCES (handle table full, or no PROCESSES room); a kind's quota
 * status (room short); MEMORY_PRESSURE (this account is itself
 * overcommitted and the room above it is short); PUBLISH_FAILED (nothing
 * made). The account ends, its carve back exactly once, when no handle,
 * no process and no charge is left. */
cm_status_t cmk_account_create(const cmk_quota_t *quota, uint32_t flags, cm_handle_t *out);
/* Its ledger (READ right); PROCESSES used counts the processes in it. */
cm_status_t cmk_account_get(cm_handle_t account, cm_ledger_info_t *info);
/* Lowers one of its limits (WRITE right), cm_ledger_set_limit's rules; a
 * carved kind's difference returns to the room it was carved from. */
cm_status_t cmk_account_set_limit(cm_handle_t account, cm_ledger_kind_t kind, uint64_t limit);
/* cmk_spawn_ex into an account (SIGNAL right): the child is charged to it
 * (one PROCESSES, then all it makes), shares it with the other processes
 * in it and gets no carve of its own. Errors as cmk_spawn_ex's; BAD_HANDLE,
 * WRONG_TYPE, ACCESS_DENIED for the account handle. */
int32_t cmk_spawn_in(cm_handle_t account, const char *name, const char *const *args,
                     uint32_t nargs, const cm_handle_t *handles, uint32_t nhandles,
                     uint32_t role, cm_handle_t *proc_out);
/* Accounts alive in the kernel (diagnostics: the selftests check every
 * account ends exactly once). */
int64_t cmk_account_live_count(void);

cm_status_t cmk_counters(cmk_counters_t *c);
/* Raw console write (len <= 1024). */
cm_status_t cmk_debug_write(const void *buf, uint64_t len);
/* Console input: the bytes that arrived (1..cap, cap <= CMK_CONSOLE_READ_MAX),
 * waiting up to timeout_ns for the first (core/deadline.h rules; 0 polls).
 * Returns the count (> 0) or a negative status: TIMED_OUT, INVALID_ARGS
 * (cap 0, bad buffer), OUT_OF_RANGE (cap too big). Raw bytes: no echo, no
 * line editing (the shell does both); the terminal sends '\r' for Enter. */
int64_t cmk_console_read(void *buf, uint32_t cap, int64_t timeout_ns);

/* Wait/wake on a 32-bit word of a mapped VMO (docs/sbuf.md "Kernel: word
 * wait"). The kernel resolves `word`, at each call, through this process's
 * mappings to (VMO object, offset in it): that pair is the key, never the
 * address, so waiters in processes that map the same VMO at different
 * addresses meet, and a different VMO later mapped at the same address
 * never does. cmk_word_wait sleeps only if *word still equals `expected`
 * (else BAD_STATE at once), until a wake on the same key (OK) or the
 * timeout (TIMED_OUT; core/deadline.h's rule: CM_TIMEOUT_INFINITE, 0, or a
 * positive ns count; other negatives INVALID_ARGS). cmk_word_wake wakes up
 * to `max` waiters and returns how many (>= 0). The mapping may be a
 * cm_vmo_map mapping or a reservation run (cm_vmar_map). A misaligned
 * address, one no VMO mapping of this process covers (a reserved page no
 * run maps included), or a word past the VMO's size: INVALID_ARGS; a
 * no-access reservation run: ACCESS_DENIED. */
cm_status_t cmk_word_wait(const volatile uint32_t *word, uint32_t expected, int64_t timeout_ns);
int32_t cmk_word_wake(const volatile uint32_t *word, uint32_t max);

/* Device drivers (docs/mmio.md). Device-visible memory for queues, bound
 * to the MMIO window: `pages` zeroed frames mapped into the caller RW (not
 * X) at *va, contiguous in the caller's address space, with each page's
 * device (physical) address in device_addrs[i] (no contiguity promised
 * beyond one page). Binds the window like cm_mmio_map; freed only after
 * the device is reset (quiesce, kmmio.h). Charged COMMIT to the caller.
 * Rights: MAP, READ, WRITE. Errors: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED;
 * INVALID_ARGS (pages 0, a bad out pointer); NO_RESOURCES (more than
 * CMK_MMIO_MAX_QUEUE_PAGES on the window, the mapping table); BAD_STATE
 * (bound to another process); QUOTA_COMMIT, MEMORY_PRESSURE. */
cm_status_t cmk_mmio_queue_alloc(cm_handle_t mmio, uint32_t pages, void **va,
                                 uint64_t *device_addrs);

/* DMA devices (kernel/include/kdma.h, docs/mmio.md). A driver registers
 * the device behind an MMIO window it holds (MAP and WRITE rights; binds
 * the window) under `name` (at most CMK_DMA_MAX_NAME bytes with the NUL);
 * pools attach to the name (cm_dma_pool_attach) with a subset of `flags`
 * (CM_DMA_ATTACH_*). block_size: a power of two, 512..4096; device_size a
 * non-zero multiple of it. The device stays registered while the window
 * is bound; quiesce completes every outstanding request with IO.
 * Errors: INVALID_ARGS (a bad argument or pointer, empty name);
 * OUT_OF_RANGE (name too long); BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED;
 * BAD_STATE (window bound elsewhere, or already has a device);
 * ALREADY_EXISTS (name registered); NO_RESOURCES (CMK_DMA_MAX_DEVICES,
 * handle table); PUBLISH_FAILED. */
cm_status_t cmk_dma_device_create(cm_handle_t mmio, const char *name, uint32_t block_size,
                                  uint64_t device_size, uint32_t flags, cm_handle_t *device);
/* Next submitted request for this device, oldest first (READ right). The
 * device handle is waitable: READABLE while a request is queued that next
 * has not handed out; PEER_CLOSED once quiesced. timeout: -1 forever, 0
 * poll (SHOULD_WAIT), else TIMED_OUT. Device addresses are handed out only
 * here, only for the buffer window of a request in flight to this device.
 * Errors: INVALID_ARGS (req not writable, bad timeout); BAD_HANDLE,
 * WRONG_TYPE, ACCESS_DENIED; BAD_STATE (quiesced); SHOULD_WAIT; TIMED_OUT. */
cm_status_t cmk_dma_device_next(cm_handle_t device, int64_t timeout_ns, cmk_dma_request_t *req);
/* Completes a request next handed out (WRITE right): the submitting pool's
 * fence becomes done with (status, bytes). status OK, IO or INVALID_ARGS;
 * bytes <= length; else INVALID_ARGS. A stale, duplicate or never handed
 * out id: BAD_HANDLE. */
cm_status_t cmk_dma_device_complete(cm_handle_t device, uint64_t id, cm_status_t status,
                                    uint32_t bytes);

/* What the kernel handed this process at start. */
uint32_t cmk_role(void);
uint32_t cmk_startup_handle_count(void);
cm_handle_t cmk_startup_handle(uint32_t i);
/* Program name (argv[0]). */
const char *cmk_program_name(void);

#endif
