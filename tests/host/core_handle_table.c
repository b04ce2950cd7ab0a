/* SPDX-License-Identifier: MIT */
/* core/handle_table: generations, types, rights, exhaustion. */
#include <string.h>

#include <capmem/capmem.h>
#include "handle_table.h"
#include "rights.h"
#include "common/leakcheck.h"

static int obj_a, obj_b;

static void test_init_rejects_zero_and_oversized_capacity(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[2];
    assert_status(cm__htab_init(&t, e, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__htab_init(&t, e, CM_HTAB_MAX_CAPACITY + 1), CM_ERR_INVALID_ARGS);
    assert_status(cm__htab_init(&t, e, 2), CM_OK);
}

static void test_lookup_checks_type_then_rights(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[4], *got;
    cm_handle_t h;
    cm__htab_init(&t, e, 4);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, CM_RIGHT_READ, &h), CM_OK);
    assert_int_not_equal(h, CM_HANDLE_INVALID);
    assert_status(cm__htab_lookup(&t, h, CM_OBJ_VMO, CM_RIGHT_READ, &got), CM_OK);
    assert_ptr_equal(got->object, &obj_a);
    assert_status(cm__htab_lookup(&t, h, CM_OBJ_CHANNEL, 0, &got), CM_ERR_WRONG_TYPE);
    assert_status(cm__htab_lookup(&t, h, CM_OBJ_VMO, CM_RIGHT_WRITE, &got), CM_ERR_ACCESS_DENIED);
    assert_status(cm__htab_lookup(&t, h, CM_OBJ_NONE, 0, &got), CM_OK);
}

static void test_stale_handle_is_rejected_after_slot_reuse(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[1], *got;
    cm_handle_t h1, h2;
    cm__htab_init(&t, e, 1);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, CM_RIGHTS_ALL, &h1), CM_OK);
    assert_status(cm__htab_remove(&t, h1, NULL), CM_OK);
    assert_status(cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, CM_RIGHTS_ALL, &h2), CM_OK);
    assert_int_not_equal(h1, h2); /* same slot, new generation */
    assert_status(cm__htab_lookup(&t, h1, CM_OBJ_NONE, 0, &got), CM_ERR_BAD_HANDLE);
    assert_status(cm__htab_remove(&t, h1, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm__htab_lookup(&t, h2, CM_OBJ_NONE, 0, &got), CM_OK);
    assert_ptr_equal(got->object, &obj_b);
}

static cm_handle_t gen_of(cm_handle_t h)
{
    return h >> CM_HTAB_INDEX_BITS;
}

static void test_generations_never_produce_zero_or_top_bit(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[1];
    cm_handle_t h;
    cm__htab_init(&t, e, 1);
    for (int i = 0; i < 70000; i++) {
        assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &h), CM_OK);
        assert_int_not_equal(h, CM_HANDLE_INVALID);
        assert_int_equal(h & 0x80000000u, 0);
        assert_int_not_equal(gen_of(h), 0);
        assert_status(cm__htab_remove(&t, h, NULL), CM_OK);
    }
}

/* The old layout (15-bit generations, LIFO free list) reissued a closed
 * value after 32,767 reuses of one slot: within a few hundred ms. */
static void test_stale_value_not_reissued_within_a_million_reuses_of_one_slot(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[1];
    cm_handle_t first, h;
    cm__htab_init(&t, e, 1);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &first), CM_OK);
    assert_status(cm__htab_remove(&t, first, NULL), CM_OK);
    for (int i = 0; i < 1000000; i++) {
        assert_status(cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &h), CM_OK);
        if (h == first)
            fail_msg("closed value reissued after %d reuses", i + 1);
        cm__htab_remove(&t, h, NULL);
    }
}

static void test_freed_slots_are_reused_oldest_first(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[4];
    cm_handle_t hs[4], a, b;
    cm__htab_init(&t, e, 4);
    for (int i = 0; i < 4; i++)
        cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &hs[i]);
    cm__htab_remove(&t, hs[2], NULL);
    cm__htab_remove(&t, hs[0], NULL);
    /* LIFO would hand back slot 0 (freed last) first. */
    cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &a);
    cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &b);
    assert_int_equal(a & ((1u << CM_HTAB_INDEX_BITS) - 1), hs[2] & ((1u << CM_HTAB_INDEX_BITS) - 1));
    assert_int_equal(b & ((1u << CM_HTAB_INDEX_BITS) - 1), hs[0] & ((1u << CM_HTAB_INDEX_BITS) - 1));
}

static void test_exhausted_slot_is_retired_not_wrapped(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[2];
    cm_handle_t h, other;
    cm__htab_init(&t, e, 2);
    /* Jump slot 0 to its last generation instead of churning 2^21 times. */
    e[0].gen = CM_HTAB_GEN_MAX;
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &h), CM_OK);
    assert_int_equal(gen_of(h), CM_HTAB_GEN_MAX);
    assert_status(cm__htab_remove(&t, h, NULL), CM_OK);
    assert_int_equal(t.retired, 1);
    /* Slot 1 serves while one exists: slot 0 does not come back at gen 1. */
    for (int i = 0; i < 100; i++) {
        assert_status(cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &other), CM_OK);
        assert_int_equal(other & 0x3ffu, 2);
        assert_status(cm__htab_lookup(&t, h, CM_OBJ_NONE, 0, NULL), CM_ERR_BAD_HANDLE);
        cm__htab_remove(&t, other, NULL);
    }
}

static void test_retired_slot_revived_only_when_table_otherwise_full(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[2];
    cm_handle_t h, a, b, c;
    cm__htab_init(&t, e, 2);
    e[0].gen = CM_HTAB_GEN_MAX;
    cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &h);
    cm__htab_remove(&t, h, NULL);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &a), CM_OK);
    assert_status(cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &b), CM_OK); /* revived */
    assert_int_equal(t.retired, 0);
    assert_int_equal(gen_of(b), 1);
    assert_status(cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &c), CM_ERR_NO_RESOURCES);
    assert_int_equal(t.live, 2);
}

static void test_forged_values_are_bad_handles(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[4];
    cm_handle_t h;
    cm__htab_init(&t, e, 4);
    cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &h);
    const cm_handle_t forged[] = { 0, 0xffffffffu, 0x80000000u | h, h + 1,
                                   h + (1u << CM_HTAB_INDEX_BITS),
                                   (h & ~0x3ffu) | 0x5, 1u << CM_HTAB_INDEX_BITS,
                                   h & ~0x3ffu };
    for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++)
        assert_status(cm__htab_lookup(&t, forged[i], CM_OBJ_NONE, 0, NULL), CM_ERR_BAD_HANDLE);
}

static void test_full_table_gives_no_resources_and_recovers(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[8];
    cm_handle_t hs[8], extra;
    cm__htab_init(&t, e, 8);
    for (int i = 0; i < 8; i++)
        assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &hs[i]), CM_OK);
    assert_int_equal(t.live, 8);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &extra), CM_ERR_NO_RESOURCES);
    assert_status(cm__htab_remove(&t, hs[3], NULL), CM_OK);
    assert_status(cm__htab_alloc(&t, &obj_b, CM_OBJ_VMO, 0, &extra), CM_OK);
    assert_int_equal(t.live, 8);
}

static void test_alloc_rejects_null_object_and_bad_type(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[2];
    cm_handle_t h;
    cm__htab_init(&t, e, 2);
    assert_status(cm__htab_alloc(&t, NULL, CM_OBJ_VMO, 0, &h), CM_ERR_INVALID_ARGS);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_NONE, 0, &h), CM_ERR_INVALID_ARGS);
    assert_status(cm__htab_alloc(&t, &obj_a, CM_OBJ_TYPE_COUNT, 0, &h), CM_ERR_INVALID_ARGS);
    assert_int_equal(t.live, 0);
}

static void test_iteration_visits_each_live_handle_once(void **state)
{
    (void)state;
    struct cm_htab t;
    struct cm_htab_entry e[6];
    cm_handle_t hs[6], h;
    uint32_t cursor = 0;
    int seen = 0;
    cm__htab_init(&t, e, 6);
    for (int i = 0; i < 6; i++)
        cm__htab_alloc(&t, &obj_a, CM_OBJ_VMO, 0, &hs[i]);
    cm__htab_remove(&t, hs[1], NULL);
    cm__htab_remove(&t, hs[4], NULL);
    while ((h = cm__htab_next(&t, &cursor)) != CM_HANDLE_INVALID) {
        assert_status(cm__htab_lookup(&t, h, CM_OBJ_NONE, 0, NULL), CM_OK);
        seen++;
    }
    assert_int_equal(seen, 4);
}

static void test_rights_derive_only_shrinks(void **state)
{
    (void)state;
    cm_rights_t out;
    cm_rights_t have = CM_RIGHT_READ | CM_RIGHT_MAP;
    assert_status(cm__rights_derive(have, CM_RIGHTS_SAME, &out), CM_OK);
    assert_int_equal(out, have);
    assert_status(cm__rights_derive(have, CM_RIGHT_READ, &out), CM_OK);
    assert_int_equal(out, CM_RIGHT_READ);
    assert_status(cm__rights_derive(have, 0, &out), CM_OK);
    assert_int_equal(out, 0);
    assert_status(cm__rights_derive(have, CM_RIGHT_READ | CM_RIGHT_WRITE, &out),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm__rights_derive(CM_RIGHTS_ALL, 1u << 20, &out), CM_ERR_INVALID_ARGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_zero_and_oversized_capacity),
        cmocka_unit_test(test_lookup_checks_type_then_rights),
        cmocka_unit_test(test_stale_handle_is_rejected_after_slot_reuse),
        cmocka_unit_test(test_generations_never_produce_zero_or_top_bit),
        cmocka_unit_test(test_stale_value_not_reissued_within_a_million_reuses_of_one_slot),
        cmocka_unit_test(test_freed_slots_are_reused_oldest_first),
        cmocka_unit_test(test_exhausted_slot_is_retired_not_wrapped),
        cmocka_unit_test(test_retired_slot_revived_only_when_table_otherwise_full),
        cmocka_unit_test(test_forged_values_are_bad_handles),
        cmocka_unit_test(test_full_table_gives_no_resources_and_recovers),
        cmocka_unit_test(test_alloc_rejects_null_object_and_bad_type),
        cmocka_unit_test(test_iteration_visits_each_live_handle_once),
        cmocka_unit_test(test_rights_derive_only_shrinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
