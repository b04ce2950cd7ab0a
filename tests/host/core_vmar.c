/* SPDX-License-Identifier: MIT */
/* core/vmar_rules and core/commit_set: every interval case the seed names
 * (fixed no-replace, overlap rejection, middle/tail/head/adjacent splits,
 * full-range release), provenance, maximum protection, exact committed-page
 * counts under partial decommit, and the invariants after each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <capmem/capmem.h>

#include "commit_set.h"
#include "vmar_rules.h"

#define PG ((uint64_t)CM_PAGE_SIZE)
#define P(n) ((uint64_t)(n) * PG)
#define BASE P(100)
#define LEN P(64)
#define RW (CM_MAP_READ | CM_MAP_WRITE)

struct fx {
    struct cm__vmar v;
    struct cm__iv_node nodes[8];
    struct cm__vmar_rec recs[8];
    uint64_t gen;
    void *dropped[8];
    uint32_t nd;
};

static int objs[4]; /* their addresses stand for object references */

static void fx_init(struct fx *f, uint32_t cap)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(cm__vmar_init(&f->v, f->nodes, f->recs, cap, BASE, LEN, 7), CM_OK);
}

/* Maps object o (id 100+o) at reservation page `pg` (specific), n pages,
 * object page opg. */
static uint64_t map_at(struct fx *f, uint64_t pg, uint64_t n, int o, uint64_t opg,
                       uint32_t prot, uint32_t max)
{
    uint64_t at;
    assert_int_equal(cm__vmar_map_plan(&f->v, P(pg), P(n), 1, &at), CM_OK);
    assert_int_equal(at, BASE + P(pg));
    cm__vmar_map_commit(&f->v, at, P(n), prot, max, ++f->gen, 100 + (uint64_t)o, 1, P(opg),
                        &objs[o]);
    assert_int_equal(cm__vmar_check(&f->v), CM_OK);
    return at;
}

static void unmap(struct fx *f, uint64_t pg, uint64_t n)
{
    assert_int_equal(cm__vmar_unmap_plan(&f->v, BASE + P(pg), P(n), 0, 0), CM_OK);
    cm__vmar_unmap_commit(&f->v, BASE + P(pg), P(n), f->dropped, &f->nd);
    assert_int_equal(cm__vmar_check(&f->v), CM_OK);
}

static void test_fixed_map_never_replaces_and_overlap_is_already_exists(void **s)
{
    (void)s;
    struct fx f;
    uint64_t at;
    fx_init(&f, 8);
    map_at(&f, 4, 4, 0, 0, RW, RW);
    /* Every overlap shape: same range, head, tail, inside, covering. */
    assert_int_equal(cm__vmar_map_plan(&f.v, P(4), P(4), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(2), P(3), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(7), P(3), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(5), P(1), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(0), P(16), 1, &at), CM_ERR_ALREADY_EXISTS);
    /* Adjacent on both sides is free. */
    assert_int_equal(cm__vmar_map_plan(&f.v, P(0), P(4), 1, &at), CM_OK);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(8), P(4), 1, &at), CM_OK);
    /* Leaving the reservation, or wrapping. */
    assert_int_equal(cm__vmar_map_plan(&f.v, P(63), P(2), 1, &at), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__vmar_map_plan(&f.v, UINT64_MAX & ~(PG - 1), P(2), 1, &at),
                     CM_ERR_OUT_OF_RANGE);
    /* Non-specific: the hint when free, else first fit above it. */
    assert_int_equal(cm__vmar_map_plan(&f.v, P(5), P(2), 0, &at), CM_OK);
    assert_int_equal(at, BASE + P(8));
}

static void test_adjacent_mappings_of_one_object_stay_two_mappings(void **s)
{
    (void)s;
    struct fx f;
    fx_init(&f, 8);
    map_at(&f, 0, 2, 0, 0, RW, RW);
    map_at(&f, 2, 2, 0, 2, RW, RW); /* same object, contiguous offsets */
    assert_int_equal(cm__iv_count(&f.v.map), 2);
    assert_int_equal(f.v.mappings, 2);
    /* Unmap across the adjacent edge: tail of one, head of the other. */
    unmap(&f, 1, 2);
    assert_int_equal(cm__iv_count(&f.v.map), 2);
    assert_int_equal(f.nd, 0);
    assert_int_equal(f.v.mapped_bytes, P(2));
}

static void test_middle_tail_and_head_unmap_split_and_drop_once(void **s)
{
    (void)s;
    struct fx f;
    struct cm__vmar_ident id;
    fx_init(&f, 8);
    map_at(&f, 10, 10, 1, 3, RW, RW);
    unmap(&f, 14, 2); /* middle: two runs, one mapping */
    assert_int_equal(cm__iv_count(&f.v.map), 2);
    assert_int_equal(f.v.mappings, 1);
    assert_int_equal(f.nd, 0);
    /* The right run still maps object pages 3+6.. at its own start. */
    assert_int_equal(cm__vmar_lookup(&f.v, BASE + P(16), &id), CM_OK);
    assert_int_equal(id.obj_off, P(9));
    assert_int_equal(id.run_start, BASE + P(16));
    assert_int_equal(cm__vmar_lookup(&f.v, BASE + P(14), &id), CM_ERR_NOT_FOUND);
    unmap(&f, 18, 2); /* tail */
    unmap(&f, 10, 1); /* head */
    assert_int_equal(f.v.mapped_bytes, P(5));
    assert_int_equal(cm__vmar_lookup(&f.v, BASE + P(11), &id), CM_OK);
    assert_int_equal(id.obj_off, P(4));
    unmap(&f, 11, 3);
    assert_int_equal(f.nd, 0); /* pages 16..17 remain */
    unmap(&f, 16, 2);
    assert_int_equal(f.nd, 1); /* the last page of the mapping: dropped once */
    assert_ptr_equal(f.dropped[0], &objs[1]);
    assert_int_equal(f.v.mappings, 0);
}

static void test_full_range_release_drops_every_mapping_once(void **s)
{
    (void)s;
    struct fx f;
    fx_init(&f, 8);
    map_at(&f, 0, 2, 0, 0, RW, RW);
    map_at(&f, 5, 2, 1, 0, RW, RW);
    map_at(&f, 9, 2, 2, 0, RW, RW);
    cm__vmar_clear(&f.v, f.dropped, &f.nd);
    assert_int_equal(f.nd, 3);
    assert_int_equal(cm__vmar_check(&f.v), CM_OK);
    assert_int_equal(f.v.mapped_bytes, 0);
    assert_int_equal(cm__iv_count(&f.v.map), 0);
}

static void test_unmap_of_a_hole_or_outside_fails_and_changes_nothing(void **s)
{
    (void)s;
    struct fx f;
    fx_init(&f, 8);
    map_at(&f, 0, 2, 0, 0, RW, RW);
    map_at(&f, 3, 2, 1, 0, RW, RW);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE, P(5), 0, 0), CM_ERR_NOT_FOUND);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE - PG, P(2), 0, 0), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE + 1, PG, 0, 0), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE, 0, 0, 0), CM_ERR_INVALID_ARGS);
    assert_int_equal(f.v.mapped_bytes, P(4));
}

static void test_object_unmap_rejects_a_different_backing_object(void **s)
{
    (void)s;
    struct fx f;
    fx_init(&f, 8);
    map_at(&f, 0, 2, 0, 0, RW, RW);
    map_at(&f, 2, 2, 1, 0, RW, RW);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE, P(2), 1, 101), CM_ERR_NOT_FOUND);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE, P(4), 1, 100), CM_ERR_NOT_FOUND);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE + P(2), P(2), 1, 101), CM_OK);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE, P(2), 1, 100), CM_OK);
}

static void test_protect_is_bounded_by_max_prot_and_restores_the_layout(void **s)
{
    (void)s;
    struct fx f;
    fx_init(&f, 8);
    map_at(&f, 0, 8, 0, 0, CM_MAP_READ, CM_MAP_READ);
    assert_int_equal(cm__vmar_protect_plan(&f.v, BASE, P(1), RW), CM_ERR_ACCESS_DENIED);
    assert_int_equal(cm__vmar_protect_plan(&f.v, BASE + P(2), P(2), 0), CM_OK);
    cm__vmar_protect_commit(&f.v, BASE + P(2), P(2), 0);
    assert_int_equal(cm__iv_count(&f.v.map), 3);
    assert_int_equal(cm__vmar_check(&f.v), CM_OK);
    cm__vmar_protect_commit(&f.v, BASE + P(2), P(2), CM_MAP_READ);
    assert_int_equal(cm__iv_count(&f.v.map), 1); /* merged back */
    assert_int_equal(cm__vmar_protect_plan(&f.v, BASE + P(7), P(2), 0), CM_ERR_NOT_FOUND);
}

static int only_obj1_writable(void *obj)
{
    return obj == &objs[1];
}

static void test_protect_gains_write_only_on_objects_writable_now(void **s)
{
    (void)s;
    struct fx f;
    fx_init(&f, 8);
    map_at(&f, 0, 2, 0, 0, RW, RW);          /* object 0: write-sealed later */
    map_at(&f, 2, 2, 0, 2, CM_MAP_READ, RW);
    map_at(&f, 4, 2, 1, 0, CM_MAP_READ, RW); /* object 1: still writable */
    /* Already writable pages stay so; read-only pages of object 0 never gain it. */
    assert_int_equal(cm__vmar_protect_check_gain(&f.v, BASE, P(2), RW, only_obj1_writable), CM_OK);
    assert_int_equal(cm__vmar_protect_check_gain(&f.v, BASE + P(1), P(2), RW, only_obj1_writable),
                     CM_ERR_ACCESS_DENIED);
    assert_int_equal(cm__vmar_protect_check_gain(&f.v, BASE + P(4), P(2), RW, only_obj1_writable),
                     CM_OK);
    assert_int_equal(cm__vmar_protect_check_gain(&f.v, BASE, P(6), CM_MAP_READ, only_obj1_writable),
                     CM_OK);
}

static void test_run_limit_is_no_resources_and_changes_nothing(void **s)
{
    (void)s;
    struct fx f;
    uint64_t at;
    fx_init(&f, 3);
    map_at(&f, 0, 8, 0, 0, RW, RW);
    map_at(&f, 10, 2, 1, 0, RW, RW);
    map_at(&f, 20, 2, 2, 0, RW, RW);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(30), P(1), 1, &at), CM_ERR_NO_RESOURCES);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE + P(2), P(2), 0, 0), CM_ERR_NO_RESOURCES);
    assert_int_equal(cm__vmar_protect_plan(&f.v, BASE + P(2), P(2), 0), CM_ERR_NO_RESOURCES);
    assert_int_equal(cm__vmar_check(&f.v), CM_OK);
}

static void test_rights_give_max_prot_write_implies_read_never_execute(void **s)
{
    (void)s;
    cm_rights_t all = CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP;
    cm_rights_t vn, on;
    assert_int_equal(cm__vmar_max_prot(all, all, 1), RW);
    assert_int_equal(cm__vmar_max_prot(all, all, 0), CM_MAP_READ);
    assert_int_equal(cm__vmar_max_prot(all, CM_RIGHT_READ | CM_RIGHT_MAP, 1), CM_MAP_READ);
    assert_int_equal(cm__vmar_max_prot(all, CM_RIGHT_WRITE | CM_RIGHT_MAP, 1), 0);
    assert_int_equal(cm__vmar_max_prot(CM_RIGHT_READ, all, 1), 0);
    assert_int_equal(cm__vmar_map_check_args(0, 0, PG, CM_MAP_READ | CM_MAP_EXECUTE, 1, &vn, &on),
                     CM_OK);
    assert_true(vn & CM__RIGHT_NEVER);
    assert_false(CM_RIGHTS_ALL & CM__RIGHT_NEVER);
    assert_int_equal(cm__vmar_map_check_args(0, 0, PG, CM_MAP_WRITE, 1, &vn, &on),
                     CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_protect_check_args(0, PG, CM_MAP_WRITE, &vn), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_protect_check_args(0, PG, 0, &vn), CM_OK);
    assert_int_equal(vn, CM_RIGHT_MAP);
}

static void test_committed_count_is_exact_under_partial_decommit(void **s)
{
    (void)s;
    struct cm__commit_set cs;
    uint64_t w[4], d;
    assert_int_equal(cm__cs_init(&cs, w, 4, 200), CM_OK);
    assert_int_equal(cm__cs_apply(&cs, 1, 10, 100, &d), CM_OK);
    assert_int_equal(d, 100);
    assert_int_equal(cm__cs_apply(&cs, 1, 50, 100, &d), CM_OK); /* half already there */
    assert_int_equal(d, 40);
    assert_int_equal(cm__cs_count(&cs), 140);
    assert_int_equal(cm__cs_apply(&cs, 0, 60, 5, &d), CM_OK);
    assert_int_equal(d, 5);
    assert_int_equal(cm__cs_apply(&cs, 0, 55, 20, &d), CM_OK); /* 5 gone already */
    assert_int_equal(d, 15);
    assert_int_equal(cm__cs_missing(&cs, 50, 30, &d), CM_OK);
    assert_int_equal(d, 20);
    assert_int_equal(cm__cs_count(&cs), 120);
    assert_int_equal(cm__cs_check(&cs), CM_OK);
    assert_false(cm__cs_test(&cs, 60));
    assert_true(cm__cs_test(&cs, 54));
    assert_int_equal(cm__cs_apply(&cs, 1, 190, 11, &d), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__cs_apply(&cs, 1, UINT64_MAX, 2, &d), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__cs_count(&cs), 120);
    assert_int_equal(cm__cs_init(&cs, w, 3, 200), CM_ERR_INVALID_ARGS);
}

static void test_op_range_rules_in_precedence_order(void **s)
{
    (void)s;
    assert_int_equal(cm__vmo_op_range_check_args(3, 0, PG), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmo_op_range_check_args(CM_VMO_OP_COMMIT, 1, PG), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmo_op_range_check_args(CM_VMO_OP_COMMIT, 0, 0), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmo_op_range_check_facts(P(2), 1, 1, CM_VMO_OP_DECOMMIT, PG, P(2)),
                     CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__vmo_op_range_check_facts(P(2), 1, 1, CM_VMO_OP_DECOMMIT, 0, P(2)),
                     CM_ERR_UNSUPPORTED);
    assert_int_equal(cm__vmo_op_range_check_facts(P(2), 1, 0, CM_VMO_OP_DECOMMIT, 0, P(2)),
                     CM_ERR_ACCESS_DENIED);
    assert_int_equal(cm__vmo_op_range_check_facts(P(2), 1, 0, CM_VMO_OP_COMMIT, 0, P(2)), CM_OK);
}

/* A child is one CHILD run of its parent: no mapping or other child takes
 * any page of it, unmap/protect over it are BAD_STATE, lookups name the
 * child, and removing it frees exactly its range. */
static void test_child_region_is_exclusive_both_ways_and_removed_whole(void **s)
{
    (void)s;
    struct fx f;
    struct cm__vmar_ident id;
    static int child;
    uint64_t at;
    fx_init(&f, 8);
    map_at(&f, 0, 2, 0, 0, RW, RW);
    assert_int_equal(cm__vmar_child_plan(&f.v, P(1), P(4), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_child_plan(&f.v, P(4), P(4), 1, &at), CM_OK);
    cm__vmar_child_commit(&f.v, at, P(4), ++f.gen, 55, &child);
    assert_int_equal(cm__vmar_check(&f.v), CM_OK);
    assert_int_equal(f.v.children, 1);
    assert_int_equal(f.v.mappings, 1);
    assert_int_equal(f.v.mapped_bytes, P(2));
    assert_int_equal(cm__vmar_map_plan(&f.v, P(7), P(2), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_child_plan(&f.v, P(3), P(2), 1, &at), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(4), P(2), 0, &at), CM_OK); /* hint moved */
    assert_int_equal(at, BASE + P(8));
    /* The first page in order decides: a hole (NOT_FOUND) or the child's. */
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE + P(1), P(4), 0, 0), CM_ERR_NOT_FOUND);
    map_at(&f, 2, 2, 1, 0, RW, RW);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, BASE + P(1), P(4), 0, 0), CM_ERR_BAD_STATE);
    assert_int_equal(cm__vmar_protect_plan(&f.v, BASE + P(5), P(1), CM_MAP_READ),
                     CM_ERR_BAD_STATE);
    assert_int_equal(cm__vmar_lookup(&f.v, BASE + P(6), &id), CM_OK);
    assert_int_equal(id.kind, CM__VMAR_REC_CHILD);
    assert_ptr_equal(id.obj, &child);
    assert_ptr_equal(cm__vmar_first_child(&f.v), &child);
    cm__vmar_child_remove(&f.v, f.gen - 1);
    assert_int_equal(cm__vmar_check(&f.v), CM_OK);
    assert_int_equal(f.v.children, 0);
    assert_null(cm__vmar_first_child(&f.v));
    assert_int_equal(cm__vmar_lookup(&f.v, BASE + P(6), &id), CM_ERR_NOT_FOUND);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(4), P(4), 1, &at), CM_OK);
}

static void test_child_depth_stops_at_the_limit(void **s)
{
    (void)s;
    struct cm__vmar lv[CM_VMAR_MAX_DEPTH];
    struct cm__iv_node nodes[CM_VMAR_MAX_DEPTH][2];
    struct cm__vmar_rec recs[CM_VMAR_MAX_DEPTH][2];
    uint64_t at;
    assert_int_equal(cm__vmar_init(&lv[0], nodes[0], recs[0], 2, BASE, LEN, 1), CM_OK);
    for (uint32_t i = 1; i < CM_VMAR_MAX_DEPTH; i++) {
        assert_int_equal(cm__vmar_child_plan(&lv[i - 1], 0, PG, 1, &at), CM_OK);
        cm__vmar_child_commit(&lv[i - 1], at, PG, i, i + 1, &lv[i]);
        assert_int_equal(cm__vmar_child_init(&lv[i], &lv[i - 1], nodes[i], recs[i], 2, at, PG,
                                             i + 1),
                         CM_OK);
        assert_int_equal(lv[i].depth, i + 1);
        assert_int_equal(cm__vmar_check(&lv[i]), CM_OK);
    }
    assert_int_equal(cm__vmar_child_plan(&lv[CM_VMAR_MAX_DEPTH - 1], 0, PG, 1, &at),
                     CM_ERR_NO_RESOURCES);
    lv[0].depth = 0;
    assert_int_equal(cm__vmar_check(&lv[0]), CM_ERR_INTERNAL); /* V8 */
}

/* An anonymous run names no object: provenance refuses it, a write gain
 * never asks a seal, and its identity is its own offset. */
static void test_anon_run_names_no_object_and_splits_like_any_run(void **s)
{
    (void)s;
    struct fx f;
    struct cm__vmar_ident id;
    uint64_t at;
    fx_init(&f, 8);
    assert_int_equal(cm__vmar_map_plan(&f.v, P(2), P(4), 1, &at), CM_OK);
    cm__vmar_anon_commit(&f.v, at, P(4), CM_MAP_READ, RW, ++f.gen, NULL);
    assert_int_equal(cm__vmar_check(&f.v), CM_OK);
    assert_int_equal(cm__vmar_unmap_plan(&f.v, at, PG, 1, 0), CM_ERR_NOT_FOUND);
    assert_int_equal(cm__vmar_protect_plan(&f.v, at, P(4), RW), CM_OK);
    assert_int_equal(cm__vmar_protect_check_gain(&f.v, at, P(4), RW, NULL), CM_OK);
    unmap(&f, 3, 1);
    assert_int_equal(cm__iv_count(&f.v.map), 2);
    assert_int_equal(cm__vmar_lookup(&f.v, BASE + P(5), &id), CM_OK);
    assert_int_equal(id.kind, CM__VMAR_REC_ANON);
    assert_int_equal(id.obj_id, 0);
    assert_int_equal(id.obj_off, P(3));
    unmap(&f, 4, 2);
    unmap(&f, 2, 1);
    assert_int_equal(f.nd, 1); /* the last run's going drops the mapping once */
    assert_null(f.dropped[0]);
    assert_int_equal(f.v.mappings, 0);
    /* Max protection: the VMAR's rights alone. */
    assert_int_equal(cm__vmar_anon_max_prot(CM_RIGHT_READ | CM_RIGHT_MAP), CM_MAP_READ);
    assert_int_equal(cm__vmar_anon_max_prot(CM_VMAR_DEFAULT_RIGHTS), RW);
}

static void test_reserve_in_arguments_and_child_rights(void **s)
{
    (void)s;
    cm_rights_t need = 0;
    assert_int_equal(cm__vmar_reserve_in_check_args(0, PG, 0, 0, 1, &need), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_reserve_in_check_args(0, PG, 1u << 9, 1, 1, &need),
                     CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_reserve_in_check_args(0, PG, CM_VMAR_CAN_MAP_WRITE, 1, 1, &need),
                     CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_reserve_in_check_args(1, PG, 0, 1, 1, &need), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_reserve_in_check_args(0, 0, 0, 1, 1, &need), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__vmar_reserve_in_check_args(0, PG, 0, 1, 1, &need), CM_OK);
    assert_int_equal(need, CM_RIGHT_MAP);
    assert_int_equal(cm__vmar_reserve_in_check_args(0, PG, CM_VMAR_CAN_MAP_READ |
                                                    CM_VMAR_CAN_MAP_WRITE, 1, 1, &need), CM_OK);
    assert_int_equal(need, CM_RIGHT_MAP | CM_RIGHT_READ | CM_RIGHT_WRITE);
    assert_int_equal(cm__vmar_child_rights(CM_VMAR_DEFAULT_RIGHTS, 0), CM_VMAR_DEFAULT_RIGHTS);
    assert_int_equal(cm__vmar_child_rights(CM_VMAR_DEFAULT_RIGHTS, CM_VMAR_CAN_MAP_READ),
                     CM_RIGHT_MAP | CM_RIGHT_READ);
    assert_int_equal(cm__vmar_child_rights(CM_RIGHT_MAP | CM_RIGHT_READ, 0),
                     CM_RIGHT_MAP | CM_RIGHT_READ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_map_never_replaces_and_overlap_is_already_exists),
        cmocka_unit_test(test_adjacent_mappings_of_one_object_stay_two_mappings),
        cmocka_unit_test(test_middle_tail_and_head_unmap_split_and_drop_once),
        cmocka_unit_test(test_full_range_release_drops_every_mapping_once),
        cmocka_unit_test(test_unmap_of_a_hole_or_outside_fails_and_changes_nothing),
        cmocka_unit_test(test_object_unmap_rejects_a_different_backing_object),
        cmocka_unit_test(test_protect_is_bounded_by_max_prot_and_restores_the_layout),
        cmocka_unit_test(test_run_limit_is_no_resources_and_changes_nothing),
        cmocka_unit_test(test_protect_gains_write_only_on_objects_writable_now),
        cmocka_unit_test(test_rights_give_max_prot_write_implies_read_never_execute),
        cmocka_unit_test(test_committed_count_is_exact_under_partial_decommit),
        cmocka_unit_test(test_op_range_rules_in_precedence_order),
        cmocka_unit_test(test_child_region_is_exclusive_both_ways_and_removed_whole),
        cmocka_unit_test(test_child_depth_stops_at_the_limit),
        cmocka_unit_test(test_anon_run_names_no_object_and_splits_like_any_run),
        cmocka_unit_test(test_reserve_in_arguments_and_child_rights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
