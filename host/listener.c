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
#include "internal.h"
#include "channel_internal.h"

struct listener {
    struct cm__hobj hdr;
    int fd;
    pid_t creator;                  /* only the creating process unlinks */
    dev_t dev;                      /* identity of the socket file we bound: */
    ino_t ino;                      /* never unlink a newer listener's file */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void listener_destroy(struct cm__hobj *obj)
{
    struct listener *l = (struct listener *)obj;
    struct stat sb;
    close(l->fd);
    if (l->creator == getpid() && lstat(l->path, &sb) == 0 && sb.st_dev == l->dev &&
        sb.st_ino == l->ino)
        unlink(l->path);
    free(l);
}

static cm_status_t make_addr(const char *path, struct sockaddr_un *sa)
{
    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa->sun_path))
        return CM_ERR_INVALID_ARGS;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    strcpy(sa->sun_path, path);
    return CM_OK;
}

cm_status_t cm_host_listen(const char *path, cm_handle_t *out)
{
    struct sockaddr_un sa;
    struct listener *l;
    cm_status_t st = make_addr(path, &sa);
    if (st != CM_OK || out == NULL)
        return CM_ERR_INVALID_ARGS;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cm__status_from_errno(errno);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
        st = cm__status_from_errno(errno);
        close(fd);
        return st;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        st = CM_ERR_NO_MEMORY;
        goto bad;
    }
    cm__hobj_init(&l->hdr, CM_OBJ_LISTENER, listener_destroy);
    l->fd = fd;
    l->creator = getpid();
    strcpy(l->path, path);
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        l->dev = sb.st_dev;
        l->ino = sb.st_ino;
    }
    st = cm__handle_install(&l->hdr, CM_RIGHT_READ, out);
    if (st != CM_OK)
        cm__hobj_put(&l->hdr); /* closes and unlinks */
    return st;
bad:
    close(fd);
    unlink(path);
    return st;
}

cm_status_t cm_host_accept(cm_handle_t listener, int64_t timeout_ns, cm_handle_t *channel)
{
    struct cm__hobj *obj;
    if (channel == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__handle_get(listener, CM_OBJ_LISTENER, 0, &obj, NULL);
    if (st != CM_OK)
        return st;
    struct listener *l = (struct listener *)obj;
    int rev = cm__poll_fd(l->fd, POLLIN, timeout_ns);
    if (rev < 0) {
        st = cm__status_from_errno(errno);
    } else if (rev == 0) {
        st = CM_ERR_TIMED_OUT;
    } else {
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            st = errno == EAGAIN ? CM_ERR_TIMED_OUT : cm__status_from_errno(errno);
        } else {
            /* Accepted sockets inherit nothing we rely on; calls use
             * MSG_DONTWAIT, so drop O_NONBLOCK to match socketpair ends. */
            int fl = fcntl(fd, F_GETFL);
            if (fl >= 0)
                fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
            st = cm__channel_install(fd, CM_CHANNEL_DEFAULT_RIGHTS, channel);
            if (st != CM_OK)
                close(fd);
        }
    }
    cm__hobj_put(obj);
    return st;
}

cm_status_t cm_host_connect(const char *path, cm_handle_t *channel)
{
    struct sockaddr_un sa;
    cm_status_t st = make_addr(path, &sa);
    if (st != CM_OK || channel == NULL)
        return CM_ERR_INVALID_ARGS;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cm__status_from_errno(errno);
    int r;
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        st = cm__status_from_errno(errno);
        close(fd);
        return st;
    }
    st = cm__channel_install(fd, CM_CHANNEL_DEFAULT_RIGHTS, channel);
    if (st != CM_OK)
        close(fd);
    return st;
}
