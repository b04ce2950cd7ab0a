/* The process-wide handle table of the host library.
 *
 * One core/handle_table with CM_MAX_HANDLES slots, guarded by one mutex.
 * A slot holds one reference on a cm__hobj; lookups hand out an extra
 * reference so a concurrent cm_handle_close cannot free an object that
 * another thread is using. Objects own their file descriptors: destroying
 * the object closes them. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "handle_table.h"
#include "rights.h"
#include "internal.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cm_htab_entry table_entries[CM_MAX_HANDLES];
static struct cm_htab table;
static int table_ready;

static struct cm_htab *locked_table(void)
{
    pthread_mutex_lock(&table_lock);
    if (!table_ready) {
        cm__htab_init(&table, table_entries, CM_MAX_HANDLES);
        table_ready = 1;
    }
    return &table;
}

void cm__hobj_init(struct cm__hobj *obj, uint32_t type, void (*destroy)(struct cm__hobj *))
{
    obj->type = type;
    atomic_init(&obj->refs, 1);
    obj->destroy = destroy;
}

void cm__hobj_ref(struct cm__hobj *obj)
{
    atomic_fetch_add_explicit(&obj->refs, 1, memory_order_relaxed);
}

void cm__hobj_put(struct cm__hobj *obj)
{
    if (obj != NULL && atomic_fetch_sub_explicit(&obj->refs, 1, memory_order_acq_rel) == 1)
        obj->destroy(obj);
}

cm_status_t cm__handle_install(struct cm__hobj *obj, cm_rights_t rights, cm_handle_t *out)
{
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_alloc(t, obj, obj->type, rights, out);
    pthread_mutex_unlock(&table_lock);
    return st;
}

cm_status_t cm__handle_get(cm_handle_t h, uint32_t type, cm_rights_t need,
                           struct cm__hobj **obj, cm_rights_t *rights)
{
    struct cm_htab_entry *e;
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_lookup(t, h, type, need, &e);
    if (st == CM_OK) {
        *obj = e->object;
        cm__hobj_ref(*obj);
        if (rights != NULL)
            *rights = e->rights;
    }
    pthread_mutex_unlock(&table_lock);
    return st;
}

cm_status_t cm__handle_take(cm_handle_t h, struct cm__hobj **obj, cm_rights_t *rights)
{
    struct cm_htab_entry removed;
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_remove(t, h, &removed);
    pthread_mutex_unlock(&table_lock);
    if (st == CM_OK) {
        *obj = removed.object;
        if (rights != NULL)
            *rights = removed.rights;
    }
    return st;
}

cm_status_t cm_handle_close(cm_handle_t handle)
{
    struct cm__hobj *obj;
    if (handle == CM_HANDLE_INVALID)
        return CM_OK;
    cm_status_t st = cm__handle_take(handle, &obj, NULL);
    if (st == CM_OK)
        cm__hobj_put(obj);
    return st;
}

cm_status_t cm_handle_duplicate(cm_handle_t handle, cm_rights_t rights, cm_handle_t *out)
{
    struct cm__hobj *obj;
    cm_rights_t have, derived;
    if (out == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__handle_get(handle, CM_OBJ_NONE, CM_RIGHT_DUPLICATE, &obj, &have);
    if (st != CM_OK)
        return st;
    st = cm__rights_derive(have, rights, &derived);
    if (st == CM_OK)
        st = cm__handle_install(obj, derived, out);
    if (st != CM_OK)
        cm__hobj_put(obj);
    return st;
}

cm_status_t cm_handle_replace(cm_handle_t handle, cm_rights_t rights, cm_handle_t *out)
{
    struct cm_htab_entry *e;
    cm_rights_t derived;
    if (out == NULL)
        return CM_ERR_INVALID_ARGS;
    struct cm_htab *t = locked_table();
    cm_status_t st = cm__htab_lookup(t, handle, CM_OBJ_NONE, 0, &e);
    if (st == CM_OK)
        st = cm__rights_derive(e->rights, rights, &derived);
    if (st == CM_OK) {
        /* Validated: removing then re-adding cannot fail, since the freed
         * slot is immediately available again. */
        struct cm_htab_entry old;
        cm__htab_remove(t, handle, &old);
        st = cm__htab_alloc(t, old.object, old.type, derived, out);
    }
    pthread_mutex_unlock(&table_lock);
    return st;
}

cm_status_t cm_handle_get_info(cm_handle_t handle, cm_handle_info_t *info)
{
    struct cm__hobj *obj;
    cm_rights_t rights;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__handle_get(handle, CM_OBJ_NONE, 0, &obj, &rights);
    if (st != CM_OK)
        return st;
    info->type = obj->type;
    info->rights = rights;
    cm__hobj_put(obj);
    return CM_OK;
}

uint32_t cm_host_live_handles(void)
{
    struct cm_htab *t = locked_table();
    uint32_t n = t->live;
    pthread_mutex_unlock(&table_lock);
    return n;
}

cm_status_t cm__status_from_errno(int err)
{
    switch (err) {
    case 0: return CM_ERR_INTERNAL;
    case EINVAL: return CM_ERR_INVALID_ARGS;
    case EBADF: return CM_ERR_BAD_HANDLE;
    case EPERM:
    case EACCES: return CM_ERR_ACCESS_DENIED;
    case ENOMEM:
    case ENOSPC: return CM_ERR_NO_MEMORY;
    case EMFILE:
    case ENFILE:
    case ETOOMANYREFS: return CM_ERR_NO_RESOURCES;
    case EBUSY: return CM_ERR_BAD_STATE;
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN: return CM_ERR_PEER_CLOSED;
    case EAGAIN: return CM_ERR_SHOULD_WAIT;
    case ETIMEDOUT: return CM_ERR_TIMED_OUT;
    case ENOENT:
    case ECONNREFUSED: return CM_ERR_NOT_FOUND;
    case EEXIST:
    case EADDRINUSE: return CM_ERR_ALREADY_EXISTS;
    case EFBIG:
    case EOVERFLOW:
    case EMSGSIZE: return CM_ERR_OUT_OF_RANGE;
    case ENAMETOOLONG: return CM_ERR_INVALID_ARGS;
    default: return CM_ERR_IO;
    }
}
