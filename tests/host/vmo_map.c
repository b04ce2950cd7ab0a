/* SPDX-License-Identifier: MIT */
/* cm_vmo_map / cm_vmo_unmap: rights, bounds, W^X, identity of mappings. */
#include <stdio.h>
#include <string.h>

#include <capmem/host.h>
#include "common/leakcheck.h"

static void test_reject_oversized_mapping(void **state)
{
    (void)state;
    cm_handle_t v;
    void *p;
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 8193, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_map(v, 4096, 8192, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_map(v, 8192 + 4096, 4096, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_map(v, 4096, UINT64_MAX - 4095, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_map(v, UINT64_MAX & ~4095ull, 4096, CM_MAP_READ, &p),
                  CM_ERR_OUT_OF_RANGE);
    assert_int_equal(cm_host_live_mappings(), 0);
    cm_handle_close(v);
}

static void test_map_rejects_bad_arguments(void **state)
{
    (void)state;
    cm_handle_t v;
    void *p;
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(v, 100, 4096, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(v, 0, 4096, 0, &p), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_WRITE, &p), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ | 0x100, &p), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_map(0x31337u, 0, 4096, CM_MAP_READ, &p), CM_ERR_BAD_HANDLE);
    cm_handle_close(v);
}

static void test_map_needs_map_right_and_write_needs_write(void **state)
{
    (void)state;
    cm_handle_t v, nomap, ro;
    void *p;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_WRITE, &nomap), CM_OK);
    assert_status(cm_vmo_map(nomap, 0, 4096, CM_MAP_READ, &p), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    assert_status(cm_vmo_map(ro, 0, 4096, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_map(ro, 0, 4096, CM_MAP_READ, &p), CM_OK);
    assert_status(cm_vmo_unmap(p, 4096), CM_OK);
    cm_handle_close(ro);
    cm_handle_close(nomap);
    cm_handle_close(v);
}

static void test_mapping_shares_bytes_with_the_object(void **state)
{
    (void)state;
    cm_handle_t v;
    char *w;
    char b[3] = { 0 };
    assert_status(cm_vmo_create(3 * 4096, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 4096, 8192, CM_MAP_READ | CM_MAP_WRITE, (void **)&w), CM_OK);
    memcpy(w + 10, "hi", 2);
    assert_status(cm_vmo_read(v, b, 4096 + 10, 2), CM_OK);
    assert_string_equal(b, "hi");
    assert_status(cm_vmo_write(v, "yo", 4096 + 20, 2), CM_OK);
    assert_memory_equal(w + 20, "yo", 2);
    assert_status(cm_vmo_unmap(w, 8192), CM_OK);
    cm_handle_close(v);
}

static void test_mapping_outlives_its_handle(void **state)
{
    (void)state;
    cm_handle_t v;
    char *p;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "alive", 0, 5), CM_OK);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ, (void **)&p), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
    assert_memory_equal(p, "alive", 5);
    assert_status(cm_vmo_unmap(p, 4096), CM_OK);
}

static void test_populated_mapping_reads_the_same_bytes(void **state)
{
    (void)state;
    cm_handle_t v;
    char *p;
    assert_status(cm_vmo_create(3 * 4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "pop", 2 * 4096, 3), CM_OK);
    assert_status(cm_vmo_map(v, 0, 3 * 4096, CM_MAP_READ | CM_MAP_POPULATE, (void **)&p),
                  CM_OK);
    assert_memory_equal(p + 2 * 4096, "pop", 3);
    assert_status(cm_vmo_unmap(p, 3 * 4096), CM_OK);
    cm_handle_close(v);
}

/* W^X: no mapping capmem makes is executable. */
static void test_mappings_are_never_executable(void **state)
{
    (void)state;
    cm_handle_t v;
    void *r, *w;
    char line[512], want_r[32], want_w[32];
    int found = 0;
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 4096, CM_MAP_READ, &r), CM_OK);
    assert_status(cm_vmo_map(v, 4096, 4096, CM_MAP_READ | CM_MAP_WRITE, &w), CM_OK);
    snprintf(want_r, sizeof(want_r), "%lx-", (unsigned long)r);
    snprintf(want_w, sizeof(want_w), "%lx-", (unsigned long)w);
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, want_r, strlen(want_r)) == 0) {
            assert_memory_equal(strchr(line, ' ') + 1, "r--s", 4);
            found++;
        }
        if (strncmp(line, want_w, strlen(want_w)) == 0) {
            assert_memory_equal(strchr(line, ' ') + 1, "rw-s", 4);
            found++;
        }
    }
    fclose(f);
    assert_int_equal(found, 2);
    cm_vmo_unmap(r, 4096);
    cm_vmo_unmap(w, 4096);
    cm_handle_close(v);
}

static void test_unmap_accepts_only_exact_live_mappings(void **state)
{
    (void)state;
    cm_handle_t v;
    char *p;
    int local;
    assert_status(cm_vmo_create(8192, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, 8192, CM_MAP_READ, (void **)&p), CM_OK);
    assert_status(cm_vmo_unmap(p, 4096), CM_ERR_INVALID_ARGS);     /* partial */
    assert_status(cm_vmo_unmap(p + 4096, 4096), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_unmap(&local, 4096), CM_ERR_INVALID_ARGS); /* not ours */
    assert_status(cm_vmo_unmap(NULL, 4096), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_unmap(p, 0), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_unmap(p, 8000), CM_OK);  /* same pages as 8192 */
    assert_status(cm_vmo_unmap(p, 8192), CM_ERR_INVALID_ARGS); /* already gone */
    cm_handle_close(v);
}

static void test_unaligned_size_maps_to_its_last_byte(void **state)
{
    (void)state;
    cm_handle_t v;
    char *p;
    assert_status(cm_vmo_create(5000, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "E", 4999, 1), CM_OK);
    assert_status(cm_vmo_map(v, 0, 5000, CM_MAP_READ, (void **)&p), CM_OK);
    assert_int_equal(p[4999], 'E');
    assert_status(cm_vmo_unmap(p, 5000), CM_OK);
    assert_status(cm_vmo_map(v, 4096, 905, CM_MAP_READ, (void **)&p), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_reject_oversized_mapping),
        LEAK_TEST(test_map_rejects_bad_arguments),
        LEAK_TEST(test_map_needs_map_right_and_write_needs_write),
        LEAK_TEST(test_mapping_shares_bytes_with_the_object),
        LEAK_TEST(test_mapping_outlives_its_handle),
        LEAK_TEST(test_populated_mapping_reads_the_same_bytes),
        LEAK_TEST(test_mappings_are_never_executable),
        LEAK_TEST(test_unmap_accepts_only_exact_live_mappings),
        LEAK_TEST(test_unaligned_size_maps_to_its_last_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
