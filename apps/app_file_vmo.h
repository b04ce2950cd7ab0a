#ifndef CAPMEM_APPS_APP_FILE_VMO_H
#define CAPMEM_APPS_APP_FILE_VMO_H

/* A file's bytes as an IMMUTABLE VMO that can be sent: shared by the apps
 * and tools, target-independent (public API only).
 *
 * Why not cm_vmo_snapshot of a file window: a snapshot gets the rights of
 * the handle it copies (no call sequence yields a right its source lacked),
 * and a window has no TRANSFER, so its snapshot could never be sent. A VMO
 * of our own, filled from the window and sealed, has every right a created
 * VMO has; it costs the same one copy (pread into the mapping). */

#include <stdint.h>

#include <capmem/capmem.h>

/* Copies the window's len bytes into vmo through one writable mapping,
 * unmapped before returning (IMMUTABLE refuses a writable mapping). */
static inline cm_status_t app_fill_from_window(cm_handle_t vmo, cm_handle_t win, uint64_t len)
{
    void *p;
    if (len == 0)
        return CM_OK;
    cm_status_t st = cm_vmo_map(vmo, 0, len, CM_MAP_READ | CM_MAP_WRITE, &p);
    if (st != CM_OK)
        return st;
    /* The window's length was fixed when it was opened: a file cut short
     * since reads OUT_OF_RANGE, never a partial copy. */
    st = cm_vmo_read(win, p, 0, len);
    cm_status_t un = cm_vmo_unmap(p, len);
    return st != CM_OK ? st : un;
}

/* Opens path and returns in *out a new VMO sealed IMMUTABLE holding its
 * bytes, and their count in *size. Errors: those of
 * cm_vmo_create_from_file (NOT_FOUND, INVALID_ARGS for a non-regular file,
 * OUT_OF_RANGE past CM_VMO_MAX_SIZE, ...), cm_vmo_create, cm_vmo_map,
 * cm_vmo_read, cm_vmo_seal. Nothing is left open on error. */
static inline cm_status_t app_vmo_from_file(const char *path, cm_handle_t *out, uint64_t *size)
{
    cm_handle_t win, vmo;
    uint64_t len = 0;
    cm_status_t st = cm_vmo_create_from_file(path, 0, CM_VMO_TO_END, &win);
    if (st != CM_OK)
        return st;
    st = cm_vmo_get_size(win, &len);
    if (st == CM_OK)
        st = cm_vmo_create(len, 0, &vmo);
    if (st != CM_OK) {
        cm_handle_close(win);
        return st;
    }
    st = app_fill_from_window(vmo, win, len);
    cm_handle_close(win);
    if (st == CM_OK)
        st = cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE);
    if (st != CM_OK) {
        cm_handle_close(vmo);
        return st;
    }
    *out = vmo;
    *size = len;
    return CM_OK;
}

#endif
