/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_BENCH_SBUF_H
#define CAPMEM_BENCH_SBUF_H

/* bench/sbuf internals: one measured cell, the payload both sides of every
 * variant produce and check, and the per-variant entry points
 * (bench/sbuf_run.c: capmem and socket; bench/sbuf_iox.c: iceoryx;
 * bench/sbuf_floor.c: the raw futex and cache-line floors). Method:
 * docs/bench.md "bench/sbuf". */

#include <stdint.h>
#include <sys/types.h>

enum sb_variant { SB_CAPMEM, SB_SOCKET, SB_IOX, SB_NVARIANT };
enum sb_mode { SB_COPY, SB_INPLACE, SB_NMODE };
enum sb_metric { SB_LAT, SB_TPUT };

/* One measurement: a fresh producer process P forked by the orchestrator,
 * which sets up the transport and forks the consumer C. */
struct sb_cell {
    enum sb_variant variant;
    enum sb_mode mode;
    enum sb_metric metric;
    int busy_poll;      /* capmem only: CM_SBUF_BUSY_POLL on loan and receive */
    uint32_t size;      /* payload bytes, a multiple of 8 */
    uint32_t warmup;    /* messages before the timed ones (not timed) */
    uint32_t count;     /* timed messages */
    uint32_t slots;     /* throughput: slots / queue depth in flight */
    int cpu_p, cpu_c;   /* CPUs of P and C */
    uint32_t id;        /* unique per cell (iceoryx instance name) */
};

/* Result page shared by the orchestrator, P and C (MAP_SHARED anonymous,
 * made before any fork). */
struct sb_shared {
    uint64_t t_end;          /* throughput: C's clock after the last message */
    double result;           /* latency: median round trip / 2, ns;
                                throughput: MB/s (10^6 bytes per second) */
    uint64_t samples[4096];  /* latency: round trips, ns */
};

/* Payload: 64-bit words, word 0 = the message number, word i = i. The
 * consumer sums every word and checks the sum (so it reads every byte). */
void sb_fill_private(uint64_t *buf, uint32_t size);          /* words 1.. */
/* A private payload of size bytes (bench_alloc_buffer: 2 MiB-aligned, on
 * transparent huge pages where granted, the same for every variant),
 * filled (so touched: no page fault in a timed part); free() it. Ends the
 * run if out of memory. */
uint64_t *sb_private_payload(uint32_t size);
void sb_produce(void *dst, const uint64_t *priv, uint32_t size, enum sb_mode mode,
                uint64_t n);
uint64_t sb_sum(const void *p, uint32_t size);
uint64_t sb_expected_sum(uint32_t size, uint64_t n);
/* The consumer's check: exits C with status 1 on a wrong sum. With
 * sb_break_sum (--break-sum) it expects a different sum, to show a wrong
 * payload ends the run. */
extern int sb_break_sum;
void sb_check(const void *p, uint32_t size, uint64_t n);

void sb_pin(int cpu);
/* Control pipe between P and C, outside every timed path. */
void sb_ctl_send(int fd);
void sb_ctl_wait(int fd);

/* P's side of one cell, called in P after the orchestrator forked it.
 * Each forks C itself, waits for it, and fills sh. Return 0, or exits 1. */
void sb_run_capmem(const struct sb_cell *c, struct sb_shared *sh);
void sb_run_socket(const struct sb_cell *c, struct sb_shared *sh);
void sb_run_iox(const struct sb_cell *c, struct sb_shared *sh);
/* The floors at 64 B: round trip (not / 2) median, ns. */
void sb_run_futex(const struct sb_cell *c, struct sb_shared *sh);
void sb_run_cacheline(const struct sb_cell *c, struct sb_shared *sh);
/* The copy-mode bound (throughput, MB/s): the copy and the read of each
 * message in one process, no transport (bench/sbuf_floor.c). */
void sb_run_copybound(const struct sb_cell *c, struct sb_shared *sh);

/* Latency bookkeeping in P: stores the round trip of message i (i >= warmup)
 * and, at the end, the median round trip / 2 into sh->result. */
void sb_lat_record(const struct sb_cell *c, struct sb_shared *sh, uint32_t i, uint64_t rtt);
void sb_lat_finish(const struct sb_cell *c, struct sb_shared *sh);
void sb_tput_finish(const struct sb_cell *c, struct sb_shared *sh, uint64_t t0);

/* Waits for the consumer C; fails the run if it did not exit 0. */
void sb_reap(pid_t pid, const char *what);

/* iceoryx: whether this build has it, RouDi start/stop (bench/sbuf_iox.c).
 * sb_iox_start returns 0 and fills why (NUL-terminated) when it cannot. */
int sb_iox_built(void);
int sb_iox_start(const uint32_t *sizes, uint32_t nsizes, uint32_t slots, char *why,
                 unsigned whylen);
void sb_iox_stop(void);

#endif
