/* SPDX-License-Identifier: MIT */
/* fork() and DMA pools: a child must never crash, hang or disturb its
 * parent's pool (docs/dma.md, "Fork").
 *
 * The rule: a pool belongs to the process that created it. A forked child
 * inherits the handle value, but every call on it returns BAD_STATE (the
 * owner check comes before the ring or the buffers are touched), close
 * frees only the child's own bookkeeping, and the child inherits no
 * mapping (MADV_DONTFORK) and no fd (closed by the fork handler) of the
 * ring, the buffers or the device.
 *
 * Each test forks a real child. The child cannot use cmocka (a failed
 * assert would longjmp into the child's copy of the runner): it counts its
 * own failures into its exit status, prints what failed, and an alarm
 * turns a hang into a signal the parent sees. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/child.h"
#include "dma_testutil.h"
#include "../../host/dma_internal.h"

#define SEC (1000ll * 1000 * 1000)

static uint32_t registered_before;

static int setup(void **state)
{
    dma_pool_options = 0;
    registered_before = cm__dma_registered_buffers();
    return leak_setup(state);
}

static int teardown(void **state)
{
    if (cm_host_dma_quarantine_wait(10 * SEC) != CM_OK ||
        cm__dma_registered_buffers() != registered_before) {
        fprintf(stderr, "LEAK: registered buffers %u -> %u\n", registered_before,
                cm__dma_registered_buffers());
        return -1;
    }
    return leak_teardown(state);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

static void write_all(int fd, const void *p, size_t n)
{
    assert_int_equal(write(fd, p, n), (ssize_t)n);
}

/* Every call on an inherited pool is a typed error in the child, including
 * those that would touch buffer memory the child does not have. */
static void test_child_call_on_inherited_pool_is_typed_error_not_segv(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(3, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b0, b1;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b0, 0, "parent", 6), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b1), CM_OK);
    cm_dma_fence_t f1 = dma_submit_read(pool, b1, 0, 8, 0);

    pid_t pid = fork_checked_child();
    if (pid == 0) {
        const cm_status_t bs = CM_ERR_BAD_STATE;
        cm_dma_pool_info_t info;
        cm_dma_buffer_t b;
        void *addr;
        uint8_t buf[8];
        cm_dma_completion_t c;
        cm_dma_fence_t f;
        cm_handle_t vmo;
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, 8, 0, 0 };
        CHILD_EXPECT(cm_dma_pool_get_info(pool, &info), bs);
        CHILD_EXPECT(cm_dma_buffer_acquire(pool, &b), bs);
        CHILD_EXPECT(cm_dma_buffer_map(pool, b0, &addr, NULL), bs);
        CHILD_EXPECT(cm_dma_buffer_read(pool, b0, 0, buf, sizeof(buf)), bs);
        CHILD_EXPECT(cm_dma_buffer_write(pool, b0, 0, "child", 5), bs);
        CHILD_EXPECT(cm_dma_submit(pool, b0, &op, &f), bs);
        CHILD_EXPECT(cm_dma_fence_poll(pool, f1, &c), bs);
        CHILD_EXPECT(cm_dma_fence_wait(pool, f1, 0, &c), bs);
        CHILD_EXPECT(cm_dma_fence_wait(pool, f1, CM_TIMEOUT_INFINITE, &c), bs);
        CHILD_EXPECT(cm_dma_buffer_detach_vmo(pool, b0, &vmo), bs);
        CHILD_EXPECT(cm_dma_buffer_release(pool, b0), bs);
        CHILD_EXPECT(cm_dma_pool_attach(pool, "/nonexistent", CM_DMA_ATTACH_READ), bs);
        CHILD_EXPECT(cm_host_dma_attach_fd(pool, wfd, CM_DMA_ATTACH_WRITE), bs);
        CHILD_EXPECT(cm__dma_inject_completion(pool, f1), bs);
        CHILD_EXPECT(cm_handle_close(pool), CM_OK);
        child_exit();
    }
    assert_child_passed(pid);
    /* The parent's pool is untouched: its buffer, its fence. */
    write_all(wfd, "devicedt", 8);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, f1, 10 * SEC, &c), CM_OK);
    assert_int_equal(c.bytes, 8);
    char got[8];
    assert_status(cm_dma_buffer_read(pool, b1, 0, got, 8), CM_OK);
    assert_memory_equal(got, "devicedt", 8);
    assert_status(cm_dma_buffer_read(pool, b0, 0, got, 6), CM_OK);
    assert_memory_equal(got, "parent", 6);
    close(wfd);
    cm_handle_close(pool);
}

/* A completion sitting in the ring at fork, and one arriving while the
 * child tries to wait for it: the parent gets both. */
static void test_child_cannot_consume_parent_completions(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b0, b1;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b1), CM_OK);
    cm_dma_fence_t f0 = dma_submit_read(pool, b0, 0, 8, 0);
    write_all(wfd, "first---", 8);
    assert_status(cm__dma_wait_posted(pool, 10 * SEC), CM_OK); /* in the ring, not consumed */
    cm_dma_fence_t f1 = dma_submit_read(pool, b1, 0, 8, 0);

    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_dma_pool_info_t info;
        cm_dma_completion_t c;
        CHILD_EXPECT(cm_dma_pool_get_info(pool, &info), CM_ERR_BAD_STATE);
        CHILD_EXPECT(cm_dma_fence_poll(pool, f0, &c), CM_ERR_BAD_STATE);
        /* Would sleep in the ring until the parent's second completion. */
        CHILD_EXPECT(cm_dma_fence_wait(pool, f1, 5 * SEC, &c), CM_ERR_BAD_STATE);
        child_exit();
    }
    write_all(wfd, "second--", 8);
    assert_child_passed(pid);
    cm_dma_completion_t c;
    char got[8];
    assert_status(cm_dma_fence_wait(pool, f0, 5 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_read(pool, b0, 0, got, 8), CM_OK);
    assert_memory_equal(got, "first---", 8);
    assert_status(cm_dma_fence_wait(pool, f1, 5 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_read(pool, b1, 0, got, 8), CM_OK);
    assert_memory_equal(got, "second--", 8);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.dropped_completions, 0);
    close(wfd);
    cm_handle_close(pool);
}

/* The child's close of its inherited handle (the child's last reference)
 * must not cancel, unregister, scrub or submit anything of the parent's,
 * and must not start a quarantine of the parent's in-flight buffer. */
static void test_child_close_of_inherited_pool_leaves_parent_pool_working(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(3, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b0, b1, b2;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b0, 0, "keep", 4), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b1), CM_OK);
    cm_dma_fence_t f1 = dma_submit_read(pool, b1, 0, 8, 0);

    pid_t pid = fork_checked_child();
    if (pid == 0) {
        CHILD_EXPECT(cm_handle_close(pool), CM_OK);
        CHILD_CHECK(cm_host_dma_quarantined() == 0);
        CHILD_CHECK(cm__dma_registered_buffers() == 0);
        /* Nothing of the parent is the child's to wait for. */
        CHILD_EXPECT(cm_host_dma_quarantine_wait(5 * SEC), CM_OK);
        child_exit();
    }
    write_all(wfd, "complete", 8);
    assert_child_passed(pid);
    cm_dma_completion_t c;
    char got[8];
    assert_status(cm_dma_fence_wait(pool, f1, 5 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_read(pool, b1, 0, got, 8), CM_OK);
    assert_memory_equal(got, "complete", 8);
    assert_status(cm_dma_buffer_read(pool, b0, 0, got, 4), CM_OK);
    assert_memory_equal(got, "keep", 4);
    /* The whole cycle still works, on every slot. */
    assert_status(cm_dma_buffer_acquire(pool, &b2), CM_OK);
    cm_dma_fence_t f2 = dma_submit_read(pool, b2, 0, 8, 0);
    write_all(wfd, "again---", 8);
    assert_status(cm_dma_fence_wait(pool, f2, 5 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b0), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b1), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b2), CM_OK);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.free, 3);
    assert_int_equal(info.in_flight, 0);
    assert_int_equal(info.dropped_completions, 0);
    close(wfd);
    cm_handle_close(pool);
}

static int maps_naming(const char *what)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

static int fds_naming(const char *what)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[300];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strstr(target, what) != NULL;
        }
    }
    closedir(d);
    return n;
}

/* The child cannot touch the parent's ring or buffers even by pointer or
 * by fd: no mapping, no fd of them (nor of the device) in the child. */
static void test_child_inherits_no_mapping_or_fd_of_a_pool(void **state)
{
    (void)state;
    int fds_before = count_open_fds();
    int wfd;
    cm_handle_t pool = dma_pipe_pool(4, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b;
    uint8_t *p;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_OK);
    p[0] = 1;
    assert_true(maps_naming("io_uring") > 0);
    assert_true(maps_naming("capmem-dma") > 0);

    pid_t pid = fork_checked_child();
    if (pid == 0) {
        CHILD_CHECK(maps_naming("io_uring") == 0);
        CHILD_CHECK(maps_naming("capmem-dma") == 0);
        CHILD_CHECK(fds_naming("io_uring") == 0);
        CHILD_CHECK(fds_naming("capmem-dma") == 0);
        /* The pool's fds are gone, the test's own write end stays. */
        CHILD_CHECK(count_open_fds() == fds_before + 1);
        child_exit();
    }
    assert_child_passed(pid);
    assert_int_equal(p[0], 1);
    close(wfd);
    cm_handle_close(pool);
}

/* A quarantine belongs to the process whose pool it was: the child has
 * nothing to wait for and nothing to count. */
static void test_child_does_not_inherit_parent_quarantine(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(1, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    (void)dma_submit_read(pool, b, 0, 8, 0);
    cm_handle_close(pool);
    assert_int_equal(cm_host_dma_quarantined(), 1);

    pid_t pid = fork_checked_child();
    if (pid == 0) {
        CHILD_CHECK(cm_host_dma_quarantined() == 0);
        CHILD_EXPECT(cm_host_dma_quarantine_wait(0), CM_OK);
        CHILD_EXPECT(cm_host_dma_quarantine_wait(CM_TIMEOUT_INFINITE), CM_OK);
        child_exit();
    }
    assert_child_passed(pid);
    assert_int_equal(cm_host_dma_quarantined(), 1);
    write_all(wfd, "late----", 8);
    assert_status(cm_host_dma_quarantine_wait(10 * SEC), CM_OK);
    close(wfd);
}

/* ---- fork while other threads use the library's DMA locks ---- */

static atomic_int stop_threads;

static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_threads)) {
        cm_handle_t pool;
        cm_dma_pool_config_t cfg = { 2, CM_PAGE_SIZE, 1, 0 };
        if (cm_dma_pool_create(&cfg, &pool) != CM_OK)
            return (void *)1;
        cm_dma_buffer_t b;
        cm_dma_pool_info_t info;
        if (cm_dma_buffer_acquire(pool, &b) != CM_OK ||
            cm_dma_buffer_write(pool, b, 0, "x", 1) != CM_OK ||
            cm_dma_pool_get_info(pool, &info) != CM_OK ||
            cm_dma_buffer_release(pool, b) != CM_OK)
            return (void *)2;
        cm_handle_close(pool);
        (void)cm_host_dma_quarantine_wait(0);
    }
    return NULL;
}

/* Children forked while two threads create, use and destroy pools (the
 * pool list and every pool lock busy) can use DMA themselves: the fork
 * handler leaves no lock of the library held in the child. */
static void test_fork_while_threads_use_pools_leaves_child_usable(void **state)
{
    (void)state;
    pthread_t t[2];
    atomic_store(&stop_threads, 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int round = 0; round < 20; round++) {
        pid_t pid = fork_checked_child();
        if (pid == 0) {
            cm_handle_t pool;
            cm_dma_pool_config_t cfg = { 2, CM_PAGE_SIZE, 1, 0 };
            cm_dma_buffer_t b;
            cm_handle_t vmo;
            char got[5];
            CHILD_EXPECT(cm_dma_pool_create(&cfg, &pool), CM_OK);
            CHILD_EXPECT(cm_dma_buffer_acquire(pool, &b), CM_OK);
            CHILD_EXPECT(cm_dma_buffer_write(pool, b, 0, "child", 5), CM_OK);
            CHILD_EXPECT(cm_dma_buffer_read(pool, b, 0, got, 5), CM_OK);
            CHILD_CHECK(memcmp(got, "child", 5) == 0);
            CHILD_EXPECT(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_OK);
            CHILD_EXPECT(cm_handle_close(vmo), CM_OK);
            CHILD_EXPECT(cm_handle_close(pool), CM_OK);
            CHILD_EXPECT(cm_host_dma_quarantine_wait(0), CM_OK);
            child_exit();
        }
        assert_child_passed(pid);
    }
    atomic_store(&stop_threads, 1);
    for (int i = 0; i < 2; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_null(r);
    }
}

/* A child made by the raw clone system call runs no fork handler, so its
 * pools are not marked inherited; the owner check still refuses them (the
 * process token's page is MADV_WIPEONFORK, zero in any child), without a
 * getpid per call. A pool the child makes itself gets a fresh token and
 * works. */
static void test_raw_clone_child_call_on_pool_is_bad_state_and_own_pool_works(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b0;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    fflush(NULL);
    long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        checked_child_begin();
        cm_dma_pool_info_t info;
        cm_dma_buffer_t b;
        uint8_t x;
        CHILD_EXPECT(cm_dma_pool_get_info(pool, &info), CM_ERR_BAD_STATE);
        CHILD_EXPECT(cm_dma_buffer_acquire(pool, &b), CM_ERR_BAD_STATE);
        CHILD_EXPECT(cm_dma_buffer_read(pool, b0, 0, &x, 1), CM_ERR_BAD_STATE);
        cm_handle_t mine;
        cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, 0 };
        CHILD_EXPECT(cm_dma_pool_create(&cfg, &mine), CM_OK);
        CHILD_EXPECT(cm_dma_buffer_acquire(mine, &b), CM_OK);
        CHILD_EXPECT(cm_dma_buffer_write(mine, b, 0, "c", 1), CM_OK);
        CHILD_EXPECT(cm_dma_buffer_acquire(pool, &b), CM_ERR_BAD_STATE);
        CHILD_EXPECT(cm_handle_close(mine), CM_OK);
        child_exit();
    }
    assert_child_passed((pid_t)pid);
    /* The parent's pool still works. */
    assert_status(cm_dma_buffer_write(pool, b0, 0, "p", 1), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b0, 0, 1, 0);
    write_all(wfd, "d", 1);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, f, 10 * SEC, &c), CM_OK);
    close(wfd);
    cm_handle_close(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_child_call_on_inherited_pool_is_typed_error_not_segv),
        T(test_child_cannot_consume_parent_completions),
        T(test_child_close_of_inherited_pool_leaves_parent_pool_working),
        T(test_child_inherits_no_mapping_or_fd_of_a_pool),
        T(test_child_does_not_inherit_parent_quarantine),
        T(test_fork_while_threads_use_pools_leaves_child_usable),
        T(test_raw_clone_child_call_on_pool_is_bad_state_and_own_pool_works),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
