/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_UNIX_ADDR_H
#define CAPMEM_HOST_UNIX_ADDR_H

/* AF_UNIX names of listeners (host/unix_addr.c): filesystem paths and
 * Linux abstract names, and the replacement of a stale socket file. */
#include <sys/socket.h>
#include <sys/un.h>
#include <capmem/status.h>

struct cm__unix_addr {
    struct sockaddr_un sa;
    socklen_t len;    /* what bind/connect take: abstract names are not NUL-terminated */
    int abstract;     /* "@name": no file, nothing to unlink or replace */
};

/* Parses `path` (a filesystem path of at most sizeof(sun_path) - 1 bytes,
 * or "@name" with 1 to sizeof(sun_path) - 1 name bytes) for `call` (the
 * public function's name, for the detail).
 * Errors: INVALID_ARGS (NULL, empty, "@" alone, too long: detail names the
 * limit). */
cm_status_t cm__unix_addr(const char *call, const char *path, struct cm__unix_addr *a);

/* A lock shared by every capmem listen in one directory (flock on the
 * directory), so that a listen that replaces a stale socket file never
 * takes a capmem listener between its bind and its listen for a stale one.
 * Best effort: -1 when the directory cannot be opened or stays locked for
 * CM__DIRLOCK_TRIES attempts (a stopped process holding it). */
#define CM__DIRLOCK_TRIES 1000
int cm__unix_dir_lock(const char *path);
void cm__unix_dir_unlock(int lock);

/* With the directory lock held (or not: the remaining race is documented
 * in docs/integration.md), removes the socket file at a's path if nobody
 * listens there: a connect probe is refused, and the file is still the
 * same inode after the probe. Never removes anything but a socket.
 * Returns OK (removed, or gone already: bind again); ALREADY_EXISTS (not a
 * socket, a live listener, a socket of another type, or replaced
 * meanwhile); errno statuses of lstat/socket/unlink. */
cm_status_t cm__unix_replace_stale(const struct cm__unix_addr *a);

#endif
