/* SPDX-License-Identifier: MIT */
/* A cmocka program for the runner's self-test (tests/runner/selftest.sh):
 * cmocka 1.1.5 prints a skip()ped test as "not ok N # SKIP name", and the
 * runner accepts that form as a skip only from a program linked against
 * libcmocka. CAPMEM_FAKE_MODE picks what test 2 does: "skip", "fail", or
 * (unset) pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_passes(void **state)
{
    (void)state;
}

static void test_does_what_the_mode_says(void **state)
{
    (void)state;
    const char *mode = getenv("CAPMEM_FAKE_MODE");
    if (mode != NULL && strcmp(mode, "skip") == 0)
        skip();
    if (mode != NULL && strcmp(mode, "fail") == 0)
        fail_msg("failing on purpose (CAPMEM_FAKE_MODE=fail)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passes),
        cmocka_unit_test(test_does_what_the_mode_says),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
