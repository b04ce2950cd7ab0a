/* SPDX-License-Identifier: MIT */
/* DMA pool against plain io_uring, in one run, with a verdict per goal.
 *
 * Reads a file (FILE_MIB MiB, $CAPMEM_BENCH_DMA_MIB to change it) in 1 MiB
 * blocks by five variants:
 *   io_uring   plain io_uring, O_DIRECT, 1 MiB fixed (registered) buffers,
 *              N requests kept in flight (the first N submitted in one
 *              call), completions taken in submission order: the device
 *              path with no ownership layer (the baseline);
 *   pool       the same device path through a default capmem DMA pool:
 *              submit, wait on each fence in submission order, map,
 *              resubmit (ids, ownership checks, lock and fences included);
 *   guarded    the same with CM_DMA_POOL_CPU_GUARD (the debugging mode:
 *              mprotect on every ownership change);
 *   pread      buffered pread(2) into a malloc'd buffer, one at a time,
 *              the segment's pages dropped from the page cache first;
 *   io_uring'  the baseline again, compared with itself like the others:
 *              the machine's noise floor (an A/A control), so a figure
 *              within its spread is not a difference;
 * at N = 1, 4 and 16 in flight. Every block is verified (each 4 KiB page of
 * the file starts with its own offset), so a figure is only printed for
 * correct data, and every variant does the same CPU work on the data.
 *
 * Same pages on both sides. The device's speed depends on the physical
 * layout of the buffers: a 1 MiB request goes to the (virtual) disk as one
 * scatter-gather segment per physically contiguous run of pages, and on a
 * virtio disk each segment costs the host real work (measured here with
 * plain io_uring: 1.1-1.4 GiB/s at 255-256 runs per buffer, 4.2-5.6 GiB/s
 * at 25-33 runs, same code, same file).
 * Which pages a buffer gets is up to the kernel's allocator and differs
 * from one allocation to the next, by far more than 5%. So io_uring,
 * io_uring' and pool read into the very same pages: each piece creates one
 * default pool, acquires and maps its buffers (CPU-owned, so the process
 * may use them as it likes), and the io_uring variants register those
 * pages in their own rings. The paired comparison then measures the
 * library, not the allocator. The "phys runs" column is the number of
 * physically contiguous runs per buffer (0 when page frame numbers are
 * hidden: they need CAP_SYS_ADMIN); the runs-vs-throughput line shows the
 * effect on io_uring alone. guarded needs pages of its own (its mappings
 * change protection); pread has its own malloc'd buffer.
 *
 * Fair setup: every buffer is touched (memset) before any timed loop, so
 * no variant pays first-touch page faults inside the timing.
 *
 * Interleaving: one comparison reads the whole file at each N; the file is
 * cut into SEGMENTS pieces and each piece is read by the five variants back
 * to back, the order changing from piece to piece (a Williams design: each
 * variant in each position and after each other variant equally often), so
 * the virtual disk's slow and fast phases, and what one variant leaves
 * behind for the next, fall on all of them alike. The whole comparison runs
 * REPS times; every figure is reported as min / median / max over the
 * repetitions. GiB/s is bytes over summed wall time of the timed loops;
 * CPU time per I/O is user + system time of this process (getrusage, which
 * includes io_uring's worker threads) over the timed loops, divided by the
 * number of 1 MiB reads. A repetition's overhead and CPU ratio against
 * io_uring are the medians over its pieces of the paired figures (each
 * piece's variants ran back to back), which a burst of load from another
 * process on a shared machine cannot move much.
 *
 * Goals (issue 9), verdict on the median, spread printed:
 *   dma_default_throughput_overhead_<N>: 1 - t(io_uring) / t(pool) <= 5%
 *   dma_default_cpu_per_io_<N>:          cpu(pool) / cpu(io_uring) <= 1.2x
 *
 * The file goes to $CAPMEM_BENCH_DIR, $CAPMEM_DMA_DIR, /var/tmp, /tmp or .,
 * the first where a pool accepts it as a device (never tmpfs: O_DIRECT
 * there is a copy, not DMA), and is deleted at the end. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/dma.h>
#include "common.h"

#define FILE_MIB_DEFAULT 1536u
#define BLOCK (1u << 20)
#define REPS 3
#define SEGMENTS 30 /* a multiple of 2 * NVARIANTS: each repetition a whole Williams design */
#define MAX_DEPTH 16

static const uint32_t depths[] = { 1, 4, 16 };
#define NDEPTHS (sizeof(depths) / sizeof(depths[0]))

enum { V_URING, V_POOL, V_GUARD, V_PREAD, V_URING2, NVARIANTS };
static const char *const vnames[NVARIANTS] = { "io_uring", "pool", "guarded", "pread",
                                               "io_uring'" };

static char path[512];
static uint32_t nblocks;

/* Every 4 KiB page starts with its file offset; a wrong block, a short read
 * or stale buffer contents are caught. */
static void verify_block(const uint8_t *p, uint64_t off, const char *who)
{
    for (uint32_t i = 0; i < BLOCK; i += 4096) {
        uint64_t v;
        memcpy(&v, p + i, sizeof(v));
        BENCH_CHECK(v == off + i, "%s: page at %llu holds %llu", who,
                    (unsigned long long)(off + i), (unsigned long long)v);
    }
}

static void check(cm_status_t st, const char *what)
{
    BENCH_CHECK(st == CM_OK, "%s: %s", what, cm_status_name(st));
}

/* Writes the test file in dir; 1 if a pool accepts it as a DMA device. */
static int make_file_in(const char *dir)
{
    struct statfs sf;
    if (statfs(dir, &sf) != 0 || sf.f_type == 0x01021994 /* tmpfs */)
        return 0;
    snprintf(path, sizeof(path), "%s/capmem-dma-bench-%d.bin", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    uint8_t *buf = malloc(BLOCK);
    BENCH_CHECK(buf != NULL, "malloc");
    for (uint64_t off = 0; off < (uint64_t)nblocks * BLOCK; off += BLOCK) {
        for (uint32_t i = 0; i < BLOCK; i += 8) {
            uint64_t v = (i % 4096 == 0) ? off + i : (off + i) * 0x9e3779b97f4a7c15ull;
            memcpy(buf + i, &v, 8);
        }
        BENCH_CHECK(pwrite(fd, buf, BLOCK, (off_t)off) == (ssize_t)BLOCK, "write %s: %s", path,
                    strerror(errno));
    }
    BENCH_CHECK(fsync(fd) == 0, "fsync");
    close(fd);
    free(buf);
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { 1, BLOCK, 1, 0 };
    check(cm_dma_pool_create(&cfg, &pool), "pool create");
    cm_status_t st = cm_dma_pool_attach(pool, path, CM_DMA_ATTACH_READ);
    cm_handle_close(pool);
    if (st != CM_OK) {
        printf("# %s refused as a DMA device: %s\n", dir, cm_status_name(st));
        unlink(path);
        return 0;
    }
    return 1;
}

static void make_file(void)
{
    const char *dirs[] = { getenv("CAPMEM_BENCH_DIR"), getenv("CAPMEM_DMA_DIR"), "/var/tmp",
                           "/tmp", "." };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (dirs[i] != NULL && make_file_in(dirs[i]))
            return;
    bench_fail("no directory on a filesystem doing O_DIRECT to a device "
               "(set CAPMEM_BENCH_DIR)");
}

/* CPU time (user + system) this process has used, ns. */
static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* What one timed loop cost. */
struct cost {
    uint64_t wall_ns, cpu_ns;
    double runs; /* mean physical runs per buffer, 0 unknown */
};

/* Physically contiguous runs in a buffer's BLOCK bytes: the number of
 * scatter-gather segments the device gets for one request. 0 when the
 * page frame numbers are hidden (they need CAP_SYS_ADMIN). */
static uint32_t phys_runs(const void *addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint64_t prev = 0;
    uint32_t runs = 0;
    for (uint32_t i = 0; i < BLOCK; i += 4096) {
        uint64_t e = 0;
        uintptr_t page = ((uintptr_t)addr + i) / 4096;
        if (pread(fd, &e, sizeof(e), (off_t)(page * sizeof(e))) != (ssize_t)sizeof(e) ||
            (e & (1ull << 63)) == 0 || (e & ((1ull << 55) - 1)) == 0) {
            runs = 0; /* not present, or PFN hidden */
            break;
        }
        uint64_t pfn = e & ((1ull << 55) - 1);
        if (i == 0 || pfn != prev + 1)
            runs++;
        prev = pfn;
    }
    close(fd);
    return runs;
}

/* ---- pread ---- */

static struct cost pread_range(uint32_t first, uint32_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    BENCH_CHECK(fd >= 0, "open: %s", strerror(errno));
    /* Drop the segment's clean pages so the loop reads the disk. */
    BENCH_CHECK(posix_fadvise(fd, (off_t)first * BLOCK, (off_t)n * BLOCK,
                              POSIX_FADV_DONTNEED) == 0, "fadvise");
    uint8_t *buf = malloc(BLOCK);
    BENCH_CHECK(buf != NULL, "malloc");
    memset(buf, 0, BLOCK); /* touched before timing, like every variant */
    struct cost c;
    uint64_t c0 = cpu_ns(), t0 = bench_now_ns();
    for (uint32_t b = first; b < first + n; b++) {
        uint64_t off = (uint64_t)b * BLOCK;
        BENCH_CHECK(pread(fd, buf, BLOCK, (off_t)off) == (ssize_t)BLOCK, "pread");
        verify_block(buf, off, "pread");
    }
    c.wall_ns = bench_now_ns() - t0;
    c.cpu_ns = cpu_ns() - c0;
    c.runs = phys_runs(buf);
    free(buf);
    close(fd);
    return c;
}

/* ---- plain io_uring ---- */

struct uring_ctx {
    struct io_uring ring;
    int fd;
    uint32_t depth;
    struct iovec iov[MAX_DEPTH];
};

/* A ring of its own over the given buffers (the piece's shared pages),
 * registered as fixed buffers. */
static void uring_open(struct uring_ctx *u, uint32_t depth, void *const *bufs)
{
    u->depth = depth;
    BENCH_CHECK(io_uring_queue_init(MAX_DEPTH * 2, &u->ring, 0) == 0, "io_uring_queue_init");
    u->fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    BENCH_CHECK(u->fd >= 0, "open O_DIRECT: %s", strerror(errno));
    for (uint32_t i = 0; i < depth; i++) {
        u->iov[i].iov_base = bufs[i];
        u->iov[i].iov_len = BLOCK;
    }
    BENCH_CHECK(io_uring_register_buffers(&u->ring, u->iov, depth) == 0, "register buffers");
}

static void uring_close(struct uring_ctx *u)
{
    io_uring_queue_exit(&u->ring);
    close(u->fd);
}

static void uring_prep(struct uring_ctx *u, uint32_t i, uint64_t off)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    BENCH_CHECK(sqe != NULL, "no SQE");
    io_uring_prep_read_fixed(sqe, u->fd, u->iov[i].iov_base, BLOCK, off, (int)i);
    sqe->user_data = i;
}

/* Reads blocks [first, first+n) into bufs keeping `depth` in flight.
 * Completions are taken in submission order, as the pool variant takes its
 * fences: wait for the oldest request, noting any other completion that
 * comes first (the pool's wait does the same inside: it drains every
 * completion, then sleeps until the next one). Same order, same sleeps, so
 * the comparison is of the ownership layer, not of two reaping orders. */
static struct cost uring_range(uint32_t depth, void *const *bufs, uint32_t first, uint32_t n)
{
    struct uring_ctx u;
    uring_open(&u, depth, bufs);
    uint64_t off_of[MAX_DEPTH];
    int done_of[MAX_DEPTH] = { 0 };
    uint32_t next = first, done = 0, end = first + n;
    struct cost c;
    uint64_t c0 = cpu_ns(), t0 = bench_now_ns();
    for (uint32_t i = 0; i < u.depth && next < end; i++, next++) {
        off_of[i] = (uint64_t)next * BLOCK;
        uring_prep(&u, i, off_of[i]);
    }
    io_uring_submit(&u.ring);
    for (uint32_t i = 0; done < n; i = (i + 1) % depth) {
        while (!done_of[i]) {
            struct io_uring_cqe *cqe;
            BENCH_CHECK(io_uring_wait_cqe(&u.ring, &cqe) == 0, "wait_cqe");
            uint32_t j = (uint32_t)cqe->user_data;
            BENCH_CHECK(j < depth && cqe->res == (int)BLOCK, "read returned %d", cqe->res);
            done_of[j] = 1;
            io_uring_cqe_seen(&u.ring, cqe);
        }
        done_of[i] = 0;
        verify_block(u.iov[i].iov_base, off_of[i], "io_uring");
        done++;
        if (next < end) {
            off_of[i] = (uint64_t)next++ * BLOCK;
            uring_prep(&u, i, off_of[i]);
            io_uring_submit(&u.ring);
        }
    }
    c.wall_ns = bench_now_ns() - t0;
    c.cpu_ns = cpu_ns() - c0;
    c.runs = 0;
    for (uint32_t i = 0; i < depth; i++)
        c.runs += phys_runs(bufs[i]);
    c.runs /= depth;
    uring_close(&u);
    return c;
}

/* ---- the capmem pool ---- */

/* A pool whose `depth` buffers are acquired, mapped and touched (memset)
 * before any timing. */
struct pool_set {
    cm_handle_t pool;
    uint32_t depth;
    cm_dma_buffer_t buf[MAX_DEPTH];
    void *addr[MAX_DEPTH];
};

static void pool_open(struct pool_set *ps, uint32_t depth, uint32_t options)
{
    cm_dma_pool_config_t cfg = { depth, BLOCK, depth, options };
    ps->depth = depth;
    check(cm_dma_pool_create(&cfg, &ps->pool), "pool create");
    check(cm_dma_pool_attach(ps->pool, path, CM_DMA_ATTACH_READ), "attach");
    for (uint32_t i = 0; i < depth; i++) {
        check(cm_dma_buffer_acquire(ps->pool, &ps->buf[i]), "acquire");
        check(cm_dma_buffer_map(ps->pool, ps->buf[i], &ps->addr[i], NULL), "map");
        memset(ps->addr[i], 0, BLOCK); /* every page touched before timing */
    }
}

/* The same reads through the pool: submit, wait on each fence in order,
 * check the result, map (ownership is back), verify, resubmit. Every
 * buffer is CPU-owned again at the end. */
static struct cost pool_range(struct pool_set *ps, const char *who, uint32_t first, uint32_t n)
{
    const uint32_t depth = ps->depth;
    cm_dma_fence_t fence[MAX_DEPTH];
    uint64_t off_of[MAX_DEPTH];
    uint32_t next = first, done = 0, end = first + n;
    struct cost c;
    uint64_t c0 = cpu_ns(), t0 = bench_now_ns();
    for (uint32_t i = 0; i < depth && next < end; i++, next++) {
        off_of[i] = (uint64_t)next * BLOCK;
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, BLOCK, 0, off_of[i] };
        check(cm_dma_submit(ps->pool, ps->buf[i], &op, &fence[i]), "submit");
    }
    for (uint32_t i = 0; done < n; i = (i + 1) % depth) {
        cm_dma_completion_t comp;
        void *p;
        check(cm_dma_fence_wait(ps->pool, fence[i], CM_TIMEOUT_INFINITE, &comp), "wait");
        BENCH_CHECK(comp.status == CM_OK && comp.bytes == BLOCK, "read: %s, %u bytes",
                    cm_status_name(comp.status), comp.bytes);
        check(cm_dma_buffer_map(ps->pool, ps->buf[i], &p, NULL), "map");
        verify_block(p, off_of[i], who);
        done++;
        if (next < end) {
            off_of[i] = (uint64_t)next++ * BLOCK;
            cm_dma_op_t op = { CM_DMA_OP_READ, 0, BLOCK, 0, off_of[i] };
            check(cm_dma_submit(ps->pool, ps->buf[i], &op, &fence[i]), "submit");
        }
    }
    c.wall_ns = bench_now_ns() - t0;
    c.cpu_ns = cpu_ns() - c0;
    c.runs = 0;
    for (uint32_t i = 0; i < depth; i++)
        c.runs += phys_runs(ps->addr[i]);
    c.runs /= depth;
    return c;
}

/* `shared` is the piece's default pool: io_uring and io_uring' read into
 * its (CPU-owned) buffers' pages, the pool variant through it. The guarded
 * pool needs pages of its own (its mappings change protection). */
static struct cost run_variant(int v, struct pool_set *shared, uint32_t first, uint32_t n)
{
    struct pool_set guarded;
    struct cost c;
    switch (v) {
    case V_URING:
    case V_URING2: return uring_range(shared->depth, shared->addr, first, n);
    case V_POOL: return pool_range(shared, "pool", first, n);
    case V_GUARD:
        pool_open(&guarded, shared->depth, CM_DMA_POOL_CPU_GUARD);
        c = pool_range(&guarded, "guarded", first, n);
        cm_handle_close(guarded.pool);
        return c;
    default: return pread_range(first, n);
    }
}

/* The order of the variants per piece: a Williams design (bench_williams,
 * bench/common.h). A plain rotation had io_uring' follow pread in half the
 * pieces and io_uring and pool never. */
static int williams(uint32_t q, int k)
{
    return bench_williams(NVARIANTS, q, k);
}

/* One comparison at one depth: the file in SEGMENTS pieces, each read by
 * every variant back to back, in an order that changes per piece and per
 * repetition (williams). Records each piece's cost per variant. Each piece gets a
 * fresh default pool whose pages the pool and both io_uring variants
 * share, so the physical layout of the buffers, which decides the
 * device's speed here (docs/dma.md), is the same on both sides. */
static void compare(uint32_t depth, int rep, struct cost seg[SEGMENTS][NVARIANTS])
{
    const uint32_t per = nblocks / SEGMENTS;
    for (uint32_t s = 0; s < SEGMENTS; s++) {
        uint32_t first = s * per, n = s + 1 == SEGMENTS ? nblocks - first : per;
        struct pool_set shared;
        pool_open(&shared, depth, 0);
        uint32_t q = ((uint32_t)rep * SEGMENTS + s) % (2 * NVARIANTS);
        for (int k = 0; k < NVARIANTS; k++) {
            int v = williams(q, k);
            seg[s][v] = run_variant(v, &shared, first, n);
        }
        cm_handle_close(shared.pool);
    }
}

/* One repetition's figures for variant v against io_uring, from its
 * pieces: the median over pieces of the paired throughput overhead
 * (1 - t(io_uring) / t(v), %) and CPU ratio (cpu(v) / cpu(io_uring)). A
 * burst of load from another process on this shared machine hits one
 * variant of one piece; the median over pieces drops it, a sum would not. */
static void paired(struct cost seg[SEGMENTS][NVARIANTS], int v, double *ovh, double *ratio)
{
    double o[SEGMENTS], x[SEGMENTS];
    for (int s = 0; s < SEGMENTS; s++) {
        o[s] = (1.0 - (double)seg[s][V_URING].wall_ns / (double)seg[s][v].wall_ns) * 100.0;
        x[s] = (double)seg[s][v].cpu_ns / (double)seg[s][V_URING].cpu_ns;
    }
    *ovh = bench_spread(o, SEGMENTS).median;
    *ratio = bench_spread(x, SEGMENTS).median;
}

static void print_spread(const char *fmt, const double *v, int n)
{
    struct bench_spread s = bench_spread(v, (uint32_t)n);
    printf(fmt, s.min, s.median, s.max);
}

static void goal_line(const char *name, uint32_t depth, const double *v, int n, double bound,
                      const char *unit)
{
    char full[96];
    struct bench_spread s = bench_spread(v, (uint32_t)n);
    snprintf(full, sizeof(full), "%s_%u", name, depth);
    bench_goal_line(full, s.median <= bound, s, unit, NULL);
}

int main(void)
{
    const char *mib = getenv("CAPMEM_BENCH_DMA_MIB");
    uint32_t file_mib = mib != NULL ? (uint32_t)strtoul(mib, NULL, 10) : FILE_MIB_DEFAULT;
    BENCH_CHECK(file_mib >= SEGMENTS && file_mib <= 65536, "CAPMEM_BENCH_DMA_MIB: %u..65536",
                SEGMENTS);
    nblocks = file_mib;
    bench_set_deadline(900);
    uint64_t t_start = bench_now_ns();
    make_file();
    printf("dma bench: %s, %u MiB read in 1 MiB blocks at 1, 4, 16 in flight by io_uring\n"
           "(plain, registered buffers), pool (default capmem pool), guarded\n"
           "(CM_DMA_POOL_CPU_GUARD), pread (buffered) and io_uring' (the baseline again: the\n"
           "noise floor). %d segments per pass, each read by the 5 variants back to back in\n"
           "an order balanced for position and predecessor; the whole comparison %d times;\n"
           "figures are min / median / max over the %d repetitions. Overhead and CPU ratio\n"
           "of a repetition: median over its pieces of the paired figure. Buffers touched\n"
           "before timing on every side; io_uring, io_uring' and pool read into the same\n"
           "pages (the piece's pool buffers), both take completions in submission order.\n\n",
           path, file_mib, SEGMENTS, REPS, REPS);
    fflush(stdout);
    static struct cost cost[REPS][NDEPTHS][SEGMENTS][NVARIANTS];
    for (int r = 0; r < REPS; r++)
        for (uint32_t d = 0; d < NDEPTHS; d++)
            compare(depths[d], r, cost[r][d]);
    unlink(path);

    const double gib = (double)nblocks * BLOCK / (double)(1u << 30);
    double ovh[NDEPTHS][NVARIANTS][REPS], ratio[NDEPTHS][NVARIANTS][REPS];
    printf("%-3s %-9s %-22s %-25s %-22s %-22s %s\n", "N", "variant", "GiB/s",
           "CPU us per 1 MiB I/O", "tput overhead %", "CPU vs io_uring", "phys runs");
    for (uint32_t d = 0; d < NDEPTHS; d++) {
        for (int v = 0; v < NVARIANTS; v++) {
            double g[REPS], cpu[REPS], runs[REPS * SEGMENTS];
            for (int r = 0; r < REPS; r++) {
                for (int k = 0; k < SEGMENTS; k++)
                    runs[r * SEGMENTS + k] = cost[r][d][k][v].runs;
                uint64_t wall = 0, cpu_sum = 0;
                for (int k = 0; k < SEGMENTS; k++) {
                    wall += cost[r][d][k][v].wall_ns;
                    cpu_sum += cost[r][d][k][v].cpu_ns;
                }
                g[r] = gib / ((double)wall / 1e9);
                cpu[r] = (double)cpu_sum / 1000.0 / nblocks;
                paired(cost[r][d], v, &ovh[d][v][r], &ratio[d][v][r]);
            }
            printf("%-3u %-9s ", depths[d], vnames[v]);
            print_spread("%5.2f %5.2f %5.2f       ", g, REPS);
            print_spread("%7.1f %7.1f %7.1f   ", cpu, REPS);
            if (v == V_URING) {
                printf("%-22s %-22s ", "(baseline)", "(baseline)");
            } else {
                print_spread("%6.1f %6.1f %6.1f   ", ovh[d][v], REPS);
                print_spread("%5.2fx %5.2fx %5.2fx   ", ratio[d][v], REPS);
            }
            print_spread("%3.0f %3.0f %3.0f\n", runs, REPS * SEGMENTS);
        }
    }
    printf("\nio_uring GiB/s by physical runs per buffer (median over pieces, all repetitions):");
    for (uint32_t d = 0; d < NDEPTHS; d++) {
        static const double lim[] = { 64, 192, 256 };
        printf("\n  N=%-2u", depths[d]);
        for (int b = 0; b < 3; b++) {
            double g[REPS * SEGMENTS];
            uint32_t k = 0;
            for (int r = 0; r < REPS; r++)
                for (int p = 0; p < SEGMENTS; p++) {
                    const struct cost *c = &cost[r][d][p][V_URING];
                    if (c->runs > (b ? lim[b - 1] : 0) && c->runs <= lim[b])
                        g[k++] = (double)(p + 1 == SEGMENTS ? nblocks - p * (nblocks / SEGMENTS)
                                                            : nblocks / SEGMENTS) *
                                 BLOCK / (double)(1u << 30) / ((double)c->wall_ns / 1e9);
                }
            if (k == 0)
                printf("  %3.0f..%3.0f runs: -", b ? lim[b - 1] + 1 : 1, lim[b]);
            else
                printf("  %3.0f..%3.0f runs: %5.2f (%u pieces)", b ? lim[b - 1] + 1 : 1, lim[b],
                       bench_spread(g, k).median, k);
        }
    }
    printf("\n\nguarded mode's cost vs plain io_uring (median): ");
    for (uint32_t d = 0; d < NDEPTHS; d++) {
        struct bench_spread o = bench_spread(ovh[d][V_GUARD], REPS);
        struct bench_spread x = bench_spread(ratio[d][V_GUARD], REPS);
        printf("%sN=%u %.1f%% throughput, %.2fx CPU", d ? "; " : "", depths[d], o.median,
               x.median);
    }
    printf("\nnoise floor, io_uring' vs io_uring (min..max over repetitions): ");
    for (uint32_t d = 0; d < NDEPTHS; d++) {
        struct bench_spread o = bench_spread(ovh[d][V_URING2], REPS);
        struct bench_spread x = bench_spread(ratio[d][V_URING2], REPS);
        printf("%sN=%u %.1f..%.1f%% throughput, %.2f..%.2fx CPU", d ? "; " : "", depths[d],
               o.min, o.max, x.min, x.max);
    }
    printf("\nrun time %.0f s\n\n", (double)(bench_now_ns() - t_start) / 1e9);
    for (uint32_t d = 0; d < NDEPTHS; d++)
        goal_line("dma_default_throughput_overhead", depths[d], ovh[d][V_POOL], REPS, 5.0, "%");
    for (uint32_t d = 0; d < NDEPTHS; d++)
        goal_line("dma_default_cpu_per_io", depths[d], ratio[d][V_POOL], REPS, 1.2, "x");
    return 0;
}
