/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rawpeer.h"

#define RAW_WAIT_NS (10ll * 1000000000)

int raw_connect(cm_handle_t *ch)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char dir[] = "/tmp/cm-rawpeer-XXXXXX";
    cm_handle_t lis;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
    int raw = -1;
    if (cm_host_listen(sa.sun_path, &lis) == CM_OK) {
        raw = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (raw >= 0 && (connect(raw, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
                         cm_host_accept(lis, RAW_WAIT_NS, ch) != CM_OK)) {
            close(raw);
            raw = -1;
        }
        if (cm_handle_close(lis) != CM_OK && raw >= 0) {
            close(raw);
            cm_handle_close(*ch);
            raw = -1;
        }
    }
    unlink(sa.sun_path);
    rmdir(dir);
    return raw;
}

void raw_open(struct raw_peer *rp)
{
    rp->raw = raw_connect(&rp->ch);
    assert_true(rp->raw >= 0);
}

void raw_close(struct raw_peer *rp)
{
    close(rp->raw);
    assert_status(cm_handle_close(rp->ch), CM_OK);
}

int raw_send(int raw, int fd, uint32_t type, cm_rights_t rights)
{
    return raw_send_sized(raw, fd, type, rights, 0);
}

int raw_send_sized(int raw, int fd, uint32_t type, cm_rights_t rights, uint64_t size)
{
    struct { uint32_t magic; uint16_t version, num_handles; uint32_t num_bytes, reserved;
             uint32_t type, rights; uint64_t size; char byte; } __attribute__((packed)) rec = {
        0x48434d43u, 3, 1, 1, 0, type, rights, size, 'v' };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = { &rec, sizeof(rec) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                          .msg_controllen = sizeof(ctl.buf) };
    memset(&ctl, 0, sizeof(ctl));
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return sendmsg(raw, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(rec) ? 0 : -1;
}

cm_status_t recv_one(cm_handle_t ch, cm_handle_t *h)
{
    char buf[8];
    uint32_t nb = 0, nh = 0;
    *h = CM_HANDLE_INVALID;
    cm_status_t st = cm_channel_wait_readable(ch, RAW_WAIT_NS);
    if (st == CM_OK)
        st = cm_channel_read(ch, buf, sizeof(buf), &nb, h, 1, &nh);
    return st;
}
