/* SPDX-License-Identifier: MIT */
/* One bit per fd number owned by a library object (host/fd_owned.h). */
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "fd_owned.h"

#define CHUNK_BITS 65536u /* 8 KiB of bits per chunk */
#define CHUNK_WORDS (CHUNK_BITS / 64u)
#define CHUNKS (((unsigned)INT_MAX / CHUNK_BITS) + 1u)

struct chunk {
    _Atomic uint64_t w[CHUNK_WORDS];
};

static _Atomic(struct chunk *) chunks[CHUNKS];

static struct chunk *chunk_of(int fd, int make)
{
    unsigned i = (unsigned)fd / CHUNK_BITS;
    struct chunk *c = atomic_load_explicit(&chunks[i], memory_order_acquire);
    if (c != NULL || !make)
        return c;
    struct chunk *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    struct chunk *expect = NULL;
    if (atomic_compare_exchange_strong_explicit(&chunks[i], &expect, n, memory_order_acq_rel,
                                                memory_order_acquire))
        return n;
    free(n); /* another thread installed it first */
    return expect;
}

int cm__fd_own(int fd)
{
    if (fd < 0)
        return -1;
    struct chunk *c = chunk_of(fd, 1);
    if (c == NULL)
        return -1;
    unsigned b = (unsigned)fd % CHUNK_BITS;
    uint64_t bit = (uint64_t)1 << (b % 64u);
    return (atomic_fetch_or(&c->w[b / 64u], bit) & bit) != 0;
}

void cm__fd_disown(int fd)
{
    if (fd < 0)
        return;
    struct chunk *c = chunk_of(fd, 0);
    if (c == NULL)
        return;
    unsigned b = (unsigned)fd % CHUNK_BITS;
    atomic_fetch_and(&c->w[b / 64u], ~((uint64_t)1 << (b % 64u)));
}
