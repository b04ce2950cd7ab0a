/* SPDX-License-Identifier: MIT */
/* bench/sbuf: the payload, the per-cell plumbing, and two of the three
 * variants: (a) capmem SharedBuffer and (b) a UNIX stream socket.
 *
 * Reply path of the latency cells. A consumer handle reaches another
 * process only by fork on host today (docs/sbuf.md), and only the creating
 * process may produce into a buffer, so two processes cannot hold a
 * SharedBuffer in each direction. The reply is therefore the SharedBuffer's
 * own return path: one slot, BLOCK; the producer's next loan waits until
 * the consumer released the message (the release wakes it). The socket's
 * reply is one byte back on the same socket, iceoryx's a published 8-byte
 * chunk on a second topic. Every variant's round trip is one payload one
 * way, read in full and checked by the consumer, and a notification back. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>

#include "common.h"
#include "sbuf.h"

void sb_fill_private(uint64_t *buf, uint32_t size)
{
    for (uint32_t i = 0; i < size / 8; i++)
        buf[i] = i;
}

void sb_produce(void *dst, const uint64_t *priv, uint32_t size, enum sb_mode mode, uint64_t n)
{
    uint64_t *d = dst;
    if (mode == SB_COPY) {
        memcpy(d, priv, size);
    } else {
        for (uint32_t i = 1; i < size / 8; i++)
            d[i] = i;
    }
    d[0] = n;
}

uint64_t sb_sum(const void *p, uint32_t size)
{
    const uint64_t *w = p;
    uint64_t s = 0;
    for (uint32_t i = 0; i < size / 8; i++)
        s += w[i];
    return s;
}

uint64_t sb_expected_sum(uint32_t size, uint64_t n)
{
    uint64_t w = size / 8;
    return n + w * (w - 1) / 2;
}

int sb_break_sum;

void sb_check(const void *p, uint32_t size, uint64_t n)
{
    uint64_t s = sb_sum(p, size);
    BENCH_CHECK(s == sb_expected_sum(size, n) + (uint64_t)sb_break_sum, "consumer: message %llu of %u bytes: sum %llu",
                (unsigned long long)n, size, (unsigned long long)s);
}

void sb_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    BENCH_CHECK(sched_setaffinity(0, sizeof(set), &set) == 0, "sched_setaffinity(%d): %s", cpu,
                strerror(errno));
}

void sb_ctl_send(int fd)
{
    char b = 1;
    BENCH_CHECK(bench_write_all(fd, &b, 1) == 0, "control write: %s", strerror(errno));
}

void sb_ctl_wait(int fd)
{
    char b;
    BENCH_CHECK(bench_read_all(fd, &b, 1) == 0, "control read: %s", strerror(errno));
}

void sb_reap(pid_t pid, const char *what)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        BENCH_CHECK(errno == EINTR, "waitpid %s: %s", what, strerror(errno));
    BENCH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s process failed (status %#x)", what,
                st);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void sb_lat_record(const struct sb_cell *c, struct sb_shared *sh, uint32_t i, uint64_t rtt)
{
    if (i >= c->warmup)
        sh->samples[i - c->warmup] = rtt;
}

void sb_lat_finish(const struct sb_cell *c, struct sb_shared *sh)
{
    qsort(sh->samples, c->count, sizeof(uint64_t), cmp_u64);
    uint32_t n = c->count;
    double med = n % 2 ? (double)sh->samples[n / 2]
                       : ((double)sh->samples[n / 2 - 1] + (double)sh->samples[n / 2]) / 2;
    sh->result = med / 2;
}

void sb_tput_finish(const struct sb_cell *c, struct sb_shared *sh, uint64_t t0)
{
    uint64_t t1 = __atomic_load_n(&sh->t_end, __ATOMIC_ACQUIRE);
    BENCH_CHECK(t1 > t0, "throughput: end %llu before start %llu", (unsigned long long)t1,
                (unsigned long long)t0);
    sh->result = (double)c->size * c->count * 1e3 / (double)(t1 - t0); /* MB/s */
}

uint64_t *sb_private_payload(uint32_t size)
{
    uint64_t *p = bench_alloc_buffer(size, NULL);
    sb_fill_private(p, size); /* touched: no page fault in the timed part */
    return p;
}

/* ---- (a) capmem SharedBuffer ---- */

static void capmem_consumer(const struct sb_cell *c, struct sb_shared *sh, cm_handle_t con,
                            int ctl)
{
    uint32_t flags = c->busy_poll ? CM_SBUF_BUSY_POLL : 0;
    uint32_t total = c->warmup + c->count;
    for (uint32_t i = 0; i < total; i++) {
        cm_sbuf_msg_t m;
        cm_status_t st = cm_sbuf_receive(con, flags, CM_TIMEOUT_INFINITE, &m);
        BENCH_CHECK(st == CM_OK, "cm_sbuf_receive: %d", st);
        BENCH_CHECK(m.len == c->size, "received %u bytes, sent %u", m.len, c->size);
        sb_check(m.data, c->size, i);
        st = cm_sbuf_release(con, m.seq);
        BENCH_CHECK(st == CM_OK, "cm_sbuf_release: %d", st);
        if (c->metric == SB_TPUT && i + 1 == c->warmup)
            sb_ctl_send(ctl);
    }
    if (c->metric == SB_TPUT) {
        __atomic_store_n(&sh->t_end, bench_now_ns(), __ATOMIC_RELEASE);
        sb_ctl_send(ctl);
    }
}

static void capmem_loan(cm_handle_t buf, uint32_t flags, cm_sbuf_loan_t *l)
{
    cm_status_t st = cm_sbuf_loan(buf, flags, CM_TIMEOUT_INFINITE, l);
    BENCH_CHECK(st == CM_OK, "cm_sbuf_loan: %d", st);
}

static void capmem_publish(cm_handle_t buf, const cm_sbuf_loan_t *l, uint32_t size)
{
    cm_status_t st = cm_sbuf_publish(buf, l->id, size, NULL);
    BENCH_CHECK(st == CM_OK, "cm_sbuf_publish: %d", st);
}

void sb_run_capmem(const struct sb_cell *c, struct sb_shared *sh)
{
    uint32_t slots = c->metric == SB_LAT ? 1 : c->slots;
    cm_sbuf_config_t cfg = { slots, c->size, 1, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    cm_handle_t buf, con;
    cm_status_t st = cm_sbuf_create(&cfg, &buf);
    BENCH_CHECK(st == CM_OK, "cm_sbuf_create(%u x %u): %d", slots, c->size, st);
    st = cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con);
    BENCH_CHECK(st == CM_OK, "cm_sbuf_consumer_create: %d", st);
    uint64_t *priv = sb_private_payload(c->size);
    int ctl[2];
    BENCH_CHECK(pipe(ctl) == 0, "pipe");
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sb_pin(c->cpu_c);
        close(ctl[0]);
        cm_handle_close(buf); /* its copy is inert anyway */
        capmem_consumer(c, sh, con, ctl[1]);
        cm_handle_close(con);
        _exit(0);
    }
    close(ctl[1]);
    BENCH_CHECK(cm_handle_close(con) == CM_OK, "close consumer");

    uint32_t flags = c->busy_poll ? CM_SBUF_BUSY_POLL : 0;
    uint32_t total = c->warmup + c->count;
    cm_sbuf_loan_t l;
    if (c->metric == SB_LAT) {
        /* One slot: the loan after a publish returns when the consumer
         * released the message. That loan's return ends the round trip. */
        capmem_loan(buf, flags, &l);
        uint64_t prev = bench_now_ns();
        for (uint32_t i = 0; i < total; i++) {
            sb_produce(l.data, priv, c->size, c->mode, i);
            capmem_publish(buf, &l, c->size);
            capmem_loan(buf, flags, &l);
            uint64_t now = bench_now_ns();
            sb_lat_record(c, sh, i, now - prev);
            prev = now;
        }
        BENCH_CHECK(cm_sbuf_cancel(buf, l.id) == CM_OK, "cm_sbuf_cancel");
        sb_lat_finish(c, sh);
    } else {
        uint64_t t0 = 0;
        for (uint32_t i = 0; i < total; i++) {
            if (i == c->warmup) {
                sb_ctl_wait(ctl[0]); /* the pipeline is empty */
                t0 = bench_now_ns();
            }
            capmem_loan(buf, flags, &l);
            sb_produce(l.data, priv, c->size, c->mode, i);
            capmem_publish(buf, &l, c->size);
        }
        sb_ctl_wait(ctl[0]);
        sb_tput_finish(c, sh, t0);
    }
    sb_reap(pid, "capmem consumer");
    close(ctl[0]);
    free(priv);
    BENCH_CHECK(cm_handle_close(buf) == CM_OK, "close buffer");
}

/* ---- (b) UNIX stream socket ---- */

void sb_run_socket(const struct sb_cell *c, struct sb_shared *sh)
{
    int sv[2], ctl[2];
    BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    BENCH_CHECK(pipe(ctl) == 0, "pipe");
    uint32_t total = c->warmup + c->count;
    pid_t pid = fork();
    BENCH_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sb_pin(c->cpu_c);
        close(sv[0]);
        close(ctl[0]);
        uint64_t *rbuf = sb_private_payload(c->size);
        for (uint32_t i = 0; i < total; i++) {
            BENCH_CHECK(bench_read_all(sv[1], rbuf, c->size) == 0, "socket read: %s",
                        strerror(errno));
            sb_check(rbuf, c->size, i);
            if (c->metric == SB_LAT) {
                char b = 1;
                BENCH_CHECK(bench_write_all(sv[1], &b, 1) == 0, "socket reply");
            } else if (i + 1 == c->warmup) {
                sb_ctl_send(ctl[1]);
            }
        }
        if (c->metric == SB_TPUT) {
            __atomic_store_n(&sh->t_end, bench_now_ns(), __ATOMIC_RELEASE);
            sb_ctl_send(ctl[1]);
        }
        _exit(0);
    }
    close(sv[1]);
    close(ctl[1]);
    /* Copy mode: the socket's "slot" is the kernel's buffer, so the write
     * from the private buffer is the copy. In place: generated into a
     * send buffer, then written. */
    uint64_t *priv = sb_private_payload(c->size);
    uint64_t *sbuf = sb_private_payload(c->size);
    uint64_t t0 = 0, prev = bench_now_ns();
    for (uint32_t i = 0; i < total; i++) {
        if (c->metric == SB_TPUT && i == c->warmup) {
            sb_ctl_wait(ctl[0]);
            t0 = bench_now_ns();
        }
        uint64_t *src = priv;
        if (c->mode == SB_COPY)
            priv[0] = i;
        else
            sb_produce(src = sbuf, NULL, c->size, SB_INPLACE, i);
        BENCH_CHECK(bench_write_all(sv[0], src, c->size) == 0, "socket write: %s",
                    strerror(errno));
        if (c->metric == SB_LAT) {
            char b;
            BENCH_CHECK(bench_read_all(sv[0], &b, 1) == 0, "socket reply read");
            uint64_t now = bench_now_ns();
            sb_lat_record(c, sh, i, now - prev);
            prev = now;
        }
    }
    if (c->metric == SB_LAT) {
        sb_lat_finish(c, sh);
    } else {
        sb_ctl_wait(ctl[0]);
        sb_tput_finish(c, sh, t0);
    }
    sb_reap(pid, "socket consumer");
    close(sv[0]);
    close(ctl[0]);
    free(priv);
    free(sbuf);
}
