/* SPDX-License-Identifier: MIT */
/* SharedBuffer: a peer SIGKILLed inside a call, at a chosen step
 * (host/sbuf_internal.h, enum cm__sbuf_point), for both overflow policies.
 *
 * This program defines the strong cm__sbuf_test_point that replaces the
 * library's weak no-op: in the process the test arms (a forked producer or
 * consumer, never the cmocka process), the nth time the chosen point is
 * reached the process raises SIGKILL there. The cmocka process checks that
 * the victim really died of SIGKILL (a point never reached fails the test)
 * and then what the survivors see:
 *  - producer killed: each consumer (in this process, received over a
 *    channel) gets exactly the messages whose tail was stored for it before
 *    the death, in order, content intact, then PEER_CLOSED; never a torn
 *    descriptor, never PROTOCOL, never a hang (every wait has a deadline).
 *  - consumer killed: its held and pending slots come back (get_info), its
 *    position can be joined again, loans succeed, and the bystander
 *    consumer gets every message, before and after, intact.
 * The same hook can instead write a byte to a pipe at a point of the
 * cmocka process (it sleeping in a receive or a loan), so that the victim
 * dies exactly while the survivor sleeps: then only the hang-up can wake
 * it. Every test runs under the fd/mapping/handle leak check. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "../../host/sbuf_internal.h"

#define SEC (1000000000ll)
#define SLOTS 5u
#define SLOT_SIZE 256u
#define WARM 3u /* messages before the kill is armed */

/* ---- the fault-injection point ---- */

static uint32_t kill_point = CM__SBUF_TP_NONE, kill_nth, kill_seen;
static int kill_sig = SIGKILL; /* SIGSTOP: stopped there, for the parent to look, then killed */
static uint32_t hook_point = CM__SBUF_TP_NONE;
static int hook_fd = -1;

void cm__sbuf_test_point(uint32_t where)
{
    if (where == CM__SBUF_TP_NONE)
        return;
    if (where == hook_point && hook_fd >= 0) {
        (void)!write(hook_fd, "s", 1);
        hook_fd = -1; /* once; the test closes the pipe */
    }
    if (where == kill_point && ++kill_seen == kill_nth)
        raise(kill_sig);
}

static void arm_kill(uint32_t point, uint32_t nth)
{
    kill_seen = 0;
    kill_nth = nth;
    kill_point = point;
}

static void arm_hook(uint32_t point, int fd)
{
    hook_fd = fd;
    hook_point = point;
}

static const char *point_name(uint32_t p)
{
    static const char *names[CM__SBUF_TP_COUNT] = {
        "NONE", "LOAN_CHOSEN", "LOAN_SLEEP", "TAKE_BACK_CLAIMED", "REAP_BEFORE_REL_HEAD",
        "PUBLISH_DESC_HALF", "PUBLISH_DESC_WRITTEN", "PUBLISH_TAIL_STORED",
        "PUBLISH_TAILS_DONE", "PUBLISH_END", "CLOSE_STATE_STORED", "RECV_DESC_COPIED",
        "RECV_CLAIMED", "RECV_SLEEP", "RELEASE_ENTRY_WRITTEN", "RELEASE_TAIL_STORED",
        "WATCH_STOPPING",
    };
    return p < CM__SBUF_TP_COUNT ? names[p] : "?";
}

static const char *policy_name(uint32_t policy)
{
    return policy == CM_SBUF_BLOCK ? "BLOCK" : "DROP_OLDEST";
}

/* ---- messages ---- */

/* 2 consumers holding 2 each plus 1 loan: the DROP_OLDEST bound exactly. */
static cm_sbuf_config_t config(uint32_t policy)
{
    return (cm_sbuf_config_t){ SLOTS, SLOT_SIZE, 2, 2, 1, policy, 0, 0 };
}

static uint32_t len_of(uint64_t seq)
{
    return 1u + (uint32_t)(seq * 37u % SLOT_SIZE);
}

static uint8_t byte_of(uint64_t seq, uint32_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + 1u);
}

static cm_status_t produce(cm_handle_t buf, uint64_t seq)
{
    cm_sbuf_loan_t l;
    uint64_t got = UINT64_MAX;
    cm_status_t st = cm_sbuf_loan(buf, 0, 5 * SEC, &l);
    if (st != CM_OK)
        return st;
    for (uint32_t i = 0; i < len_of(seq); i++)
        ((uint8_t *)l.data)[i] = byte_of(seq, i);
    st = cm_sbuf_publish(buf, l.id, len_of(seq), &got);
    return st == CM_OK && got != seq ? CM_ERR_INTERNAL : st;
}

static int content_ok(const cm_sbuf_msg_t *m)
{
    if (m->len != len_of(m->seq))
        return 0;
    for (uint32_t i = 0; i < m->len; i++)
        if (((const uint8_t *)m->data)[i] != byte_of(m->seq, i))
            return 0;
    return 1;
}

/* Receives (deadline 5 s) the message `seq` with `dropped` and releases it. */
static void expect_message(cm_handle_t con, uint64_t seq, uint64_t dropped)
{
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 5 * SEC, &m), CM_OK);
    if (m.seq != seq || m.dropped != dropped)
        fail_msg("got seq %llu dropped %llu, expected seq %llu dropped %llu",
                 (unsigned long long)m.seq, (unsigned long long)m.dropped,
                 (unsigned long long)seq, (unsigned long long)dropped);
    assert_true(content_ok(&m));
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
}

/* Waits until pid stopped itself at its point (SIGSTOP), or fails. */
static void assert_stopped(pid_t pid)
{
    int ws;
    assert_int_equal(waitpid(pid, &ws, WUNTRACED), pid);
    if (!WIFSTOPPED(ws))
        fail_msg("victim ended (status 0x%x) instead of stopping at its point", ws);
}

/* Waits for pid and fails unless SIGKILL ended it: the point was reached. */
static void assert_killed(pid_t pid)
{
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    if (!WIFSIGNALED(ws))
        fail_msg("victim exited %d: its kill point was never reached", WEXITSTATUS(ws));
    if (WTERMSIG(ws) != SIGKILL)
        fail_msg("victim died of signal %d (%s), not at its kill point", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
}

/* ---- producer killed ----
 *
 * Producer process P makes the buffer and two consumers (positions 0 and 1),
 * sends both consumers here over a channel, publishes WARM messages, waits
 * until this process received and released them (so the ring wraps in the
 * kill phase and reused descriptor cells hold older descriptors), then
 * arms the kill and publishes `publish` more (seq WARM..), then closes the
 * buffer if `close`. At the kill phase P's view is: slots of the WARM
 * messages not yet reaped, SLOTS - WARM free. Each consumer must then get
 * exactly [first, last] (count 0: nothing), the first with dropped =
 * first - WARM, then PEER_CLOSED. */
struct pcase {
    uint32_t policy, point, nth, publish;
    /* (run twice: killed at the point; stopped there, looked at, then killed) */
    int close;      /* P closes the buffer after publishing */
    int sleeper;    /* this process sleeps in receive on consumer 0 before P publishes */
    uint64_t first[2];
    uint32_t count[2];
};

static void producer_process(const struct pcase *pc, int sig, cm_handle_t e0, cm_handle_t e1,
                             int ready, int go, int asleep)
{
    kill_sig = sig;
    cm_handle_t buf, con[2];
    cm_sbuf_config_t cfg = config(pc->policy);
    CHILD_EXPECT(cm_handle_close(e1), CM_OK);
    CHILD_EXPECT(cm_sbuf_create(&cfg, &buf), CM_OK);
    CHILD_EXPECT(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con[0]), CM_OK);
    CHILD_EXPECT(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con[1]), CM_OK);
    CHILD_EXPECT(cm_channel_write(e0, "c", 1, con, 2), CM_OK);
    for (uint64_t s = 0; s < WARM; s++)
        CHILD_EXPECT(produce(buf, s), CM_OK);
    char b;
    CHILD_CHECK(write(ready, "r", 1) == 1);
    CHILD_CHECK(read(go, &b, 1) == 1);
    if (pc->sleeper)
        CHILD_CHECK(read(asleep, &b, 1) == 1);
    arm_kill(pc->point, pc->nth);
    for (uint64_t s = WARM; s < WARM + pc->publish; s++)
        CHILD_EXPECT(produce(buf, s), CM_OK);
    if (pc->close)
        CHILD_EXPECT(cm_handle_close(buf), CM_OK);
    arm_kill(CM__SBUF_TP_NONE, 0);
    child_exit(); /* alive: the point was missed, and the parent fails */
}

static void run_pcase(const struct pcase *pc, int sig)
{
    print_message("  producer %s at %s #%u, %s\n", sig == SIGKILL ? "killed" : "stopped, then killed",
                  point_name(pc->point), pc->nth, policy_name(pc->policy));
    cm_handle_t e0, e1, con[2];
    int ready[2], go[2], asleep[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(asleep), 0);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    pid_t p = fork_checked_child();
    if (p == 0) {
        close(ready[0]);
        close(go[1]);
        close(asleep[1]);
        producer_process(pc, sig, e0, e1, ready[1], go[0], asleep[0]);
    }
    close(ready[1]);
    close(go[0]);
    close(asleep[0]);
    assert_status(cm_handle_close(e0), CM_OK);
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_wait_readable(e1, 10 * SEC), CM_OK);
    assert_status(cm_channel_read(e1, b, sizeof(b), &nb, con, 2, &nh), CM_OK);
    assert_int_equal(nh, 2);
    for (int k = 0; k < 2; k++) {
        cm_sbuf_info_t info;
        assert_status(cm_sbuf_get_info(con[k], &info), CM_OK);
        assert_int_equal(info.self, k);
    }
    assert_int_equal(read(ready[0], b, 1), 1);
    for (int k = 0; k < 2; k++)
        for (uint64_t s = 0; s < WARM; s++)
            expect_message(con[k], s, 0);
    assert_int_equal(write(go[1], "g", 1), 1);
    uint64_t next[2] = { WARM, WARM };
    if (pc->sleeper) {
        /* Asleep in receive when P publishes and dies before its wake-up:
         * only the hang-up can wake us, and the message must be there. */
        arm_hook(CM__SBUF_TP_RECV_SLEEP, asleep[1]);
        expect_message(con[0], WARM, 0);
        arm_hook(CM__SBUF_TP_NONE, -1);
        next[0]++;
    }
    if (sig == SIGSTOP) {
        /* Frozen at the point: what each consumer sees published is
         * already exactly what it will receive (tail - read). */
        assert_stopped(p);
        for (int k = 0; k < 2; k++) {
            cm_sbuf_info_t info;
            assert_status(cm_sbuf_get_info(con[k], &info), CM_OK);
            assert_int_equal(info.consumers[k].pending, pc->count[k]);
        }
        assert_int_equal(kill(p, SIGKILL), 0);
    }
    assert_killed(p);
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < pc->count[k]; i++)
            expect_message(con[k], pc->first[k] + i, i == 0 ? pc->first[k] - next[k] : 0);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(con[k], 0, 5 * SEC, &m), CM_ERR_PEER_CLOSED);
        assert_status(cm_sbuf_receive(con[k], 0, 0, &m), CM_ERR_PEER_CLOSED);
        cm_sbuf_info_t info;
        assert_status(cm_sbuf_get_info(con[k], &info), CM_OK);
        assert_true(info.consumers[k].received == next[k] + pc->count[k]);
        assert_int_equal(info.consumers[k].held, 0);
        assert_int_equal(info.consumers[k].pending, 0);
        assert_status(cm_handle_close(con[k]), CM_OK);
    }
    assert_status(cm_handle_close(e1), CM_OK);
    close(ready[0]);
    close(go[1]);
    close(asleep[1]);
}

static void run_pcases(const struct pcase *pcs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        run_pcase(&pcs[i], SIGKILL);
        if (!pcs[i].sleeper)
            run_pcase(&pcs[i], SIGSTOP);
    }
}

#define B CM_SBUF_BLOCK
#define D CM_SBUF_DROP_OLDEST

/* Kill phase, publishes of seq 3, 4, 5: seq 3 and 4 take the free slots,
 * the loan of 5 reaps (consumer 0, then 1) to get one. */
static void test_producer_killed_in_loan_consumers_get_every_published_message_then_peer_closed(
    void **state)
{
    (void)state;
    const struct pcase pcs[] = {
        /* in the third loan: 3 and 4 published */
        { B, CM__SBUF_TP_LOAN_CHOSEN, 3, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { D, CM__SBUF_TP_LOAN_CHOSEN, 3, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        /* reaping consumer 0's releases, its rel_head not stored: its
         * releases after the death still fit its ring */
        { B, CM__SBUF_TP_REAP_BEFORE_REL_HEAD, 1, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { D, CM__SBUF_TP_REAP_BEFORE_REL_HEAD, 1, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { B, CM__SBUF_TP_REAP_BEFORE_REL_HEAD, 2, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        /* BLOCK: 3..7 fill the slots, the loan of 8 goes to sleep */
        { B, CM__SBUF_TP_LOAN_SLEEP, 1, 6, 0, 0, { 3, 3 }, { 5, 5 } },
        /* DROP_OLDEST never sleeps: the loan of 8 takes 3 back, from
         * consumer 0 (CAS done, drop not accounted), then from consumer 1 */
        { D, CM__SBUF_TP_TAKE_BACK_CLAIMED, 1, 6, 0, 0, { 4, 3 }, { 4, 5 } },
        { D, CM__SBUF_TP_TAKE_BACK_CLAIMED, 2, 6, 0, 0, { 4, 4 }, { 4, 4 } },
    };
    run_pcases(pcs, sizeof(pcs) / sizeof(pcs[0]));
}

/* Publish of seq 5 (occurrences 5 and 6 of the per-consumer points: 1-4
 * were seq 3 and 4); its cell is cell 0, which still holds the descriptor
 * of seq 0, so a half-written descriptor there would be torn if seen. */
static void test_producer_killed_mid_publish_each_consumer_has_whole_message_or_none(
    void **state)
{
    (void)state;
    const struct pcase pcs[] = {
        { B, CM__SBUF_TP_PUBLISH_DESC_HALF, 5, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { D, CM__SBUF_TP_PUBLISH_DESC_HALF, 5, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { B, CM__SBUF_TP_PUBLISH_DESC_HALF, 6, 3, 0, 0, { 3, 3 }, { 3, 2 } },
        { D, CM__SBUF_TP_PUBLISH_DESC_HALF, 6, 3, 0, 0, { 3, 3 }, { 3, 2 } },
        { B, CM__SBUF_TP_PUBLISH_DESC_WRITTEN, 5, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { D, CM__SBUF_TP_PUBLISH_DESC_WRITTEN, 5, 3, 0, 0, { 3, 3 }, { 2, 2 } },
        { B, CM__SBUF_TP_PUBLISH_DESC_WRITTEN, 6, 3, 0, 0, { 3, 3 }, { 3, 2 } },
        { D, CM__SBUF_TP_PUBLISH_DESC_WRITTEN, 6, 3, 0, 0, { 3, 3 }, { 3, 2 } },
        { B, CM__SBUF_TP_PUBLISH_TAIL_STORED, 5, 3, 0, 0, { 3, 3 }, { 3, 2 } },
        { D, CM__SBUF_TP_PUBLISH_TAIL_STORED, 5, 3, 0, 0, { 3, 3 }, { 3, 2 } },
        { B, CM__SBUF_TP_PUBLISH_TAIL_STORED, 6, 3, 0, 0, { 3, 3 }, { 3, 3 } },
        { D, CM__SBUF_TP_PUBLISH_TAIL_STORED, 6, 3, 0, 0, { 3, 3 }, { 3, 3 } },
        { B, CM__SBUF_TP_PUBLISH_TAILS_DONE, 3, 3, 0, 0, { 3, 3 }, { 3, 3 } },
        { D, CM__SBUF_TP_PUBLISH_TAILS_DONE, 3, 3, 0, 0, { 3, 3 }, { 3, 3 } },
        { B, CM__SBUF_TP_PUBLISH_END, 3, 3, 0, 0, { 3, 3 }, { 3, 3 } },
        { D, CM__SBUF_TP_PUBLISH_END, 3, 3, 0, 0, { 3, 3 }, { 3, 3 } },
    };
    run_pcases(pcs, sizeof(pcs) / sizeof(pcs[0]));
}

/* Consumer 0 asleep in receive; P publishes seq 3 and dies after the tails,
 * before any wake-up byte: the hang-up wakes it with the message. */
static void test_producer_killed_before_wake_up_sleeping_consumer_wakes_with_message(
    void **state)
{
    (void)state;
    const struct pcase pcs[] = {
        { B, CM__SBUF_TP_PUBLISH_TAILS_DONE, 1, 1, 0, 1, { 4, 3 }, { 0, 1 } },
        { D, CM__SBUF_TP_PUBLISH_TAILS_DONE, 1, 1, 0, 1, { 4, 3 }, { 0, 1 } },
    };
    run_pcases(pcs, sizeof(pcs) / sizeof(pcs[0]));
}

/* P closes the buffer after 3 and 4 and dies with consumer 0's state CLOSED
 * and consumer 1's still OPEN: both drain, then PEER_CLOSED. */
static void test_producer_killed_mid_close_both_consumers_drain_then_peer_closed(void **state)
{
    (void)state;
    const struct pcase pcs[] = {
        { B, CM__SBUF_TP_CLOSE_STATE_STORED, 1, 2, 1, 0, { 3, 3 }, { 2, 2 } },
        { D, CM__SBUF_TP_CLOSE_STATE_STORED, 1, 2, 1, 0, { 3, 3 }, { 2, 2 } },
    };
    run_pcases(pcs, sizeof(pcs) / sizeof(pcs[0]));
}

/* ---- consumer killed ----
 *
 * This process is the producer, with consumer 0 in the victim process and
 * consumer 1 (the bystander) here. WARM (3) messages are published before
 * the fork; the victim runs one script and is killed at the nth occurrence
 * of its point in it:
 *   receive 0   (RECV_DESC_COPIED #1, RECV_CLAIMED #1)
 *   receive 1   (#2, #2)
 *   release 0   (RELEASE_ENTRY_WRITTEN #1, RELEASE_TAIL_STORED #1)
 *   receive 2   (#3, #3)
 *   release 1   (#2, #2)
 *   receive     (nothing pending, holds 2: RECV_SLEEP #1)
 * Whatever it held or had pending must come back exactly once. */
static void consumer_script(cm_handle_t con)
{
    cm_sbuf_msg_t m;
    CHILD_EXPECT(cm_sbuf_receive(con, 0, 5 * SEC, &m), CM_OK);
    CHILD_EXPECT(cm_sbuf_receive(con, 0, 5 * SEC, &m), CM_OK);
    CHILD_EXPECT(cm_sbuf_release(con, 0), CM_OK);
    CHILD_EXPECT(cm_sbuf_receive(con, 0, 5 * SEC, &m), CM_OK);
    CHILD_EXPECT(cm_sbuf_release(con, 1), CM_OK);
    CHILD_EXPECT(cm_sbuf_receive(con, 0, 5 * SEC, &m), CM_ERR_TIMED_OUT);
}

struct ccase {
    uint32_t point, nth;
    /* consumer 0 as the producer's reap sees it at the point */
    uint32_t held, pending;
};

/* SIGKILL: it dies at the point, before the producer looked at it (the
 * producer learns of its receives and death at once). SIGSTOP: it stops
 * there, the producer's get_info reaps it (held and pending as expected:
 * what it received before is held now), then it is killed. */
static void run_ccase(uint32_t policy, const struct ccase *cc, int sig)
{
    print_message("  consumer %s at %s #%u, %s\n", sig == SIGKILL ? "killed" : "stopped, then killed",
                  point_name(cc->point), cc->nth, policy_name(policy));
    cm_handle_t buf, con0, by, late;
    cm_sbuf_config_t cfg = config(policy);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con0), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &by), CM_OK);
    for (uint64_t s = 0; s < WARM; s++)
        assert_status(produce(buf, s), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        CHILD_EXPECT(cm_handle_close(buf), CM_OK);
        CHILD_EXPECT(cm_handle_close(by), CM_OK);
        kill_sig = sig;
        arm_kill(cc->point, cc->nth);
        consumer_script(con0);
        arm_kill(CM__SBUF_TP_NONE, 0);
        child_exit();
    }
    assert_status(cm_handle_close(con0), CM_OK);
    cm_sbuf_info_t info;
    if (sig == SIGSTOP) {
        assert_stopped(pid);
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
        assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ACTIVE);
        if (info.consumers[0].held != cc->held || info.consumers[0].pending != cc->pending)
            fail_msg("victim held %u pending %u at the point, expected %u and %u",
                     info.consumers[0].held, info.consumers[0].pending, cc->held, cc->pending);
        assert_int_equal(info.consumers[1].pending, WARM);
        assert_int_equal(info.free, SLOTS - WARM);
        assert_int_equal(kill(pid, SIGKILL), 0);
    }
    assert_killed(pid);
    /* The bystander: every message, intact. */
    for (uint64_t s = 0; s < WARM; s++)
        expect_message(by, s, 0);
    /* Everything the victim held or had pending is back. */
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    assert_int_equal(info.consumers[1].state, CM_SBUF_CONSUMER_ACTIVE);
    assert_int_equal(info.consumers[1].held, 0);
    assert_int_equal(info.consumers[1].pending, 0);
    assert_int_equal(info.consumers[1].received, WARM);
    assert_int_equal(info.consumers[1].released, WARM);
    assert_int_equal(info.free, SLOTS);
    assert_int_equal(info.loaned, 0);
    assert_int_equal(info.published, 0);
    /* Its position can be joined again, and every slot goes round: each
     * loan would fail (BLOCK: TIMED_OUT) if one slot stayed stuck. */
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &late), CM_OK);
    assert_status(cm_sbuf_get_info(late, &info), CM_OK);
    assert_int_equal(info.self, 0);
    for (uint64_t s = WARM; s < WARM + 4 * SLOTS; s++) {
        assert_status(produce(buf, s), CM_OK);
        expect_message(by, s, 0);
        expect_message(late, s, 0);
    }
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, SLOTS);
    assert_int_equal(info.consumers[0].received, 4 * SLOTS);
    assert_int_equal(info.consumers[1].received, WARM + 4 * SLOTS);
    assert_int_equal(info.consumers[1].released, WARM + 4 * SLOTS);
    assert_int_equal(info.consumers[1].dropped, 0);
    assert_status(cm_handle_close(late), CM_OK);
    assert_status(cm_handle_close(by), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void run_ccases(const struct ccase *ccs, size_t n)
{
    const uint32_t policies[] = { CM_SBUF_BLOCK, CM_SBUF_DROP_OLDEST };
    for (size_t p = 0; p < 2; p++)
        for (size_t i = 0; i < n; i++) {
            run_ccase(policies[p], &ccs[i], SIGKILL);
            run_ccase(policies[p], &ccs[i], SIGSTOP);
        }
}

static void test_consumer_killed_mid_receive_its_held_and_pending_slots_come_back(void **state)
{
    (void)state;
    const struct ccase ccs[] = {
        { CM__SBUF_TP_RECV_DESC_COPIED, 1, 0, 3 }, /* copy of 0 unclaimed */
        { CM__SBUF_TP_RECV_DESC_COPIED, 2, 1, 2 },
        { CM__SBUF_TP_RECV_DESC_COPIED, 3, 1, 1 }, /* 0 released */
        { CM__SBUF_TP_RECV_CLAIMED, 1, 1, 2 },     /* read moved, its own hold not recorded */
        { CM__SBUF_TP_RECV_CLAIMED, 2, 2, 1 },
        { CM__SBUF_TP_RECV_CLAIMED, 3, 2, 0 },
        { CM__SBUF_TP_RECV_SLEEP, 1, 1, 0 },       /* asleep holding 2 */
    };
    run_ccases(ccs, sizeof(ccs) / sizeof(ccs[0]));
}

static void test_consumer_killed_mid_release_its_slots_come_back_exactly_once(void **state)
{
    (void)state;
    const struct ccase ccs[] = {
        { CM__SBUF_TP_RELEASE_ENTRY_WRITTEN, 1, 2, 1 }, /* entry written, not published */
        { CM__SBUF_TP_RELEASE_ENTRY_WRITTEN, 2, 2, 0 },
        { CM__SBUF_TP_RELEASE_TAIL_STORED, 1, 1, 1 },   /* published, no wake-up */
        { CM__SBUF_TP_RELEASE_TAIL_STORED, 2, 1, 0 },
    };
    run_ccases(ccs, sizeof(ccs) / sizeof(ccs[0]));
}

/* BLOCK (a DROP_OLDEST loan never sleeps): this process's loan sleeps with
 * every slot in the victim's hands; the victim releases one and dies
 * before its wake-up byte (or before even publishing the release). The
 * hang-up must wake the loan, which then gets a slot, and every slot comes
 * back. */
static void test_consumer_killed_mid_release_wakes_the_producer_asleep_in_loan(void **state)
{
    (void)state;
    const uint32_t points[] = { CM__SBUF_TP_RELEASE_ENTRY_WRITTEN,
                                CM__SBUF_TP_RELEASE_TAIL_STORED };
    for (size_t i = 0; i < 2; i++) {
        print_message("  consumer killed at %s #1 while the loan sleeps\n",
                      point_name(points[i]));
        cm_handle_t buf, con0, by;
        cm_sbuf_config_t cfg = config(CM_SBUF_BLOCK);
        int asleep[2];
        assert_int_equal(pipe(asleep), 0);
        assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con0), CM_OK);
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &by), CM_OK);
        for (uint64_t s = 0; s < SLOTS; s++) {
            assert_status(produce(buf, s), CM_OK);
            expect_message(by, s, 0);
        }
        pid_t pid = fork_checked_child();
        if (pid == 0) {
            close(asleep[1]);
            CHILD_EXPECT(cm_handle_close(buf), CM_OK);
            CHILD_EXPECT(cm_handle_close(by), CM_OK);
            cm_sbuf_msg_t m;
            CHILD_EXPECT(cm_sbuf_receive(con0, 0, 5 * SEC, &m), CM_OK);
            CHILD_EXPECT(cm_sbuf_receive(con0, 0, 5 * SEC, &m), CM_OK);
            char b;
            CHILD_CHECK(read(asleep[0], &b, 1) == 1);
            arm_kill(points[i], 1);
            CHILD_EXPECT(cm_sbuf_release(con0, 0), CM_OK);
            arm_kill(CM__SBUF_TP_NONE, 0);
            child_exit();
        }
        close(asleep[0]);
        assert_status(cm_handle_close(con0), CM_OK);
        cm_sbuf_loan_t l;
        arm_hook(CM__SBUF_TP_LOAN_SLEEP, asleep[1]);
        assert_status(cm_sbuf_loan(buf, 0, 10 * SEC, &l), CM_OK);
        arm_hook(CM__SBUF_TP_NONE, -1);
        assert_int_equal(hook_fd, -1); /* the loan did sleep */
        assert_killed(pid);
        assert_status(cm_sbuf_cancel(buf, l.id), CM_OK);
        cm_sbuf_info_t info;
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
        assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
        assert_int_equal(info.free, SLOTS);
        for (uint64_t s = SLOTS; s < 3 * SLOTS; s++) {
            assert_status(produce(buf, s), CM_OK);
            expect_message(by, s, 0);
        }
        close(asleep[1]);
        assert_status(cm_handle_close(by), CM_OK);
        assert_status(cm_handle_close(buf), CM_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_producer_killed_in_loan_consumers_get_every_published_message_then_peer_closed),
        LEAK_TEST(test_producer_killed_mid_publish_each_consumer_has_whole_message_or_none),
        LEAK_TEST(test_producer_killed_before_wake_up_sleeping_consumer_wakes_with_message),
        LEAK_TEST(test_producer_killed_mid_close_both_consumers_drain_then_peer_closed),
        LEAK_TEST(test_consumer_killed_mid_receive_its_held_and_pending_slots_come_back),
        LEAK_TEST(test_consumer_killed_mid_release_its_slots_come_back_exactly_once),
        LEAK_TEST(test_consumer_killed_mid_release_wakes_the_producer_asleep_in_loan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
