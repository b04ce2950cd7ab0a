/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_CHANNEL_INTERNAL_H
#define CAPMEM_HOST_CHANNEL_INTERNAL_H

#include "internal.h"

/* Wraps a connected seqpacket socket as a new channel handle. On failure
 * the caller keeps the fd. */
cm_status_t cm__channel_install(int fd, cm_rights_t rights, cm_handle_t *out);
/* The same for a socket from outside this process (struct cm__channel,
 * shared_socket). */
cm_status_t cm__channel_install_shared(int fd, cm_rights_t rights, cm_handle_t *out);

/* Checks that an object with `rights` can be sent to another process
 * without the receiver gaining a right the sender dropped.
 * Returns UNSUPPORTED when Linux could not enforce the drop. */
cm_status_t cm__transfer_check(struct cm__hobj *obj, cm_rights_t rights);

#endif
