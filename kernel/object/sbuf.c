/* SPDX-License-Identifier: MIT */
/* SharedBuffer, the buffer object (producer role) and its system calls
 * (include/capmem/sbuf.h; docs/sbuf.md "Kernel target").
 *
 * The rules are core/'s: cm__sbuf_config_check and cm__sbuf_layout for
 * create, struct cm_sbuf_own for every slot transition and every check of
 * what a consumer wrote. This file moves words between the consumers'
 * VMOs and that bookkeeping. One hart and no preemption in the kernel: a
 * system call runs with no consumer running, so the kernel's loads and
 * stores of the shared words need no atomics, and its "CAS" on a
 * consumer's `read` (DROP_OLDEST take-back) is a plain compare and store
 * (the user side's LR/SC cannot span it: usertrapret clears the
 * reservation). */
#include "ksbuf.h"

#include <string.h>

#include "console.h"
#include "khandle.h"
#include "objwait.h"
#include "proc.h"
#include "rights.h"
#include "syscall.h"
#include "usercopy.h"
#include "vmo.h"
#include "word.h"

static struct ksbuf pool[KOBJ_MAX_SBUFS];

static struct ksbuf *slot_free(void)
{
    for (uint32_t i = 0; i < KOBJ_MAX_SBUFS; i++)
        if (pool[i].obj.type == CM_OBJ_NONE && !pool[i].lingering)
            return &pool[i];
    return 0;
}

void ksbuf_revoke_buffers(void)
{
    for (uint32_t i = 0; i < KOBJ_MAX_SBUFS; i++)
        if (pool[i].obj.type == CM_OBJ_SBUF)
            ksbuf_revoke_buffer(&pool[i]);
}

struct cm_sbuf_prod_ctl *ksbuf_prod_ctl(const struct ksbuf_cons *c)
{
    return (struct cm_sbuf_prod_ctl *)vmo_kptr(c->prod, 0);
}

struct cm_sbuf_cons_ctl *ksbuf_cons_ctl(const struct ksbuf_cons *c)
{
    return (struct cm_sbuf_cons_ctl *)vmo_kptr(c->cons, 0);
}

void ksbuf_wake_consumer(struct ksbuf_cons *c)
{
    struct cm_sbuf_prod_ctl *p = ksbuf_prod_ctl(c);
    /* Kernel target: tail_word is the consumer's wake counter (publish,
     * close, eviction), so a state change can never be slept through. */
    p->tail_word++;
    word_wake_key(c->prod, offsetof(struct cm_sbuf_prod_ctl, tail_word), UINT32_MAX);
    object_signals_changed();
}

void ksbuf_wake_producer(struct ksbuf *b)
{
    wakeup(b);
    object_signals_changed();
}

static void set_waiting(struct ksbuf *b, uint32_t v)
{
    b->waiting = v;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        if (b->cons[c] != 0)
            ksbuf_prod_ctl(b->cons[c])->prod_waiting = v;
}

static void evict(struct ksbuf *b, uint32_t pos)
{
    (void)cm__sbuf_own_evict(&b->own, pos, 0);
    ksbuf_prod_ctl(b->cons[pos])->state = CM_SBUF_CTL_EVICTED;
    ksbuf_wake_consumer(b->cons[pos]);
    ksbuf_wake_producer(b);
}

/* Accounts consumer pos's receives and releases (docs/sbuf.md "Reap"):
 * every value loaded from its area is checked by core; a bad one evicts. */
void ksbuf_reap(struct ksbuf *b, uint32_t pos)
{
    if (((b->own.active >> pos) & 1u) == 0)
        return;
    struct ksbuf_cons *c = b->cons[pos];
    const volatile struct cm_sbuf_cons_ctl *k = ksbuf_cons_ctl(c);
    uint64_t r1 = k->read, t = k->rel_tail, r2 = k->read;
    uint32_t nrel = 0;
    if (cm__sbuf_own_reap_begin(&b->own, pos, r1, t, r2, &nrel) != CM_OK) {
        evict(b, pos);
        return;
    }
    for (uint32_t i = 0; i < nrel; i++) {
        uint64_t cell = cm__sbuf_cell(b->own.peers[pos].rel_head, b->lay.ring_size);
        const volatile struct cm_sbuf_rel *e =
            vmo_kptr(c->cons, sizeof(struct cm_sbuf_cons_ctl) + cell * sizeof(struct cm_sbuf_rel));
        struct cm_sbuf_rel copy = { e->seq, e->slot, e->reserved };
        if (cm__sbuf_own_reap_release(&b->own, pos, &copy, 0) != CM_OK) {
            evict(b, pos);
            return;
        }
    }
    if (cm__sbuf_own_reap_end(&b->own, pos) != CM_OK) {
        evict(b, pos);
        return;
    }
    ksbuf_prod_ctl(c)->rel_head = b->own.peers[pos].rel_head;
}

static void reap_all(struct ksbuf *b)
{
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        ksbuf_reap(b, c);
}

/* DROP_OLDEST: takes pending messages back, oldest first, until a slot is
 * FREE or nothing is pending. The compare and store on `read` cannot race
 * the consumer (one hart, kernel not preempted). A consumer whose read is
 * not the entry received it: reap it; if the same entry is still its
 * oldest pending after that, read moved away and back (hostile): evict. */
static void take_back(struct ksbuf *b)
{
    while (b->own.free == 0) {
        uint32_t c, c2;
        uint64_t idx, idx2;
        if (cm__sbuf_own_drop_candidate(&b->own, &c, &idx) != CM_OK)
            return;
        volatile struct cm_sbuf_cons_ctl *k = ksbuf_cons_ctl(b->cons[c]);
        if (k->read == idx) {
            k->read = idx + 1;
            (void)cm__sbuf_own_dropped(&b->own, c, idx, 0);
            continue;
        }
        ksbuf_reap(b, c);
        if (((b->own.active >> c) & 1u) && cm__sbuf_own_drop_candidate(&b->own, &c2, &idx2) == CM_OK &&
            c2 == c && idx2 == idx)
            evict(b, c);
    }
}

static cm_status_t try_loan(struct ksbuf *b, uint64_t *id, uint32_t *slot)
{
    cm_status_t st = cm__sbuf_own_loan(&b->own, id, slot);
    if (st == CM_ERR_SHOULD_WAIT) {
        reap_all(b);
        if (b->cfg.policy == CM_SBUF_DROP_OLDEST)
            take_back(b);
        st = cm__sbuf_own_loan(&b->own, id, slot);
    }
    return st;
}

static int any_consumer(const struct ksbuf *b)
{
    for (uint32_t i = 0; i < b->cfg.max_consumers; i++)
        if (b->cons[i] != 0)
            return 1;
    return 0;
}

void ksbuf_consumer_left(struct ksbuf *b, uint32_t pos)
{
    (void)cm__sbuf_own_leave(&b->own, pos, 0);
    b->cons[pos] = 0;
    if (b->gone) {
        if (!any_consumer(b))
            b->lingering = 0; /* the last one: the pool entry is free */
        return;
    }
    ksbuf_wake_producer(b);
}

void ksbuf_destroy(struct ksbuf *b)
{
    /* The producer is gone: consumers drain, then PEER_CLOSED. The
     * bookkeeping stays (frozen: nothing loans or publishes any more; a
     * slot loaned at the death stays LOANED, so no consumer can copy it)
     * until the last consumer leaves. */
    b->gone = 1;
    for (uint32_t i = 0; i < b->cfg.max_consumers; i++) {
        struct ksbuf_cons *c = b->cons[i];
        if (c == 0)
            continue;
        struct cm_sbuf_prod_ctl *p = ksbuf_prod_ctl(c);
        if (p->state == CM_SBUF_CTL_OPEN)
            p->state = CM_SBUF_CTL_CLOSED;
        p->prod_waiting = 0;
        ksbuf_wake_consumer(c);
    }
    b->waiting = 0;
    b->lingering = any_consumer(b);
    ksbuf_unmap(&b->pmap);
    kobj_unref(&b->data->obj);
    b->data = 0;
    object_signals_changed();
}

/* WRITABLE: a loan with timeout 0 would succeed. Computing it reaps (the
 * producer's bookkeeping catches up with the consumers' rings) and, when
 * not writable, asks consumers to report their releases (prod_waiting), so
 * an object waiter is woken as a sleeping loan would be. */
cm_signals_t ksbuf_signals(struct ksbuf *b)
{
    if (b->own.loaned >= b->cfg.max_loans)
        return 0;
    if (b->own.free == 0)
        reap_all(b);
    if (b->own.free > 0 || b->cfg.policy == CM_SBUF_DROP_OLDEST)
        return CM_SIGNAL_WRITABLE;
    set_waiting(b, 1);
    return 0;
}

static int out_ok(struct proc *p, uint64_t uva, uint64_t len)
{
    return uva != 0 && user_range_ok(p, uva, len, 1);
}

int64_t sys_sbuf_create(struct proc *p, const uint64_t *a)
{
    cm_sbuf_config_t cfg;
    struct cm_sbuf_layout lay;
    if (a[0] == 0 || copyin(p, &cfg, a[0], sizeof(cfg)) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__sbuf_config_check(&cfg, out_ok(p, a[1], sizeof(cm_handle_t)));
    if (st == CM_OK)
        st = cm__sbuf_layout(&cfg, &lay);
    if (st != CM_OK)
        return st;
    struct ksbuf *b = slot_free();
    if (handles_free(p) == 0 || b == 0)
        return CM_ERR_NO_RESOURCES;
    if ((st = kobj_charge(p->acct, CM_OBJ_SBUF)) != CM_OK)
        return st;
    struct vmo *data;
    if ((st = vmo_make(lay.data_size, p->acct, &data)) != CM_OK) {
        kobj_uncharge(p->acct, CM_OBJ_SBUF);
        return st;
    }
    memset(b, 0, offsetof(struct ksbuf, slots));
    if (cm__sbuf_own_init(&b->own, b->slots, b->peers, b->mirror, &cfg, 0, 0,
                          (uint32_t)(data->obj.id * 2654435761u)) != CM_OK)
        panic("sbuf: checked configuration refused");
    kobj_init(&b->obj, CM_OBJ_SBUF, p->acct);
    b->cfg = cfg;
    b->lay = lay;
    b->data = data;
    st = handle_publish(p, &b->obj, CM_SBUF_DEFAULT_RIGHTS, a[1], 0);
    if (st != CM_OK)
        kobj_unref(&b->obj);
    return st;
}

static cm_status_t get_buf(struct proc *p, uint64_t h, cm_rights_t need, struct ksbuf **b)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_SBUF, need, &o, 0);
    if (st == CM_OK)
        *b = (struct ksbuf *)o;
    return st;
}

/* (buffer, flags, timeout_ns, *cmk_sbuf_loan_out) */
int64_t sys_sbuf_loan(struct proc *p, const uint64_t *a)
{
    uint64_t deadline;
    cm_status_t ast = cm__sbuf_loan_check_args(out_ok(p, a[3], sizeof(cmk_sbuf_loan_out_t)),
                                               a[1] > UINT32_MAX ? ~0u : (uint32_t)a[1]);
    if (ast != CM_OK)
        return ast;
    cm_status_t st = sleep_deadline((int64_t)a[2], &deadline);
    struct ksbuf *b;
    if (st == CM_OK)
        st = get_buf(p, a[0], CM_RIGHT_WRITE, &b);
    if (st != CM_OK)
        return st;
    const int busy = (a[1] & CM_SBUF_BUSY_POLL) != 0;
    cmk_sbuf_loan_out_t out = { 0, 0, 0 };
    for (;;) {
        st = try_loan(b, &out.id, &out.slot);
        if (st != CM_ERR_SHOULD_WAIT || (int64_t)a[2] == 0)
            break;
        if (sleep_deadline_passed(deadline)) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        if (busy) {
            yield();
            continue;
        }
        set_waiting(b, 1);
        sleep_on(b, deadline);
    }
    if (b->waiting)
        set_waiting(b, 0);
    /* The out pointer was probed before the sleep, but memory can vanish
     * during one: a consumer object dying or attaching elsewhere unmaps
     * the mappings it made in this process. Then the loan is undone. */
    if (st == CM_OK && copyout(p, a[3], &out, sizeof(out)) != CM_OK) {
        (void)cm__sbuf_own_cancel(&b->own, out.id);
        ksbuf_wake_producer(b);
        st = CM_ERR_INVALID_ARGS;
    }
    return st;
}

/* (buffer, loan_id, len, *seq) */
int64_t sys_sbuf_publish(struct proc *p, const uint64_t *a)
{
    struct ksbuf *b;
    cm_status_t st = get_buf(p, a[0], CM_RIGHT_WRITE, &b);
    if (st != CM_OK)
        return st;
    if (a[3] != 0 && !user_range_ok(p, a[3], sizeof(uint64_t), 1))
        return CM_ERR_INVALID_ARGS;
    uint64_t seq;
    uint32_t slot, to = 0;
    uint32_t len = a[2] > UINT32_MAX ? UINT32_MAX : (uint32_t)a[2];
    st = cm__sbuf_own_publish(&b->own, a[1], len, &seq, &slot, &to);
    if (st != CM_OK)
        return st;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
        if (((to >> c) & 1u) == 0)
            continue;
        struct ksbuf_cons *k = b->cons[c];
        uint64_t tail = b->own.peers[c].tail;
        uint64_t cell = cm__sbuf_cell(tail - 1, b->lay.ring_size);
        struct cm_sbuf_desc *d =
            vmo_kptr(k->prod, sizeof(struct cm_sbuf_prod_ctl) + cell * sizeof(struct cm_sbuf_desc));
        *d = (struct cm_sbuf_desc){ seq, slot, len };
        ksbuf_prod_ctl(k)->tail = tail;
        ksbuf_wake_consumer(k);
    }
    if (to == 0)
        ksbuf_wake_producer(b); /* the slot is FREE again */
    if (a[3] != 0 && copyout(p, a[3], &seq, sizeof(seq)) != CM_OK)
        panic("sbuf_publish: probed copyout failed");
    return CM_OK;
}

/* (buffer, loan_id) */
int64_t sys_sbuf_cancel(struct proc *p, const uint64_t *a)
{
    struct ksbuf *b;
    cm_status_t st = get_buf(p, a[0], CM_RIGHT_WRITE, &b);
    if (st == CM_OK)
        st = cm__sbuf_own_cancel(&b->own, a[1]);
    if (st == CM_OK)
        ksbuf_wake_producer(b);
    return st;
}

/* (buffer, *cm_sbuf_info_t): the producer's bookkeeping after a reap. */
int64_t sys_sbuf_get_info(struct proc *p, const uint64_t *a)
{
    static cm_sbuf_info_t info; /* 700 bytes: off the kernel stack; one hart */
    if (!out_ok(p, a[1], sizeof(info)))
        return CM_ERR_INVALID_ARGS;
    struct ksbuf *b;
    cm_status_t st = get_buf(p, a[0], 0, &b);
    if (st != CM_OK)
        return st;
    reap_all(b);
    memset(&info, 0, sizeof(info));
    info.config = b->cfg;
    info.free = b->own.free;
    info.loaned = b->own.loaned;
    info.published = b->own.published;
    info.self = UINT32_MAX;
    info.next_seq = b->own.next_seq;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
        const struct cm_sbuf_peer *pe = &b->own.peers[c];
        cm_sbuf_consumer_info_t *ci = &info.consumers[c];
        ci->state = pe->state == CM_SBUF_PEER_ACTIVE    ? CM_SBUF_CONSUMER_ACTIVE
                    : pe->state == CM_SBUF_PEER_EVICTED ? CM_SBUF_CONSUMER_EVICTED
                                                        : CM_SBUF_CONSUMER_ABSENT;
        if (pe->state == CM_SBUF_PEER_ABSENT)
            continue;
        ci->held = pe->held;
        ci->pending = pe->pending;
        ci->received = pe->received;
        ci->released = pe->released;
        ci->dropped = pe->dropped;
    }
    return copyout(p, a[1], &info, sizeof(info));
}
