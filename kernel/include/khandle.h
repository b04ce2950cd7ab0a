/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_KHANDLE_H
#define CAPMEM_KERNEL_KHANDLE_H

#include <stdint.h>
#include <capmem/handle.h>

struct proc;
struct kobj;

/* A handle argument of a syscall: a 32-bit value in a 64-bit register.
 * Higher bits make it a value no table ever issues (bit 31 set: BAD_HANDLE),
 * never the handle named by its low half. */
static inline cm_handle_t handle_arg(uint64_t reg)
{
    return reg > UINT32_MAX ? (cm_handle_t)UINT32_MAX : (cm_handle_t)reg;
}

/* A rights argument: higher bits saturate to bits no right defines
 * (INVALID_ARGS), never dropped. */
static inline cm_rights_t rights_arg(uint64_t reg)
{
    return reg > UINT32_MAX ? (cm_rights_t)UINT32_MAX : (cm_rights_t)reg;
}

/* Per-process handle tables on core/handle_table. Each live handle owns one
 * reference to its object. */

void handles_init(struct proc *p);
/* Free slots left in p's table. */
uint32_t handles_free(const struct proc *p);
/* Installs a handle (one HANDLES charge); takes over the caller's
 * reference on success only. NO_RESOURCES: quota or table. */
cm_status_t handle_install(struct proc *p, struct kobj *o, cm_rights_t rights,
                           cm_handle_t *out);
/* Installs a handle and writes its value to user address out_uva (and to
 * *out if not NULL): the one way a syscall hands a new handle out. On
 * failure (PUBLISH_FAILED) nothing is left in the table and the caller
 * keeps its reference, so a new object dies at the next reap and every
 * charge it took is released. Callers validate out_uva and the free slots
 * first, so this fails when the process's HANDLES quota (below the table
 * size) is spent, or core/handle_table refuses a slot that handles_free()
 * counted (e.g. one it retired). */
cm_status_t handle_publish(struct proc *p, struct kobj *o, cm_rights_t rights,
                           uint64_t out_uva, cm_handle_t *out);
/* Looks up a live handle of `type` holding `need`. */
cm_status_t handle_get(struct proc *p, cm_handle_t h, uint32_t type, cm_rights_t need,
                       struct kobj **o, cm_rights_t *rights);
/* Removes a handle and hands its reference to the caller. */
cm_status_t handle_take(struct proc *p, cm_handle_t h, struct kobj **o, uint32_t *type,
                        cm_rights_t *rights);
/* Closes every handle (process teardown). */
void handles_close_all(struct proc *p);

#endif
