/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_HANDLE_TABLE_H
#define CAPMEM_CORE_HANDLE_TABLE_H

#include <stdint.h>
#include <capmem/handle.h>

/* A fixed-capacity table mapping handle values to (object, type, rights).
 * Used by the host library (one table per process) and the kernel (one per
 * process). No allocation and no locking here: the caller provides the
 * entry storage and serializes access.
 *
 * Handle value layout: bits 0..9 = slot index + 1, bits 10..30 = slot
 * generation (1..CM_HTAB_GEN_MAX), bit 31 = 0; 0 is never a valid value.
 *
 * Stale values: a slot's generation advances each time it is freed, and
 * freed slots are reused in FIFO order (oldest free slot first), so a
 * closed value can only name a new object after its slot went through
 * CM_HTAB_GEN_MAX (about two million) reuses. A slot whose generation is
 * exhausted is retired rather than wrapped; retired slots come back (at
 * generation 1) only when the table would otherwise be full, so retiring
 * never turns into a handle shortage. In the worst case (a table kept full
 * but one slot, churned continuously) a value recurs after about 2^21 closes
 * of that slot; in the common case after capacity * 2^21. */

#define CM_HTAB_INDEX_BITS   10u
#define CM_HTAB_MAX_CAPACITY ((1u << CM_HTAB_INDEX_BITS) - 1u)   /* 1023: slot field 0 is never issued */
#define CM_HTAB_GEN_MAX      ((1u << (31u - CM_HTAB_INDEX_BITS)) - 1u)

struct cm_htab_entry {
    void *object;       /* owned by the caller; NULL when the slot is free */
    uint32_t type;      /* cm_obj_type_t; CM_OBJ_NONE when free */
    cm_rights_t rights;
    uint32_t gen;       /* current generation of this slot, 1..CM_HTAB_GEN_MAX */
    uint32_t next;      /* index+1 of the next slot on its list (free or retired), 0 = end */
};

struct cm_htab {
    struct cm_htab_entry *entries;
    uint32_t capacity;
    uint32_t live;
    uint32_t free_head;    /* index+1 of the oldest free slot, 0 = none */
    uint32_t free_tail;    /* index+1 of the newest free slot, 0 = none */
    uint32_t retired_head; /* index+1 of a slot whose generations ran out, 0 = none */
    uint32_t retired;      /* number of retired slots */
};

/* Prepares `entries[0..capacity)` as an empty table.
 * Returns INVALID_ARGS if capacity is 0 or > CM_HTAB_MAX_CAPACITY. */
cm_status_t cm__htab_init(struct cm_htab *t, struct cm_htab_entry *entries, uint32_t capacity);

/* Installs object under a new handle. object must be non-NULL and type not
 * CM_OBJ_NONE. Returns NO_RESOURCES when the table is full. */
cm_status_t cm__htab_alloc(struct cm_htab *t, void *object, uint32_t type,
                           cm_rights_t rights, cm_handle_t *out);

/* Finds a live handle. If type != CM_OBJ_NONE it must match (else
 * WRONG_TYPE); then every right in `need` must be held (else ACCESS_DENIED).
 * Returns BAD_HANDLE for a value never issued, closed or stale.
 * On success *entry points into the table (valid until the next mutation). */
cm_status_t cm__htab_lookup(struct cm_htab *t, cm_handle_t h, uint32_t type,
                            cm_rights_t need, struct cm_htab_entry **entry);

/* Frees a live handle and returns what it held in *removed (copied before the
 * slot is recycled). Returns BAD_HANDLE if h is not live. */
cm_status_t cm__htab_remove(struct cm_htab *t, cm_handle_t h, struct cm_htab_entry *removed);

/* Iterates live entries: returns the handle value of the first live slot at
 * index >= *cursor and advances *cursor past it; CM_HANDLE_INVALID at end. */
cm_handle_t cm__htab_next(struct cm_htab *t, uint32_t *cursor);

#endif
