/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_WIRE_H
#define CAPMEM_HOST_WIRE_H

/* On-the-wire format of a host channel message (one SOCK_SEQPACKET record):
 *
 *   struct cm__wire_hdr | cm__wire_handle[num_handles] |
 *   struct cm__sbuf_wire[consumers] | bytes[num_bytes]
 *
 * plus the descriptors' fds in one SCM_RIGHTS control message, in the same
 * order as the descriptors: one for a VMO or a channel, four for a
 * SharedBuffer consumer (data memfd, producer-area memfd, consumer-area
 * memfd, socket to the producer: CM__WIRE_CONSUMER_FDS). Each consumer
 * descriptor has one struct cm__sbuf_wire (core/sbuf_admit.h: its
 * configuration, position, read position, counters) after all the
 * descriptors, in descriptor order; `consumers` is their count, not a
 * header field. The descriptors say what the sender claims each fd is
 * and the rights it grants; the receiver checks the type against the fd and
 * takes rights as (claimed AND what the fd itself permits): a sender can
 * only give away less than it has, never more. One more field: a huge-page
 * VMO's exact size (its hugetlbfs file is a multiple of CM_HUGE_PAGE_SIZE),
 * judged against the fd's size by core/vmo_admit.c; 0 for every other
 * object, and the receiver refuses a base-page VMO that claims one. No
 * other fact of an object (flags, seals, a base-page size) is carried; a consumer's
 * metadata is judged with its fds by core/sbuf_admit.c. */

#include <stddef.h>
#include <stdint.h>
#include <capmem/capmem.h>
#include "sbuf_admit.h"

#define CM__WIRE_MAGIC   0x48434d43u /* "CMCH" little-endian */
#define CM__WIRE_VERSION 3u /* 2: per-handle exact size; 3: consumers */

struct cm__wire_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t num_handles;
    uint32_t num_bytes;
    uint32_t reserved;  /* must be 0 */
};

struct cm__wire_handle {
    uint32_t type;   /* cm_obj_type_t */
    uint32_t rights;
    uint64_t size;   /* huge-page VMO: exact size (<= CM_VMO_MAX_SIZE); else 0 */
};

/* fds of one consumer, and of one record at most: Linux passes at most 253
 * (SCM_MAX_FD) in one message, and a record needing more is refused by
 * the writer (NO_RESOURCES) and by the parser (PROTOCOL). */
#define CM__WIRE_CONSUMER_FDS 4u
#define CM__WIRE_MAX_FDS      253u

_Static_assert(sizeof(struct cm__wire_hdr) == 16, "wire header layout");
_Static_assert(sizeof(struct cm__wire_handle) == 16, "wire handle layout");
_Static_assert(sizeof(struct cm__sbuf_wire) == 80, "wire consumer layout");

#define CM__WIRE_MAX_HDR (sizeof(struct cm__wire_hdr) + \
                          CM_CHANNEL_MAX_HANDLES * (sizeof(struct cm__wire_handle) + \
                                                    sizeof(struct cm__sbuf_wire)))
#define CM__WIRE_MAX_MSG (CM__WIRE_MAX_HDR + CM_CHANNEL_MAX_BYTES)

/* A decoded message; pointers point into the decoded buffer. */
struct cm__wire_view {
    const struct cm__wire_handle *handles;
    uint32_t num_handles;
    const uint8_t *consumers; /* struct cm__sbuf_wire[], unaligned: memcpy */
    uint32_t num_consumers;
    uint32_t num_fds;         /* fds the record must carry */
    const uint8_t *bytes;
    uint32_t num_bytes;
};

/* fds a descriptor of `type` travels with (0: not a transferable type). */
uint32_t cm__wire_fds_of(uint32_t type);

/* Writes the header, descriptors and the consumers' metadata (one per
 * consumer descriptor, in order) into buf (CM__WIRE_MAX_HDR bytes) and
 * returns their length. Caller has checked the limits. */
size_t cm__wire_encode(uint8_t *buf, uint32_t num_bytes,
                       const struct cm__wire_handle *handles, uint32_t num_handles,
                       const struct cm__sbuf_wire *consumers, uint32_t num_consumers);

/* Validates a received record of `len` bytes, everything but the fds:
 * returns PROTOCOL unless magic, version, reserved, counts, limits, the
 * length (with one metadata block per consumer descriptor) and every
 * descriptor (a transferable type, defined rights, a size of at most
 * CM_VMO_MAX_SIZE for a VMO and 0 for the others) agree, and the fds the
 * descriptors need are at most CM__WIRE_MAX_FDS. The metadata's contents
 * are judged later, with the fds (core/sbuf_admit.c).
 * A receiver learns from it how many fds the record must carry before it
 * judges the fds that came (a local fd shortage is not the peer's error).
 * Never reads outside buf[0..len). */
cm_status_t cm__wire_parse(const uint8_t *buf, size_t len, struct cm__wire_view *out);

/* cm__wire_parse, and the record arrived with exactly the fds it needs. */
cm_status_t cm__wire_decode(const uint8_t *buf, size_t len, size_t num_fds,
                            struct cm__wire_view *out);

#endif
