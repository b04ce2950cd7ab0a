/* SPDX-License-Identifier: MIT */
#include "dma_own.h"

/* The whole ownership model is this table; everything else is id decoding
 * and the three guards named in dma_own.h. docs/dma.md prints the same table
 * and tests/host/dma_own.c has one test per cell. */

#define OK_(n, a) { (uint8_t)(n), (uint8_t)(a), (int8_t)CM_OK }
#define NO_(s) { (uint8_t)(s), 0, (int8_t)CM_ERR_BAD_STATE }

#define SCRUB CM_DMA_ACT_SCRUB
#define START CM_DMA_ACT_START_IO
#define RET CM_DMA_ACT_RETURN
#define UNPUB CM_DMA_ACT_UNPUBLISH

static const struct cm_dma_transition table[CM_DMA_STATE_COUNT][CM_DMA_EVENT_COUNT] = {
    /*                   ACQUIRE                    SUBMIT                        COMPLETE                      WAIT                          RELEASE                         SCRUBBED               DETACH                      ABANDON */
    [CM_DMA_FREE]        = { OK_(CM_DMA_CPU_OWNED, 0),  NO_(CM_DMA_FREE),             NO_(CM_DMA_FREE),             NO_(CM_DMA_FREE),             NO_(CM_DMA_FREE),               NO_(CM_DMA_FREE),      NO_(CM_DMA_FREE),           OK_(CM_DMA_FREE, 0) },
    [CM_DMA_CPU_OWNED]   = { NO_(CM_DMA_CPU_OWNED),     OK_(CM_DMA_IN_FLIGHT, START | UNPUB), NO_(CM_DMA_CPU_OWNED), NO_(CM_DMA_CPU_OWNED),   OK_(CM_DMA_DIRTY, SCRUB | UNPUB), NO_(CM_DMA_CPU_OWNED), OK_(CM_DMA_FREE, UNPUB), OK_(CM_DMA_DIRTY, SCRUB | UNPUB) },
    [CM_DMA_IN_FLIGHT]   = { NO_(CM_DMA_IN_FLIGHT),     NO_(CM_DMA_IN_FLIGHT),        OK_(CM_DMA_SIGNALED, 0),      NO_(CM_DMA_IN_FLIGHT),        NO_(CM_DMA_IN_FLIGHT),          NO_(CM_DMA_IN_FLIGHT), NO_(CM_DMA_IN_FLIGHT),      OK_(CM_DMA_QUARANTINED, 0) },
    [CM_DMA_SIGNALED]    = { NO_(CM_DMA_SIGNALED),      NO_(CM_DMA_SIGNALED),         NO_(CM_DMA_SIGNALED),         OK_(CM_DMA_CPU_OWNED, RET),   NO_(CM_DMA_SIGNALED),           NO_(CM_DMA_SIGNALED),  NO_(CM_DMA_SIGNALED),       OK_(CM_DMA_DIRTY, SCRUB) },
    [CM_DMA_QUARANTINED] = { NO_(CM_DMA_QUARANTINED),   NO_(CM_DMA_QUARANTINED),      OK_(CM_DMA_DIRTY, SCRUB),     NO_(CM_DMA_QUARANTINED),      NO_(CM_DMA_QUARANTINED),        NO_(CM_DMA_QUARANTINED), NO_(CM_DMA_QUARANTINED), OK_(CM_DMA_QUARANTINED, 0) },
    [CM_DMA_DIRTY]       = { NO_(CM_DMA_DIRTY),         NO_(CM_DMA_DIRTY),            NO_(CM_DMA_DIRTY),            NO_(CM_DMA_DIRTY),            NO_(CM_DMA_DIRTY),              OK_(CM_DMA_FREE, 0),   NO_(CM_DMA_DIRTY),          OK_(CM_DMA_DIRTY, SCRUB) },
};

#undef OK_
#undef NO_
#undef SCRUB
#undef START
#undef RET
#undef UNPUB

#define ID_SLOT_MASK 0xffffull
#define ID_FENCE_BIT (1ull << 16)
#define ID_ZERO_MASK 0xfffe0000ull /* bits 17..31 */

static const char *const state_names[CM_DMA_STATE_COUNT] = {
    "FREE", "CPU_OWNED", "IN_FLIGHT", "SIGNALED", "QUARANTINED", "DIRTY",
};

static const char *const event_names[CM_DMA_EVENT_COUNT] = {
    "acquire", "submit", "complete", "wait", "release", "scrubbed", "detach", "abandon",
};

const struct cm_dma_transition *cm__dma_own_transition(uint32_t state, uint32_t event)
{
    if (state >= CM_DMA_STATE_COUNT || event >= CM_DMA_EVENT_COUNT)
        return 0;
    return &table[state][event];
}

const char *cm__dma_state_name(uint32_t state)
{
    return state < CM_DMA_STATE_COUNT ? state_names[state] : "?";
}

const char *cm__dma_event_name(uint32_t event)
{
    return event < CM_DMA_EVENT_COUNT ? event_names[event] : "?";
}

/* Generations skip 0 so that an all-zero id is never valid. */
static uint32_t next_gen(uint32_t gen)
{
    return gen == 0xffffffffu ? 1u : gen + 1u;
}

static int device_holds(uint32_t state)
{
    return state == CM_DMA_IN_FLIGHT || state == CM_DMA_QUARANTINED;
}

cm_status_t cm__dma_own_init(struct cm_dma_own *o, struct cm_dma_slot *slots,
                             uint32_t count, uint32_t max_in_flight, uint32_t gen_seed)
{
    if (o == 0 || slots == 0 || count == 0 || count > CM_DMA_OWN_MAX_SLOTS ||
        max_in_flight == 0 || max_in_flight > count)
        return CM_ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < count; i++) {
        slots[i].state = CM_DMA_FREE;
        slots[i].buf_gen = gen_seed != 0 ? gen_seed : 1u;
        slots[i].io_gen = gen_seed != 0 ? gen_seed : 1u;
        slots[i].result = CM_OK;
        slots[i].bytes = 0;
    }
    o->slots = slots;
    o->count = count;
    o->max_in_flight = max_in_flight;
    o->device_held = 0;
    o->quarantined = 0;
    o->free = count;
    o->dropped = 0;
    return CM_OK;
}

cm_status_t cm__dma_own_apply(struct cm_dma_own *o, uint32_t slot, uint32_t event,
                              uint32_t *action)
{
    if (slot >= o->count || event >= CM_DMA_EVENT_COUNT)
        return CM_ERR_INVALID_ARGS;
    struct cm_dma_slot *s = &o->slots[slot];
    const struct cm_dma_transition *t = &table[s->state][event];
    if (t->status != CM_OK)
        return t->status;
    uint32_t from = s->state, to = t->next;
    o->device_held += (uint32_t)device_holds(to) - (uint32_t)device_holds(from);
    o->quarantined += (uint32_t)(to == CM_DMA_QUARANTINED) - (uint32_t)(from == CM_DMA_QUARANTINED);
    o->free += (uint32_t)(to == CM_DMA_FREE) - (uint32_t)(from == CM_DMA_FREE);
    s->state = (uint8_t)to;
    if (event == CM_DMA_EV_ACQUIRE)
        s->buf_gen = next_gen(s->buf_gen);
    else if (event == CM_DMA_EV_SUBMIT)
        s->io_gen = next_gen(s->io_gen);
    if (action != 0)
        *action = t->action;
    return CM_OK;
}

uint64_t cm__dma_buffer_id(uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)slot + 1u);
}

uint64_t cm__dma_fence_id(uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ID_FENCE_BIT | ((uint64_t)slot + 1u);
}

/* Decodes an id of the given kind; returns 0 and sets *slot and *gen if it is
 * well formed and names a slot of this pool. */
static int decode(const struct cm_dma_own *o, uint64_t id, int fence, uint32_t *slot,
                  uint32_t *gen)
{
    uint64_t idx = id & ID_SLOT_MASK;
    uint32_t g = (uint32_t)(id >> 32);
    if ((id & ID_ZERO_MASK) != 0 || ((id & ID_FENCE_BIT) != 0) != (fence != 0))
        return -1;
    if (idx == 0 || idx > o->count || g == 0)
        return -1;
    *slot = (uint32_t)(idx - 1);
    *gen = g;
    return 0;
}

cm_status_t cm__dma_own_acquire(struct cm_dma_own *o, uint64_t *buffer, uint32_t *slot)
{
    /* Lowest FREE slot: deterministic, so tests can force slot reuse. */
    for (uint32_t i = 0; i < o->count; i++) {
        if (o->slots[i].state != CM_DMA_FREE)
            continue;
        cm_status_t st = cm__dma_own_apply(o, i, CM_DMA_EV_ACQUIRE, 0);
        if (st != CM_OK)
            return st;
        *buffer = cm__dma_buffer_id(i, o->slots[i].buf_gen);
        *slot = i;
        return CM_OK;
    }
    return CM_ERR_NO_RESOURCES;
}

cm_status_t cm__dma_own_buffer(const struct cm_dma_own *o, uint64_t buffer, uint32_t *slot)
{
    uint32_t i, gen;
    if (decode(o, buffer, 0, &i, &gen) != 0)
        return CM_ERR_BAD_HANDLE;
    const struct cm_dma_slot *s = &o->slots[i];
    if (s->buf_gen != gen)
        return CM_ERR_BAD_HANDLE;
    if (s->state != CM_DMA_CPU_OWNED && s->state != CM_DMA_IN_FLIGHT &&
        s->state != CM_DMA_SIGNALED)
        return CM_ERR_BAD_HANDLE;
    *slot = i;
    return CM_OK;
}

cm_status_t cm__dma_own_fence(const struct cm_dma_own *o, uint64_t fence, uint32_t *slot)
{
    uint32_t i, gen;
    if (decode(o, fence, 1, &i, &gen) != 0)
        return CM_ERR_BAD_HANDLE;
    const struct cm_dma_slot *s = &o->slots[i];
    if (s->io_gen != gen)
        return CM_ERR_BAD_HANDLE;
    if (s->state != CM_DMA_IN_FLIGHT && s->state != CM_DMA_SIGNALED)
        return CM_ERR_BAD_HANDLE;
    *slot = i;
    return CM_OK;
}

cm_status_t cm__dma_own_check_cpu(const struct cm_dma_own *o, uint64_t buffer, uint32_t *slot)
{
    uint32_t i;
    cm_status_t st = cm__dma_own_buffer(o, buffer, &i);
    if (st != CM_OK)
        return st;
    if (o->slots[i].state != CM_DMA_CPU_OWNED)
        return CM_ERR_BAD_STATE;
    *slot = i;
    return CM_OK;
}

cm_status_t cm__dma_own_submit_check(const struct cm_dma_own *o, uint64_t buffer,
                                     uint32_t *slot, uint64_t *fence)
{
    uint32_t i;
    cm_status_t st = cm__dma_own_buffer(o, buffer, &i);
    if (st != CM_OK)
        return st;
    const struct cm_dma_transition *t = &table[o->slots[i].state][CM_DMA_EV_SUBMIT];
    if (t->status != CM_OK)
        return t->status;
    if (o->device_held >= o->max_in_flight)
        return CM_ERR_NO_RESOURCES;
    *slot = i;
    *fence = cm__dma_fence_id(i, next_gen(o->slots[i].io_gen));
    return CM_OK;
}

cm_status_t cm__dma_own_submit(struct cm_dma_own *o, uint64_t buffer, uint32_t *slot,
                               uint64_t *fence)
{
    uint32_t i;
    uint64_t f;
    cm_status_t st = cm__dma_own_submit_check(o, buffer, &i, &f);
    if (st != CM_OK)
        return st;
    st = cm__dma_own_apply(o, i, CM_DMA_EV_SUBMIT, 0);
    if (st != CM_OK)
        return st;
    o->slots[i].result = CM_OK;
    o->slots[i].bytes = 0;
    *slot = i;
    *fence = f;
    return CM_OK;
}

cm_status_t cm__dma_own_complete(struct cm_dma_own *o, uint64_t tag, cm_status_t result,
                                 uint32_t bytes, uint32_t *slot, uint32_t *action)
{
    uint32_t i, gen;
    if (decode(o, tag, 1, &i, &gen) != 0 || o->slots[i].io_gen != gen) {
        o->dropped++;
        return CM_ERR_BAD_HANDLE;
    }
    uint32_t act;
    cm_status_t st = cm__dma_own_apply(o, i, CM_DMA_EV_COMPLETE, &act);
    if (st != CM_OK) {
        o->dropped++;
        return st;
    }
    o->slots[i].result = result;
    o->slots[i].bytes = bytes;
    if (slot != 0)
        *slot = i;
    if (action != 0)
        *action = act;
    return CM_OK;
}

cm_status_t cm__dma_own_wait(struct cm_dma_own *o, uint64_t fence, uint32_t *slot,
                             uint64_t *buffer, cm_status_t *result, uint32_t *bytes)
{
    uint32_t i;
    cm_status_t st = cm__dma_own_fence(o, fence, &i);
    if (st != CM_OK)
        return st;
    if (o->slots[i].state == CM_DMA_IN_FLIGHT)
        return CM_ERR_SHOULD_WAIT;
    st = cm__dma_own_apply(o, i, CM_DMA_EV_WAIT, 0);
    if (st != CM_OK)
        return st;
    /* The fence generation stays: the claimed fence id now fails the state
     * check in cm__dma_own_fence, and the next submit bumps it anyway. */
    *slot = i;
    *buffer = cm__dma_buffer_id(i, o->slots[i].buf_gen);
    *result = o->slots[i].result;
    *bytes = o->slots[i].bytes;
    return CM_OK;
}

cm_status_t cm__dma_own_release(struct cm_dma_own *o, uint64_t buffer, uint32_t *slot)
{
    uint32_t i;
    cm_status_t st = cm__dma_own_buffer(o, buffer, &i);
    if (st != CM_OK)
        return st;
    st = cm__dma_own_apply(o, i, CM_DMA_EV_RELEASE, 0);
    if (st != CM_OK)
        return st;
    *slot = i;
    return CM_OK;
}

cm_status_t cm__dma_own_scrubbed(struct cm_dma_own *o, uint32_t slot)
{
    return cm__dma_own_apply(o, slot, CM_DMA_EV_SCRUBBED, 0);
}

cm_status_t cm__dma_own_detach(struct cm_dma_own *o, uint64_t buffer, uint32_t *slot)
{
    uint32_t i;
    cm_status_t st = cm__dma_own_buffer(o, buffer, &i);
    if (st != CM_OK)
        return st;
    st = cm__dma_own_apply(o, i, CM_DMA_EV_DETACH, 0);
    if (st != CM_OK)
        return st;
    *slot = i;
    return CM_OK;
}

void cm__dma_own_abandon_all(struct cm_dma_own *o)
{
    /* ABANDON is legal in every state, so this cannot fail part way. */
    for (uint32_t i = 0; i < o->count; i++)
        (void)cm__dma_own_apply(o, i, CM_DMA_EV_ABANDON, 0);
}
