/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_INTERNAL_H
#define CAPMEM_HOST_INTERNAL_H

/* Internal interface shared by the host library's files. Not installed. */

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <capmem/capmem.h>

struct cm__waiter;
struct cm__hobj;
struct cm__wake;

/* Object signals (include/capmem/object.h), for objects that have them. */
struct cm__signal_ops {
    /* Every signal asserted on obj now; never blocks.
     * Errors: NO_MEMORY; IO. */
    cm_status_t (*get)(struct cm__hobj *obj, cm_signals_t *now);
    /* Optional: get, but only the signals in `want` need be right (others
     * may read as not asserted), so that a wait that reports only those
     * spends no system call on the rest. NULL: get is used. */
    cm_status_t (*get_wanted)(struct cm__hobj *obj, cm_signals_t want, cm_signals_t *now);
    /* Optional: after a sleep, the signals in `want` from what poll
     * reported on the object's fd, when that alone settles them (returns
     * 1); 0 to read them again with get. Spares the wait one system call
     * per wake-up. */
    int (*from_revents)(struct cm__hobj *obj, short revents, cm_signals_t want,
                        cm_signals_t *now);
    /* For a blocked wait on `waitfor` (none of which is asserted in `now`):
     * sets *fd and returns the poll events whose arrival may assert one,
     * or 0 when no change of obj can assert them any more (a channel whose
     * peer is gone), so that the wait sleeps until its deadline or a close
     * instead of spinning on a level-triggered hang-up. */
    short (*poll_events)(struct cm__hobj *obj, cm_signals_t waitfor, cm_signals_t now, int *fd);
    /* Optional, for objects whose waker writes to the fd only when told
     * that someone sleeps (a SharedBuffer: host/sbuf_wait.c). A blocking
     * wait calls arm before each evaluation that may precede a sleep, and
     * disarm after that sleep (or when it ends without one): an event
     * after arm's return wakes the poll on poll_events' fd. */
    void (*arm)(struct cm__hobj *obj);
    void (*disarm)(struct cm__hobj *obj);
};

/* Every object a host handle names starts with this header. Each handle
 * holds one reference; cm__handle_get takes another for the caller's use,
 * so a concurrent close never frees an object under a user.
 * Invariant: destroy runs exactly once, when refs drops to 0.
 *
 * References and handles are counted apart: a thread blocked in a wait holds
 * a reference but is not a handle, and must not keep the object alive for
 * others. When a close removes the last handle, on_last_handle (optional)
 * makes the object unusable at once (a channel's peer sees PEER_CLOSED, a
 * listener stops accepting), and every waiter is woken (docs/channel.md,
 * "Waiting and closing"). */
struct cm__hobj {
    uint32_t type;            /* cm_obj_type_t */
    atomic_uint refs;
    void (*destroy)(struct cm__hobj *obj);
    /* Runs once, without the table lock, when a close (not a transfer, after
     * which the object lives on in the peer) removes the last handle. */
    void (*on_last_handle)(struct cm__hobj *obj);
    /* Runs in a forked child (table lock held) for each object the child's
     * table names, to reset locks that a parent thread may have held. */
    void (*after_fork_child)(struct cm__hobj *obj);
    /* Runs in the forking thread before a fork (table lock held) for each
     * object the table names, to settle what the child must not inherit
     * half done. Any call allowed; failures cannot be reported. */
    void (*before_fork)(struct cm__hobj *obj);
    /* NULL for objects without signals (waiting on them is WRONG_TYPE). */
    const struct cm__signal_ops *signals;
    /* Guarded by the table lock: */
    uint32_t handles;         /* live handles naming the object */
    struct cm__waiter *waiters; /* blocked threads; nodes live on their stacks */
    atomic_int dead;          /* last handle closed: no handle may name it again */
    unsigned fork_gen;        /* cm__hobj_forked: value of the fork count at init */
    uint64_t serial;          /* this process's instance number, never reused
                                 (mapping identity's object generation) */
};

/* One thread blocked on an object through one handle value. Registered and
 * unregistered under the table lock; removing `handle` from the table
 * (close, transfer, replace) sets `canceled` and signals wake_fd. */
struct cm__waiter {
    struct cm__waiter *next, *prev;
    cm_handle_t handle;
    int wake_fd;              /* the handle's eventfd (wake), or the wait set's */
    struct cm__wake *wake;    /* the handle's wake (host/handles.c), NULL for a set's */
    atomic_int canceled;
    struct cm__hobj *obj;     /* the object waited on (wait sets) */
    /* A futex sleeper's word (cm__handle_wait_futex), or NULL: removing
     * the handle bumps it and wakes it instead of writing wake_fd. */
    uint32_t *futex;
};

/* Sets type/destroy and refs = 1 (the reference the first handle will own);
 * no hooks, no handles yet. */
void cm__hobj_init(struct cm__hobj *obj, uint32_t type, void (*destroy)(struct cm__hobj *));
void cm__hobj_ref(struct cm__hobj *obj);
void cm__hobj_put(struct cm__hobj *obj);

/* True if the process forked since obj was made (in the parent or the
 * child): its fds may then be shared with another process, and shutting a
 * socket down would reach into that process too (docs/fork.md). */
int cm__hobj_forked(const struct cm__hobj *obj);

/* Waits until fd reports one of `events` (CM_OK, revents in *revents), the
 * deadline (core/deadline.h) passes (TIMED_OUT), or handle h, which named obj
 * when the caller looked it up, is removed from the table (BAD_HANDLE: the
 * wait is canceled). The caller holds a reference on obj. Blocks in one
 * poll(2) on fd and h's eventfd (made by the first blocking wait through h,
 * closed with h); no time slices.
 * Errors: TIMED_OUT; BAD_HANDLE; NO_RESOURCES (no fd left for the eventfd);
 * IO. */
cm_status_t cm__handle_wait_fd(cm_handle_t h, struct cm__hobj *obj, int fd, short events,
                               uint64_t deadline, short *revents);

/* Sleeps in futex_waitv(2) on words[0..n) (values and flags filled by the
 * caller) until one is woken or differs, the deadline, or the removal of h
 * from the table. `poke` is a private 32-bit word of the caller's, listed
 * in words with the value the caller loaded before its last look:
 * removing h bumps it and wakes it, so no removal can be slept through.
 * No eventfd, no poll. OK means "woken, look again" (also a spurious
 * wake-up or a signal). Errors: TIMED_OUT; BAD_HANDLE; UNSUPPORTED (no
 * futex_waitv: Linux before 5.16); IO. */
struct futex_waitv;
cm_status_t cm__handle_wait_futex(cm_handle_t h, struct cm__hobj *obj, uint32_t *poke,
                                  struct futex_waitv *words, uint32_t n, uint64_t deadline);

/* A wait on several objects at once (cm_object_wait_many): one waiter per
 * (handle, object) pair, all sharing one eventfd, so that removing any of
 * the handles from the table wakes the wait with BAD_HANDLE. A set of one
 * uses its handle's own eventfd instead, kept with the handle, so that a
 * handle's waits after its first blocking one make no eventfd call. */
struct cm__waitset {
    uint32_t n;
    int wake_fd;
    struct cm__wake *wake;    /* a wait on several objects: its own (host/handles.c) */
    struct cm__waiter w[CM_WAIT_MANY_MAX];
};

/* Registers a waiter on objs[i] through hs[i] for each i < n (n <=
 * CM_WAIT_MANY_MAX). On failure nothing stays registered and no fd is left.
 * For n == 1 with `make` 0, a handle that has no eventfd yet is SHOULD_WAIT
 * (nothing done: the caller checks readiness first, without one).
 * Errors: SHOULD_WAIT; BAD_HANDLE (a handle no longer names its object);
 * NO_RESOURCES (no fd for the eventfd); NO_MEMORY. */
cm_status_t cm__waitset_begin(struct cm__waitset *ws, uint32_t n, const cm_handle_t *hs,
                              struct cm__hobj *const *objs, int make);
/* One sleep: poll(2) on fds[0..n) (fd -1 entries are ignored) plus the
 * eventfd, which this call puts in fds[n]. Returns OK when something may
 * have changed (an fd reported events, or a signal interrupted the poll:
 * the caller re-evaluates), TIMED_OUT, BAD_HANDLE (a handle was removed).
 * Errors: IO and other errno statuses of poll. */
cm_status_t cm__waitset_sleep(struct cm__waitset *ws, struct pollfd *fds, uint64_t deadline);
/* Unregisters every waiter and closes the eventfd. */
void cm__waitset_end(struct cm__waitset *ws);

/* cm_object_wait_one restricted to handles of `type` (CM_OBJ_NONE: any
 * object with signals; otherwise another type is WRONG_TYPE): the one
 * implementation behind cm_object_wait_one and cm_channel_wait_readable.
 * Only the signals in `report` are exact in *observed (CM_SIGNALS_ALL for
 * cm_object_wait_one; a wrapper that looks at fewer passes those, and the
 * wait then reads no other signal: cm__signal_ops.get_wanted). */
cm_status_t cm__object_wait_one_typed(cm_handle_t handle, uint32_t type, cm_signals_t signals,
                                      cm_signals_t report, int64_t timeout_ns,
                                      cm_signals_t *observed);

/* Tests only (tests/host/fork_handles.c): hold the table lock as a thread
 * in the middle of a handle call does, to fork while it is held. */
void cm__handle_table_hold(void);
void cm__handle_table_release(void);
/* Tests only: 1 if live handle h has its wake-up eventfd (host/handles.c,
 * struct cm__wake), 0 if not or if h is not live. */
int cm__handle_has_wake(cm_handle_t h);

/* CLOCK_MONOTONIC in nanoseconds: the clock of every host deadline. */
uint64_t cm__now_ns(void);

/* Installs obj under a new handle; the handle takes over the caller's
 * reference on success. On failure the caller still owns it.
 * Errors: NO_RESOURCES (table full); BAD_HANDLE (obj's last handle was
 * closed meanwhile: a duplicate racing with that close loses). */
cm_status_t cm__handle_install(struct cm__hobj *obj, cm_rights_t rights, cm_handle_t *out);

/* Looks up a handle of `type` (CM_OBJ_NONE: any) holding every right in
 * `need`. On success returns a new reference in *obj (release with
 * cm__hobj_put) and the handle's rights in *rights (may be NULL).
 * Errors: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED. */
cm_status_t cm__handle_get(cm_handle_t h, uint32_t type, cm_rights_t need,
                           struct cm__hobj **obj, cm_rights_t *rights);

/* Removes a handle from the table and returns its object reference and
 * rights to the caller (who now owns that reference), for a transfer: waits
 * through h are canceled, but on_last_handle does not run, since the object
 * lives on in the receiver. Errors: BAD_HANDLE. */
cm_status_t cm__handle_take(cm_handle_t h, struct cm__hobj **obj, cm_rights_t *rights);

/* Converts errno to a status for failed Linux calls. */
cm_status_t cm__status_from_errno(int err);

/* cm__status_from_errno(err), recording "CALL failed: ENAME (description)"
 * as the call's detail (core/status_detail.h). For a failed system call
 * whose errno is the whole story; where a limit or a hint says more, the
 * caller records that instead. */
cm_status_t cm__errno_detail(const char *call, int err);

/* "EMFILE" / "Too many open files" for err, never NULL (for details). */
const char *cm__errname(int err);
const char *cm__errdesc(int err);

/* cm_handle_close without clearing the status detail: for library code that
 * closes handles on a failure path after recording why (CM__ENTRY). */
cm_status_t cm__handle_close(cm_handle_t handle);

/* NO_RESOURCES if a memfd may not grow to `end` bytes under RLIMIT_FSIZE
 * (Linux would raise SIGXFSZ, fatal by default), else OK (host/vmo.c). */
cm_status_t cm__fsize_allows(uint64_t end);
/* fallocate(fd, 0, offset, len) of a shmem file in pieces of at most
 * CM__FALLOCATE_PIECE bytes (2 MiB, a huge page's), each interrupted one
 * made again at half its length down to one page: an EINTR loses only
 * that piece, so signals cannot keep it from finishing. 0, or -1 with
 * errno (pieces already allocated stay). */
#define CM__FALLOCATE_PIECE (2ull << 20)
int cm__fallocate_pieces(int fd, uint64_t offset, uint64_t len);

/* The status of a failed call that gives a VMO's memfd pages (fallocate,
 * pwrite, ftruncate): ENOSPC / ENOMEM mean Linux found no memory for the
 * object's pages (shmem space, overcommit or memory cgroup limit), which is
 * MEMORY_PRESSURE on both targets, never the library's own NO_MEMORY;
 * EFBIG is RLIMIT_FSIZE (NO_RESOURCES); anything else as errno says. One
 * rule for every commit path (host/vmo.c, host/vmo_commit.c). */
cm_status_t cm__vmo_pages_errno(const char *call, int err);

/* ---- VMO internals (host/vmo.c) ---- */
struct cm__vmo {
    struct cm__hobj hdr;
    /* Ledger charges of a VMO this process created (cm_vmo_create): one
     * VMOS and `backing` bytes of OBJECT_BACKING, released at destroy. 0
     * for VMOs received or made otherwise (not charged here). */
    int counted;
    uint64_t backing;
    int fd;              /* memfd (our own open file description), or a regular
                          * file for file windows */
    uint64_t file_off;   /* window start within fd (0 for memfds) */
    uint64_t file_len;   /* window length (file windows only) */
    int is_file;
    /* Backed by hugetlbfs CM_HUGE_PAGE_SIZE pages (host/vmo_huge.c): the
     * file's size is the exact size rounded up to a huge page, and the
     * exact size lives in local_size (and frozen_size once frozen), for
     * every holder, private or not. Set before publication, never changed. */
    int huge;
    /* Another process may hold the object (it was admitted from outside, or
     * exported): unless F_SEAL_SHRINK is set, its size can drop under a
     * mapping, so cm_vmo_map refuses it. Set before publication or by
     * export; never cleared. */
    atomic_int shared;
    /* 1 once F_SEAL_WRITE|GROW|SHRINK are known to be set (at admission,
     * by cm_vmo_seal(IMMUTABLE), for a snapshot): size, content and seals
     * can never change again, so the size read after the seals and the
     * file's identity are cached in frozen_size, dev, ino, written before
     * frozen is stored (release) and read only after it is seen as 1
     * (acquire: cm__vmo_frozen). 2: being frozen by one thread. */
    atomic_int frozen;
    uint64_t frozen_size;
    /* The file's identity (st_dev, st_ino), read once by the first call
     * that needs it (mapping table, get_info's id) or at admission; it
     * never changes. Valid when id_known. */
    _Atomic uint64_t dev, ino;
    atomic_int id_known;
    /* The size while the object is private to this process (created here,
     * never exported, sent unfrozen or forked: cm__vmo_private): only this
     * process's set_size changes it then, and that stores it here under the
     * mapping table's lock (cm__map_truncate), so no fstat is needed.
     * A huge VMO's exact size always (see huge): once shared, its size is
     * min(local_size, the file's size), since another holder may shrink the
     * file but no other holder's exact size reaches this process. */
    _Atomic uint64_t local_size;
    /* 1: admitted from a channel frozen, without its access mode read
     * (core/vmo_admit.h, mode_deferred): v->fd is the fd as it came, maybe
     * O_WRONLY. Linux refuses its reads (pread EBADF) and mappings (mmap
     * EACCES) then, which cm__vmo_use_failed turns into PROTOCOL; anything
     * that would reopen it (a reopen of an O_WRONLY memfd is readable)
     * calls cm__vmo_readable first. Cleared once the mode is seen readable. */
    atomic_int mode_deferred;
    /* 1 once a mapping table entry may name v as its owner (set under the
     * table's lock when one is made, cleared when they are stamped): only
     * then does v's destruction need the table (cm__map_owner_gone). Read
     * at destruction, when no call through v can make one any more. */
    atomic_int map_owned;
    /* The file's size is set when first needed (cm__vmo_size_file). A VMO
     * made by cm_vmo_create on base pages without CM_VMO_COMMIT starts
     * CM__SIZE_LAZY: its memfd is made without the ftruncate, which its
     * first use other than cm_vmo_write or cm_vmo_get_size does (every
     * cm__vmo_get, a transfer or export, a fork), or a cm_vmo_write that
     * reaches local_size does as a side effect (docs/vmo.md, "Size").
     * Invariants while LAZY or SETTING: this process alone can size the
     * file (sending and exporting set the size first; a fork does too, and
     * if it cannot, the child's copy is CM__SIZE_LOST and refused), so
     * local_size is the size, whatever cm__vmo_private says; local_size
     * changes only in the SETTING of a set_size (vmo_claim_size); and the
     * file is no longer than it (a write ends within it), so every sizer
     * grows the file to local_size only. Read the state BEFORE an fstat
     * whose size it qualifies (cm__vmo_file_sized): a sizing in between
     * would make the empty file's size look like the VMO's. Any other VMO
     * is CM__SIZE_SET (0, calloc's) from the start. */
    atomic_int size_state;
    /* Held shared by each call that can extend the file (a pwrite of
     * cm_vmo_write, COMMIT's fallocate) from its range check to the call,
     * and exclusive by set_size: a write checked against the old size must
     * not land after a cut and grow the file again (the bytes it wrote past
     * the new size would come back at the next growth, uncharged). Only
     * this process's own resizes are held off; another holder of a shared
     * VMO can still resize it (it is mapped only under F_SEAL_SHRINK). */
    pthread_rwlock_t size_lock;
};
enum { CM__SIZE_SET = 0, CM__SIZE_LAZY = 1, CM__SIZE_SETTING = 2, CM__SIZE_LOST = 3 };

/* Gives a CM__SIZE_LAZY VMO's file its size: its RLIMIT_FSIZE check and
 * ftruncate, by one thread, the others waiting for it; no-op once set.
 * Errors: NO_RESOURCES (RLIMIT_FSIZE lowered below the size since the
 * create), MEMORY_PRESSURE; the state stays LAZY then. BAD_STATE for a
 * forked child's CM__SIZE_LOST copy. */
cm_status_t cm__vmo_size_file(struct cm__vmo *v);

/* The access mode of a mode_deferred VMO's fd, read now (one fcntl, once):
 * OK if readable (or never deferred), PROTOCOL if not (the peer sent an fd
 * it could not read), INTERNAL if fcntl fails. */
cm_status_t cm__vmo_readable(struct cm__vmo *v);

/* `st` of a use of v->fd (read, map, copy) that failed: PROTOCOL when the
 * cause is a deferred mode that does not allow reading, else st. Costs
 * nothing on success or for a VMO whose mode was read at admission. */
cm_status_t cm__vmo_use_failed(struct cm__vmo *v, cm_status_t st);

/* Private: no other process can hold v's fd, so only this process's own
 * calls change its size (see local_size). */
int cm__vmo_private(const struct cm__vmo *v);

/* Wraps an fd this process created (never seen by another process) as a VMO
 * object (refs = 1). Validates that it is a memfd. On failure the fd is NOT
 * closed. Errors: WRONG_TYPE, NO_MEMORY. */
cm_status_t cm__vmo_wrap_memfd(int fd, struct cm__vmo **out);

/* The one admission of an fd from outside the library as a VMO (channel
 * receive, cm_host_vmo_from_fd). Reads the seals, then the facts they
 * freeze, lets core/vmo_admit.c decide, then gives the object its own open
 * file description (a /proc/self/fd reopen, O_RDONLY unless WRITE is
 * granted) so nothing another holder does to the shared description
 * (O_APPEND, O_DIRECT, offsets) reaches it. On success *out holds the new
 * object (refs = 1) over its own fd and *rights the rights granted; `fd` is
 * never closed here (the caller closes it once nothing else can fail).
 * Errors: those of cm__vmo_admit_decide; UNSUPPORTED (/proc not mounted);
 * NO_RESOURCES (RLIMIT_NOFILE); NO_MEMORY; ACCESS_DENIED (reopen refused). */
cm_status_t cm__vmo_admit(int fd, cm_rights_t claimed, struct cm__vmo **out,
                          cm_rights_t *rights, int *took_fd);

/* The two halves of cm__vmo_admit, for a caller that judges an fd before it
 * admits it (a channel read: the facts are read once per fd, seals first,
 * and the same facts decide both). cm__vmo_gather never fails: facts it
 * could not read leave seals_ok 0 (WRONG_TYPE). The fs type costs no
 * fstatfs for a file on the kernel's memfd mount. */
struct cm__vmo_facts;
struct stat;
/* defer_mode: a caller that keeps a frozen fd as it came (a channel read)
 * skips F_GETFL for it (facts.mode_deferred; the object then carries
 * mode_deferred, see struct cm__vmo). */
void cm__vmo_gather(int fd, struct cm__vmo_facts *f, struct stat *sb, int defer_mode);
/* Performs the verdict on facts gathered from fd. An object frozen and
 * without WRITE keeps fd itself (*took_fd = 1: no reopen; host/vmo.c,
 * admitted_fd, says why that is safe); any other gets its own reopen
 * (*took_fd = 0, the caller closes fd once nothing else can fail).
 * Errors: those of cm__vmo_admit. */
cm_status_t cm__vmo_admit_gathered(int fd, const struct cm__vmo_facts *f,
                                   const struct stat *sb, cm_rights_t claimed, uint64_t exact,
                                   struct cm__vmo **out, cm_rights_t *rights, int *took_fd);
/* Drops an admitted object whose install failed, leaving the fd it took
 * over (if any) open: the caller still owns it. */
void cm__vmo_admit_undo(struct cm__vmo *v, int took_fd);

/* Is v frozen (see struct cm__vmo)? Acquire: frozen_size, dev and ino may
 * be read after it returns 1. */
static inline int cm__vmo_frozen(const struct cm__vmo *v)
{
    return atomic_load_explicit((atomic_int *)&v->frozen, memory_order_acquire) == 1;
}

/* Admits a VMO fd that arrived in a channel message, from the facts its
 * judge gathered (cm__vmo_gather), and installs its handle. Errors the peer
 * caused are PROTOCOL; local ones (NO_RESOURCES, NO_MEMORY, UNSUPPORTED)
 * keep their status. On success fd is closed or owned by the handle; on
 * failure the caller still owns it. */
cm_status_t cm__vmo_receive(int fd, const struct cm__vmo_facts *f, const struct stat *sb,
                            cm_rights_t claimed, uint64_t exact, cm_handle_t *out);

/* The size field of obj's channel descriptor (host/wire.h): a huge-page
 * VMO's exact size, 0 for anything else (a base-page VMO's size comes from
 * its fd at the receiver). */
uint64_t cm__vmo_wire_size(const struct cm__hobj *obj);

/* An fd of the VMO `obj` for another process, for a handle holding
 * `rights`: a new open file description (O_RDWR only with WRITE), so that
 * nothing the other process does to its description (O_APPEND, O_DIRECT)
 * reaches ours. Refuses what an fd cannot express (cm__transfer_check), and
 * an fd that could let the other process cut one of our mappings (a holder
 * of WRITE sets F_SEAL_SHRINK instead). Marks the object shared.
 * Errors: UNSUPPORTED (file window; WRITE dropped without a write seal; no
 * /proc); BAD_STATE (mapped here, size not sealed, no WRITE to seal it);
 * NO_RESOURCES (RLIMIT_NOFILE). host/vmo_fd.c. */
cm_status_t cm__vmo_fd_for_peer(struct cm__hobj *obj, cm_rights_t rights, int *fd_out);

/* Maps [offset, offset+len) of v (looked up with `rights`) as cm_vmo_map
 * does, at `fixed` (MAP_FIXED over the caller's reservation) when not NULL,
 * recording mapping generation `gen` (host/vmo.c). */
cm_status_t cm__vmo_map_at(struct cm__vmo *v, cm_rights_t rights, uint64_t offset,
                           uint64_t len, uint32_t flags, void *fixed, uint64_t gen,
                           void **addr);
/* Looks up a VMO handle needing `need`; on success *v holds a reference
 * the caller puts, and *rights (may be NULL) the handle's rights
 * (host/vmo.c). */
cm_status_t cm__vmo_get(cm_handle_t h, cm_rights_t need, struct cm__vmo **v,
                        cm_rights_t *rights);
/* cm__vmo_get without sizing a lazily sized file (struct cm__vmo,
 * size_state): for a use that never depends on the file's size, so that it
 * works even where the sizing would fail (RLIMIT_FSIZE lowered below the
 * size since the create). Such a use takes the size from cm__vmo_known_size.
 * BAD_STATE for a CM__SIZE_LOST copy. */
cm_status_t cm__vmo_get_unsized(cm_handle_t h, cm_rights_t need, struct cm__vmo **v,
                                cm_rights_t *rights);
/* Is v's file sized (CM__SIZE_SET)? Read before the fstat whose size is
 * passed to cm__vmo_known_size as file_sized. */
int cm__vmo_file_sized(const struct cm__vmo *v);
/* The size of a base-page VMO whose file size was read as file_size after
 * cm__vmo_file_sized said file_sized: the file's, unless the file was not
 * sized then (local_size). */
uint64_t cm__vmo_known_size(const struct cm__vmo *v, int file_sized, uint64_t file_size);
/* The VMO's identity as cm_vmo_info.id reports it. */
cm_status_t cm__vmo_id(struct cm__vmo *v, uint64_t *id);
/* A new mapping generation, never reused in this address space (host/vmar.c). */
uint64_t cm__mapping_gen_next(void);

/* ---- Channel internals (host/channel.c) ---- */
struct cm__channel {
    struct cm__hobj hdr;
    int fd;                 /* AF_UNIX SOCK_SEQPACKET; calls use MSG_DONTWAIT */
    pthread_mutex_t lock;   /* serializes reads: guards pending */
    struct cm__pending *pending; /* receive buffer; holds a message the caller's buffers could not */
    /* Waits that polled since one found a record queued by peeking
     * (host/channel.c, wait_peek); 0: the next wait peeks first. Guarded by
     * lock. */
    int wait_polls;
    /* 1: someone outside the library may hold a dup of the socket: it came
     * from outside this process (received in a record, or adopted by
     * cm_host_channel_from_fd), or it was sent (a duplicate handle may keep
     * it here), or cm_host_object_fd gave it out. That
     * holder can set SO_PEEK_OFF at any time, which makes a peek skip
     * queued records: a wait on it never sleeps in its peek
     * (host/channel.c, wait_in_peek). Never goes back to 0. */
    atomic_int shared_socket;
};

/* Wraps a connected seqpacket socket (owned) as a channel object.
 * On failure the fd is NOT closed. */
cm_status_t cm__channel_wrap(int fd, struct cm__channel **out);

/* host/ledger.c: the library's ledger (docs/ledger.md). Charges return
 * the kind's typed status; a release of more than is charged is counted
 * (cm__hledger_errors) instead of crashing. resize moves *charged (read
 * and written only under the ledger's lock) to `amount`, charging or
 * releasing the difference, if it still equals `expect`
 * (CM__HLEDGER_ANY: whatever it is; else BAD_STATE, nothing changed);
 * *was (if not NULL) gets the value it had. */
#define CM__HLEDGER_ANY UINT64_MAX
#include <capmem/ledger.h>
cm_status_t cm__hledger_charge(cm_ledger_kind_t kind, uint64_t amount);
void cm__hledger_uncharge(cm_ledger_kind_t kind, uint64_t amount);
/* A VMO made here: VMOS 1 and OBJECT_BACKING `backing`, both or neither
 * (one lock, a share's cost); released by uncharge_vmo with *backing, the
 * charge as resized since (read under the lock, then 0). */
cm_status_t cm__hledger_charge_vmo(uint64_t backing);
void cm__hledger_uncharge_vmo(uint64_t *backing);
cm_status_t cm__hledger_resize(cm_ledger_kind_t kind, uint64_t *charged, uint64_t expect,
                               uint64_t amount, uint64_t *was);
uint64_t cm__hledger_errors(void);

#endif
