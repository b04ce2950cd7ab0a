/* SPDX-License-Identifier: MIT */
/* Per-process handle tables and the handle syscalls. Rights only shrink:
 * every derived handle goes through cm__rights_derive. */
#include "khandle.h"

#include "account.h"
#include "console.h"
#include "kmmio.h"
#include "ksbuf.h"
#include "kobj.h"
#include "proc.h"
#include "rights.h"
#include "syscall.h"
#include "usercopy.h"
#include "validate.h"

void handles_init(struct proc *p)
{
    if (cm__htab_init(&p->htab, p->hentries, CM_MAX_HANDLES) != CM_OK)
        panic("handles_init");
}

uint32_t handles_free(const struct proc *p)
{
    return p->htab.capacity - p->htab.live;
}

/* Each live handle is one HANDLES charge of its process, taken here and
 * released by handle_take (close, transfer, exit). */
cm_status_t handle_install(struct proc *p, struct kobj *o, cm_rights_t rights,
                           cm_handle_t *out)
{
    cm_status_t st = kacct_charge(p->acct, CM_LEDGER_HANDLES, 1);
    if (st != CM_OK)
        return st;
    st = cm__htab_alloc(&p->htab, o, o->type, rights, out);
    if (st != CM_OK)
        kacct_uncharge(p->acct, CM_LEDGER_HANDLES, 1);
    return st;
}

cm_status_t handle_publish(struct proc *p, struct kobj *o, cm_rights_t rights,
                           uint64_t out_uva, cm_handle_t *out)
{
    cm_handle_t h;
    struct kobj *back;
    cm_status_t st = handle_install(p, o, rights, &h);
    if (st != CM_OK)
        return CM_ERR_PUBLISH_FAILED;
    st = copyout(p, out_uva, &h, sizeof(h));
    if (st != CM_OK) {
        handle_take(p, h, &back, 0, 0); /* the reference returns to the caller */
        return CM_ERR_PUBLISH_FAILED;
    }
    if (out != 0)
        *out = h;
    return CM_OK;
}

cm_status_t handle_get(struct proc *p, cm_handle_t h, uint32_t type, cm_rights_t need,
                       struct kobj **o, cm_rights_t *rights)
{
    struct cm_htab_entry *e;
    cm_status_t st = cm__htab_lookup(&p->htab, h, type, need, &e);
    if (st != CM_OK)
        return st;
    if (o != 0)
        *o = e->object;
    if (rights != 0)
        *rights = e->rights;
    return CM_OK;
}

cm_status_t handle_take(struct proc *p, cm_handle_t h, struct kobj **o, uint32_t *type,
                        cm_rights_t *rights)
{
    struct cm_htab_entry e;
    cm_status_t st = cm__htab_remove(&p->htab, h, &e);
    if (st != CM_OK)
        return st;
    kacct_uncharge(p->acct, CM_LEDGER_HANDLES, 1);
    *o = e.object;
    if (e.type == CM_OBJ_SBUF || e.type == CM_OBJ_SBUF_CONSUMER)
        ksbuf_handle_dropped();
    if (e.type == CM_OBJ_MMIO)
        kmmio_handle_dropped();
    if (type != 0)
        *type = e.type;
    if (rights != 0)
        *rights = e.rights;
    return CM_OK;
}

void handles_close_all(struct proc *p)
{
    uint32_t cursor = 0;
    cm_handle_t h;
    while ((h = cm__htab_next(&p->htab, &cursor)) != CM_HANDLE_INVALID) {
        struct kobj *o;
        if (handle_take(p, h, &o, 0, 0) == CM_OK)
            kobj_unref(o);
    }
}

int64_t sys_handle_close(struct proc *p, const uint64_t *a)
{
    cm_handle_t h = handle_arg(a[0]);
    struct kobj *o;
    if (h == CM_HANDLE_INVALID)
        return CM_OK;
    cm_status_t st = handle_take(p, h, &o, 0, 0);
    if (st != CM_OK)
        return st;
    kobj_unref(o);
    return CM_OK;
}

/* Shared validation of duplicate and replace: the derived rights and a
 * writable out pointer. */
static cm_status_t derive_checked(struct proc *p, cm_handle_t h, cm_rights_t want,
                                  uint64_t out_uva, cm_rights_t need,
                                  struct kobj **o, cm_rights_t *derived)
{
    cm_rights_t have;
    int out_ok = out_uva != 0 && user_range_ok(p, out_uva, sizeof(cm_handle_t), 1);
    cm_status_t st = cm__handle_derive_check_args(out_ok, want);
    if (st == CM_OK)
        st = handle_get(p, h, CM_OBJ_NONE, need, o, &have);
    if (st != CM_OK)
        return st;
    return cm__rights_derive(have, want, derived);
}

int64_t sys_handle_duplicate(struct proc *p, const uint64_t *a)
{
    cm_handle_t h = handle_arg(a[0]);
    struct kobj *o;
    cm_rights_t rights;
    cm_status_t st = derive_checked(p, h, rights_arg(a[1]), a[2], CM_RIGHT_DUPLICATE,
                                    &o, &rights);
    if (st != CM_OK)
        return st;
    if (handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    kobj_ref(o);
    st = handle_publish(p, o, rights, a[2], 0);
    if (st != CM_OK)
        kobj_unref(o);
    return st;
}

/* The new handle is published before the old one goes, so any failure
 * leaves the caller's handle as it was. Only a full table needs the old
 * slot first; then a refusal (a slot core/handle_table retired) loses the
 * handle, and the caller is told NO_RESOURCES. */
int64_t sys_handle_replace(struct proc *p, const uint64_t *a)
{
    cm_handle_t h = handle_arg(a[0]);
    struct kobj *o, *old = 0;
    cm_rights_t rights;
    cm_status_t st = derive_checked(p, h, rights_arg(a[1]), a[2], 0, &o, &rights);
    if (st != CM_OK)
        return st;
    if (handles_free(p) > 0) {
        kobj_ref(o);
        st = handle_publish(p, o, rights, a[2], 0);
        if (st != CM_OK) {
            kobj_unref(o);
            return st;
        }
        if (handle_take(p, h, &old, 0, 0) == CM_OK) /* validated live above */
            kobj_unref(old);
        return CM_OK;
    }
    handle_take(p, h, &o, 0, 0);
    st = handle_publish(p, o, rights, a[2], 0);
    if (st != CM_OK)
        kobj_unref(o);
    return st;
}

int64_t sys_handle_get_info(struct proc *p, const uint64_t *a)
{
    struct kobj *o;
    cm_rights_t rights;
    if (a[1] == 0 || !user_range_ok(p, a[1], sizeof(cm_handle_info_t), 1))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = handle_get(p, handle_arg(a[0]), CM_OBJ_NONE, 0, &o, &rights);
    if (st != CM_OK)
        return st;
    cm_handle_info_t info = { o->type, rights };
    return copyout(p, a[1], &info, sizeof(info));
}
