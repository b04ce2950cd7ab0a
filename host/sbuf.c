/* SPDX-License-Identifier: MIT */
/* SharedBuffer on Linux, the producer role (include/capmem/sbuf.h,
 * docs/sbuf.md). Slot ownership is core/sbuf_own.c; this file maps the
 * areas, performs the shared loads and stores in the order docs/sbuf.md
 * gives, and sleeps.
 *
 * Invariants:
 *  - own (and the arrays after the object) is in this process's heap;
 *    consumers influence it only through values loaded from their consumer
 *    area and checked by core/sbuf_own.c.
 *  - the data memfd and every producer area are sealed
 *    FUTURE_WRITE|GROW|SHRINK|SEAL right after our writable mapping is
 *    made: no one gets write access to them again, not even by reopening
 *    /proc/<pid>/fd or /proc/<pid>/map_files. Consumer areas are sealed
 *    GROW|SHRINK|SEAL, so a consumer cannot cut them under our mapping.
 *  - a consumer position is reclaimed (cm__sbuf_own_leave) only when its
 *    socket hangs up: every copy of the consumer's end is closed (handle
 *    closed, process dead), whichever process held it. A futex-sleeping
 *    loan learns of it from the watcher (host/sbuf_watch.c), which sees
 *    the same hang-up.
 *  - the producer role belongs to the creating process: a forked child's
 *    copy is inert (BAD_STATE) and closing it writes nothing shared. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "deadline.h"
#include "rights.h"
#include "sbuf_internal.h"
#include "status_detail.h"

#define SEAL_RO (F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)
#define SEAL_SIZE (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)


/* A failed call that makes an fd: out of fds (EMFILE, ENFILE) is the
 * process's limit, anything else memory; the detail names the call. */
static cm_status_t fd_fail(const char *call, int err)
{
    cm_status_t st = err == EMFILE || err == ENFILE ? CM_ERR_NO_RESOURCES : CM_ERR_NO_MEMORY;
    return cm__detail_set(st, "%s failed: %s (%s)%s", call, cm__errname(err), cm__errdesc(err),
                          st == CM_ERR_NO_RESOURCES ? "; raise RLIMIT_NOFILE (ulimit -n)" : "");
}

static struct cm_sbuf_slot *slots_of(struct cm__sbuf *b)
{
    return (struct cm_sbuf_slot *)(b + 1);
}

/* ---- consumer positions ---- */

/* Under the lock. */
static void area_put(struct cm__sbuf_area *a)
{
    if (--a->refs == 0) {
        munmap(a->addr, a->size);
        free(a);
    }
}

static void link_drop(struct cm__sbuf *b, uint32_t c)
{
    struct cm__sbuf_link *l = &b->links[c];
    cm__sbuf_watch_del(&l->watch); /* before the socket's number can be reused */
    if (l->sock >= 0) {
        /* The epoll instance is shared with every forked copy: only the
         * producer edits its interest list (a close elsewhere does not). */
        if (!b->inert)
            (void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, l->sock, NULL);
        close(l->sock);
    }
    if (l->prod != NULL)
        munmap(l->prod, b->lay.prod_area_size);
    if (l->cons_map != NULL)
        area_put(l->cons_map);
    else if (l->cons != NULL)
        munmap(l->cons, b->lay.cons_area_size);
    *l = (struct cm__sbuf_link){ .sock = -1 };
}

/* The consumer's socket hung up: it is gone, everything it had returns. */
static void consumer_gone(struct cm__sbuf *b, uint32_t c)
{
    (void)cm__sbuf_own_leave(&b->own, c, NULL);
    link_drop(b, c);
}

/* Consumer c's state word changed (EVICTED, CLOSED): its wake word moves
 * too, so that a receive about to sleep on the old value does not (a
 * futex wake without a change could fall between its look and its
 * sleep), then the Dekker fence and the wake-up. */
static void state_wake(struct cm__sbuf_link *l)
{
    SB_STORE_REL(&l->prod->tail_word, SB_LOAD_RLX(&l->prod->tail_word) + 1u);
    SB_FENCE();
    /* (A link whose making failed half-way has no consumer area.) */
    uint32_t w = l->cons != NULL ? SB_LOAD_RLX(&l->cons->cons_waiting) : 0u;
    cm__sbuf_wake_consumer(&l->prod->tail_word, l->sock, w | CM__SBUF_WAIT_SOCK);
}

static void evict(struct cm__sbuf *b, uint32_t c)
{
    (void)cm__sbuf_own_evict(&b->own, c, NULL);
    SB_STORE_REL(&b->links[c].prod->state, CM_SBUF_CTL_EVICTED);
    state_wake(&b->links[c]);
}

/* Hang-ups and wake-up bytes of every consumer, without sleeping.
 * Wake-ups (consumer bytes, evfd) are drained only while no loan sleeps on
 * epfd: a sleeper re-checks readiness when it runs, and a wake-up drained
 * by another thread before then would leave it asleep with a slot free.
 * A woken sleeper drains them itself once it is no longer counted: one
 * packet per ready socket (`one`: its poll just said there is one), or up
 * to CM__SBUF_DRAIN_MAX (a look that must leave no stale byte behind). */
static void check_sockets(struct cm__sbuf *b, int one)
{
    struct epoll_event ev[CM_SBUF_MAX_CONSUMERS + 1];
    const int drain = b->sleepers == 0;
    int n = epoll_wait(b->epfd, ev, CM_SBUF_MAX_CONSUMERS + 1, 0);
    for (int i = 0; i < n; i++) {
        uint32_t c = ev[i].data.u32;
        if (c == CM_SBUF_MAX_CONSUMERS) {
            uint64_t v;
            if (drain)
                (void)!read(b->evfd, &v, sizeof(v));
            continue;
        }
        if (c >= b->cfg.max_consumers || b->links[c].sock < 0)
            continue;
        if ((ev[i].events & (EPOLLHUP | EPOLLERR)) != 0 ||
            (drain && (one ? cm__sbuf_drain_one(b->links[c].sock) == 1
                           : cm__sbuf_drain(b->links[c].sock))))
            consumer_gone(b, c);
    }
}

/* Accounts consumer c's receives and releases (docs/sbuf.md, "Reap"). */
static void reap(struct cm__sbuf *b, uint32_t c)
{
    struct cm__sbuf_link *l = &b->links[c];
    uint64_t r1 = SB_LOAD_ACQ(&l->cons->read);
    uint64_t t = SB_LOAD_ACQ(&l->cons->rel_tail);
    uint64_t r2 = SB_LOAD_ACQ(&l->cons->read);
    uint32_t nrel = 0;
    if (cm__sbuf_own_reap_begin(&b->own, c, r1, t, r2, &nrel) != CM_OK) {
        evict(b, c);
        return;
    }
    const struct cm_sbuf_rel *ring = cm__sbuf_rel_ring(l->cons);
    for (uint32_t k = 0; k < nrel; k++) {
        const struct cm_sbuf_rel *e = &ring[cm__sbuf_cell(b->own.peers[c].rel_head,
                                                          b->lay.ring_size)];
        /* One copy; the checks and the use see only it. */
        struct cm_sbuf_rel copy = { SB_LOAD_RLX(&e->seq), SB_LOAD_RLX(&e->slot),
                                    SB_LOAD_RLX(&e->reserved) };
        if (cm__sbuf_own_reap_release(&b->own, c, &copy, NULL) != CM_OK) {
            evict(b, c);
            return;
        }
    }
    if (cm__sbuf_own_reap_end(&b->own, c) != CM_OK) {
        evict(b, c);
        return;
    }
    cm__sbuf_test_point(CM__SBUF_TP_REAP_BEFORE_REL_HEAD);
    /* Frees the release ring's cells up to here for the consumer. */
    SB_STORE_REL(&l->prod->rel_head, b->own.peers[c].rel_head);
}

static void reap_active(struct cm__sbuf *b)
{
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        if ((b->own.active >> c) & 1u)
            reap(b, c);
}

static void reap_all(struct cm__sbuf *b)
{
    check_sockets(b, 0);
    reap_active(b);
}

/* A thread other than a sleeping loan's made slots FREE (its reap drained
 * the wake-up bytes meant for the sleeper, its cancel or a leave freed
 * one): wake the loans asleep on epfd, which would otherwise sleep on. */
static void wake_loans(struct cm__sbuf *b, uint32_t free_before)
{
    const uint64_t one = 1;
    if (b->own.free <= free_before)
        return;
    if (b->sleepers > 0 || b->evloop)
        (void)!write(b->evfd, &one, sizeof(one));
    if (b->fsleepers > 0)
        cm__sbuf_poke(&b->poke);
}

/* Under the lock, after a futex sleep: consumers whose hang-up the watcher
 * saw are gone (what a sleep on epfd learns from its poll). */
static void reap_gone(struct cm__sbuf *b)
{
    uint32_t free_before = b->own.free;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        if (b->links[c].sock >= 0 && __atomic_load_n(&b->links[c].watch.gone, __ATOMIC_SEQ_CST))
            consumer_gone(b, c);
    wake_loans(b, free_before);
}

/* The consumer's read was not idx at the take-back's CAS: an honest one
 * received idx (read only grows), so after the reap idx is no longer its
 * oldest pending. If it still is, read moved away and back: a hostile
 * consumer keeping the take-back loop going, evicted (no retry is left to
 * its timing). */
static void reap_after_lost_claim(struct cm__sbuf *b, uint32_t c, uint64_t idx)
{
    uint32_t c2;
    uint64_t idx2;
    reap(b, c); /* it received it first (or is evicted now) */
    if (((b->own.active >> c) & 1u) && cm__sbuf_own_drop_candidate(&b->own, &c2, &idx2) == CM_OK &&
        c2 == c && idx2 == idx)
        evict(b, c);
}

/* DROP_OLDEST: takes back pending messages, oldest first, until a slot is
 * FREE or nothing is pending. */
static void take_back(struct cm__sbuf *b)
{
    while (b->own.free == 0) {
        uint32_t c;
        uint64_t idx;
        if (cm__sbuf_own_drop_candidate(&b->own, &c, &idx) != CM_OK)
            return;
        uint64_t expect = idx;
        if (__atomic_compare_exchange_n(&b->links[c].cons->read, &expect, idx + 1, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            cm__sbuf_test_point(CM__SBUF_TP_TAKE_BACK_CLAIMED);
            (void)cm__sbuf_own_dropped(&b->own, c, idx, NULL);
        } else
            reap_after_lost_claim(b, c, idx);
    }
}

/* One attempt at a loan, under the lock. `look`: also look for consumers
 * that died (one epoll_wait), for a loan that will not sleep: a sleeping
 * one learns of a death from its poll, which a hang-up wakes at once. */
static cm_status_t try_loan(struct cm__sbuf *b, cm_sbuf_loan_t *loan, int look)
{
    uint64_t id;
    uint32_t slot;
    cm_status_t st = cm__sbuf_own_loan(&b->own, &id, &slot);
    if (st == CM_ERR_SHOULD_WAIT) {
        if (look)
            check_sockets(b, 0);
        reap_active(b);
        if (b->cfg.policy == CM_SBUF_DROP_OLDEST)
            take_back(b);
        st = cm__sbuf_own_loan(&b->own, &id, &slot);
    }
    if (st == CM_OK) {
        cm__sbuf_test_point(CM__SBUF_TP_LOAN_CHOSEN);
        *loan = (cm_sbuf_loan_t){ id, b->data + (uint64_t)slot * b->lay.stride,
                                  b->cfg.slot_size, 0 };
    }
    return st;
}

/* Under the lock: the prod_waiting bits the counted sleepers need. */
static uint32_t prod_bits(const struct cm__sbuf *b)
{
    return (b->sleepers > 0 || b->evloop ? CM__SBUF_WAIT_SOCK : 0u) |
           (b->fsleepers > 0 ? CM__SBUF_WAIT_FUTEX : 0u);
}

static void set_prod_waiting(struct cm__sbuf *b, uint32_t v)
{
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        if (b->links[c].prod != NULL)
            SB_STORE_RLX(&b->links[c].prod->prod_waiting, v);
}

/* ---- object ---- */

/* The buffer's own fds (data memfd, epoll set, eventfd), closed once. */
static void close_own_fds(struct cm__sbuf *b)
{
    int *fds[] = { &b->data_fd, &b->epfd, &b->evfd };
    for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++) {
        if (*fds[k] >= 0)
            close(*fds[k]);
        *fds[k] = -1;
    }
}

static void sbuf_destroy(struct cm__hobj *obj)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    int owner = !b->inert && b->owner == getpid();
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
        /* The producer leaves: consumers drain what is published, then see
         * CLOSED (and the hang-up of the socket closed just below). */
        if (owner && b->links[c].prod != NULL) {
            SB_STORE_REL(&b->links[c].prod->state, CM_SBUF_CTL_CLOSED);
            cm__sbuf_test_point(CM__SBUF_TP_CLOSE_STATE_STORED);
            state_wake(&b->links[c]);
        }
        link_drop(b, c);
    }
    if (b->data != NULL)
        munmap(b->data, b->lay.data_size);
    close_own_fds(b);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* The child is not the producer and gets none of its powers: its writable
 * mappings were not inherited (MADV_DONTFORK), and its copies of the
 * producer's fds close here, before fork() returns to code that could use
 * them (another consumer's socket end, the shared epoll set, the data
 * memfd). Only the bookkeeping snapshot get_info reports stays. */
static void sbuf_after_fork_child(struct cm__hobj *obj)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    pthread_mutex_init(&b->lock, NULL);
    b->inert = 1;
    for (uint32_t c = 0; c < CM_SBUF_MAX_CONSUMERS; c++) {
        if (b->links[c].sock >= 0)
            close(b->links[c].sock);
        /* The mapping is not here (MADV_DONTFORK); a spinning thread's
         * references stayed in the parent with the thread. */
        free(b->links[c].cons_map);
        b->links[c] = (struct cm__sbuf_link){ .sock = -1 };
    }
    b->data = NULL;
    close_own_fds(b);
}

/* ---- signals (include/capmem/sbuf.h "Signals") ----
 *
 * WRITABLE: a loan with timeout 0 would succeed now. Evaluated as that
 * loan would (reap every consumer; hang-ups reclaimed), without its side
 * effects on slots: under DROP_OLDEST a slot that only a take-back could
 * free counts (a loan would take it back), but nothing is taken back here.
 * A blocked object wait is a sleeping loan for the consumers: arm sets
 * prod_waiting and fences before the evaluation reaps, so a release after
 * it writes a wake-up byte to epfd's sockets; it counts in `sleepers`, so
 * that no other reap drains that byte; and it drains itself first when
 * nothing else sleeps, so that a stale byte cannot make it poll in a loop. */

static cm_status_t buffer_signals(struct cm__hobj *obj, cm_signals_t *now)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    uint32_t c;
    uint64_t idx;
    *now = 0;
    pthread_mutex_lock(&b->lock);
    if (!b->inert && b->own.loaned < b->cfg.max_loans) {
        uint32_t free_before = b->own.free;
        if (b->own.free == 0)
            reap_all(b);
        wake_loans(b, free_before);
        if (b->own.free > 0 || (b->cfg.policy == CM_SBUF_DROP_OLDEST &&
                                cm__sbuf_own_drop_candidate(&b->own, &c, &idx) == CM_OK))
            *now = CM_SIGNAL_WRITABLE;
    }
    pthread_mutex_unlock(&b->lock);
    return CM_OK;
}

static short buffer_poll_events(struct cm__hobj *obj, cm_signals_t waitfor, cm_signals_t now,
                                int *fd)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    (void)now;
    *fd = b->epfd;
    /* A forked child's inert copy never becomes writable. */
    if (b->inert || b->epfd < 0 || (waitfor & CM_SIGNAL_WRITABLE) == 0)
        return 0;
    return POLLIN;
}

static void buffer_arm(struct cm__hobj *obj)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    pthread_mutex_lock(&b->lock);
    if (!b->inert) {
        uint32_t free_before = b->own.free;
        check_sockets(b, 0); /* drains only while nothing else sleeps */
        wake_loans(b, free_before);
        b->sleepers++;
        set_prod_waiting(b, prod_bits(b));
        SB_FENCE();
    }
    pthread_mutex_unlock(&b->lock);
}

static void buffer_disarm(struct cm__hobj *obj)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    pthread_mutex_lock(&b->lock);
    if (!b->inert) {
        b->sleepers--;
        set_prod_waiting(b, prod_bits(b));
    }
    pthread_mutex_unlock(&b->lock);
}

/* The loop sleeps on epfd at any time: every consumer's prod_waiting goes
 * up for good, fenced before the caller's next loan reaps (Dekker with the
 * release's store of rel_tail, fence, load of prod_waiting). A loan with
 * timeout 0 that finds no slot drains the bytes and evfd (check_sockets,
 * nothing else asleep) before it reaps once more, so after its SHOULD_WAIT
 * epfd is readable only for a later release, a slot freed by another
 * thread (evfd: wake_loans), or a consumer's hang-up. */
cm_status_t cm__sbuf_producer_event_fd(struct cm__hobj *obj, int announce, int *fd)
{
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    cm_status_t st = CM_OK;
    pthread_mutex_lock(&b->lock);
    if (b->inert || b->epfd < 0) {
        st = CM_ERR_BAD_STATE;
    } else {
        if (announce && !b->evloop) {
            b->evloop = 1;
            set_prod_waiting(b, prod_bits(b));
            SB_FENCE();
        }
        *fd = b->epfd;
    }
    pthread_mutex_unlock(&b->lock);
    return st;
}

static const struct cm__signal_ops buffer_signal_ops = {
    .get = buffer_signals,
    .poll_events = buffer_poll_events,
    .arm = buffer_arm,
    .disarm = buffer_disarm,
};

cm_status_t cm_sbuf_create(const cm_sbuf_config_t *config, cm_handle_t *buffer)
{
    CM__ENTRY();
    struct cm_sbuf_layout lay;
    cm_status_t st = cm__sbuf_config_check(config, buffer != NULL);
    if (st != CM_OK)
        return st;
    cm_sbuf_config_t cfg = *config;
    if ((st = cm__sbuf_layout(&cfg, &lay)) != CM_OK)
        return st;
    size_t nslots = cfg.slot_count, npeers = cfg.max_consumers;
    size_t size = sizeof(struct cm__sbuf) + nslots * sizeof(struct cm_sbuf_slot) +
                  npeers * sizeof(struct cm_sbuf_peer) +
                  npeers * lay.ring_size * sizeof(uint16_t);
    struct cm__sbuf *b = calloc(1, size);
    if (b == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&b->hdr, CM_OBJ_SBUF, sbuf_destroy);
    b->hdr.after_fork_child = sbuf_after_fork_child;
    b->hdr.signals = &buffer_signal_ops;
    pthread_mutex_init(&b->lock, NULL);
    b->spin = (struct cm__sbuf_spin){ CM__SBUF_SPIN_PROBE };
    b->cfg = cfg;
    b->lay = lay;
    b->data_fd = b->epfd = b->evfd = -1;
    b->owner = getpid();
    for (uint32_t c = 0; c < CM_SBUF_MAX_CONSUMERS; c++)
        b->links[c] = (struct cm__sbuf_link){ .sock = -1 };
    struct cm_sbuf_slot *slots = slots_of(b);
    struct cm_sbuf_peer *peers = (struct cm_sbuf_peer *)(slots + nslots);
    uint16_t *mirror = (uint16_t *)(peers + npeers);
    st = cm__sbuf_own_init(&b->own, slots, peers, mirror, &cfg, 0, 0,
                           (uint32_t)getpid() ^ (uint32_t)cm__now_ns());
    void *data = NULL;
    if (st == CM_OK)
        st = cm__sbuf_memfd("capmem-sbuf-data", lay.data_size, &b->data_fd);
    if (st == CM_OK)
        st = cm__sbuf_map_producer(b->data_fd, lay.data_size, &data);
    if (st == CM_OK) {
        b->data = data;
        /* Our writable mapping exists: from now on nobody gets another. */
        if (fcntl(b->data_fd, F_ADD_SEALS, SEAL_RO) != 0)
            st = CM_ERR_IO;
    }
    if (st == CM_OK) {
        b->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (b->epfd < 0)
            st = fd_fail("epoll_create1", errno);
    }
    if (st == CM_OK) {
        b->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = CM_SBUF_MAX_CONSUMERS };
        if (b->evfd < 0)
            st = fd_fail("eventfd", errno);
        else if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->evfd, &ev) != 0)
            st = CM_ERR_NO_MEMORY;
    }
    if (st == CM_OK)
        st = cm__handle_install(&b->hdr, CM_SBUF_DEFAULT_RIGHTS, buffer);
    if (st != CM_OK)
        sbuf_destroy(&b->hdr);
    return st;
}

/* Makes position c's producer area, consumer area and socketpair; the
 * consumer's fds come back in prod_fd/cons_fd (read-only reopen not
 * needed: they are only mapped, read-only for the producer area) and
 * *csock. */
static cm_status_t link_make(struct cm__sbuf *b, uint32_t c, int *prod_fd, int *cons_fd,
                             int *csock)
{
    struct cm__sbuf_link *l = &b->links[c];
    const struct cm_sbuf_peer *p = &b->own.peers[c];
    int sv[2];
    void *m;
    *prod_fd = *cons_fd = *csock = -1;
    cm_status_t st = cm__sbuf_memfd("capmem-sbuf-prod", b->lay.prod_area_size, prod_fd);
    if (st == CM_OK)
        st = cm__sbuf_map_producer(*prod_fd, b->lay.prod_area_size, &m);
    if (st == CM_OK) {
        l->prod = m;
        l->prod->tail = p->tail;
        l->prod->tail_word = (uint32_t)p->tail;
        l->prod->rel_head = p->rel_head;
        l->prod->join_seq = p->join_seq;
        l->prod->index_base = b->own.index_base;
        l->prod->state = CM_SBUF_CTL_OPEN;
        l->prod->prod_waiting = prod_bits(b); /* a loop (or sleeping loan) waits on it too */
        if (fcntl(*prod_fd, F_ADD_SEALS, SEAL_RO) != 0)
            st = CM_ERR_IO;
    }
    if (st == CM_OK)
        st = cm__sbuf_memfd("capmem-sbuf-cons", b->lay.cons_area_size, cons_fd);
    if (st == CM_OK)
        st = cm__sbuf_map_producer(*cons_fd, b->lay.cons_area_size, &m);
    if (st == CM_OK) {
        l->cons = m;
        l->cons_map = malloc(sizeof(*l->cons_map));
        if (l->cons_map == NULL)
            st = CM_ERR_NO_MEMORY; /* link_drop unmaps l->cons */
        else
            *l->cons_map = (struct cm__sbuf_area){ m, b->lay.cons_area_size, 1 };
    }
    if (st == CM_OK) {
        l->cons->read = p->floor;
        l->cons->rel_tail = p->rel_head;
        l->cons->rel_word = (uint32_t)p->rel_head;
        if (fcntl(*cons_fd, F_ADD_SEALS, SEAL_SIZE) != 0)
            st = CM_ERR_IO;
    }
    if (st == CM_OK) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
            st = fd_fail("socketpair", errno);
        } else {
            l->sock = sv[0];
            *csock = sv[1];
            struct epoll_event ev = { .events = EPOLLIN, .data.u32 = c };
            if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, l->sock, &ev) != 0)
                st = errno == ENOSPC ? CM_ERR_NO_RESOURCES : CM_ERR_NO_MEMORY;
        }
    }
    return st;
}

cm_status_t cm_sbuf_consumer_create(cm_handle_t buffer, cm_rights_t rights,
                                    cm_handle_t *consumer)
{
    CM__ENTRY();
    if (consumer == NULL ||
        cm__rights_derive(CM_SBUF_CONSUMER_DEFAULT_RIGHTS, rights, &rights) != CM_OK)
        return CM_ERR_INVALID_ARGS;
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(buffer, CM_OBJ_SBUF, CM_RIGHT_READ, &obj, NULL);
    if (st != CM_OK)
        return st;
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    uint32_t c;
    int data_fd = -1, prod_fd = -1, cons_fd = -1, csock = -1;
    struct cm__sbuf_consumer *co = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->inert) {
        st = CM_ERR_BAD_STATE;
        goto out;
    }
    /* Positions of consumers that are gone come back first. */
    uint32_t free_before = b->own.free;
    check_sockets(b, 0);
    wake_loans(b, free_before);
    if ((st = cm__sbuf_own_join(&b->own, &c)) != CM_OK) {
        if (st == CM_ERR_NO_RESOURCES)
            cm__detail_set(st, "the buffer has its max_consumers (%u) consumers already: close "
                           "one first", b->cfg.max_consumers);
        goto out;
    }
    st = link_make(b, c, &prod_fd, &cons_fd, &csock);
    /* The consumer keeps its own copy of the data memfd, to travel with it. */
    if (st == CM_OK && (data_fd = fcntl(b->data_fd, F_DUPFD_CLOEXEC, 0)) < 0)
        st = fd_fail("fcntl", errno);
    if (st == CM_OK)
        st = cm__sbuf_consumer_make(&b->cfg, c, data_fd, prod_fd, cons_fd, csock, &co);
    if (st == CM_OK) {
        data_fd = prod_fd = cons_fd = csock = -1; /* the consumer owns them */
        st = cm__handle_install(&co->hdr, rights, consumer);
        if (st != CM_OK)
            cm__hobj_put(&co->hdr);
    }
    /* A loan asleep on the futex words of the consumers it saw looks again,
     * so that it watches this one too. */
    if (st == CM_OK && b->fsleepers > 0)
        cm__sbuf_poke(&b->poke);
    if (st != CM_OK) {
        if (csock >= 0)
            close(csock);
        consumer_gone(b, c);
    }
out:
    pthread_mutex_unlock(&b->lock);
    if (data_fd >= 0)
        close(data_fd);
    if (prod_fd >= 0)
        close(prod_fd);
    if (cons_fd >= 0)
        close(cons_fd);
    cm__hobj_put(obj);
    return st;
}

/* Looks up a buffer with WRITE that this process may produce on. */
static cm_status_t get_producer(cm_handle_t h, struct cm__sbuf **out)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_SBUF, CM_RIGHT_WRITE, &obj, NULL);
    if (st != CM_OK)
        return st;
    *out = (struct cm__sbuf *)obj;
    return CM_OK;
}

/* Sleeps until a consumer writes a wake-up byte or hangs up, the deadline,
 * or h's close. */
static cm_status_t producer_sleep(cm_handle_t h, struct cm__sbuf *b, uint64_t deadline)
{
    short rev;
    return cm__handle_wait_fd(h, &b->hdr, b->epfd, POLLIN, deadline, &rev);
}

/* Under the lock, after a sleep whose poll said epfd is readable (the loan
 * no longer counted in sleepers): takes the wake-up that woke it. With one
 * consumer and nothing else asleep, that is one recv on its socket, no
 * epoll_wait; nothing there means another source (the eventfd, a hang-up
 * already read): the full look. */
static void after_wake(struct cm__sbuf *b)
{
    uint32_t only = CM_SBUF_MAX_CONSUMERS, n = 0;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        if (b->links[c].sock >= 0) {
            only = c;
            n++;
        }
    if (b->sleepers == 0 && n == 1) {
        int r = cm__sbuf_drain_one(b->links[only].sock);
        if (r == 1)
            consumer_gone(b, only);
        if (r >= 0)
            return;
    }
    check_sockets(b, 1);
}

/* What a spinning loan watches: each active consumer's rel_tail as the last
 * reap left it (a release is what frees a slot under BLOCK), through
 * references that keep the areas mapped while it spins without the lock. */
struct spin_watch {
    uint32_t n;
    struct cm__sbuf_area *area[CM_SBUF_MAX_CONSUMERS];
    const uint64_t *word[CM_SBUF_MAX_CONSUMERS];
    uint64_t seen[CM_SBUF_MAX_CONSUMERS];
    uint32_t *rel_word[CM_SBUF_MAX_CONSUMERS]; /* what a futex sleep waits on */
};

/* Under the lock: records this thread's CPU in every consumer's producer
 * area and says whether every active consumer last waited on the same one
 * (then no release can come while this thread spins). A hint only. */
static int peers_on_this_cpu(struct cm__sbuf *b)
{
    uint32_t me = cm__sbuf_cpu_tag();
    int all = me != 0;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
        struct cm__sbuf_link *l = &b->links[c];
        if (l->prod == NULL)
            continue;
        if (SB_LOAD_RLX(&l->prod->prod_cpu) != me)
            SB_STORE_RLX(&l->prod->prod_cpu, me);
        if (((b->own.active >> c) & 1u) != 0 && SB_LOAD_RLX(&l->cons->cons_cpu) != me)
            all = 0;
    }
    return all;
}

/* Under the lock, right after a failed try_loan (which reaped every active
 * consumer). Returns 0 if there is nothing to watch. */
static int spin_begin(struct cm__sbuf *b, struct spin_watch *w)
{
    w->n = 0;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
        struct cm__sbuf_link *l = &b->links[c];
        if (((b->own.active >> c) & 1u) == 0 || l->cons_map == NULL)
            continue;
        l->cons_map->refs++;
        w->area[w->n] = l->cons_map;
        w->word[w->n] = &l->cons->rel_tail;
        w->rel_word[w->n] = &l->cons->rel_word;
        w->seen[w->n] = b->own.peers[c].rel_head;
        w->n++;
    }
    return w->n > 0;
}

/* Under the lock. */
static void spin_end(struct spin_watch *w)
{
    for (uint32_t k = 0; k < w->n; k++)
        area_put(w->area[k]);
    w->n = 0;
}

/* Under the lock: registers every consumer's socket with the death
 * watcher (once each). 0 if one could not be. */
static int watch_links(struct cm__sbuf *b)
{
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++)
        if (b->links[c].sock >= 0 &&
            cm__sbuf_watch_add(&b->links[c].watch, b->links[c].sock, &b->poke) != CM_OK)
            return 0;
    return 1;
}

/* Sleeps until a consumer's FUTEX_WAKE on a rel_word it waits on (a
 * release), a poke (another thread freed a slot, a new consumer, a
 * hang-up the watcher saw; BAD_HANDLE for the handle's removal), the
 * deadline, or a value changed since the caller's look. The words stay
 * mapped: w holds references on their areas. */
static cm_status_t producer_futex_sleep(cm_handle_t h, struct cm__sbuf *b,
                                        const struct spin_watch *w, const uint32_t *rw,
                                        uint32_t pk, uint64_t deadline)
{
    struct futex_waitv fw[CM_SBUF_MAX_CONSUMERS + 1];
    for (uint32_t k = 0; k < w->n; k++)
        fw[k] = (struct futex_waitv){ .val = rw[k], .uaddr = (uintptr_t)w->rel_word[k],
                                      .flags = FUTEX2_SIZE_U32 };
    fw[w->n] = (struct futex_waitv){ .val = pk, .uaddr = (uintptr_t)&b->poke,
                                     .flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE };
    return cm__handle_wait_futex(h, &b->hdr, &b->poke, fw, w->n + 1, deadline);
}

/* Without the lock: up to `budget` pauses until a watched rel_tail moves
 * (a hostile consumer moving it only ends the spin early: the locked reap
 * judges what it wrote). Returns the pauses spent: `budget` if nothing
 * moved. */
static uint32_t spin_releases(const struct spin_watch *w, uint32_t budget)
{
    for (uint32_t i = 0; i < budget; i++) {
        for (uint32_t k = 0; k < w->n; k++)
            if (SB_LOAD_RLX(w->word[k]) != w->seen[k])
                return i;
        cm__sbuf_relax();
    }
    return budget;
}

/* A loan that finds no slot: under BLOCK with more than one CPU it spins
 * (adaptive budget, as the consumer's receive) on the consumers' release
 * words without the lock, then sleeps once per wait: announce
 * (prod_waiting), fence, load the wake words, look again, then futex_waitv
 * on every active consumer's rel_word and the buffer's poke word, which a
 * release's FUTEX_WAKE, another thread freeing a slot, a new consumer, a
 * consumer's death (the watcher) or the handle's removal wakes; on waking
 * it reclaims the consumers the watcher saw die and looks again. Without
 * futex_waitv or the watcher it polls epfd instead (a release byte, a
 * hang-up, the eventfd) and takes that one wake-up on waking. Busy-poll
 * spins the same way until the deadline, taking the lock only when a
 * release word moved or every CM__SBUF_BUSY_LOOK pauses (then it also
 * looks for dead consumers). A loan that will not sleep (timeout 0, busy)
 * looks for dead consumers itself. */
cm_status_t cm_sbuf_loan(cm_handle_t buffer, uint32_t flags, int64_t timeout_ns,
                         cm_sbuf_loan_t *loan)
{
    CM__ENTRY();
    uint64_t deadline;
    cm_status_t st = cm__sbuf_loan_check_args(loan != NULL, flags);
    if (st != CM_OK)
        return st;
    st = cm__deadline_from_timeout(cm__now_ns(), timeout_ns, &deadline);
    if (st != CM_OK)
        return st;
    struct cm__sbuf *b;
    if ((st = get_producer(buffer, &b)) != CM_OK)
        return st;
    const int busy = (flags & CM_SBUF_BUSY_POLL) != 0;
    int look = timeout_ns == 0, woke = 0, fwoke = 0, spun = 0, slept = 0;
    uint64_t wait0 = 0, spin_ns = 0; /* cm__sbuf_ticks */
    uint32_t paused = 0;
    struct spin_watch w = { 0 };
    uint32_t pk = 0, rw[CM_SBUF_MAX_CONSUMERS]; /* futex values before the last look */
    for (;;) {
        pthread_mutex_lock(&b->lock);
        spin_end(&w);
        if (woke && !b->inert)
            after_wake(b);
        if (fwoke && !b->inert)
            reap_gone(b);
        st = b->inert ? CM_ERR_BAD_STATE : try_loan(b, loan, look);
        look = woke = fwoke = 0;
        int spin = 0, fut = 0;
        if (st == CM_ERR_SHOULD_WAIT && timeout_ns != 0) {
            if (busy || (!spun && cm__sbuf_spin_useful() && !peers_on_this_cpu(b)))
                spin = spin_begin(b, &w);
            if (!busy && !spin) {
                /* A futex sleep needs the watcher on every consumer's
                 * socket (their deaths) and references on the areas whose
                 * words it waits on (spin_begin); else epfd. */
                fut = cm__sbuf_futex_ok() && watch_links(b);
                if (fut)
                    (void)spin_begin(b, &w);
                /* Dekker with the consumers' release (host/sbuf_consumer.c):
                 * announce, fence, load the words, look again, then sleep
                 * on those values. */
                set_prod_waiting(b, prod_bits(b) |
                                        (fut ? CM__SBUF_WAIT_FUTEX : CM__SBUF_WAIT_SOCK));
                SB_FENCE();
                if (fut) {
                    pk = __atomic_load_n(&b->poke, __ATOMIC_SEQ_CST);
                    for (uint32_t k = 0; k < w.n; k++)
                        rw[k] = SB_LOAD_ACQ(w.rel_word[k]);
                    reap_gone(b); /* after the poke load: see sbuf_watch.c */
                }
                st = try_loan(b, loan, 0);
            }
        }
        if (st == CM_OK)
            wake_loans(b, 0); /* our reap may have freed more than we took */
        if (st != CM_ERR_SHOULD_WAIT && spun && !busy)
            cm__sbuf_spin_adapt(&b->spin, !slept, paused, spin_ns,
                                wait0 != 0 ? cm__sbuf_ticks() - wait0 : 0);
        const uint32_t budget = busy ? CM__SBUF_BUSY_LOOK : b->spin.budget;
        const int sleeping = st == CM_ERR_SHOULD_WAIT && timeout_ns != 0 && !busy && !spin;
        if (sleeping && fut)
            b->fsleepers++;
        else if (sleeping)
            b->sleepers++;
        if (st != CM_ERR_SHOULD_WAIT)
            spin_end(&w);
        pthread_mutex_unlock(&b->lock);
        if (st != CM_ERR_SHOULD_WAIT || timeout_ns == 0)
            break;
        if (busy) {
            if (cm__deadline_passed(deadline, cm__now_ns())) {
                pthread_mutex_lock(&b->lock);
                spin_end(&w);
                pthread_mutex_unlock(&b->lock);
                st = CM_ERR_TIMED_OUT;
                break;
            }
            if (!spin)
                cm__sbuf_relax(); /* nothing to watch (no consumer) */
            else if (spin_releases(&w, budget) == budget)
                look = 1; /* quiet for a while: look for dead consumers */
            continue;
        }
        if (spin) {
            wait0 = cm__sbuf_ticks();
            paused = spin_releases(&w, budget);
            spin_ns = cm__sbuf_ticks() - wait0;
            spun = 1;
            continue;
        }
        cm__sbuf_test_point(CM__SBUF_TP_LOAN_SLEEP);
        if (fut)
            st = producer_futex_sleep(buffer, b, &w, rw, pk, deadline);
        else
            st = producer_sleep(buffer, b, deadline);
        slept = spun = 1;
        pthread_mutex_lock(&b->lock);
        spin_end(&w); /* the futex words are not waited on any more */
        if (fut)
            b->fsleepers--;
        else
            b->sleepers--;
        set_prod_waiting(b, prod_bits(b));
        /* A wake-up that changed nothing (another thread's, a hang-up not
         * yet handled) must not outlive the deadline. */
        if (st == CM_OK && cm__deadline_passed(deadline, cm__now_ns()))
            st = CM_ERR_TIMED_OUT;
        if (st == CM_ERR_TIMED_OUT) {
            /* One last look, so a slot freed at the deadline is not missed. */
            st = try_loan(b, loan, 1);
            if (st == CM_ERR_SHOULD_WAIT)
                st = CM_ERR_TIMED_OUT;
            pthread_mutex_unlock(&b->lock);
            break;
        }
        pthread_mutex_unlock(&b->lock);
        if (st != CM_OK)
            break;
        woke = !fut; /* a futex wake-up left no byte to take */
        fwoke = fut;
    }
    cm__hobj_put(&b->hdr);
    return st;
}

cm_status_t cm_sbuf_publish(cm_handle_t buffer, uint64_t loan_id, uint32_t len, uint64_t *seq)
{
    CM__ENTRY();
    struct cm__sbuf *b;
    cm_status_t st = get_producer(buffer, &b);
    if (st != CM_OK)
        return st;
    uint64_t s;
    uint32_t slot, to = 0;
    pthread_mutex_lock(&b->lock);
    st = b->inert ? CM_ERR_BAD_STATE : cm__sbuf_own_publish(&b->own, loan_id, len, &s, &slot, &to);
    if (st == CM_OK) {
        for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
            if (((to >> c) & 1u) == 0)
                continue;
            struct cm_sbuf_prod_ctl *p = b->links[c].prod;
            uint64_t tail = b->own.peers[c].tail;
            struct cm_sbuf_desc *d = &cm__sbuf_ring(p)[cm__sbuf_cell(tail - 1, b->lay.ring_size)];
            SB_STORE_RLX(&d->seq, s);
            cm__sbuf_test_point(CM__SBUF_TP_PUBLISH_DESC_HALF);
            SB_STORE_RLX(&d->slot, slot);
            SB_STORE_RLX(&d->len, len);
            cm__sbuf_test_point(CM__SBUF_TP_PUBLISH_DESC_WRITTEN);
            /* Orders the payload and the descriptor before the new tail. */
            SB_STORE_REL(&p->tail, tail);
            SB_STORE_REL(&p->tail_word, SB_LOAD_RLX(&p->tail_word) + 1u);
            cm__sbuf_test_point(CM__SBUF_TP_PUBLISH_TAIL_STORED);
        }
        cm__sbuf_test_point(CM__SBUF_TP_PUBLISH_TAILS_DONE);
        if (to != 0) {
            SB_FENCE();
            for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
                uint32_t w;
                if (((to >> c) & 1u) != 0 &&
                    (w = SB_LOAD_RLX(&b->links[c].cons->cons_waiting)) != 0)
                    cm__sbuf_wake_consumer(&b->links[c].prod->tail_word, b->links[c].sock, w);
            }
        }
        cm__sbuf_test_point(CM__SBUF_TP_PUBLISH_END);
        if (seq != NULL)
            *seq = s;
    }
    pthread_mutex_unlock(&b->lock);
    cm__hobj_put(&b->hdr);
    return st;
}

cm_status_t cm_sbuf_cancel(cm_handle_t buffer, uint64_t loan_id)
{
    CM__ENTRY();
    struct cm__sbuf *b;
    cm_status_t st = get_producer(buffer, &b);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&b->lock);
    uint32_t free_before = b->own.free;
    st = b->inert ? CM_ERR_BAD_STATE : cm__sbuf_own_cancel(&b->own, loan_id);
    wake_loans(b, free_before);
    pthread_mutex_unlock(&b->lock);
    cm__hobj_put(&b->hdr);
    return st;
}

static void producer_info(struct cm__sbuf *b, cm_sbuf_info_t *info)
{
    memset(info, 0, sizeof(*info));
    pthread_mutex_lock(&b->lock);
    uint32_t free_before = b->own.free;
    if (!b->inert)
        reap_all(b);
    wake_loans(b, free_before);
    info->config = b->cfg;
    info->free = b->own.free;
    info->loaned = b->own.loaned;
    info->published = b->own.published;
    info->self = UINT32_MAX;
    info->next_seq = b->own.next_seq;
    for (uint32_t c = 0; c < b->cfg.max_consumers; c++) {
        const struct cm_sbuf_peer *p = &b->own.peers[c];
        cm_sbuf_consumer_info_t *ci = &info->consumers[c];
        ci->state = p->state == CM_SBUF_PEER_ACTIVE    ? CM_SBUF_CONSUMER_ACTIVE
                    : p->state == CM_SBUF_PEER_EVICTED ? CM_SBUF_CONSUMER_EVICTED
                                                       : CM_SBUF_CONSUMER_ABSENT;
        if (p->state == CM_SBUF_PEER_ABSENT)
            continue;
        ci->held = p->held;
        ci->pending = p->pending;
        ci->received = p->received;
        ci->released = p->released;
        ci->dropped = p->dropped;
    }
    pthread_mutex_unlock(&b->lock);
}

cm_status_t cm_sbuf_get_info(cm_handle_t handle, cm_sbuf_info_t *info)
{
    CM__ENTRY();
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(handle, CM_OBJ_NONE, 0, &obj, NULL);
    if (st != CM_OK)
        return st;
    if (obj->type == CM_OBJ_SBUF)
        producer_info((struct cm__sbuf *)obj, info);
    else if (obj->type == CM_OBJ_SBUF_CONSUMER)
        cm__sbuf_consumer_info((struct cm__sbuf_consumer *)obj, info);
    else
        st = CM_ERR_WRONG_TYPE;
    cm__hobj_put(obj);
    return st;
}
