#include "harness.h"

int conf_run(const struct conf_test *tests, uint32_t n)
{
    int failed = 0;
    const char *pre = conf_target.tap_prefix;
    printf("%s# conformance suite on target %s\n", pre, conf_target.name);
    printf("%s1..%u\n", pre, (unsigned)n);
    for (uint32_t i = 0; i < n; i++) {
        int before = conf_target.live_handles();
        int bad = tests[i].fn() != 0;
        int after = conf_target.live_handles();
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
