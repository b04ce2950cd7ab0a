/* SPDX-License-Identifier: MIT */
/* A VMO from another process, or under a hostile process limit, must never
 * crash, hang, or out-right a capmem user (issue 7). Each test is named
 * after the rule it proves. Where a real second process is the point, it is
 * a fork()ed child; where the failure would be a signal (SIGBUS, SIGXFSZ) or
 * a hang, the code under test runs in a child with an alarm, so that the
 * defect shows as a failed test, not a dead test program. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/memfd.h"
#include "common/rawpeer.h"
#include "common/threads.h"
#include "../../host/mappings.h"

#define WAIT_NS (10ll * 1000000000)
#define PAGE CM_PAGE_SIZE

/* ---- helpers ---- */

static cm_rights_t rights_of(cm_handle_t h)
{
    cm_vmo_info_t info;
    if (cm_vmo_get_info(h, &info) != CM_OK)
        return 0;
    return info.rights;
}

/* One message with one handle, waiting for it; CM_HANDLE_INVALID on error. */
static cm_handle_t recv_handle(cm_handle_t ch)
{
    cm_handle_t h = CM_HANDLE_INVALID;
    char buf[16];
    uint32_t nb = 0, nh = 0;
    if (cm_channel_wait_readable(ch, WAIT_NS) != CM_OK ||
        cm_channel_read(ch, buf, sizeof(buf), &nb, &h, 1, &nh) != CM_OK || nh != 1)
        return CM_HANDLE_INVALID;
    return h;
}

static int recv_note(cm_handle_t ch, char *note)
{
    uint32_t nb = 0, nh = 0;
    if (cm_channel_wait_readable(ch, WAIT_NS) != CM_OK ||
        cm_channel_read(ch, note, 8, &nb, NULL, 0, &nh) != CM_OK || nb == 0)
        return -1;
    return 0;
}

/* ---- item 1: facts after seals; a mapping never outlives the size ---- */

/* The sender shrinks a VMO it sent with WRITE after the receiver mapped
 * it: the receiver's mapping sealed the size against shrinking, so the
 * shrink fails and the receiver reads every page it mapped. */
static int shrinking_sender(void *arg)
{
    cm_handle_t ch = *(cm_handle_t *)arg, v, dup;
    char note[8];
    if (cm_vmo_create(4 * PAGE, 0, &v) != CM_OK ||
        cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup) != CM_OK ||
        cm_channel_write(ch, "v", 1, &dup, 1) != CM_OK)
        return 2;
    if (recv_note(ch, note) != 0) /* "mapped" */
        return 3;
    cm_status_t st = cm_vmo_set_size(v, PAGE);
    int fd;
    if (cm_host_vmo_export_fd(v, &fd) != CM_OK)
        return 4;
    int r = ftruncate(fd, 0); /* raw, as a hostile sender would */
    close(fd);
    return cm_channel_write(ch, st == CM_OK || r == 0 ? "shrunk" : "denied", 7, NULL, 0) ==
           CM_OK ? 0 : 5;
}

static int map_then_peer_shrinks(void *arg)
{
    (void)arg;
    cm_handle_t a, b;
    char note[8];
    void *p;
    if (cm_channel_create(0, &a, &b) != CM_OK)
        return 2;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        cm_handle_close(a);
        _exit(shrinking_sender(&b));
    }
    cm_handle_close(b);
    cm_handle_t v = recv_handle(a);
    if (v == CM_HANDLE_INVALID)
        return 3;
    if (cm_vmo_map(v, 0, 4 * PAGE, CM_MAP_READ, &p) != CM_OK)
        return 4;
    if (cm_channel_write(a, "mapped", 6, NULL, 0) != CM_OK || recv_note(a, note) != 0)
        return 5;
    touch(p, 4 * PAGE); /* SIGBUS here if the peer's shrink went through */
    int status = 0;
    waitpid(pid, &status, 0);
    cm_vmo_unmap(p, 4 * PAGE);
    cm_handle_close(v);
    cm_handle_close(a);
    if (strcmp(note, "denied") != 0)
        return 6;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 7;
}

static void test_peer_shrink_after_map_never_sigbus(void **state)
{
    (void)state;
    assert_child_ok(in_child(map_then_peer_shrinks, NULL));
}

/* Without WRITE the receiver cannot set the size floor itself: a foreign
 * object whose size is not sealed is not mapped at all (BAD_STATE), and a
 * shrink by its other holder then harms nothing. */
static int map_unsealed_readonly_fd(void *arg)
{
    (void)arg;
    cm_handle_t v;
    void *p;
    int fd = memfd_of(2 * PAGE);
    int ro = reopen(fd, O_RDONLY);
    if (fd < 0 || ro < 0 || cm_host_vmo_from_fd(ro, CM_RIGHTS_SAME, &v) != CM_OK)
        return 2;
    cm_status_t st = cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ, &p);
    if (ftruncate(fd, 0) != 0)
        return 3;
    if (st == CM_OK)
        touch(p, 2 * PAGE); /* the defect: SIGBUS */
    cm_handle_close(v);
    close(fd);
    return st == CM_ERR_BAD_STATE ? 0 : 4;
}

static void test_unsealed_foreign_vmo_without_write_is_not_mapped(void **state)
{
    (void)state;
    assert_child_ok(in_child(map_unsealed_readonly_fd, NULL));
}

/* Sealing SHRINK (as the receiver's mapping does) and the public levels
 * keep set_size typed: growth still works under SHRINK alone. */
static void test_set_size_under_shrink_seal_grows_but_never_shrinks(void **state)
{
    (void)state;
    cm_handle_t v;
    int fd;
    assert_status(cm_vmo_create(2 * PAGE, 0, &v), CM_OK);
    assert_status(cm_host_vmo_export_fd(v, &fd), CM_OK);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    close(fd);
    assert_status(cm_vmo_set_size(v, PAGE), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_set_size(v, 3 * PAGE), CM_OK);
    uint64_t size;
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 3 * PAGE);
    cm_handle_close(v);
}

/* ---- item 2: the receiver's own open file description ---- */

/* O_APPEND set by the sender on the description it shares makes every
 * pwrite append. The receiver's handle must not share it. */
static void test_receiver_fd_unaffected_by_sender_setfl_append(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t v;
    uint64_t size;
    char c = 0;
    raw_open(&rp);
    int fd = memfd_of(PAGE);
    assert_true(fd >= 0);
    assert_int_equal(raw_send(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &v), CM_OK);
    /* The sender's fd and the one that arrived are one description. */
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK), 0);
    assert_status(cm_vmo_write(v, "X", 0, 1), CM_OK);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, PAGE); /* appended: PAGE + 1 */
    assert_status(cm_vmo_read(v, &c, 0, 1), CM_OK);
    assert_int_equal(c, 'X');
    assert_int_equal(pread(fd, &c, 1, 0), 1);
    assert_int_equal(c, 'X');
    cm_handle_close(v);
    close(fd);
    raw_close(&rp);
}

/* Receives one record on the raw peer; returns the fd it carried (-1 if none). */
static int raw_recv_fd(struct raw_peer *rp)
{
    char buf[256];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } ctl;
    struct iovec iov = { buf, sizeof(buf) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = sizeof(ctl.buf) };
    int fd = -1;
    if (recvmsg(rp->raw, &msg, MSG_CMSG_CLOEXEC) < 0)
        return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (cm != NULL && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

/* The other direction: a receiver that sets O_APPEND on the fd it got must
 * not change what the sender's kept handle does. An unsealed VMO travels
 * as a file description of its own. */
static void test_sender_handle_unaffected_by_receiver_setfl_append(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t v, kept;
    uint64_t size;
    char c = 0;
    raw_open(&rp);
    assert_status(cm_vmo_create(PAGE, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &kept), CM_OK);
    assert_status(cm_channel_write(rp.ch, "v", 1, &v, 1), CM_OK);
    int fd = raw_recv_fd(&rp);
    assert_true(fd >= 0);
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fcntl(fd, F_SETFL, fl | O_APPEND), 0);
    assert_status(cm_vmo_write(kept, "Z", 0, 1), CM_OK);
    assert_status(cm_vmo_get_size(kept, &size), CM_OK);
    assert_int_equal(size, PAGE); /* shared description: PAGE + 1 */
    assert_int_equal(pread(fd, &c, 1, 0), 1);
    assert_int_equal(c, 'Z');
    close(fd);
    cm_handle_close(kept);
    raw_close(&rp);
}

/* Same through cm_host_vmo_from_fd, with the caller keeping a dup. */
static void test_from_fd_handle_unaffected_by_caller_setfl_append(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size;
    int fd = memfd_of(PAGE);
    assert_true(fd >= 0);
    int given = dup(fd);
    assert_status(cm_host_vmo_from_fd(given, CM_RIGHTS_SAME, &v), CM_OK);
    assert_int_equal(fcntl(fd, F_SETFL, O_APPEND), 0);
    assert_status(cm_vmo_write(v, "Y", 10, 1), CM_OK);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, PAGE);
    cm_handle_close(v);
    close(fd);
}

/* Rights granted on receive work on the fd actually held: no WRITE for an
 * O_RDONLY fd whatever the words claim, and WRITE that really writes. */
static void test_received_rights_work_on_the_fd_held(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t v;
    raw_open(&rp);
    int fd = memfd_of(PAGE);
    int ro = reopen(fd, O_RDONLY);
    assert_true(fd >= 0 && ro >= 0);
    /* Unsealed and O_RDONLY: claimed WRITE is not granted. */
    assert_int_equal(raw_send(rp.raw, ro, CM_OBJ_VMO, CM_RIGHTS_ALL & ~CM_RIGHT_SIGNAL), 0);
    assert_status(recv_one(rp.ch, &v), CM_OK);
    assert_int_equal(rights_of(v) & CM_RIGHT_WRITE, 0);
    assert_status(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    cm_handle_close(v);
    /* O_RDWR with WRITE claimed: granted and working. */
    assert_int_equal(
        raw_send(rp.raw, fd, CM_OBJ_VMO, CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP), 0);
    assert_status(recv_one(rp.ch, &v), CM_OK);
    assert_int_equal(rights_of(v), CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP);
    assert_status(cm_vmo_write(v, "w", 0, 1), CM_OK);
    cm_handle_close(v);
    char c = 0;
    assert_int_equal(pread(fd, &c, 1, 0), 1);
    assert_int_equal(c, 'w');
    close(ro);
    close(fd);
    raw_close(&rp);
}

/* Without /proc there is no way to get a description of one's own: the
 * admission fails typed (UNSUPPORTED) rather than share the sender's.
 * /proc is hidden with a tmpfs in a private mount namespace. */
static int admit_without_proc(void *arg)
{
    (void)arg;
    cm_handle_t v;
    void *p;
    int fd = memfd_of(PAGE);
    if (fd < 0)
        return 2;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
        mount("none", "/proc", "tmpfs", 0, NULL) != 0)
        return 77;
    if (cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &v) != CM_ERR_UNSUPPORTED)
        return 3;
    /* What needs no foreign fd keeps working. */
    if (cm_vmo_create(PAGE, 0, &v) != CM_OK || cm_vmo_write(v, "ok", 0, 2) != CM_OK ||
        cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p) != CM_OK || memcmp(p, "ok", 2) != 0)
        return 4;
    cm_vmo_unmap(p, PAGE);
    cm_handle_close(v);
    close(fd);
    return 0;
}

static void test_admission_without_proc_is_unsupported_not_shared(void **state)
{
    (void)state;
    int rc = in_child(admit_without_proc, NULL);
    if (rc == 77) {
        print_message("# no user namespaces here: /proc cannot be hidden, not run\n");
        skip();
    }
    assert_child_ok(rc);
}

/* ---- item 7: what is admitted as a VMO ---- */

static void expect_from_fd(int fd, cm_status_t expect, const char *what)
{
    cm_handle_t v = CM_HANDLE_INVALID;
    cm_status_t st = cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &v);
    if (st == CM_OK)
        cm_handle_close(v);
    else
        close(fd); /* the caller keeps its fd on failure */
    if (st != expect)
        fail_msg("%s: from_fd gave %s, expected %s", what, cm_status_name(st),
                 cm_status_name(expect));
}

static void test_from_fd_rejects_regular_files_and_other_huge_page_sizes(void **state)
{
    (void)state;
    char path[] = "/tmp/cm-vmo-hostile-file-XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    expect_from_fd(f, CM_ERR_WRONG_TYPE, "unlinked regular file on disk");

    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[1]);
    expect_from_fd(sv[0], CM_ERR_WRONG_TYPE, "socket");

    /* A named tmpfs file: anyone with the path can open and truncate it. */
    char shm[64];
    snprintf(shm, sizeof(shm), "/dev/shm/cm-vmo-hostile-%d", (int)getpid());
    int named = open(shm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (named >= 0) {
        expect_from_fd(named, CM_ERR_WRONG_TYPE, "linked tmpfs file");
        unlink(shm);
    }

    int big = memfd_of(CM_VMO_MAX_SIZE + PAGE); /* sparse: costs nothing */
    assert_true(big >= 0);
    expect_from_fd(big, CM_ERR_OUT_OF_RANGE, "memfd over CM_VMO_MAX_SIZE");

    int fd = memfd_of(PAGE);
    int wo = reopen(fd, O_WRONLY);
    int opath = reopen(fd, O_PATH);
    assert_true(fd >= 0 && wo >= 0 && opath >= 0);
    expect_from_fd(wo, CM_ERR_ACCESS_DENIED, "O_WRONLY memfd");
    expect_from_fd(opath, CM_ERR_WRONG_TYPE, "O_PATH memfd");
    expect_from_fd(fd, CM_OK, "memfd");

    /* hugetlbfs: 2 MiB pages are huge-page VMOs (tests/host/vmo_huge.c);
     * any other page size is not (mapping offsets would differ). */
    int huge = memfd_create("hostile-huge", MFD_CLOEXEC | MFD_HUGETLB | MFD_ALLOW_SEALING |
                                                (30u << 26) /* MFD_HUGE_1GB */);
    if (huge >= 0)
        expect_from_fd(huge, CM_ERR_UNSUPPORTED, "hugetlbfs memfd of 1 GiB pages");
    else
        print_message("# no 1 GiB hugetlb pages here (errno %d): that case not run\n", errno);
}

/* The channel admits exactly what from_fd admits; the rest is the peer's
 * PROTOCOL error and leaves nothing behind. */
static void test_channel_admits_exactly_what_from_fd_admits(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t v;
    raw_open(&rp);
    int fds = count_open_fds();
    int big = memfd_of(CM_VMO_MAX_SIZE + PAGE);
    int fd = memfd_of(PAGE);
    int wo = reopen(fd, O_WRONLY);
    assert_true(big >= 0 && fd >= 0 && wo >= 0);
    assert_int_equal(raw_send(rp.raw, big, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &v), CM_ERR_PROTOCOL);
    assert_int_equal(raw_send(rp.raw, wo, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &v), CM_ERR_PROTOCOL);
    /* An empty 2 MiB hugetlbfs memfd (no pool needed) claiming an exact
     * size past its file. */
    int huge = memfd_create("hostile-huge", MFD_CLOEXEC | MFD_HUGETLB | MFD_ALLOW_SEALING);
    if (huge >= 0) {
        assert_int_equal(raw_send_sized(rp.raw, huge, CM_OBJ_VMO, CM_RIGHTS_ALL, 1), 0);
        assert_status(recv_one(rp.ch, &v), CM_ERR_PROTOCOL);
        close(huge);
    }
    assert_int_equal(raw_send(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &v), CM_OK);
    cm_handle_close(v);
    close(big);
    close(wo);
    close(fd);
    assert_int_equal(count_open_fds(), fds);
    raw_close(&rp);
}

/* A frozen VMO from a peer is admitted without its fd's access mode read
 * (one fcntl less per receive, docs/vmo.md): a peer that sends it as an
 * O_WRONLY fd gets its object admitted, and every use that needs to read it
 * is PROTOCOL, never a crash, never a readable mapping or fd. */
static void expect_unreadable_everywhere(cm_handle_t v)
{
    char b[8];
    void *p = NULL;
    int fd = -1;
    cm_handle_t snap = CM_HANDLE_INVALID, vmar = CM_HANDLE_INVALID;
    void *base = NULL;
    assert_int_equal(rights_of(v) & CM_RIGHT_WRITE, 0);
    assert_status(cm_vmo_read(v, b, 0, sizeof(b)), CM_ERR_PROTOCOL);
    assert_status(cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p), CM_ERR_PROTOCOL);
    assert_null(p);
    assert_status(cm_vmo_snapshot(v, &snap), CM_ERR_PROTOCOL);
    assert_status(cm_host_vmo_export_fd(v, &fd), CM_ERR_PROTOCOL);
    assert_int_equal(fd, -1);
    assert_status(cm_vmar_reserve(NULL, PAGE, 0, &vmar, &base), CM_OK);
    assert_status(cm_vmar_map(vmar, 0, v, 0, PAGE, CM_MAP_READ, &p), CM_ERR_PROTOCOL);
    assert_null(p);
    assert_status(cm_handle_close(vmar), CM_OK);
    /* Still refused after the mode was read once (nothing cached as readable). */
    assert_status(cm_vmo_read(v, b, 0, sizeof(b)), CM_ERR_PROTOCOL);
}

static void test_frozen_write_only_vmo_from_peer_is_protocol_at_every_use(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t v, e0, e1, fwd;
    char b[8];
    raw_open(&rp);
    int fds = count_open_fds();
    int fd = memfd_of(PAGE);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "content!", 8, 0), 8);
    int wo = reopen(fd, O_WRONLY);
    assert_true(wo >= 0);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), 0);
    assert_int_equal(raw_send(rp.raw, wo, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &v), CM_OK);
    expect_unreadable_everywhere(v);
    /* Handed on as it came (a frozen VMO travels as its own fd): the next
     * receiver refuses its uses the same way. */
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    assert_status(cm_channel_write(e0, "v", 1, &v, 1), CM_OK);
    fwd = recv_handle(e1);
    assert_int_not_equal(fwd, CM_HANDLE_INVALID);
    expect_unreadable_everywhere(fwd);
    assert_status(cm_handle_close(fwd), CM_OK);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    /* The same object sent readable reads: the refusal is the mode's. */
    assert_int_equal(raw_send(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    assert_status(recv_one(rp.ch, &v), CM_OK);
    assert_status(cm_vmo_read(v, b, 0, sizeof(b)), CM_OK);
    assert_memory_equal(b, "content!", 8);
    assert_status(cm_handle_close(v), CM_OK);
    close(wo);
    close(fd);
    assert_int_equal(count_open_fds(), fds);
    raw_close(&rp);
}

/* ---- item 3: rights never widen through an fd ---- */

/* The two calls: export a DUPLICATE-only handle, wrap the fd. */
static void test_export_then_from_fd_never_widens_duplicate_only_handle(void **state)
{
    (void)state;
    cm_handle_t v, d, w;
    int fd = -1;
    assert_status(cm_vmo_create(PAGE, 0, &v), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_DUPLICATE, &d), CM_OK);
    cm_status_t st = cm_host_vmo_export_fd(d, &fd);
    if (st == CM_OK) {
        assert_status(cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &w), CM_OK);
        cm_rights_t got = rights_of(w);
        cm_status_t wr = cm_vmo_write(w, "!", 0, 1);
        cm_handle_close(w);
        fail_msg("DUPLICATE-only handle exported; re-wrapped with rights 0x%x, write %s", got,
                 cm_status_name(wr));
    }
    assert_status(st, CM_ERR_ACCESS_DENIED);
    cm_handle_close(d);
    cm_handle_close(v);
}

/* Every combination of the five VMO rights, on an unsealed and on a sealed
 * object: export succeeds only where an fd can express the rights, its
 * access mode carries WRITE only for a WRITE handle, and re-wrapping it
 * never yields a right the source lacked. */
static void test_export_fd_never_grants_write_without_write_right(void **state)
{
    (void)state;
    const cm_rights_t all = CM_VMO_DEFAULT_RIGHTS;
    const cm_rights_t fd_rights =
        CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER;
    for (int sealed = 0; sealed < 2; sealed++) {
        cm_handle_t v;
        assert_status(cm_vmo_create(PAGE, 0, &v), CM_OK);
        if (sealed)
            assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
        for (cm_rights_t r = 0; r <= all; r++) {
            if ((r & ~all) != 0)
                continue;
            cm_handle_t d, w;
            int fd = -1;
            assert_status(cm_handle_duplicate(v, r, &d), CM_OK);
            cm_status_t st = cm_host_vmo_export_fd(d, &fd);
            cm_status_t expect = CM_OK;
            if ((r & fd_rights) != fd_rights)
                expect = CM_ERR_ACCESS_DENIED;
            else if (!(r & CM_RIGHT_WRITE) && !sealed)
                expect = CM_ERR_UNSUPPORTED;
            if (st != expect)
                fail_msg("sealed=%d rights 0x%x: export gave %s, expected %s", sealed, r,
                         cm_status_name(st), cm_status_name(expect));
            if (st == CM_OK) {
                int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
                if ((mode == O_RDWR) != ((r & CM_RIGHT_WRITE) != 0))
                    fail_msg("sealed=%d rights 0x%x: exported fd mode %d", sealed, r, mode);
                assert_status(cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &w), CM_OK);
                cm_rights_t got = rights_of(w);
                if ((got & ~r) != 0)
                    fail_msg("sealed=%d rights 0x%x: re-wrapped handle has 0x%x", sealed, r,
                             got);
                cm_handle_close(w);
            }
            cm_handle_close(d);
        }
        cm_handle_close(v);
    }
}

/* A file window's fd would be the whole file from offset 0. */
static void test_export_of_file_window_is_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/cm-vmo-hostile-win-XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    assert_int_equal(ftruncate(f, 4 * PAGE), 0);
    cm_handle_t w, d;
    int fd = -1;
    assert_status(cm_vmo_create_from_file(path, PAGE, PAGE, &w), CM_OK);
    /* A window has no TRANSFER; even a handle that had every right of one
     * would not be expressible: the duplicate just shows the refusal. */
    assert_status(cm_handle_duplicate(w, CM_RIGHTS_SAME, &d), CM_OK);
    assert_status(cm_host_vmo_export_fd(d, &fd), CM_ERR_ACCESS_DENIED);
    cm_handle_close(d);
    cm_handle_close(w);
    close(f);
    unlink(path);
}

/* An exported fd goes to code that may truncate it: a mapping this process
 * already has must survive that (the export seals the size floor). */
static int export_while_mapped(void *arg)
{
    (void)arg;
    cm_handle_t v;
    void *p;
    int fd = -1;
    if (cm_vmo_create(2 * PAGE, 0, &v) != CM_OK ||
        cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ | CM_MAP_WRITE, &p) != CM_OK)
        return 2;
    if (cm_host_vmo_export_fd(v, &fd) != CM_OK)
        return 3;
    int r = ftruncate(fd, 0);
    touch(p, 2 * PAGE); /* SIGBUS if the truncation went through */
    close(fd);
    cm_vmo_unmap(p, 2 * PAGE);
    cm_handle_close(v);
    return r == -1 && errno == EPERM ? 0 : 4;
}

static void test_exported_fd_cannot_cut_a_local_mapping(void **state)
{
    (void)state;
    assert_child_ok(in_child(export_while_mapped, NULL));
}

/* The fd of this process's newest capmem VMO (highest fd number whose
 * link names a capmem-vmo memfd), or -1. */
static int newest_vmo_fd(void)
{
    int best = -1;
    for (int fd = 0; fd < 1024; fd++) {
        char path[64], link[128];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strncmp(link, "/memfd:capmem-vmo", 17) == 0)
            best = fd;
    }
    return best;
}

/* A mapping of a VMO private to this process does not read the file's
 * identity (host/mappings.c: read by the first lookup that needs it). A
 * second object of the same file, here admitted from a /proc/self/fd open
 * of the first one's fd, must still find that mapping before it truncates:
 * while the first object lives, and after its handle is closed (the
 * identity is read before its fd goes). A wrong lookup is SIGBUS. */
static int second_object_truncates(void *arg)
{
    int close_first = *(int *)arg;
    cm_handle_t v, x, w;
    void *p;
    char path[64];
    if (cm_vmo_create(2 * PAGE, 0, &v) != CM_OK ||
        cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ | CM_MAP_WRITE, &p) != CM_OK)
        return 2;
    int vfd = newest_vmo_fd();
    if (vfd < 0)
        return 3;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", vfd);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 4;
    if (close_first && cm_handle_close(v) != CM_OK)
        return 5;
    if (cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &x) != CM_OK)
        return 6;
    cm_status_t st = cm_vmo_set_size(x, 0);
    touch(p, 2 * PAGE); /* SIGBUS if the truncation went through */
    if (st != CM_ERR_BAD_STATE)
        return 7;
    /* Another file's truncation is not refused by that mapping. */
    if (cm_vmo_create(PAGE, 0, &w) != CM_OK || cm_vmo_set_size(w, 0) != CM_OK)
        return 8;
    cm_vmo_unmap(p, 2 * PAGE);
    if (cm_vmo_set_size(x, 0) != CM_OK)
        return 9; /* unmapped: now it may */
    cm_handle_close(w);
    cm_handle_close(x);
    if (!close_first)
        cm_handle_close(v);
    return 0;
}

static void test_second_object_of_a_privately_mapped_vmo_cannot_cut_the_mapping(void **state)
{
    (void)state;
    int close_first = 0;
    assert_child_ok(in_child(second_object_truncates, &close_first));
    close_first = 1;
    assert_child_ok(in_child(second_object_truncates, &close_first));
}

/* ---- item 6: process limits give typed errors ---- */

static int fsize_probe(void *arg)
{
    (void)arg;
    cm_handle_t big, small, snap;
    const uint64_t limit = 64 * 1024;
    /* Made before the limit: the limit only stops growth and writes. */
    if (cm_vmo_create(1 << 20, 0, &big) != CM_OK)
        return 2;
    struct rlimit rl = { limit, limit };
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 3;
    /* Sized lazily (docs/vmo.md, "Size"): refused at the first use that
     * sizes it or writes past the limit, not by the create. */
    if (cm_vmo_create(1 << 20, 0, &small) != CM_OK)
        return 4;
    void *m;
    if (cm_vmo_map(small, 0, 1 << 20, CM_MAP_READ, &m) != CM_ERR_NO_RESOURCES ||
        cm_vmo_write(small, "x", (1 << 20) - 1, 1) != CM_ERR_NO_RESOURCES ||
        cm_vmo_seal(small, CM_SEAL_IMMUTABLE) != CM_ERR_NO_RESOURCES ||
        cm_vmo_write(small, "x", 0, 1) != CM_OK)
        return 4;
    cm_handle_close(small);
    if (cm_vmo_create(1 << 20, CM_VMO_COMMIT, &small) != CM_ERR_NO_RESOURCES)
        return 5;
    if (cm_vmo_create(PAGE, 0, &small) != CM_OK)
        return 6;
    if (cm_vmo_set_size(small, 1 << 20) != CM_ERR_NO_RESOURCES)
        return 7;
    if (cm_vmo_write(big, "x", 512 * 1024, 1) != CM_ERR_NO_RESOURCES)
        return 8;
    if (cm_vmo_write(big, "x", limit - 1, 2) != CM_ERR_NO_RESOURCES)
        return 9;
    if (cm_vmo_write(big, "x", 0, 1) != CM_OK)
        return 10;
    if (cm_vmo_snapshot(big, &snap) != CM_ERR_NO_RESOURCES)
        return 11;
    if (cm_vmo_snapshot(small, &snap) != CM_OK)
        return 12;
    cm_handle_close(snap);
    cm_handle_close(small);
    cm_handle_close(big);
    return 0;
}

static void test_fsize_limit_gives_typed_error_not_sigxfsz(void **state)
{
    (void)state;
    assert_child_ok(in_child(fsize_probe, NULL));
}

/* Lowest free fd number: with RLIMIT_NOFILE at it, no fd can be opened. */
static int lowest_free_fd(int any_open_fd)
{
    int fd = dup(any_open_fd);
    if (fd >= 0)
        close(fd);
    return fd;
}

static int nofile_probe(void *arg)
{
    (void)arg;
    cm_handle_t v, w;
    int fd = -1;
    if (cm_vmo_create(PAGE, 0, &v) != CM_OK)
        return 2;
    int mfd = memfd_of(PAGE);
    if (mfd < 0)
        return 3;
    rlim_t n = (rlim_t)lowest_free_fd(mfd);
    struct rlimit rl = { n, n };
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 4;
    if (cm_vmo_create(PAGE, 0, &w) != CM_ERR_NO_RESOURCES)
        return 5;
    if (cm_host_vmo_from_fd(mfd, CM_RIGHTS_SAME, &w) != CM_ERR_NO_RESOURCES)
        return 6;
    if (cm_host_vmo_export_fd(v, &fd) != CM_ERR_NO_RESOURCES)
        return 7;
    if (cm_vmo_snapshot(v, &w) != CM_ERR_NO_RESOURCES)
        return 8;
    return 0;
}

static void test_nofile_limit_gives_typed_error(void **state)
{
    (void)state;
    assert_child_ok(in_child(nofile_probe, NULL));
}

/* Current address-space size, from /proc/self/statm (pages). */
static uint64_t vm_bytes(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int as_probe(void *arg)
{
    (void)arg;
    cm_handle_t v;
    void *p;
    const uint64_t size = 512ull << 20;
    if (cm_vmo_create(size, 0, &v) != CM_OK)
        return 2;
    uint64_t lim = vm_bytes() + (64ull << 20);
    struct rlimit rl = { lim, lim };
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    if (cm_vmo_map(v, 0, size, CM_MAP_READ, &p) != CM_ERR_NO_MEMORY)
        return 4;
    if (cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p) != CM_OK)
        return 5;
    cm_vmo_unmap(p, PAGE);
    cm_handle_close(v);
    return 0;
}

static void test_address_space_limit_gives_typed_error(void **state)
{
    (void)state;
    assert_child_ok(in_child(as_probe, NULL));
}

/* ---- item 6: special files by path ---- */

static int special_files_probe(void *arg)
{
    const char *fifo = arg;
    cm_handle_t w;
    /* Before the fix the FIFO's O_RDONLY open blocked until the alarm. */
    if (cm_vmo_create_from_file(fifo, 0, CM_VMO_TO_END, &w) != CM_ERR_INVALID_ARGS)
        return 2;
    if (cm_vmo_create_from_file("/dev/null", 0, CM_VMO_TO_END, &w) != CM_ERR_INVALID_ARGS)
        return 3;
    if (cm_vmo_create_from_file("/dev/zero", 0, PAGE, &w) != CM_ERR_INVALID_ARGS)
        return 4;
    cm_status_t st = cm_vmo_create_from_file("/dev/tty", 0, PAGE, &w);
    if (st == CM_OK)
        return 5;
    return 0;
}

static void test_create_from_fifo_does_not_hang(void **state)
{
    (void)state;
    char dir[] = "/tmp/cm-vmo-fifo-XXXXXX";
    char path[96];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    int rc = in_child(special_files_probe, path);
    unlink(path);
    rmdir(dir);
    assert_child_ok(rc);
}

/* A process holding a write lease on a file makes every other open of it
 * wait for the lease to be released, up to lease-break-time (45 s by
 * default): create_from_file must not hang there either. */
static int leased_file_probe(void *arg)
{
    const char *path = arg;
    int ready[2];
    char c;
    cm_handle_t w;
    if (pipe(ready) != 0)
        return 2;
    pid_t holder = fork();
    if (holder == 0) {
        signal(SIGIO, SIG_IGN); /* the lease break's notice */
        alarm(CHILD_ALARM_S);   /* never outlives a probe that died */
        int fd = open(path, O_RDONLY);
        c = fd >= 0 && fcntl(fd, F_SETLEASE, F_WRLCK) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    if (read(ready[0], &c, 1) != 1)
        return 3;
    cm_status_t st = c == 'y' ? cm_vmo_create_from_file(path, 0, CM_VMO_TO_END, &w) : 0;
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(ready[0]);
    close(ready[1]);
    if (c != 'y')
        return 77;
    if (st == CM_OK)
        cm_handle_close(w);
    return st == CM_ERR_SHOULD_WAIT ? 0 : 4;
}

static void test_create_from_leased_file_does_not_block(void **state)
{
    (void)state;
    char path[] = "/tmp/cm-vmo-lease-XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    assert_int_equal(write(f, "lease", 5), 5);
    close(f);
    int rc = in_child(leased_file_probe, path);
    unlink(path);
    if (rc == 77) {
        print_message("# file leases not available here: not run\n");
        skip();
    }
    assert_child_ok(rc);
}

/* ---- item 10: set_size and map are atomic in one process ---- */

#define RESIZE_ROUNDS 20000

static atomic_int resize_stop;

static void *resizer(void *arg)
{
    cm_handle_t v = *(cm_handle_t *)arg;
    for (int i = 0; i < RESIZE_ROUNDS && !atomic_load(&resize_stop); i++)
        cm_vmo_set_size(v, (i & 1) ? 2 * PAGE : PAGE);
    atomic_store(&resize_stop, 1);
    return NULL;
}

static int resize_race(void *arg)
{
    (void)arg;
    cm_handle_t v;
    pthread_t t;
    if (cm_vmo_create(2 * PAGE, 0, &v) != CM_OK)
        return 2;
    atomic_store(&resize_stop, 0);
    if (pthread_create(&t, NULL, resizer, &v) != 0)
        return 3;
    while (!atomic_load(&resize_stop)) {
        void *p;
        if (cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ, &p) == CM_OK) {
            uint64_t size = 0;
            int cut = cm_vmo_get_size(v, &size) != CM_OK || size < 2 * PAGE;
            touch(p, 2 * PAGE); /* SIGBUS if the size was cut under it */
            cm_vmo_unmap(p, 2 * PAGE);
            if (cut) {
                atomic_store(&resize_stop, 1);
                pthread_join(t, NULL);
                return 4; /* the size was cut under a live mapping */
            }
        }
    }
    pthread_join(t, NULL);
    cm_handle_close(v);
    return 0;
}

static void test_set_size_never_cuts_a_mapping_made_concurrently(void **state)
{
    (void)state;
    assert_child_ok(in_child(resize_race, NULL));
}

/* ---- item 8 (VMO part): fork while another thread holds the map lock ---- */

#define FORK_ROUNDS 200

static void *mapper(void *arg)
{
    cm_handle_t v = *(cm_handle_t *)arg;
    while (!atomic_load(&resize_stop)) {
        void *p;
        if (cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p) == CM_OK)
            cm_vmo_unmap(p, PAGE);
    }
    return NULL;
}

static int fork_race(void *arg)
{
    (void)arg;
    cm_handle_t v;
    pthread_t t;
    if (cm_vmo_create(PAGE, 0, &v) != CM_OK)
        return 2;
    atomic_store(&resize_stop, 0);
    if (pthread_create(&t, NULL, mapper, &v) != 0)
        return 3;
    int bad = 0;
    for (int i = 0; i < FORK_ROUNDS && !bad; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* A child that inherited the mapping table's lock held hangs
             * here. Only calls that take that lock alone: the handle
             * table's lock is another part's (item 8). */
            alarm(10);
            static char bogus[PAGE];
            cm_status_t st = cm_vmo_unmap(bogus, PAGE);
            uint32_t live = cm_host_live_mappings();
            _exit(st == CM_ERR_INVALID_ARGS && live <= 1 ? 0 : 1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        if (bad)
            fprintf(stderr, "# fork round %d: child %s %d\n", i,
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    atomic_store(&resize_stop, 1);
    pthread_join(t, NULL);
    cm_handle_close(v);
    return bad ? 4 : 0;
}

static void test_fork_child_never_inherits_mapping_lock_held(void **state)
{
    (void)state;
    assert_child_ok(in_child(fork_race, NULL));
}

/* ---- a map racing the moment its VMO stops being private ----
 * A map of a VMO private to this process needs no size floor (no other
 * process can cut it) and reads its size from the library's record. The
 * check is made before the mapping table's lock; an export, a send or a
 * fork that lands between the check and the mapping's record must not
 * leave a mapping that another process can cut. The test holds the
 * table's lock; the other side comes up to it first and sleeps, then the
 * mapper passes its checks and sleeps behind it (Linux wakes a lock's
 * sleepers in order), so on release the other side goes first. */

#define SHARE_ROUNDS 16

struct racer {
    cm_handle_t v;
    atomic_int tid;
    atomic_int go;
    cm_status_t st;
    void *p;
    int fd;
};

static void await_racer_sleeping(struct racer *r)
{
    for (int i = 0; i < 5000 && (atomic_load(&r->tid) == 0 || !task_sleeping(atomic_load(&r->tid)));
         i++)
        nap_ms(1);
}

static void *racing_mapper(void *arg)
{
    struct racer *r = arg;
    while (!atomic_load(&r->go))
        nap_ms(1);
    atomic_store(&r->tid, (int)syscall(SYS_gettid));
    r->st = cm_vmo_map(r->v, 0, 2 * PAGE, CM_MAP_READ, &r->p);
    return NULL;
}

static void *racing_exporter(void *arg)
{
    struct racer *r = arg;
    atomic_store(&r->tid, (int)syscall(SYS_gettid));
    r->st = cm_host_vmo_export_fd(r->v, &r->fd);
    return NULL;
}

static int export_race(void *arg)
{
    (void)arg;
    for (int i = 0; i < SHARE_ROUNDS; i++) {
        struct racer m = { .fd = -1 }, e = { .fd = -1 };
        pthread_t tm, te;
        if (cm_vmo_create(2 * PAGE, 0, &m.v) != CM_OK)
            return 2;
        e.v = m.v;
        cm__map_table_hold();
        if (pthread_create(&te, NULL, racing_exporter, &e) != 0)
            return 3;
        await_racer_sleeping(&e);
        atomic_store(&m.go, 1);
        if (pthread_create(&tm, NULL, racing_mapper, &m) != 0)
            return 3;
        await_racer_sleeping(&m);
        cm__map_table_release();
        pthread_join(tm, NULL);
        pthread_join(te, NULL);
        if (m.st == CM_OK && e.st == CM_OK && !(fcntl(e.fd, F_GET_SEALS) & F_SEAL_SHRINK)) {
            fprintf(stderr, "# round %d: mapped, and handed out with no size floor\n", i);
            if (ftruncate(e.fd, 0) == 0) /* what the fd's holder can do */
                touch(m.p, 2 * PAGE);   /* SIGBUS */
            return 4;
        }
        if (m.st == CM_OK)
            cm_vmo_unmap(m.p, 2 * PAGE);
        if (e.fd >= 0)
            close(e.fd);
        cm_handle_close(m.v);
    }
    return 0;
}

static void test_map_racing_an_export_never_leaves_a_mapping_the_fd_can_cut(void **state)
{
    (void)state;
    assert_child_ok(in_child(export_race, NULL));
}

struct lock_holder {
    atomic_int held, forking;
    int main_tid;
    struct racer *mapper;
};

/* Holds the mapping table's lock until the main thread sleeps in fork()
 * (its fork handler waits for that lock) and the mapper sleeps behind it. */
static void *hold_map_lock(void *arg)
{
    struct lock_holder *h = arg;
    cm__map_table_hold();
    atomic_store(&h->held, 1);
    for (int i = 0; i < 5000 && !atomic_load(&h->forking); i++)
        nap_ms(1);
    for (int i = 0; i < 5000 && !task_sleeping(h->main_tid); i++)
        nap_ms(1);
    atomic_store(&h->mapper->go, 1);
    await_racer_sleeping(h->mapper);
    cm__map_table_release();
    return NULL;
}

static int fork_map_race(void *arg)
{
    (void)arg;
    for (int i = 0; i < SHARE_ROUNDS; i++) {
        struct racer m = { .fd = -1 };
        struct lock_holder h = { .main_tid = (int)syscall(SYS_gettid), .mapper = &m };
        pthread_t tm, th;
        if (cm_vmo_create(2 * PAGE, 0, &m.v) != CM_OK)
            return 2;
        if (pthread_create(&th, NULL, hold_map_lock, &h) != 0 ||
            pthread_create(&tm, NULL, racing_mapper, &m) != 0)
            return 3;
        while (!atomic_load(&h.held))
            nap_ms(1);
        atomic_store(&h.forking, 1);
        pid_t pid = fork();
        if (pid == 0) {
            /* The child's own copy of the table decides its set_size. */
            alarm(10);
            cm_status_t st = cm_vmo_set_size(m.v, 0);
            _exit(st == CM_OK || st == CM_ERR_BAD_STATE || st == CM_ERR_ACCESS_DENIED ? 0 : 1);
        }
        pthread_join(th, NULL);
        pthread_join(tm, NULL);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 5;
        if (m.st == CM_OK) {
            touch(m.p, 2 * PAGE); /* SIGBUS if the child cut it */
            cm_vmo_unmap(m.p, 2 * PAGE);
        }
        cm_handle_close(m.v);
    }
    return 0;
}

static void test_map_racing_a_fork_never_leaves_a_mapping_the_child_can_cut(void **state)
{
    (void)state;
    assert_child_ok(in_child(fork_map_race, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_peer_shrink_after_map_never_sigbus),
        LEAK_TEST(test_unsealed_foreign_vmo_without_write_is_not_mapped),
        LEAK_TEST(test_set_size_under_shrink_seal_grows_but_never_shrinks),
        LEAK_TEST(test_receiver_fd_unaffected_by_sender_setfl_append),
        LEAK_TEST(test_from_fd_handle_unaffected_by_caller_setfl_append),
        LEAK_TEST(test_sender_handle_unaffected_by_receiver_setfl_append),
        LEAK_TEST(test_received_rights_work_on_the_fd_held),
        LEAK_TEST(test_admission_without_proc_is_unsupported_not_shared),
        LEAK_TEST(test_from_fd_rejects_regular_files_and_other_huge_page_sizes),
        LEAK_TEST(test_channel_admits_exactly_what_from_fd_admits),
        LEAK_TEST(test_frozen_write_only_vmo_from_peer_is_protocol_at_every_use),
        LEAK_TEST(test_export_then_from_fd_never_widens_duplicate_only_handle),
        LEAK_TEST(test_export_fd_never_grants_write_without_write_right),
        LEAK_TEST(test_export_of_file_window_is_refused),
        LEAK_TEST(test_exported_fd_cannot_cut_a_local_mapping),
        LEAK_TEST(test_second_object_of_a_privately_mapped_vmo_cannot_cut_the_mapping),
        LEAK_TEST(test_fsize_limit_gives_typed_error_not_sigxfsz),
        LEAK_TEST(test_nofile_limit_gives_typed_error),
        LEAK_TEST(test_address_space_limit_gives_typed_error),
        LEAK_TEST(test_create_from_fifo_does_not_hang),
        LEAK_TEST(test_create_from_leased_file_does_not_block),
        LEAK_TEST(test_set_size_never_cuts_a_mapping_made_concurrently),
        LEAK_TEST(test_map_racing_an_export_never_leaves_a_mapping_the_fd_can_cut),
        LEAK_TEST(test_map_racing_a_fork_never_leaves_a_mapping_the_child_can_cut),
        LEAK_TEST(test_fork_child_never_inherits_mapping_lock_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
