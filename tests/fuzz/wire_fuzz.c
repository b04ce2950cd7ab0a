/* Fuzz target for the host channel record decoder (host/wire.c): the one
 * parser of bytes a peer process controls.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Icore \
 *       tests/fuzz/wire_fuzz.c host/wire.c -o wire_fuzz && ./wire_fuzz -max_total_time=60
 *
 * Input: byte 0 is the number of fds that "arrived"; the rest is the record.
 * Checked: decode never reads outside the record, and whenever it accepts,
 * the view it returns lies inside the record and agrees with every limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../host/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t nfds = data[0];
    size_t len = size - 1;
    /* An exact-size heap copy, so ASan catches any read past the record. */
    uint8_t *rec = malloc(len + 1);
    if (rec == NULL)
        return 0;
    memcpy(rec, data + 1, len);
    struct cm__wire_view v;
    if (cm__wire_decode(rec, len, nfds, &v) == CM_OK) {
        const uint8_t *end = rec + len;
        if (v.num_handles > CM_CHANNEL_MAX_HANDLES || v.num_bytes > CM_CHANNEL_MAX_BYTES ||
            v.num_handles != nfds || v.bytes + v.num_bytes != end ||
            (const uint8_t *)(v.handles + v.num_handles) != v.bytes)
            abort(); /* a fuzz oracle: this is the defect being searched for */
        for (uint32_t i = 0; i < v.num_handles; i++)
            if (v.handles[i].type != CM_OBJ_VMO && v.handles[i].type != CM_OBJ_CHANNEL)
                abort();
        /* Re-encoding the accepted header reproduces the record's prefix. */
        uint8_t hdr[CM__WIRE_MAX_HDR];
        size_t hl = cm__wire_encode(hdr, v.num_bytes, v.handles, v.num_handles);
        if (hl > len || memcmp(hdr, rec, hl) != 0)
            abort();
    }
    free(rec);
    return 0;
}
