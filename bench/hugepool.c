/* SPDX-License-Identifier: MIT */
/* The hugetlb pool for a bench run, restored on every exit path (hugepool.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common.h"
#include "hugepool.h"

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

/* Set once by the first hugepool_set, before the pool is changed, so a
 * signal arriving at any later point finds a complete record. */
static char orig_text[24];
static size_t orig_len;
static volatile sig_atomic_t changed;

long hugepool_get(void)
{
    char buf[32];
    int fd = open(NR_HUGEPAGES, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int saved = errno;
    close(fd);
    if (n <= 0) {
        errno = n < 0 ? saved : EIO;
        return -1;
    }
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

static int write_text(const char *text, size_t len)
{
    int fd = open(NR_HUGEPAGES, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, len);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        errno = n < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

/* The lock tests/host/vmo_huge_test.sh also takes: one run at a time
 * changes the system-wide pool, so no run's restore takes pages away from
 * another's. Held until the process (and its forked consumer) ends. */
static int take_pool_lock(void)
{
    static int lock_fd = -1;
    char path[4096];
    const char *dir = getenv("TMPDIR");
    if (lock_fd >= 0)
        return 0;
    snprintf(path, sizeof(path), "%s/capmem-hugetlb-pool.lock", dir != NULL ? dir : "/tmp");
    lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0)
        return -1;
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "bench: waiting for the hugetlb pool lock %s\n", path);
        if (flock(lock_fd, LOCK_EX) != 0) {
            close(lock_fd);
            lock_fd = -1;
            return -1;
        }
    }
    return 0;
}

int hugepool_set(unsigned long pages)
{
    char text[24];
    if (take_pool_lock() != 0)
        return -1;
    if (orig_len == 0) {
        long orig = hugepool_get();
        if (orig < 0)
            return -1;
        orig_len = (size_t)snprintf(orig_text, sizeof(orig_text), "%ld\n", orig);
        bench_on_exit(hugepool_restore);
    }
    int len = snprintf(text, sizeof(text), "%lu\n", pages);
    sig_atomic_t before = changed;
    changed = 1; /* before the write: a signal during it must still restore */
    if (write_text(text, (size_t)len) != 0) {
        changed = before; /* a refused write changed nothing */
        return -1;
    }
    return 0;
}

uint64_t hugepool_free(void)
{
    return bench_meminfo_kb("HugePages_Free");
}

void hugepool_restore(void)
{
    static const char ok[] = "bench: hugetlb pool restored to ";
    static const char bad[] = "bench: could not restore the hugetlb pool (write it back "
                              "to " NR_HUGEPAGES " by hand): ";
    if (!changed)
        return;
    changed = 0;
    int rc = write_text(orig_text, orig_len);
    (void)!write(2, rc == 0 ? ok : bad, rc == 0 ? sizeof(ok) - 1 : sizeof(bad) - 1);
    (void)!write(2, orig_text, orig_len);
}
