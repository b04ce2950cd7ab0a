/* SPDX-License-Identifier: MIT */
/* Kernel selftests of reservations, demand commit and decommit
 * (include/capmem/vmar.h; kernel/object/vmar.c, kernel/object/vmo.c):
 * what the conformance cases cannot see from the public API alone, the
 * kernel's page tables, frames and ledger, and faults that end a process. */
#include <capmem/capmem.h>

#include "cmk.h"
#include "selftest.h"

#define RW (CM_MAP_READ | CM_MAP_WRITE)
#define SECOND_NS (1000ll * 1000 * 1000)
/* A fixed place for the ledger tests: the same range each time, so the
 * page-table frames it needs are made once and then reused. */
#define FIXED_AT ((void *)(uintptr_t)0x3000000000ull)

static int same_used(const cm_ledger_info_t *a, const cm_ledger_info_t *b)
{
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        if (a->entry[k].used != b->entry[k].used) {
            printf("# ledger %s: used %lu -> %lu\n", cm_ledger_kind_name((cm_ledger_kind_t)k),
                   (unsigned long)a->entry[k].used, (unsigned long)b->entry[k].used);
            return 0;
        }
    }
    return 1;
}

static int same_counters(const cmk_counters_t *a, const cmk_counters_t *b)
{
    if (a->free_frames == b->free_frames && a->live_objects == b->live_objects &&
        a->live_procs == b->live_procs)
        return 1;
    printf("# counters: frames %lu -> %lu, objects %lu -> %lu, procs %lu -> %lu\n",
           (unsigned long)a->free_frames, (unsigned long)b->free_frames,
           (unsigned long)a->live_objects, (unsigned long)b->live_objects,
           (unsigned long)a->live_procs, (unsigned long)b->live_procs);
    return 0;
}

/* Fixed, no replace: over a reservation, over the program image, and
 * outside the user window, each with its typed error and nothing changed. */
int test_vmar_fixed_no_replace_over_image_and_reservation_typed(void)
{
    cm_handle_t r, r2;
    void *base, *b2;
    CHECK_ST(cm_vmar_reserve(0, 4 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve((char *)base + PAGE, PAGE, CM_VMAR_FIXED, &r2, &b2),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)CMK_USER_IMAGE_BASE, PAGE, CM_VMAR_FIXED, &r2,
                             &b2),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)0x1000, PAGE, CM_VMAR_FIXED, &r2, &b2),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmar_reserve((void *)(uintptr_t)0x4000000000ull, PAGE, CM_VMAR_FIXED, &r2, &b2),
             CM_ERR_OUT_OF_RANGE);
    cm_vmar_info_t info;
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.mapped_bytes == 0 && info.runs == 0 && info.mappings == 0);
    /* A VMAR handle is not a VMO handle and cannot be unmapped as a cm_vmo_map. */
    CHECK_ST(cm_vmo_unmap(base, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_ERR_BAD_HANDLE);
    return 0;
}

/* Unmap and protect split runs; the page table follows the rules: a page
 * protected read-only takes reads and keeps its bytes, and the runs merge
 * back when the protection is restored. */
int test_vmar_unmap_and_protect_split_runs(void)
{
    cm_handle_t v, r;
    void *base, *p;
    cm_vmar_info_t info;
    CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 4 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 4 * PAGE, RW, &p), CM_OK);
    volatile uint8_t *b = p;
    for (int i = 0; i < 4; i++)
        b[i * PAGE] = (uint8_t)(0x10 + i);
    CHECK_ST(cm_vmar_protect(r, (char *)p + PAGE, PAGE, CM_MAP_READ), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 3 && info.mappings == 1 && info.mapped_bytes == 4 * PAGE);
    CHECK(b[PAGE] == 0x11);
    CHECK_ST(cm_vmar_protect(r, (char *)p + PAGE, PAGE, RW), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 1);
    b[PAGE] = 0x21;
    CHECK_ST(cm_vmar_unmap(r, (char *)p + 2 * PAGE, PAGE), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 2 && info.mappings == 1 && info.mapped_bytes == 3 * PAGE);
    CHECK_ST(cm_vmar_protect(r, p, 4 * PAGE, CM_MAP_READ), CM_ERR_NOT_FOUND);
    cm_mapping_info_t mi;
    CHECK_ST(cm_mapping_get_info((char *)p + 2 * PAGE, &mi), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_mapping_get_info((char *)p + 3 * PAGE, &mi), CM_OK);
    CHECK(mi.object_offset == 3 * PAGE && mi.map_len == PAGE);
    uint8_t got = 0;
    CHECK_ST(cm_vmo_read(v, &got, PAGE, 1), CM_OK);
    CHECK(got == 0x21);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* Decommit frees the frames, removes the page-table entries of every
 * mapping of the range (a cm_vmo_map and a reservation mapping), and a
 * later read through either sees zeros; a write commits one page again. */
int test_decommit_frees_frames_and_every_mapping_reads_zero(void)
{
    cm_handle_t v, r;
    void *base, *p, *q;
    uint64_t c;
    cmk_counters_t k0, k1;
    CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, 4 * PAGE, RW, &p), CM_OK); /* commits its range */
    CHECK_ST(cm_vmar_reserve(0, 4 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 4 * PAGE, RW, &q), CM_OK);
    volatile uint8_t *a = p, *b = q;
    for (int i = 0; i < 4; i++)
        a[i * PAGE + 7] = 0xab;
    CHECK(b[2 * PAGE + 7] == 0xab && b[3 * PAGE + 7] == 0xab); /* same frames */
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 4 * PAGE);
    CHECK_ST(cmk_counters(&k0), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 2 * PAGE, 2 * PAGE), CM_OK);
    CHECK_ST(cmk_counters(&k1), CM_OK);
    CHECK(k1.free_frames == k0.free_frames + 2);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 2 * PAGE);
    CHECK(a[2 * PAGE + 7] == 0 && b[3 * PAGE + 7] == 0); /* faults commit zeroed pages */
    CHECK(a[PAGE + 7] == 0xab);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 4 * PAGE);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, 4 * PAGE), CM_OK);
    b[PAGE] = 5; /* a write through the reservation commits one page */
    CHECK(a[PAGE] == 5);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == PAGE);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_vmo_unmap(p, 4 * PAGE), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* The committed count stays exact under overlapping COMMIT/DECOMMIT and
 * no-access protection, and a kernel-made (pinned) object refuses DECOMMIT. */
int test_committed_count_exact_under_partial_decommit(void)
{
    cm_handle_t v, r;
    void *base, *p;
    uint64_t c;
    CHECK_ST(cm_vmo_create(100 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 10 * PAGE, 50 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 20 * PAGE, 5 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, 12 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 58 * PAGE, 4 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == (50 - 5 - 2 + 2) * PAGE);
    CHECK_ST(cm_vmar_reserve(0, 100 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 100 * PAGE, RW, &p), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 45 * PAGE); /* mapping commits nothing */
    CHECK_ST(cm_vmar_protect(r, p, 100 * PAGE, 0), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 45 * PAGE);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 99 * PAGE, 2 * PAGE), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 45 * PAGE);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* Provenance: unmap_vmo naming another object removes nothing, even one
 * that has the same contents or is mapped next door. */
int test_unmap_vmo_of_another_object_removes_nothing(void)
{
    cm_handle_t a, b, ra, r;
    void *base, *pa, *pb;
    CHECK_ST(cm_vmo_create(PAGE, 0, &a), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &b), CM_OK);
    CHECK_ST(cm_handle_duplicate(a, CM_RIGHT_READ, &ra), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 2 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, a, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &pa), CM_OK);
    CHECK_ST(cm_vmar_map(r, PAGE, b, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &pb), CM_OK);
    *(volatile uint8_t *)pa = 9;
    CHECK_ST(cm_vmar_unmap_vmo(r, b, pa, PAGE), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_vmar_unmap_vmo(r, r, pa, PAGE), CM_ERR_WRONG_TYPE);
    CHECK(*(volatile uint8_t *)pa == 9);
    cm_vmar_info_t info;
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.mappings == 2 && info.mapped_bytes == 2 * PAGE);
    CHECK_ST(cm_vmar_unmap_vmo(r, ra, pa, PAGE), CM_OK); /* any handle, no right */
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.mappings == 1);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(ra), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

static int reserve_map_touch_close(void)
{
    cm_handle_t v, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(8 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(FIXED_AT, 16 * PAGE, CM_VMAR_FIXED, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 4 * PAGE, v, 0, 8 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    for (int i = 0; i < 8; i++)
        ((volatile uint8_t *)p)[i * PAGE] = 1;
    CHECK_ST(cm_vmar_unmap(r, (char *)p + PAGE, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK); /* the mapping keeps it */
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

/* Closing the reservation returns every frame, object and ledger charge
 * (the page-table frames of the range stay with the address space until
 * it ends, so the run is made once first). */
int test_vmar_close_returns_ledger_and_frames(void)
{
    cm_ledger_info_t l0, l1;
    cmk_counters_t c0, c1;
    CHECK(reserve_map_touch_close() == 0);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(reserve_map_touch_close() == 0);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(same_used(&l0, &l1));
    CHECK(same_counters(&c0, &c1));
    return 0;
}

/* Child: holds a reservation with committed pages, then waits to be killed. */
int child_vmar_holder(void)
{
    cm_handle_t v, r, a, b;
    void *base, *p;
    CHECK_ST(cm_vmo_create(8 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 64 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 8 * PAGE, RW, &p), CM_OK);
    CHECK_ST(cm_vmar_map(r, 32 * PAGE, v, 4 * PAGE, 4 * PAGE, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC,
                         &p),
             CM_OK);
    for (int i = 0; i < 8; i++)
        ((volatile uint8_t *)base)[i * PAGE] = 1;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    cmk_counters_t c;
    (void)cmk_counters(&c);
    cm_channel_wait_readable(a, CM_TIMEOUT_INFINITE);
    return 3;
}

/* Child: maps a VMO into a reservation and touches pages until the fault
 * cannot be committed under its COMMIT quota. */
int child_vmar_fault_over_quota(void)
{
    cm_handle_t v, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(2048 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 2048 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 2048 * PAGE, RW, &p), CM_OK);
    for (int i = 0; i < 2048; i++)
        ((volatile uint8_t *)p)[i * PAGE] = 1;
    return 0; /* the quota did not stop it */
}

/* Child: touches a no-access page of its reservation. */
int child_vmar_touch_no_access(void)
{
    cm_handle_t v, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 2 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, PAGE, RW, &p), CM_OK);
    CHECK_ST(cm_vmar_protect(r, p, PAGE, 0), CM_OK);
    (void)*(volatile uint8_t *)p;
    return 0;
}

int spawn_and_wait(const char *what, const cmk_quota_t *q, int kill, cmk_exit_info_t *info)
{
    cm_handle_t proc;
    const char *args[1] = { what };
    CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, q, &proc) > 0);
    if (kill) {
        CHECK_ST(cmk_proc_wait(proc, 50ll * 1000 * 1000, info), CM_ERR_TIMED_OUT);
        CHECK_ST(cmk_proc_kill(proc), CM_OK);
    }
    CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, info), CM_OK);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    return 0;
}

/* Killing a process that holds reservations with committed, mapped pages
 * returns everything: frames, objects, the parent's ledger. */
/* Runs child `what` (killed if kill) and checks it ended with `reason`
 * (and, exiting, with `code`) and left this process's ledger and the
 * kernel's counters as they were. */
static int child_leaves_nothing(const char *what, int kill, uint32_t reason, int32_t code)
{
    cm_ledger_info_t l0, l1;
    cmk_counters_t c0, c1;
    cmk_exit_info_t info;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(spawn_and_wait(what, NULL, kill, &info) == 0);
    CHECK(info.reason == reason && (kill || info.code == code));
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(same_used(&l0, &l1));
    CHECK(same_counters(&c0, &c1));
    return 0;
}

int test_vmar_kill_returns_ledger_and_frames(void)
{
    return child_leaves_nothing("child_vmar_holder", 1, CMK_EXIT_KILLED, 0);
}

/* A fault that cannot be committed ends the process with QUOTA_COMMIT, and
 * touching a no-access page with ACCESS_DENIED; the parent reads both. */
int test_vmar_fault_deaths_are_typed(void)
{
    cmk_exit_info_t info;
    cmk_counters_t c0, c1;
    cmk_quota_t q;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_COMMIT] = 1024 * PAGE; /* the hog tests' quota */
    CHECK(spawn_and_wait("child_vmar_fault_over_quota", &q, 0, &info) == 0);
    CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 15);
    CHECK(info.status == CM_ERR_QUOTA_COMMIT);
    CHECK(spawn_and_wait("child_vmar_touch_no_access", NULL, 0, &info) == 0);
    CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 13);
    CHECK(info.status == CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(same_counters(&c0, &c1));
    return 0;
}

/* ---- nested reservations and anonymous mappings ---- */

static uint64_t commit_used(void)
{
    cm_ledger_info_t l;
    if (cm_ledger_get(&l) != CM_OK)
        return 0;
    return l.entry[CM_LEDGER_COMMIT].used;
}

/* An anonymous page costs one COMMIT frame at first touch, not before, and
 * gives it back when unmapped, while the rest of the mapping keeps its
 * pages; closing the root returns every charge and frame (the page-table
 * frames of FIXED_AT are made by the first round). */
static int nested_anon_round(int check)
{
    cm_handle_t r, c;
    void *base, *cb, *p;
    CHECK_ST(cm_vmar_reserve(FIXED_AT, 16 * PAGE, CM_VMAR_FIXED, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 4 * PAGE, 8 * PAGE, CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, 0, 4 * PAGE, RW, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 1; /* the leaf table, if new, and one page */
    uint64_t c1 = commit_used();
    for (int i = 1; i < 4; i++) {
        CHECK(((volatile uint8_t *)p)[i * PAGE + 5] == 0);
        ((volatile uint8_t *)p)[i * PAGE] = (uint8_t)i;
    }
    uint64_t c2 = commit_used();
    CHECK_ST(cm_vmar_unmap(c, (char *)p + PAGE, 2 * PAGE), CM_OK);
    uint64_t c3 = commit_used();
    CHECK(((volatile uint8_t *)p)[3 * PAGE] == 3);
    if (check) {
        CHECK(c2 == c1 + 3 * PAGE);
        CHECK(c3 == c2 - 2 * PAGE);
    }
    CHECK_ST(cm_handle_close(r), CM_OK);
    cm_vmar_info_t info;
    CHECK_ST(cm_vmar_get_info(c, &info), CM_ERR_BAD_STATE);
    CHECK_ST(cm_handle_close(c), CM_OK);
    return 0;
}

int test_vmar_anon_commit_charged_at_touch_and_returned(void)
{
    cm_ledger_info_t l0, l1;
    cmk_counters_t c0, c1;
    CHECK(nested_anon_round(0) == 0);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(nested_anon_round(1) == 0);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(same_used(&l0, &l1));
    CHECK(same_counters(&c0, &c1));
    return 0;
}

/* Child: a nested reservation with committed anonymous pages and a VMO
 * mapping; exits without closing anything (exit) or waits to be killed. */
static int nested_anon_hold(void)
{
    cm_handle_t v, r, c, g;
    void *base, *cb, *gb, *p;
    CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 64 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 8 * PAGE, 32 * PAGE, CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(c, 0, 16 * PAGE, 0, &g, &gb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(g, 0, 16 * PAGE, RW, &p), CM_OK);
    for (int i = 0; i < 16; i++)
        ((volatile uint8_t *)p)[i * PAGE] = 1;
    CHECK_ST(cm_vmar_map(c, 16 * PAGE, v, 0, 4 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 1;
    CHECK_ST(cm_vmar_map_anon(r, 0, 4 * PAGE, RW, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 1;
    return 0;
}

int child_vmar_nested_anon_exit(void)
{
    return nested_anon_hold() == 0 ? 5 : 1;
}

int child_vmar_nested_anon_holder(void)
{
    cm_handle_t a, b;
    if (nested_anon_hold() != 0)
        return 1;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    cm_channel_wait_readable(a, CM_TIMEOUT_INFINITE);
    return 3;
}

/* A process that exits, or is killed, holding nested reservations with
 * committed anonymous pages gives back every frame, object and charge. */
int test_vmar_nested_anon_exit_and_kill_return_frames(void)
{
    CHECK(child_leaves_nothing("child_vmar_nested_anon_exit", 0, CMK_EXIT_NORMAL, 5) == 0);
    CHECK(child_leaves_nothing("child_vmar_nested_anon_holder", 1, CMK_EXIT_KILLED, 0) == 0);
    return 0;
}
