/* SPDX-License-Identifier: MIT */
#include "handle_table.h"

#define INDEX_MASK ((1u << CM_HTAB_INDEX_BITS) - 1u)

static cm_handle_t encode(uint32_t index, uint32_t gen)
{
    return ((cm_handle_t)gen << CM_HTAB_INDEX_BITS) | (index + 1u);
}

/* Appends slot `index` at the tail of the free list (FIFO reuse). */
static void free_push(struct cm_htab *t, uint32_t index)
{
    t->entries[index].next = 0;
    if (t->free_tail != 0)
        t->entries[t->free_tail - 1].next = index + 1;
    else
        t->free_head = index + 1;
    t->free_tail = index + 1;
}

cm_status_t cm__htab_init(struct cm_htab *t, struct cm_htab_entry *entries, uint32_t capacity)
{
    if (t == 0 || entries == 0 || capacity == 0 || capacity > CM_HTAB_MAX_CAPACITY)
        return CM_ERR_INVALID_ARGS;
    t->entries = entries;
    t->capacity = capacity;
    t->live = 0;
    t->free_head = 0;
    t->free_tail = 0;
    t->retired_head = 0;
    t->retired = 0;
    for (uint32_t i = 0; i < capacity; i++) {
        entries[i].object = 0;
        entries[i].type = CM_OBJ_NONE;
        entries[i].rights = 0;
        entries[i].gen = 1;
        free_push(t, i);
    }
    return CM_OK;
}

/* Takes the oldest free slot; when none is left, revives a retired one at
 * generation 1 rather than refuse (retiring must not shrink the table). */
static int slot_take(struct cm_htab *t, uint32_t *index)
{
    if (t->free_head != 0) {
        *index = t->free_head - 1;
        t->free_head = t->entries[*index].next;
        if (t->free_head == 0)
            t->free_tail = 0;
        return 1;
    }
    if (t->retired_head != 0) {
        *index = t->retired_head - 1;
        t->retired_head = t->entries[*index].next;
        t->retired--;
        t->entries[*index].gen = 1;
        return 1;
    }
    return 0;
}

cm_status_t cm__htab_alloc(struct cm_htab *t, void *object, uint32_t type,
                           cm_rights_t rights, cm_handle_t *out)
{
    uint32_t index;
    if (object == 0 || type == CM_OBJ_NONE || type >= CM_OBJ_TYPE_COUNT || out == 0)
        return CM_ERR_INVALID_ARGS;
    if (!slot_take(t, &index))
        return CM_ERR_NO_RESOURCES;
    struct cm_htab_entry *e = &t->entries[index];
    e->object = object;
    e->type = type;
    e->rights = rights;
    e->next = 0;
    t->live++;
    *out = encode(index, e->gen);
    return CM_OK;
}

static struct cm_htab_entry *find(struct cm_htab *t, cm_handle_t h)
{
    if ((h & 0x80000000u) != 0)
        return 0;
    uint32_t slot = h & INDEX_MASK;
    uint32_t gen = h >> CM_HTAB_INDEX_BITS;
    if (slot == 0 || slot > t->capacity || gen == 0)
        return 0;
    struct cm_htab_entry *e = &t->entries[slot - 1];
    if (e->type == CM_OBJ_NONE || e->gen != gen)
        return 0;
    return e;
}

cm_status_t cm__htab_lookup(struct cm_htab *t, cm_handle_t h, uint32_t type,
                            cm_rights_t need, struct cm_htab_entry **entry)
{
    struct cm_htab_entry *e = find(t, h);
    if (e == 0)
        return CM_ERR_BAD_HANDLE;
    if (type != CM_OBJ_NONE && e->type != type)
        return CM_ERR_WRONG_TYPE;
    if ((e->rights & need) != need)
        return CM_ERR_ACCESS_DENIED;
    if (entry != 0)
        *entry = e;
    return CM_OK;
}

cm_status_t cm__htab_remove(struct cm_htab *t, cm_handle_t h, struct cm_htab_entry *removed)
{
    struct cm_htab_entry *e = find(t, h);
    if (e == 0)
        return CM_ERR_BAD_HANDLE;
    if (removed != 0)
        *removed = *e;
    uint32_t index = (h & INDEX_MASK) - 1;
    e->object = 0;
    e->type = CM_OBJ_NONE;
    e->rights = 0;
    t->live--;
    if (e->gen >= CM_HTAB_GEN_MAX) {
        /* Exhausted: retire instead of wrapping to a value already issued. */
        e->next = t->retired_head;
        t->retired_head = index + 1;
        t->retired++;
        return CM_OK;
    }
    e->gen++;
    free_push(t, index);
    return CM_OK;
}

cm_handle_t cm__htab_next(struct cm_htab *t, uint32_t *cursor)
{
    for (uint32_t i = *cursor; i < t->capacity; i++) {
        if (t->entries[i].type != CM_OBJ_NONE) {
            *cursor = i + 1;
            return encode(i, t->entries[i].gen);
        }
    }
    *cursor = t->capacity;
    return CM_HANDLE_INVALID;
}
