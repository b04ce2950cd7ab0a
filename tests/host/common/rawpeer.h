/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_RAWPEER_H
#define CAPMEM_TESTS_RAWPEER_H

/* A raw peer: a plain SOCK_SEQPACKET socket connected to a capmem listener,
 * whose other end is a capmem channel in this process. It can send any fd
 * with any claimed type and rights (wire format of host/wire.h), as a
 * hostile peer would. */

#include <stdint.h>

#include <capmem/host.h>
#include "leakcheck.h" /* cmocka */

struct raw_peer {
    int raw;        /* the raw socket */
    cm_handle_t ch; /* the capmem channel at its other end */
};

/* Connects a raw socket to a new channel *ch through a listener on a
 * temporary path (removed again). Returns the socket, or -1 with nothing
 * left open. Asserts nothing: usable in a forked child. */
int raw_connect(cm_handle_t *ch);

/* raw_connect into *rp; fails the test if it cannot. */
void raw_open(struct raw_peer *rp);

/* Closes both ends; fails the test if the channel handle does not close. */
void raw_close(struct raw_peer *rp);

/* Sends one record of one byte carrying `fd` as an object of `type`
 * claiming `rights`. Returns 0, or -1 if the record was not sent whole. */
int raw_send(int raw, int fd, uint32_t type, cm_rights_t rights);
/* The same with the descriptor's size field (a huge-page VMO's exact size). */
int raw_send_sized(int raw, int fd, uint32_t type, cm_rights_t rights, uint64_t size);

/* Waits (up to 10 s) for one message on ch and reads it with room for one
 * handle, stored in *h (CM_HANDLE_INVALID if none). Returns the status of
 * the wait or of the read. */
cm_status_t recv_one(cm_handle_t ch, cm_handle_t *h);

#endif
