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

#endif
