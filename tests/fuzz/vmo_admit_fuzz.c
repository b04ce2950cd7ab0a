/* SPDX-License-Identifier: MIT */
/* Fuzz target for received-VMO validation (core/vmo_admit.c): the one rule
 * deciding whether an fd from another process is admitted as a VMO, and
 * with which rights.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Icore \
 *       tests/fuzz/vmo_admit_fuzz.c core/vmo_admit.c -o vmo_admit_fuzz
 *
 * Input, structure-aware so that most inputs reach the decision's end: one
 * byte picks which single fact (if any) is wrong, then seals, size class,
 * access mode and claimed rights. Checked against an independent statement
 * of docs/vmo.md ("Admission"):
 *   - the status is exactly the documented one for the facts (precedence);
 *   - on error the verdict is untouched;
 *   - granted rights are a subset of the claimed ones, of the VMO rights,
 *     and of what the fd allows (WRITE only on a writable fd, no write seal);
 *     READ and MAP are granted whenever claimed;
 *   - reopen O_RDWR exactly when WRITE is granted;
 *   - IMMUTABLE exactly when WRITE|GROW|SHRINK are sealed; size_fixed exactly
 *     when GROW|SHRINK; size_floor exactly when SHRINK;
 *   - nothing over CM_VMO_MAX_SIZE, nothing linked, nothing neither shmem nor
 *     hugetlbfs; hugetlbfs only with 2 MiB pages and a size that is a
 *     multiple of them;
 *   - the exact size a peer claims: a huge VMO's size is the claim only
 *     inside (file size - 2 MiB, file size] (0 only for an empty file), the
 *     file size when no claim can come; a base-page VMO's claim is 0 or
 *     none, and its size is the file's. The size never exceeds the file's.
 * At exit it prints the share of inputs admitted and each refusal's count
 * (a TAP comment), so a target that stopped reaching the end shows. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capmem/vmo.h>
#include "fuzz_input.h"
#include "fuzz_stage.h"
#include "vmo_admit.h"

/* decided: the rule returned (and matched the oracle); refused by the
 * object: a refusal past the argument check; accepted: admitted. */
FUZZ_STAGES("decided", "refused_object", "accepted");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Facts from input: which one fact is wrong (if any) is chosen first, so
 * that every refusal and acceptance are all common. */
static void decode(struct reader *c, struct cm__vmo_facts *f, cm_rights_t *claimed,
                   uint64_t *exact)
{
    uint8_t bad = byte(c) % 16; /* 1..6: that fact is wrong; else all are right */
    uint8_t huge = byte(c);
    memset(f, 0, sizeof(*f));
    f->seals_ok = bad != 1;
    f->is_reg = bad != 2;
    f->readable = bad != 3;
    f->fs = bad == 5 ? CM__VMO_FS_OTHER : (huge & 1) ? CM__VMO_FS_HUGETLB : CM__VMO_FS_SHMEM;
    /* bad 4: a hugetlbfs file of another page size (1 GiB, 64 KiB, 0). */
    f->page_size = bad == 4 ? (huge & 2 ? 1u << 30 : huge & 4 ? 1u << 16 : 0)
                            : CM_HUGE_PAGE_SIZE;
    f->nlink = bad == 6 ? 1u + byte(c) : 0;
    /* Two bytes of three bits each reach every seal even when the input's
     * bytes are small (the driver's are mostly 0..7); a third adds unknown bits. */
    f->seals = (uint32_t)(byte(c) & 7) | (uint32_t)(byte(c) & 7) << 3;
    f->seals |= (uint32_t)(byte(c) & 0xf0) << 2;
    switch (byte(c) % 8) {
    case 5: f->size = CM_VMO_MAX_SIZE - byte(c); break;
    case 6: f->size = CM_VMO_MAX_SIZE + byte(c); break; /* + 0: the limit itself */
    case 7: f->size = u64(c); break;
    default: f->size = (uint64_t)byte(c) * CM_PAGE_SIZE; break;
    }
    /* Huge files are mostly whole huge pages, as hugetlbfs makes them. */
    if ((huge & 1) && (huge & 0x70) != 0)
        f->size = f->size / CM_HUGE_PAGE_SIZE * CM_HUGE_PAGE_SIZE;
    /* The claimed exact size: none, 0, around the file size's edges, any. */
    switch (byte(c) % 8) {
    case 0: *exact = CM__VMO_EXACT_NONE; break;
    case 1: *exact = 0; break;
    case 2: *exact = f->size - byte(c); break;  /* wraps for a small size */
    case 3: *exact = f->size + byte(c); break;
    case 4: *exact = f->size - CM_HUGE_PAGE_SIZE + byte(c); break;
    case 5: *exact = f->size - CM_HUGE_PAGE_SIZE - byte(c); break;
    case 6: *exact = u64(c); break;
    default: *exact = f->size - (uint64_t)byte(c) * CM_PAGE_SIZE; break;
    }
    uint8_t mode = byte(c);
    f->writable = mode & 1;
    f->mode_deferred = (mode >> 1) & 1; /* the host did not read the mode */
    uint8_t k = byte(c);
    if (k % 4 == 0)
        *claimed = CM_RIGHTS_SAME;
    else if (k % 4 == 1)
        *claimed = (cm_rights_t)byte(c) | (cm_rights_t)(byte(c) & 0x80) << 24; /* stray bits */
    else
        *claimed = ((cm_rights_t)(byte(c) & 7) | (cm_rights_t)(byte(c) & 7) << 3) & CM_RIGHTS_ALL;
}

/* docs/vmo.md's admission rule, restated independently of core/. */
/* The claim fits a huge file of `size` bytes, stated without core's helper. */
static int exact_ok(uint64_t exact, uint64_t size)
{
    if (size == 0)
        return exact == 0;
    return exact <= size && exact + CM_HUGE_PAGE_SIZE > size;
}

static cm_status_t expected(const struct cm__vmo_facts *f, cm_rights_t claimed, uint64_t exact)
{
    int huge = f->fs == CM__VMO_FS_HUGETLB;
    if (claimed != CM_RIGHTS_SAME && (claimed & ~CM_RIGHTS_ALL) != 0)
        return CM_ERR_INVALID_ARGS;
    if (!f->seals_ok || !f->is_reg)
        return CM_ERR_WRONG_TYPE;
    if (huge && f->page_size != 2u * 1024 * 1024)
        return CM_ERR_UNSUPPORTED;
    if ((f->fs != CM__VMO_FS_SHMEM && !huge) || f->nlink != 0)
        return CM_ERR_WRONG_TYPE;
    if (huge && f->size % (2u * 1024 * 1024) != 0)
        return CM_ERR_WRONG_TYPE;
    if (f->size > CM_VMO_MAX_SIZE)
        return CM_ERR_OUT_OF_RANGE;
    if (exact != UINT64_MAX && (huge ? !exact_ok(exact, f->size) : exact != 0))
        return CM_ERR_OUT_OF_RANGE;
    /* An fd whose mode was not read is admitted only when sealed so that
     * no mode could add a right: WRITE, GROW and SHRINK. */
    uint32_t frozen = CM__SEAL_WRITE | CM__SEAL_GROW | CM__SEAL_SHRINK;
    if (f->mode_deferred ? (f->seals & frozen) != frozen : !f->readable)
        return CM_ERR_ACCESS_DENIED;
    return CM_OK;
}

static uint32_t has_all(uint32_t v, uint32_t bits)
{
    return (v & bits) == bits ? 1u : 0u;
}

static void check_verdict(const struct cm__vmo_facts *f, cm_rights_t claimed, uint64_t exact,
                          const struct cm__vmo_verdict *v)
{
    cm_rights_t r = v->rights;
    cm_rights_t cap = claimed == CM_RIGHTS_SAME ? CM_RIGHTS_ALL : claimed;
    if ((r & ~cap) != 0 || (r & ~CM_VMO_DEFAULT_RIGHTS) != 0)
        abort(); /* a right nobody claimed, or not a VMO right */
    if ((r & CM_RIGHT_WRITE) &&
        (f->mode_deferred || !f->writable ||
         (f->seals & (CM__SEAL_WRITE | CM__SEAL_FUTURE_WRITE)) != 0))
        abort(); /* WRITE that does not work on the fd held, or on a mode not read */
    if (v->mode_deferred != (f->mode_deferred != 0))
        abort(); /* the host must know it keeps an fd of unread mode */
    if ((r & (CM_RIGHT_READ | CM_RIGHT_MAP)) != (cap & (CM_RIGHT_READ | CM_RIGHT_MAP)))
        abort(); /* an admitted fd is readable: READ and MAP are granted when claimed */
    if (v->open_write != ((r & CM_RIGHT_WRITE) != 0))
        abort(); /* the reopen mode must follow the rights, both ways */
    if (v->immutable != has_all(f->seals, CM__SEAL_WRITE | CM__SEAL_GROW | CM__SEAL_SHRINK))
        abort();
    if (v->size_fixed != has_all(f->seals, CM__SEAL_GROW | CM__SEAL_SHRINK) ||
        v->size_floor != ((f->seals & CM__SEAL_SHRINK) != 0u))
        abort();
    int huge = f->fs == CM__VMO_FS_HUGETLB;
    uint64_t want = huge && exact != UINT64_MAX ? exact : f->size;
    if (v->size != want || v->size > f->size || v->size > CM_VMO_MAX_SIZE)
        abort(); /* never a size past the file, whatever the peer claimed */
    if (v->huge != (uint32_t)huge || (huge && v->size + CM_HUGE_PAGE_SIZE <= f->size))
        abort();
    if ((f->fs != CM__VMO_FS_SHMEM && !huge) || f->nlink != 0 || !f->seals_ok || !f->is_reg)
        abort();
}

static unsigned long runs, admitted, admitted_huge, refused[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader c = { data, size };
    struct cm__vmo_facts f;
    struct cm__vmo_verdict v, before;
    cm_rights_t claimed;
    uint64_t exact;
    decode(&c, &f, &claimed, &exact);
    memset(&v, 0xa5, sizeof(v));
    before = v;
    cm_status_t st = cm__vmo_admit_decide(&f, claimed, exact, &v);
    if (st != expected(&f, claimed, exact))
        abort();
    runs++;
    FUZZ_REACHED(0);
    if (st != CM_OK && st != CM_ERR_INVALID_ARGS)
        FUZZ_REACHED(1);
    if (st == CM_OK) {
        FUZZ_REACHED(2);
        admitted++;
        check_verdict(&f, claimed, exact, &v);
        if (v.huge)
            admitted_huge++;
    } else {
        if (memcmp(&v, &before, sizeof(v)) != 0)
            abort(); /* an error left a partial verdict */
        refused[(uint32_t)-st % 32]++;
    }
    return 0;
}

__attribute__((destructor)) static void report(void)
{
    if (runs == 0)
        return;
    printf("# vmo_admit: %lu of %lu inputs admitted (%.1f%%, %lu huge); refused:", admitted,
           runs, 100.0 * (double)admitted / (double)runs, admitted_huge);
    for (int s = 1; s < 32; s++)
        if (refused[s] > 0)
            printf(" [status %d] %lu", -s, refused[s]);
    printf("\n");
}
