/* SPDX-License-Identifier: MIT */
/* Process limits and a missing io_uring give DMA pool creation a typed
 * error and leave nothing behind (include/capmem/dma.h says which):
 *   RLIMIT_MEMLOCK below what the registered (pinned) buffers need:
 *       NO_RESOURCES;
 *   RLIMIT_NOFILE reached at any of creation's fds: NO_RESOURCES;
 *   io_uring refused (seccomp, or the io_uring_disabled sysctl, which
 *       gives the same EPERM): UNSUPPORTED.
 * Limits are per process, so each test sets them in a forked child, which
 * reports through its exit status (cmocka cannot run in the child). */
#include <dirent.h>
#include <stddef.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "common/child.h"
#include "dma_testutil.h"
#include "../../host/dma_internal.h"

typedef void (*child_fn)(void);

/* Runs fn in a checked child (common/child.h): it must exit 0; exit
 * CHILD_SKIP (77) means it could not set the test up. */
static void run_in_child(child_fn fn)
{
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        fn();
        child_exit();
    }
    assert_child_passed(pid);
}

struct snap {
    int fds, maps;
    uint32_t handles, registered;
};

static struct snap snap(void)
{
    struct snap s = { count_open_fds(), count_maps(), cm_host_live_handles(),
                      cm__dma_registered_buffers() };
    return s;
}

static void child_check_same(struct snap a, struct snap b)
{
    CHILD_CHECK(a.fds == b.fds);
    CHILD_CHECK(a.maps == b.maps);
    CHILD_CHECK(a.handles == b.handles);
    CHILD_CHECK(a.registered == b.registered);
}

/* Without CAP_IPC_LOCK (root has it; io_uring then charges nothing), the
 * registered buffers count against RLIMIT_MEMLOCK. */
static int drop_ipc_lock(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return -1;
    d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
    d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
    return (int)syscall(SYS_capset, &h, d);
}

static void memlock_child(void)
{
    if (drop_ipc_lock() != 0)
        _exit(77);
    struct rlimit rl = { 256 * 1024, 256 * 1024 };
    if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
        _exit(77);
    struct snap before = snap();
    cm_handle_t pool;
    cm_dma_pool_config_t big = { 4, CM_DMA_MAX_BUFFER_SIZE, 1, 0 };
    CHILD_EXPECT(cm_dma_pool_create(&big, &pool), CM_ERR_NO_RESOURCES);
    child_check_same(before, snap());
    /* What fits under the limit still works. */
    cm_dma_pool_config_t small = { 4, 16 * 1024, 1, 0 };
    CHILD_EXPECT(cm_dma_pool_create(&small, &pool), CM_OK);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK);
    child_check_same(before, snap());
}

static void test_memlock_limit_too_low_is_no_resources(void **state)
{
    (void)state;
    run_in_child(memlock_child);
}

static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int hi = -1;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > hi && fd != dirfd(d))
            hi = fd;
    }
    closedir(d);
    return hi;
}

/* RLIMIT_NOFILE reached at each fd creation needs in turn. */
static void nofile_child(void)
{
    struct rlimit saved;
    if (getrlimit(RLIMIT_NOFILE, &saved) != 0)
        _exit(77);
    struct snap before = snap();
    /* Fill every free fd number below the limit, so that the limit leaves
     * exactly k fds of headroom. */
    int hi = highest_fd(), fillers[1024], nfill = 0;
    struct rlimit tight = { (rlim_t)(hi + 1), saved.rlim_max };
    if (hi < 0 || setrlimit(RLIMIT_NOFILE, &tight) != 0)
        _exit(77);
    while (nfill < 1024 && (fillers[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        nfill++;
    if (setrlimit(RLIMIT_NOFILE, &saved) != 0)
        _exit(77);
    before = snap();
    cm_dma_pool_config_t cfg = { 4, CM_PAGE_SIZE, 2, 0 };
    int refused = 0, k;
    for (k = 0; k < 32; k++) {
        struct rlimit rl = { (rlim_t)(hi + 1 + k), saved.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            _exit(77);
        cm_handle_t pool;
        cm_status_t st = cm_dma_pool_create(&cfg, &pool);
        if (st == CM_OK)
            cm_handle_close(pool);
        if (setrlimit(RLIMIT_NOFILE, &saved) != 0)
            _exit(77);
        child_check_same(before, snap());
        if (st == CM_OK)
            break;
        CHILD_EXPECT(st, CM_ERR_NO_RESOURCES);
        refused++;
    }
    while (nfill > 0)
        close(fillers[--nfill]);
    printf("# pool create refused with 0..%d fd(s) of headroom, succeeded with %d\n",
           refused - 1, k);
    CHILD_CHECK(refused > 0 && k < 32);
}

static void test_fd_limit_during_pool_create_is_no_resources(void **state)
{
    (void)state;
    run_in_child(nofile_child);
}

/* RLIMIT_NPROC binds neither root (the initial user is exempt) nor a
 * holder of CAP_SYS_RESOURCE or CAP_SYS_ADMIN: become nobody. */
static int become_unprivileged(void)
{
    if (getuid() != 0)
        return 0;
    return setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0 ? 0 : -1;
}

/* RLIMIT_NPROC reached: no quarantine thread can start. Closing a pool
 * with a read in flight on a device that has not completed (a pipe) still
 * returns at once; the quarantine wait collects the completion itself. */
static void nproc_child(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0 || become_unprivileged() != 0)
        _exit(77);
    struct rlimit rl = { 1, 1 };
    if (setrlimit(RLIMIT_NPROC, &rl) != 0)
        _exit(77);
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, 0 };
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 8, 0, 0 };
    CHILD_EXPECT(cm_dma_pool_create(&cfg, &pool), CM_OK);
    CHILD_EXPECT(cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ), CM_OK);
    CHILD_EXPECT(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHILD_EXPECT(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK); /* used to wait for the device here */
    CHILD_CHECK(cm_host_dma_quarantined() == 1);
    CHILD_CHECK(write(p[1], "12345678", 8) == 8);
    CHILD_EXPECT(cm_host_dma_quarantine_wait(10ll * 1000 * 1000 * 1000), CM_OK);
    CHILD_CHECK(cm_host_dma_quarantined() == 0);
}

static void test_nproc_limit_close_does_not_wait_for_device(void **state)
{
    (void)state;
    run_in_child(nproc_child);
}

/* A seccomp filter making one system call fail with err. */
static int deny_syscall(int nr, int err)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void expect_unsupported(int nr, int err)
{
    if (deny_syscall(nr, err) != 0)
        _exit(77);
    struct snap before = snap();
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { 2, CM_PAGE_SIZE, 1, 0 };
    CHILD_EXPECT(cm_dma_pool_create(&cfg, &pool), CM_ERR_UNSUPPORTED);
    child_check_same(before, snap());
}

static void setup_eperm_child(void) { expect_unsupported(__NR_io_uring_setup, EPERM); }
static void setup_enosys_child(void) { expect_unsupported(__NR_io_uring_setup, ENOSYS); }
static void register_eperm_child(void) { expect_unsupported(__NR_io_uring_register, EPERM); }

#ifndef __x86_64__
#define SKIP_NOT_X86() skip()
#else
#define SKIP_NOT_X86() (void)0
#endif

/* EPERM is also what the io_uring_disabled sysctl gives. */
static void test_io_uring_setup_refused_is_unsupported(void **state)
{
    (void)state;
    SKIP_NOT_X86();
    run_in_child(setup_eperm_child);
    run_in_child(setup_enosys_child);
}

static void test_io_uring_register_refused_is_unsupported(void **state)
{
    (void)state;
    SKIP_NOT_X86();
    run_in_child(register_eperm_child);
}

/* The owner check (a pool belongs to its creating process) costs no
 * system call per DMA call: with getpid refused by seccomp, every call of
 * an I/O cycle still works. It used to ask getpid on every call. */
static void no_getpid_child(void)
{
    int p[2];
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, 0 };
    if (pipe2(p, O_CLOEXEC) != 0 || cm_dma_pool_create(&cfg, &pool) != CM_OK ||
        cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ) != CM_OK)
        _exit(77);
    if (deny_syscall(__NR_getpid, EPERM) != 0)
        _exit(77);
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    cm_dma_pool_info_t info;
    void *addr = NULL;
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 4, 0, 0 };
    CHILD_EXPECT(cm_dma_pool_get_info(pool, &info), CM_OK);
    CHILD_EXPECT(cm_dma_buffer_acquire(pool, &b), CM_OK);
    CHILD_EXPECT(cm_dma_buffer_write(pool, b, 0, "abcd", 4), CM_OK);
    CHILD_EXPECT(cm_dma_submit(pool, b, &op, &f), CM_OK);
    CHILD_CHECK(write(p[1], "wxyz", 4) == 4);
    CHILD_EXPECT(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    CHILD_EXPECT(cm_dma_buffer_map(pool, b, &addr, NULL), CM_OK);
    CHILD_CHECK(addr != NULL && memcmp(addr, "wxyz", 4) == 0);
    CHILD_EXPECT(cm_dma_buffer_release(pool, b), CM_OK);
    CHILD_EXPECT(cm_handle_close(pool), CM_OK);
}

static void test_dma_calls_make_no_getpid_system_call(void **state)
{
    (void)state;
    SKIP_NOT_X86();
    run_in_child(no_getpid_child);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_memlock_limit_too_low_is_no_resources),
        LEAK_TEST(test_fd_limit_during_pool_create_is_no_resources),
        LEAK_TEST(test_nproc_limit_close_does_not_wait_for_device),
        LEAK_TEST(test_io_uring_setup_refused_is_unsupported),
        LEAK_TEST(test_io_uring_register_refused_is_unsupported),
        LEAK_TEST(test_dma_calls_make_no_getpid_system_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
