/* SPDX-License-Identifier: MIT */
/* SharedBuffer on the kernel target, the user runtime side
 * (include/capmem/sbuf.h; docs/sbuf.md "Kernel target").
 *
 * Producer calls (create, consumer_create, loan, publish, cancel, the
 * buffer's get_info) are system calls: the producer's bookkeeping is in
 * the kernel. Receive and release run here, on the consumer's own
 * mappings (delivery ring read-only, its consumer area read-write),
 * through core/sbuf_cons.c in the order docs/sbuf.md "The protocol"
 * gives; a receive that finds nothing sleeps on its producer area's
 * tail_word with cmk_word_wait (keyed by VMO and offset in the kernel).
 *
 * Per handle the runtime caches its type, rights and mappings (the kernel
 * made the mappings at sbuf_attach). A handle that leaves the table drops
 * its entry (cmk__sbuf_forget, called by close, replace, channel write
 * and spawn), so a cached entry always names a live handle of this
 * process. The consumer's private state (struct cm_sbuf_cons) lives in
 * this process, with a resume record in its own consumer area so that a
 * consumer moved to another process continues where it was (see
 * attach_consumer). */
#include <string.h>

#include "cmk.h"
#include "deadline.h"
#include "riscv_time.h"
#include "sbuf_cons.h"
#include "sbuf_internal.h"
#include "sbuf_ring.h"
#include "sys.h"

#define SBUF_MAX_ATTACHED 32u /* sbuf handles one process uses at once */
#define TAKE_RETRIES 64u      /* as CM__SBUF_TAKE_RETRIES on host */

struct entry {
    cm_handle_t h;          /* CM_HANDLE_INVALID: free */
    uint32_t type;
    cm_rights_t rights;
    int attached;
    cmk_sbuf_attach_t at;
    struct cm_sbuf_layout lay;
    /* consumer */
    struct cm_sbuf_cons cs;
    void *holds_va;
    uint64_t holds_len;
};

static struct entry table[SBUF_MAX_ATTACHED];

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

int cmk__sbuf_cached(void)
{
    for (uint32_t i = 0; i < SBUF_MAX_ATTACHED; i++)
        if (table[i].type != CM_OBJ_NONE)
            return 1;
    return 0;
}

void cmk__sbuf_forget(cm_handle_t h)
{
    for (uint32_t i = 0; i < SBUF_MAX_ATTACHED; i++) {
        struct entry *e = &table[i];
        if (e->h != h || e->type == CM_OBJ_NONE)
            continue;
        if (e->holds_va != NULL)
            (void)cm_vmo_unmap(e->holds_va, e->holds_len);
        memset(e, 0, sizeof(*e));
    }
}

/* Stages 2 and 3 of docs/api.md for h: BAD_HANDLE, WRONG_TYPE (type, or
 * either SharedBuffer type when `type` is CM_OBJ_NONE), ACCESS_DENIED. */
static cm_status_t lookup(cm_handle_t h, uint32_t type, cm_rights_t need, struct entry **out)
{
    struct entry *e = NULL, *free_e = NULL;
    for (uint32_t i = 0; i < SBUF_MAX_ATTACHED && e == NULL; i++) {
        if (table[i].type != CM_OBJ_NONE && table[i].h == h)
            e = &table[i];
        else if (table[i].type == CM_OBJ_NONE && free_e == NULL)
            free_e = &table[i];
    }
    if (e == NULL) {
        cm_handle_info_t info;
        cm_status_t st = cm_handle_get_info(h, &info);
        if (st != CM_OK)
            return st;
        if (info.type != CM_OBJ_SBUF && info.type != CM_OBJ_SBUF_CONSUMER)
            return CM_ERR_WRONG_TYPE;
        if ((type != CM_OBJ_NONE && info.type != type))
            return CM_ERR_WRONG_TYPE;
        if ((info.rights & need) != need)
            return CM_ERR_ACCESS_DENIED;
        if (free_e == NULL)
            return CM_ERR_NO_RESOURCES;
        e = free_e;
        memset(e, 0, sizeof(*e));
        e->h = h;
        e->type = info.type;
        e->rights = info.rights;
    }
    if (type != CM_OBJ_NONE && e->type != type)
        return CM_ERR_WRONG_TYPE;
    if ((e->rights & need) != need)
        return CM_ERR_ACCESS_DENIED;
    *out = e;
    return CM_OK;
}

static struct cm_sbuf_prod_ctl *prod_of(const struct entry *e)
{
    return (struct cm_sbuf_prod_ctl *)(uintptr_t)e->at.prod;
}

static struct cm_sbuf_cons_ctl *cons_of(const struct entry *e)
{
    return (struct cm_sbuf_cons_ctl *)(uintptr_t)e->at.cons;
}

/* The consumer's resume record: the last 64 bytes of its own consumer
 * area, past the release ring (64 + 16 x ring_size is never a multiple of
 * the page, so at least 1984 bytes are always spare there). Only the
 * processes that held this consumer write it; the kernel never reads it.
 * It carries the consumer's own position (where its next claim is, before
 * any take-back moved the shared `read`) and its counters, so that a
 * consumer handle moved to another process resumes exactly: the first
 * receive there still reports the take-backs that happened meanwhile. */
struct resume {
    uint64_t magic;
    uint64_t read, received, released, dropped;
};
#define RESUME_MAGIC 0x63736275666b7273ull

static struct resume *resume_of(const struct entry *e)
{
    if (e->lay.cons_area_size - 64 < sizeof(struct cm_sbuf_cons_ctl) +
                                         (uint64_t)e->lay.ring_size * sizeof(struct cm_sbuf_rel))
        return NULL;
    return (struct resume *)(uintptr_t)(e->at.cons + e->lay.cons_area_size - 64);
}

static void save_resume(const struct entry *e)
{
    struct resume *r = resume_of(e);
    if (r == NULL)
        return;
    *r = (struct resume){ RESUME_MAGIC, e->cs.read, e->cs.received, e->cs.released,
                          e->cs.dropped };
}

/* Delivery index i carries sequence number join_seq + (i - index_base)
 * (every message published after the join is delivered to this consumer,
 * and a take-back moves read past its entry), so the private state can be
 * rebuilt at any index: at the resume record's position if there is one
 * (a record written by another process is that process's word: a false one
 * only breaks this consumer, PROTOCOL from core's checks), else at the
 * shared `read`. Messages the consumer held in the previous process stay
 * held until it leaves (docs/sbuf.md "Kernel target"). */
static cm_status_t attach_consumer(struct entry *e)
{
    const struct cm_sbuf_prod_ctl *p = prod_of(e);
    const struct cm_sbuf_cons_ctl *k = cons_of(e);
    cm_sbuf_config_t cfg = e->at.config;
    if (cm__sbuf_layout(&cfg, &e->lay) != CM_OK)
        return CM_ERR_PROTOCOL;
    cm_handle_t hv;
    e->holds_len = (uint64_t)cfg.max_held * sizeof(struct cm_sbuf_hold);
    cm_status_t st = cm_vmo_create(e->holds_len, 0, &hv);
    if (st != CM_OK)
        return st;
    st = cm_vmo_map(hv, 0, e->holds_len, CM_MAP_READ | CM_MAP_WRITE, &e->holds_va);
    cm_handle_close(hv);
    if (st != CM_OK) {
        e->holds_va = NULL;
        return st;
    }
    const struct resume *r = resume_of(e);
    struct resume rec = { 0, 0, 0, 0, 0 };
    if (r != NULL)
        rec = *r;
    uint64_t read = rec.magic == RESUME_MAGIC ? rec.read : LOAD(&k->read);
    uint64_t base = LOAD(&p->index_base);
    st = cm__sbuf_cons_init(&e->cs, e->holds_va, &cfg, LOAD(&p->join_seq) + (read - base), read);
    if (st != CM_OK)
        return st;
    e->cs.rel_tail = LOAD(&k->rel_tail);
    if (rec.magic == RESUME_MAGIC) {
        e->cs.received = rec.received;
        e->cs.released = rec.released;
        e->cs.dropped = rec.dropped;
    }
    save_resume(e);
    return CM_OK;
}

static cm_status_t attach(struct entry *e)
{
    if (e->attached)
        return CM_OK;
    cm_status_t st = (cm_status_t)CMK_SYS2(CMK_SYS_SBUF_ATTACH, e->h, &e->at);
    if (st == CM_OK && e->type == CM_OBJ_SBUF_CONSUMER)
        st = attach_consumer(e);
    else if (st == CM_OK && cm__sbuf_layout(&e->at.config, &e->lay) != CM_OK)
        st = CM_ERR_INTERNAL;
    if (st != CM_OK) {
        if (e->holds_va != NULL)
            (void)cm_vmo_unmap(e->holds_va, e->holds_len);
        e->holds_va = NULL;
        return st;
    }
    e->attached = 1;
    return CM_OK;
}

/* ---- producer ---- */

cm_status_t cm_sbuf_create(const cm_sbuf_config_t *config, cm_handle_t *buffer)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, config, buffer);
}

cm_status_t cm_sbuf_consumer_create(cm_handle_t buffer, cm_rights_t rights,
                                    cm_handle_t *consumer)
{
    cm_status_t st =
        (cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, buffer, rights, consumer);
    if (st != CM_OK)
        return st;
    /* Attached at once: its private position starts at the join, so the
     * messages taken back before its first receive count as dropped. */
    struct entry *e;
    st = lookup(*consumer, CM_OBJ_SBUF_CONSUMER, 0, &e);
    if (st == CM_OK)
        st = attach(e);
    if (st != CM_OK) {
        (void)cm_handle_close(*consumer);
        *consumer = CM_HANDLE_INVALID;
    }
    return st;
}

cm_status_t cm_sbuf_loan(cm_handle_t buffer, uint32_t flags, int64_t timeout_ns,
                         cm_sbuf_loan_t *loan)
{
    cmk_sbuf_loan_out_t out;
    if (loan == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = (cm_status_t)CMK_SYS4(CMK_SYS_SBUF_LOAN, buffer, flags, timeout_ns, &out);
    if (st != CM_OK)
        return st;
    struct entry *e;
    st = lookup(buffer, CM_OBJ_SBUF, CM_RIGHT_WRITE, &e);
    if (st == CM_OK)
        st = attach(e);
    if (st != CM_OK) {
        (void)cm_sbuf_cancel(buffer, out.id);
        return st;
    }
    loan->id = out.id;
    loan->data = (uint8_t *)(uintptr_t)e->at.data + (uint64_t)out.slot * e->lay.stride;
    loan->capacity = e->at.config.slot_size;
    loan->reserved = 0;
    return CM_OK;
}

cm_status_t cm_sbuf_publish(cm_handle_t buffer, uint64_t loan_id, uint32_t len, uint64_t *seq)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, buffer, loan_id, len, seq);
}

cm_status_t cm_sbuf_cancel(cm_handle_t buffer, uint64_t loan_id)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CANCEL, buffer, loan_id);
}

/* ---- consumer ---- */

/* One receive attempt (host/sbuf_consumer.c take(), without its lock and
 * socket: one thread per process). */
static cm_status_t take(struct entry *e, uint32_t cap, cm_sbuf_msg_t *msg,
                        struct cm_sbuf_desc *got, int *contended)
{
    const struct cm_sbuf_prod_ctl *p = prod_of(e);
    struct cm_sbuf_cons_ctl *k = cons_of(e);
    const struct cm_sbuf_desc *ring = (const struct cm_sbuf_desc *)(p + 1);
    *contended = 0;
    for (uint32_t round = 0;; round++) {
        if (round == TAKE_RETRIES) {
            *contended = 1;
            return CM_ERR_SHOULD_WAIT;
        }
        uint32_t state = LOAD(&p->state);
        if (state == CM_SBUF_CTL_EVICTED && !e->cs.broken)
            return CM_ERR_PEER_CLOSED;
        cm_status_t st = cm__sbuf_cons_can_receive(&e->cs);
        if (st != CM_OK)
            return st;
        uint64_t r = LOAD(&k->read);
        uint64_t t = LOAD(&p->tail);
        if (e->cs.policy == CM_SBUF_DROP_OLDEST && LOAD(&k->read) != r)
            continue;
        st = cm__sbuf_cons_poll(&e->cs, r, t);
        if (st == CM_ERR_SHOULD_WAIT && state == CM_SBUF_CTL_CLOSED)
            return CM_ERR_PEER_CLOSED;
        if (st != CM_OK)
            return st;
        const struct cm_sbuf_desc *c = &ring[cm__sbuf_cell(r, e->lay.ring_size)];
        struct cm_sbuf_desc d = { __atomic_load_n(&c->seq, __ATOMIC_RELAXED),
                                  __atomic_load_n(&c->slot, __ATOMIC_RELAXED),
                                  __atomic_load_n(&c->len, __ATOMIC_RELAXED) };
        uint64_t gap = 0;
        if (e->cs.policy == CM_SBUF_BLOCK) {
            if ((st = cm__sbuf_cons_check(&e->cs, &d, r, &gap)) != CM_OK)
                return st;
            if (d.len > cap) {
                msg->len = d.len;
                return CM_ERR_BUFFER_TOO_SMALL;
            }
            STORE(&k->read, r + 1);
        } else {
            if (d.len > cap) {
                struct cm_sbuf_cons probe = e->cs;
                st = cm__sbuf_cons_check(&probe, &d, r, NULL);
                if (LOAD(&k->read) != r)
                    continue;
                if (st == CM_OK) {
                    msg->len = d.len;
                    return CM_ERR_BUFFER_TOO_SMALL;
                }
            }
            uint64_t expect = r;
            if (!__atomic_compare_exchange_n(&k->read, &expect, r + 1, 0, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE))
                continue;
            if ((st = cm__sbuf_cons_check(&e->cs, &d, r, &gap)) != CM_OK)
                return st;
        }
        if (cm__sbuf_cons_received(&e->cs, &d, r) != CM_OK)
            return CM_ERR_INTERNAL;
        save_resume(e);
        *got = d;
        msg->data = e->at.data != 0
                        ? (const uint8_t *)(uintptr_t)e->at.data + (uint64_t)d.slot * e->lay.stride
                        : NULL;
        msg->len = d.len;
        msg->reserved = 0;
        msg->seq = d.seq;
        msg->dropped = gap;
        return CM_OK;
    }
}

static cm_status_t do_release(struct entry *e, uint64_t seq)
{
    struct cm_sbuf_prod_ctl *p = prod_of(e);
    struct cm_sbuf_cons_ctl *k = cons_of(e);
    struct cm_sbuf_rel rel;
    uint64_t idx;
    cm_status_t st = cm__sbuf_cons_release(&e->cs, seq, LOAD(&p->rel_head), &rel, &idx);
    if (st != CM_OK)
        return st;
    struct cm_sbuf_rel *ring = (struct cm_sbuf_rel *)(k + 1);
    struct cm_sbuf_rel *c = &ring[cm__sbuf_cell(idx, e->lay.ring_size)];
    __atomic_store_n(&c->seq, rel.seq, __ATOMIC_RELAXED);
    __atomic_store_n(&c->slot, rel.slot, __ATOMIC_RELAXED);
    __atomic_store_n(&c->reserved, rel.reserved, __ATOMIC_RELAXED);
    STORE(&k->rel_tail, idx + 1);
    STORE(&k->rel_word, (uint32_t)(idx + 1));
    save_resume(e);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (LOAD(&p->prod_waiting) != 0)
        (void)CMK_SYS1(CMK_SYS_SBUF_KICK, e->h);
    return CM_OK;
}

/* Copies message d out (from the mapping, or through the kernel for a
 * handle without MAP) and releases it. */
static cm_status_t copy_out(struct entry *e, const struct cm_sbuf_desc *d, void *buf,
                            cm_sbuf_msg_t *msg)
{
    cm_status_t st = CM_OK;
    if (msg->data != NULL)
        memcpy(buf, msg->data, d->len);
    else if (d->len > 0)
        st = (cm_status_t)CMK_SYS5(CMK_SYS_SBUF_COPY, e->h, d->seq, d->slot, buf, d->len);
    msg->data = NULL;
    cm_status_t rs = do_release(e, d->seq);
    return st != CM_OK ? st : rs;
}

static int64_t left_ns(uint64_t deadline)
{
    if (deadline == CM__DEADLINE_NONE)
        return CM_TIMEOUT_INFINITE;
    uint64_t n = cm__deadline_left_ns(deadline, cmk_rdtime_ns());
    return n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

static cm_status_t receive(cm_handle_t h, uint32_t flags, int64_t timeout_ns, int copy,
                           void *buf, uint32_t cap, cm_sbuf_msg_t *msg)
{
    uint64_t deadline;
    cm_status_t ast = cm__sbuf_receive_check_args(msg != NULL, flags, copy, buf != NULL, cap);
    if (ast != CM_OK)
        return ast;
    cm_status_t st = cm__deadline_from_timeout(cmk_rdtime_ns(), timeout_ns, &deadline);
    if (st != CM_OK)
        return st;
    struct entry *e;
    st = lookup(h, CM_OBJ_SBUF_CONSUMER, copy ? CM_RIGHT_READ : CM_RIGHT_READ | CM_RIGHT_MAP, &e);
    if (st == CM_OK)
        st = attach(e);
    if (st != CM_OK)
        return st;
    const int busy = (flags & CM_SBUF_BUSY_POLL) != 0;
    const struct cm_sbuf_prod_ctl *p = prod_of(e);
    struct cm_sbuf_desc d;
    int contended, last = 0;
    for (;;) {
        /* The word before the look: a publish, close or eviction after
         * it changes the word, so the wait below cannot sleep through it. */
        uint32_t w = LOAD(&p->tail_word);
        st = take(e, copy ? cap : UINT32_MAX, msg, &d, &contended);
        if (st == CM_OK && copy)
            st = copy_out(e, &d, buf, msg);
        if (st != CM_ERR_SHOULD_WAIT || timeout_ns == 0)
            break;
        if (last || cm__deadline_passed(deadline, cmk_rdtime_ns())) {
            st = CM_ERR_TIMED_OUT;
            break;
        }
        if (busy || contended) {
            (void)CMK_SYS0(CMK_SYS_YIELD); /* one CPU: let the producer run */
            continue;
        }
        /* One hart: spinning would only delay the producer, so sleep at
         * once. TIMED_OUT: one last look, then TIMED_OUT. */
        if (cmk_word_wait(&p->tail_word, w, left_ns(deadline)) == CM_ERR_TIMED_OUT)
            last = 1;
    }
    return st;
}

cm_status_t cm_sbuf_receive(cm_handle_t consumer, uint32_t flags, int64_t timeout_ns,
                            cm_sbuf_msg_t *msg)
{
    return receive(consumer, flags, timeout_ns, 0, NULL, 0, msg);
}

cm_status_t cm_sbuf_receive_copy(cm_handle_t consumer, uint32_t flags, int64_t timeout_ns,
                                 void *buf, uint32_t buf_cap, cm_sbuf_msg_t *msg)
{
    return receive(consumer, flags, timeout_ns, 1, buf, buf_cap, msg);
}

cm_status_t cm_sbuf_release(cm_handle_t consumer, uint64_t seq)
{
    struct entry *e;
    cm_status_t st = lookup(consumer, CM_OBJ_SBUF_CONSUMER, CM_RIGHT_READ, &e);
    if (st == CM_OK)
        st = attach(e);
    if (st != CM_OK)
        return st;
    return do_release(e, seq);
}

static void consumer_info(struct entry *e, cm_sbuf_info_t *info)
{
    const struct cm_sbuf_prod_ctl *p = prod_of(e);
    const struct cm_sbuf_cons_ctl *k = cons_of(e);
    memset(info, 0, sizeof(*info));
    info->config = e->at.config;
    info->self = e->at.pos;
    cm_sbuf_consumer_info_t *ci = &info->consumers[e->at.pos % CM_SBUF_MAX_CONSUMERS];
    ci->state = LOAD(&p->state) == CM_SBUF_CTL_EVICTED ? CM_SBUF_CONSUMER_EVICTED
                                                       : CM_SBUF_CONSUMER_ACTIVE;
    ci->held = e->cs.held;
    uint64_t pend = LOAD(&p->tail) - LOAD(&k->read);
    ci->pending = pend <= e->lay.ring_size ? (uint32_t)pend : 0;
    ci->received = e->cs.received;
    ci->released = e->cs.released;
    ci->dropped = e->cs.dropped;
}

cm_status_t cm_sbuf_get_info(cm_handle_t handle, cm_sbuf_info_t *info)
{
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    struct entry *e;
    cm_status_t st = lookup(handle, CM_OBJ_NONE, 0, &e);
    if (st != CM_OK)
        return st;
    if (e->type == CM_OBJ_SBUF)
        return (cm_status_t)CMK_SYS2(CMK_SYS_SBUF_GET_INFO, handle, info);
    if ((st = attach(e)) != CM_OK)
        return st;
    consumer_info(e, info);
    return CM_OK;
}
