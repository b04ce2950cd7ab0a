/* SPDX-License-Identifier: MIT */
/* Listener names (docs/integration.md, "Listen options"): a stale socket
 * file left by a killed listener, replaced only with
 * CM_HOST_LISTEN_REPLACE_STALE and only when nobody listens; Linux abstract
 * names; CONNECTION_REFUSED (nobody listens) against NOT_FOUND (no such
 * path); the sun_path limit named in the detail. */
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
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/sockdir.h"

#define WAIT_NS (10ll * 1000000000)

static int path_exists(const char *p)
{
    struct stat sb;
    return lstat(p, &sb) == 0;
}

static ino_t inode_of(const char *p)
{
    struct stat sb;
    assert_int_equal(lstat(p, &sb), 0);
    return sb.st_ino;
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

/* A child that listens at `name`, says so on a pipe, and waits to be
 * killed: a consumer process that dies without closing its listener. */
static pid_t listening_child(const char *name)
{
    int p[2];
    char c;
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t lis;
        close(p[0]);
        CHILD_EXPECT(cm_host_listen(name, &lis), CM_OK);
        CHILD_CHECK(write(p[1], "r", 1) == 1);
        for (;;)
            pause();
    }
    close(p[1]);
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static void kill_and_reap(pid_t pid, int sig)
{
    int status;
    assert_int_equal(kill(pid, sig), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), sig);
}

static void test_listener_killed_by_sigterm_is_replaced_only_with_the_option(void **state)
{
    (void)state;
    cm_handle_t lis, c, s;
    pid_t pid = listening_child(sock_path);
    /* Alive: the option never takes a live listener's path. */
    ino_t live = inode_of(sock_path);
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &lis),
                  CM_ERR_ALREADY_EXISTS);
    assert_non_null(strstr(cm_status_detail(), "live"));
    assert_int_equal(inode_of(sock_path), live);
    assert_status(cm_host_connect(sock_path, &c), CM_OK); /* still reachable */
    cm_handle_close(c);

    kill_and_reap(pid, SIGTERM);
    assert_true(path_exists(sock_path)); /* the stale file it left */
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_CONNECTION_REFUSED);
    assert_non_null(strstr(cm_status_detail(), "CM_HOST_LISTEN_REPLACE_STALE"));
    assert_status(cm_host_listen(sock_path, &lis), CM_ERR_ALREADY_EXISTS);
    assert_non_null(strstr(cm_status_detail(), "REPLACE_STALE"));
    assert_int_equal(inode_of(sock_path), live);

    /* (tmpfs may give the new file the old inode number: the working
     * connection below is the proof.) */
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &lis), CM_OK);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    roundtrip(s, c);
    cm_handle_close(c);
    cm_handle_close(s);
    assert_status(cm_handle_close(lis), CM_OK);
    assert_false(path_exists(sock_path));
}

/* The option with nothing at the path is a plain listen. */
static void test_replace_stale_with_nothing_there_just_listens(void **state)
{
    (void)state;
    cm_handle_t lis, c, s;
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &lis), CM_OK);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    cm_handle_close(c);
    cm_handle_close(s);
    cm_handle_close(lis);
    assert_status(cm_host_listen_opts(sock_path, 1u << 5, &lis), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, NULL),
                  CM_ERR_INVALID_ARGS);
    assert_false(path_exists(sock_path));
}

/* Never anything but a dead socket: a regular file, a FIFO, a symlink (to
 * a stale socket, even), a live socket of another type stay untouched. */
static void test_replace_stale_leaves_non_sockets_and_live_sockets_of_other_types(void **state)
{
    (void)state;
    cm_handle_t lis;
    char p[160], stale[160];
    snprintf(p, sizeof(p), "%s/file", sock_dir);
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    ino_t ino = inode_of(p);
    assert_status(cm_host_listen_opts(p, CM_HOST_LISTEN_REPLACE_STALE, &lis),
                  CM_ERR_ALREADY_EXISTS);
    assert_non_null(strstr(cm_status_detail(), "not a socket"));
    assert_int_equal(inode_of(p), ino);
    unlink(p);

    snprintf(p, sizeof(p), "%s/fifo", sock_dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_status(cm_host_listen_opts(p, CM_HOST_LISTEN_REPLACE_STALE, &lis),
                  CM_ERR_ALREADY_EXISTS);
    assert_true(path_exists(p));
    unlink(p);

    /* A stale socket behind a symlink: the link is not a socket. */
    snprintf(stale, sizeof(stale), "%s/stale", sock_dir);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, stale);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/link", sock_dir);
    assert_int_equal(symlink(stale, p), 0);
    assert_status(cm_host_listen_opts(p, CM_HOST_LISTEN_REPLACE_STALE, &lis),
                  CM_ERR_ALREADY_EXISTS);
    assert_true(path_exists(p));
    assert_true(path_exists(stale));
    unlink(p);
    unlink(stale);

    /* A live stream listener. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    strcpy(sa.sun_path, sock_path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    ino = inode_of(sock_path);
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &lis),
                  CM_ERR_ALREADY_EXISTS);
    assert_int_equal(inode_of(sock_path), ino);
    close(fd);
    /* ... which, once closed, is a stale file like any other. */
    cm_handle_t c, s;
    assert_status(cm_host_listen_opts(sock_path, CM_HOST_LISTEN_REPLACE_STALE, &lis), CM_OK);
    assert_status(cm_host_connect(sock_path, &c), CM_OK);
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    cm_handle_close(c);
    cm_handle_close(s);
    cm_handle_close(lis);
}

static void test_nobody_listening_is_connection_refused_no_such_path_is_not_found(void **state)
{
    (void)state;
    cm_handle_t c, lis;
    char p[160];
    snprintf(p, sizeof(p), "%s/missing", sock_dir);
    assert_status(cm_host_connect(p, &c), CM_ERR_NOT_FOUND);
    snprintf(p, sizeof(p), "%s/no/dir/sock", sock_dir);
    assert_status(cm_host_connect(p, &c), CM_ERR_NOT_FOUND);
    /* A socket file bound, never listening. */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_CONNECTION_REFUSED);
    close(fd);
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_CONNECTION_REFUSED);
    unlink(sock_path);
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_NOT_FOUND);
    /* A listener's file after it closed: gone, NOT_FOUND. */
    assert_status(cm_host_listen(sock_path, &lis), CM_OK);
    cm_handle_close(lis);
    assert_status(cm_host_connect(sock_path, &c), CM_ERR_NOT_FOUND);
    assert_string_equal(cm_status_name(CM_ERR_CONNECTION_REFUSED), "CM_ERR_CONNECTION_REFUSED");
    assert_int_equal(CM_ERR_CONNECTION_REFUSED, -23);
}

static void abstract_name(char *out, size_t cap)
{
    snprintf(out, cap, "@capmem-test-%d-%s", (int)getpid(), strrchr(sock_dir, '-') + 1);
}

/* Abstract names: no file anywhere, reachable from another process, gone
 * with the listener. */
static void test_abstract_names_work_across_processes_and_leave_no_file(void **state)
{
    (void)state;
    char name[96];
    cm_handle_t lis, s, again;
    abstract_name(name, sizeof(name));
    assert_status(cm_host_listen(name, &lis), CM_OK);
    assert_false(path_exists(name));         /* not a relative file "@..." */
    assert_false(path_exists(name + 1));
    assert_status(cm_host_listen(name, &again), CM_ERR_ALREADY_EXISTS);
    assert_status(cm_host_listen_opts(name, CM_HOST_LISTEN_REPLACE_STALE, &again),
                  CM_ERR_ALREADY_EXISTS);
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t c;
        char buf[16];
        uint32_t nb, nh;
        cm_handle_close(lis);
        CHILD_EXPECT(cm_host_connect(name, &c), CM_OK);
        CHILD_EXPECT(cm_channel_write(c, "child", 5, NULL, 0), CM_OK);
        CHILD_EXPECT(cm_channel_wait_readable(c, WAIT_NS), CM_OK);
        CHILD_EXPECT(cm_channel_read(c, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
        CHILD_CHECK(nb == 6 && memcmp(buf, "parent", 6) == 0);
        child_exit();
    }
    char buf[16];
    uint32_t nb, nh;
    pid_t ppid, cpid = 0;
    uid_t uid;
    gid_t gid;
    assert_status(cm_host_accept(lis, WAIT_NS, &s), CM_OK);
    assert_status(cm_host_channel_peer_cred(s, &cpid, &uid, &gid), CM_OK);
    assert_int_equal(cpid, pid);
    assert_status(cm_channel_wait_readable(s, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(s, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 5);
    assert_memory_equal(buf, "child", 5);
    assert_status(cm_channel_write(s, "parent", 6, NULL, 0), CM_OK);
    assert_child_passed(pid);
    (void)ppid;
    cm_handle_close(s);
    cm_handle_close(lis);
    cm_handle_t c;
    assert_status(cm_host_connect(name, &c), CM_ERR_CONNECTION_REFUSED);
    /* The name is free again at once: no file to go stale. */
    assert_status(cm_host_listen(name, &lis), CM_OK);
    cm_handle_close(lis);
}

static void test_name_limits_are_invalid_args_with_a_detail_naming_the_limit(void **state)
{
    (void)state;
    size_t cap = sizeof(((struct sockaddr_un *)0)->sun_path);
    char p[300];
    cm_handle_t h;
    /* 199 characters, as in the report that asked for a hint. */
    size_t n = (size_t)snprintf(p, sizeof(p), "%s/", sock_dir);
    memset(p + n, 'p', 199 - n);
    p[199] = '\0';
    assert_status(cm_host_listen(p, &h), CM_ERR_INVALID_ARGS);
    assert_non_null(strstr(cm_status_detail(), "at most 107"));
    assert_non_null(strstr(cm_status_detail(), "sun_path"));
    assert_status(cm_host_connect(p, &h), CM_ERR_INVALID_ARGS);
    assert_non_null(strstr(cm_status_detail(), "107"));
    /* Abstract: 1 .. cap - 1 name bytes. */
    assert_status(cm_host_listen("@", &h), CM_ERR_INVALID_ARGS);
    assert_non_null(strstr(cm_status_detail(), "empty"));
    assert_status(cm_host_connect("@", &h), CM_ERR_INVALID_ARGS);
    abstract_name(p, sizeof(p));
    n = strlen(p);
    memset(p + n, 'a', cap - n);
    p[cap] = '\0'; /* '@' + cap - 1 name bytes: the longest */
    assert_status(cm_host_listen(p, &h), CM_OK);
    cm_handle_t c, s;
    assert_status(cm_host_connect(p, &c), CM_OK);
    assert_status(cm_host_accept(h, WAIT_NS, &s), CM_OK);
    roundtrip(c, s);
    cm_handle_close(c);
    cm_handle_close(s);
    /* One byte shorter is another name. */
    p[cap - 1] = '\0';
    assert_status(cm_host_connect(p, &c), CM_ERR_CONNECTION_REFUSED);
    cm_handle_close(h);
    p[cap - 1] = 'a';
    p[cap] = 'a';
    p[cap + 1] = '\0';
    assert_status(cm_host_listen(p, &h), CM_ERR_INVALID_ARGS);
    assert_non_null(strstr(cm_status_detail(), "abstract"));
    /* A successful call leaves no detail behind. */
    assert_status(cm_host_listen(sock_path, &h), CM_OK);
    assert_string_equal(cm_status_detail(), "");
    cm_handle_close(h);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_listener_killed_by_sigterm_is_replaced_only_with_the_option),
        DIR_TEST(test_replace_stale_with_nothing_there_just_listens),
        DIR_TEST(test_replace_stale_leaves_non_sockets_and_live_sockets_of_other_types),
        DIR_TEST(test_nobody_listening_is_connection_refused_no_such_path_is_not_found),
        DIR_TEST(test_abstract_names_work_across_processes_and_leave_no_file),
        DIR_TEST(test_name_limits_are_invalid_args_with_a_detail_naming_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
