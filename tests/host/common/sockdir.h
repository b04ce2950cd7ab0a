/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_SOCKDIR_H
#define CAPMEM_TESTS_SOCKDIR_H

/* A fresh private directory per test, with a socket path in it, removed
 * whatever the test did: LEAK_TEST plus the directory. Use as
 * DIR_TEST(t) in the cmocka test list. */

#include "leakcheck.h" /* cmocka */

extern char sock_dir[64];   /* the test's directory, /tmp/cm-test-XXXXXX */
extern char sock_path[128]; /* sock_dir/sock, not created */

/* Makes sock_dir and sock_path, then leak_setup. */
int sockdir_setup(void **state);

/* Removes sock_path (if a test bound it) and sock_dir, then leak_teardown. */
int sockdir_teardown(void **state);

#define DIR_TEST(t) cmocka_unit_test_setup_teardown(t, sockdir_setup, sockdir_teardown)

#endif
