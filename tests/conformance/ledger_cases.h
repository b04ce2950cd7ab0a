/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CONFORMANCE_LEDGER_CASES_H
#define CAPMEM_CONFORMANCE_LEDGER_CASES_H

/* Ledger cases (ledger_cases.c, docs/ledger.md), the same on both targets,
 * listed in conformance.c's table. They never lower a limit: the suite is
 * one process and limits never go back up. */
int test_ledger_reports_every_kind_within_its_limit(void);
int test_ledger_limit_never_rises_and_unknown_kind_is_out_of_range(void);
int test_ledger_vmo_create_and_close_charge_and_release_once(void);

#endif
