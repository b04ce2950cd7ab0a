/* Channels on Linux: one AF_UNIX SOCK_SEQPACKET socket per endpoint.
 *
 * SEQPACKET keeps message boundaries and carries fds with SCM_RIGHTS, so a
 * message is one record (see wire.h). The receiver trusts nothing the peer
 * wrote: the record must decode exactly, each fd must be what its descriptor
 * says (a memfd for a VMO, an AF_UNIX seqpacket socket for a channel), and a
 * VMO's rights are capped by what the fd itself allows. Any inconsistency
 * closes every fd that arrived and returns PROTOCOL; nothing leaks.
 *
 * Reads go into a per-endpoint buffer. A message that does not fit the
 * caller's buffers stays there (pending) and is returned by the next read,
 * which is how BUFFER_TOO_SMALL leaves the message queued. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "wire.h"
#include "channel_internal.h"

struct cm__pending {
    struct cm__wire_view view;
    int fds[CM_CHANNEL_MAX_HANDLES];
    struct stat sb[CM_CHANNEL_MAX_HANDLES];   /* what fd_matches saw, per fd */
    int seals[CM_CHANNEL_MAX_HANDLES];
    uint8_t buf[CM__WIRE_MAX_MSG + 1]; /* +1: an oversized record shows as too long */
    int full;
};

static void channel_destroy(struct cm__hobj *obj)
{
    struct cm__channel *c = (struct cm__channel *)obj;
    if (c->pending != NULL) {
        if (c->pending->full)
            for (uint32_t i = 0; i < c->pending->view.num_handles; i++)
                close(c->pending->fds[i]);
        free(c->pending);
    }
    pthread_mutex_destroy(&c->lock);
    close(c->fd);
    free(c);
}

cm_status_t cm__channel_wrap(int fd, struct cm__channel **out)
{
    struct cm__channel *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&c->hdr, CM_OBJ_CHANNEL, channel_destroy);
    c->fd = fd;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return CM_OK;
}

cm_status_t cm__channel_install(int fd, cm_rights_t rights, cm_handle_t *out)
{
    struct cm__channel *c;
    cm_status_t st = cm__channel_wrap(fd, &c);
    if (st != CM_OK)
        return st;
    st = cm__handle_install(&c->hdr, rights, out);
    if (st != CM_OK) {
        c->fd = -1; /* caller keeps the fd on failure */
        cm__hobj_put(&c->hdr);
    }
    return st;
}

cm_status_t cm_channel_create(uint32_t options, cm_handle_t *end0, cm_handle_t *end1)
{
    int sv[2];
    cm_status_t st;
    if (options != 0 || end0 == NULL || end1 == NULL)
        return CM_ERR_INVALID_ARGS;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return cm__status_from_errno(errno);
    st = cm__channel_install(sv[0], CM_CHANNEL_DEFAULT_RIGHTS, end0);
    if (st != CM_OK)
        goto bad_both;
    st = cm__channel_install(sv[1], CM_CHANNEL_DEFAULT_RIGHTS, end1);
    if (st != CM_OK) {
        cm_handle_close(*end0); /* closes sv[0] */
        close(sv[1]);
        return st;
    }
    return CM_OK;
bad_both:
    close(sv[0]);
    close(sv[1]);
    return st;
}

static cm_status_t get_channel(cm_handle_t h, cm_rights_t need, struct cm__channel **c)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_CHANNEL, need, &obj, NULL);
    if (st == CM_OK)
        *c = (struct cm__channel *)obj;
    return st;
}

/* ---- write ---- */

/* Takes every listed handle out of the table (consuming it) and checks it
 * can cross a process boundary with the rights it has. On error all taken
 * objects are released. Returns the first error found. */
static cm_status_t take_handles(cm_handle_t channel, const cm_handle_t *handles, uint32_t n,
                                struct cm__hobj **objs, struct cm__wire_handle *descs)
{
    cm_status_t first = CM_OK;
    uint32_t taken = 0;
    for (uint32_t i = 0; i < n; i++) {
        cm_rights_t rights;
        struct cm__hobj *obj;
        cm_status_t st;
        int dup = 0;
        for (uint32_t j = 0; j < i; j++)
            dup |= handles[j] == handles[i];
        if (handles[i] == channel || dup)
            st = CM_ERR_INVALID_ARGS;
        else
            st = cm__handle_take(handles[i], &obj, &rights);
        if (st == CM_OK) {
            objs[taken] = obj;
            descs[taken] = (struct cm__wire_handle){ obj->type, rights };
            taken++;
            if (!(rights & CM_RIGHT_TRANSFER))
                st = CM_ERR_ACCESS_DENIED;
            else
                st = cm__transfer_check(obj, rights);
        }
        if (first == CM_OK && st != CM_OK)
            first = st;
    }
    if (first != CM_OK) {
        for (uint32_t i = 0; i < taken; i++)
            cm__hobj_put(objs[i]);
    }
    return first;
}

cm_status_t cm__transfer_check(struct cm__hobj *obj, cm_rights_t rights)
{
    if (obj->type == CM_OBJ_CHANNEL)
        return CM_OK;
    if (obj->type != CM_OBJ_VMO)
        return CM_ERR_UNSUPPORTED; /* listeners, pools: process-local */
    struct cm__vmo *v = (struct cm__vmo *)obj;
    if (v->is_file)
        return CM_ERR_UNSUPPORTED; /* a window is (fd, offset, len): the offset is not the fd's */
    if (rights & CM_RIGHT_WRITE)
        return CM_OK; /* nothing dropped: nothing for Linux to enforce */
    int seals = fcntl(v->fd, F_GET_SEALS);
    if (seals < 0)
        return CM_ERR_INTERNAL;
    /* The receiver can reopen any memfd read-write through /proc, whatever
     * the access mode of the fd it got: dropping WRITE is only real when a
     * seal already forbids writing. */
    if (!(rights & CM_RIGHT_WRITE) && !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
        return CM_ERR_UNSUPPORTED;
    return CM_OK;
}

static int obj_fd(struct cm__hobj *obj)
{
    return obj->type == CM_OBJ_VMO ? ((struct cm__vmo *)obj)->fd
                                   : ((struct cm__channel *)obj)->fd;
}

/* Sends one record: header+descriptors, bytes, and the fds. */
static cm_status_t send_record(int sock, const void *bytes, uint32_t num_bytes,
                               struct cm__hobj **objs, const struct cm__wire_handle *descs,
                               uint32_t num_handles)
{
    uint8_t hdr[CM__WIRE_MAX_HDR];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * CM_CHANNEL_MAX_HANDLES)];
    } ctl;
    struct iovec iov[2] = {
        { hdr, cm__wire_encode(hdr, num_bytes, descs, num_handles) },
        { (void *)bytes, num_bytes },
    };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = num_bytes > 0 ? 2 : 1 };
    if (num_handles > 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * num_handles);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * num_handles);
        int *fds = (int *)(void *)CMSG_DATA(cm);
        for (uint32_t i = 0; i < num_handles; i++)
            fds[i] = obj_fd(objs[i]);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? cm__status_from_errno(errno) : CM_OK;
}

cm_status_t cm_channel_write(cm_handle_t channel, const void *bytes, uint32_t num_bytes,
                             const cm_handle_t *handles, uint32_t num_handles)
{
    struct cm__hobj *objs[CM_CHANNEL_MAX_HANDLES];
    struct cm__wire_handle descs[CM_CHANNEL_MAX_HANDLES];
    struct cm__channel *c;

    if (handles == NULL && num_handles > 0)
        return CM_ERR_INVALID_ARGS;
    if (num_handles > CM_CHANNEL_MAX_HANDLES) {
        for (uint32_t i = 0; i < num_handles; i++)
            if (handles[i] != channel)
                cm_handle_close(handles[i]);
        return CM_ERR_OUT_OF_RANGE;
    }
    /* Consume first: whatever happens next, the listed handles are gone. */
    cm_status_t taken = take_handles(channel, handles, num_handles, objs, descs);
    cm_status_t st = get_channel(channel, CM_RIGHT_WRITE, &c);
    if (st != CM_OK)
        goto release;
    st = taken;
    if (st == CM_OK && bytes == NULL && num_bytes > 0)
        st = CM_ERR_INVALID_ARGS;
    if (st == CM_OK && num_bytes > CM_CHANNEL_MAX_BYTES)
        st = CM_ERR_OUT_OF_RANGE;
    if (st == CM_OK)
        st = send_record(c->fd, bytes, num_bytes, objs, descs, num_handles);
    cm__hobj_put(&c->hdr);
release:
    /* Sent or not, the objects go: the peer holds its own fds now. */
    if (taken == CM_OK)
        for (uint32_t i = 0; i < num_handles; i++)
            cm__hobj_put(objs[i]);
    return st;
}

/* ---- read ---- */

static void close_fds(const int *fds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        close(fds[i]);
}

/* Is fd really the kind of object its descriptor claims? */
static int fd_matches(int fd, uint32_t type, struct stat *sbp, int *seals)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return 0;
    *sbp = sb;
    /* Exactly what cm_host_vmo_from_fd admits (host/vmo.c). */
    if (type == CM_OBJ_VMO) {
        *seals = 0; /* admission reads the seals itself, before anything else */
        return cm__vmo_admit_check(fd) == CM_OK;
    }
    if (type == CM_OBJ_CHANNEL && S_ISSOCK(sb.st_mode)) {
        int v;
        socklen_t len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) != 0 || v != AF_UNIX)
            return 0;
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) != 0 || v != SOCK_SEQPACKET)
            return 0;
        /* A channel end is connected; a listening or unconnected socket is not. */
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0 || v != 0)
            return 0;
        struct sockaddr_un peer;
        socklen_t plen = sizeof(peer);
        return getpeername(fd, (struct sockaddr *)&peer, &plen) == 0;
    }
    return 0;
}

/* Gathers the fds of every SCM_RIGHTS control message. Returns -1 (after
 * closing them) if anything else arrived or the fds do not fit. */
static int collect_fds(struct msghdr *msg, int *fds)
{
    uint32_t n = 0;
    int bad = (msg->msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
            cm->cmsg_len < CMSG_LEN(0)) {
            bad = 1;
            continue;
        }
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(cm);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof(int));
            if (n < CM_CHANNEL_MAX_HANDLES)
                fds[n++] = fd;
            else {
                close(fd);
                bad = 1;
            }
        }
    }
    if (bad) {
        close_fds(fds, n);
        return -1;
    }
    return (int)n;
}

/* True once the peer has hung up and nothing is left to read. A peek
 * without a control buffer installs no fds. */
static int peer_gone(int fd)
{
    struct pollfd pfd = { fd, POLLRDHUP, 0 };
    char b;
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLRDHUP | POLLHUP)))
        return 0;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

/* Receives and validates one record into c->pending. Caller holds c->lock. */
static cm_status_t receive_record(struct cm__channel *c)
{
    struct cm__pending *p = c->pending;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * CM_CHANNEL_MAX_HANDLES)];
    } ctl;
    struct iovec iov = { p->buf, sizeof(p->buf) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    ssize_t n;
    do
        n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == ECONNRESET ? CM_ERR_PEER_CLOSED : cm__status_from_errno(errno);
    int nfds = collect_fds(&msg, p->fds);
    if (n == 0 && nfds == 0 && !(msg.msg_flags & MSG_TRUNC))
        /* A capmem record is never empty: 0 is EOF, or a hostile peer's
         * empty record, which must not pass for a hang-up. */
        return peer_gone(c->fd) ? CM_ERR_PEER_CLOSED : CM_ERR_PROTOCOL;
    if (nfds < 0)
        return CM_ERR_PROTOCOL;    /* truncated or foreign control data */
    cm_status_t st = CM_OK;
    if ((msg.msg_flags & MSG_TRUNC) || (size_t)n > CM__WIRE_MAX_MSG)
        st = CM_ERR_PROTOCOL;
    if (st == CM_OK)
        st = cm__wire_decode(p->buf, (size_t)n, (size_t)nfds, &p->view);
    for (int i = 0; st == CM_OK && i < nfds; i++)
        if (!fd_matches(p->fds[i], p->view.handles[i].type, &p->sb[i], &p->seals[i]))
            st = CM_ERR_PROTOCOL;
    if (st != CM_OK) {
        close_fds(p->fds, (uint32_t)nfds);
        return st;
    }
    p->full = 1;
    return CM_OK;
}

/* Turns each received fd into a handle. On failure closes everything that
 * arrived (installed handles and raw fds alike). */
static cm_status_t install_received(struct cm__pending *p, cm_handle_t *out)
{
    cm_status_t st = CM_OK;
    uint32_t i;
    for (i = 0; i < p->view.num_handles && st == CM_OK; i++) {
        const struct cm__wire_handle *d = &p->view.handles[i];
        if (d->type == CM_OBJ_VMO) {
            st = cm__vmo_receive(p->fds[i], d->rights, &out[i]);
        } else {
            st = cm__channel_install(p->fds[i], d->rights & CM_CHANNEL_DEFAULT_RIGHTS, &out[i]);
        }
    }
    if (st != CM_OK) {
        for (uint32_t j = 0; j + 1 < i; j++)
            cm_handle_close(out[j]);
        close_fds(p->fds + i - 1, p->view.num_handles - (i - 1));
    }
    return st;
}

cm_status_t cm_channel_read(cm_handle_t channel, void *bytes, uint32_t bytes_cap,
                            uint32_t *actual_bytes, cm_handle_t *handles,
                            uint32_t handles_cap, uint32_t *actual_handles)
{
    struct cm__channel *c;
    if ((bytes == NULL && bytes_cap > 0) || (handles == NULL && handles_cap > 0))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_channel(channel, CM_RIGHT_READ, &c);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&c->lock);
    if (c->pending == NULL) {
        c->pending = malloc(sizeof(*c->pending));
        if (c->pending == NULL) {
            st = CM_ERR_NO_MEMORY;
            goto out;
        }
        c->pending->full = 0;
    }
    struct cm__pending *p = c->pending;
    if (!p->full) {
        st = receive_record(c);
        if (st != CM_OK)
            goto out;
    }
    if (actual_bytes != NULL)
        *actual_bytes = p->view.num_bytes;
    if (actual_handles != NULL)
        *actual_handles = p->view.num_handles;
    if (p->view.num_bytes > bytes_cap || p->view.num_handles > handles_cap) {
        st = CM_ERR_BUFFER_TOO_SMALL;
        goto out;
    }
    /* Delivered or dropped from here on: the record leaves the queue. */
    p->full = 0;
    st = install_received(p, handles);
    if (st == CM_OK && p->view.num_bytes > 0)
        memcpy(bytes, p->view.bytes, p->view.num_bytes);
out:
    pthread_mutex_unlock(&c->lock);
    cm__hobj_put(&c->hdr);
    return st;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Polls fd for `events` until timeout_ns (negative: forever). Returns the
 * revents, 0 on timeout, -1 on error (errno set). */
int cm__poll_fd(int fd, short events, int64_t timeout_ns)
{
    int64_t deadline = timeout_ns < 0 ? -1 : now_ns() + timeout_ns;
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ns();
            if (left < 0)
                left = 0;
            ms = left / 1000000 > 1000000 ? 1000000 : (int)((left + 999999) / 1000000);
        }
        struct pollfd pfd = { fd, events, 0 };
        int r = poll(&pfd, 1, ms);
        if (r > 0)
            return pfd.revents;
        if (r < 0 && errno != EINTR)
            return -1;
        if (r == 0 && deadline >= 0 && now_ns() >= deadline)
            return 0;
    }
}

cm_status_t cm_channel_wait_readable(cm_handle_t channel, int64_t timeout_ns)
{
    struct cm__channel *c;
    cm_status_t st = get_channel(channel, 0, &c);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&c->lock);
    int pending = c->pending != NULL && c->pending->full;
    pthread_mutex_unlock(&c->lock);
    if (!pending) {
        int rev = cm__poll_fd(c->fd, POLLIN, timeout_ns);
        if (rev < 0) {
            st = cm__status_from_errno(errno);
        } else if (rev == 0) {
            st = CM_ERR_TIMED_OUT;
        } else if (rev & (POLLHUP | POLLERR)) {
            /* Hung up: readable only if a record is still queued. A peek
             * without a control buffer installs no fds. */
            char b;
            ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
            st = n > 0 ? CM_OK : CM_ERR_PEER_CLOSED;
        }
    }
    cm__hobj_put(&c->hdr);
    return st;
}

cm_status_t cm_host_channel_peer_cred(cm_handle_t channel, pid_t *pid, uid_t *uid, gid_t *gid)
{
    struct cm__channel *c;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (pid == NULL || uid == NULL || gid == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_channel(channel, 0, &c);
    if (st != CM_OK)
        return st;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        st = cm__status_from_errno(errno);
    } else {
        *pid = cred.pid;
        *uid = cred.uid;
        *gid = cred.gid;
    }
    cm__hobj_put(&c->hdr);
    return st;
}
