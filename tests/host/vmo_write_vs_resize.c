/* SPDX-License-Identifier: MIT */
/* A call that can extend a VMO's file (cm_vmo_write's pwrite, COMMIT's
 * fallocate) and a cut by set_size from another thread of the same
 * process: the write was checked against the old size, so landing after
 * the cut would grow the file again, and the bytes or pages it put past
 * the new size would come back at the next growth (uncharged). The size
 * lock of the VMO (host/internal.h, struct cm__vmo, size_lock) orders the
 * two. Each test stops the write between its check and its system call
 * (an interposed pwrite / fallocate), starts the cut on another thread and
 * lets the write go only once the cut has finished or sleeps (waits for
 * the lock): before the lock, the cut finished first and the test failed. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include "common/leakcheck.h"
#include "common/threads.h"

#define PAGE 4096u
#define SIZE (4u * PAGE)

/* ---- the cut, on its own thread ---- */

static cm_handle_t cut_vmo;
static _Atomic pid_t cut_tid;
static atomic_int cut_done;
static cm_status_t cut_status;

static void *cut_thread(void *arg)
{
    (void)arg;
    atomic_store(&cut_tid, (pid_t)syscall(SYS_gettid));
    cut_status = cm_vmo_set_size(cut_vmo, PAGE);
    atomic_store(&cut_done, 1);
    return NULL;
}

static pthread_t cutter;
static int cutter_started;

/* Runs in the writing thread, between its check and its system call:
 * starts the cut and returns once it finished or sleeps on a lock (seen
 * asleep twice in a row, 1 ms apart, and not done). */
static void start_cut_and_let_it_run(void)
{
    atomic_store(&cut_tid, 0);
    atomic_store(&cut_done, 0);
    if (pthread_create(&cutter, NULL, cut_thread, NULL) != 0)
        return;
    cutter_started = 1;
    int seen = 0;
    for (int i = 0; i < 10000 && !atomic_load(&cut_done) && seen < 2; i++) {
        usleep(1000);
        pid_t tid = atomic_load(&cut_tid);
        seen = tid != 0 && task_sleeping(tid) ? seen + 1 : 0;
    }
}

static void join_cut(void)
{
    if (cutter_started)
        assert_int_equal(pthread_join(cutter, NULL), 0);
    cutter_started = 0;
}

/* ---- interposed calls: the hook runs once, before the real call ---- */

static int hook_pwrite, hook_fallocate;

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (real == NULL)
        real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    if (hook_pwrite) {
        hook_pwrite = 0;
        start_cut_and_let_it_run();
    }
    return real(fd, buf, n, at);
}

int fallocate(int fd, int mode, off_t at, off_t len)
{
    static int (*real)(int, int, off_t, off_t);
    if (real == NULL)
        real = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
    if (hook_fallocate) {
        hook_fallocate = 0;
        start_cut_and_let_it_run();
    }
    return real(fd, mode, at, len);
}

/* ---- tests ---- */

static void test_write_checked_before_a_cut_never_regrows_the_file(void **state)
{
    (void)state;
    char c = 1;
    uint64_t size = 0;
    assert_status(cm_vmo_create(SIZE, CM_VMO_COMMIT, &cut_vmo), CM_OK);
    hook_pwrite = 1;
    assert_status(cm_vmo_write(cut_vmo, "x", SIZE - 1, 1), CM_OK);
    join_cut();
    assert_status(cut_status, CM_OK);
    assert_status(cm_vmo_get_size(cut_vmo, &size), CM_OK);
    assert_int_equal(size, PAGE);
    /* Grown again: the byte written before the cut is gone. */
    assert_status(cm_vmo_set_size(cut_vmo, SIZE), CM_OK);
    assert_status(cm_vmo_read(cut_vmo, &c, SIZE - 1, 1), CM_OK);
    assert_int_equal(c, 0);
    assert_status(cm_handle_close(cut_vmo), CM_OK);
}

static void test_commit_checked_before_a_cut_never_regrows_the_file(void **state)
{
    (void)state;
    uint64_t committed = 1;
    assert_status(cm_vmo_create(SIZE, 0, &cut_vmo), CM_OK);
    assert_status(cm_vmo_set_size(cut_vmo, SIZE), CM_OK); /* sized, nothing committed */
    hook_fallocate = 1;
    assert_status(cm_vmo_op_range(cut_vmo, CM_VMO_OP_COMMIT, 2 * PAGE, 2 * PAGE), CM_OK);
    join_cut();
    assert_status(cut_status, CM_OK);
    /* The pages committed before the cut went with it. */
    assert_status(cm_vmo_get_committed(cut_vmo, &committed), CM_OK);
    assert_int_equal(committed, 0);
    assert_status(cm_vmo_set_size(cut_vmo, SIZE), CM_OK);
    assert_status(cm_vmo_get_committed(cut_vmo, &committed), CM_OK);
    assert_int_equal(committed, 0);
    assert_status(cm_handle_close(cut_vmo), CM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_write_checked_before_a_cut_never_regrows_the_file),
        LEAK_TEST(test_commit_checked_before_a_cut_never_regrows_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
