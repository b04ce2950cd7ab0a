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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/fsize.h"
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

/* ---- a new VMO's file is sized lazily (docs/vmo.md, "Size") ---- */

#define LAZY_SIZE (3 * PAGE)

/* The uses of a VMO other than write and get_size, each of which must see
 * (and give whoever else holds the file) the full size of a VMO that was
 * created and written short of its end: the first use sizes the file. */
enum first_use { USE_MAP, USE_READ, USE_EXPORT, USE_SEAL, USE_SNAPSHOT, USE_SEND, USE_FORK,
                 USE_COMMIT, USE_VMAR_MAP, USE_COUNT };

/* The last byte of v through a read-only mapping: 0, not SIGBUS. */
static void child_check_last_byte_mapped(cm_handle_t v, uint64_t size)
{
    void *p = NULL;
    CHILD_EXPECT(cm_vmo_map(v, 0, size, CM_MAP_READ, &p), CM_OK);
    if (p != NULL) {
        CHILD_CHECK(((volatile char *)p)[size - 1] == 0);
        CHILD_EXPECT(cm_vmo_unmap(p, size), CM_OK);
    }
}

static void child_check_file_size(cm_handle_t v, uint64_t size)
{
    struct stat sb;
    int fd = -1;
    CHILD_EXPECT(cm_host_vmo_export_fd(v, &fd), CM_OK);
    CHILD_CHECK(fd >= 0 && fstat(fd, &sb) == 0 && (uint64_t)sb.st_size == size);
    if (fd >= 0)
        close(fd);
}

static void child_first_use(enum first_use use, cm_handle_t v)
{
    char c = 1;
    int fd = -1;
    struct stat sb;
    cm_handle_t other = CM_HANDLE_INVALID, a, b;
    switch (use) {
    case USE_MAP:
        child_check_last_byte_mapped(v, LAZY_SIZE);
        break;
    case USE_READ:
        CHILD_EXPECT(cm_vmo_read(v, &c, LAZY_SIZE - 1, 1), CM_OK);
        CHILD_CHECK(c == 0);
        break;
    case USE_EXPORT:
        CHILD_EXPECT(cm_host_vmo_export_fd(v, &fd), CM_OK);
        CHILD_CHECK(fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size == LAZY_SIZE);
        if (fd >= 0)
            close(fd);
        break;
    case USE_SEAL:
        CHILD_EXPECT(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
        break;
    case USE_SNAPSHOT:
        CHILD_EXPECT(cm_vmo_snapshot(v, &other), CM_OK);
        child_check_last_byte_mapped(other, LAZY_SIZE);
        child_check_file_size(other, LAZY_SIZE);
        break;
    case USE_SEND: {
        uint64_t size = 0;
        cm_handle_t got = CM_HANDLE_INVALID;
        uint32_t nb = 0, nh = 0;
        CHILD_EXPECT(cm_channel_create(0, &a, &b), CM_OK);
        CHILD_EXPECT(cm_handle_duplicate(v, CM_RIGHTS_SAME, &other), CM_OK);
        CHILD_EXPECT(cm_channel_write(a, NULL, 0, &other, 1), CM_OK);
        CHILD_EXPECT(cm_channel_read(b, NULL, 0, &nb, &got, 1, &nh), CM_OK);
        CHILD_EXPECT(cm_vmo_get_size(got, &size), CM_OK);
        CHILD_CHECK(size == LAZY_SIZE);
        child_check_last_byte_mapped(got, LAZY_SIZE);
        cm_handle_close(got);
        cm_handle_close(a);
        cm_handle_close(b);
        other = CM_HANDLE_INVALID; /* consumed by the write */
        break;
    }
    case USE_FORK: {
        /* The child reads the size from the file, shared with us. */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            uint64_t size = 0;
            int bad = cm_vmo_get_size(v, &size) != CM_OK || size != LAZY_SIZE;
            void *p = NULL;
            bad |= cm_vmo_map(v, 0, LAZY_SIZE, CM_MAP_READ, &p) != CM_OK;
            _exit(bad || ((volatile char *)p)[LAZY_SIZE - 1] != 0);
        }
        int status = 0;
        CHILD_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                    WEXITSTATUS(status) == 0);
        break;
    }
    case USE_COMMIT:
        CHILD_EXPECT(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, PAGE, PAGE), CM_OK);
        break;
    case USE_VMAR_MAP: {
        cm_handle_t r = CM_HANDLE_INVALID;
        void *base = NULL, *at = NULL;
        CHILD_EXPECT(cm_vmar_reserve(NULL, 4 * PAGE, 0, &r, &base), CM_OK);
        CHILD_EXPECT(cm_vmar_map(r, 0, v, 0, LAZY_SIZE, CM_MAP_READ, &at), CM_OK);
        if (at != NULL)
            CHILD_CHECK(((volatile char *)at)[LAZY_SIZE - 1] == 0);
        cm_handle_close(r);
        break;
    }
    case USE_COUNT:
        break;
    }
    if (other != CM_HANDLE_INVALID)
        cm_handle_close(other);
}

/* Each use, on a VMO written short of its end (so the write did not size
 * the file): the use itself, and whoever else holds the file, sees the
 * whole size; reading past the written byte gives zeros, never SIGBUS (a
 * mapping past a file's end) or OUT_OF_RANGE (a short pread). */
static int lazy_first_use_child(void *arg)
{
    enum first_use use = *(enum first_use *)arg;
    cm_handle_t v;
    cm_vmo_info_t info;
    child_failures = 0;
    CHILD_EXPECT(cm_vmo_create(LAZY_SIZE, 0, &v), CM_OK);
    CHILD_EXPECT(cm_vmo_write(v, "a", 0, 1), CM_OK);
    CHILD_EXPECT(cm_vmo_get_info(v, &info), CM_OK);
    CHILD_CHECK(info.size == LAZY_SIZE);
    child_first_use(use, v);
    child_check_file_size(v, LAZY_SIZE);
    cm_handle_close(v);
    return child_failures < 100 ? child_failures : 100;
}

static void test_new_vmo_file_is_sized_by_every_use_that_reads_its_size(void **state)
{
    (void)state;
    int failed = 0;
    for (int use = 0; use < USE_COUNT; use++) {
        enum first_use u = (enum first_use)use;
        int rc = in_child(lazy_first_use_child, &u);
        if (rc != 0) {
            fprintf(stderr, "first use %d: %s %d\n", use, rc >= 1000 ? "signal" : "failed checks",
                    rc >= 1000 ? rc - 1000 : rc);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* A write that reaches the end sizes the file (nothing is left to do, so
 * a limit lowered after it refuses nothing); one that stops short does
 * not (the first map sizes it then, under the limit of that moment). */
static void test_write_reaching_the_end_sizes_the_file_and_a_shorter_one_does_not(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        static char fill[LAZY_SIZE];
        cm_handle_t whole, tail, head;
        void *p = NULL;
        memset(fill, 'x', sizeof(fill));
        CHILD_EXPECT(cm_vmo_create(LAZY_SIZE, 0, &whole), CM_OK);
        CHILD_EXPECT(cm_vmo_create(LAZY_SIZE, 0, &tail), CM_OK);
        CHILD_EXPECT(cm_vmo_create(LAZY_SIZE, 0, &head), CM_OK);
        CHILD_EXPECT(cm_vmo_write(whole, fill, 0, LAZY_SIZE), CM_OK);
        CHILD_EXPECT(cm_vmo_write(tail, "t", LAZY_SIZE - 1, 1), CM_OK);
        CHILD_EXPECT(cm_vmo_write(head, "h", 0, 1), CM_OK);
        struct rlimit was;
        CHILD_CHECK(lower_fsize(PAGE, &was) == 0);
        CHILD_EXPECT(cm_vmo_map(whole, 0, LAZY_SIZE, CM_MAP_READ, &p), CM_OK);
        if (p != NULL)
            CHILD_CHECK(((volatile char *)p)[LAZY_SIZE - 1] == 'x');
        CHILD_EXPECT(cm_vmo_map(tail, 0, LAZY_SIZE, CM_MAP_READ, &p), CM_OK);
        if (p != NULL)
            CHILD_CHECK(((volatile char *)p)[LAZY_SIZE - 1] == 't');
        CHILD_EXPECT(cm_vmo_map(head, 0, LAZY_SIZE, CM_MAP_READ, &p), CM_ERR_NO_RESOURCES);
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
        p = NULL;
        CHILD_EXPECT(cm_vmo_map(head, 0, LAZY_SIZE, CM_MAP_READ, &p), CM_OK);
        if (p != NULL)
            CHILD_CHECK(((volatile char *)p)[0] == 'h' && ((volatile char *)p)[LAZY_SIZE - 1] == 0);
        cm_handle_close(whole);
        cm_handle_close(tail);
        cm_handle_close(head);
        child_exit();
    }
    assert_child_passed(pid);
}

/* RLIMIT_FSIZE lowered below a new VMO's size before its file was sized:
 * every use that needs the size is NO_RESOURCES (never SIGXFSZ, which
 * would kill the process), a fork is not stopped and its child's copy is
 * refused (BAD_STATE: the parent alone sizes it, tests/host/
 * vmo_lazy_hostile.c), and the uses that need no size still work. Raising
 * the limit again makes the VMO whole. */
static void test_sizing_refused_by_rlimit_fsize_is_typed_and_fork_survives_it(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        const uint64_t size = 1 << 20;
        cm_handle_t v, snap, a, b, dup;
        cm_vmo_info_t info;
        uint64_t got = 0;
        void *p = NULL;
        int fd = -1;
        char c = 1;
        CHILD_EXPECT(cm_vmo_create(size, 0, &v), CM_OK);
        struct rlimit was;
        CHILD_CHECK(lower_fsize(64 * 1024, &was) == 0);
        CHILD_EXPECT(cm_vmo_get_size(v, &got), CM_OK);
        CHILD_CHECK(got == size);
        CHILD_EXPECT(cm_vmo_get_info(v, &info), CM_OK);
        CHILD_CHECK(info.size == size);
        CHILD_EXPECT(cm_vmo_get_committed(v, &got), CM_OK);
        CHILD_EXPECT(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, PAGE), CM_OK);
        CHILD_EXPECT(cm_vmo_write(v, "w", 0, 1), CM_OK);
        CHILD_EXPECT(cm_vmo_map(v, 0, size, CM_MAP_READ, &p), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_vmo_read(v, &c, 0, 1), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_vmo_snapshot(v, &snap), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, 0, PAGE), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_host_vmo_export_fd(v, &fd), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_channel_create(0, &a, &b), CM_OK);
        CHILD_EXPECT(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
        CHILD_EXPECT(cm_channel_write(a, NULL, 0, &dup, 1), CM_ERR_NO_RESOURCES);
        /* Consumed, as by any refused write (docs/api.md): gone. */
        CHILD_EXPECT(cm_handle_close(dup), CM_ERR_BAD_HANDLE);
        fflush(NULL);
        pid_t kid = fork();
        if (kid == 0)
            _exit(cm_vmo_map(v, 0, size, CM_MAP_READ, &p) == CM_ERR_BAD_STATE ? 0 : 1);
        int status = 0;
        CHILD_CHECK(kid > 0 && waitpid(kid, &status, 0) == kid && WIFEXITED(status) &&
                    WEXITSTATUS(status) == 0);
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
        p = NULL;
        CHILD_EXPECT(cm_vmo_map(v, 0, size, CM_MAP_READ, &p), CM_OK);
        if (p != NULL)
            CHILD_CHECK(((volatile char *)p)[0] == 'w' && ((volatile char *)p)[size - 1] == 0);
        cm_handle_close(a);
        cm_handle_close(b);
        cm_handle_close(v);
        child_exit();
    }
    assert_child_passed(pid);
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
        LEAK_TEST(test_new_vmo_file_is_sized_by_every_use_that_reads_its_size),
        LEAK_TEST(test_write_reaching_the_end_sizes_the_file_and_a_shorter_one_does_not),
        LEAK_TEST(test_sizing_refused_by_rlimit_fsize_is_typed_and_fork_survives_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
