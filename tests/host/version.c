/* SPDX-License-Identifier: MIT */
/* The version: one source (include/capmem/version.h), and the library
 * reports the one it was built with. Here library and headers come from the
 * same tree; tests/host/install_test.sh checks an installed copy, whose
 * SONAME and capmem.pc must follow the same header. */
#include <stdio.h>
#include <capmem/capmem.h>
#include "common/leakcheck.h"

static void test_version_string_is_the_three_numbers(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", CAPMEM_VERSION_MAJOR, CAPMEM_VERSION_MINOR,
             CAPMEM_VERSION_PATCH);
    assert_string_equal(CAPMEM_VERSION, want);
    assert_int_equal(CAPMEM_VERSION_NUMBER,
                     ((unsigned long)CAPMEM_VERSION_MAJOR << 16) |
                         ((unsigned long)CAPMEM_VERSION_MINOR << 8) | CAPMEM_VERSION_PATCH);
}

static void test_library_reports_the_headers_version(void **state)
{
    (void)state;
    assert_string_equal(cm_version(), CAPMEM_VERSION);
    assert_int_equal(cm_version_number(), CAPMEM_VERSION_NUMBER);
}

static void test_version_at_least_orders_major_minor_patch(void **state)
{
    (void)state;
    assert_true(CAPMEM_VERSION_AT_LEAST(CAPMEM_VERSION_MAJOR, CAPMEM_VERSION_MINOR,
                                        CAPMEM_VERSION_PATCH));
    assert_true(CAPMEM_VERSION_AT_LEAST(0, 0, 0));
    assert_false(CAPMEM_VERSION_AT_LEAST(CAPMEM_VERSION_MAJOR + 1, 0, 0));
    assert_false(CAPMEM_VERSION_AT_LEAST(CAPMEM_VERSION_MAJOR, CAPMEM_VERSION_MINOR + 1, 0));
    assert_false(CAPMEM_VERSION_AT_LEAST(CAPMEM_VERSION_MAJOR, CAPMEM_VERSION_MINOR,
                                         CAPMEM_VERSION_PATCH + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_string_is_the_three_numbers),
        cmocka_unit_test(test_library_reports_the_headers_version),
        cmocka_unit_test(test_version_at_least_orders_major_minor_patch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
