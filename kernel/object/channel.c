/* SPDX-License-Identifier: MIT */
/* Channels: pairs of endpoints carrying bytes plus handles.
 *
 * A queued message holds its bytes in frames and a reference to every
 * object it carries, with the rights the sender's handle had. The receiver
 * gets new handles to the same objects, so what it learns about them (size,
 * seals, rights) comes from the kernel, never from the message bytes.
 *
 * Consume-on-write: every listed live handle (other than the channel
 * itself) leaves the writer's table whatever the outcome; on failure the
 * kernel drops the references.
 *
 * No cycles. Objects live by reference counts, and a queued message holds
 * a reference to every object it carries, so endpoints that carry each
 * other would keep each other alive forever once no process holds them
 * (x1 queued at y1 and y1 queued at x1: their queues, and everything in
 * them, would outlive every process; repeated, that drains the kernel's
 * pools). Instead of collecting such cycles, the kernel refuses every
 * write that could close one. Call "E holds F" an edge when a message
 * queued at endpoint E carries endpoint F. Edges appear only here, in
 * sys_channel_write, and only out of the endpoint written to (c->peer).
 * Two rules:
 *   1. c->peer itself may not be sent through c (INVALID_ARGS): that is
 *      the one-edge cycle, c->peer holding c->peer.
 *   2. An endpoint whose queue carries any endpoint (nendpoints > 0) may
 *      not be sent at all (BAD_STATE).
 * Why no cycle E1 -> E2 -> ... -> Ek -> E1 (k >= 2) can form: take the
 * edge of the cycle created last, say Ek -> E1 (name the cycle from it).
 * When that write ran, every other edge of the cycle already existed, in
 * particular E1 -> E2: the write sent E1 while E1's queue held E2, which
 * rule 2 refuses. Reading messages only removes edges, and the rule does
 * not care who holds the endpoint, so it holds for any number of
 * processes and any length of cycle. Without cycles, reference counting
 * frees everything once the last process that could reach it lets go:
 * close, exit, or the end of the endpoint that carried it (kobj.h: the
 * dead list makes that release iterative, however deep the chain). */
#include "channel.h"

#include <capmem/channel.h>
#include <string.h>

#include "account.h"
#include "console.h"
#include "frame.h"
#include "khandle.h"
#include "proc.h"
#include "riscv.h"
#include "rights.h"
#include "sbi.h"
#include "syscall.h"
#include "usercopy.h"
#include "validate.h"
#include "objwait.h"

static struct channel chan_pool[KOBJ_MAX_CHANNELS];
static struct kmsg msg_pool[KMSG_MAX];
static uint64_t msgs_live;

uint64_t kmsg_live_count(void)
{
    return msgs_live;
}

static struct channel *chan_slot(struct channel *not)
{
    for (uint32_t i = 0; i < KOBJ_MAX_CHANNELS; i++) {
        if (chan_pool[i].obj.type == CM_OBJ_NONE && &chan_pool[i] != not)
            return &chan_pool[i];
    }
    return 0;
}

static struct kmsg *msg_slot(void)
{
    for (uint32_t i = 0; i < KMSG_MAX; i++) {
        if (!msg_pool[i].used)
            return &msg_pool[i];
    }
    return 0;
}

/* A message's frames and its MESSAGES slot are charged to its sender
 * (check_write) and released here, whoever reads or drops it. */
static uint32_t msg_frames(uint64_t nbytes)
{
    return (uint32_t)((nbytes + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE);
}

static void msg_free(struct kmsg *m)
{
    for (uint32_t i = 0; i < KMSG_MAX_FRAMES; i++) {
        if (m->frames[i] != 0)
            frame_free(m->frames[i]);
        m->frames[i] = 0;
    }
    kacct_uncharge_frames(m->acct, msg_frames(m->nbytes));
    kacct_uncharge(m->acct, CM_LEDGER_MESSAGES, 1);
    m->acct = 0;
    for (uint32_t i = 0; i < m->nhandles; i++)
        kobj_unref(m->handles[i].obj);
    m->nhandles = 0;
    m->nbytes = 0;
    m->used = 0;
    msgs_live--;
}

/* Channel endpoints among a message's handles. */
static uint32_t msg_endpoints(const struct kmsg *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->nhandles; i++)
        n += m->handles[i].type == CM_OBJ_CHANNEL;
    return n;
}

static void enqueue(struct channel *c, struct kmsg *m)
{
    c->queue[(c->head + c->count) % CM_CHANNEL_MAX_QUEUED] = m;
    c->count++;
    c->nendpoints += msg_endpoints(m);
}

static struct kmsg *dequeue(struct channel *c)
{
    struct kmsg *m = c->queue[c->head];
    c->queue[c->head] = 0;
    c->head = (c->head + 1) % CM_CHANNEL_MAX_QUEUED;
    c->count--;
    c->nendpoints -= msg_endpoints(m);
    return m;
}

cm_signals_t channel_signals(const struct channel *c)
{
    return cm__channel_signals(c->count > 0, c->peer != 0,
                               c->peer != 0 && c->peer->count < CM_CHANNEL_MAX_QUEUED);
}

/* Every change of an endpoint's signals calls object_signals_changed()
 * (object/wait.c): a message queued (READABLE at the reader), dequeued
 * (WRITABLE at the writer) or an endpoint's death (PEER_CLOSED). */
void channel_destroy(struct channel *c)
{
    if (c->peer != 0) {
        c->peer->peer = 0;
        wakeup(c->peer);
        object_signals_changed();
    }
    c->peer = 0;
    while (c->count > 0)
        msg_free(dequeue(c));
    c->head = 0;
}

int64_t sys_channel_create(struct proc *p, const uint64_t *a)
{
    cm_status_t st = cm__channel_create_check(a[0] > UINT32_MAX ? UINT32_MAX : (uint32_t)a[0],
                                              a[1] != 0 && user_range_ok(p, a[1], sizeof(cm_handle_t), 1),
                                              a[2] != 0 && user_range_ok(p, a[2], sizeof(cm_handle_t), 1));
    if (st != CM_OK)
        return st;
    if (handles_free(p) < 2)
        return CM_ERR_NO_RESOURCES;
    /* Both endpoints are charged to the creator, two of its CHANNELS. */
    if (kobj_charge(p->acct, CM_OBJ_CHANNEL) != CM_OK)
        return CM_ERR_NO_RESOURCES;
    if (kobj_charge(p->acct, CM_OBJ_CHANNEL) != CM_OK) {
        kobj_uncharge(p->acct, CM_OBJ_CHANNEL);
        return CM_ERR_NO_RESOURCES;
    }
    struct channel *c0 = chan_slot(0), *c1 = chan_slot(c0);
    if (c0 == 0 || c1 == 0) {
        kobj_uncharge(p->acct, CM_OBJ_CHANNEL);
        kobj_uncharge(p->acct, CM_OBJ_CHANNEL);
        return CM_ERR_NO_RESOURCES;
    }
    kobj_init(&c0->obj, CM_OBJ_CHANNEL, p->acct);
    kobj_init(&c1->obj, CM_OBJ_CHANNEL, p->acct);
    c0->peer = c1;
    c1->peer = c0;
    c0->nendpoints = c1->nendpoints = 0;
    /* Each creation reference moves into its handle; on failure both come
     * back here and the endpoints die at the next reap. */
    cm_handle_t h0;
    struct kobj *back;
    st = handle_publish(p, &c0->obj, CM_CHANNEL_DEFAULT_RIGHTS, a[1], &h0);
    if (st == CM_OK) {
        st = handle_publish(p, &c1->obj, CM_CHANNEL_DEFAULT_RIGHTS, a[2], 0);
        if (st != CM_OK)
            handle_take(p, h0, &back, 0, 0);
    }
    if (st != CM_OK) {
        kobj_unref(&c0->obj);
        kobj_unref(&c1->obj);
    }
    return st;
}

/* Closes up to CM_MAX_HANDLES listed values (no more can be live) when the
 * list itself is over the message limit. */
static void consume_oversized(struct proc *p, uint64_t uva, uint64_t n, cm_handle_t self)
{
    if (n > CM_MAX_HANDLES)
        n = CM_MAX_HANDLES;
    for (uint64_t i = 0; i < n; i++) {
        cm_handle_t h;
        struct kobj *o;
        if (copyin(p, &h, uva + i * sizeof(h), sizeof(h)) != CM_OK)
            return;
        if (h != self && handle_take(p, h, &o, 0, 0) == CM_OK)
            kobj_unref(o);
    }
}

/* Stages 2-4 of a write (docs/api.md) whose arguments passed stage 1
 * (cm__channel_write_check_args) and whose handle list is in `list`. */
static cm_status_t check_write(struct proc *p, const uint64_t *a, const cm_handle_t *list,
                               uint32_t n, struct channel **out)
{
    struct kobj *o;
    cm_handle_t self = handle_arg(a[0]);
    cm_status_t st = handle_get(p, self, CM_OBJ_CHANNEL, CM_RIGHT_WRITE, &o, 0);
    if (st != CM_OK)
        return st;
    struct channel *c = (struct channel *)o;
    uint64_t nbytes = a[2];
    for (uint32_t i = 0; i < n; i++) {
        struct kobj *t;
        cm_rights_t r;
        /* A value that is not live fails the write (as on the host); the
         * live ones are still consumed by the caller. */
        cm_status_t hst = handle_get(p, list[i], CM_OBJ_NONE, 0, &t, &r);
        if (hst != CM_OK)
            return hst;
        if (!cm__rights_has(r, CM_RIGHT_TRANSFER))
            return CM_ERR_ACCESS_DENIED;
        /* "No cycles" above: rule 1, then rule 2. */
        if (c->peer != 0 && t == &c->peer->obj)
            return CM_ERR_INVALID_ARGS;
        if (t->type == CM_OBJ_CHANNEL && ((struct channel *)t)->nendpoints > 0)
            return CM_ERR_BAD_STATE;
    }
    if (c->peer == 0)
        return CM_ERR_PEER_CLOSED;
    if (c->peer->count >= CM_CHANNEL_MAX_QUEUED)
        return CM_ERR_SHOULD_WAIT;
    /* The last stage: the sender's charges, taken here and owned by the
     * message from now on (msg_free releases them). */
    st = kacct_charge(p->acct, CM_LEDGER_MESSAGES, 1);
    if (st != CM_OK)
        return st;
    st = kacct_charge_frames(p->acct, msg_frames(nbytes));
    if (st == CM_OK && msg_slot() == 0) {
        kacct_uncharge_frames(p->acct, msg_frames(nbytes));
        st = CM_ERR_NO_RESOURCES; /* the MESSAGES share makes this unreachable */
    }
    if (st != CM_OK) {
        kacct_uncharge(p->acct, CM_LEDGER_MESSAGES, 1);
        return st;
    }
    *out = c;
    return CM_OK;
}

int64_t sys_channel_write(struct proc *p, const uint64_t *a)
{
    cm_handle_t self = handle_arg(a[0]);
    cm_handle_t list[CM_CHANNEL_MAX_HANDLES];
    uint64_t nh = a[4];
    uint32_t n = 0;
    cm_status_t st = CM_OK;
    struct channel *c = 0;

    uint32_t nbytes32 = a[2] > UINT32_MAX ? UINT32_MAX : (uint32_t)a[2];
    if (nh > CM_CHANNEL_MAX_HANDLES || (nh > 0 && a[3] == 0)) {
        /* Stage 1 fails without reading the list (the rule reads no more
         * than CM_CHANNEL_MAX_HANDLES values, and only when it is in range). */
        memset(list, 0, sizeof(list));
        st = cm__channel_write_check_args(self, a[1] != 0, nbytes32, a[3] != 0 ? list : 0,
                                          nh > UINT32_MAX ? UINT32_MAX : (uint32_t)nh);
        if (a[3] != 0)
            consume_oversized(p, a[3], nh, self);
        return st;
    }
    if (nh > 0 && copyin(p, list, a[3], nh * sizeof(cm_handle_t)) != CM_OK)
        return CM_ERR_INVALID_ARGS; /* an unreadable list names nothing to consume */
    n = (uint32_t)nh;
    /* Stage 1: the arguments alone, the same rule as the host. */
    st = cm__channel_write_check_args(self, a[1] != 0, nbytes32, n > 0 ? list : 0, n);
    if (st == CM_OK && !user_range_ok(p, a[1], a[2], 0))
        st = CM_ERR_INVALID_ARGS;
    if (st == CM_OK)
        st = check_write(p, a, list, n, &c);

    struct kmsg *m = st == CM_OK ? msg_slot() : 0;
    if (m != 0) {
        m->used = 1;
        m->acct = p->acct;
        msgs_live++;
        m->nbytes = (uint32_t)a[2];
        m->nhandles = 0;
        for (uint32_t off = 0, i = 0; off < m->nbytes; off += CM_PAGE_SIZE, i++) {
            m->frames[i] = frame_alloc();
            uint32_t len = m->nbytes - off < CM_PAGE_SIZE ? m->nbytes - off : CM_PAGE_SIZE;
            if (m->frames[i] == 0 || copyin(p, (void *)m->frames[i], a[1] + off, len) != CM_OK)
                panic("channel_write: validated copy failed");
        }
    }
    /* Commit or drop: the listed handles leave the caller either way. */
    for (uint32_t i = 0; i < n; i++) {
        struct kobj *o;
        uint32_t type;
        cm_rights_t rights;
        if (list[i] == self || handle_take(p, list[i], &o, &type, &rights) != CM_OK)
            continue;
        if (m != 0)
            m->handles[m->nhandles++] = (struct kmsg_handle){ o, type, rights };
        else
            kobj_unref(o);
    }
    if (m == 0)
        return st;
    enqueue(c->peer, m);
    wakeup(c->peer);
    object_signals_changed();
    return CM_OK;
}

/* Moves a message's handles into p's table. On failure nothing is left
 * installed and the message still owns every reference. */
static cm_status_t install_all(struct proc *p, struct kmsg *m, cm_handle_t *out)
{
    struct kobj *back;
    for (uint32_t i = 0; i < m->nhandles; i++) {
        cm_status_t st = handle_install(p, m->handles[i].obj, m->handles[i].rights, &out[i]);
        if (st != CM_OK) {
            while (i-- > 0)
                handle_take(p, out[i], &back, 0, 0);
            return st;
        }
    }
    return CM_OK;
}

/* Out pointers probed writable by the caller: cannot fail. */
static void report_sizes(struct proc *p, uint64_t abytes, uint32_t nb, uint64_t ahandles,
                         uint32_t nh)
{
    if (abytes != 0)
        copyout(p, abytes, &nb, sizeof(nb));
    if (ahandles != 0)
        copyout(p, ahandles, &nh, sizeof(nh));
}

/* Validates, then delivers the head message. A shortage of the reader's
 * own (handle slots) is NO_RESOURCES and leaves the message queued, as
 * BUFFER_TOO_SMALL does: only a successful read dequeues. */
int64_t sys_channel_read(struct proc *p, const uint64_t *a)
{
    struct kobj *o;
    uint64_t bytes = a[1], cap = a[2], abytes = a[3], handles = a[4], hcap = a[5], ahandles = a[6];
    /* Stage 1 (docs/api.md), the same rule as the host; the caps only
     * bound what is copied, so a cap above 32 bits reads as the largest. */
    cm_status_t st = cm__channel_read_check_args(bytes != 0, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap,
                                                 handles != 0, hcap > UINT32_MAX ? UINT32_MAX : (uint32_t)hcap);
    if (st == CM_OK && ((abytes != 0 && !user_range_ok(p, abytes, sizeof(uint32_t), 1)) ||
                        (ahandles != 0 && !user_range_ok(p, ahandles, sizeof(uint32_t), 1))))
        st = CM_ERR_INVALID_ARGS;
    if (st == CM_OK)
        st = handle_get(p, handle_arg(a[0]), CM_OBJ_CHANNEL, CM_RIGHT_READ, &o, 0);
    if (st != CM_OK)
        return st;
    struct channel *c = (struct channel *)o;
    if (c->count == 0)
        return c->peer == 0 ? CM_ERR_PEER_CLOSED : CM_ERR_SHOULD_WAIT;
    struct kmsg *m = c->queue[c->head];
    uint32_t nb = m->nbytes, nh = m->nhandles;
    if (cm__channel_read_check_fit(cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap,
                                   hcap > UINT32_MAX ? UINT32_MAX : (uint32_t)hcap, nb, nh) != CM_OK) {
        report_sizes(p, abytes, nb, ahandles, nh);
        return CM_ERR_BUFFER_TOO_SMALL;
    }
    if (!user_range_ok(p, bytes, nb, 1) ||
        !user_range_ok(p, handles, (uint64_t)nh * sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    if (handles_free(p) < nh)
        return CM_ERR_NO_RESOURCES;
    cm_handle_t hv[CM_CHANNEL_MAX_HANDLES];
    st = install_all(p, m, hv);
    if (st != CM_OK)
        return st;
    /* Commit. The ranges were validated in this process's own table, and
     * nothing runs between (one hart, no kernel preemption), so the copies
     * cannot fail. */
    dequeue(c);
    object_signals_changed(); /* the writer at c->peer may be waiting for room */
    for (uint32_t off = 0, i = 0; off < nb; off += CM_PAGE_SIZE, i++) {
        uint32_t len = nb - off < CM_PAGE_SIZE ? nb - off : CM_PAGE_SIZE;
        if (copyout(p, bytes + off, (const void *)m->frames[i], len) != CM_OK)
            panic("channel_read: validated copyout failed");
    }
    if (nh > 0 && copyout(p, handles, hv, (uint64_t)nh * sizeof(cm_handle_t)) != CM_OK)
        panic("channel_read: validated copyout failed");
    /* The references moved into the new handles. */
    m->nhandles = 0;
    msg_free(m);
    report_sizes(p, abytes, nb, ahandles, nh);
    return CM_OK;
}

/* Syscall 19, kept for the ABI (the runtime's cm_channel_wait_readable now
 * uses object_wait_one). Waits on this endpoint; wakeup(c) comes from a
 * write to it and from the death of its peer. The waiter's own handle keeps
 * c alive meanwhile (one thread per process: nothing can close it during
 * the wait). */
int64_t sys_channel_wait(struct proc *p, const uint64_t *a)
{
    struct kobj *o;
    uint64_t deadline;
    /* Arguments before handles (docs/api.md), as object_wait_one. */
    cm_status_t st = sleep_deadline((int64_t)a[1], &deadline);
    if (st != CM_OK)
        return st;
    st = handle_get(p, handle_arg(a[0]), CM_OBJ_CHANNEL, 0, &o, 0);
    if (st != CM_OK)
        return st;
    struct channel *c = (struct channel *)o;
    for (;;) {
        if (c->count > 0)
            return CM_OK;
        if (c->peer == 0)
            return CM_ERR_PEER_CLOSED;
        if (sleep_deadline_passed(deadline))
            return CM_ERR_TIMED_OUT;
        sleep_on(c, deadline);
    }
}
