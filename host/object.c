/* SPDX-License-Identifier: MIT */
/* cm_object_wait_one / cm_object_wait_many on Linux (include/capmem/object.h).
 *
 * Each object with signals computes them on demand from its fd
 * (cm__signal_ops.get: channel.c, listener.c). A wait evaluates every item;
 * if none matches it registers one waiter per item (the handle-table
 * mechanism of cm__handle_wait_fd, host/handles.c: removing a listed handle
 * wakes the wait with BAD_HANDLE) and sleeps in one poll(2) on the items'
 * fds plus an eventfd, then evaluates again. poll is level-triggered and
 * the registration happens before the first sleep, so a change between
 * the evaluation and the sleep is never lost. A one-item wait whose handle
 * already has its eventfd, and whose object can read the waited signals
 * from poll's result, registers first and lets that one poll do both the
 * evaluation and the sleep. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>

#include "deadline.h"
#include "internal.h"
#include "validate.h"
#include "status_detail.h"

/* Looks h up (stage 2) and checks that its object has signals (stage 3).
 * On success the caller owns a reference in *obj. */
static cm_status_t get_waitable(cm_handle_t h, uint32_t type, struct cm__hobj **obj)
{
    cm_status_t st = cm__handle_get(h, type, 0, obj, NULL);
    if (st != CM_OK)
        return st;
    st = cm__object_signals_type_check((*obj)->type);
    if (st == CM_OK && (*obj)->signals == NULL)
        st = CM_ERR_WRONG_TYPE;
    if (st != CM_OK)
        cm__hobj_put(*obj);
    return st;
}

struct wait_req {
    uint32_t n;
    const cm_handle_t *handles;
    struct cm__hobj *const *objs;
    const cm_signals_t *waitfor;
    cm_signals_t *pending; /* out, n entries */
    cm_signals_t report;   /* signals pending[] must be exact for */
};

/* obj's signals now: all of them, or, when the caller reports only some and
 * the object can read fewer for less, those and the ones waited for. */
static cm_status_t signals_now(struct cm__hobj *obj, cm_signals_t waitfor, cm_signals_t report,
                               cm_signals_t *now)
{
    if (report != CM_SIGNALS_ALL && obj->signals->get_wanted != NULL)
        return obj->signals->get_wanted(obj, report | waitfor, now);
    return obj->signals->get(obj, now);
}

/* Fills pending[] and, for a sleep, fds[]; sets *match if an item matched. */
static cm_status_t evaluate(const struct wait_req *r, struct pollfd *fds, int *match)
{
    *match = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        struct cm__hobj *obj = r->objs[i];
        cm_status_t st = signals_now(obj, r->waitfor[i], r->report, &r->pending[i]);
        if (st != CM_OK)
            return st;
        *match |= (r->pending[i] & r->waitfor[i]) != 0;
    }
    if (*match)
        return CM_OK;
    for (uint32_t i = 0; i < r->n; i++) {
        struct cm__hobj *obj = r->objs[i];
        int fd = -1;
        short ev = obj->signals->poll_events(obj, r->waitfor[i], r->pending[i], &fd);
        fds[i] = (struct pollfd){ ev != 0 ? fd : -1, ev, 0 };
    }
    return CM_OK;
}

/* A handle closed as the wait began: its last close may have shut the
 * object down already (a channel then reads as hung up), and that must end
 * the wait with BAD_HANDLE, as a close during the sleep does, never with
 * the signals the close itself caused. Checked before reporting a match. */
static int any_dead(const struct wait_req *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (atomic_load(&r->objs[i]->dead))
            return 1;
    return 0;
}

/* After a sleep of a one-item wait: the item's signals from the poll
 * result alone, when its object can tell them from that (the signals the
 * caller reports, and the ones it waits for). Returns 1 if *match is set. */
static int settled_by_poll(const struct wait_req *r, const struct pollfd *fds, int *match)
{
    struct cm__hobj *obj = r->objs[0];
    if (r->n != 1 || r->report == CM_SIGNALS_ALL || obj->signals->from_revents == NULL ||
        fds[0].fd < 0 || fds[0].revents == 0)
        return 0;
    if (!obj->signals->from_revents(obj, fds[0].revents, r->report | r->waitfor[0],
                                    &r->pending[0]))
        return 0;
    *match = (r->pending[0] & r->waitfor[0]) != 0;
    return 1;
}

/* Can the first poll of a one-item wait both check and sleep? Only when
 * its result alone can settle the item (settled_by_poll). */
static int poll_can_settle(const struct wait_req *r)
{
    return r->n == 1 && r->report != CM_SIGNALS_ALL && r->objs[0]->signals->from_revents != NULL;
}

/* Announces (arm 1) or withdraws (arm 0) the wait to every object that
 * wants to know before it sleeps (cm__signal_ops.arm). */
static void arm_items(const struct wait_req *r, int arm)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const struct cm__signal_ops *ops = r->objs[i]->signals;
        if (arm && ops->arm != NULL)
            ops->arm(r->objs[i]);
        else if (!arm && ops->disarm != NULL)
            ops->disarm(r->objs[i]);
    }
}

static cm_status_t wait_items(const struct wait_req *r, uint64_t deadline)
{
    struct cm__waitset ws;
    struct pollfd fds[CM_WAIT_MANY_MAX + 1];
    int registered = 0, match, slept = 0, direct = 0, armed = 0;
    cm_status_t st;
    /* A handle that has its eventfd already (an earlier blocking wait made
     * it): register and sleep at once; that one poll also finds the item
     * ready if it is, so a wait is one system call, blocking or not. */
    if (poll_can_settle(r) && !cm__deadline_passed(deadline, cm__now_ns())) {
        st = cm__waitset_begin(&ws, 1, r->handles, r->objs, 0);
        if (st == CM_OK)
            registered = direct = 1;
        else if (st != CM_ERR_SHOULD_WAIT)
            return st;
    }
    for (;;) {
        if (slept && settled_by_poll(r, fds, &match) && match) {
            st = any_dead(r) ? CM_ERR_BAD_HANDLE : CM_OK;
            break;
        }
        if (direct) {
            /* Nothing asserted assumed: a channel polls POLLIN and the
             * hang-up, and anything the revents cannot settle is read
             * again by evaluate after this sleep. */
            struct cm__hobj *obj = r->objs[0];
            int fd = -1;
            r->pending[0] = 0;
            short ev = obj->signals->poll_events(obj, r->waitfor[0], 0, &fd);
            fds[0] = (struct pollfd){ ev != 0 ? fd : -1, ev, 0 };
            direct = 0;
        } else {
            /* Armed before the evaluation: an event it misses wakes the
             * sleep after it. Not for a poll (deadline passed). */
            if (!armed && !cm__deadline_passed(deadline, cm__now_ns())) {
                arm_items(r, 1);
                armed = 1;
            }
            st = evaluate(r, fds, &match);
            if (st == CM_OK && match && any_dead(r))
                st = CM_ERR_BAD_HANDLE;
            if (st != CM_OK || match)
                break;
            if (cm__deadline_passed(deadline, cm__now_ns())) {
                st = CM_ERR_TIMED_OUT;
                break;
            }
        }
        /* No eventfd for a poll (timeout 0); a one-item wait uses its
         * handle's, made by its first blocking wait. */
        if (!registered) {
            st = cm__waitset_begin(&ws, r->n, r->handles, r->objs, 1);
            if (st != CM_OK)
                break;
            registered = 1;
        }
        st = cm__waitset_sleep(&ws, fds, deadline);
        if (armed) {
            arm_items(r, 0);
            armed = 0;
        }
        /* TIMED_OUT evaluates once more, so that pending is current. */
        if (st != CM_OK && st != CM_ERR_TIMED_OUT)
            break;
        slept = st == CM_OK;
    }
    if (armed)
        arm_items(r, 0);
    if (registered)
        cm__waitset_end(&ws);
    return st;
}

cm_status_t cm__object_wait_one_typed(cm_handle_t handle, uint32_t type, cm_signals_t signals,
                                      cm_signals_t report, int64_t timeout_ns,
                                      cm_signals_t *observed)
{
    uint64_t deadline;
    cm_status_t st = cm__object_wait_one_check_args(signals, timeout_ns, observed != NULL);
    if (st == CM_OK)
        st = cm__deadline_from_timeout(cm__now_ns(), timeout_ns, &deadline);
    struct cm__hobj *obj;
    if (st == CM_OK)
        st = get_waitable(handle, type, &obj);
    if (st != CM_OK)
        return st;
    cm_signals_t pending = 0;
    struct wait_req r = { 1, &handle, &obj, &signals, &pending, report };
    st = wait_items(&r, deadline);
    if (st == CM_OK || st == CM_ERR_TIMED_OUT)
        *observed = pending;
    cm__hobj_put(obj);
    return st;
}

cm_status_t cm_object_wait_one(cm_handle_t handle, cm_signals_t signals, int64_t timeout_ns,
                               cm_signals_t *observed)
{
    CM__ENTRY();
    return cm__object_wait_one_typed(handle, CM_OBJ_NONE, signals, CM_SIGNALS_ALL, timeout_ns,
                                     observed);
}

cm_status_t cm_object_wait_many(cm_wait_item_t *items, uint32_t count, int64_t timeout_ns)
{
    CM__ENTRY();
    uint64_t deadline;
    cm_status_t st = cm__object_wait_many_check_args(items != NULL, count, timeout_ns);
    if (st == CM_OK)
        st = cm__object_wait_items_check(items, count);
    if (st == CM_OK)
        st = cm__deadline_from_timeout(cm__now_ns(), timeout_ns, &deadline);
    if (st != CM_OK)
        return st;
    /* The arrays below hold CM_WAIT_MANY_MAX: a validator that let more
     * through is a capmem bug, reported, never a stack overflow. */
    if (count > CM_WAIT_MANY_MAX)
        return CM_ERR_INTERNAL;
    /* The caller's array is read once: what is waited on cannot change
     * under the wait. */
    cm_handle_t handles[CM_WAIT_MANY_MAX];
    cm_signals_t waitfor[CM_WAIT_MANY_MAX], pending[CM_WAIT_MANY_MAX];
    struct cm__hobj *objs[CM_WAIT_MANY_MAX];
    uint32_t got = 0;
    for (; got < count; got++) {
        handles[got] = items[got].handle;
        waitfor[got] = items[got].waitfor;
        st = get_waitable(handles[got], CM_OBJ_NONE, &objs[got]);
        if (st != CM_OK)
            break;
    }
    if (st == CM_OK) {
        struct wait_req r = { count, handles, objs, waitfor, pending, CM_SIGNALS_ALL };
        st = wait_items(&r, deadline);
        if (st == CM_OK || st == CM_ERR_TIMED_OUT) {
            for (uint32_t i = 0; i < count; i++)
                items[i].pending = pending[i];
        }
    }
    while (got-- > 0)
        cm__hobj_put(objs[got]);
    return st;
}
