#ifndef CAPMEM_HOST_H
#define CAPMEM_HOST_H

/* Host-only (Linux) extras. Nothing here exists on the kernel target. */
#include <sys/types.h>
#include <capmem/capmem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Wraps an existing memfd as a VMO handle, taking ownership of `fd` on
 * success (on failure the caller keeps it). Admits exactly what a channel
 * admits (docs/vmo.md "Admission"): an unlinked shmem file (memfd) of at
 * most CM_VMO_MAX_SIZE bytes, open for reading. The handle gets its own open
 * file description (a /proc/self/fd reopen), so nothing done later through
 * `fd`'s description (O_APPEND, O_DIRECT, offsets) affects it. Rights derive
 * from the fd: READ|MAP|DUPLICATE|TRANSFER, plus WRITE only for an O_RDWR fd
 * without a write seal, never from the caller's claim; `rights` can only
 * reduce them. Seals are read before the size, so what get_info reports is
 * never older than the seals.
 * Errors: INVALID_ARGS (fd < 0, out NULL, undefined rights bits);
 * WRONG_TYPE (not a shmem file, or a linked one); UNSUPPORTED (hugetlbfs
 * memfd: no huge-page VMOs yet; /proc not mounted); OUT_OF_RANGE (larger
 * than CM_VMO_MAX_SIZE); ACCESS_DENIED (fd not readable: O_WRONLY);
 * NO_RESOURCES (handle limit, RLIMIT_NOFILE); NO_MEMORY; SHOULD_WAIT
 * (another process holds a lease on the file: never waited for). */
cm_status_t cm_host_vmo_from_fd(int fd, cm_rights_t rights, cm_handle_t *out);

/* Returns a new fd (O_CLOEXEC, its own open file description) for the VMO,
 * for use with other Linux APIs. An fd can be read, mapped, dup'ed and sent
 * anywhere, so the handle needs READ|MAP|DUPLICATE|TRANSFER; the fd is O_RDWR
 * only if the handle has WRITE, and a handle without WRITE is exported
 * (O_RDONLY) only when a seal forbids writing, since any holder can reopen a
 * memfd read-write. A file window is never exported (its fd would be the
 * whole file). If this process maps the VMO and its size is not sealed, the
 * export sets F_SEAL_SHRINK (needs WRITE) so that the fd's holder cannot cut
 * the mapping; a mapped huge-page VMO must be write-sealed as well, since
 * the fd's holder could punch its pages out. Afterwards the VMO counts as
 * shared (see cm_vmo_map).
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED (a right above missing,
 * e.g. a DUPLICATE-only handle); UNSUPPORTED (WRITE dropped on an object no
 * seal protects; file window; /proc not mounted); BAD_STATE (mapped here,
 * size not sealed, no WRITE to seal it; or huge pages mapped here, not
 * write-sealed); NO_RESOURCES (RLIMIT_NOFILE). */
cm_status_t cm_host_vmo_export_fd(cm_handle_t vmo, int *fd_out);

/* Listens for channel connections on a UNIX socket at `path` (created).
 * Any existing name at `path` (socket, FIFO, directory, device, regular file,
 * symlink, dangling or not) is ALREADY_EXISTS and is left untouched: nothing
 * there is opened or followed. The handle is a CM_OBJ_LISTENER; closing its
 * last handle unlinks the socket file (if this process made it and it is
 * still the file bound) and stops accepting, even while an accept waits.
 * Errors: INVALID_ARGS (NULL, empty, or no room for the NUL in sun_path);
 * ALREADY_EXISTS; NOT_FOUND (a directory in the path is missing);
 * ACCESS_DENIED; NO_RESOURCES (fd or handle limit); NO_MEMORY; IO. */
cm_status_t cm_host_listen(const char *path, cm_handle_t *listener);

/* Waits up to timeout_ns (CM_TIMEOUT_INFINITE: no limit; 0: poll; huge
 * values saturate) for a connection and returns its channel. Closing the
 * listener handle in another thread wakes the wait with BAD_HANDLE. A
 * connection that cannot be accepted for lack of fds stays queued.
 * Errors: INVALID_ARGS (channel NULL; negative timeout other than
 * CM_TIMEOUT_INFINITE; checked before the handle); BAD_HANDLE (also: closed
 * while waiting); WRONG_TYPE; TIMED_OUT; NO_RESOURCES (fd or handle limit);
 * IO. */
cm_status_t cm_host_accept(cm_handle_t listener, int64_t timeout_ns, cm_handle_t *channel);

/* Connects a channel to a listener at `path`. Never blocks, and never opens
 * the file at `path`.
 * Errors: INVALID_ARGS (as for cm_host_listen; channel NULL); NOT_FOUND (no
 * capmem listener there: nothing, a stale socket, a socket of another type,
 * a FIFO, device, directory, regular file or dangling symlink);
 * SHOULD_WAIT (the listener's queue of unaccepted connections is full);
 * ACCESS_DENIED; NO_RESOURCES (fd or handle limit); IO. */
cm_status_t cm_host_connect(const char *path, cm_handle_t *channel);

/* Credentials of the process at the other end of a channel, as the Linux
 * kernel recorded them when the connection was made (SO_PEERCRED).
 * Errors: BAD_HANDLE; WRONG_TYPE; INVALID_ARGS; IO. */
cm_status_t cm_host_channel_peer_cred(cm_handle_t channel, pid_t *pid, uid_t *uid, gid_t *gid);

/* Number of live handles and mappings in this process (leak checks). */
uint32_t cm_host_live_handles(void);
uint32_t cm_host_live_mappings(void);

#ifdef __cplusplus
}
#endif

#endif
