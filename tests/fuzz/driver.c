/* Runs a libFuzzer target without libFuzzer, so `make test` exercises every
 * fuzz target under ASan+UBSan with gcc: a fixed-seed stream of random and
 * mutated inputs (deterministic: the same inputs on every run), then prints
 * one TAP line. Real coverage-guided fuzzing: build the target with
 * `clang -fsanitize=fuzzer` (see each target's header). Usage: driver [N]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : DRIVER_ITERATIONS;
    static uint8_t buf[4096];
    for (long i = 0; i < iterations; i++) {
        size_t len = next() % (i % 16 == 0 ? sizeof(buf) : 96);
        /* Mostly small values and structured-looking bytes: a record header
         * needs plausible magic/counts to get past the first checks. */
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)(next() % (k % 3 == 0 ? 256 : 8));
        if (len >= 17 && next() % 2) {
            const uint8_t hdr[] = { 0, 'C', 'M', 'C', 'H', 1, 0 };
            memcpy(buf, hdr, sizeof(hdr));
            buf[0] = (uint8_t)(next() % 4);
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("1..1\nok 1 - %s: %ld inputs, no oracle failure, no sanitizer report\n",
           argv[0], iterations);
    return 0;
}
