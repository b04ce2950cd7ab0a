/* SPDX-License-Identifier: MIT */
/* Listeners: connecting channels between processes by a filesystem path,
 * and the kernel-recorded credentials of the process at the other end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/fd_limit.h"
#include "common/leakcheck.h"
#include "common/sockdir.h"

#define WAIT_NS (10ll * 1000000000)
#define CHILD_LIMIT_S 30 /* a child that runs longer is killed and the test fails */

static int path_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void roundtrip(cm_handle_t x, cm_handle_t y)
{
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_write(x, "hi", 2, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(y, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(y, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 2);
    assert_memory_equal(buf, "hi", 2);
}

/* Waits for a child, killing it if it outlives CHILD_LIMIT_S. Returns its
 * exit status, or -1 if it did not exit normally. */
static int wait_child(pid_t pid)
{
    int status = 0;
    struct timespec tick = { 0, 10 * 1000000 };
    for (int i = 0; i < CHILD_LIMIT_S * 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void test_listen_connect_accept_make_a_working_channel(void **state)
{
    (void)state;
    cm_handle_t lis, c, s;
    cm_handle_info_t info;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_handle_get_info(lis, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_LISTENER);
    struct stat sb;
    assert_int_equal(stat(sock_path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));

    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    assert_status(cm_handle_get_info(s, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);
    assert_status(cm_handle_get_info(c, &info), CM_OK);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);
    roundtrip(c, s);
    roundtrip(s, c);

    /* Handles travel over accepted channels like over created ones. */
    cm_handle_t v, got;
    uint32_t nb, nh;
    uint8_t tag = 0;
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "T", 0, 1), CM_OK);
    assert_status(cm_channel_write(c, NULL, 0, &v, 1), CM_OK);
    assert_status(cm_channel_read(s, NULL, 0, &nb, &got, 1, &nh), CM_OK);
    assert_status(cm_vmo_read(got, &tag, 0, 1), CM_OK);
    assert_int_equal(tag, 'T');
    cm_handle_close(got);

    /* The accepted channel outlives its listener. */
    assert_status(cm_handle_close(lis), CM_OK);
    roundtrip(c, s);
    assert_status(cm_handle_close(c), CM_OK);
    assert_status(cm_channel_wait_readable(s, WAIT_NS), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(s), CM_OK);
}

static void test_connections_are_accepted_separately_in_order(void **state)
{
    (void)state;
    cm_handle_t lis, c1, c2, s1, s2;
    char buf[4];
    uint32_t nb, nh;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_host_connect(sock_path, &c1), CM_OK);
    assert_status(cm_host_connect(sock_path, &c2), CM_OK);
    assert_status(cm_channel_write(c1, "1", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_write(c2, "2", 1, NULL, 0), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s1), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s2), CM_OK);
    assert_status(cm_channel_read(s1, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], '1');
    assert_status(cm_channel_read(s2, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(buf[0], '2');
    assert_status(cm_channel_read(s1, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    cm_handle_close(c1);
    cm_handle_close(c2);
    cm_handle_close(s1);
    cm_handle_close(s2);
    cm_handle_close(lis);
}

static void test_listen_on_an_existing_path_is_already_exists(void **state)
{
    (void)state;
    cm_handle_t lis, again, c, s;
    char file[160];
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_host_listen(sock_path, &again), CM_ERR_ALREADY_EXISTS);
    /* The failed attempt did not remove or steal the first listener's path. */
    assert_true(path_exists(sock_path));
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    cm_handle_close(c);
    cm_handle_close(s);
    cm_handle_close(lis);

    /* Any existing file counts, and is left alone. */
    snprintf(file, sizeof(file), "%s/file", sock_dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_status(cm_host_listen(file, &again), CM_ERR_ALREADY_EXISTS);
    assert_true(path_exists(file));
    unlink(file);
}

static void test_connect_without_a_listener_is_not_found_or_refused(void **state)
{
    (void)state;
    cm_handle_t c;
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/nobody", sock_dir);
    assert_status(cm_host_connect(missing, &c), CM_ERR_NOT_FOUND);
    snprintf(missing, sizeof(missing), "%s/no/such/dir", sock_dir);
    assert_status(cm_host_connect(missing, &c), CM_ERR_NOT_FOUND);
    assert_status(cm_host_listen(missing, &c), CM_ERR_NOT_FOUND);

    /* A socket file whose listener is gone (a crashed server). */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    close(fd);
    assert_true(path_exists(sock_path));
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_CONNECTION_REFUSED);
}

static void test_accept_without_a_connection_times_out(void **state)
{
    (void)state;
    cm_handle_t lis, c, s;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_host_accept(lis, 0, &s), CM_ERR_TIMED_OUT);
    assert_status(cm_host_accept(lis, 1000000, &s), CM_ERR_TIMED_OUT);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    cm_handle_t none;
    assert_status(cm_host_accept(lis, 0, &none), CM_ERR_TIMED_OUT); /* one connection, one accept */
    roundtrip(c, s);
    cm_handle_close(c);
    cm_handle_close(s);
    cm_handle_close(lis);
}

static void test_bad_paths_and_null_outputs_are_invalid_args(void **state)
{
    (void)state;
    cm_handle_t h;
    char longest[160], too_long[160];
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1; /* plus the NUL */

    size_t n = (size_t)snprintf(longest, sizeof(longest), "%s/", sock_dir);
    memset(longest + n, 'L', max - n);
    longest[max] = '\0';
    strcpy(too_long, longest);
    strcat(too_long, "x");

    assert_status(cm_host_listen(too_long, &h), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect(too_long, &h), CM_ERR_INVALID_ARGS);
    assert_false(path_exists(too_long));
    assert_status(cm_host_listen("", &h), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect("", &h), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen(NULL, &h), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect(NULL, &h), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen(sock_path, NULL), CM_ERR_INVALID_ARGS);
    assert_false(path_exists(sock_path));
    assert_status(cm_host_connect(sock_path, NULL), CM_ERR_INVALID_ARGS);

    /* The longest path that fits is accepted. */
    cm_handle_t lis, c, s;
    assert_status(cm_host_listen(longest, &lis), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_connect(longest, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(s, c);
    cm_handle_close(c);
    cm_handle_close(s);
    cm_handle_close(lis);
    assert_false(path_exists(longest));
}

/* Child: connects, says hello, checks that its own peer is the parent,
 * waits for the parent's reply. Exit codes name the failed step. */
static int child_connect(pid_t parent)
{
    cm_handle_t c;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    uint32_t nb, nh;
    char buf[4];
    alarm(CHILD_LIMIT_S);
    if (cm_host_connect(sock_path, &c) != CM_OK)
        return 10;
    if (cm_host_channel_peer_cred(c, &pid, &uid, &gid) != CM_OK)
        return 11;
    if (pid != parent || uid != getuid() || gid != getgid())
        return 12;
    if (cm_channel_write(c, "hello", 5, NULL, 0) != CM_OK)
        return 13;
    if (cm_channel_wait_readable(c, WAIT_NS) != CM_OK)
        return 14;
    if (cm_channel_read(c, buf, sizeof(buf), &nb, NULL, 0, &nh) != CM_OK || nb != 2)
        return 15;
    return 0;
}

static void test_peer_cred_names_the_connecting_process(void **state)
{
    (void)state;
    cm_handle_t lis, s;
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    char buf[8];
    uint32_t nb, nh;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    pid_t parent = getpid();
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(child_connect(parent));

    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    assert_status(cm_host_channel_peer_cred(s, &pid, &uid, &gid), CM_OK);
    assert_int_equal(pid, child);
    assert_int_not_equal(pid, getpid());
    assert_int_equal(uid, getuid());
    assert_int_equal(gid, getgid());
    assert_status(cm_channel_wait_readable(s, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(s, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "hello", 5);
    assert_status(cm_channel_write(s, "ok", 2, NULL, 0), CM_OK);
    assert_int_equal(wait_child(child), 0);

    assert_status(cm_host_channel_peer_cred(s, NULL, &uid, &gid), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_channel_peer_cred(s, &pid, NULL, &gid), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_channel_peer_cred(s, &pid, &uid, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(s);
    cm_handle_close(lis);

    /* A created pair's peer is this process. */
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_channel_peer_cred(a, &pid, &uid, &gid), CM_OK);
    assert_int_equal(pid, getpid());
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_closing_the_listener_removes_its_socket_file(void **state)
{
    (void)state;
    cm_handle_t lis, c;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_true(path_exists(sock_path));
    assert_status(cm_handle_close(lis), CM_OK);
    assert_false(path_exists(sock_path));
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_NOT_FOUND);
    /* The path is free again. */
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_handle_close(lis), CM_OK);
    assert_false(path_exists(sock_path));
}

/* A listener owns the socket it bound, not the name: once its file was
 * removed and another listener took the path, closing the old one must not
 * unlink the new one's socket. */
static void test_closing_a_listener_leaves_a_newer_socket_at_its_path(void **state)
{
    (void)state;
    cm_handle_t old, young, c, s;
    assert_status(cm_host_listen(sock_path, &old), CM_OK);
    assert_int_equal(unlink(sock_path), 0); /* e.g. an admin cleaning up */
    assert_status(cm_host_listen(sock_path, &young), CM_OK);
    assert_status(cm_handle_close(old), CM_OK);
    int still_there = path_exists(sock_path);
    cm_status_t st = cm_host_connect(sock_path, &c);
    if (st == CM_OK) {
        assert_status(cm_host_accept(young, WAIT_NS, &s), CM_OK);
        roundtrip(c, s);
        cm_handle_close(c);
        cm_handle_close(s);
    }
    cm_handle_close(young);
    assert_true(still_there);
    assert_status(st, CM_OK);
}

static void test_a_forked_child_closing_the_listener_leaves_the_socket_file(void **state)
{
    (void)state;
    cm_handle_t lis, c, s;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        alarm(CHILD_LIMIT_S);
        _exit(cm_handle_close(lis) == CM_OK ? 0 : 1);
    }
    assert_int_equal(wait_child(child), 0);
    assert_true(path_exists(sock_path));
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    cm_handle_close(c);
    cm_handle_close(s);
    cm_handle_close(lis);
    assert_false(path_exists(sock_path));
}

static void test_listener_calls_on_other_types_are_wrong_type(void **state)
{
    (void)state;
    cm_handle_t lis, v, a, b, out;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);

    assert_status(cm_host_accept(v, 0, &out), CM_ERR_WRONG_TYPE);
    assert_status(cm_host_accept(a, 0, &out), CM_ERR_WRONG_TYPE);
    assert_status(cm_host_channel_peer_cred(lis, &pid, &uid, &gid), CM_ERR_WRONG_TYPE);
    assert_status(cm_host_channel_peer_cred(v, &pid, &uid, &gid), CM_ERR_WRONG_TYPE);
    assert_status(cm_channel_read(lis, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_WRONG_TYPE);
    assert_status(cm_channel_write(lis, "x", 1, NULL, 0), CM_ERR_WRONG_TYPE);
    assert_status(cm_channel_wait_readable(lis, 0), CM_ERR_WRONG_TYPE);
    uint64_t size;
    assert_status(cm_vmo_get_size(lis, &size), CM_ERR_WRONG_TYPE);

    cm_handle_close(v);
    cm_handle_close(a);
    cm_handle_close(b);
    assert_status(cm_handle_close(lis), CM_OK);
    assert_status(cm_host_accept(lis, 0, &out), CM_ERR_BAD_HANDLE);
    assert_status(cm_host_channel_peer_cred(lis, &pid, &uid, &gid), CM_ERR_BAD_HANDLE);
}

/* Files of every kind at the path a caller names. bind() never opens or
 * follows one and connect() never opens one: a FIFO cannot block the call, a
 * device cannot be read, a symlink cannot redirect a listener's socket. */
enum { SPECIAL_COUNT = 7 };
static const char *special_names[SPECIAL_COUNT] = {
    "fifo", "dir", "file", "dangling", "to-fifo", "to-dev", "stream",
};

/* Makes them in dir; returns the stream socket's fd (close it after). */
static int make_special_files(void)
{
    char p[160], t[160];
    snprintf(p, sizeof(p), "%s/fifo", sock_dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    snprintf(p, sizeof(p), "%s/dir", sock_dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/file", sock_dir);
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/dangling", sock_dir);
    snprintf(t, sizeof(t), "%s/nothing-here", sock_dir);
    assert_int_equal(symlink(t, p), 0);
    snprintf(p, sizeof(p), "%s/to-fifo", sock_dir);
    snprintf(t, sizeof(t), "%s/fifo", sock_dir);
    assert_int_equal(symlink(t, p), 0);
    snprintf(p, sizeof(p), "%s/to-dev", sock_dir);
    assert_int_equal(symlink("/dev/null", p), 0);
    /* A listening socket of another type: not a capmem listener. */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stream", sock_dir);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s, 1), 0);
    return s;
}

static void remove_special_files(int stream_fd)
{
    char p[160];
    close(stream_fd);
    for (int i = 0; i < SPECIAL_COUNT; i++) {
        snprintf(p, sizeof(p), "%s/%s", sock_dir, special_names[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
}

static void test_listen_on_a_special_file_is_already_exists_and_leaves_it(void **state)
{
    (void)state;
    char p[160];
    cm_handle_t h;
    struct stat before, after;
    int s = make_special_files();
    for (int i = 0; i < SPECIAL_COUNT; i++) {
        snprintf(p, sizeof(p), "%s/%s", sock_dir, special_names[i]);
        assert_int_equal(lstat(p, &before), 0);
        assert_status(cm_host_listen(p, &h), CM_ERR_ALREADY_EXISTS);
        assert_int_equal(lstat(p, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(before.st_mode, after.st_mode);
    }
    /* Nothing was created behind a symlink either. */
    snprintf(p, sizeof(p), "%s/nothing-here", sock_dir);
    assert_false(path_exists(p));
    assert_status(cm_host_listen("/dev/null", &h), CM_ERR_ALREADY_EXISTS);
    remove_special_files(s);
}

static void test_connect_to_a_special_file_is_not_found_without_blocking(void **state)
{
    (void)state;
    char p[200];
    cm_handle_t h;
    int s = make_special_files();
    for (int i = 0; i < SPECIAL_COUNT; i++) {
        snprintf(p, sizeof(p), "%s/%s", sock_dir, special_names[i]);
        assert_status(cm_host_connect(p, &h), CM_ERR_NOT_FOUND);
    }
    assert_status(cm_host_connect("/dev/null", &h), CM_ERR_NOT_FOUND);
    /* A path through a regular file (ENOTDIR) does not resolve either. */
    snprintf(p, sizeof(p), "%s/file/sock", sock_dir);
    assert_status(cm_host_connect(p, &h), CM_ERR_NOT_FOUND);
    assert_status(cm_host_listen(p, &h), CM_ERR_NOT_FOUND);
    remove_special_files(s);
}

static void test_paths_at_and_beyond_sun_path_length_are_invalid_args(void **state)
{
    (void)state;
    size_t cap = sizeof(((struct sockaddr_un *)0)->sun_path);
    size_t lens[] = { cap, cap + 1, 4096, 1 << 20 };
    cm_handle_t h;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *p = malloc(lens[i] + 1);
        assert_non_null(p);
        size_t n = (size_t)snprintf(p, lens[i] + 1, "%s/", sock_dir);
        memset(p + n, 'P', lens[i] - n);
        p[lens[i]] = '\0';
        assert_int_equal(strlen(p), lens[i]);
        assert_status(cm_host_listen(p, &h), CM_ERR_INVALID_ARGS);
        assert_status(cm_host_connect(p, &h), CM_ERR_INVALID_ARGS);
        p[cap - 1] = '\0'; /* what a silent truncation would have bound */
        assert_false(path_exists(p));
        free(p);
    }
}

/* A listener nobody accepts on must not block its clients: once its queue is
 * full, connect says SHOULD_WAIT (it used to block forever). */
static void test_connect_to_a_full_listener_is_should_wait_not_a_hang(void **state)
{
    (void)state;
    enum { MAX = 256 };
    cm_handle_t lis, c[MAX], s;
    int n = 0;
    cm_status_t st = CM_OK;
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    while (n < MAX && (st = cm_host_connect(sock_path, &c[n])) == CM_OK)
        n++;
    assert_status(st, CM_ERR_SHOULD_WAIT);
    assert_true(n > 0);
    /* The clients that got in are real connections, and an accept frees a
     * place in the queue. */
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c[0], s);
    cm_handle_close(s);
    assert_status(cm_host_connect(sock_path, &c[n]), CM_OK);
    n++;
    for (int i = 0; i < n; i++)
        cm_handle_close(c[i]);
    cm_handle_close(lis);
}

/* RLIMIT_NOFILE reached: every call that needs an fd says NO_RESOURCES,
 * creates nothing (no socket file, no handle) and leaks nothing; a pending
 * connection stays queued for a later accept. */
static void test_fd_limit_gives_no_resources_and_leaks_nothing(void **state)
{
    (void)state;
    cm_handle_t lis, c, s = CM_HANDLE_INVALID, x = CM_HANDLE_INVALID, y = CM_HANDLE_INVALID;
    char other[160];
    snprintf(other, sizeof(other), "%s/other", sock_dir);
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    uint32_t handles = cm_host_live_handles();

    assert_int_equal(leave_fds(0), 0);
    cm_status_t listen0 = cm_host_listen(other, &x);
    cm_status_t connect0 = cm_host_connect(sock_path, &x);
    cm_status_t accept0 = cm_host_accept(lis, WAIT_NS, &s);
    cm_status_t create0 = cm_channel_create(0, &x, &y);
    assert_int_equal(restore_fds(), 0);
    assert_int_equal(leave_fds(1), 0);
    cm_status_t create1 = cm_channel_create(0, &x, &y); /* needs two */
    assert_int_equal(restore_fds(), 0);

    assert_status(listen0, CM_ERR_NO_RESOURCES);
    assert_false(path_exists(other));
    assert_status(connect0, CM_ERR_NO_RESOURCES);
    assert_status(accept0, CM_ERR_NO_RESOURCES);
    assert_status(create0, CM_ERR_NO_RESOURCES);
    assert_status(create1, CM_ERR_NO_RESOURCES);
    assert_int_equal(cm_host_live_handles(), handles);
    assert_int_equal(s, CM_HANDLE_INVALID);

    /* The connection that could not be accepted is still there. */
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    cm_handle_close(s);
    cm_handle_close(c);
    cm_handle_close(lis);
}

int main(void)
{
    alarm(300);
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_listen_connect_accept_make_a_working_channel),
        DIR_TEST(test_connections_are_accepted_separately_in_order),
        DIR_TEST(test_listen_on_an_existing_path_is_already_exists),
        DIR_TEST(test_connect_without_a_listener_is_not_found_or_refused),
        DIR_TEST(test_accept_without_a_connection_times_out),
        DIR_TEST(test_bad_paths_and_null_outputs_are_invalid_args),
        DIR_TEST(test_peer_cred_names_the_connecting_process),
        DIR_TEST(test_closing_the_listener_removes_its_socket_file),
        DIR_TEST(test_closing_a_listener_leaves_a_newer_socket_at_its_path),
        DIR_TEST(test_a_forked_child_closing_the_listener_leaves_the_socket_file),
        DIR_TEST(test_listener_calls_on_other_types_are_wrong_type),
        DIR_TEST(test_listen_on_a_special_file_is_already_exists_and_leaves_it),
        DIR_TEST(test_connect_to_a_special_file_is_not_found_without_blocking),
        DIR_TEST(test_paths_at_and_beyond_sun_path_length_are_invalid_args),
        DIR_TEST(test_connect_to_a_full_listener_is_should_wait_not_a_hang),
        DIR_TEST(test_fd_limit_gives_no_resources_and_leaks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
