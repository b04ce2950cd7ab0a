/* SPDX-License-Identifier: MIT */
/* The host ledger (host/ledger.c, docs/ledger.md): what this process holds
 * through libcapmem, limits that only go down, typed refusals, and every
 * charge released exactly once on success and on each failure path.
 * Limits never go back up, so each test runs in a forked child. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <capmem/capmem.h>
#include <capmem/ledger.h>
#include <capmem/vmar.h>
#include <capmem/dma.h>

#include "common/child.h"
#include "../../host/dma_internal.h"
/* host/ledger.c: releases of more than was charged, counted. */
uint64_t cm__hledger_errors(void);

#define PAGE CM_PAGE_SIZE

static cm_ledger_info_t now(void)
{
    cm_ledger_info_t info;
    memset(&info, 0xa5, sizeof(info));
    CHILD_EXPECT(cm_ledger_get(&info), CM_OK);
    return info;
}

static uint64_t used(cm_ledger_kind_t k)
{
    cm_ledger_info_t i = now();
    return i.entry[k].used;
}

/* Every kind's used is what it was: nothing left charged, nothing
 * released twice (which the error count would show). */
static int same_used(const cm_ledger_info_t *a, const cm_ledger_info_t *b)
{
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        if (a->entry[k].used != b->entry[k].used) {
            fprintf(stderr, "child: %s used %lu -> %lu\n", cm_ledger_kind_name(k),
                    (unsigned long)a->entry[k].used, (unsigned long)b->entry[k].used);
            return 0;
        }
    }
    return cm__hledger_errors() == 0;
}

static void run(int (*body)(void *))
{
    assert_child_ok(in_child(body, NULL));
}

static int body_create_close_charges_and_releases_once(void *arg)
{
    (void)arg;
    cm_ledger_info_t a = now();
    cm_handle_t v, dup;
    void *p;
    CHILD_CHECK(a.kinds == CM_LEDGER_KIND_COUNT);
    CHILD_CHECK((a.entry[CM_LEDGER_HANDLES].flags & CM_LEDGER_ENFORCED) != 0);
    CHILD_CHECK((a.entry[CM_LEDGER_COMMIT].flags & CM_LEDGER_ENFORCED) == 0);
    CHILD_CHECK((a.entry[CM_LEDGER_PINS].flags & CM_LEDGER_ENFORCED) != 0);
    /* Host pools are bounded by fds and io_uring, not by a count: the
     * kind is reported, unenforced, never charged (docs/ledger.md). */
    CHILD_CHECK((a.entry[CM_LEDGER_DMA_POOLS].flags & CM_LEDGER_ENFORCED) == 0);
    CHILD_CHECK(a.entry[CM_LEDGER_DMA_POOLS].used == 0);
    CHILD_CHECK(a.entry[CM_LEDGER_HANDLES].limit == CM_MAX_HANDLES);
    CHILD_CHECK(a.entry[CM_LEDGER_VIRTUAL].limit == CM_MAX_MAPPED_BYTES + CM_MAX_RESERVED_BYTES);
    CHILD_EXPECT(cm_vmo_create(3 * PAGE + 1, 0, &v), CM_OK);
    CHILD_EXPECT(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
    CHILD_EXPECT(cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ, &p), CM_OK);
    cm_ledger_info_t b = now();
    CHILD_CHECK(b.entry[CM_LEDGER_HANDLES].used == a.entry[CM_LEDGER_HANDLES].used + 2);
    CHILD_CHECK(b.entry[CM_LEDGER_VMOS].used == a.entry[CM_LEDGER_VMOS].used + 1);
    CHILD_CHECK(b.entry[CM_LEDGER_OBJECT_BACKING].used ==
                a.entry[CM_LEDGER_OBJECT_BACKING].used + 4 * PAGE);
    CHILD_CHECK(b.entry[CM_LEDGER_VIRTUAL].used == a.entry[CM_LEDGER_VIRTUAL].used + 2 * PAGE);
    CHILD_EXPECT(cm_vmo_unmap(p, 2 * PAGE), CM_OK);
    CHILD_EXPECT(cm_vmo_set_size(v, 9 * PAGE), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_OBJECT_BACKING) == a.entry[CM_LEDGER_OBJECT_BACKING].used + 9 * PAGE);
    CHILD_EXPECT(cm_vmo_set_size(v, PAGE), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_OBJECT_BACKING) == a.entry[CM_LEDGER_OBJECT_BACKING].used + PAGE);
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    /* The object lives on through dup: still charged. */
    CHILD_CHECK(used(CM_LEDGER_VMOS) == a.entry[CM_LEDGER_VMOS].used + 1);
    CHILD_EXPECT(cm_handle_close(dup), CM_OK);
    cm_ledger_info_t c = now();
    CHILD_CHECK(same_used(&a, &c));
    CHILD_CHECK(c.entry[CM_LEDGER_HANDLES].peak >= a.entry[CM_LEDGER_HANDLES].used + 2);
    child_exit();
}

static void test_create_map_close_charge_and_release_exactly_once(void **state)
{
    (void)state;
    run(body_create_close_charges_and_releases_once);
}

static int body_set_limit_rules(void *arg)
{
    (void)arg;
    cm_ledger_info_t a = now();
    uint64_t h = a.entry[CM_LEDGER_HANDLES].used;
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_HANDLES, CM_MAX_HANDLES + 1), CM_ERR_ACCESS_DENIED);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_HANDLES, h + 5), CM_OK);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_HANDLES, h + 6), CM_ERR_ACCESS_DENIED);
    cm_handle_t v;
    CHILD_EXPECT(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_HANDLES, h), CM_ERR_BAD_STATE);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_COMMIT, 0), CM_ERR_UNSUPPORTED);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_CHANNELS, 0), CM_ERR_UNSUPPORTED);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_DMA_POOLS, 0), CM_ERR_UNSUPPORTED);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_KIND_COUNT, 0), CM_ERR_OUT_OF_RANGE);
    CHILD_EXPECT(cm_ledger_set_limit((cm_ledger_kind_t)-1, 0), CM_ERR_OUT_OF_RANGE);
    CHILD_EXPECT(cm_ledger_get(NULL), CM_ERR_INVALID_ARGS);
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    child_exit();
}

static void test_limits_only_go_down_and_unenforced_kinds_are_unsupported(void **state)
{
    (void)state;
    run(body_set_limit_rules);
}

/* A failure injected at each charge step of cm_vmo_create (a limit of
 * "what is used now" on that kind): the typed status of that kind, and
 * every charge taken before it released, none twice. */
static int body_create_fails_at_each_step(void *arg)
{
    int step = *(int *)arg;
    static const cm_ledger_kind_t kinds[] = { CM_LEDGER_VMOS, CM_LEDGER_OBJECT_BACKING,
                                              CM_LEDGER_HANDLES };
    static const cm_status_t want[] = { CM_ERR_NO_RESOURCES, CM_ERR_QUOTA_COMMIT,
                                        CM_ERR_NO_RESOURCES };
    cm_ledger_info_t a = now();
    CHILD_EXPECT(cm_ledger_set_limit(kinds[step], a.entry[kinds[step]].used), CM_OK);
    cm_handle_t v = CM_HANDLE_INVALID;
    CHILD_EXPECT(cm_vmo_create(2 * PAGE, 0, &v), want[step]);
    CHILD_CHECK(v == CM_HANDLE_INVALID);
    cm_ledger_info_t b = now();
    CHILD_CHECK(same_used(&a, &b));
    child_exit();
}

static void test_vmo_create_refused_at_each_charge_releases_the_others(void **state)
{
    (void)state;
    for (int step = 0; step < 3; step++)
        assert_child_ok(in_child(body_create_fails_at_each_step, &step));
}

/* A failure after the charges (the memfd cannot take the size: a low
 * RLIMIT_FSIZE, checked before any ftruncate) releases them all. */
static int body_create_fails_after_charging(void *arg)
{
    (void)arg;
    struct rlimit rl = { 2 * PAGE, 2 * PAGE };
    cm_ledger_info_t a = now();
    CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    cm_handle_t v = CM_HANDLE_INVALID;
    cm_status_t st = cm_vmo_create(8 * PAGE, CM_VMO_COMMIT, &v);
    CHILD_CHECK(st != CM_OK);
    CHILD_CHECK(v == CM_HANDLE_INVALID);
    cm_ledger_info_t b = now();
    CHILD_CHECK(same_used(&a, &b));
    /* Without COMMIT the file is sized at its first use (docs/vmo.md,
     * "Size"): the create succeeds, the use the limit refuses charges
     * nothing more, and the close gives back what the create took. */
    void *m;
    CHILD_EXPECT(cm_vmo_create(8 * PAGE, 0, &v), CM_OK);
    cm_ledger_info_t c = now();
    CHILD_EXPECT(cm_vmo_map(v, 0, 8 * PAGE, CM_MAP_READ, &m), CM_ERR_NO_RESOURCES);
    cm_ledger_info_t d = now();
    CHILD_CHECK(same_used(&c, &d));
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    b = now();
    CHILD_CHECK(same_used(&a, &b));
    /* And a resize the file cannot take gives back its new charge. */
    CHILD_EXPECT(cm_vmo_create(PAGE, 0, &v), CM_OK);
    a = now();
    CHILD_CHECK(cm_vmo_set_size(v, 8 * PAGE) != CM_OK);
    b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    /* A cut refused after the (smaller) charge was taken: back to the
     * old charge. */
    void *p;
    CHILD_EXPECT(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    CHILD_EXPECT(cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ, &p), CM_OK);
    a = now();
    CHILD_CHECK(cm_vmo_set_size(v, PAGE) != CM_OK);
    b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_EXPECT(cm_vmo_unmap(p, 2 * PAGE), CM_OK);
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    child_exit();
}

static void test_vmo_create_failing_after_its_charges_releases_them(void **state)
{
    (void)state;
    run(body_create_fails_after_charging);
}

static int body_growth_over_backing_quota(void *arg)
{
    (void)arg;
    cm_handle_t v;
    uint64_t size = 0;
    CHILD_EXPECT(cm_vmo_create(PAGE, 0, &v), CM_OK);
    cm_ledger_info_t a = now();
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_OBJECT_BACKING,
                                     a.entry[CM_LEDGER_OBJECT_BACKING].used + PAGE), CM_OK);
    CHILD_EXPECT(cm_vmo_set_size(v, 3 * PAGE), CM_ERR_QUOTA_COMMIT);
    CHILD_EXPECT(cm_vmo_get_size(v, &size), CM_OK);
    CHILD_CHECK(size == PAGE);
    CHILD_EXPECT(cm_vmo_set_size(v, 2 * PAGE), CM_OK);
    CHILD_EXPECT(cm_vmo_set_size(v, 3 * PAGE), CM_ERR_QUOTA_COMMIT);
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    cm_ledger_info_t b = now();
    CHILD_CHECK(b.entry[CM_LEDGER_OBJECT_BACKING].used ==
                a.entry[CM_LEDGER_OBJECT_BACKING].used - PAGE);
    CHILD_CHECK(cm__hledger_errors() == 0);
    child_exit();
}

static void test_set_size_over_backing_quota_is_quota_commit_and_size_unchanged(void **state)
{
    (void)state;
    run(body_growth_over_backing_quota);
}

static int body_virtual_quota(void *arg)
{
    (void)arg;
    cm_handle_t v;
    void *p[3];
    CHILD_EXPECT(cm_vmo_create(PAGE, 0, &v), CM_OK);
    cm_ledger_info_t a = now();
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_VIRTUAL, a.entry[CM_LEDGER_VIRTUAL].used + 2 * PAGE),
                 CM_OK);
    CHILD_EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p[0]), CM_OK);
    CHILD_EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p[1]), CM_OK);
    CHILD_EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p[2]), CM_ERR_QUOTA_VIRTUAL);
    CHILD_EXPECT(cm_vmo_unmap(p[0], PAGE), CM_OK);
    CHILD_EXPECT(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p[2]), CM_OK);
    CHILD_EXPECT(cm_vmo_unmap(p[1], PAGE), CM_OK);
    CHILD_EXPECT(cm_vmo_unmap(p[2], PAGE), CM_OK);
    /* An unmap of nothing releases nothing. */
    CHILD_EXPECT(cm_vmo_unmap(p[2], PAGE), CM_ERR_INVALID_ARGS);
    cm_ledger_info_t b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    child_exit();
}

static void test_map_past_lowered_virtual_limit_is_quota_virtual(void **state)
{
    (void)state;
    run(body_virtual_quota);
}

/* A reservation is charged VIRTUAL once, mappings inside it are not
 * charged again, and its release returns it; under a lowered limit a
 * reservation is QUOTA_VIRTUAL with nothing left behind. */
static int body_reservation_virtual(void *arg)
{
    (void)arg;
    cm_handle_t r, v;
    void *base, *at;
    CHILD_EXPECT(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    cm_ledger_info_t a = now();
    CHILD_EXPECT(cm_vmar_reserve(NULL, 16 * PAGE, 0, &r, &base), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_VIRTUAL) == a.entry[CM_LEDGER_VIRTUAL].used + 16 * PAGE);
    CHILD_EXPECT(cm_vmar_map(r, 0, v, 0, 2 * PAGE, CM_MAP_READ, &at), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_VIRTUAL) == a.entry[CM_LEDGER_VIRTUAL].used + 16 * PAGE);
    CHILD_EXPECT(cm_handle_close(r), CM_OK);
    cm_ledger_info_t b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_VIRTUAL, a.entry[CM_LEDGER_VIRTUAL].used + 8 * PAGE),
                 CM_OK);
    CHILD_EXPECT(cm_vmar_reserve(NULL, 16 * PAGE, 0, &r, &base), CM_ERR_QUOTA_VIRTUAL);
    CHILD_EXPECT(cm_vmar_reserve(NULL, 8 * PAGE, 0, &r, &base), CM_OK);
    CHILD_EXPECT(cm_handle_close(r), CM_OK);
    b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    child_exit();
}

static void test_reservation_charged_once_and_released_with_it(void **state)
{
    (void)state;
    run(body_reservation_virtual);
}

static int body_handle_quota(void *arg)
{
    (void)arg;
    cm_handle_t v, d[4];
    CHILD_EXPECT(cm_vmo_create(PAGE, 0, &v), CM_OK);
    cm_ledger_info_t a = now();
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_HANDLES, a.entry[CM_LEDGER_HANDLES].used + 2), CM_OK);
    CHILD_EXPECT(cm_handle_duplicate(v, CM_RIGHTS_SAME, &d[0]), CM_OK);
    CHILD_EXPECT(cm_handle_duplicate(v, CM_RIGHTS_SAME, &d[1]), CM_OK);
    CHILD_EXPECT(cm_handle_duplicate(v, CM_RIGHTS_SAME, &d[2]), CM_ERR_NO_RESOURCES);
    cm_handle_t x, y;
    CHILD_EXPECT(cm_channel_create(0, &x, &y), CM_ERR_NO_RESOURCES);
    /* replace keeps the count: allowed at the limit. */
    CHILD_EXPECT(cm_handle_replace(d[1], CM_RIGHT_READ, &d[3]), CM_OK);
    CHILD_EXPECT(cm_handle_close(d[0]), CM_OK);
    CHILD_EXPECT(cm_handle_close(d[3]), CM_OK);
    cm_ledger_info_t b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_EXPECT(cm_handle_close(v), CM_OK);
    child_exit();
}

static void test_handle_quota_refuses_new_handles_and_keeps_count(void **state)
{
    (void)state;
    run(body_handle_quota);
}

/* ---- PINS: DMA pool buffers registered (pinned) with io_uring ---- */

/* 3 buffers of 2 pages: 6 pages pinned. */
static const cm_dma_pool_config_t pin_pool = { 3, 2 * PAGE, 1, 0 };
#define PIN_POOL_PAGES 6u

/* Creates pin_pool; a child without io_uring (seccomp, sysctl) skips. */
static cm_status_t pin_pool_create(cm_handle_t *pool)
{
    cm_status_t st = cm_dma_pool_create(&pin_pool, pool);
    if (st == CM_ERR_UNSUPPORTED) {
        fprintf(stderr, "child: io_uring unavailable: skipped\n");
        _exit(CHILD_SKIP);
    }
    return st;
}

static void run_maybe_skip(int (*body)(void *), void *arg)
{
    int rc = in_child(body, arg);
    if (rc == CHILD_SKIP)
        skip();
    assert_child_ok(rc);
}

static int body_pool_pins(void *arg)
{
    (void)arg;
    cm_ledger_info_t a = now();
    cm_handle_t pool = CM_HANDLE_INVALID, dup;
    CHILD_EXPECT(pin_pool_create(&pool), CM_OK);
    cm_ledger_info_t b = now();
    CHILD_CHECK(b.entry[CM_LEDGER_PINS].used == a.entry[CM_LEDGER_PINS].used + PIN_POOL_PAGES);
    CHILD_CHECK(b.entry[CM_LEDGER_PINS].peak >= b.entry[CM_LEDGER_PINS].used);
    /* A second handle pins nothing more; the charge goes with the pool. */
    CHILD_EXPECT(cm_handle_duplicate(pool, CM_RIGHTS_SAME, &dup), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_PINS) == b.entry[CM_LEDGER_PINS].used);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_PINS) == b.entry[CM_LEDGER_PINS].used);
    CHILD_EXPECT(cm_handle_close(dup), CM_OK);
    cm_ledger_info_t c = now();
    CHILD_CHECK(same_used(&a, &c));
    child_exit();
}

static void test_dma_pool_charges_its_pinned_pages_until_destroyed(void **state)
{
    (void)state;
    run_maybe_skip(body_pool_pins, NULL);
}

/* A PINS limit below the pool's need: NO_RESOURCES (core/ledger's status
 * of a count kind), no pool, nothing charged; what fits is still made. */
static int body_pool_over_pin_limit(void *arg)
{
    (void)arg;
    cm_ledger_info_t a = now();
    uint64_t p0 = a.entry[CM_LEDGER_PINS].used;
    cm_handle_t pool = CM_HANDLE_INVALID;
    /* Unsupported io_uring is found by a pool that fits the limit. */
    CHILD_EXPECT(pin_pool_create(&pool), CM_OK);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_PINS, p0 + PIN_POOL_PAGES - 1), CM_OK);
    pool = CM_HANDLE_INVALID;
    CHILD_EXPECT(cm_dma_pool_create(&pin_pool, &pool), CM_ERR_NO_RESOURCES);
    CHILD_CHECK(pool == CM_HANDLE_INVALID);
    cm_ledger_info_t b = now();
    CHILD_CHECK(same_used(&a, &b));
    CHILD_CHECK(cm__dma_registered_buffers() == 0);
    /* Exactly the limit fits, and a live pool's pins keep the limit from
     * going under them. */
    const cm_dma_pool_config_t fits = { PIN_POOL_PAGES - 1, PAGE, 1, 0 };
    CHILD_EXPECT(cm_dma_pool_create(&fits, &pool), CM_OK);
    CHILD_CHECK(used(CM_LEDGER_PINS) == p0 + PIN_POOL_PAGES - 1);
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_PINS, p0), CM_ERR_BAD_STATE);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK);
    cm_ledger_info_t c = now();
    CHILD_CHECK(same_used(&a, &c));
    child_exit();
}

static void test_dma_pool_over_lowered_pin_limit_is_no_resources_and_charges_nothing(void **state)
{
    (void)state;
    run_maybe_skip(body_pool_over_pin_limit, NULL);
}

/* Failures after the PINS charge: a system call failing at each site of
 * the pool's build (host/dma.c's fault hook), and the handle refused by
 * the HANDLES limit once the pool is built. Each gives back the pins,
 * once. */
static int fail_site;
static int fail_hook(int site)
{
    return site == fail_site ? ENOMEM : 0;
}

static int body_pool_fails_after_charging(void *arg)
{
    (void)arg;
    static const int sites[] = { CM__DMA_SITE_RING, CM__DMA_SITE_EVENTFD, CM__DMA_SITE_MEMFD,
                                 CM__DMA_SITE_MMAP, CM__DMA_SITE_REGISTER };
    cm_handle_t pool = CM_HANDLE_INVALID;
    CHILD_EXPECT(pin_pool_create(&pool), CM_OK);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK);
    cm_ledger_info_t a = now();
    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
        fail_site = sites[i];
        cm__dma_fault_hook = fail_hook;
        pool = CM_HANDLE_INVALID;
        cm_status_t st = cm_dma_pool_create(&pin_pool, &pool);
        cm__dma_fault_hook = NULL;
        if (st == CM_OK) {
            fprintf(stderr, "child: site %d: created\n", sites[i]);
            child_failures++;
            (void)cm_handle_close(pool);
        }
        cm_ledger_info_t b = now();
        if (!same_used(&a, &b)) {
            fprintf(stderr, "child: site %d left the ledger changed\n", sites[i]);
            child_failures++;
        }
    }
    CHILD_EXPECT(cm_ledger_set_limit(CM_LEDGER_HANDLES, a.entry[CM_LEDGER_HANDLES].used), CM_OK);
    pool = CM_HANDLE_INVALID;
    CHILD_EXPECT(cm_dma_pool_create(&pin_pool, &pool), CM_ERR_NO_RESOURCES);
    CHILD_CHECK(pool == CM_HANDLE_INVALID);
    cm_ledger_info_t c = now();
    CHILD_CHECK(same_used(&a, &c));
    CHILD_CHECK(c.entry[CM_LEDGER_PINS].peak >= a.entry[CM_LEDGER_PINS].used + PIN_POOL_PAGES);
    CHILD_CHECK(cm__dma_registered_buffers() == 0);
    CHILD_CHECK(cm__hledger_errors() == 0);
    child_exit();
}

static void test_dma_pool_failing_after_pin_charge_releases_it_once(void **state)
{
    (void)state;
    run_maybe_skip(body_pool_fails_after_charging, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_map_close_charge_and_release_exactly_once),
        cmocka_unit_test(test_limits_only_go_down_and_unenforced_kinds_are_unsupported),
        cmocka_unit_test(test_vmo_create_refused_at_each_charge_releases_the_others),
        cmocka_unit_test(test_vmo_create_failing_after_its_charges_releases_them),
        cmocka_unit_test(test_set_size_over_backing_quota_is_quota_commit_and_size_unchanged),
        cmocka_unit_test(test_map_past_lowered_virtual_limit_is_quota_virtual),
        cmocka_unit_test(test_handle_quota_refuses_new_handles_and_keeps_count),
        cmocka_unit_test(test_reservation_charged_once_and_released_with_it),
        cmocka_unit_test(test_dma_pool_charges_its_pinned_pages_until_destroyed),
        cmocka_unit_test(test_dma_pool_over_lowered_pin_limit_is_no_resources_and_charges_nothing),
        cmocka_unit_test(test_dma_pool_failing_after_pin_charge_releases_it_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
