/* SPDX-License-Identifier: MIT */
/* libFuzzer target for core/vmar_rules and core/commit_set, against a
 * page-level reference model.
 *
 *   make build/libfuzzer/vmar && build/libfuzzer/vmar -runs=10000000
 *
 * Input: byte 0 picks the run capacity (1..8); the rest is a sequence of
 * operations on a 32-page reservation and four 16-page objects: map
 * (specific or first fit), unmap (any or object-specific), protect, commit,
 * decommit, anonymous map, nested reservation (child) and its removal.
 * After every operation:
 *  - V1..V8 hold (cm__vmar_check) and C1 holds for every object's set;
 *  - every page's identity (mapped, kind, object, object offset,
 *    generation, prot; a child's page names the child) equals the model's
 *    (cm__vmar_lookup);
 *  - the status is the one the model predicts, in the documented order
 *    (OUT_OF_RANGE, then the first page in address order that is unmapped
 *    (NOT_FOUND) or a child's (BAD_STATE) or another object's (NOT_FOUND),
 *    ALREADY_EXISTS over any used page, ACCESS_DENIED, NO_RESOURCES
 *    exactly when the resulting runs exceed the capacity), and a failed call
 *    changed nothing;
 *  - each object reference comes back exactly once: dropped when the
 *    mapping's last page goes, never twice, all of them at the final clear
 *    (after every child is removed); a child is never dropped as a mapping;
 *  - commit/decommit report exactly the pages whose state changed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <capmem/capmem.h>

#include "commit_set.h"
#include "vmar_rules.h"
#include "fuzz_input.h"
#include "fuzz_stage.h"

FUZZ_STAGES("refused", "full", "map", "unmap", "protect", "commit", "anon", "child",
            "child_removed", "accepted");
enum { ST_REFUSED, ST_FULL, ST_MAP, ST_UNMAP, ST_PROTECT, ST_COMMIT, ST_ANON, ST_CHILD,
       ST_CHILD_REMOVED, ST_ACCEPTED };

#define PG ((uint64_t)CM_PAGE_SIZE)
#define NP 32
#define NOBJ 4
#define OBJP 16
#define BASE (PG * 1024)
#define MAXCAP 8

struct mpage {
    uint64_t gen; /* 0: unmapped */
    int obj;      /* VMO mappings only */
    uint64_t opage;
    uint32_t prot, max;
    uint32_t kind; /* CM__VMAR_REC_* */
};

static struct mpage model[NP];
static int refs[NOBJ];      /* live mappings per object, by the model */
static uint64_t gen_obj[64]; /* generation -> object, for drop checks */
static int objtag[NOBJ];
static int anontag;          /* every anonymous mapping's backing */
static int childtag[64];     /* child of generation g: &childtag[g] */

static void die_if(int bad)
{
    if (bad)
        abort();
}

static uint32_t model_runs(const struct mpage *m)
{
    uint32_t r = 0;
    for (int p = 0; p < NP; p++)
        if (m[p].gen != 0 && (p == 0 || m[p - 1].gen != m[p].gen || m[p - 1].prot != m[p].prot))
            r++;
    return r;
}

static int gen_live(const struct mpage *m, uint64_t g)
{
    for (int p = 0; p < NP; p++)
        if (m[p].gen == g && m[p].kind != CM__VMAR_REC_CHILD)
            return 1;
    return 0;
}

/* The status of unmap/protect's coverage walk: the first page in order
 * that is unmapped, a child's, or (match) not object o's. */
static cm_status_t model_covered(uint32_t a, uint32_t n, int match, int o)
{
    for (uint32_t p = a; p < a + n; p++) {
        if (model[p].gen == 0)
            return CM_ERR_NOT_FOUND;
        if (model[p].kind == CM__VMAR_REC_CHILD)
            return CM_ERR_BAD_STATE;
        if (match && (model[p].kind != CM__VMAR_REC_VMO || model[p].obj != o))
            return CM_ERR_NOT_FOUND;
    }
    return CM_OK;
}

/* Status of a placement (map, anon, child) by the model: specific checks;
 * first fit only that the result is in range and free. */
static cm_status_t model_place(cm_status_t st, uint32_t a, uint32_t n, int specific,
                               uint64_t at, uint32_t cap)
{
    if (specific) {
        int busy = 0;
        for (uint32_t p = a; p < a + n && p < NP; p++)
            busy |= model[p].gen != 0;
        cm_status_t want;
        if (a + n > NP)
            want = CM_ERR_OUT_OF_RANGE;
        else if (busy)
            want = CM_ERR_ALREADY_EXISTS;
        else
            want = model_runs(model) + 1 > cap ? CM_ERR_NO_RESOURCES : CM_OK;
        die_if(st != want);
    } else if (st == CM_OK) {
        die_if(at < BASE || (at - BASE) % PG != 0 || (at - BASE) / PG + n > NP);
        for (uint64_t p = (at - BASE) / PG; p < (at - BASE) / PG + n; p++)
            die_if(model[p].gen != 0);
    } else {
        die_if(st != CM_ERR_NO_RESOURCES && !(st == CM_ERR_OUT_OF_RANGE && n > NP));
    }
    return st;
}

static void compare(const struct cm__vmar *v)
{
    die_if(cm__vmar_check(v) != CM_OK);
    die_if(cm__iv_count(&v->map) != model_runs(model));
    for (int p = 0; p < NP; p++) {
        struct cm__vmar_ident id;
        cm_status_t st = cm__vmar_lookup(v, BASE + PG * (uint64_t)p, &id);
        if (model[p].gen == 0) {
            die_if(st != CM_ERR_NOT_FOUND);
            continue;
        }
        die_if(st != CM_OK || id.gen != model[p].gen || id.kind != model[p].kind);
        if (model[p].kind == CM__VMAR_REC_CHILD) {
            die_if(id.obj != &childtag[model[p].gen] || id.prot != 0);
            continue;
        }
        die_if(id.obj_off != model[p].opage * PG || id.prot != model[p].prot);
        if (model[p].kind == CM__VMAR_REC_ANON)
            die_if(id.obj_id != 0 || id.obj != &anontag || id.max_prot != model[p].max);
        else
            die_if(id.obj_id != (uint64_t)model[p].obj || id.obj != &objtag[model[p].obj]);
    }
}

static void drops(void **dropped, uint32_t n, const struct mpage *before)
{
    /* Exactly the generations that were live and are not any more. */
    uint32_t want = 0;
    for (uint64_t g = 1; g < 64; g++)
        if (gen_live(before, g) && !gen_live(model, g))
            want++;
    die_if(n != want);
    for (uint32_t i = 0; i < n; i++) {
        if (dropped[i] == &anontag)
            continue;
        int o = (int)((int *)dropped[i] - objtag);
        die_if(o < 0 || o >= NOBJ || refs[o] <= 0);
        refs[o]--;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = { data, size };
    struct cm__iv_node nodes[MAXCAP];
    struct cm__vmar_rec recs[MAXCAP];
    struct cm__vmar v;
    struct cm__commit_set cs[NOBJ];
    uint64_t words[NOBJ][1];
    int cmodel[NOBJ][OBJP];
    void *dropped[MAXCAP];
    uint32_t nd;
    uint32_t cap = 1u + byte(&r) % MAXCAP;
    uint64_t next_gen = 0;

    memset(model, 0, sizeof(model));
    memset(refs, 0, sizeof(refs));
    memset(cmodel, 0, sizeof(cmodel));
    die_if(cm__vmar_init(&v, nodes, recs, cap, BASE, PG * NP, 1) != CM_OK);
    for (int o = 0; o < NOBJ; o++)
        die_if(cm__cs_init(&cs[o], words[o], 1, OBJP) != CM_OK);

    for (int step = 0; step < 64 && r.n > 0; step++) {
        uint8_t op = byte(&r) % 8;
        uint32_t a = byte(&r) % (NP + 2), n = byte(&r) % 10;
        uint8_t x = byte(&r);
        uint64_t addr = BASE + PG * a, len = PG * n;
        struct mpage before[NP];
        memcpy(before, model, sizeof(model));
        cm_status_t st, want;
        if (op == 0 && next_gen < 63) { /* map */
            int o = x % NOBJ, specific = (x >> 2) & 1;
            uint64_t opg = (x >> 3) % OBJP;
            uint32_t max = (x & 0x80) ? CM__VMAR_PROT_MASK : CM_MAP_READ;
            uint32_t prot = (x & 0x40) ? max : CM_MAP_READ;
            uint64_t at = 0;
            if (n == 0 || opg + n > OBJP)
                continue; /* the target's stage 1/3 checks refuse these */
            st = cm__vmar_map_plan(&v, PG * a, len, specific, &at);
            st = model_place(st, a, n, specific, at, cap);
            if (st == CM_OK) {
                uint32_t s0 = (uint32_t)((at - BASE) / PG);
                for (uint32_t p = s0; p < s0 + n; p++) {
                    die_if(model[p].gen != 0);
                    model[p] = (struct mpage){ next_gen + 1, o, opg + (p - s0), prot, max,
                                               CM__VMAR_REC_VMO };
                }
                cm__vmar_map_commit(&v, at, len, prot, max, ++next_gen, (uint64_t)o, 0, opg * PG,
                                    &objtag[o]);
                gen_obj[next_gen] = (uint64_t)o;
                refs[o]++;
                FUZZ_REACHED(ST_MAP);
            }
        } else if (op == 1) { /* unmap, maybe object-specific */
            int match = x & 1, o = (x >> 1) % NOBJ;
            st = cm__vmar_unmap_plan(&v, addr, len, match, (uint64_t)o);
            if (n == 0)
                want = CM_ERR_INVALID_ARGS;
            else if (a + n > NP)
                want = CM_ERR_OUT_OF_RANGE;
            else {
                want = model_covered(a, n, match, o);
                if (want == CM_OK) {
                    struct mpage after[NP];
                    memcpy(after, model, sizeof(model));
                    for (uint32_t p = a; p < a + n; p++)
                        after[p].gen = 0;
                    /* Release needs a node only for a middle cut. */
                    if (model_runs(after) > cap && model_runs(after) > model_runs(model))
                        want = CM_ERR_NO_RESOURCES;
                }
            }
            die_if(st != want);
            if (st == CM_OK) {
                for (uint32_t p = a; p < a + n; p++)
                    model[p] = (struct mpage){ 0 };
                cm__vmar_unmap_commit(&v, addr, len, dropped, &nd);
                drops(dropped, nd, before);
                FUZZ_REACHED(ST_UNMAP);
            }
        } else if (op == 2) { /* protect */
            uint32_t prot = (uint32_t[]){ 0, CM_MAP_READ, CM_MAP_READ | CM_MAP_WRITE }[x % 3];
            st = cm__vmar_protect_plan(&v, addr, len, prot);
            if (n == 0)
                want = CM_ERR_INVALID_ARGS;
            else if (a + n > NP)
                want = CM_ERR_OUT_OF_RANGE;
            else {
                want = model_covered(a, n, 0, 0);
                for (uint32_t p = a; p < a + n && want == CM_OK; p++)
                    if (prot & ~model[p].max)
                        want = CM_ERR_ACCESS_DENIED;
                if (want == CM_OK) {
                    struct mpage after[NP];
                    memcpy(after, model, sizeof(model));
                    for (uint32_t p = a; p < a + n; p++)
                        after[p].prot = prot;
                    if (model_runs(after) > cap)
                        want = CM_ERR_NO_RESOURCES;
                }
            }
            die_if(st != want);
            if (st == CM_OK) {
                for (uint32_t p = a; p < a + n; p++)
                    model[p].prot = prot;
                cm__vmar_protect_commit(&v, addr, len, prot);
                FUZZ_REACHED(ST_PROTECT);
            }
        } else if (op == 5 && next_gen < 63) { /* anonymous map */
            int specific = x & 1;
            uint32_t max = (x & 0x80) ? CM__VMAR_PROT_MASK : CM_MAP_READ;
            uint32_t prot = (x & 0x40) ? max : CM_MAP_READ;
            uint64_t at = 0;
            if (n == 0)
                continue;
            st = cm__vmar_map_plan(&v, PG * a, len, specific, &at);
            st = model_place(st, a, n, specific, at, cap);
            if (st == CM_OK) {
                uint32_t s0 = (uint32_t)((at - BASE) / PG);
                for (uint32_t p = s0; p < s0 + n; p++)
                    model[p] = (struct mpage){ next_gen + 1, -1, p - s0, prot, max,
                                               CM__VMAR_REC_ANON };
                cm__vmar_anon_commit(&v, at, len, prot, max, ++next_gen, &anontag);
                FUZZ_REACHED(ST_ANON);
            }
        } else if (op == 6 && next_gen < 63) { /* nested reservation */
            int fixed = x & 1;
            uint64_t at = 0;
            if (n == 0)
                continue;
            st = cm__vmar_child_plan(&v, PG * a, len, fixed, &at);
            st = model_place(st, a, n, fixed, at, cap);
            if (st == CM_OK) {
                uint32_t s0 = (uint32_t)((at - BASE) / PG);
                for (uint32_t p = s0; p < s0 + n; p++)
                    model[p] = (struct mpage){ next_gen + 1, -1, 0, 0, 0, CM__VMAR_REC_CHILD };
                ++next_gen;
                cm__vmar_child_commit(&v, at, len, next_gen, 1000 + next_gen,
                                      &childtag[next_gen]);
                FUZZ_REACHED(ST_CHILD);
            }
        } else if (op == 7) { /* remove the child at page a, if any */
            if (a >= NP || model[a].kind != CM__VMAR_REC_CHILD)
                continue;
            uint64_t g = model[a].gen;
            for (int p = 0; p < NP; p++)
                if (model[p].gen == g)
                    model[p] = (struct mpage){ 0 };
            cm__vmar_child_remove(&v, g);
            st = CM_OK;
            FUZZ_REACHED(ST_CHILD_REMOVED);
        } else if (op == 3 || op == 4) { /* commit (3) or decommit (4) */
            int o = x % NOBJ, commit = op == 3;
            uint64_t first = a, changed = 0, missing = 0, cnt = cm__cs_count(&cs[o]);
            cm_status_t ms = cm__cs_missing(&cs[o], first, n, &missing);
            st = cm__cs_apply(&cs[o], commit, first, n, &changed);
            die_if(ms != st);
            if (first + n > OBJP) {
                die_if(st != CM_ERR_OUT_OF_RANGE || cm__cs_count(&cs[o]) != cnt);
            } else {
                uint64_t want_changed = 0;
                for (uint64_t p = first; p < first + n; p++) {
                    want_changed += cmodel[o][p] != commit;
                    cmodel[o][p] = commit;
                }
                die_if(st != CM_OK || changed != want_changed);
                if (commit)
                    die_if(missing != want_changed);
                FUZZ_REACHED(ST_COMMIT);
            }
            uint64_t total = 0;
            for (int p = 0; p < OBJP; p++) {
                total += (uint64_t)cmodel[o][p];
                die_if(cm__cs_test(&cs[o], (uint64_t)p) != cmodel[o][p]);
            }
            die_if(cm__cs_count(&cs[o]) != total || cm__cs_check(&cs[o]) != CM_OK);
            continue;
        } else {
            continue; /* a map with every generation used */
        }
        if (st != CM_OK) {
            die_if(memcmp(before, model, sizeof(model)) != 0);
            FUZZ_REACHED(st == CM_ERR_NO_RESOURCES ? ST_FULL : ST_REFUSED);
        }
        compare(&v);
    }
    /* Release: children first (as the targets do), then every mapping. */
    void *c;
    while ((c = cm__vmar_first_child(&v)) != NULL) {
        uint64_t g = (uint64_t)((int *)c - childtag);
        die_if(g == 0 || g >= 64);
        for (int p = 0; p < NP; p++)
            if (model[p].gen == g)
                model[p] = (struct mpage){ 0 };
        cm__vmar_child_remove(&v, g);
    }
    die_if(v.children != 0);
    compare(&v);
    struct mpage before[NP];
    memcpy(before, model, sizeof(model));
    memset(model, 0, sizeof(model));
    cm__vmar_clear(&v, dropped, &nd);
    drops(dropped, nd, before);
    for (int o = 0; o < NOBJ; o++)
        die_if(refs[o] != 0);
    compare(&v);
    FUZZ_REACHED(ST_ACCEPTED);
    return 0;
}
