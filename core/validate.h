/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_VALIDATE_H
#define CAPMEM_CORE_VALIDATE_H

/* The validate step of every public operation, once, for both targets
 * (seL4's decode/perform split). A target gathers the facts of the objects
 * involved, calls these, and only then performs; a perform step must not
 * fail for a reason a validator could have seen.
 *
 * Error precedence (docs/api.md), the same for every call:
 *   1. the arguments alone: INVALID_ARGS (NULL out-pointers, unknown option
 *      or flag bits, misaligned offsets, zero lengths where forbidden,
 *      negative timeouts), then OUT_OF_RANGE against a fixed limit
 *      (sizes and counts above CM_*_MAX), in parameter order;
 *   2. the handles, in parameter order: BAD_HANDLE, WRONG_TYPE, then
 *      ACCESS_DENIED for a missing right (core/handle_table's lookup);
 *   3. the facts of the objects: OUT_OF_RANGE against the object's size,
 *      ACCESS_DENIED for a seal, BAD_STATE, PEER_CLOSED, UNSUPPORTED;
 *   4. resources: NO_RESOURCES, NO_MEMORY, SHOULD_WAIT.
 * Pure functions: no allocation, no globals, freestanding. */

#include <stdint.h>
#include <capmem/capmem.h>

/* The seal level of a VMO as both targets see it (host: derived from the
 * memfd's Linux seals; kernel: the object's field). */
enum cm__seal_level {
    CM__SEAL_NONE = 0,
    CM__SEAL_READONLY = CM_SEAL_READONLY,
    CM__SEAL_IMMUTABLE = CM_SEAL_IMMUTABLE,
};

/* What a target knows about a VMO after looking its handle up. */
struct cm__vmo_state {
    uint64_t size;
    uint32_t seal;        /* enum cm__seal_level */
    int is_file;          /* a window over a file: never writable, never immutable */
    int huge;             /* backed by CM_HUGE_PAGE_SIZE pages: CM_VMO_INFO_HUGE */
};

/* Rights a snapshot handle gets: it can never be written. */
#define CM__SNAPSHOT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

/* offset + len <= size, without overflow. The one range check. */
int cm__range_ok(uint64_t offset, uint64_t len, uint64_t size);

/* ---- handles ---- */
/* duplicate/replace: out non-NULL and `want` CM_RIGHTS_SAME or defined bits
 * (stage 1); after the lookup (DUPLICATE needed for duplicate), want must
 * be a subset of have (INVALID_ARGS): see core/rights.h cm__rights_derive. */
cm_status_t cm__handle_derive_check_args(int out_ok, cm_rights_t want);

/* ---- VMOs ---- */
cm_status_t cm__vmo_create_check(uint64_t size, uint32_t options, int out_ok);
/* read/write: stage 1 (buf NULL with len > 0). */
cm_status_t cm__vmo_rw_check_args(int buf_ok, uint64_t len);
/* read/write: stage 3. A write to a sealed or file VMO is ACCESS_DENIED. */
cm_status_t cm__vmo_rw_check_facts(const struct cm__vmo_state *f, uint64_t offset,
                                   uint64_t len, int write);
/* set_size: stage 1 (size over the limit), then stage 3 (sealed, file). */
cm_status_t cm__vmo_set_size_check_args(uint64_t size);
cm_status_t cm__vmo_set_size_check_facts(const struct cm__vmo_state *f);
/* seal: stage 1 (unknown level); stage 3 (file windows: UNSUPPORTED). */
cm_status_t cm__vmo_seal_check_args(uint32_t level);
cm_status_t cm__vmo_seal_check_facts(const struct cm__vmo_state *f);
/* map: stage 1; *need gets the rights the handle must hold (READ|MAP, plus
 * WRITE for a writable mapping). Stage 3: range, seal against writing. */
cm_status_t cm__vmo_map_check_args(uint64_t offset, uint64_t len, uint32_t flags,
                                   int addr_ok, cm_rights_t *need);
cm_status_t cm__vmo_map_check_facts(const struct cm__vmo_state *f, uint64_t offset,
                                    uint64_t len, uint32_t flags);
/* get_info: the flags and effective rights a VMO reports. */
uint32_t cm__vmo_info_flags(const struct cm__vmo_state *f);
cm_rights_t cm__vmo_effective_rights(const struct cm__vmo_state *f, cm_rights_t rights);

/* ---- channels ---- */
cm_status_t cm__channel_create_check(uint32_t options, int end0_ok, int end1_ok);
/* write, stage 1: pointers, limits, the channel itself or a value listed
 * twice. Decided before any handle is looked up; the caller still consumes
 * the listed handles it can (cm_channel_write's contract). */
cm_status_t cm__channel_write_check_args(cm_handle_t channel, int bytes_ok, uint32_t num_bytes,
                                         const cm_handle_t *handles, uint32_t num_handles);
/* read, stage 1. */
cm_status_t cm__channel_read_check_args(int bytes_ok, uint32_t bytes_cap, int handles_ok,
                                        uint32_t handles_cap);
/* read, stage 3: the caller's buffers against the queued message. */
cm_status_t cm__channel_read_check_fit(uint32_t bytes_cap, uint32_t handles_cap,
                                       uint32_t num_bytes, uint32_t num_handles);

/* ---- signals and waiting (include/capmem/object.h) ---- */
/* Non-zero and within CM_SIGNALS_ALL. */
int cm__signals_valid(cm_signals_t signals);
/* wait_one, stage 1: signals, timeout, observed (all INVALID_ARGS). */
cm_status_t cm__object_wait_one_check_args(cm_signals_t signals, int64_t timeout_ns,
                                           int observed_ok);
/* wait_many, stage 1 up to the count: items NULL or count 0 and a bad
 * timeout are INVALID_ARGS, then a count over CM_WAIT_MANY_MAX is
 * OUT_OF_RANGE. Only then may a target read the items (bounded) and call
 * cm__object_wait_items_check (INVALID_ARGS for a bad waitfor). */
cm_status_t cm__object_wait_many_check_args(int items_ok, uint32_t count, int64_t timeout_ns);
cm_status_t cm__object_wait_items_check(const cm_wait_item_t *items, uint32_t count);
/* Stage 3 (after the lookup): objects without signals are WRONG_TYPE. */
cm_status_t cm__object_signals_type_check(uint32_t type);
/* A channel endpoint's signals from its facts: a message queued at this
 * end, the peer alive, room for one more message towards the peer. */
cm_signals_t cm__channel_signals(int queued, int peer_alive, int room);

#endif
