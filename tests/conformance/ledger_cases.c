/* SPDX-License-Identifier: MIT */
/* Ledger cases on both targets (docs/ledger.md): what the shared API
 * promises whatever the target enforces. */
#include <capmem/capmem.h>
#include <capmem/ledger.h>

#include "harness.h"
#include "ledger_cases.h"

int test_ledger_reports_every_kind_within_its_limit(void)
{
    cm_ledger_info_t info;
    CHECK_ST(cm_ledger_get(NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_ledger_get(&info), CM_OK);
    CHECK(info.kinds == CM_LEDGER_KIND_COUNT);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        const cm_ledger_entry_t *e = &info.entry[k];
        CHECK(e->used <= e->limit && e->given <= e->limit - e->used);
        CHECK(e->peak >= e->used);
    }
    /* Both targets enforce these. */
    CHECK((info.entry[CM_LEDGER_HANDLES].flags & CM_LEDGER_ENFORCED) != 0);
    CHECK((info.entry[CM_LEDGER_VMOS].flags & CM_LEDGER_ENFORCED) != 0);
    CHECK((info.entry[CM_LEDGER_VIRTUAL].flags & CM_LEDGER_ENFORCED) != 0);
    CHECK(info.entry[CM_LEDGER_HANDLES].limit <= CM_MAX_HANDLES);
    return 0;
}

int test_ledger_limit_never_rises_and_unknown_kind_is_out_of_range(void)
{
    cm_ledger_info_t info;
    CHECK_ST(cm_ledger_get(&info), CM_OK);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++) {
        const cm_ledger_entry_t *e = &info.entry[k];
        if ((e->flags & CM_LEDGER_ENFORCED) == 0) {
            CHECK_ST(cm_ledger_set_limit((cm_ledger_kind_t)k, e->limit), CM_ERR_UNSUPPORTED);
            continue;
        }
        /* The same limit is no change; one more is refused. */
        CHECK_ST(cm_ledger_set_limit((cm_ledger_kind_t)k, e->limit), CM_OK);
        if (e->limit < UINT64_MAX)
            CHECK_ST(cm_ledger_set_limit((cm_ledger_kind_t)k, e->limit + 1), CM_ERR_ACCESS_DENIED);
    }
    CHECK_ST(cm_ledger_set_limit(CM_LEDGER_KIND_COUNT, 0), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_ledger_set_limit((cm_ledger_kind_t)0x7fffffff, 0), CM_ERR_OUT_OF_RANGE);
    CHECK(cm_ledger_kind_name(CM_LEDGER_KIND_COUNT)[0] == 'u'); /* "unknown" */
    cm_ledger_info_t after;
    CHECK_ST(cm_ledger_get(&after), CM_OK);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        CHECK(after.entry[k].limit == info.entry[k].limit);
    return 0;
}

int test_ledger_vmo_create_and_close_charge_and_release_once(void)
{
    cm_ledger_info_t a, b, c;
    cm_handle_t v, d;
    CHECK_ST(cm_ledger_get(&a), CM_OK);
    CHECK_ST(cm_vmo_create(2 * CM_PAGE_SIZE + 1, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHTS_SAME, &d), CM_OK);
    CHECK_ST(cm_ledger_get(&b), CM_OK);
    CHECK(b.entry[CM_LEDGER_HANDLES].used == a.entry[CM_LEDGER_HANDLES].used + 2);
    CHECK(b.entry[CM_LEDGER_VMOS].used == a.entry[CM_LEDGER_VMOS].used + 1);
    CHECK(b.entry[CM_LEDGER_OBJECT_BACKING].used ==
          a.entry[CM_LEDGER_OBJECT_BACKING].used + 3 * CM_PAGE_SIZE);
    CHECK_ST(cm_handle_close(v), CM_OK);
    CHECK_ST(cm_handle_close(d), CM_OK);
    CHECK_ST(cm_ledger_get(&c), CM_OK);
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        CHECK(c.entry[k].used == a.entry[k].used);
    return 0;
}
