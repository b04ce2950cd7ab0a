/* SPDX-License-Identifier: MIT */
/* VMO create/read/write/size/snapshot/file windows: happy and error paths. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "common/leakcheck.h"

static void test_create_rejects_bad_arguments(void **state)
{
    (void)state;
    cm_handle_t v;
    assert_status(cm_vmo_create(4096, 0, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_create(4096, 0x80, &v), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_create(CM_VMO_MAX_SIZE + 1, 0, &v), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_create(UINT64_MAX, 0, &v), CM_ERR_OUT_OF_RANGE);
}

static void test_new_vmo_reads_zero_and_has_default_rights(void **state)
{
    (void)state;
    cm_handle_t v;
    uint8_t buf[100];
    cm_vmo_info_t info;
    assert_status(cm_vmo_create(10000, 0, &v), CM_OK);
    memset(buf, 0xaa, sizeof(buf));
    assert_status(cm_vmo_read(v, buf, 9900, 100), CM_OK);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.size, 10000);
    assert_int_equal(info.rights, CM_VMO_DEFAULT_RIGHTS);
    assert_int_equal(info.flags, 0);
    assert_int_not_equal(info.id, 0);
    cm_handle_close(v);
}

static void test_committed_vmo_behaves_like_lazy_one(void **state)
{
    (void)state;
    cm_handle_t v;
    uint8_t b = 1;
    assert_status(cm_vmo_create(1 << 20, CM_VMO_COMMIT, &v), CM_OK);
    assert_status(cm_vmo_read(v, &b, (1 << 20) - 1, 1), CM_OK);
    assert_int_equal(b, 0);
    cm_handle_close(v);
    assert_status(cm_vmo_create(0, CM_VMO_COMMIT, &v), CM_OK);
    cm_handle_close(v);
}

static void test_write_then_read_round_trips(void **state)
{
    (void)state;
    cm_handle_t v;
    char out[6] = { 0 };
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "hello", 4094, 5), CM_OK); /* crosses a page */
    assert_status(cm_vmo_read(v, out, 4094, 5), CM_OK);
    assert_string_equal(out, "hello");
    cm_handle_close(v);
}

static void test_offset_plus_length_overflow_is_out_of_range(void **state)
{
    (void)state;
    cm_handle_t v;
    char b[2];
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_read(v, b, UINT64_MAX, 2), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_write(v, b, UINT64_MAX - 1, 2), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_read(v, b, 2, UINT64_MAX), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_read(v, b, 4095, 2), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_write(v, b, 4096, 1), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(v);
}

static void test_zero_length_at_end_is_ok_past_end_is_not(void **state)
{
    (void)state;
    cm_handle_t v;
    char b;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_read(v, &b, 4096, 0), CM_OK);
    assert_status(cm_vmo_write(v, &b, 4096, 0), CM_OK);
    assert_status(cm_vmo_read(v, NULL, 0, 0), CM_OK);
    assert_status(cm_vmo_read(v, &b, 4097, 0), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_read(v, NULL, 0, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_write(v, NULL, 0, 1), CM_ERR_INVALID_ARGS);
    cm_handle_close(v);
}

static void test_vmo_calls_on_a_channel_are_wrong_type(void **state)
{
    (void)state;
    cm_handle_t a, b, out;
    uint64_t size;
    char c;
    cm_vmo_info_t info;
    void *p;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_vmo_read(a, &c, 0, 1), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_write(a, &c, 0, 1), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_get_size(a, &size), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_set_size(a, 1), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_get_info(a, &info), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_seal(a, CM_SEAL_IMMUTABLE), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_snapshot(a, &out), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_map(a, 0, 4096, CM_MAP_READ, &p), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmo_get_size(0x4242u, &size), CM_ERR_BAD_HANDLE);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_set_size_grows_with_zeros_and_shrinks(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size;
    char b = 1;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "x", 100, 1), CM_OK);
    assert_status(cm_vmo_set_size(v, 100), CM_OK);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 100);
    assert_status(cm_vmo_set_size(v, 8192), CM_OK);
    assert_status(cm_vmo_read(v, &b, 100, 1), CM_OK);
    assert_int_equal(b, 0); /* the byte cut off does not come back */
    assert_status(cm_vmo_set_size(v, CM_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_get_size(v, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(v);
}

static void test_set_size_needs_write_right(void **state)
{
    (void)state;
    cm_handle_t v, ro;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ, &ro), CM_OK);
    assert_status(cm_vmo_set_size(ro, 0), CM_ERR_ACCESS_DENIED);
    cm_handle_close(ro);
    cm_handle_close(v);
}

static void test_shrinking_under_own_mapping_is_bad_state(void **state)
{
    (void)state;
    cm_handle_t v;
    void *p;
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 8192, CM_MAP_READ, &p), CM_OK);
    assert_status(cm_vmo_set_size(v, 4096), CM_ERR_BAD_STATE);
    assert_status(cm_vmo_set_size(v, 16384), CM_OK); /* growing cuts nothing */
    assert_status(cm_vmo_unmap(p, 8192), CM_OK);
    assert_status(cm_vmo_set_size(v, 4096), CM_OK);
    cm_handle_close(v);
}

static void test_snapshot_is_immutable_copy_of_current_content(void **state)
{
    (void)state;
    cm_handle_t v, s, out;
    cm_vmo_info_t info;
    char b[4] = { 0 };
    assert_status(cm_vmo_create(5000, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "abc", 4990, 3), CM_OK);
    assert_status(cm_vmo_snapshot(v, &s), CM_OK);
    assert_status(cm_vmo_write(v, "XYZ", 4990, 3), CM_OK);
    assert_status(cm_vmo_read(s, b, 4990, 3), CM_OK);
    assert_string_equal(b, "abc");
    assert_status(cm_vmo_get_info(s, &info), CM_OK);
    assert_int_equal(info.size, 5000);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_false(info.rights & CM_RIGHT_WRITE);
    assert_status(cm_vmo_write(s, "q", 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_snapshot(v, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(s);
    /* Snapshot needs READ. */
    cm_handle_t wo;
    assert_status(cm_handle_duplicate(v, CM_RIGHT_WRITE, &wo), CM_OK);
    assert_status(cm_vmo_snapshot(wo, &out), CM_ERR_ACCESS_DENIED);
    cm_handle_close(wo);
    cm_handle_close(v);
}

static void test_snapshot_of_empty_vmo_works(void **state)
{
    (void)state;
    cm_handle_t v, s;
    uint64_t size = 1;
    assert_status(cm_vmo_create(0, 0, &v), CM_OK);
    assert_status(cm_vmo_snapshot(v, &s), CM_OK);
    assert_status(cm_vmo_get_size(s, &size), CM_OK);
    assert_int_equal(size, 0);
    cm_handle_close(s);
    cm_handle_close(v);
}

static char tmpfile_path[64];

static int make_file(void **state)
{
    (void)state;
    strcpy(tmpfile_path, "/tmp/capmem-test-XXXXXX");
    int fd = mkstemp(tmpfile_path);
    if (fd < 0)
        return -1;
    char buf[3 * 4096];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (char)(i % 251);
    int ok = write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf);
    close(fd);
    return ok ? leak_setup(state) : -1;
}

static int remove_file(void **state)
{
    unlink(tmpfile_path);
    return leak_teardown(state);
}

static void test_file_window_reads_file_bytes_without_write_right(void **state)
{
    (void)state;
    cm_handle_t w;
    cm_vmo_info_t info;
    unsigned char b[2];
    void *p;
    assert_status(cm_vmo_create_from_file(tmpfile_path, 4096, 8192, &w), CM_OK);
    assert_status(cm_vmo_read(w, b, 0, 2), CM_OK);
    assert_int_equal(b[0], 4096 % 251);
    assert_int_equal(b[1], 4097 % 251);
    assert_status(cm_vmo_get_info(w, &info), CM_OK);
    assert_int_equal(info.size, 8192);
    assert_true(info.flags & CM_VMO_INFO_FILE);
    assert_false(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_false(info.rights & CM_RIGHT_WRITE);
    assert_status(cm_vmo_write(w, b, 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_seal(w, CM_SEAL_IMMUTABLE), CM_ERR_ACCESS_DENIED);
    /* Never mapped: whoever can write the file can truncate it under the
     * mapping (SIGBUS). Read it, or snapshot it. */
    assert_status(cm_vmo_map(w, 4096, 4096, CM_MAP_READ, &p), CM_ERR_UNSUPPORTED);
    cm_handle_close(w);
}

static void test_file_window_to_end_and_errors(void **state)
{
    (void)state;
    cm_handle_t w;
    uint64_t size;
    assert_status(cm_vmo_create_from_file(tmpfile_path, 4096, CM_VMO_TO_END, &w), CM_OK);
    assert_status(cm_vmo_get_size(w, &size), CM_OK);
    assert_int_equal(size, 8192);
    cm_handle_close(w);
    assert_status(cm_vmo_create_from_file(tmpfile_path, 4096, 8193, &w), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_create_from_file(tmpfile_path, 100, 1, &w), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_create_from_file("/nonexistent/capmem", 0, 1, &w), CM_ERR_NOT_FOUND);
    assert_status(cm_vmo_create_from_file("/tmp", 0, 1, &w), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_create_from_file(NULL, 0, 1, &w), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_create_from_file(tmpfile_path, 1ull << 62, CM_VMO_TO_END, &w),
                  CM_ERR_OUT_OF_RANGE);
}

static void test_snapshot_of_file_window_is_immutable(void **state)
{
    (void)state;
    cm_handle_t w, s;
    cm_vmo_info_t info;
    unsigned char b;
    assert_status(cm_vmo_create_from_file(tmpfile_path, 0, CM_VMO_TO_END, &w), CM_OK);
    assert_status(cm_vmo_snapshot(w, &s), CM_OK);
    assert_status(cm_vmo_get_info(s, &info), CM_OK);
    assert_int_equal(info.size, 3 * 4096);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_status(cm_vmo_read(s, &b, 3 * 4096 - 1, 1), CM_OK);
    assert_int_equal(b, (3 * 4096 - 1) % 251);
    cm_handle_close(s);
    cm_handle_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_create_rejects_bad_arguments),
        LEAK_TEST(test_new_vmo_reads_zero_and_has_default_rights),
        LEAK_TEST(test_committed_vmo_behaves_like_lazy_one),
        LEAK_TEST(test_write_then_read_round_trips),
        LEAK_TEST(test_offset_plus_length_overflow_is_out_of_range),
        LEAK_TEST(test_zero_length_at_end_is_ok_past_end_is_not),
        LEAK_TEST(test_vmo_calls_on_a_channel_are_wrong_type),
        LEAK_TEST(test_set_size_grows_with_zeros_and_shrinks),
        LEAK_TEST(test_set_size_needs_write_right),
        LEAK_TEST(test_shrinking_under_own_mapping_is_bad_state),
        LEAK_TEST(test_snapshot_is_immutable_copy_of_current_content),
        LEAK_TEST(test_snapshot_of_empty_vmo_works),
        cmocka_unit_test_setup_teardown(test_file_window_reads_file_bytes_without_write_right,
                                        make_file, remove_file),
        cmocka_unit_test_setup_teardown(test_file_window_to_end_and_errors, make_file,
                                        remove_file),
        cmocka_unit_test_setup_teardown(test_snapshot_of_file_window_is_immutable, make_file,
                                        remove_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
