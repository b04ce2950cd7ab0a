/* SPDX-License-Identifier: MIT */
/* cm_status_detail (capmem/status.h): per thread, cleared by the next call,
 * bounded, and for each failure the issue named, a detail that says what
 * happened and what to do. The words checked are the ones a user needs
 * (the limit's name and value, the system call, the hint), not the whole
 * sentence, so that wording can improve without breaking the tests. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <capmem/host.h>
#include <capmem/ledger.h>
#include "common/child.h"
#include "common/fd_limit.h"
#include "common/leakcheck.h"
#include "common/threads.h"

#define PAGE 4096u

/* The detail after a call, checked to contain every word in `words`
 * (NULL-terminated), with the status. */
static void expect_detail(cm_status_t got, cm_status_t want, const char *const *words)
{
    assert_status(got, want);
    const char *d = cm_status_detail();
    assert_non_null(d);
    for (; *words != NULL; words++)
        if (strstr(d, *words) == NULL)
            fail_msg("detail \"%s\" lacks \"%s\"", d, *words);
}

#define EXPECT(call, want, ...)                                   \
    do {                                                          \
        const char *const words_[] = { __VA_ARGS__, NULL };       \
        expect_detail((call), (want), words_);                    \
    } while (0)

static cm_handle_t new_vmo(uint64_t size)
{
    cm_handle_t v;
    assert_status(cm_vmo_create(size, 0, &v), CM_OK);
    return v;
}

/* ---- contract ---- */

static void test_detail_is_empty_after_a_successful_call(void **state)
{
    (void)state;
    cm_handle_t v = new_vmo(PAGE);
    void *p;
    uint64_t size;
    EXPECT(cm_vmo_map(v, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS, "length 0");
    assert_true(cm_status_detail()[0] != '\0');
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_string_equal(cm_status_detail(), "");
    cm_handle_close(v);
}

static void test_failure_without_a_detail_does_not_show_an_older_one(void **state)
{
    (void)state;
    cm_handle_t v = new_vmo(PAGE);
    void *p;
    cm_handle_t a, b;
    char buf[8];
    uint32_t nb, nh;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    EXPECT(cm_vmo_map(v, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS, "length 0");
    /* An empty queue: SHOULD_WAIT says it all, and records nothing. */
    assert_status(cm_channel_read(a, buf, sizeof buf, &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    assert_string_equal(cm_status_detail(), "");
    cm_handle_close(a);
    cm_handle_close(b);
    cm_handle_close(v);
}

static void test_close_after_a_failure_keeps_the_detail(void **state)
{
    (void)state;
    cm_handle_t v = new_vmo(PAGE);
    void *p;
    EXPECT(cm_vmo_map(v, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS, "length 0");
    /* The cleanup a program does before it reports the failure. */
    assert_status(cm_handle_close(v), CM_OK);
    assert_non_null(strstr(cm_status_detail(), "length 0"));
    /* A close that fails says why, in place of the older detail. */
    EXPECT(cm_handle_close(v), CM_ERR_BAD_HANDLE, "not live");
}

struct other_thread {
    char seen_at_start[256];
    char seen_after_own_failure[256];
    cm_status_t st;
};

static void other_thread_main(void *arg)
{
    struct other_thread *o = arg;
    snprintf(o->seen_at_start, sizeof o->seen_at_start, "%s", cm_status_detail());
    cm_handle_t v;
    o->st = cm_vmo_create(CM_VMO_MAX_SIZE + 1, 0, &v);
    snprintf(o->seen_after_own_failure, sizeof o->seen_after_own_failure, "%s",
             cm_status_detail());
}

static void test_detail_is_per_thread(void **state)
{
    (void)state;
    cm_handle_t v = new_vmo(PAGE);
    void *p;
    EXPECT(cm_vmo_map(v, 1, PAGE, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS, "offset 1",
           "CM_PAGE_SIZE");
    char mine[256];
    snprintf(mine, sizeof mine, "%s", cm_status_detail());

    struct other_thread o = { .st = CM_OK };
    struct test_thread t;
    thread_start(&t, other_thread_main, &o);
    thread_join(&t);

    /* The other thread saw nothing of ours, recorded its own... */
    assert_string_equal(o.seen_at_start, "");
    assert_status(o.st, CM_ERR_OUT_OF_RANGE);
    assert_non_null(strstr(o.seen_after_own_failure, "CM_VMO_MAX_SIZE"));
    /* ...and ours is untouched by it. */
    assert_string_equal(cm_status_detail(), mine);
    cm_handle_close(v);
}

static void test_long_detail_is_truncated_and_terminated(void **state)
{
    (void)state;
    /* A path of 400 bytes that does not exist: the detail quotes it, so it
     * would be longer than the bound (256 bytes with the NUL). */
    char path[401];
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    for (size_t i = 50; i < sizeof path - 1; i += 50)
        path[i] = '/'; /* components below NAME_MAX: ENOENT, not ENAMETOOLONG */
    path[sizeof path - 1] = '\0';
    cm_handle_t v;
    EXPECT(cm_vmo_create_from_file(path, 0, CM_VMO_TO_END, &v), CM_ERR_NOT_FOUND, "stat(\"/aaa");
    const char *d = cm_status_detail();
    assert_int_equal(strlen(d), 255);
    assert_memory_equal(d, "stat(\"/", 7);
}

/* ---- the cases of issue 13 ---- */

static void test_sending_read_only_unsealed_vmo_says_to_seal(void **state)
{
    (void)state;
    cm_handle_t a, b, v = new_vmo(PAGE), ro;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro),
                  CM_OK);
    EXPECT(cm_channel_write(a, "x", 1, &ro, 1), CM_ERR_UNSUPPORTED,
           "seal the VMO READONLY or IMMUTABLE before sending it without WRITE");
    /* Sealed, the same send works and clears the detail. */
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro),
                  CM_OK);
    assert_status(cm_channel_write(a, "x", 1, &ro, 1), CM_OK);
    assert_string_equal(cm_status_detail(), "");
    cm_handle_close(a);
    cm_handle_close(b);
    cm_handle_close(v);
}

static void test_each_map_mistake_has_its_own_detail(void **state)
{
    (void)state;
    cm_handle_t v = new_vmo(4 * PAGE);
    void *p;
    EXPECT(cm_vmo_map(v, 100, PAGE, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS, "offset 100",
           "CM_PAGE_SIZE");
    EXPECT(cm_vmo_map(v, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS, "length 0");
    EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | 0x100, &p), CM_ERR_INVALID_ARGS,
           "unknown map flags 0x100");
    EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_WRITE, &p), CM_ERR_INVALID_ARGS, "CM_MAP_READ");
    EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, NULL), CM_ERR_INVALID_ARGS, "NULL");
    EXPECT(cm_vmo_map(v, 4 * PAGE, PAGE, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE,
           "past the VMO's size 16384");
    EXPECT(cm_vmo_map(v, PAGE, UINT64_MAX, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE,
           "past the VMO's size");
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED,
           "CM_MAP_WRITE", "sealed", "CM_MAP_READ only");
    cm_handle_close(v);
}

static void test_missing_right_is_named(void **state)
{
    (void)state;
    cm_handle_t v = new_vmo(PAGE), ro;
    void *p;
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    EXPECT(cm_vmo_map(ro, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED,
           "lacks CM_RIGHT_WRITE");
    EXPECT(cm_vmo_map(ro + 0x1000000u, 0, PAGE, CM_MAP_READ, &p), CM_ERR_BAD_HANDLE,
           "not live");
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    EXPECT(cm_vmo_map(a, 0, PAGE, CM_MAP_READ, &p), CM_ERR_WRONG_TYPE, "names a channel",
           "not a VMO");
    cm_handle_t rd, more;
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_DUPLICATE, &rd), CM_OK);
    EXPECT(cm_handle_duplicate(rd, CM_RIGHT_READ | CM_RIGHT_WRITE, &more), CM_ERR_INVALID_ARGS,
           "not a subset", "never gains a right");
    EXPECT(cm_handle_replace(rd, CM_RIGHT_READ | CM_RIGHT_WRITE, &more), CM_ERR_INVALID_ARGS,
           "not a subset");
    EXPECT(cm_handle_duplicate(rd, 1u << 20, &more), CM_ERR_INVALID_ARGS, "unknown rights bits");
    EXPECT(cm_handle_duplicate(ro, CM_RIGHT_READ, &more), CM_ERR_ACCESS_DENIED,
           "lacks CM_RIGHT_DUPLICATE");
    cm_handle_close(rd);
    cm_handle_close(a);
    cm_handle_close(b);
    cm_handle_close(ro);
    cm_handle_close(v);
}

static void test_limits_are_named_with_their_values(void **state)
{
    (void)state;
    cm_handle_t v, a, b;
    char big[CM_CHANNEL_MAX_BYTES + 1];
    memset(big, 0, sizeof big);
    EXPECT(cm_vmo_create(CM_VMO_MAX_SIZE + 1, 0, &v), CM_ERR_OUT_OF_RANGE,
           "CM_VMO_MAX_SIZE (1099511627776 bytes");
    v = new_vmo(PAGE);
    EXPECT(cm_vmo_set_size(v, CM_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE,
           "CM_VMO_MAX_SIZE (1099511627776 bytes");
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    EXPECT(cm_channel_write(a, big, sizeof big, NULL, 0), CM_ERR_OUT_OF_RANGE,
           "CM_CHANNEL_MAX_BYTES (65536)");
    cm_handle_close(a);
    cm_handle_close(b);

    static void *maps[CM_MAX_MAPPINGS];
    void *extra;
    uint32_t n = 0;
    while (n < CM_MAX_MAPPINGS && cm_host_live_mappings() < CM_MAX_MAPPINGS)
        assert_status(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &maps[n++]), CM_OK);
    EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &extra), CM_ERR_NO_RESOURCES,
           "CM_MAX_MAPPINGS (256");
    while (n > 0)
        assert_status(cm_vmo_unmap(maps[--n], PAGE), CM_OK);
    cm_handle_close(v);
}

/* In a child: a lowered ledger limit cannot be raised again. */
static int ledger_limit_child(void *arg)
{
    (void)arg;
    cm_ledger_info_t l;
    cm_handle_t v;
    if (cm_ledger_get(&l) != CM_OK ||
        cm_ledger_set_limit(CM_LEDGER_VMOS, l.entry[CM_LEDGER_VMOS].used) != CM_OK)
        return 2;
    cm_status_t st = cm_vmo_create(PAGE, 0, &v);
    if (st == CM_OK || strstr(cm_status_detail(), "CM_LEDGER_VMOS limit") == NULL) {
        fprintf(stderr, "status %s, detail \"%s\"\n", cm_status_name(st), cm_status_detail());
        return 1;
    }
    return 0;
}

static void test_ledger_limit_is_named(void **state)
{
    (void)state;
    assert_child_ok(in_child(ledger_limit_child, NULL));
}

static int run_out_of_fds_case(char *d, size_t cap)
{
    cm_handle_t v;
    if (leave_fds(0) != 0)
        return -1;
    cm_status_t st = cm_vmo_create(PAGE, 0, &v);
    snprintf(d, cap, "%s", cm_status_detail());
    restore_fds();
    if (st == CM_OK)
        cm_handle_close(v);
    return st;
}

static void test_system_call_and_errno_are_named(void **state)
{
    (void)state;
    char d[256];
    int st = run_out_of_fds_case(d, sizeof d);
    if (st == -1)
        skip();
    assert_status(st, CM_ERR_NO_RESOURCES);
    if (strstr(d, "memfd_create") == NULL || strstr(d, "EMFILE") == NULL)
        fail_msg("detail \"%s\" lacks memfd_create and EMFILE", d);

    cm_handle_t v;
    EXPECT(cm_vmo_create_from_file("/nonexistent/capmem-file", 0, CM_VMO_TO_END, &v),
           CM_ERR_NOT_FOUND, "/nonexistent/capmem-file", "ENOENT");
    EXPECT(cm_vmo_create_from_file("/dev/null", 0, CM_VMO_TO_END, &v), CM_ERR_INVALID_ARGS,
           "\"/dev/null\" is not a regular file");
}

/* ---- cm_limits_get ---- */

static void test_limits_get_reports_the_host_limits(void **state)
{
    (void)state;
    cm_limits_t l;
    memset(&l, 0xff, sizeof l);
    l.struct_size = sizeof l;
    assert_status(cm_limits_get(&l), CM_OK);
    assert_int_equal(l.struct_size, sizeof l);
    assert_int_equal(l.version, CM_LIMITS_VERSION);
    assert_int_equal(l.vmo_max_size, CM_VMO_MAX_SIZE);
    assert_true(l.vmo_max_size >= (64ull << 30));
    assert_int_equal(l.max_mapped_bytes, CM_MAX_MAPPED_BYTES);
    assert_int_equal(l.max_reserved_bytes, CM_MAX_RESERVED_BYTES);
    assert_int_equal(l.max_handles, CM_MAX_HANDLES);
    assert_int_equal(l.max_mappings, CM_MAX_MAPPINGS);
    assert_int_equal(l.channel_max_bytes, CM_CHANNEL_MAX_BYTES);
    assert_int_equal(l.channel_max_handles, CM_CHANNEL_MAX_HANDLES);
}

static void test_limits_get_fills_only_what_the_caller_has(void **state)
{
    (void)state;
    /* A caller compiled with a larger (future) struct: the library fills its
     * own size and leaves the rest. */
    struct {
        cm_limits_t l;
        uint64_t future;
    } big;
    memset(&big, 0xab, sizeof big);
    big.l.struct_size = sizeof big;
    assert_status(cm_limits_get(&big.l), CM_OK);
    assert_int_equal(big.l.struct_size, sizeof(cm_limits_t));
    assert_int_equal(big.future, 0xababababababababull);
    assert_int_equal(big.l.vmo_max_size, CM_VMO_MAX_SIZE);

    cm_limits_t small;
    small.struct_size = 47;
    EXPECT(cm_limits_get(&small), CM_ERR_INVALID_ARGS, "struct_size");
    EXPECT(cm_limits_get(NULL), CM_ERR_INVALID_ARGS, "NULL");
}

static void test_vmo_at_the_effective_limit_is_created_and_one_more_is_refused(void **state)
{
    (void)state;
    cm_limits_t l = { .struct_size = sizeof l };
    assert_status(cm_limits_get(&l), CM_OK);
    cm_handle_t v;
    uint64_t size;
    /* Lazily committed: no page is touched. */
    assert_status(cm_vmo_create(l.vmo_max_size, CM_VMO_BASE_PAGES, &v), CM_OK);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, l.vmo_max_size);
    cm_handle_close(v);
    assert_status(cm_vmo_create(l.vmo_max_size + 1, 0, &v), CM_ERR_OUT_OF_RANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_detail_is_empty_after_a_successful_call),
        LEAK_TEST(test_failure_without_a_detail_does_not_show_an_older_one),
        LEAK_TEST(test_close_after_a_failure_keeps_the_detail),
        LEAK_TEST(test_detail_is_per_thread),
        LEAK_TEST(test_long_detail_is_truncated_and_terminated),
        LEAK_TEST(test_sending_read_only_unsealed_vmo_says_to_seal),
        LEAK_TEST(test_each_map_mistake_has_its_own_detail),
        LEAK_TEST(test_missing_right_is_named),
        LEAK_TEST(test_limits_are_named_with_their_values),
        LEAK_TEST(test_ledger_limit_is_named),
        LEAK_TEST(test_system_call_and_errno_are_named),
        LEAK_TEST(test_limits_get_reports_the_host_limits),
        LEAK_TEST(test_limits_get_fills_only_what_the_caller_has),
        LEAK_TEST(test_vmo_at_the_effective_limit_is_created_and_one_more_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
