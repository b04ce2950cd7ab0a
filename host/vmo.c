/* VMOs on Linux: a memfd per object.
 *
 * Everything a receiver relies on is enforced by the Linux kernel, not by
 * this library: size is fstat's, seals are F_GET_SEALS', and write
 * protection is a seal (an fd's access mode is not protection: an O_RDONLY
 * memfd can be reopened O_RDWR through /proc/self/fd). Seal levels:
 *   READONLY  = F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK
 *   IMMUTABLE = READONLY | F_SEAL_WRITE   (EBUSY while writably mapped)
 * A file window (cm_vmo_create_from_file) holds the file's fd and never has
 * WRITE; it is never IMMUTABLE because the file can change underneath. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "mappings.h"

#define SEALS_READONLY  (F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)
#define SEALS_IMMUTABLE (SEALS_READONLY | F_SEAL_WRITE)
#define SEALS_NO_WRITE  (F_SEAL_FUTURE_WRITE | F_SEAL_WRITE)

static void vmo_destroy(struct cm__hobj *obj)
{
    struct cm__vmo *v = (struct cm__vmo *)obj;
    close(v->fd);
    free(v);
}

static cm_status_t vmo_alloc(int fd, int is_file, struct cm__vmo **out)
{
    struct cm__vmo *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return CM_ERR_NO_MEMORY;
    cm__hobj_init(&v->hdr, CM_OBJ_VMO, vmo_destroy);
    v->fd = fd;
    v->is_file = is_file;
    *out = v;
    return CM_OK;
}

cm_status_t cm__vmo_wrap_memfd(int fd, struct cm__vmo **out)
{
    struct stat st;
    /* F_GET_SEALS succeeds only on shmem/hugetlbfs files: a regular file,
     * pipe or socket posing as a VMO is refused here. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_GET_SEALS) < 0)
        return CM_ERR_WRONG_TYPE;
    return vmo_alloc(fd, 0, out);
}

cm_status_t cm__vmo_wrap_checked(int fd, struct cm__vmo **out)
{
    return vmo_alloc(fd, 0, out);
}

cm_rights_t cm__vmo_rights_from(int fl, int seals)
{
    cm_rights_t r = CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER;
    if ((fl & O_ACCMODE) == O_RDWR && (seals & SEALS_NO_WRITE) == 0)
        r |= CM_RIGHT_WRITE;
    return r;
}

cm_status_t cm__vmo_platform_rights(int fd, cm_rights_t *rights)
{
    int fl = fcntl(fd, F_GETFL);
    int seals = fcntl(fd, F_GET_SEALS);
    if (fl < 0 || seals < 0)
        return CM_ERR_WRONG_TYPE;
    *rights = cm__vmo_rights_from(fl, seals);
    return CM_OK;
}

void cm__vmo_freeze(struct cm__vmo *v, uint64_t size, uint64_t dev, uint64_t ino, int seals)
{
    const int fixed = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;
    if ((seals & fixed) != fixed)
        return;
    v->frozen_size = size;
    v->dev = dev;
    v->ino = ino;
    v->frozen = 1;
}

/* Looks up a VMO handle needing `need`; returns a reference in *v. */
static cm_status_t get_vmo(cm_handle_t h, cm_rights_t need, struct cm__vmo **v,
                           cm_rights_t *rights)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_VMO, need, &obj, rights);
    if (st == CM_OK)
        *v = (struct cm__vmo *)obj;
    return st;
}

static cm_status_t vmo_size(const struct cm__vmo *v, uint64_t *size)
{
    struct stat st;
    if (v->is_file) {
        *size = v->file_len;
        return CM_OK;
    }
    if (fstat(v->fd, &st) != 0)
        return cm__status_from_errno(errno);
    *size = (uint64_t)st.st_size;
    return CM_OK;
}

/* offset+len <= size, without overflow. */
static int range_ok(uint64_t offset, uint64_t len, uint64_t size)
{
    return offset <= size && len <= size - offset;
}

cm_status_t cm_vmo_create(uint64_t size, uint32_t options, cm_handle_t *out)
{
    struct cm__vmo *v;
    cm_status_t st;
    if (out == NULL || (options & ~CM_VMO_COMMIT) != 0)
        return CM_ERR_INVALID_ARGS;
    if (size > CM_VMO_MAX_SIZE)
        return CM_ERR_OUT_OF_RANGE;
    int fd = memfd_create("capmem-vmo", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return cm__status_from_errno(errno);
    if (ftruncate(fd, (off_t)size) != 0) {
        st = cm__status_from_errno(errno);
        goto bad;
    }
    /* fallocate is the cheapest way Linux offers to obtain shmem pages
     * (about 3x cheaper than faulting them in one by one). */
    if ((options & CM_VMO_COMMIT) && size > 0 && fallocate(fd, 0, 0, (off_t)size) != 0) {
        st = errno == ENOSPC ? CM_ERR_NO_MEMORY : cm__status_from_errno(errno);
        goto bad;
    }
    st = vmo_alloc(fd, 0, &v);
    if (st != CM_OK)
        goto bad;
    st = cm__handle_install(&v->hdr, CM_VMO_DEFAULT_RIGHTS, out);
    if (st != CM_OK)
        cm__hobj_put(&v->hdr); /* closes fd */
    return st;
bad:
    close(fd);
    return st;
}

cm_status_t cm_vmo_create_from_file(const char *path, uint64_t offset, uint64_t len,
                                    cm_handle_t *out)
{
    struct stat st;
    struct cm__vmo *v;
    cm_status_t rc;
    if (path == NULL || out == NULL || offset % CM_PAGE_SIZE != 0)
        return CM_ERR_INVALID_ARGS;
    if (len > CM_VMO_MAX_SIZE && len != CM_VMO_TO_END)
        return CM_ERR_OUT_OF_RANGE;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cm__status_from_errno(errno);
    if (fstat(fd, &st) != 0) {
        rc = cm__status_from_errno(errno);
        goto bad;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = CM_ERR_INVALID_ARGS;
        goto bad;
    }
    if (len == CM_VMO_TO_END && offset <= (uint64_t)st.st_size)
        len = (uint64_t)st.st_size - offset;
    if (!range_ok(offset, len, (uint64_t)st.st_size) || len > CM_VMO_MAX_SIZE) {
        rc = CM_ERR_OUT_OF_RANGE;
        goto bad;
    }
    rc = vmo_alloc(fd, 1, &v);
    if (rc != CM_OK)
        goto bad;
    v->file_off = offset;
    v->file_len = len;
    rc = cm__handle_install(&v->hdr, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE, out);
    if (rc != CM_OK)
        cm__hobj_put(&v->hdr);
    return rc;
bad:
    close(fd);
    return rc;
}

/* Copies len bytes between buf and the VMO at offset, after the checks
 * both directions share. A sealed memfd refuses pwrite with EPERM: the
 * kernel, not this library, is what stops a write. */
static cm_status_t vmo_rw(cm_handle_t vmo, void *buf, uint64_t offset, uint64_t len,
                          int write)
{
    struct cm__vmo *v;
    uint64_t size = 0;
    cm_status_t st = get_vmo(vmo, write ? CM_RIGHT_WRITE : CM_RIGHT_READ, &v, NULL);
    if (st != CM_OK)
        return st;
    if (buf == NULL && len > 0)
        st = CM_ERR_INVALID_ARGS;
    if (st == CM_OK)
        st = vmo_size(v, &size);
    if (st == CM_OK && !range_ok(offset, len, size))
        st = CM_ERR_OUT_OF_RANGE;
    for (uint64_t done = 0; st == CM_OK && done < len;) {
        char *p = (char *)buf + done;
        off_t at = (off_t)(v->file_off + offset + done);
        ssize_t n = write ? pwrite(v->fd, p, len - done, at) : pread(v->fd, p, len - done, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = cm__status_from_errno(errno);
        else if (n == 0)
            st = CM_ERR_OUT_OF_RANGE; /* object shrank under us */
        else
            done += (uint64_t)n;
    }
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_read(cm_handle_t vmo, void *buf, uint64_t offset, uint64_t len)
{
    return vmo_rw(vmo, buf, offset, len, 0);
}

cm_status_t cm_vmo_write(cm_handle_t vmo, const void *buf, uint64_t offset, uint64_t len)
{
    return vmo_rw(vmo, (void *)(uintptr_t)buf, offset, len, 1);
}

cm_status_t cm_vmo_get_size(cm_handle_t vmo, uint64_t *size)
{
    struct cm__vmo *v;
    if (size == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(vmo, 0, &v, NULL);
    if (st != CM_OK)
        return st;
    st = vmo_size(v, size);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_set_size(cm_handle_t vmo, uint64_t size)
{
    struct cm__vmo *v;
    struct stat sb;
    cm_status_t st = get_vmo(vmo, CM_RIGHT_WRITE, &v, NULL);
    if (st != CM_OK)
        return st;
    int seals = fcntl(v->fd, F_GET_SEALS);
    if (size > CM_VMO_MAX_SIZE) {
        st = CM_ERR_OUT_OF_RANGE;
    } else if (seals < 0 || (seals & (SEALS_NO_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)) != 0) {
        /* Any seal fixes the size, even a no-op resize (same as the kernel
         * target); a file window is never resizable. */
        st = CM_ERR_ACCESS_DENIED;
    } else if (fstat(v->fd, &sb) != 0) {
        st = cm__status_from_errno(errno);
    } else if (size < (uint64_t)sb.st_size && cm__map_extends_past(sb.st_dev, sb.st_ino, size)) {
        st = CM_ERR_BAD_STATE;
    } else if (ftruncate(v->fd, (off_t)size) != 0) {
        st = cm__status_from_errno(errno); /* EPERM: sealed */
    }
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_get_info(cm_handle_t vmo, cm_vmo_info_t *info)
{
    struct cm__vmo *v;
    struct stat sb;
    cm_rights_t rights;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(vmo, 0, &v, &rights);
    if (st != CM_OK)
        return st;
    if (v->frozen) {
        memset(info, 0, sizeof(*info));
        info->id = (v->dev << 40) ^ v->ino;
        info->size = v->frozen_size;
        info->rights = rights & ~CM_RIGHT_WRITE;
        info->flags = CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY;
        goto out;
    }
    if (fstat(v->fd, &sb) != 0) {
        st = cm__status_from_errno(errno);
        goto out;
    }
    memset(info, 0, sizeof(*info));
    info->id = ((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino;
    info->rights = rights;
    if (v->is_file) {
        info->size = v->file_len;
        info->flags = CM_VMO_INFO_FILE | CM_VMO_INFO_READONLY;
        info->rights &= ~CM_RIGHT_WRITE;
        goto out;
    }
    info->size = (uint64_t)sb.st_size;
    int seals = fcntl(v->fd, F_GET_SEALS);
    int fl = fcntl(v->fd, F_GETFL);
    if (seals < 0 || fl < 0) {
        st = CM_ERR_INTERNAL;
        goto out;
    }
    /* Same rule as cm__vmo_platform_rights, without repeating its calls. */
    if ((fl & O_ACCMODE) != O_RDWR || (seals & SEALS_NO_WRITE) != 0)
        info->rights &= ~CM_RIGHT_WRITE;
    /* IMMUTABLE only when the kernel forbids every change of content and
     * size for every holder; FUTURE_WRITE alone leaves old mappings live. */
    const int fixed_size = F_SEAL_GROW | F_SEAL_SHRINK;
    if ((seals & (F_SEAL_WRITE | fixed_size)) == (F_SEAL_WRITE | fixed_size))
        info->flags |= CM_VMO_INFO_IMMUTABLE;
    if ((seals & SEALS_NO_WRITE) != 0 && (seals & fixed_size) == fixed_size)
        info->flags |= CM_VMO_INFO_READONLY;
out:
    cm__hobj_put(&v->hdr);
    return st;
}

/* EBUSY from F_SEAL_WRITE has two causes: a writable shared mapping (any
 * process; reported at once) or pages with extra references the kernel
 * waited ~150 ms for in memfd_wait_for_pins, which include pages still in a
 * per-CPU LRU batch right after a fill: transient. A few retries absorb the
 * transient case; the mapping case fails them all just as fast. */
#define SEAL_ATTEMPTS 3

static cm_status_t add_seals(int fd, int seals)
{
    for (int i = 0; i < SEAL_ATTEMPTS; i++) {
        if (fcntl(fd, F_ADD_SEALS, seals) == 0)
            return CM_OK;
        if (errno != EBUSY)
            return cm__status_from_errno(errno);
    }
    return CM_ERR_BAD_STATE; /* writable mapping, or pages pinned (e.g. by DMA) */
}

cm_status_t cm_vmo_seal(cm_handle_t vmo, cm_seal_t level)
{
    struct cm__vmo *v;
    int seals;
    if (level == CM_SEAL_READONLY)
        seals = SEALS_READONLY;
    else if (level == CM_SEAL_IMMUTABLE)
        seals = SEALS_IMMUTABLE;
    else
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(vmo, CM_RIGHT_WRITE, &v, NULL);
    if (st != CM_OK)
        return st;
    if (v->is_file) {
        st = CM_ERR_UNSUPPORTED;
    } else {
        st = add_seals(v->fd, seals);
    }
    cm__hobj_put(&v->hdr);
    return st;
}

/* Copies len bytes from src (at src_off) into dst_fd at 0, through a
 * read-only mapping of the source: one copy, no bounce buffer. */
static cm_status_t copy_into(int src_fd, uint64_t src_off, uint64_t len, int dst_fd)
{
    if (len == 0)
        return CM_OK;
    void *p = cm__mmap_shared(src_fd, len, PROT_READ, 0, src_off);
    if (p == MAP_FAILED)
        return cm__status_from_errno(errno);
    cm_status_t st = CM_OK;
    for (uint64_t done = 0; done < len;) {
        ssize_t n = pwrite(dst_fd, (const char *)p + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st = n < 0 ? cm__status_from_errno(errno) : CM_ERR_IO;
            break;
        }
        done += (uint64_t)n;
    }
    munmap(p, len);
    return st;
}

cm_status_t cm_vmo_snapshot(cm_handle_t vmo, cm_handle_t *out)
{
    struct cm__vmo *v, *snap;
    uint64_t size = 0;
    int fd = -1;
    if (out == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(vmo, CM_RIGHT_READ, &v, NULL);
    if (st != CM_OK)
        return st;
    st = vmo_size(v, &size);
    if (st != CM_OK)
        goto bad;
    fd = memfd_create("capmem-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        st = cm__status_from_errno(errno);
        goto bad;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        st = cm__status_from_errno(errno);
        goto bad;
    }
    st = copy_into(v->fd, v->file_off, size, fd);
    if (st != CM_OK)
        goto bad;
    if (fcntl(fd, F_ADD_SEALS, SEALS_IMMUTABLE) != 0) {
        st = cm__status_from_errno(errno);
        goto bad;
    }
    st = vmo_alloc(fd, 0, &snap);
    if (st != CM_OK)
        goto bad;
    fd = -1;
    st = cm__handle_install(&snap->hdr, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE |
                                        CM_RIGHT_TRANSFER, out);
    if (st != CM_OK)
        cm__hobj_put(&snap->hdr);
    cm__hobj_put(&v->hdr);
    return st;
bad:
    if (fd >= 0)
        close(fd);
    cm__hobj_put(&v->hdr);
    return st;
}

cm_status_t cm_vmo_map(cm_handle_t vmo, uint64_t offset, uint64_t len, uint32_t flags,
                       void **addr)
{
    struct cm__vmo *v;
    struct stat sb;
    uint64_t size = 0;
    cm_rights_t need = CM_RIGHT_MAP;
    if (addr == NULL || len == 0 || offset % CM_PAGE_SIZE != 0 ||
        (flags & ~(CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE)) != 0 ||
        (flags & CM_MAP_READ) == 0)
        return CM_ERR_INVALID_ARGS;
    need |= CM_RIGHT_READ;
    if (flags & CM_MAP_WRITE)
        need |= CM_RIGHT_WRITE;
    cm_status_t st = get_vmo(vmo, need, &v, NULL);
    if (st != CM_OK)
        return st;
    if (v->frozen) {
        sb.st_dev = (dev_t)v->dev;
        sb.st_ino = (ino_t)v->ino;
        sb.st_size = (off_t)v->frozen_size;
    } else if (fstat(v->fd, &sb) != 0) {
        st = cm__status_from_errno(errno);
    }
    size = v->is_file ? v->file_len : (uint64_t)sb.st_size;
    if (st == CM_OK && !range_ok(offset, len, size))
        st = CM_ERR_OUT_OF_RANGE;
    if (st == CM_OK) {
        /* Never PROT_EXEC: data mappings are W^X. A write mapping of a
         * sealed memfd is refused by mmap itself (EPERM). */
        struct cm__map_req req = {
            .fd = v->fd, .fd_offset = v->file_off + offset, .obj_offset = offset,
            .len = len, .prot = PROT_READ | ((flags & CM_MAP_WRITE) ? PROT_WRITE : 0),
            .extra_flags = (flags & CM_MAP_POPULATE) ? MAP_POPULATE : 0,
            .dev = sb.st_dev, .ino = sb.st_ino,
        };
        st = cm__map_create(&req, addr);
    }
    cm__hobj_put(&v->hdr);
    return st;
}
