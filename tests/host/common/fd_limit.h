/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_FD_LIMIT_H
#define CAPMEM_TESTS_FD_LIMIT_H

/* RLIMIT_NOFILE for tests of fd exhaustion: leave_fds(n) lowers the limit so
 * that exactly n more fds can be opened (holes below the highest open fd are
 * filled with placeholders); restore_fds() closes those and restores the
 * limit. Returns 0 on success, -1 if the limit could not be set. */
int leave_fds(int spare);
int restore_fds(void);

#endif
