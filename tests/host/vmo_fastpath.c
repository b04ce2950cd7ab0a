/* SPDX-License-Identifier: MIT */
/* The share's fast paths (issue 9, "no wasted work per share") keep every
 * guarantee they skip a system call for:
 *  - a frozen, read-only VMO admitted from outside keeps the fd it came in
 *    (no /proc reopen): nothing another holder of that open file
 *    description sets changes what the handle reads or maps;
 *  - a VMO private to this process keeps its size in the library: the
 *    cached size is never used once another process may change it (fork,
 *    export), and follows every set_size of this process.
 * The call counts themselves are tests/host/syscall_budget.sh's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/leakcheck.h"

#define PAGE 4096u
#define FROZEN (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

/* A memfd of `size` bytes holding "frozen" at 0, sealed WRITE|GROW|SHRINK. */
static int frozen_memfd(uint64_t size)
{
    int fd = memfd_create("fastpath", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || pwrite(fd, "frozen", 6, 0) != 6 ||
        fcntl(fd, F_ADD_SEALS, FROZEN) != 0)
        return -1;
    return fd;
}

/* The handle shares the caller's description (no reopen) and must not
 * care: O_APPEND, O_NONBLOCK, O_DIRECT (refused on shmem before Linux 6.6,
 * ignored by its reads after) and the file offset, all set after the
 * admission, change nothing the handle does. */
static void test_frozen_admitted_vmo_ignores_status_flags_of_shared_description(void **state)
{
    (void)state;
    cm_handle_t v;
    cm_vmo_info_t info;
    char buf[8] = { 0 };
    void *p;
    int fd = frozen_memfd(3 * PAGE);
    assert_true(fd >= 0);
    int given = dup(fd);
    assert_true(given >= 0);
    assert_status(cm_host_vmo_from_fd(given, CM_RIGHTS_SAME, &v), CM_OK);
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK), 0);
    (void)fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK | O_DIRECT);
    assert_int_equal(lseek(fd, 2 * PAGE + 5, SEEK_SET), 2 * PAGE + 5);
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_int_equal(info.size, 3 * PAGE);
    assert_int_equal(info.rights & CM_RIGHT_WRITE, 0);
    assert_status(cm_vmo_read(v, buf, 0, 6), CM_OK);
    assert_memory_equal(buf, "frozen", 6);
    assert_status(cm_vmo_read(v, buf, 1, 3), CM_OK); /* unaligned: O_DIRECT changes nothing */
    assert_memory_equal(buf, "roz", 3);
    assert_status(cm_vmo_write(v, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_map(v, 0, 3 * PAGE, CM_MAP_READ, &p), CM_OK);
    assert_memory_equal(p, "frozen", 6);
    assert_status(cm_vmo_unmap(p, 3 * PAGE), CM_OK);
    assert_status(cm_vmo_map(v, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    uint64_t size = 0;
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 3 * PAGE);
    cm_handle_close(v);
    /* The caller's description is still the caller's. */
    assert_int_equal(pread(fd, buf, 6, 0), 6);
    close(fd);
}

/* The same over a channel: a VMO sealed IMMUTABLE here travels as its own
 * fd and arrives as that fd; both ends read it and neither can write it. */
static void test_frozen_vmo_sent_and_received_without_reopen_stays_read_only(void **state)
{
    (void)state;
    cm_handle_t a, b, v, kept, got = CM_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    char buf[8] = { 0 };
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_vmo_create(PAGE, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, "frozen", 0, 6), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &kept), CM_OK);
    assert_status(cm_channel_write(a, "v", 1, &v, 1), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    memset(buf, 0, sizeof(buf));
    assert_status(cm_vmo_read(got, buf, 0, 6), CM_OK);
    assert_memory_equal(buf, "frozen", 6);
    assert_status(cm_vmo_write(got, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_write(kept, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_set_size(kept, 2 * PAGE), CM_ERR_ACCESS_DENIED);
    uint64_t size = 0;
    assert_status(cm_vmo_get_size(got, &size), CM_OK);
    assert_int_equal(size, PAGE);
    cm_handle_close(got);
    cm_handle_close(kept);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* A frozen object needs no description of its own, so it is admitted where
 * /proc is missing; anything else is still UNSUPPORTED there. */
static int admit_frozen_without_proc(void *arg)
{
    (void)arg;
    cm_handle_t v;
    char buf[6];
    int frozen = frozen_memfd(PAGE);
    int open_fd = memfd_create("open", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (frozen < 0 || open_fd < 0 || ftruncate(open_fd, PAGE) != 0)
        return 2;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
        mount("none", "/proc", "tmpfs", 0, NULL) != 0)
        return 77;
    if (cm_host_vmo_from_fd(open_fd, CM_RIGHTS_SAME, &v) != CM_ERR_UNSUPPORTED)
        return 3;
    if (cm_host_vmo_from_fd(frozen, CM_RIGHTS_SAME, &v) != CM_OK)
        return 4;
    if (cm_vmo_read(v, buf, 0, 6) != CM_OK || memcmp(buf, "frozen", 6) != 0)
        return 5;
    cm_handle_close(v);
    close(open_fd);
    return 0;
}

static void test_frozen_vmo_admitted_without_proc_others_unsupported(void **state)
{
    (void)state;
    int rc = in_child(admit_frozen_without_proc, NULL);
    if (rc == 77) {
        print_message("# no user namespaces here: /proc cannot be hidden, not run\n");
        skip();
    }
    assert_int_equal(rc, 0);
}

/* The size a private VMO keeps follows this process's own resizes. */
static void test_private_vmo_size_follows_set_size(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size = 0;
    assert_status(cm_vmo_create(3 * PAGE, 0, &v), CM_OK);
    assert_status(cm_vmo_set_size(v, PAGE), CM_OK);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, PAGE);
    assert_status(cm_vmo_write(v, "x", PAGE, 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_set_size(v, 5 * PAGE), CM_OK);
    assert_status(cm_vmo_write(v, "x", 5 * PAGE - 1, 1), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    cm_vmo_info_t info;
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.size, 5 * PAGE);
    cm_handle_close(v);
}

/* After a fork the child shares the memfd's description: its resize must
 * show in the parent, whose cached size is then no longer used. */
static void test_vmo_size_read_from_object_after_fork(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size = 0;
    char c = 0;
    assert_status(cm_vmo_create(PAGE, 0, &v), CM_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(cm_vmo_set_size(v, 2 * PAGE) == CM_OK ? 0 : 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 2 * PAGE);
    assert_status(cm_vmo_read(v, &c, 2 * PAGE - 1, 1), CM_OK);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    cm_vmo_info_t info;
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.size, 2 * PAGE);
    cm_handle_close(v);
}

/* An exported fd's holder can resize the object: the size comes from the
 * object from then on. */
static void test_vmo_size_read_from_object_after_export(void **state)
{
    (void)state;
    cm_handle_t v;
    uint64_t size = 0;
    int fd = -1;
    assert_status(cm_vmo_create(PAGE, 0, &v), CM_OK);
    assert_status(cm_host_vmo_export_fd(v, &fd), CM_OK);
    assert_int_equal(ftruncate(fd, 3 * PAGE), 0);
    assert_status(cm_vmo_get_size(v, &size), CM_OK);
    assert_int_equal(size, 3 * PAGE);
    assert_status(cm_vmo_write(v, "x", 3 * PAGE - 1, 1), CM_OK);
    assert_int_equal(ftruncate(fd, PAGE), 0);
    assert_status(cm_vmo_write(v, "x", 3 * PAGE - 1, 1), CM_ERR_OUT_OF_RANGE);
    close(fd);
    cm_handle_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_frozen_admitted_vmo_ignores_status_flags_of_shared_description),
        LEAK_TEST(test_frozen_vmo_sent_and_received_without_reopen_stays_read_only),
        LEAK_TEST(test_frozen_vmo_admitted_without_proc_others_unsupported),
        LEAK_TEST(test_private_vmo_size_follows_set_size),
        LEAK_TEST(test_vmo_size_read_from_object_after_fork),
        LEAK_TEST(test_vmo_size_read_from_object_after_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
