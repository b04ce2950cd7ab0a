/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_SBUF_OWN_H
#define CAPMEM_CORE_SBUF_OWN_H

/* SharedBuffer slot ownership, the producer side, for both targets
 * (docs/sbuf.md "Ownership"). Freestanding C11: no libc, no allocation, no
 * locks, no globals. The caller provides the storage and serializes every
 * call (host: the producer's mutex; kernel: the object lock).
 *
 * INVARIANT: this bookkeeping (struct cm_sbuf_own and the storage it
 * points to) lives in memory no consumer can write: the producer process's
 * private memory on host, kernel memory on the kernel target. Consumers
 * only ever influence it through values the caller read from their control
 * area and passed in, and each such value is checked here (PROTOCOL).
 *
 * Every slot is in one state:
 *
 *   FREE       nobody holds it; the next loan may take it.
 *   LOANED     the producer writes it (one loan id names it).
 *   PUBLISHED  message `seq` of `len` bytes. pending = consumers that have
 *              it in their delivery ring, not yet received; held =
 *              consumers that received it and have not released it. The
 *              two sets are disjoint; the slot is FREE again as soon as
 *              both are empty (the last holder's release, a drop, a leave).
 *
 *   FREE --loan--> LOANED --publish--> PUBLISHED --(last bit clears)--> FREE
 *   LOANED --cancel--> FREE;  publish with no consumer: LOANED --> FREE.
 *
 * Per consumer the producer mirrors its delivery ring privately (the slot
 * of each index in [floor, tail)), so it never reads its own descriptors
 * back from shared memory. `floor` is how far the producer has accounted
 * the consumer's read index: entries below it were received (their slot
 * moved from pending to held) or dropped by the producer.
 *
 * Ids. A loan id is (generation << 32) | (slot + 1), the generation never
 * 0 and advanced at each loan, so a published or cancelled loan's id is
 * BAD_HANDLE until the 32-bit generation wraps (as core/dma_own). */

#include <stdint.h>
#include <capmem/capmem.h>
#include "sbuf_ring.h"

enum cm_sbuf_slot_state {
    CM_SBUF_SLOT_FREE = 0,
    CM_SBUF_SLOT_LOANED,
    CM_SBUF_SLOT_PUBLISHED,
};

struct cm_sbuf_slot {
    uint8_t state;     /* enum cm_sbuf_slot_state */
    uint32_t gen;      /* loan generation, never 0 */
    uint32_t len;
    uint32_t pending;  /* consumer bit set */
    uint32_t held;     /* consumer bit set */
    uint64_t seq;
};

enum cm_sbuf_peer_state {
    CM_SBUF_PEER_ABSENT = 0,
    CM_SBUF_PEER_ACTIVE,
    CM_SBUF_PEER_EVICTED, /* broke the protocol; everything reclaimed; the
                             position is reused only after cm__sbuf_own_leave */
};

struct cm_sbuf_peer {
    uint8_t state;       /* enum cm_sbuf_peer_state */
    uint64_t join_seq;   /* first sequence number it may see */
    uint64_t floor;      /* delivery index accounted (received or dropped) */
    uint64_t tail;       /* next delivery index to write */
    uint64_t rel_head;   /* release entries processed */
    uint64_t mark;       /* `received` at the first read index of a reap */
    uint32_t held;       /* slots with its bit in `held` */
    uint32_t pending;    /* entries in [floor, tail) */
    uint64_t received, released, dropped;
    uint16_t *ring;      /* ring_size entries: slot of delivery index i at cell(i) */
};

struct cm_sbuf_own {
    struct cm_sbuf_slot *slots;
    struct cm_sbuf_peer *peers;
    uint32_t slot_count, slot_size;
    uint32_t max_consumers, max_held, max_loans, policy;
    uint32_t ring_size;
    uint32_t free, loaned, published;
    uint32_t active;     /* mask of ACTIVE consumers */
    uint64_t next_seq;
    uint64_t index_base; /* first index of every new consumer's rings */
};

/* Prepares every slot FREE and every consumer position ABSENT. `slots` has
 * cfg->slot_count entries, `peers` cfg->max_consumers, `mirror`
 * cfg->max_consumers * pow2(slot_count) entries. first_seq is the first
 * sequence number and index_base the first ring index (tests start them
 * near 2^64 to cross the wrap; targets use 0); gen_seed as in dma_own.
 * Errors: INVALID_ARGS (NULL storage), cm__sbuf_config_check's. */
cm_status_t cm__sbuf_own_init(struct cm_sbuf_own *o, struct cm_sbuf_slot *slots,
                              struct cm_sbuf_peer *peers, uint16_t *mirror,
                              const cm_sbuf_config_t *cfg, uint64_t first_seq,
                              uint64_t index_base, uint32_t gen_seed);

/* A new consumer in the lowest ABSENT position: it will be delivered every
 * message published from now on (join_seq = next_seq); both its rings start
 * at index_base. Errors: NO_RESOURCES (max_consumers positions taken,
 * evicted ones included until they leave). */
cm_status_t cm__sbuf_own_join(struct cm_sbuf_own *o, uint32_t *consumer);

/* The consumer is gone (closed, died, or evicted and now closed): every slot
 * it held or had pending loses its bit, and those left with no bit are FREE.
 * *freed (may be NULL) counts them. Errors: INVALID_ARGS (position out of
 * range or ABSENT). */
cm_status_t cm__sbuf_own_leave(struct cm_sbuf_own *o, uint32_t consumer, uint32_t *freed);

/* A hostile consumer: as leave, but the position stays EVICTED (so the
 * consumer's own handle keeps a position to report, and the producer stops
 * reading its area) until cm__sbuf_own_leave. Errors: INVALID_ARGS (not
 * ACTIVE). */
cm_status_t cm__sbuf_own_evict(struct cm_sbuf_own *o, uint32_t consumer, uint32_t *freed);

/* Takes the lowest FREE slot for the producer. Errors: NO_RESOURCES
 * (max_loans loans out: waiting cannot help), SHOULD_WAIT (no FREE slot:
 * reap, drop or wait, then retry). */
cm_status_t cm__sbuf_own_loan(struct cm_sbuf_own *o, uint64_t *loan_id, uint32_t *slot);

/* Resolves a live loan id. Errors: BAD_HANDLE. */
cm_status_t cm__sbuf_own_loan_slot(const struct cm_sbuf_own *o, uint64_t loan_id, uint32_t *slot);

/* Publishes a loan to every ACTIVE consumer: the slot's pending set is the
 * active mask, each consumer's mirror gets the slot at its tail, and tail
 * advances. *to (may be NULL) gets the mask: the caller writes, for each
 * consumer in it, {seq, slot, len} at delivery index peers[c].tail - 1,
 * then release-stores the new tail. With no consumer the slot is FREE at
 * once. Errors: BAD_HANDLE; OUT_OF_RANGE (len > slot_size; the loan stays).
 * Never NO_RESOURCES: a consumer's pending entries are distinct non-FREE
 * slots, so tail - floor <= slot_count <= ring_size always. */
cm_status_t cm__sbuf_own_publish(struct cm_sbuf_own *o, uint64_t loan_id, uint32_t len,
                                 uint64_t *seq, uint32_t *slot, uint32_t *to);

/* LOANED -> FREE. Errors: BAD_HANDLE. */
cm_status_t cm__sbuf_own_cancel(struct cm_sbuf_own *o, uint64_t loan_id);

/* Reaping a consumer's progress, one consumer at a time. The caller loads
 * from the consumer's area, in this order, each with acquire ordering:
 *   r1 = read, t = rel_tail, r2 = read
 * and calls reap_begin(r1, t, r2): it checks floor <= r1 <= r2 <= tail and
 * rel_head <= t <= rel_head + ring_size, accounts every delivery below r2
 * as received (pending -> held), remembers the received count at r1, and
 * gives the number of release entries to read in *nrel. The caller copies
 * each entry at release index rel_head + k (k < *nrel) out of shared memory
 * once and passes the copy to reap_release; then calls reap_end.
 * Why three loads: a release can only name a message received before it
 * was written, and t's acquire makes that receive visible to the r2 load,
 * so no honest release names an entry at or above r2; and every receive
 * below r1 was made after the releases the consumer wrote before it, all
 * at or below t, so (received at r1) - (released up to t) is at most
 * max_held for an honest consumer (docs/sbuf.md "Held bound").
 * Errors (PROTOCOL: the caller evicts the consumer): an index out of its
 * window; INVALID_ARGS (consumer not ACTIVE or out of range). On error
 * nothing changed. */
cm_status_t cm__sbuf_own_reap_begin(struct cm_sbuf_own *o, uint32_t consumer, uint64_t r1,
                                    uint64_t rel_tail, uint64_t r2, uint32_t *nrel);

/* One release entry. Checked: reserved 0, slot in range, the slot is
 * PUBLISHED with this seq (a forged, stale or reused seq fails), the
 * consumer's bit is in `held` (not: it never received it, released it
 * already, or it is another consumer's). On OK the bit clears, rel_head
 * advances, and *freed (may be NULL) says whether the slot became FREE.
 * Errors: PROTOCOL (nothing changed); INVALID_ARGS (consumer not ACTIVE). */
cm_status_t cm__sbuf_own_reap_release(struct cm_sbuf_own *o, uint32_t consumer,
                                      const struct cm_sbuf_rel *rel, int *freed);

/* Ends a reap: PROTOCOL if the consumer held more than max_held at r1
 * (received at r1 minus released), the hoarding an honest consumer cannot
 * do. Errors: PROTOCOL; INVALID_ARGS (consumer not ACTIVE). */
cm_status_t cm__sbuf_own_reap_end(struct cm_sbuf_own *o, uint32_t consumer);

/* DROP_OLDEST: the delivery to take back next. Among ACTIVE consumers with
 * pending entries, the one whose oldest pending entry (at floor) has the
 * oldest message; ties go to the lowest position. That message is at the
 * floor of every ring it is pending in (anything older there was received,
 * else it would be the oldest), so dropping it everywhere needs no hole in
 * any ring. *consumer and *index (== its floor) say which; the caller tries
 * CAS(read, index, index + 1) on that consumer's area: success means the
 * consumer did not receive it, then call cm__sbuf_own_dropped; failure
 * means it did, then reap that consumer and ask again.
 * Errors: SHOULD_WAIT (nothing pending anywhere); BAD_STATE (policy is
 * BLOCK). */
cm_status_t cm__sbuf_own_drop_candidate(const struct cm_sbuf_own *o, uint32_t *consumer,
                                        uint64_t *index);

/* The CAS on delivery `index` of `consumer` succeeded: the entry is taken
 * back (pending bit cleared, floor and dropped advance; FREE if no bit
 * left, *freed says so). Errors: INVALID_ARGS (not ACTIVE, or index is not
 * its floor, or nothing pending). */
cm_status_t cm__sbuf_own_dropped(struct cm_sbuf_own *o, uint32_t consumer, uint64_t index,
                                 int *freed);

/* Slot state counts recomputed from scratch (tests and assertions). */
void cm__sbuf_own_count(const struct cm_sbuf_own *o, uint32_t *free, uint32_t *loaned,
                        uint32_t *published);

#endif
