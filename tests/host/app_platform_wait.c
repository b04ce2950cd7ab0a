/* SPDX-License-Identifier: MIT */
/* apps/platform_host.c's wait for the peer process ends on every waitpid
 * failure but EINTR: ECHILD (the peer was reaped elsewhere, here because
 * the process ignores SIGCHLD) is an error, not an endless retry. The
 * file is compiled into this test, which runs app_run_pair in a child with
 * an alarm, so that a spin shows as SIGALRM instead of hanging the suite. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../apps/platform_host.c"
#include "common/leakcheck.h"

static int second_exits(cm_handle_t peer, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cm_handle_close(peer);
    return 0;
}

/* With SIGCHLD ignored (set before the peer exists, so it can never be a
 * zombie first), Linux reaps the peer itself: waitpid gets ECHILD. */
static int run_pair_exit_code(app_role_fn first, app_role_fn second, int ignore_sigchld)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        if (ignore_sigchld)
            signal(SIGCHLD, SIG_IGN);
        char *argv[] = { "app", NULL };
        int rc = app_run_pair(first, second, 1, argv);
        fflush(NULL);
        _exit(rc == 0 ? 0 : 3);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        fail_msg("app_run_pair killed by signal %d (a spin ends in SIGALRM)", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_peer_wait_ends_with_error_on_echild(void **state)
{
    (void)state;
    assert_int_equal(run_pair_exit_code(second_exits, second_exits, 1), 3);
}

static void test_peer_wait_succeeds_normally(void **state)
{
    (void)state;
    assert_int_equal(run_pair_exit_code(second_exits, second_exits, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_peer_wait_ends_with_error_on_echild),
        LEAK_TEST(test_peer_wait_succeeds_normally),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
