#include "harness.h"

int conf_run(const struct conf_test *tests, uint32_t n)
{
    int failed = 0;
    printf("# conformance suite on target %s\n", conf_target.name);
    printf("1..%u\n", (unsigned)n);
    for (uint32_t i = 0; i < n; i++) {
        int before = conf_target.live_handles();
        int bad = tests[i].fn() != 0;
        int after = conf_target.live_handles();
        if (!bad && before >= 0 && after != before) {
            printf("# %s: live handles %d before, %d after\n", tests[i].name, before, after);
            bad = 1;
        }
        printf("%s %u - %s\n", bad ? "not ok" : "ok", (unsigned)(i + 1), tests[i].name);
        failed += bad;
    }
    return failed;
}
