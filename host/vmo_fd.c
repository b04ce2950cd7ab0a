/* Host-only bridges between VMO handles and Linux file descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <capmem/host.h>
#include "internal.h"

cm_status_t cm_host_vmo_from_fd(int fd, cm_rights_t rights, cm_handle_t *out)
{
    struct cm__vmo *v;
    cm_rights_t platform;
    if (fd < 0 || out == NULL || (rights != CM_RIGHTS_SAME && (rights & ~CM_RIGHTS_ALL)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmo_platform_rights(fd, &platform);
    if (st != CM_OK)
        return CM_ERR_WRONG_TYPE;
    st = cm__vmo_wrap_memfd(fd, &v);
    if (st != CM_OK)
        return st;
    cm_rights_t r = platform & CM_VMO_DEFAULT_RIGHTS;
    if (rights != CM_RIGHTS_SAME)
        r &= rights;
    st = cm__handle_install(&v->hdr, r, out);
    if (st != CM_OK) {
        v->fd = -1; /* the caller keeps its fd on failure */
        cm__hobj_put(&v->hdr);
    }
    return st;
}

cm_status_t cm_host_vmo_export_fd(cm_handle_t vmo, int *fd_out)
{
    struct cm__hobj *obj;
    if (fd_out == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__handle_get(vmo, CM_OBJ_VMO, CM_RIGHT_DUPLICATE, &obj, NULL);
    if (st != CM_OK)
        return st;
    int fd = fcntl(((struct cm__vmo *)obj)->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        st = cm__status_from_errno(errno);
    else
        *fd_out = fd;
    cm__hobj_put(obj);
    return st;
}
