/* SPDX-License-Identifier: MIT */
#include "kobj.h"

#include <capmem/handle.h>

#include "account.h"
#include "channel.h"
#include "kdma.h"
#include "kmmio.h"
#include "console.h"
#include "ksbuf.h"
#include "kvmar.h"
#include "proc.h"
#include "vmo.h"

static struct kobj *dead_list;
static uint64_t next_id = 1;
static uint64_t live;

/* The ledger kind of each object type's pool; KIND_NONE: not charged. */
#define KIND_NONE CM_LEDGER_KIND_COUNT
static cm_ledger_kind_t kind_of(uint32_t type)
{
    switch (type) {
    case CM_OBJ_VMO: return CM_LEDGER_VMOS;
    case CM_OBJ_CHANNEL: return CM_LEDGER_CHANNELS;
    case CM_OBJ_SBUF: return CM_LEDGER_SBUFS;
    case CM_OBJ_SBUF_CONSUMER: return CM_LEDGER_SBUF_CONSUMERS;
    case CM_OBJ_VMAR: return CM_LEDGER_VMARS;
    case CM_OBJ_DMA_POOL: return CM_LEDGER_DMA_POOLS;
    /* A process handle's object keeps an exit record after the process:
     * one PROCESSES charge of its creator, so objects and accounts
     * together never outnumber the PROCESSES budget (account.h). */
    case CM_OBJ_PROCESS: return CM_LEDGER_PROCESSES;
    /* An account object lives in its account's slot, paid for by the
     * account's `made` PROCESSES (account.h), not charged again. */
    default: return KIND_NONE;
    }
}

cm_status_t kobj_charge(struct kacct *a, uint32_t type)
{
    cm_ledger_kind_t k = kind_of(type);
    return k == KIND_NONE ? CM_OK : kacct_charge(a, k, 1);
}

void kobj_uncharge(struct kacct *a, uint32_t type)
{
    cm_ledger_kind_t k = kind_of(type);
    if (k != KIND_NONE)
        kacct_uncharge(a, k, 1);
}

void kobj_init(struct kobj *o, uint32_t type, struct kacct *a)
{
    o->acct = a;
    o->type = type;
    o->refs = 1;
    o->id = next_id++;
    o->next_dead = 0;
    live++;
}

/* Unreachable from user input: one object has at most one reference per
 * handle (MAX_PROCS x CM_MAX_HANDLES), per queued handle (KMSG_MAX x
 * CM_CHANNEL_MAX_HANDLES) and per mapping (MAX_PROCS x CM_MAX_MAPPINGS),
 * far below UINT32_MAX. */
void kobj_ref(struct kobj *o)
{
    if (o->refs == 0 || o->refs == UINT32_MAX)
        panic("kobj_ref: object %lu refs %u", (unsigned long)o->id, o->refs);
    o->refs++;
}

void kobj_unref(struct kobj *o)
{
    if (o->refs == 0)
        panic("kobj_unref: object %lu already dead", (unsigned long)o->id);
    if (--o->refs == 0) {
        o->next_dead = dead_list;
        dead_list = o;
    }
}

void kobj_reap(void)
{
    while (dead_list != 0) {
        struct kobj *o = dead_list;
        dead_list = o->next_dead;
        switch (o->type) {
        case CM_OBJ_VMO: vmo_destroy((struct vmo *)o); break;
        case CM_OBJ_CHANNEL: channel_destroy((struct channel *)o); break;
        case CM_OBJ_SBUF: ksbuf_destroy((struct ksbuf *)o); break;
        case CM_OBJ_SBUF_CONSUMER: ksbuf_cons_destroy((struct ksbuf_cons *)o); break;
        case CM_OBJ_PROCESS: proc_obj_destroy(o); break;
        case CM_OBJ_VMAR: kvmar_destroy(o); break;
        case CM_OBJ_MMIO: kmmio_destroy(o); break;
        case CM_OBJ_DMA_DEVICE: kdma_device_destroy(o); break;
        case CM_OBJ_DMA_POOL: kdma_pool_destroy(o); break;
        case CM_OBJ_ACCOUNT: kacct_obj_destroy((struct kacct *)o); break;
        default: panic("kobj_reap: object of type %u", o->type);
        }
        kobj_uncharge(o->acct, o->type);
        o->acct = 0;
        o->type = CM_OBJ_NONE;
        live--;
    }
}

uint64_t kobj_live_count(void)
{
    return live;
}
