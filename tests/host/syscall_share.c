/* SPDX-License-Identifier: MIT */
/* One one-shot VMO share between two processes, through capmem and through
 * the bare system calls of bench/vmo_share.c's variant b (the floor), with
 * markers around each side's share so that tests/host/syscall_budget.sh can
 * count, under strace, the system calls each side makes for it.
 *
 *   syscall_share capmem|floor write|map|huge|commit [blocked|blocked-mt]
 *   syscall_share instr N
 *
 * The sender creates an object of size bytes, fills it (write: one pwrite /
 * cm_vmo_write; map: a writable mapping, memcpy, unmap; commit: every page
 * allocated first, fallocate / CM_VMO_COMMIT, then the write: the fill
 * bench/vmo_share chooses at 4 KiB), seals it immutable,
 * sends it with a small header and closes it. The receiver receives it (a
 * blocking receive: capmem's cm_channel_wait_readable + cm_channel_read),
 * checks that it is immutable and of the size announced, maps it read-only,
 * reads its last byte, unmaps and closes it. The message is queued before
 * the receiver starts its share, so the count does not depend on which
 * process runs first; with "blocked", the receiver starts first and the
 * sender sends only once the receiver sleeps in the kernel (its state in
 * /proc/PID/stat is S), so the receive is the blocking one, every time;
 * "blocked-mt" is "blocked" in a receiver that has started (and joined) a
 * second thread first, so the library no longer knows it single-threaded
 * (a wait then sleeps in poll, not in its peek: docs/channel.md).
 *
 * Each side does one share unmeasured first (the library's one-time set-up
 * is not a per-share cost: with "blocked", that includes the eventfd the
 * first blocking wait through a handle makes and the handle keeps), then
 * the measured one between two markers: a
 * write(2) to fd -1 of "CMBEGIN" / "CMEND", which fails with EBADF and shows
 * in strace's output. Exit status 0 only if every share arrived intact. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/capmem.h>

#define SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)
/* memfd_create's 2 MiB page-size selector (linux/memfd.h clashes with
 * glibc's MFD_* definitions). */
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26)
#endif

/* huge: one 2 MiB huge page, created with CM_VMO_HUGE and filled with
 * cm_vmo_write (bench/vmo_share.c's A) against the floor's hugetlb memfd
 * filled through a mapping (its fastest fill there); needs a hugetlb pool
 * (the capmem side fails if its VMO gets base pages). */
static uint32_t size = 64u * 1024u; /* bytes per share */
static int use_map;
static int use_huge;
static int use_commit;
static int blocked;
static int threaded;

static void *idle_thread(void *arg)
{
    return arg;
}
static unsigned char src[CM_HUGE_PAGE_SIZE];

#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            fprintf(stderr, "syscall_share: %s:%d: %s\n", __FILE__, __LINE__, \
                    #c);                                                      \
            exit(2);                                                          \
        }                                                                     \
    } while (0)

static void marker(const char *m)
{
    (void)!write(-1, m, strlen(m));
}

struct hdr {
    uint64_t size;
    uint64_t seq;
};

/* ---- capmem ---- */

static void capmem_send(cm_handle_t ch, uint64_t seq)
{
    cm_handle_t vmo;
    struct hdr h = { size, seq };
    src[size - 1] = (unsigned char)seq;
    CHECK(cm_vmo_create(size, use_huge ? CM_VMO_HUGE : use_commit ? CM_VMO_COMMIT : 0, &vmo) ==
          CM_OK);
    if (use_map) {
        void *p;
        CHECK(cm_vmo_map(vmo, 0, size, CM_MAP_READ | CM_MAP_WRITE, &p) == CM_OK);
        memcpy(p, src, size);
        CHECK(cm_vmo_unmap(p, size) == CM_OK);
    } else {
        CHECK(cm_vmo_write(vmo, src, 0, size) == CM_OK);
    }
    CHECK(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE) == CM_OK);
    CHECK(cm_channel_write(ch, &h, sizeof(h), &vmo, 1) == CM_OK);
}

static void capmem_recv(cm_handle_t ch, uint64_t seq)
{
    struct hdr h;
    cm_handle_t vmo = CM_HANDLE_INVALID;
    cm_vmo_info_t info;
    uint32_t nb = 0, nh = 0;
    void *p;
    CHECK(cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE) == CM_OK);
    CHECK(cm_channel_read(ch, &h, sizeof(h), &nb, &vmo, 1, &nh) == CM_OK);
    CHECK(nb == sizeof(h) && nh == 1 && h.seq == seq);
    CHECK(cm_vmo_get_info(vmo, &info) == CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) && info.size == h.size &&
          !(info.rights & CM_RIGHT_WRITE));
    CHECK(!use_huge || info.page_size == CM_HUGE_PAGE_SIZE);
    CHECK(cm_vmo_map(vmo, 0, h.size, CM_MAP_READ, &p) == CM_OK);
    CHECK(((unsigned char *)p)[h.size - 1] == (unsigned char)seq);
    CHECK(cm_vmo_unmap(p, h.size) == CM_OK);
    CHECK(cm_handle_close(vmo) == CM_OK);
}

/* ---- floor: bench/vmo_share.c's variant b ---- */

static void floor_send(int sock, uint64_t seq)
{
    struct hdr h = { size, seq };
    src[size - 1] = (unsigned char)seq;
    int fd = memfd_create("floor", MFD_CLOEXEC | MFD_ALLOW_SEALING |
                                       (use_huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, size) == 0);
    CHECK(!use_commit || fallocate(fd, 0, 0, size) == 0);
    if (use_map) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK(p != MAP_FAILED);
        memcpy(p, src, size);
        CHECK(munmap(p, size) == 0);
    } else {
        CHECK(pwrite(fd, src, size, 0) == size);
    }
    CHECK(fcntl(fd, F_ADD_SEALS, SEALS) == 0);
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { &h, sizeof(h) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = sizeof(ctl.buf) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    CHECK(sendmsg(sock, &msg, MSG_NOSIGNAL) == sizeof(h));
    CHECK(close(fd) == 0);
}

static void floor_recv(int sock, uint64_t seq)
{
    struct hdr h;
    struct stat sb;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { &h, sizeof(h) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = sizeof(ctl.buf) };
    int fd;
    CHECK(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) == sizeof(h) && h.seq == seq);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    CHECK(cm != NULL && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)));
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    int seals = fcntl(fd, F_GET_SEALS);
    CHECK(fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == h.size &&
          seals >= 0 && (seals & SEALS) == SEALS);
    CHECK(!use_huge || sb.st_blksize == CM_HUGE_PAGE_SIZE);
    unsigned char *p = mmap(NULL, h.size, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    CHECK(p[h.size - 1] == (unsigned char)seq);
    CHECK(munmap(p, h.size) == 0 && close(fd) == 0);
}

/* ---- instr: user instructions, for bench/share_instr.sh ----
 *
 * N + 1 shares of 4 KiB (pwrite fill) through each variant, alternating,
 * both sides in this one process (sender then receiver: the record is
 * queued before the receive, as in the base case above), so that callgrind,
 * which counts user-space instructions, sees each whole share with no
 * scheduling in it. It counts share_capmem and share_floor only. */
__attribute__((noinline)) static void share_capmem(const cm_handle_t *ch, uint64_t seq)
{
    capmem_send(ch[0], seq);
    capmem_recv(ch[1], seq);
}

__attribute__((noinline)) static void share_floor(const int *sock, uint64_t seq)
{
    floor_send(sock[0], seq);
    floor_recv(sock[1], seq);
}

static int instr(const char *count)
{
    char *end;
    long n = strtol(count, &end, 10);
    cm_handle_t ch[2];
    int sock[2];
    if (*end != 0 || n < 1 || n > 1000000) {
        fprintf(stderr, "syscall_share: instr N: N is 1..1000000\n");
        return 2;
    }
    size = 4096;
    CHECK(cm_channel_create(0, &ch[0], &ch[1]) == CM_OK);
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) == 0);
    for (long i = 0; i <= n; i++) { /* share 0: the one-time set-up */
        share_capmem(ch, (uint64_t)i + 1);
        share_floor(sock, (uint64_t)i + 1);
    }
    return 0;
}

/* ---- the two processes ---- */

struct ends {
    int capmem;
    cm_handle_t ch[2];
    int sock[2];
    int go[2]; /* sender -> receiver: "your message is queued" */
    int ready[2]; /* receiver -> sender: "about to receive" (blocked) */
};

static void send_one(const struct ends *e, uint64_t seq)
{
    if (e->capmem)
        capmem_send(e->ch[0], seq);
    else
        floor_send(e->sock[0], seq);
}

static void recv_one(const struct ends *e, uint64_t seq)
{
    if (e->capmem)
        capmem_recv(e->ch[1], seq);
    else
        floor_recv(e->sock[1], seq);
}

static void wait_go(const struct ends *e)
{
    char b;
    ssize_t n;
    do
        n = read(e->go[0], &b, 1);
    while (n < 0 && errno == EINTR);
    CHECK(n == 1);
}

static void tell_go(const struct ends *e)
{
    CHECK(write(e->go[1], "g", 1) == 1);
}

/* Waits until process pid sleeps in the kernel (state S). */
static void wait_asleep(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 100000; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        CHECK(n > 0);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (p != NULL && p[1] == ' ' && p[2] == 'S')
            return;
        usleep(1000);
    }
    CHECK(!"receiver never blocked");
}

int main(int argc, char **argv)
{
    struct ends e = { 0 };
    for (uint32_t i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)(i * 7u);
    if (argc == 3 && strcmp(argv[1], "instr") == 0)
        return instr(argv[2]);
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "capmem") != 0 && strcmp(argv[1], "floor") != 0) ||
        (strcmp(argv[2], "write") != 0 && strcmp(argv[2], "map") != 0 &&
         strcmp(argv[2], "huge") != 0 && strcmp(argv[2], "commit") != 0) ||
        (argc == 4 && strcmp(argv[3], "blocked") != 0 && strcmp(argv[3], "blocked-mt") != 0)) {
        fprintf(stderr, "usage: syscall_share capmem|floor write|map|huge|commit "
                        "[blocked|blocked-mt]\n"
                        "       syscall_share instr N\n");
        return 2;
    }
    blocked = argc == 4;
    threaded = argc == 4 && strcmp(argv[3], "blocked-mt") == 0;
    e.capmem = strcmp(argv[1], "capmem") == 0;
    use_huge = strcmp(argv[2], "huge") == 0;
    use_commit = strcmp(argv[2], "commit") == 0;
    /* the floor fills a hugetlb memfd through a mapping (no pwrite there) */
    use_map = strcmp(argv[2], "map") == 0 || (use_huge && !e.capmem);
    if (use_huge)
        size = CM_HUGE_PAGE_SIZE;
    CHECK(pipe(e.go) == 0 && pipe(e.ready) == 0);
    if (e.capmem)
        CHECK(cm_channel_create(0, &e.ch[0], &e.ch[1]) == CM_OK);
    else
        CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e.sock) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (threaded) {
            pthread_t t;
            CHECK(pthread_create(&t, NULL, idle_thread, NULL) == 0 && pthread_join(t, NULL) == 0);
        }
        for (uint64_t seq = 1; seq <= 2; seq++) {
            if (blocked)
                CHECK(write(e.ready[1], "r", 1) == 1);
            else
                wait_go(&e);
            if (seq == 2)
                marker("CMBEGIN");
            recv_one(&e, seq);
            if (seq == 2)
                marker("CMEND");
        }
        _exit(0);
    }
    for (uint64_t seq = 1; seq <= 2; seq++) {
        if (blocked) {
            char b;
            CHECK(read(e.ready[0], &b, 1) == 1);
            wait_asleep(pid);
        }
        if (seq == 2)
            marker("CMBEGIN");
        send_one(&e, seq);
        if (seq == 2)
            marker("CMEND");
        if (!blocked)
            tell_go(&e);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}
