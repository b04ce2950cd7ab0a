/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_LEDGER_CHECK_H
#define CAPMEM_TESTS_LEDGER_CHECK_H

/* The ledger before and after: a failed call, or a sequence that releases
 * what it took, must leave every kind's `used` where it was. */

#include <capmem/ledger.h>
#include "leakcheck.h" /* cmocka */

/* The process's ledger now; fails the test if it cannot be read. */
cm_ledger_info_t ledger(void);

/* Fails the test, naming the kind, unless every kind's used equals a's. */
void assert_ledger_same(const cm_ledger_info_t *a);

#endif
