/* SPDX-License-Identifier: MIT */
/* The two-process VMO sharing proof, written once for both targets.
 *
 * producer: creates a VMO, fills it (a generated pattern, or a file's bytes),
 *           seals it IMMUTABLE, hashes it, and sends a handle with reduced
 *           rights (READ|MAP|TRANSFER, no WRITE) to the consumer.
 * consumer: trusts nothing in the message: it reads size, immutability and
 *           rights from the object itself, maps it read-only, hashes the
 *           mapping in place (no copy) and replies the digest.
 * producer: compares the digest with its own.
 *
 * Each marker is printed only after the fact it states was checked.
 * Options: --size BYTES (default 64 MiB), --file PATH (payload from a
 * file), --break-hash (the consumer corrupts its digest: the proof must
 * fail), --quiet (markers only). */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>
#include "platform.h"
#include "app_util.h"

#define DEFAULT_SIZE (64ull << 20)
#define HELLO "vmo-share v1"

struct options {
    uint64_t size;
    const char *file;
    int break_hash;
    int quiet;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    o->size = DEFAULT_SIZE;
    o->file = NULL;
    o->break_hash = 0;
    o->quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (app_parse_u64(argv[++i], &o->size) != 0)
                return -1;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            o->file = argv[++i];
        } else if (strcmp(argv[i], "--break-hash") == 0) {
            o->break_hash = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = 1;
        } else {
            return -1;
        }
    }
    return 0;
}

static int fail(const char *role, const char *what, cm_status_t st)
{
    return app_fail("vmo", role, what, st);
}

/* Hashes the whole VMO through a read-only mapping (size 0: empty input). */
static cm_status_t hash_vmo(cm_handle_t vmo, uint64_t size, uint8_t digest[32])
{
    void *p;
    if (size == 0) {
        app_sha256("", 0, digest);
        return CM_OK;
    }
    cm_status_t st = cm_vmo_map(vmo, 0, size, CM_MAP_READ, &p);
    if (st != CM_OK)
        return st;
    app_sha256(p, (size_t)size, digest);
    return cm_vmo_unmap(p, size);
}

/* A reproducible pattern that no page of zeroes or repeated block matches. */
static void fill_pattern(uint8_t *p, uint64_t size)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < size; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (uint64_t k = 0; k < 8 && i + k < size; k++)
            p[i + k] = (uint8_t)(x >> (8 * k));
    }
}

static cm_status_t make_payload(const struct options *o, cm_handle_t *out, uint64_t *size)
{
    cm_status_t st;
    if (o->file != NULL) {
        /* A file window is zero-copy but mutable: snapshot it into an
         * immutable VMO (one copy, by the platform). */
        cm_handle_t win;
        st = cm_vmo_create_from_file(o->file, 0, CM_VMO_TO_END, &win);
        if (st != CM_OK)
            return st;
        st = cm_vmo_snapshot(win, out);
        cm_handle_close(win);
        if (st == CM_OK)
            st = cm_vmo_get_size(*out, size);
        return st;
    }
    void *p;
    *size = o->size;
    st = cm_vmo_create(o->size, CM_VMO_COMMIT, out);
    if (st != CM_OK)
        return st;
    if (o->size > 0) {
        st = cm_vmo_map(*out, 0, o->size, CM_MAP_READ | CM_MAP_WRITE, &p);
        if (st != CM_OK)
            goto bad;
        fill_pattern(p, o->size);
        st = cm_vmo_unmap(p, o->size); /* IMMUTABLE needs no writable mapping */
        if (st != CM_OK)
            goto bad;
    }
    st = cm_vmo_seal(*out, CM_SEAL_IMMUTABLE);
    if (st != CM_OK)
        goto bad;
    return CM_OK;
bad:
    cm_handle_close(*out);
    return st;
}

static int producer(cm_handle_t ch, int argc, char **argv)
{
    struct options o;
    cm_handle_t vmo, shared;
    uint64_t size;
    uint8_t mine[32], theirs[32];
    char hx[65];
    cm_status_t st;
    int rc = 1;

    parse_options(argc, argv, &o);
    /* Three costs, timed apart: making the payload (fill or file copy, then
     * seal), hashing it (the proof, not the share), and the share itself. */
    uint64_t t0 = app_now_ns();
    st = make_payload(&o, &vmo, &size);
    uint64_t t_made = app_now_ns();
    if (st != CM_OK) {
        /* Names the input: the file, or the size asked for (the detail
         * names the limit it broke, if one). */
        char what[320];
        if (o.file != NULL)
            snprintf(what, sizeof what, "making the payload from file \"%s\"", o.file);
        else
            snprintf(what, sizeof what, "creating the payload VMO of %llu bytes",
                     (unsigned long long)o.size);
        cm_handle_close(ch);
        return fail("producer", what, st);
    }
    st = hash_vmo(vmo, size, mine);
    uint64_t t_hashed = app_now_ns();
    if (st != CM_OK) {
        fail("producer", "hashing its own VMO", st);
        goto out;
    }
    app_hex_digest(mine, hx);
    cm_vmo_info_t pinfo;
    if (!o.quiet && cm_vmo_get_info(vmo, &pinfo) == CM_OK)
        printf("vmo: producer: %llu-byte VMO on %u-byte pages (%s) filled and sealed IMMUTABLE "
               "in %llu ms; hashed for the proof in %llu ms, sha256 %s\n",
               (unsigned long long)size, (unsigned)pinfo.page_size,
               (pinfo.flags & CM_VMO_INFO_HUGE) ? "huge" : "base",
               (unsigned long long)((t_made - t0) / 1000000),
               (unsigned long long)((t_hashed - t_made) / 1000000), hx);
    /* Give the consumer less than we hold: no WRITE, no DUPLICATE. */
    uint64_t t_share = app_now_ns();
    st = cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &shared);
    if (st != CM_OK) {
        fail("producer", "reducing rights", st);
        goto out;
    }
    st = cm_channel_write(ch, HELLO, sizeof(HELLO), &shared, 1);
    if (st != CM_OK) {
        fail("producer", "sending the handle", st);
        goto out;
    }
    uint64_t t_sent = app_now_ns();
    printf("vmo: producer sent handle\n");
    if (!o.quiet)
        printf("vmo: producer: share, sending side: rights reduced and handle sent in %llu us\n",
               (unsigned long long)((t_sent - t_share) / 1000));

    uint32_t nb = 0, nh = 0;
    st = cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE);
    if (st == CM_OK)
        st = cm_channel_read(ch, theirs, sizeof(theirs), &nb, NULL, 0, &nh);
    if (st != CM_OK) {
        fail("producer", "reading the consumer's digest", st);
        goto out;
    }
    if (nb != sizeof(theirs) || nh != 0) {
        printf("vmo: producer: malformed reply (%u bytes, %u handles)\n", nb, nh);
        goto out;
    }
    for (int i = 0; i < 32; i++) {
        if (mine[i] != theirs[i]) {
            app_hex_digest(theirs, hx);
            printf("vmo: producer: DIGEST MISMATCH: consumer hashed %s\n", hx);
            goto out;
        }
    }
    printf("vmo: sha256 ok\n");
    rc = 0;
out:
    cm_handle_close(vmo);
    cm_handle_close(ch);
    return rc;
}

static int consumer(cm_handle_t ch, int argc, char **argv)
{
    struct options o;
    char msg[64];
    cm_handle_t vmo = CM_HANDLE_INVALID;
    cm_vmo_info_t info;
    uint8_t digest[32];
    uint32_t nb = 0, nh = 0;
    int rc = 1;

    parse_options(argc, argv, &o);
    /* The share's receiving side is timed from the message's arrival (not
     * the wait for the producer) to a read-only mapping, less the printf. */
    uint64_t t_recv = 0, t_checked = 0, t_map = 0, t_mapped = 0;
    cm_status_t st = cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE);
    t_recv = app_now_ns();
    if (st == CM_OK)
        st = cm_channel_read(ch, msg, sizeof(msg), &nb, &vmo, 1, &nh);
    if (st != CM_OK) {
        fail("consumer", "receiving the handle", st);
        goto out;
    }
    if (nh != 1 || nb != sizeof(HELLO) || memcmp(msg, HELLO, sizeof(HELLO)) != 0) {
        printf("vmo: consumer: unexpected message (%u bytes, %u handles)\n", nb, nh);
        goto out;
    }
    /* Everything below comes from the object, not from the sender's words. */
    st = cm_vmo_get_info(vmo, &info);
    if (st != CM_OK) {
        fail("consumer", "querying the VMO", st);
        goto out;
    }
    if (!(info.flags & CM_VMO_INFO_IMMUTABLE)) {
        printf("vmo: consumer: refusing a VMO the platform does not guarantee immutable\n");
        goto out;
    }
    if (info.rights & CM_RIGHT_WRITE) {
        printf("vmo: consumer: received handle unexpectedly carries WRITE\n");
        goto out;
    }
    t_checked = app_now_ns();
    if (!o.quiet)
        printf("vmo: consumer: got a %llu-byte VMO on %u-byte pages, IMMUTABLE guaranteed by "
               "the platform, rights 0x%x\n", (unsigned long long)info.size,
               (unsigned)info.page_size, (unsigned)info.rights);
    void *p = NULL;
    t_map = app_now_ns();
    if (info.size > 0) {
        /* The whole mapping will be hashed: populate it in one pass. */
        st = cm_vmo_map(vmo, 0, info.size, CM_MAP_READ | CM_MAP_POPULATE, &p);
        if (st != CM_OK) {
            fail("consumer", "mapping read-only", st);
            goto out;
        }
    }
    t_mapped = app_now_ns();
    printf("vmo: consumer mapped ok\n");
    if (!o.quiet)
        printf("vmo: consumer: share, receiving side: received, checked and mapped read-only "
               "(page tables filled, no byte copied) in %llu us\n",
               (unsigned long long)((t_checked - t_recv + t_mapped - t_map) / 1000));
    uint64_t t0 = app_now_ns();
    app_sha256(info.size > 0 ? p : "", (size_t)info.size, digest);
    uint64_t t1 = app_now_ns();
    if (p != NULL)
        cm_vmo_unmap(p, info.size);
    if (!o.quiet)
        printf("vmo: consumer: hashed the mapping in place in %llu ms\n",
               (unsigned long long)((t1 - t0) / 1000000));
    if (o.break_hash)
        digest[0] ^= 0x01;
    st = cm_channel_write(ch, digest, sizeof(digest), NULL, 0);
    if (st != CM_OK) {
        fail("consumer", "replying the digest", st);
        goto out;
    }
    rc = 0;
out:
    cm_handle_close(vmo);
    cm_handle_close(ch);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0) {
        printf("usage: vmo_share [--size BYTES | --file PATH] [--break-hash] [--quiet]\n");
        return 2;
    }
    int rc = app_run_pair(producer, consumer, argc, argv);
    if (rc != 0) {
        printf("vmo: FAILED\n");
        return 1;
    }
    printf("SELFTEST: vmo share ok\n");
    return 0;
}
