/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_STATUS_DETAIL_H
#define CAPMEM_CORE_STATUS_DETAIL_H

#include <capmem/status.h>

/* The per-thread diagnostic behind cm_status_detail() (include/capmem/status.h).
 *
 * A public call that fails records what it knows (the system call and errno,
 * the limit that was hit, a hint) with cm__detail_set and returns its status;
 * a public call clears the detail on entry with cm__detail_clear so that a
 * detail never outlives the call it describes. The text is bounded
 * (CM__DETAIL_MAX bytes with the NUL) and truncated, never allocated. */
#define CM__DETAIL_MAX 256

/* Records a printf-style detail for a failure with `status`; returns status
 * so a failure path can be `return cm__detail_set(CM_ERR_X, "...", ...);`. */
cm_status_t cm__detail_set(cm_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void cm__detail_clear(void);

/* The first statement of every public host function that returns a
 * cm_status_t (tests/host/status_detail_entry.sh checks each exported one):
 * a detail describes the call that set it and nothing later. Internal
 * helpers never clear, so that a failure deep in a call keeps its detail
 * up to the public return; a public function never calls another public
 * one (it would clear its own detail): internal code uses cm__ versions. */
#define CM__ENTRY() cm__detail_clear()

/* The kernel target records nothing: the kernel's callers are other
 * processes and only the status crosses the syscall boundary (CM__KERNEL),
 * and its user runtime (CM__NO_DETAIL) does not record the few checks it
 * makes itself, so that cm_status_detail() there is always "" rather than
 * sometimes stale. Core rules keep their detail calls, which cost nothing. */
#if defined(CM__KERNEL) || defined(CM__NO_DETAIL)
#define cm__detail_set(status, ...) (status)
#define cm__detail_clear() ((void)0)
#endif

#endif
