/* SPDX-License-Identifier: MIT */
/* Fuzz target for core/handle_table: arbitrary sequences of operations on a
 * table of arbitrary capacity, against a shadow model.
 *
 *   make build/libfuzzer/htab && build/libfuzzer/htab -runs=10000000
 *
 * Input: byte 0 picks the capacity (1..16); then 5-byte operations (an op
 * byte, a 32-bit argument): allocate (any type, any rights), remove a live
 * handle, look up a handle chosen to be live, stale (removed), one bit away
 * from a live one, or raw, with a type and needed rights; remove a value
 * that is not live; iterate; allocate with invalid arguments. Values are
 * chosen from the model, not built from the table's encoding, so most
 * lookups hit live entries.
 *
 * Checked after every operation: a value the model does not hold live is
 * BAD_HANDLE (lookup and remove) and changes nothing; a live value resolves
 * to exactly its object, type and rights, with WRONG_TYPE and ACCESS_DENIED
 * exactly when the model says; a full table refuses with NO_RESOURCES and
 * only then; iteration yields each live value once; the live count
 * matches; a new value is none of the values closed earlier in the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handle_table.h"
#include "fuzz_stage.h"

FUZZ_STAGES("alloc", "full", "remove", "refused", "stale", "iterate", "accepted");
enum { ST_ALLOC, ST_FULL, ST_REMOVE, ST_REFUSED, ST_STALE, ST_ITERATE, ST_ACCEPTED };

#define MAXCAP 16
#define MAXDEAD 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int objs[256];

struct model {
    uint32_t cap, nlive, ndead;
    cm_handle_t live[MAXCAP], dead[MAXDEAD];
    uint8_t obj[MAXCAP];
    uint32_t type[MAXCAP];
    cm_rights_t rights[MAXCAP];
};

static int live_index(const struct model *m, cm_handle_t h)
{
    for (uint32_t k = 0; k < m->nlive; k++)
        if (m->live[k] == h)
            return (int)k;
    return -1;
}

/* A handle value to try: live, stale, a live one with one bit flipped, or
 * any 32-bit value. */
static cm_handle_t pick(const struct model *m, uint32_t arg)
{
    uint32_t how = arg & 3, k = arg >> 2;
    if (how == 0 && m->nlive > 0)
        return m->live[k % m->nlive];
    if (how == 1 && m->ndead > 0)
        return m->dead[k % m->ndead];
    if (how == 2 && m->nlive > 0)
        return m->live[k % m->nlive] ^ (1u << ((k >> 8) % 32));
    return arg;
}

static void op_alloc(struct cm_htab *t, struct model *m, uint32_t arg)
{
    uint32_t type = 1 + arg % (CM_OBJ_TYPE_COUNT - 1);
    cm_rights_t rights = (arg >> 8) & CM_RIGHTS_ALL;
    cm_handle_t h = CM_HANDLE_INVALID;
    cm_status_t st = cm__htab_alloc(t, &objs[(arg >> 16) & 255], type, rights, &h);
    if ((m->nlive == m->cap) != (st == CM_ERR_NO_RESOURCES))
        abort();
    if (st != CM_OK) {
        if (st != CM_ERR_NO_RESOURCES)
            abort();
        FUZZ_REACHED(ST_FULL);
        return;
    }
    if (h == CM_HANDLE_INVALID || live_index(m, h) >= 0)
        abort();
    /* No value is reissued soon after its close: an input is at most a few
     * hundred operations, far fewer than the reuses a value needs to come
     * back. */
    for (uint32_t k = 0; k < m->ndead; k++)
        if (m->dead[k] == h)
            abort();
    FUZZ_REACHED(ST_ALLOC);
    m->live[m->nlive] = h;
    m->obj[m->nlive] = (uint8_t)(arg >> 16);
    m->type[m->nlive] = type;
    m->rights[m->nlive] = rights;
    m->nlive++;
}

static void op_remove_live(struct cm_htab *t, struct model *m, uint32_t arg)
{
    if (m->nlive == 0)
        return;
    uint32_t k = arg % m->nlive;
    struct cm_htab_entry was;
    if (cm__htab_remove(t, m->live[k], &was) != CM_OK || was.object != &objs[m->obj[k]] ||
        was.type != m->type[k] || was.rights != m->rights[k])
        abort();
    FUZZ_REACHED(ST_REMOVE);
    if (m->ndead < MAXDEAD)
        m->dead[m->ndead++] = m->live[k];
    else
        m->dead[arg % MAXDEAD] = m->live[k];
    m->nlive--;
    m->live[k] = m->live[m->nlive];
    m->obj[k] = m->obj[m->nlive];
    m->type[k] = m->type[m->nlive];
    m->rights[k] = m->rights[m->nlive];
}

static void op_lookup(struct cm_htab *t, const struct model *m, uint32_t arg, uint8_t sel)
{
    cm_handle_t h = pick(m, arg);
    uint32_t type = sel % 3 == 0 ? CM_OBJ_NONE : 1 + (sel >> 2) % (CM_OBJ_TYPE_COUNT - 1);
    cm_rights_t need = sel % 3 == 2 ? (cm_rights_t)(arg >> 24) & CM_RIGHTS_ALL : 0;
    struct cm_htab_entry *got = NULL;
    cm_status_t st = cm__htab_lookup(t, h, type, need, &got);
    int k = live_index(m, h);
    cm_status_t want = k < 0                                            ? CM_ERR_BAD_HANDLE
                       : (type != CM_OBJ_NONE && type != m->type[k])     ? CM_ERR_WRONG_TYPE
                       : (m->rights[k] & need) != need                   ? CM_ERR_ACCESS_DENIED
                                                                         : CM_OK;
    if (st != want)
        abort();
    if (st == CM_OK) {
        if (got == NULL || got->object != &objs[m->obj[k]] || got->type != m->type[k] ||
            got->rights != m->rights[k])
            abort();
        FUZZ_REACHED(ST_ACCEPTED);
    } else if (k >= 0) {
        FUZZ_REACHED(ST_REFUSED);
    } else if ((arg & 3) == 1) {
        FUZZ_REACHED(ST_STALE);
    }
}

static void op_remove_not_live(struct cm_htab *t, const struct model *m, uint32_t arg)
{
    cm_handle_t h = pick(m, arg | 1); /* stale, or a live one's neighbour, or raw */
    if (live_index(m, h) >= 0)
        return;
    if (cm__htab_remove(t, h, NULL) != CM_ERR_BAD_HANDLE)
        abort();
}

static void op_iterate(struct cm_htab *t, const struct model *m)
{
    uint32_t cursor = 0, seen = 0;
    uint8_t hit[MAXCAP] = { 0 };
    cm_handle_t h;
    while ((h = cm__htab_next(t, &cursor)) != CM_HANDLE_INVALID) {
        int k = live_index(m, h);
        if (k < 0 || hit[k] || ++seen > m->nlive)
            abort();
        hit[k] = 1;
    }
    if (seen != m->nlive)
        abort();
    FUZZ_REACHED(ST_ITERATE);
}

static void op_alloc_invalid(struct cm_htab *t, uint32_t arg)
{
    cm_handle_t h;
    uint32_t type = arg & 1 ? CM_OBJ_NONE : CM_OBJ_TYPE_COUNT + (arg >> 1) % 8;
    if (cm__htab_alloc(t, arg & 2 ? NULL : &objs[0], arg & 2 ? CM_OBJ_VMO : type, 0, &h) !=
        CM_ERR_INVALID_ARGS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_htab t;
    struct cm_htab_entry e[MAXCAP];
    struct model m = { 0 };
    if (size < 1)
        return 0;
    m.cap = 1 + data[0] % MAXCAP;
    if (cm__htab_init(&t, e, m.cap) != CM_OK)
        abort();
    for (size_t i = 1; i + 4 < size; i += 5) {
        uint8_t op = data[i];
        uint32_t arg;
        memcpy(&arg, data + i + 1, 4);
        switch (op % 8) {
        case 0: case 1: op_alloc(&t, &m, arg); break;
        case 2: op_remove_live(&t, &m, arg); break;
        case 3: case 4: op_lookup(&t, &m, arg, op >> 3); break;
        case 5: op_remove_not_live(&t, &m, arg); break;
        case 6: op_iterate(&t, &m); break;
        default: op_alloc_invalid(&t, arg); break;
        }
        if (t.live != m.nlive)
            abort();
    }
    return 0;
}
