/* SPDX-License-Identifier: MIT */
/* The SharedBuffer streaming proof, written once for both targets.
 *
 * producer:  creates a SharedBuffer, makes one consumer per consumer
 *            process and sends it over that process's channel (rights
 *            READ|MAP|TRANSFER: no WRITE exists for a consumer). Then it
 *            streams N messages of mixed sizes, each generated in place in a
 *            loaned slot: a header {index, length, SHA-256 of the body} and a
 *            body that differs per message. After the last publish it sends
 *            each consumer the count and a chained digest of all the bodies'
 *            digests over the channel, and closes the buffer.
 * consumers: trust nothing they did not check: every message is read in
 *            place from the read-only mapping, its sequence number must be
 *            the next one (no gap, no drop), its header must name the
 *            expected index and the message's real length, and the SHA-256
 *            of its body must match. After the last message the stream must
 *            end with PEER_CLOSED (nothing extra), the consumer's own
 *            counters must say N received and N released, and the chained
 *            digest must equal the producer's, sent by the other path.
 * producer:  prints the success marker only after every consumer replied
 *            that it verified all N messages with the same chained digest.
 *
 * Options: --count N (default 512), --slot-size BYTES (default 65536),
 * --consumers K (1..4, default 2), --break-hash (one consumer corrupts one
 * body digest it computed: the proof must fail), --quiet (markers only). */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "platform.h"
#include "app_util.h"

#define HELLO "sbuf-stream v1"
#define MAGIC 0x53425546u /* "SBUF" */
#define SLOTS 8
#define MAX_HELD 2
#define TIMEOUT_NS (30ll * 1000000000ll)

struct options {
    uint64_t count;
    uint64_t slot_size;
    uint64_t consumers;
    int break_hash;
    int quiet;
};

/* Each message begins with this header; the body follows it. */
struct msg_hdr {
    uint64_t index;
    uint32_t len;     /* the whole message, header included */
    uint32_t magic;
    uint8_t digest[32]; /* SHA-256 of the body */
};

/* Sent over the channel with the consumer handle, and at the end. */
struct hello {
    char tag[sizeof(HELLO)];
    uint32_t position;
    uint64_t count;
};
struct done {
    uint64_t count;
    uint8_t chain[32];
};

static int parse_options(int argc, char **argv, struct options *o)
{
    o->count = 512;
    o->slot_size = 65536;
    o->consumers = 2;
    o->break_hash = 0;
    o->quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (app_parse_u64(argv[++i], &o->count) != 0)
                return -1;
        } else if (strcmp(argv[i], "--slot-size") == 0 && i + 1 < argc) {
            if (app_parse_u64(argv[++i], &o->slot_size) != 0)
                return -1;
        } else if (strcmp(argv[i], "--consumers") == 0 && i + 1 < argc) {
            if (app_parse_u64(argv[++i], &o->consumers) != 0)
                return -1;
        } else if (strcmp(argv[i], "--break-hash") == 0) {
            o->break_hash = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = 1;
        } else {
            return -1;
        }
    }
    /* The slot must hold a header; the buffer's own limits refuse the rest. */
    if (o->slot_size < sizeof(struct msg_hdr) || o->slot_size > UINT32_MAX ||
        o->consumers < 1 || o->consumers > APP_GROUP_MAX)
        return -1;
    return 0;
}

static int fail(const char *role, const char *what, cm_status_t st)
{
    return app_fail("sbuf", role, what, st);
}

/* A message's total length: a mix that hits the header alone, odd sizes,
 * page boundaries and full slots, the same on both sides of the proof. */
static uint32_t message_len(uint64_t index, uint32_t slot)
{
    uint32_t hdr = (uint32_t)sizeof(struct msg_hdr);
    uint64_t x = (index + 1) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    switch (index % 8) {
    case 0: return hdr;
    case 1: return hdr + 1 < slot ? hdr + 1 : slot;
    case 2: return slot;
    case 3: return 4096 < slot ? 4096 : slot;
    case 4: return 4097 < slot ? 4097 : slot;
    default: return hdr + (uint32_t)(x % (uint64_t)(slot - hdr + 1));
    }
}

/* A body no other message's body equals: xorshift seeded by the index. */
static void fill_body(uint8_t *p, uint32_t len, uint64_t index)
{
    uint64_t x = 0x2545f4914f6cdd1dull ^ (index * 0x9e3779b97f4a7c15ull);
    for (uint32_t i = 0; i < len; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (uint32_t k = 0; k < 8 && i + k < len; k++)
            p[i + k] = (uint8_t)(x >> (8 * k));
    }
}

/* chain = SHA-256(chain || digest). */
static void chain_add(uint8_t chain[32], const uint8_t digest[32])
{
    uint8_t both[64];
    memcpy(both, chain, 32);
    memcpy(both + 32, digest, 32);
    app_sha256(both, sizeof(both), chain);
}

static int stream(cm_handle_t buf, const struct options *o, uint8_t chain[32], uint64_t *bytes)
{
    memset(chain, 0, 32);
    *bytes = 0;
    for (uint64_t i = 0; i < o->count; i++) {
        cm_sbuf_loan_t loan;
        cm_status_t st = cm_sbuf_loan(buf, 0, TIMEOUT_NS, &loan);
        if (st != CM_OK)
            return fail("producer", "loaning a slot", st);
        uint32_t len = message_len(i, loan.capacity);
        struct msg_hdr h = { i, len, MAGIC, { 0 } };
        uint8_t *body = (uint8_t *)loan.data + sizeof(h);
        uint32_t body_len = len - (uint32_t)sizeof(h);
        fill_body(body, body_len, i);
        app_sha256(body, body_len, h.digest);
        memcpy(loan.data, &h, sizeof(h));
        chain_add(chain, h.digest);
        uint64_t seq;
        st = cm_sbuf_publish(buf, loan.id, len, &seq);
        if (st != CM_OK)
            return fail("producer", "publishing", st);
        *bytes += len;
    }
    return 0;
}

static int producer(const cm_handle_t *peers, uint32_t n, int argc, char **argv)
{
    struct options o;
    cm_handle_t buf = CM_HANDLE_INVALID;
    uint8_t chain[32];
    uint64_t bytes = 0;
    int rc = 1;

    parse_options(argc, argv, &o);
    cm_sbuf_config_t cfg = { SLOTS, (uint32_t)o.slot_size, n, MAX_HELD, 1, CM_SBUF_BLOCK, 0, 0 };
    cm_status_t st = cm_sbuf_create(&cfg, &buf);
    if (st != CM_OK) {
        fail("producer", "creating the SharedBuffer", st);
        goto out;
    }
    /* Every consumer exists before the first publish, so each sees all. */
    for (uint32_t i = 0; i < n; i++) {
        cm_handle_t c;
        st = cm_sbuf_consumer_create(buf, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &c);
        if (st != CM_OK) {
            fail("producer", "creating a consumer", st);
            goto out;
        }
        struct hello hi;
        memset(&hi, 0, sizeof(hi));
        memcpy(hi.tag, HELLO, sizeof(HELLO));
        hi.position = i;
        hi.count = o.count;
        st = cm_channel_write(peers[i], &hi, sizeof(hi), &c, 1);
        if (st != CM_OK) {
            fail("producer", "sending a consumer handle", st);
            goto out;
        }
    }
    if (!o.quiet)
        printf("sbuf: producer: %u slots of %u bytes, %u consumer handles sent\n", SLOTS,
               (unsigned)o.slot_size, n);
    uint64_t t0 = app_now_ns();
    if (stream(buf, &o, chain, &bytes) != 0)
        goto out;
    struct done d;
    d.count = o.count;
    memcpy(d.chain, chain, 32);
    for (uint32_t i = 0; i < n; i++) {
        st = cm_channel_write(peers[i], &d, sizeof(d), NULL, 0);
        if (st != CM_OK) {
            fail("producer", "sending the end of stream", st);
            goto out;
        }
    }
    /* The producer leaves: consumers drain what is published, then see
     * PEER_CLOSED. */
    cm_handle_close(buf);
    buf = CM_HANDLE_INVALID;
    for (uint32_t i = 0; i < n; i++) {
        struct done r;
        uint32_t nb = 0, nh = 0;
        st = cm_channel_wait_readable(peers[i], TIMEOUT_NS);
        if (st == CM_OK)
            st = cm_channel_read(peers[i], &r, sizeof(r), &nb, NULL, 0, &nh);
        if (st != CM_OK) {
            fail("producer", "reading a consumer's verdict", st);
            goto out;
        }
        if (nb != sizeof(r) || nh != 0 || r.count != o.count || memcmp(r.chain, chain, 32) != 0) {
            printf("sbuf: producer: consumer %u did not verify the stream\n", i);
            goto out;
        }
    }
    uint64_t ns = app_now_ns() - t0;
    if (ns == 0)
        ns = 1;
    printf("sbuf: %u consumers verified %llu messages (sequence, length, sha256 of each)\n", n,
           (unsigned long long)o.count);
    if (!o.quiet)
        printf("sbuf: %llu KiB streamed in %llu ms, %llu MiB/s per consumer including "
               "generation and SHA-256 on both sides\n",
               (unsigned long long)(bytes >> 10), (unsigned long long)(ns / 1000000),
               (unsigned long long)((bytes * 1000000000ull / ns) >> 20));
    rc = 0;
out:
    cm_handle_close(buf);
    for (uint32_t i = 0; i < n; i++)
        cm_handle_close(peers[i]);
    return rc;
}

/* Checks one received message in place; 0 if it is the expected one. */
static int verify_message(const cm_sbuf_msg_t *m, uint64_t k, uint64_t first_seq,
                          uint32_t slot_size, uint8_t digest[32])
{
    struct msg_hdr h;
    if (m->dropped != 0 || m->seq != first_seq + k) {
        printf("sbuf: consumer: message %llu: seq %llu, dropped %llu\n", (unsigned long long)k,
               (unsigned long long)m->seq, (unsigned long long)m->dropped);
        return 1;
    }
    if (m->len < sizeof(h) || m->len > slot_size) {
        printf("sbuf: consumer: message %llu: length %u\n", (unsigned long long)k, m->len);
        return 1;
    }
    memcpy(&h, m->data, sizeof(h));
    if (h.magic != MAGIC || h.index != k || h.len != m->len || m->len != message_len(k, slot_size)) {
        printf("sbuf: consumer: message %llu: bad header\n", (unsigned long long)k);
        return 1;
    }
    app_sha256((const uint8_t *)m->data + sizeof(h), m->len - sizeof(h), digest);
    if (memcmp(digest, h.digest, 32) != 0) {
        printf("sbuf: consumer: message %llu: SHA-256 MISMATCH\n", (unsigned long long)k);
        return 1;
    }
    return 0;
}

static int consume(cm_handle_t c, uint64_t count, int break_hash, uint8_t chain[32])
{
    cm_sbuf_info_t info;
    cm_status_t st = cm_sbuf_get_info(c, &info);
    if (st != CM_OK)
        return fail("consumer", "reading the buffer's configuration", st);
    uint32_t slot_size = info.config.slot_size;
    uint64_t first_seq = 0;
    memset(chain, 0, 32);
    for (uint64_t k = 0; k < count; k++) {
        cm_sbuf_msg_t m;
        uint8_t digest[32];
        st = cm_sbuf_receive(c, 0, TIMEOUT_NS, &m);
        if (st != CM_OK)
            return fail("consumer", "receiving", st);
        if (k == 0)
            first_seq = m.seq;
        if (verify_message(&m, k, first_seq, slot_size, digest) != 0)
            return 1;
        if (break_hash && k == count / 2)
            digest[0] ^= 0x01;
        chain_add(chain, digest);
        st = cm_sbuf_release(c, m.seq);
        if (st != CM_OK)
            return fail("consumer", "releasing", st);
    }
    cm_sbuf_msg_t extra;
    st = cm_sbuf_receive(c, 0, TIMEOUT_NS, &extra);
    if (st != CM_ERR_PEER_CLOSED) {
        printf("sbuf: consumer: after the last message: %s, expected PEER_CLOSED\n",
               cm_status_name(st));
        return 1;
    }
    st = cm_sbuf_get_info(c, &info);
    if (st != CM_OK)
        return fail("consumer", "reading its counters", st);
    if (info.self >= CM_SBUF_MAX_CONSUMERS) {
        printf("sbuf: consumer: get_info names no position\n");
        return 1;
    }
    const cm_sbuf_consumer_info_t *me = &info.consumers[info.self];
    if (me->received != count || me->released != count || me->held != 0 || me->dropped != 0) {
        printf("sbuf: consumer: counters disagree with the stream\n");
        return 1;
    }
    return 0;
}

static int consumer(cm_handle_t ch, int argc, char **argv)
{
    struct options o;
    struct hello hi;
    cm_handle_t c = CM_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    uint8_t chain[32];
    int rc = 1;

    parse_options(argc, argv, &o);
    cm_status_t st = cm_channel_wait_readable(ch, TIMEOUT_NS);
    if (st == CM_OK)
        st = cm_channel_read(ch, &hi, sizeof(hi), &nb, &c, 1, &nh);
    if (st != CM_OK) {
        fail("consumer", "receiving the consumer handle", st);
        goto out;
    }
    if (nh != 1 || nb != sizeof(hi) || memcmp(hi.tag, HELLO, sizeof(HELLO)) != 0) {
        printf("sbuf: consumer: unexpected message (%u bytes, %u handles)\n", nb, nh);
        goto out;
    }
    /* What the handle is comes from the object, not from the sender. */
    cm_handle_info_t hinfo;
    st = cm_handle_get_info(c, &hinfo);
    if (st != CM_OK || hinfo.type != CM_OBJ_SBUF_CONSUMER || (hinfo.rights & CM_RIGHT_WRITE)) {
        printf("sbuf: consumer: the handle is not a read-only consumer\n");
        goto out;
    }
    if (consume(c, hi.count, o.break_hash && hi.position == 0, chain) != 0)
        goto out;
    struct done d;
    st = cm_channel_wait_readable(ch, TIMEOUT_NS);
    if (st == CM_OK)
        st = cm_channel_read(ch, &d, sizeof(d), &nb, NULL, 0, &nh);
    if (st != CM_OK || nb != sizeof(d) || nh != 0) {
        fail("consumer", "reading the end of stream", st);
        goto out;
    }
    if (d.count != hi.count || memcmp(d.chain, chain, 32) != 0) {
        printf("sbuf: consumer %u: DIGEST MISMATCH with the producer's chain\n", hi.position);
        goto out;
    }
    if (!o.quiet)
        printf("sbuf: consumer %u: %llu messages in order, each SHA-256 verified in place\n",
               hi.position, (unsigned long long)hi.count);
    memcpy(d.chain, chain, 32);
    st = cm_channel_write(ch, &d, sizeof(d), NULL, 0);
    if (st != CM_OK) {
        fail("consumer", "replying its verdict", st);
        goto out;
    }
    rc = 0;
out:
    cm_handle_close(c);
    cm_handle_close(ch);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0) {
        printf("usage: sbuf_stream [--count N] [--slot-size BYTES] [--consumers 1..%u] "
               "[--break-hash] [--quiet]\n", APP_GROUP_MAX);
        return 2;
    }
    int rc = app_run_group(producer, consumer, (uint32_t)o.consumers, argc, argv);
    if (rc != 0) {
        printf("sbuf: FAILED\n");
        return 1;
    }
    printf("SELFTEST: sbuf stream ok\n");
    return 0;
}
