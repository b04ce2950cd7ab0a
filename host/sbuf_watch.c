/* SPDX-License-Identifier: MIT */
/* SharedBuffer on Linux: the death watcher of consumers that sleep on a
 * futex (docs/sbuf.md, "Host: sleeping on a futex").
 *
 * A receive sleeps in futex_waitv on its delivery word (the producer's
 * FUTEX_WAKE) and on its consumer's private `poke` word. A futex cannot
 * report that the producer died; the per-consumer socket can (its hang-up
 * comes once every copy of the producer's end is closed, so after the
 * producer's last store to shared memory). The watcher is one thread per
 * process that sleeps in epoll_wait on the hang-ups (EPOLLRDHUP, never
 * EPOLLIN: wake-up bytes do not wake it) of the sockets of every consumer
 * that has slept on a futex here, and on a hang-up marks that consumer
 * `gone`, bumps its poke word and wakes it. Death detection stays exact
 * (the same hang-up as before), with no timer.
 *
 * Invariants:
 *  - The thread runs only while a consumer is registered: the first
 *    registration starts it, the last removal stops and joins it (its
 *    epoll set and eventfd are closed before the removal returns), so a
 *    process that holds no sleeping consumer has no thread and no fd here.
 *  - A registered consumer is only touched under watch_lock, and removal
 *    takes that lock before the consumer's memory goes, so the thread
 *    never sees a freed consumer (events carry an id, never a pointer).
 *  - fork: the child has no watcher (the thread is the parent's; the
 *    epoll set is shared with the parent, so the child closes its copy
 *    and never edits it), nor one being stopped (a removal stops and
 *    joins outside watch_lock: its fds stay listed in `stopping` until
 *    closed, so that a child forked meanwhile closes its copies too).
 *    Registrations made before the fork are stale in the child (their
 *    `gen` differs) and are made again at the next sleep. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sbuf_internal.h"

/* One running watcher: its thread and fds, closed by whoever stops it. */
struct watcher {
    pthread_t thread;
    int epfd;
    int evfd; /* written to stop it; listed in epfd with id 0 */
    struct watcher *next; /* in `stopping` */
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cm__sbuf_watch *watched; /* registered consumers (gen == watch_gen) */
static struct watcher *running;        /* NULL: no thread */
static struct watcher *stopping;       /* detached from running, fds not yet closed */
static uint64_t next_id = 1;           /* 0 is the stop eventfd */
static unsigned watch_gen;             /* forks seen: older registrations are stale */
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&watch_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&watch_lock);
}

static void fork_child(void)
{
    if (running != NULL) {
        running->next = stopping;
        stopping = running;
        running = NULL;
    }
    /* Their threads, and the threads stopping them, are the parent's. */
    while (stopping != NULL) {
        struct watcher *me = stopping;
        stopping = me->next;
        close(me->epfd);
        close(me->evfd);
        free(me);
    }
    watched = NULL;
    watch_gen++;
    pthread_mutex_unlock(&watch_lock);
}

static void watch_init(void)
{
    /* Fails only without memory at first use: then a child forked while
     * another thread holds watch_lock could inherit it held (the same
     * limit as the handle table's handler, host/handles.c). */
    (void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int cm__sbuf_futex_ok(void)
{
    static int ok; /* 0 unknown, 1 yes, 2 no; racy but idempotent */
    int v = __atomic_load_n(&ok, __ATOMIC_RELAXED);
    if (v == 0) {
        /* An empty vector is EINVAL where the call exists. */
        long r = syscall(SYS_futex_waitv, NULL, 0, 0, NULL, 0);
        v = r < 0 && errno == ENOSYS ? 2 : 1;
        __atomic_store_n(&ok, v, __ATOMIC_RELAXED);
    }
    return v == 1;
}

void cm__sbuf_futex_wake(uint32_t *word, int private_word)
{
    (void)syscall(SYS_futex, word, private_word ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE, INT_MAX,
                  NULL, NULL, 0);
}

/* Under watch_lock: the consumer's socket hung up. Order (seq_cst): gone,
 * then poke; a sleeper loads poke, then gone (in its look): if it missed
 * gone, its futex_waitv sees the new poke and does not sleep. */
static void mark_gone(struct cm__sbuf_watch *w)
{
    if (running != NULL)
        (void)epoll_ctl(running->epfd, EPOLL_CTL_DEL, w->sock, NULL);
    w->dropped = 1; /* level-triggered: never reported twice */
    __atomic_store_n(&w->gone, 1, __ATOMIC_SEQ_CST);
    cm__sbuf_poke(w->poke);
}

void cm__sbuf_poke(uint32_t *poke)
{
    __atomic_add_fetch(poke, 1u, __ATOMIC_SEQ_CST);
    cm__sbuf_futex_wake(poke, 1);
}

static void *watch_main(void *arg)
{
    struct watcher *me = arg;
    struct epoll_event ev[16];
    for (;;) {
        int n = epoll_wait(me->epfd, ev, 16, -1);
        if (n < 0 && errno != EINTR)
            return NULL; /* cannot happen for a valid epfd; stop watching */
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == 0)
                return NULL; /* stopped: whoever stopped us closes the fds */
            pthread_mutex_lock(&watch_lock);
            /* Our epfd is the running one until we are stopped, and a
             * stopped watcher returns at its eventfd before this. */
            for (struct cm__sbuf_watch *w = watched; w != NULL; w = w->next)
                if (w->id == ev[i].data.u64 && !w->dropped) {
                    mark_gone(w);
                    break;
                }
            pthread_mutex_unlock(&watch_lock);
        }
    }
}

/* Under watch_lock, none running: starts one, with every signal blocked
 * (the application's handlers never run on it) and a small stack. */
static cm_status_t start_locked(void)
{
    struct watcher *me = calloc(1, sizeof(*me));
    if (me == NULL)
        return CM_ERR_NO_MEMORY;
    me->epfd = epoll_create1(EPOLL_CLOEXEC);
    me->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
    cm_status_t st = CM_OK;
    if (me->epfd < 0 || me->evfd < 0 || epoll_ctl(me->epfd, EPOLL_CTL_ADD, me->evfd, &ev) != 0)
        st = CM_ERR_NO_RESOURCES;
    if (st == CM_OK) {
        pthread_attr_t attr;
        sigset_t all, old;
        sigfillset(&all);
        pthread_attr_init(&attr);
        (void)pthread_attr_setstacksize(&attr, 128u * 1024u);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&me->thread, &attr, watch_main, me) != 0)
            st = CM_ERR_NO_RESOURCES;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (st != CM_OK) {
        if (me->epfd >= 0)
            close(me->epfd);
        if (me->evfd >= 0)
            close(me->evfd);
        free(me);
        return st;
    }
    running = me;
    return CM_OK;
}

/* Under watch_lock: the running watcher, detached, to stop(). */
static struct watcher *detach_locked(void)
{
    struct watcher *me = running;
    running = NULL;
    me->next = stopping;
    stopping = me;
    return me;
}

/* Without watch_lock: stops a watcher from detach_locked. */
static void stop(struct watcher *me)
{
    const uint64_t one = 1;
    cm__sbuf_test_point(CM__SBUF_TP_WATCH_STOPPING);
    (void)!write(me->evfd, &one, sizeof(one));
    pthread_join(me->thread, NULL);
    pthread_mutex_lock(&watch_lock);
    struct watcher **p = &stopping;
    while (*p != me)
        p = &(*p)->next;
    *p = me->next;
    pthread_mutex_unlock(&watch_lock);
    close(me->epfd);
    close(me->evfd);
    free(me);
}

cm_status_t cm__sbuf_watch_add(struct cm__sbuf_watch *w, int sock, uint32_t *poke)
{
    /* Only the owner (under its lock) and a fork child change these. */
    if (w->registered && w->gen == __atomic_load_n(&watch_gen, __ATOMIC_RELAXED))
        return CM_OK;
    pthread_once(&watch_once, watch_init);
    pthread_mutex_lock(&watch_lock);
    cm_status_t st = CM_OK;
    if (w->registered && w->gen == watch_gen)
        goto out;
    if (running == NULL && (st = start_locked()) != CM_OK)
        goto out;
    struct epoll_event ev = { .events = EPOLLRDHUP, .data.u64 = next_id };
    if (epoll_ctl(running->epfd, EPOLL_CTL_ADD, sock, &ev) != 0) {
        st = CM_ERR_NO_RESOURCES;
        if (watched == NULL) {
            struct watcher *me = detach_locked();
            pthread_mutex_unlock(&watch_lock);
            stop(me);
            return st;
        }
        goto out;
    }
    w->id = next_id++;
    w->sock = sock;
    w->poke = poke;
    w->dropped = 0;
    w->gen = watch_gen;
    w->registered = 1;
    w->prev = NULL;
    w->next = watched;
    if (watched != NULL)
        watched->prev = w;
    watched = w;
out:
    pthread_mutex_unlock(&watch_lock);
    return st;
}

void cm__sbuf_watch_del(struct cm__sbuf_watch *w)
{
    struct watcher *me = NULL;
    if (!w->registered)
        return; /* never registered: no lock needed (only its owner sets it) */
    pthread_mutex_lock(&watch_lock);
    if (w->registered && w->gen == watch_gen) {
        if (!w->dropped && running != NULL)
            (void)epoll_ctl(running->epfd, EPOLL_CTL_DEL, w->sock, NULL);
        if (w->prev != NULL)
            w->prev->next = w->next;
        else
            watched = w->next;
        if (w->next != NULL)
            w->next->prev = w->prev;
        if (watched == NULL && running != NULL)
            me = detach_locked();
    }
    w->registered = 0;
    pthread_mutex_unlock(&watch_lock);
    if (me != NULL)
        stop(me);
}
