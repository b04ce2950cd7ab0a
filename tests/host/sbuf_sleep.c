/* SPDX-License-Identifier: MIT */
/* SharedBuffer sleeps on a futex (docs/sbuf.md, "Host: sleeping on a
 * futex"): a receive and a BLOCK loan sleep in futex_waitv, and what a
 * futex cannot report (the peer's death, the handle's close) still wakes
 * them, promptly and exactly: every wait here has a 10 s deadline and
 * must end within 1 s of the event, so a missing wake-up fails as
 * TIMED_OUT (the library has no timer that could hide it). Each test first
 * checks that the sleeper is in futex_waitv (its wchan), so that it tests
 * the futex path and not the socket's. */
#include <dirent.h>
#include <poll.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/threads.h"
#include "../../host/sbuf_internal.h"

#define SEC (1000000000ll)
#define MS (1000000ll)

static double now_s(void)
{
    return (double)cm__now_ns() / 1e9;
}

static cm_sbuf_config_t cfg_of(uint32_t slots, uint32_t held)
{
    return (cm_sbuf_config_t){ slots, 64, 2, held, 1, CM_SBUF_BLOCK, 0, 0 };
}

static void publish_seq(cm_handle_t buf, uint64_t seq)
{
    cm_sbuf_loan_t l;
    uint64_t got;
    if (cm_sbuf_loan(buf, 0, 10 * SEC, &l) != CM_OK)
        _exit(10);
    memcpy(l.data, &seq, sizeof(seq));
    if (cm_sbuf_publish(buf, l.id, sizeof(seq), &got) != CM_OK || got != seq)
        _exit(11);
}

/* A thread receiving `want` messages in order (payload = seq), releasing
 * each, then one more receive whose status and end time it records. */
struct receiver {
    cm_handle_t con;
    uint64_t want;
    uint64_t got;
    cm_status_t last;
    double end;
};

static void receive_then_one_more(void *arg)
{
    struct receiver *r = arg;
    cm_sbuf_msg_t m;
    for (;;) {
        cm_status_t st = cm_sbuf_receive(r->con, 0, 10 * SEC, &m);
        if (st != CM_OK || r->got == r->want) {
            r->last = st;
            r->end = now_s();
            if (st == CM_OK)
                (void)cm_sbuf_release(r->con, m.seq);
            return;
        }
        uint64_t v;
        memcpy(&v, m.data, sizeof(v));
        if (v != r->got || m.seq != r->got || cm_sbuf_release(r->con, m.seq) != CM_OK) {
            r->last = CM_ERR_INTERNAL;
            r->end = now_s();
            return;
        }
        r->got++;
    }
}

/* The producer process: makes a buffer and a consumer, sends the consumer
 * over the channel, publishes messages 0..2, and 3 when told (then kills
 * itself at once: the death right after a publish); told 'k', it only
 * waits to be killed. */
static void producer_process(cm_handle_t e0, int go_fd)
{
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(4, 2);
    if (cm_sbuf_create(&cfg, &buf) != CM_OK ||
        cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con) != CM_OK)
        _exit(2);
    if (cm_channel_write(e0, "c", 1, &con, 1) != CM_OK)
        _exit(3);
    for (uint64_t s = 0; s < 3; s++)
        publish_seq(buf, s);
    char x = 0;
    if (read(go_fd, &x, 1) == 1 && x == 'p') {
        publish_seq(buf, 3);
        raise(SIGKILL);
    }
    for (;;)
        pause();
}

static cm_handle_t consumer_from(cm_handle_t e1)
{
    cm_handle_t got = CM_HANDLE_INVALID;
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_wait_readable(e1, 10 * SEC), CM_OK);
    assert_status(cm_channel_read(e1, b, sizeof(b), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    return got;
}

/* mode 'p': the producer publishes one more message while the consumer
 * sleeps and dies right after it; mode 'k': it is SIGKILLed from outside
 * while the consumer sleeps. Either way the consumer gets every published
 * message, then PEER_CLOSED within 1 s, with a 10 s deadline. */
static void producer_dies_while_receive_sleeps(char mode)
{
    cm_handle_t e0, e1;
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    int go[2];
    assert_int_equal(pipe(go), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        producer_process(e0, go[0]);
    }
    close(go[0]);
    cm_handle_t con = consumer_from(e1);
    struct receiver r = { con, mode == 'p' ? 4 : 3, 0, CM_ERR_INTERNAL, 0 };
    struct test_thread t;
    thread_start(&t, receive_then_one_more, &r);
    /* It has the 3 messages and sleeps for the next. */
    await_futex_waitv(&t);
    int asleep = task_in_futex_waitv(atomic_load(&t.tid));
    double t0 = now_s();
    if (mode == 'p')
        assert_int_equal(write(go[1], "p", 1), 1);
    else
        assert_int_equal(kill(pid, SIGKILL), 0);
    thread_join(&t);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
    assert_true(asleep);
    assert_status(r.last, CM_ERR_PEER_CLOSED);
    assert_int_equal(r.got, r.want);
    if (r.end - t0 > 1.0)
        fail_msg("PEER_CLOSED %.3f s after the producer's death", r.end - t0);
    close(go[1]);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
}

static void test_killed_producer_wakes_a_futex_sleeping_receive_with_peer_closed(void **state)
{
    (void)state;
    producer_dies_while_receive_sleeps('k');
}

static void test_producer_dying_right_after_a_publish_is_peer_closed_after_that_message(void **state)
{
    (void)state;
    producer_dies_while_receive_sleeps('p');
}

/* A thread's loan with a 10 s deadline, and when it returned. */
struct loaner {
    cm_handle_t buf;
    cm_status_t st;
    double end;
};

static void loan_once(void *arg)
{
    struct loaner *l = arg;
    cm_sbuf_loan_t ln;
    l->st = cm_sbuf_loan(l->buf, 0, 10 * SEC, &ln);
    l->end = now_s();
    if (l->st == CM_OK)
        (void)cm_sbuf_cancel(l->buf, ln.id);
}

/* A consumer process holds every slot and is SIGKILLed while a BLOCK loan
 * sleeps: the loan gets a slot back within 1 s. */
static void test_killed_consumer_holding_every_slot_wakes_a_futex_sleeping_loan(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 2);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    for (uint64_t s = 0; s < 2; s++)
        publish_seq(buf, s);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_sbuf_msg_t m;
        CHILD_EXPECT(cm_sbuf_receive(con, 0, 10 * SEC, &m), CM_OK);
        CHILD_EXPECT(cm_sbuf_receive(con, 0, 10 * SEC, &m), CM_OK);
        (void)!write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    close(ready[1]);
    assert_status(cm_handle_close(con), CM_OK);
    char x;
    assert_int_equal(read(ready[0], &x, 1), 1);
    close(ready[0]);
    struct loaner l = { buf, CM_ERR_INTERNAL, 0 };
    struct test_thread t;
    thread_start(&t, loan_once, &l);
    await_futex_waitv(&t);
    int asleep = task_in_futex_waitv(atomic_load(&t.tid));
    double t0 = now_s();
    assert_int_equal(kill(pid, SIGKILL), 0);
    thread_join(&t);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(asleep);
    assert_status(l.st, CM_OK);
    if (l.end - t0 > 1.0)
        fail_msg("loan got a slot %.3f s after the holder's death", l.end - t0);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* Closing the handle a receive or a loan sleeps on, from another thread,
 * ends the sleep with BAD_HANDLE within 1 s. */
static void test_closing_the_handle_wakes_futex_sleepers_with_bad_handle(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(1, 1);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct receiver r = { con, 0, 0, CM_ERR_INTERNAL, 0 };
    struct test_thread t;
    thread_start(&t, receive_then_one_more, &r);
    await_futex_waitv(&t);
    int asleep = task_in_futex_waitv(atomic_load(&t.tid));
    double t0 = now_s();
    assert_status(cm_handle_close(con), CM_OK);
    thread_join(&t);
    assert_true(asleep);
    assert_status(r.last, CM_ERR_BAD_HANDLE);
    if (r.end - t0 > 1.0)
        fail_msg("receive ended %.3f s after the close", r.end - t0);

    /* The loan: the only slot is held by a consumer that never releases. */
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    publish_seq(buf, 0);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    struct loaner l = { buf, CM_ERR_INTERNAL, 0 };
    thread_start(&t, loan_once, &l);
    await_futex_waitv(&t);
    asleep = task_in_futex_waitv(atomic_load(&t.tid));
    t0 = now_s();
    assert_status(cm_handle_close(buf), CM_OK);
    thread_join(&t);
    assert_true(asleep);
    assert_status(l.st, CM_ERR_BAD_HANDLE);
    if (l.end - t0 > 1.0)
        fail_msg("loan ended %.3f s after the close", l.end - t0);
    assert_status(cm_handle_close(con), CM_OK);
}

/* A consumer inherited by a fork child: the child has no watcher thread of
 * its parent's (threads do not fork), and a registration inherited from
 * the parent is stale there: the child starts its own at its first sleep,
 * so the producer's death still wakes it. The producer process P sleeps on
 * the consumer once before the fork (starting P's watcher and registering
 * the consumer), forks C with the consumer, and is killed while C sleeps.
 * C reports through a pipe (it is P's child, not ours). */
static int fork_child_receiver(cm_handle_t con, int report)
{
    cm_sbuf_msg_t m;
    char res = 'x';
    cm_status_t st = cm_sbuf_receive(con, 0, 10 * SEC, &m);
    if (st == CM_OK && m.seq == 0 && cm_sbuf_release(con, m.seq) == CM_OK) {
        double t0 = now_s();
        st = cm_sbuf_receive(con, 0, 10 * SEC, &m);
        /* t0 is before the kill: the bound is looser than 1 s after it. */
        res = st == CM_ERR_PEER_CLOSED ? (now_s() - t0 < 5.0 ? 'o' : 's') : 't';
    }
    (void)!write(report, &res, 1);
    return 0;
}

static void test_fork_child_holding_a_consumer_is_woken_by_the_producers_death(void **state)
{
    (void)state;
#if defined(__SANITIZE_THREAD__)
    /* TSan cannot start a thread after a multi-threaded fork (the child's
     * watcher); the plain and ASan builds run this. */
    skip();
#endif
    int report[2], ready[2];
    assert_int_equal(pipe(report), 0);
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        cm_handle_t buf, con;
        cm_sbuf_config_t cfg = cfg_of(4, 2);
        cm_sbuf_msg_t m;
        if (cm_sbuf_create(&cfg, &buf) != CM_OK ||
            cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con) != CM_OK ||
            cm_sbuf_receive(con, 0, 20 * MS, &m) != CM_ERR_TIMED_OUT)
            _exit(2);
        pid_t c = fork();
        if (c == 0) {
            close(ready[0]);
            close(report[0]);
            _exit(fork_child_receiver(con, report[1]));
        }
        if (c < 0 || cm_handle_close(con) != CM_OK)
            _exit(3);
        publish_seq(buf, 0);
        (void)!write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    close(report[1]);
    close(ready[1]);
    char x;
    assert_int_equal(read(ready[0], &x, 1), 1);
    nap_ms(200); /* C receives message 0 and sleeps for the next */
    assert_int_equal(kill(p, SIGKILL), 0);
    int wst;
    assert_int_equal(waitpid(p, &wst, 0), p);
    struct pollfd pf = { report[0], POLLIN, 0 };
    assert_int_equal(poll(&pf, 1, 15000), 1);
    assert_int_equal(read(report[0], &x, 1), 1);
    if (x != 'o')
        fail_msg("the fork child's receive: %s",
                 x == 't' ? "not PEER_CLOSED" : x == 's' ? "PEER_CLOSED too late" : "failed");
    close(report[0]);
    close(ready[0]);
}

/* Garbage in the words a peer can write: a consumer's cons_waiting and
 * rel_word (here written through the producer's own mapping of the
 * consumer area, as a hostile consumer would), a producer's tail_word and
 * prod_waiting. Each only costs the writer's own relation: needless
 * wake-ups and spurious returns from the sleep; every wait still ends by
 * its deadline with a typed status, and honest use then works. */
struct flipper {
    uint32_t *word[4];
    atomic_int stop;
};

static void flip_words(void *arg)
{
    struct flipper *f = arg;
    for (uint32_t i = 0; !atomic_load(&f->stop); i++)
        for (int k = 0; k < 4; k++)
            __atomic_store_n(f->word[k], i * 2654435761u + (uint32_t)k, __ATOMIC_RELAXED);
}

static void test_garbage_in_the_wake_words_only_costs_wake_ups(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(1, 1);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct cm__hobj *obj;
    assert_status(cm__handle_get(buf, CM_OBJ_SBUF, 0, &obj, NULL), CM_OK);
    struct cm__sbuf *b = (struct cm__sbuf *)obj;
    struct cm__sbuf_link *l = &b->links[0];
    struct flipper f = { { &l->cons->cons_waiting, &l->cons->rel_word, &l->prod->tail_word,
                           &l->prod->prod_waiting },
                         0 };
    struct test_thread t;
    thread_start(&t, flip_words, &f);
    cm_sbuf_msg_t m;
    /* An empty ring: the receive ends at its deadline, typed. */
    assert_status(cm_sbuf_receive(con, 0, 100 * MS, &m), CM_ERR_TIMED_OUT);
    /* Publish with garbage in cons_waiting: extra wake-ups, no error. */
    publish_seq(buf, 0);
    assert_status(cm_sbuf_receive(con, 0, 100 * MS, &m), CM_OK);
    /* The only slot held: the loan ends at its deadline, typed. */
    cm_sbuf_loan_t ln;
    assert_status(cm_sbuf_loan(buf, 0, 100 * MS, &ln), CM_ERR_TIMED_OUT);
    atomic_store(&f.stop, 1);
    thread_join(&t);
    /* Honest use goes on: the release gives the slot back. */
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 1 * SEC, &ln), CM_OK);
    assert_status(cm_sbuf_publish(buf, ln.id, 8, NULL), CM_OK);
    assert_status(cm_sbuf_receive(con, 0, 1 * SEC, &m), CM_OK);
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    cm__hobj_put(obj);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}


/* ---- signals and the watcher's start/stop ---- */

static atomic_int sigs_seen;

static void count_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&sigs_seen, 1);
}

struct pester {
    pthread_t target;
    atomic_int stop;
};

/* Sends SIGUSR1 to the target about every 2 ms until told to stop. */
static void pester_thread(void *arg)
{
    struct pester *p = arg;
    while (!atomic_load(&p->stop)) {
        (void)pthread_kill(p->target, SIGUSR1);
        nap_ms(2);
    }
}

struct timed_receive {
    cm_handle_t con;
    int64_t timeout;
    cm_status_t st;
    double elapsed;
};

static void timed_receive(void *arg)
{
    struct timed_receive *r = arg;
    cm_sbuf_msg_t m;
    double t0 = now_s();
    r->st = cm_sbuf_receive(r->con, 0, r->timeout, &m);
    r->elapsed = now_s() - t0;
    if (r->st == CM_OK)
        (void)cm_sbuf_release(r->con, m.seq);
}

/* A handler without SA_RESTART: every signal ends futex_waitv with EINTR.
 * The sleep goes on to its deadline (not earlier, typed TIMED_OUT), and an
 * infinite one still gets the message published while it is pestered. */
static void test_signals_during_a_futex_sleep_neither_end_it_early_nor_lose_a_publish(void **state)
{
    (void)state;
    struct sigaction sa = { .sa_handler = count_signal }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    atomic_store(&sigs_seen, 0);
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 1);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    for (int round = 0; round < 2; round++) {
        struct timed_receive r = { con, round == 0 ? 300 * MS : CM_TIMEOUT_INFINITE,
                                   CM_ERR_INTERNAL, 0 };
        struct test_thread t;
        thread_start(&t, timed_receive, &r);
        await_futex_waitv(&t);
        struct pester p = { t.thread, 0 };
        struct test_thread pt;
        thread_start(&pt, pester_thread, &p);
        if (round == 1) {
            nap_ms(100);
            publish_seq(buf, 0);
        }
        thread_join(&t);
        atomic_store(&p.stop, 1);
        thread_join(&pt);
        if (round == 0) {
            assert_status(r.st, CM_ERR_TIMED_OUT);
            if (r.elapsed < 0.3)
                fail_msg("TIMED_OUT after %.3f s of a 0.3 s timeout", r.elapsed);
        } else {
            assert_status(r.st, CM_OK);
        }
    }
    assert_true(atomic_load(&sigs_seen) > 0);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

static int thread_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Each iteration: a consumer sleeps (registering with the watcher, the
 * first one starting it), times out and is closed (the last removal
 * stopping and joining it), in two threads at once, so that one thread's
 * last removal races the other's first registration. */
static void register_sleep_close(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        cm_handle_t buf, con;
        cm_sbuf_config_t cfg = cfg_of(2, 1);
        cm_sbuf_msg_t m;
        if (cm_sbuf_create(&cfg, &buf) != CM_OK ||
            cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con) != CM_OK ||
            cm_sbuf_receive(con, 0, 2 * MS, &m) != CM_ERR_TIMED_OUT ||
            cm_handle_close(con) != CM_OK || cm_handle_close(buf) != CM_OK)
            _exit(20);
    }
}

static void test_watcher_stop_racing_a_first_registration_leaves_no_thread_or_fd(void **state)
{
    (void)state;
    int before = thread_count();
    struct test_thread a, b;
    thread_start(&a, register_sleep_close, NULL);
    thread_start(&b, register_sleep_close, NULL);
    thread_join(&a);
    thread_join(&b);
    assert_int_equal(thread_count(), before); /* no watcher left running */
    /* It starts again for the next sleeper, and still sees a death. */
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 1);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 50 * MS, &m), CM_ERR_TIMED_OUT);
    assert_int_equal(thread_count(), before + 1);
    assert_status(cm_handle_close(con), CM_OK);
    assert_int_equal(thread_count(), before);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* ---- every consumer asleep at once ---- */

/* CM_SBUF_MAX_CONSUMERS consumers of one producer process, one thread
 * each asleep in futex_waitv: the producer's death wakes every one
 * (the watcher sees each socket's hang-up), and closing them stops the
 * watcher. */
static void test_producer_death_wakes_every_one_of_max_consumers_asleep(void **state)
{
    (void)state;
    enum { N = CM_SBUF_MAX_CONSUMERS };
    int threads0 = thread_count();
    cm_handle_t e0, e1;
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cm_handle_t buf, con;
        cm_sbuf_config_t cfg = { 4, 64, N, 1, 1, CM_SBUF_BLOCK, 0, 0 };
        if (cm_sbuf_create(&cfg, &buf) != CM_OK)
            _exit(2);
        for (int i = 0; i < N; i++)
            if (cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con) != CM_OK ||
                cm_channel_write(e0, "c", 1, &con, 1) != CM_OK)
                _exit(3);
        for (;;)
            pause();
    }
    struct receiver r[N];
    struct test_thread t[N];
    for (int i = 0; i < N; i++) {
        r[i] = (struct receiver){ consumer_from(e1), 0, 0, CM_ERR_INTERNAL, 0 };
        thread_start(&t[i], receive_then_one_more, &r[i]);
    }
    int asleep = 0;
    for (int i = 0; i < N; i++) {
        await_futex_waitv(&t[i]);
        asleep += task_in_futex_waitv(atomic_load(&t[i].tid));
    }
    double t0 = now_s();
    assert_int_equal(kill(pid, SIGKILL), 0);
    for (int i = 0; i < N; i++)
        thread_join(&t[i]);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_int_equal(asleep, N);
    for (int i = 0; i < N; i++) {
        assert_status(r[i].last, CM_ERR_PEER_CLOSED);
        if (r[i].end - t0 > 1.0)
            fail_msg("consumer %d: PEER_CLOSED %.3f s after the death", i, r[i].end - t0);
    }
    assert_int_equal(thread_count(), threads0 + 1); /* the watcher, until the last close */
    for (int i = 0; i < N; i++)
        assert_status(cm_handle_close(r[i].con), CM_OK);
    assert_int_equal(thread_count(), threads0);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
}

/* ---- fork while the watcher is being stopped ---- */

static int count_epoll_fds(void)
{
    int n = 0;
    char link[64];
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        ssize_t k = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (k > 0) {
            link[k] = 0;
            n += strcmp(link, "anon_inode:[eventpoll]") == 0;
        }
    }
    closedir(d);
    return n;
}

static atomic_int fork_at_stop;    /* armed: the next WATCH_STOPPING forks */
static int stop_parent_epolls = -1; /* in the parent, at the point */
static int stop_child_status = -1;  /* the child's epoll fds, or 255 */

void cm__sbuf_test_point(uint32_t where)
{
    if (where != CM__SBUF_TP_WATCH_STOPPING || !atomic_exchange(&fork_at_stop, 0))
        return;
    stop_parent_epolls = count_epoll_fds();
    pid_t pid = fork();
    if (pid == 0)
        _exit(count_epoll_fds() & 0xff); /* its stopper does not exist here */
    int wst;
    if (pid > 0 && waitpid(pid, &wst, 0) == pid && WIFEXITED(wst))
        stop_child_status = WEXITSTATUS(wst);
}

/* A last removal detaches the watcher under the lock and stops and joins
 * it outside: a fork at that moment (here from the stopping thread itself,
 * any thread's fork sees the same state) gives a child that must not keep
 * the watcher's epoll set and eventfd open: nobody there would close them. */
static void test_fork_while_the_watcher_stops_leaves_the_child_no_watcher_fd(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 1);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 50 * MS, &m), CM_ERR_TIMED_OUT); /* registers */
    atomic_store(&fork_at_stop, 1);
    fflush(NULL);
    assert_status(cm_handle_close(con), CM_OK); /* the last removal stops it */
    assert_int_equal(atomic_load(&fork_at_stop), 0); /* the point was reached */
    assert_true(stop_parent_epolls >= 1); /* the watcher's, at least */
    /* The same fork with no watcher left: what a child keeps of the rest
     * (the buffer's); the child forked mid-stop must keep no more. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(count_epoll_fds() & 0xff);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst));
    assert_int_equal(stop_child_status, WEXITSTATUS(wst));
    assert_status(cm_handle_close(buf), CM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_killed_producer_wakes_a_futex_sleeping_receive_with_peer_closed),
        LEAK_TEST(test_producer_dying_right_after_a_publish_is_peer_closed_after_that_message),
        LEAK_TEST(test_killed_consumer_holding_every_slot_wakes_a_futex_sleeping_loan),
        LEAK_TEST(test_closing_the_handle_wakes_futex_sleepers_with_bad_handle),
        LEAK_TEST(test_fork_child_holding_a_consumer_is_woken_by_the_producers_death),
        LEAK_TEST(test_garbage_in_the_wake_words_only_costs_wake_ups),
        LEAK_TEST(test_signals_during_a_futex_sleep_neither_end_it_early_nor_lose_a_publish),
        LEAK_TEST(test_watcher_stop_racing_a_first_registration_leaves_no_thread_or_fd),
        LEAK_TEST(test_fork_while_the_watcher_stops_leaves_the_child_no_watcher_fd),
        LEAK_TEST(test_producer_death_wakes_every_one_of_max_consumers_asleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
