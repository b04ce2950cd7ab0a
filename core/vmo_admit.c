/* Admission of a foreign fd as a VMO: the decision only (see vmo_admit.h). */
#include "vmo_admit.h"

#define VMO_FD_RIGHTS (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

static cm_status_t check_object(const struct cm__vmo_facts *f)
{
    if (!f->seals_ok || !f->is_reg)
        return CM_ERR_WRONG_TYPE;
    if (f->fs == CM__VMO_FS_HUGETLB)
        return CM_ERR_UNSUPPORTED;
    /* A linked tmpfs file can be opened and truncated by path by anyone:
     * only an unlinked one is a private object like a memfd. */
    if (f->fs != CM__VMO_FS_SHMEM || f->nlink != 0)
        return CM_ERR_WRONG_TYPE;
    if (f->size > CM_VMO_MAX_SIZE)
        return CM_ERR_OUT_OF_RANGE;
    if (!f->readable)
        return CM_ERR_ACCESS_DENIED;
    return CM_OK;
}

cm_status_t cm__vmo_admit_decide(const struct cm__vmo_facts *f, cm_rights_t claimed,
                                 struct cm__vmo_verdict *out)
{
    if (claimed != CM_RIGHTS_SAME && (claimed & ~CM_RIGHTS_ALL) != 0)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = check_object(f);
    if (st != CM_OK)
        return st;
    /* WRITE only where it works on the fd held: writable mode, no write seal. */
    cm_rights_t r = VMO_FD_RIGHTS;
    if (f->writable && !cm__vmo_write_drop_enforced(f->seals))
        r |= CM_RIGHT_WRITE;
    if (claimed != CM_RIGHTS_SAME)
        r &= claimed;
    out->rights = r;
    out->open_write = (r & CM_RIGHT_WRITE) != 0;
    out->size_fixed = (f->seals & CM__SEALS_FIXED_SIZE) == CM__SEALS_FIXED_SIZE;
    out->size_floor = (f->seals & CM__SEAL_SHRINK) != 0;
    out->immutable = (f->seals & CM__SEALS_IMMUTABLE) == CM__SEALS_IMMUTABLE;
    out->size = f->size;
    return CM_OK;
}
