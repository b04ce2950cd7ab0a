/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_ACCOUNT_H
#define CAPMEM_KERNEL_ACCOUNT_H

/* Accounts: the kernel's per-process ledgers (docs/ledger.md) on the
 * core/ledger rule.
 *
 * Every kernel object and every frame is charged to the account of the
 * process that made it (a queued message to its sender) before it exists,
 * and released exactly once when it is destroyed. An object can outlive
 * its creator (a VMO sent away), so an account outlives its process: it
 * ends when its process has ended and nothing is charged or given any
 * more; then the budget it was carved from returns to its parent.
 *
 * Carving. The first account (init's) holds the kernel's whole pools. A
 * child's limit of every pool kind is moved out of its parent's room into
 * the parent's `given` at spawn, so the limits of all live accounts never
 * add up to more than a pool: one process can exhaust only its own share.
 * Per-process kinds (virtual bytes, handles) are not carved (each process
 * has its own table and address space); a child's limit there is bounded
 * by its parent's limit. Because PROCESSES is carved and an account holds
 * its PROCESSES limit until it ends, live accounts never outnumber
 * KACCT_MAX. */

#include <stdint.h>
#include <capmem/ledger.h>

#include "kobj.h"
#include "ledger.h"

/* One account. A child's quota at kacct_new: a limit per kind, or
 * CMK_QUOTA_DEFAULT for the default (half, rounded up, of the parent's room
 * for pool kinds; the parent's limit for per-process kinds).
 *
 * Account objects (CM_OBJ_ACCOUNT, kernel/object/account_obj.c): an account
 * made by cmk_account_create has no process of its own; processes are
 * spawned into it and share its ledger. Its parent pays one PROCESSES
 * (`made`) for it until it ends, so live accounts stay within the
 * PROCESSES budget even when one is lowered to 0 or holds no process.
 *
 * Overcommit (`overcommit`, account objects only): COMMIT and
 * OBJECT_BACKING are not carved; the limit is a cap (at most the parent's
 * limit). Frames are drawn at charge time: invariant, for every
 * overcommitted account A, A.used + A.given of COMMIT sits in A.parent's
 * `given` (and so on up while the parent is overcommitted too). A charge
 * within A's limit that finds no room up the chain is MEMORY_PRESSURE. */
struct kacct {
    struct kobj obj;     /* the handle's object (made accounts); first member */
    uint32_t live;
    uint32_t procs;      /* processes charged to it that have not ended */
    uint32_t held;       /* its object is alive (handles or a syscall hold it) */
    uint32_t made;       /* by account_create: the parent pays one PROCESSES */
    uint32_t overcommit; /* COMMIT drawn at charge time, not carved */
    uint32_t reserved;
    struct kacct *parent;
    struct cm__ledger l;
};

/* Whether a kind is carved from the parent (pool kinds). */
int kacct_kind_carved(cm_ledger_kind_t kind);

/* A new account with a process attached. parent NULL: the first account,
 * owning every pool. quota NULL or entries CMK_QUOTA_DEFAULT: defaults.
 * Errors: the kind's quota status when the parent has no room,
 * MEMORY_PRESSURE when the parent draws its COMMIT (overcommitted) and the
 * room it draws from has none. */
cm_status_t kacct_new(struct kacct *parent, const uint64_t *quota, struct kacct **out);
/* An account with no process, made for an account object: carved from
 * `parent` as kacct_new's, plus one PROCESSES of the parent for the
 * account itself; overcommit: see above. The object starts with one
 * reference (the caller's, to publish or drop). */
cm_status_t kacct_create(struct kacct *parent, const uint64_t *quota, int overcommit,
                         struct kacct **out);
/* The account object's last reference went (kobj_reap). */
void kacct_obj_destroy(struct kacct *a);
/* A process is spawned into `a` / has ended; the account ends once no
 * process, no object and no charge is left. */
void kacct_attach(struct kacct *a);
void kacct_detach(struct kacct *a);

cm_status_t kacct_charge(struct kacct *a, cm_ledger_kind_t kind, uint64_t amount);
/* Panics on a release of more than is charged (a double release). */
void kacct_uncharge(struct kacct *a, cm_ledger_kind_t kind, uint64_t amount);
/* Lowers a limit; a carved kind returns the difference to the parent. */
cm_status_t kacct_lower(struct kacct *a, cm_ledger_kind_t kind, uint64_t limit);
uint64_t kacct_room(const struct kacct *a, cm_ledger_kind_t kind);

/* Frames: charges `n` frames of COMMIT, then checks the free pool.
 * QUOTA_COMMIT: the account's limit; MEMORY_PRESSURE: the account had
 * quota but the pool has no frames (the charge is released). On success
 * the caller may frame_alloc() n frames without failure (one hart, no
 * kernel preemption). */
cm_status_t kacct_charge_frames(struct kacct *a, uint64_t n);
void kacct_uncharge_frames(struct kacct *a, uint64_t n);

/* Accounts alive (diagnostics and the exhaustion selftests). */
uint64_t kacct_live_count(void);

#endif
