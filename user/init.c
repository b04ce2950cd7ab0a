/* SPDX-License-Identifier: MIT */
/* init: the first process. Starts the selftest runner (user/selftest.c run
 * without arguments), which prints the TAP plan and one line per test from
 * its one table, each test in its own process; then the conformance suite
 * (tests/conformance/, the same source the host runs), whose report lines
 * carry a "conformance: " prefix so that they stay out of the selftests'
 * TAP stream (tests/conformance/compare.sh reads them). init then checks that the
 * kernel is back where it was before the run (free frames, live objects,
 * processes, queued messages). Its exit code is the run's verdict: the
 * kernel powers QEMU off with "pass" only if init exits 0.
 *
 * That is init without arguments, the run `make qemu-test` makes. With
 * the one argument "shell" (the kernel command line, QEMU `-append shell`,
 * as `make qemu` boots), init starts the interactive shell (user/shell.c)
 * instead and exits with its exit code; any other argument is refused.
 *
 * init's start-up handles are the device windows (docs/mmio.md), the only
 * ones in the system. The selftest runner gets duplicates for the MMIO
 * selftests; init keeps the originals for the drivers it starts. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"

static void print_counters(const char *when, const cmk_counters_t *c)
{
    printf("# counters %s: frames %lu objects %lu procs %lu msgs %lu\n", when,
           (unsigned long)c->free_frames, (unsigned long)c->live_objects,
           (unsigned long)c->live_procs, (unsigned long)c->live_msgs);
}

/* The shell gets all of init's room, as each suite does. */
static int run_shell(void)
{
    cmk_exit_info_t info = { 0, 0, 0, 0, 0 };
    cmk_quota_t all;
    if (cmk_quota_share(&all, 1) != CM_OK)
        return 1;
    int32_t pid = cmk_spawn_ex("shell", NULL, 0, NULL, 0, CMK_ROLE_MAIN, &all, NULL);
    cm_status_t st = pid > 0 ? cmk_wait(pid, &info) : (cm_status_t)pid;
    if (st != CM_OK) {
        printf("# init: cannot run the shell: %s\n", cm_status_name(st));
        return 1;
    }
    if (info.reason != CMK_EXIT_NORMAL) {
        printf("# init: the shell was killed (scause %d)\n", info.code);
        return 1;
    }
    return info.code;
}

static int run_suites(void)
{
    cmk_counters_t before, after;
    cmk_exit_info_t info = { 0, 0, 0, 0, 0 };
    if (cmk_counters(&before) != CM_OK)
        return 1;
    /* init only starts the two suites, one after the other: each gets all
     * of init's room (docs/ledger.md). */
    cmk_quota_t all;
    if (cmk_quota_share(&all, 1) != CM_OK)
        return 1;
    cm_handle_t win[CMK_SPAWN_MAX_HANDLES];
    uint32_t nwin = cmk_startup_handle_count();
    for (uint32_t i = 0; i < nwin && i < CMK_SPAWN_MAX_HANDLES; i++) {
        if (cm_handle_duplicate(cmk_startup_handle(i), CM_RIGHTS_SAME, &win[i]) != CM_OK)
            return 1;
    }
    int32_t pid = cmk_spawn_ex("selftest", NULL, 0, win, nwin, CMK_ROLE_MAIN, &all, NULL);
    cm_status_t st = pid > 0 ? cmk_wait(pid, &info) : (cm_status_t)pid;
    if (st != CM_OK) {
        printf("# init: cannot run the selftests: %s\n", cm_status_name(st));
        return 1;
    }
    cmk_exit_info_t conf = { 0, 0, 0, 0, 0 };
    if (cmk_quota_share(&all, 1) != CM_OK)
        return 1;
    pid = cmk_spawn_ex("conformance", NULL, 0, NULL, 0, CMK_ROLE_MAIN, &all, NULL);
    st = pid > 0 ? cmk_wait(pid, &conf) : (cm_status_t)pid;
    if (st != CM_OK) {
        printf("# init: cannot run the conformance suite: %s\n", cm_status_name(st));
        return 1;
    }
    if (conf.reason != CMK_EXIT_NORMAL || conf.code != 0)
        printf("# init: the conformance suite failed (%s %d)\n",
               conf.reason == CMK_EXIT_NORMAL ? "exit" : "killed", conf.code);
    if (cmk_counters(&after) != CM_OK)
        return 1;
    print_counters("before", &before);
    print_counters("after ", &after);
    int leak = before.free_frames != after.free_frames ||
               before.live_objects != after.live_objects ||
               before.live_procs != after.live_procs || before.live_msgs != after.live_msgs;
    if (leak)
        printf("# init: the run left kernel state behind\n");
    if (info.reason != CMK_EXIT_NORMAL)
        printf("# init: the selftest runner was killed (scause %d)\n", info.code);
    int conf_ok = conf.reason == CMK_EXIT_NORMAL && conf.code == 0;
    return info.reason == CMK_EXIT_NORMAL && info.code == 0 && conf_ok && !leak ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return run_suites();
    if (argc == 2 && strcmp(argv[1], "shell") == 0)
        return run_shell();
    printf("# init: unknown command line (expected nothing, or \"shell\"):");
    for (int i = 1; i < argc; i++)
        printf(" '%s'", argv[i]);
    printf("\n");
    return 2;
}
