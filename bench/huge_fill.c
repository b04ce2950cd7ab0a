/* SPDX-License-Identifier: MIT */
/* bench/huge_fill: how much filling a fresh VMO costs on this machine, with
 * huge and with base pages, and what the machine charges for the two
 * things the one-shot share's cost is made of: touching fresh memory and
 * making a system call (issue 9; docs/bench.md "What this machine charges
 * for fresh memory and for a system call").
 *
 * Cells, for one size (default 256 MiB), alternated in rounds in the
 * orders of a Williams design (bench_williams: each follows each other
 * equally often); each times one create + cm_vmo_write of the whole size + close,
 * in this process, from a pre-faulted private source (bench_alloc_buffer:
 * on transparent huge pages where the kernel grants them):
 *   H  CM_VMO_HUGE (written through a mapping: hugetlbfs has no pwrite);
 *   B  CM_VMO_BASE_PAGES (pwrite);
 *   H4 H from a source held on 4 KiB pages (MADV_NOHUGEPAGE): on a guest
 *      whose hypervisor shadows page tables, user-space reads of a 4 KiB-
 *      page source cost what H4 minus H shows (docs/bench.md, "A 4 KiB-
 *      page source costs what the hypervisor wants").
 * The whole comparison runs 3 times. Per cell: median [min..max] over the
 * runs of each run's median, and the fastest and slowest single fill: on a
 * machine whose memory costs the same at every touch the two agree.
 *
 * Machine figures, same run: one system call (getppid), and per 4 KiB
 * page the first write through a fresh private mapping (a page fault), a
 * pwrite into a fresh memfd (pages allocated by the kernel), and a rewrite
 * of pages already faulted in.
 *
 * Root: configures a hugetlb pool for the size (hugepool.h restores it on
 * every exit path). Without root or pages, H falls back to base pages and
 * says so (cm_vmo_get_info page_size). Usage: huge_fill [--size MiB]
 * [--rounds N] [--only huge|base|huge4k] (one cell alone: back to back, nothing
 * else touching memory between its fills). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "common.h"
#include "hugepool.h"

#define RUNS 3
#define MAX_ROUNDS 64
#define TOUCH_BYTES (64u << 20)

enum { C_H, C_B, C_H4, NCELL };
static const char *const cell_names[NCELL] = { "H  CM_VMO_HUGE", "B  CM_VMO_BASE_PAGES",
                                               "H4 CM_VMO_HUGE, 4K source" };
static const uint32_t cell_options[NCELL] = { CM_VMO_HUGE, CM_VMO_BASE_PAGES, CM_VMO_HUGE };

static void ok(cm_status_t st, const char *what)
{
    BENCH_CHECK(st == CM_OK, "%s: %s", what, cm_status_name(st));
}

/* One create + write + close; returns the ns it took and the page size the
 * VMO got. */
static uint64_t fill_once(uint64_t size, uint32_t options, const void *src, uint32_t *page)
{
    cm_handle_t h;
    cm_vmo_info_t info;
    uint64_t t0 = bench_now_ns();
    ok(cm_vmo_create(size, options, &h), "cm_vmo_create");
    ok(cm_vmo_write(h, src, 0, size), "cm_vmo_write");
    uint64_t t1 = bench_now_ns();
    ok(cm_vmo_get_info(h, &info), "cm_vmo_get_info");
    uint64_t t2 = bench_now_ns();
    ok(cm_handle_close(h), "cm_handle_close");
    uint64_t t3 = bench_now_ns();
    if (page != NULL)
        *page = info.page_size;
    return (t1 - t0) + (t3 - t2);
}

static double median_of(uint64_t *v, uint32_t n)
{
    struct bench_pct p;
    bench_percentiles(v, n, &p);
    return p.p50;
}

/* ns per 4 KiB page of a TOUCH_BYTES region: [0] first write through a
 * fresh private mapping; [1] the same again, in pages [0] just freed;
 * [2] a write into a fresh memfd (pages the kernel allocates, no fault);
 * [3] the same again, in pages [2] just freed; [4] a rewrite of pages
 * already faulted in; [5] the first read (one word per page) through a new
 * read-only MAP_POPULATE mapping of that written memfd, as a consumer maps
 * a received VMO with CM_MAP_POPULATE; [6] the second read of it. [0]
 * against [1] and [2] against [3] show what the machine charges for memory
 * not used recently over memory reused at once; [5] against [6] what a
 * page first touched through a new mapping costs when no fault is left. */
#define NTOUCH 7
static void touch_costs(double out[NTOUCH])
{
    size_t n = TOUCH_BYTES, pages = n / 4096;
    char *src = malloc(n);
    BENCH_CHECK(src != NULL, "malloc");
    memset(src, 7, n);
    for (int k = 0; k < 2; k++) {
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        BENCH_CHECK(p != MAP_FAILED, "mmap");
        uint64_t t0 = bench_now_ns();
        memcpy(p, src, n);
        uint64_t t1 = bench_now_ns();
        memcpy(p, src, n);
        uint64_t t2 = bench_now_ns();
        munmap(p, n);
        out[k] = (double)(t1 - t0) / (double)pages;
        if (k == 1)
            out[4] = (double)(t2 - t1) / (double)pages;
    }
    for (int k = 0; k < 2; k++) {
        int fd = memfd_create("huge_fill", MFD_CLOEXEC);
        BENCH_CHECK(fd >= 0, "memfd_create");
        uint64_t t0 = bench_now_ns();
        BENCH_CHECK(bench_write_all(fd, src, n) == 0, "write");
        uint64_t t1 = bench_now_ns();
        out[2 + k] = (double)(t1 - t0) / (double)pages;
        if (k == 1) {
            const volatile uint64_t *m = mmap(NULL, n, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
            BENCH_CHECK(m != MAP_FAILED, "mmap MAP_POPULATE");
            uint64_t sum = 0;
            for (int pass = 0; pass < 2; pass++) {
                uint64_t t2 = bench_now_ns();
                for (size_t i = 0; i < n / 8; i += 4096 / 8)
                    sum += m[i];
                out[5 + pass] = (double)(bench_now_ns() - t2) / (double)pages;
            }
            BENCH_CHECK(sum == 2 * pages * 0x0707070707070707ull, "read back a wrong word");
            munmap((void *)(uintptr_t)m, n);
        }
        close(fd);
    }
    free(src);
}

static double syscall_ns(void)
{
    enum { N = 100000 };
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < N; i++)
        syscall(SYS_getppid);
    return (double)(bench_now_ns() - t0) / N;
}

int main(int argc, char **argv)
{
    uint64_t mib = 256;
    uint32_t rounds = 6;
    int only = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            mib = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = strcmp(argv[++i], "huge") == 0 ? C_H
                   : strcmp(argv[i], "base") == 0 ? C_B
                   : strcmp(argv[i], "huge4k") == 0 ? C_H4 : -2;
        else
            only = -2;
        BENCH_CHECK(only != -2, "usage: %s [--size MiB] [--rounds N] [--only huge|base|huge4k]",
                    argv[0]);
    }
    BENCH_CHECK(mib >= 2 && mib <= 4096 && mib % 2 == 0, "--size: an even MiB count, 2..4096");
    BENCH_CHECK(rounds >= 1 && rounds <= MAX_ROUNDS, "--rounds: 1..%d", MAX_ROUNDS);
    bench_set_deadline(600);
    uint64_t size = mib << 20;
    unsigned long pages = (unsigned long)(size / CM_HUGE_PAGE_SIZE) + 4;
    if (geteuid() == 0 && hugepool_get() < (long)pages)
        BENCH_CHECK(hugepool_set(pages) == 0, "setting the hugetlb pool to %lu pages", pages);
    printf("bench/huge_fill: %llu MiB, %u rounds x %d runs; hugetlb pool: %llu free pages\n",
           (unsigned long long)mib, rounds, RUNS, (unsigned long long)hugepool_free());

    uint64_t thp_kb;
    char *src = bench_alloc_buffer(size, &thp_kb);
    memset(src, 0x5a, size);
    char *src4 = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(src4 != MAP_FAILED, "mmap of the 4 KiB-page source");
    (void)madvise(src4, size, MADV_NOHUGEPAGE);
    memset(src4, 0x5a, size);
    printf("source: %llu of %llu MiB on transparent huge pages; H4's on 4 KiB pages\n",
           (unsigned long long)(thp_kb >> 10), (unsigned long long)mib);
    uint32_t page_h = 0;
    fill_once(size, CM_VMO_HUGE, src, NULL); /* the pool's pages touched once */

    double med[NCELL][RUNS];
    uint64_t lo[NCELL], hi[NCELL];
    for (int c = 0; c < NCELL; c++) {
        lo[c] = UINT64_MAX;
        hi[c] = 0;
    }
    for (int run = 0; run < RUNS; run++) {
        uint64_t t[NCELL][MAX_ROUNDS];
        for (uint32_t r = 0; r < rounds; r++) {
            for (int k = 0; k < (only >= 0 ? 1 : NCELL); k++) {
                int c = only >= 0 ? only
                                  : bench_williams(NCELL, (uint32_t)run * rounds + r, k);
                uint64_t ns = fill_once(size, cell_options[c], c == C_H4 ? src4 : src,
                                        c == C_H ? &page_h : NULL);
                t[c][r] = ns;
                lo[c] = ns < lo[c] ? ns : lo[c];
                hi[c] = ns > hi[c] ? ns : hi[c];
            }
        }
        for (int c = 0; c < NCELL; c++)
            med[c][run] = only < 0 || c == only ? median_of(t[c], rounds) / 1e6 : 0;
    }
    free(src);
    munmap(src4, size);

    printf("\ncreate + write + close of %llu MiB, ms: median [min..max] over %d runs; "
           "fastest, slowest single fill\n", (unsigned long long)mib, RUNS);
    for (int c = 0; c < NCELL; c++) {
        if (only >= 0 && c != only)
            continue;
        struct bench_spread s = bench_spread(med[c], RUNS);
        printf("  %-27s %9.1f [%.1f..%.1f]   %.1f, %.1f\n", cell_names[c], s.median, s.min,
               s.max, (double)lo[c] / 1e6, (double)hi[c] / 1e6);
    }
    printf("  pages H got: %u B%s\n", page_h,
           page_h == CM_HUGE_PAGE_SIZE ? "" : " (fell back: no hugetlb pool)");

    double tc[RUNS][NTOUCH], sc[RUNS];
    for (int run = 0; run < RUNS; run++) {
        touch_costs(tc[run]);
        sc[run] = syscall_ns();
    }
    double col[RUNS];
    static const char *const touch_names[NTOUCH] = {
        "first write, fresh private mapping", "  again, in the pages just freed",
        "write into a fresh memfd", "  again, in the pages just freed",
        "rewrite of faulted-in pages", "first read, new populated mapping",
        "  second read of it" };
    printf("\nmachine: ns per 4 KiB page, median [min..max] over %d runs\n", RUNS);
    for (int k = 0; k < NTOUCH; k++) {
        for (int run = 0; run < RUNS; run++)
            col[run] = tc[run][k];
        struct bench_spread s = bench_spread(col, RUNS);
        printf("  %-38s %8.0f [%.0f..%.0f]\n", touch_names[k], s.median, s.min, s.max);
    }
    struct bench_spread ss = bench_spread(sc, RUNS);
    printf("machine: one system call (getppid): %.0f ns [%.0f..%.0f]\n", ss.median, ss.min,
           ss.max);
    return 0;
}
