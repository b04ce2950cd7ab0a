/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_INTERVAL_H
#define CAPMEM_CORE_INTERVAL_H

#include <stdint.h>
#include <capmem/status.h>

/* Interval map: the address-space reservation model (ARCHITECTURE.md §4).
 *
 * A map describes which pages of a window [base, limit) are reserved and
 * with what attributes (kind, prot, tag). It is freestanding and allocates
 * nothing: the caller passes a fixed array of nodes, and running out of
 * nodes is CM_ERR_NO_RESOURCES, never a crash. No locking: the caller
 * serializes access.
 *
 * Invariants (checked by cm__iv_check, kept by every operation):
 *  I1  every node is non-empty and page-aligned: start < end, both multiples
 *      of CM_PAGE_SIZE;
 *  I2  every node lies in the window: base <= start, end <= limit;
 *  I3  nodes[0..count) are sorted and non-overlapping:
 *      nodes[i].end <= nodes[i+1].start;
 *  I4  canonical form: two nodes that touch (nodes[i].end ==
 *      nodes[i+1].start) never have identical (kind, prot, tag); such
 *      neighbours are always merged.
 * So the node layout is a function of the per-page attributes alone: node
 * boundaries carry no meaning of their own. A caller that needs two
 * adjacent reservations kept apart gives them different tags (e.g. a
 * mapping id rather than an object id).
 *
 * Every operation validates everything first and then commits in a way that
 * cannot fail (seL4 style): on any error the map is unchanged.
 *
 * Error order, the same for every operation:
 *   INVALID_ARGS  malformed request: zero or unaligned length or address,
 *                 unknown flags, NULL out pointer;
 *   OUT_OF_RANGE  the range wraps past 2^64 or leaves the window (for a
 *                 non-fixed reserve: len larger than the whole window);
 *   ALREADY_EXISTS / NOT_FOUND  the range conflicts with or is not covered
 *                 by existing reservations (see each function);
 *   NO_RESOURCES  no free gap large enough, or the node array cannot hold
 *                 the result. */

/* Reserve exactly at the hint; fail with ALREADY_EXISTS on any overlap
 * (fixed-no-replace: an existing reservation is never clobbered). */
#define CM_IV_FIXED 0x1u
#define CM_IV_FLAGS_ALL CM_IV_FIXED

/* Largest node array accepted: counts and indices stay in uint32_t with
 * room for the +1/+2 of a split. */
#define CM_IV_MAX_CAPACITY 0x1000000u

struct cm__iv_node {
    uint64_t start, end; /* [start, end), page-aligned, start < end */
    uint32_t kind;       /* reservation/mapping tag chosen by the caller */
    uint32_t prot;       /* protection bits; opaque to the map */
    uint64_t tag;        /* owner, e.g. object or mapping id; opaque */
};

struct cm__iv_map {
    struct cm__iv_node *nodes; /* caller's storage, nodes[0..count) live */
    uint32_t count;
    uint32_t capacity;
    uint64_t base, limit;      /* window [base, limit), page-aligned */
};

/* Prepares an empty map over the window [base, limit) using
 * nodes[0..capacity) as storage (the array is not read).
 * Returns INVALID_ARGS if map or nodes is NULL, capacity is 0 or above
 * CM_IV_MAX_CAPACITY, base or limit is unaligned, or base >= limit. */
cm_status_t cm__iv_init(struct cm__iv_map *map, struct cm__iv_node *nodes,
                        uint32_t capacity, uint64_t base, uint64_t limit);

/* Reserves len bytes with the given attributes and stores the start in
 * *out_start.
 * With CM_IV_FIXED the range is exactly [hint, hint+len); OUT_OF_RANGE if it
 * wraps or leaves the window, ALREADY_EXISTS if any page of it is reserved.
 * Without it the placement is, in order: [hint, hint+len) if it lies in the
 * window and is free; else the lowest free fit at or above hint; else the
 * lowest free fit in the window (so hint 0 or any address outside the
 * window simply means first fit). OUT_OF_RANGE if len exceeds the window,
 * NO_RESOURCES if no gap fits.
 * Both: INVALID_ARGS for len 0, unaligned len or hint, unknown flags or a
 * NULL out_start; NO_RESOURCES if the new node does not fit in the array
 * (a reservation that merges into an identical neighbour needs no node). */
cm_status_t cm__iv_reserve(struct cm__iv_map *map, uint64_t hint, uint64_t len,
                           uint32_t flags, uint32_t kind, uint32_t prot,
                           uint64_t tag, uint64_t *out_start);

/* Releases [start, start+len), which must be entirely reserved (it may span
 * several nodes); parts of nodes outside the range stay (a node cut in the
 * middle becomes two). INVALID_ARGS for len 0 or unaligned start/len;
 * OUT_OF_RANGE if the range wraps or leaves the window; NOT_FOUND if any
 * page in it is not reserved; NO_RESOURCES if a middle split needs a node
 * and the array is full. */
cm_status_t cm__iv_release(struct cm__iv_map *map, uint64_t start, uint64_t len);

/* Sets prot on [start, start+len), which must be entirely reserved; kind and
 * tag of each page are kept. Nodes are split where the range cuts them and
 * identical neighbours are merged back (I4), so protecting a range back to
 * its old prot restores the old layout. Errors as cm__iv_release; the
 * NO_RESOURCES check counts the merges, so it fails only if the final
 * layout does not fit. */
cm_status_t cm__iv_protect(struct cm__iv_map *map, uint64_t start, uint64_t len,
                           uint32_t prot);

/* The validate halves of reserve, release and protect: the status the
 * operation would return, and for reserve the start it would choose, without
 * changing the map. A caller that must act between deciding and recording
 * (a system call, a page-table update) checks first, acts, then calls the
 * operation itself, which then cannot fail if nothing changed the map in
 * between (for reserve: called with CM_IV_FIXED at the start found). */
cm_status_t cm__iv_reserve_check(const struct cm__iv_map *map, uint64_t hint, uint64_t len,
                                 uint32_t flags, uint32_t kind, uint32_t prot,
                                 uint64_t tag, uint64_t *out_start);
cm_status_t cm__iv_release_check(const struct cm__iv_map *map, uint64_t start, uint64_t len);
cm_status_t cm__iv_protect_check(const struct cm__iv_map *map, uint64_t start, uint64_t len,
                                 uint32_t prot);

/* Returns the node containing addr, or NULL if addr is not reserved.
 * The pointer is valid until the next mutation of the map. */
const struct cm__iv_node *cm__iv_find(const struct cm__iv_map *map, uint64_t addr);

/* Number of nodes (maximal runs of pages with identical attributes). */
uint32_t cm__iv_count(const struct cm__iv_map *map);

/* Node i in address order, i < count; NULL otherwise. Valid until the next
 * mutation. For walking an address space (teardown, dumps). */
const struct cm__iv_node *cm__iv_at(const struct cm__iv_map *map, uint32_t i);

/* Checks invariants I1..I4 and count <= capacity. Returns CM_OK, or
 * CM_ERR_INTERNAL if any is violated (a bug in this file or memory
 * corruption). O(count); for tests, fuzzing and debug builds. */
cm_status_t cm__iv_check(const struct cm__iv_map *map);

#endif
