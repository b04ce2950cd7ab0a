/* SPDX-License-Identifier: MIT */
/* SHA-256 from FIPS 180-4.
 *
 * The constants below are defined by the standard: K are the first 32 bits
 * of the fractional parts of the cube roots of the first 64 primes (4.2.2),
 * H0 those of the square roots of the first 8 primes (5.3.3). All words are
 * big-endian (3.1); loads and stores go byte by byte so input of any
 * alignment works on both targets (riscv64 may trap or be slow on misaligned
 * word loads). */

#include "sha256.h"

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u,
    0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
    0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
    0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
    0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u,
    0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u,
    0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static const uint32_t H0[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The functions of 4.1.2. */
#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (rotr((x), 2) ^ rotr((x), 13) ^ rotr((x), 22))
#define BSIG1(x) (rotr((x), 6) ^ rotr((x), 11) ^ rotr((x), 25))
#define SSIG0(x) (rotr((x), 7) ^ rotr((x), 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr((x), 17) ^ rotr((x), 19) ^ ((x) >> 10))

/* One round of 6.2.2 step 3. Instead of shifting eight variables every
 * round, the round updates two in place (d becomes the new e, h the new a)
 * and the caller rotates the argument order by one each round; after eight
 * rounds the roles are back where they started. */
#define ROUND(a, b, c, d, e, f, g, h, k, w)                        \
    do {                                                           \
        uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + (k) + (w);   \
        (d) += t1_;                                                \
        (h) = t1_ + BSIG0(a) + MAJ(a, b, c);                       \
    } while (0)

/* W[t] for t >= 16 (6.2.2 step 1), kept in a 16-word ring: W[t] depends
 * only on W[t-2], W[t-7], W[t-15] and W[t-16], and slot t & 15 holds
 * W[t-16] until W[t] replaces it (hence the +=). */
#define SCHED(w, t)                                                        \
    ((w)[(t) & 15] += SSIG1((w)[((t) - 2) & 15]) + (w)[((t) - 7) & 15] +   \
                      SSIG0((w)[((t) - 15) & 15]))

/* Hashes `nblocks` consecutive 64-byte blocks at p into h (6.2.2). */
static void compress(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    while (nblocks-- > 0) {
        uint32_t w[16];
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];

        for (unsigned t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        for (unsigned t = 0; t < 16; t += 8) {
            ROUND(a, b, c, d, e, f, g, hh, K[t + 0], w[t + 0]);
            ROUND(hh, a, b, c, d, e, f, g, K[t + 1], w[t + 1]);
            ROUND(g, hh, a, b, c, d, e, f, K[t + 2], w[t + 2]);
            ROUND(f, g, hh, a, b, c, d, e, K[t + 3], w[t + 3]);
            ROUND(e, f, g, hh, a, b, c, d, K[t + 4], w[t + 4]);
            ROUND(d, e, f, g, hh, a, b, c, K[t + 5], w[t + 5]);
            ROUND(c, d, e, f, g, hh, a, b, K[t + 6], w[t + 6]);
            ROUND(b, c, d, e, f, g, hh, a, K[t + 7], w[t + 7]);
        }
        for (unsigned t = 16; t < 64; t += 8) {
            ROUND(a, b, c, d, e, f, g, hh, K[t + 0], SCHED(w, t + 0));
            ROUND(hh, a, b, c, d, e, f, g, K[t + 1], SCHED(w, t + 1));
            ROUND(g, hh, a, b, c, d, e, f, K[t + 2], SCHED(w, t + 2));
            ROUND(f, g, hh, a, b, c, d, e, K[t + 3], SCHED(w, t + 3));
            ROUND(e, f, g, hh, a, b, c, d, K[t + 4], SCHED(w, t + 4));
            ROUND(d, e, f, g, hh, a, b, c, K[t + 5], SCHED(w, t + 5));
            ROUND(c, d, e, f, g, hh, a, b, K[t + 6], SCHED(w, t + 6));
            ROUND(b, c, d, e, f, g, hh, a, K[t + 7], SCHED(w, t + 7));
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d;
        h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
        p += CM_SHA256_BLOCK_SIZE;
    }
}

void cm_sha256_init(struct cm_sha256 *s)
{
    for (unsigned i = 0; i < 8; i++)
        s->h[i] = H0[i];
    s->len = 0;
    s->buf_len = 0;
}

void cm_sha256_update(struct cm_sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (len == 0)
        return;
    s->len += (uint64_t)len;

    /* Top up a pending partial block first; buf_len < 64 by invariant. */
    if (s->buf_len != 0) {
        size_t room = CM_SHA256_BLOCK_SIZE - s->buf_len;
        size_t take = len < room ? len : room;
        for (size_t i = 0; i < take; i++)
            s->buf[s->buf_len + i] = p[i];
        s->buf_len += (uint32_t)take;
        p += take;
        len -= take;
        if (s->buf_len < CM_SHA256_BLOCK_SIZE)
            return;
        compress(s->h, s->buf, 1);
        s->buf_len = 0;
    }

    /* Whole blocks straight from the caller's memory: no copy. */
    size_t nblocks = len / CM_SHA256_BLOCK_SIZE;
    if (nblocks != 0) {
        compress(s->h, p, nblocks);
        p += nblocks * CM_SHA256_BLOCK_SIZE;
        len -= nblocks * CM_SHA256_BLOCK_SIZE;
    }

    for (size_t i = 0; i < len; i++)
        s->buf[i] = p[i];
    s->buf_len = (uint32_t)len;
}

void cm_sha256_final(struct cm_sha256 *s, uint8_t digest[32])
{
    /* 5.1.1: append bit 1, zeros to 56 mod 64 bytes, then the 64-bit
     * big-endian message length in bits. */
    uint64_t bits = s->len << 3;
    uint32_t n = s->buf_len;

    s->buf[n++] = 0x80;
    if (n > 56) {
        while (n < CM_SHA256_BLOCK_SIZE)
            s->buf[n++] = 0;
        compress(s->h, s->buf, 1);
        n = 0;
    }
    while (n < 56)
        s->buf[n++] = 0;
    store_be32(s->buf + 56, (uint32_t)(bits >> 32));
    store_be32(s->buf + 60, (uint32_t)bits);
    compress(s->h, s->buf, 1);

    for (unsigned i = 0; i < 8; i++)
        store_be32(digest + 4 * i, s->h[i]);

    /* Wipe: a finished context must not keep message bytes or state. A
     * volatile pointer keeps the compiler from dropping dead stores. */
    volatile uint8_t *v = (volatile uint8_t *)s;
    for (size_t i = 0; i < sizeof(*s); i++)
        v[i] = 0;
}

void cm_sha256(const void *data, size_t len, uint8_t digest[32])
{
    struct cm_sha256 s;
    cm_sha256_init(&s);
    cm_sha256_update(&s, data, len);
    cm_sha256_final(&s, digest);
}
