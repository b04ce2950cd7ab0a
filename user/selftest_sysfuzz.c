/* SPDX-License-Identifier: MIT */
/* The kernel syscall fuzzer: a hostile program calling every syscall
 * number with garbage must get a typed status back, never a panic, a hang,
 * a leaked frame, object, message or account, or harm to another process.
 *
 * Each fuzzing child (child_sysfuzz SEED) keeps a pool with a live handle
 * of every object type the kernel has (VMO, channel ends, reservations
 * with a nested one, SharedBuffer and consumers, DMA pool, account, the
 * process handle of an idle child, and, when the parent passes the empty
 * virtio slots, MMIO windows and a DMA device), some with fewer rights,
 * then makes FZ_CALLS calls drawn from every number 0..CMK_SYS_COUNT+2 (each
 * once first) and a few far out of range. An argument is, per the call's
 * signature below, of the kind the call expects (half the calls: all but
 * at most one argument well-formed, so they reach the object's state) or
 * any kind at all. What a successful call hands back (handles, mapping
 * addresses, loan, buffer, fence and request ids) joins the pool, and one
 * call in four is a step of a structured sequence (loan, publish, copy; DMA
 * acquire, submit, the device side's next and complete, fence wait; map,
 * unmap or protect or decommit), so later calls hit mapped, loaned and
 * in-flight states. Odd seeds lower every limit of the child to just above
 * what its pool uses, so creations fail part way, on the error paths.
 *
 * A call fails the run if it returns anything but a defined status (not
 * INTERNAL) or the count a few calls return, or succeeds with an out
 * pointer no page could be writable at. The parent checks after each child
 * that frames, objects, processes, messages, accounts and its own ledger
 * are as before.
 *
 * Left out, because they would end or block the caller or print: EXIT
 * (never called); DEBUG_WRITE only with a length of 0 or above its bound
 * (it prints nothing then); every timeout is 0 (poll) or a negative value
 * other than CM_TIMEOUT_INFINITE (INVALID_ARGS); WAIT never names the idle
 * child while it may still run; the spawn calls only get argument blocks
 * whose program name is no program (or an unreadable one), so they never
 * start anything.
 *
 * The kernel writes only into the fuzzer's own area (a reservation with
 * FZ_RW_PAGES read-write pages, one read-only page and unmapped guard pages
 * after them, so a page-straddling range ends in a refusal) and into
 * mappings calls made; the fuzzer's own state is in its image, which no
 * call can unmap, and the fuzzer reaches the area only through syscalls
 * (area_put/area_get), since a forged handle may unmap it. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>

#include "cmk.h"
#include "selftest.h"
#include "selftest_sysfuzz.h"
#include "sys.h"

#define FZ_CALLS 8000u
#define FZ_SEEDS 16u
/* Numbers a run must see succeed at least once: 45 to 65 do with these
 * seeds, of the 69 that can (not: exit, the spawns, wait, console_read,
 * account_live, which returns a count, and the reserved and unknown
 * numbers). */
#define FZ_MIN_REACHED 36u

static int32_t idle_pid; /* the child's idle child, which WAIT never names */

/* Results other than a status: word_wake's count, account_live's count,
 * console_read's bytes (never with nobody typing; bounded anyway). */
static int result_ok(uint64_t n, const uint64_t *a, int64_t r)
{
    if (r > 0) {
        if (n == CMK_SYS_WORD_WAKE)
            return r <= (int64_t)(uint32_t)a[1] && r < 64;
        if (n == CMK_SYS_ACCOUNT_LIVE)
            return r < 1000;
        if (n == CMK_SYS_CONSOLE_READ)
            return r <= (int64_t)CMK_CONSOLE_READ_MAX && (uint64_t)r <= a[1];
        return 0;
    }
    /* Every defined status but INTERNAL (a kernel bug by definition) and
     * CONNECTION_REFUSED (host sockets only). */
    return r >= CM_ERR_PUBLISH_FAILED;
}

/* Addresses no user page can ever be writable at: NULL and the first
 * page, kernel and device addresses, above the user window, the image's
 * code and read-only data (the image is no reservation, so no call can map
 * over it). */
static int never_writable(uint64_t p)
{
    uint64_t ro = fz_va(fz_ro_image_page);
    return p < PAGE || p == 0x80200000ull || p == 0x10000000ull || p >= 0x4000000000ull ||
           p == CMK_USER_IMAGE_BASE || (p >= ro && p < ro + PAGE);
}

/* A call that succeeded must have written each of its results: one whose
 * out pointer could not be written to reported success for nothing. */
static int wrote_nowhere(uint64_t n, const char *s, const uint64_t *a)
{
    for (int k = 0; s[k] != 0; k++) {
        if (s[k] != 'O' && s[k] != 'H' && s[k] != 'A' && s[k] != 'I')
            continue;
        /* Optional (NULL: not wanted): a DMA buffer's size, a published
         * sequence number, the sizes of a channel read. */
        if (a[k] == 0 && ((n == CMK_SYS_DMA_BUFFER_MAP && k == 3) ||
                          (n == CMK_SYS_SBUF_PUBLISH && k == 3) ||
                          (n == CMK_SYS_CHANNEL_READ && (k == 3 || k == 6))))
            continue;
        if (never_writable(a[k]))
            return 1;
    }
    return 0;
}

/* What a successful call handed back joins the pool. */
static void harvest(uint64_t n, const char *s, const uint64_t *a)
{
    for (int k = 0; s[k] != 0; k++) {
        uint64_t v = 0;
        cm_handle_t h;
        switch (s[k]) {
        case 'H':
            if (fz_in_area(a[k], 4) && fz_area_get(&h, a[k], 4) == 0)
                fz_keep_extra(h);
            break;
        case 'A':
            if (fz_in_area(a[k], 8) && fz_area_get(&v, a[k], 8) == 0)
                fz_addrs[fz_addrs_next++ % FZ_ADDRS] = v;
            break;
        case 'I':
            if (fz_in_area(a[k], 8) && fz_area_get(&v, a[k], 8) == 0)
                fz_ids[fz_ids_next++ % FZ_IDS] = v;
            break;
        default: break;
        }
    }
    cmk_sbuf_attach_t at;
    if (n == CMK_SYS_SBUF_ATTACH && fz_in_area(a[1], sizeof(at)) &&
        fz_area_get(&at, a[1], sizeof(at)) == 0) {
        fz_addrs[fz_addrs_next++ % FZ_ADDRS] = at.data;
        fz_addrs[fz_addrs_next++ % FZ_ADDRS] = at.cons;
    }
    uint32_t got;
    cm_handle_t hv[4];
    if (n == CMK_SYS_CHANNEL_READ && fz_in_area(a[6], 4) && fz_in_area(a[4], sizeof(hv)) &&
        fz_area_get(&got, a[6], 4) == 0 && fz_area_get(hv, a[4], sizeof(hv)) == 0) {
        for (uint32_t i = 0; i < got && i < 4; i++)
            fz_keep_extra(hv[i]);
    }
}

#define FZ_NUMBERS (FZ_LAST_NUMBER + 1u)

struct fz_stats {
    uint32_t calls[FZ_NUMBERS];
    uint32_t ok[FZ_NUMBERS];
    uint32_t statuses; /* bit -status of every status seen */
};

/* Makes call n and checks its result; what it hands back joins the pool.
 * *ret (if not NULL) gets the result. */
static int do_call(struct fz_stats *st, uint32_t iter, uint64_t n, const uint64_t *a,
                   const char *s, int64_t *ret)
{
    int64_t r = fz_sys(n, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    if (!result_ok(n, a, r) || (r == CM_OK && wrote_nowhere(n, s, a))) {
        printf("# sysfuzz call %u: syscall %lu (%lx %lx %lx %lx %lx %lx %lx) returned %ld\n",
               iter, (unsigned long)n, (unsigned long)a[0], (unsigned long)a[1],
               (unsigned long)a[2], (unsigned long)a[3], (unsigned long)a[4], (unsigned long)a[5],
               (unsigned long)a[6], (long)r);
        return 1;
    }
    uint32_t idx = n < FZ_NUMBERS ? (uint32_t)n : FZ_LAST_NUMBER;
    st->calls[idx]++;
    if (r == CM_OK) {
        st->ok[idx]++;
        harvest(n, s, a);
    }
    if (r <= 0)
        st->statuses |= 1u << (uint32_t)(-r);
    if (ret != NULL)
        *ret = r;
    return 0;
}

static int fuzz_one(struct fz_stats *st, uint32_t iter)
{
    uint64_t a[7];
    /* Every number once first, then any. */
    uint64_t n = iter < FZ_LAST_NUMBER ? iter + 1u : fz_pick_number();
    const char *s = n < CMK_SYS_COUNT && fz_sig[n] != 0 ? fz_sig[n] : "";
    /* Half the calls are well-formed but for at most one argument, so
     * they pass the argument checks and reach the object's state. */
    int careful = fz_rng() % 2, hidx = 0, bad = careful && fz_rng() % 2 ? (int)(fz_rng() % 7) : -1;
    for (int k = 0; k < 7; k++) {
        char kind = k < (int)strlen(s) ? s[k] : 'x';
        if (careful && k != bad)
            a[k] = kind == 'x' ? 0 : fz_pick_good(kind, n, &hidx);
        else
            a[k] = kind == 'x' || fz_rng() % 5 == 0 ? fz_pick_any(n) : fz_pick_kind(kind, n);
        /* Never random: timeouts, spawn blocks, pids. */
        if (kind == 't')
            a[k] = fz_pick_timeout();
        if (kind == 's')
            a[k] = fz_pick_spawn();
        if (kind == 'w' && a[k] == (uint64_t)idle_pid)
            a[k] = (uint64_t)idle_pid + 1;
    }
    if (n == CMK_SYS_DEBUG_WRITE)
        a[1] = fz_rng() % 2 ? 0 : 1024 + 1 + fz_rng() % 4096; /* prints nothing */
    if (n == CMK_SYS_VMO_CREATE)
        a[0] %= 16 * PAGE + 1; /* keep TCG fast */
    if (n == CMK_SYS_VMO_SET_SIZE)
        a[1] %= 16 * PAGE + 1;
    return do_call(st, iter, n, a, s, 0);
}

/* ---- structured sequences ----
 * The states random calls rarely reach: a loan published and copied, a
 * DMA buffer submitted, served by the device side and its fence waited
 * on, a VMO mapped into a reservation and taken out again. Each step's
 * arguments come from the step before, and one step in four has one
 * argument swapped for a random one. */

/* Step k's arguments, corrupted at most once (one in four). */
static int step(struct fz_stats *st, uint32_t iter, uint64_t n, uint64_t *a, int64_t *r)
{
    if (fz_rng() % 4 == 0) {
        uint32_t k = (uint32_t)(fz_rng() % 7);
        a[k] = fz_rng() % 2 ? fz_pick_any(n) : a[k] ^ (1ull << (fz_rng() % 64));
        if (k < strlen(fz_sig[n]) && fz_sig[n][k] == 't')
            a[k] = 0; /* never a wait */
    }
    return do_call(st, iter, n, a, fz_sig[n], r);
}

static uint64_t out_at(uint32_t i)
{
    return fz_area + PAGE + i * 256u; /* the scratch words of the sequences */
}

static uint64_t get_u64(uint64_t at)
{
    uint64_t v = 0;
    (void)fz_area_get(&v, at, 8);
    return v;
}

static int seq_sbuf(struct fz_stats *st, uint32_t iter)
{
    int64_t r;
    uint64_t a[7] = { fz_pool[S_SBUF], 0, 0, out_at(0), 0, 0, 0 };
    if (step(st, iter, CMK_SYS_SBUF_LOAN, a, &r) != 0)
        return 1;
    if (r != CM_OK)
        return 0;
    uint64_t id = get_u64(out_at(0)), slot = get_u64(out_at(0) + 8) & 0xffffffffu;
    if (fz_rng() % 4 == 0) {
        uint64_t c[7] = { fz_pool[S_SBUF], id, 0, 0, 0, 0, 0 };
        return step(st, iter, CMK_SYS_SBUF_CANCEL, c, &r);
    }
    uint64_t b[7] = { fz_pool[S_SBUF], id, 1 + fz_rng() % 256, out_at(1), 0, 0, 0 };
    if (step(st, iter, CMK_SYS_SBUF_PUBLISH, b, &r) != 0)
        return 1;
    if (r != CM_OK)
        return 0;
    uint64_t seq = get_u64(out_at(1));
    uint64_t c[7] = { fz_pool[fz_rng() % 2 ? S_CONS : S_CONS_RO], seq, slot, out_at(2), b[2], 0, 0 };
    if (step(st, iter, CMK_SYS_SBUF_COPY, c, &r) != 0)
        return 1;
    uint64_t k[7] = { c[0], out_at(3), 0, 0, 0, 0, 0 };
    return step(st, iter, fz_rng() % 2 ? CMK_SYS_SBUF_KICK : CMK_SYS_SBUF_ATTACH, k, &r);
}

static int seq_dma(struct fz_stats *st, uint32_t iter)
{
    int64_t r;
    cm_dma_op_t op = { 1 + fz_rng() % 2, 0, 512 * (1 + fz_rng() % 8), 0, 512 * (fz_rng() % 4) };
    uint64_t a[7] = { fz_pool[S_DMA_POOL], out_at(0), 0, 0, 0, 0, 0 };
    if (step(st, iter, CMK_SYS_DMA_BUFFER_ACQUIRE, a, &r) != 0)
        return 1;
    if (r != CM_OK) {
        /* The pool ran dry (random calls keep what they acquire, requests
         * stay in flight): serve the device side and give buffers back. */
        for (uint32_t i = 0; i < 2; i++) {
            uint64_t nx[7] = { fz_pool[S_DMA_DEV], 0, fz_area + 2 * PAGE, 0, 0, 0, 0 };
            if (do_call(st, iter, CMK_SYS_DMA_DEVICE_NEXT, nx, fz_sig[CMK_SYS_DMA_DEVICE_NEXT], &r))
                return 1;
            uint64_t cp[7] = { fz_pool[S_DMA_DEV], get_u64(fz_area + 2 * PAGE), 0, 512, 0, 0, 0 };
            if (r == CM_OK && do_call(st, iter, CMK_SYS_DMA_DEVICE_COMPLETE, cp,
                                      fz_sig[CMK_SYS_DMA_DEVICE_COMPLETE], &r))
                return 1;
        }
        for (uint32_t i = 0; i < FZ_IDS; i++) {
            uint64_t rl[7] = { fz_pool[S_DMA_POOL], fz_ids[i], 0, 0, 0, 0, 0 };
            if (do_call(st, iter, CMK_SYS_DMA_BUFFER_RELEASE, rl, fz_sig[CMK_SYS_DMA_BUFFER_RELEASE],
                        &r))
                return 1;
        }
        return 0;
    }
    uint64_t buf = get_u64(out_at(0));
    if (fz_rng() % 4 == 0) {
        uint64_t m[7] = { fz_pool[S_DMA_POOL], buf, out_at(1), out_at(2), 0, 0, 0 };
        if (step(st, iter, CMK_SYS_DMA_BUFFER_MAP, m, &r) != 0)
            return 1;
        if (r == CM_OK)
            fz_addrs[fz_addrs_next++ % FZ_ADDRS] = get_u64(out_at(1));
    }
    if (fz_rng() % 4 == 0) {
        uint64_t d[7] = { fz_pool[S_DMA_POOL], buf, fz_rng() % 2 ? 0 : out_at(1), 0, 0, 0, 0 };
        return step(st, iter, fz_rng() % 2 ? CMK_SYS_DMA_BUFFER_RELEASE
                                        : CMK_SYS_DMA_BUFFER_DETACH_VMO, d, &r);
    }
    (void)fz_area_put(out_at(3), &op, sizeof(op));
    uint64_t b[7] = { fz_pool[S_DMA_POOL], buf, out_at(3), out_at(4), 0, 0, 0 };
    if (step(st, iter, CMK_SYS_DMA_SUBMIT, b, &r) != 0)
        return 1;
    if (r != CM_OK)
        return 0;
    uint64_t fence = get_u64(out_at(4));
    /* The device side: the request as its driver gets it. */
    uint64_t c[7] = { fz_pool[S_DMA_DEV], 0, fz_area + 2 * PAGE, 0, 0, 0, 0 };
    if (step(st, iter, CMK_SYS_DMA_DEVICE_NEXT, c, &r) != 0)
        return 1;
    if (r == CM_OK) {
        uint64_t req = get_u64(fz_area + 2 * PAGE);
        uint64_t d[7] = { fz_pool[S_DMA_DEV], req, fz_rng() % 4 == 0 ? (uint64_t)(int64_t)CM_ERR_IO : 0,
                          op.length, 0, 0, 0 };
        if (step(st, iter, CMK_SYS_DMA_DEVICE_COMPLETE, d, &r) != 0)
            return 1;
    }
    uint64_t e[7] = { fz_pool[S_DMA_POOL], fence, 0, out_at(5), fz_rng() % 2, 0, 0 };
    if (step(st, iter, CMK_SYS_DMA_FENCE_WAIT, e, &r) != 0)
        return 1;
    uint64_t f[7] = { fz_pool[S_DMA_POOL], buf, 0, 0, 0, 0, 0 };
    return step(st, iter, CMK_SYS_DMA_BUFFER_RELEASE, f, &r);
}

static int seq_channel(struct fz_stats *st, uint32_t iter)
{
    int64_t r;
    int dir = (int)(fz_rng() % 2);
    cm_handle_t hs[3] = { fz_extra[fz_rng() % FZ_EXTRA], fz_extra[fz_rng() % FZ_EXTRA],
                          fz_pool[fz_rng() % S_COUNT] };
    uint64_t nh = fz_rng() % 4;
    (void)fz_area_put(out_at(0), hs, sizeof(hs));
    uint64_t a[7] = { fz_pool[dir ? S_CH0 : S_CH1], out_at(1), fz_rng() % 2 ? 16 : PAGE + 16,
                      nh ? out_at(0) : 0, nh, 0, 0 };
    if (step(st, iter, CMK_SYS_CHANNEL_WRITE, a, &r) != 0)
        return 1;
    if (r != CM_OK)
        return 0;
    uint64_t b[7] = { fz_pool[dir ? S_CH1 : S_CH0], fz_area + 2 * PAGE, 2 * PAGE, out_at(2),
                      out_at(3), 4, out_at(4) };
    return step(st, iter, CMK_SYS_CHANNEL_READ, b, &r);
}

static int seq_vmar(struct fz_stats *st, uint32_t iter)
{
    int64_t r;
    enum slot vs = fz_rng() % 2 ? S_VMAR : S_VMAR_NESTED;
    enum slot os = fz_rng() % 2 ? S_VMO : S_VMO_RO;
    uint64_t a[7] = { fz_pool[vs], PAGE * (fz_rng() % 8), fz_pool[os], 0, PAGE,
                      CM_MAP_READ | (fz_rng() % 2 ? CM_MAP_WRITE : 0), out_at(0) };
    if (step(st, iter, CMK_SYS_VMAR_MAP, a, &r) != 0)
        return 1;
    if (r != CM_OK)
        return 0;
    uint64_t addr = get_u64(out_at(0));
    uint64_t b[7] = { 0 };
    switch (fz_rng() % 5) {
    case 0:
        b[0] = fz_pool[vs], b[1] = fz_pool[os], b[2] = addr, b[3] = PAGE;
        return step(st, iter, CMK_SYS_VMAR_UNMAP_VMO, b, &r);
    case 1:
        b[0] = fz_pool[vs], b[1] = addr, b[2] = PAGE, b[3] = fz_rng() % 2 ? 0 : CM_MAP_READ;
        return step(st, iter, CMK_SYS_VMAR_PROTECT, b, &r);
    case 2:
        b[0] = fz_pool[os], b[1] = CM_VMO_OP_COMMIT + fz_rng() % 2, b[2] = 0, b[3] = PAGE;
        return step(st, iter, CMK_SYS_VMO_OP_RANGE, b, &r);
    case 3:
        b[0] = addr, b[1] = fz_rng() % 2, b[2] = 0;
        return step(st, iter, CMK_SYS_WORD_WAIT, b, &r);
    default:
        b[0] = fz_pool[vs], b[1] = addr, b[2] = PAGE;
        return step(st, iter, CMK_SYS_VMAR_UNMAP, b, &r);
    }
}

static uint64_t parse_seed(const char *s)
{
    uint64_t v = 0;
    for (; s != NULL && *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

/* What a child sends its parent to be killed. Only its exact bytes count:
 * the fuzzing may write to the report channel too (a forged handle value
 * can name it), but never from the image's data, where this lies. */
static const char fz_kill_token[] = "sysfuzz: kill me now";

/* Child: child_sysfuzz SEED; startup handles: the channel to report on
 * (absent when run by hand), then up to two empty device windows. */
int child_sysfuzz(void)
{
    static struct fz_stats st;
    uint64_t seed = parse_seed(selftest_arg);
    fz_rng_state = FZ_SEED_BASE ^ (seed * 0x9e3779b97f4a7c15ull);
    for (uint32_t i = 0; i < 16; i++)
        (void)fz_rng();
    CHECK(fz_make_area() == 0);
    for (uint32_t s = 0; s < S_COUNT; s++)
        fz_pool[s] = CM_HANDLE_INVALID;
    fz_window[0] = fz_window[1] = CM_HANDLE_INVALID;
    /* The idle child: a process handle (full and reduced) and the channel
     * end its wait ends on. */
    static const char *const idle_args[] = { "child_sysfuzz_idle" };
    cm_handle_t ends[2], proc = CM_HANDLE_INVALID;
    CHECK_ST(cm_channel_create(0, &ends[0], &ends[1]), CM_OK);
    idle_pid = cmk_spawn_ex("selftest", idle_args, 1, &ends[1], 1, CMK_ROLE_MAIN, NULL, &proc);
    CHECK(idle_pid > 0);
    fz_pool[S_CH_IDLE] = ends[0];
    fz_pool[S_PROC] = fz_dup(proc, CM_RIGHTS_SAME);
    fz_pool[S_PROC_RO] = fz_dup(proc, CM_RIGHT_READ);
    cm_handle_t report = cmk_startup_handle_count() > 0 ? cmk_startup_handle(0)
                                                        : CM_HANDLE_INVALID;
    for (uint32_t i = 1; i < cmk_startup_handle_count() && i < 3; i++)
        fz_window[i - 1] = cmk_startup_handle(i);
    if (fz_window[1] == CM_HANDLE_INVALID)
        fz_window[1] = fz_window[0];
    fz_refill();
    for (uint32_t s = 0; s < S_COUNT; s++) {
        if (s == S_MMIO || s == S_MMIO_RO || s == S_DMA_DEV)
            continue; /* only with windows */
        if (!fz_live(fz_pool[s])) {
            printf("# sysfuzz: pool slot %u not made\n", s);
            return 1;
        }
    }
    if (fz_window[0] != CM_HANDLE_INVALID)
        CHECK(fz_live(fz_pool[S_DMA_DEV]));
    /* Odd seeds run just above what the pool uses: most creations and
     * commits then fail part way, on the error paths. */
    if (seed % 2 == 1)
        CHECK(fz_tighten() == 0);
    for (uint32_t iter = 0; iter < FZ_CALLS; iter++) {
        int (*const seqs[])(struct fz_stats *, uint32_t) = { seq_sbuf, seq_dma, seq_channel,
                                                              seq_vmar };
        int bad = iter >= FZ_LAST_NUMBER && fz_rng() % 4 == 0 ? seqs[fz_rng() % 4](&st, iter)
                                                            : fuzz_one(&st, iter);
        if (bad != 0) {
            printf("# sysfuzz: seed %lu\n", (unsigned long)seed);
            return 1;
        }
        if (iter % 64 == 63)
            fz_refill();

    }
    /* The idle child ends now, or (when a forged handle value, a closed
     * one's slot in a newer generation, named `proc` and the fuzzing
     * closed or moved it) when this process's end of its channel closes
     * at exit; the parent's check waits for that. */
    cmk_exit_info_t info;
    if (cmk_proc_kill(proc) == CM_OK) {
        CHECK_ST(cmk_proc_wait(proc, 5000ll * 1000 * 1000, &info), CM_OK);
        /* Killed, or ended when the fuzzing closed its channel's peer. */
        CHECK(info.reason == CMK_EXIT_KILLED || info.reason == CMK_EXIT_NORMAL);
    }
    uint32_t reached = 0, called = 0;
    for (uint32_t n = 1; n < FZ_NUMBERS; n++) {
        called += st.calls[n] != 0;
        reached += st.ok[n] != 0;
    }
    printf("# sysfuzz seed %lu: %u numbers called, %u reached CM_OK, statuses %x\n",
           (unsigned long)seed, called, reached, st.statuses);
    /* The run got past the argument checks of most calls (a kernel that
     * refused everything would not), and reached the refusals of every
     * argument class. */
    CHECK(reached >= FZ_MIN_REACHED);
    CHECK(st.statuses & 1u);
    CHECK(st.statuses & (1u << -CM_ERR_INVALID_ARGS));
    CHECK(st.statuses & (1u << -CM_ERR_BAD_HANDLE));
    CHECK(st.statuses & (1u << -CM_ERR_WRONG_TYPE));
    CHECK(st.statuses & (1u << -CM_ERR_ACCESS_DENIED));
    CHECK(st.statuses & (1u << -CM_ERR_OUT_OF_RANGE));
    CHECK(st.statuses & (1u << -CM_ERR_UNSUPPORTED));
    /* Seeds 2 and 3 of every 4 end killed while asleep, with everything
     * live, rather than by exit (if the fuzzing closed `report`, by exit). */
    if (seed % 4 >= 2 &&
        cm_channel_write(report, fz_kill_token, sizeof(fz_kill_token), NULL, 0) == CM_OK) {
        cm_signals_t seen;
        (void)cm_object_wait_one(report, CM_SIGNAL_PEER_CLOSED, CM_TIMEOUT_INFINITE, &seen);
    }
    return 0;
}

/* Child: waits until its channel's peer closes (or it is killed). */
int child_sysfuzz_idle(void)
{
    cm_signals_t seen;
    (void)cm_object_wait_one(cmk_startup_handle(0), CM_SIGNAL_PEER_CLOSED, CM_TIMEOUT_INFINITE,
                             &seen);
    return 0;
}

/* Reads the child's messages until the kill token (*kill_me = 1) or the
 * child's end closing (0: it exits by itself); handles that came along
 * with the fuzzing's messages are closed. */
static int await_report(cm_handle_t report, int *kill_me)
{
    static uint8_t buf[CM_CHANNEL_MAX_BYTES];
    cm_handle_t hs[CM_CHANNEL_MAX_HANDLES];
    *kill_me = 0;
    for (;;) {
        cm_status_t ws = cm_channel_wait_readable(report, CM_TIMEOUT_INFINITE);
        if (ws == CM_ERR_PEER_CLOSED)
            return 0;
        CHECK_ST(ws, CM_OK);
        uint32_t nb = 0, nh = 0;
        CHECK_ST(cm_channel_read(report, buf, sizeof(buf), &nb, hs, CM_CHANNEL_MAX_HANDLES, &nh),
                 CM_OK);
        for (uint32_t i = 0; i < nh; i++)
            CHECK_ST(cm_handle_close(hs[i]), CM_OK);
        if (nb == sizeof(fz_kill_token) && nh == 0 && memcmp(buf, fz_kill_token, nb) == 0) {
            *kill_me = 1;
            return 0;
        }
    }
}

int test_sysfuzz_every_syscall_with_hostile_arguments_is_typed_and_leaks_nothing(void)
{
    uint64_t t0 = now_ticks();
    uint32_t killed = 0;
    for (uint32_t seed = 0; seed < FZ_SEEDS; seed++) {
        cmk_counters_t c0, c1;
        cm_ledger_info_t l0;
        cmk_exit_info_t info;
        char arg[24];
        const char *args[2] = { "child_sysfuzz", arg };
        cm_handle_t give[3], report, proc;
        uint32_t ngive = 1;
        int kill_me;
        snprintf(arg, sizeof(arg), "%u", seed);
        CHECK_ST(cmk_counters(&c0), CM_OK);
        CHECK_ST(cm_ledger_get(&l0), CM_OK);
        int64_t accounts = cmk_account_live_count();
        /* The empty virtio slots only (no device behind them: no side
         * effects), duplicated for the child. */
        CHECK_ST(cm_channel_create(0, &report, &give[0]), CM_OK);
        for (uint32_t slot = 5; slot <= 6; slot++) {
            cm_handle_t w = window_of_slot(slot);
            if (w != CM_HANDLE_INVALID)
                CHECK_ST(cm_handle_duplicate(w, CM_RIGHTS_SAME, &give[ngive++]), CM_OK);
        }
        int32_t pid = cmk_spawn_ex("selftest", args, 2, give, ngive, CMK_ROLE_MAIN, NULL, &proc);
        CHECK(pid > 0);
        CHECK(await_report(report, &kill_me) == 0);
        if (kill_me) {
            CHECK_ST(cmk_proc_kill(proc), CM_OK);
            killed++;
        }
        /* A kill ends it at once; an exit comes after all of its calls. */
        CHECK_ST(cmk_proc_wait(proc, kill_me ? 10000ll * 1000 * 1000 : CM_TIMEOUT_INFINITE, &info),
                 CM_OK);
        CHECK_ST(cm_handle_close(proc), CM_OK);
        CHECK_ST(cm_handle_close(report), CM_OK);
        if (kill_me ? info.reason != CMK_EXIT_KILLED
                       : info.reason != CMK_EXIT_NORMAL || info.code != 0) {
            printf("# sysfuzz seed %u: child ended reason %u code %d at %lx\n", seed, info.reason,
                   info.code, (unsigned long)info.fault_va);
            return 1;
        }
        CHECK(same_state(&c0, &l0) == 0);
        CHECK_ST(cmk_counters(&c1), CM_OK);
        CHECK(c1.free_frames == c0.free_frames && c1.live_objects == c0.live_objects &&
              c1.live_msgs == c0.live_msgs && c1.live_procs == c0.live_procs);
        CHECK(cmk_account_live_count() == accounts);
    }
    printf("# sysfuzz: %u seeds x %u calls in %lu ms, %u children killed asleep\n", FZ_SEEDS,
           FZ_CALLS, (unsigned long)((now_ticks() - t0) / TICKS_PER_MS), killed);
    CHECK(killed >= FZ_SEEDS / 4);
    return 0;
}

/* The first fuzzer, kept as it was: the first 23 numbers only, with a
 * pool of VMOs and channels.
 *
 * Child: thousands of syscalls with arguments drawn from live handles,
 * forged handles, bad pointers and extreme lengths. Every call must return
 * a status; the child must end normally. */
int child_random_syscalls(void)
{
    fz_rng_state = FZ_SEED_BASE;
    CHECK(fz_make_area() == 0);
    cm_handle_t fz_live[16];
    uint32_t nlive = 0;
    for (uint32_t i = 0; i < 4; i++) {
        CHECK_ST(cm_vmo_create(PAGE * (i + 1), 0, &fz_live[nlive++]), CM_OK);
        CHECK_ST(cm_channel_create(0, &fz_live[nlive], &fz_live[nlive + 1]), CM_OK);
        nlive += 2;
    }
    /* Calls that would end or block this process, or write to the console
     * (which would garble the TAP stream), are left out. */
    static const uint64_t calls[] = {
        CMK_SYS_HANDLE_CLOSE, CMK_SYS_HANDLE_DUPLICATE, CMK_SYS_HANDLE_REPLACE,
        CMK_SYS_HANDLE_GET_INFO, CMK_SYS_VMO_CREATE, CMK_SYS_VMO_READ, CMK_SYS_VMO_WRITE,
        CMK_SYS_VMO_GET_SIZE, CMK_SYS_VMO_SET_SIZE, CMK_SYS_VMO_GET_INFO, CMK_SYS_VMO_SEAL,
        CMK_SYS_VMO_SNAPSHOT, CMK_SYS_VMO_MAP, CMK_SYS_VMO_UNMAP, CMK_SYS_CHANNEL_CREATE,
        CMK_SYS_CHANNEL_WRITE, CMK_SYS_CHANNEL_READ, CMK_SYS_CHANNEL_WAIT, CMK_SYS_WAIT,
        CMK_SYS_DEBUG_COUNTERS, CMK_SYS_RESERVED_23, CMK_SYS_OBJECT_WAIT_ONE,
        CMK_SYS_OBJECT_WAIT_MANY, CMK_SYS_COUNT, 1000,
    };
    uint32_t statuses = 0;
    for (uint32_t iter = 0; iter < 3000; iter++) {
        uint64_t a[7];
        for (int k = 0; k < 7; k++) {
            switch (fz_rng() % 4) {
            case 0: a[k] = fz_live[fz_rng() % nlive]; break;
            case 1: a[k] = fz_pick_ptr(); break;
            case 2: a[k] = fz_pick_len(); break;
            default: a[k] = fz_rng() % 8; break;
            }
        }
        uint64_t n = calls[fz_rng() % (sizeof(calls) / sizeof(calls[0]))];
        if (n == CMK_SYS_CHANNEL_WAIT)
            a[1] = 0; /* poll: never block */
        if (n == CMK_SYS_OBJECT_WAIT_ONE || n == CMK_SYS_OBJECT_WAIT_MANY)
            a[2] = 0; /* poll */
        if (n == CMK_SYS_VMO_CREATE || n == CMK_SYS_VMO_SET_SIZE)
            a[n == CMK_SYS_VMO_CREATE ? 0 : 1] %= (1u << 20) + 1; /* keep TCG fast */
        int64_t r = cmk__syscall(n, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        CHECK(r <= 0 && r >= CM_ERR_INTERNAL + 0);
        CHECK(r != CM_ERR_INTERNAL);
        statuses |= 1u << (uint32_t)(-r);
        /* Keep a supply of live handles as random closes eat them. */
        if (fz_rng() % 16 == 0 && nlive < 16) {
            if (cm_vmo_create(PAGE, 0, &fz_live[nlive]) == CM_OK)
                nlive++;
        }
    }
    /* The run must have reached both success and the typical refusals. */
    CHECK(statuses & 1u);
    CHECK(statuses & (1u << -CM_ERR_INVALID_ARGS));
    CHECK(statuses & (1u << -CM_ERR_BAD_HANDLE));
    CHECK(statuses & (1u << -CM_ERR_OUT_OF_RANGE));
    return 0;
}

int test_random_syscalls_do_not_hurt_kernel(void)
{
    cmk_exit_info_t info;
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    const char *args[1] = { "child_random_syscalls" };
    int32_t pid = cmk_spawn("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(after.free_frames == before.free_frames);
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.live_msgs == before.live_msgs);
    return 0;
}
