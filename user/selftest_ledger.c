/* SPDX-License-Identifier: MIT */
/* Selftests of the ledgers (docs/ledger.md, kernel/account.c) and process
 * handles: a hostile child exhausts one quota at a time and gets that
 * kind's typed error while this process keeps working; its wait times out
 * instead of blocking; killing it gives back every charge, every frame and
 * every object. Each check is made against numbers read before. */
#include <string.h>

#include "cmk.h"
#include "selftest.h"
#include "sys.h"

#define SECOND_NS (1000ll * 1000 * 1000)

/* What the hog exhausts: the first byte of the order it reads. */
enum hog_kind {
    HOG_VMOS = 1,
    HOG_CHANNELS,
    HOG_MESSAGES,
    HOG_COMMIT,
    HOG_SBUFS,
    HOG_HANDLES,
    HOG_VIRTUAL,
    HOG_PROCESSES,
};

struct hog_report {
    int32_t status;   /* the error that stopped it */
    uint32_t count;   /* what it made before that */
    int32_t rollback; /* 1: a refused create left its ledger as it was */
    uint32_t reserved;
};

static int ledger_used_same(const cm_ledger_info_t *a, const cm_ledger_info_t *b)
{
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        if (a->entry[k].used != b->entry[k].used || a->entry[k].given != b->entry[k].given) {
            printf("# ledger %s: used %lu -> %lu, given %lu -> %lu\n",
                   cm_ledger_kind_name((cm_ledger_kind_t)k), (unsigned long)a->entry[k].used,
                   (unsigned long)b->entry[k].used, (unsigned long)a->entry[k].given,
                   (unsigned long)b->entry[k].given);
            return 0;
        }
    }
    return 1;
}

static int counters_same(const cmk_counters_t *a, const cmk_counters_t *b)
{
    if (a->free_frames == b->free_frames && a->live_objects == b->live_objects &&
        a->live_procs == b->live_procs && a->live_msgs == b->live_msgs)
        return 1;
    printf("# counters: frames %lu -> %lu, objects %lu -> %lu, procs %lu -> %lu, msgs %lu -> %lu\n",
           (unsigned long)a->free_frames, (unsigned long)b->free_frames,
           (unsigned long)a->live_objects, (unsigned long)b->live_objects,
           (unsigned long)a->live_procs, (unsigned long)b->live_procs,
           (unsigned long)a->live_msgs, (unsigned long)b->live_msgs);
    return 0;
}

/* Child: sleeps until killed (a process that never exits). */
int child_sleeper(void)
{
    cm_handle_t a, b;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    cm_channel_wait_readable(a, CM_TIMEOUT_INFINITE);
    return 3; /* never reached unless the wait broke */
}

static int hog_once(enum hog_kind kind, const cm_handle_t *scratch, cm_status_t *st)
{
    cm_handle_t h, h2;
    cm_sbuf_config_t cfg = { 1, 256, 1, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    void *va;
    switch (kind) {
    case HOG_VMOS: *st = cm_vmo_create(PAGE, 0, &h); break;
    case HOG_CHANNELS: *st = cm_channel_create(0, &h, &h2); break;
    case HOG_MESSAGES: *st = cm_channel_write(scratch[0], "m", 1, NULL, 0); break;
    case HOG_COMMIT:
        /* Pages are committed on demand: COMMIT them; a refused COMMIT
         * takes the new object away again, so the refusal changes nothing. */
        if ((*st = cm_vmo_create(64 * PAGE, 0, &h)) == CM_OK &&
            (*st = cm_vmo_op_range(h, CM_VMO_OP_COMMIT, 0, 64 * PAGE)) != CM_OK)
            (void)cm_handle_close(h);
        break;
    case HOG_SBUFS: *st = cm_sbuf_create(&cfg, &h); break;
    case HOG_HANDLES: *st = cm_handle_duplicate(scratch[2], CM_RIGHTS_SAME, &h); break;
    case HOG_VIRTUAL: *st = cm_vmo_map(scratch[2], 0, PAGE, CM_MAP_READ, &va); break;
    case HOG_PROCESSES: {
        const char *args[1] = { "child_sleeper" };
        int32_t pid = cmk_spawn("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN);
        *st = pid > 0 ? CM_OK : (cm_status_t)pid;
        break;
    }
    default: *st = CM_ERR_INVALID_ARGS; break;
    }
    return 0;
}

/* Child: reads an order, makes objects of that kind until refused,
 * checks that a refused attempt changed nothing in its ledger, reports,
 * then sleeps forever holding everything. */
int child_hog(void)
{
    cm_handle_t ch = cmk_startup_handle(0);
    uint8_t kind = 0;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_wait_readable(ch, 5 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(ch, &kind, 1, &nb, NULL, 0, &nh), CM_OK);
    /* scratch: a channel (messages go to [1]'s queue) and a VMO. */
    cm_handle_t scratch[3];
    CHECK_ST(cm_channel_create(0, &scratch[0], &scratch[1]), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &scratch[2]), CM_OK);
    cm_ledger_info_t l;
    if (kind == HOG_VIRTUAL) {
        /* A process may lower its own limit, never raise it. */
        CHECK_ST(cm_ledger_get(&l), CM_OK);
        uint64_t used = l.entry[CM_LEDGER_VIRTUAL].used;
        CHECK_ST(cm_ledger_set_limit(CM_LEDGER_VIRTUAL, used + 4 * PAGE), CM_OK);
        CHECK_ST(cm_ledger_set_limit(CM_LEDGER_VIRTUAL, used + 5 * PAGE), CM_ERR_ACCESS_DENIED);
        CHECK_ST(cm_ledger_set_limit(CM_LEDGER_VIRTUAL, used - 1), CM_ERR_BAD_STATE);
    }
    struct hog_report r = { CM_OK, 0, 0, 0 };
    while (r.count < 4096) {
        CHECK(hog_once((enum hog_kind)kind, scratch, &r.status) == 0);
        if (r.status != CM_OK)
            break;
        r.count++;
    }
    cm_ledger_info_t before, after;
    cm_status_t again;
    CHECK_ST(cm_ledger_get(&before), CM_OK);
    CHECK(hog_once((enum hog_kind)kind, scratch, &again) == 0);
    if (kind == HOG_HANDLES) {
        /* A new VMO whose handle cannot be installed: made, charged, then
         * rolled back whole. */
        cm_handle_t v;
        CHECK_ST(cm_vmo_create(4 * PAGE, 0, &v), CM_ERR_PUBLISH_FAILED);
    }
    CHECK_ST(cm_ledger_get(&after), CM_OK);
    r.rollback = again == r.status && ledger_used_same(&before, &after);
    if (kind == HOG_MESSAGES) {
        /* Room for the report: reading one queued message releases its
         * sender's charge at once. */
        char m;
        CHECK_ST(cm_channel_read(scratch[1], &m, 1, &nb, NULL, 0, &nh), CM_OK);
    }
    CHECK_ST(cm_channel_write(ch, &r, sizeof(r), NULL, 0), CM_OK);
    cm_channel_wait_readable(scratch[0], CM_TIMEOUT_INFINITE);
    return 3; /* a wait that ended: the parent kills, never wakes it */
}

/* Polls until the counters are back (processes killed with their parent
 * finish on their next turn), for at most two seconds. */
static void settle(const cmk_counters_t *want, cmk_counters_t *now)
{
    uint64_t end = now_ticks() + 2000 * TICKS_PER_MS;
    do {
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
        if (cmk_counters(now) != CM_OK)
            return;
    } while (!(now->live_procs == want->live_procs && now->live_objects == want->live_objects &&
               now->free_frames == want->free_frames) &&
             now_ticks() < end);
}

/* One hostile run: `kind` exhausted under a quota of `limit` for ledger
 * kind `lk` (CM_LEDGER_KIND_COUNT: defaults), refused with `want`. */
static int hog_run(enum hog_kind kind, cm_ledger_kind_t lk, uint64_t limit, cm_status_t want)
{
    cm_ledger_info_t l0, l1, l2;
    cmk_counters_t c0, c1;
    cmk_exit_info_t info;
    cm_handle_t mine, theirs, proc, v, x, y;
    struct hog_report r;
    uint32_t nb, nh;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    if (lk < CM_LEDGER_KIND_COUNT)
        q.limit[lk] = limit;
    const char *args[1] = { "child_hog" };
    int32_t pid = cmk_spawn_ex("selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN, &q, &proc);
    CHECK(pid > 0);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    if (lk < CM_LEDGER_KIND_COUNT && (l1.entry[lk].flags & CM_LEDGER_CARVED) != 0)
        CHECK(l1.entry[lk].given == l0.entry[lk].given + limit);
    uint8_t order = (uint8_t)kind;
    CHECK_ST(cm_channel_write(mine, &order, 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(mine, 10 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, &r, sizeof(r), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == sizeof(r));
    CHECK_ST(r.status, want);
    CHECK(r.count > 0);
    CHECK(r.rollback == 1);
    /* Its share is spent, not anyone else's: this process still makes
     * every kind of object. */
    CHECK_ST(cm_vmo_create(64 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_channel_create(0, &x, &y), CM_OK);
    CHECK_ST(cm_channel_write(x, "ok", 2, &v, 1), CM_OK);
    CHECK_ST(cm_handle_close(x), CM_OK);
    CHECK_ST(cm_handle_close(y), CM_OK);
    /* A child that never exits: the wait times out instead of blocking. */
    CHECK_ST(cmk_proc_wait(proc, 20ll * 1000 * 1000, &info), CM_ERR_TIMED_OUT);
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    /* The record stays readable; killing what ended changes nothing. */
    CHECK_ST(cmk_proc_wait(proc, 0, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_wait(pid, &info), CM_ERR_NOT_FOUND); /* reaped by the handle wait */
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    settle(&c0, &c1);
    CHECK(counters_same(&c0, &c1));
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(ledger_used_same(&l0, &l2));
    return 0;
}

int test_hostile_vmo_hog_gets_no_resources_and_all_returns_on_kill(void)
{
    return hog_run(HOG_VMOS, CM_LEDGER_VMOS, 6, CM_ERR_NO_RESOURCES);
}

int test_hostile_channel_hog_gets_no_resources_and_all_returns_on_kill(void)
{
    return hog_run(HOG_CHANNELS, CM_LEDGER_CHANNELS, 8, CM_ERR_NO_RESOURCES);
}

int test_hostile_message_hog_gets_no_resources_and_all_returns_on_kill(void)
{
    return hog_run(HOG_MESSAGES, CM_LEDGER_MESSAGES, 6, CM_ERR_NO_RESOURCES);
}

int test_hostile_commit_hog_gets_quota_commit_and_all_returns_on_kill(void)
{
    return hog_run(HOG_COMMIT, CM_LEDGER_COMMIT, 1024 * PAGE, CM_ERR_QUOTA_COMMIT);
}

int test_hostile_sbuf_hog_gets_no_resources_and_all_returns_on_kill(void)
{
    return hog_run(HOG_SBUFS, CM_LEDGER_SBUFS, 1, CM_ERR_NO_RESOURCES);
}

int test_hostile_handle_hog_gets_publish_failed_with_rollback(void)
{
    return hog_run(HOG_HANDLES, CM_LEDGER_HANDLES, 16, CM_ERR_PUBLISH_FAILED);
}

int test_hostile_mapping_hog_gets_quota_virtual_under_lowered_limit(void)
{
    return hog_run(HOG_VIRTUAL, CM_LEDGER_KIND_COUNT, 0, CM_ERR_QUOTA_VIRTUAL);
}

int test_hostile_spawner_gets_no_resources_and_kill_ends_its_tree(void)
{
    return hog_run(HOG_PROCESSES, CM_LEDGER_PROCESSES, 3, CM_ERR_NO_RESOURCES);
}

/* A quota above the parent's room fails the spawn with the kind's status
 * and leaves nothing charged or started. */
int test_spawn_quota_above_room_is_refused_typed(void)
{
    cm_ledger_info_t l0, l1;
    cmk_counters_t c0, c1;
    cm_handle_t proc = CM_HANDLE_INVALID;
    const char *args[1] = { "child_sleeper" };
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    static const cm_ledger_kind_t kinds[] = { CM_LEDGER_VMOS, CM_LEDGER_COMMIT,
                                              CM_LEDGER_CHANNELS, CM_LEDGER_PROCESSES };
    for (uint32_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const cm_ledger_entry_t *e = &l0.entry[kinds[i]];
        cmk_quota_t q;
        cmk_quota_defaults(&q);
        q.limit[kinds[i]] = e->limit - e->used - e->given + 1;
        cm_status_t want = kinds[i] == CM_LEDGER_COMMIT ? CM_ERR_QUOTA_COMMIT : CM_ERR_NO_RESOURCES;
        CHECK_ST(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &q, &proc), want);
        CHECK(proc == CM_HANDLE_INVALID);
    }
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(ledger_used_same(&l0, &l1));
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(counters_same(&c0, &c1));
    return 0;
}

/* No room for the process handle: PUBLISH_FAILED, no process started,
 * every charge back. */
int test_spawn_handle_unpublishable_starts_nothing(void)
{
    cm_ledger_info_t l0, l1;
    cmk_counters_t c0, c1;
    cm_handle_t proc = CM_HANDLE_INVALID;
    const char *args[1] = { "child_sleeper" };
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_HANDLES, l0.entry[CM_LEDGER_HANDLES].used), CM_OK);
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc),
             CM_ERR_PUBLISH_FAILED);
    CHECK(proc == CM_HANDLE_INVALID);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(ledger_used_same(&l0, &l1));
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(counters_same(&c0, &c1));
    return 0;
}

/* Every frame and object a process makes is charged to it, and its exit
 * returns each charge: the parent's `given` and the pools come back. */
int test_ledger_charges_follow_creates_and_exit_returns_them(void)
{
    cm_ledger_info_t l0, l1, l2;
    cm_handle_t v, a, b;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK(l0.kinds == CM_LEDGER_KIND_COUNT);
    CHECK(l0.entry[CM_LEDGER_PROCESSES].used == 1);
    /* PINS: pages of DMA pool buffers, enforced (selftest_kdma.c). */
    CHECK((l0.entry[CM_LEDGER_PINS].flags & CM_LEDGER_ENFORCED) != 0);
    CHECK(l0.entry[CM_LEDGER_PINS].used == 0);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_KIND_COUNT, 0), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_ledger_get(NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create(3 * PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_VMOS].used == l0.entry[CM_LEDGER_VMOS].used + 1);
    /* The leaf and the directory frame (pages are committed on demand); one
     * frame for the message. */
    CHECK(l1.entry[CM_LEDGER_COMMIT].used == l0.entry[CM_LEDGER_COMMIT].used + 3 * PAGE);
    CHECK(l1.entry[CM_LEDGER_OBJECT_BACKING].used ==
          l0.entry[CM_LEDGER_OBJECT_BACKING].used + 3 * PAGE);
    CHECK(l1.entry[CM_LEDGER_CHANNELS].used == l0.entry[CM_LEDGER_CHANNELS].used + 2);
    CHECK(l1.entry[CM_LEDGER_MESSAGES].used == l0.entry[CM_LEDGER_MESSAGES].used + 1);
    CHECK(l1.entry[CM_LEDGER_HANDLES].used == l0.entry[CM_LEDGER_HANDLES].used + 3);
    CHECK(l1.entry[CM_LEDGER_MESSAGES].peak >= 1);
    /* COMMIT charges each page once, plus the commit set's word frame. */
    uint64_t committed = 0;
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, 3 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, PAGE, 2 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &committed), CM_OK);
    CHECK(committed == 3 * PAGE);
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(l2.entry[CM_LEDGER_COMMIT].used == l1.entry[CM_LEDGER_COMMIT].used + 4 * PAGE);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(ledger_used_same(&l0, &l2));
    return 0;
}

/* A child's quota is carved from the parent while its account lives and
 * returns when it ends; a killed child's record says KILLED. */
int test_child_quota_is_carved_and_returns(void)
{
    cm_ledger_info_t l0, l1, l2;
    cmk_exit_info_t info;
    cm_handle_t proc;
    const char *args[1] = { "child_sleeper" };
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_VMOS] = 7;
    q.limit[CM_LEDGER_HANDLES] = UINT64_MAX - 1; /* above the parent's: bounded by it */
    int32_t pid = cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &q, &proc);
    CHECK(pid > 0);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(l1.entry[CM_LEDGER_VMOS].given == l0.entry[CM_LEDGER_VMOS].given + 7);
    uint64_t room = l0.entry[CM_LEDGER_CHANNELS].limit - l0.entry[CM_LEDGER_CHANNELS].used -
                    l0.entry[CM_LEDGER_CHANNELS].given;
    CHECK(l1.entry[CM_LEDGER_CHANNELS].given ==
          l0.entry[CM_LEDGER_CHANNELS].given + room / 2 + room % 2); /* the default */
    CHECK(l1.entry[CM_LEDGER_PROCESSES].used == l0.entry[CM_LEDGER_PROCESSES].used + 1);
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, CM_TIMEOUT_INFINITE, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED && info.status == 0);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(ledger_used_same(&l0, &l2));
    /* Rights: a handle without SIGNAL cannot wait, without WRITE cannot kill. */
    pid = cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc);
    CHECK(pid > 0);
    cm_handle_t weak;
    CHECK_ST(cm_handle_duplicate(proc, CM_RIGHT_READ, &weak), CM_OK);
    CHECK_ST(cmk_proc_wait(weak, 0, &info), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_proc_kill(weak), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_proc_kill(CM_HANDLE_INVALID), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(weak), CM_OK);
    /* The pid wait still works alongside the handle and reaps. */
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cmk_proc_wait(proc, 0, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    return 0;
}

/* Child: stores where nothing is mapped. */
int child_touch_unmapped(void)
{
    *(volatile uint32_t *)(uintptr_t)0x2000000000ull = 1;
    return 0;
}

/* A memory fault ends the process with a typed status its parent reads:
 * nothing mapped there is INVALID_ARGS (a mapped page without the access
 * is ACCESS_DENIED: test_write_to_sealed_mapping_faults_process). */
int test_fault_on_unmapped_page_exits_typed(void)
{
    cmk_exit_info_t info;
    cm_handle_t proc;
    cmk_counters_t c0, c1;
    const char *args[1] = { "child_touch_unmapped" };
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK(cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &proc) > 0);
    CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_FAULTED);
    CHECK(info.code == 15);
    CHECK(info.fault_va == 0x2000000000ull);
    CHECK(info.status == CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cmk_counters(&c1), CM_OK);
    CHECK(counters_same(&c0, &c1));
    return 0;
}

/* Child: sleeps where the kernel holds a reference for the sleep (a word
 * wait holds its VMO) or waits for a child of its own by pid. */
int child_deep_sleeper(void)
{
    cm_handle_t v;
    void *va;
    const char *args[1] = { "child_sleeper" };
    /* A grandchild that never exits: killed with this process's tree. */
    CHECK(cmk_spawn("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN) > 0);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &va), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK); /* the mapping and the wait hold it */
    CHECK_ST(cm_channel_write(cmk_startup_handle(0), "s", 1, NULL, 0), CM_OK);
    cmk_word_wait((const volatile uint32_t *)va, 0, CM_TIMEOUT_INFINITE);
    return 3;
}

/* A kill reaches a process in any kernel sleep: every sleeping loop ends
 * at once for a killed process, releasing what its syscall held (here the
 * word wait's VMO reference), and the whole tree (its sleeping grandchild)
 * goes with it: frames, objects and processes all come back. */
int test_kill_ends_a_tree_sleeping_in_the_kernel(void)
{
    cmk_counters_t c0, c1;
    cm_ledger_info_t l0, l1;
    cmk_exit_info_t info;
    cm_handle_t mine, theirs, proc;
    uint32_t nb, nh;
    char c;
    CHECK_ST(cmk_counters(&c0), CM_OK);
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_channel_create(0, &mine, &theirs), CM_OK);
    const char *args[1] = { "child_deep_sleeper" };
    CHECK(cmk_spawn_ex("selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN, NULL, &proc) > 0);
    CHECK_ST(cm_channel_wait_readable(mine, 5 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(mine, &c, 1, &nb, NULL, 0, &nh), CM_OK);
    /* Let it reach the sleep. */
    uint64_t end = now_ticks() + 30 * TICKS_PER_MS;
    while (now_ticks() < end)
        cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
    CHECK_ST(cmk_proc_wait(proc, 10ll * 1000 * 1000, &info), CM_ERR_TIMED_OUT);
    CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 5 * SECOND_NS, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_KILLED);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    CHECK_ST(cm_handle_close(mine), CM_OK);
    settle(&c0, &c1);
    CHECK(counters_same(&c0, &c1));
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(ledger_used_same(&l0, &l1));
    return 0;
}
