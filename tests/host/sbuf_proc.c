/* SharedBuffer across processes (fork-inherited consumer handles): a
 * consumer killed while holding slots has them reclaimed, a killed
 * producer is PEER_CLOSED for its consumer after the last message, and a
 * producer streams 10,000 messages of mixed sizes to two consumer
 * processes, each verified by sequence and content. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/leakcheck.h"

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

static void test_consumer_killed_holding_slots_is_reclaimed(void **state)
{
    (void)state;
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
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_ERR_SHOULD_WAIT);
    kill(pid, SIGKILL);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_status(cm_sbuf_loan(buf, 0, 5 * SEC, &l), CM_OK);
    assert_status(cm_sbuf_cancel(buf, l.id), CM_OK);
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 3);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* Producer process P (forked from the test) makes the buffer and a
 * consumer, forks the consumer process C, publishes 3 messages, says so,
 * and is killed. C, blocked in receive, must get the 3 messages, then
 * PEER_CLOSED, and reports through a pipe (it is P's child). */
static void test_killed_producer_is_peer_closed_after_last_message(void **state)
{
    (void)state;
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
            close(ready[1]);
            cm_handle_close(buf);
            char v = 'y';
            cm_sbuf_msg_t m;
            for (uint64_t s = 0; s < 3; s++) {
                if (cm_sbuf_receive(con, 0, 10 * SEC, &m) != CM_OK || m.seq != s ||
                    m.len != 100 || ((const uint8_t *)m.data)[99] != byte_of(s, 99))
                    v = 'n';
            }
            if (cm_sbuf_receive(con, 0, 10 * SEC, &m) != CM_ERR_PEER_CLOSED)
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

static void stream_consumer(cm_handle_t con)
{
    cm_sbuf_msg_t m;
    for (uint64_t s = 0; s < STREAM_N; s++) {
        cm_status_t st = cm_sbuf_receive(con, 0, 10 * SEC, &m);
        CHILD_EXPECT(st, CM_OK);
        if (st != CM_OK)
            break;
        CHILD_CHECK(m.seq == s && m.dropped == 0 && m.len == len_of(s));
        const uint8_t *d = m.data;
        int ok = 1;
        for (uint32_t i = 0; i < m.len && ok; i++)
            ok = d[i] == byte_of(s, i);
        CHILD_CHECK(ok);
        if (!ok || m.seq != s)
            break;
        CHILD_EXPECT(cm_sbuf_release(con, m.seq), CM_OK);
    }
    cm_handle_close(con);
}

static void test_two_consumer_processes_verify_10000_mixed_messages(void **state)
{
    (void)state;
    cm_handle_t buf, c1, c2;
    cm_sbuf_config_t cfg = { 8, STREAM_SLOT, 2, 4, 2, CM_SBUF_BLOCK, 0, 0 };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &c1), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &c2), CM_OK);
    pid_t p1 = fork_checked_child();
    if (p1 == 0) {
        alarm(60);
        cm_handle_close(buf);
        cm_handle_close(c2);
        stream_consumer(c1);
        child_exit();
    }
    pid_t p2 = fork_checked_child();
    if (p2 == 0) {
        alarm(60);
        cm_handle_close(buf);
        cm_handle_close(c1);
        stream_consumer(c2);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_consumer_killed_holding_slots_is_reclaimed),
        LEAK_TEST(test_killed_producer_is_peer_closed_after_last_message),
        LEAK_TEST(test_two_consumer_processes_verify_10000_mixed_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
