/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_SBUF_ADMIT_H
#define CAPMEM_CORE_SBUF_ADMIT_H

/* The one rule deciding whether a SharedBuffer consumer that arrived from
 * another process (host: a channel message, host/wire.h) is admitted, and
 * with which rights (docs/sbuf.md, "Consumers over a channel"). Pure and
 * freestanding, like core/vmo_admit.h: the host gathers the facts of the
 * four fds (seals FIRST, then what they freeze), this decides, the host
 * maps. Everything here came from the sender, which may be hostile:
 *
 *  - the configuration passes cm__sbuf_config_check (the producer's rule),
 *    and the position is below its max_consumers;
 *  - the data and producer-area fds are unlinked shmem files (memfds)
 *    sealed against writing (WRITE or FUTURE_WRITE) and against resizing
 *    (GROW|SHRINK), of exactly the layout's size: the receiver's read-only
 *    mapping can never be written through by anyone else than the
 *    producer's existing mapping, nor cut under it (SIGBUS);
 *  - the consumer-area fd is an unlinked memfd sealed GROW|SHRINK, NOT
 *    write-sealed (the consumer writes it), of exactly the layout's size,
 *    open for reading and writing;
 *  - the socket is a connected AF_UNIX SOCK_SEQPACKET socket (the producer
 *    end; a listening or unconnected one is not);
 *  - flags carry only defined bits; counters are consistent (released <=
 *    received, and equal unless the consumer is broken, where at most
 *    max_held are still held).
 * Rights: those the sender granted (its handle's, already reduced on the
 * wire), within CM_SBUF_CONSUMER_DEFAULT_RIGHTS. */

#include <stdint.h>
#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "sbuf_ring.h"
#include "vmo_admit.h"

struct cm_sbuf_cons;
struct cm_sbuf_hold;

/* The metadata a consumer travels with (host/wire.h carries it verbatim
 * after the handle descriptors). 80 bytes, no padding. */
struct cm__sbuf_wire {
    cm_sbuf_config_t config;  /* the producer's configuration */
    uint32_t pos;             /* position at the producer */
    uint32_t flags;           /* CM__SBUF_WIRE_* */
    uint64_t read;            /* the consumer's own read position */
    uint64_t rel_tail;        /* release entries it wrote */
    uint64_t received, released, dropped; /* its counters (get_info) */
};
#define CM__SBUF_WIRE_BROKEN 1u /* the sender saw PROTOCOL: it stays broken */
#define CM__SBUF_WIRE_FLAGS  CM__SBUF_WIRE_BROKEN

/* Facts of the socket fd. */
struct cm__sbuf_sock_facts {
    uint32_t is_sock;     /* S_ISSOCK */
    uint32_t unix_domain; /* SO_DOMAIN is AF_UNIX */
    uint32_t seqpacket;   /* SO_TYPE is SOCK_SEQPACKET */
    uint32_t listening;   /* SO_ACCEPTCONN */
    uint32_t connected;   /* getpeername succeeded */
};

struct cm__sbuf_admit_facts {
    struct cm__vmo_facts data, prod, cons; /* seals_ok, seals, is_reg, fs, nlink,
                                              size, readable, writable */
    struct cm__sbuf_sock_facts sock;
};

struct cm__sbuf_admit_verdict {
    cm_rights_t rights;
    struct cm_sbuf_layout lay;
};

/* Decides admission of `meta` with its fds' facts and the rights the wire
 * descriptor claims (a mask of CM_RIGHTS_ALL bits). Every refusal is
 * PROTOCOL (the message is the sender's fault); *out is untouched then. */
cm_status_t cm__sbuf_admit_decide(const struct cm__sbuf_wire *meta,
                                  const struct cm__sbuf_admit_facts *f, cm_rights_t claimed,
                                  struct cm__sbuf_admit_verdict *out);

/* Second half, once the areas are mapped: the shared words must agree with
 * the metadata. `read` and `rel_tail` are the consumer area's words,
 * `tail` and `rel_head` the producer area's. An honest sender's consumer
 * released everything it held before sending (or is broken), so: rel_tail
 * is meta->rel_tail and at most ring_size ahead of rel_head; read is
 * meta->read (BLOCK) or at most ring_size ahead of it (DROP_OLDEST:
 * take-backs while in flight), and tail is at most ring_size ahead of
 * meta->read. Fills cs (its holds storage: cfg max_held entries) so that
 * the next receive continues at meta->read, expecting the sequence number
 * join_seq + (meta->read - index_base): every publish after the join is
 * delivered to every consumer, one ring entry each.
 * Errors: PROTOCOL. */
cm_status_t cm__sbuf_cons_adopt(struct cm_sbuf_cons *cs, struct cm_sbuf_hold *holds,
                                const struct cm__sbuf_wire *meta, uint64_t join_seq,
                                uint64_t index_base, uint64_t read, uint64_t rel_tail,
                                uint64_t tail, uint64_t rel_head);

#endif
