/* SPDX-License-Identifier: MIT */
/* core/interval: the address-space reservation model. Directed tests for
 * each split/merge case and error, then a randomized comparison against a
 * page-array model that predicts every status, placement and node count. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <capmem/limits.h>

#include "interval.h"

#define PG ((uint64_t)CM_PAGE_SIZE)
#define P(n) ((uint64_t)(n) * PG)

/* Window used by the directed tests: pages 16..80. A non-zero base lets
 * tests hit "below the window". */
#define BASE P(16)
#define LIMIT P(80)

enum { KIND_RES = 1, KIND_MAP = 2 };
enum { PROT_R = 1, PROT_RW = 3, PROT_RX = 5 };

struct fixture {
    struct cm__iv_map map;
    struct cm__iv_node nodes[16];
};

static void init_map(struct fixture *f, uint32_t capacity)
{
    assert_true(capacity <= 16);
    memset(f, 0xa5, sizeof *f); /* stale bytes must not matter */
    assert_int_equal(cm__iv_init(&f->map, f->nodes, capacity, BASE, LIMIT), CM_OK);
}

static uint64_t reserve_fixed(struct fixture *f, uint64_t at, uint64_t len,
                              uint32_t prot, uint64_t tag)
{
    uint64_t out = 0;
    assert_int_equal(cm__iv_reserve(&f->map, at, len, CM_IV_FIXED, KIND_RES, prot, tag, &out),
                     CM_OK);
    assert_int_equal(out, at);
    assert_int_equal(cm__iv_check(&f->map), CM_OK);
    return out;
}

static void expect_node(struct fixture *f, uint32_t i, uint64_t start, uint64_t end,
                        uint32_t prot, uint64_t tag)
{
    const struct cm__iv_node *n = cm__iv_at(&f->map, i);
    assert_non_null(n);
    assert_int_equal(n->start, start);
    assert_int_equal(n->end, end);
    assert_int_equal(n->prot, prot);
    assert_int_equal(n->tag, tag);
}

/* A copy of the live map state, to prove a failed call changed nothing. */
struct snapshot {
    uint32_t count;
    struct cm__iv_node nodes[16];
};

static void take(const struct fixture *f, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->count = f->map.count;
    memcpy(s->nodes, f->nodes, sizeof(struct cm__iv_node) * f->map.count);
}

static void expect_unchanged(const struct fixture *f, const struct snapshot *s)
{
    assert_int_equal(f->map.count, s->count);
    assert_memory_equal(f->nodes, s->nodes, sizeof(struct cm__iv_node) * s->count);
    assert_int_equal(cm__iv_check(&f->map), CM_OK);
}

static void test_init_rejects_empty_unaligned_or_inverted_windows(void **state)
{
    (void)state;
    struct cm__iv_map m;
    struct cm__iv_node n[4];
    assert_int_equal(cm__iv_init(&m, n, 4, 0, P(1)), CM_OK);
    assert_int_equal(cm__iv_init(&m, n, 0, 0, P(1)), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(&m, NULL, 4, 0, P(1)), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(NULL, n, 4, 0, P(1)), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(&m, n, 4, P(1), P(1)), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(&m, n, 4, P(2), P(1)), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(&m, n, 4, 1, P(1)), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(&m, n, 4, 0, P(1) + 1), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_init(&m, n, CM_IV_MAX_CAPACITY + 1, 0, P(1)), CM_ERR_INVALID_ARGS);
    /* The highest page-aligned limit is accepted. */
    assert_int_equal(cm__iv_init(&m, n, 4, 0, UINT64_MAX & ~(PG - 1)), CM_OK);
    assert_int_equal(cm__iv_count(&m), 0);
}

static void test_fixed_reserve_lands_exactly_at_hint(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(4), PROT_RW, 7);
    assert_int_equal(cm__iv_count(&f.map), 1);
    expect_node(&f, 0, P(20), P(24), PROT_RW, 7);
    assert_ptr_equal(cm__iv_find(&f.map, P(20)), cm__iv_at(&f.map, 0));
    assert_ptr_equal(cm__iv_find(&f.map, P(24) - 1), cm__iv_at(&f.map, 0));
    assert_null(cm__iv_find(&f.map, P(24)));
    assert_null(cm__iv_find(&f.map, P(20) - 1));
}

static void test_fixed_reserve_never_replaces_an_overlapping_reservation(void **state)
{
    (void)state;
    struct fixture f;
    struct snapshot s;
    uint64_t out = 12345;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(4), PROT_RW, 7);
    take(&f, &s);
    /* Overlap at the head, the tail, inside, and covering. */
    static const uint64_t cases[][2] = {
        { 18, 3 }, { 23, 2 }, { 21, 1 }, { 19, 6 }, { 20, 4 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        assert_int_equal(cm__iv_reserve(&f.map, P(cases[k][0]), P(cases[k][1]), CM_IV_FIXED,
                                        KIND_MAP, PROT_R, 9, &out),
                         CM_ERR_ALREADY_EXISTS);
        expect_unchanged(&f, &s);
    }
    assert_int_equal(out, 12345); /* out untouched on failure */
    /* Touching on either side is not an overlap. */
    reserve_fixed(&f, P(18), P(2), PROT_R, 1);
    reserve_fixed(&f, P(24), P(2), PROT_R, 1);
    assert_int_equal(cm__iv_count(&f.map), 3);
}

static void test_hinted_reserve_uses_a_free_hint(void **state)
{
    (void)state;
    struct fixture f;
    uint64_t out;
    init_map(&f, 8);
    assert_int_equal(cm__iv_reserve(&f.map, P(40), P(3), 0, KIND_RES, PROT_R, 1, &out), CM_OK);
    assert_int_equal(out, P(40));
}

static void test_hinted_reserve_falls_back_to_first_fit_above_then_from_base(void **state)
{
    (void)state;
    struct fixture f;
    uint64_t out;
    init_map(&f, 8);
    reserve_fixed(&f, P(30), P(10), PROT_R, 1); /* [30,40) */
    reserve_fixed(&f, P(42), P(30), PROT_R, 2); /* [42,72) */

    /* Hint inside [30,40): next fit at or above is the 2-page gap [40,42). */
    assert_int_equal(cm__iv_reserve(&f.map, P(35), P(2), 0, KIND_MAP, PROT_R, 3, &out), CM_OK);
    assert_int_equal(out, P(40));
    /* Hint 35 again, 4 pages: nothing fits in [40,42) any more, the next
     * fit above is [72,80). */
    assert_int_equal(cm__iv_reserve(&f.map, P(35), P(4), 0, KIND_MAP, PROT_R, 4, &out), CM_OK);
    assert_int_equal(out, P(72));
    /* 6 pages: nothing at or above 35 (only [76,80) is left there), so
     * first fit from the base: [16,22). */
    assert_int_equal(cm__iv_reserve(&f.map, P(35), P(6), 0, KIND_MAP, PROT_R, 5, &out), CM_OK);
    assert_int_equal(out, P(16));
    /* Hint 0 is outside the window [16,80): plain first fit. */
    assert_int_equal(cm__iv_reserve(&f.map, 0, P(1), 0, KIND_MAP, PROT_R, 6, &out), CM_OK);
    assert_int_equal(out, P(22));
    /* A hint past the window is also just first fit. */
    assert_int_equal(cm__iv_reserve(&f.map, P(1000), P(1), 0, KIND_MAP, PROT_R, 7, &out), CM_OK);
    assert_int_equal(out, P(23));
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
}

static void test_hinted_reserve_reports_no_resources_when_no_gap_fits(void **state)
{
    (void)state;
    struct fixture f;
    struct snapshot s;
    uint64_t out;
    init_map(&f, 8);
    reserve_fixed(&f, P(16), P(30), PROT_R, 1);
    reserve_fixed(&f, P(50), P(30), PROT_R, 2);
    take(&f, &s);
    assert_int_equal(cm__iv_reserve(&f.map, 0, P(5), 0, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_NO_RESOURCES);
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_reserve(&f.map, 0, P(4), 0, KIND_RES, PROT_R, 3, &out), CM_OK);
    assert_int_equal(out, P(46));
}

static void test_release_in_the_middle_splits_one_node_into_two(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(10), PROT_RW, 7);
    assert_int_equal(cm__iv_release(&f.map, P(23), P(2)), CM_OK);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 2);
    expect_node(&f, 0, P(20), P(23), PROT_RW, 7);
    expect_node(&f, 1, P(25), P(30), PROT_RW, 7);
    assert_null(cm__iv_find(&f.map, P(24)));
}

static void test_release_of_the_tail_shrinks_the_node(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(10), PROT_RW, 7);
    assert_int_equal(cm__iv_release(&f.map, P(27), P(3)), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 1);
    expect_node(&f, 0, P(20), P(27), PROT_RW, 7);
}

static void test_release_of_the_head_shrinks_the_node(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(10), PROT_RW, 7);
    assert_int_equal(cm__iv_release(&f.map, P(20), P(4)), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 1);
    expect_node(&f, 0, P(24), P(30), PROT_RW, 7);
}

static void test_release_of_a_full_range_spanning_nodes_removes_them(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(5), PROT_RW, 1);
    reserve_fixed(&f, P(25), P(5), PROT_R, 2);
    reserve_fixed(&f, P(30), P(5), PROT_RX, 3);
    reserve_fixed(&f, P(40), P(5), PROT_RX, 4);
    assert_int_equal(cm__iv_count(&f.map), 4);
    /* Cuts the first and third node, removes the second. */
    assert_int_equal(cm__iv_release(&f.map, P(22), P(10)), CM_OK);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 3);
    expect_node(&f, 0, P(20), P(22), PROT_RW, 1);
    expect_node(&f, 1, P(32), P(35), PROT_RX, 3);
    expect_node(&f, 2, P(40), P(45), PROT_RX, 4);
    /* Exact full release of everything left, node by node boundaries. */
    assert_int_equal(cm__iv_release(&f.map, P(20), P(2)), CM_OK);
    assert_int_equal(cm__iv_release(&f.map, P(32), P(3)), CM_OK);
    assert_int_equal(cm__iv_release(&f.map, P(40), P(5)), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 0);
}

static void test_release_of_a_range_with_a_hole_fails_and_changes_nothing(void **state)
{
    (void)state;
    struct fixture f;
    struct snapshot s;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(5), PROT_RW, 1);
    reserve_fixed(&f, P(26), P(5), PROT_RW, 2);
    take(&f, &s);
    assert_int_equal(cm__iv_release(&f.map, P(20), P(11)), CM_ERR_NOT_FOUND); /* hole at 25 */
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_release(&f.map, P(19), P(2)), CM_ERR_NOT_FOUND);  /* before */
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_release(&f.map, P(30), P(2)), CM_ERR_NOT_FOUND);  /* after */
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_release(&f.map, P(50), P(1)), CM_ERR_NOT_FOUND);  /* empty */
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_protect(&f.map, P(24), P(3), PROT_R), CM_ERR_NOT_FOUND);
    expect_unchanged(&f, &s);
}

static void test_window_edges_are_usable_and_one_page_past_them_is_out_of_range(void **state)
{
    (void)state;
    struct fixture f;
    struct snapshot s;
    uint64_t out;
    init_map(&f, 8);
    /* The whole window as one reservation, then released in full. */
    assert_int_equal(cm__iv_reserve(&f.map, 0, LIMIT - BASE, 0, KIND_RES, PROT_R, 1, &out), CM_OK);
    assert_int_equal(out, BASE);
    assert_int_equal(cm__iv_release(&f.map, BASE, LIMIT - BASE), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 0);

    reserve_fixed(&f, BASE, P(1), PROT_R, 1);
    reserve_fixed(&f, LIMIT - P(1), P(1), PROT_R, 2);
    take(&f, &s);
    assert_int_equal(cm__iv_reserve(&f.map, BASE - P(1), P(1), CM_IV_FIXED, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&f.map, LIMIT, P(1), CM_IV_FIXED, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&f.map, LIMIT - P(1), P(2), CM_IV_FIXED, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&f.map, 0, LIMIT - BASE + PG, 0, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_release(&f.map, BASE - P(1), P(2)), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_release(&f.map, LIMIT - P(1), P(2)), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_protect(&f.map, LIMIT - P(1), P(2), PROT_RW), CM_ERR_OUT_OF_RANGE);
    expect_unchanged(&f, &s);
    /* Protect and release at both edges. */
    assert_int_equal(cm__iv_protect(&f.map, BASE, P(1), PROT_RW), CM_OK);
    assert_int_equal(cm__iv_protect(&f.map, LIMIT - P(1), P(1), PROT_RW), CM_OK);
    assert_int_equal(cm__iv_release(&f.map, BASE, P(1)), CM_OK);
    assert_int_equal(cm__iv_release(&f.map, LIMIT - P(1), P(1)), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 0);
    assert_null(cm__iv_find(&f.map, LIMIT));
    assert_null(cm__iv_find(&f.map, UINT64_MAX));
}

static void test_protect_splits_a_node_and_merges_it_back_when_restored(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(10), PROT_RW, 7);

    /* Middle: one node becomes three. */
    assert_int_equal(cm__iv_protect(&f.map, P(23), P(2), PROT_R), CM_OK);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 3);
    expect_node(&f, 0, P(20), P(23), PROT_RW, 7);
    expect_node(&f, 1, P(23), P(25), PROT_R, 7);
    expect_node(&f, 2, P(25), P(30), PROT_RW, 7);

    /* Extending the protected run to the tail absorbs the last node. */
    assert_int_equal(cm__iv_protect(&f.map, P(25), P(5), PROT_R), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 2);
    expect_node(&f, 1, P(23), P(30), PROT_R, 7);

    /* Restoring the old prot merges everything back into one node. */
    assert_int_equal(cm__iv_protect(&f.map, P(23), P(7), PROT_RW), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 1);
    expect_node(&f, 0, P(20), P(30), PROT_RW, 7);

    /* Head split, then a protect that changes nothing leaves the layout. */
    assert_int_equal(cm__iv_protect(&f.map, P(20), P(1), PROT_RX), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 2);
    expect_node(&f, 0, P(20), P(21), PROT_RX, 7);
    assert_int_equal(cm__iv_protect(&f.map, P(22), P(3), PROT_RW), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 2);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
}

static void test_protect_keeps_kind_and_tag_and_merges_only_identical_neighbours(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(4), PROT_RW, 1);
    reserve_fixed(&f, P(24), P(4), PROT_R, 1);  /* same tag, other prot */
    reserve_fixed(&f, P(28), P(4), PROT_R, 2);  /* other tag */
    assert_int_equal(cm__iv_count(&f.map), 3);
    assert_int_equal(cm__iv_protect(&f.map, P(20), P(12), PROT_RX), CM_OK);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 2);
    expect_node(&f, 0, P(20), P(28), PROT_RX, 1);
    expect_node(&f, 1, P(28), P(32), PROT_RX, 2);
    assert_int_equal(cm__iv_find(&f.map, P(30))->kind, KIND_RES);
}

static void test_reserve_next_to_an_identical_reservation_merges_with_it(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(2), PROT_R, 1);
    reserve_fixed(&f, P(24), P(2), PROT_R, 1);
    assert_int_equal(cm__iv_count(&f.map), 2);
    reserve_fixed(&f, P(22), P(2), PROT_R, 1); /* fills the hole: both merge */
    assert_int_equal(cm__iv_count(&f.map), 1);
    expect_node(&f, 0, P(20), P(26), PROT_R, 1);
    reserve_fixed(&f, P(26), P(2), PROT_R, 2); /* other tag: separate */
    assert_int_equal(cm__iv_count(&f.map), 2);
}

static void test_node_exhaustion_fails_with_no_resources_and_leaves_the_map_unchanged(void **state)
{
    (void)state;
    struct fixture f;
    struct snapshot s;
    uint64_t out = 99;
    init_map(&f, 2);
    reserve_fixed(&f, P(20), P(10), PROT_RW, 1);
    reserve_fixed(&f, P(40), P(10), PROT_RW, 2);
    take(&f, &s);

    /* A third node is needed for each of these. */
    assert_int_equal(cm__iv_reserve(&f.map, P(60), P(1), CM_IV_FIXED, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_NO_RESOURCES);
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_reserve(&f.map, 0, P(1), 0, KIND_RES, PROT_R, 3, &out),
                     CM_ERR_NO_RESOURCES);
    expect_unchanged(&f, &s);
    assert_int_equal(out, 99);
    assert_int_equal(cm__iv_release(&f.map, P(22), P(2)), CM_ERR_NO_RESOURCES);
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_protect(&f.map, P(22), P(2), PROT_R), CM_ERR_NO_RESOURCES);
    expect_unchanged(&f, &s);
    assert_int_equal(cm__iv_protect(&f.map, P(20), P(2), PROT_R), CM_ERR_NO_RESOURCES);
    expect_unchanged(&f, &s);

    /* What needs no extra node still works on a full array: a reserve that
     * merges, a head/tail release, and a protect of whole nodes. */
    reserve_fixed(&f, P(30), P(2), PROT_RW, 1);
    assert_int_equal(cm__iv_release(&f.map, P(30), P(2)), CM_OK);
    assert_int_equal(cm__iv_release(&f.map, P(20), P(1)), CM_OK);
    assert_int_equal(cm__iv_protect(&f.map, P(40), P(10), PROT_R), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 2);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
}

static void test_protect_that_fits_only_after_merging_is_accepted_on_a_full_array(void **state)
{
    (void)state;
    struct fixture f;
    init_map(&f, 3);
    reserve_fixed(&f, P(20), P(4), PROT_RW, 1);
    reserve_fixed(&f, P(24), P(4), PROT_R, 1);
    reserve_fixed(&f, P(28), P(4), PROT_RX, 1);
    /* Splits [20,24) at 22 (+1) and makes [22,28) one run: [24,28) merges
     * with the new piece (-1). Final count 3 == capacity. */
    assert_int_equal(cm__iv_protect(&f.map, P(22), P(6), PROT_R), CM_OK);
    assert_int_equal(cm__iv_check(&f.map), CM_OK);
    assert_int_equal(cm__iv_count(&f.map), 3);
    expect_node(&f, 0, P(20), P(22), PROT_RW, 1);
    expect_node(&f, 1, P(22), P(28), PROT_R, 1);
    expect_node(&f, 2, P(28), P(32), PROT_RX, 1);
}

static void test_malformed_and_overflowing_inputs_are_rejected_before_any_change(void **state)
{
    (void)state;
    struct fixture f;
    struct snapshot s;
    uint64_t out;
    const uint64_t top = UINT64_MAX & ~(PG - 1); /* highest page address */
    init_map(&f, 8);
    reserve_fixed(&f, P(20), P(4), PROT_RW, 1);
    take(&f, &s);

    /* INVALID_ARGS: zero, unaligned, unknown flags, NULL out. */
    assert_int_equal(cm__iv_reserve(&f.map, P(30), 0, CM_IV_FIXED, 1, 1, 1, &out), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_reserve(&f.map, P(30), 100, CM_IV_FIXED, 1, 1, 1, &out), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_reserve(&f.map, P(30) + 1, PG, CM_IV_FIXED, 1, 1, 1, &out), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_reserve(&f.map, P(30) + 1, PG, 0, 1, 1, 1, &out), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_reserve(&f.map, P(30), PG, 0x80, 1, 1, 1, &out), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_reserve(&f.map, P(30), PG, 0, 1, 1, 1, NULL), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_release(&f.map, P(20), 0), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_release(&f.map, P(20) + 8, PG), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_protect(&f.map, P(20), PG - 1, PROT_R), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__iv_release(NULL, P(20), PG), CM_ERR_INVALID_ARGS);
    expect_unchanged(&f, &s);

    /* OUT_OF_RANGE: start + len wraps past 2^64, or lengths no window holds. */
    assert_int_equal(cm__iv_reserve(&f.map, top, P(2), CM_IV_FIXED, 1, 1, 1, &out), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&f.map, P(20), top, CM_IV_FIXED, 1, 1, 1, &out), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&f.map, top, top, 0, 1, 1, 1, &out), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&f.map, top, PG, 0, 1, 1, 1, &out), CM_OK); /* hint ignored */
    assert_int_equal(out, P(16));
    assert_int_equal(cm__iv_release(&f.map, P(16), PG), CM_OK);
    assert_int_equal(cm__iv_release(&f.map, P(20), top), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_release(&f.map, top, PG), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_release(&f.map, top, top), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_protect(&f.map, P(21), top - P(1), PROT_R), CM_ERR_OUT_OF_RANGE);
    expect_unchanged(&f, &s);

    /* A window reaching the top page: a reserve ending exactly at the
     * highest page-aligned limit works, one page more wraps. */
    struct cm__iv_map m;
    struct cm__iv_node n[2];
    assert_int_equal(cm__iv_init(&m, n, 2, top - P(4), top), CM_OK);
    assert_int_equal(cm__iv_reserve(&m, top - P(1), PG, CM_IV_FIXED, 1, 1, 1, &out), CM_OK);
    assert_int_equal(cm__iv_reserve(&m, top, PG, CM_IV_FIXED, 1, 1, 1, &out), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__iv_reserve(&m, top - P(1), P(2), 0, 1, 1, 2, &out), CM_OK);
    assert_int_equal(out, top - P(4));
    assert_int_equal(cm__iv_release(&m, top - P(1), PG), CM_OK);
    assert_int_equal(cm__iv_check(&m), CM_OK);
}

/* ---- Randomized model check ------------------------------------------- */

/* The model: one slot per page of a small window, no nodes at all. It
 * predicts every status, every placement and the exact node count (by I4 the
 * map has one node per maximal run of identical reserved pages). */
#define MPAGES 48
#define MBASE P(8)
#define MLIMIT (MBASE + P(MPAGES))

struct mpage {
    int used;
    uint32_t kind, prot;
    uint64_t tag;
};

struct model {
    struct mpage pg[MPAGES];
};

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t model_runs(const struct model *m)
{
    uint32_t runs = 0;
    for (int p = 0; p < MPAGES; p++) {
        if (!m->pg[p].used)
            continue;
        if (p > 0 && m->pg[p - 1].used && m->pg[p - 1].kind == m->pg[p].kind &&
            m->pg[p - 1].prot == m->pg[p].prot && m->pg[p - 1].tag == m->pg[p].tag)
            continue;
        runs++;
    }
    return runs;
}

/* Checks a page-aligned range with 128-bit arithmetic (independent of the
 * implementation's wrap checks) and returns its page indices. */
static cm_status_t model_range(uint64_t start, uint64_t len, int *p0, int *p1)
{
    if (len == 0 || start % PG != 0 || len % PG != 0)
        return CM_ERR_INVALID_ARGS;
    unsigned __int128 end = (unsigned __int128)start + len;
    if (start < MBASE || end > MLIMIT)
        return CM_ERR_OUT_OF_RANGE;
    *p0 = (int)((start - MBASE) / PG);
    *p1 = (int)((uint64_t)(end - MBASE) / PG);
    return CM_OK;
}

static int model_free(const struct model *m, int p0, int p1)
{
    for (int p = p0; p < p1; p++)
        if (m->pg[p].used)
            return 0;
    return 1;
}

/* Applies `next` as the new state if its node count fits. */
static cm_status_t model_commit(struct model *m, const struct model *next, uint32_t capacity)
{
    if (model_runs(next) > capacity)
        return CM_ERR_NO_RESOURCES;
    *m = *next;
    return CM_OK;
}

static cm_status_t model_reserve(struct model *m, uint32_t capacity, uint64_t hint, uint64_t len,
                                 uint32_t flags, uint32_t kind, uint32_t prot, uint64_t tag,
                                 uint64_t *out)
{
    int p0 = -1, n;
    if ((flags & ~CM_IV_FIXED) != 0 || len == 0 || len % PG != 0 || hint % PG != 0)
        return CM_ERR_INVALID_ARGS;
    if (flags & CM_IV_FIXED) {
        int p1;
        cm_status_t st = model_range(hint, len, &p0, &p1);
        if (st != CM_OK)
            return st;
        if (!model_free(m, p0, p1))
            return CM_ERR_ALREADY_EXISTS;
    } else {
        if (len > MLIMIT - MBASE)
            return CM_ERR_OUT_OF_RANGE;
        n = (int)(len / PG);
        if (hint >= MBASE && hint < MLIMIT)
            for (int p = (int)((hint - MBASE) / PG); p + n <= MPAGES && p0 < 0; p++)
                if (model_free(m, p, p + n))
                    p0 = p;
        for (int p = 0; p + n <= MPAGES && p0 < 0; p++)
            if (model_free(m, p, p + n))
                p0 = p;
        if (p0 < 0)
            return CM_ERR_NO_RESOURCES;
    }
    struct model next = *m;
    for (int p = p0; p < p0 + (int)(len / PG); p++)
        next.pg[p] = (struct mpage){ 1, kind, prot, tag };
    cm_status_t st = model_commit(m, &next, capacity);
    if (st == CM_OK)
        *out = MBASE + P(p0);
    return st;
}

static cm_status_t model_change(struct model *m, uint32_t capacity, uint64_t start, uint64_t len,
                                int release, uint32_t prot)
{
    int p0, p1;
    cm_status_t st = model_range(start, len, &p0, &p1);
    if (st != CM_OK)
        return st;
    for (int p = p0; p < p1; p++)
        if (!m->pg[p].used)
            return CM_ERR_NOT_FOUND;
    struct model next = *m;
    for (int p = p0; p < p1; p++) {
        if (release)
            next.pg[p] = (struct mpage){ 0, 0, 0, 0 };
        else
            next.pg[p].prot = prot;
    }
    return model_commit(m, &next, capacity);
}

static void model_compare(const struct cm__iv_map *map, const struct model *m)
{
    assert_int_equal(cm__iv_check(map), CM_OK);
    assert_int_equal(cm__iv_count(map), model_runs(m));
    for (int p = 0; p < MPAGES; p++) {
        /* Probe a non-page-aligned address inside each page too. */
        const struct cm__iv_node *n = cm__iv_find(map, MBASE + P(p) + (uint64_t)(p * 97) % PG);
        if (!m->pg[p].used) {
            assert_null(n);
            continue;
        }
        assert_non_null(n);
        assert_int_equal(n->kind, m->pg[p].kind);
        assert_int_equal(n->prot, m->pg[p].prot);
        assert_int_equal(n->tag, m->pg[p].tag);
    }
    assert_null(cm__iv_find(map, MBASE - 1));
    assert_null(cm__iv_find(map, MLIMIT));
}

/* Addresses mostly inside the window, sometimes just outside, unaligned, or
 * near 2^64. */
static uint64_t rand_addr(void)
{
    uint64_t r = rng() % 100;
    if (r < 85)
        return MBASE + P(rng() % MPAGES);
    if (r < 92)
        return MBASE - P(4) + P(rng() % (MPAGES + 8));
    if (r < 95)
        return MBASE + P(rng() % MPAGES) + 1 + rng() % (PG - 1);
    if (r < 98)
        return (UINT64_MAX & ~(PG - 1)) - P(rng() % 4);
    return 0;
}

static uint64_t rand_len(void)
{
    uint64_t r = rng() % 100;
    if (r < 80)
        return P(1 + rng() % 6);
    if (r < 92)
        return P(1 + rng() % (MPAGES + 2));
    if (r < 95)
        return 0;
    if (r < 97)
        return P(1) + 1 + rng() % (PG - 1);
    return (UINT64_MAX & ~(PG - 1)) - P(rng() % 4);
}

/* A range inside one reserved stretch of the model (pages reserved with no
 * hole), so release and protect often succeed; falls back to random. */
static void rand_covered(const struct model *m, uint64_t *a, uint64_t *len)
{
    int p = (int)(rng() % MPAGES), q;
    for (int k = 0; k < MPAGES && !m->pg[p].used; k++)
        p = (p + 1) % MPAGES;
    if (!m->pg[p].used)
        return;
    for (q = p; q < MPAGES && m->pg[q].used; q++)
        ;
    *a = MBASE + P(p);
    *len = P(1 + rng() % (uint64_t)(q - p));
}

static void run_model(uint32_t capacity, int ops)
{
    struct cm__iv_node nodes[64];
    struct cm__iv_map map;
    struct model m;
    memset(&m, 0, sizeof m);
    assert_true(capacity <= 64);
    assert_int_equal(cm__iv_init(&map, nodes, capacity, MBASE, MLIMIT), CM_OK);

    for (int op = 0; op < ops; op++) {
        uint64_t a = rand_addr(), len = rand_len();
        /* Few distinct attributes, so merges are common. */
        uint32_t kind = (uint32_t)(rng() % 2), prot = (uint32_t)(rng() % 3);
        uint64_t tag = rng() % 2;
        cm_status_t want, got;
        uint64_t want_out = 0, got_out = 0;
        switch (rng() % 8) {
        case 0: case 1: case 2: {
            uint32_t flags = rng() % 2 ? CM_IV_FIXED : 0;
            if (rng() % 50 == 0)
                flags |= 0x10;
            want = model_reserve(&m, capacity, a, len, flags, kind, prot, tag, &want_out);
            got = cm__iv_reserve(&map, a, len, flags, kind, prot, tag, &got_out);
            if (want == CM_OK)
                assert_int_equal(got_out, want_out);
            break;
        }
        case 3: case 4:
            if (rng() % 2)
                rand_covered(&m, &a, &len);
            want = model_change(&m, capacity, a, len, 1, 0);
            got = cm__iv_release(&map, a, len);
            break;
        default:
            if (rng() % 2)
                rand_covered(&m, &a, &len);
            want = model_change(&m, capacity, a, len, 0, prot);
            got = cm__iv_protect(&map, a, len, prot);
            break;
        }
        if (got != want)
            fail_msg("op %d: status %s, model says %s", op, cm_status_name(got),
                     cm_status_name(want));
        model_compare(&map, &m);
    }
}

static void test_random_operations_match_a_page_model_with_ample_nodes(void **state)
{
    (void)state;
    run_model(64, 20000);
}

static void test_random_operations_match_a_page_model_when_nodes_run_out(void **state)
{
    (void)state;
    for (uint32_t cap = 1; cap <= 8; cap++)
        run_model(cap, 5000);
}

static int setup_seed(void **state)
{
    (void)state;
    const char *env = getenv("CM_TEST_SEED");
    rng_state = env != NULL ? strtoull(env, NULL, 0) : 0x17e7a1ull;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_empty_unaligned_or_inverted_windows),
        cmocka_unit_test(test_fixed_reserve_lands_exactly_at_hint),
        cmocka_unit_test(test_fixed_reserve_never_replaces_an_overlapping_reservation),
        cmocka_unit_test(test_hinted_reserve_uses_a_free_hint),
        cmocka_unit_test(test_hinted_reserve_falls_back_to_first_fit_above_then_from_base),
        cmocka_unit_test(test_hinted_reserve_reports_no_resources_when_no_gap_fits),
        cmocka_unit_test(test_release_in_the_middle_splits_one_node_into_two),
        cmocka_unit_test(test_release_of_the_tail_shrinks_the_node),
        cmocka_unit_test(test_release_of_the_head_shrinks_the_node),
        cmocka_unit_test(test_release_of_a_full_range_spanning_nodes_removes_them),
        cmocka_unit_test(test_release_of_a_range_with_a_hole_fails_and_changes_nothing),
        cmocka_unit_test(test_window_edges_are_usable_and_one_page_past_them_is_out_of_range),
        cmocka_unit_test(test_protect_splits_a_node_and_merges_it_back_when_restored),
        cmocka_unit_test(test_protect_keeps_kind_and_tag_and_merges_only_identical_neighbours),
        cmocka_unit_test(test_reserve_next_to_an_identical_reservation_merges_with_it),
        cmocka_unit_test(test_node_exhaustion_fails_with_no_resources_and_leaves_the_map_unchanged),
        cmocka_unit_test(test_protect_that_fits_only_after_merging_is_accepted_on_a_full_array),
        cmocka_unit_test(test_malformed_and_overflowing_inputs_are_rejected_before_any_change),
        cmocka_unit_test(test_random_operations_match_a_page_model_with_ample_nodes),
        cmocka_unit_test(test_random_operations_match_a_page_model_when_nodes_run_out),
    };
    return cmocka_run_group_tests(tests, setup_seed, NULL);
}
