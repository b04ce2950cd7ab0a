#ifndef CAPMEM_HOST_WIRE_H
#define CAPMEM_HOST_WIRE_H

/* On-the-wire format of a host channel message (one SOCK_SEQPACKET record):
 *
 *   struct cm__wire_hdr | cm__wire_handle[num_handles] | bytes[num_bytes]
 *
 * plus num_handles fds in one SCM_RIGHTS control message, in the same order
 * as the descriptors. The descriptors say what the sender claims each fd is
 * and the rights it grants; the receiver checks the type against the fd and
 * takes rights as (claimed AND what the fd itself permits): a sender can
 * only give away less than it has, never more. One more field: a huge-page
 * VMO's exact size (its hugetlbfs file is a multiple of CM_HUGE_PAGE_SIZE),
 * judged against the fd's size by core/vmo_admit.c; 0 for every other
 * object, and the receiver refuses a base-page VMO that claims one. No
 * other fact of an object (flags, seals, a base-page size) is carried. */

#include <stddef.h>
#include <stdint.h>
#include <capmem/capmem.h>

#define CM__WIRE_MAGIC   0x48434d43u /* "CMCH" little-endian */
#define CM__WIRE_VERSION 2u /* 2: per-handle exact size */

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

_Static_assert(sizeof(struct cm__wire_hdr) == 16, "wire header layout");
_Static_assert(sizeof(struct cm__wire_handle) == 16, "wire handle layout");

#define CM__WIRE_MAX_HDR (sizeof(struct cm__wire_hdr) + \
                          CM_CHANNEL_MAX_HANDLES * sizeof(struct cm__wire_handle))
#define CM__WIRE_MAX_MSG (CM__WIRE_MAX_HDR + CM_CHANNEL_MAX_BYTES)

/* A decoded message; pointers point into the decoded buffer. */
struct cm__wire_view {
    const struct cm__wire_handle *handles;
    uint32_t num_handles;
    const uint8_t *bytes;
    uint32_t num_bytes;
};

/* Writes the header and descriptors into buf (CM__WIRE_MAX_HDR bytes) and
 * returns their length. Caller has checked the limits. */
size_t cm__wire_encode(uint8_t *buf, uint32_t num_bytes,
                       const struct cm__wire_handle *handles, uint32_t num_handles);

/* Validates a received record of `len` bytes, everything but the fds:
 * returns PROTOCOL unless magic, version, reserved, counts, limits, the
 * length and every descriptor (a transferable type, defined rights, a size
 * of at most CM_VMO_MAX_SIZE for a VMO and 0 for a channel) agree.
 * A receiver learns from it how many fds the record must carry before it
 * judges the fds that came (a local fd shortage is not the peer's error).
 * Never reads outside buf[0..len). */
cm_status_t cm__wire_parse(const uint8_t *buf, size_t len, struct cm__wire_view *out);

/* cm__wire_parse, and the record arrived with exactly `num_fds` fds. */
cm_status_t cm__wire_decode(const uint8_t *buf, size_t len, size_t num_fds,
                            struct cm__wire_view *out);

#endif
