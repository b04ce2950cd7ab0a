/* SPDX-License-Identifier: MIT */
/* cm_host_channel_from_fd (docs/integration.md, "Adopting a connected
 * socket"): what is adopted works and is owned; rights only reduce;
 * anything but a connected AF_UNIX seqpacket socket is refused with the fd
 * left as it was. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/evloop.h"
#include "common/leakcheck.h"
#include "common/sockdir.h"

static void roundtrip(cm_handle_t x, cm_handle_t y)
{
    char buf[8];
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_write(x, "hi", 2, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(y, (int64_t)HANG_MS * 1000000), CM_OK);
    assert_status(cm_channel_read(y, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, 2);
    assert_memory_equal(buf, "hi", 2);
}

static void test_adopted_socketpair_ends_are_a_working_channel_owning_their_fds(void **state)
{
    (void)state;
    int sv[2];
    cm_handle_t x, y;
    cm_handle_info_t info;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x), CM_OK);
    assert_status(cm_host_channel_from_fd(sv[1], CM_RIGHTS_SAME, &y), CM_OK);
    assert_status(cm_handle_get_info(x, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);
    /* Made like every channel fd: close-on-exec, blocking. */
    assert_true(fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    roundtrip(x, y);
    roundtrip(y, x);
    /* The handle's fd is the adopted one. */
    int fd;
    uint32_t ev;
    assert_status(cm_host_object_fd(x, CM_SIGNAL_READABLE, &fd, &ev), CM_OK);
    assert_int_equal(fd, sv[0]);
    /* A handle over an adopted fd travels like any channel. */
    cm_handle_t a, b, got;
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_channel_write(a, "c", 1, &y, 1), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    roundtrip(x, got);
    cm_handle_close(got);
    cm_handle_close(a);
    cm_handle_close(b);
    /* Closing the handle closes the fd it owns. */
    assert_status(cm_handle_close(x), CM_OK);
    assert_int_equal(fcntl(sv[0], F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

static void test_adoption_rights_only_reduce(void **state)
{
    (void)state;
    int sv[2];
    cm_handle_t x, d;
    cm_handle_info_t info;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    /* MAP is not a channel right: asking for it grants nothing more. */
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP,
                                          &x),
                  CM_OK);
    assert_status(cm_handle_get_info(x, &info), CM_OK);
    assert_int_equal(info.rights, CM_RIGHT_READ | CM_RIGHT_WRITE);
    assert_status(cm_handle_duplicate(x, CM_RIGHTS_SAME, &d), CM_ERR_ACCESS_DENIED);
    cm_handle_close(x);
    /* Undefined bits: refused, fd still the caller's. */
    assert_status(cm_host_channel_from_fd(sv[1], 1u << 30, &x), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_channel_from_fd(sv[1], CM_RIGHTS_SAME, NULL), CM_ERR_INVALID_ARGS);
    assert_int_equal(close(sv[1]), 0);
}

static int tcp_pair(int *client, int *server, int *lis)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    *lis = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*lis < 0)
        return -1;
    if (bind(*lis, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(*lis, 1) != 0 ||
        getsockname(*lis, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return -1;
    *server = accept4(*lis, NULL, NULL, SOCK_CLOEXEC);
    return *server < 0 ? -1 : 0;
}

/* Each hostile fd: the typed error, the fd still open and unchanged (its
 * flags as before), no handle made. */
static void expect_refused(int fd, cm_status_t want)
{
    cm_handle_t h = CM_HANDLE_INVALID;
    int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
    uint32_t live = cm_host_live_handles();
    assert_true(fdfl >= 0 && fl >= 0);
    assert_status(cm_host_channel_from_fd(fd, CM_RIGHTS_SAME, &h), want);
    assert_int_equal(h, CM_HANDLE_INVALID);
    assert_int_equal(cm_host_live_handles(), live);
    assert_int_equal(fcntl(fd, F_GETFD), fdfl);
    assert_int_equal(fcntl(fd, F_GETFL), fl);
    assert_true(cm_status_detail()[0] != '\0');
}

static void test_adopting_anything_but_a_connected_seqpacket_socket_is_refused(void **state)
{
    (void)state;
    int sv[2], p[2], c = -1, s = -1, l = -1;
    /* TCP, connected. */
    assert_int_equal(tcp_pair(&c, &s, &l), 0);
    expect_refused(c, CM_ERR_WRONG_TYPE);
    expect_refused(s, CM_ERR_WRONG_TYPE);
    expect_refused(l, CM_ERR_WRONG_TYPE); /* a TCP listener: not AF_UNIX first */
    close(c);
    close(s);
    close(l);
    /* Seqpacket of another family (vsock, where the kernel has it): the
     * family is checked, not only the type. */
    int v = socket(AF_VSOCK, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (v >= 0) {
        expect_refused(v, CM_ERR_WRONG_TYPE);
        assert_non_null(strstr(cm_status_detail(), "AF_UNIX"));
        close(v);
    }
    /* AF_UNIX, but a byte stream or datagrams: no message boundaries/peer. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    expect_refused(sv[0], CM_ERR_WRONG_TYPE);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    expect_refused(sv[0], CM_ERR_WRONG_TYPE);
    close(sv[0]);
    close(sv[1]);
    /* Seqpacket, but listening, or not connected. */
    l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
    assert_true(l >= 0);
    expect_refused(l, CM_ERR_BAD_STATE); /* unconnected */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 1), 0);
    expect_refused(l, CM_ERR_BAD_STATE); /* listening */
    assert_non_null(strstr(cm_status_detail(), "listening"));
    close(l);
    unlink(sock_path);
    /* Not a socket at all. */
    assert_int_equal(pipe(p), 0);
    expect_refused(p[0], CM_ERR_WRONG_TYPE);
    expect_refused(p[1], CM_ERR_WRONG_TYPE);
    close(p[1]);
    /* A closed fd, and -1. */
    cm_handle_t h;
    assert_status(cm_host_channel_from_fd(p[1], CM_RIGHTS_SAME, &h), CM_ERR_INVALID_ARGS);
    close(p[0]);
    assert_status(cm_host_channel_from_fd(-1, CM_RIGHTS_SAME, &h), CM_ERR_INVALID_ARGS);
}

/* A full handle table: NO_RESOURCES, and the fd is the caller's again,
 * open, with the flags it had (O_NONBLOCK set back). */
static void test_adoption_failing_for_the_handle_limit_gives_the_fd_back_unchanged(void **state)
{
    (void)state;
    static cm_handle_t dups[CM_MAX_HANDLES];
    cm_handle_t a, b;
    int sv[2];
    uint32_t n = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    while (n < CM_MAX_HANDLES && cm_handle_duplicate(a, CM_RIGHTS_SAME, &dups[n]) == CM_OK)
        n++;
    assert_true(n < CM_MAX_HANDLES);
    expect_refused(sv[0], CM_ERR_NO_RESOURCES);
    while (n > 0)
        cm_handle_close(dups[--n]);
    cm_handle_t x, y;
    assert_status(cm_host_channel_from_fd(sv[0], CM_RIGHTS_SAME, &x), CM_OK);
    assert_status(cm_host_channel_from_fd(sv[1], CM_RIGHTS_SAME, &y), CM_OK);
    roundtrip(x, y);
    cm_handle_close(x);
    cm_handle_close(y);
    cm_handle_close(a);
    cm_handle_close(b);
}


int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_adopted_socketpair_ends_are_a_working_channel_owning_their_fds),
        LEAK_TEST(test_adoption_rights_only_reduce),
        DIR_TEST(test_adopting_anything_but_a_connected_seqpacket_socket_is_refused),
        LEAK_TEST(test_adoption_failing_for_the_handle_limit_gives_the_fd_back_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
