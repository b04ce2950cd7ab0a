/* SPDX-License-Identifier: MIT */
/* Nested reservations (cm_vmar_reserve_in) and anonymous mappings
 * (cm_vmar_map_anon) on Linux: what the conformance cases cannot see from
 * the API alone, i.e. that the pages really go (a read in a forked child
 * faults), that anonymous memory really is private and zero-filled, and
 * that the ledger is back exactly. Every test runs inside the leak check
 * (fds, /proc/self/maps lines, handles, capmem mappings). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <capmem/capmem.h>
#include <capmem/host.h>
#include <capmem/ledger.h>
#include <capmem/vmar.h>

#include "common/child.h"
#include "common/leakcheck.h"
#include "common/ledger_check.h"

#define PG ((uint64_t)CM_PAGE_SIZE)
#define P(n) ((uint64_t)(n) * PG)
#define RW (CM_MAP_READ | CM_MAP_WRITE)
#define SPEC CM_VMAR_MAP_SPECIFIC
#define AT(b, n) ((void *)((char *)(b) + P(n)))

static int read_byte(void *a)
{
    return *(volatile uint8_t *)a == 0xee ? 3 : 0;
}

static int write_byte(void *a)
{
    *(volatile uint8_t *)a = 1;
    return 0;
}

/* Reading a in a forked child dies of SIGSEGV: nothing is mapped there
 * (or only PROT_NONE). */
static void assert_read_faults(void *a)
{
    assert_int_equal(in_child(read_byte, a), 1000 + SIGSEGV);
}

static void test_child_fixed_and_hint_placement_inside_the_parent(void **s)
{
    (void)s;
    cm_handle_t r, a, b;
    void *base, *pa, *pb;
    assert_status(cm_vmar_reserve(NULL, P(8), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_reserve_in(r, P(2), P(3), CM_VMAR_FIXED, &a, &pa), CM_OK);
    assert_ptr_equal(pa, AT(base, 2));
    assert_status(cm_vmar_reserve_in(r, P(3), P(2), 0, &b, &pb), CM_OK); /* hint taken */
    assert_ptr_equal(pb, AT(base, 5));
    cm_handle_t c;
    void *pc;
    assert_status(cm_vmar_reserve_in(r, P(3), P(3), 0, &c, &pc), CM_ERR_NO_RESOURCES);
    assert_status(cm_vmar_reserve_in(r, P(0), P(2), 0, &c, &pc), CM_OK);
    assert_ptr_equal(pc, base);
    assert_status(cm_handle_close(c), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(r), CM_OK);
}

static void test_parent_close_unmaps_every_nested_page_and_children_are_bad_state(void **s)
{
    (void)s;
    cm_handle_t r, c, g, v;
    void *base, *cb, *gb, *p, *q;
    cm_ledger_info_t l = ledger();
    assert_status(cm_vmo_create(PG, CM_VMO_BASE_PAGES, &v), CM_OK);
    assert_status(cm_vmar_reserve(NULL, P(8), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_reserve_in(r, P(1), P(6), CM_VMAR_FIXED, &c, &cb), CM_OK);
    assert_status(cm_vmar_reserve_in(c, P(1), P(4), CM_VMAR_FIXED, &g, &gb), CM_OK);
    assert_status(cm_vmar_map(g, 0, v, 0, PG, RW, &p), CM_OK);
    assert_status(cm_vmar_map_anon(c, 0, PG, RW, &q), CM_OK);
    *(volatile uint8_t *)p = 0xee;
    *(volatile uint8_t *)q = 0xee;
    assert_int_equal(in_child(read_byte, p), 3);
    assert_int_equal(in_child(read_byte, q), 3);
    assert_status(cm_handle_close(r), CM_OK);
    assert_read_faults(p);
    assert_read_faults(q);
    cm_vmar_info_t info;
    assert_status(cm_vmar_get_info(g, &info), CM_ERR_BAD_STATE);
    assert_status(cm_vmar_map_anon(g, 0, PG, RW, &p), CM_ERR_BAD_STATE);
    assert_status(cm_vmar_unmap(c, q, PG), CM_ERR_BAD_STATE);
    assert_status(cm_handle_close(g), CM_OK);
    assert_status(cm_handle_close(c), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
    assert_ledger_same(&l);
}

static void test_child_close_returns_its_range_inaccessible_to_the_parent(void **s)
{
    (void)s;
    cm_handle_t r, c;
    void *base, *cb, *p;
    assert_status(cm_vmar_reserve(NULL, P(4), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_reserve_in(r, P(1), P(2), CM_VMAR_FIXED, &c, &cb), CM_OK);
    assert_status(cm_vmar_map_anon(c, 0, P(2), RW, &p), CM_OK);
    *(volatile uint8_t *)AT(p, 1) = 0xee;
    assert_status(cm_handle_close(c), CM_OK);
    assert_read_faults(AT(p, 1));
    assert_status(cm_vmar_map_anon(r, P(1), P(2), RW | SPEC, &p), CM_OK);
    assert_int_equal(*(volatile uint8_t *)AT(p, 1), 0);
    assert_status(cm_handle_close(r), CM_OK);
}

static void test_depth_limit_is_no_resources_and_counts_in_max_vmars(void **s)
{
    (void)s;
    cm_handle_t h[CM_VMAR_MAX_DEPTH], x;
    void *b;
    assert_status(cm_vmar_reserve(NULL, P(CM_VMAR_MAX_DEPTH), 0, &h[0], &b), CM_OK);
    for (uint32_t i = 1; i < CM_VMAR_MAX_DEPTH; i++)
        assert_status(cm_vmar_reserve_in(h[i - 1], 0, P(CM_VMAR_MAX_DEPTH - i), 0, &h[i], &b),
                      CM_OK);
    assert_status(cm_vmar_reserve_in(h[CM_VMAR_MAX_DEPTH - 1], 0, PG, 0, &x, &b),
                  CM_ERR_NO_RESOURCES);
    for (uint32_t i = 0; i < CM_VMAR_MAX_DEPTH; i++)
        assert_status(cm_handle_close(h[i]), CM_OK);
    /* Children are reservations of CM_MAX_VMARS like any. */
    static cm_handle_t kids[CM_MAX_VMARS];
    cm_handle_t r;
    assert_status(cm_vmar_reserve(NULL, P(CM_MAX_VMARS), 0, &r, &b), CM_OK);
    for (uint32_t i = 0; i < CM_MAX_VMARS - 1; i++)
        assert_status(cm_vmar_reserve_in(r, P(i), PG, CM_VMAR_FIXED, &kids[i], &b), CM_OK);
    assert_status(cm_vmar_reserve_in(r, P(CM_MAX_VMARS - 1), PG, CM_VMAR_FIXED, &x, &b),
                  CM_ERR_NO_RESOURCES);
    assert_status(cm_vmar_reserve(NULL, PG, 0, &x, &b), CM_ERR_NO_RESOURCES);
    for (uint32_t i = 0; i < CM_MAX_VMARS - 1; i++)
        assert_status(cm_handle_close(kids[i]), CM_OK);
    assert_status(cm_handle_close(r), CM_OK);
}

static void test_anon_is_zero_filled_private_and_unmap_middle_frees_the_page(void **s)
{
    (void)s;
    cm_handle_t r;
    void *base, *p;
    assert_status(cm_vmar_reserve(NULL, P(4), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map_anon(r, 0, P(3), RW, &p), CM_OK);
    for (uint64_t i = 0; i < P(3); i += 512)
        assert_int_equal(((volatile uint8_t *)p)[i], 0);
    memset(p, 0xee, P(3));
    /* Private: a forked child's write is its own (copy on write). */
    assert_int_equal(in_child(write_byte, p), 0);
    assert_int_equal(*(volatile uint8_t *)p, 0xee);
    assert_status(cm_vmar_unmap(r, AT(p, 1), PG), CM_OK);
    assert_read_faults(AT(p, 1));
    assert_int_equal(in_child(read_byte, AT(p, 2)), 3);
    assert_status(cm_vmar_map_anon(r, P(1), PG, RW | SPEC, &p), CM_OK);
    assert_int_equal(*(volatile uint8_t *)p, 0); /* a new page, not the old one */
    assert_status(cm_handle_close(r), CM_OK);
}

static void test_anon_protect_split_read_only_page_faults_on_write(void **s)
{
    (void)s;
    cm_handle_t r;
    void *base, *p;
    cm_vmar_info_t info;
    assert_status(cm_vmar_reserve(NULL, P(3), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map_anon(r, 0, P(3), RW, &p), CM_OK);
    assert_status(cm_vmar_protect(r, AT(p, 1), PG, CM_MAP_READ), CM_OK);
    assert_status(cm_vmar_get_info(r, &info), CM_OK);
    assert_int_equal(info.runs, 3);
    assert_int_equal(info.mappings, 1);
    assert_int_equal(in_child(write_byte, AT(p, 1)), 1000 + SIGSEGV);
    assert_int_equal(in_child(write_byte, AT(p, 2)), 0);
    assert_status(cm_vmar_protect(r, AT(p, 1), PG, 0), CM_OK);
    assert_read_faults(AT(p, 1));
    assert_status(cm_vmar_protect(r, p, P(3), RW), CM_OK);
    assert_status(cm_vmar_get_info(r, &info), CM_OK);
    assert_int_equal(info.runs, 1);
    assert_int_equal(in_child(write_byte, AT(p, 1)), 0);
    assert_status(cm_handle_close(r), CM_OK);
}

static void test_unmap_vmo_over_anon_is_refused_and_unmaps_nothing(void **s)
{
    (void)s;
    cm_handle_t r, v;
    void *base, *p, *q;
    assert_status(cm_vmo_create(PG, CM_VMO_BASE_PAGES, &v), CM_OK);
    assert_status(cm_vmar_reserve(NULL, P(3), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map_anon(r, 0, PG, RW, &p), CM_OK);
    assert_status(cm_vmar_map(r, PG, v, 0, PG, RW | SPEC, &q), CM_OK);
    *(volatile uint8_t *)p = 0xee;
    assert_status(cm_vmar_unmap_vmo(r, v, p, PG), CM_ERR_NOT_FOUND);
    assert_status(cm_vmar_unmap_vmo(r, v, p, P(2)), CM_ERR_NOT_FOUND);
    assert_int_equal(*(volatile uint8_t *)p, 0xee);
    cm_mapping_info_t mi;
    assert_status(cm_mapping_get_info(p, &mi), CM_OK);
    assert_int_equal(mi.flags & CM_MAPPING_INFO_ANON, CM_MAPPING_INFO_ANON);
    assert_status(cm_mapping_get_info(q, &mi), CM_OK);
    assert_int_equal(mi.flags & CM_MAPPING_INFO_ANON, 0);
    assert_status(cm_vmar_unmap_vmo(r, v, q, PG), CM_OK);
    assert_status(cm_handle_close(r), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
}

/* VIRTUAL is the root's alone; neither a child nor an anonymous mapping
 * charges the host ledger, and every close hands back exactly. */
static void test_ledger_exact_for_children_and_anon(void **s)
{
    (void)s;
    cm_handle_t r, c;
    void *base, *cb, *p;
    cm_ledger_info_t l0 = ledger();
    assert_status(cm_vmar_reserve(NULL, P(16), 0, &r, &base), CM_OK);
    cm_ledger_info_t l1 = ledger();
    assert_int_equal(l1.entry[CM_LEDGER_VIRTUAL].used, l0.entry[CM_LEDGER_VIRTUAL].used + P(16));
    assert_status(cm_vmar_reserve_in(r, 0, P(8), 0, &c, &cb), CM_OK);
    assert_status(cm_vmar_map_anon(c, 0, P(4), RW | CM_MAP_POPULATE, &p), CM_OK);
    assert_int_equal(*(volatile uint8_t *)AT(p, 3), 0);
    cm_ledger_info_t l2 = ledger();
    assert_int_equal(l2.entry[CM_LEDGER_VIRTUAL].used, l1.entry[CM_LEDGER_VIRTUAL].used);
    assert_int_equal(l2.entry[CM_LEDGER_HANDLES].used, l1.entry[CM_LEDGER_HANDLES].used + 1);
    assert_status(cm_handle_close(c), CM_OK);
    assert_ledger_same(&l1);
    assert_status(cm_handle_close(r), CM_OK);
    assert_ledger_same(&l0);
}

/* One order of closing a root, its child and grandchild (order[i]: 0 root,
 * 1 child, 2 grandchild), each with a written anonymous page: after each
 * close, a handle left answers OK unless an ancestor was closed (then
 * BAD_STATE), the closed reservation's pages fault in a forked child, and
 * a live parent has the closed child's range free again. */
static void close_in_order(const uint32_t order[3])
{
    cm_handle_t h[3];
    void *b[3], *p, *pages[3];
    int closed[3] = { 0, 0, 0 };
    cm_vmar_info_t vi;
    cm_ledger_info_t l0 = ledger();
    assert_status(cm_vmar_reserve(NULL, P(8), 0, &h[0], &b[0]), CM_OK);
    assert_status(cm_vmar_reserve_in(h[0], P(2), P(4), CM_VMAR_FIXED, &h[1], &b[1]), CM_OK);
    assert_status(cm_vmar_reserve_in(h[1], PG, P(2), CM_VMAR_FIXED, &h[2], &b[2]), CM_OK);
    for (uint32_t i = 0; i < 3; i++) {
        assert_status(cm_vmar_map_anon(h[i], i == 2 ? PG : 0, PG, RW | SPEC, &pages[i]), CM_OK);
        *(volatile uint8_t *)pages[i] = 0xee;
    }
    for (uint32_t k = 0; k < 3; k++) {
        assert_status(cm_handle_close(h[order[k]]), CM_OK);
        closed[order[k]] = 1;
        for (uint32_t i = 0; i < 3; i++) {
            int dead = 0;
            for (uint32_t a = 0; a <= i; a++)
                dead |= closed[a];
            if (dead) {
                assert_read_faults(pages[i]);
                continue;
            }
            assert_int_equal(in_child(read_byte, pages[i]), 3);
            assert_status(cm_vmar_get_info(h[i], &vi), CM_OK);
            assert_status(cm_vmar_map_anon(h[i], 0, PG, RW, &p), CM_OK);
            assert_status(cm_vmar_unmap(h[i], p, PG), CM_OK);
            if (i + 1 < 3 && closed[i + 1]) {
                assert_status(cm_vmar_get_info(h[i], &vi), CM_OK);
                assert_int_equal(vi.runs, 1); /* only its own anonymous page */
            }
        }
        for (uint32_t i = 0; i < 3; i++) {
            int ancestor = 0;
            for (uint32_t a = 0; a < i; a++)
                ancestor |= closed[a];
            if (!closed[i] && ancestor)
                assert_status(cm_vmar_get_info(h[i], &vi), CM_ERR_BAD_STATE);
        }
    }
    assert_ledger_same(&l0);
}

static void test_closing_root_child_grandchild_in_every_order_is_typed_and_clean(void **s)
{
    (void)s;
    static const uint32_t orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                                           { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    for (uint32_t i = 0; i < 6; i++)
        close_in_order(orders[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_child_fixed_and_hint_placement_inside_the_parent),
        LEAK_TEST(test_parent_close_unmaps_every_nested_page_and_children_are_bad_state),
        LEAK_TEST(test_child_close_returns_its_range_inaccessible_to_the_parent),
        LEAK_TEST(test_depth_limit_is_no_resources_and_counts_in_max_vmars),
        LEAK_TEST(test_anon_is_zero_filled_private_and_unmap_middle_frees_the_page),
        LEAK_TEST(test_anon_protect_split_read_only_page_faults_on_write),
        LEAK_TEST(test_unmap_vmo_over_anon_is_refused_and_unmaps_nothing),
        LEAK_TEST(test_ledger_exact_for_children_and_anon),
        LEAK_TEST(test_closing_root_child_grandchild_in_every_order_is_typed_and_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
