/* SPDX-License-Identifier: MIT */
/* SharedBuffer consumers over a channel, and the object waits on the two
 * SharedBuffer handle types (host). A consumer is sent to a forked process
 * that never inherited it (the channel is its only way in); forged
 * messages are judged by core/sbuf_admit.c. Every test runs under the
 * fd/mapping/handle leak check. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/threads.h"
#include "../../host/sbuf_internal.h"
#include "../../host/wire.h"
#include "../../host/channel_internal.h"

#define SEC (1000000000ll)
#define MS (1000000ll)

static cm_sbuf_config_t cfg_of(uint32_t slots, uint32_t size, uint32_t held, uint32_t policy)
{
    return (cm_sbuf_config_t){ slots, size, 1, held, 1, policy, 0, 0 };
}

static uint8_t byte_of(uint64_t seq, uint32_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + 1u);
}

static uint32_t len_of(uint64_t seq)
{
    return 1u + (uint32_t)(seq * 37u % 60u);
}

static void produce(cm_handle_t buf, uint64_t seq)
{
    cm_sbuf_loan_t l;
    uint64_t got;
    assert_status(cm_sbuf_loan(buf, 0, 10 * SEC, &l), CM_OK);
    for (uint32_t i = 0; i < len_of(seq); i++)
        ((uint8_t *)l.data)[i] = byte_of(seq, i);
    assert_status(cm_sbuf_publish(buf, l.id, len_of(seq), &got), CM_OK);
    assert_true(got == seq);
}

static int message_ok(const cm_sbuf_msg_t *m, uint64_t seq)
{
    if (m->seq != seq || m->len != len_of(seq) || m->dropped != 0)
        return 0;
    for (uint32_t i = 0; i < m->len; i++)
        if (((const uint8_t *)m->data)[i] != byte_of(seq, i))
            return 0;
    return 1;
}

/* Receives one handle from channel e (waiting for it). */
static cm_status_t receive_handle(cm_handle_t e, cm_handle_t *h)
{
    char b[8];
    uint32_t nb, nh;
    cm_status_t st = cm_channel_wait_readable(e, 10 * SEC);
    if (st == CM_OK)
        st = cm_channel_read(e, b, sizeof(b), &nb, h, 1, &nh);
    return st == CM_OK && nh != 1 ? CM_ERR_INTERNAL : st;
}

static int write_at(void *p)
{
    *(volatile uint8_t *)p = 0x55;
    return 0;
}

#define STREAM_N 60u

/* The producer publishes 3 messages, receives the first itself (and holds
 * it), then sends the consumer to a process forked before (so the channel
 * is its only way there), and goes on publishing: BLOCK with 4 slots, so
 * the stream finishes only if the receiver's releases reach the producer.
 * The receiver gets seq 1 .. STREAM_N-1 in order (the held message went
 * back on send), cannot write the data (SIGSEGV in its own child), and
 * sees PEER_CLOSED once the producer closed the buffer. */
static void test_sent_consumer_gets_every_message_in_order_and_its_releases_return_slots(void **state)
{
    (void)state;
    cm_handle_t buf, con, e0, e1;
    cm_sbuf_config_t cfg = cfg_of(4, 256, 2, CM_SBUF_BLOCK);
    int done[2], go[2];
    assert_int_equal(pipe(done), 0);
    assert_int_equal(pipe(go), 0);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        close(done[0]);
        close(go[1]);
        CHILD_EXPECT(cm_handle_close(buf), CM_OK); /* its copy is inert */
        CHILD_EXPECT(cm_handle_close(e0), CM_OK);
        cm_handle_t h = 0;
        CHILD_EXPECT(receive_handle(e1, &h), CM_OK);
        cm_handle_info_t hi;
        CHILD_EXPECT(cm_handle_get_info(h, &hi), CM_OK);
        CHILD_CHECK(hi.type == CM_OBJ_SBUF_CONSUMER && hi.rights == CM_SBUF_CONSUMER_DEFAULT_RIGHTS);
        /* Not before the producer has counted what the send gave back. */
        char g;
        CHILD_CHECK(read(go[0], &g, 1) == 1);
        close(go[0]);
        for (uint64_t s = 1; s < STREAM_N; s++) {
            cm_sbuf_msg_t m;
            CHILD_EXPECT(cm_sbuf_receive(h, 0, 10 * SEC, &m), CM_OK);
            CHILD_CHECK(message_ok(&m, s));
            if (s == 1) /* read-only here too */
                CHILD_CHECK(in_child(write_at, (void *)m.data) == 1000 + SIGSEGV);
            CHILD_EXPECT(cm_sbuf_release(h, m.seq), CM_OK);
        }
        (void)!write(done[1], "d", 1);
        close(done[1]);
        cm_signals_t obs = 0;
        CHILD_EXPECT(cm_object_wait_one(h, CM_SIGNAL_PEER_CLOSED, 10 * SEC, &obs), CM_OK);
        CHILD_CHECK(obs == CM_SIGNAL_PEER_CLOSED);
        cm_sbuf_msg_t m;
        CHILD_EXPECT(cm_sbuf_receive(h, 0, 0, &m), CM_ERR_PEER_CLOSED);
        CHILD_EXPECT(cm_handle_close(h), CM_OK);
        CHILD_EXPECT(cm_handle_close(e1), CM_OK);
        child_exit();
    }
    assert_status(cm_handle_close(e1), CM_OK);
    close(done[1]);
    close(go[0]);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    for (uint64_t s = 0; s < 3; s++)
        produce(buf, s);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_true(message_ok(&m, 0));
    assert_status(cm_channel_write(e0, "c", 1, &con, 1), CM_OK);
    /* Moved: the handle is gone here, the held message went back. */
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_ERR_BAD_HANDLE);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ACTIVE);
    assert_int_equal(info.consumers[0].held, 0);
    assert_int_equal(info.consumers[0].released, 1);
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    for (uint64_t s = 3; s < STREAM_N; s++)
        produce(buf, s);
    /* Every slot comes back once the receiver released the last one. */
    char b;
    assert_int_equal(read(done[0], &b, 1), 1); /* it released the last one */
    close(done[0]);
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ACTIVE);
    assert_int_equal(info.consumers[0].released, STREAM_N);
    assert_int_equal(info.free, 4);
    assert_status(cm_handle_close(buf), CM_OK); /* the receiver sees PEER_CLOSED */
    assert_child_passed(pid);
    assert_status(cm_handle_close(e0), CM_OK);
}

/* Rights shrink on the way and stay shrunk: a consumer sent without MAP
 * can only take copies; one without TRANSFER cannot be sent on. */
static void test_rights_reduced_before_send_hold_after_receive(void **state)
{
    (void)state;
    cm_handle_t buf, con, e0, e1, got, again;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHT_READ | CM_RIGHT_TRANSFER, &con), CM_OK);
    assert_status(cm_channel_write(e0, NULL, 0, &con, 1), CM_OK);
    assert_status(receive_handle(e1, &got), CM_OK);
    cm_handle_info_t hi;
    assert_status(cm_handle_get_info(got, &hi), CM_OK);
    assert_int_equal(hi.rights, CM_RIGHT_READ | CM_RIGHT_TRANSFER);
    uint64_t seq;
    cm_sbuf_loan_t l;
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_OK);
    memset(l.data, 7, 10);
    assert_status(cm_sbuf_publish(buf, l.id, 10, &seq), CM_OK);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(got, 0, 0, &m), CM_ERR_ACCESS_DENIED);
    uint8_t copy[64];
    assert_status(cm_sbuf_receive_copy(got, 0, 0, copy, sizeof(copy), &m), CM_OK);
    assert_int_equal(m.len, 10);
    assert_int_equal(copy[9], 7);
    /* Dropping TRANSFER: it can no longer be sent (and is consumed). */
    assert_status(cm_handle_replace(got, CM_RIGHT_READ, &again), CM_OK);
    assert_status(cm_channel_write(e0, NULL, 0, &again, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_get_info(again, &hi), CM_ERR_BAD_HANDLE);
    /* The buffer (producer) never travels: it has no TRANSFER. */
    cm_handle_t bdup;
    assert_status(cm_handle_duplicate(buf, CM_RIGHTS_SAME, &bdup), CM_OK);
    assert_status(cm_channel_write(e0, NULL, 0, &bdup, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* A consumer process killed after the transfer, holding slots: the
 * producer reclaims them (the socket that travelled is its last end). */
static void test_consumer_killed_after_transfer_has_its_slots_reclaimed(void **state)
{
    (void)state;
    cm_handle_t buf, con, e0, e1;
    cm_sbuf_config_t cfg = cfg_of(3, 64, 3, CM_SBUF_BLOCK);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        close(ready[0]);
        cm_handle_t h = 0;
        CHILD_EXPECT(receive_handle(e1, &h), CM_OK);
        cm_sbuf_msg_t m;
        for (int i = 0; i < 3; i++)
            CHILD_EXPECT(cm_sbuf_receive(h, 0, 10 * SEC, &m), CM_OK);
        (void)!write(ready[1], "r", 1);
        pause();
        child_exit();
    }
    close(ready[1]);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_channel_write(e0, NULL, 0, &con, 1), CM_OK);
    for (uint64_t s = 0; s < 3; s++)
        produce(buf, s);
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    close(ready[0]);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].held, 3);
    cm_sbuf_loan_t l;
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_ERR_SHOULD_WAIT);
    kill(pid, SIGKILL);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_status(cm_sbuf_loan(buf, 0, 10 * SEC, &l), CM_OK);
    assert_status(cm_sbuf_cancel(buf, l.id), CM_OK);
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 3);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* ---- forged messages ---- */

enum forge {
    HONEST,
    DATA_WRITABLE,      /* data memfd without a write seal */
    PROD_SHRINKABLE,    /* producer area without SHRINK */
    CONS_SHRINKABLE,    /* consumer area without SHRINK */
    CONS_WRITE_SEALED,  /* consumer area the consumer could not write */
    DATA_WRONG_SIZE,    /* one page more than the layout's */
    SOCK_IS_PIPE,
    SOCK_IS_STREAM,
    BAD_CONFIG,         /* slot_count 0 */
    POS_OUT_OF_RANGE,
    READ_DISAGREES,     /* metadata read != the shared read (BLOCK) */
    TOO_FEW_FDS,        /* three fds for a consumer */
    FORGE_COUNT
};

static int sealed_memfd(uint64_t size, unsigned seals)
{
    int fd = memfd_create("forged", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    if (seals != 0)
        assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
    return fd;
}

/* Sends a consumer record built by hand on raw socket `raw` (the peer of
 * a capmem channel end); returns the producer end of its socketpair (or
 * -1) so that the consumer is not told its producer died. */
static int send_forged(int raw, enum forge f)
{
    cm_sbuf_config_t cfg = cfg_of(4, 128, 2, CM_SBUF_BLOCK);
    struct cm_sbuf_layout lay;
    assert_status(cm__sbuf_layout(&cfg, &lay), CM_OK);
    const unsigned ro = F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
    int fds[4], peer = -1;
    fds[0] = sealed_memfd(lay.data_size + (f == DATA_WRONG_SIZE ? 4096 : 0),
                          f == DATA_WRITABLE ? F_SEAL_GROW | F_SEAL_SHRINK : ro);
    fds[1] = sealed_memfd(lay.prod_area_size, 0);
    struct cm_sbuf_prod_ctl *p = mmap(NULL, lay.prod_area_size, PROT_READ | PROT_WRITE,
                                      MAP_SHARED, fds[1], 0);
    assert_true(p != MAP_FAILED);
    p->state = CM_SBUF_CTL_OPEN;
    munmap(p, lay.prod_area_size);
    assert_int_equal(fcntl(fds[1], F_ADD_SEALS, f == PROD_SHRINKABLE ? ro & ~F_SEAL_SHRINK : ro), 0);
    fds[2] = sealed_memfd(lay.cons_area_size,
                          f == CONS_SHRINKABLE ? F_SEAL_GROW
                          : f == CONS_WRITE_SEALED ? F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_WRITE
                                                   : F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    int sv[2];
    if (f == SOCK_IS_PIPE) {
        assert_int_equal(pipe2(sv, O_CLOEXEC), 0);
        close(sv[1]);
        fds[3] = sv[0];
    } else {
        assert_int_equal(socketpair(AF_UNIX, (f == SOCK_IS_STREAM ? SOCK_STREAM : SOCK_SEQPACKET) |
                                                 SOCK_CLOEXEC, 0, sv), 0);
        fds[3] = sv[1];
        peer = sv[0];
    }
    struct cm__sbuf_wire meta = { .config = cfg, .pos = f == POS_OUT_OF_RANGE ? 1 : 0,
                                  .read = f == READ_DISAGREES ? 1 : 0 };
    if (f == BAD_CONFIG)
        meta.config.slot_count = 0;
    struct cm__wire_handle d = { CM_OBJ_SBUF_CONSUMER, CM_SBUF_CONSUMER_DEFAULT_RIGHTS, 0 };
    uint8_t hdr[CM__WIRE_MAX_HDR];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    uint32_t nfds = f == TOO_FEW_FDS ? 3 : 4;
    struct iovec iov = { hdr, cm__wire_encode(hdr, 0, &d, 1, &meta, 1) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
    memset(&ctl, 0, sizeof(ctl));
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    assert_true(sendmsg(raw, &msg, 0) == (ssize_t)iov.iov_len);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    return peer;
}

/* Every forgery is PROTOCOL with every fd of the message closed; the
 * honest record (built the same way) is admitted, so each refusal is
 * the one fact that differs. */
static void test_forged_consumer_records_are_protocol_and_leak_no_fd(void **state)
{
    (void)state;
    for (int f = 0; f < FORGE_COUNT; f++) {
        int sv[2];
        cm_handle_t end, h = 0;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        assert_status(cm__channel_install(sv[0], CM_CHANNEL_DEFAULT_RIGHTS, &end), CM_OK);
        int before = count_open_fds();
        int maps = count_maps();
        int peer = send_forged(sv[1], (enum forge)f);
        uint32_t nb, nh;
        char b[4];
        cm_status_t st = cm_channel_read(end, b, sizeof(b), &nb, &h, 1, &nh);
        if (f == HONEST) {
            assert_status(st, CM_OK);
            cm_sbuf_msg_t m;
            assert_status(cm_sbuf_receive(h, 0, 0, &m), CM_ERR_SHOULD_WAIT);
            assert_status(cm_handle_close(h), CM_OK);
        } else {
            if (st != CM_ERR_PROTOCOL)
                fail_msg("forgery %d: %s, expected PROTOCOL", f, cm_status_name(st));
        }
        if (peer >= 0)
            close(peer);
        assert_int_equal(count_open_fds(), before);
        assert_int_equal(count_maps(), maps);
        close(sv[1]);
        assert_status(cm_handle_close(end), CM_OK);
    }
}

/* The consumer area the producer makes is sealed against resizing: a
 * hostile producer cannot cut it under a consumer (SIGBUS), and a
 * consumer cannot cut it under the producer. */
static void test_every_area_of_a_consumer_is_sealed_against_resizing(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct cm__hobj *obj;
    assert_status(cm__handle_get(con, CM_OBJ_SBUF_CONSUMER, 0, &obj, NULL), CM_OK);
    struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
    int fds[] = { c->data_fd, c->prod_fd, c->cons_fd };
    for (int i = 0; i < 3; i++) {
        int seals = fcntl(fds[i], F_GET_SEALS);
        assert_true(seals >= 0);
        assert_int_equal(seals & (F_SEAL_GROW | F_SEAL_SHRINK), F_SEAL_GROW | F_SEAL_SHRINK);
        assert_int_not_equal(ftruncate(fds[i], 0), 0);
        if (i < 2)
            assert_true(seals & F_SEAL_FUTURE_WRITE);
    }
    cm__hobj_put(obj);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* ---- object waits ---- */

static void test_signals_follow_publish_release_and_producer_close(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_signals_t obs;
    cm_sbuf_config_t cfg = cfg_of(1, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_object_wait_one(con, CM_SIGNAL_READABLE, 0, &obs), CM_ERR_TIMED_OUT);
    assert_int_equal(obs, 0);
    assert_status(cm_object_wait_one(buf, CM_SIGNAL_WRITABLE, 0, &obs), CM_OK);
    assert_int_equal(obs, CM_SIGNAL_WRITABLE);
    produce(buf, 0);
    assert_status(cm_object_wait_one(con, CM_SIGNAL_READABLE, 0, &obs), CM_OK);
    assert_int_equal(obs, CM_SIGNAL_READABLE);
    /* The one slot is published: a loan would wait. */
    assert_status(cm_object_wait_one(buf, CM_SIGNAL_WRITABLE, 0, &obs), CM_ERR_TIMED_OUT);
    assert_int_equal(obs, 0);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_status(cm_object_wait_one(con, CM_SIGNAL_READABLE, 0, &obs), CM_ERR_TIMED_OUT);
    assert_status(cm_object_wait_one(buf, CM_SIGNAL_WRITABLE, 0, &obs), CM_ERR_TIMED_OUT);
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_object_wait_one(buf, CM_SIGNAL_WRITABLE, 0, &obs), CM_OK);
    /* Producer leaves with one message queued: READABLE until drained,
     * PEER_CLOSED from now on. */
    produce(buf, 1);
    assert_status(cm_handle_close(buf), CM_OK);
    assert_status(cm_object_wait_one(con, CM_SIGNAL_PEER_CLOSED, 0, &obs), CM_OK);
    assert_int_equal(obs, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED);
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_object_wait_one(con, CM_SIGNAL_READABLE, 0, &obs), CM_ERR_TIMED_OUT);
    assert_int_equal(obs, CM_SIGNAL_PEER_CLOSED);
    /* Waiting for READABLE now sleeps to the deadline (nothing can come). */
    assert_status(cm_object_wait_one(con, CM_SIGNAL_READABLE, 20 * MS, &obs), CM_ERR_TIMED_OUT);
    assert_status(cm_handle_close(con), CM_OK);
}

struct waiter {
    cm_handle_t h;
    cm_signals_t want, obs;
    int64_t timeout;
    cm_status_t st;
    double cpu_s; /* CPU time this thread spent in the wait */
};

static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void wait_thread(void *arg)
{
    struct waiter *w = arg;
    double t0 = thread_cpu_s();
    w->st = cm_object_wait_one(w->h, w->want, w->timeout, &w->obs);
    w->cpu_s = thread_cpu_s() - t0;
}

/* A wait sleeps in poll and is woken by a publish (consumer) or a release
 * (buffer) made by another thread while it sleeps. */
static void test_waits_sleep_until_publish_or_release_wakes_them(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(1, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    for (int round = 0; round < 3; round++) {
        struct waiter w = { con, CM_SIGNAL_READABLE, 0, CM_TIMEOUT_INFINITE, CM_ERR_INTERNAL, 0 };
        struct test_thread t;
        thread_start(&t, wait_thread, &w);
        await_blocked(&t);
        produce(buf, (uint64_t)round);
        thread_join(&t);
        assert_status(w.st, CM_OK);
        assert_true(w.obs & CM_SIGNAL_READABLE);
        /* The buffer's one slot is out: a wait for WRITABLE sleeps until
         * the release. */
        struct waiter wb = { buf, CM_SIGNAL_WRITABLE, 0, CM_TIMEOUT_INFINITE, CM_ERR_INTERNAL, 0 };
        thread_start(&t, wait_thread, &wb);
        await_blocked(&t);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
        assert_status(cm_sbuf_release(con, m.seq), CM_OK);
        thread_join(&t);
        assert_status(wb.st, CM_OK);
        assert_int_equal(wb.obs, CM_SIGNAL_WRITABLE);
    }
    /* The wake-up bytes of those rounds are stale now: a wait on nothing
     * must sleep, not poll them in a loop (a loop costs its whole timeout
     * in CPU time; a sleep almost none). */
    struct waiter w = { con, CM_SIGNAL_READABLE, 0, 300 * MS, CM_ERR_INTERNAL, 0 };
    struct test_thread t;
    thread_start(&t, wait_thread, &w);
    thread_join(&t);
    assert_status(w.st, CM_ERR_TIMED_OUT);
    if (w.cpu_s > 0.1)
        fail_msg("a wait on nothing used %.3f s of CPU in 0.3 s: it did not sleep", w.cpu_s);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* The buffer's WRITABLE wait is woken by a release made in another
 * process (by the consumer sent there), and that consumer's PEER_CLOSED
 * wait by the producer's close. */
static void test_writable_wait_is_woken_by_a_release_in_another_process(void **state)
{
    (void)state;
    cm_handle_t buf, con, e0, e1;
    cm_sbuf_config_t cfg = cfg_of(1, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t h = 0;
        CHILD_EXPECT(receive_handle(e1, &h), CM_OK);
        cm_sbuf_msg_t m;
        CHILD_EXPECT(cm_sbuf_receive(h, 0, 10 * SEC, &m), CM_OK);
        nap_ms(100); /* let the parent sleep in its wait */
        CHILD_EXPECT(cm_sbuf_release(h, m.seq), CM_OK);
        cm_signals_t obs;
        CHILD_EXPECT(cm_object_wait_one(h, CM_SIGNAL_PEER_CLOSED, 10 * SEC, &obs), CM_OK);
        child_exit();
    }
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_channel_write(e0, NULL, 0, &con, 1), CM_OK);
    produce(buf, 0);
    cm_signals_t obs;
    assert_status(cm_object_wait_one(buf, CM_SIGNAL_WRITABLE, 10 * SEC, &obs), CM_OK);
    assert_int_equal(obs, CM_SIGNAL_WRITABLE);
    assert_status(cm_handle_close(buf), CM_OK); /* the child's PEER_CLOSED */
    assert_child_passed(pid);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
}

struct many_arg {
    cm_wait_item_t *items;
    cm_status_t st;
};

static void many_thread(void *arg)
{
    struct many_arg *a = arg;
    a->st = cm_object_wait_many(a->items, 2, 10 * SEC);
}

static void test_wait_many_mixes_a_channel_and_a_consumer(void **state)
{
    (void)state;
    cm_handle_t buf, con, e0, e1;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    cm_wait_item_t items[2] = { { e1, CM_SIGNAL_READABLE, 0 }, { con, CM_SIGNAL_READABLE, 0 } };
    assert_status(cm_object_wait_many(items, 2, 0), CM_ERR_TIMED_OUT);
    produce(buf, 0);
    assert_status(cm_object_wait_many(items, 2, 10 * SEC), CM_OK);
    assert_int_equal(items[0].pending & CM_SIGNAL_READABLE, 0);
    assert_int_equal(items[1].pending & CM_SIGNAL_READABLE, CM_SIGNAL_READABLE);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_channel_write(e0, "x", 1, NULL, 0), CM_OK);
    assert_status(cm_object_wait_many(items, 2, 10 * SEC), CM_OK);
    assert_int_equal(items[0].pending & CM_SIGNAL_READABLE, CM_SIGNAL_READABLE);
    assert_int_equal(items[1].pending & CM_SIGNAL_READABLE, 0);
    /* And a publish wakes a wait_many that sleeps. */
    char b;
    uint32_t nb, nh;
    assert_status(cm_channel_read(e1, &b, 1, &nb, NULL, 0, &nh), CM_OK);
    struct many_arg ma = { items, CM_ERR_INTERNAL };
    struct test_thread t;
    thread_start(&t, many_thread, &ma);
    await_blocked(&t);
    produce(buf, 1);
    thread_join(&t);
    assert_status(ma.st, CM_OK);
    assert_int_equal(items[1].pending & CM_SIGNAL_READABLE, CM_SIGNAL_READABLE);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* Closing the handle a thread waits on ends the wait with BAD_HANDLE. */
static void test_closing_a_waited_handle_is_bad_handle(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(1, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct waiter w = { con, CM_SIGNAL_READABLE, 0, 10 * SEC, CM_ERR_INTERNAL, 0 };
    struct test_thread t;
    thread_start(&t, wait_thread, &w);
    await_blocked(&t);
    assert_status(cm_handle_close(con), CM_OK);
    thread_join(&t);
    assert_status(w.st, CM_ERR_BAD_HANDLE);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    produce(buf, 0); /* the buffer's one slot goes out, to con */
    struct waiter wb = { buf, CM_SIGNAL_WRITABLE, 0, 10 * SEC, CM_ERR_INTERNAL, 0 };
    thread_start(&t, wait_thread, &wb);
    await_blocked(&t);
    assert_status(cm_handle_close(buf), CM_OK);
    thread_join(&t);
    assert_status(wb.st, CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(con), CM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_sent_consumer_gets_every_message_in_order_and_its_releases_return_slots),
        LEAK_TEST(test_rights_reduced_before_send_hold_after_receive),
        LEAK_TEST(test_consumer_killed_after_transfer_has_its_slots_reclaimed),
        LEAK_TEST(test_forged_consumer_records_are_protocol_and_leak_no_fd),
        LEAK_TEST(test_every_area_of_a_consumer_is_sealed_against_resizing),
        LEAK_TEST(test_signals_follow_publish_release_and_producer_close),
        LEAK_TEST(test_waits_sleep_until_publish_or_release_wakes_them),
        LEAK_TEST(test_writable_wait_is_woken_by_a_release_in_another_process),
        LEAK_TEST(test_wait_many_mixes_a_channel_and_a_consumer),
        LEAK_TEST(test_closing_a_waited_handle_is_bad_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
