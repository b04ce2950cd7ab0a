/* SPDX-License-Identifier: MIT */
/* Selftests of account objects and overcommit (docs/ledger.md "Account
 * objects", kernel/account.c): several children share one account and its
 * limits; one exhausting it gets the typed error in that account only; an
 * account lives while a handle, a process or a charge is left and then
 * returns its carve once; overcommitted accounts draw their frames from
 * this process's room at charge time, so MEMORY_PRESSURE is what one gets
 * within its own cap when that room is empty. Every test ends with the
 * counters, the live accounts and this process's ledger where they were. */
#include <string.h>

#include "cmk.h"
#include "selftest.h"
#include "sys.h"

#define SECOND_NS (1000ll * 1000 * 1000)

/* Orders to child_acct_worker, one per message; it answers each with a
 * struct acct_report and keeps everything it made until it is killed. */
enum acct_op {
    OP_VMOS = 1,   /* create up to n one-page VMOs, stop at the first refusal */
    OP_COMMIT,     /* create one VMO of n pages with CM_VMO_COMMIT */
    OP_TOUCH,      /* map a VMO of n pages and write each page (demand commit) */
    OP_SPAWN_IN,   /* spawn child_sleeper into the account handle sent along,
                    * answer with its process handle */
    OP_GIVE,       /* create a VMO of n pages, answer with its handle */
    OP_SPAWN_CHILD, /* n 0: spawn child_sleeper with default quotas; n 1: into a
                     * new overcommitted account of its own (handle closed);
                     * answer with its process handle */
};

struct acct_order {
    uint32_t op;
    uint32_t n;
};

struct acct_report {
    int32_t status;   /* the last call's status */
    uint32_t count;   /* what it made */
    int32_t rollback; /* 1: the refused call left its ledger as it was */
    uint32_t reserved;
};

static int ledger_same(const cm_ledger_info_t *a, const cm_ledger_info_t *b)
{
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        if (a->entry[k].used != b->entry[k].used || a->entry[k].given != b->entry[k].given ||
            a->entry[k].limit != b->entry[k].limit) {
            printf("# ledger %s: used %lu -> %lu, given %lu -> %lu, limit %lu -> %lu\n",
                   cm_ledger_kind_name((cm_ledger_kind_t)k), (unsigned long)a->entry[k].used,
                   (unsigned long)b->entry[k].used, (unsigned long)a->entry[k].given,
                   (unsigned long)b->entry[k].given, (unsigned long)a->entry[k].limit,
                   (unsigned long)b->entry[k].limit);
            return 0;
        }
    }
    return 1;
}

/* Where everything is at the start of a test. */
struct baseline {
    cmk_counters_t c;
    cm_ledger_info_t l;
    int64_t accounts;
};

static int baseline_take(struct baseline *b)
{
    CHECK_ST(cmk_counters(&b->c), CM_OK);
    CHECK_ST(cm_ledger_get(&b->l), CM_OK);
    b->accounts = cmk_account_live_count();
    CHECK(b->accounts >= 1);
    return 0;
}

/* Back to the baseline (same_state polls for killed processes), and
 * every account made since has ended. */
static int baseline_back(const struct baseline *b)
{
    if (same_state(&b->c, &b->l) != 0)
        return 1;
    CHECK(cmk_account_live_count() == b->accounts);
    return 0;
}

static int worker_do(const struct acct_order *o, cm_handle_t ch, cm_handle_t given,
                     struct acct_report *r)
{
    cm_ledger_info_t before, after;
    cm_handle_t h;
    void *va;
    CHECK_ST(cm_ledger_get(&before), CM_OK);
    *r = (struct acct_report){ CM_OK, 0, 0, 0 };
    switch (o->op) {
    case OP_VMOS:
        while (r->count < o->n && (r->status = cm_vmo_create(PAGE, 0, &h)) == CM_OK) {
            r->count++;
            CHECK_ST(cm_ledger_get(&before), CM_OK);
        }
        break;
    case OP_COMMIT:
        r->status = cm_vmo_create((uint64_t)o->n * PAGE, CM_VMO_COMMIT, &h);
        r->count = r->status == CM_OK;
        break;
    case OP_TOUCH: {
        /* A reservation mapping commits nothing until touched (cm_vmo_map
         * would commit the range at once). */
        cm_handle_t res;
        void *base;
        CHECK_ST(cm_vmo_create((uint64_t)o->n * PAGE, 0, &h), CM_OK);
        CHECK_ST(cm_vmar_reserve(0, (uint64_t)o->n * PAGE, 0, &res, &base), CM_OK);
        CHECK_ST(cm_vmar_map(res, 0, h, 0, (uint64_t)o->n * PAGE, CM_MAP_READ | CM_MAP_WRITE,
                             &va),
                 CM_OK);
        for (uint32_t i = 0; i < o->n; i++) /* dies here once a page cannot be had */
            ((volatile char *)va)[(uint64_t)i * PAGE] = 1;
        r->count = o->n;
        CHECK_ST(cm_ledger_get(&before), CM_OK);
        break;
    }
    case OP_SPAWN_IN: {
        const char *args[1] = { "child_sleeper" };
        int32_t pid = cmk_spawn_in(given, "selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &h);
        r->status = pid > 0 ? CM_OK : (cm_status_t)pid;
        r->count = pid > 0;
        CHECK_ST(cm_ledger_get(&before), CM_OK);
        if (pid > 0) {
            CHECK_ST(cm_channel_write(ch, r, sizeof(*r), &h, 1), CM_OK);
            return 2; /* answered, with the handle */
        }
        break;
    }
    case OP_SPAWN_CHILD: {
        const char *args[1] = { "child_sleeper" };
        cm_handle_t acct = CM_HANDLE_INVALID;
        int32_t pid;
        if (o->n == 1)
            CHECK_ST(cmk_account_create(NULL, CMK_ACCOUNT_OVERCOMMIT, &acct), CM_OK);
        pid = o->n == 1 ? cmk_spawn_in(acct, "selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, &h)
                        : cmk_spawn_ex("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN, NULL, &h);
        if (o->n == 1)
            CHECK_ST(cm_handle_close(acct), CM_OK);
        r->status = pid > 0 ? CM_OK : (cm_status_t)pid;
        CHECK_ST(r->status, CM_OK);
        CHECK_ST(cm_channel_write(ch, r, sizeof(*r), &h, 1), CM_OK);
        return 2;
    }
    case OP_GIVE:
        CHECK_ST(cm_vmo_create((uint64_t)o->n * PAGE, 0, &h), CM_OK);
        CHECK_ST(cm_channel_write(ch, r, sizeof(*r), &h, 1), CM_OK);
        return 2;
    default: r->status = CM_ERR_INVALID_ARGS; break;
    }
    if (r->status == CM_OK)
        CHECK_ST(cm_ledger_get(&before), CM_OK);
    CHECK_ST(cm_ledger_get(&after), CM_OK);
    r->rollback = ledger_same(&before, &after);
    return 0;
}

/* Child: serves orders from its startup channel until killed. */
int child_acct_worker(void)
{
    cm_handle_t ch = cmk_startup_handle(0);
    for (;;) {
        struct acct_order o;
        struct acct_report r;
        cm_handle_t given = CM_HANDLE_INVALID;
        uint32_t nb, nh;
        CHECK_ST(cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE), CM_OK);
        CHECK_ST(cm_channel_read(ch, &o, sizeof(o), &nb, &given, 1, &nh), CM_OK);
        CHECK(nb == sizeof(o));
        int done = worker_do(&o, ch, given, &r); /* 0, 1: a check failed, 2: answered */
        if (done == 1)
            return 1;
        if (done == 0)
            CHECK_ST(cm_channel_write(ch, &r, sizeof(r), NULL, 0), CM_OK);
    }
}

struct worker {
    cm_handle_t ch;   /* this end of its channel */
    cm_handle_t proc; /* its process handle */
};

/* Every worker process started and not yet ended by this test: killed
 * when a check fails, so that a failing test leaves no orphan holding
 * the runner's room for the next one. */
#define MAX_WORKERS 8
static cm_handle_t live_workers[MAX_WORKERS];
static uint32_t nlive_workers;

static int kill_leftovers(int rc)
{
    cmk_exit_info_t info;
    for (uint32_t i = 0; i < nlive_workers; i++) {
        if (cmk_proc_kill(live_workers[i]) == CM_OK)
            (void)cmk_proc_wait(live_workers[i], 10 * SECOND_NS, &info);
    }
    nlive_workers = 0;
    return rc;
}

/* Starts child_acct_worker in `account` (CM_HANDLE_INVALID: an account of
 * its own with `quota`). */
static int worker_start(cm_handle_t account, const cmk_quota_t *quota, struct worker *w)
{
    cm_handle_t theirs;
    const char *args[1] = { "child_acct_worker" };
    CHECK_ST(cm_channel_create(0, &w->ch, &theirs), CM_OK);
    int32_t pid = account != CM_HANDLE_INVALID
                      ? cmk_spawn_in(account, "selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN,
                                     &w->proc)
                      : cmk_spawn_ex("selftest", args, 1, &theirs, 1, CMK_ROLE_MAIN, quota,
                                     &w->proc);
    CHECK(pid > 0);
    if (nlive_workers < MAX_WORKERS)
        live_workers[nlive_workers++] = w->proc;
    return 0;
}

/* A spawn of child_sleeper into `account` that must be refused with
 * `want`; one that starts anyway is killed, so the failure leaves no
 * orphan behind. */
static int spawn_in_refused(cm_handle_t account, const char *prog, cm_status_t want)
{
    const char *args[1] = { "child_sleeper" };
    cm_handle_t proc = CM_HANDLE_INVALID;
    cmk_exit_info_t info;
    int32_t pid = cmk_spawn_in(account, prog, args, 1, NULL, 0, CMK_ROLE_MAIN, &proc);
    if (pid > 0) {
        (void)cmk_proc_kill(proc);
        (void)cmk_proc_wait(proc, 10 * SECOND_NS, &info);
        (void)cm_handle_close(proc);
    }
    CHECK_ST(pid > 0 ? CM_OK : (cm_status_t)pid, want);
    CHECK(proc == CM_HANDLE_INVALID);
    return 0;
}

static int worker_ask(const struct worker *w, uint32_t op, uint32_t n, cm_handle_t send,
                      struct acct_report *r, cm_handle_t *got)
{
    struct acct_order o = { op, n };
    uint32_t nb, nh;
    cm_handle_t h = CM_HANDLE_INVALID;
    CHECK_ST(cm_channel_write(w->ch, &o, sizeof(o), &send, send != CM_HANDLE_INVALID), CM_OK);
    CHECK_ST(cm_channel_wait_readable(w->ch, 20 * SECOND_NS), CM_OK);
    CHECK_ST(cm_channel_read(w->ch, r, sizeof(*r), &nb, &h, 1, &nh), CM_OK);
    CHECK(nb == sizeof(*r));
    if (got != NULL)
        *got = h;
    else if (nh != 0)
        CHECK_ST(cm_handle_close(h), CM_OK);
    return 0;
}

static int proc_end(cm_handle_t proc, uint32_t reason, cmk_exit_info_t *info)
{
    if (reason == CMK_EXIT_KILLED)
        CHECK_ST(cmk_proc_kill(proc), CM_OK);
    CHECK_ST(cmk_proc_wait(proc, 10 * SECOND_NS, info), CM_OK);
    CHECK(info->reason == reason);
    CHECK_ST(cm_handle_close(proc), CM_OK);
    return 0;
}

static int worker_kill(struct worker *w)
{
    cmk_exit_info_t info;
    CHECK(proc_end(w->proc, CMK_EXIT_KILLED, &info) == 0);
    CHECK_ST(cm_handle_close(w->ch), CM_OK);
    return 0;
}

static uint64_t room(const cm_ledger_info_t *l, cm_ledger_kind_t k)
{
    return l->entry[k].limit - l->entry[k].used - l->entry[k].given;
}

/* Two children in one account: their charges add up in its one ledger,
 * its PROCESSES counts them; when one spends the account's VMOS both get
 * NO_RESOURCES, while a child in another account and this process keep
 * creating. */
static int test_account_shared_by_children_adds_up_and_exhaustion_stays_inside_body(void)
{
    struct baseline b;
    struct worker w1, w2, other;
    struct acct_report r;
    cm_handle_t shared, apart, v;
    cm_ledger_info_t l, ls0, ls1;
    CHECK(baseline_take(&b) == 0);
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_VMOS] = 9;
    q.limit[CM_LEDGER_PROCESSES] = 2;
    CHECK_ST(cmk_account_create(&q, 0, &shared), CM_OK);
    /* Carved as a child's quota, plus one PROCESSES for the account. */
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_VMOS].given == b.l.entry[CM_LEDGER_VMOS].given + 9);
    CHECK(l.entry[CM_LEDGER_PROCESSES].given == b.l.entry[CM_LEDGER_PROCESSES].given + 2);
    CHECK(l.entry[CM_LEDGER_PROCESSES].used == b.l.entry[CM_LEDGER_PROCESSES].used + 1);
    CHECK(cmk_account_live_count() == b.accounts + 1);
    q.limit[CM_LEDGER_PROCESSES] = 1;
    CHECK_ST(cmk_account_create(&q, 0, &apart), CM_OK);

    CHECK(worker_start(shared, NULL, &w1) == 0);
    CHECK(worker_start(shared, NULL, &w2) == 0);
    CHECK(worker_start(apart, NULL, &other) == 0);
    CHECK_ST(cmk_account_get(shared, &ls0), CM_OK);
    CHECK(ls0.entry[CM_LEDGER_PROCESSES].used == 2);
    CHECK(ls0.entry[CM_LEDGER_PROCESSES].limit == 2);
    /* A third process does not fit: typed, nothing started. */
    CHECK(spawn_in_refused(shared, "selftest", CM_ERR_NO_RESOURCES) == 0);

    CHECK(worker_ask(&w1, OP_VMOS, 3, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_OK);
    CHECK(r.count == 3);
    CHECK_ST(cmk_account_get(shared, &ls1), CM_OK);
    CHECK(ls1.entry[CM_LEDGER_VMOS].used == ls0.entry[CM_LEDGER_VMOS].used + 3);
    uint64_t left = room(&ls1, CM_LEDGER_VMOS);
    CHECK(left > 0);
    /* w2 spends what w1 left: the two add up to the account's limit. */
    CHECK(worker_ask(&w2, OP_VMOS, 100, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_ERR_NO_RESOURCES);
    CHECK(r.count == left);
    CHECK(r.rollback == 1);
    CHECK_ST(cmk_account_get(shared, &ls1), CM_OK);
    CHECK(ls1.entry[CM_LEDGER_VMOS].used == ls1.entry[CM_LEDGER_VMOS].limit);
    CHECK(worker_ask(&w1, OP_VMOS, 1, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_ERR_NO_RESOURCES);
    CHECK(r.rollback == 1);
    /* Outside that account nothing changed. */
    CHECK(worker_ask(&other, OP_VMOS, 2, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_OK);
    CHECK(r.count == 2);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);

    /* Killing one member returns its charges to the account at once. */
    uint64_t before_kill = ls1.entry[CM_LEDGER_VMOS].used;
    CHECK(worker_kill(&w2) == 0);
    CHECK_ST(cmk_account_get(shared, &ls1), CM_OK);
    CHECK(ls1.entry[CM_LEDGER_VMOS].used == before_kill - left);
    CHECK(ls1.entry[CM_LEDGER_PROCESSES].used == 1);
    CHECK(worker_kill(&w1) == 0);
    CHECK(worker_kill(&other) == 0);
    CHECK_ST(cm_handle_close(shared), CM_OK);
    CHECK_ST(cm_handle_close(apart), CM_OK);
    return baseline_back(&b);
}

/* An account lives while a handle, a process or a charge is left: its
 * handle closed under a live child, the child killed while a VMO it made
 * is held here, that VMO closed; only then the carve comes back, once. */
static int test_account_lives_while_handle_process_or_charge_then_returns_once_body(void)
{
    struct baseline b;
    struct worker w;
    struct acct_report r;
    cm_handle_t acct, vmo;
    cm_ledger_info_t l;
    cmk_exit_info_t info;
    CHECK(baseline_take(&b) == 0);
    CHECK_ST(cmk_account_create(NULL, 0, &acct), CM_OK);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    uint64_t carved = l.entry[CM_LEDGER_CHANNELS].given - b.l.entry[CM_LEDGER_CHANNELS].given;
    uint64_t r0 = room(&b.l, CM_LEDGER_CHANNELS);
    CHECK(carved == r0 / 2 + r0 % 2); /* the spawn default */
    CHECK(worker_start(acct, NULL, &w) == 0);
    CHECK_ST(cm_handle_close(acct), CM_OK);
    CHECK(cmk_account_live_count() == b.accounts + 1);
    /* The worker makes a VMO and hands it over: charged to the account. */
    CHECK(worker_ask(&w, OP_GIVE, 2, CM_HANDLE_INVALID, &r, &vmo) == 0);
    CHECK_ST(r.status, CM_OK);
    CHECK(proc_end(w.proc, CMK_EXIT_KILLED, &info) == 0);
    CHECK_ST(cm_handle_close(w.ch), CM_OK);
    /* No handle, no process: the VMO's charge alone keeps it. */
    CHECK(cmk_account_live_count() == b.accounts + 1);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_CHANNELS].given == b.l.entry[CM_LEDGER_CHANNELS].given + carved);
    CHECK_ST(cm_vmo_write(vmo, "still", 0, 5), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return baseline_back(&b);
}

/* A parent gives a child an account by handle: the receiver spawns into
 * it, the grandchild is charged there (not to the receiver's own account),
 * and this process kills it through the process handle sent back. */
static int test_account_handle_sent_over_channel_receiver_spawns_into_it_body(void)
{
    struct baseline b;
    struct worker w;
    struct acct_report r;
    cm_handle_t acct, keep, proc;
    cm_ledger_info_t la, lw0, lw1;
    cmk_exit_info_t info;
    CHECK(baseline_take(&b) == 0);
    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_PROCESSES] = 1;
    CHECK_ST(cmk_account_create(&q, 0, &acct), CM_OK);
    CHECK_ST(cm_handle_duplicate(acct, CM_RIGHT_READ, &keep), CM_OK);
    CHECK(worker_start(CM_HANDLE_INVALID, NULL, &w) == 0);
    CHECK_ST(cm_ledger_get(&lw0), CM_OK);
    CHECK(worker_ask(&w, OP_SPAWN_IN, 0, acct, &r, &proc) == 0);
    CHECK_ST(r.status, CM_OK);
    CHECK_ST(cmk_account_get(keep, &la), CM_OK);
    CHECK(la.entry[CM_LEDGER_PROCESSES].used == 1);
    CHECK(la.entry[CM_LEDGER_COMMIT].used > 0); /* its address space */
    /* Nothing was carved from this process for the grandchild. */
    CHECK_ST(cm_ledger_get(&lw1), CM_OK);
    CHECK(lw1.entry[CM_LEDGER_PROCESSES].given == lw0.entry[CM_LEDGER_PROCESSES].given);
    CHECK(lw1.entry[CM_LEDGER_COMMIT].given == lw0.entry[CM_LEDGER_COMMIT].given);
    /* A read-only handle cannot spawn a second one (and it would not fit). */
    CHECK(spawn_in_refused(keep, "selftest", CM_ERR_ACCESS_DENIED) == 0);
    CHECK(proc_end(proc, CMK_EXIT_KILLED, &info) == 0);
    CHECK_ST(cmk_account_get(keep, &la), CM_OK);
    CHECK(la.entry[CM_LEDGER_PROCESSES].used == 0);
    CHECK(la.entry[CM_LEDGER_COMMIT].used == 0);
    CHECK(worker_kill(&w) == 0); /* it still holds the account handle */
    CHECK(cmk_account_live_count() == b.accounts + 1);
    CHECK_ST(cm_handle_close(keep), CM_OK);
    return baseline_back(&b);
}

/* Rights and hostile arguments: each refusal is typed and changes
 * nothing. */
static int test_account_rights_and_hostile_arguments_are_typed_body(void)
{
    struct baseline b;
    cm_handle_t acct, weak, vmo, h = CM_HANDLE_INVALID;
    cm_ledger_info_t l, la, la1;
    const char *args[1] = { "child_sleeper" };
    CHECK(baseline_take(&b) == 0);
    /* Create: unknown flags, bad pointers, quota above the room. */
    CHECK_ST(cmk_account_create(NULL, 2, &h), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_account_create(NULL, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_account_create(NULL, 0, (cm_handle_t *)(uintptr_t)0xffffffc000000000ull),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_account_create((const cmk_quota_t *)(uintptr_t)8, 0, &h), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_ACCOUNT_CREATE, 0, 1ull << 32, (uint64_t)&h, 0, 0,
                                       0, 0),
             CM_ERR_INVALID_ARGS);
    static const cm_ledger_kind_t kinds[] = { CM_LEDGER_VMOS, CM_LEDGER_COMMIT,
                                              CM_LEDGER_PROCESSES };
    for (uint32_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        cmk_quota_t q;
        cmk_quota_defaults(&q);
        q.limit[kinds[i]] = room(&b.l, kinds[i]) + (kinds[i] == CM_LEDGER_PROCESSES ? 0 : 1);
        cm_status_t want = kinds[i] == CM_LEDGER_COMMIT ? CM_ERR_QUOTA_COMMIT : CM_ERR_NO_RESOURCES;
        CHECK_ST(cmk_account_create(&q, 0, &h), want); /* PROCESSES: one goes to the account */
    }
    CHECK(h == CM_HANDLE_INVALID);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(ledger_same(&b.l, &l));
    CHECK(cmk_account_live_count() == b.accounts);

    CHECK_ST(cmk_account_create(NULL, 0, &acct), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    /* Bad handle, wrong type, high bits. */
    CHECK_ST(cmk_account_get(CM_HANDLE_INVALID, &la), CM_ERR_BAD_HANDLE);
    CHECK_ST(cmk_account_get(vmo, &la), CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_ACCOUNT_GET, (1ull << 32) | acct, (uint64_t)&la, 0,
                                       0, 0, 0, 0),
             CM_ERR_BAD_HANDLE);
    CHECK_ST(cmk_account_get(acct, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_account_set_limit(vmo, CM_LEDGER_VMOS, 0), CM_ERR_WRONG_TYPE);
    CHECK(spawn_in_refused(vmo, "selftest", CM_ERR_WRONG_TYPE) == 0);
    CHECK(spawn_in_refused(CM_HANDLE_INVALID, "selftest", CM_ERR_BAD_HANDLE) == 0);
    CHECK(spawn_in_refused(acct, "no_such_program", CM_ERR_NOT_FOUND) == 0);
    CHECK(cmk_spawn_in(acct, "selftest", args, 1, NULL, 0, CMK_ROLE_MAIN,
                       (cm_handle_t *)(uintptr_t)0xffffffc000000000ull) == CM_ERR_INVALID_ARGS);
    /* The raw struct: reserved words must be 0. */
    cmk_spawn_in_args_t raw = { { (uint64_t)(uintptr_t) "selftest", 0, 0, 0, 0, CMK_ROLE_MAIN, 0 },
                                acct, 1, 0 };
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_SPAWN_IN, (uint64_t)&raw, 0, 0, 0, 0, 0, 0),
             CM_ERR_INVALID_ARGS);
    raw.reserved = 0;
    raw.base.reserved = 1;
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_SPAWN_IN, (uint64_t)&raw, 0, 0, 0, 0, 0, 0),
             CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_SPAWN_IN, 0, 0, 0, 0, 0, 0, 0),
             CM_ERR_INVALID_ARGS);
    /* Limits: unknown kind, raising, below what is used, lowering. */
    CHECK_ST(cmk_account_get(acct, &la), CM_OK);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_KIND_COUNT, 0), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cmk_account_set_limit(acct, (cm_ledger_kind_t)0x7fffffff, 0), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_VMOS, la.entry[CM_LEDGER_VMOS].limit + 1),
             CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_HANDLES, UINT64_MAX), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cmk_account_get(acct, &la1), CM_OK);
    CHECK(ledger_same(&la, &la1));
    /* Lowering a carved kind returns the difference to this room. */
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    uint64_t drop = la.entry[CM_LEDGER_VMOS].limit / 2;
    CHECK(drop > 0);
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_VMOS, la.entry[CM_LEDGER_VMOS].limit - drop),
             CM_OK);
    cm_ledger_info_t l2;
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(l2.entry[CM_LEDGER_VMOS].given == l.entry[CM_LEDGER_VMOS].given - drop);
    /* A per-process kind: its limit only. */
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_HANDLES, 3), CM_OK);
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(l2.entry[CM_LEDGER_HANDLES].given == l.entry[CM_LEDGER_HANDLES].given);
    /* Rights: without SIGNAL no spawn, without WRITE no set_limit, without
     * READ no get. */
    CHECK_ST(cm_handle_duplicate(acct, CM_RIGHT_READ | CM_RIGHT_WRITE, &weak), CM_OK);
    CHECK(spawn_in_refused(weak, "selftest", CM_ERR_ACCESS_DENIED) == 0);
    CHECK_ST(cm_handle_close(weak), CM_OK);
    CHECK_ST(cm_handle_duplicate(acct, CM_RIGHT_READ | CM_RIGHT_SIGNAL, &weak), CM_OK);
    CHECK_ST(cmk_account_set_limit(weak, CM_LEDGER_VMOS, 0), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(weak), CM_OK);
    CHECK_ST(cm_handle_duplicate(acct, CM_RIGHT_SIGNAL, &weak), CM_OK);
    CHECK_ST(cmk_account_get(weak, &la1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(weak), CM_OK);
    /* An account whose PROCESSES limit is 0 takes no process. */
    CHECK_ST(cmk_account_set_limit(acct, CM_LEDGER_PROCESSES, 0), CM_OK);
    CHECK(spawn_in_refused(acct, "selftest", CM_ERR_NO_RESOURCES) == 0);
    CHECK_ST(cmk_account_get(acct, &la1), CM_OK);
    CHECK(cm_ledger_get(&l2) == CM_OK);
    CHECK(la1.entry[CM_LEDGER_PROCESSES].used == 0 && la1.entry[CM_LEDGER_COMMIT].used == 0);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    CHECK_ST(cm_handle_close(acct), CM_OK);
    return baseline_back(&b);
}

/* Overcommit. This process keeps `room` pages of COMMIT room; two
 * overcommitted accounts may each use all of it (their caps add up to
 * twice the room) and a carved one gets a fixed share. Their frames are
 * drawn from the room when charged: the first commits most of it, the
 * second then gets MEMORY_PRESSURE within its own cap (never
 * QUOTA_COMMIT) with nothing charged, a small commit still succeeds, the
 * carved sibling commits its whole share, and a cap lowered below a
 * commit is QUOTA_COMMIT. A child that demand-faults past the room exits
 * FAULTED with MEMORY_PRESSURE. */
static int test_overcommitted_accounts_draw_from_room_and_get_memory_pressure_body(void)
{
    struct baseline b;
    struct worker w1, w2, wc, wt;
    struct acct_report r;
    cm_handle_t o1, o2, o3, carved;
    cm_ledger_info_t l, lo, lo2, lc;
    cmk_exit_info_t info;
    const uint64_t ROOM = 2048, SHARE = 320; /* pages; a worker holds about 190 */
    CHECK(baseline_take(&b) == 0);
    const cm_ledger_entry_t *e = &b.l.entry[CM_LEDGER_COMMIT];
    CHECK(e->limit - e->used - e->given > ROOM * PAGE);
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_COMMIT, e->used + e->given + ROOM * PAGE), CM_OK);
    CHECK(baseline_take(&b) == 0); /* the lowered limit is the baseline now */

    cmk_quota_t q;
    cmk_quota_defaults(&q);
    q.limit[CM_LEDGER_PROCESSES] = 5; /* w1 and what it spawns below */
    q.limit[CM_LEDGER_COMMIT] = ROOM * PAGE;
    CHECK_ST(cmk_account_create(&q, CMK_ACCOUNT_OVERCOMMIT, &o1), CM_OK);
    q.limit[CM_LEDGER_PROCESSES] = 1;
    CHECK_ST(cmk_account_create(&q, CMK_ACCOUNT_OVERCOMMIT, &o2), CM_OK);
    CHECK_ST(cmk_account_create(&q, CMK_ACCOUNT_OVERCOMMIT, &o3), CM_OK);
    q.limit[CM_LEDGER_COMMIT] = SHARE * PAGE;
    CHECK_ST(cmk_account_create(&q, 0, &carved), CM_OK);
    /* Nothing carved for the overcommitted ones: only the carved share. */
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(l.entry[CM_LEDGER_COMMIT].given == b.l.entry[CM_LEDGER_COMMIT].given + SHARE * PAGE);
    CHECK_ST(cmk_account_get(o1, &lo), CM_OK);
    CHECK(lo.entry[CM_LEDGER_COMMIT].limit == ROOM * PAGE);
    CHECK((lo.entry[CM_LEDGER_COMMIT].flags & CM_LEDGER_CARVED) == 0);
    CHECK((lo.entry[CM_LEDGER_COMMIT].flags & CM_LEDGER_ENFORCED) != 0);
    CHECK((lo.entry[CM_LEDGER_VMOS].flags & CM_LEDGER_CARVED) != 0);
    /* A cap above this account's own limit is cut to it. */
    q.limit[CM_LEDGER_COMMIT] = UINT64_MAX - 1;
    cm_handle_t big;
    CHECK_ST(cmk_account_create(&q, CMK_ACCOUNT_OVERCOMMIT, &big), CM_OK);
    CHECK_ST(cmk_account_get(big, &lo2), CM_OK);
    CHECK(lo2.entry[CM_LEDGER_COMMIT].limit == l.entry[CM_LEDGER_COMMIT].limit);
    CHECK_ST(cm_handle_close(big), CM_OK);

    CHECK(worker_start(o1, NULL, &w1) == 0);
    CHECK(worker_start(o2, NULL, &w2) == 0);
    /* The invariant: what each overcommitted account holds sits in this
     * process's `given`, drawn when charged. */
    CHECK_ST(cmk_account_get(o1, &lo), CM_OK);
    CHECK_ST(cmk_account_get(o2, &lo2), CM_OK);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(lo.entry[CM_LEDGER_COMMIT].used > 0);
    printf("# a worker process holds %lu pages\n",
           (unsigned long)(lo.entry[CM_LEDGER_COMMIT].used / PAGE));
    CHECK(l.entry[CM_LEDGER_COMMIT].given == b.l.entry[CM_LEDGER_COMMIT].given + SHARE * PAGE +
                                                 lo.entry[CM_LEDGER_COMMIT].used +
                                                 lo2.entry[CM_LEDGER_COMMIT].used);
    /* A child of an overcommitted account: its default COMMIT carve is
     * drawn from this room at spawn (and no more than is there); an
     * overcommitted account made inside one draws through both. */
    for (uint32_t n = 0; n < 2; n++) {
        cm_handle_t gp;
        cm_ledger_info_t g0, g1;
        CHECK_ST(cm_ledger_get(&g0), CM_OK);
        CHECK_ST(cmk_account_get(o1, &lo), CM_OK);
        CHECK(worker_ask(&w1, OP_SPAWN_CHILD, n, CM_HANDLE_INVALID, &r, &gp) == 0);
        CHECK_ST(r.status, CM_OK);
        CHECK_ST(cm_ledger_get(&g1), CM_OK);
        CHECK_ST(cmk_account_get(o1, &lo2), CM_OK);
        uint64_t drew = lo2.entry[CM_LEDGER_COMMIT].used + lo2.entry[CM_LEDGER_COMMIT].given -
                        lo.entry[CM_LEDGER_COMMIT].used - lo.entry[CM_LEDGER_COMMIT].given;
        CHECK(drew > 0);
        CHECK(drew <= room(&g0, CM_LEDGER_COMMIT));
        CHECK(g1.entry[CM_LEDGER_COMMIT].given == g0.entry[CM_LEDGER_COMMIT].given + drew);
        CHECK(proc_end(gp, CMK_EXIT_KILLED, &info) == 0);
        CHECK_ST(cm_ledger_get(&g1), CM_OK);
        CHECK(g1.entry[CM_LEDGER_COMMIT].given == g0.entry[CM_LEDGER_COMMIT].given);
    }
    CHECK(worker_start(carved, NULL, &wc) == 0);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    uint64_t left = room(&l, CM_LEDGER_COMMIT) / PAGE;
    /* w1 commits all but 32 pages of the room (a VMO's tables and commit
     * set take a few frames more). */
    CHECK(left > 64);
    CHECK(worker_ask(&w1, OP_COMMIT, (uint32_t)(left - 32), CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_OK);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(room(&l, CM_LEDGER_COMMIT) < 32 * PAGE);
    /* w2 is far inside its cap, but the room is short. */
    CHECK_ST(cmk_account_get(o2, &lo2), CM_OK);
    CHECK(room(&lo2, CM_LEDGER_COMMIT) > 64 * PAGE);
    CHECK(worker_ask(&w2, OP_COMMIT, 64, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_ERR_MEMORY_PRESSURE);
    CHECK(r.rollback == 1);
    cm_ledger_info_t l1;
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(ledger_same(&l, &l1));
    CHECK(worker_ask(&w2, OP_COMMIT, 1, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_OK);
    /* The carved sibling is untouched: its whole share is there. */
    CHECK_ST(cmk_account_get(carved, &lc), CM_OK);
    uint64_t mine = room(&lc, CM_LEDGER_COMMIT) / PAGE;
    CHECK(mine > 8);
    CHECK(worker_ask(&wc, OP_COMMIT, (uint32_t)(mine - 4), CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_OK);
    /* Over its own cap it is QUOTA_COMMIT, never MEMORY_PRESSURE; lowering
     * an overcommitted cap returns nothing to this room. */
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK_ST(cmk_account_get(o2, &lo2), CM_OK);
    CHECK_ST(cmk_account_set_limit(o2, CM_LEDGER_COMMIT,
                                   lo2.entry[CM_LEDGER_COMMIT].used + 2 * PAGE),
             CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK(ledger_same(&l, &l1));
    CHECK(worker_ask(&w2, OP_COMMIT, 8, CM_HANDLE_INVALID, &r, NULL) == 0);
    CHECK_ST(r.status, CM_ERR_QUOTA_COMMIT);
    CHECK(r.rollback == 1);
    /* Freeing w1's frames gives the room back at once. */
    CHECK(worker_kill(&w1) == 0);
    CHECK_ST(cm_ledger_get(&l), CM_OK);
    CHECK(room(&l, CM_LEDGER_COMMIT) / PAGE > left - 32);
    /* A demand fault past the room ends the process with MEMORY_PRESSURE:
     * o3's cap is the whole room, w2 and wc hold part of it. */
    CHECK(worker_start(o3, NULL, &wt) == 0);
    struct acct_order o = { OP_TOUCH, (uint32_t)ROOM };
    CHECK_ST(cm_channel_write(wt.ch, &o, sizeof(o), NULL, 0), CM_OK);
    CHECK(proc_end(wt.proc, CMK_EXIT_FAULTED, &info) == 0);
    CHECK(info.code == 15);
    CHECK_ST(info.status, CM_ERR_MEMORY_PRESSURE);
    CHECK_ST(cm_handle_close(wt.ch), CM_OK);
    CHECK(worker_kill(&w2) == 0);
    CHECK(worker_kill(&wc) == 0);
    CHECK_ST(cm_handle_close(o1), CM_OK);
    CHECK_ST(cm_handle_close(o2), CM_OK);
    CHECK_ST(cm_handle_close(o3), CM_OK);
    CHECK_ST(cm_handle_close(carved), CM_OK);
    return baseline_back(&b);
}

int test_account_shared_by_children_adds_up_and_exhaustion_stays_inside(void)
{
    return kill_leftovers(test_account_shared_by_children_adds_up_and_exhaustion_stays_inside_body());
}

int test_account_lives_while_handle_process_or_charge_then_returns_once(void)
{
    return kill_leftovers(test_account_lives_while_handle_process_or_charge_then_returns_once_body());
}

int test_account_handle_sent_over_channel_receiver_spawns_into_it(void)
{
    return kill_leftovers(test_account_handle_sent_over_channel_receiver_spawns_into_it_body());
}

int test_account_rights_and_hostile_arguments_are_typed(void)
{
    return kill_leftovers(test_account_rights_and_hostile_arguments_are_typed_body());
}

int test_overcommitted_accounts_draw_from_room_and_get_memory_pressure(void)
{
    return kill_leftovers(test_overcommitted_accounts_draw_from_room_and_get_memory_pressure_body());
}

/* A process that makes accounts until refused: each costs one PROCESSES of
 * its maker even with every limit 0, so it stops at its own PROCESSES
 * room with NO_RESOURCES (the kernel's account table, MAX_PROCS, is never
 * the limit: the last account there fills it exactly); all of them end
 * when their handles close. */
static int test_account_hog_stops_at_its_processes_room_body(void)
{
    struct baseline b;
    cm_handle_t h[64];
    uint32_t n = 0;
    cm_status_t st;
    CHECK(baseline_take(&b) == 0);
    cmk_quota_t zero;
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        zero.limit[k] = 0;
    uint64_t want = room(&b.l, CM_LEDGER_PROCESSES);
    CHECK(want > 0 && want < 64);
    while ((st = cmk_account_create(&zero, 0, &h[n])) == CM_OK && n < 63)
        n++;
    CHECK_ST(st, CM_ERR_NO_RESOURCES);
    CHECK(n == want);
    CHECK(cmk_account_live_count() == b.accounts + (int64_t)n);
    /* An overcommitted one costs the same PROCESSES: refused too. */
    CHECK_ST(cmk_account_create(&zero, CMK_ACCOUNT_OVERCOMMIT, &h[n]), CM_ERR_NO_RESOURCES);
    while (n > 0)
        CHECK_ST(cm_handle_close(h[--n]), CM_OK);
    return baseline_back(&b);
}

int test_account_hog_stops_at_its_processes_room(void)
{
    return kill_leftovers(test_account_hog_stops_at_its_processes_room_body());
}
