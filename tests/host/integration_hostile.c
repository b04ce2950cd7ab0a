/* SPDX-License-Identifier: MIT */
/* The event-loop integration (docs/integration.md) attacked by a hostile
 * peer and a careless caller: cm_host_object_fd, cm_host_channel_from_fd,
 * cm_host_listen_opts names and REPLACE_STALE, and the SharedBuffer
 * consumer's wake-up socket. Every failure is a typed status; nothing
 * hangs, leaks, or unlinks a live thing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/evloop.h"
#include "common/leakcheck.h"
#include "common/memfd.h"
#include "common/sockdir.h"

/* ---- cm_host_object_fd: careless arguments ---- */

static void test_object_fd_bad_signals_null_outs_and_dead_handles_are_typed(void **state)
{
    (void)state;
    cm_handle_t a, b, l;
    int fd = -7;
    uint32_t ev = 77;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_listen("@cm-hostile-objfd", &l), CM_OK);
    cm_handle_t objs[] = { a, l };
    for (unsigned i = 0; i < 2; i++) {
        assert_status(cm_host_object_fd(objs[i], 0, &fd, &ev), CM_ERR_INVALID_ARGS);
        assert_status(cm_host_object_fd(objs[i], ~(cm_signals_t)0, &fd, &ev),
                      CM_ERR_INVALID_ARGS);
        assert_status(cm_host_object_fd(objs[i], (cm_signals_t)1 << 31, &fd, &ev),
                      CM_ERR_INVALID_ARGS);
        assert_status(cm_host_object_fd(objs[i], CM_SIGNAL_READABLE, NULL, &ev),
                      CM_ERR_INVALID_ARGS);
        assert_status(cm_host_object_fd(objs[i], CM_SIGNAL_READABLE, &fd, NULL),
                      CM_ERR_INVALID_ARGS);
        assert_int_equal(fd, -7); /* untouched on failure */
        assert_int_equal(ev, 77);
    }
    /* A listener asked only for what it never asserts: events 0, not an error. */
    assert_status(cm_host_object_fd(l, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    assert_int_equal(ev, 0);
    cm_handle_close(a);
    cm_handle_close(l);
    fd = -7;
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_ERR_BAD_HANDLE);
    assert_status(cm_host_object_fd(CM_HANDLE_INVALID, CM_SIGNAL_READABLE, &fd, &ev),
                  CM_ERR_BAD_HANDLE);
    assert_int_equal(fd, -7);
    cm_handle_close(b);
}

/* The documented order broken: the handle closed while its fd is still in
 * an epoll set. The kernel drops a closed file from the set, so the loop
 * sees nothing more (no stale readiness, no crash). */
static void test_closing_a_handle_whose_fd_is_in_epoll_leaves_the_set_quiet(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    int ep = epoll_of(fd, ev);
    cm_handle_close(a);
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_ERR_PEER_CLOSED);
    assert_int_equal(epoll_events(ep, 0), 0);
    close(ep);
    cm_handle_close(b);
}

/* A forked child's copy of a channel answers object_fd with the same fd
 * (inherited); a child's SharedBuffer producer copy is a typed error. */
static void test_object_fd_in_a_forked_child_is_typed(void **state)
{
    (void)state;
    cm_handle_t a, b, buf;
    int pfd;
    uint32_t ev;
    cm_sbuf_config_t cfg = { .slot_count = 4, .slot_size = 64, .max_consumers = 1,
                             .max_held = 4, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &pfd, &ev), CM_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = -1;
        int ok = cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev) == CM_OK && fd == pfd;
        cm_status_t st = cm_host_object_fd(buf, CM_SIGNAL_WRITABLE, &fd, &ev);
        ok = ok && st != CM_OK && st < 0;
        _exit(ok ? 0 : 1);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    cm_handle_close(buf);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* ---- cm_host_channel_from_fd ---- */

/* Rule: one fd, one owner. An fd the library already owns (adopted before,
 * or given out by cm_host_object_fd) adopted again would be closed twice,
 * the second time under whatever reused the number. */
static void test_adopting_an_fd_the_library_already_owns_is_refused(void **state)
{
    (void)state;
    int sv[2];
    cm_handle_t x, x2, a, b, dup_;
    int fd;
    uint32_t ev;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x), CM_OK);
    x2 = CM_HANDLE_INVALID;
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x2), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(x2, CM_HANDLE_INVALID);
    /* The fd given out by object_fd, for a created channel. */
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_status(cm_host_channel_from_fd(fd, CM_RIGHTS_SAME, &x2), CM_ERR_ALREADY_EXISTS);
    /* A duplicate handle is the same object: still owned once. */
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &dup_), CM_OK);
    cm_handle_close(a);
    assert_status(cm_host_channel_from_fd(fd, CM_RIGHTS_SAME, &x2), CM_ERR_ALREADY_EXISTS);
    cm_handle_close(dup_);
    /* A SharedBuffer consumer's socket, given out by object_fd. */
    cm_handle_t sb, cons;
    cm_sbuf_config_t cfg = { .slot_count = 4, .slot_size = 64, .max_consumers = 1,
                             .max_held = 4, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &sb), CM_OK);
    assert_status(cm_sbuf_consumer_create(sb, CM_RIGHTS_SAME, &cons), CM_OK);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_status(cm_host_channel_from_fd(fd, CM_RIGHTS_SAME, &x2), CM_ERR_ALREADY_EXISTS);
    cm_handle_close(cons);
    cm_handle_close(sb);
    /* Once the owner closed it, the number is free and adoptable again. */
    int s2[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s2), 0);
    cm_handle_t y;
    assert_status(cm_host_channel_from_fd(s2[0], CM_RIGHTS_SAME, &y), CM_OK);
    cm_handle_close(y);
    close(s2[1]);
    /* The owned one still works and closes its fd exactly once. */
    assert_int_equal(send(sv[1], "z", 1, 0), 1);
    assert_status(cm_channel_wait_readable(x, (int64_t)HANG_MS * 1000000), CM_OK);
    cm_handle_close(x);
    assert_int_equal(fcntl(sv[0], F_GETFD), -1);
    close(sv[1]);
    cm_handle_close(b);
}

/* A socketpair end whose peer is already gone is still connected as far as
 * getpeername goes: adopted, it says PEER_CLOSED at once, never blocks. */
static void test_adopting_an_end_whose_peer_is_gone_reports_peer_closed(void **state)
{
    (void)state;
    int sv[2];
    cm_handle_t x;
    cm_signals_t seen = 0;
    char buf[4];
    uint32_t nb, nh;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[1]);
    cm_status_t st = cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x);
    if (st != CM_OK) { /* refusing is typed too; the fd stays the caller's */
        assert_true(st < 0);
        close(sv[0]);
        return;
    }
    assert_status(cm_object_wait_one(x, CM_SIGNAL_PEER_CLOSED, (int64_t)HANG_MS * 1000000,
                                     &seen), CM_OK);
    assert_true(seen & CM_SIGNAL_PEER_CLOSED);
    assert_status(cm_channel_read(x, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_write(x, "a", 1, NULL, 0), CM_ERR_PEER_CLOSED);
    cm_handle_close(x);
}

static void test_adopting_numbers_beyond_the_fd_limit_is_invalid_args(void **state)
{
    (void)state;
    struct rlimit rl;
    cm_handle_t x = CM_HANDLE_INVALID;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    int big = rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
    assert_status(cm_host_channel_from_fd(big, CM_RIGHTS_SAME, &x), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_channel_from_fd(INT_MAX, CM_RIGHTS_SAME, &x), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_channel_from_fd(INT_MIN, CM_RIGHTS_SAME, &x), CM_ERR_INVALID_ARGS);
    assert_int_equal(x, CM_HANDLE_INVALID);
}

/* ---- listener names ---- */

static void test_degenerate_names_are_invalid_args(void **state)
{
    (void)state;
    cm_handle_t l = CM_HANDLE_INVALID, c;
    char name[200];
    assert_status(cm_host_listen("", &l), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen("@", &l), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen_opts("@", CM_HOST_LISTEN_REPLACE_STALE, &l),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect("", &c), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect("@", &c), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen(NULL, &l), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen_opts("@x", 1u << 31, &l), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen_opts("@x", CM_HOST_LISTEN_REPLACE_STALE, NULL),
                  CM_ERR_INVALID_ARGS);
    assert_int_equal(l, CM_HANDLE_INVALID);
    /* '@' + 107 bytes: the longest abstract name, usable end to end. */
    name[0] = '@';
    memset(name + 1, 'q', 107);
    name[108] = '\0';
    assert_status(cm_host_listen_opts(name, CM_HOST_LISTEN_REPLACE_STALE, &l), CM_OK);
    cm_handle_t l2;
    assert_status(cm_host_listen_opts(name, CM_HOST_LISTEN_REPLACE_STALE, &l2),
                  CM_ERR_ALREADY_EXISTS); /* a live abstract name is never replaced */
    assert_status(cm_host_connect(name, &c), CM_OK);
    cm_handle_close(c);
    /* One byte shorter is another name (no truncation aliasing). */
    name[107] = '\0';
    assert_status(cm_host_connect(name, &c), CM_ERR_CONNECTION_REFUSED);
    cm_handle_close(l);
    name[107] = 'q';
    name[109] = '\0';
    name[108] = 'q';
    assert_status(cm_host_listen(name, &l), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect(name, &c), CM_ERR_INVALID_ARGS);
}

/* A directory nobody may create in (a file, not a directory, on the way):
 * a typed error, nothing created. */
static void test_listening_where_no_socket_can_be_made_is_typed(void **state)
{
    (void)state;
    cm_handle_t l = CM_HANDLE_INVALID;
    char p[128];
    snprintf(p, sizeof(p), "%s/file", sock_dir);
    int f = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(f >= 0);
    close(f);
    snprintf(p, sizeof(p), "%s/file/sock", sock_dir);
    cm_status_t st = cm_host_listen_opts(p, CM_HOST_LISTEN_REPLACE_STALE, &l);
    assert_true(st < 0);
    snprintf(p, sizeof(p), "%s/nodir/sock", sock_dir);
    st = cm_host_listen_opts(p, CM_HOST_LISTEN_REPLACE_STALE, &l);
    assert_true(st < 0);
    assert_int_equal(l, CM_HANDLE_INVALID);
    snprintf(p, sizeof(p), "%s/file", sock_dir);
    unlink(p);
}

/* REPLACE_STALE at a path that is a directory, or a symlink to a live
 * listener: never removed, the live listener still reachable. */
static void test_replace_stale_never_removes_a_directory_or_a_link_to_a_live_listener(void **state)
{
    (void)state;
    cm_handle_t live, l, c;
    char d[128], lnk[128];
    struct stat sb;
    snprintf(d, sizeof(d), "%s/d", sock_dir);
    snprintf(lnk, sizeof(lnk), "%s/lnk", sock_dir);
    assert_int_equal(mkdir(d, 0700), 0);
    assert_status(cm_host_listen_opts(d, CM_HOST_LISTEN_REPLACE_STALE, &l),
                  CM_ERR_ALREADY_EXISTS);
    assert_int_equal(lstat(d, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_status(cm_host_listen(sock_path, &live), CM_OK);
    assert_int_equal(symlink(sock_path, lnk), 0);
    assert_status(cm_host_listen_opts(lnk, CM_HOST_LISTEN_REPLACE_STALE, &l),
                  CM_ERR_ALREADY_EXISTS);
    assert_int_equal(lstat(lnk, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    cm_handle_close(c);
    cm_handle_close(live);
    unlink(lnk);
    rmdir(d);
}

/* Two REPLACE_STALE listens race on one stale path, many times: exactly one
 * wins, the other is ALREADY_EXISTS, and the winner stays reachable (the
 * loser never unlinked the winner's file). */
struct race {
    pthread_barrier_t *bar;
    cm_status_t st;
    cm_handle_t l;
};

static void *race_listen(void *arg)
{
    struct race *r = arg;
    pthread_barrier_wait(r->bar);
    r->st = cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &r->l);
    return NULL;
}

static void make_stale(const char *path)
{
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(s >= 0);
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s); /* the file stays: stale */
}

static void test_racing_replace_stale_listens_leave_one_reachable_winner(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        pthread_barrier_t bar;
        pthread_t t[2];
        struct race r[2];
        make_stale(sock_path);
        pthread_barrier_init(&bar, NULL, 2);
        for (int k = 0; k < 2; k++) {
            r[k] = (struct race){ .bar = &bar, .st = 1, .l = CM_HANDLE_INVALID };
            assert_int_equal(pthread_create(&t[k], NULL, race_listen, &r[k]), 0);
        }
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        pthread_barrier_destroy(&bar);
        int wins = (r[0].st == CM_OK) + (r[1].st == CM_OK);
        assert_int_equal(wins, 1);
        struct race *w = r[0].st == CM_OK ? &r[0] : &r[1];
        struct race *lo = r[0].st == CM_OK ? &r[1] : &r[0];
        assert_status(lo->st, CM_ERR_ALREADY_EXISTS);
        cm_handle_t c;
        assert_status(cm_host_connect(sock_path, &c), CM_OK);
        cm_handle_close(c);
        cm_handle_close(w->l);
        struct stat sb;
        assert_int_equal(lstat(sock_path, &sb), -1); /* the winner's close removed it */
    }
}

/* ---- SharedBuffer consumer socket under a hostile producer ---- */

static void publish(cm_handle_t buf, const char *text)
{
    cm_sbuf_loan_t loan;
    assert_status(cm_sbuf_loan(buf, 0, 0, &loan), CM_OK);
    memcpy(loan.data, text, strlen(text));
    assert_status(cm_sbuf_publish(buf, loan.id, (uint32_t)strlen(text), NULL), CM_OK);
}

/* The producer's end of the consumer's socket: the only other AF_UNIX
 * seqpacket socket in this process while just one SharedBuffer exists. */
static int producer_end(int cons_fd)
{
    for (int f = 0; f < 1024; f++) {
        int type, dom;
        socklen_t len = sizeof(int);
        if (f == cons_fd || getsockopt(f, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
            continue;
        len = sizeof(int);
        if (getsockopt(f, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0)
            continue;
        if (dom == AF_UNIX && type == SOCK_SEQPACKET)
            return f;
    }
    return -1;
}

static void send_fd(int sock, int fd)
{
    char b = 1;
    struct iovec iov = { &b, 1 };
    union { struct cmsghdr h; char c[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c,
                        .msg_controllen = sizeof(u.c) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    assert_int_equal(sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL), 1);
}

/* A producer that floods the consumer's socket with wake-up bytes (until
 * the socket is full) and sends fds and multi-byte junk on it: every
 * receive returns at once (bounded drain), the fds it carried are not
 * installed, the loop's fd settles once the flood stops, and published
 * messages still arrive. */
static void test_a_flooding_producer_never_hangs_the_consumer_and_its_fd_settles(void **state)
{
    (void)state;
    cm_handle_t buf, cons;
    int fd;
    uint32_t ev;
    cm_sbuf_msg_t m;
    cm_sbuf_config_t cfg = { .slot_count = 4, .slot_size = 64, .max_consumers = 1,
                             .max_held = 4, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &cons), CM_OK);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, &fd, &ev),
                  CM_OK);
    int peer = producer_end(fd);
    assert_true(peer >= 0);
    int ep = epoll_of(fd, ev);
    int fds_before = count_open_fds();
    int junkfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < 8; i++)
        send_fd(peer, junkfd);
    close(junkfd);
    char junk[512];
    memset(junk, 0xa5, sizeof(junk));
    assert_int_equal(send(peer, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL),
                     (ssize_t)sizeof(junk));
    int sent = 0;
    while (send(peer, "\1", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
        sent++;
    assert_true(sent > 64); /* more than one drain takes */
    int rounds = 0;
    while (epoll_events(ep, 0) != 0) {
        assert_true(++rounds < 10000);
        assert_status(cm_sbuf_receive(cons, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    }
    assert_int_equal(count_open_fds(), fds_before); /* the fds it carried: gone */
    publish(buf, "real");
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_status(cm_sbuf_receive(cons, 0, 0, &m), CM_OK);
    assert_int_equal(m.len, 4);
    assert_status(cm_sbuf_release(cons, m.seq), CM_OK);
    assert_status(cm_sbuf_receive(cons, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    close(ep);
    cm_handle_close(cons);
    cm_handle_close(buf);
}

/* A consumer that floods the producer with wake-up bytes, junk and fds
 * (through its end of its socket): every loan with timeout 0 returns at
 * once, the fds are not installed, the producer's loop fd settles once the
 * flood stops, and publishing goes on. */
static void test_a_flooding_consumer_never_hangs_the_producer_and_its_fd_settles(void **state)
{
    (void)state;
    cm_handle_t buf, cons;
    int pfd, cfd;
    uint32_t pev, cev;
    cm_sbuf_loan_t loans[4];
    cm_sbuf_msg_t m;
    cm_sbuf_config_t cfg = { .slot_count = 2, .slot_size = 64, .max_consumers = 1,
                             .max_held = 2, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &cons), CM_OK);
    assert_status(cm_host_object_fd(buf, CM_SIGNAL_WRITABLE, &pfd, &pev), CM_OK);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_WRITABLE, &cfd, &cev), CM_OK);
    int ep = epoll_of(pfd, pev);
    /* Both slots published and held: the producer has nothing to lend. */
    publish(buf, "a");
    publish(buf, "b");
    assert_status(cm_sbuf_loan(buf, 0, 0, &loans[0]), CM_ERR_SHOULD_WAIT);
    int fds_before = count_open_fds();
    int junkfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < 8; i++)
        send_fd(cfd, junkfd);
    close(junkfd);
    char junk[512];
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(send(cfd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL),
                     (ssize_t)sizeof(junk));
    int sent = 0;
    while (send(cfd, "\1", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
        sent++;
    assert_true(sent > 64);
    int rounds = 0;
    while (epoll_events(ep, 0) != 0) {
        assert_true(++rounds < 10000);
        assert_status(cm_sbuf_loan(buf, 0, 0, &loans[0]), CM_ERR_SHOULD_WAIT);
    }
    assert_int_equal(count_open_fds(), fds_before);
    /* The consumer is still a consumer: its releases free slots. */
    assert_status(cm_sbuf_receive(cons, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(cons, m.seq), CM_OK);
    assert_true(epoll_events(ep, HANG_MS) & EPOLLIN);
    assert_status(cm_sbuf_loan(buf, 0, 0, &loans[0]), CM_OK);
    assert_status(cm_sbuf_cancel(buf, loans[0].id), CM_OK);
    close(ep);
    cm_handle_close(cons);
    cm_handle_close(buf);
}

/* An empty packet reads as 0 bytes, as a hang-up does: a consumer that
 * sends one on its socket is taken for gone by the producer. That harms only
 * itself: the other consumer keeps receiving everything, the producer keeps
 * publishing, and the liar gets typed statuses, never a crash or a hang. */
static void test_a_consumers_empty_packet_evicts_only_itself(void **state)
{
    (void)state;
    cm_handle_t buf, liar, honest;
    int cfd;
    uint32_t cev;
    cm_sbuf_msg_t m;
    cm_sbuf_config_t cfg = { .slot_count = 4, .slot_size = 64, .max_consumers = 2,
                             .max_held = 4, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &liar), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &honest), CM_OK);
    assert_status(cm_host_object_fd(liar, CM_SIGNAL_WRITABLE, &cfd, &cev), CM_OK);
    assert_int_equal(send(cfd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL), 0);
    for (int i = 0; i < 12; i++) {
        publish(buf, "m");
        assert_status(cm_sbuf_receive(honest, 0, 0, &m), CM_OK);
        assert_status(cm_sbuf_release(honest, m.seq), CM_OK);
        cm_status_t st = cm_sbuf_receive(liar, 0, 0, &m);
        assert_true(st <= 0);
        if (st == CM_OK)
            assert_true(cm_sbuf_release(liar, m.seq) <= 0);
    }
    cm_handle_close(liar);
    cm_handle_close(honest);
    cm_handle_close(buf);
}

/* A plain listen and a REPLACE_STALE listen race on one path (empty, or
 * holding a stale file): exactly one wins and stays reachable; the
 * replacer never takes the plain listener between its bind and its listen
 * (the directory lock) for a stale socket. */
static void *race_listen_plain(void *arg)
{
    struct race *r = arg;
    pthread_barrier_wait(r->bar);
    r->st = cm_host_listen(sock_path, &r->l);
    return NULL;
}

static void test_a_replacing_listen_never_takes_a_plain_listen_being_made_for_stale(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        pthread_barrier_t bar;
        pthread_t t[2];
        struct race r[2];
        if (i % 2)
            make_stale(sock_path);
        pthread_barrier_init(&bar, NULL, 2);
        for (int k = 0; k < 2; k++)
            r[k] = (struct race){ .bar = &bar, .st = 1, .l = CM_HANDLE_INVALID };
        assert_int_equal(pthread_create(&t[0], NULL, race_listen_plain, &r[0]), 0);
        assert_int_equal(pthread_create(&t[1], NULL, race_listen, &r[1]), 0);
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        pthread_barrier_destroy(&bar);
        for (int k = 0; k < 2; k++)
            if (r[k].st != CM_OK)
                assert_status(r[k].st, CM_ERR_ALREADY_EXISTS);
        int wins = (r[0].st == CM_OK) + (r[1].st == CM_OK);
        assert_int_equal(wins, 1);
        cm_handle_t c;
        assert_status(cm_host_connect(sock_path, &c), CM_OK);
        cm_handle_close(c);
        cm_handle_close(r[0].st == CM_OK ? r[0].l : r[1].l);
        unlink(sock_path); /* the plain loser may leave the stale file of odd rounds */
    }
}

/* A listener whose file was replaced by another's (removed by hand, then a
 * new listen) must not unlink the newcomer's file when it closes; nor does
 * a forked child that closes its copy unlink the parent's. */
static void test_closing_a_listener_never_unlinks_a_file_it_did_not_bind(void **state)
{
    (void)state;
    cm_handle_t a, b, c;
    struct stat sb;
    assert_status(cm_host_listen(sock_path, &a), CM_OK);
    assert_int_equal(unlink(sock_path), 0);
    assert_status(cm_host_listen(sock_path, &b), CM_OK);
    cm_handle_close(a);
    assert_int_equal(lstat(sock_path, &sb), 0);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    cm_handle_close(c);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cm_handle_close(b);
        _exit(0);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_int_equal(lstat(sock_path, &sb), 0);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    cm_handle_close(c);
    cm_handle_close(b);
    assert_int_equal(lstat(sock_path, &sb), -1);
}

/* A live listener whose queue is full answers the probe with EAGAIN: still
 * live, never replaced. */
static void test_replace_stale_leaves_a_live_listener_with_a_full_queue(void **state)
{
    (void)state;
    cm_handle_t live, l, cs[64];
    int n = 0;
    cm_status_t st;
    assert_status(cm_host_listen(sock_path, &live), CM_OK);
    while (n < 64 && (st = cm_host_connect(sock_path, &cs[n])) == CM_OK)
        n++;
    assert_status(st, CM_ERR_SHOULD_WAIT);
    ino_t ino;
    struct stat sb;
    assert_int_equal(lstat(sock_path, &sb), 0);
    ino = sb.st_ino;
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &l),
                  CM_ERR_ALREADY_EXISTS);
    assert_int_equal(lstat(sock_path, &sb), 0);
    assert_int_equal(sb.st_ino, ino);
    for (int k = 0; k < n; k++)
        cm_handle_close(cs[k]);
    cm_handle_close(live);
}

/* The same rule for cm_host_vmo_from_fd, which keeps the caller's own fd
 * number for a frozen read-only memfd (no reopen): adopting that number
 * again would give two VMOs one fd, each closing it. */
static void test_adopting_a_frozen_vmo_fd_twice_is_refused(void **state)
{
    (void)state;
    cm_handle_t v1, v2 = CM_HANDLE_INVALID;
    cm_vmo_info_t info;
    int fd = memfd_of(4096);
    assert_int_equal(write(fd, "frozen", 6), 6);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), 0);
    assert_status(cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &v1), CM_OK);
    assert_true(fcntl(fd, F_GETFD) >= 0); /* kept, not closed: the case at stake */
    assert_status(cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &v2), CM_ERR_ALREADY_EXISTS);
    assert_int_equal(v2, CM_HANDLE_INVALID);
    assert_status(cm_vmo_get_info(v1, &info), CM_OK);
    cm_handle_close(v1);
    assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed once, by its one owner */
}

/* Rule: no sequence of public calls yields a right the handle lacks. A
 * channel's fd read, written, or dup'ed and adopted gives every channel
 * right, so a handle without all of them gets no fd (else: a READ-only
 * duplicate, object_fd, dup, cm_host_channel_from_fd = a handle with
 * WRITE). A consumer's fd needs READ, a producer's (its epoll set, whose
 * interest list the holder can edit) WRITE. */
static void test_object_fd_never_widens_a_reduced_handle(void **state)
{
    (void)state;
    cm_handle_t a, b, ro, buf, cons, weak;
    int fd = -7;
    uint32_t ev;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(a, CM_RIGHT_READ, &ro), CM_OK);
    assert_status(cm_host_object_fd(ro, CM_SIGNAL_READABLE, &fd, &ev), CM_ERR_ACCESS_DENIED);
    assert_int_equal(fd, -7);
    cm_handle_close(ro);
    assert_status(cm_handle_duplicate(a, CM_CHANNEL_DEFAULT_RIGHTS & ~CM_RIGHT_TRANSFER, &ro),
                  CM_OK);
    assert_status(cm_host_object_fd(ro, CM_SIGNAL_READABLE, &fd, &ev), CM_ERR_ACCESS_DENIED);
    cm_handle_close(ro);
    assert_status(cm_host_object_fd(a, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    cm_sbuf_config_t cfg = { .slot_count = 4, .slot_size = 64, .max_consumers = 1,
                             .max_held = 4, .max_loans = 2, .policy = CM_SBUF_BLOCK };
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &cons), CM_OK);
    assert_status(cm_host_object_fd(cons, CM_SIGNAL_READABLE, &fd, &ev), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_duplicate(buf, CM_RIGHT_READ, &weak), CM_OK);
    assert_status(cm_host_object_fd(weak, CM_SIGNAL_WRITABLE, &fd, &ev), CM_ERR_ACCESS_DENIED);
    assert_status(cm_host_object_fd(buf, CM_SIGNAL_WRITABLE, &fd, &ev), CM_OK);
    cm_handle_close(weak);
    cm_handle_close(cons);
    cm_handle_close(buf);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* Two threads adopt one fd at once, many times: exactly one owns it. */
struct adopt_race {
    pthread_barrier_t *bar;
    int fd;
    cm_status_t st;
    cm_handle_t h;
};

static void *adopt_one(void *arg)
{
    struct adopt_race *r = arg;
    pthread_barrier_wait(r->bar);
    r->st = cm_host_channel_from_fd(r->fd, CM_RIGHTS_SAME, &r->h);
    return NULL;
}

static void test_racing_adoptions_of_one_fd_leave_one_owner(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        int sv[2];
        pthread_barrier_t bar;
        pthread_t t[2];
        struct adopt_race r[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        pthread_barrier_init(&bar, NULL, 2);
        for (int k = 0; k < 2; k++) {
            r[k] = (struct adopt_race){ .bar = &bar, .fd = sv[0], .st = 1,
                                        .h = CM_HANDLE_INVALID };
            assert_int_equal(pthread_create(&t[k], NULL, adopt_one, &r[k]), 0);
        }
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        pthread_barrier_destroy(&bar);
        assert_int_equal((r[0].st == CM_OK) + (r[1].st == CM_OK), 1);
        struct adopt_race *lo = r[0].st == CM_OK ? &r[1] : &r[0];
        assert_status(lo->st, CM_ERR_ALREADY_EXISTS);
        cm_handle_close(r[0].st == CM_OK ? r[0].h : r[1].h);
        assert_int_equal(fcntl(sv[0], F_GETFD), -1);
        close(sv[1]);
    }
    /* A listener's fd, as object_fd gives it: a listening socket. */
    cm_handle_t l, x;
    int fd;
    uint32_t ev;
    assert_status(cm_host_listen("@cm-hostile-adopt-listener", &l), CM_OK);
    assert_status(cm_host_object_fd(l, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_status(cm_host_channel_from_fd(fd, CM_RIGHTS_SAME, &x), CM_ERR_BAD_STATE);
    cm_handle_close(l);
}

/* REPLACE_STALE at the longest path (107 bytes: the directory lock's copy
 * of the directory must fit) and at a bare relative name (the directory is
 * "."): a stale file replaced, the new listener reachable. */
static void test_replace_stale_at_the_longest_and_a_relative_path(void **state)
{
    (void)state;
    char p[108], cwd[256];
    cm_handle_t l, c;
    int n = snprintf(p, sizeof(p), "%s/", sock_dir);
    memset(p + n, 'z', (size_t)(107 - n));
    p[107] = '\0';
    assert_int_equal(strlen(p), 107);
    make_stale(p);
    assert_status(cm_host_listen(p, &l), CM_ERR_ALREADY_EXISTS);
    assert_status(cm_host_connect(p, &c), CM_ERR_CONNECTION_REFUSED);
    assert_status(cm_host_listen_opts(p, CM_HOST_LISTEN_REPLACE_STALE, &l), CM_OK);
    assert_status(cm_host_connect(p, &c), CM_OK);
    cm_handle_close(c);
    cm_handle_close(l);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(sock_dir), 0);
    make_stale("rel");
    assert_status(cm_host_listen_opts("rel", CM_HOST_LISTEN_REPLACE_STALE, &l), CM_OK);
    assert_status(cm_host_connect("rel", &c), CM_OK);
    cm_handle_close(c);
    cm_handle_close(l);
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_object_fd_bad_signals_null_outs_and_dead_handles_are_typed),
        LEAK_TEST(test_object_fd_never_widens_a_reduced_handle),
        LEAK_TEST(test_closing_a_handle_whose_fd_is_in_epoll_leaves_the_set_quiet),
        LEAK_TEST(test_object_fd_in_a_forked_child_is_typed),
        LEAK_TEST(test_adopting_an_fd_the_library_already_owns_is_refused),
        LEAK_TEST(test_adopting_a_frozen_vmo_fd_twice_is_refused),
        LEAK_TEST(test_racing_adoptions_of_one_fd_leave_one_owner),
        LEAK_TEST(test_adopting_an_end_whose_peer_is_gone_reports_peer_closed),
        LEAK_TEST(test_adopting_numbers_beyond_the_fd_limit_is_invalid_args),
        LEAK_TEST(test_degenerate_names_are_invalid_args),
        DIR_TEST(test_listening_where_no_socket_can_be_made_is_typed),
        DIR_TEST(test_replace_stale_never_removes_a_directory_or_a_link_to_a_live_listener),
        DIR_TEST(test_racing_replace_stale_listens_leave_one_reachable_winner),
        DIR_TEST(test_a_replacing_listen_never_takes_a_plain_listen_being_made_for_stale),
        DIR_TEST(test_replace_stale_at_the_longest_and_a_relative_path),
        DIR_TEST(test_closing_a_listener_never_unlinks_a_file_it_did_not_bind),
        DIR_TEST(test_replace_stale_leaves_a_live_listener_with_a_full_queue),
        LEAK_TEST(test_a_flooding_producer_never_hangs_the_consumer_and_its_fd_settles),
        LEAK_TEST(test_a_flooding_consumer_never_hangs_the_producer_and_its_fd_settles),
        LEAK_TEST(test_a_consumers_empty_packet_evicts_only_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
