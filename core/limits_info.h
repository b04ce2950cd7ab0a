/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_LIMITS_INFO_H
#define CAPMEM_CORE_LIMITS_INFO_H

#include <capmem/limits.h>
#include <capmem/limits_info.h>

/* The effective limits of the target this file is compiled for, where they
 * are below the ABI maxima of capmem/limits.h. The kernel's (CM__KERNEL)
 * live in abi/syscall_abi.h, where its user runtime reads them too. Core
 * rules check against these, never against the ABI constant directly. */
#ifdef CM__KERNEL
#include "syscall_abi.h"
#define CM__VMO_MAX_SIZE CMK_VMO_MAX_SIZE
#define CM__MAX_MAPPED_BYTES CMK_MAX_MAPPED_BYTES
#else
#define CM__VMO_MAX_SIZE CM_VMO_MAX_SIZE
#define CM__MAX_MAPPED_BYTES CM_MAX_MAPPED_BYTES
#endif

/* cm_limits_get, once for both targets: the limits every target shares
 * from capmem/limits.h plus the target's two effective ones; checks out,
 * fills what the caller's struct_size holds, sets struct_size and
 * version. */
cm_status_t cm__limits_report(cm_limits_t *out, uint64_t vmo_max_size, uint64_t max_mapped_bytes);

#endif
