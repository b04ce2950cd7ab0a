/* SPDX-License-Identifier: MIT */
/* Quarantine: a buffer the device holds when its owner goes away is not
 * reused, and not freed, until the device has completed it.
 *
 * Two owners can go away on host:
 *  - the pool (last handle closed) while the process lives: capmem keeps the
 *    pool's memory, registrations, ring and fds until every in-flight
 *    completion has arrived (tests 1-3);
 *  - the whole process (SIGKILL mid-flight): Linux itself cancels what it
 *    can and waits out what already reached the device before the pinned
 *    pages are released; test 4 shows the dead owner's requests are gone
 *    (the device file has no reference left from them) and that nothing of
 *    it leaks into a surviving process. */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "dma_testutil.h"
#include "../../host/dma_internal.h"

#define SEC (1000ll * 1000 * 1000)

static uint32_t registered_before;

static int setup(void **state)
{
    registered_before = cm__dma_registered_buffers();
    return leak_setup(state);
}

static int teardown(void **state)
{
    if (cm_host_dma_quarantine_wait(10 * SEC) != CM_OK ||
        cm__dma_registered_buffers() != registered_before) {
        fprintf(stderr, "LEAK: quarantined %u, registered buffers %u -> %u\n",
                cm_host_dma_quarantined(), registered_before, cm__dma_registered_buffers());
        return -1;
    }
    return leak_teardown(state);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

static void test_destroy_with_in_flight_quarantines_until_device_completes(void **state)
{
    (void)state;
    int fds0 = count_open_fds();
    int wfd;
    cm_handle_t pool = dma_pipe_pool(3, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b[3];
    for (int i = 0; i < 3; i++)
        assert_status(cm_dma_buffer_acquire(pool, &b[i]), CM_OK);
    (void)dma_submit_read(pool, b[0], 0, 8, 0);
    (void)dma_submit_read(pool, b[1], 0, 8, 0);
    int fds_live = count_open_fds();
    assert_status(cm_handle_close(pool), CM_OK);
    /* Two buffers are still the device's: kept, with everything they need. */
    assert_int_equal(cm_host_dma_quarantined(), 2);
    assert_int_equal(count_open_fds(), fds_live);
    assert_int_equal(cm__dma_registered_buffers(), registered_before + 3);
    assert_status(cm_host_dma_quarantine_wait(20 * 1000 * 1000), CM_ERR_TIMED_OUT);
    /* The device completes one: still quarantined, the other is pending. */
    assert_int_equal(write(wfd, "11111111", 8), 8);
    for (int i = 0; i < 2000 && cm_host_dma_quarantined() != 1; i++)
        usleep(1000);
    assert_int_equal(cm_host_dma_quarantined(), 1);
    assert_status(cm_host_dma_quarantine_wait(20 * 1000 * 1000), CM_ERR_TIMED_OUT);
    /* ... and the other: now, and only now, the pool is freed. */
    assert_int_equal(write(wfd, "22222222", 8), 8);
    assert_status(cm_host_dma_quarantine_wait(5 * SEC), CM_OK);
    assert_int_equal(cm_host_dma_quarantined(), 0);
    assert_int_equal(cm__dma_registered_buffers(), registered_before);
    close(wfd);
    assert_int_equal(count_open_fds(), fds0);
}

/* While A's buffer is quarantined, new pools and clients get fresh zeroed
 * memory, and the device's late write goes to A's memory, not theirs. */
static void test_quarantined_memory_never_reaches_another_client(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t a = dma_pipe_pool(1, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t ba;
    assert_status(cm_dma_buffer_acquire(a, &ba), CM_OK);
    assert_status(cm_dma_buffer_write(a, ba, 0, "secret", 6), CM_OK);
    (void)dma_submit_read(a, ba, 0, 64, 0);
    cm_handle_close(a);
    assert_int_equal(cm_host_dma_quarantined(), 1);

    cm_handle_t b = dma_make_pool(1, CM_PAGE_SIZE, 1);
    cm_dma_buffer_t bb;
    uint8_t *p;
    assert_status(cm_dma_buffer_acquire(b, &bb), CM_OK);
    assert_status(cm_dma_buffer_map(b, bb, (void **)&p, NULL), CM_OK);
    static uint8_t late[64];
    memset(late, 0xee, sizeof(late));
    assert_int_equal(write(wfd, late, sizeof(late)), (ssize_t)sizeof(late));
    assert_status(cm_host_dma_quarantine_wait(5 * SEC), CM_OK);
    for (uint32_t i = 0; i < CM_PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);
    close(wfd);
    cm_handle_close(b);
}

/* The same with the real device: close the pool with CM_DMA_MAX_IN_FLIGHT
 * large O_DIRECT reads in flight. Whatever the disk has not finished at
 * close is quarantined; everything is freed once it has. */
static void test_destroy_mid_flight_on_real_device(void **state)
{
    (void)state;
    const uint32_t n = 16;
    cm_handle_t pool = dma_file_pool(n, CM_DMA_MAX_BUFFER_SIZE, n, CM_DMA_ATTACH_READ);
    cm_dma_buffer_t b[16];
    for (uint32_t i = 0; i < n; i++) {
        assert_status(cm_dma_buffer_acquire(pool, &b[i]), CM_OK);
        (void)dma_submit_read(pool, b[i], 0, CM_DMA_MAX_BUFFER_SIZE, (uint64_t)i << 20);
    }
    cm_handle_close(pool);
    uint32_t q = cm_host_dma_quarantined();
    printf("# %u of %u reads still at the device when the pool was destroyed\n", q, n);
    assert_true(q <= n);
    assert_status(cm_host_dma_quarantine_wait(30 * SEC), CM_OK);
    assert_int_equal(cm_host_dma_quarantined(), 0);
}

/* Owner death: a child process owns a pool on the real device and one on
 * a pipe, submits, and is SIGKILLed with everything in flight. Linux does
 * the quarantine for a dead process: its io_uring requests are cancelled
 * or waited out, and only then are the requests' references (to the device
 * file, to the pinned pages) dropped. Observable from outside: the pipe
 * "device" loses its last reader once the dead owner's in-flight read is
 * gone (our write gets EPIPE). */
static void test_quarantine_after_owner_death(void **state)
{
    (void)state;
    const char *path = dma_test_file(DMA_TEST_FILE_SIZE);
    if (path == NULL)
        skip();
    int dev[2], ready[2];
    assert_int_equal(pipe2(dev, O_CLOEXEC), 0);
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(dev[1]);
        close(ready[0]);
        cm_handle_t disk, pipe_pool;
        cm_dma_pool_config_t dcfg = { 16, CM_DMA_MAX_BUFFER_SIZE, 16, 0 };
        cm_dma_pool_config_t pcfg = { 1, CM_PAGE_SIZE, 1, 0 };
        if (cm_dma_pool_create(&dcfg, &disk) != CM_OK ||
            cm_dma_pool_attach(disk, path, CM_DMA_ATTACH_READ) != CM_OK ||
            cm_dma_pool_create(&pcfg, &pipe_pool) != CM_OK ||
            cm_host_dma_attach_fd(pipe_pool, dev[0], CM_DMA_ATTACH_READ) != CM_OK)
            _exit(2);
        close(dev[0]); /* the pool's ring and dup are the only readers now */
        cm_dma_buffer_t b;
        cm_dma_fence_t f;
        cm_dma_op_t op = { CM_DMA_OP_READ, 0, 64, 0, 0 };
        if (cm_dma_buffer_acquire(pipe_pool, &b) != CM_OK ||
            cm_dma_submit(pipe_pool, b, &op, &f) != CM_OK)
            _exit(3);
        for (uint32_t i = 0; i < 16; i++) {
            cm_dma_op_t rop = { CM_DMA_OP_READ, 0, CM_DMA_MAX_BUFFER_SIZE, 0, (uint64_t)i << 20 };
            if (cm_dma_buffer_acquire(disk, &b) != CM_OK || cm_dma_submit(disk, b, &rop, &f) != CM_OK)
                _exit(4);
        }
        if (write(ready[1], "s", 1) != 1)
            _exit(5);
        for (;;)
            pause();
    }
    close(dev[0]);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* The dead owner's read must be gone: the device has no reader left. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ign, &old);
    int gone = 0;
    uint64_t t0 = (uint64_t)time(NULL);
    for (int i = 0; i < 5000 && !gone; i++) {
        struct pollfd pfd = { dev[1], POLLOUT, 0 };
        (void)poll(&pfd, 1, 0);
        if (pfd.revents & POLLERR)
            gone = 1;
        else
            usleep(1000);
    }
    ssize_t w = write(dev[1], "x", 1);
    int werr = errno;
    sigaction(SIGPIPE, &old, NULL);
    printf("# dead owner's in-flight read released by Linux after kill: %s (%llus)\n",
           gone ? "yes" : "no", (unsigned long long)((uint64_t)time(NULL) - t0));
    assert_true(gone);
    assert_int_equal(w, -1);
    assert_int_equal(werr, EPIPE);
    close(dev[1]);
    /* Nothing of the dead owner is quarantined in (or leaked into) us. */
    assert_int_equal(cm_host_dma_quarantined(), 0);
}

static void test_quarantine_wait_rejects_bad_timeout(void **state)
{
    (void)state;
    assert_status(cm_host_dma_quarantine_wait(-2), CM_ERR_INVALID_ARGS);
    assert_status(cm_host_dma_quarantine_wait(0), CM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_destroy_with_in_flight_quarantines_until_device_completes),
        T(test_quarantined_memory_never_reaches_another_client),
        T(test_destroy_mid_flight_on_real_device),
        T(test_quarantine_after_owner_death),
        T(test_quarantine_wait_rejects_bad_timeout),
    };
    (void)dma_test_file(DMA_TEST_FILE_SIZE);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
