/* SPDX-License-Identifier: MIT */
/* Runs a libFuzzer target without libFuzzer, so `make test` exercises every
 * fuzz target under ASan+UBSan with gcc: a fixed-seed stream of random
 * inputs (deterministic: the same inputs on every run). The targets read
 * their input as a recipe (tests/fuzz/NAME_fuzz.c), so random bytes build
 * mostly well-formed structures with selected fields broken.
 *
 * Prints TAP: one diagnostic line with the share of inputs that reached each
 * stage the target names (tests/fuzz/fuzz_stage.h), then one result, which
 * fails if any stage, "accepted" included, was never reached: a target whose
 * inputs all die at the first check cannot pass. An oracle failure or a
 * sanitizer report aborts the run (the runner counts the missing result).
 * Real coverage-guided fuzzing: `make fuzz`. Usage: driver [N]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_stage.h"

/* Weak, so that a target naming no stages still links and then fails. */
#pragma weak fuzz_stage_names
#pragma weak fuzz_stage_hits

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef DRIVER_ITERATIONS
#define DRIVER_ITERATIONS 200000
#endif

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Mostly short inputs, one in 16 up to the buffer size; bytes mostly
 * uniform, some small (counts, kinds and flags are often small values). */
static size_t make_input(uint8_t *buf, size_t cap, long i)
{
    size_t len = next() % (i % 16 == 0 ? cap : 160);
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(next() % (k % 4 == 3 ? 8 : 256));
    return len;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : DRIVER_ITERATIONS;
    const char *name = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
    static uint8_t buf[4096];
    unsigned long before[FUZZ_MAX_STAGES], inputs_at[FUZZ_MAX_STAGES] = { 0 };
    size_t nstages = 0;
    while (fuzz_stage_names != NULL && fuzz_stage_names[nstages] != NULL)
        nstages++;

    printf("1..1\n");
    fflush(stdout);
    for (long i = 0; i < iterations; i++) {
        size_t len = make_input(buf, sizeof(buf), i);
        if (nstages > 0)
            memcpy(before, fuzz_stage_hits, sizeof(before));
        LLVMFuzzerTestOneInput(buf, len);
        for (size_t s = 0; s < nstages; s++)
            inputs_at[s] += fuzz_stage_hits[s] != before[s];
    }

    int all_reached = nstages > 0;
    printf("# %s: %ld inputs; share of inputs reaching each stage:", name, iterations);
    for (size_t s = 0; s < nstages; s++) {
        printf(" %s %.1f%%", fuzz_stage_names[s],
               iterations > 0 ? 100.0 * (double)inputs_at[s] / (double)iterations : 0.0);
        all_reached &= inputs_at[s] > 0;
    }
    printf("\n");
    if (!all_reached) {
        if (nstages == 0)
            printf("not ok 1 - %s: the target names no stages (tests/fuzz/fuzz_stage.h), "
                   "so how deep its inputs get is unknown\n", name);
        else
            printf("not ok 1 - %s: some stage was never reached: the inputs do not get "
                   "past the first checks\n", name);
        return 1;
    }
    printf("ok 1 - %s: %ld inputs, every stage reached (accepted %.1f%%), "
           "no oracle failure, no sanitizer report\n", name, iterations,
           100.0 * (double)inputs_at[nstages - 1] / (double)iterations);
    return 0;
}
