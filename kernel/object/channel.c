/* Channels: pairs of endpoints carrying bytes plus handles.
 *
 * A queued message holds its bytes in frames and a reference to every
 * object it carries, with the rights the sender's handle had. The receiver
 * gets new handles to the same objects, so what it learns about them (size,
 * seals, rights) comes from the kernel, never from the message bytes.
 *
 * Consume-on-write: every listed live handle (other than the channel
 * itself) leaves the writer's table whatever the outcome; on failure the
 * kernel drops the references. */
#include "channel.h"

#include <capmem/channel.h>
#include <string.h>

#include "console.h"
#include "frame.h"
#include "khandle.h"
#include "proc.h"
#include "riscv.h"
#include "rights.h"
#include "sbi.h"
#include "syscall.h"
#include "usercopy.h"

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

static void msg_free(struct kmsg *m)
{
    for (uint32_t i = 0; i < KMSG_MAX_FRAMES; i++) {
        if (m->frames[i] != 0)
            frame_free(m->frames[i]);
        m->frames[i] = 0;
    }
    for (uint32_t i = 0; i < m->nhandles; i++)
        kobj_unref(m->handles[i].obj);
    m->nhandles = 0;
    m->nbytes = 0;
    m->used = 0;
    msgs_live--;
}

static struct kmsg *dequeue(struct channel *c)
{
    struct kmsg *m = c->queue[c->head];
    c->queue[c->head] = 0;
    c->head = (c->head + 1) % CM_CHANNEL_MAX_QUEUED;
    c->count--;
    return m;
}

void channel_destroy(struct channel *c)
{
    if (c->peer != 0) {
        c->peer->peer = 0;
        wakeup(c->peer);
    }
    c->peer = 0;
    while (c->count > 0)
        msg_free(dequeue(c));
    c->head = 0;
}

int64_t sys_channel_create(struct proc *p, const uint64_t *a)
{
    if (a[0] != 0 || a[1] == 0 || a[2] == 0 ||
        !user_range_ok(p, a[1], sizeof(cm_handle_t), 1) ||
        !user_range_ok(p, a[2], sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    if (handles_free(p) < 2)
        return CM_ERR_NO_RESOURCES;
    struct channel *c0 = chan_slot(0), *c1 = chan_slot(c0);
    if (c0 == 0 || c1 == 0)
        return CM_ERR_NO_RESOURCES;
    kobj_init(&c0->obj, CM_OBJ_CHANNEL);
    kobj_init(&c1->obj, CM_OBJ_CHANNEL);
    c0->peer = c1;
    c1->peer = c0;
    cm_handle_t h0, h1;
    if (handle_install(p, &c0->obj, CM_CHANNEL_DEFAULT_RIGHTS, &h0) != CM_OK ||
        handle_install(p, &c1->obj, CM_CHANNEL_DEFAULT_RIGHTS, &h1) != CM_OK)
        panic("channel_create: validated install failed");
    if (copyout(p, a[1], &h0, sizeof(h0)) != CM_OK || copyout(p, a[2], &h1, sizeof(h1)) != CM_OK)
        panic("channel_create: validated copyout failed");
    return CM_OK;
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

/* Validation of a write whose handle list is in `list`. */
static cm_status_t check_write(struct proc *p, const uint64_t *a, const cm_handle_t *list,
                               uint32_t n, struct channel **out)
{
    struct kobj *o;
    cm_handle_t self = (cm_handle_t)a[0];
    cm_status_t st = handle_get(p, self, CM_OBJ_CHANNEL, CM_RIGHT_WRITE, &o, 0);
    if (st != CM_OK)
        return st;
    struct channel *c = (struct channel *)o;
    uint64_t nbytes = a[2];
    if (nbytes > CM_CHANNEL_MAX_BYTES)
        return CM_ERR_OUT_OF_RANGE;
    if (a[1] == 0 && nbytes > 0)
        return CM_ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < n; i++) {
        if (list[i] == self)
            return CM_ERR_INVALID_ARGS;
        for (uint32_t j = 0; j < i; j++) {
            if (list[j] == list[i])
                return CM_ERR_INVALID_ARGS;
        }
    }
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
        /* The peer endpoint in its own queue would keep itself alive. */
        if (c->peer != 0 && t == &c->peer->obj)
            return CM_ERR_INVALID_ARGS;
    }
    if (c->peer == 0)
        return CM_ERR_PEER_CLOSED;
    if (c->peer->count >= CM_CHANNEL_MAX_QUEUED)
        return CM_ERR_SHOULD_WAIT;
    if (msg_slot() == 0 || (nbytes + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE > frame_free_count())
        return CM_ERR_NO_MEMORY;
    if (!user_range_ok(p, a[1], nbytes, 0))
        return CM_ERR_INVALID_ARGS;
    *out = c;
    return CM_OK;
}

int64_t sys_channel_write(struct proc *p, const uint64_t *a)
{
    cm_handle_t self = (cm_handle_t)a[0];
    cm_handle_t list[CM_CHANNEL_MAX_HANDLES];
    uint64_t nh = a[4];
    uint32_t n = 0;
    cm_status_t st = CM_OK;
    struct channel *c = 0;

    if (nh > CM_CHANNEL_MAX_HANDLES) {
        consume_oversized(p, a[3], nh, self);
        return CM_ERR_OUT_OF_RANGE;
    }
    if (nh > 0 && (a[3] == 0 || copyin(p, list, a[3], nh * sizeof(cm_handle_t)) != CM_OK))
        return CM_ERR_INVALID_ARGS; /* an unreadable list names nothing to consume */
    n = (uint32_t)nh;
    st = check_write(p, a, list, n, &c);

    struct kmsg *m = st == CM_OK ? msg_slot() : 0;
    if (m != 0) {
        m->used = 1;
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
    struct channel *peer = c->peer;
    peer->queue[(peer->head + peer->count) % CM_CHANNEL_MAX_QUEUED] = m;
    peer->count++;
    wakeup(peer);
    return CM_OK;
}

int64_t sys_channel_read(struct proc *p, const uint64_t *a)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, (cm_handle_t)a[0], CM_OBJ_CHANNEL, CM_RIGHT_READ, &o, 0);
    if (st != CM_OK)
        return st;
    struct channel *c = (struct channel *)o;
    uint64_t bytes = a[1], cap = a[2], abytes = a[3], handles = a[4], hcap = a[5], ahandles = a[6];
    if ((abytes != 0 && !user_range_ok(p, abytes, sizeof(uint32_t), 1)) ||
        (ahandles != 0 && !user_range_ok(p, ahandles, sizeof(uint32_t), 1)) ||
        (bytes == 0 && cap > 0) || (handles == 0 && hcap > 0))
        return CM_ERR_INVALID_ARGS;
    if (c->count == 0)
        return c->peer == 0 ? CM_ERR_PEER_CLOSED : CM_ERR_SHOULD_WAIT;
    struct kmsg *m = c->queue[c->head];
    uint32_t nb = m->nbytes, nh = m->nhandles;
    if (cap < nb || hcap < nh) {
        if (abytes != 0)
            copyout(p, abytes, &nb, sizeof(nb));
        if (ahandles != 0)
            copyout(p, ahandles, &nh, sizeof(nh));
        return CM_ERR_BUFFER_TOO_SMALL;
    }
    if (!user_range_ok(p, bytes, nb, 1) ||
        !user_range_ok(p, handles, (uint64_t)nh * sizeof(cm_handle_t), 1))
        return CM_ERR_INVALID_ARGS;
    dequeue(c);
    if (handles_free(p) < nh) {
        msg_free(m);
        return CM_ERR_NO_RESOURCES;
    }
    for (uint32_t off = 0, i = 0; off < nb; off += CM_PAGE_SIZE, i++) {
        uint32_t len = nb - off < CM_PAGE_SIZE ? nb - off : CM_PAGE_SIZE;
        if (copyout(p, bytes + off, (const void *)m->frames[i], len) != CM_OK)
            panic("channel_read: validated copyout failed");
    }
    for (uint32_t i = 0; i < nh; i++) {
        cm_handle_t h;
        if (handle_install(p, m->handles[i].obj, m->handles[i].rights, &h) != CM_OK ||
            copyout(p, handles + i * sizeof(h), &h, sizeof(h)) != CM_OK)
            panic("channel_read: validated install failed");
    }
    /* The references moved into the new handles. */
    m->nhandles = 0;
    msg_free(m);
    if (abytes != 0)
        copyout(p, abytes, &nb, sizeof(nb));
    if (ahandles != 0)
        copyout(p, ahandles, &nh, sizeof(nh));
    return CM_OK;
}

/* Longest finite wait accepted, so the deadline arithmetic cannot wrap. */
#define WAIT_MAX_NS (1ull << 60)

int64_t sys_channel_wait(struct proc *p, const uint64_t *a)
{
    struct kobj *o;
    int64_t timeout = (int64_t)a[1];
    cm_status_t st = handle_get(p, (cm_handle_t)a[0], CM_OBJ_CHANNEL, 0, &o, 0);
    if (st != CM_OK)
        return st;
    /* Any negative timeout is infinite, as on the host. */
    struct channel *c = (struct channel *)o;
    uint64_t deadline = 0;
    if (timeout >= 0) {
        uint64_t ns = (uint64_t)timeout > WAIT_MAX_NS ? WAIT_MAX_NS : (uint64_t)timeout;
        deadline = rdtime() + ns / (1000000000ull / TIMEBASE_HZ);
    }
    for (;;) {
        if (c->count > 0)
            return CM_OK;
        if (c->peer == 0)
            return CM_ERR_PEER_CLOSED;
        if (timeout >= 0 && rdtime() >= deadline)
            return CM_ERR_TIMED_OUT;
        sleep_on(c, deadline);
    }
}
