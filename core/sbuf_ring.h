/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_SBUF_RING_H
#define CAPMEM_CORE_SBUF_RING_H

/* SharedBuffer: what both sides of the shared memory agree on, for both
 * targets (docs/sbuf.md). Freestanding C11: no libc, no allocation, no
 * locks, no globals; no atomics either (the targets do the loads and
 * stores with the orderings docs/sbuf.md names, and pass the values here).
 *
 *  - the configuration rule of cm_sbuf_create (error precedence of
 *    docs/api.md) and the layout it implies (slot stride, ring sizes,
 *    control area sizes), overflow-checked;
 *  - the descriptor formats of the two rings every consumer has: the
 *    delivery ring (producer writes, consumer reads) and the release ring
 *    (consumer writes, producer reads);
 *  - ring index arithmetic. Indices and sequence numbers are free-running
 *    64-bit counters compared by unsigned difference, so they wrap at 2^64
 *    with no special case; a ring cell is index & (size - 1) (sizes are
 *    powers of two, and 2^64 is a multiple of every one, so the cell
 *    sequence stays contiguous across the wrap).
 *
 * Everything read from shared memory is a value the other side could have
 * forged: checks return PROTOCOL for it, never trust it. */

#include <stdint.h>
#include <capmem/capmem.h>
#include <capmem/sbuf.h>

/* A delivery: "message seq is in slot, len bytes". Written by the producer
 * into the consumer's delivery ring at index i, made visible by the
 * release-store of the ring's tail. 16 bytes, no padding. */
struct cm_sbuf_desc {
    uint64_t seq;
    uint32_t slot;
    uint32_t len;
};

/* A release: "I am done with message seq in slot". Written by the consumer
 * into its release ring, made visible by the release-store of rel_tail. */
struct cm_sbuf_rel {
    uint64_t seq;
    uint32_t slot;
    uint32_t reserved; /* 0; anything else is PROTOCOL */
};

/* Control words of one consumer. The producer area (struct
 * cm_sbuf_prod_ctl, then the delivery ring) is written only by the
 * producer and mapped read-only by the consumer; the consumer area (struct
 * cm_sbuf_cons_ctl, then the release ring) is written by the consumer and
 * read by the producer, which also CASes `read` forward to drop a message
 * under DROP_OLDEST. Each struct starts a page and is two cache lines:
 * the word the other side spins on (tail; rel_tail) shares its line only
 * with what is written at the same step, so the writer's other step (the
 * producer's reap storing rel_head; the consumer's claim storing read)
 * does not take that line from the spinner and back between the two
 * stores (measured: busy-poll round trip 2.0x -> 1.7x a raw cache-line
 * ping-pong, docs/sbuf.md). */
struct cm_sbuf_prod_ctl {
    /* line 0: what a waiting consumer watches (written at publish) */
    uint64_t tail;        /* delivery entries written: [read, tail) pending */
    uint32_t tail_word;   /* the consumer's wait word: a counter bumped at every
                             publish to it and at CLOSED/EVICTED (both targets) */
    uint32_t state;       /* CM_SBUF_CTL_* */
    uint64_t join_seq;    /* first sequence number this consumer may see */
    uint64_t index_base;  /* both rings' first index */
    uint32_t pad0[8];
    /* line 1: written when the producer reaps or sleeps; a write here
     * does not take line 0 away from a consumer spinning on it */
    uint64_t rel_head;    /* release entries the producer has processed */
    uint32_t prod_waiting;/* producer sleeps (host: bit 0 polls the sockets,
                             bit 1 futex_waitv on the consumer area's rel_word) */
    uint32_t prod_cpu;    /* CPU + 1 the producer last waited on (0: unknown);
                             a hint for spinning, never trusted */
    uint32_t pad1[12];
};

struct cm_sbuf_cons_ctl {
    /* line 0: written when the consumer receives or sleeps */
    uint64_t read;        /* delivery entries received or dropped */
    uint32_t cons_waiting;/* consumer sleeps (host: bit 0 polls its socket,
                             bit 1 futex_waitv on tail_word) */
    uint32_t cons_cpu;    /* CPU + 1 the consumer last waited on (0: unknown);
                             a hint for spinning, never trusted */
    uint32_t pad0[12];
    /* line 1: what a waiting producer watches (written at release) */
    uint64_t rel_tail;    /* release entries written */
    uint32_t rel_word;    /* low 32 bits of rel_tail: the producer's wait word */
    uint32_t pad1[13];
};

/* cm_sbuf_prod_ctl.state */
#define CM_SBUF_CTL_OPEN    1u
#define CM_SBUF_CTL_CLOSED  2u /* the producer is gone: drain, then PEER_CLOSED */
#define CM_SBUF_CTL_EVICTED 3u /* the producer evicted this consumer */

/* What a configuration implies. Every size is exact and overflow-checked. */
struct cm_sbuf_layout {
    uint32_t stride;         /* slot_size rounded up to CM_SBUF_SLOT_ALIGN */
    uint32_t ring_size;      /* entries of each ring: power of two >= slot_count */
    uint64_t data_size;      /* slot_count * stride */
    uint64_t prod_area_size; /* page-rounded: prod_ctl + delivery ring */
    uint64_t cons_area_size; /* page-rounded: cons_ctl + release ring */
};

/* The rule of cm_sbuf_create's config, stage 1 of docs/api.md: every
 * INVALID_ARGS first (config_ok, out_ok, options/reserved, policy, zero
 * fields, max_held/max_loans above slot_count, the DROP_OLDEST bound), then
 * OUT_OF_RANGE (slot_count, slot_size, max_consumers, max_loans, data
 * size, in that order). Also the check a consumer applies to the
 * configuration it reads from the producer's area (there, any error is the
 * producer's: the caller maps it to PROTOCOL). */
cm_status_t cm__sbuf_config_check(const cm_sbuf_config_t *cfg, int out_ok);

/* Stage 1 of cm_sbuf_loan (INVALID_ARGS): the loan out-pointer, unknown
 * flag bits. The timeout is core/deadline.h's rule. */
cm_status_t cm__sbuf_loan_check_args(int loan_ok, uint32_t flags);

/* Stage 1 of cm_sbuf_receive (copy 0) and cm_sbuf_receive_copy (copy 1)
 * (INVALID_ARGS): msg, unknown flag bits, a NULL buffer with a non-zero
 * capacity. The timeout is core/deadline.h's rule. */
cm_status_t cm__sbuf_receive_check_args(int msg_ok, uint32_t flags, int copy, int buf_ok,
                                        uint32_t cap);

/* The layout of a configuration that passed cm__sbuf_config_check.
 * Errors: INVALID_ARGS (cfg or out NULL), or cm__sbuf_config_check's. */
cm_status_t cm__sbuf_layout(const cm_sbuf_config_t *cfg, struct cm_sbuf_layout *out);

/* Smallest power of two >= n, for 1 <= n <= 2^31; 0 otherwise. */
uint32_t cm__sbuf_pow2(uint32_t n);

/* The cell of ring index `index` in a ring of `size` (a power of two). */
static inline uint32_t cm__sbuf_cell(uint64_t index, uint32_t size)
{
    return (uint32_t)(index & (uint64_t)(size - 1u));
}

/* Entries in [head, tail) with wrap: tail - head. */
static inline uint64_t cm__sbuf_count(uint64_t head, uint64_t tail)
{
    return tail - head;
}

/* True if `x` lies in [lo, hi] on the 64-bit circle, hi reached from lo by
 * going forward (hi - lo < 2^63). The one "index is within a window" test. */
static inline int cm__sbuf_within(uint64_t lo, uint64_t x, uint64_t hi)
{
    return x - lo <= hi - lo;
}

/* True if b is a (possibly zero) step forward from a: b - a < 2^63. */
static inline int cm__sbuf_forward(uint64_t a, uint64_t b)
{
    return b - a < (1ull << 63);
}

/* Age of sequence number `seq` relative to the next one to be issued:
 * next - seq. The oldest message has the largest age. */
static inline uint64_t cm__sbuf_age(uint64_t next_seq, uint64_t seq)
{
    return next_seq - seq;
}

#endif
