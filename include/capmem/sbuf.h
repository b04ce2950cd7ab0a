/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_SBUF_H
#define CAPMEM_SBUF_H

/* SharedBuffer: pooled zero-copy streams from one producer to up to
 * CM_SBUF_MAX_CONSUMERS consumers, the same API on both targets.
 * docs/sbuf.md has the design: memory layout, the ring protocol and its
 * memory ordering, notification, death of either side, trust.
 *
 * STATUS: implemented on both targets and part of <capmem/capmem.h>.
 * Host: host/sbuf*.c, including consumer handles over channels
 * (host/wire.h version 3, admission by core/sbuf_admit.c) and
 * cm_object_wait_* on both handle types. Kernel: kernel/object/sbuf.c,
 * sbuf_consumer.c and the user runtime user/sbuf.c (consumer handles travel
 * over channels and as spawn start-up handles; object waits work;
 * docs/sbuf.md "Kernel target").
 *
 * Objects and roles.
 *   A buffer (handle type CM_OBJ_SBUF) owns slot_count slots of slot_size
 *   bytes in one data VMO. Its handle is the producer role: loan a slot
 *   (writable, in place), publish it with a length, or cancel the loan.
 *   A consumer (handle type CM_OBJ_SBUF_CONSUMER) is one reader of the
 *   stream, made from the buffer handle by cm_sbuf_consumer_create. It sees
 *   every message published after it was made (a late joiner sees nothing
 *   older), maps the data read-only, and holds each message it received
 *   until it releases it. A slot returns to the producer when every
 *   consumer that received it released it (fan-out). Closing a consumer's
 *   last handle (or its process dying) is leaving: the slots it held or had
 *   pending are released. Closing the buffer's last handle is the producer
 *   leaving: consumers receive what was already published, then
 *   PEER_CLOSED.
 *
 * Rights (they only shrink: duplicate, replace, transfer):
 *   buffer    WRITE      loan, publish, cancel
 *             READ       cm_sbuf_consumer_create (only a reader mints readers)
 *             DUPLICATE  cm_handle_duplicate
 *             MAP        (held for symmetry with VMOs; loan maps writable)
 *             no TRANSFER: the producer's writable mapping and its private
 *             bookkeeping stay in the creating process (host: the data
 *             memfd is sealed against new writable mappings once the
 *             producer's mapping exists; docs/sbuf.md "Layout"). On host
 *             a forked child's copy of a buffer handle is inert: loan,
 *             publish, cancel and consumer_create return BAD_STATE there.
 *   consumer  READ       receive (both forms), release, get_info
 *             (sending moves it: the sender's handle and mappings are gone,
 *             what it held is released, its read position travels; the
 *             receiver judges every fd and field as hostile, PROTOCOL for
 *             a forged consumer: docs/sbuf.md "Consumers over a channel")
 *             MAP        cm_sbuf_receive (a pointer into the read-only
 *                        mapping); without MAP only cm_sbuf_receive_copy
 *             TRANSFER   send it over a channel to the consuming process
 *             no DUPLICATE: a consumer is one read position of one ring.
 *
 * Waiting. Every call that can wait takes timeout_ns under the one timeout
 * rule (core/deadline.h): CM_TIMEOUT_INFINITE waits forever, 0 does not
 * wait (SHOULD_WAIT when nothing is available now), a positive value waits
 * at most that long (TIMED_OUT when it passes), any other negative value is
 * INVALID_ARGS. A wait first spins briefly (adaptive, bounded; host: the
 * consumer's receive only; kernel: never, one hart), then sleeps (host:
 * futex_waitv on a word of the shared mapping, woken only when the sleeper
 * said it sleeps; the other side's death wakes it through the hang-up of
 * the consumer's socket to the producer, seen by a library thread;
 * docs/sbuf.md "Host: sleeping on a futex"; kernel: a receive sleeps on a
 * word of its producer-area VMO keyed by the VMO and offset, never a
 * virtual address, and a BLOCK loan sleeps in the kernel). Host: closing the
 * handle from another thread wakes a sleeper (BAD_HANDLE). With
 * CM_SBUF_BUSY_POLL it never sleeps: it spins until the timeout (0 stays a
 * single check; kernel: it yields the CPU between looks); for callers who
 * dedicate a CPU to latency.
 *
 * Signals (cm_object_wait_one/many, include/capmem/object.h; host: a
 * blocked wait sleeps in poll on the consumer's socket or the producer's
 * epoll set of them, announced to the other side by its own bit of the
 * waiting flag; kernel: the kernel's object wait):
 *   buffer    WRITABLE     a cm_sbuf_loan with timeout 0 would succeed
 *   consumer  READABLE     a message is waiting (including after the
 *                          producer left: it drains first)
 *             PEER_CLOSED  the producer is gone, or this consumer was
 *                          evicted for breaking the protocol; never cleared
 * The buffer has no PEER_CLOSED: consumers may join at any time, so "no
 * consumer now" is not final (publishing with none frees the slot at once).
 *
 * Messages larger than a slot are refused (OUT_OF_RANGE at publish, and a
 * loan never offers more than slot_size): no chains. A chain would hold
 * several slots for one message (breaking the bounds that make DROP_OLDEST
 * never wait), give the consumer scattered pieces instead of one pointer,
 * and need an all-or-nothing publish and drop. Size the slots for the
 * largest message, or send rare large payloads as a sealed one-shot VMO
 * (docs/vmo.md).
 *
 * Trust. A consumer cannot write the data or another consumer's state, and
 * everything it writes into its own release ring is validated by the
 * producer: a hostile consumer is evicted (its slots reclaimed, its state
 * CM_SBUF_CONSUMER_EVICTED in get_info) and the producer's calls go on
 * without an error caused by it. A producer can always rewrite a slot
 * after publishing it: consumers that do not trust the producer use
 * cm_sbuf_receive_copy (one copy, then the bytes are theirs) or a sealed
 * IMMUTABLE VMO per message instead of a SharedBuffer. */

#include <stdint.h>
#include <capmem/handle.h>
#include <capmem/limits.h>
#include <capmem/channel.h> /* CM_TIMEOUT_INFINITE */

#ifdef __cplusplus
extern "C" {
#endif

/* Rights of a new buffer handle, and the most a new consumer handle gets. */
#define CM_SBUF_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP | \
                                CM_RIGHT_DUPLICATE)
#define CM_SBUF_CONSUMER_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER)

/* Overflow policy (cm_sbuf_config.policy): what a loan does when every slot
 * is in use. Values are ABI. */
#define CM_SBUF_BLOCK       1u /* wait until consumers release a slot */
#define CM_SBUF_DROP_OLDEST 2u /* take back the oldest message no consumer has
                                  received yet; each consumer it was pending at
                                  sees a gap in sequence numbers and counts it
                                  in `dropped`. Never waits on a slow consumer. */

/* cm_sbuf_config.options: none defined yet; every bit is INVALID_ARGS. */

typedef struct cm_sbuf_config {
    uint32_t slot_count;    /* 1 .. CM_SBUF_MAX_SLOTS */
    uint32_t slot_size;     /* bytes, 1 .. CM_SBUF_MAX_SLOT_SIZE; slot_count times
                               the slot stride (slot_size rounded up to
                               CM_SBUF_SLOT_ALIGN) at most CM_SBUF_MAX_DATA_SIZE */
    uint32_t max_consumers; /* 1 .. CM_SBUF_MAX_CONSUMERS consumers at once */
    uint32_t max_held;      /* messages one consumer may hold (received, not
                               released) at once: 1 .. slot_count */
    uint32_t max_loans;     /* slots the producer may hold loaned at once:
                               1 .. min(slot_count, CM_SBUF_MAX_LOANS) */
    uint32_t policy;        /* CM_SBUF_BLOCK or CM_SBUF_DROP_OLDEST */
    uint32_t options;       /* must be 0 */
    uint32_t reserved;      /* must be 0 */
} cm_sbuf_config_t;
/* With DROP_OLDEST, also slot_count >= max_consumers * max_held + max_loans:
 * then some slot is always free or only pending (not received by anyone), so
 * a loan can always take one back and never waits (docs/sbuf.md). */

/* Wait flags of cm_sbuf_loan / cm_sbuf_receive / cm_sbuf_receive_copy. */
#define CM_SBUF_BUSY_POLL (1u << 0) /* never sleep: spin until the timeout */

/* A loaned slot. `id` names this loan (slot and generation): it dies at
 * publish or cancel, and a dead or foreign id is BAD_HANDLE, never another
 * loan. `data` is writable for `capacity` (= slot_size) bytes until then. */
typedef struct cm_sbuf_loan {
    uint64_t id;
    void *data;
    uint32_t capacity;
    uint32_t reserved;
} cm_sbuf_loan_t;

/* A received message. `data` points into the consumer's read-only mapping
 * (NULL from cm_sbuf_receive_copy) and stays valid until cm_sbuf_release
 * with `seq`, or until the consumer handle is closed. `dropped` counts the
 * messages published after the previous one this consumer received that it
 * will never see (DROP_OLDEST; always 0 with BLOCK). */
typedef struct cm_sbuf_msg {
    const void *data;
    uint32_t len;
    uint32_t reserved;
    uint64_t seq;     /* the producer's publication number, +1 per publish */
    uint64_t dropped;
} cm_sbuf_msg_t;

/* cm_sbuf_consumer_info.state */
#define CM_SBUF_CONSUMER_ABSENT  0u /* no consumer in this position */
#define CM_SBUF_CONSUMER_ACTIVE  1u
#define CM_SBUF_CONSUMER_EVICTED 2u /* broke the protocol; its slots were reclaimed */

/* Per-consumer accounting, so that an exhausted pool names its culprit.
 * Through the buffer handle the producer's own bookkeeping (authoritative:
 * consumers cannot write it); through a consumer handle that consumer's
 * view of itself (only its own position is filled). */
typedef struct cm_sbuf_consumer_info {
    uint32_t state;    /* CM_SBUF_CONSUMER_* */
    uint32_t held;     /* received, not released */
    uint32_t pending;  /* published to it, not yet received */
    uint32_t reserved;
    uint64_t received;
    uint64_t released;
    uint64_t dropped;  /* messages taken back before it received them */
} cm_sbuf_consumer_info_t;

typedef struct cm_sbuf_info {
    cm_sbuf_config_t config;
    uint32_t free;          /* slots nobody holds */
    uint32_t loaned;        /* slots loaned to the producer */
    uint32_t published;     /* slots pending at or held by some consumer */
    uint32_t self;          /* through a consumer handle: its position; else UINT32_MAX */
    uint64_t next_seq;      /* sequence number of the next publish */
    cm_sbuf_consumer_info_t consumers[CM_SBUF_MAX_CONSUMERS];
} cm_sbuf_info_t;

/* Creates a buffer with every slot free and no consumer; *buffer gets
 * CM_SBUF_DEFAULT_RIGHTS. Nothing is left behind on error.
 * Errors, in this order: INVALID_ARGS (config or buffer NULL; options or
 * reserved not 0; unknown policy; slot_count, slot_size, max_consumers,
 * max_held or max_loans 0; max_held or max_loans above slot_count; with
 * DROP_OLDEST, slot_count below max_consumers * max_held + max_loans);
 * OUT_OF_RANGE (slot_count > CM_SBUF_MAX_SLOTS, slot_size >
 * CM_SBUF_MAX_SLOT_SIZE, max_consumers > CM_SBUF_MAX_CONSUMERS, max_loans >
 * CM_SBUF_MAX_LOANS, data size > CM_SBUF_MAX_DATA_SIZE, in that order);
 * NO_RESOURCES (handle limit; host: fd or mapping limit); NO_MEMORY. */
cm_status_t cm_sbuf_create(const cm_sbuf_config_t *config, cm_handle_t *buffer);

/* Makes a new consumer of `buffer` with `rights` (a subset of
 * CM_SBUF_CONSUMER_DEFAULT_RIGHTS, or CM_RIGHTS_SAME for all of them). It
 * receives every message published after this call returns. Needs READ.
 * Errors, in this order: INVALID_ARGS (consumer NULL; rights neither
 * CM_RIGHTS_SAME nor a subset of CM_SBUF_CONSUMER_DEFAULT_RIGHTS);
 * BAD_HANDLE; WRONG_TYPE (not a buffer); ACCESS_DENIED (no READ);
 * NO_RESOURCES (max_consumers consumers exist; handle limit; host: fd or
 * mapping limit); NO_MEMORY. */
cm_status_t cm_sbuf_consumer_create(cm_handle_t buffer, cm_rights_t rights,
                                    cm_handle_t *consumer);

/* Loans a free slot to the producer: write the message into loan->data,
 * then publish or cancel. With BLOCK and every slot in use it waits for a
 * release; with DROP_OLDEST it takes back the oldest message nobody
 * received instead and never waits for a consumer. Needs WRITE.
 * Errors, in this order: INVALID_ARGS (loan NULL; unknown flag bits;
 * negative timeout other than CM_TIMEOUT_INFINITE); BAD_HANDLE;
 * WRONG_TYPE; ACCESS_DENIED (no WRITE); NO_RESOURCES (the producer
 * already holds max_loans loans: publish or cancel one; waiting cannot
 * help); SHOULD_WAIT (timeout 0, no slot now); TIMED_OUT. */
cm_status_t cm_sbuf_loan(cm_handle_t buffer, uint32_t flags, int64_t timeout_ns,
                         cm_sbuf_loan_t *loan);

/* Publishes a loaned slot with `len` bytes (0 .. slot_size) to every
 * consumer that exists now; the loan id dies and loan->data must not be
 * written again (it is the consumers' now). *seq (may be NULL) gets its
 * sequence number. With no consumer the slot is free again at once.
 * Never waits: every consumer's ring has room for every slot. Needs WRITE.
 * Errors, in this order: BAD_HANDLE (buffer); WRONG_TYPE; ACCESS_DENIED (no
 * WRITE); BAD_HANDLE (loan_id dead, never issued, or another buffer's);
 * OUT_OF_RANGE (len > slot_size: the loan stays valid). */
cm_status_t cm_sbuf_publish(cm_handle_t buffer, uint64_t loan_id, uint32_t len, uint64_t *seq);

/* Gives a loaned slot back unpublished; the loan id dies. Needs WRITE.
 * Errors, in this order: BAD_HANDLE (buffer); WRONG_TYPE; ACCESS_DENIED;
 * BAD_HANDLE (loan_id). */
cm_status_t cm_sbuf_cancel(cm_handle_t buffer, uint64_t loan_id);

/* Receives the next message in publication order, zero-copy: msg->data
 * points into this consumer's read-only mapping of the slot, which this
 * consumer holds until cm_sbuf_release(msg->seq). Needs READ|MAP.
 * Errors, in this order: INVALID_ARGS (msg NULL; unknown flag bits; bad
 * timeout); BAD_HANDLE; WRONG_TYPE (not a consumer); ACCESS_DENIED (no
 * READ or no MAP); PROTOCOL (the producer wrote an invalid descriptor or index: this
 * consumer is broken from now on, its held messages stay mapped until it
 * is closed); PEER_CLOSED (nothing left and the producer is gone, or this
 * consumer was evicted); NO_RESOURCES (it already holds max_held messages:
 * release one; waiting cannot help); SHOULD_WAIT (timeout 0, nothing
 * published); TIMED_OUT. */
cm_status_t cm_sbuf_receive(cm_handle_t consumer, uint32_t flags, int64_t timeout_ns,
                            cm_sbuf_msg_t *msg);

/* As cm_sbuf_receive, but copies the message into buf and releases the slot
 * before returning (msg->data is NULL): after it returns, the producer can
 * no longer change the bytes the caller validates. Needs READ.
 * Errors: as cm_sbuf_receive, except ACCESS_DENIED only without READ;
 * INVALID_ARGS also for buf NULL with buf_cap > 0; BUFFER_TOO_SMALL
 * (buf_cap below the message's length, a stage-3 fact right after
 * PEER_CLOSED: the message stays queued and msg->len tells the size
 * needed). */
cm_status_t cm_sbuf_receive_copy(cm_handle_t consumer, uint32_t flags, int64_t timeout_ns,
                                 void *buf, uint32_t buf_cap, cm_sbuf_msg_t *msg);

/* Releases the received message `seq`; its pointer must not be used again.
 * The slot returns to the producer once every consumer that received it
 * released it. Needs READ.
 * Errors, in this order: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; PROTOCOL
 * (the consumer is broken, or the producer's release index is invalid,
 * which breaks it as for receive); BAD_STATE (this consumer does not hold
 * `seq`: never received, released already, or another consumer's). */
cm_status_t cm_sbuf_release(cm_handle_t consumer, uint64_t seq);

/* Configuration, slot counts and per-consumer counters, through either a
 * buffer or a consumer handle (see cm_sbuf_consumer_info). Needs no right.
 * Errors, in this order: INVALID_ARGS (info NULL); BAD_HANDLE; WRONG_TYPE
 * (neither a buffer nor a consumer). */
cm_status_t cm_sbuf_get_info(cm_handle_t handle, cm_sbuf_info_t *info);

#ifdef __cplusplus
}
#endif

#endif
