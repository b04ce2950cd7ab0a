/* SPDX-License-Identifier: MIT */
/* Admission of a foreign fd as a VMO: the decision only (see vmo_admit.h). */
#include "limits_info.h"
#include "vmo_admit.h"

#define VMO_FD_RIGHTS (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

static cm_status_t check_object(const struct cm__vmo_facts *f, uint64_t exact)
{
    int huge = f->fs == CM__VMO_FS_HUGETLB;
    if (!f->seals_ok || !f->is_reg)
        return CM_ERR_WRONG_TYPE;
    /* 1 GiB pages (or any other size) would need other mapping offsets. */
    if (huge && f->page_size != CM_HUGE_PAGE_SIZE)
        return CM_ERR_UNSUPPORTED;
    /* A linked tmpfs file can be opened and truncated by path by anyone:
     * only an unlinked one is a private object like a memfd. */
    if ((f->fs != CM__VMO_FS_SHMEM && !huge) || f->nlink != 0)
        return CM_ERR_WRONG_TYPE;
    if (huge && f->size % CM_HUGE_PAGE_SIZE != 0)
        return CM_ERR_WRONG_TYPE; /* not what hugetlbfs makes */
    if (f->size > CM__VMO_MAX_SIZE)
        return CM_ERR_OUT_OF_RANGE;
    if (exact != CM__VMO_EXACT_NONE &&
        (huge ? !cm__vmo_exact_fits(exact, f->size) : exact != 0))
        return CM_ERR_OUT_OF_RANGE;
    if (f->mode_deferred ? (f->seals & CM__SEALS_IMMUTABLE) != CM__SEALS_IMMUTABLE
                         : !f->readable)
        return CM_ERR_ACCESS_DENIED;
    return CM_OK;
}

cm_status_t cm__vmo_admit_decide(const struct cm__vmo_facts *f, cm_rights_t claimed,
                                 uint64_t exact, struct cm__vmo_verdict *out)
{
    if (claimed != CM_RIGHTS_SAME && (claimed & ~CM_RIGHTS_ALL) != 0)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = check_object(f, exact);
    if (st != CM_OK)
        return st;
    /* WRITE only where it works on the fd held: writable mode, no write seal. */
    cm_rights_t r = VMO_FD_RIGHTS;
    if (!f->mode_deferred && f->writable && !cm__vmo_write_drop_enforced(f->seals))
        r |= CM_RIGHT_WRITE;
    if (claimed != CM_RIGHTS_SAME)
        r &= claimed;
    out->rights = r;
    out->open_write = (r & CM_RIGHT_WRITE) != 0;
    out->size_fixed = (f->seals & CM__SEALS_FIXED_SIZE) == CM__SEALS_FIXED_SIZE;
    out->size_floor = (f->seals & CM__SEAL_SHRINK) != 0;
    out->immutable = (f->seals & CM__SEALS_IMMUTABLE) == CM__SEALS_IMMUTABLE;
    out->huge = f->fs == CM__VMO_FS_HUGETLB;
    out->mode_deferred = f->mode_deferred != 0;
    out->size = out->huge && exact != CM__VMO_EXACT_NONE ? exact : f->size;
    return CM_OK;
}
