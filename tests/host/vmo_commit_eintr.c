/* SPDX-License-Identifier: MIT */
/* A CM_VMO_COMMIT create sizes and fills its memfd with fallocate, in
 * pieces (host/vmo.c, base_memfd, cm__fallocate_pieces). Linux's shmem_fallocate gives up with EINTR
 * when a signal is pending (any signal on older kernels, a fatal one on
 * recent ones), having freed what it allocated: the create retries, as
 * COMMIT on a VMO (host/vmo_commit.c) and the huge reservation do, rather
 * than fail. The interposed fallocate below fails the first call with
 * EINTR, as the kernel does, without touching the file. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/host.h>
#include "common/leakcheck.h"

static int eintr_left, calls;
static off_t eintr_above; /* when > 0: every call longer than this is EINTR */

int fallocate(int fd, int mode, off_t at, off_t len)
{
    static int (*real)(int, int, off_t, off_t);
    if (real == NULL)
        real = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
    calls++;
    if ((eintr_above > 0 && len > eintr_above) || eintr_left > 0) {
        if (eintr_left > 0)
            eintr_left--;
        errno = EINTR;
        return -1;
    }
    return real(fd, mode, at, len);
}

static void test_commit_create_interrupted_by_a_signal_retries_and_is_ok(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size = 0;
    struct stat sb;
    int fd = -1;
    eintr_left = 1;
    calls = 0;
    assert_status(cm_vmo_create(16 * CM_PAGE_SIZE, CM_VMO_COMMIT, &v), CM_OK);
    assert_int_equal(eintr_left, 0);
    assert_true(calls >= 2); /* the interrupted call was made again */
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 16 * CM_PAGE_SIZE);
    /* Committed: every page allocated (st_blocks counts 512-byte units). */
    assert_status(cm_host_vmo_export_fd(v, &fd), CM_OK);
    assert_int_equal(fstat(fd, &sb), 0);
    close(fd);
    assert_true((uint64_t)sb.st_blocks * 512 >= 16 * CM_PAGE_SIZE);
    cm_handle_close(v);
}

/* Every fallocate longer than 64 KiB interrupted, as kernels before 2024
 * do to any call that a periodic signal (a profiler's timer) lands in: a
 * create that made the whole-size call again never finished (the alarm
 * ends the test); in pieces that halve on EINTR it does, every page
 * allocated. */
static void test_commit_create_finishes_when_every_long_fallocate_is_interrupted(void **state)
{
    (void)state;
    enum { SIZE = (1 << 20) + 3 * CM_PAGE_SIZE }; /* under a huge page: base pages */
    cm_handle_t v;
    struct stat sb;
    int fd = -1;
    eintr_above = 64 * 1024;
    alarm(10);
    cm_status_t st = cm_vmo_create(SIZE, CM_VMO_COMMIT, &v);
    alarm(0);
    eintr_above = 0;
    assert_status(st, CM_OK);
    assert_status(cm_host_vmo_export_fd(v, &fd), CM_OK);
    assert_int_equal(fstat(fd, &sb), 0);
    close(fd);
    assert_int_equal(sb.st_size, SIZE);
    assert_true((uint64_t)sb.st_blocks * 512 >= SIZE);
    cm_handle_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_commit_create_interrupted_by_a_signal_retries_and_is_ok),
        LEAK_TEST(test_commit_create_finishes_when_every_long_fallocate_is_interrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
