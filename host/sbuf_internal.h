/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_SBUF_INTERNAL_H
#define CAPMEM_HOST_SBUF_INTERNAL_H

/* SharedBuffer on Linux (docs/sbuf.md, "Host"): what host/sbuf.c (the
 * producer), host/sbuf_consumer.c and host/sbuf_wait.c share. Not
 * installed. The rules are core/sbuf_{ring,own,cons}; these files only do
 * the memory (memfds, seals, mappings), the atomics with the orderings of
 * docs/sbuf.md, and the waiting. */

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <capmem/sbuf.h>
#include "internal.h"
#include "sbuf_admit.h"
#include "sbuf_cons.h"
#include "sbuf_own.h"

/* futex_waitv flags under the names of newer headers. */
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 FUTEX_32
#endif
#ifndef FUTEX2_PRIVATE
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG
#endif

/* Shared words are accessed only through these (TSan sees them; a torn
 * value from a hostile peer is then merely a wrong value, which the core
 * checks reject). */
#define SB_LOAD_ACQ(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SB_LOAD_RLX(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define SB_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define SB_STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#if defined(__SANITIZE_THREAD__)
/* GCC refuses fences under TSan (-Wtsan): a seq_cst read-modify-write is a
 * full barrier on every host architecture the library builds for. */
extern int cm__sbuf_fence_word;
#define SB_FENCE() ((void)__atomic_fetch_add(&cm__sbuf_fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define SB_FENCE()         __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* Adaptive spin budget (pauses) of a waiting receive or loan, under the
 * object's lock. It starts at CM__SBUF_SPIN_PROBE and doubles after a wait
 * a spin settled. After one that slept anyway it becomes what would have
 * covered that whole wait (measured: spin and sleep), if at most
 * CM__SBUF_SPIN_MAX, else it halves (not below CM__SBUF_SPIN_MIN). Sizing
 * by the wait is what gets two sleeping sides out: each side's wait is
 * the other's wake-up, so only a spin longer than a wake-up (60 us across
 * CPUs on the loaded test machine: 2100 pauses) ever settles again. A
 * side does not spin at all when the other last waited on the same CPU
 * (cm__sbuf_cpu_tag in the control words): a pause costs about 28 ns here
 * and nothing can arrive while it spins. */
struct cm__sbuf_spin {
    uint32_t budget;
};
void cm__sbuf_spin_adapt(struct cm__sbuf_spin *sp, int settled, uint32_t pauses,
                         uint64_t spin_ticks, uint64_t wait_ticks);
/* A cheap clock for sizing spins (units cancel: only ratios of two
 * readings on one thread are used): the cycle counter where there is one,
 * else the monotonic clock. */
static inline uint64_t cm__sbuf_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return cm__now_ns();
#endif
}
/* This thread's CPU + 1 (0: unknown), for the prod_cpu/cons_cpu hints. */
uint32_t cm__sbuf_cpu_tag(void);
#define CM__SBUF_SPIN_MIN 64u
#define CM__SBUF_SPIN_PROBE 1024u
/* A socket's registration with the death watcher (host/sbuf_watch.c): a
 * consumer's end (its futex sleepers need the producer's death) or one of
 * the producer's ends (its sleeping loans need that consumer's). */
struct cm__sbuf_watch {
    uint32_t *poke; /* the owner's private futex word, which its futex
                       sleepers wait on besides the shared words: bumped and
                       woken by the watcher at the hang-up */
    int gone;       /* the socket hung up (atomic; latched) */
    /* under the watcher's lock */
    int registered, dropped;
    unsigned gen;
    int sock;
    uint64_t id;
    struct cm__sbuf_watch *next, *prev;
};

/* The producer's view of consumer position c, valid while the core says
 * the position is ACTIVE or EVICTED. */
struct cm__sbuf_link {
    int sock;                      /* our end of the consumer's socketpair */
    struct cm_sbuf_prod_ctl *prod; /* producer area, read-write here */
    struct cm_sbuf_cons_ctl *cons; /* consumer area, read-write (we CAS read) */
    struct cm__sbuf_area *cons_map; /* owns the cons mapping (NULL: none) */
    struct cm__sbuf_watch watch;   /* its hang-up wakes futex-sleeping loans */
};

/* A mapping of a consumer area, counted (under the buffer's lock): the
 * link holds one reference, and each loan spinning without the lock on
 * the area's rel_tail holds one, so a consumer that dies meanwhile cannot
 * have its area unmapped under the spin; the last reference unmaps. */
struct cm__sbuf_area {
    void *addr;
    uint64_t size;
    uint32_t refs;
};

/* A buffer: the producer role. Its bookkeeping (own and the arrays it
 * points to) is in this process's heap: no consumer can write it. */
struct cm__sbuf {
    struct cm__hobj hdr;
    pthread_mutex_t lock;          /* serializes every use of own and links */
    cm_sbuf_config_t cfg;
    struct cm_sbuf_layout lay;
    int data_fd;                   /* sealed FUTURE_WRITE|GROW|SHRINK|SEAL */
    uint8_t *data;                 /* read-write, made before the seal */
    int epfd;                      /* every consumer socket (release or hang-up)
                                      and evfd */
    int evfd;                      /* wakes this process's sleeping loans when
                                      another of its threads frees a slot */
    uint32_t sleepers;             /* loans and object waits asleep on epfd
                                      (under lock) */
    uint32_t fsleepers;            /* loans asleep on a futex (under lock) */
    uint32_t poke;                 /* private futex word of those loans: bumped
                                      by another thread freeing a slot, a new
                                      consumer, a hang-up, the handle's removal */
    /* cm_host_object_fd gave epfd to an event loop (under lock; never
     * cleared): prod_waiting stays up at every consumer, also ones that
     * join later, and evfd is written whenever a slot frees, so the loop
     * is a sleeping loan that never leaves; a loan that finds no slot
     * drains before its last look (try_loan, look). */
    int evloop;
    struct cm__sbuf_spin spin;     /* adaptive spin of a BLOCK loan (under lock) */
    pid_t owner;                   /* the creating process */
    int inert;                     /* a forked child's copy: no producer role */
    struct cm_sbuf_own own;
    struct cm__sbuf_link links[CM_SBUF_MAX_CONSUMERS];
    /* storage of own: slots, peers, mirror follow in the same allocation */
};

/* A consumer: one reader. */
struct cm__sbuf_consumer {
    struct cm__hobj hdr;
    pthread_mutex_t lock;          /* serializes every use of cs */
    cm_sbuf_config_t cfg;          /* the copy cs was sized from */
    struct cm_sbuf_layout lay;
    uint32_t pos;                  /* its position at the producer */
    int sock;                      /* its end of the socketpair */
    /* The areas' fds, kept so that the consumer can travel over a channel
     * (host/wire.h): the data memfd, the producer area, its own area. */
    int data_fd, prod_fd, cons_fd;
    const uint8_t *data;           /* read-only mapping of the data */
    const struct cm_sbuf_prod_ctl *prod; /* read-only */
    struct cm_sbuf_cons_ctl *cons; /* read-write */
    struct cm__sbuf_spin spin;     /* adaptive spin (under lock) */
    uint32_t sleepers;             /* receives asleep on sock (under lock) */
    uint32_t fsleepers;            /* receives asleep on a futex (under lock) */
    uint32_t poke;                 /* private futex word of those receives:
                                      bumped at the hang-up and the handle's
                                      removal */
    struct cm__sbuf_watch watch;   /* wakes the futex sleepers at a hang-up */
    uint32_t owaiters;             /* object waits armed on sock (under lock) */
    /* cm_host_object_fd gave sock to an event loop (under lock; never
     * cleared): cons_waiting stays up, so every publish writes a wake-up
     * byte, and a receive that finds nothing drains them (take's look). */
    int evloop;
    /* Sent over a channel (under lock): its state is the receiver's now;
     * a thread still inside a call through the old handle gets BAD_HANDLE
     * and must not move it. */
    int moved;
    /* PEER_CLOSED was seen (latched, atomic): never cleared, whatever a
     * hostile producer writes into its state word afterwards. */
    int peer_closed;
    /* The last take gave up after CM__SBUF_TAKE_RETRIES moves of read under
     * it (under lock): its SHOULD_WAIT is no reason to sleep (a message may
     * be queued, and no wake-up may come for it): the receive spins and
     * checks its deadline instead. */
    int contended;
    /* Its socket hung up (under lock): the producer is gone, its last
     * tail is final. Latched when a look or a woken sleep sees it. */
    int hup;
    struct cm_sbuf_cons cs;
    struct cm_sbuf_hold holds[];   /* cfg.max_held */
};

static inline struct cm_sbuf_desc *cm__sbuf_ring(const struct cm_sbuf_prod_ctl *p)
{
    return (struct cm_sbuf_desc *)((uintptr_t)p + sizeof(*p));
}

static inline struct cm_sbuf_rel *cm__sbuf_rel_ring(const struct cm_sbuf_cons_ctl *c)
{
    return (struct cm_sbuf_rel *)((uintptr_t)c + sizeof(*c));
}

/* ---- host/sbuf_testpoint.c: deterministic fault injection ----
 *
 * cm__sbuf_test_point(where) is called at each step below where a death of
 * the calling process would leave shared state half-written. The library's
 * definition is a weak no-op (one call to an empty function per point, at
 * most one per consumer in a publish); a test program defines a strong one
 * that kills its process at a chosen point (tests/host/sbuf_kill.c). Not
 * exported from libcapmem.so (host/libcapmem.map keeps cm__* local), so no
 * other program can interpose it. Values are only for tests, not ABI. */
enum cm__sbuf_point {
    CM__SBUF_TP_NONE = 0,
    /* producer (host/sbuf.c) */
    CM__SBUF_TP_LOAN_CHOSEN,          /* a slot is the loan's, before return */
    CM__SBUF_TP_LOAN_SLEEP,           /* blocked loan: prod_waiting set, about to sleep */
    CM__SBUF_TP_TAKE_BACK_CLAIMED,    /* DROP_OLDEST: the CAS moved a consumer's read,
                                         its drop not yet accounted */
    CM__SBUF_TP_REAP_BEFORE_REL_HEAD, /* a consumer's releases accounted, rel_head not stored */
    CM__SBUF_TP_PUBLISH_DESC_HALF,    /* one consumer's descriptor: seq stored, slot and len not */
    CM__SBUF_TP_PUBLISH_DESC_WRITTEN, /* its descriptor complete, its tail not stored */
    CM__SBUF_TP_PUBLISH_TAIL_STORED,  /* its tail stored, the next consumer's not */
    CM__SBUF_TP_PUBLISH_TAILS_DONE,   /* every tail stored, no wake-up sent */
    CM__SBUF_TP_PUBLISH_END,          /* wake-ups sent, before return */
    CM__SBUF_TP_CLOSE_STATE_STORED,   /* buffer destroy: one consumer's CLOSED stored,
                                         the next consumer's not */
    /* consumer (host/sbuf_consumer.c) */
    CM__SBUF_TP_RECV_DESC_COPIED,     /* descriptor copied, read not claimed */
    CM__SBUF_TP_RECV_CLAIMED,         /* read moved past it, the hold not recorded */
    CM__SBUF_TP_RECV_SLEEP,           /* cons_waiting set, about to sleep */
    CM__SBUF_TP_RELEASE_ENTRY_WRITTEN, /* release entry written, rel_tail not stored */
    CM__SBUF_TP_RELEASE_TAIL_STORED,  /* rel_tail stored, no wake-up sent */
    /* death watcher (host/sbuf_watch.c) */
    CM__SBUF_TP_WATCH_STOPPING,       /* last removal: detached, not yet joined */
    CM__SBUF_TP_COUNT
};
void cm__sbuf_test_point(uint32_t where);

/* ---- host/sbuf_wait.c ---- */

/* cons_waiting (host): who sleeps, so that the producer wakes it the right
 * way. A hostile value only costs the producer a needless wake-up. */
#define CM__SBUF_WAIT_SOCK 1u  /* polls the socket: object waits, event loops,
                                  receives where futex_waitv is missing */
#define CM__SBUF_WAIT_FUTEX 2u /* futex_waitv on tail_word (receive) */
/* Tells consumer link's sleepers to look, as its cons_waiting value w
 * (loaded after the caller's fence) asks. */
void cm__sbuf_wake_consumer(uint32_t *tail_word, int sock, uint32_t w);

/* ---- host/sbuf_watch.c ---- */

/* 1 if futex_waitv(2) exists (Linux 5.16). */
int cm__sbuf_futex_ok(void);
/* FUTEX_WAKE of every sleeper on word (shared key unless private_word). */
void cm__sbuf_futex_wake(uint32_t *word, int private_word);
/* Registers a socket with this process's death watcher (started if none
 * runs), which bumps and wakes *poke at its hang-up; idempotent, and
 * without a system call once registered. Under the owner's lock. Errors:
 * NO_RESOURCES, NO_MEMORY (then the caller sleeps on the socket instead). */
cm_status_t cm__sbuf_watch_add(struct cm__sbuf_watch *w, int sock, uint32_t *poke);
/* Bumps *poke and wakes its futex sleepers (private word). */
void cm__sbuf_poke(uint32_t *poke);
/* Unregisters (before the socket is closed); the last one stops and joins
 * the watcher thread. */
void cm__sbuf_watch_del(struct cm__sbuf_watch *w);

/* Tells the peer at the other end of `sock` to look (one byte, never
 * blocks; a full socket already has a wake-up pending). */
void cm__sbuf_kick(int sock);
/* Reads the pending wake-up bytes, at most CM__SBUF_DRAIN_MAX packets
 * (a flooding peer cannot hold the caller); returns 1 if the peer hung
 * up. */
int cm__sbuf_drain(int sock);
#define CM__SBUF_DRAIN_MAX 64u
/* Reads one wake-up packet (one recv): for a side whose poll just reported
 * the socket readable. An honest peer sends one byte per announced sleep;
 * a byte left over only makes the next sleep's poll return at once (a
 * spurious wake-up, never a lost one: bytes are drained before the
 * condition is looked at again, never between that look and the sleep).
 * Returns 1 if the peer hung up, 0 if it read a packet, -1 if there was
 * none. */
int cm__sbuf_drain_one(int sock);
/* Pauses a busy-poll loan or receive spins without the lock before it
 * looks for the peer's death (one system call) and at its deadline. */
#define CM__SBUF_BUSY_LOOK 1024u
/* Attempts of one receive before it reports SHOULD_WAIT while the producer
 * keeps moving the read index under it (DROP_OLDEST; host/sbuf_consumer.c). */
#define CM__SBUF_TAKE_RETRIES 64u
/* 1 if the peer hung up; reads nothing. */
int cm__sbuf_hung_up(int sock);
/* 1 if spinning can help: more than one CPU online. */
int cm__sbuf_spin_useful(void);
/* One pause of a spin loop. */
void cm__sbuf_relax(void);
#define CM__SBUF_SPIN_MAX 16384u

/* A memfd of `size` bytes for an area, every page allocated (fallocate).
 * Errors: NO_RESOURCES (RLIMIT_FSIZE, fds), NO_MEMORY (no memory for the
 * pages). */
cm_status_t cm__sbuf_memfd(const char *name, uint64_t size, int *fd);
/* mmap MAP_SHARED of a whole fd, with MAP_POPULATE when `populate`: the
 * pool's pages in place before the first message. Errors: NO_RESOURCES,
 * NO_MEMORY. */
cm_status_t cm__sbuf_map(int fd, uint64_t size, int prot, int populate, void **out);
/* The producer's read-write mapping of a whole fd, not inherited by fork:
 * a forked child (a consumer process) must not write the data, any
 * producer area or another consumer's area. Populated (it allocates the
 * pool in the producer's process). Errors: those of cm__sbuf_map. */
cm_status_t cm__sbuf_map_producer(int fd, uint64_t size, void **out);

/* ---- host/sbuf_consumer.c ---- */

/* Builds a consumer object for position `pos` over the given areas (the
 * consumer's own mappings are made from the fds here: data and producer
 * area read-only, consumer area read-write) and `sock`; it owns all four
 * fds on success (the caller keeps them on failure). cfg is the producer's
 * configuration. Errors: NO_RESOURCES, NO_MEMORY, PROTOCOL (the producer
 * area is not an honest one). */
cm_status_t cm__sbuf_consumer_make(const cm_sbuf_config_t *cfg, uint32_t pos, int data_fd,
                                   int prod_fd, int cons_fd, int sock,
                                   struct cm__sbuf_consumer **out);
/* cm_host_object_fd for a producer: gives epfd and, with `announce`
 * (WRITABLE asked), makes the event loop a sleeper for good (evloop).
 * Errors: BAD_STATE (a forked child's inert copy). */
cm_status_t cm__sbuf_producer_event_fd(struct cm__hobj *obj, int announce, int *fd);
/* cm_host_object_fd for a consumer: gives its socket and, with
 * `announce` (READABLE or PEER_CLOSED asked), keeps cons_waiting up for
 * good (the event loop is a sleeper that never leaves).
 * Errors: BAD_HANDLE (sent away meanwhile). */
cm_status_t cm__sbuf_consumer_event_fd(struct cm__hobj *obj, int announce, int *fd);
void cm__sbuf_consumer_info(struct cm__sbuf_consumer *c, cm_sbuf_info_t *info);

/* Sending consumer obj over a channel: releases what it holds (its
 * pointers die with this object), marks it moved and fills the metadata
 * and the four fds to send (still owned by obj: the caller sends them
 * before dropping obj). */
void cm__sbuf_consumer_export(struct cm__hobj *obj, struct cm__sbuf_wire *meta, int fds[4]);

/* Installs a consumer that arrived with `meta` and fds[0..4) (data,
 * producer area, consumer area, socket), judged admissible by
 * cm__sbuf_admit_decide (verdict v). Maps, checks the shared words against
 * the metadata (cm__sbuf_cons_adopt), installs a handle with v->rights.
 * On success the fds belong to the consumer; on failure the caller still
 * owns them. Errors: PROTOCOL; NO_RESOURCES; NO_MEMORY. */
cm_status_t cm__sbuf_consumer_receive(const struct cm__sbuf_wire *meta,
                                      const struct cm__sbuf_admit_verdict *v, const int fds[4],
                                      cm_handle_t *out);

#endif
