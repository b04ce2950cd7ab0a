/* SPDX-License-Identifier: MIT */
/* bench/sbuf: the floors the goals compare against, measured in the same
 * run and with the same payload work as the variants: 64 B copied from a
 * private buffer into shared memory, summed and checked by the consumer.
 *
 *   futex      P writes the payload and the message number n into a word,
 *              FUTEX_WAKE; C FUTEX_WAITs for n, checks, writes n into the
 *              reply word, FUTEX_WAKE; P FUTEX_WAITs for it. Two wake-ups
 *              per round trip, as a blocking receive plus its reply. Wakes
 *              are unconditional (no waiter flag): the textbook ping-pong.
 *   cacheline  the same with busy polling and no system call: the cost of
 *              moving the lines between the two CPUs and back.
 *
 * Each records round trips (not halved: the goals compare round trips). */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "sbuf.h"

#define FLOOR_SIZE 64u

struct floor_page {
    _Alignas(64) uint32_t fwd;
    _Alignas(64) uint32_t back;
    _Alignas(64) uint64_t payload[FLOOR_SIZE / 8];
};

static void futex_wait(uint32_t *w, uint32_t old)
{
    long r = syscall(SYS_futex, w, FUTEX_WAIT, old, NULL, NULL, 0);
    BENCH_CHECK(r == 0 || errno == EAGAIN || errno == EINTR, "futex wait: %s", strerror(errno));
}

static void futex_wake(uint32_t *w)
{
    BENCH_CHECK(syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0) >= 0, "futex wake: %s",
                strerror(errno));
}

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static void await(uint32_t *w, uint32_t want, int spin)
{
    for (;;) {
        uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        if (v == want)
            return;
        if (spin)
            relax();
        else
            futex_wait(w, v);
    }
}

static void signal_word(uint32_t *w, uint32_t v, int spin)
{
    __atomic_store_n(w, v, __ATOMIC_RELEASE);
    if (!spin)
        futex_wake(w);
}

static void pingpong(const struct sb_cell *c, struct sb_shared *sh, int spin)
{
    struct floor_page *pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(pg != MAP_FAILED, "mmap");
    memset(pg, 0, sizeof(*pg));
    uint64_t priv[FLOOR_SIZE / 8];
    sb_fill_private(priv, FLOOR_SIZE);
    uint32_t total = c->warmup + c->count;
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sb_pin(c->cpu_c);
        for (uint32_t i = 0; i < total; i++) {
            await(&pg->fwd, i + 1, spin);
            sb_check(pg->payload, FLOOR_SIZE, i);
            signal_word(&pg->back, i + 1, spin);
        }
        _exit(0);
    }
    uint64_t prev = bench_now_ns();
    for (uint32_t i = 0; i < total; i++) {
        sb_produce(pg->payload, priv, FLOOR_SIZE, SB_COPY, i);
        signal_word(&pg->fwd, i + 1, spin);
        await(&pg->back, i + 1, spin);
        uint64_t now = bench_now_ns();
        sb_lat_record(c, sh, i, now - prev);
        prev = now;
    }
    sb_reap(pid, spin ? "cache-line floor" : "futex floor");
    sb_lat_finish(c, sh);
    sh->result *= 2; /* round trip */
    munmap(pg, sizeof(*pg));
}

void sb_run_futex(const struct sb_cell *c, struct sb_shared *sh)
{
    pingpong(c, sh, 0);
}

void sb_run_cacheline(const struct sb_cell *c, struct sb_shared *sh)
{
    pingpong(c, sh, 1);
}

/* The copy-mode bound: what any shared-memory transport in copy mode must
 * do per message, with no transport at all. One process, on P's CPU: for
 * each message, the producer's copy from a private buffer into one of
 * c->slots slot-sized buffers (shared memory, touched before timing), then
 * the consumer's read and check of it, while it is still hot. The two
 * phases are timed apart. Result, MB/s: one CPU (cpu_p == cpu_c), the two
 * in series, size / (copy + read); two CPUs, a perfect pipeline, size /
 * max(copy, read). No transport can beat it in copy mode, so bound /
 * socket is the most a copy-mode transport can reach against the socket on
 * this machine. */
void sb_run_copybound(const struct sb_cell *c, struct sb_shared *sh)
{
    size_t len = (size_t)c->size * c->slots;
    uint8_t *slots = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(slots != MAP_FAILED, "mmap %zu", len);
    memset(slots, 0, len);
    uint64_t *priv = sb_private_payload(c->size);
    uint64_t t_copy = 0, t_read = 0;
    for (uint32_t i = 0; i < c->warmup + c->count; i++) {
        uint8_t *slot = slots + (size_t)(i % c->slots) * c->size;
        uint64_t t0 = bench_now_ns();
        sb_produce(slot, priv, c->size, SB_COPY, i);
        uint64_t t1 = bench_now_ns();
        sb_check(slot, c->size, i);
        uint64_t t2 = bench_now_ns();
        if (i >= c->warmup) {
            t_copy += t1 - t0;
            t_read += t2 - t1;
        }
    }
    uint64_t per = c->cpu_p == c->cpu_c ? t_copy + t_read : t_copy > t_read ? t_copy : t_read;
    BENCH_CHECK(per > 0, "copy bound: no time measured");
    sh->result = (double)c->size * c->count * 1e3 / (double)per; /* MB/s */
    free(priv);
    munmap(slots, len);
}
