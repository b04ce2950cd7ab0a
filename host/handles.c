/* SPDX-License-Identifier: MIT */
/* The process-wide handle table of the host library.
 *
 * One core/handle_table with CM_MAX_HANDLES slots, guarded by one mutex.
 * A slot holds one reference on a cm__hobj; lookups hand out an extra
 * reference so a concurrent cm_handle_close cannot free an object that
 * another thread is using. Objects own their file descriptors: destroying
 * the object closes them.
 *
 * Waiting and closing. A blocked call (cm_channel_wait_readable,
 * cm_host_accept) holds a reference, not a handle, so it must not keep the
 * object alive for anyone else. The table lock therefore also guards each
 * object's handle count and its list of waiters: a waiter registers through
 * the handle value it named, in the same critical section that checks that
 * value still names the object, and removing a value from the table (close,
 * transfer, replace) cancels every waiter registered through it, by setting
 * its flag and writing its eventfd, which the waiter polls together with the
 * object's fd. No wake-up can be lost: either the close sees the node, or
 * the registration sees the value gone.
 *
 * The eventfd of a one-object wait is the handle's own (struct cm__wake):
 * made by the first blocking wait through the handle, kept in the handle's
 * slot while the handle lives, written only when the handle is removed, and
 * closed then (or by the last waiter still polling it). So a wait through a
 * handle that has one makes no eventfd call, and registers before its first
 * poll, which then both checks and sleeps. It never outlives its handle.
 * A wait on several objects makes one eventfd for itself. Every such
 * eventfd is made under the table lock and listed (all_wakes), so a forked
 * child closes all of its copies: they would be shared with the parent, or
 * belong to a parent thread the child does not have.
 *
 * When a close removes an object's last handle, the object is marked dead
 * (no duplicate racing with the close can name it again) and its
 * on_last_handle hook makes it unusable at once.
 *
 * fork: a handler taken once keeps the table lock across fork(), so a child
 * never inherits it held by a thread it does not have (docs/fork.md). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "handle_table.h"
#include "rights.h"
#include "internal.h"
#include "validate.h"
#include "status_detail.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cm_htab_entry table_entries[CM_MAX_HANDLES];
static struct cm_htab table;

/* A handle's wake-up eventfd. Guarded by the table lock. Written only when
 * its handle is removed (then it is an orphan): a live one is never
 * readable, so a wait needs no drain and a wake-up is never spurious. */
struct cm__wake {
    int fd;
    uint32_t users;            /* waiters registered with it */
    int orphan;                /* its handle is gone: closed once users is 0 */
    struct cm__wake *next, *prev; /* every wake of the process (fork_child) */
};
/* The live handle in slot i has wake slot_wake[i], or NULL (none yet). */
static struct cm__wake *slot_wake[CM_MAX_HANDLES];
static struct cm__wake *all_wakes;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
/* Forks seen by this process (and, copied, by its children): an object
 * made before the last fork may share its fds with another process. */
static atomic_uint fork_gen;

static void fork_prepare(void)
{
    pthread_mutex_lock(&table_lock);
    for (uint32_t i = 0; i < table.capacity; i++) {
        struct cm__hobj *obj = table_entries[i].object;
        if (obj != NULL && obj->before_fork != NULL)
            obj->before_fork(obj);
    }
    atomic_fetch_add(&fork_gen, 1);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&table_lock);
}

/* The child has only the forking thread: every registered waiter belonged to
 * a thread that is not here, and a lock an object held for one of those
 * threads would never be released. The lock is ours (taken in prepare by
 * this very thread), so unlocking it is valid. */
static void fork_child(void)
{
    /* The wakes' eventfds are the parent's too: a close there would write
     * one and wake (or spin) a wait here. The child makes its own. Those
     * of the parent's blocked threads (orphans or not) go as well. */
    while (all_wakes != NULL) {
        struct cm__wake *k = all_wakes;
        all_wakes = k->next;
        close(k->fd);
        free(k);
    }
    for (uint32_t i = 0; i < CM_MAX_HANDLES; i++)
        slot_wake[i] = NULL;
    for (uint32_t i = 0; i < table.capacity; i++) {
        struct cm__hobj *obj = table_entries[i].object;
        if (obj == NULL)
            continue;
        obj->waiters = NULL;
        if (obj->after_fork_child != NULL)
            obj->after_fork_child(obj);
    }
    pthread_mutex_unlock(&table_lock);
}

static void table_init(void)
{
    cm__htab_init(&table, table_entries, CM_MAX_HANDLES);
    /* Fails only for lack of memory at first use; the library then works,
     * only without the fork guarantee, and there is no caller to tell. */
    (void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static struct cm_htab *locked_table(void)
{
    pthread_once(&table_once, table_init);
    pthread_mutex_lock(&table_lock);
    return &table;
}

void cm__handle_table_hold(void)
{
    locked_table();
}

void cm__handle_table_release(void)
{
    pthread_mutex_unlock(&table_lock);
}

int cm__handle_has_wake(cm_handle_t h)
{
    struct cm_htab_entry *e;
    struct cm_htab *t = locked_table();
    int has = cm__htab_lookup(t, h, CM_OBJ_NONE, 0, &e) == CM_OK &&
              slot_wake[(h & ((1u << CM_HTAB_INDEX_BITS) - 1u)) - 1u] != NULL;
    pthread_mutex_unlock(&table_lock);
    return has;
}

uint64_t cm__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cm__hobj_init(struct cm__hobj *obj, uint32_t type, void (*destroy)(struct cm__hobj *))
{
    static _Atomic uint64_t serials;
    obj->type = type;
    obj->serial = atomic_fetch_add(&serials, 1) + 1;
    atomic_init(&obj->refs, 1);
    obj->destroy = destroy;
    obj->on_last_handle = NULL;
    obj->after_fork_child = NULL;
    obj->signals = NULL;
    obj->handles = 0;
    obj->waiters = NULL;
    atomic_init(&obj->dead, 0);
    obj->fork_gen = atomic_load(&fork_gen);
}

void cm__hobj_ref(struct cm__hobj *obj)
{
    atomic_fetch_add_explicit(&obj->refs, 1, memory_order_relaxed);
}

void cm__hobj_put(struct cm__hobj *obj)
{
    if (obj != NULL && atomic_fetch_sub_explicit(&obj->refs, 1, memory_order_acq_rel) == 1)
        obj->destroy(obj);
}

int cm__hobj_forked(const struct cm__hobj *obj)
{
    return atomic_load(&fork_gen) != obj->fork_gen;
}

/* ---- waiters (all under the table lock) ---- */

/* The table slot of a value cm__htab_lookup accepted (core/handle_table.h:
 * bits 0..9 are the slot index + 1). */
static uint32_t slot_of(cm_handle_t h)
{
    return (h & ((1u << CM_HTAB_INDEX_BITS) - 1u)) - 1u;
}

static void wake_free(struct cm__wake *k)
{
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        all_wakes = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    close(k->fd);
    free(k);
}

/* Handle value h (in slot s) is being removed: its wake, if any, leaves the
 * slot (a new handle there gets its own) and is returned to be released by
 * wake_settle once the waiters through h have been written. */
static struct cm__wake *wake_detach(uint32_t s)
{
    struct cm__wake *k = slot_wake[s];
    slot_wake[s] = NULL;
    if (k != NULL)
        k->orphan = 1;
    return k;
}

/* Closes a detached wake nobody polls any more; the last waiter closes one
 * that is still polled (waiter_remove). */
static void wake_settle(struct cm__wake *k)
{
    if (k != NULL && k->users == 0)
        wake_free(k);
}

/* Cancels every wait registered through handle value h. */
static void cancel_waiters(struct cm__hobj *obj, cm_handle_t h)
{
    const uint64_t one = 1;
    for (struct cm__waiter *w = obj->waiters; w != NULL; w = w->next) {
        if (w->handle != h || atomic_load(&w->canceled))
            continue;
        atomic_store(&w->canceled, 1);
        if (w->futex != NULL) {
            /* A futex sleeper: the bump makes a sleep not yet begun
             * return at once; the wake ends one in progress. */
            __atomic_add_fetch(w->futex, 1u, __ATOMIC_SEQ_CST);
            (void)syscall(SYS_futex, w->futex, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
            continue;
        }
        /* Written at most once per waiter, and one eventfd serves the
         * waiters of one handle or of one wait set (blocked threads, or
         * CM_WAIT_MANY_MAX): the counter stays tiny, so a write of 1
         * cannot fail (eventfd(2) refuses only an overflow). */
        (void)!write(w->wake_fd, &one, sizeof(one));
    }
}

/* Puts w at the head of obj's waiter list. Caller holds table_lock. */
static void waiter_link_locked(struct cm__hobj *obj, struct cm__waiter *w)
{
    w->prev = NULL;
    w->next = obj->waiters;
    if (w->next != NULL)
        w->next->prev = w;
    obj->waiters = w;
}

/* Registers w if its handle value still names obj. Errors: BAD_HANDLE. */
static cm_status_t waiter_add(struct cm__hobj *obj, struct cm__waiter *w)
{
    struct cm_htab_entry *e;
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_lookup(t, w->handle, CM_OBJ_NONE, 0, &e);
    if (st == CM_OK && e->object != obj)
        st = CM_ERR_BAD_HANDLE;
    w->wake = NULL;
    if (st == CM_OK)
        waiter_link_locked(obj, w);
    pthread_mutex_unlock(&table_lock);
    return st;
}

static void waiter_remove(struct cm__hobj *obj, struct cm__waiter *w)
{
    locked_table();
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        obj->waiters = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    struct cm__wake *k = w->wake;
    if (k != NULL && --k->users == 0 && k->orphan)
        wake_free(k);
    pthread_mutex_unlock(&table_lock);
}

/* A new wake, listed in all_wakes. Made with the table lock held: the
 * fork handler holds that lock, so no child can inherit an eventfd that is
 * not listed yet (fork_child closes every listed one). Errors: NO_MEMORY;
 * NO_RESOURCES (no fd left). */
static struct cm__wake *wake_new_locked(cm_status_t *st)
{
    struct cm__wake *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        *st = CM_ERR_NO_MEMORY;
        return NULL;
    }
    k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (k->fd < 0) {
        *st = cm__errno_detail("eventfd", errno);
        free(k);
        return NULL;
    }
    k->prev = NULL;
    k->next = all_wakes;
    if (all_wakes != NULL)
        all_wakes->prev = k;
    all_wakes = k;
    return k;
}

/* Registers w (w->handle set) on obj, waking through the handle's own
 * eventfd; with `make`, makes it if the handle has none yet. Errors:
 * SHOULD_WAIT (none yet, `make` 0: nothing registered); BAD_HANDLE;
 * NO_RESOURCES (no fd left); NO_MEMORY. */
static cm_status_t waiter_add_keyed(struct cm__hobj *obj, struct cm__waiter *w, int make)
{
    struct cm_htab_entry *e;
    w->wake = NULL;
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_lookup(t, w->handle, CM_OBJ_NONE, 0, &e);
    if (st == CM_OK && e->object != obj)
        st = CM_ERR_BAD_HANDLE;
    struct cm__wake **slot = st == CM_OK ? &slot_wake[slot_of(w->handle)] : NULL;
    if (slot != NULL && *slot == NULL && !make)
        st = CM_ERR_SHOULD_WAIT;
    else if (slot != NULL && *slot == NULL)
        *slot = wake_new_locked(&st); /* sets st when it fails */
    if (st == CM_OK) {
        struct cm__wake *k = *slot;
        k->users++;
        w->wake = k;
        w->wake_fd = k->fd;
        waiter_link_locked(obj, w);
    }
    pthread_mutex_unlock(&table_lock);
    return st;
}

cm_status_t cm__handle_wait_fd(cm_handle_t h, struct cm__hobj *obj, int fd, short events,
                               uint64_t deadline, short *revents)
{
    struct cm__waitset ws;
    struct pollfd p[2];
    /* The handle has its eventfd already: register, and let the sleep's
     * poll check readiness too (one call, ready or not). */
    cm_status_t st = CM_ERR_SHOULD_WAIT;
    if (!cm__deadline_passed(deadline, cm__now_ns()))
        st = cm__waitset_begin(&ws, 1, &h, &obj, 0);
    if (st == CM_ERR_SHOULD_WAIT) {
        /* Ready now, or a zero timeout: no eventfd, no registration. */
        struct pollfd p0 = { fd, events, 0 };
        int r;
        do
            r = poll(&p0, 1, 0);
        while (r < 0 && errno == EINTR);
        if (atomic_load(&obj->dead))
            return CM_ERR_BAD_HANDLE;
        if (r < 0)
            return cm__errno_detail("poll", errno);
        if (r > 0) {
            *revents = p0.revents;
            return CM_OK;
        }
        if (cm__deadline_passed(deadline, cm__now_ns()))
            return CM_ERR_TIMED_OUT;
        st = cm__waitset_begin(&ws, 1, &h, &obj, 1);
    }
    if (st != CM_OK)
        return st;
    /* One poll on both fds per wake-up, re-armed only on EINTR or when a
     * deadline longer than poll's int milliseconds remains. */
    do {
        p[0] = (struct pollfd){ fd, events, 0 };
        st = cm__waitset_sleep(&ws, p, deadline);
    } while (st == CM_OK && p[0].revents == 0);
    if (st == CM_OK)
        *revents = p[0].revents;
    cm__waitset_end(&ws);
    return st;
}

cm_status_t cm__handle_wait_futex(cm_handle_t h, struct cm__hobj *obj, uint32_t *poke,
                                  struct futex_waitv *words, uint32_t n, uint64_t deadline)
{
    struct cm__waiter w = { .handle = h, .obj = obj, .futex = poke };
    atomic_init(&w.canceled, 0);
    cm_status_t st = waiter_add(obj, &w);
    if (st != CM_OK)
        return st;
    struct timespec ts, *tsp = NULL;
    if (deadline != CM__DEADLINE_NONE) {
        ts.tv_sec = (time_t)(deadline / 1000000000u);
        ts.tv_nsec = (long)(deadline % 1000000000u);
        tsp = &ts;
    }
    long r = syscall(SYS_futex_waitv, words, n, 0, tsp, CLOCK_MONOTONIC);
    int err = r < 0 ? errno : 0;
    waiter_remove(obj, &w);
    if (atomic_load(&w.canceled))
        return CM_ERR_BAD_HANDLE;
    if (r >= 0 || err == EAGAIN || err == EINTR)
        return CM_OK;
    if (err == ETIMEDOUT)
        return CM_ERR_TIMED_OUT;
    if (err == ENOSYS)
        return CM_ERR_UNSUPPORTED;
    return cm__errno_detail("futex_waitv", err);
}

/* ---- wait sets (cm_object_wait_many, and one-object waits) ---- */

cm_status_t cm__waitset_begin(struct cm__waitset *ws, uint32_t n, const cm_handle_t *hs,
                              struct cm__hobj *const *objs, int make)
{
    ws->n = 0;
    ws->wake = NULL;
    if (n == 1) {
        /* The handle's own eventfd (struct cm__wake). */
        struct cm__waiter *w = &ws->w[0];
        w->handle = hs[0];
        atomic_init(&w->canceled, 0);
        w->futex = NULL;
        w->obj = objs[0];
        cm_status_t st = waiter_add_keyed(objs[0], w, make);
        if (st != CM_OK)
            return st;
        ws->wake_fd = w->wake_fd;
        ws->n = 1;
        return CM_OK;
    }
    /* The set's own eventfd, listed like a handle's so that a child forked
     * while this thread sleeps closes its copy (fork_child). */
    cm_status_t made = CM_OK;
    locked_table();
    ws->wake = wake_new_locked(&made);
    pthread_mutex_unlock(&table_lock);
    if (ws->wake == NULL)
        return made;
    ws->wake_fd = ws->wake->fd;
    for (uint32_t i = 0; i < n; i++) {
        struct cm__waiter *w = &ws->w[i];
        w->handle = hs[i];
        w->wake_fd = ws->wake_fd;
        atomic_init(&w->canceled, 0);
        w->futex = NULL;
        w->obj = objs[i];
        cm_status_t st = waiter_add(objs[i], w);
        if (st != CM_OK) {
            cm__waitset_end(ws);
            return st;
        }
        ws->n = i + 1;
    }
    return CM_OK;
}

cm_status_t cm__waitset_sleep(struct cm__waitset *ws, struct pollfd *fds, uint64_t deadline)
{
    fds[ws->n] = (struct pollfd){ ws->wake_fd, POLLIN, 0 };
    int r = poll(fds, ws->n + 1, cm__deadline_poll_ms(deadline, cm__now_ns(), INT_MAX));
    for (uint32_t i = 0; i < ws->n; i++) {
        if (atomic_load(&ws->w[i].canceled))
            return CM_ERR_BAD_HANDLE;
    }
    if (r < 0)
        return errno == EINTR ? CM_OK : cm__errno_detail("poll", errno);
    if (r == 0 && cm__deadline_passed(deadline, cm__now_ns()))
        return CM_ERR_TIMED_OUT;
    return CM_OK;
}

void cm__waitset_end(struct cm__waitset *ws)
{
    /* A one-object set's eventfd is its handle's: waiter_remove closes it
     * if the handle is gone and this was its last waiter. */
    for (uint32_t i = 0; i < ws->n; i++)
        waiter_remove(ws->w[i].obj, &ws->w[i]);
    ws->n = 0;
    if (ws->wake != NULL) {
        locked_table();
        wake_free(ws->wake);
        pthread_mutex_unlock(&table_lock);
        ws->wake = NULL;
    }
}

/* ---- handles ---- */

cm_status_t cm__handle_install(struct cm__hobj *obj, cm_rights_t rights, cm_handle_t *out)
{
    struct cm_htab *t = locked_table();
    cm_status_t st = CM_ERR_BAD_HANDLE;
    /* One HANDLES charge per live entry (docs/ledger.md), released by
     * remove_locked; the ledger's lock is a leaf under table_lock. */
    if (!atomic_load(&obj->dead) && (st = cm__hledger_charge(CM_LEDGER_HANDLES, 1)) == CM_OK) {
        st = cm__htab_alloc(t, obj, obj->type, rights, out);
        if (st != CM_OK)
            cm__hledger_uncharge(CM_LEDGER_HANDLES, 1);
    }
    if (st == CM_OK)
        obj->handles++;
    pthread_mutex_unlock(&table_lock);
    return st;
}

static const char *type_name(uint32_t type)
{
    static const char *const names[] = { "none", "VMO", "channel", "listener", "DMA pool",
                                         "MMIO region", "VMAR", "SharedBuffer",
                                         "SharedBuffer consumer", "process" };
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown object";
}

/* Names what a looked-up handle lacked: the type it names, or the rights
 * it misses (by name, so that the fix is plain). */
static cm_status_t lookup_detail(cm_status_t st, cm_handle_t h, uint32_t want_type,
                                 uint32_t has_type, cm_rights_t need, cm_rights_t has)
{
    if (st == CM_ERR_WRONG_TYPE)
        return cm__detail_set(st, "handle 0x%x names a %s, not a %s", h, type_name(has_type),
                              type_name(want_type));
    cm_rights_t miss = need & ~has;
    return cm__detail_set(st, "handle 0x%x lacks %s%s%s%s%s%s(has 0x%x, needs 0x%x)", h,
                          miss & CM_RIGHT_READ ? "CM_RIGHT_READ " : "",
                          miss & CM_RIGHT_WRITE ? "CM_RIGHT_WRITE " : "",
                          miss & CM_RIGHT_MAP ? "CM_RIGHT_MAP " : "",
                          miss & CM_RIGHT_DUPLICATE ? "CM_RIGHT_DUPLICATE " : "",
                          miss & CM_RIGHT_TRANSFER ? "CM_RIGHT_TRANSFER " : "",
                          miss & CM_RIGHT_SIGNAL ? "CM_RIGHT_SIGNAL " : "", has, need);
}

cm_status_t cm__handle_get(cm_handle_t h, uint32_t type, cm_rights_t need,
                           struct cm__hobj **obj, cm_rights_t *rights)
{
    struct cm_htab_entry *e;
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_lookup(t, h, type, need, &e);
    if (st == CM_OK) {
        *obj = e->object;
        cm__hobj_ref(*obj);
        if (rights != NULL)
            *rights = e->rights;
    } else if (st != CM_ERR_BAD_HANDLE && cm__htab_lookup(t, h, CM_OBJ_NONE, 0, &e) == CM_OK) {
        uint32_t has_type = e->type;
        cm_rights_t has = e->rights;
        pthread_mutex_unlock(&table_lock);
        return lookup_detail(st, h, type, has_type, need, has);
    }
    pthread_mutex_unlock(&table_lock);
    if (st == CM_ERR_BAD_HANDLE)
        return cm__detail_set(st, "handle 0x%x is not live in this process (never issued, "
                              "closed, or moved by a send)", h);
    return st;
}

/* Removes h (table lock held) and cancels the waits through it. Sets *last
 * when no handle names the object any more. */
static cm_status_t remove_locked(struct cm_htab *t, cm_handle_t h, struct cm_htab_entry *removed,
                                 int *last)
{
    cm_status_t st = cm__htab_remove(t, h, removed);
    if (st == CM_OK) {
        cm__hledger_uncharge(CM_LEDGER_HANDLES, 1);
        struct cm__hobj *obj = removed->object;
        struct cm__wake *k = wake_detach(slot_of(h));
        obj->handles--;
        *last = obj->handles == 0;
        cancel_waiters(obj, h);
        wake_settle(k);
    }
    return st;
}

cm_status_t cm__handle_take(cm_handle_t h, struct cm__hobj **obj, cm_rights_t *rights)
{
    struct cm_htab_entry removed;
    int last;
    struct cm_htab *t = locked_table();
    cm_status_t st = remove_locked(t, h, &removed, &last);
    pthread_mutex_unlock(&table_lock);
    if (st == CM_OK) {
        *obj = removed.object;
        if (rights != NULL)
            *rights = removed.rights;
    }
    return st;
}

/* The one public call that does not clear the status detail on entry
 * (capmem/status.h): closing is the cleanup a program does between a
 * failure and its report, and must not wipe the report. Its own failure
 * replaces the detail. */
cm_status_t cm_handle_close(cm_handle_t handle)
{
    cm_status_t st = cm__handle_close(handle);
    if (st == CM_ERR_BAD_HANDLE)
        return cm__detail_set(st, "handle 0x%x is not live in this process (never issued, "
                              "closed already, or moved by a send)", handle);
    return st;
}

cm_status_t cm__handle_close(cm_handle_t handle)
{
    struct cm_htab_entry removed;
    int last = 0;
    if (handle == CM_HANDLE_INVALID)
        return CM_OK;
    struct cm_htab *t = locked_table();
    cm_status_t st = remove_locked(t, handle, &removed, &last);
    if (st == CM_OK && last)
        atomic_store(&((struct cm__hobj *)removed.object)->dead, 1);
    pthread_mutex_unlock(&table_lock);
    if (st != CM_OK)
        return st;
    struct cm__hobj *obj = removed.object;
    /* Only a reference is left besides ours: a woken waiter, or a call in
     * progress. Refs cannot grow back (no handle names the object), so when
     * ours is the last one the put below destroys it and no hook is needed. */
    if (last && obj->on_last_handle != NULL && atomic_load(&obj->refs) > 1)
        obj->on_last_handle(obj);
    cm__hobj_put(obj);
    return CM_OK;
}

cm_status_t cm_handle_duplicate(cm_handle_t handle, cm_rights_t rights, cm_handle_t *out)
{
    CM__ENTRY();
    struct cm__hobj *obj;
    cm_rights_t have, derived;
    cm_status_t st = cm__handle_derive_check_args(out != NULL, rights);
    if (st != CM_OK)
        return st;
    st = cm__handle_get(handle, CM_OBJ_NONE, CM_RIGHT_DUPLICATE, &obj, &have);
    if (st != CM_OK)
        return st;
    st = cm__rights_derive(have, rights, &derived);
    if (st != CM_OK)
        cm__detail_set(st, "rights 0x%x are not a subset of the handle's 0x%x: a derived "
                       "handle never gains a right", rights, have);
    if (st == CM_OK)
        st = cm__handle_install(obj, derived, out);
    if (st != CM_OK)
        cm__hobj_put(obj);
    return st;
}

cm_status_t cm_handle_replace(cm_handle_t handle, cm_rights_t rights, cm_handle_t *out)
{
    CM__ENTRY();
    struct cm_htab_entry *e;
    cm_rights_t derived;
    cm_status_t st = cm__handle_derive_check_args(out != NULL, rights);
    if (st != CM_OK)
        return st;
    struct cm_htab *t = locked_table();
    st = cm__htab_lookup(t, handle, CM_OBJ_NONE, 0, &e);
    if (st == CM_OK) {
        cm_rights_t have = e->rights;
        st = cm__rights_derive(have, rights, &derived);
        if (st != CM_OK)
            cm__detail_set(st, "rights 0x%x are not a subset of the handle's 0x%x: a derived "
                           "handle never gains a right", rights, have);
    } else {
        cm__detail_set(st, "handle 0x%x is not live in this process (never issued, closed, or "
                       "moved by a send)", handle);
    }
    if (st == CM_OK) {
        /* Validated: removing then re-adding cannot fail, since the freed
         * slot is immediately available again. */
        struct cm_htab_entry old;
        cm__htab_remove(t, handle, &old);
        /* Detached before the alloc, which may reuse the same slot. */
        struct cm__wake *k = wake_detach(slot_of(handle));
        st = cm__htab_alloc(t, old.object, old.type, derived, out);
        /* The value a waiter named is gone, as after a close. */
        cancel_waiters(old.object, handle);
        wake_settle(k);
    }
    pthread_mutex_unlock(&table_lock);
    return st;
}

cm_status_t cm_handle_get_info(cm_handle_t handle, cm_handle_info_t *info)
{
    CM__ENTRY();
    struct cm__hobj *obj;
    cm_rights_t rights;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__handle_get(handle, CM_OBJ_NONE, 0, &obj, &rights);
    if (st != CM_OK)
        return st;
    info->type = obj->type;
    info->rights = rights;
    cm__hobj_put(obj);
    return CM_OK;
}

uint32_t cm_host_live_handles(void)
{
    struct cm_htab *t = locked_table();
    uint32_t n = t->live;
    pthread_mutex_unlock(&table_lock);
    return n;
}

const char *cm__errname(int err)
{
    const char *name = strerrorname_np(err);
    return name != NULL ? name : "unknown errno";
}

const char *cm__errdesc(int err)
{
    const char *desc = strerrordesc_np(err);
    return desc != NULL ? desc : "no description";
}

cm_status_t cm__errno_detail(const char *call, int err)
{
    return cm__detail_set(cm__status_from_errno(err), "%s failed: %s (%s)", call,
                          cm__errname(err), cm__errdesc(err));
}

cm_status_t cm__status_from_errno(int err)
{
    switch (err) {
    case 0: return CM_ERR_INTERNAL;
    case EINVAL: return CM_ERR_INVALID_ARGS;
    case EBADF: return CM_ERR_BAD_HANDLE;
    case EPERM:
    case EROFS:
    case EACCES: return CM_ERR_ACCESS_DENIED;
    case ENOMEM:
    case ENOSPC: return CM_ERR_NO_MEMORY;
    case EMFILE:
    case ENFILE:
    case ETOOMANYREFS: return CM_ERR_NO_RESOURCES;
    case EBUSY: return CM_ERR_BAD_STATE;
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN: return CM_ERR_PEER_CLOSED;
    case EAGAIN: return CM_ERR_SHOULD_WAIT;
    case ETIMEDOUT: return CM_ERR_TIMED_OUT;
    case ENOENT:
    case ENOTDIR:   /* a path component is not a directory */
    case ELOOP:     /* a path that never resolves */
    case ECONNREFUSED: return CM_ERR_NOT_FOUND;
    case EEXIST:
    case EADDRINUSE: return CM_ERR_ALREADY_EXISTS;
    case EFBIG:
    case EOVERFLOW:
    case EMSGSIZE: return CM_ERR_OUT_OF_RANGE;
    case ENAMETOOLONG: return CM_ERR_INVALID_ARGS;
    default: return CM_ERR_IO;
    }
}
