/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_FUZZ_INPUT_H
#define CAPMEM_TESTS_FUZZ_INPUT_H

/* Reading a fuzz input as a recipe: bytes in order, big-endian words, and
 * zeros once the input runs out (so every input decodes to something). */

#include <stddef.h>
#include <stdint.h>

struct reader {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t byte(struct reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static inline uint32_t u32(struct reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | byte(r);
    return v;
}

static inline uint64_t u64(struct reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | byte(r);
    return v;
}

#endif
