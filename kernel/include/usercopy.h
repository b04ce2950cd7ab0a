/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_USERCOPY_H
#define CAPMEM_KERNEL_USERCOPY_H

#include <stdint.h>
#include <capmem/status.h>

struct proc;

/* Every access to user memory goes through here. Each page is translated
 * through the process's own page table and must be a valid user page with
 * the needed permission; the copy then goes through the kernel's identity
 * mapping of the frame. The kernel never dereferences a user VA (SUM stays
 * clear), so a bad pointer is CM_ERR_INVALID_ARGS, never a kernel fault. */

cm_status_t copyin(struct proc *p, void *dst, uint64_t uva, uint64_t len);
cm_status_t copyout(struct proc *p, uint64_t uva, const void *src, uint64_t len);
/* Checks that [uva, uva+len) is writable (readable if !write) right now.
 * Used in the validate phase so the commit phase's copyout cannot fail. */
int user_range_ok(struct proc *p, uint64_t uva, uint64_t len, int write);
/* Copies a NUL-terminated string of at most cap bytes (NUL included). */
cm_status_t copyin_str(struct proc *p, char *dst, uint64_t uva, uint64_t cap);

#endif
