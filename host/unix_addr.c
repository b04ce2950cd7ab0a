/* SPDX-License-Identifier: MIT */
/* Listener names on Linux: filesystem paths, abstract names ("@name"), and
 * the replacement of a socket file left by a listener that died
 * (docs/integration.md, "Listen options"). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "status_detail.h"
#include "unix_addr.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

cm_status_t cm__unix_addr(const char *call, const char *path, struct cm__unix_addr *a)
{
    if (path == NULL)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "%s: path is NULL", call);
    memset(a, 0, sizeof(*a));
    a->sa.sun_family = AF_UNIX;
    if (path[0] == '@') {
        /* sun_path[0] = NUL, then the name's bytes, not terminated. */
        size_t n = strnlen(path + 1, SUN_PATH_MAX);
        if (n == 0)
            return cm__detail_set(CM_ERR_INVALID_ARGS, "%s: abstract name \"@\" is empty "
                                  "(Linux would pick a random name)", call);
        if (n > SUN_PATH_MAX - 1)
            return cm__detail_set(CM_ERR_INVALID_ARGS, "%s: abstract name longer than %zu bytes "
                                  "(sun_path is %zu bytes, one is the leading NUL)",
                                  call, SUN_PATH_MAX - 1, SUN_PATH_MAX);
        memcpy(a->sa.sun_path + 1, path + 1, n);
        a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
        a->abstract = 1;
        return CM_OK;
    }
    size_t n = strnlen(path, SUN_PATH_MAX);
    if (n == 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "%s: path is empty", call);
    if (n >= SUN_PATH_MAX)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "%s: path of %zu or more bytes; a UNIX "
                              "socket path holds at most %zu (sun_path is %zu bytes with the "
                              "NUL): use a shorter directory, or an abstract name \"@name\"",
                              call, n, SUN_PATH_MAX - 1, SUN_PATH_MAX);
    memcpy(a->sa.sun_path, path, n);
    a->len = (socklen_t)sizeof(a->sa);
    return CM_OK;
}

int cm__unix_dir_lock(const char *path)
{
    char dir[SUN_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        memcpy(dir, path, n); /* n < SUN_PATH_MAX: path was checked */
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Held by others only across bind/listen or a probe: a few system
     * calls. Bounded, so that a stopped holder cannot hang us. */
    for (int i = 0; i < CM__DIRLOCK_TRIES; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR)
            break;
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

void cm__unix_dir_unlock(int lock)
{
    if (lock >= 0)
        close(lock); /* releases the flock */
}

cm_status_t cm__unix_replace_stale(const struct cm__unix_addr *a)
{
    const char *path = a->sa.sun_path;
    struct stat before, after;
    if (lstat(path, &before) != 0)
        return errno == ENOENT ? CM_OK
                               : cm__detail_set(cm__status_from_errno(errno), "lstat(\"%s\"): %s",
                                                path, strerror(errno));
    if (!S_ISSOCK(before.st_mode))
        return cm__detail_set(CM_ERR_ALREADY_EXISTS, "\"%s\" exists and is not a socket: "
                              "never replaced", path);
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0)
        return cm__detail_set(cm__status_from_errno(errno), "socket: %s", strerror(errno));
    int r = connect(probe, (const struct sockaddr *)&a->sa, a->len);
    int e = errno;
    close(probe);
    if (r == 0 || e == EAGAIN)
        return cm__detail_set(CM_ERR_ALREADY_EXISTS, "a listener is live at \"%s\"", path);
    if (e == EPROTOTYPE)
        return cm__detail_set(CM_ERR_ALREADY_EXISTS, "a live socket of another type is bound "
                              "at \"%s\"", path);
    if (e != ECONNREFUSED)
        return cm__detail_set(cm__status_from_errno(e), "probe connect(\"%s\"): %s", path,
                              strerror(e));
    /* Refused: no socket behind the file (or one bound and not listening).
     * Still the file probed? Another replacer may have put its own there. */
    if (lstat(path, &after) != 0)
        return errno == ENOENT ? CM_OK
                               : cm__detail_set(cm__status_from_errno(errno), "lstat(\"%s\"): %s",
                                                path, strerror(errno));
    if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
        return cm__detail_set(CM_ERR_ALREADY_EXISTS, "\"%s\" was replaced during the probe",
                              path);
    if (unlink(path) != 0 && errno != ENOENT)
        return cm__detail_set(cm__status_from_errno(errno), "unlink(\"%s\") of a stale socket: "
                              "%s", path, strerror(errno));
    return CM_OK;
}
