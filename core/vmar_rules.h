/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_VMAR_RULES_H
#define CAPMEM_CORE_VMAR_RULES_H

/* The rules of address-space regions (include/capmem/vmar.h), once for both
 * targets: argument validation, rights -> maximum protection, the state of
 * one reservation (its runs over core/interval and its mapping records),
 * provenance, and the invariants a fuzzer checks.
 *
 * A reservation is a window [base, base+len) of an interval map whose nodes
 * are the mapped runs: kind CM__VMAR_KIND_MAP, prot the run's current
 * protection, tag the mapping's generation (unique in the address space, so
 * two mappings never merge, and the runs of one split mapping merge back
 * when they touch again with one protection). Unmapped pages have no node.
 * Every live generation has one record (object identity, object offset at
 * the mapping's original start, maximum protection, the target's object
 * reference).
 *
 * Invariants (cm__vmar_check):
 *  V1  the interval map's I1..I4;
 *  V2  every node is kind MAP and its tag names a live record;
 *  V3  every node's prot is within its record's max_prot, and is 0, READ,
 *      or READ|WRITE (write implies read; never execute);
 *  V4  every live record has at least one node (a mapping with no page left
 *      is gone and its object reference returned exactly once);
 *  V5  mapped_bytes is the sum of the nodes' lengths, mappings the number of
 *      live records;
 *  V6  every node lies inside the mapping's object range: offset of its end
 *      <= the record's obj_end.
 *  V7  node kind and record kind agree (MAP: VMO or ANON, CHILD: CHILD); an
 *      anonymous record names no object (obj_id 0); a child is exactly one
 *      node [start, start + obj_end) with prot 0 (never split, never
 *      protected: unmap and protect over it are refused), and children is
 *      the number of child records;
 *  V8  depth is 1..CM_VMAR_MAX_DEPTH.
 *
 * Nested reservations (Zircon's sub-VMARs): a child's range is one CHILD
 * node of its parent, so neither a mapping nor another child can take any
 * page of it (ALREADY_EXISTS, placement skips it), and the parent's unmap
 * and protect over it are BAD_STATE. The child is its own struct cm__vmar
 * over that window; the target keeps the tree (parent pointer, destroy
 * children before the parent).
 *
 * Freestanding, no allocation, no locking: the caller passes storage and
 * serializes. Every stateful operation is a *_plan (validate, no change)
 * followed, after the target acted, by a *_commit that cannot fail. */

#include <stdint.h>
#include <capmem/capmem.h>
#include "interval.h"

#define CM__VMAR_KIND_MAP 1u   /* a mapped run (VMO or anonymous) */
#define CM__VMAR_KIND_CHILD 2u /* a nested reservation's whole range */

/* cm__vmar_rec.kind */
#define CM__VMAR_REC_VMO 1u   /* a VMO mapping (cm_vmar_map) */
#define CM__VMAR_REC_ANON 2u  /* an anonymous mapping (cm_vmar_map_anon): obj_id 0 */
#define CM__VMAR_REC_CHILD 3u /* a nested reservation: obj is the child's target object */

/* Protection bits kept in nodes: CM_MAP_READ | CM_MAP_WRITE. */
#define CM__VMAR_PROT_MASK (CM_MAP_READ | CM_MAP_WRITE)

/* A right no handle ever holds: asking for execute adds it to the rights a
 * call needs, so the ordinary rights check refuses it (ACCESS_DENIED). */
#define CM__RIGHT_NEVER ((cm_rights_t)0x40000000u)

struct cm__vmar_rec {
    uint64_t gen;      /* mapping generation; 0: free slot */
    uint64_t obj_id;
    uint64_t obj_gen;
    uint64_t start;    /* address at which obj_off is mapped */
    uint64_t obj_off;
    uint64_t obj_end;  /* obj_off + the mapping's original length */
    uint32_t max_prot; /* CM__VMAR_PROT_MASK subset, fixed at map time */
    uint32_t kind;     /* CM__VMAR_REC_* */
    void *obj;         /* the target's reference to the object (anonymous: the
                          target's backing or NULL; child: the child reservation) */
};

struct cm__vmar {
    struct cm__iv_map map;       /* window [base, base+len) */
    struct cm__vmar_rec *recs;   /* recs[0..cap) */
    uint32_t cap;
    uint32_t mappings;           /* live mapping records (VMO and anonymous) */
    uint32_t children;           /* live child records */
    uint32_t depth;              /* 1 for a reservation of the address space,
                                    parent's + 1 for a nested one */
    uint64_t mapped_bytes;       /* bytes of MAP nodes (children excluded) */
    uint64_t id;
};

/* What a mapped page is (cm_mapping_info_t without the address space). */
struct cm__vmar_ident {
    uint64_t obj_id, obj_gen, obj_off, gen, run_start, run_len;
    uint32_t prot, max_prot;
    void *obj;
    uint32_t kind; /* CM__VMAR_REC_*; CHILD: descend into obj */
};

/* ---- stage 1: arguments alone ---- */
cm_status_t cm__vmar_reserve_check_args(uint64_t hint, uint64_t len, uint32_t flags,
                                        int out_ok, int base_ok);
/* *vmar_need / *vmo_need: rights the two handles must hold (execute adds
 * CM__RIGHT_NEVER to the VMAR's). */
cm_status_t cm__vmar_map_check_args(uint64_t vmar_off, uint64_t vmo_off, uint64_t len,
                                    uint32_t flags, int addr_ok, cm_rights_t *vmar_need,
                                    cm_rights_t *vmo_need);
cm_status_t cm__vmar_range_check_args(uint64_t addr, uint64_t len);
/* cm_vmar_reserve_in: *need the parent's rights (MAP, plus READ/WRITE the
 * CAN_MAP flags ask for). */
cm_status_t cm__vmar_reserve_in_check_args(uint64_t offset, uint64_t len, uint32_t flags,
                                           int out_ok, int base_ok, cm_rights_t *need);
/* A child's rights: the CAN_MAP flags' if any, else the parent's. */
cm_rights_t cm__vmar_child_rights(cm_rights_t parent, uint32_t flags);
/* cm_vmar_map_anon: as cm_vmar_map's with no VMO (POPULATE allowed). */
cm_status_t cm__vmar_anon_check_args(uint64_t vmar_off, uint64_t len, uint32_t flags,
                                     int addr_ok, cm_rights_t *vmar_need);
cm_status_t cm__vmar_protect_check_args(uint64_t addr, uint64_t len, uint32_t flags,
                                        cm_rights_t *vmar_need);
cm_status_t cm__vmo_op_range_check_args(uint32_t op, uint64_t offset, uint64_t len);

/* ---- stage 3: facts ---- */
/* The protection a mapping may ever have, from both handles' rights and
 * whether the VMO may still be written (not sealed, not a file). */
uint32_t cm__vmar_max_prot(cm_rights_t vmar_rights, cm_rights_t vmo_rights, int vmo_writable);
/* An anonymous mapping's: the VMAR handle's alone (private memory has no
 * other holder). */
uint32_t cm__vmar_anon_max_prot(cm_rights_t vmar_rights);
/* op_range on a VMO: range against the size, DECOMMIT of a sealed object,
 * file windows. */
cm_status_t cm__vmo_op_range_check_facts(uint64_t size, int sealed, int is_file,
                                         uint32_t op, uint64_t offset, uint64_t len);

/* ---- one reservation ---- */
/* nodes and recs have cap entries each (cap <= CM_VMAR_MAX_MAPPINGS is the
 * public bound; any cap > 0 works). INVALID_ARGS on bad storage or window. */
cm_status_t cm__vmar_init(struct cm__vmar *v, struct cm__iv_node *nodes,
                          struct cm__vmar_rec *recs, uint32_t cap, uint64_t base,
                          uint64_t len, uint64_t id);
uint64_t cm__vmar_base(const struct cm__vmar *v);
uint64_t cm__vmar_len(const struct cm__vmar *v);

/* Where a mapping of len bytes at reservation offset vmar_off goes
 * (specific: exactly there). Errors: OUT_OF_RANGE (leaves the reservation,
 * overflow); ALREADY_EXISTS (specific over a mapped page); NO_RESOURCES
 * (no run left; no free range). */
cm_status_t cm__vmar_map_plan(const struct cm__vmar *v, uint64_t vmar_off, uint64_t len,
                              int specific, uint64_t *addr);
/* Records the mapping at the address map_plan gave. Cannot fail after a
 * successful plan with no mutation in between. */
void cm__vmar_map_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t prot,
                         uint32_t max_prot, uint64_t gen, uint64_t obj_id, uint64_t obj_gen,
                         uint64_t obj_off, void *obj);

/* Anonymous mapping: as map_commit, kind ANON, object id 0, maximum
 * protection max_prot; obj is the target's backing (kernel: a private
 * object; host: NULL). */
void cm__vmar_anon_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t prot,
                          uint32_t max_prot, uint64_t gen, void *obj);

/* A nested reservation of len bytes at vmar_off (fixed: exactly there,
 * else a hint as map_plan). Errors: NO_RESOURCES (the parent is at
 * CM_VMAR_MAX_DEPTH; no run left; no free range), then as map_plan. */
cm_status_t cm__vmar_child_plan(const struct cm__vmar *v, uint64_t vmar_off, uint64_t len,
                                int fixed, uint64_t *addr);
/* Records the child at the address child_plan gave; child_id its
 * reservation id. Cannot fail after a successful plan. */
void cm__vmar_child_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint64_t gen,
                           uint64_t child_id, void *child);
/* Prepares child (storage as cm__vmar_init) as the window the parent
 * recorded, one level deeper. */
cm_status_t cm__vmar_child_init(struct cm__vmar *child, const struct cm__vmar *parent,
                                struct cm__iv_node *nodes, struct cm__vmar_rec *recs,
                                uint32_t cap, uint64_t base, uint64_t len, uint64_t id);
/* Removes the child recorded with generation gen: its range is free in
 * the parent again. Cannot fail (a child is one whole node). */
void cm__vmar_child_remove(struct cm__vmar *v, uint64_t gen);
/* Some live child's target object, or NULL: a target releases every child
 * (deepest first) before the parent. */
void *cm__vmar_first_child(const struct cm__vmar *v);

/* Unmap [addr, addr+len). With match non-zero, every page must map object
 * match_id (provenance; an anonymous run names no object). Errors:
 * INVALID_ARGS/OUT_OF_RANGE (range); NOT_FOUND (a page unmapped, or
 * another object's) or BAD_STATE (a page of a child), the first in address
 * order; NO_RESOURCES (middle split with no run left). */
cm_status_t cm__vmar_unmap_plan(const struct cm__vmar *v, uint64_t addr, uint64_t len,
                                int match, uint64_t match_id);
/* Removes the runs; every mapping left with no page is dropped and its
 * object reference stored in dropped[*ndropped++] (dropped has room for
 * v->cap). */
void cm__vmar_unmap_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, void **dropped,
                           uint32_t *ndropped);

/* Protect [addr, addr+len) to prot. Errors: INVALID_ARGS/OUT_OF_RANGE;
 * NOT_FOUND (a page unmapped) or BAD_STATE (a page of a child); ACCESS_DENIED (above a mapping's
 * max_prot); NO_RESOURCES (runs over cap). */
cm_status_t cm__vmar_protect_plan(const struct cm__vmar *v, uint64_t addr, uint64_t len,
                                  uint32_t prot);
void cm__vmar_protect_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t prot);
/* After cm__vmar_protect_plan: a page may gain WRITE only while its object
 * can be written now. max_prot is fixed at map time, but a write seal that
 * lands later (READONLY: no new writable mapping, existing ones keep
 * working) must stop every page that is not writable now from becoming
 * so. writable(obj) is the target's check of the object's seals now.
 * ACCESS_DENIED if a page of [addr, addr+len) without WRITE maps an object
 * writable() refuses. */
cm_status_t cm__vmar_protect_check_gain(const struct cm__vmar *v, uint64_t addr, uint64_t len,
                                        uint32_t prot, int (*writable)(void *obj));

/* Every mapping dropped (release of the whole reservation): as unmap_commit
 * over all runs. The children must be gone already (child_remove). */
void cm__vmar_clear(struct cm__vmar *v, void **dropped, uint32_t *ndropped);

/* Identity of the page at addr: NOT_FOUND if unmapped or outside. In a
 * child's range: kind CHILD and obj the child (run_* its range). */
cm_status_t cm__vmar_lookup(const struct cm__vmar *v, uint64_t addr,
                            struct cm__vmar_ident *out);

/* V1..V8: CM_OK or CM_ERR_INTERNAL. */
cm_status_t cm__vmar_check(const struct cm__vmar *v);

#endif
