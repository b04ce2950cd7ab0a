/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_DMA_OWN_H
#define CAPMEM_CORE_DMA_OWN_H

/* DMA buffer ownership: the state machine shared by the host library (io_uring
 * device) and the kernel target (virtio-blk driver). Freestanding C11: no
 * libc, no allocation, no locking, no globals. The caller provides the slot
 * storage and serializes every call (host: the pool mutex; kernel: the
 * driver's lock).
 *
 * Every buffer slot is in exactly one state:
 *
 *   FREE         in the pool, scrubbed, nobody holds it.
 *   CPU_OWNED    one client holds it; only the CPU touches it.
 *   IN_FLIGHT    a fence holds it; only the device touches it.
 *   SIGNALED     the device finished; the fence holds it until a wait claims
 *                it (the CPU still has no access: ownership returns through
 *                the fence, never implicitly).
 *   QUARANTINED  its owner vanished (pool destroyed, owner died) while the
 *                device held it; nobody may reuse it until the device's
 *                completion arrives.
 *   DIRTY        back from a client or the device, not yet scrubbed; it
 *                cannot be acquired until the caller scrubbed it.
 *
 * Transitions are the table in dma_own.c (and docs/dma.md). Guards outside
 * the table: acquire needs a FREE slot (NO_RESOURCES), submit needs room
 * under max_in_flight (NO_RESOURCES), complete needs the tag's generation to
 * be the slot's current one (stale: dropped).
 *
 * Ids. A buffer id names one acquisition of a slot, a fence id names one
 * submission. Both are 64 bits: bits 0..15 slot index + 1, bit 16 set for
 * fences, bits 17..31 zero, bits 32..63 a generation that is never 0. The
 * buffer generation advances at every acquire, the fence generation at every
 * submit, so a released buffer's id or a consumed fence's id is rejected
 * (BAD_HANDLE) until the 32-bit generation wraps: at 10^6 submits per second
 * on one slot that is over an hour, where a 15-bit handle generation would
 * wrap in 33 ms. The fence id is also the device tag (io_uring user_data,
 * virtio descriptor cookie), so a completion names exactly one submission. */

#include <stdint.h>
#include <capmem/status.h>

/* Largest slot count the id layout can name (16-bit index). */
#define CM_DMA_OWN_MAX_SLOTS 0xffffu

typedef enum cm_dma_state {
    CM_DMA_FREE = 0,
    CM_DMA_CPU_OWNED,
    CM_DMA_IN_FLIGHT,
    CM_DMA_SIGNALED,
    CM_DMA_QUARANTINED,
    CM_DMA_DIRTY,
    CM_DMA_STATE_COUNT
} cm_dma_state_t;

typedef enum cm_dma_event {
    CM_DMA_EV_ACQUIRE = 0, /* a client takes a scrubbed slot              */
    CM_DMA_EV_SUBMIT,      /* the owner hands it to the device            */
    CM_DMA_EV_COMPLETE,    /* the device reports the submission finished  */
    CM_DMA_EV_WAIT,        /* the fence holder claims the buffer back     */
    CM_DMA_EV_RELEASE,     /* the owner gives it back to the pool         */
    CM_DMA_EV_SCRUBBED,    /* the pool zeroed its memory                  */
    CM_DMA_EV_DETACH,      /* the owner takes the memory out of the pool;
                              the slot got fresh zeroed memory             */
    CM_DMA_EV_ABANDON,     /* pool destroyed or owner died                */
    CM_DMA_EVENT_COUNT
} cm_dma_event_t;

/* What the caller must do after a transition (bit set). */
#define CM_DMA_ACT_SCRUB     (1u << 0) /* zero the memory, then send SCRUBBED     */
#define CM_DMA_ACT_START_IO  (1u << 1) /* hand the memory to the device now       */
#define CM_DMA_ACT_RETURN    (1u << 2) /* ownership returned: report the result   */
#define CM_DMA_ACT_UNPUBLISH (1u << 3) /* the CPU's access to the memory must end */

/* One row of the transition table. status is CM_OK for a legal transition,
 * otherwise the error and next == the current state. */
struct cm_dma_transition {
    uint8_t next;
    uint8_t action;
    int8_t status;
};

struct cm_dma_slot {
    uint8_t state;       /* cm_dma_state_t */
    uint32_t buf_gen;    /* generation of the current/last buffer id, never 0 */
    uint32_t io_gen;     /* generation of the current/last fence id, never 0 */
    cm_status_t result;  /* device result of the last completion */
    uint32_t bytes;      /* bytes the device transferred */
};

struct cm_dma_own {
    struct cm_dma_slot *slots;
    uint32_t count;
    uint32_t max_in_flight;
    uint32_t device_held;  /* slots IN_FLIGHT or QUARANTINED: what the device may touch */
    uint32_t quarantined;
    uint32_t free;
    uint64_t dropped;      /* completions dropped as stale or unexpected */
};

/* Returns the table row for (state, event); NULL if either is out of range. */
const struct cm_dma_transition *cm__dma_own_transition(uint32_t state, uint32_t event);

/* Human-readable names for docs, tests and diagnostics; never NULL. */
const char *cm__dma_state_name(uint32_t state);
const char *cm__dma_event_name(uint32_t event);

/* Prepares `slots[0..count)` as FREE. Generations start at gen_seed (0 is
 * taken as 1): a per-pool random seed makes one pool's ids meaningless in
 * another pool instead of colliding with its first ids.
 * Errors: INVALID_ARGS (count 0 or above CM_DMA_OWN_MAX_SLOTS, max_in_flight
 * 0 or above count, NULL). */
cm_status_t cm__dma_own_init(struct cm_dma_own *o, struct cm_dma_slot *slots,
                             uint32_t count, uint32_t max_in_flight, uint32_t gen_seed);

/* Applies one event to one slot through the table, with no guard (tests and
 * the typed wrappers below use it). On success updates the counters and
 * returns the action bits in *action (may be NULL). Errors: INVALID_ARGS
 * (slot or event out of range); the table's status (BAD_STATE). On error
 * nothing changes. */
cm_status_t cm__dma_own_apply(struct cm_dma_own *o, uint32_t slot, uint32_t event,
                              uint32_t *action);

/* Id layout helpers. */
uint64_t cm__dma_buffer_id(uint32_t slot, uint32_t gen);
uint64_t cm__dma_fence_id(uint32_t slot, uint32_t gen);

/* Takes a FREE slot for a new client: CPU_OWNED with a new buffer id.
 * Errors: NO_RESOURCES (no FREE slot). */
cm_status_t cm__dma_own_acquire(struct cm_dma_own *o, uint64_t *buffer, uint32_t *slot);

/* Resolves a buffer id to its slot. A buffer id lives from acquire until
 * release, detach or abandon. Errors: BAD_HANDLE (never issued, released,
 * stale generation, a fence id). */
cm_status_t cm__dma_own_buffer(const struct cm_dma_own *o, uint64_t buffer, uint32_t *slot);

/* Resolves a fence id to its slot. A fence id lives from submit until the
 * wait that claims it, or until abandon. Errors: BAD_HANDLE. */
cm_status_t cm__dma_own_fence(const struct cm_dma_own *o, uint64_t fence, uint32_t *slot);

/* CPU access check: OK only while the buffer is CPU_OWNED.
 * Errors: BAD_HANDLE; BAD_STATE (the fence or the device holds it). */
cm_status_t cm__dma_own_check_cpu(const struct cm_dma_own *o, uint64_t buffer, uint32_t *slot);

/* Validates a submit without changing anything: BAD_HANDLE; BAD_STATE
 * (already submitted: double submit); NO_RESOURCES (max_in_flight reached).
 * On OK, *fence is the id the submit will issue (also the device tag). */
cm_status_t cm__dma_own_submit_check(const struct cm_dma_own *o, uint64_t buffer,
                                     uint32_t *slot, uint64_t *fence);

/* Validates (as above) and commits: the buffer becomes IN_FLIGHT under *fence. */
cm_status_t cm__dma_own_submit(struct cm_dma_own *o, uint64_t buffer, uint32_t *slot,
                               uint64_t *fence);

/* A device completion for `tag` (a fence id). Accepted only if the tag's
 * slot is IN_FLIGHT or QUARANTINED with the same generation: IN_FLIGHT
 * becomes SIGNALED (result stored), QUARANTINED becomes DIRTY (*action has
 * SCRUB). Anything else is dropped and counted in o->dropped.
 * Errors: BAD_HANDLE (malformed or stale tag); BAD_STATE (no submission
 * outstanding on the slot, e.g. a duplicate completion). */
cm_status_t cm__dma_own_complete(struct cm_dma_own *o, uint64_t tag, cm_status_t result,
                                 uint32_t bytes, uint32_t *slot, uint32_t *action);

/* Fence wait: if SIGNALED, the buffer returns CPU_OWNED to the caller with
 * the device result; the fence id dies. Errors: BAD_HANDLE; SHOULD_WAIT
 * (still IN_FLIGHT: nothing changed). */
cm_status_t cm__dma_own_wait(struct cm_dma_own *o, uint64_t fence, uint32_t *slot,
                             uint64_t *buffer, cm_status_t *result, uint32_t *bytes);

/* The owner gives a CPU_OWNED buffer back: it becomes DIRTY, the caller must
 * scrub and then call cm__dma_own_scrubbed. Errors: BAD_HANDLE; BAD_STATE. */
cm_status_t cm__dma_own_release(struct cm_dma_own *o, uint64_t buffer, uint32_t *slot);

/* DIRTY -> FREE once the memory was zeroed. Errors: INVALID_ARGS; BAD_STATE. */
cm_status_t cm__dma_own_scrubbed(struct cm_dma_own *o, uint32_t slot);

/* The owner took the buffer's memory away and the caller already gave the
 * slot fresh zero-filled memory: CPU_OWNED -> FREE. Errors: BAD_HANDLE;
 * BAD_STATE. Use cm__dma_own_check_cpu to validate before doing the work. */
cm_status_t cm__dma_own_detach(struct cm_dma_own *o, uint64_t buffer, uint32_t *slot);

/* Owner gone: every slot gets ABANDON. Buffers the device holds become
 * QUARANTINED, buffers a client or a fence held become DIRTY (the caller
 * scrubs them: check each slot's state afterwards). All ids die. */
void cm__dma_own_abandon_all(struct cm_dma_own *o);

#endif
