/* SPDX-License-Identifier: MIT */
/* Account objects (CM_OBJ_ACCOUNT): the syscalls on an account handle
 * (docs/ledger.md "Account objects"). The account itself, its carving,
 * overcommit and its end live in kernel/account.c; spawning into one in
 * kernel/syscall.c. */
#include "account.h"

#include "khandle.h"
#include "kobj.h"
#include "proc.h"
#include "syscall.h"
#include "syscall_abi.h"
#include "usercopy.h"

static cm_status_t get_account(struct proc *p, uint64_t h, cm_rights_t need, struct kacct **a)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_ACCOUNT, need, &o, 0);
    if (st == CM_OK)
        *a = (struct kacct *)o; /* obj is the first member */
    return st;
}

/* (*quota or 0, flags, *out): carved from the caller's account as a
 * child's at spawn, plus one PROCESSES for the account itself. */
int64_t sys_account_create(struct proc *p, const uint64_t *a)
{
    cmk_quota_t quota;
    struct kacct *acct;
    if ((a[1] & ~(uint64_t)CMK_ACCOUNT_OVERCOMMIT) != 0)
        return CM_ERR_INVALID_ARGS;
    if (a[2] == 0 || !user_range_ok(p, a[2], sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    if (a[0] != 0 && copyin(p, &quota, a[0], sizeof(quota)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    if (handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    cm_status_t st = kacct_create(p->acct, a[0] != 0 ? quota.limit : 0,
                                  (a[1] & CMK_ACCOUNT_OVERCOMMIT) != 0, &acct);
    if (st != CM_OK)
        return st;
    /* On failure the object dies at this syscall's reap, and the account
     * with it: every carve and the PROCESSES it cost come back. */
    st = handle_publish(p, &acct->obj, CMK_ACCOUNT_DEFAULT_RIGHTS, a[2], 0);
    if (st != CM_OK)
        kobj_unref(&acct->obj);
    return st;
}

/* (account, *info): READ right. */
int64_t sys_account_get(struct proc *p, const uint64_t *a)
{
    cm_ledger_info_t info;
    struct kacct *acct;
    if (a[1] == 0 || !user_range_ok(p, a[1], sizeof(info), 1))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_account(p, a[0], CM_RIGHT_READ, &acct);
    if (st != CM_OK)
        return st;
    cm__ledger_info(&acct->l, &info);
    return copyout(p, a[1], &info, sizeof(info));
}

/* (account, kind, limit): WRITE right; the rules of cm_ledger_set_limit. */
int64_t sys_account_set_limit(struct proc *p, const uint64_t *a)
{
    struct kacct *acct;
    cm_status_t st = get_account(p, a[0], CM_RIGHT_WRITE, &acct);
    if (st != CM_OK)
        return st;
    if (a[1] >= CM__LEDGER_KINDS)
        return CM_ERR_OUT_OF_RANGE;
    return kacct_lower(acct, (cm_ledger_kind_t)a[1], a[2]);
}

/* (): accounts alive, after ending what the last reap left to end. */
int64_t sys_account_live(struct proc *p, const uint64_t *a)
{
    (void)p;
    (void)a;
    kobj_reap();
    return (int64_t)kacct_live_count();
}
