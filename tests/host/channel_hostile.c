/* SPDX-License-Identifier: MIT */
/* A hostile peer: the far end of a channel is a raw SOCK_SEQPACKET socket
 * driven with sendmsg, so it can send anything Linux lets it send. The
 * capmem end must answer every malformed record with PROTOCOL, close every
 * fd that arrived with it, derive size, flags and rights from the objects
 * (never from the words), and keep working for the next valid message.
 *
 * The raw side is a socket()+connect() to a capmem listener; the capmem side
 * is the channel cm_host_accept returns. The wire format is restated here
 * from host/wire.h on purpose: it is the ABI between processes, and a change
 * that breaks it should break this test. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/leakcheck.h"

#define WIRE_MAGIC   0x48434d43u /* "CMCH" */
#define WIRE_VERSION 3u
#define WAIT_NS (10ll * 1000000000)

struct wire_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t num_handles;
    uint32_t num_bytes;
    uint32_t reserved;
};

struct wire_handle {
    uint32_t type;
    uint32_t rights;
    uint64_t size; /* a huge-page VMO's exact size, else 0 */
};

_Static_assert(sizeof(struct wire_hdr) == 16, "wire header is 16 bytes");

/* The connection under test: `raw` is the hostile end, `ch` capmem's. */
static struct {
    char dir[64];
    char path[96];
    int raw;
    cm_handle_t ch;
} conn;

static void conn_open(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    cm_handle_t lis;
    strcpy(conn.dir, "/tmp/cm-hostile-XXXXXX");
    assert_non_null(mkdtemp(conn.dir));
    snprintf(conn.path, sizeof(conn.path), "%s/sock", conn.dir);
    assert_status(cm_host_listen(conn.path, &lis), CM_OK);
    conn.raw = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    assert_true(conn.raw >= 0);
    strcpy(sa.sun_path, conn.path);
    assert_int_equal(connect(conn.raw, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_status(cm_host_accept(lis, WAIT_NS, &conn.ch), CM_OK);
    assert_status(cm_handle_close(lis), CM_OK);
    rmdir(conn.dir);
}

static void conn_close(void)
{
    close(conn.raw);
    assert_status(cm_handle_close(conn.ch), CM_OK);
}

/* Sends one record with `nfds` fds attached (the caller keeps its fds). */
static void raw_send(const void *rec, size_t len, const int *fds, size_t nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 128)];
    } ctl;
    struct iovec iov = { (void *)rec, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    assert_true(nfds <= 128);
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    assert_int_equal(sendmsg(conn.raw, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

/* Builds header | descriptors | bytes into rec; returns its length. */
static size_t build(uint8_t *rec, const struct wire_handle *descs, uint16_t nh,
                    const void *bytes, uint32_t nb)
{
    struct wire_hdr h = { WIRE_MAGIC, WIRE_VERSION, nh, nb, 0 };
    memcpy(rec, &h, sizeof(h));
    memcpy(rec + sizeof(h), descs, nh * sizeof(*descs));
    memcpy(rec + sizeof(h) + nh * sizeof(*descs), bytes, nb);
    return sizeof(h) + nh * sizeof(*descs) + nb;
}

static int make_memfd(uint64_t size)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

/* Reads one message on the capmem end, expecting `expect`; checks that the
 * read left neither an fd nor a handle behind in this process. */
static void read_expect(const char *what, cm_status_t expect)
{
    uint8_t buf[256];
    cm_handle_t hs[CM_CHANNEL_MAX_HANDLES];
    uint32_t nb = 0, nh = 0;
    int fds = count_open_fds();
    uint32_t live = cm_host_live_handles();
    cm_status_t st = cm_channel_wait_readable(conn.ch, WAIT_NS);
    if (st != CM_OK)
        fail_msg("%s: wait_readable gave %s", what, cm_status_name(st));
    st = cm_channel_read(conn.ch, buf, sizeof(buf), &nb, hs, CM_CHANNEL_MAX_HANDLES, &nh);
    if (st != expect)
        fail_msg("%s: read gave %s, expected %s", what, cm_status_name(st),
                 cm_status_name(expect));
    if (count_open_fds() != fds || cm_host_live_handles() != live)
        fail_msg("%s: fds %d -> %d, handles %u -> %u", what, fds, count_open_fds(), live,
                 cm_host_live_handles());
}

/* Receives one message carrying one handle and returns it. */
static cm_handle_t read_one_handle(void *bytes, uint32_t cap)
{
    cm_handle_t h = CM_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    assert_status(cm_channel_wait_readable(conn.ch, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(conn.ch, bytes, cap, &nb, &h, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    return h;
}

/* After whatever came before, a valid message with a VMO still gets
 * through in both directions. */
static void assert_channel_still_works(void)
{
    uint8_t rec[64], got[64];
    struct wire_handle d = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    int fd = make_memfd(CM_PAGE_SIZE);
    assert_int_equal(pwrite(fd, "live", 4, 0), 4);
    raw_send(rec, build(rec, &d, 1, "valid", 5), &fd, 1);
    close(fd);
    cm_handle_t v = read_one_handle(got, sizeof(got));
    assert_memory_equal(got, "valid", 5);
    assert_status(cm_vmo_read(v, got, 0, 4), CM_OK);
    assert_memory_equal(got, "live", 4);
    assert_status(cm_handle_close(v), CM_OK);

    assert_status(cm_channel_write(conn.ch, "back", 4, NULL, 0), CM_OK);
    ssize_t n = recv(conn.raw, rec, sizeof(rec), MSG_DONTWAIT);
    assert_int_equal(n, sizeof(struct wire_hdr) + 4);
    assert_memory_equal(rec + sizeof(struct wire_hdr), "back", 4);
}

static void test_garbage_records_are_protocol_errors(void **state)
{
    (void)state;
    uint8_t rec[128];
    struct wire_hdr h;
    conn_open();

    struct {
        const char *what;
        struct wire_hdr hdr;
        size_t len;
    } cases[] = {
        { "bad magic", { 0x4c4f4f46u, WIRE_VERSION, 0, 0, 0 }, 16 },
        { "wrong version", { WIRE_MAGIC, 4, 0, 0, 0 }, 16 },
        { "version 2 (no consumers)", { WIRE_MAGIC, 2, 0, 0, 0 }, 16 },
        { "version 1 (no sizes)", { WIRE_MAGIC, 1, 0, 0, 0 }, 16 },
        { "version 0", { WIRE_MAGIC, 0, 0, 0, 0 }, 16 },
        { "reserved set", { WIRE_MAGIC, WIRE_VERSION, 0, 0, 1 }, 16 },
        { "short record", { WIRE_MAGIC, WIRE_VERSION, 0, 0, 0 }, 8 },
        { "one byte", { WIRE_MAGIC, WIRE_VERSION, 0, 0, 0 }, 1 },
        { "bytes claimed, none sent", { WIRE_MAGIC, WIRE_VERSION, 0, 10, 0 }, 16 },
        { "fewer bytes than claimed", { WIRE_MAGIC, WIRE_VERSION, 0, 10, 0 }, 16 + 5 },
        { "more bytes than claimed", { WIRE_MAGIC, WIRE_VERSION, 0, 2, 0 }, 16 + 5 },
        { "bytes over the limit", { WIRE_MAGIC, WIRE_VERSION, 0, CM_CHANNEL_MAX_BYTES + 1, 0 },
          16 },
        { "huge byte count", { WIRE_MAGIC, WIRE_VERSION, 0, 0xffffffffu, 0 }, 16 },
        { "handles claimed, no descriptors", { WIRE_MAGIC, WIRE_VERSION, 1, 0, 0 }, 16 },
        { "handle count over the limit", { WIRE_MAGIC, WIRE_VERSION, 0xffff, 0, 0 }, 16 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(rec, 0xee, sizeof(rec));
        memcpy(rec, &cases[i].hdr, sizeof(cases[i].hdr));
        raw_send(rec, cases[i].len, NULL, 0);
        read_expect(cases[i].what, CM_ERR_PROTOCOL);
        assert_channel_still_works();
    }

    /* Descriptors that name no transferable type, or undefined rights. */
    struct wire_handle bad_descs[] = {
        { CM_OBJ_NONE, CM_RIGHT_READ, 0 },
        { CM_OBJ_LISTENER, CM_RIGHT_READ, 0 },
        { CM_OBJ_SBUF, CM_RIGHT_READ, 0 },                 /* a producer never travels */
        { CM_OBJ_SBUF_CONSUMER, CM_RIGHT_READ, 0 },        /* no metadata, one fd of four */
        { 0x7fffffffu, CM_RIGHT_READ, 0 },
        { CM_OBJ_VMO, 0x80000000u, 0 },
        { CM_OBJ_VMO, CM_RIGHT_READ, CM_VMO_MAX_SIZE + 1 }, /* size over the limit */
        { CM_OBJ_VMO, CM_RIGHT_READ, UINT64_MAX },
        { CM_OBJ_CHANNEL, CM_RIGHT_READ, 1 },              /* a size on a channel */
        { CM_OBJ_VMO, CM_RIGHT_READ, CM_PAGE_SIZE },       /* a size on a base-page memfd */
    };
    for (size_t i = 0; i < sizeof(bad_descs) / sizeof(bad_descs[0]); i++) {
        int fd = make_memfd(CM_PAGE_SIZE);
        raw_send(rec, build(rec, &bad_descs[i], 1, "", 0), &fd, 1);
        close(fd);
        read_expect("bad descriptor", CM_ERR_PROTOCOL);
        assert_channel_still_works();
    }

    /* A record longer than any valid one. */
    size_t big = sizeof(h) + CM_CHANNEL_MAX_BYTES + 4096;
    uint8_t *huge = calloc(1, big);
    assert_non_null(huge);
    h = (struct wire_hdr){ WIRE_MAGIC, WIRE_VERSION, 0, CM_CHANNEL_MAX_BYTES, 0 };
    memcpy(huge, &h, sizeof(h));
    raw_send(huge, big, NULL, 0);
    free(huge);
    read_expect("oversized record", CM_ERR_PROTOCOL);
    assert_channel_still_works();
    conn_close();
}

/* A zero-length SEQPACKET record reads as 0 bytes, like end of stream. A
 * peer that is still connected must not be reported as closed by it. */
static void test_empty_record_is_protocol_not_peer_closed(void **state)
{
    (void)state;
    uint8_t buf[16];
    uint32_t nb, nh;
    conn_open();
    raw_send("", 0, NULL, 0);
    cm_status_t st = cm_channel_read(conn.ch, buf, sizeof(buf), &nb, NULL, 0, &nh);
    if (st == CM_ERR_PROTOCOL)
        assert_channel_still_works();
    conn_close(); /* before asserting, so a failure here leaks nothing */
    assert_status(st, CM_ERR_PROTOCOL);
}

static void test_fd_count_disagreeing_with_header_is_protocol_and_fds_closed(void **state)
{
    (void)state;
    uint8_t rec[128];
    struct wire_handle d2[2] = { { CM_OBJ_VMO, CM_RIGHT_READ, 0 }, { CM_OBJ_VMO, CM_RIGHT_READ, 0 } };
    int fds[3] = { make_memfd(CM_PAGE_SIZE), make_memfd(CM_PAGE_SIZE), make_memfd(CM_PAGE_SIZE) };
    conn_open();

    raw_send(rec, build(rec, d2, 1, "x", 1), fds, 2); /* 1 claimed, 2 sent */
    read_expect("1 claimed, 2 sent", CM_ERR_PROTOCOL);
    raw_send(rec, build(rec, d2, 2, "x", 1), fds, 1); /* 2 claimed, 1 sent */
    read_expect("2 claimed, 1 sent", CM_ERR_PROTOCOL);
    raw_send(rec, build(rec, d2, 0, "x", 1), fds, 3); /* 0 claimed, 3 sent */
    read_expect("0 claimed, 3 sent", CM_ERR_PROTOCOL);
    raw_send(rec, build(rec, d2, 2, "x", 1), NULL, 0); /* 2 claimed, none sent */
    read_expect("2 claimed, none sent", CM_ERR_PROTOCOL);
    assert_channel_still_works();

    for (int i = 0; i < 3; i++)
        close(fds[i]);
    conn_close();
}

/* A regular file that is certainly not shmem: memfd checks must reject it. */
static int make_regular_file(char *path, size_t cap)
{
    static const char *dirs[] = { "/var/tmp", ".", "/tmp" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, cap, "%s/cm-hostile-file-XXXXXX", dirs[i]);
        int fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
            continue;
        if (fcntl(fd, F_GET_SEALS) < 0 && write(fd, "regular", 7) == 7)
            return fd;
        close(fd); /* on tmpfs: a shmem file, not what this case needs */
        unlink(path);
    }
    fail_msg("no non-tmpfs directory for a regular file");
    return -1;
}

static void test_vmo_descriptor_with_non_memfd_fd_is_protocol_and_closed(void **state)
{
    (void)state;
    uint8_t rec[64];
    char path[128];
    int pipefd[2], sv[2];
    struct wire_handle d = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    int file = make_regular_file(path, sizeof(path));
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    int efd = eventfd(0, EFD_CLOEXEC);
    assert_true(efd >= 0);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    assert_true(devnull >= 0);
    int dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dirfd >= 0);
    conn_open();

    int impostors[] = { file, pipefd[0], pipefd[1], sv[0], efd, devnull, dirfd };
    for (size_t i = 0; i < sizeof(impostors) / sizeof(impostors[0]); i++) {
        raw_send(rec, build(rec, &d, 1, "", 0), &impostors[i], 1);
        read_expect("non-memfd as VMO", CM_ERR_PROTOCOL);
    }
    /* One real memfd and one impostor: both closed, nothing installed. */
    struct wire_handle d2[2] = { d, d };
    int mixed[2] = { make_memfd(CM_PAGE_SIZE), file };
    raw_send(rec, build(rec, d2, 2, "", 0), mixed, 2);
    read_expect("memfd and impostor", CM_ERR_PROTOCOL);
    close(mixed[0]);
    assert_channel_still_works();

    for (size_t i = 0; i < sizeof(impostors) / sizeof(impostors[0]); i++)
        close(impostors[i]);
    close(sv[1]);
    unlink(path);
    conn_close();
}

static void test_channel_descriptor_with_non_seqpacket_fd_is_protocol(void **state)
{
    (void)state;
    uint8_t rec[64];
    int st[2], dg[2];
    struct wire_handle d = { CM_OBJ_CHANNEL, CM_RIGHTS_ALL, 0 };
    int memfd = make_memfd(CM_PAGE_SIZE);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg), 0);
    int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(tcp >= 0);
    conn_open();

    int impostors[] = { memfd, st[0], dg[0], tcp };
    for (size_t i = 0; i < sizeof(impostors) / sizeof(impostors[0]); i++) {
        raw_send(rec, build(rec, &d, 1, "", 0), &impostors[i], 1);
        read_expect("non-seqpacket as channel", CM_ERR_PROTOCOL);
    }
    /* And a seqpacket socket claimed to be a VMO. */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    struct wire_handle dv = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    raw_send(rec, build(rec, &dv, 1, "", 0), &sv[0], 1);
    read_expect("seqpacket as VMO", CM_ERR_PROTOCOL);

    /* Control: the same seqpacket socket claimed as a channel is accepted,
     * and the hostile peer can talk to us over it. */
    raw_send(rec, build(rec, &d, 1, "", 0), &sv[0], 1);
    cm_handle_t got = read_one_handle(rec, sizeof(rec));
    cm_handle_info_t info;
    assert_status(cm_handle_get_info(got, &info), CM_OK);
    assert_int_equal(info.type, CM_OBJ_CHANNEL);
    assert_int_equal(info.rights, CM_CHANNEL_DEFAULT_RIGHTS);
    assert_channel_still_works();

    close(memfd);
    close(st[0]);
    close(st[1]);
    close(dg[0]);
    close(dg[1]);
    close(tcp);
    close(sv[0]);
    close(sv[1]);
    cm_handle_close(got);
    conn_close();
}

static void test_too_many_fds_is_protocol_and_leaks_nothing(void **state)
{
    (void)state;
    enum { NFDS = 100 };
    static struct wire_handle descs[CM_CHANNEL_MAX_HANDLES];
    int fds[NFDS];
    uint8_t *rec = malloc(CM_PAGE_SIZE);
    assert_non_null(rec);
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_HANDLES; i++)
        descs[i] = (struct wire_handle){ CM_OBJ_VMO, CM_RIGHT_READ, 0 };
    int memfd = make_memfd(CM_PAGE_SIZE);
    for (int i = 0; i < NFDS; i++) {
        fds[i] = dup(memfd);
        assert_true(fds[i] >= 0);
    }
    conn_open();

    /* The header is at the limit, the fds are more: every fd that did
     * arrive must be closed, and it is the peer's error (PROTOCOL), not a
     * shortage of ours. */
    raw_send(rec, build(rec, descs, CM_CHANNEL_MAX_HANDLES, "", 0), fds, NFDS);
    read_expect("100 fds", CM_ERR_PROTOCOL);
    /* One fd over the limit is enough to overflow it. */
    raw_send(rec, build(rec, descs, CM_CHANNEL_MAX_HANDLES, "", 0), fds,
             CM_CHANNEL_MAX_HANDLES + 1);
    read_expect("65 fds", CM_ERR_PROTOCOL);
    assert_channel_still_works();

    for (int i = 0; i < NFDS; i++)
        close(fds[i]);
    close(memfd);
    free(rec);
    conn_close();
}

static void test_wrong_size_claim_is_ignored_size_comes_from_object(void **state)
{
    (void)state;
    uint8_t rec[64], got[64];
    uint64_t claim = 1u << 20, size = 0;
    cm_vmo_info_t info;
    void *p;
    struct wire_handle d = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    int fd = make_memfd(CM_PAGE_SIZE);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), 0);
    conn_open();

    raw_send(rec, build(rec, &d, 1, &claim, sizeof(claim)), &fd, 1);
    close(fd);
    cm_handle_t v = read_one_handle(got, sizeof(got));
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, CM_PAGE_SIZE);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.size, CM_PAGE_SIZE);
    assert_status(cm_vmo_map(v, 0, claim, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_read(v, got, CM_PAGE_SIZE, 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ, &p), CM_OK);
    assert_status(cm_vmo_unmap(p, CM_PAGE_SIZE), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
    assert_channel_still_works();
    conn_close();
}

static void test_claimed_write_right_on_write_sealed_memfd_is_not_granted(void **state)
{
    (void)state;
    uint8_t rec[64], got[64];
    void *p;
    cm_vmo_info_t info;
    cm_handle_info_t hinfo;
    struct wire_handle d = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    int seals[] = { F_SEAL_FUTURE_WRITE, F_SEAL_WRITE };
    conn_open();
    for (size_t i = 0; i < 2; i++) {
        int fd = make_memfd(CM_PAGE_SIZE); /* O_RDWR */
        assert_int_equal(fcntl(fd, F_ADD_SEALS, seals[i]), 0);
        raw_send(rec, build(rec, &d, 1, "rw please", 9), &fd, 1);
        close(fd);
        cm_handle_t v = read_one_handle(got, sizeof(got));
        assert_status(cm_handle_get_info(v, &hinfo), CM_OK);
        assert_int_equal(hinfo.rights & CM_RIGHT_WRITE, 0);
        assert_int_equal(hinfo.rights & ~CM_VMO_DEFAULT_RIGHTS, 0); /* no SIGNAL either */
        assert_status(cm_vmo_get_info(v, &info), CM_OK);
        assert_int_equal(info.rights & CM_RIGHT_WRITE, 0);
        assert_status(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
        assert_status(cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ | CM_MAP_WRITE, &p),
                      CM_ERR_ACCESS_DENIED);
        assert_status(cm_vmo_set_size(v, 0), CM_ERR_ACCESS_DENIED);
        assert_status(cm_handle_close(v), CM_OK);
    }
    /* An unsealed memfd sent O_RDWR does carry WRITE: the test above is
     * about the seal, not about WRITE never arriving. */
    int fd = make_memfd(CM_PAGE_SIZE);
    raw_send(rec, build(rec, &d, 1, "", 0), &fd, 1);
    close(fd);
    cm_handle_t v = read_one_handle(got, sizeof(got));
    assert_status(cm_handle_get_info(v, &hinfo), CM_OK);
    assert_int_equal(hinfo.rights, CM_VMO_DEFAULT_RIGHTS);
    assert_status(cm_handle_close(v), CM_OK);
    assert_channel_still_works();
    conn_close();
}

static void test_claimed_immutability_comes_from_seals_not_words(void **state)
{
    (void)state;
    uint8_t rec[64], got[64];
    cm_vmo_info_t info;
    struct wire_handle d = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    const char *claim = "IMMUTABLE";
    struct {
        int seals;
        uint32_t flags;
    } cases[] = {
        { 0, 0 },
        { F_SEAL_WRITE, 0 },                                 /* size can still change */
        { F_SEAL_GROW | F_SEAL_SHRINK, 0 },                  /* content can change */
        { F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK, CM_VMO_INFO_READONLY },
        { F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK,
          CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY },
    };
    conn_open();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = make_memfd(CM_PAGE_SIZE);
        if (cases[i].seals != 0)
            assert_int_equal(fcntl(fd, F_ADD_SEALS, cases[i].seals), 0);
        raw_send(rec, build(rec, &d, 1, claim, (uint32_t)strlen(claim)), &fd, 1);
        close(fd);
        cm_handle_t v = read_one_handle(got, sizeof(got));
        assert_status(cm_vmo_get_info(v, &info), CM_OK);
        assert_int_equal(info.flags, cases[i].flags);
        assert_status(cm_handle_close(v), CM_OK);
    }
    assert_channel_still_works();
    conn_close();
}

static void test_records_sent_to_a_peer_follow_the_wire_format(void **state)
{
    (void)state;
    uint8_t rec[128];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } ctl;
    cm_handle_t v, ro;
    conn_open();
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_handle_replace(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro),
                  CM_OK);
    assert_status(cm_channel_write(conn.ch, "abc", 3, &ro, 1), CM_OK);

    struct iovec iov = { rec, sizeof(rec) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = sizeof(ctl.buf) };
    ssize_t n = recvmsg(conn.raw, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    assert_int_equal(n, sizeof(struct wire_hdr) + sizeof(struct wire_handle) + 3);
    struct wire_hdr h;
    struct wire_handle d;
    memcpy(&h, rec, sizeof(h));
    memcpy(&d, rec + sizeof(h), sizeof(d));
    assert_int_equal(h.magic, WIRE_MAGIC);
    assert_int_equal(h.version, WIRE_VERSION);
    assert_int_equal(h.num_handles, 1);
    assert_int_equal(h.num_bytes, 3);
    assert_int_equal(h.reserved, 0);
    assert_int_equal(d.type, CM_OBJ_VMO);
    assert_int_equal(d.rights, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER);
    assert_int_equal(d.size, 0); /* a base-page VMO: its size comes from the fd */
    assert_memory_equal(rec + sizeof(h) + sizeof(d), "abc", 3);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    assert_non_null(cm);
    assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
    assert_int_equal(cm->cmsg_len, CMSG_LEN(sizeof(int)));
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
    int seals = fcntl(fd, F_GET_SEALS);
    assert_int_equal(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK),
                     F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK);
    close(fd);
    conn_close();
}

/* ---- Item: control messages nobody asked for, empty records, and what a
 * sender that keeps a dup of a transferred endpoint can do to it. ---- */

/* Sends one record on any socket; returns 0 or -1 (usable in a child). */
static int sendrec(int sock, const void *rec, size_t len, const int *fds, size_t nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } ctl;
    struct iovec iov = { (void *)rec, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 4)
        return -1;
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Sends on `sock` the valid record "msg-<tag>" carrying one memfd whose first
 * byte is `tag`. Returns 0 or -1 (usable in a child). */
static int send_tagged(int sock, uint8_t tag)
{
    uint8_t rec[64];
    char text[8] = "msg-0";
    struct wire_handle d = { CM_OBJ_VMO, CM_RIGHTS_ALL, 0 };
    int fd = memfd_create("tagged", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, CM_PAGE_SIZE) != 0 || pwrite(fd, &tag, 1, 0) != 1)
        return -1;
    text[4] = (char)('0' + tag % 10);
    int r = sendrec(sock, rec, build(rec, &d, 1, text, 5), &fd, 1);
    close(fd);
    return r;
}

/* Reads on `ch` (no wait: the record is queued) and expects `expect`; for
 * OK, the message send_tagged(tag) sent. No fd or handle may stay behind
 * but the one received. */
static void expect_read(cm_handle_t ch, cm_status_t expect, uint8_t tag, const char *what)
{
    char buf[16];
    cm_handle_t h = CM_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    int fds = count_open_fds();
    uint32_t live = cm_host_live_handles();
    cm_status_t st = cm_channel_read(ch, buf, sizeof(buf), &nb, &h, 1, &nh);
    if (st != expect)
        fail_msg("%s: read gave %s, expected %s", what, cm_status_name(st),
                 cm_status_name(expect));
    if (st == CM_OK) {
        uint8_t got = 0;
        char text[8] = "msg-0";
        text[4] = (char)('0' + tag % 10);
        assert_int_equal(nh, 1);
        assert_int_equal(nb, 5);
        assert_memory_equal(buf, text, 5);
        assert_status(cm_vmo_read(h, &got, 0, 1), CM_OK);
        assert_int_equal(got, tag);
        assert_status(cm_handle_close(h), CM_OK);
    }
    if (count_open_fds() != fds || cm_host_live_handles() != live)
        fail_msg("%s: fds %d -> %d, handles %u -> %u", what, fds, count_open_fds(), live,
                 cm_host_live_handles());
}

/* Sends socket `x` over the raw connection as a channel endpoint and
 * returns the handle capmem made of it; the caller keeps x, as a hostile
 * sender may. */
static cm_handle_t pass_endpoint(int x)
{
    uint8_t rec[64];
    struct wire_handle d = { CM_OBJ_CHANNEL, CM_RIGHTS_ALL, 0 };
    raw_send(rec, build(rec, &d, 1, "", 0), &x, 1);
    return read_one_handle(rec, sizeof(rec));
}

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

/* SO_PASSCRED (and its kin) on the receiving socket attach control
 * messages the library never asked for; a previous holder of the endpoint
 * may have set them, before or after sending it. Reads must go on working,
 * and whatever fd such a message installs (a pidfd) must be closed. */
static void test_unrequested_credentials_do_not_break_reads(void **state)
{
    (void)state;
    int sv[2], on = 1;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
    conn_open();
    cm_handle_t e = pass_endpoint(sv[0]);

    assert_int_equal(send_tagged(sv[1], 1), 0);
    expect_read(e, CM_OK, 1, "credentials set before the transfer");
    /* Set again through the kept dup, with timestamps and a pidfd. */
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_TIMESTAMP, &on, sizeof(on)), 0);
    int pidfd_ok = setsockopt(sv[0], SOL_SOCKET, SO_PASSPIDFD, &on, sizeof(on)) == 0;
    assert_int_equal(send_tagged(sv[1], 2), 0);
    expect_read(e, CM_OK, 2, "credentials, timestamp and pidfd set after the transfer");
    if (pidfd_ok)
        assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_PASSPIDFD, &on, sizeof(on)), 0);
    assert_int_equal(send_tagged(sv[1], 3), 0);
    assert_int_equal(sendrec(sv[1], "", 0, NULL, 0), 0);
    assert_int_equal(send_tagged(sv[1], 4), 0);
    expect_read(e, CM_OK, 3, "pidfd set again");
    expect_read(e, CM_ERR_PROTOCOL, 0, "empty record with credentials on");
    expect_read(e, CM_OK, 4, "after the empty record");

    assert_status(cm_handle_close(e), CM_OK);
    close(sv[0]);
    close(sv[1]);
    conn_close();
}

/* recvmsg returns 0 both for an empty SEQPACKET record and at the end of
 * the stream. An empty record is PROTOCOL wherever it sits in the queue,
 * and PEER_CLOSED comes only once the peer is gone (closed, or shut down
 * its writing side) and nothing is left. */
static void test_empty_record_is_not_end_of_stream(void **state)
{
    (void)state;
    uint8_t rec[64];

    /* Connected peer: empty, then a message. */
    conn_open();
    assert_int_equal(sendrec(conn.raw, "", 0, NULL, 0), 0);
    assert_int_equal(send_tagged(conn.raw, 1), 0);
    expect_read(conn.ch, CM_ERR_PROTOCOL, 0, "empty, peer connected");
    expect_read(conn.ch, CM_OK, 1, "message after the empty record");
    expect_read(conn.ch, CM_ERR_SHOULD_WAIT, 0, "nothing left");
    conn_close();

    /* Empty records around a message, then the peer closes. */
    conn_open();
    int memfd = make_memfd(CM_PAGE_SIZE);
    assert_int_equal(sendrec(conn.raw, "", 0, NULL, 0), 0);
    assert_int_equal(sendrec(conn.raw, "", 0, NULL, 0), 0);
    assert_int_equal(send_tagged(conn.raw, 2), 0);
    assert_int_equal(sendrec(conn.raw, "", 0, &memfd, 1), 0); /* empty but for an fd */
    assert_int_equal(sendrec(conn.raw, "", 0, NULL, 0), 0);
    close(memfd);
    close(conn.raw);
    conn.raw = -1;
    expect_read(conn.ch, CM_ERR_PROTOCOL, 0, "first empty record, peer closed");
    expect_read(conn.ch, CM_ERR_PROTOCOL, 0, "second empty record, peer closed");
    expect_read(conn.ch, CM_OK, 2, "message after two empty records");
    expect_read(conn.ch, CM_ERR_PROTOCOL, 0, "empty record with an fd");
    expect_read(conn.ch, CM_ERR_PROTOCOL, 0, "last empty record");
    expect_read(conn.ch, CM_ERR_PEER_CLOSED, 0, "the end");
    expect_read(conn.ch, CM_ERR_PEER_CLOSED, 0, "still the end");
    conn_close();

    /* The peer shuts down its writing side but stays: the queue drains,
     * then PEER_CLOSED; writes to it still arrive. */
    conn_open();
    assert_int_equal(sendrec(conn.raw, "", 0, NULL, 0), 0);
    assert_int_equal(send_tagged(conn.raw, 3), 0);
    assert_int_equal(shutdown(conn.raw, SHUT_WR), 0);
    expect_read(conn.ch, CM_ERR_PROTOCOL, 0, "empty record, peer shut down writing");
    expect_read(conn.ch, CM_OK, 3, "message before the shutdown");
    expect_read(conn.ch, CM_ERR_PEER_CLOSED, 0, "after the shutdown");
    expect_read(conn.ch, CM_ERR_PEER_CLOSED, 0, "still after the shutdown");
    assert_status(cm_channel_write(conn.ch, "back", 4, NULL, 0), CM_OK);
    assert_int_equal(recv(conn.raw, rec, sizeof(rec), MSG_DONTWAIT), sizeof(struct wire_hdr) + 4);
    conn_close();

    /* Shut down with nothing queued: the end, not a malformed record. */
    conn_open();
    assert_int_equal(shutdown(conn.raw, SHUT_WR), 0);
    expect_read(conn.ch, CM_ERR_PEER_CLOSED, 0, "shutdown, nothing queued");
    conn_close();
}

/* ---- A forked hostile sender that keeps a dup of the endpoint it sent.
 *
 * The child makes a socketpair (x, y), applies `before` to x, sends x to us
 * over the raw connection, waits for our go, applies `after` to its dup of
 * x, writes `nrecs` send_tagged records (tags 1..nrecs) on y, tells us, and
 * stays alive (holding x and y) until we close the pipe. A child's failure
 * shows in its exit status. */
struct hostile_sender {
    int (*before)(int x);
    int (*after)(int x);
    int nrecs;
};

static void hostile_child(const struct hostile_sender *hs, int go, int done)
{
    int sv[2];
    char c;
    uint8_t rec[64];
    struct wire_handle d = { CM_OBJ_CHANNEL, CM_RIGHTS_ALL, 0 };
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        _exit(1);
    if (hs->before != NULL && hs->before(sv[0]) != 0)
        _exit(2);
    if (sendrec(conn.raw, rec, build(rec, &d, 1, "", 0), &sv[0], 1) != 0)
        _exit(3);
    if (read(go, &c, 1) != 1)
        _exit(4);
    if (hs->after != NULL && hs->after(sv[0]) != 0)
        _exit(5);
    for (int i = 1; i <= hs->nrecs; i++)
        if (send_tagged(sv[1], (uint8_t)i) != 0)
            _exit(10 + i);
    if (write(done, "d", 1) != 1)
        _exit(6);
    while (read(go, &c, 1) > 0) {
    }
    _exit(0);
}

/* Runs a hostile sender; returns the endpoint it sent, once its records
 * are queued. *pid and *go are for finish_hostile. */
static cm_handle_t start_hostile(const struct hostile_sender *hs, pid_t *pid, int *go)
{
    int to_child[2], from_child[2];
    uint8_t buf[8];
    char c;
    assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
    assert_int_equal(pipe2(from_child, O_CLOEXEC), 0);
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        hostile_child(hs, to_child[0], from_child[1]);
    }
    close(to_child[0]);
    close(from_child[1]);
    cm_handle_t e = read_one_handle(buf, sizeof(buf));
    assert_int_equal(write(to_child[1], "g", 1), 1);
    ssize_t n;
    do
        n = read(from_child[0], &c, 1);
    while (n < 0 && errno == EINTR);
    close(from_child[0]);
    if (n != 1) {
        close(to_child[1]);
        int status;
        waitpid(*pid, &status, 0);
        cm_handle_close(e);
        fail_msg("hostile sender failed (exit %d)", WEXITSTATUS(status));
    }
    *go = to_child[1];
    return e;
}

static void finish_hostile(pid_t pid, int go, cm_handle_t e)
{
    int status;
    close(go);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_status(cm_handle_close(e), CM_OK);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int arm_sigio_at_parent(int x)
{
    if (fcntl(x, F_SETOWN, getppid()) != 0)
        return -1;
    return fcntl(x, F_SETFL, fcntl(x, F_GETFL) | O_ASYNC);
}

static volatile sig_atomic_t sigio_seen;

static void on_sigio(int sig)
{
    (void)sig;
    sigio_seen++;
}

/* O_ASYNC with the receiver as owner, set on the endpoint before sending
 * it: every message arriving would signal the receiver (SIGIO terminates by
 * default). The receiver disarms it on receipt. */
static void test_sender_cannot_arm_sigio_on_received_endpoint(void **state)
{
    (void)state;
    struct sigaction sa = { .sa_handler = on_sigio }, old;
    const struct hostile_sender hs = { arm_sigio_at_parent, NULL, 2 };
    pid_t pid;
    int go;
    assert_int_equal(sigaction(SIGIO, &sa, &old), 0);
    sigio_seen = 0;
    conn_open();
    cm_handle_t e = start_hostile(&hs, &pid, &go);
    expect_read(e, CM_OK, 1, "first message on the received endpoint");
    expect_read(e, CM_OK, 2, "second message on the received endpoint");
    int seen = sigio_seen;
    finish_hostile(pid, go, e);
    conn_close();
    assert_int_equal(sigaction(SIGIO, &old, NULL), 0);
    assert_int_equal(seen, 0);
}

static int peek_off_7(int x)
{
    int v = 7;
    return setsockopt(x, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v));
}

static int peek_off_3(int x)
{
    int v = 3;
    return setsockopt(x, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v));
}

/* SO_PEEK_OFF makes a peek start inside the record. Reads peek first: an
 * offset set before the transfer, or after it through the kept dup, must
 * not shift or lose what is read. */
static void test_sender_peek_offset_does_not_shift_reads(void **state)
{
    (void)state;
    const struct hostile_sender before = { peek_off_7, NULL, 2 };
    const struct hostile_sender after = { NULL, peek_off_3, 2 };
    pid_t pid;
    int go;
    conn_open();
    cm_handle_t e = start_hostile(&before, &pid, &go);
    expect_read(e, CM_OK, 1, "offset set before the transfer, first");
    expect_read(e, CM_OK, 2, "offset set before the transfer, second");
    finish_hostile(pid, go, e);
    e = start_hostile(&after, &pid, &go);
    expect_read(e, CM_OK, 1, "offset set after the transfer, first");
    expect_read(e, CM_OK, 2, "offset set after the transfer, second");
    finish_hostile(pid, go, e);
    conn_close();
}

static int refuse_rights(int x)
{
    int v = 0;
    if (setsockopt(x, SOL_SOCKET, SO_PASSRIGHTS, &v, sizeof(v)) != 0)
        return errno == ENOPROTOOPT ? 0 : -1; /* before Linux 6.16: nothing to refuse */
    return 0;
}

/* SO_PASSRIGHTS off on the receiving socket makes every write of fds to it
 * fail (EPERM): set before the transfer, it would keep the receiver from
 * ever getting a handle on that endpoint. */
static void test_sender_cannot_refuse_handles_on_received_endpoint(void **state)
{
    (void)state;
    const struct hostile_sender hs = { refuse_rights, NULL, 1 };
    pid_t pid;
    int go;
    conn_open();
    cm_handle_t e = start_hostile(&hs, &pid, &go);
    expect_read(e, CM_OK, 1, "a handle on an endpoint sent with SO_PASSRIGHTS off");
    finish_hostile(pid, go, e);
    conn_close();
}

int main(void)
{
    alarm(300);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_garbage_records_are_protocol_errors),
        LEAK_TEST(test_empty_record_is_protocol_not_peer_closed),
        LEAK_TEST(test_fd_count_disagreeing_with_header_is_protocol_and_fds_closed),
        LEAK_TEST(test_vmo_descriptor_with_non_memfd_fd_is_protocol_and_closed),
        LEAK_TEST(test_channel_descriptor_with_non_seqpacket_fd_is_protocol),
        LEAK_TEST(test_too_many_fds_is_protocol_and_leaks_nothing),
        LEAK_TEST(test_wrong_size_claim_is_ignored_size_comes_from_object),
        LEAK_TEST(test_claimed_write_right_on_write_sealed_memfd_is_not_granted),
        LEAK_TEST(test_claimed_immutability_comes_from_seals_not_words),
        LEAK_TEST(test_records_sent_to_a_peer_follow_the_wire_format),
        LEAK_TEST(test_unrequested_credentials_do_not_break_reads),
        LEAK_TEST(test_empty_record_is_not_end_of_stream),
        LEAK_TEST(test_sender_cannot_arm_sigio_on_received_endpoint),
        LEAK_TEST(test_sender_peek_offset_does_not_shift_reads),
        LEAK_TEST(test_sender_cannot_refuse_handles_on_received_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
