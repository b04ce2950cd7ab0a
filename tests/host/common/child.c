/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

int child_failures;

/* cmocka catches these and longjmps back into its runner: in a child that
 * would run the rest of the suite. Die of them instead. */
static void default_fatal_signals(void)
{
    const int fatal[] = { SIGBUS, SIGSEGV, SIGILL, SIGFPE, SIGABRT };
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        signal(fatal[i], SIG_DFL);
}

int in_child_alarm(int (*fn)(void *), void *arg, unsigned alarm_s)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        default_fatal_signals();
        alarm(alarm_s);
        _exit(fn(arg));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : WEXITSTATUS(status);
}

int in_child(int (*fn)(void *), void *arg)
{
    return in_child_alarm(fn, arg, CHILD_ALARM_S);
}

void checked_child_begin(void)
{
    default_fatal_signals();
    child_failures = 0;
    alarm(CHECKED_CHILD_ALARM_S);
}

pid_t fork_checked_child(void)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        checked_child_begin();
    return pid;
}

void child_exit(void)
{
    int n = child_failures > 100 ? 100 : child_failures;
    fflush(NULL);
    _exit(n == CHILD_SKIP ? CHILD_SKIP + 1 : n);
}

void assert_child_passed(pid_t pid)
{
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    assert_int_equal(r, pid);
    if (WIFSIGNALED(status))
        fail_msg("child killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == CHILD_SKIP)
        skip();
    if (WEXITSTATUS(status) != 0)
        fail_msg("child reported %d failed check(s)", WEXITSTATUS(status));
}
