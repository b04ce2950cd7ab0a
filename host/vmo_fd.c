/* SPDX-License-Identifier: MIT */
/* Host-only bridges between VMO handles and Linux file descriptors.
 *
 * Rule: no sequence of public calls yields a handle with a right its source
 * lacked. An fd can always be duplicated and sent anywhere, and its access
 * mode and the object's seals are all Linux enforces; so an fd is exported
 * only for a handle whose rights an fd can express, and an fd is admitted
 * with no more rights than its mode and seals allow. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/host.h>
#include "internal.h"
#include "channel_internal.h"
#include "fd_owned.h"
#include "mappings.h"
#include "vmo_admit.h"
#include "status_detail.h"

cm_status_t cm_host_vmo_from_fd(int fd, cm_rights_t rights, cm_handle_t *out)
{
    CM__ENTRY();
    struct cm__vmo *v;
    cm_rights_t granted;
    int took = 0;
    if (fd < 0 || out == NULL || (rights != CM_RIGHTS_SAME && (rights & ~CM_RIGHTS_ALL)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmo_admit(fd, rights, &v, &granted, &took);
    if (st != CM_OK)
        return st;
    /* Kept as it is (a frozen read-only fd, not reopened): rule "one fd, one
     * owner" (host/fd_owned.h), as for cm_host_channel_from_fd. A number
     * the library holds already would be closed twice. */
    int owned = took ? cm__fd_own(fd) : 0;
    if (owned != 0) {
        cm__vmo_admit_undo(v, took);
        return owned < 0 ? CM_ERR_NO_MEMORY
                         : cm__detail_set(CM_ERR_ALREADY_EXISTS, "cm_host_vmo_from_fd: fd %d is "
                                          "held by a capmem VMO already", fd);
    }
    st = cm__handle_install(&v->hdr, granted, out);
    if (st != CM_OK) {
        if (took)
            cm__fd_disown(fd);
        cm__vmo_admit_undo(v, took); /* the caller keeps fd */
        return st;
    }
    if (!took)
        close(fd); /* ownership taken: the handle holds its own reopen */
    return CM_OK;
}

/* A mapping of this process must not be cut by the process the fd goes
 * to: unless F_SEAL_SHRINK is set, a holder of WRITE sets it (the floor is
 * its decision to make), anyone else is refused. A huge-page VMO's pages
 * must not be punched out under it either (cm__vmo_huge_pages_fixed): only
 * a write seal prevents that, and the library does not seal the caller's
 * content on its behalf, so a mapped one without it is refused. */
static cm_status_t guard_mappings(struct cm__vmo *v, cm_rights_t rights)
{
    struct stat sb;
    int seals = fcntl(v->fd, F_GET_SEALS);
    if (seals < 0 || fstat(v->fd, &sb) != 0)
        return CM_ERR_INTERNAL;
    int punchable = v->huge && !cm__vmo_huge_pages_fixed((uint32_t)seals);
    /* With the floor set (and the pages fixed) any mapping, made before or
     * after, is safe. Else v stops being private under the table's lock
     * (cm__map_share) before the look at the mappings: a cm_vmo_map
     * racing with this is recorded already, or finds v shared. */
    if ((!punchable && (seals & F_SEAL_SHRINK)) || !cm__map_share(v, sb.st_dev, sb.st_ino))
        return CM_OK;
    if (punchable || !(rights & CM_RIGHT_WRITE) || fcntl(v->fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
        return CM_ERR_BAD_STATE;
    return CM_OK;
}

cm_status_t cm__vmo_fd_for_peer(struct cm__hobj *obj, cm_rights_t rights, int *fd_out)
{
    struct cm__vmo *v = (struct cm__vmo *)obj;
    /* The same rule as sending the handle: a window's fd is the whole file,
     * and dropping WRITE is real only under a write seal. */
    cm_status_t st = cm__transfer_check(obj, rights);
    if (st == CM_OK)
        st = guard_mappings(v, rights);
    /* A reopen reads nothing of the mode it reopens: an O_WRONLY fd kept
     * as it came (mode_deferred) would come back readable. */
    if (st == CM_OK)
        st = cm__vmo_readable(v);
    if (st != CM_OK)
        return st;
    int fd = cm__proc_reopen(v->fd, (rights & CM_RIGHT_WRITE) != 0);
    if (fd < 0)
        return errno == ENOENT ? CM_ERR_UNSUPPORTED : cm__errno_detail("open of /proc/self/fd/N (reopen for the peer)", errno);
    /* From now on another process may hold it and shrink it. */
    atomic_store(&v->shared, 1);
    *fd_out = fd;
    return CM_OK;
}

/* Rights every fd carries whatever its mode: it can be read and mapped
 * (READ, MAP), dup'ed (DUPLICATE) and passed to any process (TRANSFER). */
#define FD_IMPLIED_RIGHTS (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

cm_status_t cm_host_vmo_export_fd(cm_handle_t vmo, int *fd_out)
{
    CM__ENTRY();
    struct cm__hobj *obj;
    cm_rights_t rights;
    if (fd_out == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__handle_get(vmo, CM_OBJ_VMO, FD_IMPLIED_RIGHTS, &obj, &rights);
    if (st != CM_OK)
        return st;
    st = cm__vmo_fd_for_peer(obj, rights, fd_out);
    cm__hobj_put(obj);
    return st;
}
