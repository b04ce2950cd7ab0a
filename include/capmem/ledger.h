/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_LEDGER_H
#define CAPMEM_LEDGER_H

/* Ledgers: what the calling process holds, per kind of resource, against
 * its limits (docs/ledger.md). Every charge is taken before the resource
 * exists and released exactly once when it goes (success, error, rollback,
 * close, exit). A charge that would pass a limit fails with the kind's
 * typed status and changes nothing:
 *
 *   CM_LEDGER_VIRTUAL                  CM_ERR_QUOTA_VIRTUAL
 *   CM_LEDGER_COMMIT, _OBJECT_BACKING  CM_ERR_QUOTA_COMMIT
 *   every count kind (pins, handles,   CM_ERR_NO_RESOURCES
 *   objects, messages, processes)
 *
 * and CM_ERR_MEMORY_PRESSURE when the account still has commit quota but
 * the memory it draws from is exhausted (kernel: the room an overcommitted
 * account draws from, up to the free frame pool).
 *
 * Targets. Kernel: one ledger per process (its "account"), or one shared
 * by the processes spawned into an account object (user/cmk.h,
 * cmk_account_create, cmk_spawn_in); every kernel object and every frame
 * is charged to the account of the process that made it (a queued message
 * to its sender), and a parent carves a child's quotas out of its own
 * remaining budget at spawn (user/cmk.h, cmk_spawn_ex). Host: a
 * library-level ledger of what capmem objects this process holds through
 * libcapmem; kinds the host cannot enforce report no CM_LEDGER_ENFORCED
 * flag and cm_ledger_set_limit on them is UNSUPPORTED. */

#include <stdint.h>
#include <capmem/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_ledger_kind {
    CM_LEDGER_VIRTUAL = 0,        /* bytes of address space reserved or mapped   */
    CM_LEDGER_COMMIT = 1,         /* bytes of memory committed (kernel: frames)  */
    CM_LEDGER_OBJECT_BACKING = 2, /* bytes of VMO content created (VMO sizes)     */
    CM_LEDGER_PINS = 3,           /* pages pinned for devices (DMA)               */
    CM_LEDGER_HANDLES = 4,        /* live handles                                 */
    CM_LEDGER_CHANNELS = 5,       /* channel endpoints created (2 per pair)       */
    CM_LEDGER_MESSAGES = 6,       /* channel messages sent and still queued       */
    CM_LEDGER_VMOS = 7,           /* VMOs created (snapshots included)            */
    CM_LEDGER_PROCESSES = 8,      /* processes spawned (and this process itself)  */
    CM_LEDGER_SBUFS = 9,          /* SharedBuffers created                        */
    CM_LEDGER_SBUF_CONSUMERS = 10,/* SharedBuffer consumers created               */
    CM_LEDGER_VMARS = 11,         /* reservations (VMARs) created                 */
    CM_LEDGER_DMA_POOLS = 12,     /* DMA pools created                            */
    CM_LEDGER_KIND_COUNT = 13
} cm_ledger_kind_t;

/* cm_ledger_entry_t.flags */
#define CM_LEDGER_ENFORCED (1u << 0) /* this target charges and enforces the kind   */
#define CM_LEDGER_CARVED   (1u << 1) /* limit carved from a parent's/global budget   */

typedef struct cm_ledger_entry {
    uint64_t used;   /* charged now to this process                            */
    uint64_t limit;  /* used + given never exceeds it                          */
    uint64_t peak;   /* highest `used` seen                                    */
    uint64_t given;  /* carved out for live children (kernel), else 0          */
    uint32_t flags;  /* CM_LEDGER_*                                            */
    uint32_t reserved;
} cm_ledger_entry_t;

typedef struct cm_ledger_info {
    uint32_t kinds;    /* CM_LEDGER_KIND_COUNT of the library that filled it */
    uint32_t reserved;
    cm_ledger_entry_t entry[CM_LEDGER_KIND_COUNT];
} cm_ledger_info_t;

/* The calling process's ledger. INVALID_ARGS: info is NULL. */
cm_status_t cm_ledger_get(cm_ledger_info_t *info);

/* Lowers the calling process's limit of `kind` (never raises it: a process
 * cannot grant itself authority). OUT_OF_RANGE: kind unknown.
 * UNSUPPORTED: the target does not enforce this kind. ACCESS_DENIED: limit
 * above the current one. BAD_STATE: limit below used + given (release
 * first). */
cm_status_t cm_ledger_set_limit(cm_ledger_kind_t kind, uint64_t limit);

/* Name of a kind ("virtual", "commit", ...), "unknown" otherwise. */
const char *cm_ledger_kind_name(cm_ledger_kind_t kind);

#ifdef __cplusplus
}
#endif

#endif
