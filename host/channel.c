/* SPDX-License-Identifier: MIT */
/* Channels on Linux: one AF_UNIX SOCK_SEQPACKET socket per endpoint.
 *
 * SEQPACKET keeps message boundaries and carries fds with SCM_RIGHTS, so a
 * message is one record (see wire.h). The receiver trusts nothing the peer
 * wrote: the record must decode exactly, each fd must be what its descriptor
 * says (a memfd for a VMO, an AF_UNIX seqpacket socket for a channel), and a
 * VMO's rights are capped by what the fd itself allows. Any inconsistency
 * closes every fd that arrived and returns PROTOCOL; nothing leaks.
 *
 * A message leaves the socket only when it is delivered or found malformed:
 * reads peek first (see "read" below), so BUFFER_TOO_SMALL and local
 * shortages leave it queued in the socket itself. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#include <sys/ioctl.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <capmem/host.h>
#include "deadline.h"
#include "fd_owned.h"
#include "internal.h"
#include "validate.h"
#include "vmo_admit.h"
#include "wire.h"
#include "sbuf_internal.h"
#include "channel_internal.h"
#include "status_detail.h"

static const struct cm__signal_ops cm__channel_signal_ops;

/* What one peek found besides the bytes (in cm__pending.buf). */
struct rx {
    size_t len;        /* the record's full length (MSG_TRUNC) */
    uint32_t nfds;     /* SCM_RIGHTS fds installed, in cm__pending.fds */
    int extra_fds;     /* more fds than CM__WIRE_MAX_FDS: closed, the record is bad */
    int ctrunc;        /* the kernel could not deliver all control data */
    int foreign;       /* a control message the library did not ask for */
};

/* An endpoint's receive buffer: the head record is peeked into it and
 * judged there. No message is ever held here between calls: a record stays
 * in the socket until it is delivered (or rejected as malformed), so it
 * travels with the endpoint and dies with the socket. What a wait may keep
 * is only its peek of the head record (held): a copy, whose fds the next
 * read judges instead of peeking again, and which any other use of this
 * buffer drops (drop_held). */
struct cm__pending {
    struct cm__wire_view view;
    int fds[CM__WIRE_MAX_FDS];                /* every fd that arrived, in order */
    uint32_t first_fd[CM_CHANNEL_MAX_HANDLES]; /* handle i's fds start at fds[first_fd[i]] */
    struct stat sb[CM_CHANNEL_MAX_HANDLES];   /* what fd_matches saw, per handle */
    /* A VMO fd's admission facts, read once by fd_matches (seals first) and
     * used again by its admission in install_received. */
    struct cm__vmo_facts facts[CM_CHANNEL_MAX_HANDLES];
    /* A consumer's metadata (copied out of buf once) and admission verdict. */
    struct cm__sbuf_wire meta[CM_CHANNEL_MAX_HANDLES];
    struct cm__sbuf_admit_verdict verdict[CM_CHANNEL_MAX_HANDLES];
    /* 1: buf and fds hold a clean peek of the head record made by
     * cm_channel_wait_readable (held_rx), its fds installed and ours. */
    int held;
    struct rx held_rx;
    uint8_t buf[CM__WIRE_MAX_MSG + 1]; /* +1: an oversized record shows as too long */
};

/* Closes the fds of a wait's peek nobody read. Caller holds the lock (or
 * is the last user). */
static void drop_held(struct cm__pending *p)
{
    if (p != NULL && p->held) {
        for (uint32_t i = 0; i < p->held_rx.nfds; i++)
            close(p->fds[i]);
        p->held = 0;
    }
}

static void channel_destroy(struct cm__hobj *obj)
{
    struct cm__channel *c = (struct cm__channel *)obj;
    drop_held(c->pending);
    free(c->pending);
    pthread_mutex_destroy(&c->lock);
    if (c->fd >= 0) {
        cm__fd_disown(c->fd);
        close(c->fd);
    }
    free(c);
}

/* The last handle is closed while a woken waiter or a call in progress still
 * holds a reference: the peer must see PEER_CLOSED now, not when that thread
 * gets round to dropping it. shutdown() ends the connection for the peer and
 * wakes our own pollers, but it acts on the socket, which after a fork may
 * also be the other process's endpoint; then the socket closes as usual when
 * the woken holders drop their references (docs/fork.md). A failed shutdown
 * leaves that same ordinary path. */
static void channel_last_handle(struct cm__hobj *obj)
{
    struct cm__channel *c = (struct cm__channel *)obj;
    if (!cm__hobj_forked(obj))
        (void)shutdown(c->fd, SHUT_RDWR);
}

/* In a forked child: a parent thread may have held the read lock at the
 * fork; it will never release it here. */
static void channel_after_fork_child(struct cm__hobj *obj)
{
    struct cm__channel *c = (struct cm__channel *)obj;
    pthread_mutex_init(&c->lock, NULL);
    drop_held(c->pending); /* the child's copies of the parent's fds */
}

cm_status_t cm__channel_wrap(int fd, struct cm__channel **out)
{
    /* Marked owned (host/fd_owned.h); already marked only for an fd that
     * cm_host_channel_from_fd claimed just before. */
    if (fd >= 0 && cm__fd_own(fd) < 0)
        return CM_ERR_NO_MEMORY;
    struct cm__channel *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        cm__fd_disown(fd);
        return CM_ERR_NO_MEMORY;
    }
    cm__hobj_init(&c->hdr, CM_OBJ_CHANNEL, channel_destroy);
    c->hdr.on_last_handle = channel_last_handle;
    c->hdr.after_fork_child = channel_after_fork_child;
    c->hdr.signals = &cm__channel_signal_ops;
    c->fd = fd;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return CM_OK;
}

static cm_status_t channel_install(int fd, cm_rights_t rights, int shared, cm_handle_t *out)
{
    struct cm__channel *c;
    cm_status_t st = cm__channel_wrap(fd, &c);
    if (st != CM_OK)
        return st;
    atomic_store(&c->shared_socket, shared);
    st = cm__handle_install(&c->hdr, rights, out);
    if (st != CM_OK) {
        cm__fd_disown(fd);
        c->fd = -1; /* caller keeps the fd on failure */
        cm__hobj_put(&c->hdr);
    }
    return st;
}

cm_status_t cm__channel_install(int fd, cm_rights_t rights, cm_handle_t *out)
{
    return channel_install(fd, rights, 0, out);
}

cm_status_t cm__channel_install_shared(int fd, cm_rights_t rights, cm_handle_t *out)
{
    return channel_install(fd, rights, 1, out);
}

cm_status_t cm_channel_create(uint32_t options, cm_handle_t *end0, cm_handle_t *end1)
{
    CM__ENTRY();
    int sv[2];
    cm_status_t st;
    st = cm__channel_create_check(options, end0 != NULL, end1 != NULL);
    if (st != CM_OK)
        return st;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return cm__errno_detail("socketpair", errno);
    st = cm__channel_install(sv[0], CM_CHANNEL_DEFAULT_RIGHTS, end0);
    if (st != CM_OK)
        goto bad_both;
    st = cm__channel_install(sv[1], CM_CHANNEL_DEFAULT_RIGHTS, end1);
    if (st != CM_OK) {
        cm__handle_close(*end0); /* closes sv[0] */
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

/* Takes every listed handle out of the table (consuming it: the caller
 * validated the list with cm__channel_write_check_args, so every value is
 * listed once and none is the channel) and checks the rights each needs to
 * travel. On error every taken object is released. Returns BAD_HANDLE or
 * ACCESS_DENIED for the first listed value that fails (stage 2 of
 * docs/api.md). */
static cm_status_t take_handles(const cm_handle_t *handles, uint32_t n,
                                struct cm__hobj **objs, struct cm__wire_handle *descs)
{
    cm_status_t first = CM_OK;
    uint32_t taken = 0;
    for (uint32_t i = 0; i < n; i++) {
        cm_rights_t rights;
        struct cm__hobj *obj;
        cm_status_t st = cm__handle_take(handles[i], &obj, &rights);
        if (st == CM_OK) {
            objs[taken] = obj;
            descs[taken] = (struct cm__wire_handle){ obj->type, rights, cm__vmo_wire_size(obj) };
            taken++;
            if (!(rights & CM_RIGHT_TRANSFER))
                st = CM_ERR_ACCESS_DENIED;
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

/* The fd each object travels as (stage 3: can it cross, with these
 * rights?). A VMO whose content, size and seals are frozen goes as its own
 * fd: nothing the receiver can do to that shared file description changes
 * what our handle does. Any other VMO goes as a fresh description of its
 * own (cm__vmo_fd_for_peer), so that a receiver's F_SETFL (O_APPEND) cannot
 * reach a handle we kept. opened[i] is the fd opened for object i, or -1;
 * the caller closes them (close_opened) whatever this returns. */
struct outgoing {
    int fds[CM__WIRE_MAX_FDS];
    uint32_t nfds;
    struct cm__sbuf_wire meta[CM_CHANNEL_MAX_HANDLES];
    uint32_t nmeta;
};

static cm_status_t prepare_fds(struct cm__hobj **objs, const struct cm__wire_handle *descs,
                               uint32_t n, struct outgoing *out, int *opened)
{
    uint32_t need = 0;
    for (uint32_t i = 0; i < n; i++) {
        opened[i] = -1;
        need += cm__wire_fds_of(objs[i]->type);
    }
    /* Linux passes at most SCM_MAX_FD fds in one message (a consumer is
     * four): a local limit of the host, not the peer's fault. */
    if (need > CM__WIRE_MAX_FDS)
        return cm__detail_set(CM_ERR_NO_RESOURCES,
                              "the message needs %u fds, above Linux's SCM_MAX_FD (%u per "
                              "message; a consumer travels as four): send fewer handles",
                              need, (unsigned)CM__WIRE_MAX_FDS);
    out->nfds = out->nmeta = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (objs[i]->type == CM_OBJ_CHANNEL) {
            struct cm__channel *c = (struct cm__channel *)objs[i];
            /* The receiver holds the socket too, and a duplicate handle
             * may keep this object: its waits must not sleep in a peek. */
            atomic_store(&c->shared_socket, 1);
            out->fds[out->nfds++] = c->fd;
            continue;
        }
        if (objs[i]->type == CM_OBJ_SBUF_CONSUMER) {
            /* Moves it: its mappings go with this object, which the
             * caller drops after sending. */
            cm__sbuf_consumer_export(objs[i], &out->meta[out->nmeta++], &out->fds[out->nfds]);
            out->nfds += CM__WIRE_CONSUMER_FDS;
            continue;
        }
        struct cm__vmo *v = (struct cm__vmo *)objs[i];
        if (objs[i]->type == CM_OBJ_VMO && cm__vmo_frozen(v)) {
            out->fds[out->nfds++] = v->fd;
            continue;
        }
        if (objs[i]->type != CM_OBJ_VMO)
            return cm__detail_set(CM_ERR_UNSUPPORTED, /* listeners, pools, producers */
                                  "handles[%u] names a process-local object (type %u): only "
                                  "VMOs, channels and sbuf consumers travel", i,
                                  (unsigned)objs[i]->type);
        cm_status_t st = cm__vmo_fd_for_peer(objs[i], descs[i].rights, &opened[i]);
        if (st != CM_OK)
            return st;
        out->fds[out->nfds++] = opened[i];
    }
    return CM_OK;
}

static void close_opened(const int *opened, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (opened[i] >= 0)
            close(opened[i]);
}

cm_status_t cm__transfer_check(struct cm__hobj *obj, cm_rights_t rights)
{
    if (obj->type == CM_OBJ_CHANNEL || obj->type == CM_OBJ_SBUF_CONSUMER)
        return CM_OK;
    if (obj->type != CM_OBJ_VMO)
        return cm__detail_set(CM_ERR_UNSUPPORTED, /* listeners, pools: process-local */
                              "a process-local object (type %u) cannot be transferred: only "
                              "VMOs, channels and sbuf consumers travel", (unsigned)obj->type);
    struct cm__vmo *v = (struct cm__vmo *)obj;
    if (v->is_file) /* a window is (fd, offset, len): the offset is not the fd's */
        return cm__detail_set(CM_ERR_UNSUPPORTED,
                              "a file-window VMO (cm_vmo_create_from_file) cannot be "
                              "transferred: cm_vmo_snapshot it and send the snapshot");
    /* The peer reads the size from the file: a lazily sized one gets it
     * now, before anyone else can hold it (struct cm__vmo, size_state). */
    cm_status_t st = cm__vmo_size_file(v);
    if (st != CM_OK)
        return st;
    if (rights & CM_RIGHT_WRITE)
        return CM_OK; /* nothing dropped: nothing for Linux to enforce */
    int seals = fcntl(v->fd, F_GET_SEALS);
    if (seals < 0)
        return cm__detail_set(CM_ERR_INTERNAL, "fcntl(F_GET_SEALS) of a VMO failed: errno %d",
                              errno);
    /* The receiver can reopen any memfd read-write through /proc, whatever
     * the access mode of the fd it got: dropping WRITE is only real when a
     * seal already forbids writing. */
    if (!(rights & CM_RIGHT_WRITE) && !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
        return cm__detail_set(CM_ERR_UNSUPPORTED,
                              "a handle without WRITE to an unsealed VMO cannot be enforced "
                              "on Linux (the receiver could reopen it writable): seal the VMO "
                              "READONLY or IMMUTABLE before sending it without WRITE");
    return CM_OK;
}

/* Sends one record: header+descriptors, bytes, and the fds. */
static cm_status_t send_record(int sock, const void *bytes, uint32_t num_bytes,
                               const struct outgoing *o, const struct cm__wire_handle *descs,
                               uint32_t num_handles)
{
    uint8_t hdr[CM__WIRE_MAX_HDR];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * CM__WIRE_MAX_FDS)];
    } ctl;
    const int *send_fds = o->fds;
    uint32_t nfds = o->nfds;
    struct iovec iov[2] = {
        { hdr, cm__wire_encode(hdr, num_bytes, descs, num_handles, o->meta, o->nmeta) },
        { (void *)bytes, num_bytes },
    };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = num_bytes > 0 ? 2 : 1 };
    if (nfds > 0) {
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        memset(ctl.buf, 0, msg.msg_controllen); /* what is sent; padding included */
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        int *fds = (int *)(void *)CMSG_DATA(cm);
        memcpy(fds, send_fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return cm__detail_set(CM_ERR_SHOULD_WAIT, "the peer's receive queue is full "
                              "(socket buffer): wait for CM_SIGNAL_WRITABLE");
    return n < 0 ? cm__errno_detail("sendmsg", errno) : CM_OK;
}

/* Closes the listed handles a failed stage-1 check leaves to consume:
 * every value but the channel itself, the first CM_MAX_HANDLES at most (no
 * more can be live), as on the kernel target. */
static void consume_listed(cm_handle_t channel, const cm_handle_t *handles, uint32_t n)
{
    if (handles == NULL)
        return; /* nothing can be named */
    if (n > CM_MAX_HANDLES)
        n = CM_MAX_HANDLES;
    for (uint32_t i = 0; i < n; i++)
        if (handles[i] != channel)
            (void)cm__handle_close(handles[i]);
}

cm_status_t cm_channel_write(cm_handle_t channel, const void *bytes, uint32_t num_bytes,
                             const cm_handle_t *handles, uint32_t num_handles)
{
    CM__ENTRY();
    struct cm__hobj *objs[CM_CHANNEL_MAX_HANDLES];
    struct cm__wire_handle descs[CM_CHANNEL_MAX_HANDLES];
    int opened[CM_CHANNEL_MAX_HANDLES];
    struct outgoing out;
    struct cm__channel *c;

    /* Stage 1 (docs/api.md): the arguments alone, the same rule as the kernel. */
    cm_status_t st = cm__channel_write_check_args(channel, bytes != NULL, num_bytes, handles,
                                                  num_handles);
    if (st != CM_OK) {
        consume_listed(channel, handles, num_handles);
        return st;
    }
    /* Consume first: whatever happens next, the listed handles are gone. */
    cm_status_t taken = take_handles(handles, num_handles, objs, descs);
    st = get_channel(channel, CM_RIGHT_WRITE, &c);
    if (st != CM_OK)
        goto release;
    st = taken;
    if (st == CM_OK) {
        st = prepare_fds(objs, descs, num_handles, &out, opened);
        if (st == CM_OK)
            st = send_record(c->fd, bytes, num_bytes, &out, descs, num_handles);
        /* Sent or not: the peer holds its own references now. */
        close_opened(opened, num_handles);
    }
    cm__hobj_put(&c->hdr);
release:
    if (taken == CM_OK)
        for (uint32_t i = 0; i < num_handles; i++)
            cm__hobj_put(objs[i]);
    return st;
}

/* ---- read ----
 *
 * A read peeks the head record (MSG_PEEK: it stays queued) with a control
 * buffer for every fd it may carry, judges it from that copy, turns the fds
 * the peek installed into handles, and only then takes the record off the
 * queue with a recv that has no control buffer (the kernel releases its own
 * references to the fds). Hence:
 *  - BUFFER_TOO_SMALL leaves the message in the socket, not in the library:
 *    it goes with the endpoint if the endpoint is transferred;
 *  - a local shortage is NO_RESOURCES (fd slots: the peek could not install
 *    every fd; handle slots) or NO_MEMORY and the message stays queued. No fd
 *    slot is reserved by guesswork: the peek itself proves the fds fit, so
 *    no other thread can take the slots in between;
 *  - only a record that is wrong in itself is taken off and reported PROTOCOL.
 * System calls: a read that delivers makes 2 (peek, take) plus the checks
 * of each fd it carries; a read of an empty queue makes 2 (peek, and
 * getsockopt: see peek_off_reset).
 *
 * The socket may be shared with a process that kept a dup of a transferred
 * endpoint. Nothing here relies on socket state such a process can set: a
 * peek offset is detected and undone, control messages nobody asked for are
 * ignored, every call uses MSG_DONTWAIT (docs/channel.md: what it can still
 * do). */

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04     /* Linux 6.5 */
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76    /* Linux 6.5 */
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83   /* Linux 6.16 */
#endif

/* Room for control messages the library does not ask for (credentials, a
 * pidfd, timestamps, a security label), next to the fds of a full message.
 * It also holds more fds than SCM_MAX_FD (253): a peer that sends too many
 * fds shows as more than CM__WIRE_MAX_FDS, never as MSG_CTRUNC. */
#define CM__RX_FOREIGN_ROOM 1024

union rx_ctl {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * CM__WIRE_MAX_FDS) + CM__RX_FOREIGN_ROOM];
};

/* The arguments of cm_channel_read. */
struct read_req {
    void *bytes;
    uint32_t bytes_cap;
    uint32_t *actual_bytes;
    cm_handle_t *handles;
    uint32_t handles_cap;
    uint32_t *actual_handles;
};

static void close_fds(const int *fds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        close(fds[i]);
}

/* Is fd really the kind of object its descriptor claims? A VMO's facts
 * are kept in *facts for its admission (no second read). */
/* Facts of a consumer's socket fd (core/sbuf_admit.h). */
static void sock_gather(int fd, struct cm__sbuf_sock_facts *f)
{
    struct stat sb;
    int v;
    socklen_t len = sizeof(v);
    memset(f, 0, sizeof(*f));
    if (fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode))
        return;
    f->is_sock = 1;
    f->unix_domain = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == AF_UNIX;
    len = sizeof(v);
    f->seqpacket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_SEQPACKET;
    len = sizeof(v);
    f->listening = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0 || v != 0;
    struct sockaddr_un peer;
    socklen_t plen = sizeof(peer);
    f->connected = getpeername(fd, (struct sockaddr *)&peer, &plen) == 0;
}

/* A consumer's four fds and its metadata, judged by core/sbuf_admit.c. */
static int consumer_matches(struct cm__pending *p, uint32_t i, uint32_t k)
{
    const int *fds = &p->fds[p->first_fd[i]];
    struct cm__sbuf_admit_facts f;
    struct stat sb;
    memcpy(&p->meta[i], p->view.consumers + (size_t)k * sizeof(struct cm__sbuf_wire),
           sizeof(struct cm__sbuf_wire));
    cm__vmo_gather(fds[0], &f.data, &sb, 0);
    cm__vmo_gather(fds[1], &f.prod, &sb, 0);
    cm__vmo_gather(fds[2], &f.cons, &sb, 0);
    sock_gather(fds[3], &f.sock);
    return cm__sbuf_admit_decide(&p->meta[i], &f, p->view.handles[i].rights,
                                 &p->verdict[i]) == CM_OK;
}

static int fd_matches(int fd, const struct cm__wire_handle *desc, struct stat *sbp,
                      struct cm__vmo_facts *facts)
{
    uint32_t type = desc->type;
    struct stat sb;
    /* Exactly what cm_host_vmo_from_fd admits (host/vmo.c), from the same
     * facts the admission will use. */
    if (type == CM_OBJ_VMO) {
        struct cm__vmo_verdict d;
        cm__vmo_gather(fd, facts, sbp, 1); /* the mode of a frozen one: at first use */
        return cm__vmo_admit_decide(facts, CM_RIGHTS_SAME, desc->size, &d) == CM_OK;
    }
    if (fstat(fd, &sb) != 0)
        return 0;
    *sbp = sb;
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

/* Sorts the control messages of one recvmsg: SCM_RIGHTS fds go to fds[]
 * (those beyond CM__WIRE_MAX_FDS are closed and mark the record bad),
 * anything else is foreign and ignored, and a foreign message that installed
 * an fd (SCM_PIDFD) has it closed. Never fails by itself: a peer, or a
 * holder of a dup of the socket (SO_PASSCRED and the like), decides what is
 * attached, and must not be able to make every later read fail. */
static void collect_control(struct msghdr *msg, int *fds, struct rx *rx)
{
    rx->ctrunc = (msg->msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
        int rights = cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS;
        int pidfd = cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_PIDFD;
        if (!rights)
            rx->foreign = 1;
        if ((!rights && !pidfd) || cm->cmsg_len < CMSG_LEN(0))
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(cm);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof(int));
            if (rights && rx->nfds < CM__WIRE_MAX_FDS) {
                fds[rx->nfds++] = fd;
            } else {
                close(fd);
                rx->extra_fds |= rights;
            }
        }
    }
}

/* recvmsg, retried on EINTR, and once on ECONNRESET: a peer that closed
 * with messages of ours unread leaves that error pending on the socket,
 * reported once and before the records still queued for us. */
static ssize_t recvmsg_retry(int fd, struct msghdr *msg, int flags)
{
    int reset = 0;
    ssize_t n;
    do
        n = recvmsg(fd, msg, flags);
    while (n < 0 && (errno == EINTR || (errno == ECONNRESET && !reset++)));
    return n;
}

/* Peeks the head record into p->buf and installs its fds into p->fds; the
 * record stays queued. Returns its full length, or -1 with errno set. */
static ssize_t rx_peek_flags(int fd, struct cm__pending *p, struct rx *rx, int flags)
{
    union rx_ctl ctl;
    struct iovec iov = { p->buf, sizeof(p->buf) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    *rx = (struct rx){ 0 };
    ssize_t n = recvmsg_retry(fd, &msg, MSG_PEEK | MSG_TRUNC | MSG_CMSG_CLOEXEC | flags);
    if (n >= 0) {
        collect_control(&msg, p->fds, rx);
        rx->len = (size_t)n;
    }
    return n;
}

static ssize_t rx_peek(int fd, struct cm__pending *p, struct rx *rx)
{
    return rx_peek_flags(fd, p, rx, MSG_DONTWAIT);
}

/* Takes the head record off the queue without installing its fds: with no
 * control buffer the kernel releases them. Returns 1 if what was taken is
 * what was peeked (same length, same header, descriptors and first bytes).
 * It differs only when another holder of this socket took the peeked record
 * first or offset the peek (SO_PEEK_OFF). */
static int rx_take(int fd, const uint8_t *peeked, size_t len)
{
    uint8_t head[CM__WIRE_MAX_HDR];
    struct iovec iov = { head, sizeof(head) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n = recvmsg_retry(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
    size_t cmp = len < sizeof(head) ? len : sizeof(head);
    return n >= 0 && (size_t)n == len && memcmp(head, peeked, cmp) == 0;
}

/* Turns the peek offset off. Linux takes the socket's reader lock
 * interruptibly here, so a signal can fail the call with EINTR. */
static int peek_off_clear(int fd)
{
    int v = -1, r;
    do
        r = setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v));
    while (r != 0 && errno == EINTR);
    return r;
}

/* A peek starts at the socket's peek offset when one is set (SO_PEEK_OFF,
 * off by default; on, it also moves with every peek): a holder of a dup of
 * this socket can set it so that a peek shows the middle of a record or a
 * later one. Turns it off; returns 1 if it was on, i.e. if the last peek
 * may not have shown the head record. Called whenever a read does not
 * deliver, so an offset costs nothing on the delivering path. */
static int peek_off_reset(int fd)
{
    int v = -1;
    socklen_t len = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, &len) != 0 || v < 0)
        return 0;
    return peek_off_clear(fd) == 0;
}

/* Turns off the options that attach control messages the library does not
 * use. Called once they have been seen: they are harmless (collect_control
 * ignores them) but cost control buffer room and, for a pidfd, an fd slot
 * on every read. Results are not checked on purpose: an option this kernel
 * lacks (ENOPROTOOPT) is an option nobody set. */
static void rx_quiet(int fd)
{
    static const int opts[] = { SO_PASSCRED, SO_PASSSEC, SO_PASSPIDFD,
                                SO_TIMESTAMP_OLD, SO_TIMESTAMPING_OLD };
    int off = 0;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        (void)setsockopt(fd, SOL_SOCKET, opts[i], &off, sizeof(off));
}

/* recvmsg returns 0 both at the end of the stream and for an empty record,
 * which a raw peer can send (a capmem record never is empty). Returns 1 at
 * the end of the stream, 0 if the head is an empty record, -1 if something
 * else is at the head now (peek again). */
static int rx_at_end(int fd, struct cm__pending *p)
{
    struct pollfd pfd = { fd, POLLRDHUP, 0 };
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLRDHUP | POLLHUP)))
        return 0; /* nothing shut down: the 0 came from a record */
    /* Shut down (the peer closed or did shutdown(SHUT_WR)): records can no
     * longer be added, and a peek with SO_PASSCRED on shows credentials
     * for a record, nothing at the end. */
    int on = 1, off = 0;
    struct rx rx;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0)
        return 1;
    ssize_t n = rx_peek(fd, p, &rx);
    (void)setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &off, sizeof(off)); /* our default */
    if (n < 0)
        return 1;
    close_fds(p->fds, rx.nfds);
    if (n > 0)
        return -1;
    return rx.foreign || rx.nfds > 0 || rx.extra_fds || rx.ctrunc ? 0 : 1;
}

/* Judges a peeked record whose fds the peek installed. Returns OK (p->view
 * decoded, each fd what its descriptor says), BUFFER_TOO_SMALL or
 * NO_RESOURCES (local: the record may be fine, it stays queued), or
 * PROTOCOL (the record itself is wrong). Sets *actual_* once the header is
 * known. Closes nothing. */
static cm_status_t rx_judge(struct cm__pending *p, const struct rx *rx,
                            const struct read_req *r)
{
    if (rx->len > CM__WIRE_MAX_MSG)
        return CM_ERR_PROTOCOL;
    cm_status_t st = cm__wire_parse(p->buf, rx->len, &p->view);
    if (st != CM_OK)
        return st;
    uint32_t nh = p->view.num_handles;
    if (r->actual_bytes != NULL)
        *r->actual_bytes = p->view.num_bytes;
    if (r->actual_handles != NULL)
        *r->actual_handles = nh;
    st = cm__channel_read_check_fit(r->bytes_cap, r->handles_cap, p->view.num_bytes, nh);
    if (st != CM_OK)
        return st;
    /* Control data cut short with no more fds than the header names: the
     * kernel could not install them all (no free slot under RLIMIT_NOFILE)
     * or foreign control messages took the room. Ours, not the peer's: a
     * peer that sends too many fds shows as extra_fds instead. */
    if (rx->ctrunc && !rx->extra_fds && rx->nfds <= p->view.num_fds)
        return CM_ERR_NO_RESOURCES;
    if (rx->extra_fds || rx->nfds != p->view.num_fds)
        return CM_ERR_PROTOCOL;
    /* Installing can still fail (another thread), but then too before the
     * record is taken; this only spares the checks below. */
    if (nh > 0 && cm_host_live_handles() + nh > CM_MAX_HANDLES)
        return CM_ERR_NO_RESOURCES;
    for (uint32_t i = 0, f = 0, k = 0; i < nh; i++) {
        p->first_fd[i] = f;
        f += cm__wire_fds_of(p->view.handles[i].type);
        if (p->view.handles[i].type == CM_OBJ_SBUF_CONSUMER) {
            if (!consumer_matches(p, i, k++))
                return CM_ERR_PROTOCOL;
        } else if (!fd_matches(p->fds[p->first_fd[i]], &p->view.handles[i], &p->sb[i],
                               &p->facts[i])) {
            return CM_ERR_PROTOCOL;
        }
    }
    return CM_OK;
}

/* Buffer sizes a sender can cut before sending an endpoint: SO_SNDBUF at
 * its minimum (about 4.5 KiB) fails every larger record with EMSGSIZE, a
 * tiny SO_RCVBUF starves what arrives. Each is raised back to room for two
 * of the largest records (Linux doubles the value and caps it at the
 * wmem_max/rmem_max sysctls); a larger one is left alone. */
static cm_status_t endpoint_buffers(int fd)
{
    static const int opts[] = { SO_SNDBUF, SO_RCVBUF };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        int cur = 0, want = (int)CM__WIRE_MAX_MSG;
        socklen_t len = sizeof(cur);
        if (getsockopt(fd, SOL_SOCKET, opts[i], &cur, &len) != 0)
            return CM_ERR_INTERNAL;
        if (cur < 2 * want && setsockopt(fd, SOL_SOCKET, opts[i], &want, sizeof(want)) != 0)
            return CM_ERR_INTERNAL;
    }
    return CM_OK;
}

/* The sender of an endpoint may keep a dup of it: the open file description
 * and the socket are shared, so whatever it set before sending is still set.
 * Undoes what would change what this process sees or suffers: O_ASYNC with
 * an owner makes every arriving message signal the owner (SIGIO kills by
 * default; F_SETSIG picks any signal), a peek offset shifts what a read
 * peeks, SO_PASSRIGHTS off makes every write of handles to us fail, a socket
 * filter drops what arrives, small buffers refuse large records. What the
 * holder of a dup sets after the transfer is out of reach: docs/channel.md.
 * Errors: PROTOCOL (a filter locked in place); INTERNAL. */
static cm_status_t endpoint_disarm(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return CM_ERR_INTERNAL;
    if ((fl & O_ASYNC) &&
        (fcntl(fd, F_SETFL, fl & ~O_ASYNC) != 0 || fcntl(fd, F_SETOWN, 0) != 0 ||
         fcntl(fd, F_SETSIG, 0) != 0))
        return CM_ERR_INTERNAL;
    if (peek_off_clear(fd) != 0)
        return CM_ERR_INTERNAL;
    int v = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &v, sizeof(v)) != 0 && errno != ENOPROTOOPT)
        return CM_ERR_INTERNAL;
    /* A socket filter drops arriving records silently (their writer is
     * told they were sent): removed. One locked in place (SO_LOCK_FILTER)
     * cannot be, and leaves no usable channel: the peer's PROTOCOL. */
    v = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof(v)) != 0 && errno != ENOENT)
        return errno == EPERM ? CM_ERR_PROTOCOL : CM_ERR_INTERNAL;
    return endpoint_buffers(fd);
}

/* Turns each received fd into a handle. On failure closes everything that
 * arrived (installed handles and raw fds alike). */
/* A sender that keeps a dup of a consumer's socket could have armed
 * O_ASYNC with us as owner: every wake-up byte would signal this process
 * (SIGIO kills by default). Undone, as for a channel end. */
static cm_status_t consumer_sock_disarm(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return CM_ERR_INTERNAL;
    if ((fl & O_ASYNC) &&
        (fcntl(fd, F_SETFL, fl & ~O_ASYNC) != 0 || fcntl(fd, F_SETOWN, 0) != 0 ||
         fcntl(fd, F_SETSIG, 0) != 0))
        return CM_ERR_INTERNAL;
    return CM_OK;
}

/* Turns each received fd (a consumer's four) into a handle. On failure
 * closes everything that arrived (installed handles and raw fds alike). */
static cm_status_t install_received(struct cm__pending *p, cm_handle_t *out)
{
    cm_status_t st = CM_OK;
    uint32_t i;
    for (i = 0; i < p->view.num_handles && st == CM_OK; i++) {
        const struct cm__wire_handle *d = &p->view.handles[i];
        const int *fds = &p->fds[p->first_fd[i]];
        if (d->type == CM_OBJ_VMO) {
            st = cm__vmo_receive(fds[0], &p->facts[i], &p->sb[i], d->rights, d->size, &out[i]);
        } else if (d->type == CM_OBJ_SBUF_CONSUMER) {
            st = consumer_sock_disarm(fds[3]);
            if (st == CM_OK)
                st = cm__sbuf_consumer_receive(&p->meta[i], &p->verdict[i], fds, &out[i]);
        } else {
            st = endpoint_disarm(fds[0]);
            if (st == CM_OK)
                st = cm__channel_install_shared(fds[0], d->rights & CM_CHANNEL_DEFAULT_RIGHTS,
                                                &out[i]);
        }
    }
    if (st != CM_OK) {
        /* Handle i - 1 failed: its fds and every later one's are still raw. */
        for (uint32_t j = 0; j + 1 < i; j++)
            cm__handle_close(out[j]);
        uint32_t from = p->first_fd[i - 1];
        close_fds(p->fds + from, p->view.num_fds - from);
    }
    return st;
}

/* A read that did not deliver: was it the local process's shortage (the
 * record stays queued for a retry) rather than the record's fault? */
static int rx_is_local(cm_status_t st)
{
    return st == CM_ERR_BUFFER_TOO_SMALL || st == CM_ERR_NO_RESOURCES || st == CM_ERR_NO_MEMORY;
}

/* One read; the caller holds c->lock. The loop repeats only when state set
 * by another holder of the socket (a peek offset, options that attach
 * control messages) may have spoilt the peek: that state is undone first,
 * and after a few rounds the read gives up with what it saw. */
static cm_status_t read_locked(struct cm__channel *c, const struct read_req *r)
{
    struct cm__pending *p = c->pending;
    for (int round = 0;; round++) {
        int last = round >= 2;
        struct rx rx;
        if (round == 0 && p->held) {
            rx = p->held_rx; /* the wait's peek: buf and fds are its */
            p->held = 0;
        } else if (rx_peek(c->fd, p, &rx) < 0) {
            int err = errno;
            if (err == EAGAIN && !last && peek_off_reset(c->fd))
                continue;
            return err == ECONNRESET ? CM_ERR_PEER_CLOSED : cm__status_from_errno(err);
        }
        if (rx.foreign)
            rx_quiet(c->fd);
        if (rx.len == 0 && rx.nfds == 0 && !rx.extra_fds && !rx.foreign && !rx.ctrunc) {
            int end = rx_at_end(c->fd, p);
            if (end > 0)
                return CM_ERR_PEER_CLOSED;
            if (end < 0 && !last)
                continue;
        }
        cm_status_t st = rx_judge(p, &rx, r);
        if (st == CM_OK) {
            st = install_received(p, r->handles); /* closes everything on failure */
            if (st == CM_OK) {
                if (rx_take(c->fd, p->buf, rx.len)) {
                    if (p->view.num_bytes > 0)
                        memcpy(r->bytes, p->view.bytes, p->view.num_bytes);
                    return CM_OK;
                }
                /* Another holder of the socket disturbed the queue: what
                 * was taken is not what was checked. Deliver neither. */
                for (uint32_t i = 0; i < p->view.num_handles; i++)
                    cm__handle_close(r->handles[i]);
                (void)peek_off_reset(c->fd);
                return CM_ERR_PROTOCOL;
            }
        } else {
            close_fds(p->fds, rx.nfds);
        }
        /* Not delivered. Before blaming the record, or keeping it, make
         * sure the peek showed the head record. */
        if (!last && peek_off_reset(c->fd))
            continue;
        if (st == CM_ERR_NO_RESOURCES && rx.ctrunc && rx.foreign && !last)
            continue; /* rx_quiet freed the room foreign messages took */
        if (!rx_is_local(st))
            (void)rx_take(c->fd, p->buf, rx.len); /* the record's own fault: drop it */
        return st;
    }
}

/* Allocates the endpoint's peek buffer on first use. Caller holds c->lock. */
static cm_status_t pending_buffer(struct cm__channel *c)
{
    if (c->pending == NULL && (c->pending = malloc(sizeof(*c->pending))) != NULL)
        c->pending->held = 0;
    return c->pending == NULL ? CM_ERR_NO_MEMORY : CM_OK;
}

/* After a hang-up: OK while a record is still queued (even a malformed one,
 * which the next read rejects without blocking), PEER_CLOSED only at the
 * real end of the stream. A plain peek cannot tell an empty record from the
 * end (both read 0), and a peer that closed with our messages unread leaves
 * ECONNRESET pending once before the records still queued for us. */
static cm_status_t hung_up_status(struct cm__channel *c)
{
    pthread_mutex_lock(&c->lock);
    cm_status_t st = pending_buffer(c);
    if (st == CM_OK)
        drop_held(c->pending); /* rx_at_end peeks into the buffer */
    for (int reset = 0; st == CM_OK;) {
        char b;
        ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || (errno == ECONNRESET && !reset++)))
            continue;
        if (n > 0)
            break;
        if (n < 0) {
            st = errno == EAGAIN ? CM_OK : CM_ERR_PEER_CLOSED;
            break;
        }
        int end = rx_at_end(c->fd, c->pending);
        if (end >= 0) {
            st = end == 1 ? CM_ERR_PEER_CLOSED : CM_OK;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}

cm_status_t cm_channel_read(cm_handle_t channel, void *bytes, uint32_t bytes_cap,
                            uint32_t *actual_bytes, cm_handle_t *handles,
                            uint32_t handles_cap, uint32_t *actual_handles)
{
    CM__ENTRY();
    struct cm__channel *c;
    struct read_req r = { bytes, bytes_cap, actual_bytes, handles, handles_cap, actual_handles };
    cm_status_t st = cm__channel_read_check_args(bytes != NULL, bytes_cap, handles != NULL,
                                                 handles_cap);
    if (st != CM_OK)
        return st;
    st = get_channel(channel, CM_RIGHT_READ, &c);
    if (st != CM_OK)
        return st;
    pthread_mutex_lock(&c->lock);
    st = pending_buffer(c);
    if (st == CM_OK)
        st = read_locked(c, &r);
    pthread_mutex_unlock(&c->lock);
    cm__hobj_put(&c->hdr);
    return st;
}

/* ---- signals (include/capmem/object.h) ---- */

/* Room for one more message: a send blocks only once the bytes this socket
 * has queued at its peer (charged to its send buffer until read) reach
 * SO_SNDBUF, which is what SIOCOUTQ and SO_SNDBUF measure for AF_UNIX. */
static cm_status_t send_room(int fd, int *room)
{
    int outq = 0, sndbuf = 0;
    socklen_t len = sizeof(sndbuf);
    if (ioctl(fd, SIOCOUTQ, &outq) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) < 0)
        return cm__errno_detail("ioctl(SIOCOUTQ)/getsockopt(SO_SNDBUF)", errno);
    *room = outq < sndbuf;
    return CM_OK;
}

/* READABLE after a hang-up follows hung_up_status, as cm_channel_read does:
 * only while a record is still queued. WRITABLE costs two more system
 * calls (send_room): read only when wanted. */
static cm_status_t channel_signals_wanted(struct cm__hobj *obj, cm_signals_t want,
                                          cm_signals_t *now)
{
    struct cm__channel *c = (struct cm__channel *)obj;
    struct pollfd p = { c->fd, POLLIN | POLLRDHUP, 0 };
    int r, room = 0;
    do
        r = poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return cm__errno_detail("poll", errno);
    int hup = (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
    int queued = (p.revents & POLLIN) != 0;
    cm_status_t st = CM_OK;
    if (hup) {
        st = hung_up_status(c);
        queued = st == CM_OK;
        if (st == CM_ERR_PEER_CLOSED)
            st = CM_OK;
    } else if (want & CM_SIGNAL_WRITABLE) {
        st = send_room(c->fd, &room);
    }
    if (st == CM_OK)
        *now = cm__channel_signals(queued, !hup, room);
    return st;
}

static cm_status_t channel_signals_get(struct cm__hobj *obj, cm_signals_t *now)
{
    return channel_signals_wanted(obj, CM_SIGNALS_ALL, now);
}

/* POLLIN with no hang-up, error or bad fd is a queued record and a live
 * peer: READABLE, not PEER_CLOSED. Anything else (a hang-up needs
 * hung_up_status; WRITABLE needs send_room) is read again. */
static int channel_from_revents(struct cm__hobj *obj, short revents, cm_signals_t want,
                                cm_signals_t *now)
{
    (void)obj;
    if ((want & CM_SIGNAL_WRITABLE) || !(revents & POLLIN) ||
        (revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)))
        return 0;
    *now = cm__channel_signals(1, 1, 0);
    return 1;
}

/* POLLOUT comes when a quarter of the send buffer is free (Linux's
 * unix_writable), so a wait for WRITABLE can wake later than the first
 * moment a write would succeed, never with less room than that. */
static short channel_poll_events(struct cm__hobj *obj, cm_signals_t waitfor, cm_signals_t now,
                                 int *fd)
{
    *fd = ((struct cm__channel *)obj)->fd;
    if (now & CM_SIGNAL_PEER_CLOSED)
        return 0; /* nothing arrives any more; the hang-up would poll forever */
    short ev = 0;
    if (waitfor & CM_SIGNAL_READABLE)
        ev |= POLLIN;
    if (waitfor & CM_SIGNAL_WRITABLE)
        ev |= POLLOUT;
    if (waitfor & CM_SIGNAL_PEER_CLOSED)
        ev |= POLLRDHUP;
    return ev;
}

static const struct cm__signal_ops cm__channel_signal_ops = {
    .get = channel_signals_get,
    .get_wanted = channel_signals_wanted,
    .from_revents = channel_from_revents,
    .poll_events = channel_poll_events,
};

/* After this many waits that had to poll, a wait peeks first again: a
 * receiver that blocked once and now finds records queued comes back to
 * the cheaper order. */
#define WAIT_PEEK_RETRY 16

/* May a wait sleep in its peek (a blocking recvmsg(MSG_PEEK): the wait
 * and the peek in one call)? Only without a deadline, and only in a
 * process that has one thread: nothing wakes a thread asleep in recvmsg
 * when another thread closes the handle it waits through (the contract of
 * cm_handle_close; docs/channel.md, "Waiting and closing"), and with one
 * thread there is no other thread to close it (a signal handler may not
 * call the library: nothing in it is async-signal-safe). glibc's
 * __libc_single_threaded is nonzero only while the process is known to
 * have one thread, and no thread can start while this one sleeps. And only
 * on a socket nobody outside the library holds: a holder of a dup (the
 * socket came from outside, was sent, or cm_host_object_fd gave it out)
 * can set SO_PEEK_OFF during the sleep, and the peek then skips every
 * record that comes (struct cm__channel, shared_socket); poll sees them. */
static int wait_in_peek(struct cm__channel *c, int64_t timeout_ns)
{
    return timeout_ns == CM_TIMEOUT_INFINITE && __libc_single_threaded &&
           !atomic_load(&c->shared_socket);
}

/* A wait's first look, for a handle that can read: a peek of the head
 * record, kept for the next read (p->held), which then makes no peek of
 * its own. Returns 1 if a record is queued (the wait is over), 0 to wait as
 * any object does (poll). The peek sleeps until a record comes where
 * wait_in_peek allows it; else it does not block, and is made first only
 * while the last waits found records queued (c->wait_polls == 0): a
 * receiver that sleeps would pay the peek on top of its poll. The end of
 * the stream (the peer gone) and errors are left to the ordinary wait,
 * which reports them in its own order. */
static int wait_peek(cm_handle_t channel, int64_t timeout_ns, cm_signals_t rp)
{
    struct cm__channel *c;
    int found = 0;
    if (cm__object_wait_one_check_args(rp, timeout_ns, 1) != CM_OK ||
        get_channel(channel, CM_RIGHT_READ, &c) != CM_OK)
        return 0;
    int sleep_here = wait_in_peek(c, timeout_ns);
    pthread_mutex_lock(&c->lock);
    if (!sleep_here && c->wait_polls > 0 && c->wait_polls++ < WAIT_PEEK_RETRY) {
        pthread_mutex_unlock(&c->lock);
        cm__hobj_put(&c->hdr);
        return 0;
    }
    if (pending_buffer(c) == CM_OK) {
        struct cm__pending *p = c->pending;
        struct rx rx;
        drop_held(p);
        ssize_t n = rx_peek_flags(c->fd, p, &rx, sleep_here ? 0 : MSG_DONTWAIT);
        found = n > 0;
        if (found && !rx.foreign && !rx.ctrunc && !rx.extra_fds) {
            p->held_rx = rx;
            p->held = 1;
        } else if (n >= 0) {
            close_fds(p->fds, rx.nfds); /* the read judges it afresh */
        }
    }
    c->wait_polls = found ? 0 : 1;
    pthread_mutex_unlock(&c->lock);
    cm__hobj_put(&c->hdr);
    return found;
}

/* A thin wrapper over cm_object_wait_one, after wait_peek. Errors first by
 * argument, then by handle: a bad timeout is INVALID_ARGS whatever the
 * handle. */
cm_status_t cm_channel_wait_readable(cm_handle_t channel, int64_t timeout_ns)
{
    CM__ENTRY();
    cm_signals_t observed;
    const cm_signals_t rp = CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED;
    if (wait_peek(channel, timeout_ns, rp))
        return CM_OK;
    cm_status_t st = cm__object_wait_one_typed(channel, CM_OBJ_CHANNEL, rp, rp, timeout_ns,
                                               &observed);
    if (st != CM_OK)
        return st;
    return (observed & CM_SIGNAL_READABLE) ? CM_OK : CM_ERR_PEER_CLOSED;
}

cm_status_t cm_host_channel_peer_cred(cm_handle_t channel, pid_t *pid, uid_t *uid, gid_t *gid)
{
    CM__ENTRY();
    struct cm__channel *c;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (pid == NULL || uid == NULL || gid == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_channel(channel, 0, &c);
    if (st != CM_OK)
        return st;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        st = cm__errno_detail("getsockopt", errno);
    } else {
        *pid = cred.pid;
        *uid = cred.uid;
        *gid = cred.gid;
    }
    cm__hobj_put(&c->hdr);
    return st;
}
