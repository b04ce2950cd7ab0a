/* SPDX-License-Identifier: MIT */
/* A wait without deadline in a single-threaded process sleeps in its peek
 * (host/channel.c, wait_in_peek: a blocking recvmsg(MSG_PEEK) is the wait
 * and the peek in one call; docs/channel.md, "Waiting and closing"). Each
 * test runs its waiter in a forked child of this program, which starts no
 * thread, so the child is single-threaded and takes that path; it sleeps
 * there before the parent acts (its state in /proc is S). What the path
 * must keep: the read takes exactly the record the wait peeked; the end of
 * the stream is PEER_CLOSED, not a hang; a hostile record wakes it and the
 * read refuses it; a signal does not end the wait. The call counts are
 * tests/host/syscall_budget.sh's ("map-blocked"). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "common/child.h"
#include "common/rawpeer.h"

/* Reads /proc/<pid>/<what> into buf (NUL-terminated). Returns 0, or -1
 * (the process is gone). */
static int read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return 0;
}

/* Is process pid asleep in the kernel (state S)? 1, 0, or -1 (gone). */
static int is_asleep(pid_t pid)
{
    char buf[256];
    if (read_proc(pid, "stat", buf, sizeof(buf)) != 0)
        return -1;
    char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] == 'S';
}

/* Waits until process pid sleeps in the kernel (state S in /proc). */
static int wait_asleep(pid_t pid)
{
    for (int i = 0; i < 20000; i++) {
        int r = is_asleep(pid);
        if (r != 0)
            return r > 0 ? 0 : -1;
        usleep(500);
    }
    return -1;
}

/* Waits until no signal is pending for process pid (SigPnd and ShdPnd in
 * /proc are 0): one sent to it has been taken, its handler run. */
static int wait_no_pending(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    for (int i = 0; i < 20000; i++) {
        FILE *f = fopen(path, "re");
        if (f == NULL)
            return -1;
        int pending = 0;
        while (fgets(line, sizeof(line), f) != NULL)
            if ((strncmp(line, "SigPnd:", 7) == 0 || strncmp(line, "ShdPnd:", 7) == 0) &&
                strspn(line + 7, "\t 0") != strlen(line + 7) - 1)
                pending = 1;
        fclose(f);
        if (!pending)
            return 0;
        usleep(500);
    }
    return -1;
}

/* The child's half: the path under test is taken only single-threaded. */
static void child_expect_single_threaded(void)
{
    CHILD_CHECK(__libc_single_threaded);
}

static void test_wait_asleep_in_peek_then_read_takes_the_record_with_its_handle(void **state)
{
    (void)state;
    cm_handle_t a, b, v;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        char bytes[16] = { 0 };
        uint32_t nb = 0, nh = 0;
        cm_handle_t got = CM_HANDLE_INVALID;
        uint64_t size = 0;
        child_expect_single_threaded();
        for (int round = 0; round < 3; round++) {
            CHILD_EXPECT(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
            CHILD_EXPECT(cm_channel_read(b, bytes, sizeof(bytes), &nb, &got, 1, &nh), CM_OK);
            CHILD_CHECK(nb == 6 && memcmp(bytes, "round", 5) == 0 && bytes[5] == '0' + round);
            CHILD_CHECK(nh == 1);
            CHILD_EXPECT(cm_vmo_get_size(got, &size), CM_OK);
            CHILD_CHECK(size == (uint64_t)(round + 1) * CM_PAGE_SIZE);
            cm_handle_close(got);
        }
        /* Nothing more queued: a non-blocking read says so. */
        CHILD_EXPECT(cm_channel_read(b, bytes, sizeof(bytes), &nb, &got, 1, &nh), CM_ERR_SHOULD_WAIT);
        child_exit();
    }
    for (int round = 0; round < 3; round++) {
        char msg[6] = { 'r', 'o', 'u', 'n', 'd', (char)('0' + round) };
        assert_int_equal(wait_asleep(pid), 0);
        assert_status(cm_vmo_create((uint64_t)(round + 1) * CM_PAGE_SIZE, 0, &v), CM_OK);
        assert_status(cm_channel_write(a, msg, sizeof(msg), &v, 1), CM_OK);
    }
    assert_child_passed(pid);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_wait_asleep_in_peek_sees_the_peer_go_as_peer_closed(void **state)
{
    (void)state;
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "last", 4, NULL, 0), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        char bytes[8];
        uint32_t nb = 0, nh = 0;
        child_expect_single_threaded();
        CHILD_EXPECT(cm_handle_close(a), CM_OK); /* the child's copy of the peer's end */
        CHILD_EXPECT(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
        CHILD_EXPECT(cm_channel_read(b, bytes, sizeof(bytes), &nb, NULL, 0, &nh), CM_OK);
        CHILD_CHECK(nb == 4 && memcmp(bytes, "last", 4) == 0);
        CHILD_EXPECT(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
        child_exit();
    }
    assert_int_equal(wait_asleep(pid), 0);
    assert_status(cm_handle_close(a), CM_OK);
    assert_child_passed(pid);
    cm_handle_close(b);
}

/* A record no capmem peer sends (a pipe posing as a VMO) wakes the waiter,
 * whose read refuses it (PROTOCOL) and closes what came with it; the next
 * wait sleeps again and takes the next, good record. */
static void test_wait_asleep_in_peek_wakes_for_a_hostile_record_the_read_refuses(void **state)
{
    (void)state;
    struct raw_peer rp;
    raw_open(&rp);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        char bytes[8];
        uint32_t nb = 0, nh = 0;
        cm_handle_t got = CM_HANDLE_INVALID;
        child_expect_single_threaded();
        close(rp.raw); /* the child's copy of the peer's socket */
        CHILD_EXPECT(cm_channel_wait_readable(rp.ch, CM_TIMEOUT_INFINITE), CM_OK);
        CHILD_EXPECT(cm_channel_read(rp.ch, bytes, sizeof(bytes), &nb, &got, 1, &nh),
                     CM_ERR_PROTOCOL);
        CHILD_EXPECT(cm_channel_wait_readable(rp.ch, CM_TIMEOUT_INFINITE), CM_OK);
        CHILD_EXPECT(cm_channel_read(rp.ch, bytes, sizeof(bytes), &nb, &got, 1, &nh), CM_OK);
        CHILD_CHECK(nh == 1);
        cm_handle_close(got);
        CHILD_EXPECT(cm_channel_wait_readable(rp.ch, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
        child_exit();
    }
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(wait_asleep(pid), 0);
    assert_int_equal(raw_send(rp.raw, p[0], CM_OBJ_VMO, CM_RIGHT_READ | CM_RIGHT_MAP), 0);
    assert_int_equal(wait_asleep(pid), 0);
    int fd = memfd_create("waitpeek", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, CM_PAGE_SIZE), 0);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), 0);
    assert_int_equal(raw_send(rp.raw, fd, CM_OBJ_VMO, CM_RIGHT_READ | CM_RIGHT_MAP), 0);
    close(fd);
    close(p[0]);
    close(p[1]);
    assert_int_equal(wait_asleep(pid), 0);
    raw_close(&rp);
    assert_child_passed(pid);
}

static volatile sig_atomic_t signals_seen;

static void count_signal(int sig)
{
    (void)sig;
    signals_seen++;
}

/* A signal handled without SA_RESTART interrupts the sleeping peek
 * (EINTR): the wait goes on sleeping, as a wait in poll does, and ends
 * only when the record comes. */
static void test_wait_asleep_in_peek_survives_an_interrupting_signal(void **state)
{
    (void)state;
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        char bytes[8];
        uint32_t nb = 0, nh = 0;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = count_signal; /* no SA_RESTART */
        CHILD_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
        child_expect_single_threaded();
        CHILD_EXPECT(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
        CHILD_CHECK(signals_seen == 1);
        CHILD_EXPECT(cm_channel_read(b, bytes, sizeof(bytes), &nb, NULL, 0, &nh), CM_OK);
        CHILD_CHECK(nb == 2 && memcmp(bytes, "ok", 2) == 0);
        child_exit();
    }
    assert_int_equal(wait_asleep(pid), 0);
    assert_int_equal(kill(pid, SIGUSR1), 0);
    assert_int_equal(wait_no_pending(pid), 0);
    assert_int_equal(wait_asleep(pid), 0);
    assert_status(cm_channel_write(a, "ok", 2, NULL, 0), CM_OK);
    assert_child_passed(pid);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* Is process pid asleep (state S) inside recvmsg? /proc/pid/syscall names
 * the call a sleeping task is in. Returns 1, 0 (not now), or -1 (gone). */
static int asleep_in_recvmsg(pid_t pid)
{
    char buf[256];
    int r = is_asleep(pid);
    if (r <= 0)
        return r;
    if (read_proc(pid, "syscall", buf, sizeof(buf)) != 0)
        return -1;
    return atol(buf) == SYS_recvmsg;
}

/* In a single-threaded child, waits for b without deadline and reads "ok".
 * The parent, once the child sleeps, sets SO_PEEK_OFF past every record
 * through dup_fd (another fd of b's socket) and writes "ok" through a. A
 * peek then skips what is queued, so a wait asleep in its peek would never
 * see the record a read delivers (docs/channel.md: the offset is undone by
 * any read that does not deliver). Returns 1 if the child was seen asleep
 * in recvmsg with the record queued (then killed), 0 once it ended (judged
 * by assert_child_passed). */
static int wait_held_off_by_peek_offset(cm_handle_t a, cm_handle_t b, int dup_fd)
{
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        char bytes[8];
        uint32_t nb = 0, nh = 0;
        child_expect_single_threaded();
        CHILD_EXPECT(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
        CHILD_EXPECT(cm_channel_read(b, bytes, sizeof(bytes), &nb, NULL, 0, &nh), CM_OK);
        CHILD_CHECK(nb == 2 && memcmp(bytes, "ok", 2) == 0);
        child_exit();
    }
    assert_int_equal(wait_asleep(pid), 0);
    int off = 1 << 20;
    assert_int_equal(setsockopt(dup_fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)), 0);
    assert_status(cm_channel_write(a, "ok", 2, NULL, 0), CM_OK);
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof(si));
        assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
        if (si.si_pid == pid)
            break;
        if (asleep_in_recvmsg(pid) == 1) {
            (void)kill(pid, SIGKILL);
            (void)waitpid(pid, NULL, 0);
            return 1;
        }
        usleep(500);
    }
    assert_child_passed(pid);
    return 0;
}

/* An endpoint received from a peer that kept a dup of its socket: such an
 * endpoint's wait must not sleep in a peek. */
static void test_wait_on_received_endpoint_is_not_held_off_by_a_dup_holders_peek_offset(void **state)
{
    (void)state;
    struct raw_peer rp;
    int sv[2];
    cm_handle_t a, b = CM_HANDLE_INVALID;
    raw_open(&rp);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(raw_send(rp.raw, sv[1], CM_OBJ_CHANNEL, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &b), CM_OK); /* sv[1] is kept: the dup */
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &a), CM_OK);
    int held = wait_held_off_by_peek_offset(a, b, sv[1]);
    close(sv[1]);
    cm_handle_close(a);
    cm_handle_close(b);
    raw_close(&rp);
    assert_false(held); /* asleep in a peek with the record queued */
}

/* A channel made here whose socket was given out by cm_host_object_fd
 * (whoever holds that fd can set the offset): the same. */
static void test_wait_after_object_fd_is_not_held_off_by_a_peek_offset(void **state)
{
    (void)state;
    cm_handle_t a, b;
    int fd;
    uint32_t ev;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_object_fd(b, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    int held = wait_held_off_by_peek_offset(a, b, fd);
    cm_handle_close(a);
    cm_handle_close(b);
    assert_false(held); /* asleep in a peek with the record queued */
}

/* Receives one record on the raw socket and returns the first fd it
 * carried, or -1. */
static int raw_recv_fd(int raw)
{
    char data[256];
    union {
        char buf[CMSG_SPACE(8 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { data, sizeof(data) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    if (recvmsg(raw, &msg, MSG_CMSG_CLOEXEC) <= 0)
        return -1;
    int fd = -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len >= CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

/* An endpoint sent away while a duplicate of its handle stays here: the
 * receiver holds the same socket, so the kept handle's wait is the same
 * case. */
static void test_wait_on_kept_duplicate_of_sent_endpoint_is_not_held_off_by_a_peek_offset(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t a, b, kept;
    raw_open(&rp);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_duplicate(b, CM_RIGHTS_SAME, &kept), CM_OK);
    assert_status(cm_channel_write(rp.ch, "e", 1, &b, 1), CM_OK);
    int got = raw_recv_fd(rp.raw);
    assert_true(got >= 0);
    int held = wait_held_off_by_peek_offset(a, kept, got);
    close(got);
    cm_handle_close(a);
    cm_handle_close(kept);
    raw_close(&rp);
    assert_false(held); /* asleep in a peek with the record queued */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_wait_asleep_in_peek_then_read_takes_the_record_with_its_handle),
        LEAK_TEST(test_wait_asleep_in_peek_sees_the_peer_go_as_peer_closed),
        LEAK_TEST(test_wait_asleep_in_peek_wakes_for_a_hostile_record_the_read_refuses),
        LEAK_TEST(test_wait_asleep_in_peek_survives_an_interrupting_signal),
        LEAK_TEST(test_wait_on_received_endpoint_is_not_held_off_by_a_dup_holders_peek_offset),
        LEAK_TEST(test_wait_after_object_fd_is_not_held_off_by_a_peek_offset),
        LEAK_TEST(test_wait_on_kept_duplicate_of_sent_endpoint_is_not_held_off_by_a_peek_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
