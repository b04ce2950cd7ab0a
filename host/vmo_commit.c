/* SPDX-License-Identifier: MIT */
/* Commit and decommit of VMO pages (cm_vmo_op_range), and the committed
 * count (cm_vmo_get_committed), on a memfd. Linux keeps the truth: COMMIT
 * is fallocate(mode 0), which allocates every missing page of the range and,
 * on failure, frees again the pages it allocated (shmem_fallocate), so a
 * failed COMMIT leaves the committed set as it was; DECOMMIT is
 * fallocate(PUNCH_HOLE | KEEP_SIZE), which frees the pages and zaps them
 * from every mapping (a later access faults in a zero page). The count is
 * the memfd's allocated blocks (st_blocks, 512-byte units), which tmpfs
 * keeps exact per page. Rules: core/vmar_rules.c. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"
#include "vmar_rules.h"
#include "status_detail.h"

cm_status_t cm_vmo_op_range(cm_handle_t vmo, uint32_t op, uint64_t offset, uint64_t len)
{
    CM__ENTRY();
    struct cm__vmo *v;
    struct stat sb;
    cm_status_t st = cm__vmo_op_range_check_args(op, offset, len);
    if (st != CM_OK)
        return st;
    /* A COMMIT of a lazily sized file sizes it first (fallocate would
     * extend it only to the range's end); a DECOMMIT reads its size. */
    st = op == CM_VMO_OP_COMMIT ? cm__vmo_get(vmo, CM_RIGHT_WRITE, &v, NULL)
                                : cm__vmo_get_unsized(vmo, CM_RIGHT_WRITE, &v, NULL);
    if (st != CM_OK)
        return st;
    /* COMMIT's fallocate can extend the file: no resize of this process
     * between its check and the call (struct cm__vmo, size_lock). */
    int hold = op == CM_VMO_OP_COMMIT && !v->is_file;
    if (hold)
        pthread_rwlock_rdlock(&v->size_lock);
    int seals = v->is_file ? 0 : fcntl(v->fd, F_GET_SEALS);
    int sized = cm__vmo_file_sized(v); /* before the fstat: cm__vmo_known_size */
    if (seals < 0 || fstat(v->fd, &sb) != 0) {
        st = cm__errno_detail("fstat", errno);
        goto out;
    }
    uint64_t size = v->is_file ? v->file_len : cm__vmo_known_size(v, sized, (uint64_t)sb.st_size);
    if (v->huge)
        size = atomic_load(&v->local_size);
    st = cm__vmo_op_range_check_facts(size, (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0,
                                      v->is_file, op, offset, len);
    if (st == CM_OK && v->huge)
        st = CM_ERR_UNSUPPORTED; /* punching hugetlbfs needs 2 MiB granules */
    if (st != CM_OK)
        goto out;
    int mode = op == CM_VMO_OP_COMMIT ? 0 : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    int rc;
    do
        rc = fallocate(v->fd, mode, (off_t)offset, (off_t)len);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        if (errno == EPERM)
            st = CM_ERR_ACCESS_DENIED; /* sealed by another holder meanwhile */
        else
            st = cm__vmo_pages_errno("fallocate", errno);
    }
out:
    if (hold)
        pthread_rwlock_unlock(&v->size_lock);
    cm__hobj_put(&v->hdr);
    return st;
}

/* The allocated bytes of a file, at most its size rounded up to whole
 * pages: st_blocks also counts pages allocated past the end of the file
 * (fallocate KEEP_SIZE by any holder of a writable fd before a GROW seal),
 * which are no part of the VMO. It cannot say where a page lies, so with
 * such pages the figure is an upper bound, not exact. */
static uint64_t committed_within_size(const struct stat *sb, uint64_t page)
{
    uint64_t blocks = sb->st_blocks > 0 ? (uint64_t)sb->st_blocks : 0;
    uint64_t size = sb->st_size > 0 ? (uint64_t)sb->st_size : 0;
    uint64_t cap = size > UINT64_MAX - (page - 1) ? UINT64_MAX / page * page
                                                  : (size + page - 1) / page * page;
    uint64_t bytes = blocks > UINT64_MAX / 512u ? UINT64_MAX : blocks * 512u;
    return bytes < cap ? bytes : cap;
}

cm_status_t cm_vmo_get_committed(cm_handle_t vmo, uint64_t *bytes)
{
    CM__ENTRY();
    struct cm__vmo *v;
    struct stat sb;
    if (bytes == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmo_get_unsized(vmo, 0, &v, NULL); /* counts pages, not size */
    if (st != CM_OK)
        return st;
    if (v->is_file)
        st = CM_ERR_UNSUPPORTED;
    else if (fstat(v->fd, &sb) != 0)
        st = cm__errno_detail("fstat", errno);
    else
        *bytes = committed_within_size(&sb, v->huge ? CM_HUGE_PAGE_SIZE : CM_PAGE_SIZE);
    cm__hobj_put(&v->hdr);
    return st;
}
