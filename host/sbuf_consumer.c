/* SPDX-License-Identifier: MIT */
/* SharedBuffer on Linux, the consumer role (include/capmem/sbuf.h,
 * docs/sbuf.md "Receive", "Release"). The checks of everything the
 * producer wrote are core/sbuf_cons.c; this file does the loads and stores
 * in the order docs/sbuf.md gives, the adaptive spin and the sleep.
 *
 * The consumer's mappings: data and producer area read-only (their memfds
 * are sealed FUTURE_WRITE, so not even mprotect can make them writable),
 * its own consumer area read-write. They live as long as the object, so a
 * message received before the producer died stays readable. */
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "deadline.h"
#include "fd_owned.h"
#include "sbuf_internal.h"
#include "status_detail.h"

static void consumer_destroy(struct cm__hobj *obj)
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    if (c->data != NULL)
        munmap((void *)c->data, c->lay.data_size);
    if (c->prod != NULL)
        munmap((void *)c->prod, c->lay.prod_area_size);
    if (c->cons != NULL)
        munmap(c->cons, c->lay.cons_area_size);
    /* The producer sees the hang-up once every copy of this end is closed
     * (one may be in flight in a channel message: then the receiver's),
     * and reclaims what this consumer held and had pending. */
    cm__fd_disown(c->sock);
    cm__sbuf_watch_del(&c->watch); /* before the socket's number can be reused */
    int fds[] = { c->sock, c->data_fd, c->prod_fd, c->cons_fd };
    for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++)
        if (fds[k] >= 0)
            close(fds[k]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void consumer_after_fork_child(struct cm__hobj *obj)
{
    pthread_mutex_init(&((struct cm__sbuf_consumer *)obj)->lock, NULL);
}

static const struct cm__signal_ops consumer_signal_ops;

/* The object and its three mappings; it owns no fd yet. */
static cm_status_t consumer_map(const cm_sbuf_config_t *cfg, uint32_t pos, int data_fd,
                                int prod_fd, int cons_fd, int populate,
                                struct cm__sbuf_consumer **out)
{
    struct cm_sbuf_layout lay;
    cm_sbuf_config_t copy = *cfg;
    if (cm__sbuf_layout(&copy, &lay) != CM_OK)
        return CM_ERR_PROTOCOL;
    struct cm__sbuf_consumer *c =
        calloc(1, sizeof(*c) + (size_t)copy.max_held * sizeof(struct cm_sbuf_hold));
    if (c == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&c->hdr, CM_OBJ_SBUF_CONSUMER, consumer_destroy);
    c->hdr.after_fork_child = consumer_after_fork_child;
    c->hdr.signals = &consumer_signal_ops;
    pthread_mutex_init(&c->lock, NULL);
    c->cfg = copy;
    c->lay = lay;
    c->pos = pos;
    c->sock = c->data_fd = c->prod_fd = c->cons_fd = -1;
    c->spin = (struct cm__sbuf_spin){ CM__SBUF_SPIN_PROBE };
    void *d = NULL, *p = NULL, *k = NULL;
    cm_status_t st = cm__sbuf_map(data_fd, lay.data_size, PROT_READ, populate, &d);
    if (st == CM_OK) {
        c->data = d;
        st = cm__sbuf_map(prod_fd, lay.prod_area_size, PROT_READ, populate, &p);
    }
    if (st == CM_OK) {
        c->prod = p;
        st = cm__sbuf_map(cons_fd, lay.cons_area_size, PROT_READ | PROT_WRITE, populate, &k);
    }
    if (st == CM_OK)
        c->cons = k;
    else
        consumer_destroy(&c->hdr);
    if (st == CM_OK)
        *out = c;
    return st;
}

static void consumer_own_fds(struct cm__sbuf_consumer *c, int data_fd, int prod_fd,
                             int cons_fd, int sock)
{
    c->data_fd = data_fd;
    c->prod_fd = prod_fd;
    c->cons_fd = cons_fd;
    c->sock = sock;
    /* cm_host_object_fd gives this socket out, and it is a connected
     * seqpacket socket: marked so that cm_host_channel_from_fd refuses it
     * (host/fd_owned.h). A mark that finds no memory only loses that check. */
    (void)cm__fd_own(sock);
}

cm_status_t cm__sbuf_consumer_make(const cm_sbuf_config_t *cfg, uint32_t pos, int data_fd,
                                   int prod_fd, int cons_fd, int sock,
                                   struct cm__sbuf_consumer **out)
{
    struct cm__sbuf_consumer *c;
    /* Made in the producer's process, on areas its own create allocated
     * and populated: populated too, no fault on the data path. */
    cm_status_t st = consumer_map(cfg, pos, data_fd, prod_fd, cons_fd, 1, &c);
    if (st != CM_OK)
        return st;
    /* One copy of each producer word, checked by core. */
    st = cm__sbuf_cons_init(&c->cs, c->holds, &c->cfg, SB_LOAD_RLX(&c->prod->join_seq),
                            SB_LOAD_RLX(&c->prod->index_base));
    if (st != CM_OK) {
        consumer_destroy(&c->hdr);
        return st;
    }
    consumer_own_fds(c, data_fd, prod_fd, cons_fd, sock);
    *out = c;
    return CM_OK;
}

/* Under the lock: the cons_waiting bits the counted sleepers need. */
static uint32_t waiting_bits(const struct cm__sbuf_consumer *c)
{
    return (c->sleepers > 0 || c->owaiters > 0 || c->evloop ? CM__SBUF_WAIT_SOCK : 0u) |
           (c->fsleepers > 0 ? CM__SBUF_WAIT_FUTEX : 0u);
}

/* Under the lock: the waiting flag says only who still sleeps on this
 * object. Never for a moved consumer: its consumer area and socket are the
 * receiver's now, and a store (or drain) through the sender's stale object
 * would take the receiver's wake-up (rule: after the move, the old object
 * touches no shared word and no byte). */
static void waiting_clear(struct cm__sbuf_consumer *c)
{
    if (!c->moved)
        SB_STORE_RLX(&c->cons->cons_waiting, waiting_bits(c));
}

/* The event loop sleeps on sock at any time, so the flag stays up from
 * here on, fenced before the caller's first receive loads tail (Dekker,
 * host/sbuf_wait.c): a publish after that load writes a byte. The bytes
 * are drained by a receive that finds the ring empty (take, look), which
 * then looks once more: after its SHOULD_WAIT, a readable socket means a
 * publish (or the producer's death) since. */
cm_status_t cm__sbuf_consumer_event_fd(struct cm__hobj *obj, int announce, int *fd)
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    cm_status_t st = CM_OK;
    pthread_mutex_lock(&c->lock);
    if (c->moved) {
        st = CM_ERR_BAD_HANDLE;
    } else {
        if (announce) {
            c->evloop = 1;
            SB_STORE_RLX(&c->cons->cons_waiting, waiting_bits(c));
            SB_FENCE();
        }
        *fd = c->sock;
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}

/* One receive attempt, under the lock. cap: the largest length accepted
 * (UINT32_MAX for a zero-copy receive); a longer message stays queued and
 * BUFFER_TOO_SMALL reports its length. `look`: an empty ring also looks
 * at the socket (drains it, or sees the hang-up) and then at the ring once
 * more, for a receive that will not sleep (timeout 0, deadline reached,
 * busy-poll now and then): one that sleeps learns the same from its poll,
 * and its wake-up was drained before this attempt (c->hup). */
static cm_status_t take(struct cm__sbuf_consumer *c, uint32_t cap, cm_sbuf_msg_t *msg,
                        struct cm_sbuf_desc *got, int look)
{
    /* DROP_OLDEST retries when the producer moves read under us. An honest
     * producer moves it only by taking entries back; a hostile one could
     * flip it forever, holding us in here. After this many the attempt is
     * SHOULD_WAIT with c->contended set: the caller spins and checks its
     * deadline, and never sleeps on it. */
    c->contended = 0;
    if (c->moved)
        return CM_ERR_BAD_HANDLE;
    /* The watcher saw the hang-up (a futex sleeper's death path). */
    if (__atomic_load_n(&c->watch.gone, __ATOMIC_SEQ_CST))
        c->hup = 1;
    int looked_again = !look, hup = c->hup;
    for (uint32_t round = 0;; round++) {
        if (round == CM__SBUF_TAKE_RETRIES) {
            c->contended = 1;
            return CM_ERR_SHOULD_WAIT;
        }
        /* state before tail: CLOSED is stored after the last tail. An
         * evicted consumer's entries were reclaimed: nothing is left. */
        uint32_t state = SB_LOAD_ACQ(&c->prod->state);
        if (state == CM_SBUF_CTL_EVICTED && !c->cs.broken)
            return CM_ERR_PEER_CLOSED;
        cm_status_t st = cm__sbuf_cons_can_receive(&c->cs);
        if (st != CM_OK)
            return st;
        uint64_t r = SB_LOAD_ACQ(&c->cons->read);
        uint64_t t = SB_LOAD_ACQ(&c->prod->tail);
        /* DROP_OLDEST: the producer may move read between the two loads
         * (take-backs, then publishes beyond the old read's window): only
         * a read unchanged across the tail load pairs with it. */
        if (c->cfg.policy == CM_SBUF_DROP_OLDEST && SB_LOAD_ACQ(&c->cons->read) != r)
            continue;
        st = cm__sbuf_cons_poll(&c->cs, r, t);
        if (st == CM_ERR_SHOULD_WAIT) {
            if (state == CM_SBUF_CTL_CLOSED || hup)
                return CM_ERR_PEER_CLOSED;
            if (!looked_again) {
                /* Wake-up bytes go (unless another thread sleeps on them:
                 * it would miss its wake-up); a hang-up is the producer's
                 * death: its last tail is final. Either way, look once
                 * more: a byte drained here may be the kick of a publish
                 * made after the tail load above, and the caller would
                 * sleep through it (then a BLOCK producer waiting for our
                 * release, and we for its publish, would both wait). */
                hup = c->sleepers == 0 && c->owaiters == 0 ? cm__sbuf_drain(c->sock)
                                                           : cm__sbuf_hung_up(c->sock);
                c->hup |= hup;
                looked_again = 1;
                continue;
            }
        }
        if (st != CM_OK)
            return st;
        const struct cm_sbuf_desc *e = &cm__sbuf_ring(c->prod)[cm__sbuf_cell(r, c->lay.ring_size)];
        struct cm_sbuf_desc d = { SB_LOAD_RLX(&e->seq), SB_LOAD_RLX(&e->slot),
                                  SB_LOAD_RLX(&e->len) };
        uint64_t gap = 0;
        cm__sbuf_test_point(CM__SBUF_TP_RECV_DESC_COPIED);
        if (c->cfg.policy == CM_SBUF_BLOCK) {
            /* Nobody else moves read: the copy is the delivery at r. */
            if ((st = cm__sbuf_cons_check(&c->cs, &d, r, &gap)) != CM_OK)
                return st;
            if (d.len > cap) {
                msg->len = d.len;
                return CM_ERR_BUFFER_TOO_SMALL;
            }
            SB_STORE_REL(&c->cons->read, r + 1);
        } else {
            /* DROP_OLDEST: until the claim succeeds the copy may be of a
             * later delivery (the producer took r back and, with ring_size
             * == slot_count, may have reused its cell): a failed check is
             * PROTOCOL only once the CAS proved the copy genuine
             * (docs/sbuf.md, "Host: what phase 2 decided"). */
            if (d.len > cap) {
                struct cm_sbuf_cons probe = c->cs; /* no side effect */
                st = cm__sbuf_cons_check(&probe, &d, r, NULL);
                if (SB_LOAD_ACQ(&c->cons->read) != r)
                    continue;
                if (st == CM_OK) {
                    msg->len = d.len;
                    return CM_ERR_BUFFER_TOO_SMALL;
                }
            }
            uint64_t expect = r;
            if (!__atomic_compare_exchange_n(&c->cons->read, &expect, r + 1, 0,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue; /* taken back: the copy is discarded unused */
            /* (A copy longer than cap reaches here only if the probe
             * failed: the same check fails again, PROTOCOL.) */
            if ((st = cm__sbuf_cons_check(&c->cs, &d, r, &gap)) != CM_OK)
                return st;
        }
        cm__sbuf_test_point(CM__SBUF_TP_RECV_CLAIMED);
        if ((st = cm__sbuf_cons_received(&c->cs, &d, r)) != CM_OK)
            return CM_ERR_INTERNAL; /* core accepted it just above */
        *got = d;
        msg->data = c->data + (uint64_t)d.slot * c->lay.stride;
        msg->len = d.len;
        msg->reserved = 0;
        msg->seq = d.seq;
        msg->dropped = gap;
        return CM_OK;
    }
}

/* Under the lock. */
static cm_status_t do_release(struct cm__sbuf_consumer *c, uint64_t seq)
{
    struct cm_sbuf_rel rel;
    uint64_t idx;
    if (c->moved)
        return CM_ERR_BAD_HANDLE;
    cm_status_t st = cm__sbuf_cons_release(&c->cs, seq, SB_LOAD_ACQ(&c->prod->rel_head), &rel,
                                           &idx);
    if (st != CM_OK)
        return st;
    struct cm_sbuf_rel *e = &cm__sbuf_rel_ring(c->cons)[cm__sbuf_cell(idx, c->lay.ring_size)];
    SB_STORE_RLX(&e->seq, rel.seq);
    SB_STORE_RLX(&e->slot, rel.slot);
    SB_STORE_RLX(&e->reserved, rel.reserved);
    cm__sbuf_test_point(CM__SBUF_TP_RELEASE_ENTRY_WRITTEN);
    /* Orders every load of the payload and the entry before the slot can
     * go back to the producer. */
    SB_STORE_REL(&c->cons->rel_tail, idx + 1);
    SB_STORE_REL(&c->cons->rel_word, (uint32_t)(idx + 1));
    cm__sbuf_test_point(CM__SBUF_TP_RELEASE_TAIL_STORED);
    SB_FENCE();
    uint32_t w = SB_LOAD_RLX(&c->prod->prod_waiting);
    if (w & CM__SBUF_WAIT_FUTEX)
        cm__sbuf_futex_wake(&c->cons->rel_word, 0);
    if (w & CM__SBUF_WAIT_SOCK)
        cm__sbuf_kick(c->sock);
    return CM_OK;
}

/* Something to look at: a delivery, a closed or evicted state. Lock-free:
 * reads only this object's own mappings. */
static int worth_a_look(const struct cm__sbuf_consumer *c)
{
    return SB_LOAD_RLX(&c->prod->tail) != SB_LOAD_RLX(&c->cons->read) ||
           SB_LOAD_RLX(&c->prod->state) != CM_SBUF_CTL_OPEN;
}

/* Under the lock: records this thread's CPU for the producer and says
 * whether the producer last waited on the same one (then nothing can
 * arrive while this thread spins). A hint only: a wrong value costs a
 * spin or a sleep, nothing else. */
static int peer_on_this_cpu(struct cm__sbuf_consumer *c)
{
    uint32_t me = cm__sbuf_cpu_tag();
    if (!c->moved && SB_LOAD_RLX(&c->cons->cons_cpu) != me)
        SB_STORE_RLX(&c->cons->cons_cpu, me);
    return me != 0 && SB_LOAD_RLX(&c->prod->prod_cpu) == me;
}

/* Under the lock, after a sleep whose poll returned revents (the receive
 * no longer counted in sleepers): takes its wake-up, one packet, unless
 * another thread sleeps on the socket (the byte may be its wake-up) or the
 * consumer moved. */
static void after_wake(struct cm__sbuf_consumer *c, short rev)
{
    if (c->moved)
        return; /* the socket is the receiver's now: take reports BAD_HANDLE */
    if (rev & (POLLHUP | POLLERR))
        c->hup = 1;
    else if (c->sleepers == 0 && c->owaiters == 0 && cm__sbuf_drain_one(c->sock) == 1)
        c->hup = 1;
}

/* Sleeps until the producer's FUTEX_WAKE on tail_word (a publish, CLOSED,
 * EVICTED), the watcher's or the handle removal's on the poke word (the
 * producer's hang-up; BAD_HANDLE), the deadline, or a value changed since
 * the caller's look (tw, pk: loaded after its announcement's fence). */
static cm_status_t futex_sleep(cm_handle_t h, struct cm__sbuf_consumer *c, uint32_t tw,
                               uint32_t pk, uint64_t deadline)
{
    struct futex_waitv fw[2] = {
        { .val = tw, .uaddr = (uintptr_t)&c->prod->tail_word, .flags = FUTEX2_SIZE_U32 },
        { .val = pk, .uaddr = (uintptr_t)&c->poke, .flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE },
    };
    return cm__handle_wait_futex(h, &c->hdr, &c->poke, fw, 2, deadline);
}

/* Empty ring: spin on the tail lock-free (adaptive budget; more than one
 * CPU), then sleep once per wait: announce (cons_waiting), fence, load
 * tail_word and the poke word, look again, futex_waitv on both, which a
 * publish (or CLOSED, EVICTED) or the producer's death (the watcher sees
 * the socket hang up) or the handle's removal wakes; then look again.
 * Without futex_waitv or the watcher it polls the socket instead (a
 * publish's byte, the hang-up) and takes that one wake-up on waking.
 * Busy-poll spins lock-free until the deadline, taking the lock when the
 * tail or state moved, or every CM__SBUF_BUSY_LOOK pauses (then it also
 * looks at the socket for the producer's death). */
static cm_status_t receive(cm_handle_t h, uint32_t flags, int64_t timeout_ns, int copy,
                           void *buf, uint32_t cap, cm_sbuf_msg_t *msg)
{
    uint64_t deadline;
    cm_status_t ast = cm__sbuf_receive_check_args(msg != NULL, flags, copy, buf != NULL, cap);
    if (ast != CM_OK)
        return ast;
    cm_status_t st = cm__deadline_from_timeout(cm__now_ns(), timeout_ns, &deadline);
    if (st != CM_OK)
        return st;
    struct cm__hobj *obj;
    cm_rights_t need = copy ? CM_RIGHT_READ : CM_RIGHT_READ | CM_RIGHT_MAP;
    if ((st = cm__handle_get(h, CM_OBJ_SBUF_CONSUMER, need, &obj, NULL)) != CM_OK)
        return st;
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    const int busy = (flags & CM_SBUF_BUSY_POLL) != 0;
    int spun = 0, slept = 0, look = timeout_ns == 0, woke = 0;
    uint64_t wait0 = 0, spin_ns = 0; /* cm__sbuf_ticks */
    uint32_t paused = 0;
    short rev = 0;
    struct cm_sbuf_desc d;
    uint32_t tw = 0, pk = 0; /* the futex words' values before the last look */
    for (;;) {
        pthread_mutex_lock(&c->lock);
        if (woke)
            after_wake(c, rev);
        st = take(c, copy ? cap : UINT32_MAX, msg, &d, look);
        look = woke = 0;
        int will_sleep = st == CM_ERR_SHOULD_WAIT && !c->contended && timeout_ns != 0 && !busy &&
                         !cm__deadline_passed(deadline, cm__now_ns()) &&
                         (spun || !cm__sbuf_spin_useful() || peer_on_this_cpu(c));
        int fut = 0;
        if (will_sleep) {
            /* A futex sleep needs the watcher (the producer's death);
             * without it (or futex_waitv), the socket. */
            fut = !c->moved && cm__sbuf_futex_ok() &&
                  cm__sbuf_watch_add(&c->watch, c->sock, &c->poke) == CM_OK;
            /* Dekker with publish (host/sbuf.c): announce, fence, load the
             * wake words, look again, then sleep on those values. */
            SB_STORE_RLX(&c->cons->cons_waiting,
                         waiting_bits(c) | (fut ? CM__SBUF_WAIT_FUTEX : CM__SBUF_WAIT_SOCK));
            SB_FENCE();
            if (fut) {
                pk = __atomic_load_n(&c->poke, __ATOMIC_SEQ_CST);
                tw = SB_LOAD_ACQ(&c->prod->tail_word);
            }
            st = take(c, copy ? cap : UINT32_MAX, msg, &d, 0);
            will_sleep = st == CM_ERR_SHOULD_WAIT && !c->contended;
        }
        if (st == CM_OK && copy) {
            memcpy(buf, msg->data, d.len);
            msg->data = NULL;
            st = do_release(c, d.seq);
        }
        /* The flag stays while another thread sleeps on it. */
        if (st != CM_ERR_SHOULD_WAIT)
            waiting_clear(c);
        if (st != CM_ERR_SHOULD_WAIT && spun && !busy)
            cm__sbuf_spin_adapt(&c->spin, !slept, paused, spin_ns,
                                wait0 != 0 ? cm__sbuf_ticks() - wait0 : 0);
        uint32_t budget = c->spin.budget;
        if (will_sleep && fut)
            c->fsleepers++;
        else if (will_sleep)
            c->sleepers++;
        pthread_mutex_unlock(&c->lock);
        if (st != CM_ERR_SHOULD_WAIT || timeout_ns == 0)
            break;
        if (!will_sleep) {
            if (cm__deadline_passed(deadline, cm__now_ns())) {
                /* One last look (with the socket), as after a sleep. */
                pthread_mutex_lock(&c->lock);
                st = take(c, copy ? cap : UINT32_MAX, msg, &d, 1);
                if (st == CM_OK && copy) {
                    memcpy(buf, msg->data, d.len);
                    msg->data = NULL;
                    st = do_release(c, d.seq);
                }
                pthread_mutex_unlock(&c->lock);
                if (st == CM_ERR_SHOULD_WAIT)
                    st = CM_ERR_TIMED_OUT;
                break;
            }
            if (busy) {
                /* Lock-free on this object's own mappings; a hostile
                 * producer moving tail only brings us to the locked take,
                 * which judges it. */
                uint32_t i = 0;
                while (i < CM__SBUF_BUSY_LOOK && !worth_a_look(c)) {
                    cm__sbuf_relax();
                    i++;
                }
                look = i == CM__SBUF_BUSY_LOOK;
                continue;
            }
            /* Spin on the tail (adaptive budget) before paying a sleep. */
            wait0 = cm__sbuf_ticks();
            while (paused < budget && !worth_a_look(c)) {
                cm__sbuf_relax();
                paused++;
            }
            spin_ns = cm__sbuf_ticks() - wait0;
            spun = 1;
            continue;
        }
        cm__sbuf_test_point(CM__SBUF_TP_RECV_SLEEP);
        if (fut)
            st = futex_sleep(h, c, tw, pk, deadline);
        else
            st = cm__handle_wait_fd(h, obj, c->sock, POLLIN, deadline, &rev);
        slept = spun = 1;
        if (st == CM_OK && cm__deadline_passed(deadline, cm__now_ns()))
            st = CM_ERR_TIMED_OUT;
        pthread_mutex_lock(&c->lock);
        if (fut)
            c->fsleepers--;
        else
            c->sleepers--;
        const int last_look = st == CM_ERR_TIMED_OUT;
        if (last_look) {
            /* One last look, so a message published at the deadline is
             * not missed. */
            st = take(c, copy ? cap : UINT32_MAX, msg, &d, 1);
            if (st == CM_OK && copy) {
                memcpy(buf, msg->data, d.len);
                msg->data = NULL;
                st = do_release(c, d.seq);
            }
            if (st == CM_ERR_SHOULD_WAIT)
                st = CM_ERR_TIMED_OUT;
        }
        pthread_mutex_unlock(&c->lock);
        if (last_look || st != CM_OK)
            break;
        woke = !fut; /* a futex wake-up left no byte to take */
    }
    if (st != CM_OK) {
        /* Leaving without a message: unless another thread sleeps, nobody
         * needs the producer's wake-ups any more. */
        pthread_mutex_lock(&c->lock);
        waiting_clear(c);
        pthread_mutex_unlock(&c->lock);
    }
    cm__hobj_put(obj);
    return st;
}

cm_status_t cm_sbuf_receive(cm_handle_t consumer, uint32_t flags, int64_t timeout_ns,
                            cm_sbuf_msg_t *msg)
{
    CM__ENTRY();
    return receive(consumer, flags, timeout_ns, 0, NULL, 0, msg);
}

cm_status_t cm_sbuf_receive_copy(cm_handle_t consumer, uint32_t flags, int64_t timeout_ns,
                                 void *buf, uint32_t buf_cap, cm_sbuf_msg_t *msg)
{
    CM__ENTRY();
    return receive(consumer, flags, timeout_ns, 1, buf, buf_cap, msg);
}

cm_status_t cm_sbuf_release(cm_handle_t consumer, uint64_t seq)
{
    CM__ENTRY();
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(consumer, CM_OBJ_SBUF_CONSUMER, CM_RIGHT_READ, &obj, NULL);
    if (st != CM_OK)
        return st;
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    pthread_mutex_lock(&c->lock);
    st = do_release(c, seq);
    pthread_mutex_unlock(&c->lock);
    cm__hobj_put(obj);
    return st;
}

void cm__sbuf_consumer_info(struct cm__sbuf_consumer *c, cm_sbuf_info_t *info)
{
    memset(info, 0, sizeof(*info));
    pthread_mutex_lock(&c->lock);
    info->config = c->cfg;
    info->self = c->pos;
    cm_sbuf_consumer_info_t *ci = &info->consumers[c->pos];
    uint32_t state = SB_LOAD_ACQ(&c->prod->state);
    ci->state = state == CM_SBUF_CTL_EVICTED ? CM_SBUF_CONSUMER_EVICTED : CM_SBUF_CONSUMER_ACTIVE;
    ci->held = c->cs.held;
    /* Pending as this consumer sees it: deliveries not yet read (bounded
     * by the ring; a hostile tail is not believed). */
    uint64_t pend = SB_LOAD_ACQ(&c->prod->tail) - SB_LOAD_ACQ(&c->cons->read);
    ci->pending = pend <= c->lay.ring_size ? (uint32_t)pend : 0;
    ci->received = c->cs.received;
    ci->released = c->cs.released;
    ci->dropped = c->cs.dropped;
    pthread_mutex_unlock(&c->lock);
}

void cm__sbuf_consumer_export(struct cm__hobj *obj, struct cm__sbuf_wire *meta, int fds[4])
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    pthread_mutex_lock(&c->lock);
    /* Its pointers die with this object: what it holds goes back now (a
     * broken consumer cannot release; it stays broken at the receiver,
     * which holds nothing). */
    for (uint32_t i = 0; i < c->cfg.max_held && !c->cs.broken; i++)
        if (c->holds[i].used)
            (void)do_release(c, c->holds[i].seq);
    c->moved = 1;
    *meta = (struct cm__sbuf_wire){
        .config = c->cfg, .pos = c->pos, .flags = c->cs.broken ? CM__SBUF_WIRE_BROKEN : 0,
        .read = c->cs.read, .rel_tail = c->cs.rel_tail, .received = c->cs.received,
        .released = c->cs.released, .dropped = c->cs.dropped,
    };
    /* Whoever still sleeps here is woken by the handle's removal
     * (BAD_HANDLE), never by the producer: the receiver starts with the flag
     * down, or every publish would leave it a stale byte. */
    SB_STORE_RLX(&c->cons->cons_waiting, 0u);
    pthread_mutex_unlock(&c->lock);
    fds[0] = c->data_fd;
    fds[1] = c->prod_fd;
    fds[2] = c->cons_fd;
    fds[3] = c->sock;
}

cm_status_t cm__sbuf_consumer_receive(const struct cm__sbuf_wire *meta,
                                      const struct cm__sbuf_admit_verdict *v, const int fds[4],
                                      cm_handle_t *out)
{
    struct cm__sbuf_consumer *c;
    /* Received: not populated. The sender chose the files; populating at
     * arrival would let one sender make the receiver fill holes it left
     * (charged to the receiver), or build page tables for the same large
     * area once per forged consumer, up to the handle limit, for nothing
     * the receiver asked for. Its reads fault the existing pages in. */
    cm_status_t st = consumer_map(&meta->config, meta->pos, fds[0], fds[1], fds[2], 0, &c);
    if (st != CM_OK)
        return st;
    /* The configuration was checked on the copy in meta, which is ours. */
    if (c->lay.data_size != v->lay.data_size || c->lay.prod_area_size != v->lay.prod_area_size ||
        c->lay.cons_area_size != v->lay.cons_area_size) {
        consumer_destroy(&c->hdr);
        return CM_ERR_INTERNAL;
    }
    /* One load of each shared word; the sender may still hold the areas
     * (a hostile one writes its consumer area at will): core judges the
     * values, which can only break this consumer. */
    st = cm__sbuf_cons_adopt(&c->cs, c->holds, meta, SB_LOAD_RLX(&c->prod->join_seq),
                             SB_LOAD_RLX(&c->prod->index_base), SB_LOAD_ACQ(&c->cons->read),
                             SB_LOAD_ACQ(&c->cons->rel_tail), SB_LOAD_ACQ(&c->prod->tail),
                             SB_LOAD_ACQ(&c->prod->rel_head));
    if (st == CM_OK)
        st = cm__handle_install(&c->hdr, v->rights, out);
    if (st != CM_OK) {
        consumer_destroy(&c->hdr);
        return st;
    }
    consumer_own_fds(c, fds[0], fds[1], fds[2], fds[3]);
    return CM_OK;
}

/* ---- signals (include/capmem/sbuf.h "Signals") ----
 *
 * READABLE: a delivery is waiting (tail != read), unless this consumer was
 * evicted (its entries were reclaimed) or is broken. PEER_CLOSED: the
 * producer left (CLOSED), evicted it, or died (its socket end hung up);
 * latched, so a hostile producer cannot clear it.
 * A blocked object wait is a sleeper in the protocol of receive (host/
 * sbuf_wait.c): arm announces it (cons_waiting) and fences before the
 * wait's evaluation loads tail, so a publish after that evaluation sees
 * the flag and writes a wake-up byte; while armed, no receive drains the
 * bytes (it could take the one the wait needs). Bytes are drained by arm
 * when no one else sleeps on the socket, before the evaluation, so a stale
 * byte (its message received meanwhile) cannot make the wait poll in a
 * loop. */

static cm_status_t consumer_signals(struct cm__hobj *obj, cm_signals_t *now)
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    cm_signals_t s = 0;
    uint32_t state = SB_LOAD_ACQ(&c->prod->state);
    int closed = __atomic_load_n(&c->peer_closed, __ATOMIC_ACQUIRE) ||
                 state == CM_SBUF_CTL_CLOSED || state == CM_SBUF_CTL_EVICTED ||
                 cm__sbuf_hung_up(c->sock);
    if (closed) {
        __atomic_store_n(&c->peer_closed, 1, __ATOMIC_RELEASE);
        s |= CM_SIGNAL_PEER_CLOSED;
    }
    pthread_mutex_lock(&c->lock);
    int usable = !c->cs.broken && !c->moved;
    pthread_mutex_unlock(&c->lock);
    /* state before tail (CLOSED is stored after the last tail). */
    if (usable && state != CM_SBUF_CTL_EVICTED &&
        SB_LOAD_ACQ(&c->prod->tail) != SB_LOAD_ACQ(&c->cons->read))
        s |= CM_SIGNAL_READABLE;
    *now = s;
    return CM_OK;
}

static short consumer_poll_events(struct cm__hobj *obj, cm_signals_t waitfor, cm_signals_t now,
                                  int *fd)
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    *fd = c->sock;
    /* After PEER_CLOSED nothing wakes a wait for READABLE any more (the
     * hang-up is level-triggered: polling it would spin). */
    if ((now & CM_SIGNAL_PEER_CLOSED) || (waitfor & (CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED)) == 0)
        return 0;
    return POLLIN;
}

static void consumer_arm(struct cm__hobj *obj)
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    pthread_mutex_lock(&c->lock);
    c->owaiters++;
    if (!c->moved) { /* a moved one's socket and flag are the receiver's */
        if (c->owaiters == 1 && c->sleepers == 0 && cm__sbuf_drain(c->sock))
            __atomic_store_n(&c->peer_closed, 1, __ATOMIC_RELEASE);
        SB_STORE_RLX(&c->cons->cons_waiting, waiting_bits(c));
        SB_FENCE();
    }
    pthread_mutex_unlock(&c->lock);
}

static void consumer_disarm(struct cm__hobj *obj)
{
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    pthread_mutex_lock(&c->lock);
    c->owaiters--;
    waiting_clear(c);
    pthread_mutex_unlock(&c->lock);
}

static const struct cm__signal_ops consumer_signal_ops = {
    .get = consumer_signals,
    .poll_events = consumer_poll_events,
    .arm = consumer_arm,
    .disarm = consumer_disarm,
};
