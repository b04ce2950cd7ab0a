/* SPDX-License-Identifier: MIT */
/* Connecting unrelated processes: a listener is a bound SOCK_SEQPACKET
 * AF_UNIX socket at a filesystem path; accept/connect yield ordinary
 * channels. Access control is the path's filesystem permissions, and the
 * kernel-recorded peer credentials (cm_host_channel_peer_cred). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <capmem/host.h>
#include "deadline.h"
#include "internal.h"
#include "channel_internal.h"
#include "status_detail.h"
#include "unix_addr.h"

/* Connections a listener queues before connect() says SHOULD_WAIT: enough
 * for a burst of clients between two accepts, small enough that a client
 * that is never accepted holds little. */
#define LISTEN_BACKLOG 16

struct listener {
    struct cm__hobj hdr;
    int fd;                         /* non-blocking: a lost accept race is EAGAIN */
    pid_t creator;                  /* only the creating process unlinks */
    dev_t dev;                      /* identity of the socket file we bound: */
    ino_t ino;                      /* never unlink a newer listener's file */
    atomic_int unlinked;            /* set once the path is ours no more (always, for
                                       an abstract name: no file) */
    /* The caller's name: a path (< sun_path) or "@" and up to sun_path - 1
     * abstract bytes, so one more than sun_path with the NUL. */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
};

/* Removes the socket file, once, if this process bound it and it is still
 * the file we bound. A failure (the directory became read-only) leaves a
 * stale socket file that connect reports as CONNECTION_REFUSED
 * (and CM_HOST_LISTEN_REPLACE_STALE replaces). */
static void listener_unlink(struct listener *l)
{
    struct stat sb;
    if (atomic_exchange(&l->unlinked, 1))
        return;
    if (l->creator == getpid() && lstat(l->path, &sb) == 0 && sb.st_dev == l->dev &&
        sb.st_ino == l->ino)
        (void)unlink(l->path);
}

static const struct cm__signal_ops listener_signal_ops;

static void listener_destroy(struct cm__hobj *obj)
{
    struct listener *l = (struct listener *)obj;
    if (l->fd >= 0)
        close(l->fd);
    listener_unlink(l);
    free(l);
}

/* Last handle closed while an accept still holds a reference: the path goes
 * now, and the socket stops taking connections (shutdown, unless a fork may
 * share it: see channel_last_handle). */
static void listener_last_handle(struct cm__hobj *obj)
{
    struct listener *l = (struct listener *)obj;
    listener_unlink(l);
    if (!cm__hobj_forked(obj))
        (void)shutdown(l->fd, SHUT_RDWR);
}

/* bind() creates the socket file or fails on any existing name (FIFO,
 * directory, device, regular file, symlink, dangling or not: EADDRINUSE), so
 * nothing at `path` is ever opened or followed. With REPLACE_STALE, a socket
 * file there that a connect probe finds nobody listening on is unlinked
 * first (host/unix_addr.c). Every capmem listen in the directory holds its
 * lock across bind and listen, so that such a probe never catches one of
 * them between the two. */
static cm_status_t bind_listen(struct listener *l, const struct cm__unix_addr *a,
                               uint32_t options)
{
    int lock = a->abstract ? -1 : cm__unix_dir_lock(a->sa.sun_path);
    cm_status_t st = CM_OK;
    int r = bind(l->fd, (const struct sockaddr *)&a->sa, a->len);
    if (r != 0 && errno == EADDRINUSE && (options & CM_HOST_LISTEN_REPLACE_STALE) &&
        !a->abstract) {
        st = cm__unix_replace_stale(a);
        if (st == CM_OK)
            r = bind(l->fd, (const struct sockaddr *)&a->sa, a->len);
    }
    if (st == CM_OK && r != 0) {
        int e = errno;
        st = cm__status_from_errno(e);
        if (e == EADDRINUSE)
            cm__detail_set(st, a->abstract ? "bind(\"%s\"): abstract name in use by a live socket"
                                           : "bind(\"%s\"): the name exists (a stale socket file "
                                             "of a dead listener? see CM_HOST_LISTEN_REPLACE_STALE)",
                           l->path);
        else
            cm__detail_set(st, "bind(\"%s\"): %s (errno %d)", l->path, strerror(e), e);
    }
    if (st == CM_OK && !a->abstract) {
        struct stat sb;
        if (lstat(a->sa.sun_path, &sb) != 0) { /* removed by someone else already */
            st = cm__detail_set(cm__status_from_errno(errno), "lstat(\"%s\") after bind: %s",
                                l->path, strerror(errno));
        } else {
            l->dev = sb.st_dev;
            l->ino = sb.st_ino;
            atomic_store(&l->unlinked, 0);
        }
    }
    if (st == CM_OK && listen(l->fd, LISTEN_BACKLOG) != 0)
        st = cm__detail_set(cm__status_from_errno(errno), "listen(\"%s\"): %s", l->path,
                            strerror(errno));
    cm__unix_dir_unlock(lock);
    return st;
}

cm_status_t cm_host_listen_opts(const char *path, uint32_t options, cm_handle_t *out)
{
    CM__ENTRY();
    struct cm__unix_addr a;
    cm_status_t st;
    if (out == NULL)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "cm_host_listen: listener is NULL");
    if (options & ~CM_HOST_LISTEN_OPTIONS_ALL)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "cm_host_listen_opts: unknown option bits "
                              "0x%x", options & ~CM_HOST_LISTEN_OPTIONS_ALL);
    if ((st = cm__unix_addr("cm_host_listen", path, &a)) != CM_OK)
        return st;
    struct listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&l->hdr, CM_OBJ_LISTENER, listener_destroy);
    l->hdr.signals = &listener_signal_ops;
    l->hdr.on_last_handle = listener_last_handle;
    l->creator = getpid();
    atomic_init(&l->unlinked, 1); /* nothing of ours at path yet */
    strcpy(l->path, path);        /* fits: cm__unix_addr checked the length */
    l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (l->fd < 0)
        st = cm__detail_set(cm__status_from_errno(errno), "socket(AF_UNIX, SOCK_SEQPACKET): %s",
                            strerror(errno));
    else
        st = bind_listen(l, &a, options);
    if (st == CM_OK)
        st = cm__handle_install(&l->hdr, CM_RIGHT_READ, out);
    if (st != CM_OK)
        cm__hobj_put(&l->hdr); /* closes the socket and unlinks what we bound */
    return st;
}

cm_status_t cm_host_listen(const char *path, cm_handle_t *out)
{
    CM__ENTRY();
    return cm_host_listen_opts(path, 0, out);
}

int cm__listener_fd(struct cm__hobj *obj)
{
    return ((struct listener *)obj)->fd;
}

/* Takes one queued connection. SHOULD_WAIT when there is none (another
 * thread took it, or its client gave up). Accepted sockets do not inherit
 * O_NONBLOCK (accept4(2)): blocking, like socketpair ends. */
static cm_status_t accept_one(struct listener *l, cm_handle_t *channel)
{
    int fd;
    do
        fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED
                   ? CM_ERR_SHOULD_WAIT
                   : cm__status_from_errno(errno);
    cm_status_t st = cm__channel_install(fd, CM_CHANNEL_DEFAULT_RIGHTS, channel);
    if (st != CM_OK)
        close(fd);
    return st;
}

/* ---- signals (include/capmem/object.h): READABLE = a connection is
 * pending, so cm_host_accept would not block. ---- */

static short listener_revents(struct listener *l)
{
    struct pollfd p = { l->fd, POLLIN, 0 };
    int r;
    do
        r = poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    return r > 0 ? p.revents : 0;
}

static cm_status_t listener_signals_get(struct cm__hobj *obj, cm_signals_t *now)
{
    *now = (listener_revents((struct listener *)obj) & POLLIN) ? CM_SIGNAL_READABLE : 0;
    return CM_OK;
}

/* A listener asserts nothing but READABLE, and a shut-down socket (after
 * the last close) reports a hang-up forever: no events to wait for then. */
static short listener_poll_events(struct cm__hobj *obj, cm_signals_t waitfor, cm_signals_t now,
                                  int *fd)
{
    struct listener *l = (struct listener *)obj;
    (void)now;
    *fd = l->fd;
    if (!(waitfor & CM_SIGNAL_READABLE) || (listener_revents(l) & (POLLHUP | POLLERR)))
        return 0;
    return POLLIN;
}

static const struct cm__signal_ops listener_signal_ops = {
    .get = listener_signals_get,
    .poll_events = listener_poll_events,
};

cm_status_t cm_host_accept(cm_handle_t listener, int64_t timeout_ns, cm_handle_t *channel)
{
    CM__ENTRY();
    struct cm__hobj *obj;
    uint64_t deadline;
    if (channel == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__deadline_from_timeout(cm__now_ns(), timeout_ns, &deadline);
    if (st != CM_OK)
        return st;
    st = cm__handle_get(listener, CM_OBJ_LISTENER, 0, &obj, NULL);
    if (st != CM_OK)
        return st;
    struct listener *l = (struct listener *)obj;
    do {
        short rev = 0;
        st = cm__handle_wait_fd(listener, obj, l->fd, POLLIN, deadline, &rev);
        if (st == CM_OK)
            st = accept_one(l, channel);
        /* A lost race waits again for the rest of the deadline. A socket
         * that reports a hang-up stays "ready" forever: waiting again would
         * spin. (Only a shutdown does that, which runs after the last close,
         * and that close has already canceled this wait.) */
        if (st == CM_ERR_SHOULD_WAIT && (rev & (POLLHUP | POLLERR)))
            st = CM_ERR_IO;
    } while (st == CM_ERR_SHOULD_WAIT);
    cm__hobj_put(obj);
    return st;
}

/* Why a connect was refused. ECONNREFUSED covers a socket file nobody
 * listens on (CONNECTION_REFUSED) and a name that is no socket at all
 * (FIFO, device, directory, regular file: NOT_FOUND, no listener can ever
 * be there); stat tells them apart without opening anything. */
static cm_status_t refused(const struct cm__unix_addr *a, const char *path)
{
    struct stat sb;
    if (!a->abstract && (stat(a->sa.sun_path, &sb) != 0 || !S_ISSOCK(sb.st_mode)))
        return cm__detail_set(CM_ERR_NOT_FOUND, "connect(\"%s\"): not a socket", path);
    return cm__detail_set(CM_ERR_CONNECTION_REFUSED, "connect(\"%s\"): %s (errno %d): nobody "
                          "listens there%s", path, strerror(ECONNREFUSED), ECONNREFUSED,
                          a->abstract ? "" : "; a listener that died leaves its socket file: "
                          "listen with CM_HOST_LISTEN_REPLACE_STALE");
}

/* connect() never opens the file at path: a FIFO, device, directory or
 * regular file there is ECONNREFUSED, a socket of another type EPROTOTYPE.
 * The socket is non-blocking while connecting, so that a listener whose
 * queue is full gives SHOULD_WAIT instead of blocking the caller for as
 * long as nobody accepts. */
cm_status_t cm_host_connect(const char *path, cm_handle_t *channel)
{
    CM__ENTRY();
    struct cm__unix_addr a;
    cm_status_t st;
    if (channel == NULL)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "cm_host_connect: channel is NULL");
    if ((st = cm__unix_addr("cm_host_connect", path, &a)) != CM_OK)
        return st;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cm__detail_set(cm__status_from_errno(errno), "socket(AF_UNIX, SOCK_SEQPACKET): %s",
                              strerror(errno));
    if (connect(fd, (struct sockaddr *)&a.sa, a.len) != 0) {
        int e = errno;
        if (e == ECONNREFUSED)
            st = refused(&a, path);
        else if (e == EAGAIN)
            st = cm__detail_set(CM_ERR_SHOULD_WAIT, "connect(\"%s\"): the listener's queue of "
                                "%s connections is full: retry after it accepts", path,
                                "unaccepted");
        else if (e == EPROTOTYPE)
            st = cm__detail_set(CM_ERR_NOT_FOUND, "connect(\"%s\"): a socket of another type "
                                "(not SOCK_SEQPACKET) is bound there", path);
        else
            st = cm__detail_set(cm__status_from_errno(e), "connect(\"%s\"): %s (errno %d)", path,
                                strerror(e), e);
        goto bad;
    }
    /* Back to blocking, like every other channel fd (calls choose per call
     * with MSG_DONTWAIT). */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        st = cm__detail_set(cm__status_from_errno(errno), "fcntl(F_SETFL): %s", strerror(errno));
        goto bad;
    }
    st = cm__channel_install(fd, CM_CHANNEL_DEFAULT_RIGHTS, channel);
    if (st != CM_OK)
        goto bad;
    return CM_OK;
bad:
    close(fd);
    return st;
}
