/* SPDX-License-Identifier: MIT */
/* SharedBuffer across processes (fork-inherited consumer handles): a
 * consumer killed while holding slots has them reclaimed, a killed
 * producer is PEER_CLOSED for its consumer after the last message, and a
 * producer streams 10,000 messages of mixed sizes to two consumer
 * processes, each verified by sequence and content. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/threads.h"
#include "../../host/sbuf_internal.h"

#define SEC (1000000000ll)
#define STREAM_N 10000u
#define STREAM_SLOT 8192u

static uint32_t len_of(uint64_t seq)
{
    return (uint32_t)((seq * 2654435761u) % (STREAM_SLOT + 1));
}

static uint8_t byte_of(uint64_t seq, uint32_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static void produce(cm_handle_t buf, uint64_t seq, uint32_t len)
{
    cm_sbuf_loan_t l;
    uint64_t got;
    assert_status(cm_sbuf_loan(buf, 0, 10 * SEC, &l), CM_OK);
    for (uint32_t i = 0; i < len; i++)
        ((uint8_t *)l.data)[i] = byte_of(seq, i);
    assert_status(cm_sbuf_publish(buf, l.id, len, &got), CM_OK);
    assert_true(got == seq);
}

/* The consumer process is killed holding every slot, either before the
 * loan (the loan looks for deaths) or, with `during`, while the loan
 * already waits: spinning without the lock on the consumer's release word
 * (busy-poll, or the adaptive spin of a blocking loan) or asleep. The loan
 * must get the slot back, not time out (a busy-poll loan looks for deaths
 * itself every CM__SBUF_BUSY_LOOK pauses; at its deadline it does not).
 * With `info`, another thread calls get_info meanwhile, which notices the
 * death too and drops the consumer's area: the spinning loan holds a
 * reference on it (a spin on an unmapped area is SIGSEGV). */
struct info_loop {
    cm_handle_t buf;
    atomic_int stop;
};

static void info_loop_fn(void *arg)
{
    struct info_loop *il = arg;
    while (!atomic_load(&il->stop)) {
        cm_sbuf_info_t info;
        (void)cm_sbuf_get_info(il->buf, &info);
    }
}

static void consumer_killed_holding_slots(uint32_t loan_flags, int during, int info_thread)
{
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = { 3, 64, 1, 3, 1, CM_SBUF_BLOCK, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    for (uint64_t s = 0; s < 3; s++)
        produce(buf, s, 10);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        close(ready[0]);
        CHILD_EXPECT(cm_handle_close(buf), CM_OK); /* its copy is inert */
        cm_sbuf_msg_t m;
        for (int i = 0; i < 3; i++)
            CHILD_EXPECT(cm_sbuf_receive(con, 0, 5 * SEC, &m), CM_OK);
        (void)!write(ready[1], "r", 1);
        pause(); /* killed holding all three */
        child_exit();
    }
    close(ready[1]);
    assert_status(cm_handle_close(con), CM_OK); /* the child is the consumer */
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    close(ready[0]);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].held, 3);
    cm_sbuf_loan_t l;
    assert_status(cm_sbuf_loan(buf, loan_flags, 0, &l), CM_ERR_SHOULD_WAIT);
    pid_t killer = -1;
    struct info_loop il = { buf, 0 };
    struct test_thread t;
    if (info_thread)
        thread_start(&t, info_loop_fn, &il);
    if (during) {
        fflush(NULL);
        killer = fork();
        assert_true(killer >= 0);
        if (killer == 0) {
            usleep(100 * 1000); /* the loan below is waiting by then */
            kill(pid, SIGKILL);
            _exit(0);
        }
    } else {
        kill(pid, SIGKILL);
    }
    assert_status(cm_sbuf_loan(buf, loan_flags, 5 * SEC, &l), CM_OK);
    if (info_thread) {
        atomic_store(&il.stop, 1);
        thread_join(&t);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    if (killer > 0)
        assert_int_equal(waitpid(killer, &ws, 0), killer);
    assert_status(cm_sbuf_cancel(buf, l.id), CM_OK);
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 3);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void test_consumer_killed_holding_slots_is_reclaimed(void **state)
{
    (void)state;
    consumer_killed_holding_slots(0, 0, 0);
}

static void test_consumer_killed_while_a_loan_waits_is_reclaimed(void **state)
{
    (void)state;
    consumer_killed_holding_slots(0, 1, 1);
}

static void test_consumer_killed_while_a_busy_poll_loan_spins_is_reclaimed(void **state)
{
    (void)state;
    consumer_killed_holding_slots(CM_SBUF_BUSY_POLL, 1, 0);
}

static void test_consumer_killed_while_a_busy_poll_loan_spins_and_info_reaps_it(void **state)
{
    (void)state;
    consumer_killed_holding_slots(CM_SBUF_BUSY_POLL, 1, 1);
}

/* Producer process P (forked from the test) makes the buffer and a
 * consumer, forks the consumer process C, publishes 3 messages, says so,
 * and is killed. C, blocked in receive, must get the 3 messages, then
 * PEER_CLOSED, and reports through a pipe (it is P's child). */
static void killed_producer_is_peer_closed(uint32_t recv_flags)
{
    int ready[2], verdict[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(verdict), 0);
    pid_t p = fork_checked_child();
    if (p == 0) {
        close(ready[0]);
        close(verdict[0]);
        cm_handle_t buf, con;
        cm_sbuf_config_t cfg = { 4, 256, 1, 4, 1, CM_SBUF_BLOCK, 0, 0 };
        CHILD_EXPECT(cm_sbuf_create(&cfg, &buf), CM_OK);
        CHILD_EXPECT(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
        fflush(NULL);
        pid_t c = fork();
        if (c == 0) {
            alarm(20); /* a hang below closes the verdict pipe: 'n' */
            close(ready[1]);
            cm_handle_close(buf);
            char v = 'y';
            cm_sbuf_msg_t m;
            for (uint64_t s = 0; s < 3; s++) {
                if (cm_sbuf_receive(con, recv_flags, 10 * SEC, &m) != CM_OK || m.seq != s ||
                    m.len != 100 || ((const uint8_t *)m.data)[99] != byte_of(s, 99))
                    v = 'n';
            }
            /* Waiting (busy: spinning without the lock on tail) when P
             * is killed; no deadline, whose last look would see it. */
            if (cm_sbuf_receive(con, recv_flags, CM_TIMEOUT_INFINITE, &m) != CM_ERR_PEER_CLOSED)
                v = 'n';
            if (((const uint8_t *)m.data)[0] != byte_of(2, 0)) /* still mapped */
                v = 'n';
            (void)!write(verdict[1], &v, 1);
            _exit(0);
        }
        close(verdict[1]);
        cm_handle_close(con);
        for (uint64_t s = 0; s < 3; s++) {
            cm_sbuf_loan_t l;
            CHILD_EXPECT(cm_sbuf_loan(buf, 0, 5 * SEC, &l), CM_OK);
            for (uint32_t i = 0; i < 100; i++)
                ((uint8_t *)l.data)[i] = byte_of(s, i);
            CHILD_EXPECT(cm_sbuf_publish(buf, l.id, 100, NULL), CM_OK);
        }
        (void)!write(ready[1], "r", 1);
        pause();
        child_exit();
    }
    close(ready[1]);
    close(verdict[1]);
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    kill(p, SIGKILL);
    int ws;
    assert_int_equal(waitpid(p, &ws, 0), p);
    assert_int_equal(read(verdict[0], &b, 1), 1);
    assert_int_equal(b, 'y');
    close(ready[0]);
    close(verdict[0]);
}

static void test_killed_producer_is_peer_closed_after_last_message(void **state)
{
    (void)state;
    killed_producer_is_peer_closed(0);
}

static void test_killed_producer_is_peer_closed_for_a_busy_poll_receive(void **state)
{
    (void)state;
    killed_producer_is_peer_closed(CM_SBUF_BUSY_POLL);
}

/* One slot, both sides busy-polling (each spins without the lock on the
 * other's word: the producer on rel_tail, the consumer on tail): every
 * message arrives, in order, intact, and every slot comes back. Proves the
 * lock-free paths correct, not fast (bench/sbuf measures that). */
static void test_busy_poll_ping_pong_between_processes_loses_nothing(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = { 1, 256, 1, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        alarm(60);
        CHILD_EXPECT(cm_handle_close(buf), CM_OK);
        for (uint64_t s = 0; s < 2000; s++) {
            cm_sbuf_msg_t m;
            cm_status_t st = cm_sbuf_receive(con, CM_SBUF_BUSY_POLL, 10 * SEC, &m);
            CHILD_EXPECT(st, CM_OK);
            if (st != CM_OK)
                break;
            uint32_t len = (uint32_t)(s % 257);
            int ok = m.seq == s && m.len == len;
            for (uint32_t i = 0; i < len && ok; i++)
                ok = ((const uint8_t *)m.data)[i] == byte_of(s, i);
            CHILD_CHECK(ok);
            CHILD_EXPECT(cm_sbuf_release(con, m.seq), CM_OK);
        }
        cm_handle_close(con);
        child_exit();
    }
    assert_status(cm_handle_close(con), CM_OK);
    for (uint64_t s = 0; s < 2000; s++) {
        cm_sbuf_loan_t l;
        uint32_t len = (uint32_t)(s % 257);
        assert_status(cm_sbuf_loan(buf, CM_SBUF_BUSY_POLL, 10 * SEC, &l), CM_OK);
        for (uint32_t i = 0; i < len; i++)
            ((uint8_t *)l.data)[i] = byte_of(s, i);
        assert_status(cm_sbuf_publish(buf, l.id, len, NULL), CM_OK);
    }
    assert_child_passed(pid);
    cm_sbuf_loan_t l;
    assert_status(cm_sbuf_loan(buf, CM_SBUF_BUSY_POLL, 5 * SEC, &l), CM_OK);
    assert_status(cm_sbuf_cancel(buf, l.id), CM_OK);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 1);
    assert_true(info.next_seq == 2000);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* BLOCK: every message, in order. DROP_OLDEST: an increasing subsequence
 * ending with the last message, each gap equal to `dropped`. */
static void stream_consumer(cm_handle_t con, int drop)
{
    cm_sbuf_msg_t m;
    uint64_t dropped = 0;
    for (uint64_t s = 0; s < STREAM_N; s++) {
        cm_status_t st = cm_sbuf_receive(con, 0, 10 * SEC, &m);
        CHILD_EXPECT(st, CM_OK);
        if (st != CM_OK)
            break;
        if (drop && m.seq > s && m.seq - s == m.dropped) {
            dropped += m.dropped;
            s = m.seq;
        }
        CHILD_CHECK(m.seq == s && (drop || m.dropped == 0) && m.len == len_of(s));
        const uint8_t *d = m.data;
        int ok = 1;
        for (uint32_t i = 0; i < m.len && ok; i++)
            ok = d[i] == byte_of(s, i);
        CHILD_CHECK(ok);
        if (!ok || m.seq != s)
            break;
        CHILD_EXPECT(cm_sbuf_release(con, m.seq), CM_OK);
    }
    cm_sbuf_info_t info;
    CHILD_EXPECT(cm_sbuf_get_info(con, &info), CM_OK);
    CHILD_CHECK(info.consumers[info.self].dropped == dropped);
    cm_handle_close(con);
}

static void stream(uint32_t policy)
{
    cm_handle_t buf, c1, c2;
    cm_sbuf_config_t cfg = { 8, STREAM_SLOT, 2, policy == CM_SBUF_BLOCK ? 4 : 3, 2, policy, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &c1), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &c2), CM_OK);
    pid_t p1 = fork_checked_child();
    if (p1 == 0) {
        alarm(60);
        cm_handle_close(buf);
        cm_handle_close(c2);
        stream_consumer(c1, policy == CM_SBUF_DROP_OLDEST);
        child_exit();
    }
    pid_t p2 = fork_checked_child();
    if (p2 == 0) {
        alarm(60);
        cm_handle_close(buf);
        cm_handle_close(c1);
        stream_consumer(c2, policy == CM_SBUF_DROP_OLDEST);
        child_exit();
    }
    assert_status(cm_handle_close(c1), CM_OK);
    assert_status(cm_handle_close(c2), CM_OK);
    for (uint64_t s = 0; s < STREAM_N; s++)
        produce(buf, s, len_of(s));
    assert_child_passed(p1);
    assert_child_passed(p2);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 8);
    assert_true(info.next_seq == STREAM_N);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void test_two_consumer_processes_verify_10000_mixed_messages(void **state)
{
    (void)state;
    stream(CM_SBUF_BLOCK);
}

static void test_drop_oldest_stream_to_two_processes_gaps_match_dropped(void **state)
{
    (void)state;
    stream(CM_SBUF_DROP_OLDEST);
}

static int count_dev_shm(void)
{
    DIR *d = opendir("/dev/shm");
    int n = 0;
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* A consumer process SIGKILLed at a different point of its receive /
 * release loop each round (loan, publish, receive and release all run
 * concurrently with the kill): afterwards every slot it had comes back,
 * and an in-process consumer saw every message in order. */
static void test_consumer_killed_at_any_step_leaves_nothing_held(void **state)
{
    (void)state;
    int shm = count_dev_shm();
    cm_handle_t buf, good;
    cm_sbuf_config_t cfg = { 4, 512, 2, 2, 1, CM_SBUF_BLOCK, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &good), CM_OK);
    uint64_t seq = 0;
    for (int round = 0; round < 12; round++) {
        cm_handle_t con;
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            cm_handle_close(buf);
            cm_handle_close(good);
            cm_sbuf_msg_t m;
            for (;;) {
                if (cm_sbuf_receive(con, 0, CM_TIMEOUT_INFINITE, &m) != CM_OK)
                    _exit(3);
                if (cm_sbuf_release(con, m.seq) != CM_OK)
                    _exit(4);
            }
        }
        assert_status(cm_handle_close(con), CM_OK);
        for (int k = 0; k < 20 + round * 13; k++) {
            produce(buf, seq, (uint32_t)(seq % 513));
            cm_sbuf_msg_t m;
            assert_status(cm_sbuf_receive(good, 0, 5 * SEC, &m), CM_OK);
            assert_true(m.seq == seq && m.len == seq % 513);
            assert_true(m.len == 0 || ((const uint8_t *)m.data)[m.len - 1] ==
                                          byte_of(seq, m.len - 1));
            assert_status(cm_sbuf_release(good, m.seq), CM_OK);
            seq++;
        }
        kill(pid, SIGKILL);
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFSIGNALED(ws)); /* it was still running: no error exit */
        /* Everything comes back once the hang-up is seen. */
        cm_sbuf_loan_t l[1];
        assert_status(cm_sbuf_loan(buf, 0, 5 * SEC, &l[0]), CM_OK);
        assert_status(cm_sbuf_cancel(buf, l[0].id), CM_OK);
        cm_sbuf_info_t info;
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
        assert_int_equal(info.free, 4);
        assert_int_equal(info.consumers[1].state, CM_SBUF_CONSUMER_ABSENT);
    }
    assert_status(cm_handle_close(good), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
    assert_int_equal(count_dev_shm(), shm);
}

/* The producer process SIGKILLed at a different point of its loan / fill /
 * publish loop each round: its consumer process receives a contiguous,
 * intact prefix of the stream, then PEER_CLOSED, never a hang. */
static void test_producer_killed_at_any_step_consumer_gets_prefix_then_peer_closed(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        int ready[2], verdict[2];
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(verdict), 0);
        fflush(NULL);
        pid_t p = fork();
        assert_true(p >= 0);
        if (p == 0) {
            close(ready[0]);
            close(verdict[0]);
            cm_handle_t buf, con;
            cm_sbuf_config_t cfg = { 4, 1024, 1, 2, 2, CM_SBUF_BLOCK, 0, 0 };
            if (cm_sbuf_create(&cfg, &buf) != CM_OK ||
                cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con) != CM_OK)
                _exit(2);
            pid_t c = fork();
            if (c == 0) {
                close(ready[1]);
                cm_handle_close(buf);
                char v = 'y';
                cm_sbuf_msg_t m;
                uint64_t next = 0;
                cm_status_t st;
                while ((st = cm_sbuf_receive(con, 0, 20 * SEC, &m)) == CM_OK) {
                    const uint8_t *d = m.data;
                    if (m.seq != next || m.len != len_of(m.seq) % 1025)
                        v = 'n';
                    for (uint32_t i = 0; i < m.len; i++)
                        if (d[i] != byte_of(m.seq, i))
                            v = 'n';
                    if (cm_sbuf_release(con, m.seq) != CM_OK)
                        v = 'n';
                    next++;
                }
                if (st != CM_ERR_PEER_CLOSED)
                    v = 'n';
                (void)!write(verdict[1], &v, 1);
                _exit(0);
            }
            close(verdict[1]);
            cm_handle_close(con);
            (void)!write(ready[1], "r", 1);
            for (uint64_t s = 0;; s++) {
                cm_sbuf_loan_t l;
                if (cm_sbuf_loan(buf, 0, 20 * SEC, &l) != CM_OK)
                    _exit(3);
                uint32_t len = len_of(s) % 1025;
                for (uint32_t i = 0; i < len; i++)
                    ((uint8_t *)l.data)[i] = byte_of(s, i);
                if (cm_sbuf_publish(buf, l.id, len, NULL) != CM_OK)
                    _exit(4);
            }
        }
        close(ready[1]);
        close(verdict[1]);
        char b;
        assert_int_equal(read(ready[0], &b, 1), 1);
        usleep((useconds_t)(round * 700));
        kill(p, SIGKILL);
        int ws;
        assert_int_equal(waitpid(p, &ws, 0), p);
        assert_int_equal(read(verdict[0], &b, 1), 1);
        assert_int_equal(b, 'y');
        close(ready[0]);
        close(verdict[0]);
    }
}

/* A consumer process writes garbage into its own release ring: the
 * producer evicts it (it then sees PEER_CLOSED), and the other consumer
 * and the producer go on. */
static void test_hostile_consumer_process_is_evicted_others_unaffected(void **state)
{
    (void)state;
    cm_handle_t buf, bad, good;
    cm_sbuf_config_t cfg = { 3, 64, 2, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &bad), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &good), CM_OK);
    produce(buf, 0, 5);
    int go[2], done[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        close(go[1]);
        close(done[0]);
        cm_handle_close(buf);
        cm_handle_close(good);
        cm_sbuf_msg_t m;
        CHILD_EXPECT(cm_sbuf_receive(bad, 0, 5 * SEC, &m), CM_OK);
        struct cm__hobj *obj;
        CHILD_EXPECT(cm__handle_get(bad, CM_OBJ_SBUF_CONSUMER, 0, &obj, NULL), CM_OK);
        struct cm__sbuf_consumer *c = (struct cm__sbuf_consumer *)obj;
        uint64_t t = c->cons->rel_tail;
        struct cm_sbuf_rel *e = &cm__sbuf_rel_ring(c->cons)[cm__sbuf_cell(t, c->lay.ring_size)];
        e->seq = m.seq;
        e->slot = 2; /* not the slot it holds */
        e->reserved = 0;
        __atomic_store_n(&c->cons->rel_tail, t + 1, __ATOMIC_RELEASE);
        cm__hobj_put(obj);
        (void)!write(done[1], "d", 1);
        char b;
        CHILD_CHECK(read(go[0], &b, 1) == 1);
        CHILD_EXPECT(cm_sbuf_receive(bad, 0, 5 * SEC, &m), CM_ERR_PEER_CLOSED);
        cm_handle_close(bad);
        child_exit();
    }
    close(go[0]);
    close(done[1]);
    assert_status(cm_handle_close(bad), CM_OK);
    char b;
    assert_int_equal(read(done[0], &b, 1), 1);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
    assert_int_equal(info.consumers[1].state, CM_SBUF_CONSUMER_ACTIVE);
    assert_int_equal(write(go[1], "g", 1), 1);
    for (uint64_t s = 1; s < 10; s++) {
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(good, 0, 5 * SEC, &m), CM_OK);
        assert_status(cm_sbuf_release(good, m.seq), CM_OK);
        produce(buf, s, 5);
    }
    assert_child_passed(pid);
    close(go[1]);
    close(done[0]);
    assert_status(cm_handle_close(good), CM_OK);
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* A consumer process is a fork of the producer's: it must not inherit the
 * producer's powers. The producer's writable mappings (data, producer
 * areas, every consumer area) are absent in the child (a write there is
 * SIGSEGV, and the parent's bytes stay), and its copies of the producer's
 * fds (another consumer's socket end, the epoll set, the eventfd, the data
 * memfd) are closed before fork returns. */
struct fork_write { volatile uint8_t *p; };

static int write_inherited(void *arg)
{
    *((struct fork_write *)arg)->p = 0x5a;
    return 0;
}

static int fds_closed_in_child(void *arg)
{
    const int *fds = arg;
    for (int i = 0; fds[i] >= 0; i++)
        if (fcntl(fds[i], F_GETFD) != -1)
            return 10 + i;
    return 0;
}

static void test_forked_child_gets_no_producer_mapping_or_fd(void **state)
{
    (void)state;
    cm_handle_t buf, con0, con1;
    cm_sbuf_config_t cfg = { 2, 64, 2, 1, 1, CM_SBUF_BLOCK, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con0), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con1), CM_OK);
    struct cm__hobj *obj;
    assert_status(cm__handle_get(buf, CM_OBJ_SBUF, 0, &obj, NULL), CM_OK);
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    volatile uint8_t *targets[] = { b->data, (volatile uint8_t *)&b->links[0].prod->state,
                                    (volatile uint8_t *)&b->links[1].cons->read };
    for (unsigned i = 0; i < 3; i++) {
        uint8_t before = *targets[i];
        struct fork_write a = { targets[i] };
        assert_int_equal(in_child(write_inherited, &a), 1000 + SIGSEGV);
        assert_int_equal(*targets[i], before);
    }
    int fds[] = { b->links[0].sock, b->links[1].sock, b->epfd, b->evfd, b->data_fd, -1 };
    assert_int_equal(in_child(fds_closed_in_child, fds), 0);
    cm__hobj_put(obj);
    /* The parent is still the producer; its consumers still work. */
    produce(buf, 0, 10);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con1, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(con1, m.seq), CM_OK);
    assert_status(cm_handle_close(con0), CM_OK);
    assert_status(cm_handle_close(con1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* A consumer process that floods its socket with wake-up bytes (and fds)
 * from several processes cannot hold the producer: every get_info and
 * loan returns, the fds it sent are not kept, and another consumer is
 * served. Runs in a child so that a hang is SIGALRM, not a stuck test. */
static void flood(int sock, int with_fd)
{
    for (;;) {
        char b = 1;
        struct iovec iov = { &b, 1 };
        union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (with_fd) {
            mh.msg_control = u.buf;
            mh.msg_controllen = sizeof(u.buf);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &sock, sizeof(int));
        }
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
            _exit(0);
    }
}

static int flooded_producer(void *arg)
{
    (void)arg;
    cm_handle_t buf, bad, good;
    int fds_before = count_open_fds();
    /* DROP_OLDEST: the flooder never receives, and must not stall us. */
    cm_sbuf_config_t cfg = { 3, 64, 2, 1, 1, CM_SBUF_DROP_OLDEST, 0, 0 };
    if (cm_sbuf_create(&cfg, &buf) != CM_OK ||
        cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &bad) != CM_OK ||
        cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &good) != CM_OK)
        return 1;
    struct cm__hobj *obj;
    if (cm__handle_get(bad, CM_OBJ_SBUF_CONSUMER, 0, &obj, NULL) != CM_OK)
        return 2;
    int sock = ((struct cm__sbuf_consumer *)obj)->sock;
    cm__hobj_put(obj);
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] < 0)
            return 3;
        if (kids[i] == 0)
            flood(sock, i == 0);
    }
    cm_handle_close(bad); /* the flooders hold it */
    int rc = 0;
    for (uint64_t s = 0; s < 200 && rc == 0; s++) {
        cm_sbuf_info_t info;
        cm_sbuf_loan_t l;
        cm_sbuf_msg_t m;
        uint64_t seq;
        if (cm_sbuf_get_info(buf, &info) != CM_OK)
            rc = 4;
        else if (cm_sbuf_loan(buf, 0, 5 * SEC, &l) != CM_OK)
            rc = 5;
        else if (cm_sbuf_publish(buf, l.id, 8, &seq) != CM_OK)
            rc = 6;
        else if (cm_sbuf_receive(good, 0, 0, &m) != CM_OK || m.seq != seq)
            rc = 7;
        else if (cm_sbuf_release(good, m.seq) != CM_OK)
            rc = 8;
    }
    for (int i = 0; i < 3; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    cm_handle_close(good);
    cm_handle_close(buf);
    if (rc == 0 && count_open_fds() != fds_before)
        rc = 9; /* an fd the flooder sent was kept */
    return rc;
}

static void test_consumer_flooding_its_socket_cannot_hold_the_producer(void **state)
{
    (void)state;
    assert_child_ok(in_child_alarm(flooded_producer, NULL, 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_consumer_killed_holding_slots_is_reclaimed),
        LEAK_TEST(test_consumer_killed_while_a_loan_waits_is_reclaimed),
        LEAK_TEST(test_consumer_killed_while_a_busy_poll_loan_spins_is_reclaimed),
        LEAK_TEST(test_consumer_killed_while_a_busy_poll_loan_spins_and_info_reaps_it),
        LEAK_TEST(test_killed_producer_is_peer_closed_after_last_message),
        LEAK_TEST(test_killed_producer_is_peer_closed_for_a_busy_poll_receive),
        LEAK_TEST(test_busy_poll_ping_pong_between_processes_loses_nothing),
        LEAK_TEST(test_two_consumer_processes_verify_10000_mixed_messages),
        LEAK_TEST(test_drop_oldest_stream_to_two_processes_gaps_match_dropped),
        LEAK_TEST(test_consumer_killed_at_any_step_leaves_nothing_held),
        LEAK_TEST(test_producer_killed_at_any_step_consumer_gets_prefix_then_peer_closed),
        LEAK_TEST(test_hostile_consumer_process_is_evicted_others_unaffected),
        LEAK_TEST(test_forked_child_gets_no_producer_mapping_or_fd),
        LEAK_TEST(test_consumer_flooding_its_socket_cannot_hold_the_producer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
