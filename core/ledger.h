/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_LEDGER_H
#define CAPMEM_CORE_LEDGER_H

/* The one ledger rule of both targets (docs/ledger.md).
 *
 * A ledger holds, per kind, what is charged (used), what was carved out
 * for children (given), the limit and the peak. Invariant, for every kind:
 *     used + given <= limit        (I1)
 * A charge that would break I1 changes nothing and returns the kind's
 * typed status (cm__ledger_quota_status). All arithmetic is overflow-safe:
 * a charge near UINT64_MAX is refused, never wrapped. Releasing more than
 * is charged is a bookkeeping bug (a double release): it changes nothing
 * and returns INTERNAL, so each target can make it loud (kernel: panic;
 * host: abort in tests) instead of silently under-counting. */

#include <stdint.h>
#include <capmem/ledger.h>
#include <capmem/status.h>

#define CM__LEDGER_KINDS CM_LEDGER_KIND_COUNT

struct cm__ledger {
    uint64_t used[CM__LEDGER_KINDS];
    uint64_t given[CM__LEDGER_KINDS];
    uint64_t limit[CM__LEDGER_KINDS];
    uint64_t peak[CM__LEDGER_KINDS];
    uint32_t flags[CM__LEDGER_KINDS]; /* CM_LEDGER_ENFORCED | CM_LEDGER_CARVED */
};

/* One charge of a multi-kind operation (create a VMO: one VMO, its
 * backing bytes, its frames). */
struct cm__ledger_charge {
    cm_ledger_kind_t kind;
    uint64_t amount;
};

/* Empty ledger; limit[] NULL means UINT64_MAX for every kind. */
void cm__ledger_init(struct cm__ledger *l, const uint64_t *limit, const uint32_t *flags);

/* The status a refused charge of `kind` gets: QUOTA_VIRTUAL, QUOTA_COMMIT
 * (commit, object backing), NO_RESOURCES (counts). */
cm_status_t cm__ledger_quota_status(cm_ledger_kind_t kind);

/* Room left: limit - used - given (0 for an unknown kind). */
uint64_t cm__ledger_available(const struct cm__ledger *l, cm_ledger_kind_t kind);

/* Charges `amount` of `kind`, all or nothing. OUT_OF_RANGE: unknown kind. */
cm_status_t cm__ledger_charge(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount);
/* Releases a charge. INTERNAL (and no change): more than is charged. */
cm_status_t cm__ledger_uncharge(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount);

/* Charges every entry or none: the first refusal's status, nothing kept. */
cm_status_t cm__ledger_charge_all(struct cm__ledger *l, const struct cm__ledger_charge *c,
                                  uint32_t n);
cm_status_t cm__ledger_uncharge_all(struct cm__ledger *l, const struct cm__ledger_charge *c,
                                    uint32_t n);

/* Carving: moves `amount` of the parent's room into `given` (a child's
 * limit), and back when the child's account ends or lowers its limit.
 * Same statuses as charge/uncharge. */
cm_status_t cm__ledger_give(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount);
cm_status_t cm__ledger_take_back(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t amount);

/* Lowers a limit (never raises: ACCESS_DENIED). BAD_STATE: below
 * used + given. OUT_OF_RANGE: unknown kind. UNSUPPORTED: the kind is not
 * CM_LEDGER_ENFORCED here. On success *freed (if not NULL) is the amount
 * the limit went down by (a carved account returns it to its parent). */
cm_status_t cm__ledger_lower_limit(struct cm__ledger *l, cm_ledger_kind_t kind, uint64_t limit,
                                   uint64_t *freed);

/* A commit that passed the account's quota but found no free memory:
 * MEMORY_PRESSURE, never a quota status (the caller releases the charge). */
cm_status_t cm__ledger_pressure_status(void);

/* True when nothing is charged or given in any kind. */
int cm__ledger_empty(const struct cm__ledger *l);

void cm__ledger_info(const struct cm__ledger *l, cm_ledger_info_t *info);

#endif
