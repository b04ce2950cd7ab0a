/* SPDX-License-Identifier: MIT */
/* DMA pool rules that only a failing system call or an exact ordering can
 * show: reap before refusing for capacity, publish a detached VMO last,
 * never report a release that did not scrub, never hand back a buffer the
 * CPU cannot touch, never create pool memory a child could inherit, sleep
 * only until an event. Failures are injected through host/dma.c's test
 * hook (cm__dma_fault_hook, not exported from the library). */
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "dma_testutil.h"
#include "../../host/dma_internal.h"

#define SEC (1000ll * 1000 * 1000)

static uint32_t registered_before;

/* The hook: fail the fail_at-th fallible call (1-based) with fail_errno,
 * and every later one too when fail_rest is set; count the calls and
 * remember the most live handles any of them saw. */
static int fault_calls, fail_at, fail_rest, fail_errno = ENOMEM, fail_site, triggered;
static uint32_t max_handles_seen;

static int hook(int site)
{
    fault_calls++;
    uint32_t h = cm_host_live_handles();
    if (h > max_handles_seen)
        max_handles_seen = h;
    if (fail_site != 0) { /* fail from the first call at fail_site on */
        triggered |= site == fail_site;
        return triggered ? fail_errno : 0;
    }
    if (fault_calls == fail_at || (fail_rest && fault_calls > fail_at))
        return fail_errno;
    return 0;
}

static void arm(int at, int rest)
{
    fault_calls = 0;
    fail_at = at;
    fail_rest = rest;
    fail_site = 0;
    triggered = 0;
    max_handles_seen = 0;
    cm__dma_fault_hook = hook;
}

static void disarm(void)
{
    cm__dma_fault_hook = NULL;
}

static int setup(void **state)
{
    dma_pool_options = 0;
    registered_before = cm__dma_registered_buffers();
    return leak_setup(state);
}

static int teardown(void **state)
{
    disarm();
    if (cm_host_dma_quarantine_wait(10 * SEC) != CM_OK ||
        cm__dma_registered_buffers() != registered_before) {
        fprintf(stderr, "LEAK: registered buffers %u -> %u\n", registered_before,
                cm__dma_registered_buffers());
        return -1;
    }
    return leak_teardown(state);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

/* A finished completion frees capacity: submit collects it before it
 * decides the device is full. */
static void test_submit_reaps_finished_completions_before_capacity_check(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b0, b1;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b1), CM_OK);
    cm_dma_fence_t f0 = dma_submit_read(pool, b0, 0, 8, 0);
    assert_int_equal(write(wfd, "00000000", 8), 8);
    assert_status(cm__dma_wait_posted(pool, 10 * SEC), CM_OK); /* b0 is back from the device */
    cm_dma_fence_t f1 = dma_submit_read(pool, b1, 0, 8, 0);    /* room for one: b0's */
    assert_int_equal(write(wfd, "11111111", 8), 8);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, f0, 10 * SEC, &c), CM_OK);
    assert_status(cm_dma_fence_wait(pool, f1, 10 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b0), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b1), CM_OK);
    close(wfd);
    cm_handle_close(pool);
}

/* Detach fails at each of its fallible steps in turn: each time nothing
 * was published (no step ran with the VMO's handle in the table), the
 * buffer is still the caller's with its bytes, and nothing leaked. */
static void test_detach_publishes_vmo_handle_last(void **state)
{
    (void)state;
    cm_handle_t pool = dma_make_pool(1, CM_PAGE_SIZE, 1);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b, 0, "payload", 7), CM_OK);
    uint32_t base = cm_host_live_handles();
    int fds = count_open_fds();
    cm_handle_t vmo = CM_HANDLE_INVALID;
    int n;
    for (n = 1; n < 64; n++) {
        arm(n, 0);
        cm_status_t st = cm_dma_buffer_detach_vmo(pool, b, &vmo);
        disarm();
        if (max_handles_seen > base)
            fail_msg("step %d of detach ran after the VMO handle was published", n);
        if (st == CM_OK)
            break;
        assert_int_equal(cm_host_live_handles(), base);
        assert_int_equal(count_open_fds(), fds);
        char got[7];
        assert_status(cm_dma_buffer_read(pool, b, 0, got, 7), CM_OK);
        assert_memory_equal(got, "payload", 7);
    }
    printf("# detach has %d fallible steps\n", n - 1);
    assert_true(n > 1);
    assert_int_equal(cm_host_live_handles(), base + 1);
    void *p;
    uint64_t size;
    assert_status(cm_vmo_map(vmo, 0, CM_PAGE_SIZE, CM_MAP_READ, &p), CM_OK);
    assert_memory_equal(p, "payload", 7);
    assert_status(cm_vmo_unmap(p, CM_PAGE_SIZE), CM_OK);
    assert_status(cm_vmo_get_size(vmo, &size), CM_OK);
    assert_int_equal(size, CM_PAGE_SIZE);
    cm_handle_close(vmo);
    /* The slot got fresh memory that works for the device path too. */
    cm_dma_buffer_t b2;
    assert_status(cm_dma_buffer_acquire(pool, &b2), CM_OK);
    char zero[7] = { 0 }, got[7];
    assert_status(cm_dma_buffer_read(pool, b2, 0, got, 7), CM_OK);
    assert_memory_equal(got, zero, 7);
    cm_handle_close(pool);
}

/* Release whose scrub cannot complete: the error is returned, the buffer
 * stays out of the pool (still the caller's), and no client ever gets it
 * unscrubbed. Every system call from the n-th on fails. */
static void test_failed_scrub_fails_release_and_never_hands_out_the_buffer(void **state)
{
    (void)state;
    cm_handle_t pool = dma_make_pool(1, CM_PAGE_SIZE, 1);
    cm_dma_buffer_t b, other;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    int n;
    for (n = 1; n < 64; n++) {
        assert_status(cm_dma_buffer_write(pool, b, 0, "secret", 6), CM_OK);
        arm(n, 1);
        cm_status_t st = cm_dma_buffer_release(pool, b);
        disarm();
        if (fault_calls < n) {
            assert_status(st, CM_OK); /* no step left to fail */
            break;
        }
        if (st == CM_OK)
            fail_msg("release returned OK although step %d of its scrub failed", n);
        assert_status(cm_dma_buffer_acquire(pool, &other), CM_ERR_NO_RESOURCES);
    }
    printf("# release has %d fallible steps\n", n - 1);
    /* Guarded: closing CPU access can fail. Default: nothing can. */
    if (dma_pool_options & CM_DMA_POOL_CPU_GUARD)
        assert_true(n > 1);
    else
        assert_int_equal(n, 1);
    assert_status(cm_dma_buffer_acquire(pool, &other), CM_OK);
    char got[6], zero[6] = { 0 };
    assert_status(cm_dma_buffer_read(pool, other, 0, got, 6), CM_OK);
    assert_memory_equal(got, zero, 6);
    cm_handle_close(pool);
}

/* The device queue refuses a request and the CPU guard cannot be lifted
 * at that moment either: the buffer comes back to its owner, and the
 * owner's next access works (it lifts the guard then), never faults. */
static void test_buffer_returned_by_failed_submit_is_accessible_again(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(1, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b, 0, "data", 4), CM_OK);
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, 8, 0, 0 };
    cm_dma_fence_t f;
    arm(0, 0);
    fail_site = CM__DMA_SITE_SUBMIT;
    fail_errno = EIO; /* the submit and everything after it */
    cm_status_t st = cm_dma_submit(pool, b, &op, &f);
    disarm();
    fail_errno = ENOMEM;
    assert_status(st, CM_ERR_IO);
    char got[4];
    assert_status(cm_dma_buffer_write(pool, b, 4, "more", 4), CM_OK);
    assert_status(cm_dma_buffer_read(pool, b, 0, got, 4), CM_OK);
    assert_memory_equal(got, "data", 4);
    uint8_t *p;
    assert_status(cm_dma_buffer_map(pool, b, (void **)&p, NULL), CM_OK);
    assert_memory_equal(p + 4, "more", 4);
    /* And the buffer still goes to the device and back. */
    f = dma_submit_read(pool, b, 0, 8, 0);
    assert_int_equal(write(wfd, "devdevde", 8), 8);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, f, 10 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_release(pool, b), CM_OK);
    close(wfd);
    cm_handle_close(pool);
}

/* Pool creation fails at each of its fallible steps in turn (including
 * the MADV_DONTFORK advice that keeps a child from inheriting the pool's
 * memory): each is a typed error and leaves nothing behind. */
static void test_pool_create_fails_cleanly_at_each_step(void **state)
{
    (void)state;
    int fds = count_open_fds(), maps = count_maps();
    uint32_t handles = cm_host_live_handles();
    cm_dma_pool_config_t cfg = { 3, 2 * CM_PAGE_SIZE, 2, dma_pool_options };
    cm_handle_t pool;
    int n;
    for (n = 1; n < 256; n++) {
        arm(n, 0);
        cm_status_t st = cm_dma_pool_create(&cfg, &pool);
        disarm();
        if (fault_calls < n) {
            assert_status(st, CM_OK);
            break;
        }
        if (st == CM_OK)
            fail_msg("pool create ignored the failure of its step %d", n);
        assert_int_equal(count_open_fds(), fds);
        assert_int_equal(count_maps(), maps);
        assert_int_equal(cm_host_live_handles(), handles);
        assert_int_equal(cm__dma_registered_buffers(), registered_before);
    }
    printf("# pool create has %d fallible steps\n", n - 1);
    cm_handle_close(pool);
}

/* A quarantine wait with a deadline sleeps until an event or the
 * deadline, not in slices: 50 ms without a completion is one sleep. */
static void test_quarantine_wait_sleeps_until_event_or_deadline(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(1, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    (void)dma_submit_read(pool, b, 0, 8, 0);
    cm_handle_close(pool);
    unsigned before = atomic_load(&cm__dma_quarantine_sleeps);
    assert_status(cm_host_dma_quarantine_wait(50 * 1000 * 1000), CM_ERR_TIMED_OUT);
    unsigned sleeps = atomic_load(&cm__dma_quarantine_sleeps) - before;
    printf("# 50 ms quarantine wait slept %u time(s)\n", sleeps);
    assert_true(sleeps <= 2);
    assert_int_equal(write(wfd, "done----", 8), 8);
    assert_status(cm_host_dma_quarantine_wait(10 * SEC), CM_OK);
    close(wfd);
}

/* No thread for the quarantine (RLIMIT_NPROC, memory): the close still
 * returns at once, and the quarantine wait collects the completion
 * itself. Previously the close waited for the device, forever for one that
 * never completes. */
static void test_close_without_quarantine_thread_does_not_wait_for_device(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b0, b1;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b1), CM_OK);
    (void)dma_submit_read(pool, b0, 0, 8, 0);
    (void)dma_submit_read(pool, b1, 0, 8, 0);
    arm(0, 0);
    fail_site = CM__DMA_SITE_THREAD;
    fail_errno = EAGAIN;
    /* A pipe nobody writes to: a device that does not complete. A close
     * waiting for it would hang here (the suite's alarm would fire). */
    assert_status(cm_handle_close(pool), CM_OK);
    assert_int_equal(cm_host_dma_quarantined(), 2);
    assert_status(cm_host_dma_quarantine_wait(0), CM_ERR_TIMED_OUT);
    assert_status(cm_host_dma_quarantine_wait(20 * 1000 * 1000), CM_ERR_TIMED_OUT);
    assert_int_equal(write(wfd, "11111111", 8), 8);
    assert_int_equal(write(wfd, "22222222", 8), 8);
    /* Still no thread: the waiter reaps. */
    assert_status(cm_host_dma_quarantine_wait(10 * SEC), CM_OK);
    disarm();
    fail_errno = ENOMEM;
    assert_int_equal(cm_host_dma_quarantined(), 0);
    close(wfd);
}

/* Once a thread can be started again, a parked quarantine gets one. */
static void test_parked_quarantine_gets_a_thread_when_possible(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(1, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    (void)dma_submit_read(pool, b, 0, 8, 0);
    arm(0, 0);
    fail_site = CM__DMA_SITE_THREAD;
    assert_status(cm_handle_close(pool), CM_OK);
    disarm();
    assert_status(cm_host_dma_quarantine_wait(0), CM_ERR_TIMED_OUT); /* starts the thread */
    assert_int_equal(write(wfd, "11111111", 8), 8);
    assert_status(cm_host_dma_quarantine_wait(10 * SEC), CM_OK);
    close(wfd);
}

/* A path that is a file when attach looks at it and a FIFO when it opens
 * it (swapped in by the hook, between the two): a typed error, never an
 * open that blocks until some writer appears. */
static char swap_from[300], swap_to[300];

static int swap_hook(int site)
{
    if (site == CM__DMA_SITE_OPEN && rename(swap_from, swap_to) != 0)
        return 0;
    return 0;
}

static void test_attach_path_swapped_for_fifo_is_refused_not_blocking(void **state)
{
    (void)state;
    char dir[] = "/tmp/capmem-dma-swap-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(swap_to, sizeof(swap_to), "%s/dev", dir);
    snprintf(swap_from, sizeof(swap_from), "%s/fifo", dir);
    int fd = open(swap_to, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    close(fd);
    assert_int_equal(mkfifo(swap_from, 0600), 0);
    cm_handle_t pool = dma_make_pool(1, CM_PAGE_SIZE, 1);
    cm__dma_fault_hook = swap_hook;
    cm_status_t st = cm_dma_pool_attach(pool, swap_to, CM_DMA_ATTACH_READ);
    disarm();
    printf("# attach of a path swapped for a FIFO: %s\n", cm_status_name(st));
    assert_true(st == CM_ERR_INVALID_ARGS || st == CM_ERR_UNSUPPORTED);
    cm_dma_pool_info_t info;
    assert_status(cm_dma_pool_get_info(pool, &info), CM_OK);
    assert_int_equal(info.flags & CM_DMA_INFO_DEVICE, 0);
    cm_handle_close(pool);
    unlink(swap_to);
    rmdir(dir);
}

/* ---- timeouts: one rule (core/deadline.h) ---- */

static void test_negative_timeouts_other_than_infinite_rejected(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(1, CM_PAGE_SIZE, 1, &wfd);
    cm_dma_buffer_t b;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, 8, 0);
    cm_dma_completion_t c;
    const int64_t bad[] = { -2, -1000, INT64_MIN };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_status(cm_dma_fence_wait(pool, f, bad[i], &c), CM_ERR_INVALID_ARGS);
        assert_status(cm_host_dma_quarantine_wait(bad[i]), CM_ERR_INVALID_ARGS);
    }
    assert_status(cm_dma_fence_wait(pool, f, 1000, &c), CM_ERR_TIMED_OUT);
    assert_int_equal(write(wfd, "12345678", 8), 8);
    assert_status(cm_dma_fence_wait(pool, f, CM_TIMEOUT_INFINITE, &c), CM_OK);
    close(wfd);
    cm_handle_close(pool);
}

struct late_write {
    int fd;
    cm_handle_t pool;
};

static void *write_when_waiting(void *arg)
{
    struct late_write *w = arg;
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    return write(w->fd, "latelate", 8) == 8 ? NULL : (void *)1;
}

/* INT64_MAX is "later than any clock will reach", never an overflow
 * (UBSan would report one in the ASan build). */
static void test_int64_max_timeout_waits_without_overflow(void **state)
{
    (void)state;
    int wfd;
    cm_handle_t pool = dma_pipe_pool(2, CM_PAGE_SIZE, 2, &wfd);
    cm_dma_buffer_t b0, b1;
    assert_status(cm_dma_buffer_acquire(pool, &b0), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b1), CM_OK);
    cm_dma_fence_t f0 = dma_submit_read(pool, b0, 0, 8, 0);
    struct late_write w = { wfd, pool };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_when_waiting, &w), 0);
    cm_dma_completion_t c;
    assert_status(cm_dma_fence_wait(pool, f0, INT64_MAX, &c), CM_OK);
    void *r;
    pthread_join(t, &r);
    assert_null(r);
    assert_status(cm_host_dma_quarantine_wait(INT64_MAX), CM_OK);
    (void)b1;
    close(wfd);
    cm_handle_close(pool);
}

/* The default pool changes no protection when ownership changes: a whole
 * cycle (acquire, write, submit, wait, map, release, detach) reaches the
 * mprotect site zero times. The guarded pool does, at every change. */
static int mprotects;

static int count_mprotect_hook(int site)
{
    mprotects += site == CM__DMA_SITE_MPROTECT;
    return 0;
}

static int mprotects_per_cycle(uint32_t options)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    cm_dma_pool_config_t cfg = { 2, CM_PAGE_SIZE, 1, options };
    cm_handle_t pool, vmo;
    assert_status(cm_dma_pool_create(&cfg, &pool), CM_OK);
    assert_status(cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ), CM_OK);
    mprotects = 0;
    cm__dma_fault_hook = count_mprotect_hook;
    cm_dma_buffer_t b;
    cm_dma_completion_t c;
    void *addr;
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_write(pool, b, 0, "abcd", 4), CM_OK);
    cm_dma_fence_t f = dma_submit_read(pool, b, 0, 4, 0);
    assert_int_equal(write(p[1], "wxyz", 4), 4);
    assert_status(cm_dma_fence_wait(pool, f, 10 * SEC, &c), CM_OK);
    assert_status(cm_dma_buffer_map(pool, b, &addr, NULL), CM_OK);
    assert_memory_equal(addr, "wxyz", 4);
    assert_status(cm_dma_buffer_release(pool, b), CM_OK);
    assert_status(cm_dma_buffer_acquire(pool, &b), CM_OK);
    assert_status(cm_dma_buffer_detach_vmo(pool, b, &vmo), CM_OK);
    disarm();
    cm_handle_close(vmo);
    close(p[0]);
    close(p[1]);
    cm_handle_close(pool);
    return mprotects;
}

static void test_default_pool_changes_no_protection_per_ownership_change(void **state)
{
    (void)state;
    assert_int_equal(mprotects_per_cycle(0), 0);
    assert_int_equal(mprotects_per_cycle(CM_DMA_POOL_NO_CPU_GUARD), 0);
    /* acquire, submit, wait, release, acquire, detach's fresh memory */
    int guarded = mprotects_per_cycle(CM_DMA_POOL_CPU_GUARD);
    printf("# guarded pool: %d protection changes per cycle\n", guarded);
    assert_true(guarded >= 6);
}

DMA_IN_GUARDED_MODE(test_detach_publishes_vmo_handle_last)
DMA_IN_GUARDED_MODE(test_failed_scrub_fails_release_and_never_hands_out_the_buffer)
DMA_IN_GUARDED_MODE(test_buffer_returned_by_failed_submit_is_accessible_again)
DMA_IN_GUARDED_MODE(test_pool_create_fails_cleanly_at_each_step)

int main(void)
{
    alarm(300); /* a hang fails the suite instead of stalling it */
    const struct CMUnitTest tests[] = {
        T(test_submit_reaps_finished_completions_before_capacity_check),
        T(test_detach_publishes_vmo_handle_last),
        T(test_detach_publishes_vmo_handle_last_in_guarded_mode),
        T(test_failed_scrub_fails_release_and_never_hands_out_the_buffer),
        T(test_failed_scrub_fails_release_and_never_hands_out_the_buffer_in_guarded_mode),
        T(test_buffer_returned_by_failed_submit_is_accessible_again),
        T(test_buffer_returned_by_failed_submit_is_accessible_again_in_guarded_mode),
        T(test_pool_create_fails_cleanly_at_each_step),
        T(test_pool_create_fails_cleanly_at_each_step_in_guarded_mode),
        T(test_quarantine_wait_sleeps_until_event_or_deadline),
        T(test_close_without_quarantine_thread_does_not_wait_for_device),
        T(test_parked_quarantine_gets_a_thread_when_possible),
        T(test_attach_path_swapped_for_fifo_is_refused_not_blocking),
        T(test_negative_timeouts_other_than_infinite_rejected),
        T(test_int64_max_timeout_waits_without_overflow),
        T(test_default_pool_changes_no_protection_per_ownership_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
