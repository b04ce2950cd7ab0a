/* SPDX-License-Identifier: MIT */
/* core/ledger: the one charge/uncharge/carve rule of both targets. */
#include <stdint.h>
#include <capmem/capmem.h>
#include <capmem/ledger.h>
#include "ledger.h"
#include "common/leakcheck.h"

static void limited(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t limit)
{
    uint64_t lim[CM__LEDGER_KINDS];
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++)
        lim[k] = UINT64_MAX;
    lim[kind] = limit;
    cm__ledger_init(l, lim, 0);
}

static void test_each_kind_refuses_past_its_limit_with_its_typed_status(void **state)
{
    (void)state;
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
        struct cm__ledger l;
        limited(&l, (cm_ledger_kind_t)k, 10);
        assert_int_equal(cm__ledger_charge(&l, k, 10), CM_OK);
        cm_status_t want = k == CM_LEDGER_VIRTUAL ? CM_ERR_QUOTA_VIRTUAL
                           : (k == CM_LEDGER_COMMIT || k == CM_LEDGER_OBJECT_BACKING)
                               ? CM_ERR_QUOTA_COMMIT
                               : CM_ERR_NO_RESOURCES;
        assert_int_equal(cm__ledger_charge(&l, k, 1), want);
        assert_true(l.used[k] == 10);
        assert_true(l.peak[k] == 10);
    }
    assert_int_equal(cm__ledger_pressure_status(), CM_ERR_MEMORY_PRESSURE);
}

static void test_charge_near_uint64_max_is_refused_not_wrapped(void **state)
{
    (void)state;
    struct cm__ledger l;
    cm__ledger_init(&l, 0, 0);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_COMMIT, UINT64_MAX - 5), CM_OK);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_COMMIT, 6), CM_ERR_QUOTA_COMMIT);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_COMMIT, UINT64_MAX), CM_ERR_QUOTA_COMMIT);
    assert_true(l.used[CM_LEDGER_COMMIT] == UINT64_MAX - 5);
    assert_int_equal(cm__ledger_give(&l, CM_LEDGER_COMMIT, 6), CM_ERR_QUOTA_COMMIT);
    assert_int_equal(cm__ledger_give(&l, CM_LEDGER_COMMIT, 5), CM_OK);
    assert_true(cm__ledger_available(&l, CM_LEDGER_COMMIT) == 0);
}

static void test_release_beyond_charge_is_internal_and_changes_nothing(void **state)
{
    (void)state;
    struct cm__ledger l;
    cm__ledger_init(&l, 0, 0);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_VMOS, 2), CM_OK);
    assert_int_equal(cm__ledger_uncharge(&l, CM_LEDGER_VMOS, 3), CM_ERR_INTERNAL);
    assert_true(l.used[CM_LEDGER_VMOS] == 2);
    assert_int_equal(cm__ledger_uncharge(&l, CM_LEDGER_VMOS, 2), CM_OK);
    /* The second release of the same charge is caught. */
    assert_int_equal(cm__ledger_uncharge(&l, CM_LEDGER_VMOS, 2), CM_ERR_INTERNAL);
    assert_true(cm__ledger_empty(&l));
    assert_int_equal(cm__ledger_take_back(&l, CM_LEDGER_VMOS, 1), CM_ERR_INTERNAL);
}

static void test_unknown_kind_is_out_of_range(void **state)
{
    (void)state;
    struct cm__ledger l;
    cm__ledger_init(&l, 0, 0);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_KIND_COUNT, 1), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__ledger_uncharge(&l, (cm_ledger_kind_t)99, 0), CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm__ledger_lower_limit(&l, (cm_ledger_kind_t)-1, 0, 0),
                     CM_ERR_OUT_OF_RANGE);
    assert_string_equal(cm_ledger_kind_name((cm_ledger_kind_t)99), "unknown");
    assert_string_equal(cm_ledger_kind_name(CM_LEDGER_COMMIT), "commit");
    assert_string_equal(cm_ledger_kind_name(CM_LEDGER_VMARS), "vmars");
    assert_string_equal(cm_ledger_kind_name(CM_LEDGER_DMA_POOLS), "dma_pools");
}

/* A refused entry of a multi-kind charge leaves every earlier one
 * released: the failure at each step is injected by a limit of 0 there. */
static void test_charge_all_refused_at_each_step_keeps_nothing(void **state)
{
    (void)state;
    const struct cm__ledger_charge c[3] = {
        { CM_LEDGER_VMOS, 1 }, { CM_LEDGER_OBJECT_BACKING, 8192 }, { CM_LEDGER_COMMIT, 12288 },
    };
    for (uint32_t fail = 0; fail < 3; fail++) {
        struct cm__ledger l;
        limited(&l, c[fail].kind, c[fail].amount - 1);
        cm_status_t st = cm__ledger_charge_all(&l, c, 3);
        assert_int_equal(st, cm__ledger_quota_status(c[fail].kind));
        assert_true(cm__ledger_empty(&l));
    }
    struct cm__ledger l;
    cm__ledger_init(&l, 0, 0);
    assert_int_equal(cm__ledger_charge_all(&l, c, 3), CM_OK);
    assert_false(cm__ledger_empty(&l));
    assert_int_equal(cm__ledger_uncharge_all(&l, c, 3), CM_OK);
    assert_true(cm__ledger_empty(&l));
    /* Released twice: refused whole, nothing goes negative. */
    assert_int_equal(cm__ledger_uncharge_all(&l, c, 3), CM_ERR_INTERNAL);
    assert_true(cm__ledger_empty(&l));
}

static void test_uncharge_all_checks_sums_of_one_kind(void **state)
{
    (void)state;
    struct cm__ledger l;
    cm__ledger_init(&l, 0, 0);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_COMMIT, 3), CM_OK);
    const struct cm__ledger_charge twice[2] = { { CM_LEDGER_COMMIT, 2 }, { CM_LEDGER_COMMIT, 2 } };
    assert_int_equal(cm__ledger_uncharge_all(&l, twice, 2), CM_ERR_INTERNAL);
    assert_true(l.used[CM_LEDGER_COMMIT] == 3);
    const struct cm__ledger_charge huge[2] = { { CM_LEDGER_COMMIT, UINT64_MAX },
                                               { CM_LEDGER_COMMIT, 2 } };
    assert_int_equal(cm__ledger_uncharge_all(&l, huge, 2), CM_ERR_INTERNAL);
    assert_true(l.used[CM_LEDGER_COMMIT] == 3);
}

static void test_given_counts_against_the_limit_and_returns(void **state)
{
    (void)state;
    struct cm__ledger l;
    limited(&l, CM_LEDGER_PROCESSES, 16);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_PROCESSES, 1), CM_OK);
    assert_int_equal(cm__ledger_give(&l, CM_LEDGER_PROCESSES, 15), CM_OK);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_PROCESSES, 1), CM_ERR_NO_RESOURCES);
    assert_int_equal(cm__ledger_give(&l, CM_LEDGER_PROCESSES, 1), CM_ERR_NO_RESOURCES);
    assert_int_equal(cm__ledger_take_back(&l, CM_LEDGER_PROCESSES, 15), CM_OK);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_PROCESSES, 15), CM_OK);
}

static void test_limit_only_goes_down_and_never_below_what_is_held(void **state)
{
    (void)state;
    struct cm__ledger l;
    uint32_t flags[CM__LEDGER_KINDS];
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++)
        flags[k] = CM_LEDGER_ENFORCED;
    flags[CM_LEDGER_PINS] = 0;
    limited(&l, CM_LEDGER_HANDLES, 100);
    cm__ledger_init(&l, l.limit, flags);
    uint64_t freed = 0;
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_HANDLES, 10), CM_OK);
    assert_int_equal(cm__ledger_give(&l, CM_LEDGER_HANDLES, 5), CM_OK);
    assert_int_equal(cm__ledger_lower_limit(&l, CM_LEDGER_HANDLES, 101, &freed),
                     CM_ERR_ACCESS_DENIED);
    assert_int_equal(cm__ledger_lower_limit(&l, CM_LEDGER_HANDLES, 14, &freed),
                     CM_ERR_BAD_STATE);
    assert_int_equal(cm__ledger_lower_limit(&l, CM_LEDGER_HANDLES, 15, &freed), CM_OK);
    assert_true(freed == 85);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_HANDLES, 1), CM_ERR_NO_RESOURCES);
    assert_int_equal(cm__ledger_lower_limit(&l, CM_LEDGER_PINS, 0, &freed), CM_ERR_UNSUPPORTED);
}

static void test_info_reports_every_kind(void **state)
{
    (void)state;
    struct cm__ledger l;
    cm__ledger_init(&l, 0, 0);
    assert_int_equal(cm__ledger_charge(&l, CM_LEDGER_MESSAGES, 4), CM_OK);
    assert_int_equal(cm__ledger_uncharge(&l, CM_LEDGER_MESSAGES, 3), CM_OK);
    cm_ledger_info_t info;
    cm__ledger_info(&l, &info);
    assert_int_equal(info.kinds, CM_LEDGER_KIND_COUNT);
    assert_true(info.entry[CM_LEDGER_MESSAGES].used == 1);
    assert_true(info.entry[CM_LEDGER_MESSAGES].peak == 4);
    assert_true(info.entry[CM_LEDGER_MESSAGES].limit == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_refuses_past_its_limit_with_its_typed_status),
        cmocka_unit_test(test_charge_near_uint64_max_is_refused_not_wrapped),
        cmocka_unit_test(test_release_beyond_charge_is_internal_and_changes_nothing),
        cmocka_unit_test(test_unknown_kind_is_out_of_range),
        cmocka_unit_test(test_charge_all_refused_at_each_step_keeps_nothing),
        cmocka_unit_test(test_uncharge_all_checks_sums_of_one_kind),
        cmocka_unit_test(test_given_counts_against_the_limit_and_returns),
        cmocka_unit_test(test_limit_only_goes_down_and_never_below_what_is_held),
        cmocka_unit_test(test_info_reports_every_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
