/* SPDX-License-Identifier: MIT */
/* The API's semantics, written once and run on both targets: on host as a
 * test program, on the capmem kernel as a user program under QEMU. Every
 * public function of the shared API: its happy path and each documented
 * error, in the documented precedence (docs/api.md). Where a target may
 * differ, the test asks conf_target and expects the typed UNSUPPORTED. */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "sbuf_cases.h"
#include "vmar_cases.h"
#include "dma_cases.h"
#include "ledger_cases.h"

#define PAGE CM_PAGE_SIZE

static int is_live(cm_handle_t h)
{
    cm_handle_info_t info;
    return cm_handle_get_info(h, &info) == CM_OK;
}

/* ---- handles ---- */

static int test_close_invalid_is_ok_and_closed_is_bad_handle(void)
{
    cm_handle_t v;
    CHECK_ST(cm_handle_close(CM_HANDLE_INVALID), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_ERR_BAD_HANDLE);
    return 0;
}

static int test_forged_values_are_bad_handles(void)
{
    static const cm_handle_t forged[] = { 1, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0x12345 };
    uint64_t size;
    for (unsigned i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
        CHECK_ST(cm_vmo_get_size(forged[i], &size), CM_ERR_BAD_HANDLE);
        CHECK_ST(cm_handle_close(forged[i]), CM_ERR_BAD_HANDLE);
    }
    return 0;
}

static int test_wrong_type_is_reported(void)
{
    cm_handle_t a, b;
    uint64_t size;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_get_size(a, &size), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_get_info_reports_type_and_rights(void)
{
    cm_handle_t v;
    cm_handle_info_t info;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_get_info(v, &info), CM_OK);
    CHECK(info.type == CM_OBJ_VMO);
    CHECK(info.rights == CM_VMO_DEFAULT_RIGHTS);
    CHECK_ST(cm_handle_get_info(v, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_get_info(v, &info), CM_ERR_BAD_HANDLE);
    return 0;
}

static int test_duplicate_rights_only_shrink(void)
{
    cm_handle_t v, d, d2;
    cm_handle_info_t info;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_DUPLICATE, &d), CM_OK);
    CHECK_ST(cm_handle_get_info(d, &info), CM_OK);
    CHECK(info.rights == (CM_RIGHT_READ | CM_RIGHT_DUPLICATE));
    CHECK_ST(cm_handle_duplicate(d, CM_RIGHT_READ | CM_RIGHT_WRITE, &d2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_duplicate(d, CM_RIGHTS_SAME, &d2), CM_OK);
    CHECK_ST(cm_handle_get_info(d2, &info), CM_OK);
    CHECK(info.rights == (CM_RIGHT_READ | CM_RIGHT_DUPLICATE));
    CHECK_ST(cm_handle_close(d2), CM_OK);
    CHECK_ST(cm_handle_close(d), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_duplicate_needs_duplicate_right(void)
{
    cm_handle_t v, r, d;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &r), CM_OK);
    CHECK_ST(cm_handle_duplicate(r, CM_RIGHT_READ, &d), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_replace_invalidates_source_and_keeps_object(void)
{
    cm_handle_t v, r;
    uint64_t size;
    CHECK_ST(cm_vmo_create(3 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_replace(v, CM_RIGHT_READ, &r), CM_OK);
    CHECK(!is_live(v));
    CHECK_ST(cm_vmo_get_size(r, &size), CM_OK);
    CHECK(size == 3 * PAGE);
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

static int test_replace_with_more_rights_fails_and_keeps_source(void)
{
    cm_handle_t v, r, r2;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_replace(v, CM_RIGHT_READ, &r), CM_OK);
    CHECK_ST(cm_handle_replace(r, CM_RIGHT_READ | CM_RIGHT_WRITE, &r2), CM_ERR_INVALID_ARGS);
    CHECK(is_live(r));
    CHECK_ST(cm_handle_replace(r, CM_RIGHT_READ, NULL), CM_ERR_INVALID_ARGS);
    CHECK(is_live(r));
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

/* ---- VMOs ---- */

static int test_vmo_create_checks_arguments(void)
{
    cm_handle_t v;
    CHECK_ST(cm_vmo_create(PAGE, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create(PAGE, 1u << 30, &v), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create(CM_VMO_MAX_SIZE + 1, 0, &v), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_create(UINT64_MAX, 0, &v), CM_ERR_OUT_OF_RANGE);
    return 0;
}

/* The effective limits a target reports (capmem/limits_info.h) are at
 * most the ABI's, and are the ones it enforces: one byte more is
 * OUT_OF_RANGE for create and set_size. At the limit, a VMO is created
 * where memory allows it without touching a page (host), or refused by the
 * commit quota (kernel: 1 GiB is above its 128 MiB), never OUT_OF_RANGE. */
static int test_vmo_effective_limit_is_reported_and_enforced(void)
{
    cm_limits_t l = { .struct_size = sizeof l };
    cm_handle_t v, small;
    uint64_t size;
    CHECK_ST(cm_limits_get(&l), CM_OK);
    CHECK(l.struct_size == sizeof l && l.version == CM_LIMITS_VERSION);
    CHECK(l.vmo_max_size > 0 && l.vmo_max_size <= CM_VMO_MAX_SIZE);
    CHECK(l.vmo_max_size % PAGE == 0);
    CHECK(l.max_mapped_bytes >= l.vmo_max_size && l.max_mapped_bytes <= CM_MAX_MAPPED_BYTES);
    CHECK(l.max_handles == CM_MAX_HANDLES && l.max_mappings == CM_MAX_MAPPINGS);
    CHECK(l.channel_max_bytes == CM_CHANNEL_MAX_BYTES);
    CHECK_ST(cm_vmo_create(l.vmo_max_size + 1, 0, &v), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_create(PAGE, 0, &small), CM_OK);
    CHECK_ST(cm_vmo_set_size(small, l.vmo_max_size + 1), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_handle_close(small), CM_OK);
    cm_status_t st = cm_vmo_create(l.vmo_max_size, CM_VMO_BASE_PAGES, &v);
    CHECK(st == CM_OK || st == CM_ERR_QUOTA_COMMIT);
    if (st == CM_OK) {
        CHECK_ST(cm_vmo_get_size(v, &size), CM_OK);
        CHECK(size == l.vmo_max_size);
        CHECK_ST(cm_handle_close(v), CM_OK);
    }
    cm_limits_t bad = { .struct_size = 8 };
    CHECK_ST(cm_limits_get(&bad), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_limits_get(NULL), CM_ERR_INVALID_ARGS);
    return 0;
}

static int test_vmo_zero_size_is_allowed(void)
{
    cm_handle_t v;
    uint64_t size = 1;
    CHECK_ST(cm_vmo_create(0, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_get_size(v, &size), CM_OK);
    CHECK(size == 0);
    CHECK_ST(cm_vmo_read(v, NULL, 0, 0), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_is_zero_filled_and_round_trips(void)
{
    cm_handle_t v;
    char buf[64], zero[64];
    memset(zero, 0, sizeof(zero));
    CHECK_ST(cm_vmo_create(2 * PAGE, CM_VMO_COMMIT, &v), CM_OK);
    CHECK_ST(cm_vmo_read(v, buf, PAGE - 32, sizeof(buf)), CM_OK);
    CHECK(memcmp(buf, zero, sizeof(buf)) == 0);
    CHECK_ST(cm_vmo_write(v, "across a page edge", PAGE - 8, 19), CM_OK);
    CHECK_ST(cm_vmo_read(v, buf, PAGE - 8, 19), CM_OK);
    CHECK(memcmp(buf, "across a page edge", 19) == 0);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_rw_bounds_are_overflow_safe(void)
{
    cm_handle_t v;
    char b[8];
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_read(v, b, PAGE, 0), CM_OK);
    CHECK_ST(cm_vmo_read(v, b, PAGE, 1), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_read(v, b, PAGE - 4, 8), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_read(v, b, UINT64_MAX, 8), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_write(v, b, 8, UINT64_MAX - 4), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_read(v, NULL, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_rw_need_read_and_write_rights(void)
{
    cm_handle_t v, ro, wo;
    char b[4] = "abc";
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &ro), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_WRITE, &wo), CM_OK);
    CHECK_ST(cm_vmo_write(ro, b, 0, 3), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_read(wo, b, 0, 3), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_write(wo, b, 0, 3), CM_OK);
    CHECK_ST(cm_vmo_read(ro, b, 0, 3), CM_OK);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(wo), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_set_size_grows_with_zeros_and_is_bounded(void)
{
    cm_handle_t v, ro;
    uint64_t size;
    char b[4];
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "xyz", PAGE - 3, 3), CM_OK);
    CHECK_ST(cm_vmo_set_size(v, 3 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_get_size(v, &size), CM_OK);
    CHECK(size == 3 * PAGE);
    CHECK_ST(cm_vmo_read(v, b, 2 * PAGE, 4), CM_OK);
    CHECK(b[0] == 0 && b[3] == 0);
    CHECK_ST(cm_vmo_set_size(v, CM_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &ro), CM_OK);
    CHECK_ST(cm_vmo_set_size(ro, PAGE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_get_size(v, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_seal_readonly_stops_writes_and_resizes(void)
{
    cm_handle_t v;
    cm_vmo_info_t info;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    CHECK_ST(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_set_size(v, 2 * PAGE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_set_size(v, PAGE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_get_info(v, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_READONLY) != 0);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) == 0);
    CHECK((info.rights & CM_RIGHT_WRITE) == 0);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_seal_immutable_is_reported_and_idempotent(void)
{
    cm_handle_t v;
    cm_vmo_info_t info;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "fixed", 0, 5), CM_OK);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_vmo_get_info(v, &info), CM_OK);
    CHECK((info.flags & (CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY)) ==
          (CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY));
    CHECK(info.size == PAGE);
    CHECK((info.rights & CM_RIGHT_WRITE) == 0);
    CHECK_ST(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_seal_checks_level_and_write_right(void)
{
    cm_handle_t v, ro;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_seal(v, (cm_seal_t)0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_seal(v, (cm_seal_t)99), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &ro), CM_OK);
    CHECK_ST(cm_vmo_seal(ro, CM_SEAL_IMMUTABLE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_seal(CM_HANDLE_INVALID, CM_SEAL_IMMUTABLE), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_snapshot_is_an_immutable_copy(void)
{
    cm_handle_t v, s, ro;
    cm_vmo_info_t info;
    char b[8];
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "before", 0, 7), CM_OK);
    CHECK_ST(cm_vmo_snapshot(v, &s), CM_OK);
    CHECK_ST(cm_vmo_write(v, "after!", 0, 7), CM_OK);
    CHECK_ST(cm_vmo_read(s, b, 0, 7), CM_OK);
    CHECK(memcmp(b, "before", 7) == 0);
    CHECK_ST(cm_vmo_get_info(s, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) != 0);
    CHECK(info.rights == (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER));
    CHECK_ST(cm_vmo_snapshot(v, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_MAP, &ro), CM_OK);
    CHECK_ST(cm_vmo_snapshot(ro, &s), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(s), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* CM_VMO_HUGE: huge pages where the target has them, base pages otherwise
 * (never an error); the size stays exact and every operation works at any
 * page-aligned offset either way. 2 MiB + a bit: modest for the kernel,
 * which commits every frame at create. */
static int test_vmo_huge_option_keeps_exact_size_and_every_operation(void)
{
    const uint64_t huge = CM_HUGE_PAGE_SIZE, size = huge + 3 * PAGE + 100;
    cm_handle_t v, s;
    cm_vmo_info_t info;
    char b[8];
    uint8_t *p;
    CHECK_ST(cm_vmo_create(size, CM_VMO_HUGE, &v), CM_OK);
    CHECK_ST(cm_vmo_get_info(v, &info), CM_OK);
    CHECK(info.size == size);
    CHECK(info.page_size == CM_PAGE_SIZE || info.page_size == CM_HUGE_PAGE_SIZE);
    CHECK(((info.flags & CM_VMO_INFO_HUGE) != 0) == (info.page_size > CM_PAGE_SIZE));
    CHECK_ST(cm_vmo_write(v, "last", size - 5, 5), CM_OK);
    CHECK_ST(cm_vmo_read(v, b, size - 5, 5), CM_OK);
    CHECK(memcmp(b, "last", 5) == 0);
    CHECK_ST(cm_vmo_read(v, b, size - 4, 5), CM_ERR_OUT_OF_RANGE);
    /* A page-aligned offset that is not huge-page-aligned. */
    CHECK_ST(cm_vmo_write(v, "inside", huge + PAGE, 7), CM_OK);
    CHECK_ST(cm_vmo_map(v, huge + PAGE, 2 * PAGE + 100, CM_MAP_READ, (void **)&p), CM_OK);
    CHECK(((uintptr_t)p % PAGE) == 0);
    CHECK(memcmp(p, "inside", 7) == 0);
    CHECK(memcmp(p + 2 * PAGE + 95, "last", 5) == 0);
    CHECK_ST(cm_vmo_unmap(p, 2 * PAGE + 100), CM_OK);
    CHECK_ST(cm_vmo_map(v, huge + PAGE, 2 * PAGE + 101, CM_MAP_READ, (void **)&p),
             CM_ERR_OUT_OF_RANGE);
    /* Shrink inside the last page, grow back: zeros. */
    CHECK_ST(cm_vmo_set_size(v, huge + PAGE + 3), CM_OK);
    CHECK_ST(cm_vmo_set_size(v, size), CM_OK);
    CHECK_ST(cm_vmo_get_size(v, &info.size), CM_OK);
    CHECK(info.size == size);
    CHECK_ST(cm_vmo_read(v, b, huge + PAGE, 7), CM_OK);
    CHECK(memcmp(b, "ins\0\0\0\0", 7) == 0);
    CHECK_ST(cm_vmo_read(v, b, size - 5, 5), CM_OK);
    CHECK(memcmp(b, "\0\0\0\0\0", 5) == 0);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_get_info(v, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) != 0 && info.size == size);
    uint32_t page_size = info.page_size;
    CHECK_ST(cm_vmo_snapshot(v, &s), CM_OK);
    CHECK_ST(cm_vmo_get_info(s, &info), CM_OK);
    CHECK(info.size == size && (info.flags & CM_VMO_INFO_IMMUTABLE) != 0);
    CHECK(info.page_size == CM_PAGE_SIZE || info.page_size == page_size);
    CHECK_ST(cm_vmo_read(s, b, huge + PAGE, 3), CM_OK);
    CHECK(memcmp(b, "ins", 3) == 0);
    CHECK_ST(cm_handle_close(s), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_map_reads_content_in_place(void)
{
    cm_handle_t v;
    void *p;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "mapped", PAGE, 7), CM_OK);
    CHECK_ST(cm_vmo_map(v, PAGE, PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK(memcmp(p, "mapped", 7) == 0);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_map_checks_flags_alignment_and_range(void)
{
    cm_handle_t v;
    void *p;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, 0, &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_WRITE, &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | (1u << 7), &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(v, 1, PAGE, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(v, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(v, PAGE, 2 * PAGE, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_map(v, UINT64_MAX - PAGE + 1, PAGE, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_map_needs_rights_and_no_seal_for_write(void)
{
    cm_handle_t v, ro, nomap;
    void *p;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_WRITE, &nomap), CM_OK);
    CHECK_ST(cm_vmo_map(ro, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(nomap, 0, PAGE, CM_MAP_READ, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(ro, 0, PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(nomap), CM_OK);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_immutable_refused_while_writable_mapping(void)
{
    cm_handle_t v;
    void *p;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_OK);
    ((char *)p)[0] = 'w';
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    char c = 0;
    CHECK_ST(cm_vmo_read(v, &c, 0, 1), CM_OK);
    CHECK(c == 'w');
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_mapping_outlives_its_handle(void)
{
    cm_handle_t v;
    void *p;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "kept", 0, 5), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK(memcmp(p, "kept", 5) == 0);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    return 0;
}

static int test_vmo_unmap_needs_an_exact_live_mapping(void)
{
    cm_handle_t v;
    void *p;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap((char *)p + PAGE, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap(NULL, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap(p, 2 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_unmap(p, 2 * PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_vmo_create_from_file_or_unsupported(void)
{
    cm_handle_t v;
    if (!conf_target.has_files) {
        CHECK_ST(cm_vmo_create_from_file("/capmem/none", 0, CM_VMO_TO_END, &v),
                 CM_ERR_UNSUPPORTED);
        return 0;
    }
    cm_vmo_info_t info;
    CHECK_ST(cm_vmo_create_from_file(conf_target.existing_file, 0, CM_VMO_TO_END, &v), CM_OK);
    CHECK_ST(cm_vmo_get_info(v, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_FILE) != 0);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) == 0);
    CHECK((info.rights & CM_RIGHT_WRITE) == 0);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_vmo_create_from_file(conf_target.existing_file, 1, CM_VMO_TO_END, &v),
             CM_ERR_INVALID_ARGS);
    return 0;
}

/* docs/api.md precedence: what the arguments alone decide comes before
 * the handle; the handle's rights before the object's facts. */
static int test_handle_and_vmo_errors_in_documented_precedence(void)
{
    const cm_handle_t bad = 0x7ffffff1u;
    cm_handle_t v, ro, out;
    cm_handle_info_t hinfo;
    cm_vmo_info_t vinfo;
    uint64_t size;
    void *p;
    char b[8] = { 0 };
    CHECK_ST(cm_handle_duplicate(bad, CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_duplicate(bad, 1u << 20, &out), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_replace(bad, CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_get_info(bad, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create(CM_VMO_MAX_SIZE + 1, 1u << 9, &out), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_read(bad, NULL, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_write(bad, NULL, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_get_size(bad, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_set_size(bad, CM_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_get_info(bad, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_seal(bad, (cm_seal_t)0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_snapshot(bad, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(bad, 1, PAGE, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_read(bad, NULL, 4, NULL, NULL, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_wait_readable(bad, -5), CM_ERR_INVALID_ARGS);

    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    /* A missing right outranks the object's facts (range, seal). */
    CHECK_ST(cm_handle_duplicate(ro, CM_RIGHT_READ | CM_RIGHT_WRITE, &out), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_write(ro, b, UINT64_MAX, 8), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_set_size(ro, 2 * PAGE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(ro, 0, 64 * PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    /* A snapshot is a new immutable object: its own rights, never WRITE. */
    CHECK_ST(cm_vmo_snapshot(ro, &out), CM_OK);
    CHECK_ST(cm_handle_get_info(out, &hinfo), CM_OK);
    CHECK(hinfo.rights == (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER));
    CHECK_ST(cm_vmo_write(out, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(out), CM_OK);
    /* Among the facts, the range comes before the seal. */
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    CHECK_ST(cm_vmo_write(v, b, PAGE, 8), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_get_info(v, &vinfo), CM_OK);
    CHECK_ST(cm_vmo_get_size(v, &size), CM_OK);
    CHECK(size == vinfo.size);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* ---- channels ---- */

static int test_channel_create_checks_arguments(void)
{
    cm_handle_t a, b;
    CHECK_ST(cm_channel_create(1, &a, &b), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_create(0, NULL, &b), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_create(0, &a, NULL), CM_ERR_INVALID_ARGS);
    return 0;
}

static int test_channel_carries_bytes_in_order(void)
{
    cm_handle_t a, b;
    char buf[16];
    uint32_t nb = 0, nh = 7;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "one", 3, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_write(a, "two!", 4, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == 3 && nh == 0 && memcmp(buf, "one", 3) == 0);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == 4 && memcmp(buf, "two!", 4) == 0);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_peer_closed_after_queue_drains(void)
{
    cm_handle_t a, b;
    char buf[4];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "last", 4, NULL, 0), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_channel_write(b, "x", 1, NULL, 0), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_buffer_too_small_keeps_message(void)
{
    cm_handle_t a, b, v, got;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_channel_write(a, "12345678", 8, &v, 1), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, 4, &nb, &got, 1, &nh), CM_ERR_BUFFER_TOO_SMALL);
    CHECK(nb == 8 && nh == 1);
    CHECK_ST(cm_channel_read(b, buf, 8, &nb, NULL, 0, &nh), CM_ERR_BUFFER_TOO_SMALL);
    CHECK_ST(cm_channel_read(b, buf, 8, &nb, &got, 1, &nh), CM_OK);
    CHECK(memcmp(buf, "12345678", 8) == 0 && is_live(got));
    CHECK_ST(cm_handle_close(got), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

/* actual_bytes and actual_handles are optional (capmem/channel.h): NULL
 * reads the message all the same, and a message that does not fit stays
 * queued with nothing reported. */
static int test_channel_read_sizes_are_optional(void)
{
    cm_handle_t a, b, v, got = CM_HANDLE_INVALID;
    char buf[8] = { 0 };
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_channel_write(a, "abcdefgh", 8, &v, 1), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, 4, NULL, &got, 1, NULL), CM_ERR_BUFFER_TOO_SMALL);
    CHECK_ST(cm_channel_read(b, buf, 8, NULL, &got, 1, NULL), CM_OK);
    CHECK(memcmp(buf, "abcdefgh", 8) == 0 && is_live(got));
    CHECK_ST(cm_channel_read(b, buf, 8, NULL, NULL, 0, NULL), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_handle_close(got), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_write_limits_are_out_of_range(void)
{
    static char big[CM_CHANNEL_MAX_BYTES + 1];
    cm_handle_t a, b, v;
    cm_handle_t many[CM_CHANNEL_MAX_HANDLES + 1];
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, big, CM_CHANNEL_MAX_BYTES + 1, NULL, 0), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_channel_write(a, big, CM_CHANNEL_MAX_BYTES, NULL, 0), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    for (uint32_t i = 0; i <= CM_CHANNEL_MAX_HANDLES; i++)
        many[i] = v;
    CHECK_ST(cm_channel_write(a, NULL, 0, many, CM_CHANNEL_MAX_HANDLES + 1), CM_ERR_OUT_OF_RANGE);
    CHECK(!is_live(v)); /* consumed whatever the error */
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_write_consumes_handles_on_failure(void)
{
    cm_handle_t a, b, v, w, ro;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &w), CM_OK);
    CHECK_ST(cm_handle_duplicate(w, CM_RIGHT_READ, &ro), CM_OK); /* no TRANSFER */
    cm_handle_t hs[2] = { v, ro };
    CHECK_ST(cm_channel_write(a, "x", 1, hs, 2), CM_ERR_ACCESS_DENIED);
    CHECK(!is_live(v) && !is_live(ro) && is_live(w));
    CHECK_ST(cm_handle_close(w), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_write_refuses_itself_and_duplicates(void)
{
    cm_handle_t a, b, v;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, NULL, 0, &a, 1), CM_ERR_INVALID_ARGS);
    CHECK(is_live(a));
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    cm_handle_t twice[2] = { v, v };
    CHECK_ST(cm_channel_write(a, NULL, 0, twice, 2), CM_ERR_INVALID_ARGS);
    CHECK(!is_live(v));
    CHECK_ST(cm_channel_write(a, NULL, 1, NULL, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

/* docs/api.md precedence: the arguments alone, then the channel handle,
 * then the listed handles, then the objects' facts. */
static int test_channel_write_error_precedence(void)
{
    static char big[CM_CHANNEL_MAX_BYTES + 1];
    cm_handle_t a, b, v, noxfer;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    /* Too many bytes outranks a listed handle without TRANSFER... */
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &noxfer), CM_OK);
    CHECK_ST(cm_channel_write(a, big, CM_CHANNEL_MAX_BYTES + 1, &noxfer, 1), CM_ERR_OUT_OF_RANGE);
    CHECK(!is_live(noxfer));
    /* ...and a closed channel handle. */
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &noxfer), CM_OK);
    CHECK_ST(cm_channel_write(CM_HANDLE_INVALID, big, CM_CHANNEL_MAX_BYTES + 1, &noxfer, 1),
             CM_ERR_OUT_OF_RANGE);
    CHECK(!is_live(noxfer));
    /* NULL bytes with a count outranks the byte limit. */
    CHECK_ST(cm_channel_write(a, NULL, CM_CHANNEL_MAX_BYTES + 1, NULL, 0), CM_ERR_INVALID_ARGS);
    /* The channel handle outranks the listed handles. */
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &noxfer), CM_OK);
    CHECK_ST(cm_channel_write(CM_HANDLE_INVALID, "x", 1, &noxfer, 1), CM_ERR_BAD_HANDLE);
    CHECK(!is_live(noxfer));
    CHECK_ST(cm_channel_write(v, "x", 1, NULL, 0), CM_ERR_WRONG_TYPE);
    /* A listed value given twice outranks the missing right. */
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ, &noxfer), CM_OK);
    cm_handle_t twice[2] = { noxfer, noxfer };
    CHECK_ST(cm_channel_write(a, "x", 1, twice, 2), CM_ERR_INVALID_ARGS);
    CHECK(!is_live(noxfer));
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_read_write_need_rights(void)
{
    cm_handle_t a, b, wo, ro;
    char buf[4];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_handle_duplicate(a, CM_RIGHT_READ, &ro), CM_OK);
    CHECK_ST(cm_handle_duplicate(b, CM_RIGHT_WRITE, &wo), CM_OK);
    CHECK_ST(cm_channel_write(ro, "x", 1, NULL, 0), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_channel_read(wo, buf, 4, &nb, NULL, 0, &nh), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(wo), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_transfer_moves_vmo_with_rights_subset(void)
{
    cm_handle_t a, b, v, got;
    cm_handle_info_t info;
    char buf[8];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_write(v, "moved", 0, 6), CM_OK);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    cm_handle_t ro;
    CHECK_ST(cm_handle_replace(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro), CM_OK);
    CHECK_ST(cm_channel_write(a, NULL, 0, &ro, 1), CM_OK);
    CHECK(!is_live(ro));
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    CHECK(nh == 1);
    CHECK_ST(cm_handle_get_info(got, &info), CM_OK);
    CHECK(info.type == CM_OBJ_VMO);
    CHECK((info.rights & ~(CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER)) == 0);
    CHECK_ST(cm_vmo_read(got, buf, 0, 6), CM_OK);
    CHECK(memcmp(buf, "moved", 6) == 0);
    CHECK_ST(cm_handle_close(got), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_transfer_of_unsealed_readonly_vmo(void)
{
    cm_handle_t a, b, v, ro, got;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_TRANSFER, &ro), CM_OK);
    if (conf_target.unsealed_ro_transfer) {
        CHECK_ST(cm_channel_write(a, NULL, 0, &ro, 1), CM_OK);
        CHECK_ST(cm_channel_read(b, NULL, 0, &nb, &got, 1, &nh), CM_OK);
        CHECK_ST(cm_vmo_write(got, "x", 0, 1), CM_ERR_ACCESS_DENIED);
        CHECK_ST(cm_handle_close(got), CM_OK);
    } else {
        /* Only a seal can enforce read-only there: refused, typed. */
        CHECK_ST(cm_channel_write(a, NULL, 0, &ro, 1), CM_ERR_UNSUPPORTED);
    }
    CHECK(!is_live(ro));
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_transfer_moves_channel_endpoint(void)
{
    cm_handle_t a, b, c, d, got;
    char buf[8];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_create(0, &c, &d), CM_OK);
    CHECK_ST(cm_channel_write(a, "ep", 2, &d, 1), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    CHECK_ST(cm_channel_write(c, "via", 3, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_read(got, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == 3 && memcmp(buf, "via", 3) == 0);
    CHECK_ST(cm_handle_close(got), CM_OK);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_wait_readable_times_out_and_sees_messages(void)
{
    cm_handle_t a, b;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, 0), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_channel_wait_readable(b, 1000000), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, INT64_MAX), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_wait_rejects_negative_timeouts(void)
{
    cm_handle_t a, b;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, -2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_wait_readable(b, INT64_MIN), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_channel_closed_handles_are_bad_handles(void)
{
    cm_handle_t a, b;
    char buf[2];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_channel_read(a, buf, 2, &nb, NULL, 0, &nh), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_channel_wait_readable(a, 0), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

/* DMA needs a device: the host attaches one per pool; the kernel target
 * has no DMA path yet and says so with UNSUPPORTED on every call. */
static int test_dma_pool_or_unsupported(void)
{
    cm_dma_pool_config_t cfg = { 2, PAGE, 1, 0 };
    cm_dma_pool_info_t info;
    cm_handle_t pool = CM_HANDLE_INVALID;
    cm_dma_buffer_t buf;
    if (!conf_target.has_dma) {
        CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_ERR_UNSUPPORTED);
        CHECK_ST(cm_dma_pool_attach(pool, "vda", CM_DMA_ATTACH_READ), CM_ERR_UNSUPPORTED);
        CHECK_ST(cm_dma_buffer_acquire(pool, &buf), CM_ERR_UNSUPPORTED);
        CHECK_ST(cm_dma_fence_wait(pool, 1, 0, NULL), CM_ERR_UNSUPPORTED);
        return 0;
    }
    CHECK_ST(cm_dma_pool_create(NULL, &pool), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHECK((info.flags & CM_DMA_INFO_DEVICE) == 0);
    CHECK_ST(cm_dma_buffer_acquire(pool, &buf), CM_OK);
    CHECK_ST(cm_dma_buffer_write(pool, buf, 0, "dma", 3), CM_OK);
    CHECK_ST(cm_dma_buffer_release(pool, buf), CM_OK);
    CHECK_ST(cm_dma_buffer_release(pool, buf), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    return 0;
}

/* ---- signals and waiting (include/capmem/object.h) ---- */

#define SIG_R CM_SIGNAL_READABLE
#define SIG_W CM_SIGNAL_WRITABLE
#define SIG_PC CM_SIGNAL_PEER_CLOSED

static int test_wait_one_observes_every_asserted_signal(void)
{
    cm_handle_t a, b;
    cm_signals_t obs = 0xdead;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    /* Nothing queued: a poll times out and still reports what is asserted. */
    CHECK_ST(cm_object_wait_one(b, SIG_R, 0, &obs), CM_ERR_TIMED_OUT);
    CHECK(obs == SIG_W);
    obs = 0xdead;
    CHECK_ST(cm_object_wait_one(b, SIG_R | SIG_PC, 1000000, &obs), CM_ERR_TIMED_OUT);
    CHECK(obs == SIG_W);
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    obs = 0;
    CHECK_ST(cm_object_wait_one(b, SIG_R, CM_TIMEOUT_INFINITE, &obs), CM_OK);
    CHECK(obs == (SIG_R | SIG_W));
    /* observed is every asserted signal, not only the requested ones. */
    obs = 0;
    CHECK_ST(cm_object_wait_one(b, SIG_W, 0, &obs), CM_OK);
    CHECK(obs == (SIG_R | SIG_W));
    obs = 0;
    CHECK_ST(cm_object_wait_one(a, SIG_W, INT64_MAX, &obs), CM_OK);
    CHECK(obs == SIG_W);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_wait_one_peer_closed_clears_writable(void)
{
    cm_handle_t a, b;
    cm_signals_t obs = 0;
    char buf[2];
    uint32_t nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_object_wait_one(b, SIG_PC, CM_TIMEOUT_INFINITE, &obs), CM_OK);
    CHECK(obs == (SIG_R | SIG_PC)); /* the message is still queued */
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    obs = 0;
    CHECK_ST(cm_object_wait_one(b, SIG_R | SIG_W, 0, &obs), CM_ERR_TIMED_OUT);
    CHECK(obs == SIG_PC);
    obs = 0;
    CHECK_ST(cm_object_wait_one(b, SIG_R, 1000000, &obs), CM_ERR_TIMED_OUT);
    CHECK(obs == SIG_PC);
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int test_wait_one_checks_arguments_first(void)
{
    cm_handle_t a, b, v;
    cm_signals_t obs;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_object_wait_one(b, 0, 0, &obs), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(b, (cm_signals_t)1 << 3, 0, &obs), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(b, SIG_R | 0x80000000u, 0, &obs), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(b, SIG_R, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(b, SIG_R, -2, &obs), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(b, SIG_R, INT64_MIN, &obs), CM_ERR_INVALID_ARGS);
    /* Arguments before handles, handles before object facts. */
    CHECK_ST(cm_object_wait_one(0x12345, 0, 0, &obs), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(v, SIG_R, -5, &obs), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_one(0x12345, SIG_R, 0, &obs), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_object_wait_one(CM_HANDLE_INVALID, SIG_R, 0, &obs), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_object_wait_one(a, SIG_R, CM_TIMEOUT_INFINITE, &obs), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_wait_on_vmo_is_wrong_type(void)
{
    cm_handle_t v, ro;
    cm_signals_t obs;
    cm_wait_item_t item;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    /* No right is needed, so a handle with none still reaches the type. */
    CHECK_ST(cm_handle_duplicate(v, 0, &ro), CM_OK);
    CHECK_ST(cm_object_wait_one(v, SIG_R, CM_TIMEOUT_INFINITE, &obs), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_object_wait_one(ro, SIG_W, 0, &obs), CM_ERR_WRONG_TYPE);
    item = (cm_wait_item_t){ v, SIG_R, 0 };
    CHECK_ST(cm_object_wait_many(&item, 1, CM_TIMEOUT_INFINITE), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_channel_wait_readable(v, 0), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

static int test_wait_many_reports_pending_of_every_item(void)
{
    cm_handle_t a[3], b[3];
    cm_wait_item_t it[4];
    for (int i = 0; i < 3; i++)
        CHECK_ST(cm_channel_create(0, &a[i], &b[i]), CM_OK);
    for (int i = 0; i < 3; i++)
        it[i] = (cm_wait_item_t){ b[i], SIG_R, 0xdead };
    it[3] = (cm_wait_item_t){ a[0], SIG_R | SIG_PC, 0xdead };
    CHECK_ST(cm_object_wait_many(it, 4, 0), CM_ERR_TIMED_OUT);
    for (int i = 0; i < 4; i++)
        CHECK(it[i].pending == SIG_W);
    CHECK_ST(cm_object_wait_many(it, 4, 1000000), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_channel_write(a[1], "x", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_write(a[2], "y", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_handle_close(b[0]), CM_OK);
    it[0] = (cm_wait_item_t){ a[1], SIG_W, 0 }; /* b[0] is gone; a[1] matches too */
    CHECK_ST(cm_object_wait_many(it, 4, CM_TIMEOUT_INFINITE), CM_OK);
    CHECK(it[0].pending == SIG_W);
    CHECK(it[1].pending == (SIG_R | SIG_W));
    CHECK(it[2].pending == (SIG_R | SIG_W));
    CHECK(it[3].pending == SIG_PC);
    CHECK(it[0].waitfor == SIG_W && it[0].handle == a[1]); /* inputs untouched */
    /* Only the peer-closed item matches. */
    it[0] = (cm_wait_item_t){ a[0], SIG_PC, 0 };
    CHECK_ST(cm_object_wait_many(it, 1, CM_TIMEOUT_INFINITE), CM_OK);
    CHECK(it[0].pending == SIG_PC);
    CHECK_ST(cm_handle_close(a[0]), CM_OK);
    for (int i = 1; i < 3; i++) {
        CHECK_ST(cm_handle_close(a[i]), CM_OK);
        CHECK_ST(cm_handle_close(b[i]), CM_OK);
    }
    return 0;
}

static int test_wait_many_count_is_bounded(void)
{
    static cm_wait_item_t it[CM_WAIT_MANY_MAX + 1];
    cm_handle_t a, b, v;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    /* The limit itself works, the same handle listed in every item. */
    for (uint32_t i = 0; i <= CM_WAIT_MANY_MAX; i++)
        it[i] = (cm_wait_item_t){ a, SIG_W, 0 };
    CHECK_ST(cm_object_wait_many(it, CM_WAIT_MANY_MAX, 0), CM_OK);
    CHECK(it[CM_WAIT_MANY_MAX - 1].pending == SIG_W);
    CHECK_ST(cm_object_wait_many(it, CM_WAIT_MANY_MAX + 1, 0), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_object_wait_many(it, UINT32_MAX, 0), CM_ERR_OUT_OF_RANGE);
    /* INVALID_ARGS of the arguments alone come first. */
    CHECK_ST(cm_object_wait_many(NULL, 1, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_many(NULL, CM_WAIT_MANY_MAX + 1, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_many(it, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_many(it, 1, -2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_object_wait_many(it, CM_WAIT_MANY_MAX + 1, INT64_MIN), CM_ERR_INVALID_ARGS);
    /* Then each item's waitfor, then the handles in item order. */
    it[1].waitfor = 0;
    it[2].handle = 0x12345;
    CHECK_ST(cm_object_wait_many(it, 3, 0), CM_ERR_INVALID_ARGS);
    it[1].waitfor = (cm_signals_t)1 << 31;
    CHECK_ST(cm_object_wait_many(it, 3, 0), CM_ERR_INVALID_ARGS);
    it[1] = (cm_wait_item_t){ v, SIG_R, 0 };
    CHECK_ST(cm_object_wait_many(it, 3, 0), CM_ERR_WRONG_TYPE);
    it[1] = (cm_wait_item_t){ b, SIG_R, 0 };
    CHECK_ST(cm_object_wait_many(it, 3, CM_TIMEOUT_INFINITE), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* Writes 1 KiB messages until the channel is full: CM_CHANNEL_MAX_QUEUED on
 * the kernel, the socket's send buffer on host. */
static int fill_channel(cm_handle_t a, uint32_t *written)
{
    static char msg[1024];
    cm_status_t st;
    *written = 0;
    while ((st = cm_channel_write(a, msg, sizeof(msg), NULL, 0)) == CM_OK) {
        if (++*written > 100000)
            return 1;
    }
    CHECK_ST(st, CM_ERR_SHOULD_WAIT);
    return 0;
}

static int test_full_channel_becomes_writable_after_one_read(void)
{
    static char buf[1024];
    cm_handle_t a, b;
    cm_signals_t obs = 0;
    uint32_t written, nb, nh;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK(fill_channel(a, &written) == 0);
    CHECK(written > 0);
    CHECK_ST(cm_object_wait_one(a, SIG_W, 0, &obs), CM_ERR_TIMED_OUT);
    CHECK(obs == 0);
    CHECK_ST(cm_object_wait_one(a, SIG_W | SIG_PC, 1000000, &obs), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_object_wait_one(b, SIG_R, 0, &obs), CM_OK);
    CHECK(obs == (SIG_R | SIG_W));
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    obs = 0;
    CHECK_ST(cm_object_wait_one(a, SIG_W, 0, &obs), CM_OK);
    CHECK(obs == SIG_W);
    CHECK_ST(cm_channel_write(a, buf, sizeof(buf), NULL, 0), CM_OK);
    for (uint32_t i = 0; i < written; i++)
        CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    CHECK_ST(cm_object_wait_one(b, SIG_R, 0, &obs), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static const struct conf_test tests[] = {
    CONF_TEST(test_close_invalid_is_ok_and_closed_is_bad_handle),
    CONF_TEST(test_forged_values_are_bad_handles),
    CONF_TEST(test_wrong_type_is_reported),
    CONF_TEST(test_get_info_reports_type_and_rights),
    CONF_TEST(test_duplicate_rights_only_shrink),
    CONF_TEST(test_duplicate_needs_duplicate_right),
    CONF_TEST(test_replace_invalidates_source_and_keeps_object),
    CONF_TEST(test_replace_with_more_rights_fails_and_keeps_source),
    CONF_TEST(test_vmo_create_checks_arguments),
    CONF_TEST(test_vmo_effective_limit_is_reported_and_enforced),
    CONF_TEST(test_vmo_zero_size_is_allowed),
    CONF_TEST(test_vmo_is_zero_filled_and_round_trips),
    CONF_TEST(test_vmo_rw_bounds_are_overflow_safe),
    CONF_TEST(test_vmo_rw_need_read_and_write_rights),
    CONF_TEST(test_vmo_set_size_grows_with_zeros_and_is_bounded),
    CONF_TEST(test_vmo_seal_readonly_stops_writes_and_resizes),
    CONF_TEST(test_vmo_seal_immutable_is_reported_and_idempotent),
    CONF_TEST(test_vmo_seal_checks_level_and_write_right),
    CONF_TEST(test_vmo_snapshot_is_an_immutable_copy),
    CONF_TEST(test_vmo_huge_option_keeps_exact_size_and_every_operation),
    CONF_TEST(test_vmo_map_reads_content_in_place),
    CONF_TEST(test_vmo_map_checks_flags_alignment_and_range),
    CONF_TEST(test_vmo_map_needs_rights_and_no_seal_for_write),
    CONF_TEST(test_vmo_immutable_refused_while_writable_mapping),
    CONF_TEST(test_vmo_mapping_outlives_its_handle),
    CONF_TEST(test_vmo_unmap_needs_an_exact_live_mapping),
    CONF_TEST(test_vmo_create_from_file_or_unsupported),
    CONF_TEST(test_handle_and_vmo_errors_in_documented_precedence),
    CONF_TEST(test_channel_create_checks_arguments),
    CONF_TEST(test_channel_carries_bytes_in_order),
    CONF_TEST(test_channel_peer_closed_after_queue_drains),
    CONF_TEST(test_channel_buffer_too_small_keeps_message),
    CONF_TEST(test_channel_read_sizes_are_optional),
    CONF_TEST(test_channel_write_limits_are_out_of_range),
    CONF_TEST(test_channel_write_consumes_handles_on_failure),
    CONF_TEST(test_channel_write_refuses_itself_and_duplicates),
    CONF_TEST(test_channel_write_error_precedence),
    CONF_TEST(test_channel_read_write_need_rights),
    CONF_TEST(test_channel_transfer_moves_vmo_with_rights_subset),
    CONF_TEST(test_channel_transfer_of_unsealed_readonly_vmo),
    CONF_TEST(test_channel_transfer_moves_channel_endpoint),
    CONF_TEST(test_channel_wait_readable_times_out_and_sees_messages),
    CONF_TEST(test_channel_wait_rejects_negative_timeouts),
    CONF_TEST(test_channel_closed_handles_are_bad_handles),
    CONF_TEST(test_dma_pool_or_unsupported),
    CONF_TEST(test_dma_pool_config_bounds_are_invalid_args),
    CONF_TEST(test_dma_buffer_ids_die_and_release_scrubs),
    CONF_TEST(test_dma_submit_needs_a_device_and_names_are_resolved),
    CONF_TEST(test_dma_submit_fence_inside_the_submitted_buffer_is_invalid_args),
    CONF_TEST(test_dma_detach_vmo_keeps_bytes_and_frees_the_slot),
    CONF_TEST(test_mmio_map_needs_a_window_capability),
    CONF_TEST(test_wait_one_observes_every_asserted_signal),
    CONF_TEST(test_wait_one_peer_closed_clears_writable),
    CONF_TEST(test_wait_one_checks_arguments_first),
    CONF_TEST(test_wait_on_vmo_is_wrong_type),
    CONF_TEST(test_wait_many_reports_pending_of_every_item),
    CONF_TEST(test_wait_many_count_is_bounded),
    CONF_TEST(test_full_channel_becomes_writable_after_one_read),
    CONF_TEST(test_sbuf_create_checks_config_in_order),
    CONF_TEST(test_sbuf_each_limit_has_its_typed_error),
    CONF_TEST(test_sbuf_order_and_content_across_ring_wrap),
    CONF_TEST(test_sbuf_full_and_empty),
    CONF_TEST(test_sbuf_fan_out_slot_returns_after_last_release),
    CONF_TEST(test_sbuf_late_joiner_sees_only_later_messages),
    CONF_TEST(test_sbuf_drop_oldest_gap_and_dropped_count),
    CONF_TEST(test_sbuf_block_loan_should_wait_timed_out_and_loan_limit),
    CONF_TEST(test_sbuf_producer_closed_drain_then_peer_closed),
    CONF_TEST(test_sbuf_consumer_close_reclaims_its_slots),
    CONF_TEST(test_sbuf_rights_map_and_write),
    CONF_TEST(test_sbuf_publish_len_and_dead_loan_ids),
    CONF_TEST(test_sbuf_get_info_counters),
    CONF_TEST(test_sbuf_release_errors),
    CONF_TEST(test_vmar_fixed_reserve_no_replace_and_release),
    CONF_TEST(test_vmar_map_split_unmap_and_remap),
    CONF_TEST(test_vmar_protect_none_and_back_keeps_content),
    CONF_TEST(test_vmar_unmap_vmo_checks_provenance),
    CONF_TEST(test_vmar_rights_bound_protection_never_execute),
    CONF_TEST(test_vmo_decommit_zeroes_and_counts_exactly),
    CONF_TEST(test_mapping_identity_names_object_and_offset),
    CONF_TEST(test_vmar_limits_have_typed_errors),
    CONF_TEST(test_vmar_protect_never_regains_write_after_readonly_seal),
    CONF_TEST(test_vmar_nested_fixed_and_hint_never_overlap_either_way),
    CONF_TEST(test_vmar_nested_parent_close_destroys_children_bad_state),
    CONF_TEST(test_vmar_nested_child_close_returns_range_to_parent),
    CONF_TEST(test_vmar_nested_depth_limit_and_rights_subset),
    CONF_TEST(test_vmar_anon_zero_fill_split_protect_and_provenance),
    CONF_TEST(test_vmar_nested_and_anon_ledger_returns_exactly),
    CONF_TEST(test_ledger_reports_every_kind_within_its_limit),
    CONF_TEST(test_ledger_limit_never_rises_and_unknown_kind_is_out_of_range),
    CONF_TEST(test_ledger_vmo_create_and_close_charge_and_release_once),
};

int main(void)
{
    return conf_run(tests, sizeof(tests) / sizeof(tests[0])) == 0 ? 0 : 1;
}
