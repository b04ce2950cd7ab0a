/* SPDX-License-Identifier: MIT */
/* The status table: every code has a distinct name and message. */
#include <capmem/capmem.h>
#include "common/leakcheck.h"

static void test_every_status_has_name_and_message(void **state)
{
    (void)state;
#define CHECK(name, value, msg)                                            \
    assert_string_equal(cm_status_str(value), msg);                        \
    assert_non_null(cm_status_name(value));                                \
    assert_true((value) <= 0);
    CM_STATUS_TABLE(CHECK)
#undef CHECK
    assert_string_equal(cm_status_name(CM_ERR_ACCESS_DENIED), "CM_ERR_ACCESS_DENIED");
    assert_string_equal(cm_status_name(CM_OK), "CM_OK");
}

static void test_unknown_status_gets_a_message_not_null(void **state)
{
    (void)state;
    assert_string_equal(cm_status_str(-9999), "unknown status");
    assert_string_equal(cm_status_str(42), "unknown status");
    assert_string_equal(cm_status_name(-9999), "CM_ERR_UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_has_name_and_message),
        cmocka_unit_test(test_unknown_status_gets_a_message_not_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
