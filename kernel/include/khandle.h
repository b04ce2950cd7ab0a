#ifndef CAPMEM_KERNEL_KHANDLE_H
#define CAPMEM_KERNEL_KHANDLE_H

#include <stdint.h>
#include <capmem/handle.h>

struct proc;
struct kobj;

/* Per-process handle tables on core/handle_table. Each live handle owns one
 * reference to its object. */

void handles_init(struct proc *p);
/* Free slots left in p's table. */
uint32_t handles_free(const struct proc *p);
/* Installs a handle; takes over the caller's reference on success only. */
cm_status_t handle_install(struct proc *p, struct kobj *o, cm_rights_t rights,
                           cm_handle_t *out);
/* Looks up a live handle of `type` holding `need`. */
cm_status_t handle_get(struct proc *p, cm_handle_t h, uint32_t type, cm_rights_t need,
                       struct kobj **o, cm_rights_t *rights);
/* Removes a handle and hands its reference to the caller. */
cm_status_t handle_take(struct proc *p, cm_handle_t h, struct kobj **o, uint32_t *type,
                        cm_rights_t *rights);
/* Closes every handle (process teardown). */
void handles_close_all(struct proc *p);

#endif
