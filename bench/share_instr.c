/* SPDX-License-Identifier: MIT */
/* bench/share_instr: user instructions of one one-shot 4 KiB VMO share,
 * capmem against the bare-syscall floor (bench/vmo_share.c's a and b), for
 * bench/share_instr.sh, which runs it under callgrind and divides.
 *
 *   share_instr [N]   (N shares of each, default 200, after one unmeasured)
 *
 * Both sides in one process, one after the other (the message is queued
 * before the receive, as in tests/host/syscall_budget.sh's base case), so
 * that callgrind, which counts user-space instructions only, sees the whole
 * share with no scheduling in it: sender (create, pwrite fill, seal IMMUTABLE,
 * send, close) then receiver (wait, read, get_info checks, map read-only,
 * read the last byte, unmap, close). share_capmem and share_floor are the
 * functions callgrind counts (--toggle-collect); the variants alternate,
 * each share checked. Exit status 0 only if every share arrived intact. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/capmem.h>

#define SIZE 4096u
#define SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "share_instr: %s:%d: %s\n", __FILE__, __LINE__, #c);  \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

struct hdr {
    uint64_t size;
    uint64_t seq;
};

static unsigned char src[SIZE];

__attribute__((noinline)) void share_capmem(cm_handle_t tx, cm_handle_t rx, uint64_t seq);
__attribute__((noinline)) void share_floor(int tx, int rx, uint64_t seq);

void share_capmem(cm_handle_t tx, cm_handle_t rx, uint64_t seq)
{
    cm_handle_t vmo, got = CM_HANDLE_INVALID;
    struct hdr h = { SIZE, seq };
    cm_vmo_info_t info;
    uint32_t nb = 0, nh = 0;
    void *p;
    src[SIZE - 1] = (unsigned char)seq;
    CHECK(cm_vmo_create(SIZE, CM_VMO_BASE_PAGES, &vmo) == CM_OK);
    CHECK(cm_vmo_write(vmo, src, 0, SIZE) == CM_OK);
    CHECK(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE) == CM_OK);
    CHECK(cm_channel_write(tx, &h, sizeof(h), &vmo, 1) == CM_OK);
    CHECK(cm_channel_wait_readable(rx, CM_TIMEOUT_INFINITE) == CM_OK);
    CHECK(cm_channel_read(rx, &h, sizeof(h), &nb, &got, 1, &nh) == CM_OK);
    CHECK(nb == sizeof(h) && nh == 1 && h.seq == seq);
    CHECK(cm_vmo_get_info(got, &info) == CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) && info.size == h.size &&
          !(info.rights & CM_RIGHT_WRITE));
    CHECK(cm_vmo_map(got, 0, h.size, CM_MAP_READ, &p) == CM_OK);
    CHECK(((unsigned char *)p)[h.size - 1] == (unsigned char)seq);
    CHECK(cm_vmo_unmap(p, h.size) == CM_OK);
    CHECK(cm_handle_close(got) == CM_OK);
}

void share_floor(int tx, int rx, uint64_t seq)
{
    struct hdr h = { SIZE, seq };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { &h, sizeof(h) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = sizeof(ctl.buf) };
    struct stat sb;
    src[SIZE - 1] = (unsigned char)seq;
    int fd = memfd_create("floor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0 && ftruncate(fd, SIZE) == 0 && pwrite(fd, src, SIZE, 0) == SIZE);
    CHECK(fcntl(fd, F_ADD_SEALS, SEALS) == 0);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    CHECK(sendmsg(tx, &msg, MSG_NOSIGNAL) == sizeof(h));
    CHECK(close(fd) == 0);
    msg.msg_controllen = sizeof(ctl.buf);
    CHECK(recvmsg(rx, &msg, MSG_CMSG_CLOEXEC) == sizeof(h) && h.seq == seq);
    cm = CMSG_FIRSTHDR(&msg);
    CHECK(cm != NULL && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)));
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    int seals = fcntl(fd, F_GET_SEALS);
    CHECK(fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == h.size &&
          seals >= 0 && (seals & SEALS) == SEALS);
    unsigned char *p = mmap(NULL, h.size, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    CHECK(p[h.size - 1] == (unsigned char)seq);
    CHECK(munmap(p, h.size) == 0 && close(fd) == 0);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
    cm_handle_t ch[2];
    int sv[2];
    if (argc > 2 || n < 1 || n > 1000000) {
        fprintf(stderr, "usage: share_instr [N (1..1000000)]\n");
        return 2;
    }
    for (uint32_t i = 0; i < SIZE; i++)
        src[i] = (unsigned char)(i * 7u);
    CHECK(cm_channel_create(0, &ch[0], &ch[1]) == CM_OK);
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    for (long i = 0; i <= n; i++) { /* share 0: the one-time set-up */
        share_capmem(ch[0], ch[1], (uint64_t)i + 1);
        share_floor(sv[0], sv[1], (uint64_t)i + 1);
    }
    return 0;
}
