/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_SELFTEST_H
#define CAPMEM_USER_SELFTEST_H

/* Shared by the kernel selftest files (user/selftest*.c): the check
 * macros and the tests that live outside user/selftest.c. Every test is
 * listed once in the table of user/selftest.c. */
#include <stdint.h>
#include <stdio.h>

#include <capmem/capmem.h>

#define PAGE CM_PAGE_SIZE

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            printf("# %s:%d: check failed: %s\n", __func__, __LINE__, #cond); \
            return 1;                                                  \
        }                                                              \
    } while (0)

#define CHECK_ST(expr, want)                                           \
    do {                                                               \
        cm_status_t st__ = (expr);                                     \
        if (st__ != (want)) {                                          \
            printf("# %s:%d: %s returned %s, expected %s\n", __func__, __LINE__, #expr, \
                   cm_status_name(st__), cm_status_name(want));        \
            return 1;                                                  \
        }                                                              \
    } while (0)

static inline uint64_t now_ticks(void)
{
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

/* 10 MHz timebase: ticks per millisecond. */
#define TICKS_PER_MS 10000ull

/* user/selftest_console.c */
int test_console_read_bounds_are_typed(void);
int test_console_read_times_out_without_input(void);

/* user/selftest_word.c */
int test_word_wake_crosses_processes_at_different_addresses(void);
int test_word_wait_keyed_by_vmo_not_address(void);
int test_word_wait_returns_at_once_when_word_differs(void);
int test_word_wait_deadline_times_out(void);
int test_word_wait_rejects_bad_addresses(void);
int child_word_waiter(void);
int test_word_wait_in_reservation_woken_through_vmo_map(void);
int test_word_wait_in_vmo_map_woken_through_reservation(void);
int test_word_wait_in_reservation_bad_addresses_typed(void);
int test_word_wait_in_nested_reservation_keyed_by_vmo(void);
int child_word_waiter_in_vmar(void);

/* user/selftest_sbuf.c */
int test_sbuf_consumer_write_to_data_faults(void);
int test_sbuf_killed_consumer_slots_reclaimed_and_loan_woken(void);
int test_sbuf_producer_killed_consumer_drains_then_peer_closed(void);
int test_sbuf_consumer_handle_travels_rights_only_shrink(void);
int test_sbuf_object_signals(void);
int test_sbuf_pool_exhaustion_is_no_resources(void);
int test_sbuf_hostile_consumer_area_evicts_only_it(void);
int test_sbuf_stream_to_two_consumer_processes_block(void);
int test_sbuf_stream_to_two_consumer_processes_drop_oldest(void);
int child_sbuf_stream_consumer(void);
int child_sbuf_hold_then_write(void);
int child_sbuf_producer_dies(void);
int child_sbuf_copy_only(void);

/* user/selftest_vmar.c */
int test_vmar_fixed_no_replace_over_image_and_reservation_typed(void);
int test_vmar_unmap_and_protect_split_runs(void);
int test_decommit_frees_frames_and_every_mapping_reads_zero(void);
int test_committed_count_exact_under_partial_decommit(void);
int test_unmap_vmo_of_another_object_removes_nothing(void);
int test_vmar_close_returns_ledger_and_frames(void);
int test_vmar_kill_returns_ledger_and_frames(void);
int test_vmar_fault_deaths_are_typed(void);
int child_vmar_holder(void);
int child_vmar_fault_over_quota(void);
/* Spawns selftest helper `what` under quota q (NULL: defaults), kills it
 * first if `kill` (after checking it is still running), waits (5 s). */
int spawn_and_wait(const char *what, const cmk_quota_t *q, int kill, cmk_exit_info_t *info);
/* The start-up MMIO window of slot `slot` (user/selftest_mmio.c), or
 * CM_HANDLE_INVALID. */
cm_handle_t window_of_slot(uint32_t slot);

/* user/selftest_vmar_pt.c */
int test_vmar_page_table_frames_return_on_unmap_decommit_and_release(void);
int test_vmar_table_churn_cannot_exhaust_commit_quota(void);
int test_vmar_populate_commits_and_maps_every_page_at_map_time(void);
int test_vmar_populate_over_commit_quota_maps_and_charges_nothing(void);
int test_vmar_copy_into_unfaulted_page_without_table_room_charges_nothing(void);
int child_vmar_table_churn(void);
int child_vmar_touch_no_access(void);
int test_vmar_anon_commit_charged_at_touch_and_returned(void);
int test_vmar_nested_anon_exit_and_kill_return_frames(void);
int child_vmar_nested_anon_exit(void);
int child_vmar_nested_anon_holder(void);

/* user/selftest_ledger.c */
int test_ledger_charges_follow_creates_and_exit_returns_them(void);
int test_child_quota_is_carved_and_returns(void);
int test_spawn_quota_above_room_is_refused_typed(void);
int test_spawn_handle_unpublishable_starts_nothing(void);
int test_hostile_vmo_hog_gets_no_resources_and_all_returns_on_kill(void);
int test_hostile_channel_hog_gets_no_resources_and_all_returns_on_kill(void);
int test_hostile_message_hog_gets_no_resources_and_all_returns_on_kill(void);
int test_hostile_commit_hog_gets_quota_commit_and_all_returns_on_kill(void);
int test_hostile_sbuf_hog_gets_no_resources_and_all_returns_on_kill(void);
int test_hostile_handle_hog_gets_publish_failed_with_rollback(void);
int test_hostile_mapping_hog_gets_quota_virtual_under_lowered_limit(void);
int test_hostile_spawner_gets_no_resources_and_kill_ends_its_tree(void);
int child_hog(void);
int child_sleeper(void);
int child_touch_unmapped(void);
int test_fault_on_unmapped_page_exits_typed(void);
int test_kill_ends_a_tree_sleeping_in_the_kernel(void);
int child_deep_sleeper(void);

/* user/selftest_account.c */
int test_account_shared_by_children_adds_up_and_exhaustion_stays_inside(void);
int test_account_lives_while_handle_process_or_charge_then_returns_once(void);
int test_account_handle_sent_over_channel_receiver_spawns_into_it(void);
int test_account_rights_and_hostile_arguments_are_typed(void);
int test_overcommitted_accounts_draw_from_room_and_get_memory_pressure(void);
int test_account_hog_stops_at_its_processes_room(void);
int child_acct_worker(void);

/* user/selftest_account_hostile.c */
int test_kdma_fence_wait_out_page_gone_while_asleep_room_spent_is_typed(void);
int child_fence_wait_into_vanishing_page(void);
int test_account_last_handle_queued_to_dying_or_moved_into_its_child_ends_once(void);
int test_account_raw_pointer_handle_and_limit_abuse_is_typed(void);

/* user/selftest_sbuf_hostile.c */
int test_sbuf_copy_without_map_only_delivered_messages_after_producer_death(void);
int test_sbuf_loan_out_pointer_unmapped_during_sleep_is_invalid_args(void);
int test_sbuf_raw_syscalls_with_hostile_arguments(void);
int test_sbuf_consumer_pool_exhaustion_is_no_resources(void);
int test_sbuf_producer_killed_at_each_step_leaves_nothing(void);
int test_sbuf_mappings_revoked_when_handle_leaves_or_loses_right(void);
int test_sbuf_consumer_area_garbage_of_each_kind_evicts_only_it(void);
int test_sbuf_buffer_pool_entry_kept_until_last_consumer_leaves(void);
int child_sbuf_spin_then_exit(void);
int child_sbuf_die_mid_loan(void);
int child_sbuf_die_holding(void);
int child_sbuf_die_after_eviction(void);

/* user/selftest_vmar_hostile.c */
/* 0 once the counters and this process's ledger (used, given, limit) are
 * back at c0/l0, polling up to 2 s for killed processes to finish; else
 * prints what differs and returns 1. */
struct cmk_counters;
int same_state(const struct cmk_counters *c0, const cm_ledger_info_t *l0);
int test_vmar_raw_syscalls_with_hostile_arguments_typed(void);
int test_vmar_mapped_vmo_close_shrink_seal_typed(void);
int test_vmar_reservation_pool_hogs_leave_others_room(void);
int test_spawn_quota_extremes_typed_and_returned(void);
int child_vmar_reserve_hog(void);
int test_decommit_under_another_process_word_waiter(void);
int child_decommit_word_waiter(void);
int test_copyout_into_decommitted_page_over_quota_is_typed(void);
int child_copyout_into_decommitted_over_quota(void);
int test_process_handle_sent_away_kills_self_and_sibling(void);
int child_kill_by_received_handle(void);
int test_sbuf_areas_refuse_unmap_decommit_and_fixed_reserve(void);
int test_child_spends_share_then_grandchild_gets_nothing_of_others(void);
int child_spend_then_spawn(void);
int child_vmo_create_must_fail(void);
int test_kill_in_each_sleeping_syscall_returns_everything(void);
int test_vmar_anon_populate_commits_now_or_nothing_over_quota(void);
int test_vmar_destroyed_child_leaves_no_pte_and_range_reusable(void);
int test_vmar_anon_without_vmos_share_is_typed_and_changes_nothing(void);
int test_vmar_deep_populated_exit_and_kill_return_everything(void);
int test_word_wait_on_anon_page_typed_in_every_state(void);
int test_vmar_nested_close_in_every_order_typed_and_returned(void);
int test_vmar_parent_ops_straddling_a_child_edge_change_nothing(void);
int test_vmar_shared_table_page_freed_once_in_either_order(void);
int child_vmar_deep_populated_exit(void);
int child_vmar_deep_populated_holder(void);
int child_sleep_in(void);

/* user/selftest_mmio.c */
int test_mmio_map_reads_virtio_blk_identity(void);
int test_mmio_map_refuses_bad_arguments_typed(void);
int test_mmio_second_process_without_capability_cannot_reach_device(void);
int test_mmio_driver_exit_or_close_resets_device(void);
int test_mmio_queue_alloc_bounds_and_frames(void);
int child_mmio_no_capability(void);
int child_mmio_touch_physical(void);
int child_mmio_bound_elsewhere(void);
int child_mmio_write_read_only(void);
int child_mmio_set_status_then_exit(void);
int child_mmio_find_block(void);
int child_mmio_read_status(void);
int child_mmio_close_then_touch(void);
int child_mmio_queue_then_exit(void);

/* user/selftest_virtio_blk.c */
int test_kdma_vblk_dma_read_matches_image_with_ownership_rules(void);
int test_kdma_vblk_read_served_to_second_process_as_sealed_vmo(void);
int test_kdma_vblk_write_then_read_back(void);
int test_kdma_vblk_driver_killed_mid_request_fails_the_fence_with_io(void);
int test_kdma_vblk_buffers_quarantined_until_quiesced_then_reclaimed(void);
int test_kdma_vblk_dma_read_share_app_runs_unchanged(void);
int test_kdma_vblk_dma_read_share_app_detects_corrupted_hash(void);
int test_kdma_vblk_kept_pointer_faults_while_in_flight(void);
int test_kdma_vblk_request_split_across_chains_reads_the_right_sectors(void);
int child_vblk_reader(void);
int child_vblk_touch_in_flight(void);

/* user/selftest_kdma.c */
int test_kdma_ownership_with_fake_driver_process(void);
int test_kdma_kept_pointer_faults_and_dead_pool_quarantines_until_completion(void);
int test_kdma_driver_killed_mid_flight_quiesces_and_fails_requests(void);
int test_kdma_device_registry_bounds_and_errors(void);
int test_kdma_pool_pins_and_request_limits(void);
int test_kdma_pool_quota_child_cannot_starve_parent(void);
int test_kdma_dead_pool_returns_its_pool_charge_while_buffer_quarantined(void);
int child_kdma_pool_quota_hog(void);
int child_kdma_fake_driver(void);
int child_kdma_kept_pointer(void);

/* user/selftest_kdma_hostile.c */
int test_kdma_hostile_submit_fence_pointer_in_its_own_buffer_is_typed_and_undone(void);
int test_kdma_hostile_buffer_rw_half_bad_user_range_copies_nothing(void);
int test_kdma_hostile_pool_and_device_stay_home_and_a_moved_window_unbinds(void);
int test_kdma_hostile_raw_arguments_and_device_side_misuse_are_typed(void);

/* The argument after the test or helper name ("selftest NAME ARG"), or
 * NULL. */
extern const char *selftest_arg;

/* user/selftest_sysfuzz.c */
int test_random_syscalls_do_not_hurt_kernel(void);
int test_sysfuzz_every_syscall_with_hostile_arguments_is_typed_and_leaks_nothing(void);
int child_random_syscalls(void);
int child_sysfuzz(void);
int child_sysfuzz_idle(void);

#endif
