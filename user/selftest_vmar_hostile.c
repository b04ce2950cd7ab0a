/* SPDX-License-Identifier: MIT */
/* Kernel selftests: a hostile process attacks the memory-authority calls
 * (reservations, op_range, ledgers, process handles) with raw syscalls and
 * extreme arguments. Each attack gets a typed error, never a panic or a
 * hang, and afterwards the counters and this process's ledger are where
 * they were (docs/memory-model.md "Hostile callers"). */
#include <string.h>

#include "cmk.h"
#include "selftest.h"
#include "sys.h"

#define SECOND_NS (1000ll * 1000 * 1000)
#define RW (CM_MAP_READ | CM_MAP_WRITE)
#define KADDR 0xffffffc080200000ull /* a kernel address */
#define BIG UINT64_MAX

/* selftest.h */
int same_state(const cmk_counters_t *c0, const cm_ledger_info_t *l0)
{
    cmk_counters_t c;
    cm_ledger_info_t l;
    uint64_t end = now_ticks() + 2000 * TICKS_PER_MS;
    do {
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
        CHECK_ST(cmk_counters(&c), CM_OK);
    } while (!(c.live_procs == c0->live_procs && c.live_objects == c0->live_objects &&
               c.free_frames == c0->free_frames) &&
             now_ticks() < end);
    if (c.live_procs != c0->live_procs || c.live_objects != c0->live_objects ||
        c.free_frames != c0->free_frames || c.live_msgs != c0->live_msgs) {
        printf("# counters: frames %lu -> %lu, objects %lu -> %lu, procs %lu -> %lu\n",
               (unsigned long)c0->free_frames, (unsigned long)c.free_frames,
               (unsigned long)c0->live_objects, (unsigned long)c.live_objects,
               (unsigned long)c0->live_procs, (unsigned long)c.live_procs);
        return 1;
    }
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        if (l.entry[k].used != l0->entry[k].used || l.entry[k].given != l0->entry[k].given ||
            l.entry[k].limit != l0->entry[k].limit) {
            printf("# ledger %s: used %lu -> %lu given %lu -> %lu\n",
                   cm_ledger_kind_name((cm_ledger_kind_t)k), (unsigned long)l0->entry[k].used,
                   (unsigned long)l.entry[k].used, (unsigned long)l0->entry[k].given,
                   (unsigned long)l.entry[k].given);
            return 1;
        }
    }
    return 0;
}

#define ST(call) ((cm_status_t)(call))

/* Makes the page-table frames of the place the next 8-page reservation
 * lands (first fit: the same place each time) once, before the counters
 * are read; they stay with the address space. */
static int warm(void)
{
    cm_handle_t v, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(8 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 8 * PAGE, RW, &p), CM_OK);
    for (int i = 0; i < 8; i++)
        ((volatile uint8_t *)p)[i * PAGE] = 1;
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* Every reservation, op_range, ledger and process-handle syscall with
 * extreme arguments: wrapping ranges, kernel and unaligned addresses, zero
 * and huge lengths, handles of the wrong type, stale handles. */
int test_vmar_raw_syscalls_with_hostile_arguments_typed(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK(warm() == 0);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_handle_t v, r, h;
    void *base, *p;
    uint64_t out64 = 0;
    CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    uint64_t b = (uint64_t)(uintptr_t)base;
    /* reserve */
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, 0, 0, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, BIG, 0, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, BIG - PAGE + 1, 0, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE + 1, 0, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, BIG - PAGE + 1, 2 * PAGE, CM_VMAR_FIXED, &h,
                      &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, KADDR, PAGE, CM_VMAR_FIXED, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0x3000000001ull, PAGE, CM_VMAR_FIXED, &h, &out64)) !=
          CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE, 0xffffffffull, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE, 1ull << 40, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE, 0, 0, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE, 0, KADDR, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE, 0, &h, KADDR)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, 0, PAGE, 0, &h, b)) != CM_OK); /* unmapped out */
    /* The stack, the image and the start page: FIXED over them is refused. */
    uint64_t sp = (uint64_t)(uintptr_t)&out64 & ~(uint64_t)(PAGE - 1);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, sp, PAGE, CM_VMAR_FIXED, &h, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, CMK_USER_IMAGE_BASE, PAGE, CM_VMAR_FIXED, &h,
                      &out64)) != CM_OK);
    uint64_t code = (uint64_t)(uintptr_t)&test_vmar_raw_syscalls_with_hostile_arguments_typed &
                    ~(uint64_t)(PAGE - 1);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, code, PAGE, CM_VMAR_FIXED, &h, &out64)) != CM_OK);
    /* map: wrong types, stale, wrapping offsets */
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, v, 0, v, 0, PAGE, RW, &out64)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, r, 0, PAGE, RW, &out64)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, 0, 0, v, 0, PAGE, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, BIG, 0, v, 0, PAGE, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, BIG - PAGE + 1, v, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC,
                      &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 7 * PAGE, v, 0, 2 * PAGE, RW | CM_VMAR_MAP_SPECIFIC,
                      &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, BIG - PAGE + 1, 2 * PAGE, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 3 * PAGE, 2 * PAGE, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 0, 0, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 0, BIG, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 1, v, 0, PAGE, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 1, PAGE, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 0, PAGE, 0xffffffffull, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 0, PAGE, RW, KADDR)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 0, PAGE, RW, 0)) != CM_OK);
    /* reserve_in / map_anon: wrong types, wrapping, kernel out pointers */
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, v, 0, PAGE, 0, &h, &out64, 0)) ==
          CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, BIG, 0, PAGE, 0, &h, &out64, 0)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, BIG - PAGE + 1, 2 * PAGE, CM_VMAR_FIXED, &h,
                      &out64, 0)) == CM_ERR_OUT_OF_RANGE);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, PAGE, BIG - PAGE + 1, CM_VMAR_FIXED, &h,
                      &out64, 0)) == CM_ERR_OUT_OF_RANGE);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, 0, BIG, 0, &h, &out64, 0)) != CM_OK);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, 0, PAGE, 1ull << 40, &h, &out64, 0)) ==
          CM_ERR_INVALID_ARGS);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, 0, PAGE, 0, KADDR, &out64, 0)) ==
          CM_ERR_INVALID_ARGS);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, 0, PAGE, 0, &h, KADDR, 0)) ==
          CM_ERR_INVALID_ARGS);
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_RESERVE_IN, r, 0, PAGE, 0, &h, b, 0)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, v, 0, PAGE, RW, &out64)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, r, BIG - PAGE + 1, 2 * PAGE,
                      RW | CM_VMAR_MAP_SPECIFIC, &out64)) == CM_ERR_OUT_OF_RANGE);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, r, 0, BIG - PAGE + 1, RW, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, r, 0, PAGE, 0xffffffffull, &out64)) != CM_OK);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, r, 0, PAGE, RW, KADDR)) == CM_ERR_INVALID_ARGS);
    CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_MAP_ANON, r, 0, PAGE, RW, b)) != CM_OK);
    /* unmap / protect / get_info: wrapping, outside, unaligned */
    CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, r, BIG - PAGE + 1, 2 * PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, r, b + 1, PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, r, b, 0)) != CM_OK);
    CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, r, b - PAGE, 2 * PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, r, KADDR, PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, v, b, PAGE)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMAR_UNMAP_VMO, r, r, b, PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMAR_UNMAP_VMO, r, v, BIG - PAGE + 1, 2 * PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMAR_PROTECT, r, BIG - PAGE + 1, 2 * PAGE, CM_MAP_READ)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMAR_PROTECT, r, b, BIG, CM_MAP_READ)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMAR_PROTECT, r, b, PAGE, 0xffffffffull)) != CM_OK);
    CHECK(ST(CMK_SYS2(CMK_SYS_VMAR_GET_INFO, r, KADDR)) != CM_OK);
    CHECK(ST(CMK_SYS2(CMK_SYS_VMAR_GET_INFO, r, 0)) != CM_OK);
    CHECK(ST(CMK_SYS2(CMK_SYS_VMAR_GET_INFO, v, &out64)) != CM_OK);
    cm_mapping_info_t mi;
    CHECK(ST(CMK_SYS2(CMK_SYS_MAPPING_GET_INFO, KADDR, &mi)) == CM_ERR_NOT_FOUND);
    CHECK(ST(CMK_SYS2(CMK_SYS_MAPPING_GET_INFO, BIG, &mi)) == CM_ERR_NOT_FOUND);
    CHECK(ST(CMK_SYS2(CMK_SYS_MAPPING_GET_INFO, b, KADDR)) != CM_OK);
    /* op_range / get_committed */
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, v, 0xffffffffull, 0, PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, v, BIG, 0, PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, v, CM_VMO_OP_DECOMMIT, BIG - PAGE + 1, 2 * PAGE)) !=
          CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, v, CM_VMO_OP_COMMIT, PAGE, BIG)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, v, CM_VMO_OP_COMMIT, 4 * PAGE, PAGE)) != CM_OK);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, r, CM_VMO_OP_COMMIT, 0, PAGE)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS2(CMK_SYS_VMO_GET_COMMITTED, v, KADDR)) != CM_OK);
    CHECK(ST(CMK_SYS2(CMK_SYS_VMO_GET_COMMITTED, r, &out64)) == CM_ERR_WRONG_TYPE);
    /* ledger */
    CHECK(ST(CMK_SYS1(CMK_SYS_LEDGER_GET, KADDR)) != CM_OK);
    CHECK(ST(CMK_SYS1(CMK_SYS_LEDGER_GET, b)) != CM_OK);
    CHECK(ST(CMK_SYS2(CMK_SYS_LEDGER_SET_LIMIT, BIG, 0)) == CM_ERR_OUT_OF_RANGE);
    CHECK(ST(CMK_SYS2(CMK_SYS_LEDGER_SET_LIMIT, 1ull << 32, 0)) == CM_ERR_OUT_OF_RANGE);
    CHECK(ST(CMK_SYS2(CMK_SYS_LEDGER_SET_LIMIT, CM_LEDGER_VMOS, BIG)) == CM_ERR_ACCESS_DENIED);
    CHECK(ST(CMK_SYS2(CMK_SYS_LEDGER_SET_LIMIT, CM_LEDGER_VMOS, 0)) == CM_ERR_BAD_STATE);
    /* process handles of the wrong type */
    cmk_exit_info_t info;
    CHECK(ST(CMK_SYS3(CMK_SYS_PROC_WAIT, v, 0, &info)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS1(CMK_SYS_PROC_KILL, v)) == CM_ERR_WRONG_TYPE);
    CHECK(ST(CMK_SYS1(CMK_SYS_PROC_KILL, 0)) != CM_OK);
    CHECK(ST(CMK_SYS3(CMK_SYS_PROC_WAIT, BIG, 0, &info)) != CM_OK);
    /* A real mapping still works after all that, then everything goes. */
    CHECK_ST(cm_vmar_map(r, 0, v, 0, 4 * PAGE, RW, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 1;
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    /* stale handles */
    CHECK(ST(CMK_SYS7(CMK_SYS_VMAR_MAP, r, 0, v, 0, PAGE, RW, &out64)) == CM_ERR_BAD_HANDLE);
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, v, CM_VMO_OP_COMMIT, 0, PAGE)) == CM_ERR_BAD_HANDLE);
    return same_state(&c0, &l0);
}

/* A mapped VMO: closing its handle keeps the mapping, shrinking below a
 * mapped page is refused, sealing immutable under a writable mapping is
 * refused; after unmap all three work. */
int test_vmar_mapped_vmo_close_shrink_seal_typed(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK(warm() == 0);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_handle_t v, d, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHTS_SAME, &d), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 4 * PAGE, v, 0, 4 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    volatile uint8_t *b = p;
    b[3 * PAGE] = 7;
    CHECK(cm_vmo_set_size(d, PAGE) != CM_OK);
    CHECK(cm_vmo_seal(d, CM_SEAL_IMMUTABLE) != CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK(b[3 * PAGE] == 7);
    b[2 * PAGE] = 9; /* a demand fault after the handle closed */
    CHECK_ST(cm_vmar_unmap(r, p, 4 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_set_size(d, PAGE), CM_OK);
    CHECK_ST(cm_vmo_seal(d, CM_SEAL_IMMUTABLE), CM_OK);
    /* A sealed object: writable map refused, DECOMMIT refused. */
    CHECK(cm_vmar_map(r, 0, d, 0, PAGE, RW, &p) != CM_OK);
    CHECK(cm_vmo_op_range(d, CM_VMO_OP_DECOMMIT, 0, PAGE) != CM_OK);
    CHECK_ST(cm_handle_close(d), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    return same_state(&c0, &l0);
}

/* Child: reserves one page at a time until refused, reports the count and
 * status on its startup channel, then holds them until killed. */
int child_vmar_reserve_hog(void)
{
    cm_handle_t ch = cmk_startup_handle(0);
    int32_t rep[2] = { CM_OK, 0 };
    while (rep[1] < 4096) {
        cm_handle_t r;
        void *base;
        rep[0] = cm_vmar_reserve(0, PAGE, 0, &r, &base);
        if (rep[0] != CM_OK)
            break;
        rep[1]++;
    }
    CHECK_ST(cm_channel_write(ch, rep, sizeof(rep), NULL, 0), CM_OK);
    cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE);
    return 3;
}

/* Two hostile children each reserve until refused: each is stopped at its
 * own share, and this process can still reserve (the kernel's reservation
 * pool is carved like every other pool: no process can exhaust a pool
 * another process needs). */
int test_vmar_reservation_pool_hogs_leave_others_room(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_handle_t mine[3], theirs[3], proc[3];
    const char *args[1] = { "child_vmar_reserve_hog" };
    for (int i = 0; i < 3; i++) {
        CHECK_ST(cm_channel_create(0, &mine[i], &theirs[i]), CM_OK);
        CHECK(cmk_spawn_ex("selftest", args, 1, &theirs[i], 1, CMK_ROLE_MAIN, NULL, &proc[i]) >
              0);
        int32_t rep[2];
        uint32_t nb, nh;
        CHECK_ST(cm_channel_wait_readable(mine[i], 10 * SECOND_NS), CM_OK);
        CHECK_ST(cm_channel_read(mine[i], rep, sizeof(rep), &nb, NULL, 0, &nh), CM_OK);
        printf("# reservation hog %d: %d made, then %s\n", i, (int)rep[1],
               cm_status_name((cm_status_t)rep[0]));
        CHECK(rep[1] > 0);
        CHECK(rep[0] == CM_ERR_NO_RESOURCES);
    }
    cm_handle_t r;
    void *base;
    CHECK_ST(cm_vmar_reserve(0, PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    for (int i = 0; i < 3; i++) {
        cmk_exit_info_t info;
        CHECK_ST(cmk_proc_kill(proc[i]), CM_OK);
        CHECK_ST(cmk_proc_wait(proc[i], 5 * SECOND_NS, &info), CM_OK);
        CHECK(info.reason == CMK_EXIT_KILLED);
        CHECK_ST(cmk_proc_wait(proc[i], 0, &info), CM_OK); /* twice: the record */
        CHECK_ST(cmk_proc_kill(proc[i]), CM_OK);           /* dead: nothing */
        CHECK_ST(cm_handle_close(proc[i]), CM_OK);
        CHECK_ST(cm_handle_close(mine[i]), CM_OK);
    }
    return same_state(&c0, &l0);
}

/* Quota tables at the extremes: above the room, overflowing, zero in each
 * kind. Each spawn starts a child or fails typed, and every charge comes
 * back. */
int test_spawn_quota_extremes_typed_and_returned(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    const char *args[1] = { "child_spin_then_exit" };
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        uint64_t vals[3] = { 0, BIG - 1, l0.entry[k].limit };
        for (int j = 0; j < 3; j++) {
            cmk_quota_t q;
            cm_handle_t proc;
            cmk_quota_defaults(&q);
            q.limit[k] = vals[j];
            int32_t pid = cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &q, &proc);
            if (pid > 0) {
                cmk_exit_info_t info;
                CHECK_ST(cmk_proc_kill(proc), CM_OK);
                CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, &info), CM_OK);
                CHECK_ST(cm_handle_close(proc), CM_OK);
            } else {
                cm_status_t st = (cm_status_t)pid;
                CHECK(st == CM_ERR_NO_RESOURCES || st == CM_ERR_QUOTA_COMMIT ||
                      st == CM_ERR_QUOTA_VIRTUAL || st == CM_ERR_INVALID_ARGS);
            }
        }
    }
    return same_state(&c0, &l0);
}

/* Child: maps the VMO it was given, tells the parent the word is ready and
 * sleeps in a word wait on it; after the wake the word must read 1 (the
 * page was decommitted and committed again under it). */
int child_decommit_word_waiter(void)
{
    cm_handle_t ch = cmk_startup_handle(0), vmo = cmk_startup_handle(1);
    void *va;
    CHECK_ST(cm_vmo_map(vmo, 0, 2 * PAGE, RW, &va), CM_OK);
    volatile uint32_t *w = va;
    w[0] = 0;
    ((volatile uint8_t *)va)[PAGE] = 5;
    uint8_t go = 1;
    CHECK_ST(cm_channel_write(ch, &go, 1, NULL, 0), CM_OK);
    CHECK_ST(cmk_word_wait(w, 0, 10 * SECOND_NS), CM_OK);
    CHECK(w[0] == 1);
    CHECK(((volatile uint8_t *)va)[PAGE] == 0); /* decommitted: zero */
    return 0;
}

/* DECOMMIT of pages another process maps, touches and sleeps on in a word
 * wait: its frames go at once, the sleeper stays asleep on its key, the
 * next touch commits a zero page, and a wake through another mapping of
 * the same VMO still meets it. */
int test_decommit_under_another_process_word_waiter(void)
{
    cmk_counters_t c0, c1;
    cm_ledger_info_t l0;
    cm_handle_t w;
    void *wva;
    /* The page-table frames of the cm_vmo_map place used below, made once. */
    CHECK_ST(cm_vmo_create(PAGE, 0, &w), CM_OK);
    CHECK_ST(cm_vmo_map(w, 0, PAGE, RW, &wva), CM_OK);
    *(volatile uint32_t *)wva = 1;
    CHECK_ST(cm_vmo_unmap(wva, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(w), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_handle_t v, dup, mine, theirs, proc;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    cm_handle_t hs[2] = { theirs, dup };
    const char *args[1] = { "child_decommit_word_waiter" };
    CHECK(cmk_spawn_ex("selftest", args, 1, hs, 2, CMK_ROLE_MAIN, NULL, &proc) > 0);
    uint8_t go;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_wait_readable(mine, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, &go, 1, &nb, NULL, 0, &nh), CM_OK);
    /* Let it reach its sleep. */
    uint64_t end = now_ticks() + 50 * TICKS_PER_MS;
    while (now_ticks() < end)
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
    uint64_t committed = 0;
    CHECK_ST(cm_vmo_get_committed(v, &committed), CM_OK);
    CHECK(committed == 2 * PAGE);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, 2 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &committed), CM_OK);
    CHECK(committed == 0);
    cmk_counters_t c2;
    CHECK_ST(cmk_counters(&c2), CM_OK);
    CHECK(c2.free_frames >= c1.free_frames + 2);
    void *va;
    CHECK_ST(cm_vmo_map(v, 0, PAGE, RW, &va), CM_OK);
    *(volatile uint32_t *)va = 1;
    int32_t woken = -1;
    for (int i = 0; i < 100 && woken <= 0; i++) {
        woken = cmk_word_wake((volatile uint32_t *)va, 1);
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
    }
    CHECK(woken == 1);
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cm_vmo_unmap(va, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    return same_state(&c0, &l0);
}

/* Child: with its COMMIT limit lowered to what it holds, a kernel copyout
 * (channel read, VMO read, ledger read) into a page it decommitted cannot
 * commit it: each is a typed error with nothing consumed; the same copy
 * into a still-committed page works. */
int child_copyout_into_decommitted_over_quota(void)
{
    cm_handle_t v, a, b;
    void *va;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, 2 * PAGE, RW, &va), CM_OK);
    volatile uint8_t *p = va;
    p[0] = 1;
    p[PAGE] = 1;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "hostile", 7, NULL, 0), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, PAGE), CM_OK);
    cm_ledger_info_t l;
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT,
                                 l.entry[CM_LEDGER_COMMIT].used + l.entry[CM_LEDGER_COMMIT].given),
             CM_OK);
    uint32_t nb = 0, nh = 0;
    cm_status_t st = cm_channel_read(b, va, 64, &nb, NULL, 0, &nh);
    CHECK(st != CM_OK);
    printf("# copyout into a decommitted page over quota: %s\n", cm_status_name(st));
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_READ, v, va, PAGE, 16)) != CM_OK);
    CHECK(ST(CMK_SYS1(CMK_SYS_LEDGER_GET, va)) != CM_OK);
    uint64_t committed = 1;
    CHECK(ST(CMK_SYS2(CMK_SYS_VMO_GET_COMMITTED, v, va)) != CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &committed), CM_OK);
    CHECK(committed == PAGE);
    /* The message was not consumed: it reads into the committed page. */
    CHECK_ST(cm_channel_read(b, (char *)va + PAGE, 64, &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == 7 && p[PAGE] == 'h');
    return 0;
}

int test_copyout_into_decommitted_page_over_quota_is_typed(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_handle_t proc;
    const char *args[1] = { "child_copyout_into_decommitted_over_quota" };
    CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc) > 0);
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    return same_state(&c0, &l0);
}

/* Child: sleeps until its startup channel carries a process handle, then
 * kills that process (itself, or a sibling). */
int child_kill_by_received_handle(void)
{
    cm_handle_t ch = cmk_startup_handle(0), h;
    uint8_t b;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_wait_readable(ch, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, &b, 1, &nb, &h, 1, &nh), CM_OK);
    CHECK(nh == 1);
    CHECK_ST(cmk_proc_kill(h), CM_OK);
    return b == 's' ? 4 : 0; /* killing itself never returns */
}

/* Process handles as weapons: a process kills itself through its own
 * handle sent to it; a process kills a sibling through a handle sent over
 * a channel; waits twice and kills of the dead stay typed. */
int test_process_handle_sent_away_kills_self_and_sibling(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cm_handle_t m1, t1, m2, t2, p1, p2, d1;
    cmk_exit_info_t info;
    const char *args[1] = { "child_kill_by_received_handle" };
    CHECK_ST(cm_channel_create(0, &m1, &t1), CM_OK);
    CHECK_ST(cm_channel_create(0, &m2, &t2), CM_OK);
    CHECK(cmk_spawn_ex("selftest", args, 1, &t1, 1, CMK_ROLE_MAIN, NULL, &p1) > 0);
    CHECK(cmk_spawn_ex("selftest", args, 1, &t2, 1, CMK_ROLE_MAIN, NULL, &p2) > 0);
    /* p1 gets its own handle: it kills itself. */
    CHECK_ST(cm_handle_duplicate(p1, CM_RIGHTS_SAME, &d1), CM_OK);
    CHECK_ST(cm_channel_write(m1, "s", 1, &d1, 1), CM_OK);
    CHECK_ST(cmk_proc_wait(p1, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    /* p2 gets the dead p1's handle: killing the dead is OK, p2 exits 0. */
    CHECK_ST(cm_handle_duplicate(p1, CM_RIGHTS_SAME, &d1), CM_OK);
    CHECK_ST(cm_channel_write(m2, "o", 1, &d1, 1), CM_OK);
    CHECK_ST(cmk_proc_wait(p2, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cmk_proc_wait(p2, 0, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL);
    CHECK_ST(cmk_proc_kill(p2), CM_OK);
    CHECK_ST(cm_handle_close(p1), CM_OK);
    CHECK_ST(cm_handle_close(p2), CM_OK);
    CHECK_ST(cm_handle_close(m1), CM_OK);
    CHECK_ST(cm_handle_close(m2), CM_OK);
    return same_state(&c0, &l0);
}

/* A SharedBuffer's areas are kernel-made: no handle to their VMOs ever
 * reaches a process (so no DECOMMIT or op_range can name them), and the
 * memory calls that take an address refuse them: cm_vmo_unmap, reservation
 * unmap/protect, FIXED reservation over them. */
int test_sbuf_areas_refuse_unmap_decommit_and_fixed_reserve(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    cm_sbuf_config_t c = { 2, 256, 1, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    cm_handle_t b, r, h;
    void *base;
    uint64_t out64;
    cmk_sbuf_attach_t at;
    /* The page-table frames of the places used below, made once. */
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_ATTACH, b, &at), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_ATTACH, b, &at), CM_OK);
    uint64_t areas[2] = { at.data, at.prod };
    CHECK_ST(cm_vmar_reserve(0, PAGE, 0, &r, &base), CM_OK);
    for (int i = 0; i < 2; i++) {
        uint64_t a = areas[i];
        if (a == 0)
            continue;
        CHECK(ST(CMK_SYS2(CMK_SYS_VMO_UNMAP, a, PAGE)) != CM_OK);
        CHECK(ST(CMK_SYS3(CMK_SYS_VMAR_UNMAP, r, a, PAGE)) != CM_OK);
        CHECK(ST(CMK_SYS4(CMK_SYS_VMAR_PROTECT, r, a, PAGE, CM_MAP_READ)) != CM_OK);
        CHECK(ST(CMK_SYS5(CMK_SYS_VMAR_RESERVE, a, PAGE, CM_VMAR_FIXED, &h, &out64)) != CM_OK);
        cm_mapping_info_t mi;
        (void)CMK_SYS2(CMK_SYS_MAPPING_GET_INFO, a, &mi);
    }
    /* The buffer handle itself is no VMO: op_range refuses its type. */
    CHECK(ST(CMK_SYS4(CMK_SYS_VMO_OP_RANGE, b, CM_VMO_OP_DECOMMIT, 0, PAGE)) ==
          CM_ERR_WRONG_TYPE);
    /* Still intact: the producer loans, writes and publishes. */
    cm_sbuf_loan_t loan;
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &loan), CM_OK);
    ((volatile uint8_t *)loan.data)[0] = 1;
    CHECK_ST(cm_sbuf_publish(b, loan.id, 1, NULL), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return same_state(&c0, &l0);
}

/* Child: spends its whole VMOS share, then spawns a grandchild with every
 * default: the grandchild gets no VMO room (half of nothing), cannot take
 * any from its parent's siblings, and all returns at exit. */
int child_spend_then_spawn(void)
{
    cm_ledger_info_t l;
    cm_handle_t vs[64], proc;
    uint32_t n = 0;
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    while (n < 64 && cm_vmo_create(PAGE, 0, &vs[n]) == CM_OK)
        n++;
    CHECK(n > 0 && n < 64);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_VMOS].used + l.entry[CM_LEDGER_VMOS].given ==
          l.entry[CM_LEDGER_VMOS].limit);
    const char *args[1] = { "child_vmo_create_must_fail" };
    int32_t pid = cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc);
    CHECK(pid > 0);
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    /* A quota above the (empty) room: typed, nothing started. */
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_VMOS] = 1;
    CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &q, &proc) ==
          CM_ERR_NO_RESOURCES);
    return 0;
}

int child_vmo_create_must_fail(void)
{
    cm_handle_t v;
    cm_ledger_info_t l;
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_VMOS].limit == 0);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_ERR_NO_RESOURCES);
    return 0;
}

int test_child_spends_share_then_grandchild_gets_nothing_of_others(void)
{
    cmk_counters_t c0;
    cm_ledger_info_t l0;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_VMOS] = 8;
    cm_handle_t proc, v;
    const char *args[1] = { "child_spend_then_spawn" };
    CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &q, &proc) > 0);
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_wait(proc, 20 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK); /* this process's own room */
    CHECK_ST(cm_handle_close(v), CM_OK);
    return same_state(&c0, &l0);
}

/* The sleeps a hostile child can be killed in (each holds something for
 * its sleep: a wait-many array, a process object, a loan slot wait). */
enum sleep_kind {
    SLEEP_CHANNEL = 1,
    SLEEP_WAIT_MANY,
    SLEEP_PROC_WAIT,
    SLEEP_SBUF_LOAN,
    SLEEP_WORD,
    SLEEP_WORD_IN_VMAR, /* the word mapped through a reservation */
    SLEEP_COUNT
};

int child_sleep_in(void)
{
    cm_handle_t ch = cmk_startup_handle(0), a, b, proc, v;
    uint8_t kind;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_wait_readable(ch, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, &kind, 1, &nb, NULL, 0, &nh), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    cm_sbuf_config_t c = { 1, 256, 1, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    cm_sbuf_loan_t loan;
    void *va;
    if (kind == SLEEP_PROC_WAIT) {
        const char *args[1] = { "child_sleeper" };
        CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc) > 0);
    } else if (kind == SLEEP_SBUF_LOAN) {
        cm_handle_t k;
        CHECK_ST(cm_sbuf_create(&c, &v), CM_OK);
        CHECK_ST(cm_sbuf_consumer_create(v, CM_RIGHTS_SAME, &k), CM_OK);
        /* The one slot published to a consumer that never receives. */
        CHECK_ST(cm_sbuf_loan(v, 0, 0, &loan), CM_OK);
        CHECK_ST(cm_sbuf_publish(v, loan.id, 1, NULL), CM_OK);
        CHECK_ST(cm_sbuf_loan(v, 0, 0, &loan), CM_ERR_SHOULD_WAIT);
    } else if (kind == SLEEP_WORD) {
        CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
        CHECK_ST(cm_vmo_map(v, 0, PAGE, RW, &va), CM_OK);
    } else if (kind == SLEEP_WORD_IN_VMAR) {
        cm_handle_t r;
        void *base;
        CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
        CHECK_ST(cm_vmar_reserve(0, 2 * PAGE, 0, &r, &base), CM_OK);
        CHECK_ST(cm_vmar_map(r, PAGE, v, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &va), CM_OK);
        CHECK_ST(cm_handle_close(v), CM_OK); /* the mapping and then the sleep hold it */
    }
    CHECK_ST(cm_channel_write(ch, "s", 1, NULL, 0), CM_OK);
    cm_wait_item_t items[3] = { { a, CM_SIGNAL_READABLE, 0 }, { b, CM_SIGNAL_READABLE, 0 },
                                { ch, CM_SIGNAL_READABLE, 0 } };
    cmk_exit_info_t info;
    switch (kind) {
    case SLEEP_CHANNEL: cm_channel_wait_readable(a, CM_TIMEOUT_INFINITE); break;
    case SLEEP_WAIT_MANY: cm_object_wait_many(items, 2, CM_TIMEOUT_INFINITE); break;
    case SLEEP_PROC_WAIT: cmk_proc_wait(proc, CM_TIMEOUT_INFINITE, &info); break;
    case SLEEP_SBUF_LOAN: cm_sbuf_loan(v, 0, CM_TIMEOUT_INFINITE, &loan); break;
    case SLEEP_WORD:
    case SLEEP_WORD_IN_VMAR: cmk_word_wait(va, 0, CM_TIMEOUT_INFINITE); break;
    default: break;
    }
    return 3; /* a sleep broke */
}

/* A kill reaches a child in each kind of kernel sleep: it ends KILLED,
 * its tree with it, and every frame, object and ledger charge returns. */
int test_kill_in_each_sleeping_syscall_returns_everything(void)
{
    for (uint8_t k = SLEEP_CHANNEL; k < SLEEP_COUNT; k++) {
        cmk_counters_t c0;
        cm_ledger_info_t l0;
        CHECK_ST(cmk_counters(&c0), CM_OK);
        CHECK_ST(cm_ledger_get(&l0), CM_OK);
        cm_handle_t mine, theirs, proc;
        const char *args[1] = { "child_sleep_in" };
        CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
        CHECK(cmk_spawn_ex("selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN, NULL, &proc) > 0);
        CHECK_ST(cm_channel_write(mine, &k, 1, NULL, 0), CM_OK);
        uint8_t s;
        uint32_t nb, nh;
        CHECK_ST(cm_channel_wait_readable(mine, 10 * SECOND_NS), CM_OK);
        CHECK_ST(cm_channel_read(mine, &s, 1, &nb, NULL, 0, &nh), CM_OK);
        cmk_exit_info_t info;
        /* Asleep, not ended: the wait times out. */
        cm_status_t early = cmk_proc_wait(proc, 30ll * 1000 * 1000, &info);
        if (early != CM_ERR_TIMED_OUT)
            printf("# sleep %u ended by itself: reason %u code %d\n", k, info.reason, info.code);
        CHECK_ST(early, CM_ERR_TIMED_OUT);
        CHECK_ST(cmk_proc_kill(proc), CM_OK);
        CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, &info), CM_OK);
        if (info.reason != CMK_EXIT_KILLED)
            printf("# sleep %u: reason %u code %d\n", k, info.reason, info.code);
        CHECK(info.reason == CMK_EXIT_KILLED);
        CHECK_ST(cm_handle_close(proc), CM_OK);
        CHECK_ST(cm_handle_close(mine), CM_OK);
        if (same_state(&c0, &l0) != 0) {
            printf("# sleep %u\n", k);
            return 1;
        }
    }
    return 0;
}

/* ---- nested reservations and anonymous mappings, hostile ---- */

#define ANON_POP_PAGES 16u

/* cm_vmar_map_anon with CM_MAP_POPULATE commits every page at map time
 * (COMMIT rises by at least the pages before any touch, and with no room
 * left afterwards every page is written without a fault needing any);
 * with less room than the pages it is QUOTA_COMMIT and leaves no run, no
 * object, no frame and no charge. */
int test_vmar_anon_populate_commits_now_or_nothing_over_quota(void)
{
    cm_handle_t r;
    void *base, *p = 0;
    cm_vmar_info_t vi;
    cm_mapping_info_t mi;
    cm_ledger_info_t l0, l1;
    cmk_counters_t c0;
    CHECK(warm() == 0);
    CHECK_ST(cm_vmar_reserve(0, ANON_POP_PAGES * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_vmar_map_anon(r, 0, ANON_POP_PAGES * PAGE, RW | CM_MAP_POPULATE, &p), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_COMMIT].used >=
          l0.entry[CM_LEDGER_COMMIT].used + ANON_POP_PAGES * PAGE);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT, l1.entry[CM_LEDGER_COMMIT].used +
                                                       l1.entry[CM_LEDGER_COMMIT].given),
             CM_OK);
    for (uint32_t i = 0; i < ANON_POP_PAGES; i++) {
        CHECK(((volatile uint8_t *)p)[i * PAGE + 3] == 0);
        ((volatile uint8_t *)p)[i * PAGE] = (uint8_t)(i + 1);
    }
    CHECK(((volatile uint8_t *)p)[(ANON_POP_PAGES - 1) * PAGE] == ANON_POP_PAGES);
    CHECK_ST(cm_vmar_unmap(r, p, ANON_POP_PAGES * PAGE), CM_OK);
    /* The frames are back: room for a few pages, not for all of them. */
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT, l1.entry[CM_LEDGER_COMMIT].used +
                                                       l1.entry[CM_LEDGER_COMMIT].given +
                                                       2 * PAGE),
             CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_vmar_map_anon(r, 0, ANON_POP_PAGES * PAGE, RW | CM_MAP_POPULATE, &p),
             CM_ERR_QUOTA_COMMIT);
    CHECK_ST(cm_vmar_get_info(r, &vi), CM_OK);
    CHECK(vi.mappings == 0 && vi.runs == 0 && vi.mapped_bytes == 0);
    CHECK_ST(cm_mapping_get_info(base, &mi), CM_ERR_NOT_FOUND);
    CHECK(same_state(&c0, &l0) == 0);
    /* The reservation is intact: a lazy anonymous map there works (not
     * touched: the room left may not hold a page-table page). */
    CHECK_ST(cm_vmar_map_anon(r, 0, ANON_POP_PAGES * PAGE, RW, &p), CM_OK);
    CHECK(p == base);
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

/* A child destroyed with its parent leaves no page-table entry over its
 * pages: the kernel's own copy into the old address of a page the child
 * had mapped and touched is a typed error, every call on the stale child
 * is BAD_STATE, and a new reservation over the same range reads zeros
 * (neither the child's frames nor its PTEs survive). */
int test_vmar_destroyed_child_leaves_no_pte_and_range_reusable(void)
{
    cm_handle_t r, c, v, x, a, b;
    void *base, *cb, *p, *q;
    uint32_t nb = 0, nh = 0;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 2 * PAGE, 4 * PAGE, CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, 0, 2 * PAGE, RW | CM_MAP_POPULATE, &p), CM_OK);
    CHECK_ST(cm_vmar_map(c, 2 * PAGE, v, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &q), CM_OK);
    memset(p, 0xab, 2 * PAGE);
    ((volatile uint8_t *)q)[0] = 0xcd;
    CHECK_ST(cm_handle_close(r), CM_OK);
    /* The kernel writes through the page table: nothing may be there. */
    CHECK_ST(cm_channel_write(a, "stale", 5, NULL, 0), CM_OK);
    CHECK(cm_channel_read(b, p, 64, &nb, NULL, 0, &nh) != CM_OK);
    CHECK(cm_channel_read(b, q, 64, &nb, NULL, 0, &nh) != CM_OK);
    CHECK(cm_vmo_read(v, p, 0, 8) != CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, 0, PAGE, RW, &p), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_map(c, 0, v, 0, PAGE, RW, &p), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap_vmo(c, v, q, PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_protect(c, cb, PAGE, 0), CM_ERR_BAD_STATE);
    /* The range is free: a new reservation there sees zeros, and the
     * stale child still cannot reach it. */
    CHECK_ST(cm_vmar_reserve(base, 8 * PAGE, CM_VMAR_FIXED, &x, &p), CM_OK);
    CHECK(p == base);
    CHECK_ST(cm_vmar_map_anon(x, 0, 8 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    for (uint32_t i = 0; i < 8; i++)
        CHECK(((volatile uint8_t *)p)[i * PAGE] == 0);
    CHECK_ST(cm_vmar_unmap(c, cb, PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_map_anon(c, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &q), CM_ERR_BAD_STATE);
    CHECK(((volatile uint8_t *)cb)[0] == 0);
    CHECK_ST(cm_handle_close(x), CM_OK);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* With the VMOS share used up, cm_vmar_map_anon (whose pages are a private
 * object's) is NO_RESOURCES, typed, in a nested reservation as in a root
 * one, and leaves no run, object or charge behind. */
int test_vmar_anon_without_vmos_share_is_typed_and_changes_nothing(void)
{
    cm_handle_t r, c;
    void *base, *cb, *p;
    cm_vmar_info_t vi;
    cm_ledger_info_t l0;
    cmk_counters_t c0;
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 0, 4 * PAGE, 0, &c, &cb), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_VMOS, l0.entry[CM_LEDGER_VMOS].used +
                                                     l0.entry[CM_LEDGER_VMOS].given),
             CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_vmar_map_anon(r, 4 * PAGE, PAGE, RW, &p), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_vmar_map_anon(c, 0, PAGE, RW | CM_MAP_POPULATE, &p), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_vmar_get_info(r, &vi), CM_OK);
    CHECK(vi.mappings == 0 && vi.runs == 1);
    CHECK_ST(cm_vmar_get_info(c, &vi), CM_OK);
    CHECK(vi.mappings == 0 && vi.runs == 0);
    CHECK(same_state(&c0, &l0) == 0);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(c), CM_OK);
    return 0;
}

/* Child: reservations nested CM_VMAR_MAX_DEPTH deep with populated
 * anonymous pages at the bottom, a populated VMO mapping in the middle,
 * lazy anonymous pages in the root, and a child destroyed with its own
 * parent whose handle is still held; exits without closing anything
 * (exit) or waits to be killed. */
static int deep_populated_hold(void)
{
    cm_handle_t v, h[CM_VMAR_MAX_DEPTH], s, d;
    void *b, *p;
    CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 64 * PAGE, 0, &h[0], &b), CM_OK);
    for (uint32_t i = 1; i < CM_VMAR_MAX_DEPTH; i++)
        CHECK_ST(cm_vmar_reserve_in(h[i - 1], PAGE, (64 - 2 * i) * PAGE, CM_VMAR_FIXED, &h[i],
                                    &b),
                 CM_OK);
    CHECK_ST(cm_vmar_map_anon(h[CM_VMAR_MAX_DEPTH - 1], 0, 8 * PAGE, RW | CM_MAP_POPULATE, &p),
             CM_OK);
    CHECK_ST(cm_vmar_map(h[3], 0, v, 0, PAGE, RW | CM_MAP_POPULATE | CM_VMAR_MAP_SPECIFIC, &p),
             CM_OK);
    CHECK_ST(cm_vmar_map_anon(h[0], 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 1;
    /* A sibling subtree whose root is closed: its child stays a handle. */
    CHECK_ST(cm_vmar_reserve_in(h[0], 63 * PAGE, PAGE, CM_VMAR_FIXED, &s, &b), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(s, 0, PAGE, 0, &d, &b), CM_OK);
    CHECK_ST(cm_vmar_map_anon(d, 0, PAGE, RW | CM_MAP_POPULATE, &p), CM_OK);
    CHECK_ST(cm_handle_close(s), CM_OK);
    return 0;
}

int child_vmar_deep_populated_exit(void)
{
    return deep_populated_hold() == 0 ? 6 : 1;
}

int child_vmar_deep_populated_holder(void)
{
    cm_handle_t a, b;
    if (deep_populated_hold() != 0)
        return 1;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    cm_channel_wait_readable(a, CM_TIMEOUT_INFINITE);
    return 3;
}

/* A process that exits, or is killed, holding reservations nested to
 * CM_VMAR_MAX_DEPTH with populated anonymous and VMO pages (their frames
 * and page-table pages made at map time) and a destroyed child's handle
 * gives back every frame, object and charge. */
int test_vmar_deep_populated_exit_and_kill_return_everything(void)
{
    cm_ledger_info_t l0;
    cmk_counters_t c0;
    cmk_exit_info_t info;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(spawn_and_wait("child_vmar_deep_populated_exit", NULL, 0, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 6);
    CHECK(same_state(&c0, &l0) == 0);
    CHECK(spawn_and_wait("child_vmar_deep_populated_holder", NULL, 1, &info) == 0);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK(same_state(&c0, &l0) == 0);
    return 0;
}

/* A word in an anonymous page of a nested reservation: an untouched page
 * reads as zero (without being committed), a written one as written; a
 * no-access page is ACCESS_DENIED, an unmapped one INVALID_ARGS, and a
 * timed wait returns TIMED_OUT. */
int test_word_wait_on_anon_page_typed_in_every_state(void)
{
    cm_handle_t r, c;
    void *base, *cb, *p;
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 2 * PAGE, 4 * PAGE, CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, PAGE, 2 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    volatile uint32_t *w = p, *w2 = (volatile uint32_t *)((char *)p + PAGE);
    cm_ledger_info_t l0, l1;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_word_wait(&w2[3], 1, 0), CM_ERR_BAD_STATE);
    CHECK_ST(cmk_word_wait(&w2[3], 0, 0), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_COMMIT].used == l0.entry[CM_LEDGER_COMMIT].used);
    w[3] = 9;
    CHECK_ST(cmk_word_wait(&w[3], 0, 0), CM_ERR_BAD_STATE);
    CHECK_ST(cmk_word_wait(&w[3], 9, 1000 * 1000), CM_ERR_TIMED_OUT);
    CHECK(cmk_word_wake(&w[3], 1) == 0);
    CHECK_ST(cm_vmar_protect(c, p, PAGE, 0), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 9, 0), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_protect(c, p, PAGE, RW), CM_OK);
    CHECK(w[3] == 9); /* kept through no-access */
    CHECK_ST(cm_vmar_unmap(c, p, PAGE), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cmk_word_wait(&w2[3], 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(c), CM_OK);
    return 0;
}

/* One order of closing a root r, its child c and grandchild g (order[i]:
 * 0 r, 1 c, 2 g), each with a touched anonymous page. After each close,
 * every handle still open answers get_info OK if none of its ancestors was
 * closed, else BAD_STATE; a live parent has the closed child's range free
 * again (runs 0). */
static int close_order(const uint32_t order[3])
{
    cm_handle_t h[3];
    void *b[3], *p;
    int closed[3] = { 0, 0, 0 };
    cm_vmar_info_t vi;
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &h[0], &b[0]), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(h[0], 2 * PAGE, 4 * PAGE, CM_VMAR_FIXED, &h[1], &b[1]), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(h[1], PAGE, 2 * PAGE, CM_VMAR_FIXED, &h[2], &b[2]), CM_OK);
    for (uint32_t i = 0; i < 3; i++) {
        uint64_t off = i == 0 ? 0 : (i == 1 ? 0 : PAGE);
        CHECK_ST(cm_vmar_map_anon(h[i], off, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
        ((volatile uint8_t *)p)[0] = (uint8_t)(i + 1);
    }
    for (uint32_t k = 0; k < 3; k++) {
        CHECK_ST(cm_handle_close(h[order[k]]), CM_OK);
        closed[order[k]] = 1;
        for (uint32_t i = 0; i < 3; i++) {
            if (closed[i])
                continue;
            int dead = 0;
            for (uint32_t a = 0; a < i; a++)
                dead |= closed[a];
            CHECK_ST(cm_vmar_get_info(h[i], &vi), dead ? CM_ERR_BAD_STATE : CM_OK);
            CHECK_ST(cm_vmar_map_anon(h[i], 0, PAGE, RW, &p),
                     dead ? CM_ERR_BAD_STATE : CM_OK);
            if (!dead) {
                CHECK_ST(cm_vmar_unmap(h[i], p, PAGE), CM_OK);
                if (i + 1 < 3 && closed[i + 1]) {
                    CHECK_ST(cm_vmar_get_info(h[i], &vi), CM_OK);
                    CHECK(vi.runs == 1); /* only its own anonymous page */
                }
            }
        }
    }
    return 0;
}

/* Every order of closing a root, child and grandchild: typed answers on
 * the handles left, and everything returned at the end. */
int test_vmar_nested_close_in_every_order_typed_and_returned(void)
{
    static const uint32_t orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                                           { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    cm_ledger_info_t l0;
    cmk_counters_t c0;
    CHECK(close_order(orders[0]) == 0); /* makes the page-table pages */
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    for (uint32_t i = 0; i < 6; i++) {
        if (close_order(orders[i]) != 0 || same_state(&c0, &l0) != 0) {
            printf("# close order %u %u %u\n", orders[i][0], orders[i][1], orders[i][2]);
            return 1;
        }
    }
    return 0;
}

/* The parent's unmap, unmap_vmo and protect over a range that starts in
 * its own mapping (anonymous or VMO) and runs into a child: BAD_STATE or
 * NOT_FOUND, and nothing changed (the parent's pages keep their content
 * and protection, the child's mapping stays). */
int test_vmar_parent_ops_straddling_a_child_edge_change_nothing(void)
{
    cm_handle_t r, c, v;
    void *base, *cb, *pa, *pv, *q;
    cm_mapping_info_t mi;
    cm_vmar_info_t vi;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 2 * PAGE, 2 * PAGE, CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(r, PAGE, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &pa), CM_OK);
    CHECK_ST(cm_vmar_map(r, 4 * PAGE, v, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &pv), CM_OK);
    CHECK_ST(cm_vmar_map(c, 0, v, 0, PAGE, RW, &q), CM_OK);
    ((volatile uint8_t *)pa)[0] = 0x5a;
    ((volatile uint8_t *)pv)[0] = 0x6b;
    CHECK_ST(cm_vmar_protect(r, pa, 2 * PAGE, CM_MAP_READ), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_protect(r, (char *)cb + PAGE, 2 * PAGE, CM_MAP_READ), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap(r, pa, 2 * PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap(r, (char *)cb + PAGE, 2 * PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap(r, pa, 4 * PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap_vmo(r, v, pa, PAGE), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_vmar_unmap_vmo(r, v, cb, PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap_vmo(r, v, (char *)cb + PAGE, 2 * PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap_vmo(c, v, q, 2 * PAGE), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_mapping_get_info(pa, &mi), CM_OK);
    CHECK(mi.prot == RW && (mi.flags & CM_MAPPING_INFO_ANON) != 0);
    CHECK_ST(cm_mapping_get_info(pv, &mi), CM_OK);
    CHECK(mi.prot == RW && mi.map_len == PAGE);
    CHECK_ST(cm_mapping_get_info(q, &mi), CM_OK);
    CHECK(mi.prot == RW);
    CHECK_ST(cm_vmar_get_info(r, &vi), CM_OK);
    CHECK(vi.runs == 3 && vi.mappings == 2 && vi.mapped_bytes == 2 * PAGE);
    ((volatile uint8_t *)pa)[1] = 1; /* still writable */
    ((volatile uint8_t *)pv)[1] = 1;
    CHECK(((volatile uint8_t *)pa)[0] == 0x5a && ((volatile uint8_t *)pv)[0] == 0x6b);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

#define SHARED_AT ((void *)(uintptr_t)0x3800000000ull) /* a 1 GiB region of its own */

static uint64_t frames_free(void)
{
    cmk_counters_t c;
    return cmk_counters(&c) == CM_OK ? c.free_frames : 0;
}

/* The free-frame count once dead objects are reaped (a dropped anonymous
 * object's frames go at the reap, after the call returns): yields until
 * it is `want` or, with want 0, until it stops changing. */
static uint64_t frames_settled(uint64_t want)
{
    uint64_t f = frames_free(), last = f + 1;
    for (int i = 0; i < 100 && f != want && (want != 0 || f != last); i++) {
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
        last = f;
        f = frames_free();
    }
    return f;
}

/* A parent's and a child's anonymous pages under one leaf table: removing
 * either side first (the child by closing it, the parent's pages by
 * unmapping) leaves the shared table in place (the other side's page is
 * read without a fault making a table), and removing the other side then
 * frees everything exactly once: the free-frame count is back at its
 * value before the round, never above it (a table freed twice). */
static int shared_table_round(int first_child)
{
    cm_handle_t r, c;
    void *base, *cb, *pr, *pc;
    uint64_t f0 = frames_settled(0);
    CHECK_ST(cm_vmar_reserve(SHARED_AT, 16 * PAGE, CM_VMAR_FIXED, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 8 * PAGE, 8 * PAGE, CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(r, 0, 4 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &pr), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, 0, 4 * PAGE, RW | CM_VMAR_MAP_SPECIFIC, &pc), CM_OK);
    volatile uint8_t *keep = first_child ? pr : pc, *go = first_child ? pc : pr;
    keep[0] = 0x77;
    go[0] = 1;
    go[PAGE] = 2;
    if (first_child)
        CHECK_ST(cm_handle_close(c), CM_OK);
    else
        CHECK_ST(cm_vmar_unmap(r, pr, 4 * PAGE), CM_OK);
    uint64_t f1 = frames_settled(0);
    CHECK(keep[0] == 0x77);
    CHECK(frames_free() == f1); /* no fault made a table: the PTE stayed */
    if (first_child)
        CHECK_ST(cm_vmar_unmap(r, pr, 4 * PAGE), CM_OK);
    else
        CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    uint64_t f2 = frames_settled(f0);
    if (f2 != f0) {
        printf("# free frames %lu before the round, %lu after\n", (unsigned long)f0,
               (unsigned long)f2);
        return 1;
    }
    return 0;
}

int test_vmar_shared_table_page_freed_once_in_either_order(void)
{
    for (int i = 0; i < 4; i++)
        CHECK(shared_table_round(i & 1) == 0);
    return 0;
}
