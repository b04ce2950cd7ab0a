/* SPDX-License-Identifier: MIT */
/* Zero-size VMOs: what each call does with size 0 (docs/contracts.md,
 * "Zero-size VMOs"). A zero-size VMO is a valid object: it can be created,
 * queried, sealed, snapshotted and sent, but it has no page to map or
 * commit and only zero-byte reads and writes at offset 0 fit in it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "common/leakcheck.h"

static void test_zero_size_vmo_is_created_with_every_page_option(void **state)
{
    (void)state;
    const uint32_t options[] = {0, CM_VMO_COMMIT, CM_VMO_HUGE, CM_VMO_BASE_PAGES,
                                CM_VMO_COMMIT | CM_VMO_HUGE};
    for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
        cm_handle_t v;
        cm_vmo_info_t info;
        uint64_t committed = 1;
        assert_status(cm_vmo_create(0, options[k], &v), CM_OK);
        assert_status(cm_vmo_get_info(v, &info), CM_OK);
        assert_int_equal(info.size, 0);
        assert_int_equal(info.page_size, CM_PAGE_SIZE); /* no huge page for nothing */
        assert_int_equal(info.flags, 0);
        assert_int_equal(info.rights, CM_VMO_DEFAULT_RIGHTS);
        assert_status(cm_vmo_get_committed(v, &committed), CM_OK);
        assert_int_equal(committed, 0);
        assert_status(cm_handle_close(v), CM_OK);
    }
}

static void test_zero_size_vmo_reads_and_writes_only_zero_bytes_at_offset_zero(void **state)
{
    (void)state;
    cm_handle_t v;
    char buf[1] = {0};
    assert_status(cm_vmo_create(0, 0, &v), CM_OK);
    assert_status(cm_vmo_read(v, NULL, 0, 0), CM_OK);
    assert_status(cm_vmo_write(v, NULL, 0, 0), CM_OK);
    assert_status(cm_vmo_read(v, buf, 0, 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_write(v, buf, 0, 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_read(v, buf, 1, 0), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(v);
}

static void test_zero_size_vmo_has_no_page_to_map_or_commit(void **state)
{
    (void)state;
    cm_handle_t v;
    void *addr = NULL;
    assert_status(cm_vmo_create(0, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 0, CM_MAP_READ, &addr), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ, &addr), CM_ERR_OUT_OF_RANGE);
    assert_null(addr);
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, CM_PAGE_SIZE), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, 0), CM_ERR_INVALID_ARGS);
    cm_handle_close(v);
}

static void test_zero_size_vmo_sealed_travels_and_arrives_empty_and_immutable(void **state)
{
    (void)state;
    cm_handle_t v, ro, a, b, got = CM_HANDLE_INVALID, snap;
    cm_vmo_info_t info;
    char bytes[4];
    uint32_t nbytes = 0, nhandles = 0;
    const cm_rights_t send_rights = CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER;
    assert_status(cm_vmo_create(0, 0, &v), CM_OK);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    /* Unsealed and without WRITE: refused as for any size (the receiver
     * could not be kept from writing it). */
    assert_status(cm_handle_duplicate(v, send_rights, &ro), CM_OK);
    assert_status(cm_channel_write(a, "z", 1, &ro, 1), CM_ERR_UNSUPPORTED);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_set_size(v, CM_PAGE_SIZE), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_duplicate(v, send_rights, &ro), CM_OK);
    assert_status(cm_channel_write(a, "z", 1, &ro, 1), CM_OK);
    assert_status(cm_channel_read(b, bytes, sizeof(bytes), &nbytes, &got, 1, &nhandles), CM_OK);
    assert_int_equal(nhandles, 1);
    assert_status(cm_vmo_get_info(got, &info), CM_OK);
    assert_int_equal(info.size, 0);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_int_equal(info.rights, send_rights);
    assert_status(cm_vmo_snapshot(got, &snap), CM_OK);
    assert_status(cm_vmo_get_info(snap, &info), CM_OK);
    assert_int_equal(info.size, 0);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    cm_handle_close(snap);
    cm_handle_close(got);
    cm_handle_close(a);
    cm_handle_close(b);
    cm_handle_close(v);
}

static void test_zero_size_vmo_grows_and_shrinks_back_while_unsealed(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size = 1;
    char c = 'x';
    assert_status(cm_vmo_create(0, 0, &v), CM_OK);
    assert_status(cm_vmo_set_size(v, CM_PAGE_SIZE), CM_OK);
    assert_status(cm_vmo_write(v, &c, CM_PAGE_SIZE - 1, 1), CM_OK);
    assert_status(cm_vmo_set_size(v, 0), CM_OK);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 0);
    assert_status(cm_vmo_read(v, &c, 0, 1), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(v);
}

static void test_window_over_an_empty_file_has_size_zero(void **state)
{
    (void)state;
    char path[] = "/tmp/capmem-zero-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    cm_handle_t w, w0, w1;
    uint64_t size = 1;
    assert_status(cm_vmo_create_from_file(path, 0, CM_VMO_TO_END, &w), CM_OK);
    assert_status(cm_vmo_get_size(w, &size), CM_OK);
    assert_int_equal(size, 0);
    assert_status(cm_vmo_create_from_file(path, 0, 0, &w0), CM_OK);
    assert_status(cm_vmo_create_from_file(path, CM_PAGE_SIZE, 0, &w1), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(w0);
    cm_handle_close(w);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_zero_size_vmo_is_created_with_every_page_option),
        LEAK_TEST(test_zero_size_vmo_reads_and_writes_only_zero_bytes_at_offset_zero),
        LEAK_TEST(test_zero_size_vmo_has_no_page_to_map_or_commit),
        LEAK_TEST(test_zero_size_vmo_sealed_travels_and_arrives_empty_and_immutable),
        LEAK_TEST(test_zero_size_vmo_grows_and_shrinks_back_while_unsealed),
        LEAK_TEST(test_window_over_an_empty_file_has_size_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
