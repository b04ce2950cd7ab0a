/* SPDX-License-Identifier: MIT */
/* core/ledger: charge/uncharge/carve with overflow-safe arithmetic. */
#include "ledger.h"

static int kind_ok(cm_ledger_kind_t kind)
{
    return (uint32_t)kind < CM__LEDGER_KINDS;
}

void cm__ledger_init(struct cm__ledger *l, const uint64_t *limit, const uint32_t *flags)
{
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
        l->used[k] = 0;
        l->given[k] = 0;
        l->peak[k] = 0;
        l->limit[k] = limit != 0 ? limit[k] : UINT64_MAX;
        l->flags[k] = flags != 0 ? flags[k] : CM_LEDGER_ENFORCED;
    }
}

cm_status_t cm__ledger_quota_status(cm_ledger_kind_t kind)
{
    switch (kind) {
    case CM_LEDGER_VIRTUAL: return CM_ERR_QUOTA_VIRTUAL;
    case CM_LEDGER_COMMIT:
    case CM_LEDGER_OBJECT_BACKING: return CM_ERR_QUOTA_COMMIT;
    default: return CM_ERR_NO_RESOURCES;
    }
}

cm_status_t cm__ledger_pressure_status(void)
{
    return CM_ERR_MEMORY_PRESSURE;
}

uint64_t cm__ledger_available(const struct cm__ledger *l, cm_ledger_kind_t kind)
{
    if (!kind_ok(kind))
        return 0;
    /* I1 makes both subtractions safe. */
    return l->limit[kind] - l->used[kind] - l->given[kind];
}

cm_status_t cm__ledger_charge(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount)
{
    if (!kind_ok(kind))
        return CM_ERR_OUT_OF_RANGE;
    if (amount > cm__ledger_available(l, kind))
        return cm__ledger_quota_status(kind);
    l->used[kind] += amount;
    if (l->used[kind] > l->peak[kind])
        l->peak[kind] = l->used[kind];
    return CM_OK;
}

cm_status_t cm__ledger_uncharge(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount)
{
    if (!kind_ok(kind))
        return CM_ERR_OUT_OF_RANGE;
    if (amount > l->used[kind])
        return CM_ERR_INTERNAL;
    l->used[kind] -= amount;
    return CM_OK;
}

cm_status_t cm__ledger_charge_all(struct cm__ledger *l, const struct cm__ledger_charge *c,
                                  uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        cm_status_t st = cm__ledger_charge(l, c[i].kind, c[i].amount);
        if (st != CM_OK) {
            while (i-- > 0)
                (void)cm__ledger_uncharge(l, c[i].kind, c[i].amount);
            return st;
        }
    }
    return CM_OK;
}

cm_status_t cm__ledger_uncharge_all(struct cm__ledger *l, const struct cm__ledger_charge *c,
                                    uint32_t n)
{
    /* Check first: a bad release changes nothing. Amounts of one kind add
     * up across entries, so they are checked as sums. */
    for (uint32_t i = 0; i < n; i++) {
        if (!kind_ok(c[i].kind))
            return CM_ERR_OUT_OF_RANGE;
        uint64_t sum = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (c[j].kind != c[i].kind)
                continue;
            if (c[j].amount > UINT64_MAX - sum)
                return CM_ERR_INTERNAL;
            sum += c[j].amount;
        }
        if (sum > l->used[c[i].kind])
            return CM_ERR_INTERNAL;
    }
    for (uint32_t i = 0; i < n; i++)
        l->used[c[i].kind] -= c[i].amount;
    return CM_OK;
}

cm_status_t cm__ledger_give(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount)
{
    if (!kind_ok(kind))
        return CM_ERR_OUT_OF_RANGE;
    if (amount > cm__ledger_available(l, kind))
        return cm__ledger_quota_status(kind);
    l->given[kind] += amount;
    return CM_OK;
}

cm_status_t cm__ledger_take_back(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount)
{
    if (!kind_ok(kind))
        return CM_ERR_OUT_OF_RANGE;
    if (amount > l->given[kind])
        return CM_ERR_INTERNAL;
    l->given[kind] -= amount;
    return CM_OK;
}

cm_status_t cm__ledger_lower_limit(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t limit,
                                   uint64_t *freed)
{
    if (!kind_ok(kind))
        return CM_ERR_OUT_OF_RANGE;
    if ((l->flags[kind] & CM_LEDGER_ENFORCED) == 0)
        return CM_ERR_UNSUPPORTED;
    if (limit > l->limit[kind])
        return CM_ERR_ACCESS_DENIED;
    if (limit < l->used[kind] + l->given[kind])
        return CM_ERR_BAD_STATE;
    if (freed != 0)
        *freed = l->limit[kind] - limit;
    l->limit[kind] = limit;
    return CM_OK;
}

int cm__ledger_empty(const struct cm__ledger *l)
{
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
        if (l->used[k] != 0 || l->given[k] != 0)
            return 0;
    }
    return 1;
}

void cm__ledger_info(const struct cm__ledger *l, cm_ledger_info_t *info)
{
    info->kinds = CM__LEDGER_KINDS;
    info->reserved = 0;
    for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
        info->entry[k] = (cm_ledger_entry_t){ l->used[k], l->limit[k], l->peak[k],
                                              l->given[k], l->flags[k], 0 };
    }
}

const char *cm_ledger_kind_name(cm_ledger_kind_t kind)
{
    static const char *const names[CM__LEDGER_KINDS] = {
        "virtual", "commit", "object_backing", "pins", "handles", "channels",
        "messages", "vmos", "processes", "sbufs", "sbuf_consumers", "vmars", "dma_pools",
    };
    return kind_ok(kind) ? names[kind] : "unknown";
}
