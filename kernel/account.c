/* SPDX-License-Identifier: MIT */
/* Accounts: carving, charging and the end of an account (account.h). */
#include "account.h"

#include <capmem/limits.h>
#include <string.h>

#include "channel.h"
#include "console.h"
#include "frame.h"
#include "ksbuf.h"
#include "kvmar.h"
#include "memlayout.h"
#include "proc.h"
#include "syscall.h"
#include "syscall_abi.h"
#include "usercopy.h"
#include "vmo.h"

/* See account.h: the PROCESSES budget bounds the live accounts. */
#define KACCT_MAX MAX_PROCS

static struct kacct accts[KACCT_MAX];
static uint64_t live_accts;

int kacct_kind_carved(cm_ledger_kind_t kind)
{
    return kind != CM_LEDGER_VIRTUAL && kind != CM_LEDGER_HANDLES && kind != CM_LEDGER_PINS;
}

uint64_t kacct_live_count(void)
{
    return live_accts;
}

/* The first account: the kernel's pools, every frame free now. */
static void root_limits(uint64_t *limit, uint32_t *flags)
{
    uint64_t frames = frame_free_count() * CM_PAGE_SIZE;
    limit[CM_LEDGER_VIRTUAL] = USER_TOP - USER_BASE;
    limit[CM_LEDGER_COMMIT] = frames;
    limit[CM_LEDGER_OBJECT_BACKING] = frames;
    limit[CM_LEDGER_PINS] = frame_free_count(); /* pages of DMA pool buffers */
    limit[CM_LEDGER_HANDLES] = CM_MAX_HANDLES;
    limit[CM_LEDGER_CHANNELS] = KOBJ_MAX_CHANNELS;
    limit[CM_LEDGER_MESSAGES] = KMSG_MAX;
    limit[CM_LEDGER_VMOS] = KOBJ_MAX_VMOS;
    limit[CM_LEDGER_PROCESSES] = KACCT_MAX;
    limit[CM_LEDGER_SBUFS] = KOBJ_MAX_SBUFS;
    limit[CM_LEDGER_SBUF_CONSUMERS] = KOBJ_MAX_SBUF_CONSUMERS;
    limit[CM_LEDGER_VMARS] = KVMAR_POOL;
    limit[CM_LEDGER_DMA_POOLS] = CMK_DMA_MAX_POOLS;
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
        /* PINS: pages of DMA pool buffers (kernel/object/dma_pool.c),
         * bounded per process like VIRTUAL (docs/ledger.md). */
        flags[k] = CM_LEDGER_ENFORCED | (kacct_kind_carved(k) ? CM_LEDGER_CARVED : 0);
    }
}

static struct kacct *slot(void)
{
    for (uint32_t i = 0; i < KACCT_MAX; i++) {
        if (!accts[i].live)
            return &accts[i];
    }
    return 0;
}

/* Whether an account (overcommitted or not) holds `kind` carved out of
 * its parent's room. */
static int carved_kind(uint32_t overcommit, cm_ledger_kind_t kind)
{
    if (overcommit && (kind == CM_LEDGER_COMMIT || kind == CM_LEDGER_OBJECT_BACKING))
        return 0;
    return kacct_kind_carved(kind);
}

static int carved_in(const struct kacct *a, cm_ledger_kind_t kind)
{
    return carved_kind(a->overcommit, kind);
}

/* Each overcommitted account from `from` up to, not including, `stop`
 * (NULL: all the way) returns the n of COMMIT it drew to its parent. */
static void undraw_to(struct kacct *from, const struct kacct *stop, uint64_t n)
{
    for (struct kacct *x = from; x->overcommit; x = x->parent) {
        if (x == stop)
            return;
        if (cm__ledger_take_back(&x->parent->l, CM_LEDGER_COMMIT, n) != CM_OK)
            panic("kacct: overcommitted account drew less than it returns");
    }
}

/* a's COMMIT used + given grew by n: an overcommitted account draws n from
 * its parent's room now, and so on up (account.h). All or nothing. */
static cm_status_t draw(struct kacct *a, uint64_t n)
{
    for (struct kacct *x = a; x->overcommit; x = x->parent) {
        if (cm__ledger_give(&x->parent->l, CM_LEDGER_COMMIT, n) != CM_OK) {
            if (x != a)
                undraw_to(a, x, n);
            return cm__ledger_pressure_status();
        }
    }
    return CM_OK;
}

/* Carves `n` of `kind` out of `parent`'s room (and draws it if the parent
 * is overcommitted), or gives it back. */
static cm_status_t give(struct kacct *parent, cm_ledger_kind_t kind, uint64_t n)
{
    cm_status_t st = cm__ledger_give(&parent->l, kind, n);
    if (st == CM_OK && kind == CM_LEDGER_COMMIT && (st = draw(parent, n)) != CM_OK)
        (void)cm__ledger_take_back(&parent->l, kind, n);
    return st;
}

static void take_back(struct kacct *parent, cm_ledger_kind_t kind, uint64_t n)
{
    if (cm__ledger_take_back(&parent->l, kind, n) != CM_OK)
        panic("kacct: parent gave less than the child holds");
    if (kind == CM_LEDGER_COMMIT)
        undraw_to(parent, 0, n);
}

/* COMMIT room of `a`: its own, and no more than the rooms it draws from. */
static uint64_t commit_room(const struct kacct *a)
{
    uint64_t room = kacct_room(a, CM_LEDGER_COMMIT);
    for (; a->overcommit; a = a->parent) {
        uint64_t up = kacct_room(a->parent, CM_LEDGER_COMMIT);
        room = up < room ? up : room;
    }
    return room;
}

static cm_status_t new_account(struct kacct *parent, const uint64_t *quota, int overcommit,
                               struct kacct **out)
{
    uint64_t limit[CM__LEDGER_KINDS];
    uint32_t flags[CM__LEDGER_KINDS];
    root_limits(limit, flags);
    if (parent != 0) {
        for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
            uint64_t want = quota != 0 ? quota[k] : CMK_QUOTA_DEFAULT;
            flags[k] = parent->l.flags[k];
            if (carved_kind((uint32_t)overcommit, k)) {
                uint64_t room = k == CM_LEDGER_COMMIT ? commit_room(parent) : kacct_room(parent, k);
                limit[k] = want == CMK_QUOTA_DEFAULT ? room / 2 + room % 2 : want;
            } else {
                uint64_t cap = parent->l.limit[k];
                limit[k] = want == CMK_QUOTA_DEFAULT || want > cap ? cap : want;
                flags[k] &= ~(uint32_t)CM_LEDGER_CARVED;
            }
        }
        /* Carve every pool kind or none. */
        for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
            if (!carved_kind((uint32_t)overcommit, k))
                continue;
            cm_status_t st = give(parent, k, limit[k]);
            if (st != CM_OK) {
                while (k-- > 0) {
                    if (carved_kind((uint32_t)overcommit, k))
                        take_back(parent, k, limit[k]);
                }
                return st;
            }
        }
    }
    struct kacct *a = slot();
    if (a == 0)
        panic("kacct_new: account table full despite the PROCESSES budget");
    memset(a, 0, sizeof(*a));
    a->live = 1;
    a->overcommit = (uint32_t)overcommit;
    a->parent = parent;
    cm__ledger_init(&a->l, limit, flags);
    live_accts++;
    *out = a;
    return CM_OK;
}

cm_status_t kacct_new(struct kacct *parent, const uint64_t *quota, struct kacct **out)
{
    cm_status_t st = new_account(parent, quota, 0, out);
    if (st == CM_OK)
        (*out)->procs = 1;
    return st;
}

cm_status_t kacct_create(struct kacct *parent, const uint64_t *quota, int overcommit,
                         struct kacct **out)
{
    cm_status_t st = cm__ledger_charge(&parent->l, CM_LEDGER_PROCESSES, 1);
    if (st != CM_OK)
        return st;
    if ((st = new_account(parent, quota, overcommit, out)) != CM_OK) {
        kacct_uncharge(parent, CM_LEDGER_PROCESSES, 1);
        return st;
    }
    (*out)->made = 1;
    (*out)->held = 1;
    kobj_init(&(*out)->obj, CM_OBJ_ACCOUNT, parent);
    return CM_OK;
}

/* Ends an account with nothing charged, no process and no object: its
 * carved budget (and, if made by account_create, the PROCESSES its parent
 * paid for it) returns to the parent, which may end in turn. */
static void maybe_end(struct kacct *a)
{
    while (a != 0 && a->live && a->procs == 0 && !a->held && cm__ledger_empty(&a->l)) {
        struct kacct *parent = a->parent;
        if (parent != 0) {
            for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
                if (carved_in(a, k))
                    take_back(parent, k, a->l.limit[k]);
            }
            if (a->made && cm__ledger_uncharge(&parent->l, CM_LEDGER_PROCESSES, 1) != CM_OK)
                panic("kacct: parent paid no PROCESSES for a made account");
        }
        a->live = 0;
        a->parent = 0;
        live_accts--;
        a = parent;
    }
}

void kacct_obj_destroy(struct kacct *a)
{
    a->held = 0;
    maybe_end(a);
}

void kacct_attach(struct kacct *a)
{
    if (!a->live || a->procs >= KACCT_MAX)
        panic("kacct_attach: dead account");
    a->procs++;
}

void kacct_detach(struct kacct *a)
{
    if (a->procs == 0)
        panic("kacct_detach: no process attached");
    a->procs--;
    maybe_end(a);
}

cm_status_t kacct_charge(struct kacct *a, cm_ledger_kind_t kind, uint64_t amount)
{
    cm_status_t st = cm__ledger_charge(&a->l, kind, amount);
    if (st == CM_OK && kind == CM_LEDGER_COMMIT && (st = draw(a, amount)) != CM_OK)
        (void)cm__ledger_uncharge(&a->l, kind, amount);
    return st;
}

void kacct_uncharge(struct kacct *a, cm_ledger_kind_t kind, uint64_t amount)
{
    if (cm__ledger_uncharge(&a->l, kind, amount) != CM_OK)
        panic("kacct: %s released %lu of %lu charged", cm_ledger_kind_name(kind),
              (unsigned long)amount, (unsigned long)a->l.used[kind]);
    if (kind == CM_LEDGER_COMMIT)
        undraw_to(a, 0, amount);
    maybe_end(a);
}

cm_status_t kacct_lower(struct kacct *a, cm_ledger_kind_t kind, uint64_t limit)
{
    uint64_t freed = 0;
    cm_status_t st = cm__ledger_lower_limit(&a->l, kind, limit, &freed);
    if (st == CM_OK && a->parent != 0 && carved_in(a, kind))
        take_back(a->parent, kind, freed);
    return st;
}

uint64_t kacct_room(const struct kacct *a, cm_ledger_kind_t kind)
{
    return cm__ledger_available(&a->l, kind);
}

cm_status_t kacct_charge_frames(struct kacct *a, uint64_t n)
{
    if (n > UINT64_MAX / CM_PAGE_SIZE)
        return CM_ERR_QUOTA_COMMIT;
    cm_status_t st = kacct_charge(a, CM_LEDGER_COMMIT, n * CM_PAGE_SIZE);
    if (st != CM_OK)
        return st;
    if (n > frame_free_count()) {
        kacct_uncharge(a, CM_LEDGER_COMMIT, n * CM_PAGE_SIZE);
        return cm__ledger_pressure_status();
    }
    return CM_OK;
}

void kacct_uncharge_frames(struct kacct *a, uint64_t n)
{
    kacct_uncharge(a, CM_LEDGER_COMMIT, n * CM_PAGE_SIZE);
}

/* The ledger syscalls: the caller's own account only. */
int64_t sys_ledger_get(struct proc *p, const uint64_t *a)
{
    cm_ledger_info_t info;
    if (a[0] == 0 || !user_range_ok(p, a[0], sizeof(info), 1))
        return CM_ERR_INVALID_ARGS;
    cm__ledger_info(&p->acct->l, &info);
    return copyout(p, a[0], &info, sizeof(info));
}

int64_t sys_ledger_set_limit(struct proc *p, const uint64_t *a)
{
    if (a[0] >= CM__LEDGER_KINDS)
        return CM_ERR_OUT_OF_RANGE;
    return kacct_lower(p->acct, (cm_ledger_kind_t)a[0], a[1]);
}
