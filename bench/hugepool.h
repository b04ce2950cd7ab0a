/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_BENCH_HUGEPOOL_H
#define CAPMEM_BENCH_HUGEPOOL_H

/* The hugetlb pool (/proc/sys/vm/nr_hugepages, CM_HUGE_PAGE_SIZE pages on
 * x86-64) set for one bench run and put back afterwards. The setting is
 * system-wide, so the first hugepool_set records the value found and
 * registers hugepool_restore with bench_on_exit: the original value is
 * written back on a normal end, on bench_fail, on SIGINT / SIGTERM / SIGHUP
 * and on the bench deadline (only SIGKILL escapes; then write it back by
 * hand). Needs root. bench/hugepool_test.sh proves the restore on each path.
 * The first hugepool_set also takes the pool lock that
 * tests/host/vmo_huge_test.sh takes (an flock on
 * $TMPDIR/capmem-hugetlb-pool.lock), waiting for a run that holds it. */

#include <stdint.h>

/* Current nr_hugepages, or -1 (errno set). */
long hugepool_get(void);

/* Asks the kernel for a pool of `pages` persistent huge pages. The kernel
 * may give fewer (fragmented memory): check hugepool_free() after. Returns
 * 0, or -1 with errno (EACCES/EPERM when not root). */
int hugepool_set(unsigned long pages);

/* Huge pages in the pool not in use now (HugePages_Free). */
uint64_t hugepool_free(void);

/* Writes the recorded original back, if hugepool_set changed anything.
 * Idempotent and async-signal-safe (open, write, close of a string
 * formatted in advance). Reports on stderr. */
void hugepool_restore(void);

#endif
