/* SPDX-License-Identifier: MIT */
#include "ledger_check.h"

cm_ledger_info_t ledger(void)
{
    cm_ledger_info_t i;
    assert_status(cm_ledger_get(&i), CM_OK);
    return i;
}

void assert_ledger_same(const cm_ledger_info_t *a)
{
    cm_ledger_info_t b = ledger();
    for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
        if (a->entry[k].used != b.entry[k].used)
            fail_msg("ledger %s: %lu -> %lu", cm_ledger_kind_name(k),
                     (unsigned long)a->entry[k].used, (unsigned long)b.entry[k].used);
}
