/* SPDX-License-Identifier: MIT */
/* A lazily sized VMO (struct cm__vmo, size_state: its memfd gets its size
 * at its first use) attacked where the sizing and the uses that read the
 * size meet: a fork that cannot size it (RLIMIT_FSIZE lowered since the
 * create), a size read taken while another use sizes it, a set_size that
 * need not reach the create's size first. Each test failed before the fix
 * it names (host/vmo.c). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/fsize.h"
#include "common/leakcheck.h"

#define PAGE 4096u
#define BIG (1u << 20)          /* the VMO's size */
#define LIMIT (64u * 1024u)     /* RLIMIT_FSIZE below it */

/* ---- interposed calls: an fstat hook, a slow ftruncate ---- */

static void (*fstat_hook)(void);

int fstat(int fd, struct stat *sb)
{
    static int (*real)(int, struct stat *);
    if (real == NULL)
        real = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
    int rc = real(fd, sb);
    if (fstat_hook != NULL) {
        void (*h)(void) = fstat_hook;
        fstat_hook = NULL;
        h();
    }
    return rc;
}

/* ftruncate, slowed down in the threads that set slow_ftruncate (so that a
 * fork lands while they size a file). */
static __thread int slow_ftruncate;

int ftruncate(int fd, off_t len)
{
    static int (*real)(int, off_t);
    if (real == NULL)
        real = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    if (slow_ftruncate)
        usleep(1000);
    return real(fd, len);
}

/* In a checked child: a new VMO of BIG bytes, `byte` written at 0 (none
 * if NULL), so its file is not sized; then RLIMIT_FSIZE lowered to LIMIT
 * (*was: the old one). */
static cm_handle_t unsized_under_limit(const char *byte, struct rlimit *was)
{
    cm_handle_t v = CM_HANDLE_INVALID;
    CHILD_EXPECT(cm_vmo_create(BIG, 0, &v), CM_OK);
    if (byte != NULL)
        CHILD_EXPECT(cm_vmo_write(v, byte, 0, 1), CM_OK);
    CHILD_CHECK(lower_fsize(LIMIT, was) == 0);
    return v;
}

/* Forks a child that runs fn(v) and exits with its result; returns it (or
 * -1 if the child did not exit normally). */
static int in_forked(int (*fn)(cm_handle_t), cm_handle_t v)
{
    fflush(NULL);
    pid_t kid = fork();
    if (kid == 0)
        _exit(fn(v));
    int status = 0;
    if (kid < 0 || waitpid(kid, &status, 0) != kid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int child_does_nothing(cm_handle_t v)
{
    (void)v;
    return 0;
}

/* ---- a fork that cannot size the file ----
 *
 * Fixed: the parent's get_size and write read the file's size (fstat) as
 * soon as the fork made the VMO "not private", though the file was never
 * sized: get_size gave the written extent (1 byte), a write inside the VMO
 * was OUT_OF_RANGE. */
static void test_fork_that_could_not_size_leaves_the_parent_the_whole_size(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t v;
        struct rlimit was;
        uint64_t size = 0;
        void *p = NULL;
        v = unsized_under_limit("w", &was);
        CHILD_CHECK(in_forked(child_does_nothing, v) == 0);
        CHILD_EXPECT(cm_vmo_get_size(v, &size), CM_OK);
        CHILD_CHECK(size == BIG);
        CHILD_EXPECT(cm_vmo_write(v, "x", PAGE, 1), CM_OK); /* under the limit */
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
        CHILD_EXPECT(cm_vmo_map(v, 0, BIG, CM_MAP_READ, &p), CM_OK);
        if (p != NULL) {
            const volatile char *c = p;
            CHILD_CHECK(c[0] == 'w' && c[PAGE] == 'x' && c[BIG - 1] == 0);
            CHILD_EXPECT(cm_vmo_unmap(p, BIG), CM_OK);
        }
        cm_handle_close(v);
        child_exit();
    }
    assert_child_passed(pid);
}

/* The forked child raises its limit again and resizes the VMO it shares
 * with its parent: 0 if every use was refused as BAD_STATE (the child's
 * copy cannot be sized), 1 if the set_size and the write went through,
 * 2 for anything else. */
static int child_resizes_to_double(cm_handle_t v)
{
    struct rlimit rl;
    uint64_t size = 0;
    cm_vmo_info_t info;
    void *p = NULL;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 2;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 2;
    cm_status_t st = cm_vmo_set_size(v, 2 * BIG);
    if (st == CM_OK)
        return cm_vmo_write(v, "k", 2 * BIG - 1, 1) == CM_OK ? 1 : 2;
    if (st != CM_ERR_BAD_STATE)
        return 2;
    int refused = cm_vmo_get_size(v, &size) == CM_ERR_BAD_STATE &&
                  cm_vmo_get_info(v, &info) == CM_ERR_BAD_STATE &&
                  cm_vmo_write(v, "k", 0, 1) == CM_ERR_BAD_STATE &&
                  cm_vmo_map(v, 0, PAGE, CM_MAP_READ, &p) == CM_ERR_BAD_STATE &&
                  cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, PAGE) == CM_ERR_BAD_STATE;
    return refused && cm_handle_close(v) == CM_OK ? 0 : 2;
}

/* Fixed: after a fork that could not size the file, both processes kept
 * the create's size as "to be set", so whichever sized it second cut (or
 * was refused, EPERM under a mapping's F_SEAL_SHRINK, forever) the size
 * the other had set since: the child's set_size to twice the size and its
 * last byte were lost at the parent's first map. Now the child's copy is
 * refused (BAD_STATE) and the parent alone sizes it. */
static void test_fork_that_could_not_size_gives_the_size_to_the_parent_alone(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t v;
        struct rlimit was;
        uint64_t size = 0;
        void *p = NULL;
        char c = 0;
        v = unsized_under_limit(NULL, &was);
        int kid = in_forked(child_resizes_to_double, v);
        CHILD_CHECK(kid == 0 || kid == 1);
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
        CHILD_EXPECT(cm_vmo_map(v, 0, BIG, CM_MAP_READ, &p), CM_OK);
        CHILD_EXPECT(cm_vmo_get_size(v, &size), CM_OK);
        if (kid == 1) {
            /* What the child set must stand. */
            CHILD_CHECK(size == 2 * BIG);
            CHILD_EXPECT(cm_vmo_read(v, &c, 2 * BIG - 1, 1), CM_OK);
            CHILD_CHECK(c == 'k');
        } else {
            CHILD_CHECK(size == BIG);
        }
        CHILD_CHECK(kid == 0); /* and the child's copy was refused */
        if (p != NULL)
            CHILD_EXPECT(cm_vmo_unmap(p, BIG), CM_OK);
        cm_handle_close(v);
        child_exit();
    }
    assert_child_passed(pid);
}

/* ---- a size read while another use sizes the file ---- */

static cm_handle_t hooked_vmo;

/* Another thread's first use, between the fstat and what follows it. */
static void size_it_now(void)
{
    char c;
    if (cm_vmo_read(hooked_vmo, &c, 0, 1) != CM_OK)
        abort();
}

/* Fixed: get_info and DECOMMIT read the file's size (fstat) and only then
 * whether the file was sized yet: a sizing in between made them take the
 * empty file's 0 for the size (get_info said 0 bytes, DECOMMIT of the
 * first page was OUT_OF_RANGE). */
static void test_size_read_while_the_file_is_being_sized_is_the_whole_size(void **state)
{
    (void)state;
    cm_vmo_info_t info = { 0 };
    assert_int_equal(cm_vmo_create(BIG, 0, &hooked_vmo), CM_OK);
    fstat_hook = size_it_now;
    cm_status_t st = cm_vmo_get_info(hooked_vmo, &info);
    int ran = fstat_hook == NULL;
    cm_handle_close(hooked_vmo);
    assert_int_equal(st, CM_OK);
    assert_true(ran);
    assert_int_equal(info.size, BIG);

    assert_int_equal(cm_vmo_create(BIG, 0, &hooked_vmo), CM_OK);
    fstat_hook = size_it_now;
    st = cm_vmo_op_range(hooked_vmo, CM_VMO_OP_DECOMMIT, 0, PAGE);
    ran = fstat_hook == NULL;
    cm_handle_close(hooked_vmo);
    assert_int_equal(st, CM_OK);
    assert_true(ran);
}

/* ---- set_size of a file not sized yet ---- */

/* Fixed: set_size sized the file to the create's size first, so a VMO
 * whose create's size an RLIMIT_FSIZE lowered since refuses could not be
 * cut to a size the limit allows (NO_RESOURCES), which worked before the
 * file was sized lazily. The new size is the file's first size now; what
 * was written stays, the rest reads as zeros. */
static void test_set_size_of_an_unsized_vmo_needs_only_the_new_size(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t v;
        struct rlimit was;
        uint64_t size = 0;
        void *p = NULL;
        char c = 1;
        v = unsized_under_limit("a", &was);
        CHILD_EXPECT(cm_vmo_set_size(v, 2 * PAGE), CM_OK);
        CHILD_EXPECT(cm_vmo_get_size(v, &size), CM_OK);
        CHILD_CHECK(size == 2 * PAGE);
        CHILD_EXPECT(cm_vmo_read(v, &c, 2 * PAGE - 1, 1), CM_OK);
        CHILD_CHECK(c == 0);
        CHILD_EXPECT(cm_vmo_map(v, 0, 2 * PAGE, CM_MAP_READ, &p), CM_OK);
        if (p != NULL) {
            CHILD_CHECK(((const volatile char *)p)[0] == 'a');
            CHILD_EXPECT(cm_vmo_unmap(p, 2 * PAGE), CM_OK);
        }
        /* A size the limit refuses stays refused, and changes nothing. */
        cm_handle_t w;
        CHILD_EXPECT(cm_vmo_create(BIG, 0, &w), CM_OK);
        CHILD_EXPECT(cm_vmo_set_size(w, 2 * LIMIT), CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_vmo_get_size(w, &size), CM_OK);
        CHILD_CHECK(size == BIG);
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
        /* Growing an unsized one: the new size, in one ftruncate. */
        CHILD_EXPECT(cm_vmo_set_size(w, 2 * BIG), CM_OK);
        CHILD_EXPECT(cm_vmo_read(w, &c, 2 * BIG - 1, 1), CM_OK);
        int fd = -1;
        struct stat sb;
        CHILD_EXPECT(cm_host_vmo_export_fd(w, &fd), CM_OK);
        CHILD_CHECK(fd >= 0 && fstat(fd, &sb) == 0 && (uint64_t)sb.st_size == 2 * BIG);
        if (fd >= 0)
            close(fd);
        cm_handle_close(w);
        cm_handle_close(v);
        child_exit();
    }
    assert_child_passed(pid);
}

/* ---- a fork while other threads size new VMOs ---- */

#define FORK_VMOS 8
#define FORK_ROUNDS 40
static cm_handle_t fork_vmos[FORK_VMOS];
static pthread_barrier_t fork_barrier;
static atomic_int fork_use_errors;

/* Thread id makes the first use of every other VMO of the round (a read
 * of the last byte or a set_size to the same size: both size the file,
 * slowly: slow_ftruncate) while the main thread forks. */
static void *first_user(void *arg)
{
    intptr_t id = (intptr_t)arg;
    slow_ftruncate = 1;
    for (int r = 0; r < FORK_ROUNDS; r++) {
        pthread_barrier_wait(&fork_barrier);
        for (int i = (int)id; i < FORK_VMOS; i += 2) {
            char c = 0; /* the read's byte; a set_size reads none */
            cm_status_t st = (i / 2) % 2 ? cm_vmo_read(fork_vmos[i], &c, BIG - 1, 1)
                                         : cm_vmo_set_size(fork_vmos[i], BIG);
            if (st != CM_OK || c != 0)
                atomic_fetch_add(&fork_use_errors, 1);
        }
        pthread_barrier_wait(&fork_barrier);
    }
    return NULL;
}

/* In the forked child: every VMO whole (a short file is OUT_OF_RANGE in
 * the read, SIGBUS in the mapping); 0 if so. */
static int child_sees_every_vmo_whole(cm_handle_t unused)
{
    (void)unused;
    for (int i = 0; i < FORK_VMOS; i++) {
        char c = 1;
        void *p = NULL;
        if (cm_vmo_read(fork_vmos[i], &c, BIG - 1, 1) != CM_OK || c != 0 ||
            cm_vmo_map(fork_vmos[i], 0, BIG, CM_MAP_READ, &p) != CM_OK ||
            ((const volatile char *)p)[BIG - 1] != 0)
            return 1;
    }
    return 0;
}

/* The fork's prepare sizes every VMO the table names, waiting for a
 * thread that is sizing one: a child forked while other threads make the
 * first uses of new VMOs gets each whole and usable (never a copy refused
 * for want of a size, never a short file), and nobody hangs (the alarm). */
static void test_fork_while_threads_size_new_vmos_gives_the_child_each_whole(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        pthread_t t[2];
        CHILD_CHECK(pthread_barrier_init(&fork_barrier, NULL, 3) == 0);
        for (intptr_t i = 0; i < 2; i++)
            CHILD_CHECK(pthread_create(&t[i], NULL, first_user, (void *)i) == 0);
        for (int r = 0; r < FORK_ROUNDS; r++) {
            for (int i = 0; i < FORK_VMOS; i++)
                CHILD_EXPECT(cm_vmo_create(BIG, 0, &fork_vmos[i]), CM_OK);
            pthread_barrier_wait(&fork_barrier);
            int kid = in_forked(child_sees_every_vmo_whole, CM_HANDLE_INVALID);
            if (kid != 0)
                fprintf(stderr, "round %d: the forked child saw %d\n", r, kid);
            CHILD_CHECK(kid == 0);
            pthread_barrier_wait(&fork_barrier);
            for (int i = 0; i < FORK_VMOS; i++)
                cm_handle_close(fork_vmos[i]);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&fork_barrier);
        CHILD_CHECK(atomic_load(&fork_use_errors) == 0);
        child_exit();
    }
    assert_child_passed(pid);
}

/* ---- naming a VMO only for its identity ---- */

/* Fixed: cm_vmar_unmap_vmo looked the VMO up as for a use of its content,
 * which sized its file: under a lowered RLIMIT_FSIZE the unmap failed
 * NO_RESOURCES instead of saying the range does not hold that VMO, and
 * otherwise it made the ftruncate a VMO that is never mapped saves. */
static void test_unmap_naming_an_unsized_vmo_neither_sizes_nor_fails_for_it(void **state)
{
    (void)state;
    pid_t pid = fork_checked_child();
    if (pid == 0) {
        cm_handle_t r, v, sized;
        struct rlimit was;
        void *base = NULL, *p = NULL;
        CHILD_EXPECT(cm_vmar_reserve(NULL, 4 * PAGE, 0, &r, &base), CM_OK);
        CHILD_EXPECT(cm_vmo_create(BIG, 0, &v), CM_OK);
        CHILD_EXPECT(cm_vmo_create(PAGE, CM_VMO_COMMIT, &sized), CM_OK);
        cm_status_t expected = cm_vmar_unmap_vmo(r, sized, base, PAGE);
        CHILD_CHECK(expected != CM_OK && expected != CM_ERR_NO_RESOURCES);
        CHILD_EXPECT(cm_vmar_unmap_vmo(r, v, base, PAGE), expected);
        CHILD_CHECK(lower_fsize(LIMIT, &was) == 0);
        CHILD_EXPECT(cm_vmar_unmap_vmo(r, v, base, PAGE), expected);
        /* Still unsized: the first use that needs the size is refused. */
        CHILD_EXPECT(cm_vmo_map(v, 0, BIG, CM_MAP_READ, &p), CM_ERR_NO_RESOURCES);
        CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &was) == 0);
        cm_handle_close(sized);
        cm_handle_close(v);
        cm_handle_close(r);
        child_exit();
    }
    assert_child_passed(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_fork_that_could_not_size_leaves_the_parent_the_whole_size),
        LEAK_TEST(test_fork_that_could_not_size_gives_the_size_to_the_parent_alone),
        LEAK_TEST(test_size_read_while_the_file_is_being_sized_is_the_whole_size),
        LEAK_TEST(test_set_size_of_an_unsized_vmo_needs_only_the_new_size),
        LEAK_TEST(test_fork_while_threads_size_new_vmos_gives_the_child_each_whole),
        LEAK_TEST(test_unmap_naming_an_unsized_vmo_neither_sizes_nor_fails_for_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
