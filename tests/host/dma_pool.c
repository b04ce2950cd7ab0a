/* SPDX-License-Identifier: MIT */
/* DMA pools on the host: ownership and fences over a real device (an
 * O_DIRECT file read through io_uring into registered buffers), and over a
 * pipe where a test needs an operation to stay in flight as long as it
 * wants. Every test runs inside the leak check (fds, mappings, handles), and
 * registered io_uring buffers are counted too. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "dma_testutil.h"
#include "../../host/dma_internal.h"

static uint32_t registered_before;

static int setup(void **state)
{
    dma_pool_options = 0;
    cm__dma_no_ring_wait = 0;
    registered_before = cm__dma_registered_buffers();
    return leak_setup(state);
}

static int teardown(void **state)
{
    if (cm__dma_registered_buffers() != registered_before) {
        fprintf(stderr, "LEAK: registered buffers %u -> %u\n", registered_before,
                cm__dma_registered_buffers());
        return -1;
    }
    return leak_teardown(state);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void check_pattern(const uint8_t *p, size_t n, uint64_t file_off)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != dma_pattern(file_off + i))
            fail_msg("byte %zu of the buffer differs from file offset %llu", i,
                     (unsigned long long)(file_off + i));
}

/* ---- creation and limits ---- */

static void test_pool_create_rejects_each_bound(void **state)
{
    (void)state;
    cm_handle_t pool;
    const cm_dma_pool_config_t bad[] = {
        { 0, CM_PAGE_SIZE, 1, 0 },
        { CM_DMA_MAX_BUFFERS + 1, CM_PAGE_SIZE, 1, 0 },
        { 1, 0, 1, 0 },
        { 1, CM_PAGE_SIZE + 512, 1, 0 },
        { 1, CM_DMA_MAX_BUFFER_SIZE + CM_PAGE_SIZE, 1, 0 },
        { 2, CM_PAGE_SIZE, 0, 0 },
        { 2, CM_PAGE_SIZE, 3, 0 },
        { CM_DMA_MAX_BUFFERS, CM_PAGE_SIZE, CM_DMA_MAX_IN_FLIGHT + 1, 0 },
        { 1, CM_PAGE_SIZE, 1, 1u << 2 },
        { 1, CM_PAGE_SIZE, 1, 0x80000000u | CM_DMA_POOL_CPU_GUARD },
        { 1, CM_PAGE_SIZE, 1, CM_DMA_POOL_CPU_GUARD | CM_DMA_POOL_NO_CPU_GUARD },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_status(cm_dma_pool_create(&bad[i], &pool), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_pool_create(NULL, &pool), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_pool_create(&bad[0], NULL), CM_ERR_INVALID_ARGS);
}

/* CM_DMA_MAX_BUFFERS buffers of CM_DMA_MAX_BUFFER_SIZE: all acquirable, one
 * more is a typed error. 64 MiB pinned: needs CAP_IPC_LOCK or a memlock
 * limit that high, else NO_RESOURCES is the documented answer. */
static void test_max_buffers_of_max_size_then_no_resources(void **state)
{
    (void)state;
    cm_handle_t pool;
    cm_dma_pool_config_t cfg = { CM_DMA_MAX_BUFFERS, CM_DMA_MAX_BUFFER_SIZE,
                                 CM_DMA_MAX_IN_FLIGHT, 0 };
    cm_status_t st = cm_dma_pool_create(&cfg, &pool);
    if (st == CM_ERR_NO_RESOURCES)
        skip(); /* RLIMIT_MEMLOCK below 64 MiB without CAP_IPC_LOCK */
    assert_status(st, CM_OK);
    cm_dma_buffer_t b[CM_DMA_MAX_BUFFERS], extra;
    for (uint32_t i = 0; i < CM_DMA_MAX_BUFFERS; i++)
        assert_status(cm_dma_buffer_acquire(pool, &b[i]), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &extra), CM_ERR_NO_RESOURCES);
    uint8_t *p;
    uint32_t size;
    assert_status(cm_dma_buffer_map(pool, b[CM_DMA_MAX_BUFFERS - 1], (void **)&p, &size),
                  CM_OK);
    assert_int_equal(size, CM_DMA_MAX_BUFFER_SIZE);
    p[size - 1] = 1; /* the whole buffer is usable */
    assert_status(cm_dma_buffer_release(pool, b[0]), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &extra), CM_OK);
    cm_handle_close(pool);
}

static void test_acquired_buffer_reads_zero(void **state)
{
    (void)state;
    cm_handle_t pool = dma_make_pool(2, 2 * CM_PAGE_SIZE, 1);
    cm_dma_buffer_t b;
    uint8_t *p;
    uint32_t size;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, &size), CM_OK);
    assert_int_equal(size, 2 * CM_PAGE_SIZE);
    assert_true(all_zero(p, size));
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.free, 1);
    assert_int_equal(info.flags & CM_DMA_INFO_DEVICE, 0);
    /* get_info reports the mode the pool was made in. */
    assert_int_equal(info.flags & CM_DMA_INFO_CPU_GUARD,
                     (dma_pool_options & CM_DMA_POOL_CPU_GUARD) ? CM_DMA_INFO_CPU_GUARD : 0);
    cm_handle_close(pool);
}

/* ---- the device path ---- */

static void test_fence_wait_returns_exclusive_ownership_with_device_data(void **state)
{
    (void)state;
    const uint32_t size = 256 * 1024;
    cm_handle_t pool = dma_file_pool(2, size, 2, CM_DMA_ATTACH_READ);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_true(info.flags & CM_DMA_INFO_DIRECT);
    assert_int_equal(info.device_size, DMA_TEST_FILE_SIZE);
    assert_true(info.device_block_size >= 512 && info.device_block_size <= CM_PAGE_SIZE);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    const uint64_t off = 3ull << 20;
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, size, off);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_true(c.buffer == b);
    assert_status(c.status, CM_OK);
    assert_int_equal(c.bytes, size);
    uint8_t *p;
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_OK);
    check_pattern(p, size, off);
    /* Exclusive: the fence is gone, the buffer can be resubmitted. */
    assert_status(cm_dma_fence_wait(pool, f, 0, &c), CM_ERR_BAD_HANDLE);
    f = dma_submit_read(pool, b, info.device_block_size, info.device_block_size, 0);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_OK);
    check_pattern(p + info.device_block_size, info.device_block_size, 0);
    check_pattern(p + 2 * info.device_block_size, 64, off + 2 * info.device_block_size);
    cm_handle_close(pool);
}

static void test_read_past_end_of_device_is_short(void **state)
{
    (void)state;
    cm_handle_t pool = dma_file_pool(1, 64 * 1024, 1, CM_DMA_ATTACH_READ);
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, 64 * 1024, DMA_TEST_FILE_SIZE - 8192);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(c.status, CM_OK);
    assert_int_equal(c.bytes, 8192);
    cm_handle_close(pool);
}

static void test_dma_write_lands_on_device(void **state)
{
    (void)state;
    const char *path = dma_test_file(DMA_TEST_FILE_SIZE);
    if (path == NULL)
        skip();
    cm_handle_t pool = dma_file_pool(1, 64 * 1024, 1, CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE);
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    uint8_t *p;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_OK);
    const uint64_t off = 5ull << 20;
    for (uint32_t i = 0; i < 8192; i++)
        p[i] = (uint8_t)~dma_pattern(off + i);
    cm_dma_op_t op = { CM_DMA_OP_WRITE, 0, 8192, 0, off };
    cm_dma_fence_t f;
    assert_status(cm_dma_submit(pool, b, &op, &f), CM_OK);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_int_equal(c.bytes, 8192);
    uint8_t back[8192];
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, back, sizeof(back), (off_t)off), (ssize_t)sizeof(back));
    for (uint32_t i = 0; i < sizeof(back); i++)
        assert_int_equal(back[i], (uint8_t)~dma_pattern(off + i));
    /* Restore the pattern for the other tests. */
    for (uint32_t i = 0; i < sizeof(back); i++)
        back[i] = dma_pattern(off + i);
    assert_int_equal(pwrite(fd, back, sizeof(back), (off_t)off), (ssize_t)sizeof(back));
    close(fd);
    cm_handle_close(pool);
}

static void test_ownership_transfer_prevents_double_submit(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b;
    cm_dma_fence_t f, f2 = 77;
    cm_dma_completion_t c;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    f = dma_submit_read(pool, b, 0, 100, 0);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 100, 0, 0 };
    assert_status(cm_dma_submit(pool, b, &op, &f2), CM_ERR_BAD_STATE);
    assert_true(f2 == 77); /* untouched on error */
    assert_int_equal(write(wfd, "hello", 5), 5);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_int_equal(c.bytes, 5);
    char got[5];
    assert_status(cm_dma_buffer_read(pool, b, 0, got, 5), CM_OK);
    assert_memory_equal(got, "hello", 5);
    close(wfd);
    cm_handle_close(pool);
}

static void test_cpu_access_while_in_flight_refused(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    cm_handle_t vmo;
    void *p;
    uint8_t byte = 1;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, 16, 0);
    assert_status(cm_dma_buffer_map(pool, b, &p, NULL), CM_ERR_BAD_STATE);
    assert_status(cm_dma_buffer_read(pool, b, 0, &byte, 1), CM_ERR_BAD_STATE);
    assert_status(cm_dma_buffer_write(pool, b, 0, &byte, 1), CM_ERR_BAD_STATE);
    assert_status(cm_dma_buffer_release(pool, b), CM_ERR_BAD_STATE);
    assert_status(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_ERR_BAD_STATE);
    assert_status(cm_dma_fence_poll(pool, f, &c), CM_ERR_SHOULD_WAIT);
    assert_status(cm_dma_fence_wait(pool, f, 5 * 1000 * 1000, &c), CM_ERR_TIMED_OUT);
    /* Signaled but not waited: still the fence's. */
    assert_int_equal(write(wfd, "0123456789abcdef", 16), 16);
    for (int i = 0; i < 1000; i++) {
        cm_dma_pool_info_t info;
        assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
        if (info.in_flight == 0)
            break;
        usleep(1000);
    }
    assert_status(cm_dma_buffer_map(pool, b, &p, NULL), CM_ERR_BAD_STATE);
    assert_status(cm_dma_buffer_release(pool, b), CM_ERR_BAD_STATE);
    assert_status(cm_dma_fence_poll(pool, f, &c), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    assert_memory_equal(p, "0123456789abcdef", 16);
    close(wfd);
    cm_handle_close(pool);
}

/* The default pool has no MMU guard (CM_DMA_INFO_CPU_GUARD clear; the
 * deprecated CM_DMA_POOL_NO_CPU_GUARD asks for the same) and the API checks
 * are the same as with it; only a kept pointer is not trapped. */
static void test_default_pool_has_no_cpu_guard_and_keeps_api_checks(void **state)
{
    (void)state;
    const uint32_t opts[] = { 0, CM_DMA_POOL_NO_CPU_GUARD, CM_DMA_POOL_CPU_GUARD };
    for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        cm_handle_t pool;
        cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, opts[k] };
        assert_status(cm_dma_pool_create(&cfg, &pool), CM_OK);
        assert_status(cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ), CM_OK);
        cm_dma_pool_info_t info;
        assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
        assert_int_equal(info.flags & CM_DMA_INFO_CPU_GUARD,
                         opts[k] == CM_DMA_POOL_CPU_GUARD ? CM_DMA_INFO_CPU_GUARD : 0);
        cm_dma_buffer_t b;
        cm_dma_completion_t c;
        cm_handle_t vmo;
        void *ptr;
        uint8_t x;
        assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
        assert_status(cm_dma_buffer_write(pool, b, 0, "old!", 4), CM_OK);
        cm_dma_fence_t f = dma_submit_read(pool, b, 0, 4, 0);
        assert_status(cm_dma_buffer_map(pool, b, &ptr, NULL), CM_ERR_BAD_STATE);
        assert_status(cm_dma_buffer_read(pool, b, 0, &x, 1), CM_ERR_BAD_STATE);
        assert_status(cm_dma_buffer_write(pool, b, 0, &x, 1), CM_ERR_BAD_STATE);
        assert_status(cm_dma_buffer_release(pool, b), CM_ERR_BAD_STATE);
        assert_status(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_ERR_BAD_STATE);
        assert_int_equal(write(p[1], "new!", 4), 4);
        assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
        assert_status(cm_dma_buffer_map(pool, b, &ptr, NULL), CM_OK);
        assert_memory_equal(ptr, "new!", 4);
        assert_status(cm_dma_buffer_release(pool, b), CM_OK);
        assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
        assert_status(cm_dma_buffer_read(pool, b, 0, &x, 1), CM_OK);
        assert_int_equal(x, 0); /* scrubbed all the same */
        close(p[0]);
        close(p[1]);
        cm_handle_close(pool);
    }
}

/* Arguments in the buffer being submitted, on a guarded pool (the submit
 * makes that memory PROT_NONE): the op is read once at entry, so an op
 * kept there works; a fence out pointer there is INVALID_ARGS with the
 * buffer still the CPU's (core/dma_rules cm__dma_out_in_buffer), not a
 * SIGSEGV inside the library. In a child: the failure mode is a signal. */
static void test_guarded_submit_reads_op_once_and_refuses_fence_in_the_buffer(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cm_handle_t pool;
        cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, CM_DMA_POOL_CPU_GUARD };
        int p[2];
        if (pipe(p) != 0 || cm_dma_pool_create(&cfg, &pool) != CM_OK ||
            cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ) != CM_OK)
            _exit(2);
        cm_dma_buffer_t b;
        uint8_t *ptr;
        const cm_dma_op_t op = { CM_DMA_OP_READ, 0, 16, 0, 0 };
        cm_dma_fence_t f;
        cm_dma_completion_t c;
        if (cm_dma_buffer_acquire(pool, &b) != CM_OK ||
            cm_dma_buffer_map(pool, b, (void **)&ptr, NULL) != CM_OK)
            _exit(3);
        memcpy(ptr + 128, &op, sizeof(op));
        signal(SIGSEGV, SIG_DFL);
        if (cm_dma_submit(pool, b, (cm_dma_op_t *)(ptr + 128), (cm_dma_fence_t *)(ptr + 64)) !=
            CM_ERR_INVALID_ARGS)
            _exit(4);
        ptr[0] = 1; /* still CPU-owned and mapped */
        if (cm_dma_submit(pool, b, (cm_dma_op_t *)(ptr + 128), &f) != CM_OK)
            _exit(5);
        if (write(p[1], "0123456789abcdef", 16) != 16 ||
            cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c) != CM_OK || c.status != CM_OK ||
            cm_dma_buffer_map(pool, b, (void **)&ptr, NULL) != CM_OK ||
            memcmp(ptr, "0123456789abcdef", 16) != 0)
            _exit(6);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The API gives no pointer while in flight; in the debugging mode a
 * pointer kept from before submit faults too (the mapping is PROT_NONE),
 * so the CPU cannot race the device even by mistake. Checked in a child,
 * which must die of SIGSEGV. */
static void test_guarded_pool_pointer_kept_across_submit_faults(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int wfd;
        cm_handle_t pool;
        cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, CM_DMA_POOL_CPU_GUARD };
        int p[2];
        if (pipe(p) != 0 || cm_dma_pool_create(&cfg, &pool) != CM_OK ||
            cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ) != CM_OK)
            _exit(2);
        wfd = p[1];
        (void)wfd;
        cm_dma_buffer_t b;
        volatile uint8_t *ptr;
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, 16, 0, 0 };
        cm_dma_fence_t f;
        if (cm_dma_buffer_acquire(pool, &b) != CM_OK ||
            cm_dma_buffer_map(pool, b, (void **)&ptr, NULL) != CM_OK)
            _exit(3);
        ptr[0] = 1; /* fine while CPU-owned */
        if (cm_dma_submit(pool, b, &op, &f) != CM_OK)
            _exit(4);
        signal(SIGSEGV, SIG_DFL); /* not the sanitizer's report-and-exit */
        ptr[0] = 2;               /* must fault */
        _exit(5);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
}

static void test_in_flight_bound_enforced(void **state)
{
    (void)state;
    int wfd;
    /* The named limit itself: CM_DMA_MAX_IN_FLIGHT submissions, then one
     * more buffer is refused with NO_RESOURCES and stays CPU-owned. */
    cm_handle_t pool = dma_pipe_pool(CM_DMA_MAX_IN_FLIGHT + 1, CM_PAGE_SIZE,
                                     CM_DMA_MAX_IN_FLIGHT, &wfd);
    cm_dma_buffer_t b[CM_DMA_MAX_IN_FLIGHT + 1];
    cm_dma_fence_t f[CM_DMA_MAX_IN_FLIGHT], extra = 0;
    cm_dma_completion_t c;
    for (uint32_t i = 0; i <= CM_DMA_MAX_IN_FLIGHT; i++)
        assert_status(cm_dma_buffer_acquire(pool, &b[i]), CM_OK);
    for (uint32_t i = 0; i < CM_DMA_MAX_IN_FLIGHT; i++)
        f[i] = dma_submit_read(pool, b[i], 0, 64, 0);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 64, 0, 0 };
    assert_status(cm_dma_submit(pool, b[CM_DMA_MAX_IN_FLIGHT], &op, &extra),
                  CM_ERR_NO_RESOURCES);
    uint8_t x;
    assert_status(cm_dma_buffer_read(pool, b[CM_DMA_MAX_IN_FLIGHT], 0, &x, 1), CM_OK);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.in_flight, CM_DMA_MAX_IN_FLIGHT);
    /* Complete them all: each read takes exactly 64 bytes. */
    static uint8_t data[CM_DMA_MAX_IN_FLIGHT * 64];
    memset(data, 0xab, sizeof(data));
    assert_int_equal(write(wfd, data, sizeof(data)), (ssize_t)sizeof(data));
    for (uint32_t i = 0; i < CM_DMA_MAX_IN_FLIGHT; i++) {
        assert_status(cm_dma_fence_wait(pool, f[i], CM_TIMEOUT_INFINITE, &c), CM_OK);
        assert_int_equal(c.bytes, 64);
    }
    assert_status(cm_dma_submit(pool, b[CM_DMA_MAX_IN_FLIGHT], &op, &extra), CM_OK);
    close(wfd); /* EOF completes the last read with 0 bytes */
    assert_status(cm_dma_fence_wait(pool, extra, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_int_equal(c.bytes, 0);
    cm_handle_close(pool);
}

static void test_pool_in_flight_bound_below_limit(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(3, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b[3];
    cm_dma_fence_t f0, f1, f2;
    cm_dma_completion_t c;
    for (int i = 0; i < 3; i++)
        assert_status(cm_dma_buffer_acquire(pool, &b[i]), CM_OK);
    f0 = dma_submit_read(pool, b[0], 0, 1, 0);
    f1 = dma_submit_read(pool, b[1], 0, 1, 0);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 1, 0, 0 };
    assert_status(cm_dma_submit(pool, b[2], &op, &f2), CM_ERR_NO_RESOURCES);
    assert_int_equal(write(wfd, "x", 1), 1);
    /* Whichever read got the byte: after its completion there is room. */
    for (;;) {
        if (cm_dma_fence_poll(pool, f0, &c) == CM_OK || cm_dma_fence_poll(pool, f1, &c) == CM_OK)
            break;
        usleep(1000);
    }
    assert_status(cm_dma_submit(pool, b[2], &op, &f2), CM_OK);
    close(wfd);
    cm_handle_close(pool); /* EOF completes the rest: nothing quarantined long */
    assert_status(cm_host_dma_quarantine_wait(5ll * 1000 * 1000 * 1000), CM_OK);
}

static void test_stale_buffer_and_fence_ids_rejected(void **state)
{
    (void)state;
    cm_handle_t pool = dma_file_pool(2, 64 * 1024, 1, CM_DMA_ATTACH_READ);
    cm_handle_t other = dma_make_pool(2, 64 * 1024, 1);
    cm_dma_buffer_t b, b2, ob;
    cm_dma_completion_t c;
    cm_handle_t vmo;
    void *p;
    uint8_t x = 0;
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 4096, 0, 0 };
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, 4096, 0);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b), CM_OK);
    /* The same slot comes back under a new id. */
    assert_status(cm_dma_buffer_acquire(pool, &b2), CM_OK);
    assert_true(b2 != b);
    assert_status(cm_dma_buffer_map(pool, b, &p, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_buffer_read(pool, b, 0, &x, 1), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_buffer_write(pool, b, 0, &x, 1), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_submit(pool, b, &op, &f), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_buffer_release(pool, b), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_fence_wait(pool, f, 0, &c), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_fence_poll(pool, CM_DMA_FENCE_INVALID, &c), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_buffer_map(pool, CM_DMA_BUFFER_INVALID, &p, NULL), CM_ERR_BAD_HANDLE);
    /* Ids are per pool: another pool's live id names nothing here. */
    assert_status(cm_dma_buffer_acquire(other, &ob), CM_OK);
    assert_status(cm_dma_buffer_map(pool, ob, &p, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm_dma_buffer_map(other, b2, &p, NULL), CM_ERR_BAD_HANDLE);
    /* A pool handle of the wrong type. */
    cm_handle_t v;
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_dma_buffer_acquire(v, &ob), CM_ERR_WRONG_TYPE);
    cm_handle_close(v);
    cm_handle_close(other);
    cm_handle_close(pool);
    assert_status(cm_dma_buffer_acquire(pool, &ob), CM_ERR_BAD_HANDLE);
}

/* A completion for an earlier submission of the same buffer, arriving
 * through the real ring (a NOP carrying the old fence's tag), must neither
 * signal the current fence nor touch the buffer. */
static void test_stale_completion_dropped(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    cm_dma_pool_info_t info;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f1 = dma_submit_read(pool, b, 0, 4, 0);
    assert_int_equal(write(wfd, "AAAA", 4), 4);
    assert_status(cm_dma_fence_wait(pool, f1, CM_TIMEOUT_INFINITE, &c), CM_OK);
    cm_dma_fence_t f2 = dma_submit_read(pool, b, 0, 4, 0);
    assert_true(f2 != f1);
    assert_status(cm__dma_inject_completion(pool, f1), CM_OK);     /* late duplicate */
    assert_status(cm__dma_inject_completion(pool, f1 + 1), CM_OK); /* forged */
    assert_status(cm__dma_inject_completion(pool, 0), CM_OK);      /* garbage */
    for (int i = 0; i < 1000; i++) {
        assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
        if (info.dropped_completions == 3)
            break;
        usleep(1000);
    }
    assert_int_equal(info.dropped_completions, 3);
    assert_status(cm_dma_fence_poll(pool, f2, &c), CM_ERR_SHOULD_WAIT);
    assert_int_equal(info.in_flight, 1);
    assert_int_equal(write(wfd, "BBBB", 4), 4);
    assert_status(cm_dma_fence_wait(pool, f2, CM_TIMEOUT_INFINITE, &c), CM_OK);
    char got[4];
    assert_status(cm_dma_buffer_read(pool, b, 0, got, 4), CM_OK);
    assert_memory_equal(got, "BBBB", 4);
    close(wfd);
    cm_handle_close(pool);
}

/* Scrub before reuse: client A's bytes (written by the CPU and by the
 * device) never reach client B, who gets the same slot next. */
static void test_scrub_before_reuse_second_client_never_sees_bytes(void **state)
{
    (void)state;
    const uint32_t size = 128 * 1024;
    cm_handle_t a = dma_file_pool(1, size, 1, CM_DMA_ATTACH_READ);
    cm_handle_t bh;
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &bh), CM_OK);
    cm_dma_buffer_t ba, bb;
    cm_dma_completion_t c;
    uint8_t *p;
    assert_status(cm_dma_buffer_acquire(a, &ba), CM_OK);
    cm_dma_fence_t f = dma_submit_read(a, ba, 0, size / 2, 1 << 20);
    assert_status(cm_dma_fence_wait(a, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(cm_dma_buffer_map(a, ba, (void **)&p, NULL), CM_OK);
    memset(p + size / 2, 0x5a, size / 2); /* "secret" */
    check_pattern(p, size / 2, 1 << 20);
    assert_status(cm_dma_buffer_release(a, ba), CM_OK);
    assert_status(cm_dma_buffer_acquire(bh, &bb), CM_OK);
    uint8_t *q;
    assert_status(cm_dma_buffer_map(bh, bb, (void **)&q, NULL), CM_OK);
    assert_ptr_equal(q, p); /* the same slot and memory ... */
    assert_true(all_zero(q, size)); /* ... scrubbed */
    cm_handle_close(bh);
    cm_handle_close(a);
}

static void test_rights_limit_pool_operations(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 1, &wfd);
    cm_handle_t nosig, nowrite;
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_completion_t c;
    assert_status(cm_handle_duplicate(pool, CM_RIGHT_READ | CM_RIGHT_WRITE, &nosig), CM_OK);
    assert_status(cm_handle_duplicate(pool, CM_RIGHT_READ | CM_RIGHT_SIGNAL, &nowrite), CM_OK);
    assert_status(cm_dma_buffer_acquire(nowrite, &b), CM_ERR_ACCESS_DENIED);
    assert_status(cm_dma_buffer_acquire(nosig, &b), CM_OK);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 1, 0, 0 };
    assert_status(cm_dma_submit(nosig, b, &op, &f), CM_ERR_ACCESS_DENIED);
    uint8_t x = 1;
    assert_status(cm_dma_buffer_write(nowrite, b, 0, &x, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_dma_buffer_read(nowrite, b, 0, &x, 1), CM_OK);
    /* The device was attached read-only: a write op is refused. */
    cm_dma_op_t wop = { CM_DMA_OP_WRITE, 0, 1, 0, 0 };
    assert_status(cm_dma_submit(pool, b, &wop, &f), CM_ERR_ACCESS_DENIED);
    assert_status(cm_dma_submit(nowrite, b, &op, &f), CM_OK);
    assert_int_equal(write(wfd, "z", 1), 1);
    assert_status(cm_dma_fence_wait(nosig, f, 0, &c), CM_ERR_ACCESS_DENIED);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    cm_handle_info_t hi;
    assert_status(cm_handle_get_info(pool, &hi), CM_OK);
    assert_int_equal(hi.type, CM_OBJ_DMA_POOL);
    assert_int_equal(hi.rights, CM_DMA_POOL_DEFAULT_RIGHTS);
    close(wfd);
    cm_handle_close(nosig);
    cm_handle_close(nowrite);
    cm_handle_close(pool);
}

static void test_submit_validates_operation(void **state)
{
    (void)state;
    cm_handle_t nodev = dma_make_pool(1, 64 * 1024, 1);
    cm_dma_buffer_t b;
    cm_dma_fence_t f;
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 4096, 0, 0 };
    assert_status(cm_dma_buffer_acquire(nodev, &b), CM_OK);
    assert_status(cm_dma_submit(nodev, b, &op, &f), CM_ERR_BAD_STATE); /* no device */
    cm_handle_close(nodev);

    cm_handle_t pool = dma_file_pool(1, 64 * 1024, 1, CM_DMA_ATTACH_READ);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    const uint32_t bs = info.device_block_size;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    const struct {
        cm_dma_op_t op;
        cm_status_t want;
    } cases[] = {
        { { 0, 0, bs, 0, 0 }, CM_ERR_INVALID_ARGS },                     /* kind */
        { { 3, 0, bs, 0, 0 }, CM_ERR_INVALID_ARGS },
        { { CM_DMA_OP_READ, 0, 0, 0, 0 }, CM_ERR_INVALID_ARGS },         /* length 0 */
        { { CM_DMA_OP_READ, 0, bs, 1, 0 }, CM_ERR_INVALID_ARGS },        /* reserved */
        { { CM_DMA_OP_READ, 1, bs, 0, 0 }, CM_ERR_INVALID_ARGS },        /* misaligned */
        { { CM_DMA_OP_READ, 0, bs + 1, 0, 0 }, CM_ERR_INVALID_ARGS },
        { { CM_DMA_OP_READ, 0, bs, 0, 1 }, CM_ERR_INVALID_ARGS },
        { { CM_DMA_OP_READ, 64 * 1024, bs, 0, 0 }, CM_ERR_OUT_OF_RANGE }, /* past buffer */
        { { CM_DMA_OP_READ, 0, 64 * 1024 + bs, 0, 0 }, CM_ERR_OUT_OF_RANGE },
        { { CM_DMA_OP_READ, 0xffffffffu - bs + 1, bs, 0, 0 }, CM_ERR_OUT_OF_RANGE },
        { { CM_DMA_OP_READ, 0, bs, 0, UINT64_MAX - bs + 1 }, CM_ERR_OUT_OF_RANGE },
        { { CM_DMA_OP_READ, 0, bs, 0, (uint64_t)INT64_MAX }, CM_ERR_OUT_OF_RANGE },
        { { CM_DMA_OP_WRITE, 0, bs, 0, 0 }, CM_ERR_ACCESS_DENIED },      /* attached RO */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f = 99;
        cm_status_t st = cm_dma_submit(pool, b, &cases[i].op, &f);
        if (st != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, cm_status_name(st),
                     cm_status_name(cases[i].want));
        assert_true(f == 99);
    }
    assert_status(cm_dma_submit(pool, b, NULL, &f), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_submit(pool, b, &op, NULL), CM_ERR_INVALID_ARGS);
    /* Still CPU-owned and usable after every refusal. */
    void *p;
    assert_status(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    cm_dma_pool_info_t after;
    assert_status(cm_dma_pool_get_info(pool, &after), CM_OK);
    assert_int_equal(after.in_flight, 0);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, 1, -2, &c), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_fence_wait(pool, 1, 0, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(pool);
}

static void test_buffer_copy_bounds(void **state)
{
    (void)state;
    cm_handle_t pool = dma_make_pool(1, CM_PAGE_SIZE, 1);
    cm_dma_buffer_t b;
    uint8_t buf[16] = { 1, 2, 3 };
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b, CM_PAGE_SIZE - 16, buf, 16), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b, CM_PAGE_SIZE - 15, buf, 16), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_dma_buffer_read(pool, b, 0xfffffff0u, buf, 16), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_dma_buffer_read(pool, b, CM_PAGE_SIZE, buf, 0), CM_OK);
    assert_status(cm_dma_buffer_read(pool, b, 0, NULL, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_buffer_write(pool, b, 0, NULL, 1), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_buffer_read(pool, b, CM_PAGE_SIZE - 16, buf, 16), CM_OK);
    assert_int_equal(buf[2], 3);
    assert_status(cm_dma_buffer_map(pool, b, NULL, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_buffer_acquire(pool, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_pool_get_info(pool, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(pool);
}

/* The device reports an error: the buffer still comes back, with IO. */
static void test_device_error_returns_buffer_with_io_status(void **state)
{
    (void)state;
    int s = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* read(2): EISDIR */
    assert_true(s >= 0);
    cm_handle_t pool = dma_make_pool(1, CM_PAGE_SIZE, 1);
    assert_status(cm_host_dma_attach_fd(pool, s, CM_DMA_ATTACH_READ), CM_OK);
    close(s);
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, 16, 0);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(c.status, CM_ERR_IO);
    assert_int_equal(c.bytes, 0);
    void *p;
    assert_status(cm_dma_buffer_map(pool, b, &p, NULL), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b), CM_OK);
    cm_handle_close(pool);
}

static void test_attach_refuses_tmpfs_and_bad_devices(void **state)
{
    (void)state;
    cm_handle_t pool = dma_make_pool(1, CM_PAGE_SIZE, 1);
    char shm[64];
    snprintf(shm, sizeof(shm), "/dev/shm/capmem-dma-%d", (int)getpid());
    int fd = open(shm, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        assert_int_equal(ftruncate(fd, 1 << 20), 0);
        close(fd);
        /* tmpfs has no device behind O_DIRECT: refused, not faked. */
        assert_status(cm_dma_pool_attach(pool, shm, CM_DMA_ATTACH_READ), CM_ERR_UNSUPPORTED);
        unlink(shm);
    }
    assert_status(cm_dma_pool_attach(pool, "/nonexistent/capmem", CM_DMA_ATTACH_READ),
                  CM_ERR_NOT_FOUND);
    assert_status(cm_dma_pool_attach(pool, "/dev/null", CM_DMA_ATTACH_READ), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_pool_attach(pool, NULL, CM_DMA_ATTACH_READ), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_pool_attach(pool, "/tmp", 0), CM_ERR_INVALID_ARGS);
    assert_status(cm_dma_pool_attach(pool, "/tmp", 4), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_dma_attach_fd(pool, -1, CM_DMA_ATTACH_READ), CM_ERR_INVALID_ARGS);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_status(cm_host_dma_attach_fd(pool, p[1], CM_DMA_ATTACH_READ), CM_ERR_ACCESS_DENIED);
    assert_status(cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ), CM_OK);
    assert_status(cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ), CM_ERR_BAD_STATE);
    const char *path = dma_test_file(DMA_TEST_FILE_SIZE);
    if (path != NULL)
        assert_status(cm_dma_pool_attach(pool, path, CM_DMA_ATTACH_READ), CM_ERR_BAD_STATE);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.flags & CM_DMA_INFO_DIRECT, 0); /* a pipe is no DMA device */
    assert_int_equal(info.device_block_size, 1);
    close(p[0]);
    close(p[1]);
    cm_handle_close(pool);
}

/* Zero-copy hand-over: the pages the device wrote become a VMO (same
 * memfd inode as the buffer had), sealable IMMUTABLE at once; the slot gets
 * fresh zeroed memory. */
static unsigned long mapping_inode(const void *addr)
{
    char line[512];
    unsigned long ino = 0;
    FILE *m = fopen("/proc/self/maps", "r");
    assert_non_null(m);
    while (fgets(line, sizeof(line), m) != NULL) {
        unsigned long lo, hi, inode;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &inode) == 3 &&
            (unsigned long)addr >= lo && (unsigned long)addr < hi)
            ino = inode;
    }
    fclose(m);
    return ino;
}

static void test_detach_vmo_is_zero_copy_and_sealable(void **state)
{
    (void)state;
    const uint32_t size = 256 * 1024;
    cm_handle_t pool = dma_file_pool(1, size, 1, CM_DMA_ATTACH_READ);
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    uint8_t *p;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, size, 2 << 20);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_OK);
    unsigned long ino = mapping_inode(p);
    assert_true(ino != 0);
    cm_handle_t vmo;
    assert_status(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_ERR_BAD_HANDLE);
    assert_status(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    cm_vmo_info_t vi;
    assert_status(cm_vmo_get_info(vmo, &vi), CM_OK);
    assert_true(vi.flags & CM_VMO_INFO_IMMUTABLE);
    assert_int_equal(vi.size, size);
    int fd;
    assert_status(cm_host_vmo_export_fd(vmo, &fd), CM_OK);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    assert_int_equal((unsigned long)sb.st_ino, ino); /* the same pages: no copy */
    close(fd);
    uint8_t *v;
    assert_status(cm_vmo_map(vmo, 0, size, CM_MAP_READ, (void **)&v), CM_OK);
    check_pattern(v, size, 2 << 20);
    assert_status(cm_vmo_unmap(v, size), CM_OK);
    cm_handle_close(vmo);
    /* The slot is FREE with fresh zeroed memory, and still does DMA. */
    cm_dma_buffer_t b2;
    assert_status(cm_dma_buffer_acquire(pool, &b2), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b2, (void **)&p, NULL), CM_OK);
    assert_true(all_zero(p, size));
    assert_true(mapping_inode(p) != ino);
    f = dma_submit_read(pool, b2, 0, size, 0);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b2, (void **)&p, NULL), CM_OK);
    check_pattern(p, size, 0);
    assert_status(cm_dma_buffer_detach_vmo(pool, b2, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(pool);
}

/* Two threads wait on two fences of one pool: one sleeps in the ring, the
 * other on the condition; both must get their own buffer back. */
struct waiter {
    cm_handle_t pool;
    cm_dma_fence_t fence;
    cm_dma_completion_t c;
    cm_status_t st;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->st = cm_dma_fence_wait(w->pool, w->fence, 10ll * 1000 * 1000 * 1000, &w->c);
    return NULL;
}

static void test_concurrent_waiters_each_get_their_buffer(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b[2];
    struct waiter w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        assert_status(cm_dma_buffer_acquire(pool, &b[i]), CM_OK);
        w[i].pool = pool;
        w[i].fence = dma_submit_read(pool, b[i], 0, 8, 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, wait_thread, &w[i]), 0);
    usleep(20 * 1000);
    assert_int_equal(write(wfd, "12345678", 8), 8);
    usleep(20 * 1000);
    assert_int_equal(write(wfd, "abcdefgh", 8), 8);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_status(w[i].st, CM_OK);
        assert_true(w[i].c.buffer == b[i]);
        assert_int_equal(w[i].c.bytes, 8);
    }
    close(wfd);
    cm_handle_close(pool);
}

/* Several threads share one pool on the real device: each acquires, reads
 * random blocks by DMA, waits, verifies, and now and then releases and
 * re-acquires or detaches. Exercises the single-reaper wait path, the lock
 * and scrubbing under contention; every byte is checked. */
#define STRESS_THREADS 4
#define STRESS_ITERS 60

struct stress {
    cm_handle_t pool;
    uint32_t seed;
    int failures;
};

static void *stress_thread(void *arg)
{
    struct stress *s = arg;
    const uint32_t size = 64 * 1024;
    cm_dma_buffer_t b;
    uint32_t x = s->seed;
    if (cm_dma_buffer_acquire(s->pool, &b) != CM_OK) {
        s->failures++;
        return NULL;
    }
    for (int i = 0; i < STRESS_ITERS; i++) {
        x = x * 1664525u + 1013904223u;
        uint64_t off = (uint64_t)(x % (DMA_TEST_FILE_SIZE / size)) * size;
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, size, 0, off };
        cm_dma_fence_t f;
        cm_dma_completion_t c;
        cm_status_t st;
        /* The in-flight bound is shared: back off on NO_RESOURCES. */
        while ((st = cm_dma_submit(s->pool, b, &op, &f)) == CM_ERR_NO_RESOURCES)
            usleep(100);
        if (st != CM_OK) {
            s->failures++;
            break;
        }
        if ((x >> 8) % 3 == 0) {
            while ((st = cm_dma_fence_poll(s->pool, f, &c)) == CM_ERR_SHOULD_WAIT)
                ;
        } else {
            st = cm_dma_fence_wait(s->pool, f, CM_TIMEOUT_INFINITE, &c);
        }
        uint8_t *p;
        if (st != CM_OK || c.buffer != b || c.bytes != size ||
            cm_dma_buffer_map(s->pool, b, (void **)&p, NULL) != CM_OK) {
            s->failures++;
            break;
        }
        for (uint32_t k = 0; k < size; k += 509)
            if (p[k] != dma_pattern(off + k))
                s->failures++;
        if ((x >> 12) % 5 == 0) {
            if (cm_dma_buffer_release(s->pool, b) != CM_OK ||
                cm_dma_buffer_acquire(s->pool, &b) != CM_OK ||
                cm_dma_buffer_map(s->pool, b, (void **)&p, NULL) != CM_OK || p[size - 1] != 0) {
                s->failures++;
                break;
            }
        } else if ((x >> 12) % 11 == 1) {
            cm_handle_t vmo;
            if (cm_dma_buffer_detach_vmo(s->pool, b, &vmo) != CM_OK ||
                cm_handle_close(vmo) != CM_OK || cm_dma_buffer_acquire(s->pool, &b) != CM_OK) {
                s->failures++;
                break;
            }
        }
    }
    (void)cm_dma_buffer_release(s->pool, b);
    return NULL;
}

static void test_threads_share_pool_under_load(void **state)
{
    (void)state;
    cm_handle_t pool = dma_file_pool(STRESS_THREADS + 1, 64 * 1024, 2, CM_DMA_ATTACH_READ);
    pthread_t t[STRESS_THREADS];
    struct stress s[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) {
        s[i].pool = pool;
        s[i].seed = 0x1234u + (uint32_t)i * 7919u;
        s[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, stress_thread, &s[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(s[i].failures, 0);
    }
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.free, STRESS_THREADS + 1);
    assert_int_equal(info.in_flight, 0);
    assert_int_equal(info.dropped_completions, 0);
    cm_handle_close(pool);
}

/* Error paths leave nothing behind: fds, mappings, handles (leak check) and
 * io_uring registrations (teardown) are back to where they were. */
static void test_error_paths_leak_nothing(void **state)
{
    (void)state;
    int fds = count_open_fds();
    for (int round = 0; round < 3; round++) {
        cm_handle_t pool;
        cm_dma_pool_config_t cfg = { 4, 64 * 1024, 2, 0 };
        cm_dma_pool_config_t bad = { 4, 64 * 1024, 5, 0 };
        assert_status(cm_dma_pool_create(&bad, &pool), CM_ERR_INVALID_ARGS);
        assert_status(cm_dma_pool_create(&cfg, &pool), CM_OK);
        assert_status(cm_dma_pool_attach(pool, "/nonexistent", CM_DMA_ATTACH_READ),
                      CM_ERR_NOT_FOUND);
        cm_dma_buffer_t b;
        assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, 4096, 0, 0 };
        cm_dma_fence_t f;
        assert_status(cm_dma_submit(pool, b, &op, &f), CM_ERR_BAD_STATE);
        cm_handle_t vmo;
        assert_status(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_OK);
        cm_handle_close(vmo);
        assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK); /* left CPU-owned */
        cm_handle_close(pool);
    }
    assert_int_equal(count_open_fds(), fds);
}

/* The rules the API enforces, again with the MMU guard on. */
DMA_IN_GUARDED_MODE(test_acquired_buffer_reads_zero)
DMA_IN_GUARDED_MODE(test_fence_wait_returns_exclusive_ownership_with_device_data)
DMA_IN_GUARDED_MODE(test_ownership_transfer_prevents_double_submit)
DMA_IN_GUARDED_MODE(test_cpu_access_while_in_flight_refused)
DMA_IN_GUARDED_MODE(test_in_flight_bound_enforced)
DMA_IN_GUARDED_MODE(test_pool_in_flight_bound_below_limit)
DMA_IN_GUARDED_MODE(test_stale_buffer_and_fence_ids_rejected)
DMA_IN_GUARDED_MODE(test_stale_completion_dropped)
DMA_IN_GUARDED_MODE(test_scrub_before_reuse_second_client_never_sees_bytes)
DMA_IN_GUARDED_MODE(test_rights_limit_pool_operations)
DMA_IN_GUARDED_MODE(test_buffer_copy_bounds)
DMA_IN_GUARDED_MODE(test_device_error_returns_buffer_with_io_status)
DMA_IN_GUARDED_MODE(test_detach_vmo_is_zero_copy_and_sealable)
DMA_IN_GUARDED_MODE(test_concurrent_waiters_each_get_their_buffer)
DMA_IN_GUARDED_MODE(test_threads_share_pool_under_load)

/* Waiters sleeping on the eventfd (kernels before 5.11) instead of the ring. */
#define WITH_EVENTFD_WAIT(t)                             \
    static void t##_with_eventfd_wait(void **state)      \
    {                                                    \
        cm__dma_no_ring_wait = 1;                        \
        t(state);                                        \
        cm__dma_no_ring_wait = 0;                        \
    }
WITH_EVENTFD_WAIT(test_concurrent_waiters_each_get_their_buffer)
WITH_EVENTFD_WAIT(test_threads_share_pool_under_load)
WITH_EVENTFD_WAIT(test_cpu_access_while_in_flight_refused)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pool_create_rejects_each_bound),
        T(test_max_buffers_of_max_size_then_no_resources),
        T(test_acquired_buffer_reads_zero),
        T(test_acquired_buffer_reads_zero_in_guarded_mode),
        T(test_fence_wait_returns_exclusive_ownership_with_device_data),
        T(test_fence_wait_returns_exclusive_ownership_with_device_data_in_guarded_mode),
        T(test_read_past_end_of_device_is_short),
        T(test_dma_write_lands_on_device),
        T(test_ownership_transfer_prevents_double_submit),
        T(test_ownership_transfer_prevents_double_submit_in_guarded_mode),
        T(test_cpu_access_while_in_flight_refused),
        T(test_cpu_access_while_in_flight_refused_in_guarded_mode),
        T(test_cpu_access_while_in_flight_refused_with_eventfd_wait),
        T(test_guarded_pool_pointer_kept_across_submit_faults),
        T(test_guarded_submit_reads_op_once_and_refuses_fence_in_the_buffer),
        T(test_default_pool_has_no_cpu_guard_and_keeps_api_checks),
        T(test_in_flight_bound_enforced),
        T(test_in_flight_bound_enforced_in_guarded_mode),
        T(test_pool_in_flight_bound_below_limit),
        T(test_pool_in_flight_bound_below_limit_in_guarded_mode),
        T(test_stale_buffer_and_fence_ids_rejected),
        T(test_stale_buffer_and_fence_ids_rejected_in_guarded_mode),
        T(test_stale_completion_dropped),
        T(test_stale_completion_dropped_in_guarded_mode),
        T(test_scrub_before_reuse_second_client_never_sees_bytes),
        T(test_scrub_before_reuse_second_client_never_sees_bytes_in_guarded_mode),
        T(test_rights_limit_pool_operations),
        T(test_rights_limit_pool_operations_in_guarded_mode),
        T(test_submit_validates_operation),
        T(test_buffer_copy_bounds),
        T(test_buffer_copy_bounds_in_guarded_mode),
        T(test_device_error_returns_buffer_with_io_status),
        T(test_device_error_returns_buffer_with_io_status_in_guarded_mode),
        T(test_attach_refuses_tmpfs_and_bad_devices),
        T(test_detach_vmo_is_zero_copy_and_sealable),
        T(test_detach_vmo_is_zero_copy_and_sealable_in_guarded_mode),
        T(test_concurrent_waiters_each_get_their_buffer),
        T(test_concurrent_waiters_each_get_their_buffer_in_guarded_mode),
        T(test_concurrent_waiters_each_get_their_buffer_with_eventfd_wait),
        T(test_threads_share_pool_under_load),
        T(test_threads_share_pool_under_load_in_guarded_mode),
        T(test_threads_share_pool_under_load_with_eventfd_wait),
        T(test_error_paths_leak_nothing),
    };
    /* The device file is created before the first leak snapshot. */
    (void)dma_test_file(DMA_TEST_FILE_SIZE);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
