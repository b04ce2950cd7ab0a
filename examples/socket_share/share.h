/* SPDX-License-Identifier: MIT */
/* What the producer and the consumer of this example agree on. */
#ifndef SHARE_H
#define SHARE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <capmem/capmem.h>

/* Sent with the memory object's handle: the size and a checksum the
 * consumer recomputes from the shared memory itself. */
struct share_msg {
    uint64_t size;
    uint64_t fnv1a;
};

/* FNV-1a 64: a checksum to show the bytes arrived, not a security hash
 * (apps/vmo_share.c uses SHA-256 for that). */
static inline uint64_t fnv1a(const uint8_t *p, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Every capmem call returns a status; cm_status_detail() says, for the
 * last failed call of this thread, which system call or limit was behind it. */
static inline void check(cm_status_t st, const char *what)
{
    if (st != CM_OK) {
        const char *detail = cm_status_detail(); /* may be empty */
        fprintf(stderr, "%s: %s (%s)%s%s\n", what, cm_status_str(st), cm_status_name(st),
                *detail ? ": " : "", detail);
        exit(1);
    }
}

#define TIMEOUT_NS (10ll * 1000 * 1000 * 1000) /* never wait forever for a peer */

#endif
