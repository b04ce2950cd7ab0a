/* SPDX-License-Identifier: MIT */
/* The host ledger (docs/ledger.md): a library-level ledger of what this
 * process holds through libcapmem, on the core/ledger rule.
 *
 * Enforced here: HANDLES (the handle table's live entries), VIRTUAL (bytes
 * of cm_vmo_map mappings and of cm_vmar_reserve reservations), VMOS and OBJECT_BACKING (VMOs this process
 * created with cm_vmo_create, and their page-rounded size as resized by
 * this process), PINS (pages of DMA pool buffers registered with
 * io_uring: a pool's whole pin capacity, from creation until it is freed,
 * quarantine included). Not enforced (no CM_LEDGER_ENFORCED flag, set_limit
 * UNSUPPORTED): COMMIT (Linux commits memfd pages on touch, outside the
 * library's sight), CHANNELS, MESSAGES (socket buffers are the
 * kernel's), PROCESSES, SBUFS, SBUF_CONSUMERS, VMARS, DMA_POOLS (a host pool
 * is bounded by the process's fds and io_uring limits, not by a count the
 * library keeps). One lock; it is a leaf:
 * nothing else is taken while it is held. */
#include <pthread.h>
#include <capmem/ledger.h>
#include <capmem/limits.h>

#include "internal.h"
#include "ledger.h"
#include "status_detail.h"

static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cm__ledger ledger;
static int ledger_ready;
/* Releases of more than was charged: a bookkeeping bug, counted for the
 * tests instead of crashing the application. */
static uint64_t ledger_errors;

/* fork: the lock is held across fork so a child never inherits it taken
 * by a thread that does not exist there. It is a leaf (taken under
 * table_lock and map_lock), so it must be taken after them: prepare
 * handlers run in reverse order of registration, and this one registers
 * at load time, before any lazily registered other. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&ledger_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&ledger_lock);
}

__attribute__((constructor)) static void ledger_atfork(void)
{
    (void)pthread_atfork(fork_prepare, fork_release, fork_release);
}

static int enforced(uint32_t k)
{
    return k == CM_LEDGER_HANDLES || k == CM_LEDGER_VIRTUAL || k == CM_LEDGER_VMOS ||
           k == CM_LEDGER_OBJECT_BACKING || k == CM_LEDGER_PINS;
}

static struct cm__ledger *locked(void)
{
    pthread_mutex_lock(&ledger_lock);
    if (!ledger_ready) {
        uint64_t limit[CM__LEDGER_KINDS];
        uint32_t flags[CM__LEDGER_KINDS];
        for (uint32_t k = 0; k < CM__LEDGER_KINDS; k++) {
            limit[k] = UINT64_MAX;
            flags[k] = enforced(k) ? CM_LEDGER_ENFORCED : 0;
        }
        limit[CM_LEDGER_HANDLES] = CM_MAX_HANDLES;
        /* Both named limits first: the ledger refuses only under a limit
         * the process lowered. */
        limit[CM_LEDGER_VIRTUAL] = CM_MAX_MAPPED_BYTES + CM_MAX_RESERVED_BYTES;
        cm__ledger_init(&ledger, limit, flags);
        ledger_ready = 1;
    }
    return &ledger;
}

static const char *const kind_names[CM__LEDGER_KINDS] = {
    "CM_LEDGER_VIRTUAL", "CM_LEDGER_COMMIT", "CM_LEDGER_OBJECT_BACKING", "CM_LEDGER_PINS",
    "CM_LEDGER_HANDLES", "CM_LEDGER_CHANNELS", "CM_LEDGER_MESSAGES", "CM_LEDGER_VMOS",
    "CM_LEDGER_PROCESSES", "CM_LEDGER_SBUFS", "CM_LEDGER_SBUF_CONSUMERS", "CM_LEDGER_VMARS",
    "CM_LEDGER_DMA_POOLS",
};

/* Unlocks after a charge of `amount` to `kind` that returned st; a
 * refusal's detail names the kind and the numbers (the named limits behind
 * a kind, CM_MAX_HANDLES for HANDLES..., are its default). */
static cm_status_t charged_unlock(const struct cm__ledger *l, cm_status_t st,
                                  cm_ledger_kind_t kind, uint64_t amount)
{
    if (st != CM_OK && (uint32_t)kind < CM__LEDGER_KINDS) {
        uint64_t used = l->used[kind], limit = l->limit[kind];
        pthread_mutex_unlock(&ledger_lock);
        return cm__detail_set(st, "%s limit %llu reached (in use %llu, asked %llu; "
                              "cm_ledger_get shows every kind)", kind_names[kind],
                              (unsigned long long)limit, (unsigned long long)used,
                              (unsigned long long)amount);
    }
    pthread_mutex_unlock(&ledger_lock);
    return st;
}

cm_status_t cm__hledger_charge(cm_ledger_kind_t kind, uint64_t amount)
{
    struct cm__ledger *l = locked();
    return charged_unlock(l, cm__ledger_charge(l, kind, amount), kind, amount);
}

cm_status_t cm__hledger_charge_vmo(uint64_t backing)
{
    struct cm__ledger *l = locked();
    cm_status_t st = cm__ledger_charge(l, CM_LEDGER_VMOS, 1);
    if (st != CM_OK)
        return charged_unlock(l, st, CM_LEDGER_VMOS, 1);
    st = cm__ledger_charge(l, CM_LEDGER_OBJECT_BACKING, backing);
    if (st != CM_OK && cm__ledger_uncharge(l, CM_LEDGER_VMOS, 1) != CM_OK)
        ledger_errors++;
    return charged_unlock(l, st, CM_LEDGER_OBJECT_BACKING, backing);
}

void cm__hledger_uncharge_vmo(uint64_t *backing)
{
    struct cm__ledger *l = locked();
    if (cm__ledger_uncharge(l, CM_LEDGER_VMOS, 1) != CM_OK)
        ledger_errors++;
    if (cm__ledger_uncharge(l, CM_LEDGER_OBJECT_BACKING, *backing) != CM_OK)
        ledger_errors++;
    *backing = 0;
    pthread_mutex_unlock(&ledger_lock);
}

void cm__hledger_uncharge(cm_ledger_kind_t kind, uint64_t amount)
{
    if (cm__ledger_uncharge(locked(), kind, amount) != CM_OK)
        ledger_errors++;
    pthread_mutex_unlock(&ledger_lock);
}

cm_status_t cm__hledger_resize(cm_ledger_kind_t kind, uint64_t *charged, uint64_t expect,
                               uint64_t amount, uint64_t *was)
{
    struct cm__ledger *l = locked();
    cm_status_t st = CM_OK;
    if (was != NULL)
        *was = *charged;
    if (expect != CM__HLEDGER_ANY && *charged != expect) {
        /* Another thread resized meanwhile: its charge stands. */
        pthread_mutex_unlock(&ledger_lock);
        return CM_ERR_BAD_STATE;
    }
    if (amount > *charged)
        st = cm__ledger_charge(l, kind, amount - *charged);
    else if (cm__ledger_uncharge(l, kind, *charged - amount) != CM_OK)
        ledger_errors++;
    if (st == CM_OK)
        *charged = amount;
    pthread_mutex_unlock(&ledger_lock);
    return st;
}

uint64_t cm__hledger_errors(void)
{
    locked();
    uint64_t n = ledger_errors;
    pthread_mutex_unlock(&ledger_lock);
    return n;
}

cm_status_t cm_ledger_get(cm_ledger_info_t *info)
{
    CM__ENTRY();
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm__ledger_info(locked(), info);
    pthread_mutex_unlock(&ledger_lock);
    return CM_OK;
}

cm_status_t cm_ledger_set_limit(cm_ledger_kind_t kind, uint64_t limit)
{
    CM__ENTRY();
    cm_status_t st = cm__ledger_lower_limit(locked(), kind, limit, NULL);
    pthread_mutex_unlock(&ledger_lock);
    return st;
}
