/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_VMO_ADMIT_H
#define CAPMEM_CORE_VMO_ADMIT_H

/* The one rule deciding whether a file descriptor that came from outside
 * the library (a channel message, cm_host_vmo_from_fd) is admitted as a VMO,
 * and with which rights. Pure: the host gathers the facts (seals FIRST, then
 * what they freeze: size, type, filesystem), this decides, the host performs
 * (reopens the file with the access mode decided here). Freestanding, so the
 * fuzz target and any other target can drive it with arbitrary facts.
 *
 * What is admitted is exactly what docs/vmo.md promises: an unlinked shmem
 * file (a memfd), or an unlinked hugetlbfs file of CM_HUGE_PAGE_SIZE pages
 * (a huge-page memfd), of at most CM_VMO_MAX_SIZE bytes, opened for reading.
 *
 * Exact size. A hugetlbfs file's size is a multiple of its page size, so a
 * huge-page VMO's exact size is kept by the library and travels next to the
 * fd (host/wire.h). It is the peer's claim, hostile input: admitted only in
 * (file size - CM_HUGE_PAGE_SIZE, file size] (0 only with file size 0), so it
 * never lets the receiver read or map past the file. A base-page memfd's
 * size is the file's; a claim there must be "none" (0 on the wire). */

#include <stdint.h>
#include <capmem/limits.h>
#include <capmem/rights.h>
#include <capmem/status.h>

/* Seal bits, with Linux's F_SEAL_* values (host/vmo.c asserts they agree). */
#define CM__SEAL_SEAL         0x0001u /* no further seal may be added */
#define CM__SEAL_SHRINK       0x0002u /* size can never decrease */
#define CM__SEAL_GROW         0x0004u /* size can never increase */
#define CM__SEAL_WRITE        0x0008u /* no write, no writable mapping, for anyone */
#define CM__SEAL_FUTURE_WRITE 0x0010u /* no new write or writable mapping */
#define CM__SEALS_NO_WRITE    (CM__SEAL_WRITE | CM__SEAL_FUTURE_WRITE)
#define CM__SEALS_FIXED_SIZE  (CM__SEAL_GROW | CM__SEAL_SHRINK)
#define CM__SEALS_IMMUTABLE   (CM__SEAL_WRITE | CM__SEALS_FIXED_SIZE)

/* Filesystem the file lives on (fstatfs f_type, translated by the host). */
enum cm__vmo_fs {
    CM__VMO_FS_OTHER = 0,
    CM__VMO_FS_SHMEM = 1,   /* tmpfs / memfd */
    CM__VMO_FS_HUGETLB = 2, /* hugetlbfs memfd (MFD_HUGETLB) */
};

/* `exact` argument of cm__vmo_admit_decide when no exact size came with
 * the fd (cm_host_vmo_from_fd): a huge-page VMO's size is then its file's. */
#define CM__VMO_EXACT_NONE UINT64_MAX

/* Facts about an fd, in the order they must be read: `seals` first, since
 * it decides which of the others can still change. */
struct cm__vmo_facts {
    int32_t seals_ok;   /* F_GET_SEALS succeeded (only shmem/hugetlbfs files) */
    uint32_t seals;     /* CM__SEAL_* bits, valid when seals_ok */
    uint32_t is_reg;    /* S_ISREG */
    uint32_t fs;        /* enum cm__vmo_fs */
    uint64_t nlink;     /* 0 for a memfd or an unlinked tmpfs file */
    uint64_t size;      /* bytes, read after the seals */
    uint32_t readable;  /* the fd's access mode allows reading */
    uint32_t writable;  /* the fd's access mode allows writing */
    /* 1: the host did not read the access mode (readable and writable mean
     * nothing). Admitted only for an fd sealed WRITE|GROW|SHRINK, where the
     * mode cannot add a right (WRITE is sealed off); the verdict then says
     * mode_deferred and the host keeps the fd as it came, whose first read
     * or mapping is refused by Linux itself if it is not readable. */
    uint32_t mode_deferred;
    uint32_t page_size; /* hugetlbfs: the file's page size (fstatfs f_bsize) */
};

/* What the host must do with an admitted fd. */
struct cm__vmo_verdict {
    cm_rights_t rights;     /* granted: subset of claimed, of the fd's mode, of defaults */
    uint32_t open_write;    /* reopen O_RDWR (1) or O_RDONLY (0): follows rights */
    uint32_t size_fixed;    /* GROW and SHRINK sealed: `size` is final */
    uint32_t size_floor;    /* SHRINK sealed: `size` is a lower bound forever */
    uint32_t immutable;     /* WRITE, GROW and SHRINK sealed */
    uint32_t huge;          /* hugetlbfs, CM_HUGE_PAGE_SIZE pages */
    /* The fd's readability is not known (facts.mode_deferred): keep the fd
     * as it is (never reopen it: a reopen would make an O_WRONLY fd
     * readable) and learn the mode at the first use that fails. Implies
     * immutable and no WRITE. */
    uint32_t mode_deferred;
    uint64_t size;          /* the VMO's size: the file's, or a huge one's exact size */
};

/* Decides admission. `claimed` is CM_RIGHTS_SAME (no cap) or a mask of
 * CM_RIGHTS_ALL bits that can only reduce the rights. `exact` is the exact
 * size the peer sent with the fd (0: none, for a base-page VMO), or
 * CM__VMO_EXACT_NONE when none can come (cm_host_vmo_from_fd).
 * Precedence, first match wins:
 *   INVALID_ARGS  claimed has an undefined bit
 *   WRONG_TYPE    seals unreadable, or not a regular file
 *   UNSUPPORTED   a hugetlbfs file whose page size is not CM_HUGE_PAGE_SIZE
 *   WRONG_TYPE    neither shmem nor hugetlbfs, or linked (a named file
 *                 others can open), or a hugetlbfs size that is not a
 *                 multiple of its page size
 *   OUT_OF_RANGE  size > CM_VMO_MAX_SIZE; or `exact` not what the file
 *                 allows: a base-page file with a claim other than 0 or
 *                 NONE, a huge one with exact outside (size - huge page,
 *                 size] (0 only with size 0)
 *   ACCESS_DENIED the fd cannot be read (O_WRONLY, O_PATH); or its mode
 *                 was not read (mode_deferred) and it is not sealed
 *                 WRITE|GROW|SHRINK
 * On error *out is untouched. */
cm_status_t cm__vmo_admit_decide(const struct cm__vmo_facts *f, cm_rights_t claimed,
                                 uint64_t exact, struct cm__vmo_verdict *out);

/* Is `exact` a size a huge-page file of `file_size` bytes can hold? The
 * one statement of the rule above; used by the fuzz oracle's statement too. */
static inline int cm__vmo_exact_fits(uint64_t exact, uint64_t file_size)
{
    if (file_size == 0)
        return exact == 0;
    return exact <= file_size && exact > file_size - CM_HUGE_PAGE_SIZE;
}

/* True when `seals` make dropping WRITE real for every holder of the object:
 * any holder can reopen a memfd read-write, so only a write seal stops it. */
static inline int cm__vmo_write_drop_enforced(uint32_t seals)
{
    return (seals & CM__SEALS_NO_WRITE) != 0;
}

/* True when `seals` keep a hugetlbfs file's pages in place for every
 * holder: a holder that can write the file can punch a hole in it
 * (fallocate PUNCH_HOLE), which frees the pages with their reservation, and
 * a later touch of any mapping there needs a free huge page or is SIGBUS.
 * Linux refuses the punch only under a write seal. */
static inline int cm__vmo_huge_pages_fixed(uint32_t seals)
{
    return (seals & CM__SEALS_NO_WRITE) != 0;
}

#endif
