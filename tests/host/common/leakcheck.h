/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_LEAKCHECK_H
#define CAPMEM_TESTS_LEAKCHECK_H

/* Leak check wrapped around every host test: open fds, memory mappings
 * (lines of /proc/self/maps), live capmem handles and capmem mappings are
 * counted before the test and must be equal after it. Use as cmocka
 * setup/teardown: cmocka_unit_test_setup_teardown(t, leak_setup, leak_teardown)
 * or the LEAK_TEST(t) shorthand. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

int leak_setup(void **state);
int leak_teardown(void **state);

#define LEAK_TEST(t) cmocka_unit_test_setup_teardown(t, leak_setup, leak_teardown)

/* Counters, exposed for tests that check a specific resource. */
int count_open_fds(void);
int count_maps(void);

/* Asserts a status equals the expected one, printing both names. */
#define assert_status(actual, expected) \
    assert_string_equal(cm_status_name(actual), cm_status_name(expected))

#endif
