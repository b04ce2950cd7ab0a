/* SPDX-License-Identifier: MIT */
/* Helpers shared by the host benchmarks (see common.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_fail(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "bench: FAILED: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Linear interpolation between closest ranks. */
static double pct_of_sorted(const uint64_t *s, uint32_t n, double q)
{
    double pos = q * (double)(n - 1);
    uint32_t lo = (uint32_t)pos;
    if (lo + 1 >= n)
        return (double)s[n - 1];
    double frac = pos - (double)lo;
    return (double)s[lo] * (1.0 - frac) + (double)s[lo + 1] * frac;
}

void bench_percentiles(uint64_t *samples, uint32_t n, struct bench_pct *out)
{
    qsort(samples, n, sizeof(samples[0]), cmp_u64);
    out->n = n;
    out->p10 = pct_of_sorted(samples, n, 0.10);
    out->p50 = pct_of_sorted(samples, n, 0.50);
    out->p90 = pct_of_sorted(samples, n, 0.90);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct bench_spread bench_spread(const double *v, uint32_t n)
{
    double *s = malloc(sizeof(double) * n);
    BENCH_CHECK(n > 0 && s != NULL, "bench_spread: %u values", n);
    memcpy(s, v, sizeof(double) * n);
    qsort(s, n, sizeof(double), cmp_double);
    struct bench_spread out = { s[0], n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[n - 1] };
    free(s);
    return out;
}

void bench_sha256(const void *data, size_t len, uint8_t digest[32])
{
    unsigned int n = 32;
    BENCH_CHECK(EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) == 1 && n == 32,
                "EVP_Digest");
}

int bench_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int bench_read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            errno = EPIPE;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ---- cleanup on every exit path ---- */

#define MAX_ON_EXIT 4
static void (*on_exit_fns[MAX_ON_EXIT])(void);
static volatile sig_atomic_t n_on_exit;
static pid_t on_exit_owner;

static void run_on_exit(void)
{
    if (getpid() != on_exit_owner)
        return;
    for (int i = n_on_exit - 1; i >= 0; i--)
        on_exit_fns[i]();
}

static void on_fatal_signal(int sig)
{
    run_on_exit();
    signal(sig, SIG_DFL);
    raise(sig);
}

void bench_on_exit(void (*fn)(void))
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    BENCH_CHECK(n_on_exit < MAX_ON_EXIT, "bench_on_exit: more than %d", MAX_ON_EXIT);
    if (n_on_exit == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_fatal_signal;
        sigfillset(&sa.sa_mask);
        on_exit_owner = getpid();
        BENCH_CHECK(atexit(run_on_exit) == 0, "atexit");
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            BENCH_CHECK(sigaction(sigs[i], &sa, NULL) == 0, "sigaction: %s", strerror(errno));
    }
    on_exit_fns[n_on_exit] = fn;
    n_on_exit++;
}

static void on_deadline(int sig)
{
    static const char msg[] = "bench: FAILED: deadline passed, benchmark hung\n";
    (void)sig;
    run_on_exit();
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

void bench_set_deadline(unsigned seconds)
{
    signal(SIGALRM, on_deadline);
    alarm(seconds);
}

int bench_williams(int n, uint32_t q, int k)
{
    /* First row 0, 1, n-1, 2, n-2, ...; row i adds i; rows n..2n-1 are
     * rows 0..n-1 reversed (n odd needs both). */
    q %= (uint32_t)(2 * n);
    int pos = q >= (uint32_t)n ? n - 1 - k : k;
    int base = pos == 0 ? 0 : pos % 2 == 1 ? (pos + 1) / 2 : n - pos / 2;
    return (int)(((uint32_t)base + q % (uint32_t)n) % (uint32_t)n);
}

/* AnonHugePages of this process, in kB (smaps_rollup), 0 if unknown. */
static uint64_t self_thp_kb(void)
{
    char line[256];
    uint64_t v = 0;
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "AnonHugePages:", 14) == 0)
            v = strtoull(line + 14, NULL, 10);
    fclose(f);
    return v;
}

void *bench_alloc_buffer(size_t size, uint64_t *thp_kb)
{
    enum { ALIGN = 2u << 20 };
    size_t len = size + (ALIGN - 1) < size ? 0 : (size + (ALIGN - 1)) / ALIGN * ALIGN;
    BENCH_CHECK(len != 0, "bench buffer of %zu bytes", size);
    void *p = NULL;
    BENCH_CHECK(posix_memalign(&p, ALIGN, len) == 0, "bench buffer of %zu bytes", size);
    uint64_t before = self_thp_kb();
    (void)madvise(p, len, MADV_HUGEPAGE); /* THP "never": 4 KiB pages, reported */
    memset(p, 0, len);
    uint64_t after = self_thp_kb();
    if (thp_kb != NULL)
        *thp_kb = after > before ? after - before : 0;
    return p;
}

uint64_t bench_meminfo_kb(const char *key)
{
    char line[256];
    uint64_t v = 0;
    size_t klen = strlen(key);
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            v = strtoull(line + klen + 1, NULL, 10);
    fclose(f);
    return v;
}

void bench_goal_line(const char *name, int met, struct bench_spread s, const char *unit,
                     const char *note)
{
    printf("goal %s: %s %.2f%s [%.2f%s..%.2f%s]%s%s%s\n", name, met ? "met" : "NOT MET",
           s.median, unit, s.min, unit, s.max, unit, note != NULL ? " (" : "",
           note != NULL ? note : "", note != NULL ? ")" : "");
}

void bench_goal_unmeasured(const char *name, const char *why)
{
    printf("goal %s: NOT MET not measured (%s)\n", name, why);
}
