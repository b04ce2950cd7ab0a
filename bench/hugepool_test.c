/* SPDX-License-Identifier: MIT */
/* Driver for bench/hugepool_test.sh: sets the hugetlb pool to argv[2]
 * pages, checks the kernel took it, then ends the way argv[1] names, so
 * the script can check the original value came back on that path:
 *   normal    return from main            (exit status 0)
 *   fail      BENCH_CHECK fails           (1)
 *   term      SIGTERM to itself           (killed by SIGTERM)
 *   int       SIGINT to itself            (killed by SIGINT)
 *   deadline  bench_set_deadline(1) fires (1)
 *   child     a forked child fails (bench_fail) first: the pool must still
 *             be the set value afterwards, then the parent returns (0) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "hugepool.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s normal|fail|term|int|deadline|child PAGES\n", argv[0]);
        return 2;
    }
    const char *how = argv[1];
    unsigned long pages = strtoul(argv[2], NULL, 10);
    BENCH_CHECK(hugepool_set(pages) == 0, "hugepool_set(%lu) failed", pages);
    long now = hugepool_get();
    if (now != (long)pages) {
        fprintf(stderr, "hugepool_test: kernel gave %ld of %lu pages\n", now, pages);
        return 3;
    }
    printf("pool set to %ld\n", now);
    fflush(stdout);
    if (strcmp(how, "normal") == 0)
        return 0;
    if (strcmp(how, "fail") == 0)
        BENCH_CHECK(0, "failing on purpose with the pool set");
    if (strcmp(how, "term") == 0)
        raise(SIGTERM);
    if (strcmp(how, "int") == 0)
        raise(SIGINT);
    if (strcmp(how, "deadline") == 0) {
        bench_set_deadline(1);
        for (;;)
            pause();
    }
    if (strcmp(how, "child") == 0) {
        pid_t pid = fork();
        BENCH_CHECK(pid >= 0, "fork");
        if (pid == 0)
            bench_fail("child failing on purpose");
        int st;
        BENCH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 1,
                    "child did not fail as planned");
        BENCH_CHECK(hugepool_get() == (long)pages, "a child's exit restored the pool");
        printf("pool still %ld after the child's failure\n", hugepool_get());
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", how);
    return 2;
}
