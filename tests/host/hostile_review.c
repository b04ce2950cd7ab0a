/* SPDX-License-Identifier: MIT */
/* Hostile review after issue 7's hardening: what a hostile peer, thread,
 * limit or process can still do to a capmem user. Each test is named after
 * the rule it proves. Code that could die of a signal or hang runs in a
 * forked child under an alarm, so a defect is a failed test, not a dead
 * test program.
 *
 * Races are made deterministic by interposing fcntl(2): this program's
 * definition wins over libc's for the statically linked library, and a test
 * arms a hook that acts as the hostile sender at the exact call where the
 * library reads a seal. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include <capmem/host_dma.h>
#include "common/child.h"
#include "common/fd_limit.h"
#include "common/leakcheck.h"
#include "common/memfd.h"
#include "common/rawpeer.h"

#define WAIT_NS (10ll * 1000000000)
#define PAGE CM_PAGE_SIZE

/* ---- fcntl hook ---- */

/* Called once, before the next F_GET_SEALS the library makes, then
 * disarmed. */
static void (*seal_hook)(void);

int fcntl(int fd, int cmd, ...)
{
    static int (*real)(int, int, ...);
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    if (real == NULL)
        real = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
    if (cmd == F_GET_SEALS && seal_hook != NULL) {
        void (*h)(void) = seal_hook;
        seal_hook = NULL;
        h();
    }
    return real(fd, cmd, arg);
}

/* ---- helpers ---- */

/* ---- rule: facts are read only after the seals that freeze them ---- */

static int hostile_fd = -1;

/* The sender, between the receiver's size read and its seal read: cuts
 * the object to one page and freezes that floor. */
static void shrink_then_seal(void)
{
    if (ftruncate(hostile_fd, PAGE) != 0 ||
        fcntl(hostile_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        abort();
}

/* cm_vmo_snapshot read the size (fstat) before the seals (size_guaranteed)
 * and then copied that many bytes through a mapping: a source that shrank
 * and sealed in between was copied past its end (EFAULT, reported as IO).
 * A shrink is the source's fact: OUT_OF_RANGE, as on the pread path. */
static void test_snapshot_reads_size_after_the_seals(void **state)
{
    (void)state;
    cm_handle_t v, snap = CM_HANDLE_INVALID;
    hostile_fd = memfd_of(4 * PAGE);
    assert_true(hostile_fd >= 0);
    int give = reopen(hostile_fd, O_RDWR);
    assert_true(give >= 0);
    assert_status(cm_host_vmo_from_fd(give, CM_RIGHT_READ | CM_RIGHT_MAP, &v), CM_OK);
    seal_hook = shrink_then_seal;
    cm_status_t st = cm_vmo_snapshot(v, &snap);
    seal_hook = NULL;
    if (st == CM_OK) {
        uint64_t size = 0;
        assert_status(cm_vmo_get_size(snap, &size), CM_OK);
        assert_int_equal(size, PAGE); /* the content after the shrink, if any */
        cm_handle_close(snap);
    } else {
        assert_status(st, CM_ERR_OUT_OF_RANGE);
    }
    cm_handle_close(v);
    close(hostile_fd);
}

/* ---- rule: a channel admits exactly a memfd VMO and a connected
 * seqpacket channel end; anything else is PROTOCOL and closed ---- */

static int odd_fd(int kind)
{
    int sv[2], fd = -1;
    switch (kind) {
    case 0: return eventfd(0, EFD_CLOEXEC);
    case 1: return epoll_create1(EPOLL_CLOEXEC);
    case 2: return (int)syscall(SYS_pidfd_open, getpid(), 0);
    case 3: {
        int m = memfd_of(PAGE);
        fd = reopen(m, O_PATH);
        close(m);
        return fd;
    }
    case 4: return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    case 5: return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0); /* unconnected */
    case 6: return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    case 7:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return -1;
        close(sv[1]);
        return sv[0];
    case 8: return open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    case 9: return open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    case 10: {
        int m = memfd_of(CM_VMO_MAX_SIZE + PAGE); /* too big, sealed */
        if (m >= 0 && fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
            close(m);
            return -1;
        }
        return m;
    }
    case 11: {
        int m = memfd_of(PAGE);
        fd = reopen(m, O_WRONLY); /* cannot be read */
        close(m);
        return fd;
    }
    case 12: return open("/dev/null", O_RDWR | O_CLOEXEC);
    }
    return -1;
}
#define ODD_KINDS 13

static void test_odd_fd_kinds_are_protocol_and_closed(void **state)
{
    (void)state;
    struct raw_peer rp;
    raw_open(&rp);
    int fds_before = count_open_fds();
    for (int kind = 0; kind < ODD_KINDS; kind++) {
        for (uint32_t type = CM_OBJ_VMO; type <= CM_OBJ_CHANNEL; type++) {
            if (type != CM_OBJ_VMO && type != CM_OBJ_CHANNEL)
                continue;
            int fd = odd_fd(kind);
            if (fd < 0)
                continue; /* not on this kernel */
            assert_int_equal(raw_send(rp.raw, fd, type, CM_RIGHTS_ALL), 0);
            close(fd);
            cm_handle_t h;
            cm_status_t st = recv_one(rp.ch, &h);
            if (st != CM_ERR_PROTOCOL)
                fail_msg("fd kind %d as type %u: %s", kind, type, cm_status_name(st));
            assert_int_equal(count_open_fds(), fds_before);
        }
    }
    raw_close(&rp);
}

/* ---- rule: a received VMO never reports more than CM_VMO_MAX_SIZE ---- */

/* Admission checks the size once; an unsealed sender can grow the object
 * afterwards, sparse, far past the limit. */
static void test_received_vmo_grown_past_max_is_not_served(void **state)
{
    (void)state;
    struct raw_peer rp;
    raw_open(&rp);
    int m = memfd_of(PAGE);
    assert_true(m >= 0);
    assert_int_equal(raw_send(rp.raw, m, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    cm_handle_t h;
    assert_status(recv_one(rp.ch, &h), CM_OK);
    assert_int_equal(ftruncate(m, (off_t)(4 * CM_VMO_MAX_SIZE)), 0);
    uint64_t size = 0;
    cm_vmo_info_t info;
    cm_handle_t snap;
    char b[8];
    cm_status_t st = cm_vmo_get_size(h, &size);
    if (st == CM_OK && size > CM_VMO_MAX_SIZE)
        fail_msg("get_size reports %llu > CM_VMO_MAX_SIZE", (unsigned long long)size);
    st = cm_vmo_get_info(h, &info);
    if (st == CM_OK && info.size > CM_VMO_MAX_SIZE)
        fail_msg("get_info reports %llu > CM_VMO_MAX_SIZE", (unsigned long long)info.size);
    st = cm_vmo_read(h, b, 2 * CM_VMO_MAX_SIZE, sizeof(b));
    if (st == CM_OK)
        fail_msg("read past CM_VMO_MAX_SIZE succeeded");
    st = cm_vmo_snapshot(h, &snap);
    assert_int_not_equal(st, CM_OK);
    close(m);
    cm_handle_close(h);
    raw_close(&rp);
}

/* ---- rule: a caller's timeout is validated on every wait ---- */

static void test_every_wait_rejects_negative_timeouts(void **state)
{
    (void)state;
    cm_handle_t a, b, lis, ch;
    char dir[] = "/tmp/cm-hostile-review-XXXXXX", path[96];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s", dir);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_host_listen(path, &lis), CM_OK);
    const int64_t bad[] = { INT64_MIN, -2, INT64_MIN + 1 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_status(cm_channel_wait_readable(a, bad[i]), CM_ERR_INVALID_ARGS);
        assert_status(cm_host_accept(lis, bad[i], &ch), CM_ERR_INVALID_ARGS);
        assert_status(cm_host_dma_quarantine_wait(bad[i]), CM_ERR_INVALID_ARGS);
    }
    /* INT64_MAX on something ready: no overflow, no wait. */
    assert_status(cm_channel_write(b, "x", 1, NULL, 0), CM_OK);
    assert_status(cm_channel_wait_readable(a, INT64_MAX), CM_OK);
    assert_status(cm_host_dma_quarantine_wait(INT64_MAX), CM_OK);
    cm_handle_close(lis);
    cm_handle_close(a);
    cm_handle_close(b);
    rmdir(dir);
}

/* ---- rule: every process limit is a typed error ---- */

static int nofile_probe(void *arg)
{
    (void)arg;
    cm_handle_t v, w, a, b, c, d, h, lis;
    char dir[] = "/tmp/cm-hostile-review-XXXXXX", path[96];
    int fails = 0;
    if (mkdtemp(dir) == NULL)
        return 2;
    snprintf(path, sizeof(path), "%s/s", dir);
    if (cm_vmo_create(PAGE, 0, &v) != CM_OK || cm_channel_create(0, &a, &b) != CM_OK ||
        cm_host_listen(path, &lis) != CM_OK)
        return 3;
    int m = memfd_of(PAGE);
    if (m < 0)
        return 4;
    if (leave_fds(0) != 0)
        return 5;
#define EXPECT(call, want)                                                       \
    do {                                                                          \
        cm_status_t st_ = (call);                                                 \
        if (st_ != (want)) {                                                      \
            fprintf(stderr, "# no fd left: %s: %s, want %s\n", #call,             \
                    cm_status_name(st_), cm_status_name(want));                   \
            fails++;                                                              \
        }                                                                         \
    } while (0)
    EXPECT(cm_vmo_create(PAGE, 0, &w), CM_ERR_NO_RESOURCES);
    EXPECT(cm_channel_create(0, &c, &d), CM_ERR_NO_RESOURCES);
    EXPECT(cm_vmo_snapshot(v, &w), CM_ERR_NO_RESOURCES);
    int fd;
    EXPECT(cm_host_vmo_export_fd(v, &fd), CM_ERR_NO_RESOURCES);
    EXPECT(cm_host_vmo_from_fd(m, CM_RIGHTS_SAME, &w), CM_ERR_NO_RESOURCES);
    EXPECT(cm_vmo_create_from_file("/proc/self/status", 0, CM_VMO_TO_END, &w),
           CM_ERR_NO_RESOURCES);
    EXPECT(cm_host_connect(path, &c), CM_ERR_NO_RESOURCES);
    EXPECT(cm_host_listen("/tmp/cm-hostile-review-none", &c), CM_ERR_NO_RESOURCES);
    cm_dma_pool_config_t cfg = { 2, PAGE, 1, 0 };
    EXPECT(cm_dma_pool_create(&cfg, &c), CM_ERR_NO_RESOURCES);
    EXPECT(cm_channel_wait_readable(a, 0), CM_ERR_TIMED_OUT);
    EXPECT(cm_host_accept(lis, 0, &c), CM_ERR_TIMED_OUT);
    /* A VMO that travels as a fresh description needs an fd. */
    if (cm_handle_duplicate(v, CM_RIGHTS_SAME, &h) != CM_OK)
        return 6;
    EXPECT(cm_channel_write(a, "x", 1, &h, 1), CM_ERR_NO_RESOURCES);
    restore_fds();
    if (cm_handle_duplicate(v, CM_RIGHTS_SAME, &h) != CM_OK ||
        cm_channel_write(a, "x", 1, &h, 1) != CM_OK)
        return 7;
    leave_fds(0);
    char buf[4];
    uint32_t nb, nh;
    EXPECT(cm_channel_read(b, buf, sizeof(buf), &nb, &h, 1, &nh), CM_ERR_NO_RESOURCES);
    restore_fds();
    EXPECT(cm_channel_read(b, buf, sizeof(buf), &nb, &h, 1, &nh), CM_OK);
    unlink(path);
    rmdir(dir);
    return fails == 0 ? 0 : 10 + fails;
}

static void test_fd_limit_gives_no_resources_on_every_call(void **state)
{
    (void)state;
    assert_child_ok(in_child(nofile_probe, NULL));
}

/* ---- rule: RLIMIT_FSIZE is a typed error on every call, DMA too ---- */

/* Linux raises SIGXFSZ (fatal by default) when ftruncate grows a memfd
 * past RLIMIT_FSIZE; a DMA pool's buffers are memfds. */
static int dma_fsize_probe(void *arg)
{
    (void)arg;
    cm_handle_t pool, vmo;
    cm_dma_buffer_t buf;
    cm_dma_pool_config_t cfg = { 2, 4 * PAGE, 1, 0 };
    struct rlimit rl = { PAGE, RLIM_INFINITY };
    signal(SIGXFSZ, SIG_DFL);
    /* Under the limit at creation, then a detach needs fresh memory. */
    cm_status_t st = cm_dma_pool_create(&cfg, &pool);
    if (st == CM_ERR_UNSUPPORTED)
        return 0; /* no io_uring here: nothing to check */
    if (st != CM_OK)
        return 2;
    if (cm_dma_buffer_acquire(pool, &buf) != CM_OK)
        return 3;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 4;
    st = cm_dma_buffer_detach_vmo(pool, buf, &vmo);
    if (st == CM_OK)
        cm_handle_close(vmo);
    else if (st != CM_ERR_NO_RESOURCES)
        return 5;
    cm_handle_close(pool);
    cm_handle_t p2;
    st = cm_dma_pool_create(&cfg, &p2);
    if (st != CM_ERR_NO_RESOURCES)
        return 6;
    return 0;
}

static void test_dma_under_fsize_limit_is_no_resources_not_sigxfsz(void **state)
{
    (void)state;
    assert_child_ok(in_child(dma_fsize_probe, NULL));
}

/* A device write past RLIMIT_FSIZE: io_uring issues a regular-file write
 * in the submitting thread first, and the kernel's size check sends that
 * thread SIGXFSZ. */
static int dma_write_fsize_probe(void *arg)
{
    (void)arg;
    cm_handle_t pool;
    cm_dma_buffer_t buf;
    cm_dma_fence_t fence;
    cm_dma_completion_t done;
    cm_dma_pool_config_t cfg = { 1, PAGE, 1, 0 };
    char path[] = "/tmp/cm-hostile-review-dev-XXXXXX";
    int dev = mkstemp(path);
    if (dev < 0)
        return 2;
    unlink(path);
    if (ftruncate(dev, 128 * PAGE) != 0) /* the write is inside the device */
        return 2;
    signal(SIGXFSZ, SIG_DFL);
    cm_status_t st = cm_dma_pool_create(&cfg, &pool);
    if (st == CM_ERR_UNSUPPORTED)
        return 0;
    if (st != CM_OK || cm_host_dma_attach_fd(pool, dev, CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE) != CM_OK ||
        cm_dma_buffer_acquire(pool, &buf) != CM_OK)
        return 3;
    struct rlimit rl = { 16 * PAGE, RLIM_INFINITY };
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 4;
    cm_dma_op_t op = { CM_DMA_OP_WRITE, 0, PAGE, 0, 64 * PAGE };
    st = cm_dma_submit(pool, buf, &op, &fence);
    if (st == CM_OK) {
        if (cm_dma_fence_wait(pool, fence, WAIT_NS, &done) != CM_OK)
            return 5;
        if (done.status == CM_OK)
            return 6; /* written past the limit? */
    } else if (st != CM_ERR_NO_RESOURCES) {
        fprintf(stderr, "# submit: %s\n", cm_status_name(st));
        return 7;
    }
    cm_handle_close(pool);
    close(dev);
    return 0;
}

static void test_dma_write_past_fsize_limit_is_an_error_not_sigxfsz(void **state)
{
    (void)state;
    assert_child_ok(in_child(dma_write_fsize_probe, NULL));
}

/* ---- rule: a forked child never disturbs the parent's objects ---- */

/* A VMO private to the parent needs no size seal to be mapped: the
 * parent's own set_size refuses to cut its mappings. After a fork the
 * child holds the same memfd, and its set_size consults the child's copy
 * of the mapping table, which lacks every mapping the parent made after
 * the fork: the child's shrink killed the parent with SIGBUS. */
static int fork_shrink_probe(void *arg)
{
    (void)arg;
    cm_handle_t v;
    int go[2], done[2];
    void *p;
    if (cm_vmo_create(4 * PAGE, 0, &v) != CM_OK || pipe(go) != 0 || pipe(done) != 0)
        return 2;
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        cm_status_t st = cm_vmo_set_size(v, 0);
        c = st == CM_OK ? 'y' : 'n';
        _exit(write(done[1], &c, 1) == 1 ? 0 : 3);
    }
    if (cm_vmo_map(v, 0, 4 * PAGE, CM_MAP_READ, &p) != CM_OK)
        return 4;
    char c = 'g';
    if (write(go[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
        return 5;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* Before the fix: SIGBUS here, the child having cut the object. */
    for (uint64_t off = 0; off < 4 * PAGE; off += PAGE)
        (void)*(volatile char *)((char *)p + off);
    if (c == 'y')
        return 6; /* the child shrank what the parent maps */
    cm_vmo_unmap(p, 4 * PAGE);
    cm_handle_close(v);
    return 0;
}

static void test_forked_child_cannot_cut_a_parent_mapping(void **state)
{
    (void)state;
    assert_child_ok(in_child(fork_shrink_probe, NULL));
}

/* The same with the parent's mapping made before the fork: the child
 * unmaps its inherited copy (its table then shows no mapping) and shrinks. */
static int fork_premapped_probe(void *arg)
{
    (void)arg;
    cm_handle_t v;
    int done[2];
    void *p;
    if (cm_vmo_create(4 * PAGE, 0, &v) != CM_OK || pipe(done) != 0 ||
        cm_vmo_map(v, 0, 4 * PAGE, CM_MAP_READ, &p) != CM_OK)
        return 2;
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        char c;
        if (cm_vmo_unmap(p, 4 * PAGE) != CM_OK)
            _exit(2);
        cm_status_t st = cm_vmo_set_size(v, 0);
        c = st == CM_OK ? 'y' : 'n';
        _exit(write(done[1], &c, 1) == 1 ? 0 : 3);
    }
    char c;
    if (read(done[0], &c, 1) != 1)
        return 5;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (uint64_t off = 0; off < 4 * PAGE; off += PAGE)
        (void)*(volatile char *)((char *)p + off);
    if (c == 'y')
        return 6;
    cm_vmo_unmap(p, 4 * PAGE);
    cm_handle_close(v);
    return 0;
}

static void test_forked_child_cannot_cut_a_mapping_made_before_the_fork(void **state)
{
    (void)state;
    assert_child_ok(in_child(fork_premapped_probe, NULL));
}

/* ---- rule: what a sender set on an endpoint before sending it does not
 * change what the receiver's channel does ---- */

/* Sends one end of a fresh raw pair, prepared by `arm`, as a channel; the
 * other end stays with the raw peer in *kept. */
static cm_handle_t send_armed_endpoint(struct raw_peer *rp, void (*arm)(int), int *kept)
{
    int sv[2];
    cm_handle_t h;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    arm(sv[0]);
    assert_int_equal(raw_send(rp->raw, sv[0], CM_OBJ_CHANNEL, CM_RIGHTS_ALL), 0);
    close(sv[0]);
    assert_status(recv_one(rp->ch, &h), CM_OK);
    *kept = sv[1];
    return h;
}

static void shrink_buffers(int fd)
{
    int zero = 0;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &zero, sizeof(zero)), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero)), 0);
}

/* SO_SNDBUF at its minimum (about 4.5 KiB): every write of a record larger
 * than that failed with EMSGSIZE (OUT_OF_RANGE), the largest the API allows
 * included. */
static void test_sender_cannot_shrink_buffers_of_received_endpoint(void **state)
{
    (void)state;
    static char big[CM_CHANNEL_MAX_BYTES];
    static char got[CM_CHANNEL_MAX_BYTES + 64];
    struct raw_peer rp;
    int kept;
    raw_open(&rp);
    cm_handle_t h = send_armed_endpoint(&rp, shrink_buffers, &kept);
    memset(big, 'b', sizeof(big));
    assert_status(cm_channel_write(h, big, sizeof(big), NULL, 0), CM_OK);
    ssize_t n = recv(kept, got, sizeof(got), 0);
    assert_true(n > (ssize_t)sizeof(big));
    /* And the other way: the full record comes back through the endpoint. */
    assert_int_equal(send(kept, got, (size_t)n, MSG_NOSIGNAL), n);
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_wait_readable(h, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(h, big, sizeof(big), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(nb, sizeof(big));
    close(kept);
    cm_handle_close(h);
    raw_close(&rp);
}

static struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };

static void attach_drop_all(int fd)
{
    struct sock_fprog prog = { 1, drop_all };
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)), 0);
}

static void attach_locked_drop_all(int fd)
{
    int one = 1;
    attach_drop_all(fd);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)), 0);
}

/* A socket filter on the endpoint silently drops what its peer writes (the
 * writer is told it was sent): the receiver's channel never sees a
 * message. */
static void test_sender_cannot_filter_messages_of_received_endpoint(void **state)
{
    (void)state;
    struct raw_peer rp;
    int kept;
    cm_handle_t h2;
    raw_open(&rp);
    cm_handle_t h = send_armed_endpoint(&rp, attach_drop_all, &kept);
    int m = memfd_of(PAGE);
    assert_true(m >= 0);
    assert_int_equal(raw_send(kept, m, CM_OBJ_VMO, CM_RIGHTS_ALL), 0);
    close(m);
    cm_status_t st = recv_one(h, &h2);
    assert_status(st, CM_OK);
    cm_handle_close(h2);
    close(kept);
    cm_handle_close(h);
    raw_close(&rp);
}

/* A filter locked in place (SO_LOCK_FILTER) cannot be removed: such an
 * endpoint is refused as the peer's PROTOCOL error. */
static void test_endpoint_with_locked_filter_is_refused(void **state)
{
    (void)state;
    struct raw_peer rp;
    int sv[2];
    cm_handle_t h;
    raw_open(&rp);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    attach_locked_drop_all(sv[0]);
    assert_int_equal(raw_send(rp.raw, sv[0], CM_OBJ_CHANNEL, CM_RIGHTS_ALL), 0);
    close(sv[0]);
    int fds = count_open_fds();
    assert_status(recv_one(rp.ch, &h), CM_ERR_PROTOCOL);
    assert_int_equal(count_open_fds(), fds);
    close(sv[1]);
    raw_close(&rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_snapshot_reads_size_after_the_seals),
        LEAK_TEST(test_odd_fd_kinds_are_protocol_and_closed),
        LEAK_TEST(test_received_vmo_grown_past_max_is_not_served),
        LEAK_TEST(test_every_wait_rejects_negative_timeouts),
        LEAK_TEST(test_fd_limit_gives_no_resources_on_every_call),
        LEAK_TEST(test_dma_under_fsize_limit_is_no_resources_not_sigxfsz),
        LEAK_TEST(test_dma_write_past_fsize_limit_is_an_error_not_sigxfsz),
        LEAK_TEST(test_forked_child_cannot_cut_a_parent_mapping),
        LEAK_TEST(test_forked_child_cannot_cut_a_mapping_made_before_the_fork),
        LEAK_TEST(test_sender_cannot_shrink_buffers_of_received_endpoint),
        LEAK_TEST(test_sender_cannot_filter_messages_of_received_endpoint),
        LEAK_TEST(test_endpoint_with_locked_filter_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
