/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the whole public API as a caller would misuse it.
 *
 *   make build/libfuzzer/api && build/libfuzzer/api -max_total_time=600
 *
 * Input: a sequence of up to MAX_OPS operations. Each picks one public
 * function (VMOs, channels, handles, object waits, VMARs, SharedBuffers
 * and their consumers, DMA pools without a device, the ledger and limits,
 * the host extras that need no outside party) and its arguments from a
 * recipe (tests/fuzz/api_args.h): handles from a pool of every type the
 * input made (live, closed, consumed by a channel write, replaced), forged
 * values and CM_HANDLE_INVALID; sizes, offsets and lengths at 0, 1, the
 * page edges, each limit and one past it, UINT64_MAX and pairs that
 * overflow when added; NULL out pointers where the contract says
 * INVALID_ARGS; random flag and rights bits. Every wait polls (timeout 0)
 * or passes an invalid negative timeout.
 *
 * Oracles, after every call: the status is one of the table's
 * (cm_status_name knows it), never INTERNAL and never positive; the status
 * detail is a string of at most 255 bytes; a success returns what it says
 * (a new handle names an object of the promised type, a mapping is readable
 * and, if writable, writable, a received message's bytes are the ones
 * published). After each input, with every handle closed and every mapping
 * removed: open fds, capmem handles and mappings, memfd mappings in
 * /proc/self/maps and every ledger kind's `used` are what they were before
 * it. Any difference, crash, sanitizer report or hang is a defect.
 *
 * What it never passes: wild pointers the headers make the caller's
 * responsibility (buffers shorter than the length given, fds it does not
 * own), waits that block, and sizes whose success would commit real memory
 * (VMOs, anonymous mappings and commits stay at a few pages: an accepted
 * 1 TiB commit would fill the machine). Those are the unit tests' job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/host.h>

#include "fuzz_input.h"
#include "fuzz_stage.h"
#include "api_fuzz.h"
#include "../host/common/leakcheck.h" /* count_open_fds, count_maps */

FUZZ_STAGES("bad_handle", "wrong_type", "access_denied", "invalid_args", "out_of_range",
            "no_resources", "bad_state", "vmo", "channel", "handle", "wait", "vmar", "sbuf",
            "sbuf_msg", "dma", "accepted");

struct api_state S;
static int trace; /* API_FUZZ_TRACE set: print every status and its detail */

void af_die(const char *what, cm_status_t st)
{
    fprintf(stderr, "api_fuzz: oracle failed: %s (%s, detail \"%s\")\n", what,
            cm_status_name(st), cm_status_detail());
    abort();
}

cm_status_t af_check(cm_status_t st)
{
    if (st > 0 || st == CM_ERR_INTERNAL || strcmp(cm_status_name(st), "CM_ERR_UNKNOWN") == 0)
        af_die("undefined or INTERNAL status", st);
    const char *d = cm_status_detail();
    if (d == NULL || strlen(d) > 255)
        af_die("status detail NULL or longer than 255 bytes", st);
    static const struct { cm_status_t st; int stage; } refusals[] = {
        { CM_ERR_BAD_HANDLE, ST_BAD_HANDLE },   { CM_ERR_WRONG_TYPE, ST_WRONG_TYPE },
        { CM_ERR_ACCESS_DENIED, ST_ACCESS },    { CM_ERR_INVALID_ARGS, ST_INVALID },
        { CM_ERR_OUT_OF_RANGE, ST_RANGE },      { CM_ERR_NO_RESOURCES, ST_NO_RES },
        { CM_ERR_BAD_STATE, ST_BAD_STATE },
    };
    if (trace)
        fprintf(stderr, "api_fuzz: %s %s\n", cm_status_name(st), d);
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
        if (st == refusals[i].st)
            FUZZ_REACHED(refusals[i].stage);
    return st;
}

/* A handle the library returned: it must name an object of `type`. */
void af_adopt(cm_handle_t h, uint32_t type)
{
    cm_handle_info_t info;
    cm_status_t st = cm_handle_get_info(h, &info);
    if (st != CM_OK || info.type != type)
        af_die("a handle returned on success does not name an object of its type", st);
    if (S.nissued < AF_MAX_ISSUED) {
        S.issued[S.nissued++] = (struct af_handle){ h, type };
    } else if (cm_handle_close(h) != CM_OK) {
        af_die("closing a fresh handle", CM_OK);
    }
}

/* A pointer the library returned for `len` bytes: read (and write) its
 * first and last byte, so a success that mapped nothing faults here. */
void af_touch(void *p, uint64_t len, int writable)
{
    if (p == NULL || len == 0)
        af_die("success without an address", CM_OK);
    volatile uint8_t *b = p;
    (void)b[0];
    (void)b[len - 1];
    if (writable) {
        b[0] = b[0];
        b[len - 1] = b[len - 1];
    }
}

void af_note_mapping(void *addr, uint64_t len)
{
    if (S.nmaps < AF_MAX_MAPS)
        S.maps[S.nmaps++] = (struct af_map){ addr, len };
    else if (cm_vmo_unmap(addr, len) != CM_OK)
        af_die("unmapping a fresh mapping", CM_OK);
}

/* host/ledger.c: releases of more than was charged (a bookkeeping bug the
 * library counts instead of crashing). Linked in: the target builds the
 * library from source. */
uint64_t cm__hledger_errors(void);

/* After every call: the ledger is consistent with itself and with the
 * handle table (HANDLES counts the table's live entries), and nothing was
 * released twice. */
static void ledger_invariants(void)
{
    cm_ledger_info_t li;
    if (cm_ledger_get(&li) != CM_OK || li.kinds != CM_LEDGER_KIND_COUNT)
        af_die("cm_ledger_get", CM_OK);
    for (int k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        const cm_ledger_entry_t *e = &li.entry[k];
        if (e->used > e->limit || e->peak < e->used || e->used + e->given > e->limit)
            af_die("a ledger entry above its limit or peak", CM_OK);
    }
    if (li.entry[CM_LEDGER_HANDLES].used != cm_host_live_handles())
        af_die("the HANDLES ledger differs from the live handle count", CM_OK);
    if (cm__hledger_errors() != 0)
        af_die("the ledger released more than it charged", CM_OK);
}

struct snapshot {
    int fds, maps;
    uint32_t handles, mappings;
    uint64_t used[CM_LEDGER_KIND_COUNT];
};

static void take(struct snapshot *s)
{
    cm_ledger_info_t li;
    memset(s, 0, sizeof(*s));
    s->fds = count_open_fds();
    s->maps = count_maps(); /* memfd mappings: allocators' anonymous ones are not ours */
    s->handles = cm_host_live_handles();
    s->mappings = cm_host_live_mappings();
    if (cm_ledger_get(&li) != CM_OK)
        af_die("cm_ledger_get", CM_OK);
    for (int k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        s->used[k] = li.entry[k].used;
}

static void leak_check(const struct snapshot *a, const struct snapshot *b)
{
    int leak = a->fds != b->fds || a->maps != b->maps || a->handles != b->handles ||
               a->mappings != b->mappings;
    for (int k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        leak |= a->used[k] != b->used[k];
    if (!leak)
        return;
    fprintf(stderr, "api_fuzz: leak after the input: fds %d -> %d, memfd maps %d -> %d, "
                    "handles %u -> %u, mappings %u -> %u\n",
            a->fds, b->fds, a->maps, b->maps, a->handles, b->handles, a->mappings,
            b->mappings);
    for (int k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        if (a->used[k] != b->used[k])
            fprintf(stderr, "  ledger %s used %llu -> %llu\n",
                    cm_ledger_kind_name((cm_ledger_kind_t)k), (unsigned long long)a->used[k],
                    (unsigned long long)b->used[k]);
    abort();
}

/* Everything the input made goes: mappings first (cm_vmo_unmap of one
 * already gone is INVALID_ARGS), then every handle value ever issued
 * (closing a closed one is BAD_HANDLE), then fds of the host extras. */
static void release_all(void)
{
    for (uint32_t i = 0; i < S.nmaps; i++) {
        cm_status_t st = af_check(cm_vmo_unmap(S.maps[i].addr, S.maps[i].len));
        if (st != CM_OK && st != CM_ERR_INVALID_ARGS)
            af_die("cm_vmo_unmap at the end", st);
    }
    for (uint32_t i = S.nissued; i-- > 0;) {
        cm_status_t st = af_check(cm_handle_close(S.issued[i].h));
        if (st != CM_OK && st != CM_ERR_BAD_HANDLE)
            af_die("cm_handle_close at the end", st);
    }
    for (uint32_t i = 0; i < S.nfds; i++)
        close(S.fds[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        trace = getenv("API_FUZZ_TRACE") != NULL;
        af_once();
    }
    struct reader r = { data, size };
    struct snapshot before, after;
    memset(&S, 0, sizeof(S));
    take(&before);
    af_preamble(&r);
    int ok = 0;
    for (int step = 0; step < AF_MAX_OPS && r.n > 0; step++) {
        ok |= af_op(&r) == CM_OK;
        ledger_invariants();
    }
    release_all();
    ledger_invariants();
    take(&after);
    leak_check(&before, &after);
    if (ok)
        FUZZ_REACHED(ST_ACCEPTED);
    return 0;
}
