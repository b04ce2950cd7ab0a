/* SPDX-License-Identifier: MIT */
/* Seal levels: what each forbids, enforced by the Linux kernel. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <unistd.h>

#include <capmem/host.h>
#include "../../host/mappings.h"
#include "common/leakcheck.h"

static void test_readonly_seal_stops_writes_but_keeps_existing_mapping(void **state)
{
    (void)state;
    cm_handle_t v;
    cm_vmo_info_t info;
    char *w;
    void *p;
    char b = 0;
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 8192, CM_MAP_READ | CM_MAP_WRITE, (void **)&w), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    /* READONLY is not IMMUTABLE: the mapping made before still writes. */
    w[5] = 'm';
    assert_status(cm_vmo_read(v, &b, 5, 1), CM_OK);
    assert_int_equal(b, 'm');
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_READONLY);
    assert_false(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_false(info.rights & CM_RIGHT_WRITE);
    /* IMMUTABLE is refused while that writable mapping exists. */
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_ERR_BAD_STATE);
    assert_status(cm_vmo_unmap(w, 8192), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    cm_handle_close(v);
}

static void test_immutable_refused_while_writable_mapping_exists(void **state)
{
    (void)state;
    cm_handle_t v;
    cm_vmo_info_t info;
    void *w;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ | CM_MAP_WRITE, &w), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_ERR_BAD_STATE);
    /* The refusal changed nothing: still writable, still no flags. */
    assert_status(cm_vmo_write(v, "y", 0, 1), CM_OK);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.flags, 0);
    assert_status(cm_vmo_unmap(w, 4096), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    cm_handle_close(v);
}

static void test_immutable_allows_read_mapping_and_refuses_every_change(void **state)
{
    (void)state;
    cm_handle_t v;
    void *r, *w;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "data", 0, 4), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_set_size(v, 8192), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_set_size(v, 100), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_set_size(v, 4096), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ | CM_MAP_WRITE, &w), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ, &r), CM_OK);
    assert_memory_equal(r, "data", 4);
    /* The kernel refuses to make the read-only mapping writable. */
    assert_int_equal(mprotect(r, 4096, PROT_READ | PROT_WRITE), -1);
    assert_int_equal(errno, EACCES);
    assert_status(cm_vmo_unmap(r, 4096), CM_OK);
    cm_handle_close(v);
}

static void test_readonly_seal_fixes_size(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_vmo_set_size(v, 8192), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_set_size(v, 0), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 4096);
    cm_handle_close(v);
}

static void test_seal_is_idempotent_and_one_way(void **state)
{
    (void)state;
    cm_handle_t v;
    cm_vmo_info_t info;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK); /* weaker: already implied */
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    cm_handle_close(v);
}

static void test_seal_needs_write_right_and_known_level(void **state)
{
    (void)state;
    cm_handle_t v, ro;
    cm_vmo_info_t info;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ, &ro), CM_OK);
    assert_status(cm_vmo_seal(ro, CM_SEAL_IMMUTABLE), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_seal(v, (cm_seal_t)0), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_seal(v, (cm_seal_t)3), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.flags, 0);
    cm_handle_close(ro);
    cm_handle_close(v);
}

static void test_unsealed_vmo_never_reports_immutable(void **state)
{
    (void)state;
    cm_handle_t v;
    cm_vmo_info_t info;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_false(info.flags & (CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY));
    assert_status(cm_vmo_get_info(v, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(v);
}

/* The Linux < 6.7 fallback for read-only maps of write-sealed memfds:
 * exercised directly, since this kernel never needs it. */
static void test_readonly_reopen_mapping_reads_and_cannot_become_writable(void **state)
{
    (void)state;
    cm_handle_t v;
    int fd;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "seal", 0, 4), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_host_vmo_export_fd(v, &fd), CM_OK);
    char *p = cm__mmap_ro_reopen(fd, 4096, 0, 0);
    assert_true(p != MAP_FAILED);
    assert_memory_equal(p, "seal", 4);
    assert_int_equal(mprotect(p, 4096, PROT_READ | PROT_WRITE), -1);
    munmap(p, 4096);
    close(fd);
    cm_handle_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_readonly_seal_stops_writes_but_keeps_existing_mapping),
        LEAK_TEST(test_immutable_refused_while_writable_mapping_exists),
        LEAK_TEST(test_immutable_allows_read_mapping_and_refuses_every_change),
        LEAK_TEST(test_readonly_seal_fixes_size),
        LEAK_TEST(test_seal_is_idempotent_and_one_way),
        LEAK_TEST(test_seal_needs_write_right_and_known_level),
        LEAK_TEST(test_unsealed_vmo_never_reports_immutable),
        LEAK_TEST(test_readonly_reopen_mapping_reads_and_cannot_become_writable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
