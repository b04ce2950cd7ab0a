/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_FUZZ_STAGE_H
#define CAPMEM_TESTS_FUZZ_STAGE_H

/* How deep inputs get. Each fuzz target names its stages, in order, the last
 * being "accepted" (the input was valid and the code under test took it):
 *
 *   FUZZ_STAGES("header", "counts", "descriptors", "accepted");
 *   ... FUZZ_REACHED(2); ...
 *
 * tests/fuzz/driver.c prints the share of inputs that reached each stage
 * and fails when a stage was never reached, so a fuzzer that stopped at the
 * first check cannot pass. Under libFuzzer the counters are only counted. */

#include <stddef.h>

#define FUZZ_MAX_STAGES 16

extern const char *const fuzz_stage_names[];
extern unsigned long fuzz_stage_hits[FUZZ_MAX_STAGES];

#define FUZZ_STAGES(...)                                                   \
    const char *const fuzz_stage_names[] = { __VA_ARGS__, NULL };          \
    unsigned long fuzz_stage_hits[FUZZ_MAX_STAGES];                        \
    _Static_assert(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *) \
                       <= FUZZ_MAX_STAGES, "too many fuzz stages")

/* Counts one input (or operation, for targets that run a sequence) that
 * reached stage i. */
#define FUZZ_REACHED(i) ((void)fuzz_stage_hits[(i)]++)

#endif
