/* SPDX-License-Identifier: MIT */
/* DMA ownership proof, written once for both targets: a block range is read
 * from a real device by DMA into a pool buffer, the buffer's own pages
 * become an IMMUTABLE VMO without a copy, and another process verifies them.
 *
 * producer: creates a one-buffer pool on DEVICE, submits a read of
 *           [offset, offset+length) and checks the buffer now belongs to the
 *           fence (no CPU access, no second submit); waits on the fence and
 *           checks the result and that ownership came back exclusively;
 *           hashes the bytes and compares with a plain (non-DMA) read of the
 *           same range; detaches the buffer as a VMO (the pages the device
 *           wrote), seals it IMMUTABLE and sends it without WRITE.
 * consumer: trusts nothing in the message: checks immutability and rights
 *           on the object, maps it read-only, hashes it in place and replies.
 * producer: compares the consumer's digest with the plain read's.
 *
 * Each marker is printed only after the fact it states was checked:
 *   dma: buffer submitted            (the fence, not the CPU, owns it)
 *   dma: fence signaled              (the device finished: result checked)
 *   dma: ownership returned          (exclusive again: data verified)
 *   SELFTEST: dmabuffer ownership ok (the other process saw the same bytes)
 *
 * Usage: dma_read_share DEVICE [--offset BYTES] [--length BYTES] [--break-hash]
 * DEVICE: a file or a block device. offset: a multiple of CM_PAGE_SIZE,
 * inside the device; length: 1 .. CM_DMA_MAX_BUFFER_SIZE bytes, at most what
 * the device holds past offset (default: that, capped at 256 KiB). The read
 * covers whole device blocks; a range ending at the end of a file whose size
 * is not a multiple of the block comes back short, as the device returns it,
 * and only the requested bytes are shared. A device the target cannot do
 * DMA with (host: a tmpfs file) is refused: the app says so and fails.
 * Options are checked before the second process starts: a usage error is
 * reported once, on stderr, with exit status 2. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>
#include "platform.h"
#include "app_util.h"

#define HELLO "dma-share v1"
#define DEFAULT_LENGTH (256u * 1024u)
#define USAGE "usage: dma_read_share DEVICE [--offset BYTES] [--length BYTES] [--break-hash]\n"

struct options {
    const char *device;
    uint64_t offset;
    uint64_t length; /* 0: min(what the device holds past offset, DEFAULT_LENGTH) */
    int break_hash;
};

/* The message: HELLO, the byte count to hash, the producer's own digest is
 * NOT sent (the consumer must compute it from the object). */
struct msg {
    char hello[16];
    uint64_t length;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    o->device = NULL;
    o->offset = 0;
    o->length = 0;
    o->break_hash = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc) {
            if (app_parse_u64(argv[++i], &o->offset) != 0)
                return -1;
        } else if (strcmp(argv[i], "--length") == 0 && i + 1 < argc) {
            if (app_parse_u64(argv[++i], &o->length) != 0 || o->length == 0)
                return -1;
        } else if (strcmp(argv[i], "--break-hash") == 0) {
            o->break_hash = 1;
        } else if (argv[i][0] != '-' && o->device == NULL) {
            o->device = argv[i];
        } else {
            return -1;
        }
    }
    if (o->device == NULL || o->length > CM_DMA_MAX_BUFFER_SIZE || o->offset % CM_PAGE_SIZE != 0)
        return -1;
    return 0;
}

/* The byte count to share: --length, or the default, checked against what
 * the device holds past the offset. 0 after saying why there is none. */
static uint64_t effective_length(const struct options *o, uint64_t device_size)
{
    if (device_size == 0) {
        printf("dma: %s is empty (0 bytes): nothing to read\n", o->device);
        return 0;
    }
    if (o->offset >= device_size) {
        printf("dma: %s: offset %llu is not inside the device (%llu bytes)\n", o->device,
               (unsigned long long)o->offset, (unsigned long long)device_size);
        return 0;
    }
    uint64_t room = device_size - o->offset;
    if (o->length > room) {
        printf("dma: %s: --length %llu runs past the end of the device (%llu bytes from "
               "offset %llu)\n", o->device, (unsigned long long)o->length,
               (unsigned long long)room, (unsigned long long)o->offset);
        return 0;
    }
    if (o->length != 0)
        return o->length;
    return room < DEFAULT_LENGTH ? room : DEFAULT_LENGTH;
}

static int fail(const char *role, const char *what, cm_status_t st)
{
    return app_fail("dma", role, what, st);
}

/* The reference: the same range read by the target's ordinary path (host:
 * pread of the file or block device; kernel: the driver's block service),
 * never through this pool. */
static cm_status_t plain_read_hash(const struct options *o, uint64_t length, uint8_t digest[32])
{
    /* Scratch memory from a VMO: the same on both targets (the kernel's
     * user runtime has no malloc). */
    uint64_t size = (length + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE * CM_PAGE_SIZE;
    cm_handle_t scratch;
    void *buf;
    cm_status_t st = cm_vmo_create(size, 0, &scratch);
    if (st != CM_OK)
        return st;
    st = cm_vmo_map(scratch, 0, size, CM_MAP_READ | CM_MAP_WRITE, &buf);
    if (st == CM_OK) {
        st = app_plain_read(o->device, o->offset, buf, length);
        if (st == CM_OK)
            app_sha256(buf, (size_t)length, digest);
        cm_vmo_unmap(buf, size);
    }
    cm_handle_close(scratch);
    return st;
}

/* Reads the range by DMA; on success *vmo holds the buffer's pages, sealed,
 * *length the bytes shared and want[] the plain read's digest of them. */
static int dma_read(const struct options *o, uint8_t want[32], cm_handle_t *vmo,
                    uint64_t *length)
{
    const char *r = "producer";
    cm_handle_t pool;
    cm_dma_pool_info_t info;
    cm_dma_buffer_t b;
    cm_dma_fence_t f, f2;
    cm_dma_completion_t c;
    void *p;
    uint8_t got[32];
    uint64_t cap = o->length != 0 ? o->length : DEFAULT_LENGTH;
    uint32_t bsize = (uint32_t)((cap + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE * CM_PAGE_SIZE);
    cm_dma_pool_config_t cfg = { 1, bsize, 1, 0 };
    cm_status_t st = cm_dma_pool_create(&cfg, &pool);
    if (st != CM_OK)
        return fail(r, "pool create", st);
    int rc = 1;
    st = cm_dma_pool_attach(pool, o->device, CM_DMA_ATTACH_READ);
    if (st == CM_ERR_UNSUPPORTED) {
        printf("dma: %s refuses direct I/O: no device doing DMA behind it\n", o->device);
        goto out;
    }
    if (st != CM_OK || (st = cm_dma_pool_get_info(pool, &info)) != CM_OK) {
        char what[320];
        snprintf(what, sizeof what, "attaching \"%s\"", o->device);
        fail(r, what, st);
        goto out;
    }
    if ((info.flags & CM_DMA_INFO_DIRECT) == 0) {
        printf("dma: %s: the device is not a direct DMA path\n", o->device);
        goto out;
    }
    printf("dma: device %s, block %u bytes, %llu bytes, direct DMA into registered buffers\n",
           o->device, info.device_block_size, (unsigned long long)info.device_size);
    uint64_t len = effective_length(o, info.device_size);
    if (len == 0)
        goto out;
    /* Whole blocks (the block divides the page, so this fits the buffer). */
    uint32_t blk = info.device_block_size ? info.device_block_size : 1;
    uint64_t op_len = (len + blk - 1) / blk * blk;
    if (op_len > bsize) {
        printf("dma: %s: block size %u does not fit a %u-byte buffer\n", o->device, blk, bsize);
        goto out;
    }
    if ((st = plain_read_hash(o, len, want)) != CM_OK) {
        char what[320];
        snprintf(what, sizeof what, "plain read of \"%s\" (offset %llu, %llu bytes)", o->device,
                 (unsigned long long)o->offset, (unsigned long long)len);
        fail(r, what, st);
        goto out;
    }
    if ((st = cm_dma_buffer_acquire(pool, &b)) != CM_OK) {
        fail(r, "acquire", st);
        goto out;
    }
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, (uint32_t)op_len, 0, o->offset };
    if ((st = cm_dma_submit(pool, b, &op, &f)) != CM_OK) {
        fail(r, "submit", st);
        goto out;
    }
    /* The fence owns the buffer now, whether or not the device is done. */
    if ((st = cm_dma_buffer_map(pool, b, &p, NULL)) != CM_ERR_BAD_STATE) {
        fail(r, "refusing CPU access in flight", st);
        goto out;
    }
    if ((st = cm_dma_submit(pool, b, &op, &f2)) != CM_ERR_BAD_STATE) {
        fail(r, "refusing a double submit", st);
        goto out;
    }
    printf("dma: buffer submitted\n");

    if ((st = cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c)) != CM_OK) {
        fail(r, "fence wait", st);
        goto out;
    }
    /* At least the bytes asked for: more up to the block, fewer never. */
    if (c.buffer != b || c.status != CM_OK || c.bytes < len || c.bytes > op_len) {
        printf("dma: producer: device result %s, %u of %llu bytes\n", cm_status_name(c.status),
               c.bytes, (unsigned long long)len);
        goto out;
    }
    printf("dma: fence signaled\n");

    if ((st = cm_dma_fence_wait(pool, f, 0, &c)) != CM_ERR_BAD_HANDLE) {
        fail(r, "consuming the fence", st);
        goto out;
    }
    if ((st = cm_dma_buffer_map(pool, b, &p, NULL)) != CM_OK) {
        fail(r, "map after wait", st);
        goto out;
    }
    app_sha256(p, (size_t)len, got);
    if (memcmp(got, want, 32) != 0) {
        printf("dma: producer: DMA data differs from a plain read of the device\n");
        goto out;
    }
    printf("dma: ownership returned\n");

    /* Hand the very pages over: no copy, nothing of the pool maps them. */
    if ((st = cm_dma_buffer_detach_vmo(pool, b, vmo)) != CM_OK) {
        fail(r, "detach", st);
        goto out;
    }
    if ((st = cm_vmo_seal(*vmo, CM_SEAL_IMMUTABLE)) != CM_OK) {
        cm_handle_close(*vmo);
        fail(r, "seal", st);
        goto out;
    }
    *length = len;
    rc = 0;
out:
    cm_handle_close(pool);
    return rc;
}

static int producer(cm_handle_t peer, int argc, char **argv)
{
    const char *r = "producer";
    struct options o;
    uint8_t want[32], theirs[32];
    char h1[65], h2[65];
    cm_handle_t vmo, ro;
    cm_status_t st;
    uint64_t length = 0;
    int rc = 1;
    if (parse_options(argc, argv, &o) != 0) /* main checked them: not reached */
        goto out;
    if (dma_read(&o, want, &vmo, &length) != 0)
        goto out;
    st = cm_handle_replace(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro);
    if (st != CM_OK) {
        cm_handle_close(vmo);
        fail(r, "reducing rights", st);
        goto out;
    }
    struct msg m;
    memset(&m, 0, sizeof(m));
    memcpy(m.hello, HELLO, sizeof(HELLO));
    m.length = length;
    if ((st = cm_channel_write(peer, &m, sizeof(m), &ro, 1)) != CM_OK) {
        fail(r, "send", st);
        goto out;
    }
    uint32_t n, nh;
    if ((st = cm_channel_wait_readable(peer, CM_TIMEOUT_INFINITE)) != CM_OK ||
        (st = cm_channel_read(peer, theirs, sizeof(theirs), &n, NULL, 0, &nh)) != CM_OK) {
        fail(r, "receiving the digest", st);
        goto out;
    }
    app_hex_digest(want, h1);
    app_hex_digest(theirs, h2);
    printf("dma: plain read sha256 %s\ndma: consumer  sha256 %s\n", h1, h2);
    if (n != 32 || memcmp(want, theirs, 32) != 0) {
        printf("dma: producer: the consumer saw different bytes\n");
        goto out;
    }
    printf("SELFTEST: dmabuffer ownership ok\n");
    rc = 0;
out:
    cm_handle_close(peer);
    return rc;
}

static int consumer(cm_handle_t peer, int argc, char **argv)
{
    const char *r = "consumer";
    struct options o;
    struct msg m;
    cm_handle_t vmo = CM_HANDLE_INVALID;
    uint32_t n, nh = 0;
    cm_vmo_info_t info;
    void *p, *w;
    uint8_t digest[32];
    cm_status_t st;
    int rc = 1;
    int ok_opts = parse_options(argc, argv, &o) == 0;
    if ((st = cm_channel_wait_readable(peer, CM_TIMEOUT_INFINITE)) != CM_OK ||
        (st = cm_channel_read(peer, &m, sizeof(m), &n, &vmo, 1, &nh)) != CM_OK) {
        if (ok_opts)
            fail(r, "receive", st);
        goto out;
    }
    if (n != sizeof(m) || nh != 1 || memcmp(m.hello, HELLO, sizeof(HELLO)) != 0) {
        printf("dma: consumer: malformed message\n");
        goto out;
    }
    /* Facts from the object, not from the sender. */
    if ((st = cm_vmo_get_info(vmo, &info)) != CM_OK) {
        fail(r, "get_info", st);
        goto out;
    }
    if ((info.flags & CM_VMO_INFO_IMMUTABLE) == 0 || (info.rights & CM_RIGHT_WRITE) != 0 ||
        m.length == 0 || m.length > info.size) {
        printf("dma: consumer: object is not an immutable read-only VMO of that size\n");
        goto out;
    }
    if (cm_vmo_map(vmo, 0, info.size, CM_MAP_READ | CM_MAP_WRITE, &w) != CM_ERR_ACCESS_DENIED) {
        printf("dma: consumer: a writable mapping was not refused\n");
        goto out;
    }
    if ((st = cm_vmo_map(vmo, 0, info.size, CM_MAP_READ, &p)) != CM_OK) {
        fail(r, "map", st);
        goto out;
    }
    app_sha256(p, (size_t)m.length, digest);
    cm_vmo_unmap(p, info.size);
    if (ok_opts && o.break_hash)
        digest[0] ^= 1;
    if ((st = cm_channel_write(peer, digest, sizeof(digest), NULL, 0)) != CM_OK) {
        fail(r, "reply", st);
        goto out;
    }
    rc = 0;
out:
    cm_handle_close(vmo);
    cm_handle_close(peer);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    /* Before the second process exists: one message, one exit status. */
    if (parse_options(argc, argv, &o) != 0) {
        app_eprintf("%s", USAGE);
        app_eprintf("DEVICE: a file or block device; --offset: a multiple of %u; "
                        "--length: 1 to %u bytes (default: up to %u)\n",
                CM_PAGE_SIZE, CM_DMA_MAX_BUFFER_SIZE, DEFAULT_LENGTH);
        return 2;
    }
    return app_run_pair(producer, consumer, argc, argv);
}
