/* SPDX-License-Identifier: MIT */
/* bench/sbuf: SharedBuffer against a UNIX stream socket and iceoryx, with
 * the raw futex and cache-line floors (issue 10). Method, figures and
 * their reading: docs/bench.md "bench/sbuf".
 *
 * Cells: for payloads of 64 B, 4 KiB, 64 KiB, 1 MiB and 16 MiB, both
 * processes pinned to one CPU and to two CPUs, two producer modes (copy the
 * payload from a private buffer into the slot; generate it in place), two
 * metrics: latency (round trip / 2, median of the round trips of one cell)
 * and one-way throughput (MB/s from the producer's first timed message to
 * the consumer's last). The consumer sums every 64-bit word of every
 * message and checks the sum (bench/sbuf_run.c); a wrong sum or any failed
 * call ends the run with status 1.
 *
 * Every cell is a fresh producer process P (pinned) that sets up its
 * transport and forks the consumer C (pinned); both prepare (buffers
 * touched, connections made) and run warm-up messages before anything is
 * timed, the same way for every variant. The variants of a cell are
 * interleaved (in the orders of a Williams design, bench_williams: each
 * follows each other equally often), and the whole comparison (floors
 * included) is repeated 3 times: each figure is median [min..max] over the
 * repetitions.
 *
 * Usage: sbuf [--quick] [--no-iox] [--break-sum] [--plot-data FILE]
 *   --quick      few messages per cell, no iceoryx: proves the bench runs
 *                and prints well-formed output (tests/host/sbuf_bench_test.sh);
 *                its figures mean nothing.
 *   --no-iox     skip iceoryx (its goals print NOT MET (not measured)).
 *   --break-sum  every consumer expects a wrong sum: the run must fail.
 *   --plot-data  write the medians and spreads for bench/sbuf.gp.
 *   --cell VARIANT,SIZE,CPUS,METRIC,MODE[,busy]  runs one cell with the full
 *                run's counts and prints its figure, for profiling one side
 *                of a comparison (strace -f -c, valgrind): VARIANT capmem,
 *                socket, iceoryx (a RouDi must run), futex, cacheline or
 *                copybound (the copy-mode bound: METRIC tput, MODE copy);
 *                SIZE in bytes; CPUS 1 or 2; METRIC lat or tput; MODE copy
 *                or inplace. */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "sbuf.h"

#define REPS 3
#define NSIZES 5
#define NPLC 2
#define TPUT_SLOTS 4u

static const uint32_t sizes[NSIZES] = { 64, 4096, 65536, 1u << 20, 16u << 20 };
static const char *const size_names[NSIZES] = { "64B", "4KiB", "64KiB", "1MiB", "16MiB" };
static const char *const vnames[SB_NVARIANT] = { "capmem", "socket", "iceoryx" };
static const char *const mnames[SB_NMODE] = { "copy", "in place" };
static const char *const plc_names[NPLC] = { "1cpu", "2cpu" };

/* [placement][size][metric][mode][variant][rep]; NAN = not measured. */
static double res[NPLC][NSIZES][2][SB_NMODE][SB_NVARIANT][REPS];
static double floor_futex[NPLC][REPS], floor_line[REPS], busy_poll[REPS];
/* The copy-mode bound, MB/s, for the sizes of the 3x-socket goal (from
 * BOUND_FROM); NAN below. */
#define BOUND_FROM 3
static double copy_bound[NPLC][NSIZES][REPS];

static struct sb_shared *shared;
static pid_t cell_pid = -1;
static int quick;

static void kill_cell(void)
{
    if (cell_pid > 0) {
        kill(-cell_pid, SIGKILL);
        waitpid(cell_pid, NULL, 0);
        cell_pid = -1;
    }
}

/* In P: a consumer that failed (a wrong sum, a failed call) ends P at once,
 * instead of leaving P waiting for a reply that never comes. Peeks with
 * WNOWAIT, so sb_reap still collects the status of a clean exit. */
static void on_child(int sig)
{
    siginfo_t si;
    (void)sig;
    memset(&si, 0, sizeof(si));
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0 &&
        (si.si_code != CLD_EXITED || si.si_status != 0)) {
        static const char msg[] = "bench: FAILED: consumer process failed\n";
        (void)!write(2, msg, sizeof(msg) - 1);
        _exit(1);
    }
}

/* Runs one cell in a fresh process group (P and C), returns its result. */
static double run_cell(struct sb_cell *c, void (*fn)(const struct sb_cell *, struct sb_shared *))
{
    static uint32_t next_id;
    c->id = next_id++;
    memset(shared, 0, sizeof(*shared));
    fflush(NULL);
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGCHLD, on_child);
        sb_pin(c->cpu_p);
        fn(c, shared);
        fflush(NULL);
        _exit(0);
    }
    setpgid(pid, pid); /* either side may win the race; both set the same */
    cell_pid = pid;
    sb_reap(pid, "cell producer");
    cell_pid = -1;
    BENCH_CHECK(shared->result > 0, "cell %s size %u: no result", vnames[c->variant], c->size);
    return shared->result;
}

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

static void cell_counts(struct sb_cell *c)
{
    if (quick) {
        c->count = 4;
        c->warmup = c->metric == SB_LAT ? 2 : TPUT_SLOTS + 1;
        return;
    }
    if (c->metric == SB_LAT) {
        c->count = clamp_u32((32ull << 20) / c->size, 8, 2000);
        c->warmup = c->count / 10 < 4 ? 4 : c->count / 10;
    } else {
        c->count = clamp_u32((256ull << 20) / c->size, 16, 20000);
        c->warmup = TPUT_SLOTS + 2 > c->count / 10 ? TPUT_SLOTS + 2 : c->count / 10;
    }
}

static void (*const run_fns[SB_NVARIANT])(const struct sb_cell *, struct sb_shared *) = {
    sb_run_capmem, sb_run_socket, sb_run_iox
};

/* The first two CPUs this process may run on. */
static int pick_cpus(int cpus[2])
{
    cpu_set_t set;
    BENCH_CHECK(sched_getaffinity(0, sizeof(set), &set) == 0, "sched_getaffinity");
    int n = 0;
    for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
        if (CPU_ISSET(i, &set))
            cpus[n++] = i;
    return n;
}

static struct bench_spread spread(const double *v)
{
    for (int r = 0; r < REPS; r++)
        if (isnan(v[r]))
            return (struct bench_spread){ NAN, NAN, NAN };
    return bench_spread(v, REPS);
}

static void print_fig(const double *v, const char *fmt)
{
    struct bench_spread s = spread(v);
    if (isnan(s.median)) {
        printf(" n/m |");
        return;
    }
    printf(" ");
    printf(fmt, s.median);
    printf(" [");
    printf(fmt, s.min);
    printf("..");
    printf(fmt, s.max);
    printf("] |");
}

static void print_table(int nplc)
{
    printf("\nLatency: round trip / 2, us; throughput: MB/s (10^6 B/s); "
           "median [min..max] of %d repetitions; n/m = not measured.\n\n", REPS);
    printf("| CPUs | size | producer | lat capmem | lat socket | lat iceoryx | "
           "tput capmem | tput socket | tput iceoryx |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < nplc; p++)
        for (int s = 0; s < NSIZES; s++)
            for (int m = 0; m < SB_NMODE; m++) {
                printf("| %s | %s | %s |", plc_names[p], size_names[s], mnames[m]);
                for (int v = 0; v < SB_NVARIANT; v++) {
                    double us[REPS];
                    for (int r = 0; r < REPS; r++)
                        us[r] = res[p][s][SB_LAT][m][v][r] / 1e3;
                    print_fig(us, "%.2f");
                }
                for (int v = 0; v < SB_NVARIANT; v++)
                    print_fig(res[p][s][SB_TPUT][m][v], "%.0f");
                printf("\n");
            }
    printf("\nCopy mode against its bound (one process copies each message into a slot "
           "and reads it: no transport; bench/sbuf_floor.c), from 1 MiB: bound MB/s; capmem "
           "copy / bound; bound / socket copy (the most any copy-mode transport can reach "
           "against the socket here); capmem in place / socket in place.\n\n"
           "| copy mode | CPUs | size | bound MB/s | capmem copy / bound | bound / socket copy | "
           "in place: capmem / socket |\n|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < nplc; p++)
        for (int s = BOUND_FROM; s < NSIZES; s++) {
            double e[REPS], q[REPS], ip[REPS];
            for (int r = 0; r < REPS; r++) {
                e[r] = res[p][s][SB_TPUT][SB_COPY][SB_CAPMEM][r] / copy_bound[p][s][r];
                q[r] = copy_bound[p][s][r] / res[p][s][SB_TPUT][SB_COPY][SB_SOCKET][r];
                ip[r] = res[p][s][SB_TPUT][SB_INPLACE][SB_CAPMEM][r] /
                        res[p][s][SB_TPUT][SB_INPLACE][SB_SOCKET][r];
            }
            printf("| bound | %s | %s |", plc_names[p], size_names[s]);
            print_fig(copy_bound[p][s], "%.0f");
            print_fig(e, "%.2f");
            print_fig(q, "%.2f");
            print_fig(ip, "%.2f");
            printf("\n");
        }
    printf("\nFloors at 64 B (round trip, us):\n\n| floor | CPUs | round trip |\n|---|---|---|\n");
    for (int p = 0; p < nplc; p++) {
        double us[REPS];
        for (int r = 0; r < REPS; r++)
            us[r] = floor_futex[p][r] / 1e3;
        printf("| raw futex ping-pong | %s |", plc_names[p]);
        print_fig(us, "%.2f");
        printf("\n");
    }
    if (nplc == NPLC) {
        double a[REPS], b[REPS];
        for (int r = 0; r < REPS; r++) {
            a[r] = floor_line[r] / 1e3;
            b[r] = busy_poll[r] / 1e3;
        }
        printf("| raw cache-line ping-pong | 2cpu |");
        print_fig(a, "%.3f");
        printf("\n| capmem CM_SBUF_BUSY_POLL (copy) | 2cpu |");
        print_fig(b, "%.3f");
        printf("\n");
    }
}

/* Ratio per repetition of a / b, the worse of the two producer modes
 * (higher when lower_better, else lower) by median. */
static struct bench_spread worst_ratio(int p, int s, int metric, int va, int vb, int lower_better)
{
    struct bench_spread worst = { NAN, NAN, NAN };
    for (int m = 0; m < SB_NMODE; m++) {
        double q[REPS];
        for (int r = 0; r < REPS; r++)
            q[r] = res[p][s][metric][m][va][r] / res[p][s][metric][m][vb][r];
        struct bench_spread sp = spread(q);
        if (isnan(sp.median))
            return sp;
        if (isnan(worst.median) || (lower_better ? sp.median > worst.median
                                                 : sp.median < worst.median))
            worst = sp;
    }
    return worst;
}

static void print_goals(int nplc, int have_iox, const char *iox_why)
{
    char name[96];
    printf("\n");
    for (int p = 0; p < NPLC; p++)
        for (int s = 0; s < NSIZES; s++)
            for (int metric = 0; metric < 2; metric++) {
                snprintf(name, sizeof(name), "sbuf_%s_vs_iceoryx_%s_%s",
                         metric == SB_LAT ? "latency" : "throughput", plc_names[p],
                         size_names[s]);
                if (p >= nplc) {
                    bench_goal_unmeasured(name, "fewer than 2 CPUs available");
                    continue;
                }
                if (!have_iox) {
                    bench_goal_unmeasured(name, iox_why);
                    continue;
                }
                int lat = metric == SB_LAT;
                struct bench_spread w = worst_ratio(p, s, metric, SB_CAPMEM, SB_IOX, lat);
                int met = lat ? w.median <= 1.0 : w.median >= 1.0;
                bench_goal_line(name, met, w, "x",
                                lat ? "capmem/iceoryx latency, worse mode; met at <= 1"
                                    : "capmem/iceoryx throughput, worse mode; met at >= 1");
            }
    for (int p = 0; p < NPLC; p++)
        for (int s = 3; s < NSIZES; s++) {
            snprintf(name, sizeof(name), "sbuf_throughput_3x_socket_%s_%s", plc_names[p],
                     size_names[s]);
            if (p >= nplc) {
                bench_goal_unmeasured(name, "fewer than 2 CPUs available");
                continue;
            }
            struct bench_spread w = worst_ratio(p, s, SB_TPUT, SB_CAPMEM, SB_SOCKET, 0);
            double q[REPS];
            for (int r = 0; r < REPS; r++)
                q[r] = copy_bound[p][s][r] / res[p][s][SB_TPUT][SB_COPY][SB_SOCKET][r];
            struct bench_spread b = spread(q);
            char note[160];
            snprintf(note, sizeof(note),
                     "capmem/socket throughput, worse mode; met at >= 3; copy-mode bound/socket "
                     "%.2fx [%.2fx..%.2fx]", b.median, b.min, b.max);
            bench_goal_line(name, w.median >= 3.0, w, "x", note);
        }
    for (int p = 0; p < NPLC; p++) {
        snprintf(name, sizeof(name), "sbuf_blocking_rtt_vs_futex_%s_64B", plc_names[p]);
        if (p >= nplc) {
            bench_goal_unmeasured(name, "fewer than 2 CPUs available");
            continue;
        }
        double q[REPS];
        for (int r = 0; r < REPS; r++)
            q[r] = 2 * res[p][0][SB_LAT][SB_COPY][SB_CAPMEM][r] / floor_futex[p][r];
        struct bench_spread w = spread(q);
        bench_goal_line(name, w.median <= 1.5, w, "x",
                        "capmem blocking round trip / raw futex ping-pong; met at <= 1.5");
    }
    if (nplc < NPLC) {
        bench_goal_unmeasured("sbuf_busy_poll_rtt_vs_cacheline_2cpu_64B",
                              "fewer than 2 CPUs available");
        return;
    }
    double q[REPS];
    for (int r = 0; r < REPS; r++)
        q[r] = busy_poll[r] / floor_line[r];
    struct bench_spread w = spread(q);
    bench_goal_line("sbuf_busy_poll_rtt_vs_cacheline_2cpu_64B", w.median <= 2.0, w, "x",
                    "capmem busy-poll round trip / raw cache-line ping-pong; met at <= 2");
}

static void write_plot_data(const char *path, int nplc, const char *title)
{
    FILE *f = fopen(path, "w");
    BENCH_CHECK(f != NULL, "%s: %s", path, strerror(errno));
    fprintf(f, "# title: %s\n", title);
    fprintf(f, "# one block per placement (1cpu, 2cpu); columns: size, then latency us "
               "(rtt/2) and throughput MB/s, each median min max, for "
               "capmem copy, capmem in place, socket copy, socket in place, "
               "iceoryx copy, iceoryx in place\n");
    for (int p = 0; p < NPLC; p++) {
        fprintf(f, "# placement %s\n", plc_names[p]);
        for (int s = 0; s < NSIZES; s++) {
            fprintf(f, "%u", sizes[s]);
            for (int metric = 0; metric < 2; metric++)
                for (int v = 0; v < SB_NVARIANT; v++)
                    for (int m = 0; m < SB_NMODE; m++) {
                        struct bench_spread sp = { NAN, NAN, NAN };
                        if (p < nplc)
                            sp = spread(res[p][s][metric][m][v]);
                        double k = metric == SB_LAT ? 1e3 : 1;
                        fprintf(f, " %g %g %g", sp.median / k, sp.min / k, sp.max / k);
                    }
            fprintf(f, "\n");
        }
        fprintf(f, "\n\n");
    }
    BENCH_CHECK(fclose(f) == 0, "write %s", path);
}

static void machine_line(char *out, size_t len, int ncpu)
{
    char model[128] = "unknown CPU", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && c != NULL) {
            snprintf(model, sizeof(model), "%s", c + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    snprintf(out, len, "%s, %ld CPUs online, %d usable here", model,
             sysconf(_SC_NPROCESSORS_ONLN), ncpu);
}

static int run_one(const char *spec, const int cpus[2], int ncpu)
{
    char v[16], metric[8], mode[16], busy[8] = "";
    unsigned size, ncpus;
    if (sscanf(spec, "%15[a-z],%u,%u,%7[a-z],%15[a-z],%7s", v, &size, &ncpus, metric, mode,
               busy) < 5 || size == 0 || size % 8 != 0 || (ncpus != 1 && ncpus != 2) ||
        (ncpus == 2 && ncpu < 2)) {
        fprintf(stderr, "--cell: bad spec '%s' (or fewer than 2 CPUs)\n", spec);
        return 2;
    }
    struct sb_cell c = { .mode = strcmp(mode, "copy") == 0 ? SB_COPY : SB_INPLACE,
                         .metric = strcmp(metric, "lat") == 0 ? SB_LAT : SB_TPUT,
                         .busy_poll = strcmp(busy, "busy") == 0, .size = size,
                         .slots = TPUT_SLOTS, .cpu_p = cpus[0],
                         .cpu_c = ncpus == 2 ? cpus[1] : cpus[0] };
    void (*fn)(const struct sb_cell *, struct sb_shared *) = NULL;
    for (int i = 0; i < SB_NVARIANT; i++)
        if (strcmp(v, vnames[i]) == 0)
            fn = run_fns[c.variant = i];
    if (strcmp(v, "futex") == 0 || strcmp(v, "cacheline") == 0) {
        fn = v[0] == 'f' ? sb_run_futex : sb_run_cacheline;
        c.size = 64;
        c.metric = SB_LAT;
    }
    if (strcmp(v, "copybound") == 0) {
        fn = sb_run_copybound;
        c.metric = SB_TPUT;
        c.mode = SB_COPY;
    }
    BENCH_CHECK(fn != NULL, "--cell: unknown variant %s", v);
    cell_counts(&c);
    double r = run_cell(&c, fn);
    if (c.metric == SB_LAT)
        printf("%s: %.3f us (%s)\n", spec, r / 1e3,
               fn == sb_run_futex || fn == sb_run_cacheline ? "round trip" : "round trip / 2");
    else
        printf("%s: %.0f MB/s\n", spec, r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *one = NULL;
    const char *plot = NULL;
    int no_iox = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--break-sum") == 0)
            sb_break_sum = 1;
        else if (strcmp(argv[i], "--no-iox") == 0)
            no_iox = 1;
        else if (strcmp(argv[i], "--cell") == 0 && i + 1 < argc)
            one = argv[++i];
        else if (strcmp(argv[i], "--plot-data") == 0 && i + 1 < argc)
            plot = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--no-iox] [--break-sum] [--plot-data FILE] [--cell SPEC]\n",
                    argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_set_deadline(quick ? 120 : 1200);
    bench_on_exit(kill_cell);
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                  -1, 0);
    BENCH_CHECK(shared != MAP_FAILED, "mmap");
    for (size_t i = 0; i < sizeof(res) / sizeof(double); i++)
        ((double *)res)[i] = NAN;
    for (size_t i = 0; i < sizeof(copy_bound) / sizeof(double); i++)
        ((double *)copy_bound)[i] = NAN;

    int cpus[2];
    int ncpu = pick_cpus(cpus);
    int nplc = ncpu >= 2 ? 2 : 1;
    if (one != NULL)
        return run_one(one, cpus, ncpu);
    char machine[256];
    machine_line(machine, sizeof(machine), ncpu);
    printf("bench/sbuf%s: %s\n", quick ? " --quick (figures not meaningful)" : "", machine);
    printf("placements: 1cpu = both on CPU %d", cpus[0]);
    if (nplc == 2)
        printf("; 2cpu = producer on CPU %d, consumer on CPU %d\n", cpus[0], cpus[1]);
    else
        printf("; 2cpu: NOT measured (fewer than 2 CPUs available)\n");

    char iox_why[200] = "";
    int have_iox = 0;
    if (quick || no_iox)
        snprintf(iox_why, sizeof(iox_why), "iceoryx skipped (%s)", quick ? "--quick" : "--no-iox");
    else
        have_iox = sb_iox_start(sizes, NSIZES, TPUT_SLOTS, iox_why, sizeof(iox_why));
    printf("iceoryx: %s\n", have_iox ? "measured (RouDi started by the bench)" : iox_why);

    uint64_t t_start = bench_now_ns();
    for (int r = 0; r < REPS; r++) {
        for (int p = 0; p < nplc; p++) {
            int cp = cpus[0], cc = p == 0 ? cpus[0] : cpus[1];
            struct sb_cell f = { .variant = SB_CAPMEM, .mode = SB_COPY, .metric = SB_LAT,
                                 .size = 64, .cpu_p = cp, .cpu_c = cc };
            cell_counts(&f);
            floor_futex[p][r] = run_cell(&f, sb_run_futex);
            if (p == 1) {
                floor_line[r] = run_cell(&f, sb_run_cacheline);
                f.busy_poll = 1;
                busy_poll[r] = 2 * run_cell(&f, sb_run_capmem);
            }
            for (int s = 0; s < NSIZES; s++) {
                if (s >= BOUND_FROM) {
                    struct sb_cell b = { .variant = SB_CAPMEM, .mode = SB_COPY,
                                         .metric = SB_TPUT, .size = sizes[s],
                                         .slots = TPUT_SLOTS, .cpu_p = cp, .cpu_c = cc };
                    cell_counts(&b);
                    copy_bound[p][s][r] = run_cell(&b, sb_run_copybound);
                }
                for (int metric = 0; metric < 2; metric++)
                    for (int m = 0; m < SB_NMODE; m++)
                        for (int k = 0; k < SB_NVARIANT; k++) {
                            /* Williams order: no variant always after the same one */
                            uint32_t q = (uint32_t)(((r * nplc + p) * NSIZES + s) * 2 + metric) *
                                             SB_NMODE + (uint32_t)m;
                            int v = bench_williams(SB_NVARIANT, q, k);
                            if (v == SB_IOX && !have_iox)
                                continue;
                            struct sb_cell c = { .variant = v, .mode = m, .metric = metric,
                                                 .size = sizes[s], .slots = TPUT_SLOTS,
                                                 .cpu_p = cp, .cpu_c = cc };
                            cell_counts(&c);
                            res[p][s][metric][m][v][r] = run_cell(&c, run_fns[v]);
                        }
            }
        }
        fprintf(stderr, "sbuf: repetition %d of %d done (%.0f s)\n", r + 1, REPS,
                (double)(bench_now_ns() - t_start) / 1e9);
    }
    if (have_iox)
        sb_iox_stop();

    print_table(nplc);
    print_goals(nplc, have_iox, iox_why);
    if (plot != NULL)
        write_plot_data(plot, nplc, machine);
    return 0;
}
