/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_SHA256_H
#define CAPMEM_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4, section 6.2), freestanding: no libc, no allocation,
 * no globals besides the constant tables. Used by both targets to fingerprint
 * memory contents (e.g. the vmo-share proof compares digests across
 * processes).
 *
 * Streaming use: init, any number of update calls with any split of the
 * message, then final. The message is limited to 2^64 - 1 bits by the
 * standard; beyond that the length field wraps (not reachable in practice:
 * 2 EiB of input). */

#define CM_SHA256_DIGEST_SIZE 32u
#define CM_SHA256_BLOCK_SIZE 64u

struct cm_sha256 {
    uint32_t h[8];      /* intermediate hash value H(i) */
    uint64_t len;       /* message bytes consumed so far, mod 2^64 */
    uint8_t buf[64];    /* partial block; only buf[0..buf_len) is meaningful */
    uint32_t buf_len;   /* invariant: buf_len < 64 between calls */
};

/* Starts a new message in *s (any previous contents are discarded). */
void cm_sha256_init(struct cm_sha256 *s);

/* Appends data[0..len) to the message. data may be NULL when len is 0 and
 * may have any alignment. Whole blocks are hashed straight from data; only a
 * trailing partial block is copied into s->buf. */
void cm_sha256_update(struct cm_sha256 *s, const void *data, size_t len);

/* Pads the message, writes its 32-byte digest and wipes *s (zeroed, so a
 * finished context never holds message bytes); call init to reuse it. */
void cm_sha256_final(struct cm_sha256 *s, uint8_t digest[32]);

/* One-shot digest of data[0..len). */
void cm_sha256(const void *data, size_t len, uint8_t digest[32]);

#endif
