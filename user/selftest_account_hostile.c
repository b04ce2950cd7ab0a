/* SPDX-License-Identifier: MIT */
/* Account objects and overcommit against hostile processes (docs/ledger.md
 * "Account object and overcommit tests"): memory an overcommitted process
 * relies on vanishing while it sleeps, with the room it draws from gone.
 * Each case must be a typed error with nothing consumed, never a kernel
 * panic. */
#include <string.h>

#include "cmk.h"
#include "selftest.h"
#include "sys.h"

#define SECOND_NS (1000ll * 1000 * 1000)
#define RW (CM_MAP_READ | CM_MAP_WRITE)
#define DEV_NAME "ah0"

static cmk_dma_request_t hreq; /* 4 KiB: not on the stack */
static cm_handle_t live_child = CM_HANDLE_INVALID; /* killed if a check fails */

/* Child, in an overcommitted account: waits on a DMA fence with the
 * completion's out pointer in a page of its own VMO, which the parent
 * decommits while it sleeps and cannot be committed again (the room its
 * account draws from is spent). The wait must come back INVALID_ARGS with
 * the completion kept: a second wait into good memory gets it. */
int child_fence_wait_into_vanishing_page(void)
{
    cm_handle_t ch = cmk_startup_handle(0), v, vd, pool;
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    cm_dma_op_t op = { CM_DMA_OP_WRITE, 0, PAGE, 0, 0 };
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    uint32_t nb, nh;
    void *va;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, RW, &va), CM_OK);
    *(volatile uint8_t *)va = 1;
    CHECK_ST(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHECK_ST(cm_dma_pool_attach(pool, DEV_NAME, CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE), CM_OK);
    CHECK_ST(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHECK_ST(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHTS_SAME, &vd), CM_OK);
    CHECK_ST(cm_channel_write(ch, NULL, 0, &vd, 1), CM_OK);
    cm_status_t st = cm_dma_fence_wait(pool, f, 20 * SECOND_NS, (cm_dma_completion_t *)va);
    printf("# fence wait into a page gone while asleep: %s\n", cm_status_name(st));
    /* Zero bytes: no frame, so it needs none of the spent room. */
    CHECK_ST(cm_channel_write(ch, NULL, 0, NULL, 0), CM_OK);
    CHECK_ST(st, CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_wait_readable(ch, 20 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, NULL, 0, &nb, NULL, 0, &nh), CM_OK);
    /* The completion was not consumed by the refused wait. */
    memset(&c, 0, sizeof(c));
    CHECK_ST(cm_dma_fence_wait(pool, f, 0, &c), CM_OK);
    CHECK(c.buffer == b && c.status == CM_OK && c.bytes == PAGE);
    CHECK_ST(cm_dma_buffer_release(pool, b), CM_OK);
    CHECK_ST(cm_handle_close(pool), CM_OK);
    CHECK_ST(cm_vmo_unmap(va, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* A process in an overcommitted account sleeps in cm_dma_fence_wait; its
 * completion pointer's page is decommitted meanwhile and this process
 * spends the whole room the account draws from, so the kernel's copy-out
 * after the wake cannot commit the page again (MEMORY_PRESSURE). Once a
 * kernel panic ("validated copyout failed"): now INVALID_ARGS, and the
 * completion stays for a wait into good memory. */
static int test_kdma_fence_wait_out_page_gone_while_asleep_room_spent_is_typed_body(void)
{
    struct cmk_counters c0;
    cm_ledger_info_t l0, l;
    cm_handle_t acct, dev, mine, theirs, proc, vd, drain;
    cmk_exit_info_t info;
    uint32_t nb, nh;
    const uint64_t ROOM = 1024; /* pages: the child holds about 190 */
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    const cm_ledger_entry_t *e = &l0.entry[CM_LEDGER_COMMIT];
    if (e->limit - e->used - e->given > ROOM * PAGE)
        CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT, e->used + e->given + ROOM * PAGE), CM_OK);
    /* The device first: it stays to the end (its window's binding is the
     * runner's business, not this test's). */
    CHECK_ST(cmk_dma_device_create(window_of_slot(3), DEV_NAME, 512, 1ull << 20,
                                   CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE, &dev),
             CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK); /* the lowered limit is the baseline */
    int64_t accounts = cmk_account_live_count();

    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_PROCESSES] = 1;
    CHECK_ST(cmk_account_create(&q, CMK_ACCOUNT_OVERCOMMIT, &acct), CM_OK);
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    const char *args[1] = { "child_fence_wait_into_vanishing_page" };
    CHECK(cmk_spawn_in(acct, "selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN, &proc) > 0);
    live_child = proc;
    CHECK_ST(cm_channel_wait_readable(mine, 20 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, NULL, 0, &nb, &vd, 1, &nh), CM_OK);
    CHECK(nh == 1);
    /* Let it reach its sleep in the fence wait. */
    uint64_t end = now_ticks() + 50 * TICKS_PER_MS;
    while (now_ticks() < end)
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
    CHECK_ST(cm_vmo_op_range(vd, CM_VMO_OP_DECOMMIT, 0, PAGE), CM_OK);
    /* Spend the room, to the last frame: commit halving runs of a lazy VMO
     * until a single page is refused. */
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    uint64_t left = (l.entry[CM_LEDGER_COMMIT].limit - l.entry[CM_LEDGER_COMMIT].used -
                     l.entry[CM_LEDGER_COMMIT].given) / PAGE;
    CHECK_ST(cm_vmo_create(left * PAGE, 0, &drain), CM_OK);
    uint64_t off = 0;
    for (uint64_t n = left; n > 0;) {
        if (off + n <= left && cm_vmo_op_range(drain, CM_VMO_OP_COMMIT, off * PAGE, n * PAGE) ==
                                   CM_OK)
            off += n;
        else
            n /= 2;
    }
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_COMMIT].limit ==
          l.entry[CM_LEDGER_COMMIT].used + l.entry[CM_LEDGER_COMMIT].given);
    /* Complete the request: the child wakes, and its copy-out faults. */
    CHECK_ST(cmk_dma_device_next(dev, 10 * SECOND_NS, &hreq), CM_OK);
    CHECK_ST(cmk_dma_device_complete(dev, hreq.id, CM_OK, PAGE), CM_OK);
    CHECK_ST(cm_channel_wait_readable(mine, 20 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, NULL, 0, &nb, NULL, 0, &nh), CM_OK);
    /* The room back; the child waits again into good memory. */
    CHECK_ST(cm_handle_close(drain), CM_OK);
    CHECK_ST(cm_channel_write(mine, NULL, 0, NULL, 0), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 20 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    live_child = CM_HANDLE_INVALID;
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_handle_close(vd), CM_OK);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    CHECK_ST(cm_handle_close(acct), CM_OK);
    if (same_state(&c0, &l0) != 0)
        return 1;
    CHECK(cmk_account_live_count() == accounts);
    CHECK_ST(cm_handle_close(dev), CM_OK);
    return 0;
}

int test_kdma_fence_wait_out_page_gone_while_asleep_room_spent_is_typed(void)
{
    int rc = test_kdma_fence_wait_out_page_gone_while_asleep_room_spent_is_typed_body();
    cmk_exit_info_t info;
    if (live_child != CM_HANDLE_INVALID && cmk_proc_kill(live_child) == CM_OK)
        (void)cmk_proc_wait(live_child, 10 * SECOND_NS, &info);
    live_child = CM_HANDLE_INVALID;
    return rc;
}

/* Where everything is at the start of a test, live accounts included. */
struct base {
    struct cmk_counters c;
    cm_ledger_info_t l;
    int64_t accounts;
};

static int base_take(struct base *b)
{
    CHECK_ST(cmk_counters(&b->c), CM_OK);
    CHECK_ST(cm_ledger_get(&b->l), CM_OK);
    b->accounts = cmk_account_live_count();
    return 0;
}

static int base_back(const struct base *b)
{
    if (same_state(&b->c, &b->l) != 0)
        return 1;
    CHECK(cmk_account_live_count() == b->accounts);
    return 0;
}

static int start_sleeper(cm_handle_t account, cm_handle_t give, cm_handle_t *proc)
{
    const char *args[1] = { "child_sleeper" };
    uint32_t n = give != CM_HANDLE_INVALID;
    int32_t pid = account != CM_HANDLE_INVALID
                      ? cmk_spawn_in(account, "selftest", args, 1, &give, n, CMK_ROLE_MAIN, proc)
                      : cmk_spawn_ex("selftest", args, 1, &give, n, CMK_ROLE_MAIN, NULL, proc);
    CHECK(pid > 0);
    return 0;
}

static int kill_wait(cm_handle_t proc)
{
    cmk_exit_info_t info;
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    return 0;
}

/* An account's last handle queued to a process that dies unread, and an
 * account's last handle moved into the child spawned into it (the spawn
 * holds the object across the move): each account lives exactly while
 * something holds it, then ends once with its carve and PROCESSES back. */
static int test_account_last_handle_queued_to_dying_or_moved_into_its_child_ends_once_body(void)
{
    struct base b;
    cm_handle_t acct, dup, mine, theirs, proc;
    cm_ledger_info_t l;
    CHECK(base_take(&b) == 0);
    /* Queued to a process that dies without reading it. */
    CHECK_ST(cmk_account_create(NULL, CMK_ACCOUNT_OVERCOMMIT, &acct), CM_OK);
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    CHECK(start_sleeper(CM_HANDLE_INVALID, theirs, &proc) == 0);
    CHECK_ST(cm_handle_duplicate(acct, CM_RIGHTS_SAME, &dup), CM_OK);
    CHECK_ST(cm_channel_write(mine, "a", 1, &dup, 1), CM_OK);
    CHECK_ST(cm_handle_close(acct), CM_OK);
    CHECK(cmk_account_live_count() == b.accounts + 2); /* the queued one, the sleeper's */
    CHECK(kill_wait(proc) == 0);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    CHECK(cmk_account_live_count() == b.accounts);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_PROCESSES].used == b.l.entry[CM_LEDGER_PROCESSES].used);
    /* Moved into the child spawned into it: the child holds the only
     * handle; killing it ends the account. */
    CHECK_ST(cmk_account_create(NULL, 0, &acct), CM_OK);
    CHECK(start_sleeper(acct, acct, &proc) == 0);
    cm_ledger_info_t la;
    CHECK_ST(cmk_account_get(acct, &la), CM_ERR_BAD_HANDLE); /* moved away */
    CHECK(cmk_account_live_count() == b.accounts + 1);
    CHECK(kill_wait(proc) == 0);
    return base_back(&b);
}

int test_account_last_handle_queued_to_dying_or_moved_into_its_child_ends_once(void)
{
    return test_account_last_handle_queued_to_dying_or_moved_into_its_child_ends_once_body();
}

/* Raw account calls with pointers a hostile caller picks: misaligned (the
 * kernel copies bytes: fine), read-only (INVALID_ARGS), straddling into an
 * unmapped page (INVALID_ARGS, nothing made), kernel addresses; handles
 * of other types and kinds with high bits; lowering an overcommitted cap
 * or a carved limit below what is held (BAD_STATE, nothing moved). */
static int test_account_raw_pointer_handle_and_limit_abuse_is_typed_body(void)
{
    struct base b;
    static uint8_t buf[sizeof(cm_ledger_info_t) + 8];
    cm_handle_t acct, h = CM_HANDLE_INVALID, v, ch0, ch1, res;
    cm_ledger_info_t la, la1, l;
    void *ro, *base;
    CHECK(base_take(&b) == 0);
    CHECK_ST(cmk_account_create(NULL, CMK_ACCOUNT_OVERCOMMIT, &acct), CM_OK);
    /* Misaligned info: copied. */
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_ACCOUNT_GET, acct, (uint64_t)(uintptr_t)(buf + 1),
                                       0, 0, 0, 0, 0),
             CM_OK);
    memcpy(&la, buf + 1, sizeof(la));
    CHECK(la.kinds == CM_LEDGER_KIND_COUNT);
    /* Read-only and kernel memory for the info. */
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &ro), CM_OK);
    CHECK_ST(cmk_account_get(acct, (cm_ledger_info_t *)ro), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_ACCOUNT_GET, acct, 0xffffffc000000000ull, 0, 0, 0,
                                       0, 0),
             CM_ERR_INVALID_ARGS);
    /* A quota or out handle straddling into an unmapped page of a
     * reservation: nothing made. */
    CHECK_ST(cm_vmar_reserve(0, 2 * PAGE, 0, &res, &base), CM_OK);
    cm_handle_t v2;
    void *at;
    CHECK_ST(cm_vmo_create(PAGE, 0, &v2), CM_OK);
    CHECK_ST(cm_vmar_map(res, 0, v2, 0, PAGE, RW, &at), CM_OK);
    uint8_t *edge = (uint8_t *)at + PAGE - 8;
    CHECK_ST(cmk_account_create((const cmk_quota_t *)(void *)edge, 0, &h), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_account_create(NULL, 0, (cm_handle_t *)(void *)((uint8_t *)at + PAGE - 2)),
             CM_ERR_INVALID_ARGS);
    CHECK(h == CM_HANDLE_INVALID);
    CHECK(cmk_account_live_count() == b.accounts + 1);
    /* Other handle types; kinds with high bits. */
    CHECK_ST(cm_channel_create(0, &ch0, &ch1), CM_OK);
    CHECK_ST(cmk_account_get(ch0, &la1), CM_ERR_WRONG_TYPE);
    CHECK_ST(cmk_account_set_limit(res, CM_LEDGER_VMOS, 0), CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_ACCOUNT_SET_LIMIT, acct,
                                       (1ull << 32) | CM_LEDGER_VMOS, 0, 0, 0, 0, 0),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cmk_account_get(acct, &la1), CM_OK);
    CHECK(la1.entry[CM_LEDGER_VMOS].limit == la.entry[CM_LEDGER_VMOS].limit);
    /* Below what is held: a member's frames in the overcommitted cap, the
     * member itself in PROCESSES. Nothing moves in this room either. */
    cm_handle_t proc;
    CHECK(start_sleeper(acct, CM_HANDLE_INVALID, &proc) == 0);
    CHECK_ST(cmk_account_get(acct, &la), CM_OK);
    CHECK(la.entry[CM_LEDGER_COMMIT].used > 0);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_COMMIT, la.entry[CM_LEDGER_COMMIT].used - 1),
             CM_ERR_BAD_STATE);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_PROCESSES, 0), CM_ERR_BAD_STATE);
    CHECK_ST(cmk_account_get(acct, &la1), CM_OK);
    CHECK(la1.entry[CM_LEDGER_COMMIT].limit == la.entry[CM_LEDGER_COMMIT].limit);
    CHECK(la1.entry[CM_LEDGER_PROCESSES].limit == la.entry[CM_LEDGER_PROCESSES].limit);
    cm_ledger_info_t l1;
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_COMMIT].given == l.entry[CM_LEDGER_COMMIT].given);
    CHECK(l1.entry[CM_LEDGER_PROCESSES].given == l.entry[CM_LEDGER_PROCESSES].given);
    /* Exactly what is held: allowed, and the PROCESSES difference returns. */
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_COMMIT, la.entry[CM_LEDGER_COMMIT].used),
             CM_OK);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_PROCESSES, 1), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_COMMIT].given == l.entry[CM_LEDGER_COMMIT].given);
    CHECK(l1.entry[CM_LEDGER_PROCESSES].given ==
          l.entry[CM_LEDGER_PROCESSES].given - (la.entry[CM_LEDGER_PROCESSES].limit - 1));
    CHECK(kill_wait(proc) == 0);
    CHECK_ST(cm_vmo_unmap(ro, PAGE), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(res), CM_OK);
    CHECK_ST(cm_handle_close(v2), CM_OK);
    CHECK_ST(cm_handle_close(ch0), CM_OK);
    CHECK_ST(cm_handle_close(ch1), CM_OK);
    CHECK_ST(cm_handle_close(acct), CM_OK);
    return base_back(&b);
}

int test_account_raw_pointer_handle_and_limit_abuse_is_typed(void)
{
    return test_account_raw_pointer_handle_and_limit_abuse_is_typed_body();
}
