/* SPDX-License-Identifier: MIT */
/* cm_host_object_fd: an object's signals as an fd for an event loop
 * (docs/integration.md).
 *
 * The fd is the object's own socket, whose poll(2) state is exactly what
 * cm_object_wait_one sleeps on for that object (host/object.c): a channel's
 * POLLIN (a record queued, or the hang-up), POLLOUT, POLLRDHUP; a
 * listener's POLLIN. Those are level-triggered facts of the kernel's socket
 * state, so a caller that drains until SHOULD_WAIT and then waits loses no
 * wake-up. A SharedBuffer consumer's producer writes a wake-up byte only
 * while a sleeper has announced itself (host/sbuf_wait.c): the event loop
 * is announced for good (cm__sbuf_consumer_event_fd), and a receive that
 * finds nothing drains the bytes before its last look. A producer's fd is
 * its epoll set of the consumers' sockets and its eventfd, announced the
 * same way (cm__sbuf_producer_event_fd). */
#include <poll.h>

#include <capmem/host.h>
#include "internal.h"
#include "sbuf_internal.h"
#include "status_detail.h"

int cm__listener_fd(struct cm__hobj *obj); /* host/listener.c */

cm_status_t cm_host_object_fd(cm_handle_t handle, cm_signals_t signals, int *fd,
                              uint32_t *events)
{
    CM__ENTRY();
    struct cm__hobj *obj;
    if (fd == NULL || events == NULL || signals == 0 || (signals & ~CM_SIGNALS_ALL) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "cm_host_object_fd: %s",
                              fd == NULL || events == NULL ? "fd or events is NULL"
                              : signals == 0 ? "signals is 0"
                                             : "signals has bits outside CM_SIGNALS_ALL");
    cm_rights_t have;
    cm_status_t st = cm__handle_get(handle, CM_OBJ_NONE, 0, &obj, &have);
    if (st != CM_OK)
        return st;
    /* Rule (as for cm_host_vmo_export_fd): no sequence of public calls
     * yields a right the handle lacks. The fd can be read, written, dup'ed,
     * sent and adopted (cm_host_channel_from_fd) by whoever holds it, so it
     * is given only to a handle that may already do what the fd does with
     * the object: all of a channel's rights; a consumer's READ (the fd drains
     * its wake-ups); a producer's WRITE (the fd is its epoll set, whose
     * interest list its holder can edit); nothing for a listener (accept
     * needs no right). */
    cm_rights_t need = obj->type == CM_OBJ_CHANNEL         ? CM_CHANNEL_DEFAULT_RIGHTS
                       : obj->type == CM_OBJ_SBUF_CONSUMER ? CM_RIGHT_READ
                       : obj->type == CM_OBJ_SBUF          ? CM_RIGHT_WRITE
                                                           : 0;
    if ((have & need) != need) {
        cm__hobj_put(obj);
        return cm__detail_set(CM_ERR_ACCESS_DENIED, "cm_host_object_fd: the fd can do what "
                              "rights 0x%x allow; the handle has 0x%x", need, have);
    }
    uint32_t ev = 0;
    switch (obj->type) {
    case CM_OBJ_CHANNEL:
        *fd = ((struct cm__channel *)obj)->fd;
        /* Its holder can set SO_PEEK_OFF: no wait sleeps in a peek of it. */
        atomic_store(&((struct cm__channel *)obj)->shared_socket, 1);
        if (signals & CM_SIGNAL_READABLE)
            ev |= POLLIN;
        if (signals & CM_SIGNAL_WRITABLE)
            ev |= POLLOUT;
        if (signals & CM_SIGNAL_PEER_CLOSED)
            ev |= POLLRDHUP;
        break;
    case CM_OBJ_LISTENER:
        *fd = cm__listener_fd(obj);
        if (signals & CM_SIGNAL_READABLE)
            ev |= POLLIN; /* a listener asserts nothing else */
        break;
    case CM_OBJ_SBUF_CONSUMER:
        /* READABLE and PEER_CLOSED both arrive as POLLIN (a wake-up byte,
         * or the hang-up of the producer's end); it asserts nothing else. */
        if (signals & (CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED))
            ev |= POLLIN;
        st = cm__sbuf_consumer_event_fd(obj, ev != 0, fd);
        break;
    case CM_OBJ_SBUF:
        /* WRITABLE arrives as POLLIN on the epoll set of the consumers'
         * sockets and the eventfd; a producer asserts nothing else. */
        if (signals & CM_SIGNAL_WRITABLE)
            ev |= POLLIN;
        st = cm__sbuf_producer_event_fd(obj, ev != 0, fd);
        if (st != CM_OK)
            cm__detail_set(st, "cm_host_object_fd: a forked child's copy of a SharedBuffer "
                           "has no producer role");
        break;
    default:
        st = cm__detail_set(CM_ERR_WRONG_TYPE, "cm_host_object_fd: object type %u has no "
                            "signals", obj->type);
        break;
    }
    if (st == CM_OK)
        *events = ev;
    cm__hobj_put(obj);
    return st;
}
