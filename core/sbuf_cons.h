/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_SBUF_CONS_H
#define CAPMEM_CORE_SBUF_CONS_H

/* SharedBuffer, the consumer side, for both targets (docs/sbuf.md
 * "Receiving"). Freestanding C11, caller-provided storage, calls serialized
 * by the caller (one consumer is one reader).
 *
 * The consumer's private state: where it has read to, which sequence
 * number it expects next, and the list of messages it holds. Everything
 * the producer wrote (tail, rel_head, descriptors, the configuration, and
 * the read index when the producer moved it to drop) is checked here
 * before use: PROTOCOL for anything an honest producer cannot produce.
 * Receiving (the target's loop, for the delivery at shared index r):
 *   1. r = load_acquire(read); t = load_acquire(tail). DROP_OLDEST: load
 *      read again and go to 1 if it moved (a take-back between the two
 *      loads, then publishes, could put t more than ring_size past r)
 *   2. cm__sbuf_cons_poll(r, t): SHOULD_WAIT if empty, PROTOCOL if bad
 *   3. copy the descriptor at cell(r) once (relaxed loads)
 *   BLOCK (nobody else moves read: the copy is the delivery at r):
 *   4. cm__sbuf_cons_check(desc, r): PROTOCOL if it is not the delivery an
 *      honest producer put at r
 *   5. store_release(read, r + 1)
 *   DROP_OLDEST (claim first, then check):
 *   4. CAS(read, r, r + 1); on failure the producer took r back and may
 *      already have rewritten cell(r) (the copy may be torn or a later
 *      delivery): discard the copy unchecked and go to 1
 *   5. cm__sbuf_cons_check(desc, r): the CAS proved read stayed r since
 *      step 1, so the cell was not rewritten and the copy is genuine;
 *      PROTOCOL only now. (Checked before the claim, an honest producer's
 *      reuse would be a false PROTOCOL: Spin mutant
 *      MUTANT_CHECK_BEFORE_CLAIM.)
 *   6. cm__sbuf_cons_received(desc, r).
 * A check that must not claim (BUFFER_TOO_SMALL under DROP_OLDEST) runs on
 * a scratch copy of the state and counts only if read is still r after it.
 * Releasing: cm__sbuf_cons_release gives the entry to write at rel_tail,
 * then store_release(rel_tail, rel_tail + 1). */

#include <stdint.h>
#include <capmem/capmem.h>
#include "sbuf_ring.h"

struct cm_sbuf_hold {
    uint64_t seq;
    uint32_t slot;
    uint32_t used;
};

struct cm_sbuf_cons {
    uint32_t slot_count, slot_size, ring_size, max_held, policy;
    int broken;             /* a PROTOCOL was seen: every later call fails */
    uint64_t read;          /* next delivery index this consumer reads */
    uint64_t expected;      /* sequence number it expects at `read` */
    uint64_t rel_tail;      /* release entries written */
    uint32_t held;
    uint64_t received, released, dropped;
    struct cm_sbuf_hold *holds; /* max_held entries */
};

/* Prepares the consumer from the configuration and the control words the
 * producer published for it (join_seq, index_base), all read from shared
 * memory by the caller: copy the configuration out once, size `holds`
 * (cfg->max_held entries) from that copy and pass the same copy, so that a
 * producer rewriting it meanwhile cannot change the size used. Errors: INVALID_ARGS (NULL storage); PROTOCOL (the
 * configuration fails cm__sbuf_config_check: the producer's area is not
 * one an honest producer writes). */
cm_status_t cm__sbuf_cons_init(struct cm_sbuf_cons *cs, struct cm_sbuf_hold *holds,
                               const cm_sbuf_config_t *cfg, uint64_t join_seq,
                               uint64_t index_base);

/* Stage before a receive: PROTOCOL if broken; NO_RESOURCES if it holds
 * max_held messages. */
cm_status_t cm__sbuf_cons_can_receive(const struct cm_sbuf_cons *cs);

/* Checks the shared indices: `read` (the consumer's own word, which the
 * producer may move forward, by any amount, to drop under DROP_OLDEST and
 * never with BLOCK) and `tail` (producer's). OK if a delivery is waiting at
 * `read`; SHOULD_WAIT if the ring is empty. Errors: PROTOCOL (read behind
 * this consumer's position, or moved at all with BLOCK; tail behind read or
 * more than ring_size ahead of it); sets broken. */
cm_status_t cm__sbuf_cons_poll(struct cm_sbuf_cons *cs, uint64_t read, uint64_t tail);

/* Checks a copied descriptor found at delivery index `read` (after
 * cm__sbuf_cons_poll passed for it): slot in range, len <= slot_size, and
 * seq exactly expected + (read - own position): every
 * message published after joining is delivered to every consumer, so the
 * only legal gap is the entries the producer took back, which moved read by
 * as many (with BLOCK: none). *gap (may be NULL) gets that count.
 * Errors: PROTOCOL (sets broken). */
cm_status_t cm__sbuf_cons_check(struct cm_sbuf_cons *cs, const struct cm_sbuf_desc *desc,
                                uint64_t read, uint64_t *gap);

/* The claim of delivery `read` succeeded: the message is held, the
 * position moves past it, `dropped` grows by the gap. Call only after
 * cm__sbuf_cons_check passed for the same (desc, read) and can_receive.
 * Errors: INVALID_ARGS (not checked: read behind position, or no free hold
 * entry); nothing changes on error. */
cm_status_t cm__sbuf_cons_received(struct cm_sbuf_cons *cs, const struct cm_sbuf_desc *desc,
                                   uint64_t read);

/* Releases held message `seq`: fills *rel with the entry to write at
 * release index *index (= rel_tail), drops the hold, advances rel_tail.
 * rel_head is the producer's processed count, read from shared memory.
 * Errors: PROTOCOL (broken; rel_head ahead of rel_tail or so far behind that
 * the ring is full, which an honest producer's ring never is: every
 * unprocessed release names a distinct slot); BAD_STATE (seq not held).
 * On error nothing changes (beyond broken). */
cm_status_t cm__sbuf_cons_release(struct cm_sbuf_cons *cs, uint64_t seq, uint64_t rel_head,
                                  struct cm_sbuf_rel *rel, uint64_t *index);

#endif
