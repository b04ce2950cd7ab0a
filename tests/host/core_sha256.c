/* SPDX-License-Identifier: MIT */
/* core/sha256: FIPS 180-4 vectors and a randomized comparison against
 * OpenSSL over lengths, split points and alignments. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "sha256.h"

/* Deterministic PRNG (splitmix64) so a failure reproduces; CM_TEST_SEED
 * overrides the seed. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rng_next() % n);
}

static void rng_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next();
}

static int setup_seed(void **state)
{
    (void)state;
    const char *env = getenv("CM_TEST_SEED");
    rng_state = env != NULL ? strtoull(env, NULL, 0) : 0x5eed5a256ull;
    return 0;
}

static void hex(const uint8_t d[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = 0;
}

static void check_vector(const void *msg, size_t len, const char *want)
{
    uint8_t d[32];
    char got[65];
    cm_sha256(msg, len, d);
    hex(d, got);
    assert_string_equal(got, want);
}

/* Hashes msg with update() calls split at `nsplits` random points. */
static void hash_split(const uint8_t *msg, size_t len, unsigned nsplits, uint8_t d[32])
{
    struct cm_sha256 s;
    size_t off = 0;
    cm_sha256_init(&s);
    for (unsigned i = 0; i < nsplits && off < len; i++) {
        size_t n = rng_below(len - off + 1);
        cm_sha256_update(&s, msg + off, n);
        off += n;
    }
    cm_sha256_update(&s, msg + off, len - off);
    cm_sha256_final(&s, d);
}

static void test_empty_message_matches_fips_vector(void **state)
{
    (void)state;
    check_vector("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* NULL with length 0 is allowed. */
    check_vector(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc_matches_fips_vector(void **state)
{
    (void)state;
    check_vector("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_448_bit_message_matches_fips_vector(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(m) * 8, 448);
    check_vector(m, strlen(m),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_896_bit_message_matches_fips_vector(void **state)
{
    (void)state;
    const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    assert_int_equal(strlen(m) * 8, 896);
    check_vector(m, strlen(m),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_one_million_a_matches_fips_vector_in_one_call_and_in_pieces(void **state)
{
    (void)state;
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    size_t n = 1000000;
    uint8_t *m = malloc(n);
    assert_non_null(m);
    memset(m, 'a', n);
    check_vector(m, n, want);

    /* The same message fed 1000 bytes at a time (not a block multiple). */
    struct cm_sha256 s;
    uint8_t d[32];
    char got[65];
    cm_sha256_init(&s);
    for (size_t i = 0; i < n; i += 1000)
        cm_sha256_update(&s, m + i, 1000);
    cm_sha256_final(&s, d);
    hex(d, got);
    assert_string_equal(got, want);
    free(m);
}

static void test_every_length_to_300_with_random_splits_matches_openssl(void **state)
{
    (void)state;
    uint8_t buf[300 + 8];
    uint8_t want[32], got[32];
    for (size_t len = 0; len <= 300; len++) {
        for (int rep = 0; rep < 20; rep++) {
            /* Vary alignment of the input too. */
            size_t align = rng_below(8);
            uint8_t *msg = buf + align;
            rng_fill(msg, len);
            SHA256(msg, len, want);

            cm_sha256(msg, len, got);
            assert_memory_equal(got, want, 32);

            hash_split(msg, len, (unsigned)(1 + rng_below(6)), got);
            assert_memory_equal(got, want, 32);
        }
    }
}

static void test_byte_at_a_time_updates_match_openssl(void **state)
{
    (void)state;
    uint8_t msg[1000], want[32], got[32];
    struct cm_sha256 s;
    rng_fill(msg, sizeof msg);
    SHA256(msg, sizeof msg, want);
    cm_sha256_init(&s);
    for (size_t i = 0; i < sizeof msg; i++)
        cm_sha256_update(&s, msg + i, 1);
    cm_sha256_final(&s, got);
    assert_memory_equal(got, want, 32);
}

static void test_multi_mib_buffer_with_random_splits_matches_openssl(void **state)
{
    (void)state;
    size_t n = (5u << 20) + 37; /* 5 MiB plus a partial block */
    uint8_t *m = malloc(n + 1);
    uint8_t want[32], got[32];
    assert_non_null(m);
    rng_fill(m, n + 1);

    SHA256(m, n, want);
    cm_sha256(m, n, got);
    assert_memory_equal(got, want, 32);

    hash_split(m, n, 50, got);
    assert_memory_equal(got, want, 32);

    /* Misaligned by one byte: whole blocks are read in place. */
    SHA256(m + 1, n, want);
    cm_sha256(m + 1, n, got);
    assert_memory_equal(got, want, 32);
    free(m);
}

static void test_final_wipes_the_context(void **state)
{
    (void)state;
    struct cm_sha256 s, zero;
    uint8_t d[32];
    memset(&zero, 0, sizeof zero);
    cm_sha256_init(&s);
    cm_sha256_update(&s, "secret", 6);
    cm_sha256_final(&s, d);
    assert_memory_equal(&s, &zero, sizeof s);

    /* And init makes it usable again. */
    cm_sha256_init(&s);
    cm_sha256_update(&s, "abc", 3);
    cm_sha256_final(&s, d);
    char got[65];
    hex(d, got);
    assert_string_equal(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_message_matches_fips_vector),
        cmocka_unit_test(test_abc_matches_fips_vector),
        cmocka_unit_test(test_448_bit_message_matches_fips_vector),
        cmocka_unit_test(test_896_bit_message_matches_fips_vector),
        cmocka_unit_test(test_one_million_a_matches_fips_vector_in_one_call_and_in_pieces),
        cmocka_unit_test(test_every_length_to_300_with_random_splits_matches_openssl),
        cmocka_unit_test(test_byte_at_a_time_updates_match_openssl),
        cmocka_unit_test(test_multi_mib_buffer_with_random_splits_matches_openssl),
        cmocka_unit_test(test_final_wipes_the_context),
    };
    return cmocka_run_group_tests(tests, setup_seed, NULL);
}
