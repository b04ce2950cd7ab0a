/* SPDX-License-Identifier: MIT */
/* A receiver short of a local resource (fd slots under RLIMIT_NOFILE,
 * handle slots) gets NO_RESOURCES and the message stays queued, intact, for
 * a retry once there is room; a message left queued by BUFFER_TOO_SMALL goes
 * with its endpoint when the endpoint is transferred to another process.
 *
 * Checks that change process limits, or need a second process, run in a
 * forked child that creates its own objects and reports through its exit
 * status: a child returns the number of the first check that failed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/leakcheck.h"
#include "common/vmotag.h"

#define WAIT_NS (10ll * 1000000000)

/* In a forked child: exit with `code` unless `cond` holds. */
#define CHILD_CHECK(cond, code) \
    do {                        \
        if (!(cond))            \
            _exit(code);        \
    } while (0)

/* Waits for the child and fails with the number of its first failed check. */
static void expect_child_ok(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("child killed by signal %d", WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("child failed its check %d", WEXITSTATUS(status));
}

/* The highest open fd of this process. */
static int highest_fd(void)
{
    int max = -1;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int own = dirfd(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != own && fd > max)
            max = fd;
    }
    closedir(d);
    return max;
}

/* Child of the fd shortage test: lowers RLIMIT_NOFILE so that exactly
 * `free_slots` fds can still be opened, reads a message of 3 VMOs, raises
 * the limit again and reads the same message. */
static void fd_shortage_child(uint32_t free_slots)
{
    enum { MAX_FILL = 4096 };
    cm_handle_t a, b, vs[3], got[3];
    struct rlimit old, low;
    char buf[16];
    uint32_t nb = 0, nh = 0;
    static int fill[MAX_FILL];
    int nfill = 0;

    CHILD_CHECK(cm_channel_create(0, &a, &b) == CM_OK, 1);
    for (int i = 0; i < 3; i++)
        CHILD_CHECK(cm_vmo_create(CM_PAGE_SIZE, 0, &vs[i]) == CM_OK &&
                    cm_vmo_write(vs[i], &(uint8_t){ (uint8_t)(20 + i) }, 0, 1) == CM_OK, 2);
    CHILD_CHECK(cm_channel_write(a, "three", 5, vs, 3) == CM_OK, 3);
    CHILD_CHECK(cm_channel_write(a, "after", 5, NULL, 0) == CM_OK, 4);

    /* Room for `free_slots` fds above the highest open one; fill them and
     * every hole below, then close `free_slots` of the fillers: exactly
     * that many slots are free. */
    int base = open("/dev/null", O_RDONLY | O_CLOEXEC); /* something to dup */
    CHILD_CHECK(base >= 0 && getrlimit(RLIMIT_NOFILE, &old) == 0, 5);
    low = old;
    low.rlim_cur = (rlim_t)highest_fd() + 1 + free_slots;
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, 6);
    for (int fd; nfill < MAX_FILL && (fd = dup(base)) >= 0;)
        fill[nfill++] = fd;
    CHILD_CHECK(errno == EMFILE && nfill < MAX_FILL && (uint32_t)nfill >= free_slots, 7);
    for (uint32_t i = 0; i < free_slots; i++)
        close(fill[--nfill]);

    uint32_t live = cm_host_live_handles();
    for (int attempt = 0; attempt < 2; attempt++) {
        nb = nh = 0;
        CHILD_CHECK(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh) ==
                    CM_ERR_NO_RESOURCES, 10 + attempt);
        CHILD_CHECK(nh == 3 && nb == 5, 12);
        CHILD_CHECK(cm_host_live_handles() == live, 13);
        /* Every fd the attempt installed was closed again. */
        int fd = dup(base);
        for (uint32_t i = 0; i < free_slots; i++) {
            CHILD_CHECK(fd >= 0, 14);
            fill[nfill++] = fd;
            fd = dup(base);
        }
        CHILD_CHECK(fd < 0 && errno == EMFILE, 15);
        for (uint32_t i = 0; i < free_slots; i++)
            close(fill[--nfill]);
    }

    /* Room again: the same message, intact, then the next one. */
    while (nfill > 0)
        close(fill[--nfill]);
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0, 20);
    CHILD_CHECK(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh) == CM_OK, 21);
    CHILD_CHECK(nb == 5 && memcmp(buf, "three", 5) == 0 && nh == 3, 22);
    for (int i = 0; i < 3; i++)
        CHILD_CHECK(tag_of(got[i]) == 20 + i, 23);
    CHILD_CHECK(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh) == CM_OK, 24);
    CHILD_CHECK(nb == 5 && memcmp(buf, "after", 5) == 0, 25);
    _exit(0);
}

static void test_fd_shortage_is_no_resources_and_message_stays_queued(void **state)
{
    (void)state;
    /* No slot at all, and fewer slots than the message has fds. */
    for (uint32_t free_slots = 0; free_slots <= 2; free_slots += 2) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            fd_shortage_child(free_slots);
        expect_child_ok(pid);
    }
}

/* Child of the transfer test: connects to `path`, receives an endpoint, and
 * reads from it the message its previous holder could not read. */
static void transfer_child(const char *path, const uint8_t *msg, uint32_t len)
{
    cm_handle_t t, e = CM_HANDLE_INVALID, got[2];
    uint8_t buf[256];
    uint32_t nb = 0, nh = 0;
    CHILD_CHECK(cm_host_connect(path, &t) == CM_OK, 1);
    CHILD_CHECK(cm_channel_wait_readable(t, WAIT_NS) == CM_OK, 2);
    CHILD_CHECK(cm_channel_read(t, buf, sizeof(buf), &nb, &e, 1, &nh) == CM_OK && nh == 1, 3);
    /* Written before the transfer, so queued now: no wait needed. */
    CHILD_CHECK(cm_channel_read(e, buf, sizeof(buf), &nb, got, 2, &nh) == CM_OK, 4);
    CHILD_CHECK(nb == len && memcmp(buf, msg, len) == 0, 5);
    CHILD_CHECK(nh == 2 && tag_of(got[0]) == 31 && tag_of(got[1]) == 32, 6);
    _exit(0);
}

static void test_buffer_too_small_message_survives_endpoint_transfer(void **state)
{
    (void)state;
    char dir[] = "/tmp/cm-resource-XXXXXX", path[64];
    cm_handle_t lis, t, a0, a1, vs[2];
    uint8_t msg[100], small[10];
    uint32_t nb = 0, nh = 0;
    for (uint32_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(0x5a ^ i);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sock", dir);
    assert_status(cm_host_listen(path, &lis), CM_OK);

    assert_status(cm_channel_create(0, &a0, &a1), CM_OK);
    vs[0] = tagged_vmo(31);
    vs[1] = tagged_vmo(32);
    assert_status(cm_channel_write(a0, msg, sizeof(msg), vs, 2), CM_OK);
    assert_status(cm_channel_read(a1, small, sizeof(small), &nb, NULL, 0, &nh),
                  CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(nb, sizeof(msg));
    assert_int_equal(nh, 2);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        transfer_child(path, msg, sizeof(msg));
    assert_status(cm_host_accept(lis, WAIT_NS, &t), CM_OK);
    assert_status(cm_channel_write(t, "e", 1, &a1, 1), CM_OK);
    expect_child_ok(pid);

    assert_status(cm_handle_close(t), CM_OK);
    assert_status(cm_handle_close(a0), CM_OK);
    assert_status(cm_handle_close(lis), CM_OK);
    unlink(path);
    rmdir(dir);
}

/* Within one process, BUFFER_TOO_SMALL followed by a transfer to a channel
 * of this same process: the new handle reads the whole message. */
static void test_buffer_too_small_message_survives_local_transfer(void **state)
{
    (void)state;
    cm_handle_t a0, a1, t0, t1, e, v, got;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_create(0, &a0, &a1), CM_OK);
    assert_status(cm_channel_create(0, &t0, &t1), CM_OK);
    v = tagged_vmo(7);
    assert_status(cm_channel_write(a0, "seven", 5, &v, 1), CM_OK);
    assert_status(cm_channel_read(a1, buf, 2, &nb, NULL, 0, &nh), CM_ERR_BUFFER_TOO_SMALL);
    assert_status(cm_channel_write(t0, "", 0, &a1, 1), CM_OK);
    assert_status(cm_channel_read(t1, buf, sizeof(buf), &nb, &e, 1, &nh), CM_OK);
    assert_status(cm_channel_read(e, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nb, 5);
    assert_memory_equal(buf, "seven", 5);
    assert_int_equal(tag_of(got), 7);
    cm_handle_close(got);
    cm_handle_close(e);
    cm_handle_close(a0);
    cm_handle_close(t0);
    cm_handle_close(t1);
}

/* A peer that closes while messages we sent it are unread leaves
 * ECONNRESET pending on our socket; the messages it sent us before closing
 * are still queued and must be read, then PEER_CLOSED. */
static void test_peer_close_with_unread_messages_keeps_queued_ones_readable(void **state)
{
    (void)state;
    cm_handle_t a, b;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "to b", 4, NULL, 0), CM_OK);
    assert_status(cm_channel_write(b, "to a", 4, NULL, 0), CM_OK); /* never read */
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 4);
    assert_memory_equal(buf, "to b", 4);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(b), CM_OK);
}

/* The wait sees what the read sees: a queued message after the peer closed
 * with ours unread (ECONNRESET pending once) is readable, not PEER_CLOSED. */
static void test_wait_after_peer_close_with_unread_messages_is_readable(void **state)
{
    (void)state;
    cm_handle_t a, b;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "to b", 4, NULL, 0), CM_OK);
    assert_status(cm_channel_write(b, "to a", 4, NULL, 0), CM_OK); /* never read */
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_channel_wait_readable(b, 0), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_status(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(b), CM_OK);
}

/* Writes never raise SIGPIPE: a write to a closed peer is PEER_CLOSED. */
static void test_write_to_closed_peer_is_peer_closed_not_sigpipe(void **state)
{
    (void)state;
    cm_handle_t a, b, v;
    struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
    assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
    assert_status(cm_channel_write(a, "x", 1, NULL, 0), CM_ERR_PEER_CLOSED);
    v = tagged_vmo(1);
    assert_status(cm_channel_write(a, "x", 1, &v, 1), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(a), CM_OK);
    assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

int main(void)
{
    alarm(300);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_fd_shortage_is_no_resources_and_message_stays_queued),
        LEAK_TEST(test_buffer_too_small_message_survives_endpoint_transfer),
        LEAK_TEST(test_buffer_too_small_message_survives_local_transfer),
        LEAK_TEST(test_peer_close_with_unread_messages_keeps_queued_ones_readable),
        LEAK_TEST(test_wait_after_peer_close_with_unread_messages_is_readable),
        LEAK_TEST(test_write_to_closed_peer_is_peer_closed_not_sigpipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
