/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_BENCH_COMMON_H
#define CAPMEM_BENCH_COMMON_H

/* Helpers shared by the host benchmarks: a clock, percentiles, SHA-256,
 * whole-buffer I/O, and one way to fail. A benchmark that cannot verify
 * what it measured must not print a number for it, so every failed call or
 * failed verification ends the run with exit status 1 (bench_fail). */

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in ns. One clock for every process on the machine, so a
 * timestamp taken in one process can be compared with one taken in another. */
uint64_t bench_now_ns(void);

/* Prints "bench: FAILED: <message>" to stderr and exits with status 1. */
void bench_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define BENCH_CHECK(cond, ...)          \
    do {                                \
        if (!(cond))                    \
            bench_fail(__VA_ARGS__);    \
    } while (0)

/* 10th, 50th and 90th percentile of n samples (n > 0), in the samples'
 * unit. Sorts `samples` in place. */
struct bench_pct {
    double p10, p50, p90;
    uint32_t n;
};
void bench_percentiles(uint64_t *samples, uint32_t n, struct bench_pct *out);

/* Smallest, median and largest of n values (n > 0; the median of an even
 * count is the mean of the middle two). `v` is not changed. Benches that
 * repeat a whole comparison report each figure this way. */
struct bench_spread {
    double min, median, max;
};
struct bench_spread bench_spread(const double *v, uint32_t n);

/* SHA-256 through OpenSSL EVP (uses SHA-NI where the CPU has it). */
void bench_sha256(const void *data, size_t len, uint8_t digest[32]);

/* Writes / reads exactly n bytes on a blocking fd, retrying short counts and
 * EINTR. Return 0, or -1 (errno set; a read that meets end of file sets
 * errno to EPIPE). */
int bench_write_all(int fd, const void *buf, size_t n);
int bench_read_all(int fd, void *buf, size_t n);

/* Sets a deadline for the whole process: if it is still running after
 * `seconds`, it runs the bench_on_exit functions, prints a failure and
 * exits 1. Bounds a hung benchmark. */
void bench_set_deadline(unsigned seconds);

/* Registers `fn` to run on every way this process ends that a process can
 * catch: return from main or exit() (bench_fail included), SIGINT, SIGTERM,
 * SIGHUP and the deadline. For undoing a system-wide setting (hugepool.h).
 * `fn` must be async-signal-safe and idempotent. It runs only in the
 * process that registered it: a forked child inherits the registration and
 * the handlers but never runs it. SIGKILL cannot be caught. At most 4. */
void bench_on_exit(void (*fn)(void));

/* The variant run k-th (0 .. n-1) in order q of a Williams design over n
 * variants: over 2n consecutive orders (q mod 2n) every variant runs in
 * every position equally often and follows every other variant equally
 * often (n even: already over the first n). What a variant leaves behind
 * (pages to free, a kernel worker's teardown) then falls on all the
 * others alike; a rotation of one fixed cycle gives every variant the
 * same predecessor each time. n >= 1. */
int bench_williams(int n, uint32_t q, int k);

/* A large private buffer for a bench's own payloads (a producer's source, a
 * consumer's destination), zero-filled and faulted in, on transparent huge
 * pages where the kernel grants them (aligned to 2 MiB, MADV_HUGEPAGE; THP
 * "madvise" or "always"). Every variant of a comparison reads or writes
 * the same such buffers, so the choice is the same for all of them. Why
 * not 4 KiB pages: on a guest whose hypervisor shadows the page tables, a
 * user-space pass over a 4 KiB-page buffer of 256 MiB that was fast a
 * moment ago costs 1x to 40x more after an unrelated unmap, at random
 * (docs/bench.md, "A 4 KiB-page source costs what the hypervisor wants");
 * that noise belongs to the machine, not to any variant. *thp_kb gets how
 * much of the buffer the kernel gave huge pages (AnonHugePages of this
 * process after the fault-in), for the report. Ends the run on failure. */
void *bench_alloc_buffer(size_t size, uint64_t *thp_kb);

/* A value of /proc/meminfo in kB ("HugePages_Free": in pages), 0 if absent. */
uint64_t bench_meminfo_kb(const char *key);

/* The goal line every bench ends with:
 *   goal NAME: met|NOT MET <median><unit> [<min><unit>..<max><unit>][ (note)]
 * The caller decides `met` (on the median, or on every repetition, as its
 * goal says); `note` may be NULL. bench_goal_unmeasured prints
 *   goal NAME: NOT MET not measured (why)
 * for a goal the run could not measure: never a fake "met". */
void bench_goal_line(const char *name, int met, struct bench_spread s, const char *unit,
                     const char *note);
void bench_goal_unmeasured(const char *name, const char *why);

#endif
