/* SPDX-License-Identifier: MIT */
/* SharedBuffer, the consumer object and the calls that serve the user
 * runtime's receive path (user/sbuf.c; docs/sbuf.md "Kernel target").
 *
 * Receiving and releasing happen in user space, on the consumer's own
 * mappings, through core/sbuf_cons.c: no system call while messages are
 * waiting. The kernel makes the consumer (two area VMOs, a position in the
 * producer's bookkeeping), maps its areas (sbuf_attach), is told of a
 * release when a loan sleeps on one (sbuf_kick), copies for a consumer
 * that may not map (sbuf_copy), and runs leave when the consumer dies. */
#include "ksbuf.h"

#include <string.h>

#include "as.h"
#include "console.h"
#include "khandle.h"
#include "objwait.h"
#include "proc.h"
#include "rights.h"
#include "syscall.h"
#include "usercopy.h"
#include "vmo.h"

static struct ksbuf_cons pool[KOBJ_MAX_SBUF_CONSUMERS];

static struct ksbuf_cons *slot_free(void)
{
    for (uint32_t i = 0; i < KOBJ_MAX_SBUF_CONSUMERS; i++)
        if (pool[i].obj.type == CM_OBJ_NONE)
            return &pool[i];
    return 0;
}

cm_status_t ksbuf_map(struct proc *p, struct vmo *v, uint64_t len, int writable,
                      struct ksbuf_map *m)
{
    if (p->as.nmaps >= CM_MAX_MAPPINGS ||
        len > CMK_MAX_MAPPED_BYTES - p->as.mapped_bytes)
        return CM_ERR_NO_RESOURCES;
    uint64_t va;
    cm_status_t st = as_map_vmo(&p->as, v, 0, len, writable, &va);
    if (st != CM_OK)
        return st;
    *m = (struct ksbuf_map){ p->pid, va, len, v };
    return CM_OK;
}

static struct mapping *still_mapped(const struct ksbuf_map *m, struct proc **pp)
{
    if (m->pid == 0)
        return 0;
    struct proc *p = proc_by_pid(m->pid);
    if (p == 0)
        return 0;
    struct mapping *found = as_find_mapping(&p->as, m->va, m->len);
    if (found == 0 || found->vmo != m->vmo)
        return 0;
    *pp = p;
    return found;
}

void ksbuf_unmap(struct ksbuf_map *m)
{
    struct proc *p;
    struct mapping *found = still_mapped(m, &p);
    if (found != 0)
        as_unmap(&p->as, found);
    *m = (struct ksbuf_map){ 0, 0, 0, 0 };
}

static int revoke_pending;

void ksbuf_handle_dropped(void)
{
    revoke_pending = 1;
}

/* Whether q still holds a handle to o with every right in `need`. */
static int holds(const struct proc *q, const struct kobj *o, cm_rights_t need)
{
    for (uint32_t i = 0; i < CM_MAX_HANDLES; i++) {
        const struct cm_htab_entry *e = &q->hentries[i];
        if (e->object == o && e->type != CM_OBJ_NONE && (e->rights & need) == need)
            return 1;
    }
    return 0;
}

static void revoke_map(struct ksbuf_map *m, const struct kobj *o, cm_rights_t need)
{
    struct proc *q;
    if (still_mapped(m, &q) != 0 && !holds(q, o, need))
        ksbuf_unmap(m);
}

void ksbuf_revoke(void)
{
    if (!revoke_pending)
        return;
    revoke_pending = 0;
    for (uint32_t i = 0; i < KOBJ_MAX_SBUF_CONSUMERS; i++) {
        struct ksbuf_cons *c = &pool[i];
        if (c->obj.type != CM_OBJ_SBUF_CONSUMER)
            continue;
        revoke_map(&c->maps[0], &c->obj, CM_RIGHT_MAP);
        revoke_map(&c->maps[1], &c->obj, 0);
        revoke_map(&c->maps[2], &c->obj, 0);
    }
    ksbuf_revoke_buffers();
}

void ksbuf_revoke_buffer(struct ksbuf *b)
{
    revoke_map(&b->pmap, &b->obj, CM_RIGHT_WRITE);
}

void ksbuf_cons_destroy(struct ksbuf_cons *c)
{
    if (c->buf != 0)
        ksbuf_consumer_left(c->buf, c->pos);
    c->buf = 0;
    for (uint32_t i = 0; i < 3; i++)
        ksbuf_unmap(&c->maps[i]);
    kobj_unref(&c->data->obj);
    kobj_unref(&c->prod->obj);
    kobj_unref(&c->cons->obj);
    c->data = c->prod = c->cons = 0;
}

cm_signals_t ksbuf_cons_signals(const struct ksbuf_cons *c)
{
    const volatile struct cm_sbuf_prod_ctl *p = ksbuf_prod_ctl(c);
    const volatile struct cm_sbuf_cons_ctl *k = ksbuf_cons_ctl(c);
    cm_signals_t s = 0;
    if (p->state == CM_SBUF_CTL_EVICTED)
        return CM_SIGNAL_PEER_CLOSED; /* its entries were reclaimed */
    if (p->tail != k->read)
        s |= CM_SIGNAL_READABLE;
    if (p->state != CM_SBUF_CTL_OPEN)
        s |= CM_SIGNAL_PEER_CLOSED;
    return s;
}

/* (buffer, rights, *out) */
int64_t sys_sbuf_consumer_create(struct proc *p, const uint64_t *a)
{
    cm_rights_t want = rights_arg(a[1]);
    if (a[2] == 0 || !user_range_ok(p, a[2], sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    cm_rights_t rights;
    if (cm__rights_derive(CM_SBUF_CONSUMER_DEFAULT_RIGHTS, want, &rights) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(a[0]), CM_OBJ_SBUF, CM_RIGHT_READ, &o, 0);
    if (st != CM_OK)
        return st;
    struct ksbuf *b = (struct ksbuf *)o;
    struct ksbuf_cons *c = slot_free();
    if (c == 0 || handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    /* A position first: NO_RESOURCES at max_consumers, nothing made. */
    uint32_t pos;
    if ((st = cm__sbuf_own_join(&b->own, &pos)) != CM_OK)
        return st;
    struct vmo *prod = 0, *cons = 0;
    st = kobj_charge(p->acct, CM_OBJ_SBUF_CONSUMER);
    int charged = st == CM_OK;
    if (st == CM_OK)
        st = vmo_make(b->lay.prod_area_size, p->acct, &prod);
    if (st == CM_OK)
        st = vmo_make(b->lay.cons_area_size, p->acct, &cons);
    if (st != CM_OK) {
        if (prod != 0)
            kobj_unref(&prod->obj);
        if (charged)
            kobj_uncharge(p->acct, CM_OBJ_SBUF_CONSUMER);
        (void)cm__sbuf_own_leave(&b->own, pos, 0);
        return st;
    }
    memset(c, 0, sizeof(*c));
    kobj_init(&c->obj, CM_OBJ_SBUF_CONSUMER, p->acct);
    c->buf = b;
    c->pos = pos;
    c->cfg = b->cfg;
    c->lay = b->lay;
    c->data = b->data;
    kobj_ref(&b->data->obj);
    c->prod = prod;
    c->cons = cons;
    struct cm_sbuf_prod_ctl *pc = ksbuf_prod_ctl(c);
    pc->tail = b->own.peers[pos].tail;
    pc->rel_head = b->own.peers[pos].rel_head;
    pc->join_seq = b->own.peers[pos].join_seq;
    pc->index_base = b->own.index_base;
    pc->prod_waiting = b->waiting;
    pc->state = CM_SBUF_CTL_OPEN;
    struct cm_sbuf_cons_ctl *kc = ksbuf_cons_ctl(c);
    kc->read = b->own.index_base;
    kc->rel_tail = b->own.index_base;
    b->cons[pos] = c;
    st = handle_publish(p, &c->obj, rights, a[2], 0);
    if (st != CM_OK)
        kobj_unref(&c->obj); /* destroy runs leave */
    return st;
}

/* (h, *cmk_sbuf_attach_t): maps what the caller's role needs (once per
 * object and process) and describes it. */
int64_t sys_sbuf_attach(struct proc *p, const uint64_t *a)
{
    cmk_sbuf_attach_t at;
    if (a[1] == 0 || !user_range_ok(p, a[1], sizeof(at), 1))
        return CM_ERR_INVALID_ARGS;
    struct kobj *o;
    cm_rights_t rights;
    cm_status_t st = handle_get(p, handle_arg(a[0]), CM_OBJ_NONE, 0, &o, &rights);
    if (st != CM_OK)
        return st;
    memset(&at, 0, sizeof(at));
    struct proc *q;
    if (o->type == CM_OBJ_SBUF) {
        struct ksbuf *b = (struct ksbuf *)o;
        if (!cm__rights_has(rights, CM_RIGHT_WRITE))
            return CM_ERR_ACCESS_DENIED;
        if (still_mapped(&b->pmap, &q) == 0 || q != p) {
            ksbuf_unmap(&b->pmap);
            if ((st = ksbuf_map(p, b->data, b->lay.data_size, 1, &b->pmap)) != CM_OK)
                return st;
        }
        at.config = b->cfg;
        at.data = b->pmap.va;
        at.pos = UINT32_MAX;
    } else if (o->type == CM_OBJ_SBUF_CONSUMER) {
        struct ksbuf_cons *c = (struct ksbuf_cons *)o;
        struct vmo *v[3] = { c->data, c->prod, c->cons };
        uint64_t len[3] = { c->lay.data_size, c->lay.prod_area_size, c->lay.cons_area_size };
        int want[3] = { cm__rights_has(rights, CM_RIGHT_MAP), 1, 1 };
        for (uint32_t i = 0; i < 3; i++) {
            if (!want[i] || (still_mapped(&c->maps[i], &q) != 0 && q == p))
                continue;
            ksbuf_unmap(&c->maps[i]); /* another process's, if any */
            if ((st = ksbuf_map(p, v[i], len[i], i == 2, &c->maps[i])) != CM_OK)
                return st;
        }
        at.config = c->cfg;
        at.data = want[0] ? c->maps[0].va : 0;
        at.prod = c->maps[1].va;
        at.cons = c->maps[2].va;
        at.pos = c->pos;
    } else {
        return CM_ERR_WRONG_TYPE;
    }
    if (copyout(p, a[1], &at, sizeof(at)) != CM_OK)
        panic("sbuf_attach: probed copyout failed");
    return CM_OK;
}

static cm_status_t get_cons(struct proc *p, uint64_t h, cm_rights_t need, struct ksbuf_cons **c)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_SBUF_CONSUMER, need, &o, 0);
    if (st == CM_OK)
        *c = (struct ksbuf_cons *)o;
    return st;
}

/* (consumer): a release was written while the producer sleeps. */
int64_t sys_sbuf_kick(struct proc *p, const uint64_t *a)
{
    struct ksbuf_cons *c;
    cm_status_t st = get_cons(p, a[0], CM_RIGHT_READ, &c);
    if (st == CM_OK && c->buf != 0 && !c->buf->gone)
        ksbuf_wake_producer(c->buf);
    return st;
}

/* (consumer, seq, slot, *buf, len): copies a message this consumer
 * received into buf, for a handle without MAP. The slot must be one this
 * consumer holds with that seq (after a reap), whether or not the producer
 * still lives: the bookkeeping outlives it (ksbuf.h "Lifetime"), so a
 * message published before this consumer joined, or a slot the producer
 * was still filling when it died, is never copied out. */
int64_t sys_sbuf_copy(struct proc *p, const uint64_t *a)
{
    struct ksbuf_cons *c;
    cm_status_t st = get_cons(p, a[0], CM_RIGHT_READ, &c);
    if (st != CM_OK)
        return st;
    uint64_t seq = a[1], slot = a[2], uva = a[3], len = a[4];
    if (slot >= c->cfg.slot_count || len > c->cfg.slot_size ||
        (len > 0 && !user_range_ok(p, uva, len, 1)))
        return CM_ERR_INVALID_ARGS;
    struct ksbuf *b = c->buf;
    ksbuf_reap(b, c->pos);
    const struct cm_sbuf_slot *s = &b->own.slots[slot];
    if (((b->own.active >> c->pos) & 1u) == 0)
        return CM_ERR_PEER_CLOSED;
    if (s->state != CM_SBUF_SLOT_PUBLISHED || s->seq != seq || ((s->held >> c->pos) & 1u) == 0 ||
        len > s->len)
        return CM_ERR_BAD_STATE;
    uint64_t off = slot * c->lay.stride;
    while (len > 0) {
        uint64_t n = CM_PAGE_SIZE - off % CM_PAGE_SIZE;
        if (n > len)
            n = len;
        if (copyout(p, uva, vmo_kptr(c->data, off), n) != CM_OK)
            return CM_ERR_INVALID_ARGS;
        uva += n;
        off += n;
        len -= n;
    }
    return CM_OK;
}
