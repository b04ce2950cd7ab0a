/* SPDX-License-Identifier: MIT */
/* cm_object_wait_one / cm_object_wait_many (include/capmem/object.h).
 *
 * Signals are not stored: each is computed from the object's state when a
 * waiter looks (channel_signals). Every waiter sleeps on one kernel-wide
 * wait channel, and every state change that can alter a signal calls
 * object_signals_changed(), which wakes them all; each re-evaluates its own
 * objects and sleeps again if none matches. That costs a few spurious
 * wake-ups (at most MAX_PROCS sleepers) and buys simplicity: a waiter on 64
 * objects needs no registration on each of them, and nothing can be left
 * registered on an object that dies.
 *
 * No lost wake-up: one hart and no preemption inside the kernel, so nothing
 * runs between a waiter's evaluation and its sleep_on. The handles cannot
 * be closed during the wait (a process has one thread), and each handle's
 * reference keeps its object alive, so the objects looked up before the
 * sleep are still valid after it. */
#include <capmem/object.h>

#include "channel.h"
#include "kdma.h"
#include "khandle.h"
#include "ksbuf.h"
#include "kobj.h"
#include "objwait.h"
#include "proc.h"
#include "syscall.h"
#include "usercopy.h"
#include "validate.h"

static const char signals_chan; /* its address is the wait channel */

void object_signals_changed(void)
{
    wakeup(&signals_chan);
}

/* The signals of an object that passed cm__object_signals_type_check (the
 * kernel has no listeners). A buffer's are computed after a reap, which is
 * why the object is not const. */
static cm_signals_t kobj_signals(struct kobj *o)
{
    switch (o->type) {
    case CM_OBJ_SBUF: return ksbuf_signals((struct ksbuf *)o);
    case CM_OBJ_SBUF_CONSUMER: return ksbuf_cons_signals((const struct ksbuf_cons *)o);
    case CM_OBJ_DMA_DEVICE: return kdma_device_signals((const struct kdma_dev *)o);
    default: return channel_signals((const struct channel *)o);
    }
}

/* Looks up h and checks that its object has signals (stage 2 then 3). */
static cm_status_t get_waitable(struct proc *p, cm_handle_t h, struct kobj **o)
{
    cm_status_t st = handle_get(p, h, CM_OBJ_NONE, 0, o, 0);
    if (st != CM_OK)
        return st;
    return cm__object_signals_type_check((*o)->type);
}

/* A register holding a 32-bit argument: bits above 32 make it invalid
 * (returned as 0, which every check here refuses). */
static uint32_t arg32(uint64_t v)
{
    return v > UINT32_MAX ? 0 : (uint32_t)v;
}

int64_t sys_object_wait_one(struct proc *p, const uint64_t *a)
{
    cm_signals_t signals = arg32(a[1]);
    uint64_t observed = a[3];
    int observed_ok = observed != 0 && user_range_ok(p, observed, sizeof(cm_signals_t), 1);
    cm_status_t st = cm__object_wait_one_check_args(signals, (int64_t)a[2], observed_ok);
    uint64_t deadline;
    if (st == CM_OK)
        st = sleep_deadline((int64_t)a[2], &deadline);
    struct kobj *o;
    if (st == CM_OK)
        st = get_waitable(p, handle_arg(a[0]), &o);
    if (st != CM_OK)
        return st;
    for (;;) {
        cm_signals_t now = kobj_signals(o);
        int match = (now & signals) != 0;
        if (match || sleep_deadline_passed(deadline)) {
            if (copyout(p, observed, &now, sizeof(now)) != CM_OK)
                return CM_ERR_INVALID_ARGS; /* unmapped while asleep */
            return match ? CM_OK : CM_ERR_TIMED_OUT;
        }
        sleep_on(&signals_chan, deadline);
    }
}

/* Fills every item's pending; returns 1 if one of them matched. */
static int evaluate(cm_wait_item_t *items, struct kobj *const *objs, uint32_t n)
{
    int match = 0;
    for (uint32_t i = 0; i < n; i++) {
        items[i].pending = kobj_signals(objs[i]);
        match |= (items[i].pending & items[i].waitfor) != 0;
    }
    return match;
}

int64_t sys_object_wait_many(struct proc *p, const uint64_t *a)
{
    uint64_t uva = a[0];
    /* A count too large for 32 bits is over the limit all the same. */
    uint32_t n = a[1] > CM_WAIT_MANY_MAX ? CM_WAIT_MANY_MAX + 1 : (uint32_t)a[1];
    cm_status_t st = cm__object_wait_many_check_args(uva != 0, n, (int64_t)a[2]);
    if (st != CM_OK)
        return st;
    /* The arrays below hold CM_WAIT_MANY_MAX: a validator that let more
     * through is a kernel bug, reported, never a stack overflow. */
    if (n > CM_WAIT_MANY_MAX)
        return CM_ERR_INTERNAL;
    /* 64 items: 768 bytes plus 512 of pointers on a 16 KiB kernel stack. */
    cm_wait_item_t items[CM_WAIT_MANY_MAX];
    struct kobj *objs[CM_WAIT_MANY_MAX];
    uint64_t len = (uint64_t)n * sizeof(cm_wait_item_t);
    if (!user_range_ok(p, uva, len, 1) || copyin(p, items, uva, len) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    st = cm__object_wait_items_check(items, n);
    uint64_t deadline;
    if (st == CM_OK)
        st = sleep_deadline((int64_t)a[2], &deadline);
    for (uint32_t i = 0; st == CM_OK && i < n; i++)
        st = get_waitable(p, items[i].handle, &objs[i]);
    if (st != CM_OK)
        return st;
    for (;;) {
        int match = evaluate(items, objs, n);
        if (match || sleep_deadline_passed(deadline)) {
            if (copyout(p, uva, items, len) != CM_OK)
                return CM_ERR_INVALID_ARGS; /* unmapped while asleep */
            return match ? CM_OK : CM_ERR_TIMED_OUT;
        }
        sleep_on(&signals_chan, deadline);
    }
}
