/* SPDX-License-Identifier: MIT */
/* SharedBuffer on Linux: wake-ups, spinning and the memfds of the areas
 * (docs/sbuf.md, "Notification" and "Memory layout").
 *
 * A receive sleeps on a futex (its delivery word, woken by the producer's
 * FUTEX_WAKE; the producer's death by host/sbuf_watch.c). Every other
 * sleeper (a BLOCK loan, an object wait, an event loop) polls its end of
 * the per-consumer SOCK_SEQPACKET pair, and the other side writes one byte
 * to it. Either way the waker acts only when the sleeper's "waiting" word
 * says it sleeps (Dekker, both sides fence seq_cst between their store and
 * their load). The socket reports the peer's death as a hang-up. */
#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sbuf_internal.h"

#if defined(__SANITIZE_THREAD__)
int cm__sbuf_fence_word;
#endif

void cm__sbuf_kick(int sock)
{
    const char b = 1;
    /* EAGAIN: the peer has unread bytes already, one wake-up is pending.
     * EPIPE/ECONNRESET: it is gone; its hang-up says so elsewhere. */
    (void)!send(sock, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void cm__sbuf_wake_consumer(uint32_t *tail_word, int sock, uint32_t w)
{
    if (w & CM__SBUF_WAIT_FUTEX)
        cm__sbuf_futex_wake(tail_word, 0);
    if (w & CM__SBUF_WAIT_SOCK)
        cm__sbuf_kick(sock);
}

int cm__sbuf_drain(int sock)
{
    char buf[64];
    /* Bounded: a peer sending as fast as we read would otherwise hold us
     * here (under our lock) for as long as it likes. What is left keeps
     * the socket readable: the next look drains more. An honest peer
     * sends one byte per sleep it sees announced. */
    for (uint32_t i = 0; i < CM__SBUF_DRAIN_MAX; i++) {
        ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n == 0)
            return 1; /* orderly hang-up: every copy of the peer end closed */
        if (errno == EINTR)
            continue;
        return errno == ECONNRESET;
    }
    return 0;
}

int cm__sbuf_drain_one(int sock)
{
    char buf[64];
    ssize_t n;
    do
        n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return 0;
    if (n == 0)
        return 1;
    return errno == ECONNRESET ? 1 : -1;
}

int cm__sbuf_hung_up(int sock)
{
    struct pollfd p = { sock, POLLIN, 0 };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

int cm__sbuf_spin_useful(void)
{
    static int cpus; /* racy but idempotent: every thread computes the same */
    int n = __atomic_load_n(&cpus, __ATOMIC_RELAXED);
    if (n == 0) {
        long v = sysconf(_SC_NPROCESSORS_ONLN);
        n = v > 1 ? 2 : 1;
        __atomic_store_n(&cpus, n, __ATOMIC_RELAXED);
    }
    return n > 1;
}

void cm__sbuf_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

void cm__sbuf_spin_adapt(struct cm__sbuf_spin *sp, int settled, uint32_t pauses,
                         uint64_t spin_ticks, uint64_t wait_ticks)
{
    if (settled) {
        sp->budget = sp->budget >= CM__SBUF_SPIN_MAX / 2 ? CM__SBUF_SPIN_MAX : sp->budget * 2;
        return;
    }
    /* The pauses that would have covered this whole wait, and a quarter
     * more: a wait that a spin of at most MAX would have settled is spun
     * next time (wait_ticks / spin_ticks < 2^32 / pauses: no overflow). */
    if (pauses > 0 && spin_ticks > 0 && wait_ticks / spin_ticks < CM__SBUF_SPIN_MAX) {
        uint64_t need = wait_ticks / spin_ticks * pauses +
                        wait_ticks % spin_ticks * pauses / spin_ticks;
        need += need / 4;
        if (need <= CM__SBUF_SPIN_MAX) {
            sp->budget = need < CM__SBUF_SPIN_MIN ? CM__SBUF_SPIN_MIN : (uint32_t)need;
            return;
        }
    }
    sp->budget = sp->budget <= CM__SBUF_SPIN_MIN * 2 ? CM__SBUF_SPIN_MIN : sp->budget / 2;
}

uint32_t cm__sbuf_cpu_tag(void)
{
    int c = sched_getcpu();
    return c >= 0 ? (uint32_t)c + 1u : 0u;
}

cm_status_t cm__sbuf_memfd(const char *name, uint64_t size, int *fd)
{
    cm_status_t st = cm__fsize_allows(size);
    if (st != CM_OK)
        return st;
    int f = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (f < 0)
        return errno == EMFILE || errno == ENFILE ? CM_ERR_NO_RESOURCES : CM_ERR_NO_MEMORY;
    /* Every page allocated now (fallocate sizes the file too): the pool's
     * memory is charged at create, so a shortage is met here, not on the
     * data path. Refused pages (strict overcommit: ENOSPC) are NO_MEMORY
     * here, not a SIGBUS at a later touch behind a MAP_POPULATE that left
     * them out silently; a memory cgroup at its limit runs its OOM killer
     * here as a fault would. */
    if (cm__fallocate_pieces(f, 0, size) != 0) {
        int e = errno;
        close(f);
        return e == EFBIG ? CM_ERR_NO_RESOURCES : CM_ERR_NO_MEMORY;
    }
    *fd = f;
    return CM_OK;
}

cm_status_t cm__sbuf_map(int fd, uint64_t size, int prot, int populate, void **out)
{
    /* Populated for the memory this process made (the producer's areas, a
     * consumer made here; a received one is not: host/sbuf_consumer.c):
     * a SharedBuffer is a pool, and its point is that no message pays for
     * a page. Without it the first use of each slot
     * faulted in the data path, at a moment set by the loan order (the
     * lowest free slot first), so a slot first used mid-stream cost a
     * fault per page then (docs/sbuf.md, "Memory layout"). */
    void *p = mmap(NULL, size, prot, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED)
        return errno == ENOMEM ? CM_ERR_NO_RESOURCES : cm__errno_detail("mmap", errno);
    *out = p;
    return CM_OK;
}

cm_status_t cm__sbuf_map_producer(int fd, uint64_t size, void **out)
{
    cm_status_t st = cm__sbuf_map(fd, size, PROT_READ | PROT_WRITE, 1, out);
    if (st == CM_OK && madvise(*out, size, MADV_DONTFORK) != 0) {
        munmap(*out, size);
        *out = NULL;
        st = CM_ERR_NO_RESOURCES;
    }
    return st;
}
