/* SPDX-License-Identifier: MIT */
/* core/deadline: the one timeout rule of every wait on both targets. */
#include <stdint.h>
#include <capmem/capmem.h>
#include "deadline.h"
#include "common/leakcheck.h"

static void test_infinite_timeout_has_no_deadline(void **state)
{
    (void)state;
    uint64_t d = 0;
    assert_int_equal(cm__deadline_from_timeout(123, CM_TIMEOUT_INFINITE, &d), CM_OK);
    assert_true(d == CM__DEADLINE_NONE);
    assert_false(cm__deadline_passed(d, UINT64_MAX - 1));
    assert_int_equal(cm__deadline_poll_ms(d, 0, 1000), -1);
}

static void test_negative_timeout_other_than_infinite_is_invalid(void **state)
{
    (void)state;
    uint64_t d = 7;
    assert_int_equal(cm__deadline_from_timeout(0, -2, &d), CM_ERR_INVALID_ARGS);
    assert_int_equal(cm__deadline_from_timeout(0, INT64_MIN, &d), CM_ERR_INVALID_ARGS);
    assert_true(d == 7);
}

static void test_huge_timeout_saturates_instead_of_overflowing(void **state)
{
    (void)state;
    uint64_t d = 0;
    uint64_t now = UINT64_MAX - 10;
    assert_int_equal(cm__deadline_from_timeout(now, INT64_MAX, &d), CM_OK);
    assert_true(d == CM__DEADLINE_NONE - 1);
    assert_false(cm__deadline_passed(d, now));
    assert_int_equal(cm__deadline_from_timeout(1000, INT64_MAX, &d), CM_OK);
    assert_true(d == 1000 + (uint64_t)INT64_MAX);
}

static void test_zero_timeout_has_already_passed(void **state)
{
    (void)state;
    uint64_t d = 0;
    assert_int_equal(cm__deadline_from_timeout(500, 0, &d), CM_OK);
    assert_true(cm__deadline_passed(d, 500));
    assert_int_equal(cm__deadline_poll_ms(d, 500, 1000), 0);
    assert_true(cm__deadline_left_ns(d, 600) == 0);
}

static void test_poll_ms_rounds_up_and_caps(void **state)
{
    (void)state;
    assert_int_equal(cm__deadline_poll_ms(1000001, 0, 1000), 2);
    assert_int_equal(cm__deadline_poll_ms(1, 0, 1000), 1);
    assert_int_equal(cm__deadline_poll_ms(CM__DEADLINE_NONE - 1, 0, 1000), 1000);
    assert_int_equal(cm__deadline_poll_ms(5000000, 0, -3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infinite_timeout_has_no_deadline),
        cmocka_unit_test(test_negative_timeout_other_than_infinite_is_invalid),
        cmocka_unit_test(test_huge_timeout_saturates_instead_of_overflowing),
        cmocka_unit_test(test_zero_timeout_has_already_passed),
        cmocka_unit_test(test_poll_ms_rounds_up_and_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
