/* SPDX-License-Identifier: MIT */
/* Fuzz target for the host channel record decoder (host/wire.c): the one
 * parser of bytes a peer process controls.
 *
 *   make build/libfuzzer/wire && build/libfuzzer/wire -runs=10000000
 *
 * The input is a recipe, so that most inputs get past the header check:
 *   byte 0      mode: 1 in 16 "raw" (byte 1 is the fd count, the rest is
 *               the record as is); otherwise a record is built:
 *   byte 1      number of descriptors (0..64, or 62..66 around the limit)
 *   bytes 2..3  payload length (small, or around CM_CHANNEL_MAX_BYTES)
 *   per descriptor: one byte, its type (VMO, CHANNEL or SBUF_CONSUMER)
 *               and rights, and for a VMO one byte, its size (0, a few
 *               huge pages, the limit, just past it); then one metadata
 *               block (struct cm__sbuf_wire, input bytes) per consumer
 *   one byte    which field to break, if any (magic, version, reserved,
 *               either count, the record length, the fd count, one
 *               descriptor's type, rights or size), and a byte or word to break
 *               it with
 *   the rest    payload bytes.
 * The record is a heap copy of exactly its length, so ASan catches any read
 * past it. Oracle, both ways: the decoder accepts exactly the records that
 * an independent reading of the format (host/wire.h) says are valid, and an
 * accepted view lies inside the record, agrees with every limit and
 * re-encodes to the record's prefix. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../host/wire.h"
#include "fuzz_input.h"
#include "fuzz_stage.h"

FUZZ_STAGES("header", "counts", "lengths", "accepted");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* The format, read independently of host/wire.c: what a valid record is. */
static int model_valid(const uint8_t *rec, size_t len, size_t nfds)
{
    if (len < 16 || get32(rec) != CM__WIRE_MAGIC || get16(rec + 4) != CM__WIRE_VERSION ||
        get32(rec + 12) != 0)
        return 0;
    FUZZ_REACHED(0);
    uint32_t nh = get16(rec + 6), nb = get32(rec + 8);
    if (nh > CM_CHANNEL_MAX_HANDLES || nb > CM_CHANNEL_MAX_BYTES)
        return 0;
    FUZZ_REACHED(1);
    if (len < 16 + 16 * (size_t)nh)
        return 0;
    size_t consumers = 0, fds = 0;
    for (uint32_t i = 0; i < nh; i++) {
        uint32_t type = get32(rec + 16 + 16 * i), rights = get32(rec + 20 + 16 * i);
        uint64_t sz = get64(rec + 24 + 16 * i);
        if ((type != CM_OBJ_VMO && type != CM_OBJ_CHANNEL && type != CM_OBJ_SBUF_CONSUMER) ||
            (rights & ~CM_RIGHTS_ALL) != 0)
            return 0;
        /* A size only on a VMO (a huge one's exact size), within the limit
         * (CM_VMO_MAX_SIZE, spelled out: this model is the oracle). */
        if (type == CM_OBJ_VMO ? sz > (1ull << 40) : sz != 0)
            return 0;
        /* A consumer: four fds (data, producer area, consumer area,
         * socket) and 80 bytes of metadata after the descriptors. */
        consumers += type == CM_OBJ_SBUF_CONSUMER;
        fds += type == CM_OBJ_SBUF_CONSUMER ? 4 : 1;
    }
    if (fds > 253)
        return 0;
    FUZZ_REACHED(2);
    if (len != 16 + 16 * (size_t)nh + 80 * consumers + nb || nfds != fds)
        return 0;
    return 1;
}

static void check(const uint8_t *data, size_t len, size_t nfds)
{
    /* An exact-size heap copy, so ASan catches any read past the record. */
    uint8_t *rec = malloc(len + 1);
    if (rec == NULL)
        abort();
    memcpy(rec, data, len);
    int want = model_valid(rec, len, nfds);
    struct cm__wire_view v;
    cm_status_t st = cm__wire_decode(rec, len, nfds, &v);
    if ((st == CM_OK) != want || (st != CM_OK && st != CM_ERR_PROTOCOL))
        abort(); /* accepted something invalid, or refused something valid */
    if (st == CM_OK) {
        FUZZ_REACHED(3);
        const uint8_t *end = rec + len;
        if (v.num_handles > CM_CHANNEL_MAX_HANDLES || v.num_bytes > CM_CHANNEL_MAX_BYTES ||
            v.num_fds != nfds || v.bytes + v.num_bytes != end)
            abort();
        uint32_t k = 0;
        for (uint32_t i = 0; i < v.num_handles; i++) {
            if (v.handles[i].type != CM_OBJ_VMO && v.handles[i].type != CM_OBJ_CHANNEL &&
                v.handles[i].type != CM_OBJ_SBUF_CONSUMER)
                abort();
            k += v.handles[i].type == CM_OBJ_SBUF_CONSUMER;
        }
        if (k != v.num_consumers || v.num_fds > 253 ||
            v.consumers != (const uint8_t *)(v.handles + v.num_handles) ||
            v.consumers + (size_t)k * sizeof(struct cm__sbuf_wire) != v.bytes)
            abort();
        /* Re-encoding the accepted header reproduces the record's prefix. */
        static struct cm__sbuf_wire meta[CM_CHANNEL_MAX_HANDLES];
        memcpy(meta, v.consumers, (size_t)k * sizeof(meta[0]));
        uint8_t hdr[CM__WIRE_MAX_HDR];
        size_t hl = cm__wire_encode(hdr, v.num_bytes, v.handles, v.num_handles, meta, k);
        if (hl > len || memcmp(hdr, rec, hl) != 0)
            abort();
    }
    free(rec);
}

/* Room for counts 2 past each limit and 255 bytes past the length. */
static uint8_t msg[CM__WIRE_MAX_MSG + 1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size };
    uint8_t mode = byte(&r);
    if (mode % 16 == 0) {
        size_t nfds = byte(&r);
        check(r.p, r.n, nfds);
        return 0;
    }

    /* Counts: anywhere in range, or at the limits (limit-2 .. limit+2). */
    uint32_t nh = byte(&r);
    nh = (mode & 0x60) == 0x60 ? CM_CHANNEL_MAX_HANDLES - 2 + nh % 5 : nh % (CM_CHANNEL_MAX_HANDLES + 1);
    uint32_t nb = (uint32_t)byte(&r) << 8 | byte(&r);
    nb = (mode & 0x18) == 0x18 ? CM_CHANNEL_MAX_BYTES - 2 + nb % 5 : nb % 512;
    memset(msg, 0, 16 + 16 * (size_t)nh);
    put32(msg, CM__WIRE_MAGIC);
    msg[4] = CM__WIRE_VERSION & 0xff;
    msg[5] = CM__WIRE_VERSION >> 8;
    msg[6] = (uint8_t)nh; /* < 256 */
    put32(msg + 8, nb);
    size_t consumers = 0;
    for (uint32_t i = 0; i < nh; i++) {
        uint8_t kind = byte(&r);
        uint32_t type = (kind & 1) ? CM_OBJ_VMO : (kind & 6) == 6 ? CM_OBJ_SBUF_CONSUMER
                                                                  : CM_OBJ_CHANNEL;
        consumers += type == CM_OBJ_SBUF_CONSUMER;
        put32(msg + 16 + 16 * i, type);
        put32(msg + 20 + 16 * i, (kind >> 1) & CM_RIGHTS_ALL);
        if (kind & 1) {
            uint8_t sz = byte(&r);
            put64(msg + 24 + 16 * i, sz % 4 == 3 ? CM_VMO_MAX_SIZE - 1 + sz / 4 % 3
                                                 : (uint64_t)sz * 4096u * 61u);
        }
    }
    /* The consumers' metadata: input bytes (its contents are judged by
     * core/sbuf_admit.c, not by the parser). */
    size_t ml = 80 * consumers;
    for (size_t i = 0; i < ml; i++)
        msg[16 + 16 * (size_t)nh + i] = byte(&r);
    size_t len = 16 + 16 * (size_t)nh + ml + nb;
    size_t nfds = nh + 3 * consumers;

    /* Break at most one field; half of the inputs break none. */
    uint8_t brk = byte(&r);
    uint32_t with = u32(&r);
    if (brk & 0x80) {
        switch (brk % 12) {
        case 0: put32(msg, CM__WIRE_MAGIC ^ (1u << (with % 32))); break;
        case 1: msg[4] = (uint8_t)with; msg[5] = (uint8_t)(with >> 8); break;
        case 2: put32(msg + 12, with | 1u << (with % 32)); break;
        case 3: msg[6] = (uint8_t)with; msg[7] = (uint8_t)(with >> 8); break;
        case 4: put32(msg + 8, (with & 1) ? with : CM_CHANNEL_MAX_BYTES + 1 + with % 16); break;
        case 5: len = with % 2 ? len - (with >> 1) % (len + 1) : len + (with >> 1) % 256; break;
        case 6: nfds = (with & 1) ? nfds + 1 + (with >> 1) % 8 : nfds - 1 - (with >> 1) % 8; break;
        case 7: if (nh > 0) put32(msg + 16 + 16 * (with % nh), (with >> 8) % 512 < 256 ? CM_OBJ_SBUF_CONSUMER : (with >> 8) % 512); break;
        case 8: if (nh > 0) put32(msg + 20 + 16 * (with % nh), CM_RIGHTS_ALL + 1 + (with >> 8)); break;
        case 9: if (nh > 0) put64(msg + 24 + 16 * (with % nh), (uint64_t)with << (with % 40)); break;
        case 10: if (nh > 0) put64(msg + 24 + 16 * (with % nh), 1u + (with >> 8) % 4); break;
        default: msg[6] = 0; msg[7] = 0; break; /* descriptors then count as payload */
        }
    }
    /* Payload: the rest of the input, then zeros. */
    size_t hl = 16 + 16 * (size_t)nh + ml;
    if (len > hl) {
        size_t n = len - hl < r.n ? len - hl : r.n;
        memcpy(msg + hl, r.p, n);
        memset(msg + hl + n, 0, len - hl - n);
    }
    check(msg, len, nfds);
    return 0;
}
