/* SPDX-License-Identifier: MIT */
/* Committed-page set. See commit_set.h for C1. Bit loops rather than
 * __builtin_popcount: freestanding builds link no libgcc popcount helper on
 * every target, and the sets are walked only by commit/decommit and checks. */
#include "commit_set.h"

static uint64_t bits_in(uint64_t w)
{
    uint64_t c = 0;
    while (w != 0) {
        w &= w - 1;
        c++;
    }
    return c;
}

cm_status_t cm__cs_init(struct cm__commit_set *cs, uint64_t *words, uint64_t nwords,
                        uint64_t npages)
{
    if (cs == 0 || words == 0 || nwords < CM__CS_WORDS(npages))
        return CM_ERR_INVALID_ARGS;
    for (uint64_t i = 0; i < CM__CS_WORDS(npages); i++)
        words[i] = 0;
    cs->words = words;
    cs->npages = npages;
    cs->count = 0;
    return CM_OK;
}

static int range_ok(const struct cm__commit_set *cs, uint64_t first, uint64_t n)
{
    return first + n >= first && first + n <= cs->npages;
}

/* Mask of the bits of word w that lie in [first, end). */
static uint64_t mask_in(uint64_t w, uint64_t first, uint64_t end)
{
    uint64_t lo = w * 64, hi = lo + 64;
    uint64_t a = first > lo ? first - lo : 0;
    uint64_t b = end < hi ? end - lo : 64;
    if (a >= b)
        return 0;
    uint64_t upper = b == 64 ? ~(uint64_t)0 : (((uint64_t)1 << b) - 1);
    return upper & ~(((uint64_t)1 << a) - 1);
}

cm_status_t cm__cs_apply(struct cm__commit_set *cs, int commit, uint64_t first, uint64_t n,
                         uint64_t *changed)
{
    if (!range_ok(cs, first, n))
        return CM_ERR_OUT_OF_RANGE;
    uint64_t end = first + n, delta = 0;
    for (uint64_t w = first / 64; n != 0 && w * 64 < end; w++) {
        uint64_t m = mask_in(w, first, end);
        if (commit) {
            delta += bits_in(m & ~cs->words[w]);
            cs->words[w] |= m;
        } else {
            delta += bits_in(m & cs->words[w]);
            cs->words[w] &= ~m;
        }
    }
    cs->count = commit ? cs->count + delta : cs->count - delta;
    *changed = delta;
    return CM_OK;
}

cm_status_t cm__cs_missing(const struct cm__commit_set *cs, uint64_t first, uint64_t n,
                           uint64_t *missing)
{
    if (!range_ok(cs, first, n))
        return CM_ERR_OUT_OF_RANGE;
    uint64_t end = first + n, c = 0;
    for (uint64_t w = first / 64; n != 0 && w * 64 < end; w++)
        c += bits_in(mask_in(w, first, end) & ~cs->words[w]);
    *missing = c;
    return CM_OK;
}

int cm__cs_test(const struct cm__commit_set *cs, uint64_t page)
{
    return page < cs->npages && ((cs->words[page / 64] >> (page % 64)) & 1u) != 0;
}

uint64_t cm__cs_count(const struct cm__commit_set *cs)
{
    return cs->count;
}

cm_status_t cm__cs_check(const struct cm__commit_set *cs)
{
    uint64_t c = 0, nw = CM__CS_WORDS(cs->npages);
    for (uint64_t w = 0; w < nw; w++) {
        if ((cs->words[w] & ~mask_in(w, 0, cs->npages)) != 0)
            return CM_ERR_INTERNAL;
        c += bits_in(cs->words[w]);
    }
    return c == cs->count ? CM_OK : CM_ERR_INTERNAL;
}
