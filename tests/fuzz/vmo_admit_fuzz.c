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
 *   - nothing over CM_VMO_MAX_SIZE, nothing unlinked, hugetlb, or not shmem.
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
static void decode(struct reader *c, struct cm__vmo_facts *f, cm_rights_t *claimed)
{
    uint8_t bad = byte(c) % 16; /* 1..6: that fact is wrong; else all are right */
    memset(f, 0, sizeof(*f));
    f->seals_ok = bad != 1;
    f->is_reg = bad != 2;
    f->readable = bad != 3;
    f->fs = bad == 4 ? CM__VMO_FS_HUGETLB : bad == 5 ? CM__VMO_FS_OTHER : CM__VMO_FS_SHMEM;
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
    f->writable = byte(c) & 1;
    uint8_t k = byte(c);
    if (k % 4 == 0)
        *claimed = CM_RIGHTS_SAME;
    else if (k % 4 == 1)
        *claimed = (cm_rights_t)byte(c) | (cm_rights_t)(byte(c) & 0x80) << 24; /* stray bits */
    else
        *claimed = ((cm_rights_t)(byte(c) & 7) | (cm_rights_t)(byte(c) & 7) << 3) & CM_RIGHTS_ALL;
}

/* docs/vmo.md's admission rule, restated independently of core/. */
static cm_status_t expected(const struct cm__vmo_facts *f, cm_rights_t claimed)
{
    if (claimed != CM_RIGHTS_SAME && (claimed & ~CM_RIGHTS_ALL) != 0)
        return CM_ERR_INVALID_ARGS;
    if (!f->seals_ok || !f->is_reg)
        return CM_ERR_WRONG_TYPE;
    if (f->fs == CM__VMO_FS_HUGETLB)
        return CM_ERR_UNSUPPORTED;
    if (f->fs != CM__VMO_FS_SHMEM || f->nlink != 0)
        return CM_ERR_WRONG_TYPE;
    if (f->size > CM_VMO_MAX_SIZE)
        return CM_ERR_OUT_OF_RANGE;
    if (!f->readable)
        return CM_ERR_ACCESS_DENIED;
    return CM_OK;
}

static uint32_t has_all(uint32_t v, uint32_t bits)
{
    return (v & bits) == bits ? 1u : 0u;
}

static void check_verdict(const struct cm__vmo_facts *f, cm_rights_t claimed,
                          const struct cm__vmo_verdict *v)
{
    cm_rights_t r = v->rights;
    cm_rights_t cap = claimed == CM_RIGHTS_SAME ? CM_RIGHTS_ALL : claimed;
    if ((r & ~cap) != 0 || (r & ~CM_VMO_DEFAULT_RIGHTS) != 0)
        abort(); /* a right nobody claimed, or not a VMO right */
    if ((r & CM_RIGHT_WRITE) &&
        (!f->writable || (f->seals & (CM__SEAL_WRITE | CM__SEAL_FUTURE_WRITE)) != 0))
        abort(); /* WRITE that does not work on the fd held */
    if ((r & (CM_RIGHT_READ | CM_RIGHT_MAP)) != (cap & (CM_RIGHT_READ | CM_RIGHT_MAP)))
        abort(); /* an admitted fd is readable: READ and MAP are granted when claimed */
    if (v->open_write != ((r & CM_RIGHT_WRITE) != 0))
        abort(); /* the reopen mode must follow the rights, both ways */
    if (v->immutable != has_all(f->seals, CM__SEAL_WRITE | CM__SEAL_GROW | CM__SEAL_SHRINK))
        abort();
    if (v->size_fixed != has_all(f->seals, CM__SEAL_GROW | CM__SEAL_SHRINK) ||
        v->size_floor != ((f->seals & CM__SEAL_SHRINK) != 0u))
        abort();
    if (v->size != f->size || v->size > CM_VMO_MAX_SIZE)
        abort();
    if (f->fs != CM__VMO_FS_SHMEM || f->nlink != 0 || !f->seals_ok || !f->is_reg)
        abort();
}

static unsigned long runs, admitted, refused[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader c = { data, size };
    struct cm__vmo_facts f;
    struct cm__vmo_verdict v, before;
    cm_rights_t claimed;
    decode(&c, &f, &claimed);
    memset(&v, 0xa5, sizeof(v));
    before = v;
    cm_status_t st = cm__vmo_admit_decide(&f, claimed, &v);
    if (st != expected(&f, claimed))
        abort();
    runs++;
    FUZZ_REACHED(0);
    if (st != CM_OK && st != CM_ERR_INVALID_ARGS)
        FUZZ_REACHED(1);
    if (st == CM_OK) {
        FUZZ_REACHED(2);
        admitted++;
        check_verdict(&f, claimed, &v);
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
    printf("# vmo_admit: %lu of %lu inputs admitted (%.1f%%); refused:", admitted, runs,
           100.0 * (double)admitted / (double)runs);
    for (int s = 1; s < 32; s++)
        if (refused[s] > 0)
            printf(" [status %d] %lu", -s, refused[s]);
    printf("\n");
}
