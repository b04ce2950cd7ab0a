/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CONFORMANCE_SBUF_CASES_H
#define CAPMEM_CONFORMANCE_SBUF_CASES_H

/* SharedBuffer cases of the conformance suite (sbuf_cases.c), listed in
 * the one table of conformance.c. */
int test_sbuf_create_checks_config_in_order(void);
int test_sbuf_each_limit_has_its_typed_error(void);
int test_sbuf_order_and_content_across_ring_wrap(void);
int test_sbuf_full_and_empty(void);
int test_sbuf_fan_out_slot_returns_after_last_release(void);
int test_sbuf_late_joiner_sees_only_later_messages(void);
int test_sbuf_drop_oldest_gap_and_dropped_count(void);
int test_sbuf_block_loan_should_wait_timed_out_and_loan_limit(void);
int test_sbuf_producer_closed_drain_then_peer_closed(void);
int test_sbuf_consumer_close_reclaims_its_slots(void);
int test_sbuf_rights_map_and_write(void);
int test_sbuf_publish_len_and_dead_loan_ids(void);
int test_sbuf_get_info_counters(void);
int test_sbuf_release_errors(void);

#endif
