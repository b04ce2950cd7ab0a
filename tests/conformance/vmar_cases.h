/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CONFORMANCE_VMAR_CASES_H
#define CAPMEM_CONFORMANCE_VMAR_CASES_H

/* Address-space region cases (vmar_cases.c), listed in conformance.c's
 * table. Skipped (reported as SKIP, never a pass) where conf_target.has_vmar
 * is 0. */
int test_vmar_fixed_reserve_no_replace_and_release(void);
int test_vmar_map_split_unmap_and_remap(void);
int test_vmar_protect_none_and_back_keeps_content(void);
int test_vmar_unmap_vmo_checks_provenance(void);
int test_vmar_rights_bound_protection_never_execute(void);
int test_vmar_protect_never_regains_write_after_readonly_seal(void);
int test_vmo_decommit_zeroes_and_counts_exactly(void);
int test_mapping_identity_names_object_and_offset(void);
int test_vmar_limits_have_typed_errors(void);
int test_vmar_nested_fixed_and_hint_never_overlap_either_way(void);
int test_vmar_nested_parent_close_destroys_children_bad_state(void);
int test_vmar_nested_child_close_returns_range_to_parent(void);
int test_vmar_nested_depth_limit_and_rights_subset(void);
int test_vmar_anon_zero_fill_split_protect_and_provenance(void);
int test_vmar_nested_and_anon_ledger_returns_exactly(void);

#endif
