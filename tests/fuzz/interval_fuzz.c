/* SPDX-License-Identifier: MIT */
/* libFuzzer target for core/interval.
 *
 *   make build/libfuzzer/interval && build/libfuzzer/interval -runs=10000000
 *
 * Input: byte 0 picks the node capacity (1..16); the rest is a sequence of
 * operations on a 64-page window. Each operation is checked against the
 * page-level view taken before it:
 *  - invariants I1..I4 hold (cm__iv_check) and the node count equals the
 *    number of maximal runs of identical pages (canonical form);
 *  - a failed call changed nothing, byte for byte;
 *  - a successful call changed exactly the pages it names, in the way it
 *    names: reserve fills free pages, release frees reserved pages, protect
 *    changes only prot. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <capmem/limits.h>

#include "interval.h"
#include "fuzz_input.h"
#include "fuzz_stage.h"

FUZZ_STAGES("refused", "full", "reserve", "release", "protect", "accepted");
enum { ST_REFUSED, ST_FULL, ST_RESERVE, ST_RELEASE, ST_PROTECT, ST_ACCEPTED };

#define PG ((uint64_t)CM_PAGE_SIZE)
#define NPAGES 64
#define BASE (PG * 32)
#define LIMIT (BASE + PG * NPAGES)
#define MAXCAP 16

struct page {
    int used;
    uint32_t kind, prot;
    uint64_t tag;
};

static void view(const struct cm__iv_map *m, struct page pg[NPAGES])
{
    for (int p = 0; p < NPAGES; p++) {
        const struct cm__iv_node *n = cm__iv_find(m, BASE + PG * (uint64_t)p);
        pg[p] = n != NULL ? (struct page){ 1, n->kind, n->prot, n->tag }
                          : (struct page){ 0, 0, 0, 0 };
    }
}

/* Field by field: struct page has padding that memcmp would read. */
static int same_page(const struct page *a, const struct page *b)
{
    return a->used == b->used && a->kind == b->kind && a->prot == b->prot &&
           a->tag == b->tag;
}

static uint32_t runs(const struct page pg[NPAGES])
{
    uint32_t r = 0;
    for (int p = 0; p < NPAGES; p++)
        if (pg[p].used && !(p > 0 && pg[p - 1].used && pg[p - 1].kind == pg[p].kind &&
                             pg[p - 1].prot == pg[p].prot && pg[p - 1].tag == pg[p].tag))
            r++;
    return r;
}

/* Page index range of [start, start+len) clipped to the window; the call
 * succeeded, so the range is inside it. */
static void pages_of(uint64_t start, uint64_t len, int *p0, int *p1)
{
    if (start < BASE || len > LIMIT - start || start + len > LIMIT)
        abort();
    *p0 = (int)((start - BASE) / PG);
    *p1 = (int)((start + len - BASE) / PG);
}

/* A release or protect refused for lack of nodes must really need more
 * than cap nodes: the check counts merges, so it must not refuse a result
 * that fits. */
static void check_really_full(const struct page before[NPAGES], uint64_t a, uint64_t len,
                              int release, uint32_t prot, uint32_t cap)
{
    struct page next[NPAGES];
    int p0, p1;
    pages_of(a, len, &p0, &p1);
    memcpy(next, before, sizeof next);
    for (int p = p0; p < p1; p++) {
        if (!next[p].used)
            abort(); /* should have been NOT_FOUND */
        if (release)
            next[p] = (struct page){ 0, 0, 0, 0 };
        else
            next[p].prot = prot;
    }
    if (runs(next) <= cap)
        abort();
}

/* Address or length: usually a page number near the window, sometimes a raw
 * 64-bit value (unaligned, wrapping, huge). */
static uint64_t addr(struct reader *r, int is_len)
{
    uint8_t b = byte(r);
    if (b == 0xff)
        return u64(r);
    if (is_len)
        return PG * (uint64_t)(b % (NPAGES + 4));
    return BASE - PG * 2 + PG * (uint64_t)(b % (NPAGES + 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size };
    struct cm__iv_node nodes[MAXCAP], saved[MAXCAP];
    struct cm__iv_map map;
    struct page before[NPAGES], after[NPAGES];
    uint32_t cap = 1 + byte(&r) % MAXCAP;

    if (cm__iv_init(&map, nodes, cap, BASE, LIMIT) != CM_OK)
        abort();
    while (r.n > 0) {
        uint8_t op = byte(&r);
        uint64_t a = addr(&r, 0), len = addr(&r, 1);
        uint8_t at = byte(&r);
        uint32_t kind = at & 1, prot = (at >> 1) & 3, flags = (at >> 3) & 3;
        uint64_t tag = (at >> 5) & 1, out = 0;
        uint32_t count = map.count;
        cm_status_t st;
        int p0, p1;

        view(&map, before);
        memcpy(saved, nodes, sizeof(nodes[0]) * count);
        switch (op % 3) {
        case 0:
            st = cm__iv_reserve(&map, a, len, flags, kind, prot, tag, &out);
            break;
        case 1:
            st = cm__iv_release(&map, a, len);
            break;
        default:
            st = cm__iv_protect(&map, a, len, prot);
            break;
        }

        if (cm__iv_check(&map) != CM_OK)
            abort();
        view(&map, after);
        if (cm__iv_count(&map) != runs(after))
            abort();
        if (st != CM_OK) {
            if (st > 0 || map.count != count ||
                memcmp(saved, nodes, sizeof(nodes[0]) * count) != 0)
                abort();
            if (st == CM_ERR_NO_RESOURCES && op % 3 != 0) {
                check_really_full(before, a, len, op % 3 == 1, prot, cap);
                FUZZ_REACHED(ST_FULL);
            } else {
                FUZZ_REACHED(ST_REFUSED);
            }
            continue;
        }

        if (op % 3 == 0) {
            if ((flags & CM_IV_FIXED) && out != a)
                abort();
            pages_of(out, len, &p0, &p1);
        } else {
            pages_of(a, len, &p0, &p1);
        }
        FUZZ_REACHED(ST_RESERVE + op % 3);
        FUZZ_REACHED(ST_ACCEPTED);
        for (int p = 0; p < NPAGES; p++) {
            struct page want = before[p];
            if (p >= p0 && p < p1) {
                switch (op % 3) {
                case 0:
                    if (before[p].used)
                        abort();
                    want = (struct page){ 1, kind, prot, tag };
                    break;
                case 1:
                    if (!before[p].used)
                        abort();
                    want = (struct page){ 0, 0, 0, 0 };
                    break;
                default:
                    if (!before[p].used)
                        abort();
                    want.prot = prot;
                    break;
                }
            }
            if (!same_page(&want, &after[p]))
                abort();
        }
    }
    return 0;
}
