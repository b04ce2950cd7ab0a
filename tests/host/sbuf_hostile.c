/* SPDX-License-Identifier: MIT */
/* Attacks on the host SharedBuffer by a hostile peer (docs/sbuf.md "Host:
 * attacks tried"): forged consumer records and fds of the wrong kind sent
 * to a receiver over a raw socket, a sender that keeps dups of what it
 * sent, a consumer writing its shared words to stall or crash the
 * producer, and object waits against stale wake-up bytes, producer death,
 * duplicates and transfers. The victim must get a typed error and never
 * crash, hang, spin or leak; every test runs under the fd/mapping/handle
 * leak check, spinning is measured in CPU time (getrusage), and every wait
 * has a deadline so that a hang fails. */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/pagemap.h"
#include "common/threads.h"
#include "../../host/sbuf_internal.h"
#include "../../host/wire.h"
#include "../../host/channel_internal.h"

#define SEC (1000000000ll)
#define MS (1000000ll)

static cm_sbuf_config_t cfg_of(uint32_t slots, uint32_t size, uint32_t held, uint32_t policy)
{
    return (cm_sbuf_config_t){ slots, size, 2, held, 1, policy, 0, 0 };
}

static void produce(cm_handle_t buf, uint64_t seq, int64_t timeout)
{
    cm_sbuf_loan_t l;
    uint64_t got;
    assert_status(cm_sbuf_loan(buf, 0, timeout, &l), CM_OK);
    memset(l.data, (int)(seq & 0xff), 8);
    assert_status(cm_sbuf_publish(buf, l.id, 8, &got), CM_OK);
    assert_true(got == seq);
}

static double cpu_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static struct cm__sbuf_consumer *consumer_of(cm_handle_t h)
{
    struct cm__hobj *obj;
    assert_status(cm__handle_get(h, CM_OBJ_SBUF_CONSUMER, 0, &obj, NULL), CM_OK);
    return (struct cm__sbuf_consumer *)obj;
}

/* A channel end in this process whose peer is the raw socket *raw. */
static cm_handle_t raw_channel(int *raw)
{
    int sv[2];
    cm_handle_t end;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_status(cm__channel_install(sv[0], CM_CHANNEL_DEFAULT_RIGHTS, &end), CM_OK);
    *raw = sv[1];
    return end;
}

/* Sends n consumer descriptors with metas[] and fds[4n] on raw. */
static void send_record(int raw, const struct cm__sbuf_wire *metas, uint32_t n, const int *fds)
{
    struct cm__wire_handle d[4];
    for (uint32_t i = 0; i < n; i++)
        d[i] = (struct cm__wire_handle){ CM_OBJ_SBUF_CONSUMER, CM_SBUF_CONSUMER_DEFAULT_RIGHTS, 0 };
    uint8_t hdr[CM__WIRE_MAX_HDR];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(16 * sizeof(int))];
    } ctl;
    struct iovec iov = { hdr, cm__wire_encode(hdr, 0, d, n, metas, n) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = CMSG_SPACE(4 * n * sizeof(int)) };
    memset(&ctl, 0, sizeof(ctl));
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(4 * n * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, 4 * n * sizeof(int));
    assert_true(sendmsg(raw, &msg, 0) == (ssize_t)iov.iov_len);
}

static int memfd_sized(uint64_t size, unsigned seals, unsigned flags)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING | flags);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) != 0 || (seals != 0 && fcntl(fd, F_ADD_SEALS, seals) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

#define RO_SEALS (F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)
#define RW_SEALS (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

/* An honest-looking consumer made by hand (a producer area saying OPEN,
 * everything at index 0): fds[4] and the metadata; *peer is the producer
 * end of its socket. */
static void forge_honest(const cm_sbuf_config_t *cfg, int fds[4], struct cm__sbuf_wire *meta,
                         int *peer)
{
    struct cm_sbuf_layout lay;
    cm_sbuf_config_t c = *cfg;
    assert_status(cm__sbuf_layout(&c, &lay), CM_OK);
    fds[0] = memfd_sized(lay.data_size, RO_SEALS, 0);
    fds[1] = memfd_sized(lay.prod_area_size, 0, 0);
    assert_true(fds[0] >= 0 && fds[1] >= 0);
    struct cm_sbuf_prod_ctl *p = mmap(NULL, lay.prod_area_size, PROT_READ | PROT_WRITE,
                                      MAP_SHARED, fds[1], 0);
    assert_true(p != MAP_FAILED);
    p->state = CM_SBUF_CTL_OPEN;
    munmap(p, lay.prod_area_size);
    assert_int_equal(fcntl(fds[1], F_ADD_SEALS, RO_SEALS), 0);
    fds[2] = memfd_sized(lay.cons_area_size, RW_SEALS, 0);
    assert_true(fds[2] >= 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    fds[3] = sv[1];
    *peer = sv[0];
    *meta = (struct cm__sbuf_wire){ .config = *cfg };
}

static void replace_fd(int fds[4], int i, int fd)
{
    assert_true(fd >= 0);
    close(fds[i]);
    fds[i] = fd;
}

/* A listening AF_UNIX SOCK_SEQPACKET socket on an abstract address. */
static int listening_socket(void)
{
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "capmem-hostile-%d", (int)getpid());
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 1), 0);
    return s;
}

enum fd_forge {
    FD_HONEST,
    FD_DATA_HUGETLB,      /* data: a hugetlb memfd, sealed as well as it can be */
    FD_DATA_TMPFILE,      /* data: an unlinked tmpfs file, not a memfd */
    FD_DATA_REGULAR,      /* data: an unlinked regular file */
    FD_DATA_LINKED,       /* data: a tmpfs file with a name */
    FD_DATA_WRITE_OPEN,   /* data: memfd with no write seal (seals GROW|SHRINK only) */
    FD_DATA_IS_CONS,      /* the consumer area listed again as data */
    FD_CONS_IS_DATA,      /* the data memfd listed again as the consumer area */
    FD_CONS_READ_ONLY,    /* consumer area reopened O_RDONLY */
    FD_DATA_WRITE_ONLY,   /* data memfd reopened O_WRONLY: not readable */
    FD_CONS_ONE_BYTE_SHORT, /* consumer area one byte short */
    FD_PROD_ONE_BYTE_LONG,
    FD_SOCK_DGRAM,
    FD_SOCK_LISTENING,
    FD_SOCK_UNCONNECTED,
    FD_SOCK_INET,
    FD_SOCK_EVENTFD,
    FD_SOCK_IS_MEMFD,
    FD_COUNT
};

/* Applies one fd forgery; returns 1 if the forgery could be built here. */
static int forge_fd(enum fd_forge f, const cm_sbuf_config_t *cfg, int fds[4])
{
    struct cm_sbuf_layout lay;
    cm_sbuf_config_t c = *cfg;
    assert_status(cm__sbuf_layout(&c, &lay), CM_OK);
    switch (f) {
    case FD_HONEST:
        return 1;
    case FD_DATA_HUGETLB: {
        int fd = memfd_sized(2u << 20, F_SEAL_GROW | F_SEAL_SHRINK, MFD_HUGETLB);
        if (fd < 0)
            return 0; /* no hugetlb pool here: the fs check is what refuses it */
        replace_fd(fds, 0, fd);
        return 1;
    }
    case FD_DATA_TMPFILE: {
        int fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
            return 0;
        assert_int_equal(ftruncate(fd, (off_t)lay.data_size), 0);
        replace_fd(fds, 0, fd);
        return 1;
    }
    case FD_DATA_REGULAR: {
        char path[] = "/tmp/capmem-hostile-XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);
        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(ftruncate(fd, (off_t)lay.data_size), 0);
        replace_fd(fds, 0, fd);
        return 1;
    }
    case FD_DATA_LINKED: {
        char path[64];
        snprintf(path, sizeof(path), "/dev/shm/capmem-hostile-%d", (int)getpid());
        int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
            return 0;
        assert_int_equal(ftruncate(fd, (off_t)lay.data_size), 0);
        replace_fd(fds, 0, fd);
        return 2; /* caller unlinks */
    }
    case FD_DATA_WRITE_OPEN:
        replace_fd(fds, 0, memfd_sized(lay.data_size, F_SEAL_GROW | F_SEAL_SHRINK, 0));
        return 1;
    case FD_DATA_IS_CONS:
        replace_fd(fds, 0, dup(fds[2]));
        return 1;
    case FD_CONS_IS_DATA:
        replace_fd(fds, 2, dup(fds[0]));
        return 1;
    case FD_CONS_READ_ONLY: {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[2]);
        replace_fd(fds, 2, open(path, O_RDONLY | O_CLOEXEC));
        return 1;
    }
    case FD_DATA_WRITE_ONLY: {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return 0;
        replace_fd(fds, 0, fd);
        return 1;
    }
    case FD_CONS_ONE_BYTE_SHORT:
        replace_fd(fds, 2, memfd_sized(lay.cons_area_size - 1, RW_SEALS, 0));
        return 1;
    case FD_PROD_ONE_BYTE_LONG:
        replace_fd(fds, 1, memfd_sized(lay.prod_area_size + 1, RO_SEALS, 0));
        return 1;
    case FD_SOCK_DGRAM: {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
        close(sv[0]);
        replace_fd(fds, 3, sv[1]);
        return 1;
    }
    case FD_SOCK_LISTENING:
        replace_fd(fds, 3, listening_socket());
        return 1;
    case FD_SOCK_UNCONNECTED:
        replace_fd(fds, 3, socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        return 1;
    case FD_SOCK_INET: {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return 0;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        (void)connect(fd, (struct sockaddr *)&a, sizeof(a));
        replace_fd(fds, 3, fd);
        return 1;
    }
    case FD_SOCK_EVENTFD:
        replace_fd(fds, 3, eventfd(0, EFD_CLOEXEC));
        return 1;
    case FD_SOCK_IS_MEMFD:
        replace_fd(fds, 3, dup(fds[2]));
        return 1;
    case FD_COUNT:
        break;
    }
    return 0;
}

/* Reads one record on end; returns the status; an admitted consumer is
 * probed (a receive must not crash) and closed. */
static cm_status_t read_and_probe(cm_handle_t end)
{
    cm_handle_t h[4] = { 0 };
    uint32_t nb, nh = 0;
    char b[4];
    cm_status_t st = cm_channel_read(end, b, sizeof(b), &nb, h, 4, &nh);
    if (st == CM_OK) {
        for (uint32_t i = 0; i < nh; i++) {
            cm_sbuf_msg_t m;
            cm_status_t r = cm_sbuf_receive(h[i], 0, 0, &m);
            assert_true(r == CM_ERR_SHOULD_WAIT || r == CM_ERR_PROTOCOL ||
                        r == CM_ERR_PEER_CLOSED);
            cm_signals_t obs;
            r = cm_object_wait_one(h[i], CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, 0, &obs);
            assert_true(r == CM_OK || r == CM_ERR_TIMED_OUT);
            assert_status(cm_handle_close(h[i]), CM_OK);
        }
    }
    return st;
}

/* Every fd of the wrong kind in every one of the four places is PROTOCOL
 * with every fd of the message closed and nothing mapped; the honest
 * record built the same way is admitted (so each refusal is the one fact
 * that differs). */
static void test_consumer_fds_of_the_wrong_kind_are_protocol_and_leak_nothing(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = cfg_of(4, 128, 2, CM_SBUF_BLOCK);
    for (int f = 0; f < FD_COUNT; f++) {
        int raw, fds[4], peer;
        struct cm__sbuf_wire meta;
        cm_handle_t end = raw_channel(&raw);
        int before = count_open_fds(), maps = count_maps();
        forge_honest(&cfg, fds, &meta, &peer);
        int built = forge_fd((enum fd_forge)f, &cfg, fds);
        if (built) {
            send_record(raw, &meta, 1, fds);
        }
        for (int i = 0; i < 4; i++)
            close(fds[i]);
        if (built == 2) {
            char path[64];
            snprintf(path, sizeof(path), "/dev/shm/capmem-hostile-%d", (int)getpid());
            unlink(path);
        }
        if (built) {
            cm_status_t st = read_and_probe(end);
            cm_status_t want = f == FD_HONEST ? CM_OK : CM_ERR_PROTOCOL;
            if (st != want)
                fail_msg("fd forgery %d: %s, expected %s", f, cm_status_name(st),
                         cm_status_name(want));
        }
        close(peer);
        assert_int_equal(count_open_fds(), before);
        assert_int_equal(count_maps(), maps);
        close(raw);
        assert_status(cm_handle_close(end), CM_OK);
    }
}

enum meta_forge {
    M_HONEST,
    M_SLOTS_MAX,          /* slot_count UINT32_MAX */
    M_SLOT_SIZE_MAX,
    M_DATA_SIZE_OVER,     /* each field in range, slot_count x stride past the limit */
    M_HELD_ZERO,
    M_HELD_ABOVE_SLOTS,
    M_CONSUMERS_ZERO,
    M_CONSUMERS_ABOVE_LIMIT,
    M_POLICY_UNDEFINED,
    M_OPTIONS_SET,
    M_RESERVED_SET,
    M_POS_AT_MAX,
    M_FLAGS_UNDEFINED,
    M_RELEASED_ABOVE_RECEIVED,
    M_HELD_NOT_BROKEN,
    M_BROKEN_HELD_ABOVE_MAX,
    M_COUNTERS_WRAPPED,   /* received 0, released UINT64_MAX */
    M_REL_TAIL_DISAGREES,
    M_READ_BEHIND_TAIL_BY_TWO_RINGS, /* read far behind an (honest) tail */
    M_READ_AHEAD_DROP_OLDEST,        /* shared read a ring and one ahead */
    M_COUNT
};

/* Forges one metadata field (and, where the forgery is about the shared
 * words, the shared word that goes with it). */
static void forge_meta(enum meta_forge f, struct cm__sbuf_wire *m, int fds[4])
{
    struct cm_sbuf_layout lay;
    cm_sbuf_config_t c = m->config;
    assert_status(cm__sbuf_layout(&c, &lay), CM_OK);
    switch (f) {
    case M_HONEST: break;
    case M_SLOTS_MAX: m->config.slot_count = UINT32_MAX; break;
    case M_SLOT_SIZE_MAX: m->config.slot_size = UINT32_MAX; break;
    case M_DATA_SIZE_OVER:
        m->config.slot_count = CM_SBUF_MAX_SLOTS;
        m->config.slot_size = CM_SBUF_MAX_SLOT_SIZE;
        break;
    case M_HELD_ZERO: m->config.max_held = 0; break;
    case M_HELD_ABOVE_SLOTS: m->config.max_held = m->config.slot_count + 1; break;
    case M_CONSUMERS_ZERO: m->config.max_consumers = 0; break;
    case M_CONSUMERS_ABOVE_LIMIT: m->config.max_consumers = CM_SBUF_MAX_CONSUMERS + 1; break;
    case M_POLICY_UNDEFINED: m->config.policy = 7; break;
    case M_OPTIONS_SET: m->config.options = 1; break;
    case M_RESERVED_SET: m->config.reserved = 1; break;
    case M_POS_AT_MAX: m->pos = m->config.max_consumers; break;
    case M_FLAGS_UNDEFINED: m->flags = 2; break;
    case M_RELEASED_ABOVE_RECEIVED: m->received = 1; m->released = 2; break;
    case M_HELD_NOT_BROKEN: m->received = 1; break;
    case M_BROKEN_HELD_ABOVE_MAX:
        m->flags = CM__SBUF_WIRE_BROKEN;
        m->received = m->config.max_held + 1;
        break;
    case M_COUNTERS_WRAPPED: m->released = UINT64_MAX; break;
    case M_REL_TAIL_DISAGREES: m->rel_tail = 1; break;
    case M_READ_BEHIND_TAIL_BY_TWO_RINGS:
    case M_READ_AHEAD_DROP_OLDEST: {
        /* Write the producer's tail (before its seal: a fresh area). */
        int fd = memfd_sized(lay.prod_area_size, 0, 0);
        struct cm_sbuf_prod_ctl *p = mmap(NULL, lay.prod_area_size, PROT_READ | PROT_WRITE,
                                          MAP_SHARED, fd, 0);
        assert_true(p != MAP_FAILED);
        p->state = CM_SBUF_CTL_OPEN;
        if (f == M_READ_BEHIND_TAIL_BY_TWO_RINGS)
            p->tail = 2 * (uint64_t)lay.ring_size;
        munmap(p, lay.prod_area_size);
        assert_int_equal(fcntl(fd, F_ADD_SEALS, RO_SEALS), 0);
        replace_fd(fds, 1, fd);
        if (f == M_READ_AHEAD_DROP_OLDEST) {
            struct cm_sbuf_cons_ctl *k = mmap(NULL, lay.cons_area_size, PROT_READ | PROT_WRITE,
                                              MAP_SHARED, fds[2], 0);
            assert_true(k != MAP_FAILED);
            k->read = (uint64_t)lay.ring_size + 1;
            munmap(k, lay.cons_area_size);
        }
        break;
    }
    case M_COUNT: break;
    }
}

/* Every forged metadata field, at its extremes and one past what is
 * admissible, is PROTOCOL with nothing leaked; DROP_OLDEST so that the
 * read-ahead rule is the one tried. */
static void test_forged_consumer_metadata_is_protocol_and_leaks_nothing(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = cfg_of(8, 128, 2, CM_SBUF_DROP_OLDEST);
    for (int f = 0; f < M_COUNT; f++) {
        int raw, fds[4], peer;
        struct cm__sbuf_wire meta;
        cm_handle_t end = raw_channel(&raw);
        int before = count_open_fds(), maps = count_maps();
        forge_honest(&cfg, fds, &meta, &peer);
        forge_meta((enum meta_forge)f, &meta, fds);
        send_record(raw, &meta, 1, fds);
        for (int i = 0; i < 4; i++)
            close(fds[i]);
        cm_status_t st = read_and_probe(end);
        cm_status_t want = f == M_HONEST ? CM_OK : CM_ERR_PROTOCOL;
        if (st != want)
            fail_msg("metadata forgery %d: %s, expected %s", f, cm_status_name(st),
                     cm_status_name(want));
        close(peer);
        assert_int_equal(count_open_fds(), before);
        assert_int_equal(count_maps(), maps);
        close(raw);
        assert_status(cm_handle_close(end), CM_OK);
    }
}

/* Admissible but shared: two consumers in one record sharing one consumer
 * area and one socket, a data memfd that is also the producer area (same
 * size), the socket being the channel's own peer end. Each is only the
 * sender's own consumer misbehaving: the receiver gets handles whose
 * receives are typed, and closing them leaks nothing. */
static void test_aliased_fds_in_a_record_only_confuse_the_senders_consumers(void **state)
{
    (void)state;
    /* 4 slots of 1 KiB: data and producer area are both one page. */
    cm_sbuf_config_t cfg = cfg_of(4, 1024, 2, CM_SBUF_BLOCK);
    struct cm_sbuf_layout lay;
    cm_sbuf_config_t c = cfg;
    assert_status(cm__sbuf_layout(&c, &lay), CM_OK);
    assert_true(lay.data_size == lay.prod_area_size);
    int raw, fds[8], peer, peer2;
    struct cm__sbuf_wire meta[2];
    int before = count_open_fds(), maps = count_maps();
    cm_handle_t end = raw_channel(&raw);
    forge_honest(&cfg, fds, &meta[0], &peer);
    forge_honest(&cfg, fds + 4, &meta[1], &peer2);
    meta[1].pos = 1;
    replace_fd(fds, 0, dup(fds[1]));     /* data is the producer area */
    replace_fd(fds, 6, dup(fds[2]));     /* second shares the first's area */
    replace_fd(fds, 7, dup(fds[3]));     /* and its socket */
    replace_fd(fds, 3, dup(raw));        /* first's socket: the channel's peer end */
    send_record(raw, meta, 2, fds);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    assert_status(read_and_probe(end), CM_OK);
    close(peer);
    close(peer2);
    close(raw);
    assert_status(cm_handle_close(end), CM_OK);
    assert_int_equal(count_open_fds(), before);
    assert_int_equal(count_maps(), maps);
}

/* The sender set O_ASYNC with this process as owner and SIGKILL as the
 * signal on the socket before sending it: a wake-up byte would kill the
 * receiver unless the receiver undid it. Run in a child so a defect is a
 * failed test. */
static int async_trap_child(void *arg)
{
    (void)arg;
    cm_sbuf_config_t cfg = cfg_of(4, 128, 2, CM_SBUF_BLOCK);
    int raw, fds[4], peer;
    struct cm__sbuf_wire meta;
    int sv[2];
    cm_handle_t end;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
        cm__channel_install(sv[0], CM_CHANNEL_DEFAULT_RIGHTS, &end) != CM_OK)
        return 2;
    raw = sv[1];
    forge_honest(&cfg, fds, &meta, &peer);
    int keep = dup(fds[3]);
    if (fcntl(fds[3], F_SETOWN, getpid()) != 0 || fcntl(fds[3], F_SETSIG, SIGKILL) != 0 ||
        fcntl(fds[3], F_SETFL, O_ASYNC | O_NONBLOCK) != 0)
        return 3;
    send_record(raw, &meta, 1, fds);
    cm_handle_t h;
    uint32_t nb, nh;
    char b[4];
    if (cm_channel_read(end, b, sizeof(b), &nb, &h, 1, &nh) != CM_OK)
        return 4;
    (void)!send(peer, "x", 1, 0); /* the wake-up byte: SIGKILL if armed */
    cm_signals_t obs;
    (void)cm_object_wait_one(h, CM_SIGNAL_READABLE, 50 * MS, &obs);
    (void)keep;
    return 0;
}

static void test_async_signal_armed_by_the_sender_is_undone_on_arrival(void **state)
{
    (void)state;
    assert_child_ok(in_child(async_trap_child, NULL));
}

/* ---- a sender that keeps dups, and consumers attacking the producer ---- */

/* A real consumer is sent; the sender kept dups of its four fds and then
 * writes garbage into its consumer area (read far ahead, release ring
 * full of forged entries, rel_tail past a ring, cons_waiting and rel_word
 * random), floods the producer with wake-up bytes from the socket and
 * drains the receiver's socket. The receiver's consumer gets a typed error
 * or TIMED_OUT within its deadline; the producer evicts it and keeps
 * publishing to an honest consumer (BLOCK: a stall would be TIMED_OUT) with
 * little CPU time; nothing leaks. */
static void test_sender_keeping_dups_harms_only_the_sent_consumer(void **state)
{
    (void)state;
    cm_handle_t buf, con, honest, e0, e1, got;
    cm_sbuf_config_t cfg = cfg_of(4, 64, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &honest), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    struct cm__sbuf_consumer *c = consumer_of(con);
    int keep[4] = { dup(c->data_fd), dup(c->prod_fd), dup(c->cons_fd), dup(c->sock) };
    struct cm_sbuf_layout lay = c->lay;
    cm__hobj_put(&c->hdr);
    assert_status(cm_channel_write(e0, "c", 1, &con, 1), CM_OK);
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_read(e1, b, sizeof(b), &nb, &got, 1, &nh), CM_OK);
    struct cm_sbuf_cons_ctl *k = mmap(NULL, lay.cons_area_size, PROT_READ | PROT_WRITE,
                                      MAP_SHARED, keep[2], 0);
    assert_true(k != MAP_FAILED);
    double t0 = cpu_s(RUSAGE_SELF);
    for (uint64_t s = 0; s < 40; s++) {
        /* Garbage, rewritten before every publish. */
        k->read = UINT64_MAX - s;
        k->rel_tail = 0x8000000000000000ull + s;
        k->cons_waiting = 0xffffffffu;
        k->rel_word = (uint32_t)(s * 2654435761u);
        struct cm_sbuf_rel *rr = cm__sbuf_rel_ring(k);
        for (uint32_t i = 0; i < lay.ring_size; i++)
            rr[i] = (struct cm_sbuf_rel){ s, i * 977u, 0xdeadbeef };
        for (int i = 0; i < 8; i++)
            (void)!send(keep[3], "f", 1, MSG_DONTWAIT);
        char d[64];
        (void)!recv(keep[3], d, sizeof(d), MSG_DONTWAIT); /* steals the receiver's wake-up */
        produce(buf, s, 2 * SEC);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(honest, 0, 2 * SEC, &m), CM_OK);
        assert_true(m.seq == s);
        assert_status(cm_sbuf_release(honest, m.seq), CM_OK);
    }
    double used = cpu_s(RUSAGE_SELF) - t0;
    if (used > 1.0)
        fail_msg("40 publishes under attack used %.3f s of CPU", used);
    cm_sbuf_msg_t m;
    cm_status_t st = cm_sbuf_receive(got, 0, 200 * MS, &m);
    if (st != CM_ERR_PEER_CLOSED && st != CM_ERR_PROTOCOL && st != CM_ERR_TIMED_OUT)
        fail_msg("the attacked consumer: %s", cm_status_name(st));
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
    munmap(k, lay.cons_area_size);
    for (int i = 0; i < 4; i++)
        close(keep[i]);
    assert_status(cm_handle_close(got), CM_OK);
    assert_status(cm_handle_close(honest), CM_OK);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* A consumer that claims, by moving read to tail, to have received
 * everything without releasing: more than max_held. Under BLOCK the
 * producer must not wait for releases that will never come: the consumer
 * is evicted and the next loan succeeds within its deadline. */
static void test_consumer_claiming_more_than_max_held_is_evicted_not_waited_for(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(4, 64, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct cm__sbuf_consumer *c = consumer_of(con);
    for (uint64_t s = 0; s < 4; s++)
        produce(buf, s, 0);
    SB_STORE_REL(&c->cons->read, SB_LOAD_ACQ(&c->prod->tail));
    cm__hobj_put(&c->hdr);
    double t0 = cpu_s(RUSAGE_SELF);
    produce(buf, 4, 2 * SEC);
    assert_true(cpu_s(RUSAGE_SELF) - t0 < 0.5);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_ERR_PEER_CLOSED);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* ---- object waits ---- */

struct waiter {
    cm_handle_t h;
    cm_signals_t want, obs;
    int64_t timeout;
    cm_status_t st;
};

static void wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->st = cm_object_wait_one(w->h, w->want, w->timeout, &w->obs);
}

/* A forged consumer (32 slots of 64 KiB) whose data memfd is `data`,
 * sent over a raw channel and received here: a->h is the received
 * handle; a->probe a dup of `data` (which is closed). */
struct forged_arrival {
    cm_handle_t end, h;
    int raw, peer, probe;
};

static void forged_arrive(int data, struct forged_arrival *a)
{
    cm_sbuf_config_t cfg = cfg_of(32, 65536, 1, CM_SBUF_BLOCK);
    int fds[4];
    struct cm__sbuf_wire meta;
    a->end = raw_channel(&a->raw);
    forge_honest(&cfg, fds, &meta, &a->peer);
    replace_fd(fds, 0, data);
    a->probe = dup(fds[0]);
    assert_true(a->probe >= 0);
    send_record(a->raw, &meta, 1, fds);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_read(a->end, b, sizeof(b), &nb, &a->h, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
}

static void forged_leave(struct forged_arrival *a)
{
    assert_status(cm_handle_close(a->h), CM_OK);
    close(a->probe);
    close(a->peer);
    close(a->raw);
    assert_status(cm_handle_close(a->end), CM_OK);
}

/* Sends a forged consumer whose data memfd is `data` (which it closes)
 * and receives it: the receiver's arrival must not allocate a page of
 * that file (its st_blocks are the same before and after). */
static void assert_arrival_allocates_nothing_of(int data)
{
    struct stat before, after;
    assert_int_equal(fstat(data, &before), 0);
    struct forged_arrival a;
    forged_arrive(data, &a);
    assert_int_equal(fstat(a.probe, &after), 0);
    assert_true(after.st_size >= 32 * 65536);
    if (after.st_blocks != before.st_blocks)
        fail_msg("the receiver allocated %lld blocks of a forged data area",
                 (long long)(after.st_blocks - before.st_blocks));
    forged_leave(&a);
}

static int forged_data_memfd(int blocks_beyond_eof)
{
    cm_sbuf_config_t cfg = cfg_of(32, 65536, 1, CM_SBUF_BLOCK);
    struct cm_sbuf_layout lay;
    assert_status(cm__sbuf_layout(&cfg, &lay), CM_OK);
    int fd = memfd_sized(lay.data_size, 0, 0);
    assert_true(fd >= 0);
    if (blocks_beyond_eof)
        assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)lay.data_size,
                                   (off_t)lay.data_size),
                         0);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, RO_SEALS), 0);
    return fd;
}

/* A received consumer's mappings are not populated: a forged consumer
 * whose data memfd is all holes (sized and sealed, never written) is
 * admitted, and its arrival leaves the holes alone. Populating it would
 * allocate the whole data area, 2 MiB here, charged to the receiver, for
 * every such handle a hostile sender sends. */
static void test_received_consumer_does_not_fill_the_holes_of_a_forged_data_area(void **state)
{
    (void)state;
    assert_arrival_allocates_nothing_of(forged_data_memfd(0));
}

/* The same holes, with as many pages allocated past the end of the file
 * (fallocate KEEP_SIZE before the GROW seal): st_blocks covers the size
 * though no page of it exists, which fooled a check of st_blocks that
 * once decided whether to populate a received consumer. */
static void test_pages_past_the_end_do_not_make_a_forged_data_area_look_allocated(void **state)
{
    (void)state;
    assert_arrival_allocates_nothing_of(forged_data_memfd(1));
}

/* A received consumer is not populated, even over pages its sender did
 * allocate: the arrival of a forged consumer over one large allocated
 * area builds no page table for it here. Populating at arrival would let
 * one sender charge the receiver page tables and time once per forged
 * consumer, up to the handle limit, for one area the sender paid once;
 * the receiver's reads fault the pages in when it receives. */
static void test_received_consumer_builds_no_page_tables_at_arrival(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = cfg_of(32, 65536, 1, CM_SBUF_BLOCK);
    struct cm_sbuf_layout lay;
    assert_status(cm__sbuf_layout(&cfg, &lay), CM_OK);
    int data = memfd_sized(lay.data_size, 0, 0);
    assert_true(data >= 0);
    assert_int_equal(fallocate(data, 0, 0, (off_t)lay.data_size), 0);
    assert_int_equal(fcntl(data, F_ADD_SEALS, RO_SEALS), 0);
    struct forged_arrival a;
    forged_arrive(data, &a);
    struct cm__sbuf_consumer *con = consumer_of(a.h);
    long pages = (long)(lay.data_size / (uint64_t)sysconf(_SC_PAGESIZE));
    long missing = pages_not_mapped(con->data, lay.data_size);
    cm__hobj_put(&con->hdr);
    if (missing != pages)
        fail_msg("arrival mapped %ld of the %ld pages of a received data area",
                 pages - missing, pages);
    forged_leave(&a);
}

/* Sending a consumer while a thread waits on it: the wait ends with
 * BAD_HANDLE, and the old object, still referenced by that thread, must not
 * touch what is now the receiver's: arming and disarming it (what the
 * woken wait does) neither clears the receiver's cons_waiting (a lost
 * wake-up: its receive would sleep to its deadline) nor drains the
 * receiver's wake-up byte. */
static void test_moved_consumer_leaves_the_receivers_words_and_bytes_alone(void **state)
{
    (void)state;
    cm_handle_t buf, con, e0, e1, got;
    cm_sbuf_config_t cfg = cfg_of(4, 64, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    struct waiter w = { con, CM_SIGNAL_READABLE, 0, 10 * SEC, CM_ERR_INTERNAL };
    struct test_thread t;
    thread_start(&t, wait_thread, &w);
    await_blocked(&t);
    struct cm__sbuf_consumer *old = consumer_of(con); /* as the woken wait holds it */
    assert_status(cm_channel_write(e0, "c", 1, &con, 1), CM_OK);
    thread_join(&t);
    assert_status(w.st, CM_ERR_BAD_HANDLE);
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_read(e1, b, sizeof(b), &nb, &got, 1, &nh), CM_OK);
    struct cm__sbuf_consumer *now = consumer_of(got);
    /* Nobody sleeps at the receiver yet: the flag the armed wait had raised
     * went down with the move (else every publish leaves a stale byte). */
    assert_int_equal(SB_LOAD_ACQ(&now->cons->cons_waiting), 0u);
    /* The receiver sleeps (its flag up) and a publish kicks it. */
    now->hdr.signals->arm(&now->hdr);
    produce(buf, 0, 0);
    struct pollfd p = { now->sock, POLLIN, 0 };
    assert_int_equal(poll(&p, 1, 0), 1);
    /* The sender's stale object, as a late wait would use it. */
    old->hdr.signals->arm(&old->hdr);
    old->hdr.signals->disarm(&old->hdr);
    cm_signals_t s;
    assert_status(old->hdr.signals->get(&old->hdr, &s), CM_OK);
    assert_int_equal(SB_LOAD_ACQ(&now->cons->cons_waiting), 1u);
    p.revents = 0;
    if (poll(&p, 1, 0) != 1)
        fail_msg("the moved object drained the receiver's wake-up byte");
    now->hdr.signals->disarm(&now->hdr);
    cm__hobj_put(&old->hdr);
    cm__hobj_put(&now->hdr);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(got, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(got, m.seq), CM_OK);
    assert_status(cm_handle_close(got), CM_OK);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* One consumer listed twice in a wait_many: the wait wakes on a publish
 * (both items READABLE), and after the message is gone a second wait
 * sleeps (CPU time) instead of polling the stale byte. */
static void test_wait_many_with_a_consumer_listed_twice_wakes_once_and_then_sleeps(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(4, 64, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    uint64_t seq = 0;
    for (int round = 0; round < 3; round++) {
        cm_wait_item_t it[2] = { { con, CM_SIGNAL_READABLE, 0 }, { con, CM_SIGNAL_READABLE, 0 } };
        produce(buf, seq++, 0);
        assert_status(cm_object_wait_many(it, 2, 2 * SEC), CM_OK);
        assert_true((it[0].pending & it[1].pending & CM_SIGNAL_READABLE) != 0);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
        assert_status(cm_sbuf_release(con, m.seq), CM_OK);
        struct test_thread t;
        struct waiter w = { con, CM_SIGNAL_READABLE, 0, 10 * SEC, CM_ERR_INTERNAL };
        thread_start(&t, wait_thread, &w);
        await_blocked(&t);
        produce(buf, seq++, 0);
        thread_join(&t);
        assert_status(w.st, CM_OK);
        assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
        assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    }
    cm_wait_item_t it[2] = { { con, CM_SIGNAL_READABLE, 0 }, { con, CM_SIGNAL_READABLE, 0 } };
    double t0 = cpu_s(RUSAGE_SELF);
    assert_status(cm_object_wait_many(it, 2, 300 * MS), CM_ERR_TIMED_OUT);
    double used = cpu_s(RUSAGE_SELF) - t0;
    if (used > 0.1)
        fail_msg("a wait_many on nothing used %.3f s of CPU in 0.3 s", used);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* ---- a hostile producer: the sender of a forged consumer keeps a
 * writable mapping of the producer area (made before the seal, as the real
 * producer's is) and the producer end of the socket ---- */

struct forged_producer {
    cm_handle_t end, h;
    int raw, peer;
    struct cm_sbuf_prod_ctl *p;
    struct cm_sbuf_layout lay;
};

static void forged_producer_open(struct forged_producer *fp, const cm_sbuf_config_t *cfg)
{
    int fds[4];
    struct cm__sbuf_wire meta;
    cm_sbuf_config_t c = *cfg;
    assert_status(cm__sbuf_layout(&c, &fp->lay), CM_OK);
    fp->end = raw_channel(&fp->raw);
    forge_honest(cfg, fds, &meta, &fp->peer);
    int fd = memfd_sized(fp->lay.prod_area_size, 0, 0);
    fp->p = mmap(NULL, fp->lay.prod_area_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(fp->p != MAP_FAILED);
    fp->p->state = CM_SBUF_CTL_OPEN;
    assert_int_equal(fcntl(fd, F_ADD_SEALS, RO_SEALS), 0);
    replace_fd(fds, 1, fd);
    send_record(fp->raw, &meta, 1, fds);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_read(fp->end, b, sizeof(b), &nb, &fp->h, 1, &nh), CM_OK);
}

static void forged_producer_close(struct forged_producer *fp)
{
    assert_status(cm_handle_close(fp->h), CM_OK);
    munmap(fp->p, fp->lay.prod_area_size);
    close(fp->peer);
    close(fp->raw);
    assert_status(cm_handle_close(fp->end), CM_OK);
}

/* Garbage deliveries (slot out of range, length past the slot, wrong seq,
 * tail a ring and more ahead) are PROTOCOL for that consumer, then a
 * CLOSED state is latched (writing OPEN back does not reopen it), and a
 * wait for READABLE on the broken consumer sleeps to its deadline while
 * wake-up bytes arrive one by one: typed, bounded, no crash. */
static void test_hostile_producer_words_break_only_the_consumer_and_waits_end(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = cfg_of(4, 128, 2, CM_SBUF_BLOCK);
    static const struct {
        uint64_t seq;
        uint32_t slot, len;
        uint64_t tail;
    } bad[] = {
        { 0, 4, 8, 1 },            /* slot past the table */
        { 0, UINT32_MAX, 8, 1 },
        { 0, 0, 129, 1 },          /* one byte past the slot */
        { 0, 0, UINT32_MAX, 1 },
        { 1, 0, 8, 1 },            /* wrong seq */
        { UINT64_MAX, 0, 8, 1 },
        { 0, 0, 8, 4 + 1 },        /* tail a ring and one ahead */
        { 0, 0, 8, UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct forged_producer fp;
        forged_producer_open(&fp, &cfg);
        struct cm_sbuf_desc *ring = cm__sbuf_ring(fp.p);
        ring[0] = (struct cm_sbuf_desc){ bad[i].seq, bad[i].slot, bad[i].len };
        SB_STORE_REL(&fp.p->tail, bad[i].tail);
        cm_sbuf_msg_t m;
        char copy[256];
        cm_status_t st = i & 1 ? cm_sbuf_receive(fp.h, 0, 0, &m)
                               : cm_sbuf_receive_copy(fp.h, 0, 0, copy, sizeof(copy), &m);
        if (st != CM_ERR_PROTOCOL)
            fail_msg("bad delivery %zu: %s, expected PROTOCOL", i, cm_status_name(st));
        assert_status(cm_sbuf_receive(fp.h, 0, 0, &m), CM_ERR_PROTOCOL);
        fp.p->state = CM_SBUF_CTL_CLOSED;
        cm_signals_t obs;
        assert_status(cm_object_wait_one(fp.h, CM_SIGNAL_PEER_CLOSED, 0, &obs), CM_OK);
        fp.p->state = CM_SBUF_CTL_OPEN;
        assert_status(cm_object_wait_one(fp.h, CM_SIGNAL_PEER_CLOSED, 0, &obs), CM_OK);
        assert_false(obs & CM_SIGNAL_READABLE); /* broken: nothing readable */
        forged_producer_close(&fp);
    }
    /* An honest consumer of a producer that sends a wake-up byte now and
     * then without publishing: the wait sleeps between them. */
    struct forged_producer fp;
    forged_producer_open(&fp, &cfg);
    double t0 = cpu_s(RUSAGE_SELF);
    struct waiter w = { fp.h, CM_SIGNAL_READABLE, 0, 400 * MS, CM_ERR_INTERNAL };
    struct test_thread t;
    thread_start(&t, wait_thread, &w);
    for (int i = 0; i < 8; i++) {
        (void)!send(fp.peer, "k", 1, MSG_DONTWAIT);
        nap_ms(20);
    }
    thread_join(&t);
    assert_status(w.st, CM_ERR_TIMED_OUT);
    double used = cpu_s(RUSAGE_SELF) - t0;
    if (used > 0.15)
        fail_msg("8 spurious bytes cost a 0.4 s wait %.3f s of CPU", used);
    forged_producer_close(&fp);
}

/* The buffer's WRITABLE wait while one consumer holds every slot and
 * another consumer has died (its socket hung up, level-triggered): the
 * dead one is reclaimed once and the wait sleeps (CPU time), then wakes on
 * the holder's release. */
static void test_buffer_wait_does_not_spin_on_a_dead_consumers_hang_up(void **state)
{
    (void)state;
    cm_handle_t buf, holder, dead;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &holder), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &dead), CM_OK);
    produce(buf, 0, 0);
    produce(buf, 1, 0);
    cm_sbuf_msg_t m[2];
    assert_status(cm_sbuf_receive(holder, 0, 0, &m[0]), CM_OK);
    assert_status(cm_sbuf_receive(holder, 0, 0, &m[1]), CM_OK);
    assert_status(cm_handle_close(dead), CM_OK);
    struct waiter w = { buf, CM_SIGNAL_WRITABLE, 0, 300 * MS, CM_ERR_INTERNAL };
    double t0 = cpu_s(RUSAGE_SELF);
    struct test_thread t;
    thread_start(&t, wait_thread, &w);
    thread_join(&t);
    double used = cpu_s(RUSAGE_SELF) - t0;
    assert_status(w.st, CM_ERR_TIMED_OUT);
    if (used > 0.1)
        fail_msg("a WRITABLE wait next to a dead consumer used %.3f s of CPU in 0.3 s", used);
    w = (struct waiter){ buf, CM_SIGNAL_WRITABLE, 0, 10 * SEC, CM_ERR_INTERNAL };
    thread_start(&t, wait_thread, &w);
    await_blocked(&t);
    assert_status(cm_sbuf_release(holder, m[0].seq), CM_OK);
    thread_join(&t);
    assert_status(w.st, CM_OK);
    assert_status(cm_sbuf_release(holder, m[1].seq), CM_OK);
    assert_status(cm_handle_close(holder), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

struct toggler {
    volatile uint64_t *word;
    atomic_int stop;
    atomic_ulong flips;
};

static void toggle_thread(void *arg)
{
    struct toggler *t = arg;
    uint64_t v = 0;
    while (!atomic_load(&t->stop)) {
        __atomic_store_n(t->word, v++ & 1 ? UINT64_MAX : 0, __ATOMIC_RELEASE);
        atomic_fetch_add(&t->flips, 1);
    }
}

/* DROP_OLDEST, a consumer flipping its `read` as fast as it can (the
 * producer's take-back CAS and reap see it move under them): the producer
 * still publishes every message within its deadline (it evicts the
 * flipper) and an honest consumer receives them. */
static void test_consumer_flipping_read_cannot_hold_the_producer(void **state)
{
    (void)state;
    cm_handle_t buf, bad, honest;
    cm_sbuf_config_t cfg = cfg_of(8, 64, 2, CM_SBUF_DROP_OLDEST);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &bad), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &honest), CM_OK);
    struct cm__sbuf_consumer *c = consumer_of(bad);
    struct toggler tg = { &c->cons->read, 0, 0 };
    struct test_thread t;
    thread_start(&t, toggle_thread, &tg);
    while (atomic_load(&tg.flips) < 1000)
        nap_ms(1);
    for (uint64_t s = 0; s < 50; s++) {
        produce(buf, s, 2 * SEC);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(honest, 0, 2 * SEC, &m), CM_OK);
        assert_true(m.seq == s);
        assert_status(cm_sbuf_release(honest, m.seq), CM_OK);
    }
    atomic_store(&tg.stop, 1);
    thread_join(&t);
    /* Whether some look above caught a bad value is up to the scheduler:
     * leave one there for certain, and the next publish must evict. */
    __atomic_store_n(&c->cons->read, UINT64_MAX, __ATOMIC_RELEASE);
    produce(buf, 50, 2 * SEC);
    cm_sbuf_msg_t last;
    assert_status(cm_sbuf_receive(honest, 0, 2 * SEC, &last), CM_OK);
    assert_true(last.seq == 50);
    assert_status(cm_sbuf_release(honest, last.seq), CM_OK);
    cm__hobj_put(&c->hdr);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
    assert_status(cm_handle_close(bad), CM_OK);
    assert_status(cm_handle_close(honest), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* DROP_OLDEST, a hostile producer flipping the consumer's `read` (its
 * take-back CAS) with a delivery pending: a receive with a deadline ends by
 * it (TIMED_OUT, or PROTOCOL if a flip landed on a bad value) instead of
 * looping under its lock for ever. */
static void test_producer_flipping_read_cannot_hold_a_receive_past_its_deadline(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = cfg_of(8, 64, 2, CM_SBUF_DROP_OLDEST);
    struct forged_producer fp;
    forged_producer_open(&fp, &cfg);
    struct cm__sbuf_consumer *c = consumer_of(fp.h);
    struct cm_sbuf_desc *ring = cm__sbuf_ring(fp.p);
    ring[0] = (struct cm_sbuf_desc){ 0, 0, 8 };
    SB_STORE_REL(&fp.p->tail, 1);
    struct toggler tg = { &c->cons->read, 0, 0 };
    struct test_thread t;
    thread_start(&t, toggle_thread, &tg);
    while (atomic_load(&tg.flips) < 1000)
        nap_ms(1);
    cm_sbuf_msg_t m;
    cm_status_t st = CM_OK;
    for (int i = 0; i < 20 && st == CM_OK; i++) {
        st = cm_sbuf_receive(fp.h, 0, 50 * MS, &m);
        if (st == CM_OK)
            (void)cm_sbuf_release(fp.h, m.seq);
    }
    atomic_store(&tg.stop, 1);
    thread_join(&t);
    cm__hobj_put(&c->hdr);
    if (st != CM_ERR_TIMED_OUT && st != CM_ERR_PROTOCOL)
        fail_msg("a receive against a flipping producer: %s", cm_status_name(st));
    forged_producer_close(&fp);
}

struct looper {
    cm_handle_t h;
    int64_t timeout;
    cm_status_t st;
    uint32_t got;
};

static void receive_loop(void *arg)
{
    struct looper *l = arg;
    cm_sbuf_msg_t m;
    while ((l->st = cm_sbuf_receive(l->h, 0, l->timeout, &m)) == CM_OK) {
        l->got++;
        (void)cm_sbuf_release(l->h, m.seq);
    }
}

/* A common shape: one thread waits for the producer's death
 * (PEER_CLOSED, long deadline) while another receives in a loop. Each
 * publish leaves a wake-up byte; neither may spin on it while the other
 * sleeps (the no-drain-while-someone-sleeps rule must not become "nobody
 * ever drains"). CPU time over an idle second after the publishes must
 * be small. */
static void test_death_watch_and_receiver_do_not_spin_on_stale_bytes(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(4, 64, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct waiter w = { con, CM_SIGNAL_PEER_CLOSED, 0, 10 * SEC, CM_ERR_INTERNAL };
    struct looper l = { con, 1500 * MS, CM_ERR_INTERNAL, 0 };
    struct test_thread tw, tr;
    thread_start(&tw, wait_thread, &w);
    await_blocked(&tw);
    thread_start(&tr, receive_loop, &l);
    await_blocked(&tr);
    for (uint64_t s = 0; s < 20; s++) {
        produce(buf, s, 2 * SEC);
        nap_ms(5);
    }
    nap_ms(100);
    double t0 = cpu_s(RUSAGE_SELF);
    nap_ms(1000);
    double used = cpu_s(RUSAGE_SELF) - t0;
    assert_status(cm_handle_close(buf), CM_OK); /* ends both */
    thread_join(&tr);
    thread_join(&tw);
    assert_status(w.st, CM_OK);
    assert_true(w.obs & CM_SIGNAL_PEER_CLOSED);
    assert_status(l.st, CM_ERR_PEER_CLOSED);
    assert_int_equal(l.got, 20);
    if (used > 0.2)
        fail_msg("idle for 1 s with a death watch and a receiver: %.3f s of CPU", used);
    assert_status(cm_handle_close(con), CM_OK);
}

static int killed_producer_child(void *arg)
{
    (void)arg;
    return 0;
}

/* The producer process is SIGKILLed while the consumer (sent to us over
 * a channel) waits: the wait ends PEER_CLOSED, receives drain what was
 * published and then get PEER_CLOSED, and a later wait for READABLE alone
 * sleeps to its deadline without spinning. */
static void test_waits_after_producer_death_are_peer_closed_and_do_not_spin(void **state)
{
    (void)state;
    (void)killed_producer_child;
    cm_handle_t e0, e1, got;
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cm_handle_t buf, con;
        cm_sbuf_config_t cfg = cfg_of(4, 64, 2, CM_SBUF_BLOCK);
        if (cm_sbuf_create(&cfg, &buf) != CM_OK ||
            cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con) != CM_OK)
            _exit(2);
        cm_sbuf_loan_t ln;
        uint64_t seq;
        if (cm_sbuf_loan(buf, 0, 0, &ln) != CM_OK || cm_sbuf_publish(buf, ln.id, 4, &seq) != CM_OK)
            _exit(3);
        if (cm_channel_write(e0, "c", 1, &con, 1) != CM_OK)
            _exit(4);
        char x;
        (void)!read(go[0], &x, 1);
        for (;;)
            pause();
    }
    close(go[0]);
    assert_status(cm_channel_wait_readable(e1, 10 * SEC), CM_OK);
    char b[4];
    uint32_t nb, nh;
    assert_status(cm_channel_read(e1, b, sizeof(b), &nb, &got, 1, &nh), CM_OK);
    struct waiter w = { got, CM_SIGNAL_PEER_CLOSED, 0, 10 * SEC, CM_ERR_INTERNAL };
    struct test_thread t;
    thread_start(&t, wait_thread, &w);
    await_blocked(&t);
    kill(pid, SIGKILL);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    thread_join(&t);
    close(go[1]);
    assert_status(w.st, CM_OK);
    assert_true(w.obs & CM_SIGNAL_PEER_CLOSED);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(got, 0, 2 * SEC, &m), CM_OK);
    assert_status(cm_sbuf_release(got, m.seq), CM_OK);
    assert_status(cm_sbuf_receive(got, 0, 2 * SEC, &m), CM_ERR_PEER_CLOSED);
    cm_signals_t obs;
    double t0 = cpu_s(RUSAGE_SELF);
    assert_status(cm_object_wait_one(got, CM_SIGNAL_READABLE, 300 * MS, &obs), CM_ERR_TIMED_OUT);
    double used = cpu_s(RUSAGE_SELF) - t0;
    if (used > 0.1)
        fail_msg("a wait after the producer's death used %.3f s of CPU in 0.3 s", used);
    assert_true(obs & CM_SIGNAL_PEER_CLOSED);
    assert_status(cm_handle_close(got), CM_OK);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
}

struct sender {
    cm_handle_t con, e0;
    cm_status_t st;
};

static void send_thread(void *arg)
{
    struct sender *s = arg;
    s->st = cm_channel_write(s->e0, "c", 1, &s->con, 1);
}

/* A wait and a transfer race in two threads, many rounds: the wait ends
 * BAD_HANDLE or OK (it saw the message first), never hangs, and the
 * receiver then gets every later message with a blocking receive (a
 * wake-up lost to the sender's stale object would be TIMED_OUT). */
static void test_wait_racing_a_transfer_loses_no_wake_up_of_the_receiver(void **state)
{
    (void)state;
    cm_handle_t buf, e0, e1;
    cm_sbuf_config_t cfg = cfg_of(4, 64, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    uint64_t seq = 0;
    for (int round = 0; round < 30; round++) {
        cm_handle_t con, got;
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
        struct waiter w = { con, CM_SIGNAL_READABLE, 0, 10 * SEC, CM_ERR_INTERNAL };
        struct sender s = { con, e0, CM_ERR_INTERNAL };
        struct test_thread tw, ts;
        thread_start(&tw, wait_thread, &w);
        if (round & 1)
            await_blocked(&tw);
        thread_start(&ts, send_thread, &s);
        thread_join(&ts);
        thread_join(&tw);
        assert_status(s.st, CM_OK);
        assert_true(w.st == CM_ERR_BAD_HANDLE);
        char b[4];
        uint32_t nb, nh;
        assert_status(cm_channel_read(e1, b, sizeof(b), &nb, &got, 1, &nh), CM_OK);
        struct looper l = { got, 5 * SEC, CM_ERR_INTERNAL, 0 };
        struct test_thread tr;
        thread_start(&tr, receive_loop, &l);
        await_blocked(&tr);
        produce(buf, seq++, 2 * SEC);
        /* The loop takes it and sleeps again; the producer's close ends it. */
        for (int i = 0; i < 500 && __atomic_load_n(&l.got, __ATOMIC_ACQUIRE) == 0; i++)
            nap_ms(2);
        assert_int_equal(__atomic_load_n(&l.got, __ATOMIC_ACQUIRE), 1);
        assert_status(cm_handle_close(got), CM_OK);
        thread_join(&tr);
        assert_status(l.st, CM_ERR_BAD_HANDLE);
    }
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_consumer_fds_of_the_wrong_kind_are_protocol_and_leak_nothing),
        LEAK_TEST(test_forged_consumer_metadata_is_protocol_and_leaks_nothing),
        LEAK_TEST(test_aliased_fds_in_a_record_only_confuse_the_senders_consumers),
        LEAK_TEST(test_async_signal_armed_by_the_sender_is_undone_on_arrival),
        LEAK_TEST(test_sender_keeping_dups_harms_only_the_sent_consumer),
        LEAK_TEST(test_consumer_claiming_more_than_max_held_is_evicted_not_waited_for),
        LEAK_TEST(test_moved_consumer_leaves_the_receivers_words_and_bytes_alone),
        LEAK_TEST(test_received_consumer_does_not_fill_the_holes_of_a_forged_data_area),
        LEAK_TEST(test_pages_past_the_end_do_not_make_a_forged_data_area_look_allocated),
        LEAK_TEST(test_received_consumer_builds_no_page_tables_at_arrival),
        LEAK_TEST(test_wait_many_with_a_consumer_listed_twice_wakes_once_and_then_sleeps),
        LEAK_TEST(test_death_watch_and_receiver_do_not_spin_on_stale_bytes),
        LEAK_TEST(test_waits_after_producer_death_are_peer_closed_and_do_not_spin),
        LEAK_TEST(test_wait_racing_a_transfer_loses_no_wake_up_of_the_receiver),
        LEAK_TEST(test_hostile_producer_words_break_only_the_consumer_and_waits_end),
        LEAK_TEST(test_buffer_wait_does_not_spin_on_a_dead_consumers_hang_up),
        LEAK_TEST(test_consumer_flipping_read_cannot_hold_the_producer),
        LEAK_TEST(test_producer_flipping_read_cannot_hold_a_receive_past_its_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
