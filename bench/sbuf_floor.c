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
