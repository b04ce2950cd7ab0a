#include "handle_table.h"

#define GEN_MAX 0x7fffu

static cm_handle_t encode(uint32_t index, uint16_t gen)
{
    return ((cm_handle_t)gen << 16) | (index + 1u);
}

cm_status_t cm__htab_init(struct cm_htab *t, struct cm_htab_entry *entries, uint32_t capacity)
{
    if (t == 0 || entries == 0 || capacity == 0 || capacity > CM_HTAB_MAX_CAPACITY)
        return CM_ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < capacity; i++) {
        entries[i].object = 0;
        entries[i].type = CM_OBJ_NONE;
        entries[i].rights = 0;
        entries[i].gen = 1;
        entries[i].next_free = (uint16_t)(i + 1 < capacity ? i + 2 : 0);
    }
    t->entries = entries;
    t->capacity = capacity;
    t->live = 0;
    t->free_head = 1;
    return CM_OK;
}

cm_status_t cm__htab_alloc(struct cm_htab *t, void *object, uint32_t type,
                           cm_rights_t rights, cm_handle_t *out)
{
    if (object == 0 || type == CM_OBJ_NONE || type >= CM_OBJ_TYPE_COUNT || out == 0)
        return CM_ERR_INVALID_ARGS;
    if (t->free_head == 0)
        return CM_ERR_NO_RESOURCES;
    uint32_t index = t->free_head - 1;
    struct cm_htab_entry *e = &t->entries[index];
    t->free_head = e->next_free;
    e->object = object;
    e->type = type;
    e->rights = rights;
    e->next_free = 0;
    t->live++;
    *out = encode(index, e->gen);
    return CM_OK;
}

static struct cm_htab_entry *find(struct cm_htab *t, cm_handle_t h)
{
    if ((h & 0x80000000u) != 0)
        return 0;
    uint32_t slot = h & 0xffffu;
    uint16_t gen = (uint16_t)(h >> 16);
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
    uint32_t index = (h & 0xffffu) - 1;
    e->object = 0;
    e->type = CM_OBJ_NONE;
    e->rights = 0;
    e->gen = (uint16_t)(e->gen >= GEN_MAX ? 1 : e->gen + 1);
    e->next_free = (uint16_t)t->free_head;
    t->free_head = index + 1;
    t->live--;
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
