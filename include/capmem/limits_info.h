/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_LIMITS_INFO_H
#define CAPMEM_LIMITS_INFO_H

#include <stdint.h>
#include <capmem/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The limits this target enforces, read at run time. include/capmem/limits.h
 * holds the ABI maxima; a target may enforce lower values (the kernel
 * target's VMOs are at most 1 GiB), and a program that sizes its objects
 * from the limits reads them here. Each field is never above its
 * limits.h constant; a request above a field's value fails exactly as one
 * above the constant does (OUT_OF_RANGE or NO_RESOURCES, see the constant).
 * Quotas (capmem/ledger.h) may refuse earlier: a limit is not a promise
 * that memory is there. */
typedef struct cm_limits {
    /* In: sizeof(cm_limits_t) as the caller compiled it. Out: the bytes the
     * library filled (fields it does not know, in a newer caller's struct,
     * are left untouched). Fields are only ever added at the end. */
    uint32_t struct_size;
    uint32_t version;            /* out: CM_LIMITS_VERSION of the library */
    uint64_t vmo_max_size;       /* CM_VMO_MAX_SIZE */
    uint64_t max_mapped_bytes;   /* CM_MAX_MAPPED_BYTES */
    uint64_t max_reserved_bytes; /* CM_MAX_RESERVED_BYTES */
    uint32_t max_handles;        /* CM_MAX_HANDLES */
    uint32_t max_mappings;       /* CM_MAX_MAPPINGS */
    uint32_t channel_max_bytes;  /* CM_CHANNEL_MAX_BYTES */
    uint32_t channel_max_handles;/* CM_CHANNEL_MAX_HANDLES */
} cm_limits_t;

#define CM_LIMITS_VERSION 1u

/* Fills *out with this target's effective limits. Set out->struct_size to
 * sizeof(cm_limits_t) first. Never blocks; thread-safe.
 * Errors: INVALID_ARGS (out NULL, or struct_size smaller than the first
 * version of the struct, 48 bytes). */
cm_status_t cm_limits_get(cm_limits_t *out);

#ifdef __cplusplus
}
#endif

#endif
