/* SPDX-License-Identifier: MIT */
/* Interval map over a caller-provided node array. See interval.h for the
 * invariants I1..I4 and the error order.
 *
 * Design: a sorted array, not a tree. Address spaces hold tens to a few
 * hundred reservations (CM_MAX_MAPPINGS is 256), lookups are binary
 * searches and the insert/remove cost is one short memmove, with no
 * allocation and no pointer structure to corrupt.
 *
 * Every mutation has two halves. The validate half computes, without
 * writing, whether the request is well-formed, whether the range is free
 * (reserve) or fully covered (release, protect), and exactly how many nodes
 * the result needs. The commit half then cannot fail, and never holds more
 * nodes than the final result at any moment, so a request whose final
 * layout fits is never refused for a transient. */

#include <capmem/limits.h>

#include "interval.h"

#define PAGE_MASK ((uint64_t)CM_PAGE_SIZE - 1u)

static int aligned(uint64_t x)
{
    return (x & PAGE_MASK) == 0;
}

static int same_attrs(const struct cm__iv_node *a, const struct cm__iv_node *b)
{
    return a->kind == b->kind && a->prot == b->prot && a->tag == b->tag;
}

/* True when b directly follows a with identical attributes: I4 forbids
 * keeping such a pair as two nodes. */
static int mergeable(const struct cm__iv_node *a, const struct cm__iv_node *b)
{
    return a->end == b->start && same_attrs(a, b);
}

/* Index of the first node with end > addr (count if none). By I3 the ends
 * are strictly increasing, so this is a binary search; every node before
 * the result ends at or below addr. */
static uint32_t lower(const struct cm__iv_map *map, uint64_t addr)
{
    uint32_t lo = 0, hi = map->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (map->nodes[mid].end > addr)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Moves n nodes from src to dst within the array; ranges may overlap.
 * Written out because core/ calls no libc. */
static void move_nodes(struct cm__iv_node *nodes, uint32_t dst, uint32_t src, uint32_t n)
{
    if (dst < src) {
        for (uint32_t k = 0; k < n; k++)
            nodes[dst + k] = nodes[src + k];
    } else if (dst > src) {
        for (uint32_t k = n; k > 0; k--)
            nodes[dst + k - 1] = nodes[src + k - 1];
    }
}

/* Caller guarantees count < capacity and i <= count. */
static void insert_at(struct cm__iv_map *map, uint32_t i, const struct cm__iv_node *n)
{
    move_nodes(map->nodes, i + 1, i, map->count - i);
    map->nodes[i] = *n;
    map->count++;
}

/* Caller guarantees i + n <= count. */
static void remove_at(struct cm__iv_map *map, uint32_t i, uint32_t n)
{
    move_nodes(map->nodes, i, i + n, map->count - i - n);
    map->count -= n;
}

/* Validates [start, start+len) for release/protect and returns its end.
 * Overflow-safe: a wrapped end is detected by end < start. */
static cm_status_t check_range(const struct cm__iv_map *map, uint64_t start,
                               uint64_t len, uint64_t *end)
{
    if (map == 0 || len == 0 || !aligned(start) || !aligned(len))
        return CM_ERR_INVALID_ARGS;
    uint64_t e = start + len;
    if (e < start || start < map->base || e > map->limit)
        return CM_ERR_OUT_OF_RANGE;
    *end = e;
    return CM_OK;
}

/* Finds the nodes first..last that together cover [start, end) with no
 * hole, or returns NOT_FOUND. */
static cm_status_t covering(const struct cm__iv_map *map, uint64_t start, uint64_t end,
                            uint32_t *first, uint32_t *last)
{
    uint32_t i = lower(map, start);
    if (i == map->count || map->nodes[i].start > start)
        return CM_ERR_NOT_FOUND;
    uint32_t j = i;
    while (map->nodes[j].end < end) {
        if (j + 1 == map->count || map->nodes[j + 1].start != map->nodes[j].end)
            return CM_ERR_NOT_FOUND;
        j++;
    }
    *first = i;
    *last = j;
    return CM_OK;
}

/* Lowest address a >= from with [a, a+len) free and inside the window.
 * Requires base <= from < limit and len <= limit - base. */
static int first_fit(const struct cm__iv_map *map, uint64_t from, uint64_t len, uint64_t *out)
{
    uint32_t i = lower(map, from);
    uint64_t cursor = from; /* nodes before i end at or below from */
    for (;; i++) {
        uint64_t gap_end = i < map->count ? map->nodes[i].start : map->limit;
        /* gap_end <= cursor when cursor lies inside node i. */
        if (gap_end > cursor && gap_end - cursor >= len) {
            *out = cursor;
            return 1;
        }
        if (i == map->count)
            return 0;
        cursor = map->nodes[i].end;
    }
}

cm_status_t cm__iv_init(struct cm__iv_map *map, struct cm__iv_node *nodes,
                        uint32_t capacity, uint64_t base, uint64_t limit)
{
    if (map == 0 || nodes == 0 || capacity == 0 || capacity > CM_IV_MAX_CAPACITY)
        return CM_ERR_INVALID_ARGS;
    if (!aligned(base) || !aligned(limit) || base >= limit)
        return CM_ERR_INVALID_ARGS;
    map->nodes = nodes;
    map->count = 0;
    map->capacity = capacity;
    map->base = base;
    map->limit = limit;
    return CM_OK;
}

static cm_status_t reserve_impl(struct cm__iv_map *map, uint64_t hint, uint64_t len,
                                uint32_t flags, uint32_t kind, uint32_t prot,
                                uint64_t tag, uint64_t *out_start, int commit)
{
    if (map == 0 || out_start == 0 || (flags & ~CM_IV_FLAGS_ALL) != 0)
        return CM_ERR_INVALID_ARGS;
    if (len == 0 || !aligned(len) || !aligned(hint))
        return CM_ERR_INVALID_ARGS;

    uint64_t start;
    if (flags & CM_IV_FIXED) {
        uint64_t end = hint + len;
        if (end < hint || hint < map->base || end > map->limit)
            return CM_ERR_OUT_OF_RANGE;
        uint32_t i = lower(map, hint);
        if (i < map->count && map->nodes[i].start < end)
            return CM_ERR_ALREADY_EXISTS;
        start = hint;
    } else {
        if (len > map->limit - map->base)
            return CM_ERR_OUT_OF_RANGE;
        int found = 0;
        if (hint >= map->base && hint < map->limit)
            found = first_fit(map, hint, len, &start);
        if (!found)
            found = first_fit(map, map->base, len, &start);
        if (!found)
            return CM_ERR_NO_RESOURCES;
    }

    /* [start, end) is free and inside the window. The node that follows it
     * (if any) is nodes[i]; the one before it is nodes[i-1]. */
    struct cm__iv_node n = { start, start + len, kind, prot, tag };
    uint32_t i = lower(map, start);
    int left = i > 0 && mergeable(&map->nodes[i - 1], &n);
    int right = i < map->count && mergeable(&n, &map->nodes[i]);
    if (!left && !right && map->count == map->capacity)
        return CM_ERR_NO_RESOURCES;
    if (!commit) {
        *out_start = start;
        return CM_OK;
    }

    /* Commit. */
    if (left && right) {
        map->nodes[i - 1].end = map->nodes[i].end;
        remove_at(map, i, 1);
    } else if (left) {
        map->nodes[i - 1].end = n.end;
    } else if (right) {
        map->nodes[i].start = n.start;
    } else {
        insert_at(map, i, &n);
    }
    *out_start = start;
    return CM_OK;
}

cm_status_t cm__iv_reserve(struct cm__iv_map *map, uint64_t hint, uint64_t len,
                           uint32_t flags, uint32_t kind, uint32_t prot,
                           uint64_t tag, uint64_t *out_start)
{
    return reserve_impl(map, hint, len, flags, kind, prot, tag, out_start, 1);
}

cm_status_t cm__iv_reserve_check(const struct cm__iv_map *map, uint64_t hint, uint64_t len,
                                 uint32_t flags, uint32_t kind, uint32_t prot,
                                 uint64_t tag, uint64_t *out_start)
{
    /* commit == 0 never writes through map. */
    return reserve_impl((struct cm__iv_map *)map, hint, len, flags, kind, prot, tag,
                        out_start, 0);
}

/* Validates [start, start+len) and finds the nodes i..j that cover it
 * entirely: the common first step of release and protect. */
static cm_status_t locate(const struct cm__iv_map *map, uint64_t start, uint64_t len,
                          uint64_t *end, uint32_t *i, uint32_t *j)
{
    cm_status_t st = check_range(map, start, len, end);
    if (st != CM_OK)
        return st;
    return covering(map, start, *end, i, j);
}

static cm_status_t release_impl(struct cm__iv_map *map, uint64_t start, uint64_t len,
                                int commit)
{
    uint64_t end;
    uint32_t i, j;
    cm_status_t st = locate(map, start, len, &end, &i, &j);
    if (st != CM_OK)
        return st;

    /* Head piece of nodes[i] and tail piece of nodes[j] survive. Nothing
     * new touches: the released hole separates them, so I4 needs no merge. */
    int head = map->nodes[i].start < start;
    int tail = map->nodes[j].end > end;

    if (i == j && head && tail) {
        /* Middle split: the only case that needs a new node. */
        if (map->count == map->capacity)
            return CM_ERR_NO_RESOURCES;
        if (!commit)
            return CM_OK;
        struct cm__iv_node t = map->nodes[i];
        t.start = end;
        map->nodes[i].end = start;
        insert_at(map, i + 1, &t);
        return CM_OK;
    }

    if (!commit)
        return CM_OK;
    if (head)
        map->nodes[i].end = start;
    if (tail)
        map->nodes[j].start = end;
    /* Remove the nodes wholly inside the range: [i+head, j+1-tail). Not
     * negative: i == j with both pieces was handled above. */
    uint32_t rm_first = i + (uint32_t)head;
    uint32_t rm_end = j + 1 - (uint32_t)tail;
    remove_at(map, rm_first, rm_end - rm_first);
    return CM_OK;
}

cm_status_t cm__iv_release(struct cm__iv_map *map, uint64_t start, uint64_t len)
{
    return release_impl(map, start, len, 1);
}

cm_status_t cm__iv_release_check(const struct cm__iv_map *map, uint64_t start, uint64_t len)
{
    return release_impl((struct cm__iv_map *)map, start, len, 0);
}

/* Node k as it will be after protect sets prot on nodes i..j, clipping
 * nodes[i] to start when it is split at the head and nodes[j] to end when
 * split at the tail. */
static struct cm__iv_node protected_view(const struct cm__iv_map *map, uint32_t k,
                                         uint32_t i, uint32_t j, int head, int tail,
                                         uint64_t start, uint64_t end, uint32_t prot)
{
    struct cm__iv_node n = map->nodes[k];
    if (k >= i && k <= j)
        n.prot = prot;
    if (k == i && head)
        n.start = start;
    if (k == j && tail)
        n.end = end;
    return n;
}

static cm_status_t protect_impl(struct cm__iv_map *map, uint64_t start, uint64_t len,
                                uint32_t prot, int commit)
{
    uint64_t end;
    uint32_t i, j;
    cm_status_t st = locate(map, start, len, &end, &i, &j);
    if (st != CM_OK)
        return st;

    /* A node cut by the range is split only if its prot actually changes;
     * otherwise the two pieces would be identical and merged right back. */
    int head = map->nodes[i].start < start && map->nodes[i].prot != prot;
    int tail = map->nodes[j].end > end && map->nodes[j].prot != prot;

    /* Nodes that may merge after the change: i..j, plus the outer
     * neighbours when no split piece stands between them and the range.
     * Split pieces never merge: they differ in prot from the protected part
     * and, by I4, from their other neighbour. */
    uint32_t lo = (!head && i > 0) ? i - 1 : i;
    uint32_t hi = (!tail && j + 1 < map->count) ? j + 1 : j;

    /* Validate: merging a chain of equal touching nodes removes one node
     * per mergeable adjacent pair, so count the pairs. */
    uint32_t merges = 0;
    struct cm__iv_node prev = protected_view(map, lo, i, j, head, tail, start, end, prot);
    for (uint32_t k = lo + 1; k <= hi; k++) {
        struct cm__iv_node cur = protected_view(map, k, i, j, head, tail, start, end, prot);
        if (mergeable(&prev, &cur))
            merges++;
        prev = cur;
    }
    uint64_t final_count = (uint64_t)map->count - merges + (uint64_t)head + (uint64_t)tail;
    if (final_count > map->capacity)
        return CM_ERR_NO_RESOURCES;
    if (!commit)
        return CM_OK;

    /* Commit: rewrite i..j in place, coalesce lo..hi (only shrinks), then
     * insert the split pieces around the protected run. */
    struct cm__iv_node head_piece = map->nodes[i];
    struct cm__iv_node tail_piece = map->nodes[j];
    head_piece.end = start;
    tail_piece.start = end;
    for (uint32_t k = i; k <= j; k++)
        map->nodes[k] = protected_view(map, k, i, j, head, tail, start, end, prot);

    uint32_t w = lo;
    for (uint32_t r = lo + 1; r <= hi; r++) {
        if (mergeable(&map->nodes[w], &map->nodes[r]))
            map->nodes[w].end = map->nodes[r].end;
        else
            map->nodes[++w] = map->nodes[r];
    }
    remove_at(map, w + 1, hi - w);

    /* With a head piece lo == i, and the protected run starts at i; with a
     * tail piece hi == j, and the run ends at w. */
    if (head) {
        insert_at(map, i, &head_piece);
        w++;
    }
    if (tail)
        insert_at(map, w + 1, &tail_piece);
    return CM_OK;
}

cm_status_t cm__iv_protect(struct cm__iv_map *map, uint64_t start, uint64_t len,
                           uint32_t prot)
{
    return protect_impl(map, start, len, prot, 1);
}

cm_status_t cm__iv_protect_check(const struct cm__iv_map *map, uint64_t start, uint64_t len,
                                 uint32_t prot)
{
    return protect_impl((struct cm__iv_map *)map, start, len, prot, 0);
}

const struct cm__iv_node *cm__iv_find(const struct cm__iv_map *map, uint64_t addr)
{
    if (map == 0)
        return 0;
    uint32_t i = lower(map, addr);
    if (i < map->count && map->nodes[i].start <= addr)
        return &map->nodes[i];
    return 0;
}

uint32_t cm__iv_count(const struct cm__iv_map *map)
{
    return map == 0 ? 0 : map->count;
}

const struct cm__iv_node *cm__iv_at(const struct cm__iv_map *map, uint32_t i)
{
    if (map == 0 || i >= map->count)
        return 0;
    return &map->nodes[i];
}

cm_status_t cm__iv_check(const struct cm__iv_map *map)
{
    if (map == 0 || map->nodes == 0 || map->count > map->capacity)
        return CM_ERR_INTERNAL;
    if (!aligned(map->base) || !aligned(map->limit) || map->base >= map->limit)
        return CM_ERR_INTERNAL;
    for (uint32_t k = 0; k < map->count; k++) {
        const struct cm__iv_node *n = &map->nodes[k];
        if (n->start >= n->end || !aligned(n->start) || !aligned(n->end))
            return CM_ERR_INTERNAL;                         /* I1 */
        if (n->start < map->base || n->end > map->limit)
            return CM_ERR_INTERNAL;                         /* I2 */
        if (k + 1 < map->count) {
            if (n->end > n[1].start)
                return CM_ERR_INTERNAL;                     /* I3 */
            if (mergeable(n, &n[1]))
                return CM_ERR_INTERNAL;                     /* I4 */
        }
    }
    return CM_OK;
}
