/* SPDX-License-Identifier: MIT */
#include "harness.h"

const char *conf_skip_reason;

int conf_run(const struct conf_test *tests, uint32_t n)
{
    int failed = 0;
    const char *pre = conf_target.tap_prefix;
    printf("%s# conformance suite on target %s\n", pre, conf_target.name);
    printf("%s1..%u\n", pre, (unsigned)n);
    for (uint32_t i = 0; i < n; i++) {
        int before = conf_target.live_handles();
        conf_skip_reason = 0;
        int rc = tests[i].fn();
        int after = conf_target.live_handles();
        if (rc == CONF_SKIP) {
            printf("%sok %u - %s # SKIP %s\n", pre, (unsigned)(i + 1), tests[i].name,
                   conf_skip_reason ? conf_skip_reason : "target lacks a capability");
            continue;
        }
        int bad = rc != 0;
        if (!bad && before >= 0 && after != before) {
            printf("%s# %s: live handles %d before, %d after\n", pre, tests[i].name, before,
                   after);
            bad = 1;
        }
        printf("%s%s %u - %s\n", pre, bad ? "not ok" : "ok", (unsigned)(i + 1), tests[i].name);
        failed += bad;
    }
    return failed;
}
