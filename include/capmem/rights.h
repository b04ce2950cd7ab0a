/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_RIGHTS_H
#define CAPMEM_RIGHTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rights carried by a handle. They only shrink: duplicate, replace and
 * transfer produce a subset (AND mask) of the source handle's rights.
 * Values are ABI, shared with the kernel target. */
typedef uint32_t cm_rights_t;

#define CM_RIGHT_READ      ((cm_rights_t)1u << 0) /* read bytes, map readable  */
#define CM_RIGHT_WRITE     ((cm_rights_t)1u << 1) /* write bytes, map writable, resize, seal */
#define CM_RIGHT_MAP       ((cm_rights_t)1u << 2) /* map into an address space */
#define CM_RIGHT_DUPLICATE ((cm_rights_t)1u << 3) /* cm_handle_duplicate       */
#define CM_RIGHT_TRANSFER  ((cm_rights_t)1u << 4) /* send over a channel       */
#define CM_RIGHT_SIGNAL    ((cm_rights_t)1u << 5) /* submit/wait (DMA, fences) */

#define CM_RIGHTS_ALL  (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP | \
                        CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER | CM_RIGHT_SIGNAL)

/* Pass as the rights argument to keep the source handle's rights. */
#define CM_RIGHTS_SAME ((cm_rights_t)0x80000000u)

#ifdef __cplusplus
}
#endif

#endif
