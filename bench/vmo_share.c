/* SPDX-License-Identifier: MIT */
/* bench/vmo_share: the cost of sharing a sealed VMO once, between two
 * processes, against the bare-syscall floor and against copying the bytes;
 * with and without a hugetlb pool. Method and figures: docs/bench.md.
 *
 * One fork; the pair is reused for every share. The parent produces, the
 * child consumes. For each payload size and with or without the consumer's
 * SHA-256, the measured unit is one share, timed by the producer from the
 * first call until the consumer's reply is in hand:
 *
 *   a  capmem, base pages: cm_vmo_create(CM_VMO_BASE_PAGES), fill,
 *      cm_vmo_seal(IMMUTABLE), cm_channel_write; the consumer
 *      cm_channel_read, cm_vmo_get_info (IMMUTABLE, size, no WRITE,
 *      page_size), cm_vmo_map read-only, [hash], unmap, close, reply.
 *   A  the same with CM_VMO_HUGE; the consumer reports the page_size
 *      cm_vmo_get_info gave it, so a VMO that fell back to base pages is
 *      shown as such.
 *   a+ a, plus the madvise() calls the capmem API cannot express
 *      (populate, transparent huge pages), applied by the bench to capmem's
 *      mappings. Run only when the floor's fastest option needs one.
 *   b  the floor: the same flow in bare syscalls (memfd_create, ftruncate,
 *      [fallocate], fill, F_ADD_SEALS, sendmsg SCM_RIGHTS on seqpacket;
 *      recvmsg, fstat + F_GET_SEALS, mmap RO, [hash], munmap, close, reply)
 *      with the fastest page option measured on this machine at that size,
 *      MFD_HUGETLB included when a pool exists.
 *   c  a copy: the bytes written through a SOCK_STREAM socketpair, read into
 *      a reused, pre-faulted private buffer, [hashed], reply.
 *
 * The producer's source and the consumer's private buffer, which every
 * variant reads or writes, are on transparent huge pages where the kernel
 * grants them (bench_alloc_buffer says why; the run prints how much).
 *
 * Structure: one comparison per pool setting (as root: a hugetlb pool this
 * program configures, then none, the original value restored on every exit
 * path, hugepool.h; otherwise the system's pool as it is). In each, the
 * floor's page options are measured first, once per size; then the whole
 * comparison (every size, every variant interleaved in rounds, each round
 * in the next order of a Williams design) is repeated RUNS times. Each figure is the median of
 * one run; the report gives median [min..max] over the runs, and ends with
 * one "goal NAME: met|NOT MET ..." line per goal (bench_goal_line).
 *
 * The consumer tears down (unmap, close) before it replies, and the producer
 * closes its fd right after the send, so every share's whole cost, page
 * freeing included, is inside the producer's measurement and no share
 * leaks work into the next.
 *
 * Placement: both processes are pinned to CPU 0 by default (--cpus).
 *
 * Verification: the last 8 bytes of every payload are the share's sequence
 * number. The consumer reads them back from what it received and, when
 * hashing, replies the SHA-256; the producer checks both against its own
 * (the digest from a precomputed prefix state plus the last block). Any
 * mismatch or failed call ends the run with status 1.
 *
 * Breakdown: each side timestamps its phases (CLOCK_MONOTONIC, one clock
 * for both processes). The consumer's timestamps come back in the reply.
 * send/receive and reply cross processes; their sum is also derived from
 * the round trip alone (producer's send-to-reply time minus the consumer's
 * own work), which needs no shared clock, as a check. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "common.h"
#include "hugepool.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define MAX_SIZE (256 * MiB)

/* Whole run, both pool settings, all sizes (about 5 minutes on the test
 * machine, under 10 when it is busy); a hang is a failure, not a wait. */
#define DEADLINE_S 1800u

/* The whole comparison is repeated RUNS times; every figure is reported as
 * median [min..max] over the runs. */
#define RUNS 3

/* Wall time one measurement cell may take at one size in one run before it
 * stops adding repetitions (it always gets MIN_REPS). Keeps 256 MiB bounded. */
#define CELL_CAP_NS     (1300ull * 1000000)
#define OPTION_CAP_NS   (1500ull * 1000000)
#define LOCAL_CAP_NS    (700ull * 1000000)
#define MIN_REPS        5u
/* Option cells only choose a path, and the hash-vs-private cells are a
 * side figure: fewer repetitions there keep 256 MiB affordable. */
#define MIN_REPS_SIDE   3u

/* 2 MiB is CM_HUGE_PAGE_SIZE: the huge-page goal is "from 2 MiB up". */
static const uint64_t sizes[] = { 4 * KiB, 64 * KiB, 1 * MiB, 2 * MiB, 16 * MiB, 256 * MiB };
#define NSIZES_ALL (sizeof(sizes) / sizeof(sizes[0]))
static size_t nsizes = NSIZES_ALL; /* --max-size trims the list */

/* Repetitions per cell per run: small shares are cheap and noisy. */
static const uint32_t reps_full[NSIZES_ALL] = { 1000, 500, 100, 60, 20, 5 };

/* The goals (issue 9). Goal 1 must hold in every run, goal 2 on the median. */
#define GOAL_FLOOR_RATIO 1.10
#define GOAL_COPY_RATIO  1.00
#define GOAL_HUGE_FROM   (2 * MiB)

/* ---- page options: how the floor obtains and maps pages ---- */

/* Ways the producer can obtain and fill the object's pages. */
struct fill_opt {
    const char *name;
    int falloc;          /* fallocate the whole object before filling */
    int use_pwrite;      /* pwrite from the source; else memcpy into a mapping */
    int mmap_flags;      /* extra flags of the producer's writable mapping */
    int madv;            /* madvise on that mapping before the copy, or 0 */
    unsigned memfd_flags;
    int capmem;          /* the capmem API expresses it (no madvise) */
    int plus_ok;         /* a+ can do it: capmem plus a madvise on its mapping */
};

static const struct fill_opt fill_opts[] = {
    { "fault",           0, 0, 0, 0, 0, 1, 1 },
    { "falloc+fault",    1, 0, 0, 0, 0, 1, 1 },
    { "populate",        0, 0, MAP_POPULATE, 0, 0, 0, 1 },
    { "falloc+populate", 1, 0, MAP_POPULATE, 0, 0, 0, 1 },
    { "pwrite",          0, 1, 0, 0, 0, 1, 1 },
    { "falloc+pwrite",   1, 1, 0, 0, 0, 1, 1 },
    { "madv-huge",       0, 0, 0, MADV_HUGEPAGE, 0, 0, 1 },
    { "hugetlb",         0, 0, 0, 0, MFD_HUGETLB, 0, 0 },
};
#define NFILL (int)(sizeof(fill_opts) / sizeof(fill_opts[0]))
#define FILL_FAULT     0
#define FILL_PWRITE    4
#define FILL_MADV_HUGE 6  /* indices probe_huge may mark unavailable */
#define FILL_HUGETLB   7

/* Ways the consumer can map what it received. */
struct map_opt {
    const char *name;
    int mmap_flags;
    int madv;
    int capmem;
};

static const struct map_opt map_opts[] = {
    { "plain",         0, 0, 1 },
    { "populate",      MAP_POPULATE, 0, 1 }, /* capmem: CM_MAP_POPULATE */
    { "madv-populate", 0, MADV_POPULATE_READ, 0 },
};
#define NMAP (int)(sizeof(map_opts) / sizeof(map_opts[0]))
#define MAP_OPT_POPULATE 1

/* Where the two processes run. On a VM a wakeup across CPUs costs an
 * inter-processor interrupt (tens of us here) and unpinned runs flip
 * between both placements, so placement moves the small-size numbers more
 * than anything the library does. The default pins both to one CPU: a
 * share is a strict request/response, so nothing runs in parallel anyway,
 * the numbers repeat run to run, and the library's own overhead is not
 * hidden under interrupt latency. --cpus split shows the cross-CPU case. */
enum cpu_mode { CPUS_SPLIT, CPUS_SAME, CPUS_ANY };
static const char *const cpu_mode_name[] = { "split", "same", "any" };
static enum cpu_mode cpu_mode = CPUS_SAME;

static void pin_to(int cpu)
{
    cpu_set_t set;
    if (cpu_mode == CPUS_ANY)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    BENCH_CHECK(sched_setaffinity(0, sizeof(set), &set) == 0, "sched_setaffinity(%d): %s", cpu,
                strerror(errno));
}

/* Per pool setting (probe_huge): which options work, and how many huge
 * pages the hugetlb option may use at most (its objects must fit). */
struct fill_avail {
    int ok[NFILL];
    const char *why[NFILL];
    uint64_t hugetlb_free_pages;
};

/* ---- messages between the processes ---- */

enum variant { V_CAPMEM, V_CAPMEM_HUGE, V_CAPMEM_PLUS, V_FLOOR, V_COPY, V_QUIT };
#define NVARIANTS 5
static const char *const variant_name[NVARIANTS] = { "a", "A", "a+", "b", "c" };

struct cmd {
    uint32_t variant;
    uint32_t count;   /* shares that follow on that variant's transport */
};

#define SH_HASH    1u  /* consumer hashes the payload */
#define SH_HASHCMP 2u  /* and also hashes a private copy of it, timed */

struct share_hdr {
    uint64_t seq;
    uint64_t size;     /* the claim; the consumer checks it against the object */
    uint32_t flags;    /* SH_* */
    uint32_t map;      /* index into map_opts */
};

struct share_reply {
    uint64_t seq;
    uint64_t stamp;       /* last 8 payload bytes as the consumer saw them */
    uint8_t digest[32];
    /* Consumer timestamps, CLOCK_MONOTONIC: message in hand, object
     * checked, mapped, hashed (or touched), torn down. */
    uint64_t t_recv, t_check, t_map, t_hash, t_teardown;
    uint64_t hash_private_ns; /* SH_HASHCMP: hash of a private copy */
    uint32_t page_size;   /* capmem: cm_vmo_get_info's; floor: st_blksize; copy: 0 */
    uint32_t pad;
};

/* ---- the process pair ---- */

struct transports {
    cm_handle_t ch;   /* capmem channel (a, a+) */
    int seq;          /* seqpacket (b) */
    int stream;       /* stream (c) */
    int ctl;          /* commands to the consumer */
};

/* ---- producer side state ---- */

static uint8_t *src;             /* the producer's payload source, pre-faulted */
static EVP_MD_CTX *prefix_ctx;   /* SHA-256 state after all but the last block */
static EVP_MD_CTX *tmp_ctx;
static uint64_t next_seq = 1;

struct sample {
    uint64_t t0, t_create, t_fill, t_seal, t_sent, t_end;
    struct share_reply r;
};

struct cell {
    enum variant v;
    int hash;
    uint32_t flags;      /* extra SH_* */
    int fill, map;
    uint32_t want, n, min_reps;
    uint64_t spent_ns, cap_ns;
    struct sample *s;
};

static void cm_ok(cm_status_t st, const char *what)
{
    BENCH_CHECK(st == CM_OK, "%s: %s", what, cm_status_name(st));
}

/* A reproducible pattern (xorshift) that no zero page or repeated block
 * matches, so a stale or wrong page cannot pass the digest check. */
static void fill_pattern(uint8_t *p, uint64_t size)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i + 8 <= size; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
}

/* Prepares src for shares of `size`: SHA-256 state over every byte but the
 * last 64-byte block, which holds the per-share stamp. */
static void prepare_size(uint64_t size)
{
    BENCH_CHECK(EVP_DigestInit_ex(prefix_ctx, EVP_sha256(), NULL) == 1, "sha init");
    BENCH_CHECK(EVP_DigestUpdate(prefix_ctx, src, size - 64) == 1, "sha update");
}

static void expected_digest(uint64_t size, uint8_t out[32])
{
    unsigned n = 32;
    BENCH_CHECK(EVP_MD_CTX_copy_ex(tmp_ctx, prefix_ctx) == 1, "sha copy");
    BENCH_CHECK(EVP_DigestUpdate(tmp_ctx, src + size - 64, 64) == 1, "sha update");
    BENCH_CHECK(EVP_DigestFinal_ex(tmp_ctx, out, &n) == 1, "sha final");
}

static void verify(const struct cell *c, uint64_t size, uint64_t seq, const struct sample *s)
{
    uint8_t want[32];
    BENCH_CHECK(s->r.seq == seq, "%s %llu B: reply for share %llu, expected %llu",
                variant_name[c->v], (unsigned long long)size,
                (unsigned long long)s->r.seq, (unsigned long long)seq);
    BENCH_CHECK(s->r.stamp == seq, "%s %llu B: consumer saw stamp %llu in share %llu",
                variant_name[c->v], (unsigned long long)size,
                (unsigned long long)s->r.stamp, (unsigned long long)seq);
    if (!c->hash)
        return;
    expected_digest(size, want);
    BENCH_CHECK(memcmp(want, s->r.digest, 32) == 0, "%s %llu B: SHA-256 mismatch in share %llu",
                variant_name[c->v], (unsigned long long)size, (unsigned long long)seq);
}

static void madvise_or_fail(void *p, uint64_t len, int advice)
{
    BENCH_CHECK(madvise(p, len, advice) == 0, "madvise(%d): %s", advice, strerror(errno));
}

static void pwrite_all(int fd, const void *buf, uint64_t len)
{
    for (uint64_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        BENCH_CHECK(n > 0, "pwrite: %s", strerror(errno));
        done += (uint64_t)n;
    }
}

/* F_SEAL_WRITE fails with EBUSY (capmem: BAD_STATE) when a page of the file
 * still has a reference beyond the page cache's and its mappings' after the
 * kernel waited ~150 ms for it to go (memfd_wait_for_pins). Nothing of ours
 * holds one, so the share is retried and the event counted and reported: a
 * user of cm_vmo_seal can meet it too. */
#define SEAL_RETRIES 5
static uint64_t seal_busy[NVARIANTS][NFILL]; /* [variant][fill option] */

/* a and a+: the capmem producer. */
static void produce_capmem(const struct transports *t, const struct cell *c,
                           const struct share_hdr *h, struct sample *s)
{
    const struct fill_opt *f = &fill_opts[c->fill];
    cm_handle_t vmo;
    void *p;
    uint32_t nb = 0, nh = 0;

    uint32_t options = c->v == V_CAPMEM_HUGE ? CM_VMO_HUGE : CM_VMO_BASE_PAGES;
    if (f->falloc)
        options |= CM_VMO_COMMIT;
    s->t0 = bench_now_ns();
    cm_ok(cm_vmo_create(h->size, options, &vmo), "cm_vmo_create");
    s->t_create = bench_now_ns();
    if (f->use_pwrite) {
        cm_ok(cm_vmo_write(vmo, src, 0, h->size), "cm_vmo_write");
    } else {
        cm_ok(cm_vmo_map(vmo, 0, h->size, CM_MAP_READ | CM_MAP_WRITE, &p), "cm_vmo_map rw");
        if (c->v == V_CAPMEM_PLUS && (f->mmap_flags & MAP_POPULATE))
            madvise_or_fail(p, h->size, MADV_POPULATE_WRITE);
        if (c->v == V_CAPMEM_PLUS && f->madv != 0)
            madvise_or_fail(p, h->size, f->madv);
        memcpy(p, src, h->size);
        cm_ok(cm_vmo_unmap(p, h->size), "cm_vmo_unmap rw");
    }
    s->t_fill = bench_now_ns();
    cm_status_t st;
    for (int tries = 0; (st = cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE)) == CM_ERR_BAD_STATE &&
                        tries < SEAL_RETRIES; tries++)
        seal_busy[c->v][c->fill]++;
    cm_ok(st, "cm_vmo_seal");
    s->t_seal = bench_now_ns();
    cm_ok(cm_channel_write(t->ch, h, sizeof(*h), &vmo, 1), "cm_channel_write");
    s->t_sent = bench_now_ns();
    cm_ok(cm_channel_wait_readable(t->ch, CM_TIMEOUT_INFINITE), "cm_channel_wait_readable");
    cm_ok(cm_channel_read(t->ch, &s->r, sizeof(s->r), &nb, NULL, 0, &nh), "cm_channel_read");
    s->t_end = bench_now_ns();
    BENCH_CHECK(nb == sizeof(s->r) && nh == 0, "capmem reply: %u bytes, %u handles", nb, nh);
}

#define FLOOR_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

static void send_fd(int sock, const void *bytes, size_t len, int fd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { (void *)bytes, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    BENCH_CHECK(n == (ssize_t)len, "sendmsg: %s", n < 0 ? strerror(errno) : "short");
}

/* b: the floor producer, with page option `f`. */
static void produce_floor(const struct transports *t, const struct cell *c,
                          const struct share_hdr *h, struct sample *s)
{
    const struct fill_opt *f = &fill_opts[c->fill];
    s->t0 = bench_now_ns();
    int fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING | f->memfd_flags);
    BENCH_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
    BENCH_CHECK(ftruncate(fd, (off_t)h->size) == 0, "ftruncate: %s", strerror(errno));
    if (f->falloc)
        BENCH_CHECK(fallocate(fd, 0, 0, (off_t)h->size) == 0, "fallocate: %s", strerror(errno));
    s->t_create = bench_now_ns();
    if (f->use_pwrite) {
        pwrite_all(fd, src, h->size);
    } else {
        void *p = mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_SHARED | f->mmap_flags, fd, 0);
        BENCH_CHECK(p != MAP_FAILED, "mmap rw: %s", strerror(errno));
        if (f->madv != 0)
            madvise_or_fail(p, h->size, f->madv);
        memcpy(p, src, h->size);
        BENCH_CHECK(munmap(p, h->size) == 0, "munmap: %s", strerror(errno));
    }
    s->t_fill = bench_now_ns();
    int rc;
    for (int tries = 0; (rc = fcntl(fd, F_ADD_SEALS, FLOOR_SEALS)) != 0 && errno == EBUSY &&
                        tries < SEAL_RETRIES; tries++)
        seal_busy[c->v][c->fill]++;
    BENCH_CHECK(rc == 0, "F_ADD_SEALS (fill %s): %s", f->name, strerror(errno));
    s->t_seal = bench_now_ns();
    send_fd(t->seq, h, sizeof(*h), fd);
    close(fd);
    s->t_sent = bench_now_ns();
    ssize_t n;
    do
        n = recv(t->seq, &s->r, sizeof(s->r), 0);
    while (n < 0 && errno == EINTR);
    s->t_end = bench_now_ns();
    BENCH_CHECK(n == sizeof(s->r), "floor reply: %s", n < 0 ? strerror(errno) : "short");
}

/* c: the copy producer: header and payload in one writev (then the rest). */
static void produce_copy(const struct transports *t, const struct share_hdr *h,
                         struct sample *s)
{
    struct iovec iov[2] = { { (void *)h, sizeof(*h) }, { src, h->size } };
    uint64_t total = sizeof(*h) + h->size;
    s->t0 = bench_now_ns();
    ssize_t n;
    do
        n = writev(t->stream, iov, 2);
    while (n < 0 && errno == EINTR);
    BENCH_CHECK(n > 0, "writev: %s", strerror(errno));
    if ((uint64_t)n < total) {
        uint64_t done = (uint64_t)n;
        if (done < sizeof(*h)) {
            BENCH_CHECK(bench_write_all(t->stream, (const char *)h + done,
                                        sizeof(*h) - done) == 0, "write: %s", strerror(errno));
            done = sizeof(*h);
        }
        done -= sizeof(*h);
        BENCH_CHECK(bench_write_all(t->stream, src + done, h->size - done) == 0,
                    "write: %s", strerror(errno));
    }
    s->t_create = s->t_fill = s->t_seal = s->t0;
    s->t_sent = bench_now_ns();
    BENCH_CHECK(bench_read_all(t->stream, &s->r, sizeof(s->r)) == 0, "copy reply: %s",
                strerror(errno));
    s->t_end = bench_now_ns();
}

static void produce_one(const struct transports *t, const struct cell *c, uint64_t size,
                        struct sample *s)
{
    uint64_t seq = next_seq++;
    struct share_hdr h = { seq, size, (c->hash ? SH_HASH : 0) | c->flags, (uint32_t)c->map };
    memcpy(src + size - 8, &seq, 8);
    if (c->v == V_FLOOR)
        produce_floor(t, c, &h, s);
    else if (c->v == V_COPY)
        produce_copy(t, &h, s);
    else
        produce_capmem(t, c, &h, s);
    verify(c, size, seq, s);
}

/* Runs `count` recorded shares of cell c (after `warm` unrecorded ones). */
static void run_batch(const struct transports *t, struct cell *c, uint64_t size,
                      uint32_t count, uint32_t warm)
{
    struct cmd cmd = { (uint32_t)c->v, count + warm };
    struct sample scratch;
    BENCH_CHECK(send(t->ctl, &cmd, sizeof(cmd), MSG_NOSIGNAL) == sizeof(cmd),
                "command: %s", strerror(errno));
    uint64_t start = bench_now_ns();
    for (uint32_t i = 0; i < warm; i++)
        produce_one(t, c, size, &scratch);
    for (uint32_t i = 0; i < count; i++)
        produce_one(t, c, size, &c->s[c->n++]);
    c->spent_ns += bench_now_ns() - start;
}

/* Runs every cell in `cells` to its repetition count, interleaved in
 * rounds so slow drift of the machine spreads over all cells alike. Round
 * r of run `run` takes order run * rounds + r of a Williams design
 * (bench_williams), so no cell always follows the same one: a share pays
 * for some of the memory its predecessor freed (docs/bench.md), and the
 * fixed cycle used before, rotated per run, gave each cell the same
 * predecessor in every round. The A/A control (C_BB) showed it: the floor
 * against itself came out 1.12x at 16 MiB, the twin always running right
 * after the copy. */
static void run_cells(const struct transports *t, struct cell *cells, int ncells,
                      uint64_t size, uint32_t rounds, int run)
{
    uint32_t warm = size <= 1 * MiB ? 2 : 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (int k = 0; k < ncells; k++) {
            struct cell *c = &cells[bench_williams(ncells, (uint32_t)run * rounds + r, k)];
            uint32_t left = c->want - c->n;
            uint32_t batch = (c->want + rounds - 1) / rounds;
            if (batch > left)
                batch = left;
            if (c->n >= c->min_reps && c->spent_ns >= c->cap_ns)
                batch = 0;
            if (batch > 0)
                run_batch(t, c, size, batch, warm);
        }
    }
}

/* ---- consumer side ---- */

static uint8_t *priv;   /* consumer's reused, pre-faulted buffer */
static int break_hash;  /* --break-hash: the consumer lies; the run must fail */

/* Hashes (or, without SH_HASH, reads the stamp of) the received bytes. */
static void consume_bytes(const uint8_t *p, const struct share_hdr *h, struct share_reply *r)
{
    if (h->flags & SH_HASH) {
        bench_sha256(p, h->size, r->digest);
        r->digest[0] ^= (uint8_t)break_hash;
    }
    memcpy(&r->stamp, p + h->size - 8, 8);
}

static void hash_private_copy(const uint8_t *p, const struct share_hdr *h,
                              struct share_reply *r)
{
    uint8_t d[32];
    memcpy(priv, p, h->size);
    uint64_t t = bench_now_ns();
    bench_sha256(priv, h->size, d);
    r->hash_private_ns = bench_now_ns() - t;
    BENCH_CHECK(memcmp(d, r->digest, 32) == 0, "private copy hashes differently");
}

/* The consumer's map option on a mapping already made (capmem asks for
 * MAP_POPULATE with CM_MAP_POPULATE instead). */
static void apply_map_opt(void *p, uint64_t len, uint32_t map)
{
    if (map_opts[map].madv != 0)
        madvise_or_fail(p, len, map_opts[map].madv);
}

static void consume_capmem(cm_handle_t ch)
{
    struct share_hdr h;
    struct share_reply r = { 0 };
    cm_handle_t vmo = CM_HANDLE_INVALID;
    cm_vmo_info_t info;
    uint32_t nb = 0, nh = 0;
    void *p;

    cm_ok(cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE), "consumer wait");
    cm_ok(cm_channel_read(ch, &h, sizeof(h), &nb, &vmo, 1, &nh), "consumer read");
    r.t_recv = bench_now_ns();
    BENCH_CHECK(nb == sizeof(h) && nh == 1 && h.map < (uint32_t)NMAP, "capmem share message");
    cm_ok(cm_vmo_get_info(vmo, &info), "cm_vmo_get_info");
    BENCH_CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) && info.size == h.size &&
                !(info.rights & CM_RIGHT_WRITE), "received VMO not immutable or wrong size");
    BENCH_CHECK((info.page_size == CM_PAGE_SIZE && !(info.flags & CM_VMO_INFO_HUGE)) ||
                (info.page_size == CM_HUGE_PAGE_SIZE && (info.flags & CM_VMO_INFO_HUGE)),
                "received VMO: page_size %u with flags %#x", info.page_size, info.flags);
    r.page_size = info.page_size;
    r.t_check = bench_now_ns();
    cm_ok(cm_vmo_map(vmo, 0, h.size, CM_MAP_READ |
                     (map_opts[h.map].mmap_flags & MAP_POPULATE ? CM_MAP_POPULATE : 0), &p),
          "cm_vmo_map ro");
    apply_map_opt(p, h.size, h.map);
    r.t_map = bench_now_ns();
    consume_bytes(p, &h, &r);
    r.t_hash = bench_now_ns();
    if (h.flags & SH_HASHCMP)
        hash_private_copy(p, &h, &r);
    cm_ok(cm_vmo_unmap(p, h.size), "cm_vmo_unmap ro");
    cm_ok(cm_handle_close(vmo), "cm_handle_close");
    r.t_teardown = bench_now_ns();
    r.seq = h.seq;
    cm_ok(cm_channel_write(ch, &r, sizeof(r), NULL, 0), "consumer reply");
}

/* Receives one message and exactly one fd; anything else is a failure. */
static int recv_fd(int sock, struct share_hdr *h)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { h, sizeof(*h) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    ssize_t n;
    int fd;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    BENCH_CHECK(n == sizeof(*h) && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)),
                "floor recvmsg: %s", n < 0 ? strerror(errno) : n == 0 ? "producer gone"
                                                                      : "bad message");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    BENCH_CHECK(cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                cm->cmsg_len == CMSG_LEN(sizeof(int)), "floor: no fd");
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

static void consume_floor(int sock)
{
    struct share_hdr h;
    struct share_reply r = { 0 };
    struct stat sb;
    int fd = recv_fd(sock, &h);
    r.t_recv = bench_now_ns();
    BENCH_CHECK(h.map < (uint32_t)NMAP, "floor: bad map option");
    int seals = fcntl(fd, F_GET_SEALS);
    BENCH_CHECK(fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == h.size &&
                seals >= 0 && (seals & FLOOR_SEALS) == FLOOR_SEALS,
                "floor: received object not sealed or wrong size");
    r.page_size = (uint32_t)sb.st_blksize; /* hugetlbfs: the huge page size */
    r.t_check = bench_now_ns();
    void *p = mmap(NULL, h.size, PROT_READ, MAP_SHARED | map_opts[h.map].mmap_flags, fd, 0);
    BENCH_CHECK(p != MAP_FAILED, "floor mmap ro: %s", strerror(errno));
    apply_map_opt(p, h.size, h.map);
    r.t_map = bench_now_ns();
    consume_bytes(p, &h, &r);
    r.t_hash = bench_now_ns();
    if (h.flags & SH_HASHCMP)
        hash_private_copy(p, &h, &r);
    BENCH_CHECK(munmap(p, h.size) == 0 && close(fd) == 0, "floor teardown");
    r.t_teardown = bench_now_ns();
    r.seq = h.seq;
    BENCH_CHECK(send(sock, &r, sizeof(r), MSG_NOSIGNAL) == sizeof(r), "floor reply: %s",
                strerror(errno));
}

/* c: one readv for header and as much payload as is there, then the rest. */
static void consume_copy(int sock)
{
    struct share_hdr h;
    struct share_reply r = { 0 };
    struct iovec iov[2] = { { &h, sizeof(h) }, { priv, MAX_SIZE } };
    ssize_t n;
    do
        n = readv(sock, iov, 2);
    while (n < 0 && errno == EINTR);
    BENCH_CHECK(n > 0, "copy readv: %s", n < 0 ? strerror(errno) : "peer closed");
    uint64_t got = (uint64_t)n;
    if (got < sizeof(h)) {
        BENCH_CHECK(bench_read_all(sock, (char *)&h + got, sizeof(h) - got) == 0, "copy header");
        got = sizeof(h);
    }
    got -= sizeof(h);
    BENCH_CHECK(h.size <= MAX_SIZE && got <= h.size, "copy: bad size");
    BENCH_CHECK(bench_read_all(sock, priv + got, h.size - got) == 0, "copy read: %s",
                strerror(errno));
    r.t_recv = r.t_check = r.t_map = bench_now_ns();
    consume_bytes(priv, &h, &r);
    r.t_hash = r.t_teardown = bench_now_ns();
    r.seq = h.seq;
    BENCH_CHECK(bench_write_all(sock, &r, sizeof(r)) == 0, "copy reply: %s", strerror(errno));
}

static int consumer_main(const struct transports *t)
{
    struct cmd cmd;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    uint64_t thp_kb;
    priv = bench_alloc_buffer(MAX_SIZE, &thp_kb);
    memset(priv, 0xa5, MAX_SIZE); /* pre-faulted: private memory as users hold it */
    fprintf(stderr, "bench: consumer's buffer: %llu of %llu MiB on transparent huge pages\n",
            (unsigned long long)(thp_kb >> 10), MAX_SIZE / MiB);
    for (;;) {
        ssize_t n = recv(t->ctl, &cmd, sizeof(cmd), 0);
        if (n < 0 && errno == EINTR)
            continue;
        BENCH_CHECK(n == sizeof(cmd), "consumer: command channel closed");
        if (cmd.variant == V_QUIT)
            return 0;
        for (uint32_t i = 0; i < cmd.count; i++) {
            if (cmd.variant == V_FLOOR)
                consume_floor(t->seq);
            else if (cmd.variant == V_COPY)
                consume_copy(t->stream);
            else
                consume_capmem(t->ch);
        }
    }
}

/* ---- phases and reports ---- */

enum phase {
    PH_E2E, PH_CREATE, PH_FILL, PH_SEAL, PH_XFER, PH_CHECK, PH_MAP, PH_HASH, PH_TEARDOWN,
    PH_REPLY, PH_XFER_RTT, PH_SSRCM, PH_HASH_PRIV, NPHASES
};

static const char *const phase_name[NPHASES] = {
    "e2e", "create", "fill", "seal", "send/recv", "check", "map", "hash", "teardown",
    "reply", "xfer+reply(rtt)", "seal..map", "hash(private)",
};

static uint64_t sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static uint64_t phase_ns(const struct sample *s, enum phase p)
{
    const struct share_reply *r = &s->r;
    switch (p) {
    case PH_E2E:       return s->t_end - s->t0;
    case PH_CREATE:    return s->t_create - s->t0;
    case PH_FILL:      return s->t_fill - s->t_create;
    case PH_SEAL:      return s->t_seal - s->t_fill;
    case PH_XFER:      return sub(r->t_recv, s->t_seal);
    case PH_CHECK:     return r->t_check - r->t_recv;
    case PH_MAP:       return r->t_map - r->t_check;
    case PH_HASH:      return r->t_hash - r->t_map;
    case PH_TEARDOWN:  return r->t_teardown - r->t_hash;
    case PH_REPLY:     return sub(s->t_end, r->t_teardown);
    case PH_XFER_RTT:  return sub(s->t_end - s->t_seal, r->t_teardown - r->t_recv);
    case PH_SSRCM:     return sub(r->t_map, s->t_fill);
    case PH_HASH_PRIV: return r->hash_private_ns;
    default:           return 0;
    }
}

static uint64_t scratch_ns[4096];

static void cell_pct(const struct cell *c, enum phase p, struct bench_pct *out)
{
    BENCH_CHECK(c->n > 0 && c->n <= 4096, "cell has %u samples", c->n);
    for (uint32_t i = 0; i < c->n; i++)
        scratch_ns[i] = phase_ns(&c->s[i], p);
    bench_percentiles(scratch_ns, c->n, out);
}

static double med_us(const struct cell *c, enum phase p)
{
    struct bench_pct q;
    cell_pct(c, p, &q);
    return q.p50 / 1000.0;
}

static const char *size_str(uint64_t size)
{
    static char buf[8][24];
    static int k;
    char *b = buf[k++ & 7];
    if (size >= MiB)
        snprintf(b, 24, "%llu MiB", (unsigned long long)(size / MiB));
    else
        snprintf(b, 24, "%llu KiB", (unsigned long long)(size / KiB));
    return b;
}

/* ---- per-size results ---- */

/* C_BB: a second floor cell, identical to C_B: the floor against itself
 * (an A/A control) says how far apart two identical variants land under
 * goal 1's rule on this machine, i.e. what that verdict can resolve. */
enum { C_A0, C_A1, C_H0, C_H1, C_AP0, C_AP1, C_B0, C_B1, C_C0, C_C1, C_BB0, C_BB1, C_HA, C_HAP,
       NMAIN };

/* One run of the comparison at one size. */
struct run_result {
    struct cell main[NMAIN];
    double local[2][4];  /* [capmem, floor][seal, send/recv, check, map], median us */
    int has_local;
};

struct size_result {
    uint64_t size;
    struct cell fill[NFILL];       /* floor, no hash, plain map */
    struct cell map[2][NMAP];      /* floor, best fill, [hash] */
    int fill_best, fill_cm, fill_plus, map_best[2], map_cm[2];
    int plus_differs;
    struct run_result run[RUNS];
};

/* Everything measured under one hugetlb pool setting. */
struct comparison {
    char label[160];
    char suffix[24];           /* goal-name suffix: "hugetlb_pool" or "no_pool" */
    int hugetlb;               /* the floor's MFD_HUGETLB option works */
    uint32_t probe_page_size;  /* page_size of a fresh 2 MiB CM_VMO_HUGE VMO */
    int huge_fill;             /* A's fill: FILL_PWRITE (cm_vmo_write) or FILL_FAULT */
    struct fill_avail avail;
    struct size_result sz[NSIZES_ALL];
};

static struct comparison cmps[2];
static int ncmps;
static long pool_plan[2] = { -1, -1 }; /* pages to set per comparison, -1: as found */
static const char *pool_note;          /* why the pool was not configured */
static uint32_t rep_div = 1;
static uint32_t min_reps = MIN_REPS; /* --quick: MIN_REPS_SIDE */

/* `cap_ns` is the main cells' CELL_CAP_NS, or OPTION_CAP_NS for the side
 * cells, which get fewer repetitions at least. */
static void cell_init(struct cell *c, enum variant v, int hash, int fill, int map,
                      uint32_t want, uint64_t cap_ns)
{
    memset(c, 0, sizeof(*c));
    c->v = v;
    c->hash = hash;
    c->fill = fill;
    c->map = map;
    c->min_reps = cap_ns == CELL_CAP_NS ? min_reps : MIN_REPS_SIDE;
    c->want = want / rep_div < c->min_reps ? c->min_reps : want / rep_div;
    c->cap_ns = cap_ns;
    c->s = calloc(c->want, sizeof(struct sample));
    BENCH_CHECK(c->s != NULL, "samples");
}

/* The cell with the lowest median e2e among the eligible ones. An option
 * replaces `dflt` only if it is clearly faster (NOISE_MARGIN): a choice made
 * on noise would send a and b down different paths for nothing. */
#define NOISE_MARGIN 0.97

static int best_cell(struct cell *cells, int n, int (*eligible)(int), int dflt)
{
    int best = -1;
    double bv = 0;
    for (int i = 0; i < n; i++) {
        if (cells[i].n == 0 || (eligible != NULL && !eligible(i)))
            continue;
        double v = med_us(&cells[i], PH_E2E);
        if (best < 0 || v < bv) {
            best = i;
            bv = v;
        }
    }
    if (dflt >= 0 && best != dflt && cells[dflt].n > 0 &&
        bv > NOISE_MARGIN * med_us(&cells[dflt], PH_E2E))
        return dflt;
    return best;
}

static int fill_capmem(int i)
{
    return fill_opts[i].capmem;
}

static int fill_plus(int i)
{
    return fill_opts[i].plus_ok;
}

static int map_capmem(int i)
{
    return map_opts[i].capmem;
}

/* Rounds of interleaving: small shares in 4 batches per cell (a batch
 * costs a command to the consumer and warm-up shares); from 16 MiB up one
 * share per cell per round, so a burst of load from elsewhere on the
 * machine hits every variant alike rather than one cell's whole batch. */
static uint32_t rounds_for(uint64_t size, uint32_t reps)
{
    return size <= 2 * MiB || reps < 4 ? 4 : reps;
}

/* MFD_HUGETLB objects are whole huge pages (ftruncate to another size is
 * EINVAL) and must fit in the pool's free pages. */
static int hugetlb_fits(const struct fill_avail *av, uint64_t size)
{
    return size % CM_HUGE_PAGE_SIZE == 0 && size / CM_HUGE_PAGE_SIZE <= av->hugetlb_free_pages;
}

/* Measures the floor's page options at this size (once per comparison)
 * and picks the fastest. The options that do not depend on the pool were
 * measured already when `prev` is given (the comparison with the pool):
 * their figures are reused, only the choice is made again. */
static void measure_options(const struct transports *t, const struct fill_avail *av,
                            struct size_result *sr, const struct size_result *prev,
                            uint32_t reps)
{
    uint32_t rounds = rounds_for(sr->size, reps / rep_div);
    int n = 0;
    struct cell cells[NFILL];
    int idx[NFILL];
    for (int i = 0; i < NFILL; i++) {
        sr->fill[i].n = 0;
        if (!av->ok[i] || (i == FILL_HUGETLB && !hugetlb_fits(av, sr->size)))
            continue;
        if (prev != NULL && i != FILL_HUGETLB && prev->fill[i].n > 0) {
            sr->fill[i] = prev->fill[i];
            continue;
        }
        cell_init(&sr->fill[i], V_FLOOR, 0, i, 0, reps, OPTION_CAP_NS);
        idx[n] = i;
        cells[n++] = sr->fill[i];
    }
    run_cells(t, cells, n, sr->size, rounds, 0);
    for (int k = 0; k < n; k++)
        sr->fill[idx[k]] = cells[k];
    sr->fill_cm = best_cell(sr->fill, NFILL, fill_capmem, -1);
    sr->fill_best = best_cell(sr->fill, NFILL, NULL, sr->fill_cm);
    sr->fill_plus = best_cell(sr->fill, NFILL, fill_plus, sr->fill_cm);
    struct cell mc[2 * NMAP];
    for (int h = 0; h < 2; h++)
        for (int m = 0; m < NMAP; m++)
            cell_init(&mc[h * NMAP + m], V_FLOOR, h, sr->fill_best, m, reps, OPTION_CAP_NS);
    run_cells(t, mc, 2 * NMAP, sr->size, rounds, 0);
    for (int h = 0; h < 2; h++) {
        memcpy(sr->map[h], &mc[h * NMAP], sizeof(sr->map[h]));
        sr->map_best[h] = best_cell(sr->map[h], NMAP, NULL, 0);
        sr->map_cm[h] = best_cell(sr->map[h], NMAP, map_capmem, 0);
    }
    sr->plus_differs = sr->fill_plus != sr->fill_cm || sr->map_best[0] != sr->map_cm[0] ||
                       sr->map_best[1] != sr->map_cm[1];
}

/* One run of the comparison at one size: every variant, interleaved. */
static void measure_main(const struct transports *t, const struct comparison *cmp,
                         struct size_result *sr, uint32_t reps, int run)
{
    struct cell *m = sr->run[run].main;
    for (int h = 0; h < 2; h++) {
        cell_init(&m[C_A0 + h], V_CAPMEM, h, sr->fill_cm, sr->map_cm[h], reps, CELL_CAP_NS);
        cell_init(&m[C_H0 + h], V_CAPMEM_HUGE, h, cmp->huge_fill, sr->map_cm[h], reps,
                  CELL_CAP_NS);
        cell_init(&m[C_AP0 + h], V_CAPMEM_PLUS, h, sr->fill_plus, sr->map_best[h], reps,
                  CELL_CAP_NS);
        cell_init(&m[C_B0 + h], V_FLOOR, h, sr->fill_best, sr->map_best[h], reps, CELL_CAP_NS);
        cell_init(&m[C_C0 + h], V_COPY, h, 0, 0, reps, CELL_CAP_NS);
        cell_init(&m[C_BB0 + h], V_FLOOR, h, sr->fill_best, sr->map_best[h], reps, CELL_CAP_NS);
    }
    /* Hash on a received mapping vs on a private copy: capmem as is, and
     * with the mapping populated up front (CM_MAP_POPULATE). */
    cell_init(&m[C_HA], V_CAPMEM, 1, sr->fill_cm, 0, reps / 4, OPTION_CAP_NS);
    cell_init(&m[C_HAP], V_CAPMEM, 1, sr->fill_cm, MAP_OPT_POPULATE, reps / 4, OPTION_CAP_NS);
    m[C_HA].flags = m[C_HAP].flags = SH_HASHCMP;
    if (!sr->plus_differs)
        m[C_AP0].want = m[C_AP1].want = 0;
    run_cells(t, m, NMAIN, sr->size, rounds_for(sr->size, m[C_A0].want), run);
}

/* ---- seal..map in one process, caches warm ----
 *
 * In a share, seal..map runs right after the fill streamed the payload
 * through the caches, so the kernel's socket, file and page-table data are
 * cold, and the consumer may be waking from idle. To see what the kernel
 * work itself costs as the object grows, this repeats the same calls over
 * a loopback channel in the producer process, after touching that state
 * (a tiny message, a read-only map and unmap). Only the seal should grow. */

enum { L_SEAL, L_XFER, L_CHECK, L_MAP };

static void local_capmem(cm_handle_t e0, cm_handle_t e1, uint64_t size, uint64_t t[4])
{
    cm_handle_t vmo, got;
    cm_vmo_info_t info;
    uint32_t nb, nh;
    uint8_t byte = 0;
    void *p;
    cm_ok(cm_vmo_create(size, CM_VMO_COMMIT | CM_VMO_BASE_PAGES, &vmo), "local create");
    cm_ok(cm_vmo_write(vmo, src, 0, size), "local write");
    cm_ok(cm_vmo_map(vmo, 0, size, CM_MAP_READ, &p), "local warm map");
    cm_ok(cm_vmo_unmap(p, size), "local warm unmap");
    cm_ok(cm_channel_write(e0, &byte, 1, NULL, 0), "local warm write");
    cm_ok(cm_channel_read(e1, &byte, 1, &nb, NULL, 0, &nh), "local warm read");
    cm_ok(cm_vmo_get_info(vmo, &info), "local warm info");
    uint64_t t0 = bench_now_ns();
    cm_ok(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), "local seal");
    uint64_t t1 = bench_now_ns();
    cm_ok(cm_channel_write(e0, &byte, 1, &vmo, 1), "local send");
    cm_ok(cm_channel_read(e1, &byte, 1, &nb, &got, 1, &nh), "local recv");
    uint64_t t2 = bench_now_ns();
    cm_ok(cm_vmo_get_info(got, &info), "local info");
    BENCH_CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) && info.size == size, "local check");
    uint64_t t3 = bench_now_ns();
    cm_ok(cm_vmo_map(got, 0, size, CM_MAP_READ, &p), "local map");
    uint64_t t4 = bench_now_ns();
    cm_ok(cm_vmo_unmap(p, size), "local unmap");
    cm_ok(cm_handle_close(got), "local close");
    t[L_SEAL] = t1 - t0;
    t[L_XFER] = t2 - t1;
    t[L_CHECK] = t3 - t2;
    t[L_MAP] = t4 - t3;
}

static void local_floor(const int sv[2], uint64_t size, uint64_t t[4])
{
    struct share_hdr h = { 0, size, 0, 0 };
    struct stat sb;
    int fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    BENCH_CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0 &&
                fallocate(fd, 0, 0, (off_t)size) == 0, "local floor create");
    pwrite_all(fd, src, size);
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    BENCH_CHECK(p != MAP_FAILED && munmap(p, size) == 0, "local floor warm map");
    BENCH_CHECK(send(sv[0], &h, sizeof(h), 0) == sizeof(h) &&
                recv(sv[1], &h, sizeof(h), 0) == sizeof(h), "local floor warm msg");
    BENCH_CHECK(fstat(fd, &sb) == 0, "local floor warm fstat");
    uint64_t t0 = bench_now_ns();
    BENCH_CHECK(fcntl(fd, F_ADD_SEALS, FLOOR_SEALS) == 0, "local floor seal");
    uint64_t t1 = bench_now_ns();
    send_fd(sv[0], &h, sizeof(h), fd);
    close(fd);
    int got = recv_fd(sv[1], &h);
    uint64_t t2 = bench_now_ns();
    int seals = fcntl(got, F_GET_SEALS);
    BENCH_CHECK(fstat(got, &sb) == 0 && (uint64_t)sb.st_size == size &&
                (seals & FLOOR_SEALS) == FLOOR_SEALS, "local floor check");
    uint64_t t3 = bench_now_ns();
    p = mmap(NULL, size, PROT_READ, MAP_SHARED, got, 0);
    uint64_t t4 = bench_now_ns();
    BENCH_CHECK(p != MAP_FAILED && munmap(p, size) == 0 && close(got) == 0, "local floor map");
    t[L_SEAL] = t1 - t0;
    t[L_XFER] = t2 - t1;
    t[L_CHECK] = t3 - t2;
    t[L_MAP] = t4 - t3;
}

static void measure_local(struct size_result *sr, uint32_t reps, int run)
{
    static uint64_t samples[2][4][4096];
    struct run_result *rr = &sr->run[run];
    cm_handle_t e0, e1;
    int sv[2];
    uint32_t n = 0, want = reps / 2 / rep_div < MIN_REPS_SIDE ? MIN_REPS_SIDE : reps / 2 / rep_div;
    cm_ok(cm_channel_create(0, &e0, &e1), "local channel");
    BENCH_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "local pair");
    uint64_t start = bench_now_ns();
    for (; n < want && n < 4096; n++) {
        uint64_t t[2][4];
        if (n >= MIN_REPS_SIDE && bench_now_ns() - start > LOCAL_CAP_NS)
            break;
        local_capmem(e0, e1, sr->size, t[0]);
        local_floor(sv, sr->size, t[1]);
        for (int v = 0; v < 2; v++)
            for (int k = 0; k < 4; k++)
                samples[v][k][n] = t[v][k];
    }
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 4; k++) {
            struct bench_pct q;
            bench_percentiles(samples[v][k], n, &q);
            rr->local[v][k] = q.p50 / 1e3;
        }
    rr->has_local = 1;
    cm_ok(cm_handle_close(e0), "local close");
    cm_ok(cm_handle_close(e1), "local close");
    close(sv[0]);
    close(sv[1]);
}

/* ---- printing ---- */

/* Median [min..max] over the runs of a per-run figure. */
typedef double (*run_fig)(const struct size_result *sr, int run, int arg);

static struct bench_spread over_runs(const struct size_result *sr, run_fig f, int arg)
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++)
        v[r] = f(sr, r, arg);
    return bench_spread(v, RUNS);
}

static double fig_e2e(const struct size_result *sr, int run, int cell)
{
    return med_us(&sr->run[run].main[cell], PH_E2E);
}

/* The capmem variant that goal 1 compares with the floor: the one with the
 * floor's kind of pages (A where the floor uses MFD_HUGETLB, else a), so
 * both sides get the same page option, as for every other option. */
static int matched_cell(const struct size_result *sr, int h)
{
    return (sr->fill_best == FILL_HUGETLB ? C_H0 : C_A0) + h;
}

/* arg: numerator cell + 100 * denominator cell */
static double fig_ratio(const struct size_result *sr, int run, int arg)
{
    return fig_e2e(sr, run, arg % 100) / fig_e2e(sr, run, arg / 100);
}

static double fig_phase(const struct size_result *sr, int run, int arg)
{
    return med_us(&sr->run[run].main[arg % 100], (enum phase)(arg / 100));
}

static double fig_hash_ratio(const struct size_result *sr, int run, int cell)
{
    const struct cell *c = &sr->run[run].main[cell];
    return med_us(c, PH_HASH) / med_us(c, PH_HASH_PRIV);
}

static double fig_local(const struct size_result *sr, int run, int arg)
{
    return sr->run[run].local[arg / 10][arg % 10];
}

static double median_of(const struct size_result *sr, run_fig f, int arg)
{
    return over_runs(sr, f, arg).median;
}

static void print_spread_col(struct bench_spread s, int width, int prec)
{
    char b[64];
    snprintf(b, sizeof(b), "%.*f [%.*f..%.*f]", prec, s.median, prec, s.min, prec, s.max);
    printf(" %*s", width, b);
}

/* Smallest and largest page size the consumer saw in `cell` over all runs. */
static void pages_seen(const struct size_result *sr, int cell, uint32_t *lo, uint32_t *hi)
{
    *lo = UINT32_MAX;
    *hi = 0;
    for (int r = 0; r < RUNS; r++) {
        const struct cell *c = &sr->run[r].main[cell];
        for (uint32_t i = 0; i < c->n; i++) {
            uint32_t p = c->s[i].r.page_size;
            *lo = p < *lo ? p : *lo;
            *hi = p > *hi ? p : *hi;
        }
    }
}

static const char *pages_str(const struct size_result *sr, int cell)
{
    static char buf[4][24];
    static int k;
    char *b = buf[k++ & 3];
    uint32_t lo, hi;
    pages_seen(sr, cell, &lo, &hi);
    if (hi == 0)
        snprintf(b, 24, "-");
    else if (lo == hi)
        snprintf(b, 24, "%u KiB", lo / 1024);
    else
        snprintf(b, 24, "%u..%u KiB", lo / 1024, hi / 1024);
    return b;
}

/* A median in a 15-wide column, marked "*" when it is the chosen one. */
static void print_marked(double us, int chosen)
{
    char b[32];
    snprintf(b, sizeof(b), "%s%.1f", chosen ? "*" : "", us);
    printf(" %15s", b);
}

static void print_options(const struct comparison *cmp)
{
    printf("\nPage options, measured in the floor (b) once before the runs; median us per "
           "share.\nProducer fill (no hash, plain consumer map):\n%-8s", "size");
    for (int i = 0; i < NFILL; i++)
        printf(" %15s", fill_opts[i].name);
    printf("\n");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        printf("%-8s", size_str(r->size));
        for (int i = 0; i < NFILL; i++) {
            if (r->fill[i].n == 0)
                printf(" %15s", "n/a");
            else
                print_marked(med_us(&r->fill[i], PH_E2E), i == r->fill_best);
        }
        printf("\n");
    }
    printf("Consumer map (with the best fill):\n%-8s %-5s", "size", "hash");
    for (int m = 0; m < NMAP; m++)
        printf(" %15s", map_opts[m].name);
    printf("\n");
    for (size_t s = 0; s < nsizes; s++)
        for (int h = 0; h < 2; h++) {
            const struct size_result *r = &cmp->sz[s];
            printf("%-8s %-5s", size_str(r->size), h ? "yes" : "no");
            for (int m = 0; m < NMAP; m++)
                print_marked(med_us(&r->map[h][m], PH_E2E), m == r->map_best[h]);
            printf("\n");
        }
    for (int i = 0; i < NFILL; i++)
        if (!cmp->avail.ok[i])
            printf("%s: not available here: %s\n", fill_opts[i].name, cmp->avail.why[i]);
    if (cmp->avail.ok[FILL_HUGETLB])
        printf("hugetlb: only at multiples of 2 MiB that fit in the %llu free pages\n",
               (unsigned long long)cmp->avail.hugetlb_free_pages);
    if (cmp != &cmps[0])
        printf("(fill options other than hugetlb: the figures measured with the pool, "
               "reused)\n");
    printf("Chosen per size (*): b uses the fastest; a the fastest the capmem API "
           "expresses\n(populate map: CM_MAP_POPULATE); a+ adds madvise() to reach b's "
           "choice; A fills with %s.\n", cmp->huge_fill == FILL_PWRITE ? "cm_vmo_write"
                                                                      : "a writable mapping");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        printf("  %-8s b: %s / %s, %s   a: %s / %s, %s   a+: %s\n", size_str(r->size),
               fill_opts[r->fill_best].name, map_opts[r->map_best[0]].name,
               map_opts[r->map_best[1]].name, fill_opts[r->fill_cm].name,
               map_opts[r->map_cm[0]].name, map_opts[r->map_cm[1]].name,
               r->plus_differs ? fill_opts[r->fill_plus].name : "(=a, not run)");
    }
}

static void print_main(const struct comparison *cmp)
{
    printf("\nOne share end to end, us: median [min..max] over the %d runs of each run's "
           "median.\n", RUNS);
    printf("%-8s %-4s | %29s | %29s | %29s | %29s\n", "size", "hash", "a: capmem base pages",
           "A: capmem CM_VMO_HUGE", "b: floor (syscalls)", "c: copy via socket");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        for (int h = 0; h < 2; h++) {
            printf("%-8s %-4s |", size_str(r->size), h ? "yes" : "no");
            print_spread_col(over_runs(r, fig_e2e, C_A0 + h), 29, 1);
            printf(" |");
            print_spread_col(over_runs(r, fig_e2e, C_H0 + h), 29, 1);
            printf(" |");
            print_spread_col(over_runs(r, fig_e2e, C_B0 + h), 29, 1);
            printf(" |");
            print_spread_col(over_runs(r, fig_e2e, C_C0 + h), 29, 1);
            printf("\n");
        }
    }
    printf("\nRatios of one run's medians: median [min..max] over the runs. m = the capmem\n"
           "variant with the floor's kind of pages (A where b uses hugetlb, else a); pages:\n"
           "what the consumer saw (A: cm_vmo_get_info page_size; b: st_blksize). b'/b: a\n"
           "second, identical floor cell against the first (the machine's A/A spread).\n");
    printf("%-8s %-4s | %17s | %17s | %17s | %17s | %17s | %17s | %-8s %-8s %-7s\n", "size",
           "hash", "m/b (goal 1)", "a/b", "A/c (goal 2)", "a/c", "a+/b", "b'/b", "A pages",
           "b pages", "b fill");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        for (int h = 0; h < 2; h++) {
            printf("%-8s %-4s |", size_str(r->size), h ? "yes" : "no");
            print_spread_col(over_runs(r, fig_ratio, matched_cell(r, h) + 100 * (C_B0 + h)),
                             17, 2);
            printf(" |");
            print_spread_col(over_runs(r, fig_ratio, C_A0 + h + 100 * (C_B0 + h)), 17, 2);
            printf(" |");
            print_spread_col(over_runs(r, fig_ratio, C_H0 + h + 100 * (C_C0 + h)), 17, 2);
            printf(" |");
            print_spread_col(over_runs(r, fig_ratio, C_A0 + h + 100 * (C_C0 + h)), 17, 2);
            printf(" |");
            if (r->plus_differs)
                print_spread_col(over_runs(r, fig_ratio, C_AP0 + h + 100 * (C_B0 + h)), 17, 2);
            else
                printf(" %17s", "(=a)");
            printf(" |");
            print_spread_col(over_runs(r, fig_ratio, C_BB0 + h + 100 * (C_B0 + h)), 17, 2);
            printf(" | %-8s %-8s %-7s\n", pages_str(r, C_H0 + h), pages_str(r, C_B0 + h),
                   fill_opts[r->fill_best].name);
        }
    }
}

static void print_breakdown(const struct comparison *cmp)
{
    static const enum phase ph[] = { PH_CREATE, PH_FILL, PH_SEAL, PH_XFER, PH_CHECK, PH_MAP,
                                     PH_HASH, PH_TEARDOWN, PH_REPLY };
    const int nph = (int)(sizeof(ph) / sizeof(ph[0]));
    printf("\nBreakdown, us per phase: median over the runs of each run's median (each timed\n"
           "on the side where it runs). hash = SHA-256 of the mapping, or (no hash) reading\n"
           "its last 8 bytes; teardown = consumer unmap + close (frees the pages); send/recv\n"
           "and reply cross processes; x+r(rtt) = their sum from the round trip minus the\n"
           "consumer's work.\n");
    printf("%-8s %-4s %-3s", "size", "hash", "var");
    for (int i = 0; i < nph; i++)
        printf(" %9s", phase_name[ph[i]]);
    printf(" %9s %9s %9s\n", "x+r(rtt)", "sum", "e2e");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        for (int h = 0; h < 2; h++) {
            const int which[] = { C_A0 + h, C_H0 + h, C_B0 + h };
            for (int w = 0; w < 3; w++) {
                double sum = 0;
                printf("%-8s %-4s %-3s", size_str(r->size), h ? "yes" : "no",
                       variant_name[r->run[0].main[which[w]].v]);
                for (int i = 0; i < nph; i++) {
                    double v = median_of(r, fig_phase, which[w] + 100 * ph[i]);
                    sum += v;
                    printf(" %9.1f", v);
                }
                printf(" %9.1f %9.1f %9.1f\n",
                       median_of(r, fig_phase, which[w] + 100 * PH_XFER_RTT), sum,
                       median_of(r, fig_e2e, which[w]));
            }
        }
    }
}

static void print_hash_ratio(const struct comparison *cmp)
{
    printf("\nConsumer's SHA-256 of the received mapping (capmem, base pages) vs of the same\n"
           "bytes in private, pre-faulted malloc'd memory: ratio of one run's medians,\n"
           "median [min..max] over the runs. \"populated\": mapped with CM_MAP_POPULATE.\n");
    printf("%-8s | %10s %10s %17s | %17s\n", "size", "mapping", "private", "ratio",
           "populated ratio");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        printf("%-8s | %10.1f %10.1f", size_str(r->size),
               median_of(r, fig_phase, C_HA + 100 * PH_HASH),
               median_of(r, fig_phase, C_HA + 100 * PH_HASH_PRIV));
        print_spread_col(over_runs(r, fig_hash_ratio, C_HA), 17, 2);
        printf(" |");
        print_spread_col(over_runs(r, fig_hash_ratio, C_HAP), 17, 2);
        printf("\n");
    }
}

static void print_seal_growth(const struct comparison *cmp)
{
    printf("\nGrowth of seal + send/recv + check + map with size (median over runs, us).\n"
           "Only the seal should grow (F_SEAL_WRITE makes the kernel scan the pages for pins).\n"
           "In the share (a, no hash): right after the fill, caches cold, consumer woken:\n");
    printf("%-8s %9s %9s %9s %9s %11s %11s %8s\n", "size", "seal", "send/recv", "check", "map",
           "seal..map", "minus seal", "ns/page");
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        double seal = median_of(r, fig_phase, C_A0 + 100 * PH_SEAL);
        double x = median_of(r, fig_phase, C_A0 + 100 * PH_XFER);
        double ck = median_of(r, fig_phase, C_A0 + 100 * PH_CHECK);
        double mp = median_of(r, fig_phase, C_A0 + 100 * PH_MAP);
        printf("%-8s %9.1f %9.1f %9.1f %9.1f %11.1f %11.1f %8.2f\n", size_str(r->size), seal, x,
               ck, mp, median_of(r, fig_phase, C_A0 + 100 * PH_SSRCM), x + ck + mp,
               seal * 1e3 / (double)(r->size / CM_PAGE_SIZE));
    }
    if (!cmp->sz[0].run[0].has_local)
        return;
    printf("The same calls in one process over a loopback channel, caches warm (see source):\n");
    printf("%-8s %-3s %9s %9s %9s %9s %11s %11s %8s\n", "size", "var", "seal", "send/recv",
           "check", "map", "seal..map", "minus seal", "ns/page");
    for (int v = 0; v < 2; v++) {
        for (size_t s = 0; s < nsizes; s++) {
            const struct size_result *r = &cmp->sz[s];
            double l[4];
            for (int k = 0; k < 4; k++)
                l[k] = median_of(r, fig_local, v * 10 + k);
            double rest = l[L_XFER] + l[L_CHECK] + l[L_MAP];
            printf("%-8s %-3s %9.1f %9.1f %9.1f %9.1f %11.1f %11.1f %8.2f\n", size_str(r->size),
                   v == 0 ? "a" : "b", l[L_SEAL], l[L_XFER], l[L_CHECK], l[L_MAP],
                   l[L_SEAL] + rest, rest, l[L_SEAL] * 1e3 / (double)(r->size / CM_PAGE_SIZE));
        }
    }
}

static void print_comparison(const struct comparison *cmp)
{
    printf("\n==== %s ====\n", cmp->label);
    print_options(cmp);
    print_main(cmp);
    print_breakdown(cmp);
    print_hash_ratio(cmp);
    print_seal_growth(cmp);
}

/* ---- goals ---- */

/* The worst figure over sizes >= from and both hash settings, per run. */
static struct bench_spread worst_per_run(const struct comparison *cmp, uint64_t from,
                                         int (*num)(const struct size_result *, int), int den0,
                                         char *where, size_t wcap)
{
    double worst[RUNS] = { 0 }, top = 0;
    for (int run = 0; run < RUNS; run++)
        for (size_t s = 0; s < nsizes; s++) {
            const struct size_result *r = &cmp->sz[s];
            if (r->size < from)
                continue;
            for (int h = 0; h < 2; h++) {
                double v = fig_e2e(r, run, num(r, h)) / fig_e2e(r, run, den0 + h);
                worst[run] = v > worst[run] ? v : worst[run];
                if (v > top) {
                    top = v;
                    snprintf(where, wcap, "worst %s %s hash", size_str(r->size),
                             h ? "with" : "without");
                }
            }
        }
    return bench_spread(worst, RUNS);
}

static int floor_twin_cell(const struct size_result *sr, int h)
{
    (void)sr;
    return C_BB0 + h;
}

static int huge_cell(const struct size_result *sr, int h)
{
    (void)sr;
    return C_H0 + h;
}

/* Did A get huge pages in every share at sizes >= from (all 1), in none
 * (0), or in some (-1)? */
static int huge_everywhere(const struct comparison *cmp, uint64_t from)
{
    int any = 0, all = 1;
    for (size_t s = 0; s < nsizes; s++) {
        if (cmp->sz[s].size < from)
            continue;
        for (int h = 0; h < 2; h++) {
            uint32_t lo, hi;
            pages_seen(&cmp->sz[s], C_H0 + h, &lo, &hi);
            any |= hi == CM_HUGE_PAGE_SIZE;
            all &= lo == CM_HUGE_PAGE_SIZE;
        }
    }
    return all ? 1 : any ? -1 : 0;
}

/* Goal 1 uses A only where the floor uses hugetlb: did A get base pages
 * in any of those? */
static int matched_got_base(const struct comparison *cmp)
{
    for (size_t s = 0; s < nsizes; s++)
        for (int h = 0; h < 2; h++) {
            uint32_t lo, hi;
            if (cmp->sz[s].fill_best != FILL_HUGETLB)
                continue;
            pages_seen(&cmp->sz[s], C_H0 + h, &lo, &hi);
            if (lo != CM_HUGE_PAGE_SIZE)
                return 1;
        }
    return 0;
}

static struct bench_spread worst_hash_per_run(const struct comparison *cmp, int cell)
{
    double worst[RUNS] = { 0 };
    for (int run = 0; run < RUNS; run++)
        for (size_t s = 0; s < nsizes; s++) {
            double v = fig_hash_ratio(&cmp->sz[s], run, cell);
            worst[run] = v > worst[run] ? v : worst[run];
        }
    return bench_spread(worst, RUNS);
}

static void print_goals(void)
{
    char name[96], note[160], where[64];
    uint64_t busy = 0;
    printf("\nTransient seal refusals (EBUSY / BAD_STATE, retried):");
    for (int v = 0; v < NVARIANTS; v++)
        for (int f = 0; f < NFILL; f++)
            if (seal_busy[v][f] != 0) {
                printf(" %s/%s %llu", variant_name[v], fill_opts[f].name,
                       (unsigned long long)seal_busy[v][f]);
                busy += seal_busy[v][f];
            }
    printf("%s\n", busy == 0 ? " none" : "");
    printf("\nGoals (issue 9), figure: median [min..max] over the %d runs of the run's worst\n"
           "ratio over sizes and hash settings.\n"
           "  1: capmem one-shot (m) within %.2fx of the floor at every size, with and without\n"
           "     hash, in all %d runs (verdict on the max).\n"
           "  2: with huge pages available, the one-shot share with CM_VMO_HUGE (A) at or\n"
           "     below the socket copy (c) from 2 MiB up (verdict on the median).\n"
           "  And from issue 2: the consumer's hash of a received mapping within 1.15x of\n"
           "  the same hash in private memory, plain and with CM_MAP_POPULATE (median).\n",
           RUNS, GOAL_FLOOR_RATIO, RUNS);
    for (int k = 0; k < ncmps; k++) {
        const struct comparison *cmp = &cmps[k];
        struct bench_spread g = worst_per_run(cmp, 0, matched_cell, C_B0, where, sizeof(where));
        int base = matched_got_base(cmp);
        snprintf(name, sizeof(name), "oneshot_within_1.10x_of_floor_%s", cmp->suffix);
        snprintf(note, sizeof(note), "%s%s", where,
                 base ? "; capmem got base pages where the floor used hugetlb" : "");
        bench_goal_line(name, g.max <= GOAL_FLOOR_RATIO, g, "x", note);
        struct bench_spread aa = worst_per_run(cmp, 0, floor_twin_cell, C_B0, where, sizeof(where));
        printf("control %s: the floor against itself, same rule: %.2fx [%.2fx..%.2fx] (%s)\n",
               cmp->suffix, aa.median, aa.min, aa.max, where);
    }
    const struct comparison *hc = NULL;
    for (int k = 0; k < ncmps; k++)
        if (cmps[k].hugetlb)
            hc = &cmps[k];
    const char *g2 = "huge_oneshot_at_or_below_copy_from_2MiB";
    if (sizes[nsizes - 1] < GOAL_HUGE_FROM) {
        bench_goal_unmeasured(g2, "no size from 2 MiB up: --max-size");
    } else if (hc == NULL) {
        snprintf(note, sizeof(note), "no hugetlb pool: %s", pool_note != NULL
                 ? pool_note : "the kernel gave none");
        bench_goal_unmeasured(g2, note);
    } else {
        struct bench_spread g = worst_per_run(hc, GOAL_HUGE_FROM, huge_cell, C_C0, where,
                                              sizeof(where));
        int huge = huge_everywhere(hc, GOAL_HUGE_FROM);
        snprintf(note, sizeof(note), "%s%s", where, huge == 1 ? ""
                 : huge == 0 ? "; capmem got base pages" : "; capmem got base pages at some sizes");
        bench_goal_line(g2, huge == 1 && g.median <= GOAL_COPY_RATIO, g, "x", note);
    }
    const struct comparison *last = &cmps[ncmps - 1];
    struct bench_spread hp = worst_hash_per_run(last, C_HA);
    struct bench_spread hq = worst_hash_per_run(last, C_HAP);
    snprintf(name, sizeof(name), "hash_of_mapping_within_1.15x_of_private_%s", last->suffix);
    bench_goal_line(name, hp.median <= 1.15, hp, "x", NULL);
    snprintf(name, sizeof(name), "hash_of_populated_mapping_within_1.15x_of_private_%s",
             last->suffix);
    bench_goal_line(name, hq.median <= 1.15, hq, "x", NULL);
}

/* ---- plot data ---- */

/* Per size: median, min, max us per share (no hash: a, A, b, c; then the
 * same with hash), for bench/vmo_share.gp. From the comparison with huge
 * pages if there was one, so A shows what CM_VMO_HUGE gives. */
static void write_plot_data(const char *path)
{
    const struct comparison *cmp = &cmps[0];
    for (int k = 0; k < ncmps; k++)
        if (cmps[k].hugetlb) {
            cmp = &cmps[k];
            break;
        }
    FILE *f = fopen(path, "w");
    BENCH_CHECK(f != NULL, "%s: %s", path, strerror(errno));
    int huge = huge_everywhere(cmp, 0);
    fprintf(f, "# title: %s; capmem CM_VMO_HUGE got %s\n", cmp->label,
            huge == 1 ? "2 MiB pages" : huge == 0 ? "base pages" : "base pages at some sizes");
    fprintf(f, "# bench/vmo_share: us per share, median min max over %d runs\n"
               "# size_bytes  a(base) A(huge) b(floor) c(copy) without hash, then with\n",
            RUNS);
    for (size_t s = 0; s < nsizes; s++) {
        const struct size_result *r = &cmp->sz[s];
        fprintf(f, "%llu", (unsigned long long)r->size);
        for (int h = 0; h < 2; h++) {
            const int cells[] = { C_A0 + h, C_H0 + h, C_B0 + h, C_C0 + h };
            for (int i = 0; i < 4; i++) {
                struct bench_spread sp = over_runs(r, fig_e2e, cells[i]);
                fprintf(f, " %.2f %.2f %.2f", sp.median, sp.min, sp.max);
            }
        }
        fprintf(f, "\n");
    }
    BENCH_CHECK(fclose(f) == 0, "%s: %s", path, strerror(errno));
}

/* ---- setup ---- */

static void read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f == NULL) {
        snprintf(out, cap, "(none)");
        return;
    }
    if (fgets(out, (int)cap, f) == NULL)
        snprintf(out, cap, "(unreadable)");
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

/* Which huge-page options this machine has under the current pool: hugetlb
 * needs free pages in the pool; MADV_HUGEPAGE on shmem needs shmem_enabled
 * to allow it. An option that does not work is reported and left out. */
static void probe_huge(struct fill_avail *av)
{
    const uint64_t len = CM_HUGE_PAGE_SIZE;
    for (int i = 0; i < NFILL; i++)
        av->ok[i] = 1;
    int fd = memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
    void *p = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, (off_t)len) == 0)
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        av->ok[FILL_HUGETLB] = 0;
        av->why[FILL_HUGETLB] =
            "memfd_create(MFD_HUGETLB)+mmap failed (no hugetlb pool: /proc/sys/vm/nr_hugepages)";
    } else {
        munmap(p, len);
    }
    if (fd >= 0)
        close(fd);
    av->hugetlb_free_pages = bench_meminfo_kb("HugePages_Free");

    fd = memfd_create("probe", MFD_CLOEXEC);
    BENCH_CHECK(fd >= 0 && ftruncate(fd, (off_t)(2 * len)) == 0, "probe memfd");
    p = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    BENCH_CHECK(p != MAP_FAILED, "probe mmap");
    uint64_t before = bench_meminfo_kb("ShmemHugePages");
    int rc = madvise(p, 2 * len, MADV_HUGEPAGE);
    memset(p, 1, 2 * len);
    uint64_t after = bench_meminfo_kb("ShmemHugePages");
    munmap(p, 2 * len);
    close(fd);
    printf("MADV_HUGEPAGE on a memfd mapping: madvise %s, ShmemHugePages %llu -> %llu kB: %s\n",
           rc == 0 ? "accepted" : strerror(errno), (unsigned long long)before,
           (unsigned long long)after, after > before ? "huge pages used" : "no effect");
    if (rc != 0) {
        av->ok[FILL_MADV_HUGE] = 0;
        av->why[FILL_MADV_HUGE] = "madvise(MADV_HUGEPAGE) refused";
    }
}

/* What CM_VMO_HUGE gives now, and how A fills: cm_vmo_write where it works
 * on such a VMO, else through a writable mapping. */
static void probe_capmem_huge(struct comparison *cmp)
{
    cm_handle_t v;
    cm_vmo_info_t info;
    cm_ok(cm_vmo_create(CM_HUGE_PAGE_SIZE, CM_VMO_HUGE, &v), "cm_vmo_create(CM_VMO_HUGE)");
    cm_ok(cm_vmo_get_info(v, &info), "cm_vmo_get_info");
    cm_status_t st = cm_vmo_write(v, src, 0, CM_HUGE_PAGE_SIZE);
    cm_ok(cm_handle_close(v), "cm_handle_close");
    cmp->probe_page_size = info.page_size;
    cmp->huge_fill = st == CM_OK ? FILL_PWRITE : FILL_FAULT;
    printf("cm_vmo_create(2 MiB, CM_VMO_HUGE): page_size %u (%s); cm_vmo_write on it: %s, "
           "so A fills %s\n", info.page_size,
           info.page_size == CM_HUGE_PAGE_SIZE ? "huge pages" : "fell back to base pages",
           cm_status_name(st), st == CM_OK ? "with cm_vmo_write" : "through a mapping");
}

/* Sets this comparison's pool (root only) and describes it. */
static void setup_pool(struct comparison *cmp, long plan)
{
    const char *what = "as found";
    if (plan >= 0) {
        BENCH_CHECK(hugepool_set((unsigned long)plan) == 0, "setting the hugetlb pool to %ld: %s",
                    plan, strerror(errno));
        what = plan > 0 ? "configured by the bench" : "emptied by the bench";
    }
    uint64_t total = bench_meminfo_kb("HugePages_Total");
    uint64_t free_pages = bench_meminfo_kb("HugePages_Free");
    if (plan > 0)
        snprintf(cmp->label, sizeof(cmp->label),
                 "hugetlb pool %s: %ld pages asked, %llu given, %llu free", what, plan,
                 (unsigned long long)total, (unsigned long long)free_pages);
    else
        snprintf(cmp->label, sizeof(cmp->label), "hugetlb pool %s: %llu pages, %llu free%s%s",
                 what, (unsigned long long)total, (unsigned long long)free_pages,
                 pool_note != NULL ? "; not configured: " : "", pool_note != NULL ? pool_note : "");
    snprintf(cmp->suffix, sizeof(cmp->suffix), "%s", free_pages > 0 ? "hugetlb_pool" : "no_pool");
    printf("\n%s\n", cmp->label);
    fprintf(stderr, "bench: %s\n", cmp->label);
}

static void print_machine(void)
{
    struct utsname u;
    char thp[128], thp2[128];
    uname(&u);
    read_line("/sys/kernel/mm/transparent_hugepage/shmem_enabled", thp, sizeof(thp));
    read_line("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/shmem_enabled", thp2,
              sizeof(thp2));
    printf("bench/vmo_share: one-shot sharing of a sealed VMO between two processes\n");
    printf("machine: %ld CPUs online, Linux %s %s\n", sysconf(_SC_NPROCESSORS_ONLN), u.release,
           u.machine);
    printf("shmem THP: %s; 2M: %s; hugetlb pool found: %llu pages\n", thp, thp2,
           (unsigned long long)bench_meminfo_kb("HugePages_Total"));
    printf("placement (--cpus): %s\n", cpu_mode == CPUS_SPLIT ? "split: producer CPU 0, "
           "consumer CPU 1" : cpu_mode == CPUS_SAME ? "same: both on CPU 0" :
           "any: unpinned, the scheduler decides");
    printf("%d comparisons (%s), each run %d times; sizes up to %s\n", ncmps,
           ncmps == 2 ? "with a hugetlb pool, then without" : "the pool as found", RUNS,
           size_str(sizes[nsizes - 1]));
}

static void make_transports(struct transports *parent, struct transports *child)
{
    int sq[2], st[2], ct[2];
    cm_ok(cm_channel_create(0, &parent->ch, &child->ch), "cm_channel_create");
    BENCH_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sq) == 0 &&
                socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) == 0 &&
                socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ct) == 0,
                "socketpair: %s", strerror(errno));
    parent->seq = sq[0];
    child->seq = sq[1];
    parent->stream = st[0];
    child->stream = st[1];
    parent->ctl = ct[0];
    child->ctl = ct[1];
}

static void close_side(struct transports *t)
{
    cm_handle_close(t->ch);
    close(t->seq);
    close(t->stream);
    close(t->ctl);
}

/* Per size: the SHA-256 state over all of src but the share's last block. */
static EVP_MD_CTX *prefix_of[NSIZES_ALL];

static void begin_size(size_t s, uint8_t saved[8])
{
    prefix_ctx = prefix_of[s];
    memcpy(saved, src + sizes[s] - 8, 8);
}

static void end_size(size_t s, const uint8_t saved[8])
{
    memcpy(src + sizes[s] - 8, saved, 8); /* larger sizes' prefixes cover it */
}

static void run_comparison(const struct transports *t, struct comparison *cmp,
                           const struct comparison *prev, int last)
{
    uint8_t saved[8];
    probe_huge(&cmp->avail);
    probe_capmem_huge(cmp);
    cmp->hugetlb = cmp->avail.ok[FILL_HUGETLB];
    for (size_t s = 0; s < nsizes; s++) {
        uint64_t start = bench_now_ns();
        begin_size(s, saved);
        cmp->sz[s].size = sizes[s];
        measure_options(t, &cmp->avail, &cmp->sz[s], prev != NULL ? &prev->sz[s] : NULL,
                        reps_full[s]);
        end_size(s, saved);
        fprintf(stderr, "bench: options at %s in %.1f s\n", size_str(sizes[s]),
                (double)(bench_now_ns() - start) / 1e9);
    }
    for (int run = 0; run < RUNS; run++) {
        uint64_t start = bench_now_ns();
        for (size_t s = 0; s < nsizes; s++) {
            begin_size(s, saved);
            measure_main(t, cmp, &cmp->sz[s], reps_full[s], run);
            if (last)
                measure_local(&cmp->sz[s], reps_full[s], run);
            end_size(s, saved);
        }
        fprintf(stderr, "bench: run %d done in %.1f s\n", run + 1,
                (double)(bench_now_ns() - start) / 1e9);
    }
}

static void producer_main(const struct transports *t)
{
    uint64_t thp_kb;
    src = bench_alloc_buffer(MAX_SIZE, &thp_kb);
    fprintf(stderr, "bench: producer's source: %llu of %llu MiB on transparent huge pages\n",
            (unsigned long long)(thp_kb >> 10), MAX_SIZE / MiB);
    tmp_ctx = EVP_MD_CTX_new();
    BENCH_CHECK(tmp_ctx != NULL, "producer setup");
    fill_pattern(src, MAX_SIZE);
    for (size_t s = 0; s < nsizes; s++) {
        prefix_of[s] = EVP_MD_CTX_new();
        BENCH_CHECK(prefix_of[s] != NULL, "producer setup");
        prefix_ctx = prefix_of[s];
        prepare_size(sizes[s]);
    }
    for (int k = 0; k < ncmps; k++) {
        setup_pool(&cmps[k], pool_plan[k]);
        run_comparison(t, &cmps[k], k > 0 ? &cmps[k - 1] : NULL, k == ncmps - 1);
    }
    hugepool_restore();
}

/* Huge pages for the largest share twice over (producer's object and a
 * freed one not yet returned), plus a few for the probes. */
static long pool_pages_needed(void)
{
    uint64_t largest = sizes[nsizes - 1];
    return (long)(2 * ((largest + CM_HUGE_PAGE_SIZE - 1) / CM_HUGE_PAGE_SIZE) + 4);
}

int main(int argc, char **argv)
{
    struct transports parent, child;
    const char *plot_data = NULL;
    int no_pool = 0, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            rep_div = 10;
            min_reps = MIN_REPS_SIDE;
            quick = 1;
        } else if (strcmp(argv[i], "--break-hash") == 0) {
            break_hash = 1;
        } else if (strcmp(argv[i], "--no-pool") == 0) {
            no_pool = 1;
        } else if (strcmp(argv[i], "--plot-data") == 0 && i + 1 < argc) {
            plot_data = argv[++i];
        } else if (strcmp(argv[i], "--max-size") == 0 && i + 1 < argc) {
            unsigned long long max = strtoull(argv[++i], NULL, 0);
            for (nsizes = 0; nsizes < NSIZES_ALL && sizes[nsizes] <= max; nsizes++)
                ;
            if (nsizes == 0) {
                fprintf(stderr, "--max-size: at least %llu\n", (unsigned long long)sizes[0]);
                return 2;
            }
        } else if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            cpu_mode = strcmp(m, "same") == 0 ? CPUS_SAME : strcmp(m, "any") == 0 ? CPUS_ANY
                                                                                 : CPUS_SPLIT;
            if (strcmp(m, cpu_mode_name[cpu_mode]) != 0) {
                fprintf(stderr, "--cpus: split, same or any\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--quick] [--cpus same|split|any] [--max-size BYTES] "
                    "[--no-pool] [--plot-data FILE] [--break-hash]\n"
                    "  same:  both processes on CPU 0 (default)\n"
                    "  split: producer on CPU 0, consumer on CPU 1;  any: unpinned\n"
                    "  --no-pool: leave the hugetlb pool as found (root: default is with a\n"
                    "             pool the bench sets, then without, then restored)\n",
                    argv[0]);
            return 2;
        }
    }
    if (cpu_mode == CPUS_SPLIT && sysconf(_SC_NPROCESSORS_ONLN) < 2)
        cpu_mode = CPUS_SAME;
    if (no_pool)
        pool_note = "--no-pool";
    else if (geteuid() != 0)
        pool_note = "not root";
    if (pool_note == NULL) {
        pool_plan[0] = pool_pages_needed();
        pool_plan[1] = 0;
        ncmps = 2;
    } else {
        ncmps = 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_set_deadline(quick ? DEADLINE_S / 3 : DEADLINE_S);
    print_machine();
    if (pool_note != NULL)
        printf("hugetlb pool: not configured (%s)\n", pool_note);
    make_transports(&parent, &child);
    fflush(NULL);
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        pin_to(cpu_mode == CPUS_SPLIT ? 1 : 0);
        close_side(&parent);
        _exit(consumer_main(&child));
    }
    pin_to(0);
    close_side(&child);
    uint64_t start = bench_now_ns();
    producer_main(&parent);
    struct cmd quit = { V_QUIT, 0 };
    BENCH_CHECK(send(parent.ctl, &quit, sizeof(quit), MSG_NOSIGNAL) == sizeof(quit), "quit");
    int status;
    while (waitpid(pid, &status, 0) < 0)
        BENCH_CHECK(errno == EINTR, "waitpid: %s", strerror(errno));
    BENCH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "consumer process failed");
    printf("\n(%llu shares, every one verified; %.0f s)\n", (unsigned long long)(next_seq - 1),
           (double)(bench_now_ns() - start) / 1e9);
    for (int k = 0; k < ncmps; k++)
        print_comparison(&cmps[k]);
    if (plot_data != NULL)
        write_plot_data(plot_data);
    print_goals();
    close_side(&parent);
    return 0;
}
