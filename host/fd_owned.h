/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_HOST_FD_OWNED_H
#define CAPMEM_HOST_FD_OWNED_H

/* The fd numbers that a library object owns and will close (a channel's
 * socket, a SharedBuffer consumer's socket): rule "one fd, one owner", so
 * that cm_host_channel_from_fd refuses a number the library already owns
 * (adopted before, or given out by cm_host_object_fd) instead of closing it
 * twice, the second time under whatever reused the number.
 * Lock-free (atomic bits in chunks allocated once, never freed), so a
 * forked child inherits a consistent copy. */

/* Marks fd owned. Returns 1 if it was owned already, 0 if not, -1 if the
 * chunk for it could not be allocated (nothing marked). */
int cm__fd_own(int fd);

/* Forgets fd; call before closing it. fd < 0 is ignored. */
void cm__fd_disown(int fd);

#endif
