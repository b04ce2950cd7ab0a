/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_KSBUF_H
#define CAPMEM_KERNEL_KSBUF_H

/* SharedBuffer kernel objects (kernel/object/sbuf.c, sbuf_consumer.c;
 * docs/sbuf.md "Kernel target").
 *
 * INVARIANT: the producer's bookkeeping (struct cm_sbuf_own and its slot,
 * peer and mirror storage) is here, in kernel memory: no process can write
 * it. Consumers influence it only through the words the kernel loads from
 * their consumer-area VMO, each checked by core/sbuf_own.c.
 *
 * Memory: the data VMO (producer maps it read-write, consumers read-only),
 * per consumer a producer-area VMO (the kernel writes it; the consumer
 * maps it read-only) and a consumer-area VMO (the consumer maps it
 * read-write; the kernel reads it and, under DROP_OLDEST, moves `read`).
 * The kernel accesses them through its own mapping of their frames. */

#include <stdint.h>
#include <capmem/object.h>
#include <capmem/sbuf.h>

#include "kobj.h"
#include "sbuf_own.h"
#include "sbuf_ring.h"

#define KOBJ_MAX_SBUFS 4u           /* buffers in the whole kernel */
#define KOBJ_MAX_SBUF_CONSUMERS 32u /* consumer objects in the whole kernel */

struct vmo;
struct ksbuf_cons;
struct proc;

/* A mapping the object made in some process; removed when the object dies
 * or (consumers) when another process attaches, if it is still there. */
struct ksbuf_map {
    int32_t pid; /* 0: none */
    uint64_t va, len;
    struct vmo *vmo;
};

/* Lifetime. The object (handles, kobj) is the producer's: its last
 * reference is the producer leaving. The bookkeeping outlives it while a
 * consumer remains (`gone`: producer left, `lingering`: the pool entry is
 * still taken by consumers after kobj_reap marked the object dead), so
 * every consumer-side check (sbuf_copy: "a message delivered to this
 * consumer, not released") reads the same state before and after the
 * producer's death. The entry is free again when the last consumer leaves. */
struct ksbuf {
    struct kobj obj;
    uint32_t gone;             /* the producer left; no loan, no publish */
    uint32_t lingering;        /* pool entry kept for consumers (obj dead) */
    cm_sbuf_config_t cfg;
    struct cm_sbuf_layout lay;
    struct cm_sbuf_own own;
    struct vmo *data;
    struct ksbuf_map pmap;     /* the producer's read-write data mapping */
    uint32_t waiting;          /* prod_waiting set in the producer areas */
    struct ksbuf_cons *cons[CM_SBUF_MAX_CONSUMERS]; /* by position */
    struct cm_sbuf_slot slots[CM_SBUF_MAX_SLOTS];
    struct cm_sbuf_peer peers[CM_SBUF_MAX_CONSUMERS];
    uint16_t mirror[CM_SBUF_MAX_CONSUMERS * CM_SBUF_MAX_SLOTS];
};

struct ksbuf_cons {
    struct kobj obj;
    struct ksbuf *buf;         /* its buffer's bookkeeping, until it leaves */
    uint32_t pos;
    cm_sbuf_config_t cfg;
    struct cm_sbuf_layout lay;
    struct vmo *data, *prod, *cons; /* one reference each */
    struct ksbuf_map maps[3];  /* data, prod, cons in the attached process */
};

/* Kernel pointers into a consumer's areas. */
struct cm_sbuf_prod_ctl *ksbuf_prod_ctl(const struct ksbuf_cons *c);
struct cm_sbuf_cons_ctl *ksbuf_cons_ctl(const struct ksbuf_cons *c);

/* The producer side (sbuf.c) as the consumer side needs it. */
void ksbuf_reap(struct ksbuf *b, uint32_t pos);
void ksbuf_consumer_left(struct ksbuf *b, uint32_t pos);
/* Wakes the producer's sleeping loan and object waiters. */
void ksbuf_wake_producer(struct ksbuf *b);
/* Bumps the consumer's wait word and wakes its sleepers. */
void ksbuf_wake_consumer(struct ksbuf_cons *c);

/* Mappings (sbuf_consumer.c): maps `v` into p and records it. */
cm_status_t ksbuf_map(struct proc *p, struct vmo *v, uint64_t len, int writable,
                      struct ksbuf_map *m);
/* Removes the recorded mapping if its process still has it. */
void ksbuf_unmap(struct ksbuf_map *m);

/* Access leaves with the handle. A mapping an object made in a process
 * lasts only while that process holds a handle to the object with the
 * right the mapping needs (buffer data: WRITE; consumer data: MAP; a
 * consumer's two areas: any handle). handle_take calls
 * ksbuf_handle_dropped for a SharedBuffer handle leaving a table (close,
 * replace, a move over a channel or to a child); ksbuf_revoke runs at the
 * end of the system call (never in the middle of one: the call may still
 * copy from that memory) and removes every mapping its process may no
 * longer have. */
void ksbuf_handle_dropped(void);
void ksbuf_revoke(void);
/* Buffer side of ksbuf_revoke: sbuf.c walks its pool, calling
 * ksbuf_revoke_buffer on each live buffer. */
void ksbuf_revoke_buffers(void);
void ksbuf_revoke_buffer(struct ksbuf *b);

void ksbuf_destroy(struct ksbuf *b);
void ksbuf_cons_destroy(struct ksbuf_cons *c);
cm_signals_t ksbuf_signals(struct ksbuf *b);
cm_signals_t ksbuf_cons_signals(const struct ksbuf_cons *c);

#endif
