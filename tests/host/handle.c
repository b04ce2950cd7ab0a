/* SPDX-License-Identifier: MIT */
/* Public handle operations: close, duplicate, replace, get_info. */
#include <capmem/capmem.h>
#include "common/leakcheck.h"

static void test_close_invalid_is_ok_and_twice_is_bad_handle(void **state)
{
    (void)state;
    cm_handle_t v;
    assert_status(cm_handle_close(CM_HANDLE_INVALID), CM_OK);
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
    assert_status(cm_handle_close(v), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(0x12345678u), CM_ERR_BAD_HANDLE);
}

static void test_duplicate_rights_only_shrink(void **state)
{
    (void)state;
    cm_handle_t v, ro, again, same;
    cm_handle_info_t info;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_DUPLICATE, &ro), CM_OK);
    assert_status(cm_handle_get_info(ro, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_VMO);
    assert_int_equal(info.rights, CM_RIGHT_READ | CM_RIGHT_DUPLICATE);
    /* Asking back a dropped right fails, with or without other rights. */
    assert_status(cm_handle_duplicate(ro, CM_RIGHT_READ | CM_RIGHT_WRITE, &again),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_handle_duplicate(ro, CM_RIGHTS_SAME, &same), CM_OK);
    assert_status(cm_handle_get_info(same, &info), CM_OK);
    assert_int_equal(info.rights, CM_RIGHT_READ | CM_RIGHT_DUPLICATE);
    /* The reduced handle really cannot write. */
    assert_status(cm_vmo_write(ro, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    cm_handle_close(same);
    cm_handle_close(ro);
    cm_handle_close(v);
}

static void test_duplicate_needs_duplicate_right(void **state)
{
    (void)state;
    cm_handle_t v, nodup, out;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ, &nodup), CM_OK);
    assert_status(cm_handle_duplicate(nodup, CM_RIGHTS_SAME, &out), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(nodup);
    cm_handle_close(v);
}

static void test_replace_invalidates_old_and_keeps_object(void **state)
{
    (void)state;
    cm_handle_t v, r;
    char c = 0;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "q", 7, 1), CM_OK);
    assert_status(cm_handle_replace(v, CM_RIGHT_READ, &r), CM_OK);
    assert_status(cm_vmo_read(v, &c, 7, 1), CM_ERR_BAD_HANDLE);
    assert_status(cm_vmo_read(r, &c, 7, 1), CM_OK);
    assert_int_equal(c, 'q');
    assert_status(cm_vmo_write(r, "z", 7, 1), CM_ERR_ACCESS_DENIED);
    cm_handle_close(r);
}

static void test_replace_with_more_rights_fails_and_keeps_handle(void **state)
{
    (void)state;
    cm_handle_t v, ro, out;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_handle_replace(v, CM_RIGHT_READ, &ro), CM_OK);
    assert_status(cm_handle_replace(ro, CM_RIGHT_READ | CM_RIGHT_WRITE, &out),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_read(ro, NULL, 0, 0), CM_OK); /* still valid */
    assert_status(cm_handle_replace(ro, CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_handle_replace(0xdeadu, CM_RIGHTS_SAME, &out), CM_ERR_BAD_HANDLE);
    cm_handle_close(ro);
}

static void test_get_info_rejects_bad_input(void **state)
{
    (void)state;
    cm_handle_info_t info;
    cm_handle_t a, b;
    assert_status(cm_handle_get_info(0x777u, &info), CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_get_info(a, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_handle_get_info(a, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_object_survives_until_last_handle_closes(void **state)
{
    (void)state;
    cm_handle_t v, d;
    char c = 0;
    assert_status(cm_vmo_create(4096, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "k", 0, 1), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &d), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
    assert_status(cm_vmo_read(d, &c, 0, 1), CM_OK);
    assert_int_equal(c, 'k');
    assert_status(cm_handle_close(d), CM_OK);
}

static void test_handle_limit_gives_no_resources_then_recovers(void **state)
{
    (void)state;
    static cm_handle_t hs[CM_MAX_HANDLES + 1];
    uint32_t n = 0;
    cm_status_t st = CM_OK;
    cm_handle_t first;
    assert_status(cm_vmo_create(0, 0, &first), CM_OK);
    while (n <= CM_MAX_HANDLES) {
        st = cm_handle_duplicate(first, CM_RIGHTS_SAME, &hs[n]);
        if (st != CM_OK)
            break;
        n++;
    }
    assert_status(st, CM_ERR_NO_RESOURCES);
    assert_true(n < CM_MAX_HANDLES); /* other handles of this process count too */
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_ERR_NO_RESOURCES);
    assert_status(cm_vmo_create(4096, 0, &a), CM_ERR_NO_RESOURCES);
    for (uint32_t i = 0; i < n; i++)
        assert_status(cm_handle_close(hs[i]), CM_OK);
    assert_status(cm_vmo_create(4096, 0, &a), CM_OK);
    cm_handle_close(a);
    cm_handle_close(first);
}

/* The old table (15-bit generations, LIFO reuse) handed a closed value back
 * after 32,767 duplicate/close cycles: a few hundred milliseconds. */
static void test_closed_handle_value_not_reissued_by_churn(void **state)
{
    (void)state;
    cm_handle_t vmo, first, h;
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &vmo), CM_OK);
    assert_status(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &first), CM_OK);
    assert_status(cm_handle_close(first), CM_OK);
    for (int i = 0; i < 100000; i++) {
        assert_status(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &h), CM_OK);
        if (h == first)
            fail_msg("closed value reissued after %d duplicates", i + 1);
        assert_status(cm_handle_close(h), CM_OK);
    }
    assert_status(cm_vmo_get_size(first, &(uint64_t){0}), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(vmo), CM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_close_invalid_is_ok_and_twice_is_bad_handle),
        LEAK_TEST(test_duplicate_rights_only_shrink),
        LEAK_TEST(test_duplicate_needs_duplicate_right),
        LEAK_TEST(test_replace_invalidates_old_and_keeps_object),
        LEAK_TEST(test_replace_with_more_rights_fails_and_keeps_handle),
        LEAK_TEST(test_get_info_rejects_bad_input),
        LEAK_TEST(test_object_survives_until_last_handle_closes),
        LEAK_TEST(test_handle_limit_gives_no_resources_then_recovers),
        LEAK_TEST(test_closed_handle_value_not_reissued_by_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
