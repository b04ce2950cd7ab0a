/* SPDX-License-Identifier: MIT */
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
 * (another process holds a lease on the file: never waited for);
 * ALREADY_EXISTS (a frozen read-only fd is kept as it is, not reopened:
 * the same number given again while a VMO holds it). */
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

/* Listens for channel connections on a UNIX socket named `path`:
 * cm_host_listen_opts(path, 0, listener). */
cm_status_t cm_host_listen(const char *path, cm_handle_t *listener);

/* Options of cm_host_listen_opts (values are ABI). */
/* A socket file at `path` that nobody listens on (a connect probe is
 * refused: its listener died, e.g. killed by SIGTERM) is unlinked and
 * replaced. A live listener's file, and anything that is not a socket, is
 * never touched (ALREADY_EXISTS). Ignored for abstract names, which have no
 * file. The remaining race (a program other than capmem between its bind
 * and listen looks stale) is in docs/integration.md. */
#define CM_HOST_LISTEN_REPLACE_STALE (1u << 0)
#define CM_HOST_LISTEN_OPTIONS_ALL CM_HOST_LISTEN_REPLACE_STALE

/* Listens for channel connections on a UNIX SOCK_SEQPACKET socket named
 * `path`: a filesystem path (created; at most 107 bytes, sun_path's 108
 * with the NUL), or a Linux abstract name written "@name" (1 to 107 bytes
 * after the '@'; no file, gone when the listener closes; NOT protected by
 * file permissions: any process in the same network namespace can connect,
 * so check cm_host_channel_peer_cred). A path that starts with '@' is
 * written "./@...".
 * Without options, any existing name at `path` (socket, FIFO, directory,
 * device, regular file, symlink, dangling or not) is ALREADY_EXISTS and is
 * left untouched: nothing there is opened or followed. The handle is a
 * CM_OBJ_LISTENER; closing its last handle unlinks the socket file (if this
 * process made it and it is still the file bound) and stops accepting,
 * even while an accept waits.
 * Errors: INVALID_ARGS (NULL, empty, "@" alone, too long, unknown option
 * bits); ALREADY_EXISTS (also: a live listener or a non-socket with
 * REPLACE_STALE; an abstract name in use); NOT_FOUND (a directory in the
 * path is missing); ACCESS_DENIED; NO_RESOURCES (fd or handle limit);
 * NO_MEMORY; IO. cm_status_detail() names the system call and errno. */
cm_status_t cm_host_listen_opts(const char *path, uint32_t options, cm_handle_t *listener);

/* Waits up to timeout_ns (CM_TIMEOUT_INFINITE: no limit; 0: poll; huge
 * values saturate) for a connection and returns its channel. Closing the
 * listener handle in another thread wakes the wait with BAD_HANDLE. A
 * connection that cannot be accepted for lack of fds stays queued.
 * Errors: INVALID_ARGS (channel NULL; negative timeout other than
 * CM_TIMEOUT_INFINITE; checked before the handle); BAD_HANDLE (also: closed
 * while waiting); WRONG_TYPE; TIMED_OUT; NO_RESOURCES (fd or handle limit);
 * IO. */
cm_status_t cm_host_accept(cm_handle_t listener, int64_t timeout_ns, cm_handle_t *channel);

/* Connects a channel to a listener at `path` (a filesystem path or
 * "@name", as for cm_host_listen_opts). Never blocks, and never opens the
 * file at `path`.
 * Errors: INVALID_ARGS (as for cm_host_listen; channel NULL); NOT_FOUND
 * (no such path: nothing there, a missing directory, a dangling symlink;
 * or no socket could ever listen there: a FIFO, device, directory, regular
 * file; or a socket of another type); CONNECTION_REFUSED (a socket file
 * nobody listens on, as a listener that died leaves behind; an abstract
 * name nobody listens on); SHOULD_WAIT (the listener's
 * queue of unaccepted connections is full); ACCESS_DENIED; NO_RESOURCES
 * (fd or handle limit); IO. */
cm_status_t cm_host_connect(const char *path, cm_handle_t *channel);

/* Adopts an AF_UNIX SOCK_SEQPACKET socket that is already connected (a
 * socketpair(2) end, an accept(2) result, an fd received from elsewhere) as
 * a channel handle. The other end must speak capmem's channel protocol (be
 * a capmem channel); the library trusts nothing it receives, as for any
 * channel. Rights derive from the socket, as cm_host_vmo_from_fd's derive
 * from the fd: a connected socket can be read, written, duplicated and sent,
 * so CM_CHANNEL_DEFAULT_RIGHTS; `rights` (CM_RIGHTS_SAME or a mask) can
 * only reduce them (bits outside them are dropped, undefined bits are
 * INVALID_ARGS). On success the handle owns `fd` (same number; FD_CLOEXEC
 * set and O_NONBLOCK cleared on its open file description): the caller
 * must not use or close it any more, and any duplicate the caller kept
 * still reaches the peer whatever the handle's rights. On failure the
 * caller keeps `fd`, unchanged.
 * Errors: INVALID_ARGS (fd < 0 or not open; out NULL; undefined rights
 * bits); WRONG_TYPE (not a socket; not AF_UNIX; not SOCK_SEQPACKET);
 * BAD_STATE (a listening socket; not connected); ALREADY_EXISTS (the
 * library owns that fd number already: adopted before, or a channel's or
 * consumer's fd from cm_host_object_fd); NO_RESOURCES (handle limit);
 * NO_MEMORY. cm_status_detail() says which check failed. */
cm_status_t cm_host_channel_from_fd(int fd, cm_rights_t rights, cm_handle_t *out);

/* An fd for an event loop (epoll, poll, io_uring IORING_OP_POLL_ADD, libuv
 * uv_poll_t) that reports, in poll(2) terms, that `signals` may have
 * changed on the object `handle` names. *events gets the poll events to
 * register (POLLIN, POLLOUT, POLLRDHUP: equal to EPOLLIN, EPOLLOUT,
 * EPOLLRDHUP). Readiness is level-triggered (the fd stays ready while the
 * signal's condition holds: a queued message, a hang-up, a pending
 * connection); spurious readiness is possible. The contract: when the fd
 * is ready, call the non-blocking operation (cm_channel_read, write,
 * cm_host_accept with timeout 0, or cm_object_wait_one with timeout 0)
 * until it says SHOULD_WAIT (TIMED_OUT), then wait again; a change after
 * that point makes the fd ready again, so no wake-up is lost, also with
 * edge-triggered registration (EPOLLET, multishot poll). A hang-up
 * (PEER_CLOSED) stays ready forever: remove the fd once a call reports it.
 * The fd belongs to the object: the same for every handle to it, valid
 * until this process's last handle to the object is closed or sent away.
 * The caller must not close, read, write, or change its flags; remove it
 * from the event loop before closing, sending or replacing the handle.
 * Supported: channels (READABLE: POLLIN, WRITABLE: POLLOUT, PEER_CLOSED:
 * POLLRDHUP), listeners (READABLE: POLLIN), SharedBuffer consumers
 * (READABLE and PEER_CLOSED: POLLIN; draining call: cm_sbuf_receive or
 * cm_sbuf_receive_copy with timeout 0) and producers (WRITABLE: POLLIN on
 * an epoll fd; draining call: cm_sbuf_loan with timeout 0). A SharedBuffer
 * fd reports wake-ups since the last draining call, not state: drain once
 * before the first wait. From the first call on, every publish to that
 * consumer (every release to that producer) costs the peer one send(2).
 * A signal the object never asserts adds no event (*events may be 0).
 * Needs the rights of what the fd lets its holder do (read, write, dup,
 * send, adopt it): a channel all of CM_CHANNEL_DEFAULT_RIGHTS, a consumer
 * READ, a producer WRITE, a listener none.
 * Errors: INVALID_ARGS (fd or events NULL; signals 0 or undefined bits);
 * BAD_HANDLE; ACCESS_DENIED (a right above missing);
 * WRONG_TYPE (an object without signals: VMO, DMA pool);
 * BAD_STATE (a forked child's copy of a SharedBuffer producer).
 * docs/integration.md: the contract, epoll, io_uring and libuv. */
cm_status_t cm_host_object_fd(cm_handle_t handle, cm_signals_t signals, int *fd,
                              uint32_t *events);

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
