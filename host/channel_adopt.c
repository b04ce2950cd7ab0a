/* SPDX-License-Identifier: MIT */
/* cm_host_channel_from_fd: an already-connected socket as a channel.
 *
 * Rule (as for cm_host_vmo_from_fd, host/vmo_fd.c): rights come from what
 * the fd can do, never from the caller's claim, which can only reduce them.
 * A connected seqpacket socket can be read, written, duplicated and sent by
 * whoever holds it, so that is CM_CHANNEL_DEFAULT_RIGHTS. The checks are
 * read-only; the fd is changed (FD_CLOEXEC, O_NONBLOCK cleared) only once
 * every check passed, and restored if the handle cannot be installed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/host.h>
#include "channel_internal.h"
#include "fd_owned.h"
#include "status_detail.h"

static cm_status_t sockopt(int fd, int opt, const char *name, int *val)
{
    socklen_t len = sizeof(*val);
    if (getsockopt(fd, SOL_SOCKET, opt, val, &len) != 0)
        return cm__detail_set(cm__status_from_errno(errno), "cm_host_channel_from_fd: "
                              "getsockopt(%s): %s", name, strerror(errno));
    return CM_OK;
}

/* The facts that make fd a usable channel end, read without changing it. */
static cm_status_t check_socket(int fd)
{
    struct stat sb;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    int domain, type, acc;
    cm_status_t st;
    if (fstat(fd, &sb) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "cm_host_channel_from_fd: fstat(%d): %s "
                              "(not an open fd)", fd, strerror(errno));
    if (!S_ISSOCK(sb.st_mode))
        return cm__detail_set(CM_ERR_WRONG_TYPE, "cm_host_channel_from_fd: fd %d is not a "
                              "socket", fd);
    if ((st = sockopt(fd, SO_DOMAIN, "SO_DOMAIN", &domain)) != CM_OK ||
        (st = sockopt(fd, SO_TYPE, "SO_TYPE", &type)) != CM_OK ||
        (st = sockopt(fd, SO_ACCEPTCONN, "SO_ACCEPTCONN", &acc)) != CM_OK)
        return st;
    if (domain != AF_UNIX)
        return cm__detail_set(CM_ERR_WRONG_TYPE, "cm_host_channel_from_fd: fd %d is not "
                              "AF_UNIX (domain %d)", fd, domain);
    if (type != SOCK_SEQPACKET)
        return cm__detail_set(CM_ERR_WRONG_TYPE, "cm_host_channel_from_fd: fd %d is not "
                              "SOCK_SEQPACKET (type %d): channels need message boundaries",
                              fd, type);
    if (acc)
        return cm__detail_set(CM_ERR_BAD_STATE, "cm_host_channel_from_fd: fd %d is a listening "
                              "socket: use cm_host_accept on a listener", fd);
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
        return cm__detail_set(errno == ENOTCONN ? CM_ERR_BAD_STATE
                                                : cm__status_from_errno(errno),
                              "cm_host_channel_from_fd: getpeername(%d): %s", fd,
                              strerror(errno));
    return CM_OK;
}

cm_status_t cm_host_channel_from_fd(int fd, cm_rights_t rights, cm_handle_t *out)
{
    CM__ENTRY();
    if (fd < 0 || out == NULL || (rights != CM_RIGHTS_SAME && (rights & ~CM_RIGHTS_ALL)))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "cm_host_channel_from_fd: %s",
                              fd < 0 ? "fd < 0" : out == NULL ? "out is NULL"
                                                              : "undefined rights bits");
    cm_status_t st = check_socket(fd);
    if (st != CM_OK)
        return st;
    /* Rule: one fd, one owner (host/fd_owned.h). Claimed before any change,
     * atomically, so two threads adopting one number cannot both win. */
    int owned = cm__fd_own(fd);
    if (owned != 0)
        return owned < 0 ? CM_ERR_NO_MEMORY
                         : cm__detail_set(CM_ERR_ALREADY_EXISTS, "cm_host_channel_from_fd: fd %d "
                                          "is owned by a capmem object already (adopted "
                                          "before, or given out by cm_host_object_fd)", fd);
    cm_rights_t granted = CM_CHANNEL_DEFAULT_RIGHTS;
    if (rights != CM_RIGHTS_SAME)
        granted &= rights;
    int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
    if (fdfl < 0 || fl < 0) {
        cm__fd_disown(fd);
        return cm__detail_set(cm__status_from_errno(errno), "cm_host_channel_from_fd: "
                              "fcntl(F_GETFD/F_GETFL): %s", strerror(errno));
    }
    /* Blocking like every channel fd (calls use MSG_DONTWAIT); not passed
     * to exec'd programs, like every fd the library makes. */
    if (fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        st = cm__detail_set(cm__status_from_errno(errno), "cm_host_channel_from_fd: fcntl: %s",
                            strerror(errno));
        goto restore;
    }
    st = cm__channel_install_shared(fd, granted, out);
    if (st == CM_OK)
        return CM_OK;
    cm__detail_set(st, "cm_host_channel_from_fd: no handle for the channel");
restore:
    cm__fd_disown(fd); /* the caller's again (install forgot it already, if it got there) */
    (void)fcntl(fd, F_SETFL, fl);
    (void)fcntl(fd, F_SETFD, fdfl);
    return st;
}
