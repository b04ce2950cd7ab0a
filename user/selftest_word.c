/* SPDX-License-Identifier: MIT */
/* Selftests of the word wait (user/cmk.h cmk_word_wait / cmk_word_wake,
 * kernel/object/word.c): the key is (VMO, offset), never an address. */
#include <string.h>

#include "cmk.h"
#include "selftest.h"

/* Child: maps the VMO it was given (handle 1), sends the address of its
 * word 0 over the channel (handle 0), then sleeps on it: exit 0 only if a
 * wake ended the wait (not the 5 s deadline, not a changed word). */
int child_word_waiter(void)
{
    cm_handle_t ch = cmk_startup_handle(0), vmo = cmk_startup_handle(1);
    void *va;
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ, &va), CM_OK);
    uint64_t addr = (uint64_t)va;
    CHECK_ST(cm_channel_write(ch, &addr, sizeof(addr), NULL, 0), CM_OK);
    CHECK_ST(cmk_word_wait((const volatile uint32_t *)va, 0, 5000ll * 1000 * 1000), CM_OK);
    return 0;
}

/* Spawns `child` (child_word_waiter or the like) with a channel and a duplicate of vmo; gets the
 * child's word address, then lets it reach its sleep (the timer hands it
 * the CPU while this process spins). */
static int start_child(const char *child, cm_handle_t vmo, int32_t *pid, cm_handle_t *ch,
                       uint64_t *child_va)
{
    cm_handle_t peer, dup;
    uint32_t nb = 0, nh = 0;
    CHECK_ST(cm_channel_create(0, ch, &peer), CM_OK);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &dup), CM_OK);
    cm_handle_t hs[2] = { peer, dup };
    const char *args[1] = { child };
    *pid = cmk_spawn("selftest", args, 1, hs, 2, CMK_ROLE_MAIN);
    CHECK(*pid > 0);
    cm_signals_t obs;
    CHECK_ST(cm_object_wait_one(*ch, CM_SIGNAL_READABLE, 5000ll * 1000 * 1000, &obs), CM_OK);
    CHECK_ST(cm_channel_read(*ch, child_va, sizeof(*child_va), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == sizeof(*child_va));
    uint64_t end = now_ticks() + 50 * TICKS_PER_MS;
    while (now_ticks() < end)
        ;
    return 0;
}

static int start_waiter(cm_handle_t vmo, int32_t *pid, cm_handle_t *ch, uint64_t *child_va)
{
    return start_child("child_word_waiter", vmo, pid, ch, child_va);
}

static int wake_until_one(const volatile uint32_t *w)
{
    uint64_t give_up = now_ticks() + 2000 * TICKS_PER_MS;
    int32_t n = 0;
    while (n == 0 && now_ticks() < give_up)
        n = cmk_word_wake(w, 1);
    CHECK(n == 1);
    return 0;
}

static int child_ok(int32_t pid)
{
    cmk_exit_info_t info;
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    return 0;
}

/* The same VMO mapped at two different addresses in two processes: a wake
 * through one mapping reaches the waiter on the other. */
int test_word_wake_crosses_processes_at_different_addresses(void)
{
    cm_handle_t vmo, pad, ch;
    void *va, *padva;
    int32_t pid;
    uint64_t child_va;
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &pad), CM_OK);
    /* A first mapping here moves ours off the child's first address. */
    CHECK_ST(cm_vmo_map(pad, 0, PAGE, CM_MAP_READ, &padva), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &va), CM_OK);
    CHECK(start_waiter(vmo, &pid, &ch, &child_va) == 0);
    CHECK(child_va != (uint64_t)va);
    CHECK(wake_until_one((const volatile uint32_t *)va) == 0);
    CHECK(child_ok(pid) == 0);
    CHECK_ST(cm_vmo_unmap(va, PAGE), CM_OK);
    CHECK_ST(cm_vmo_unmap(padva, PAGE), CM_OK);
    cm_handle_close(vmo);
    cm_handle_close(pad);
    cm_handle_close(ch);
    return 0;
}

/* Another VMO at the very address the waiter sleeps on (in its own
 * process), and here first one VMO then, after unmapping it, another at
 * one address: a wake through the wrong VMO wakes nobody; the right one,
 * remapped, does. An address-keyed wait fails the first wake. */
int test_word_wait_keyed_by_vmo_not_address(void)
{
    cm_handle_t x, y, ch;
    void *vy, *vx;
    int32_t pid;
    uint64_t child_va;
    CHECK_ST(cm_vmo_create(PAGE, 0, &x), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &y), CM_OK);
    CHECK(start_waiter(x, &pid, &ch, &child_va) == 0);
    CHECK_ST(cm_vmo_map(y, 0, PAGE, CM_MAP_READ, &vy), CM_OK);
    CHECK((uint64_t)vy == child_va); /* both first mappings: same address */
    CHECK(cmk_word_wake((const volatile uint32_t *)vy, UINT32_MAX) == 0);
    CHECK_ST(cm_vmo_unmap(vy, PAGE), CM_OK);
    CHECK_ST(cm_vmo_map(x, 0, PAGE, CM_MAP_READ, &vx), CM_OK);
    CHECK(vx == vy); /* the address reused, now for x */
    CHECK(wake_until_one((const volatile uint32_t *)vx) == 0);
    CHECK(child_ok(pid) == 0);
    CHECK_ST(cm_vmo_unmap(vx, PAGE), CM_OK);
    cm_handle_close(x);
    cm_handle_close(y);
    cm_handle_close(ch);
    return 0;
}

int test_word_wait_returns_at_once_when_word_differs(void)
{
    cm_handle_t vmo;
    volatile uint32_t *w;
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, (void **)&w), CM_OK);
    w[1] = 5;
    uint64_t t0 = now_ticks();
    CHECK_ST(cmk_word_wait(&w[1], 4, CM_TIMEOUT_INFINITE), CM_ERR_BAD_STATE);
    CHECK(now_ticks() - t0 < 1000 * TICKS_PER_MS);
    CHECK_ST(cm_vmo_unmap((void *)w, PAGE), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

int test_word_wait_deadline_times_out(void)
{
    cm_handle_t vmo;
    volatile uint32_t *w;
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, (void **)&w), CM_OK);
    uint64_t t0 = now_ticks();
    CHECK_ST(cmk_word_wait(&w[2], 0, 20ll * 1000 * 1000), CM_ERR_TIMED_OUT);
    CHECK(now_ticks() - t0 >= 20 * TICKS_PER_MS);
    CHECK_ST(cmk_word_wait(&w[2], 0, 0), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_vmo_unmap((void *)w, PAGE), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

static uint32_t not_a_vmo_word;

int test_word_wait_rejects_bad_addresses(void)
{
    cm_handle_t vmo;
    volatile uint32_t *w;
    CHECK_ST(cm_vmo_create(100, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, 100, CM_MAP_READ | CM_MAP_WRITE, (void **)&w), CM_OK);
    const volatile uint32_t *odd = (const volatile uint32_t *)((uintptr_t)w + 2);
    CHECK_ST(cmk_word_wait(odd, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK(cmk_word_wake(odd, 1) == CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_word_wait(&not_a_vmo_word, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK(cmk_word_wake(&not_a_vmo_word, 1) == CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_word_wait(NULL, 0, 0), CM_ERR_INVALID_ARGS);
    /* In the mapped page but past the VMO's 100 bytes. */
    CHECK_ST(cmk_word_wait(&w[100 / 4], 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_word_wait(&w[0], 0, -2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap((void *)w, 100), CM_OK);
    CHECK_ST(cmk_word_wait(&w[0], 0, 0), CM_ERR_INVALID_ARGS); /* unmapped now */
    cm_handle_close(vmo);
    return 0;
}

#define RW (CM_MAP_READ | CM_MAP_WRITE)
/* The word the reservation tests sleep on: in the VMO's second page, not
 * at its start, so both the run's object offset and the in-page offset
 * enter the key. */
#define VMAR_WORD_OFF (PAGE + 16)

/* Child: maps the second page of the VMO it was given (handle 1) READ
 * into a reservation, at the reservation's third page, sends the word's
 * address, sleeps on it; exit 0 only if woken and the word then reads 7
 * through the reservation (the waker wrote it after a DECOMMIT took this
 * run's page away). */
int child_word_waiter_in_vmar(void)
{
    cm_handle_t ch = cmk_startup_handle(0), vmo = cmk_startup_handle(1), r;
    void *base, *va;
    CHECK_ST(cm_vmar_reserve(0, 4 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 2 * PAGE, vmo, PAGE, PAGE, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &va),
             CM_OK);
    volatile uint32_t *w = (volatile uint32_t *)((uintptr_t)va + VMAR_WORD_OFF - PAGE);
    uint64_t addr = (uint64_t)(uintptr_t)w;
    CHECK_ST(cm_channel_write(ch, &addr, sizeof(addr), NULL, 0), CM_OK);
    CHECK_ST(cmk_word_wait(w, 0, 5000ll * 1000 * 1000), CM_OK);
    CHECK(*w == 7);
    CHECK_ST(cm_vmar_unmap(r, va, PAGE), CM_OK);
    CHECK_ST(cmk_word_wait(w, 7, 0), CM_ERR_INVALID_ARGS); /* the run is gone */
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

/* A waiter on a word of a reservation mapping, a waker through a plain
 * cm_vmo_map of the same VMO: the key is (VMO, offset), so wakes at
 * another offset of the object, or at the same in-page offset of another
 * page, wake nobody; a DECOMMIT under the sleeper (its PTE and table pages
 * go) leaves its key; the wake at the word's offset meets it. */
int test_word_wait_in_reservation_woken_through_vmo_map(void)
{
    cm_handle_t vmo, ch;
    void *va;
    int32_t pid;
    uint64_t child_va;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &vmo), CM_OK);
    CHECK(start_child("child_word_waiter_in_vmar", vmo, &pid, &ch, &child_va) == 0);
    CHECK_ST(cm_vmo_map(vmo, 0, 2 * PAGE, RW, &va), CM_OK);
    volatile uint32_t *w = (volatile uint32_t *)((uintptr_t)va + VMAR_WORD_OFF);
    CHECK(cmk_word_wake((volatile uint32_t *)((uintptr_t)va + 16), UINT32_MAX) == 0);
    CHECK(cmk_word_wake(w + 1, UINT32_MAX) == 0);
    CHECK_ST(cm_vmo_op_range(vmo, CM_VMO_OP_DECOMMIT, 0, 2 * PAGE), CM_OK);
    *w = 7;
    CHECK(wake_until_one(w) == 0);
    CHECK(child_ok(pid) == 0);
    CHECK_ST(cm_vmo_unmap(va, 2 * PAGE), CM_OK);
    cm_handle_close(vmo);
    cm_handle_close(ch);
    return 0;
}

/* A waiter on a plain cm_vmo_map mapping, wakes through this process's
 * reservation: another VMO's run at an address wakes nobody; after it is
 * unmapped, the waiter's VMO mapped at that very address wakes it. */
int test_word_wait_in_vmo_map_woken_through_reservation(void)
{
    cm_handle_t x, y, ch, r;
    void *base, *vy, *vx;
    int32_t pid;
    uint64_t child_va;
    CHECK_ST(cm_vmo_create(PAGE, 0, &x), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &y), CM_OK);
    CHECK(start_waiter(x, &pid, &ch, &child_va) == 0);
    CHECK_ST(cm_vmar_reserve(0, 4 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, PAGE, y, 0, PAGE, RW | CM_VMAR_MAP_SPECIFIC, &vy), CM_OK);
    CHECK(cmk_word_wake((const volatile uint32_t *)vy, UINT32_MAX) == 0);
    CHECK_ST(cm_vmar_unmap(r, vy, PAGE), CM_OK);
    CHECK_ST(cm_vmar_map(r, PAGE, x, 0, PAGE, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &vx), CM_OK);
    CHECK(vx == vy);
    CHECK(wake_until_one((const volatile uint32_t *)vx) == 0);
    CHECK(child_ok(pid) == 0);
    CHECK_ST(cm_handle_close(r), CM_OK);
    cm_handle_close(x);
    cm_handle_close(y);
    cm_handle_close(ch);
    return 0;
}

/* In a reservation: a reserved page no run maps, a word past the VMO's
 * size in a mapped page, a misaligned word, a run after unmap and after
 * release are INVALID_ARGS; a no-access run is ACCESS_DENIED; a read-only
 * run works as a read-only cm_vmo_map does (wait compares, wake wakes). */
int test_word_wait_in_reservation_bad_addresses_typed(void)
{
    cm_handle_t vmo, r;
    void *base, *va, *rw;
    CHECK_ST(cm_vmo_create(2 * PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, 2 * PAGE, RW, &rw), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 4 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, PAGE, vmo, 0, 2 * PAGE, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &va),
             CM_OK);
    CHECK_ST(cm_vmo_set_size(vmo, PAGE + 100), CM_OK); /* the mapped pages stay */
    const volatile uint32_t *w = va, *gap = base;
    const volatile uint32_t *past = (const volatile uint32_t *)((uintptr_t)va + PAGE + 100);
    CHECK_ST(cmk_word_wait(gap, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK(cmk_word_wake(gap, 1) == CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_word_wait(gap + 3 * PAGE / 4, 0, 0), CM_ERR_INVALID_ARGS); /* after the run */
    CHECK_ST(cmk_word_wait(past, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK(cmk_word_wake(past, 1) == CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_word_wait(past - 1, 0, 0), CM_ERR_TIMED_OUT); /* the VMO's last word */
    CHECK_ST(cmk_word_wait((const volatile uint32_t *)((uintptr_t)va + 2), 0, 0),
             CM_ERR_INVALID_ARGS);
    ((volatile uint32_t *)rw)[3] = 9;
    CHECK_ST(cmk_word_wait(&w[3], 8, CM_TIMEOUT_INFINITE), CM_ERR_BAD_STATE);
    CHECK_ST(cmk_word_wait(&w[3], 9, 0), CM_ERR_TIMED_OUT);
    CHECK(cmk_word_wake(&w[3], 1) == 0);
    CHECK_ST(cm_vmar_protect(r, va, PAGE, 0), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 9, 0), CM_ERR_ACCESS_DENIED);
    CHECK(cmk_word_wake(&w[3], 1) == CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_protect(r, va, PAGE, CM_MAP_READ), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 8, 0), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap(r, va, 2 * PAGE), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 9, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmar_map(r, PAGE, vmo, 0, PAGE, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &va), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 9, 0), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cmk_word_wait(&w[3], 9, 0), CM_ERR_INVALID_ARGS);
    CHECK(cmk_word_wake(&w[3], 1) == CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap(rw, 2 * PAGE), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

/* A word in a mapping of a nested reservation is found by walking down the
 * CHILD runs (as a fault does), keyed by (VMO, offset) like any mapping: a
 * write through another mapping of the VMO is what the waiter sees; the
 * child's unmapped pages and the child's own run in the parent (no object
 * there) are INVALID_ARGS. */
int test_word_wait_in_nested_reservation_keyed_by_vmo(void)
{
    cm_handle_t vmo, r, c;
    void *base, *cbase, *va, *rw;
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, RW, &rw), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, 8 * PAGE, 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 2 * PAGE, 4 * PAGE, CM_VMAR_FIXED, &c, &cbase), CM_OK);
    CHECK_ST(cm_vmar_map(c, PAGE, vmo, 0, PAGE, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &va), CM_OK);
    const volatile uint32_t *w = va, *hole = cbase;
    ((volatile uint32_t *)rw)[5] = 7;
    CHECK_ST(cmk_word_wait(&w[5], 6, 0), CM_ERR_BAD_STATE); /* sees the VMO's word */
    CHECK_ST(cmk_word_wait(&w[5], 7, 0), CM_ERR_TIMED_OUT);
    CHECK(cmk_word_wake(&w[5], 1) == 0);
    CHECK_ST(cmk_word_wait(hole, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK(cmk_word_wake(hole, 1) == CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(c), CM_OK); /* the child's range is the parent's again */
    CHECK_ST(cmk_word_wait(&w[5], 7, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_vmo_unmap(rw, PAGE), CM_OK);
    cm_handle_close(vmo);
    return 0;
}
