/* SPDX-License-Identifier: MIT */
/* Kernel selftests of the page tables behind reservations (kernel/vm.c
 * uvm_prune, kernel/as.c): table pages a range needed go back, with their
 * COMMIT charge, as soon as unmap, release or DECOMMIT leaves them empty;
 * and CM_MAP_POPULATE prefaults a reservation mapping all or nothing. */
#include <capmem/capmem.h>

#include "cmk.h"
#include "selftest.h"

#define RW (CM_MAP_READ | CM_MAP_WRITE)
#define LEAF_SPAN (2ull << 20) /* bytes one leaf table maps */
#define MID_SPAN (1ull << 30)  /* bytes one middle table maps */

/* 1 MiB below a 1 GiB boundary, far from the image, the stack and the
 * cm_vmo_map area: no table page of the process covers it yet. */
#define SPREAD_BASE 0x27fff00000ull
#define SPREAD_MAPS 40u
#define SPREAD_LEN (8 * MID_SPAN + 2 * LEAF_SPAN)

static uint64_t commit_used(void)
{
    cm_ledger_info_t l;
    if (cm_ledger_get(&l) != CM_OK)
        return UINT64_MAX;
    return l.entry[CM_LEDGER_COMMIT].used;
}

static uint64_t free_frames(void)
{
    cmk_counters_t c;
    return cmk_counters(&c) == CM_OK ? c.free_frames : 0;
}

/* Mapping i of the spread: two pages, the first at SPREAD_BASE+spot(i).
 * Spot 0 straddles the 1 GiB boundary; the others land at varied places
 * in their 2 MiB regions (some straddle one), over nine 1 GiB regions. */
static uint64_t spot(uint32_t i)
{
    return (uint64_t)i * 0xcccc000ull + 0xff000ull;
}

/* Table pages the spread's pages need: one leaf table per distinct 2 MiB
 * region, one middle table per distinct 1 GiB region (spots ascend). */
static uint64_t spread_tables(void)
{
    uint64_t tables = 0, last_leaf = UINT64_MAX, last_mid = UINT64_MAX;
    for (uint32_t i = 0; i < SPREAD_MAPS; i++) {
        for (uint64_t pg = 0; pg < 2; pg++) {
            uint64_t a = SPREAD_BASE + spot(i) + pg * PAGE;
            if (a / LEAF_SPAN != last_leaf)
                tables++;
            if (a / MID_SPAN != last_mid)
                tables++;
            last_leaf = a / LEAF_SPAN;
            last_mid = a / MID_SPAN;
        }
    }
    return tables;
}

static int map_spread(cm_handle_t r, cm_handle_t v)
{
    for (uint32_t i = 0; i < SPREAD_MAPS; i++) {
        void *p;
        CHECK_ST(cm_vmar_map(r, spot(i), v, 0, 2 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
        CHECK((uint64_t)(uintptr_t)p == SPREAD_BASE + spot(i));
    }
    return 0;
}

static void touch_spread(uint8_t val)
{
    for (uint32_t i = 0; i < SPREAD_MAPS; i++) {
        volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(SPREAD_BASE + spot(i));
        p[0] = val;
        p[PAGE] = val;
    }
}

/* Checks that COMMIT used and the free frames are what they were at
 * (used0, frames0) plus `tables` table pages. */
static int tables_charged(uint64_t used0, uint64_t frames0, uint64_t tables)
{
    uint64_t used = commit_used(), frames = free_frames();
    if (used != used0 + tables * PAGE || frames0 != frames + tables) {
        printf("# expected %lu frames more: COMMIT %ld pages more, free frames %ld fewer\n",
               (unsigned long)tables, (long)(used - used0) / (long)PAGE,
               (long)frames0 - (long)frames);
        return 1;
    }
    return 0;
}

/* Table pages return, with their COMMIT charge, when the last entry in
 * them goes, while the process lives: after unmapping every mapping of a
 * live reservation, after a DECOMMIT of the one VMO they map, and after
 * the reservation is released; five rounds, no growth. */
int test_vmar_page_table_frames_return_on_unmap_decommit_and_release(void)
{
    cm_handle_t v, r;
    void *base;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    /* Its pages (and commit-set word) committed before the baseline. */
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, 2 * PAGE), CM_OK);
    uint64_t tables = spread_tables();
    CHECK(tables > SPREAD_MAPS + 8); /* many leaf tables, nine middle ones */
    cm_ledger_info_t l0, l1;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    uint64_t used0 = commit_used(), frames0 = free_frames();
    for (int round = 0; round < 5; round++) {
        CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)SPREAD_BASE, SPREAD_LEN, CM_VMAR_FIXED, &r,
                                 &base),
                 CM_OK);
        /* Unmap of every mapping, the reservation kept. */
        CHECK(map_spread(r, v) == 0);
        CHECK(tables_charged(used0, frames0, 0) == 0); /* mapping makes no PTE */
        touch_spread(1);
        CHECK(tables_charged(used0, frames0, tables) == 0);
        for (uint32_t i = 0; i < SPREAD_MAPS; i++)
            CHECK_ST(cm_vmar_unmap(r, (void *)(uintptr_t)(SPREAD_BASE + spot(i)), 2 * PAGE),
                     CM_OK);
        CHECK(tables_charged(used0, frames0, 0) == 0);
        /* DECOMMIT of the object every PTE maps. */
        CHECK(map_spread(r, v) == 0);
        touch_spread(2);
        CHECK(tables_charged(used0, frames0, tables) == 0);
        CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, 2 * PAGE), CM_OK);
        CHECK(tables_charged(used0 - 2 * PAGE, frames0 + 2, 0) == 0);
        CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, 2 * PAGE), CM_OK);
        CHECK(tables_charged(used0, frames0, 0) == 0);
        /* Release with every page touched. */
        touch_spread(3);
        CHECK(tables_charged(used0, frames0, tables) == 0);
        CHECK_ST(cm_handle_close(r), CM_OK);
        CHECK(tables_charged(used0, frames0, 0) == 0);
        CHECK_ST(cm_ledger_get(&l1), CM_OK);
        for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
            CHECK(l1.entry[k].used == l0.entry[k].used);
    }
    uint8_t got = 0;
    CHECK_ST(cm_vmo_read(v, &got, PAGE, 1), CM_OK);
    CHECK(got == 3);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* Child: reserves 1 GiB at a new place each round, touches one page in
 * each of 32 of its 2 MiB regions (33 table pages), releases; 300 rounds
 * over 96 places under a 1024-frame COMMIT quota. Table pages kept until
 * exit would take 96 * 33 frames: the quota would end it (QUOTA_COMMIT). */
int child_vmar_table_churn(void)
{
    cm_handle_t v, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    for (uint32_t round = 0; round < 300; round++) {
        uint64_t at = (16ull + round % 96) * MID_SPAN;
        CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)at, MID_SPAN, CM_VMAR_FIXED, &r, &base),
                 CM_OK);
        for (uint64_t i = 0; i < 32; i++) {
            CHECK_ST(cm_vmar_map(r, i * 15 * LEAF_SPAN, v, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC,
                                 &p),
                     CM_OK);
            *(volatile uint32_t *)p = round;
        }
        CHECK_ST(cm_handle_close(r), CM_OK);
    }
    return 0;
}

/* Repeated reserve / touch / release cannot exhaust a process's frames:
 * the child churning table pages over 96 GiB of places lives through 300
 * rounds under a quota that kept table pages would pass in about 30. */
int test_vmar_table_churn_cannot_exhaust_commit_quota(void)
{
    cmk_counters_t c0, c1;
    cmk_quota_t q;
    cmk_exit_info_t info;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_COMMIT] = 1024 * PAGE; /* the hog tests' quota */
    CHECK(spawn_and_wait("child_vmar_table_churn", &q, 0, &info) == 0);
    if (info.reason != CMK_EXIT_NORMAL || info.code != 0)
        printf("# churn child: reason %d code %d status %s\n", (int)info.reason, info.code,
               cm_status_name(info.status));
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(c1.free_frames == c0.free_frames && c1.live_objects == c0.live_objects);
    return 0;
}

/* A 4 MiB mapping from 2 MiB below a 1 GiB boundary: two leaf tables and
 * two middle tables, none made before. */
#define POP_AT (0x2c00000000ull - LEAF_SPAN)
#define POP_PAGES 1024u
#define POP_TABLES 4u
/* The pages, their commit-set word frame (the VMO's first commit) and the
 * tables: what a populate charges to COMMIT. */
#define POP_NEEDED (POP_PAGES + 1u + POP_TABLES)

/* cm_vmar_map with CM_MAP_POPULATE commits every page and makes every PTE
 * (and the table pages they need) at map time: the charge is exactly the
 * pages, the commit-set word and four tables, and with no COMMIT room left
 * afterwards every page is read and written without a fault needing one. */
int test_vmar_populate_commits_and_maps_every_page_at_map_time(void)
{
    cm_handle_t v, r;
    void *base, *p;
    uint64_t c = 1;
    CHECK_ST(cm_vmo_create(POP_PAGES * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)POP_AT, POP_PAGES * PAGE, CM_VMAR_FIXED, &r,
                             &base),
             CM_OK);
    uint64_t used0 = commit_used(), frames0 = free_frames();
    CHECK_ST(cm_vmar_map(r, 0, v, 0, POP_PAGES * PAGE, RW | CM_MAP_POPULATE, &p), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == POP_PAGES * PAGE);
    CHECK(tables_charged(used0, frames0, POP_NEEDED) == 0);
    cm_ledger_info_t l;
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT,
                                 l.entry[CM_LEDGER_COMMIT].used + l.entry[CM_LEDGER_COMMIT].given),
             CM_OK);
    volatile uint32_t *w = p;
    for (uint32_t i = 0; i < POP_PAGES; i++) {
        CHECK(w[i * PAGE / 4] == 0);
        w[i * PAGE / 4 + 1] = i;
    }
    CHECK(tables_charged(used0, frames0, POP_NEEDED) == 0);
    uint32_t got = 0;
    CHECK_ST(cm_vmo_read(v, &got, (POP_PAGES - 1) * PAGE + 4, 4), CM_OK);
    CHECK(got == POP_PAGES - 1);
    /* A read-only populate: the same pages, no new commit. */
    CHECK_ST(cm_vmar_unmap(r, p, POP_PAGES * PAGE), CM_OK);
    CHECK(tables_charged(used0, frames0, POP_PAGES + 1) == 0);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, POP_PAGES * PAGE, CM_MAP_READ | CM_MAP_POPULATE, &p),
             CM_OK);
    CHECK(tables_charged(used0, frames0, POP_NEEDED) == 0);
    CHECK(((volatile uint32_t *)p)[(POP_PAGES - 1) * PAGE / 4 + 1] == POP_PAGES - 1);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK(tables_charged(used0, frames0, POP_PAGES + 1) == 0); /* the VMO keeps its pages */
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* One populate attempt with `room` pages of COMMIT room: all of it or
 * nothing (no mapping, no commit, no table page, the ledger and the frame
 * count as before). */
static int populate_with_room(uint64_t room)
{
    cm_handle_t v, r;
    void *base, *p = 0;
    uint64_t c = 1;
    cm_mapping_info_t mi;
    cm_vmar_info_t vi;
    CHECK_ST(cm_vmo_create(POP_PAGES * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)POP_AT, POP_PAGES * PAGE, CM_VMAR_FIXED, &r,
                             &base),
             CM_OK);
    cm_ledger_info_t l0, l1;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    uint64_t frames0 = free_frames();
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT, l0.entry[CM_LEDGER_COMMIT].used +
                                                       l0.entry[CM_LEDGER_COMMIT].given +
                                                       room * PAGE),
             CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_status_t want = room >= POP_NEEDED ? CM_OK : CM_ERR_QUOTA_COMMIT;
    CHECK_ST(cm_vmar_map(r, 0, v, 0, POP_PAGES * PAGE, RW | CM_MAP_POPULATE, &p), want);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &vi), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    if (want == CM_OK) {
        CHECK(c == POP_PAGES * PAGE && vi.mappings == 1);
        CHECK(tables_charged(l0.entry[CM_LEDGER_COMMIT].used, frames0, POP_NEEDED) == 0);
    } else {
        CHECK(c == 0 && vi.mappings == 0 && vi.mapped_bytes == 0 && vi.runs == 0);
        CHECK_ST(cm_mapping_get_info(base, &mi), CM_ERR_NOT_FOUND);
        for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
            CHECK(l1.entry[k].used == l0.entry[k].used);
        CHECK(free_frames() == frames0);
        /* The reservation is intact: a plain map there works. */
        CHECK_ST(cm_vmar_map(r, 0, v, 0, PAGE, CM_MAP_READ, &p), CM_OK);
        CHECK(p == base);
    }
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* With less COMMIT room than a populate needs, cm_vmar_map is
 * QUOTA_COMMIT and leaves nothing: room for none, for some of the table
 * pages, for the tables but not the pages, for all but one frame. With
 * exactly enough it succeeds. Limits only go down, so the largest first. */
int test_vmar_populate_over_commit_quota_maps_and_charges_nothing(void)
{
    static const uint64_t rooms[] = { POP_NEEDED,      POP_NEEDED - 1, POP_TABLES + 1,
                                      POP_TABLES,      POP_TABLES - 1, 2,
                                      1,               0 };
    for (uint32_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
        if (populate_with_room(rooms[i]) != 0) {
            printf("# with room for %lu frames\n", (unsigned long)rooms[i]);
            return 1;
        }
    }
    return 0;
}

/* A kernel copy into a reservation page not faulted in yet, with COMMIT
 * room for the middle table page but not the leaf one: the copy is a
 * typed error and the middle table made on the way is freed with its
 * charge (no table page stays charged for a mapping that failed). */
int test_vmar_copy_into_unfaulted_page_without_table_room_charges_nothing(void)
{
    cm_handle_t v, r, a, b;
    void *base, *p;
    uint32_t nb = 0, nh = 0;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, PAGE), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "table", 5, NULL, 0), CM_OK);
    /* A 1 GiB region no table page covers yet. */
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)0x3400000000ull, PAGE, CM_VMAR_FIXED, &r, &base),
             CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, PAGE, RW, &p), CM_OK);
    cm_ledger_info_t l0, l1;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    uint64_t frames0 = free_frames();
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT, l0.entry[CM_LEDGER_COMMIT].used +
                                                       l0.entry[CM_LEDGER_COMMIT].given + PAGE),
             CM_OK);
    CHECK(cm_channel_read(b, p, 64, &nb, NULL, 0, &nh) != CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_COMMIT].used == l0.entry[CM_LEDGER_COMMIT].used);
    CHECK(free_frames() == frames0);
    char got[8] = { 0 };
    CHECK_ST(cm_channel_read(b, got, sizeof(got), &nb, NULL, 0, &nh), CM_OK); /* not consumed */
    CHECK(nb == 5);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}
