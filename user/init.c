/* init: the first process. Runs every selftest in its own process, prints
 * one TAP line per test, then checks that the kernel is back where it was
 * before the suite (free frames, live objects, processes, queued messages).
 * Its exit code is the run's verdict: the kernel powers QEMU off with
 * "pass" only if init exits 0. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"

/* Small enough that the whole run stays well under the harness's budget
 * under TCG, large enough to span several VMO leaf tables (1024 pages). */
#define PROOF_SIZE "4194304"

struct test {
    const char *name;
    const char *prog;
    const char *args[4];
    uint32_t nargs;
    int expect_fail; /* the test passes only if the program reports failure */
};

#define SELFTEST(n) { #n, "selftest", { #n }, 1, 0 }

static const struct test tests[] = {
    { "vmo_share_proof", "vmo_share", { "--size", PROOF_SIZE }, 2, 0 },
    { "vmo_share_detects_corrupted_hash", "vmo_share",
      { "--size", "65536", "--break-hash", "--quiet" }, 4, 1 },
    SELFTEST(test_reject_unauthorized_transfer),
    SELFTEST(test_reject_oversized_mapping),
    SELFTEST(test_ro_mapping_enforced),
    SELFTEST(test_write_to_sealed_mapping_faults_process),
    SELFTEST(test_mapping_is_never_executable),
    SELFTEST(test_seal_immutable_refused_while_writable_mapping),
    SELFTEST(test_readonly_seal_keeps_existing_mapping),
    SELFTEST(test_snapshot_is_immutable),
    SELFTEST(test_set_size_rules),
    SELFTEST(test_vmo_bounds),
    SELFTEST(test_mapping_outlives_handle),
    SELFTEST(test_stale_handle_rejected),
    SELFTEST(test_wrong_type_rejected),
    SELFTEST(test_rights_only_shrink),
    SELFTEST(test_handle_table_limit),
    SELFTEST(test_channel_read_without_room_drops_message),
    SELFTEST(test_channel_too_many_handles),
    SELFTEST(test_channel_too_many_bytes),
    SELFTEST(test_channel_queue_full),
    SELFTEST(test_channel_consumes_handles_on_failure),
    SELFTEST(test_channel_buffer_too_small_keeps_message),
    SELFTEST(test_channel_wait_timeout_and_peer_closed),
    SELFTEST(test_bad_user_pointers_rejected),
    SELFTEST(test_timer_preempts_busy_process),
    SELFTEST(test_random_syscalls_do_not_hurt_kernel),
    SELFTEST(test_orphan_is_reaped),
};

#define NTESTS (sizeof(tests) / sizeof(tests[0]))

static const char *reason_str(uint32_t r)
{
    return r == CMK_EXIT_NORMAL ? "exit" : r == CMK_EXIT_FAULTED ? "fault" : "?";
}

static int run(uint32_t n, const struct test *t)
{
    cmk_exit_info_t info = { 0, 0, 0 };
    if (t->expect_fail)
        printf("# %s: the next run must report a failure\n", t->name);
    int32_t pid = cmk_spawn(t->prog, t->args, t->nargs, 0, 0, CMK_ROLE_MAIN);
    cm_status_t st = pid > 0 ? cmk_wait(pid, &info) : pid;
    int clean = st == CM_OK && info.reason == CMK_EXIT_NORMAL;
    int pass = clean && (t->expect_fail ? info.code != 0 : info.code == 0);
    if (pass)
        printf("ok %u - %s\n", n, t->name);
    else if (st != CM_OK)
        printf("not ok %u - %s # spawn/wait: %s\n", n, t->name, cm_status_name(st));
    else
        printf("not ok %u - %s # %s %d\n", n, t->name, reason_str(info.reason), info.code);
    return pass;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cmk_counters_t before, after;
    int failed = 0;
    printf("1..%u\n", (unsigned)(NTESTS + 1));
    if (cmk_counters(&before) != CM_OK)
        return 1;
    for (uint32_t i = 0; i < NTESTS; i++)
        failed += !run(i + 1, &tests[i]);
    cmk_counters(&after);
    int leak = before.free_frames != after.free_frames ||
               before.live_objects != after.live_objects ||
               before.live_procs != after.live_procs || before.live_msgs != after.live_msgs;
    printf("# counters before: frames %lu objects %lu procs %lu msgs %lu\n",
           (unsigned long)before.free_frames, (unsigned long)before.live_objects,
           (unsigned long)before.live_procs, (unsigned long)before.live_msgs);
    printf("# counters after:  frames %lu objects %lu procs %lu msgs %lu\n",
           (unsigned long)after.free_frames, (unsigned long)after.live_objects,
           (unsigned long)after.live_procs, (unsigned long)after.live_msgs);
    printf("%s %u - test_no_leaks_after_suite\n", leak ? "not ok" : "ok", (unsigned)(NTESTS + 1));
    failed += leak;
    printf("# %d failed\n", failed);
    return failed == 0 ? 0 : 1;
}
