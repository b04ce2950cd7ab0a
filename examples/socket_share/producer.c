/* SPDX-License-Identifier: MIT */
/* producer SOCKET [MIB]: fills a memory object (VMO) with MIB MiB (default
 * 16), seals it so nobody can change it any more, and sends a read-only
 * handle to the consumer listening on SOCKET. The bytes are never copied:
 * the consumer maps the same pages. Exit 0 when the consumer confirms. */
#include <string.h>
#include <time.h>
#include <capmem/host.h> /* cm_host_connect: channels over UNIX socket paths */
#include "share.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SOCKET [MIB]\n", argv[0]);
        return 2;
    }
    uint64_t size = (argc == 3 ? strtoull(argv[2], NULL, 10) : 16) << 20;

    /* The consumer may still be starting: retry the connection for a while. */
    cm_handle_t ch;
    cm_status_t st;
    for (int tries = 0; (st = cm_host_connect(argv[1], &ch)) != CM_OK && tries < 100; tries++)
        nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
    check(st, "connect");

    /* Create the object and write it in place through a mapping. */
    cm_handle_t vmo;
    void *p;
    check(cm_vmo_create(size, 0, &vmo), "vmo_create");
    check(cm_vmo_map(vmo, 0, size, CM_MAP_READ | CM_MAP_WRITE, &p), "map");
    for (uint64_t i = 0; i < size; i++)
        ((uint8_t *)p)[i] = (uint8_t)(i * 7 + i / 4096);
    struct share_msg msg = { size, fnv1a(p, size) };
    /* Sealing needs the writable mapping gone: after it, no one (we included)
     * can write or resize the object, so what the consumer checks stays true. */
    check(cm_vmo_unmap(p, size), "unmap");
    check(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), "seal");

    /* Send a handle with only READ and MAP (TRANSFER lets it leave us). The
     * channel takes the handle; ours to close is the original. */
    cm_handle_t ro;
    check(cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro), "dup");
    check(cm_channel_write(ch, &msg, sizeof(msg), &ro, 1), "send");

    /* The consumer replies with the checksum it computed. */
    uint64_t theirs;
    uint32_t nbytes, nhandles;
    check(cm_channel_wait_readable(ch, TIMEOUT_NS), "wait for the reply");
    check(cm_channel_read(ch, &theirs, sizeof(theirs), &nbytes, NULL, 0, &nhandles), "read reply");
    printf("producer: shared %llu MiB, checksum %016llx, consumer computed %016llx: %s\n",
           (unsigned long long)(size >> 20), (unsigned long long)msg.fnv1a,
           (unsigned long long)theirs, theirs == msg.fnv1a ? "match" : "MISMATCH");
    cm_handle_close(vmo);
    cm_handle_close(ch);
    return theirs == msg.fnv1a && nbytes == sizeof(theirs) ? 0 : 1;
}
