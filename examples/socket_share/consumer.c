/* SPDX-License-Identifier: MIT */
/* consumer SOCKET: accepts one producer on SOCKET, receives a memory object,
 * checks that it can no longer change, hashes it in place through a
 * read-only mapping and replies with the checksum. Exit 0 when it matches
 * the producer's. */
#include <capmem/host.h> /* cm_host_listen / cm_host_accept */
#include "share.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    cm_handle_t listener, ch;
    check(cm_host_listen(argv[1], &listener), "listen");
    check(cm_host_accept(listener, TIMEOUT_NS, &ch), "accept");
    cm_handle_close(listener); /* one producer only; this removes the socket file */

    struct share_msg msg;
    cm_handle_t vmo;
    uint32_t nbytes, nhandles;
    check(cm_channel_wait_readable(ch, TIMEOUT_NS), "wait for the producer");
    check(cm_channel_read(ch, &msg, sizeof(msg), &nbytes, &vmo, 1, &nhandles), "receive");
    if (nbytes != sizeof(msg) || nhandles != 1) {
        fprintf(stderr, "consumer: unexpected message (%u bytes, %u handles)\n", nbytes, nhandles);
        return 1;
    }

    /* Trust the object, not the message: the platform says whether the
     * bytes are fixed and how many there are. An unsealed object could be
     * changed by the producer while we read it. */
    cm_vmo_info_t info;
    check(cm_vmo_get_info(vmo, &info), "get_info");
    if (!(info.flags & CM_VMO_INFO_IMMUTABLE) || info.size != msg.size) {
        fprintf(stderr, "consumer: object not immutable or size %llu != %llu\n",
                (unsigned long long)info.size, (unsigned long long)msg.size);
        return 1;
    }

    const void *p;
    check(cm_vmo_map(vmo, 0, info.size, CM_MAP_READ, (void **)&p), "map");
    uint64_t mine = fnv1a(p, info.size);
    check(cm_vmo_unmap((void *)p, info.size), "unmap");
    check(cm_channel_write(ch, &mine, sizeof(mine), NULL, 0), "reply");
    printf("consumer: received an immutable %llu MiB object, read it in place: checksum %s\n",
           (unsigned long long)(info.size >> 20), mine == msg.fnv1a ? "matches" : "DIFFERS");
    cm_handle_close(vmo);
    cm_handle_close(ch);
    return mine == msg.fnv1a ? 0 : 1;
}
