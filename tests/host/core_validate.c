/* SPDX-License-Identifier: MIT */
/* core/validate: the validate step of every operation, and the documented
 * precedence of its errors (docs/api.md). */
#include <stdint.h>
#include <capmem/capmem.h>
#include "validate.h"
#include "common/leakcheck.h"

static const struct cm__vmo_state plain = { 2 * CM_PAGE_SIZE, CM__SEAL_NONE, 0, 0 };
static const struct cm__vmo_state ro = { 2 * CM_PAGE_SIZE, CM__SEAL_READONLY, 0, 0 };
static const struct cm__vmo_state imm = { 2 * CM_PAGE_SIZE, CM__SEAL_IMMUTABLE, 0, 0 };
static const struct cm__vmo_state file = { 2 * CM_PAGE_SIZE, CM__SEAL_NONE, 1, 0 };

static void test_range_check_is_overflow_safe(void **state)
{
    (void)state;
    assert_true(cm__range_ok(0, 0, 0));
    assert_true(cm__range_ok(10, 0, 10));
    assert_false(cm__range_ok(11, 0, 10));
    assert_false(cm__range_ok(1, UINT64_MAX, 10));
    assert_false(cm__range_ok(UINT64_MAX, 1, UINT64_MAX));
    assert_true(cm__range_ok(UINT64_MAX - 1, 1, UINT64_MAX));
}

static void test_vmo_create_arguments_before_limits(void **state)
{
    (void)state;
    assert_status(cm__vmo_create_check(CM_VMO_MAX_SIZE, CM_VMO_COMMIT, 1), CM_OK);
    assert_status(cm__vmo_create_check(CM_VMO_MAX_SIZE + 1, 0, 1), CM_ERR_OUT_OF_RANGE);
    /* INVALID_ARGS outranks OUT_OF_RANGE. */
    assert_status(cm__vmo_create_check(UINT64_MAX, 1u << 9, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_create_check(UINT64_MAX, 0, 0), CM_ERR_INVALID_ARGS);
}

static void test_vmo_create_page_options_exclusive(void **state)
{
    (void)state;
    assert_status(cm__vmo_create_check(0, CM_VMO_HUGE | CM_VMO_COMMIT, 1), CM_OK);
    assert_status(cm__vmo_create_check(0, CM_VMO_BASE_PAGES, 1), CM_OK);
    assert_status(cm__vmo_create_check(0, CM_VMO_HUGE | CM_VMO_BASE_PAGES, 1),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_create_check(CM_VMO_MAX_SIZE + 1, CM_VMO_HUGE | CM_VMO_BASE_PAGES, 1),
                  CM_ERR_INVALID_ARGS);
}

static void test_vmo_rw_range_before_seal(void **state)
{
    (void)state;
    assert_status(cm__vmo_rw_check_args(0, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_rw_check_args(0, 0), CM_OK);
    assert_status(cm__vmo_rw_check_facts(&plain, 0, 2 * CM_PAGE_SIZE, 1), CM_OK);
    assert_status(cm__vmo_rw_check_facts(&ro, 0, 1, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm__vmo_rw_check_facts(&ro, 0, 1, 0), CM_OK);
    assert_status(cm__vmo_rw_check_facts(&file, 0, 1, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm__vmo_rw_check_facts(&imm, UINT64_MAX, 2, 1), CM_ERR_OUT_OF_RANGE);
}

static void test_vmo_any_seal_fixes_size(void **state)
{
    (void)state;
    assert_status(cm__vmo_set_size_check_args(CM_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm__vmo_set_size_check_facts(&plain), CM_OK);
    assert_status(cm__vmo_set_size_check_facts(&ro), CM_ERR_ACCESS_DENIED);
    assert_status(cm__vmo_set_size_check_facts(&imm), CM_ERR_ACCESS_DENIED);
    assert_status(cm__vmo_set_size_check_facts(&file), CM_ERR_ACCESS_DENIED);
}

static void test_vmo_seal_levels_and_file_windows(void **state)
{
    (void)state;
    assert_status(cm__vmo_seal_check_args(0), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_seal_check_args(3), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_seal_check_args(CM_SEAL_READONLY), CM_OK);
    assert_status(cm__vmo_seal_check_args(CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm__vmo_seal_check_facts(&file), CM_ERR_UNSUPPORTED);
    assert_status(cm__vmo_seal_check_facts(&ro), CM_OK); /* idempotent, upgrades */
}

static void test_vmo_map_rights_follow_flags(void **state)
{
    (void)state;
    cm_rights_t need = 0;
    assert_status(cm__vmo_map_check_args(0, 1, CM_MAP_READ, 1, &need), CM_OK);
    assert_int_equal(need, CM_RIGHT_MAP | CM_RIGHT_READ);
    assert_status(cm__vmo_map_check_args(0, 1, CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE, 1,
                                         &need), CM_OK);
    assert_int_equal(need, CM_RIGHT_MAP | CM_RIGHT_READ | CM_RIGHT_WRITE);
    assert_status(cm__vmo_map_check_args(0, 1, CM_MAP_WRITE, 1, &need), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_map_check_args(0, 1, 0, 1, &need), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_map_check_args(0, 1, CM_MAP_READ | 8, 1, &need), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_map_check_args(1, 1, CM_MAP_READ, 1, &need), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_map_check_args(0, 0, CM_MAP_READ, 1, &need), CM_ERR_INVALID_ARGS);
    assert_status(cm__vmo_map_check_args(0, 1, CM_MAP_READ, 0, &need), CM_ERR_INVALID_ARGS);
}

static void test_vmo_map_range_before_seal(void **state)
{
    (void)state;
    assert_status(cm__vmo_map_check_facts(&plain, CM_PAGE_SIZE, CM_PAGE_SIZE, CM_MAP_READ), CM_OK);
    assert_status(cm__vmo_map_check_facts(&ro, 0, 3 * CM_PAGE_SIZE, CM_MAP_READ | CM_MAP_WRITE),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm__vmo_map_check_facts(&ro, 0, CM_PAGE_SIZE, CM_MAP_READ | CM_MAP_WRITE),
                  CM_ERR_ACCESS_DENIED);
    assert_status(cm__vmo_map_check_facts(&imm, 0, CM_PAGE_SIZE, CM_MAP_READ), CM_OK);
}

static void test_vmo_info_flags_and_rights_after_seals(void **state)
{
    (void)state;
    assert_int_equal(cm__vmo_info_flags(&plain), 0);
    assert_int_equal(cm__vmo_info_flags(&ro), CM_VMO_INFO_READONLY);
    assert_int_equal(cm__vmo_info_flags(&imm), CM_VMO_INFO_READONLY | CM_VMO_INFO_IMMUTABLE);
    assert_int_equal(cm__vmo_info_flags(&file), CM_VMO_INFO_READONLY | CM_VMO_INFO_FILE);
    const struct cm__vmo_state huge_imm = { 2 * CM_PAGE_SIZE, CM__SEAL_IMMUTABLE, 0, 1 };
    assert_int_equal(cm__vmo_info_flags(&huge_imm),
                     CM_VMO_INFO_READONLY | CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_HUGE);
    assert_int_equal(cm__vmo_effective_rights(&plain, CM_VMO_DEFAULT_RIGHTS), CM_VMO_DEFAULT_RIGHTS);
    assert_int_equal(cm__vmo_effective_rights(&ro, CM_VMO_DEFAULT_RIGHTS),
                     CM_VMO_DEFAULT_RIGHTS & ~CM_RIGHT_WRITE);
    assert_int_equal(cm__vmo_effective_rights(&file, CM_RIGHT_READ), CM_RIGHT_READ);
}

static void test_channel_write_arguments_decided_before_handles(void **state)
{
    (void)state;
    cm_handle_t list[3] = { 5, 6, 7 };
    assert_status(cm__channel_write_check_args(9, 1, 10, list, 3), CM_OK);
    assert_status(cm__channel_write_check_args(9, 0, 10, list, 3), CM_ERR_INVALID_ARGS);
    assert_status(cm__channel_write_check_args(9, 1, 10, NULL, 3), CM_ERR_INVALID_ARGS);
    /* Too many bytes is decided from the arguments: before any handle's rights. */
    assert_status(cm__channel_write_check_args(9, 1, CM_CHANNEL_MAX_BYTES + 1, list, 3),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm__channel_write_check_args(9, 1, 0, list, CM_CHANNEL_MAX_HANDLES + 1),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm__channel_write_check_args(6, 1, 0, list, 3), CM_ERR_INVALID_ARGS);
    list[2] = 5;
    assert_status(cm__channel_write_check_args(9, 1, 0, list, 3), CM_ERR_INVALID_ARGS);
}

static void test_channel_read_fit(void **state)
{
    (void)state;
    assert_status(cm__channel_read_check_args(0, 1, 1, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm__channel_read_check_args(1, 1, 0, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm__channel_read_check_args(0, 0, 0, 0), CM_OK);
    assert_status(cm__channel_read_check_fit(4, 1, 5, 0), CM_ERR_BUFFER_TOO_SMALL);
    assert_status(cm__channel_read_check_fit(4, 1, 4, 2), CM_ERR_BUFFER_TOO_SMALL);
    assert_status(cm__channel_read_check_fit(4, 1, 4, 1), CM_OK);
    assert_status(cm__channel_create_check(0, 1, 1), CM_OK);
    assert_status(cm__channel_create_check(1, 1, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm__handle_derive_check_args(1, CM_RIGHTS_SAME), CM_OK);
    assert_status(cm__handle_derive_check_args(1, 1u << 20), CM_ERR_INVALID_ARGS);
    assert_status(cm__handle_derive_check_args(0, CM_RIGHT_READ), CM_ERR_INVALID_ARGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_check_is_overflow_safe),
        cmocka_unit_test(test_vmo_create_arguments_before_limits),
        cmocka_unit_test(test_vmo_create_page_options_exclusive),
        cmocka_unit_test(test_vmo_rw_range_before_seal),
        cmocka_unit_test(test_vmo_any_seal_fixes_size),
        cmocka_unit_test(test_vmo_seal_levels_and_file_windows),
        cmocka_unit_test(test_vmo_map_rights_follow_flags),
        cmocka_unit_test(test_vmo_map_range_before_seal),
        cmocka_unit_test(test_vmo_info_flags_and_rights_after_seals),
        cmocka_unit_test(test_channel_write_arguments_decided_before_handles),
        cmocka_unit_test(test_channel_read_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
