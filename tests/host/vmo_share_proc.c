/* SPDX-License-Identifier: MIT */
/* Integration: real processes (fork) sharing VMOs over a channel.
 *
 * Children never use cmocka asserts (a failed assert would unwind into the
 * child's copy of the test runner): they check each step by hand and exit
 * with a code naming the first step that failed; the parent asserts on it.
 * Every child arms alarm() and the parent kills a child that outlives
 * CHILD_LIMIT_S, so nothing here can hang. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <capmem/host.h>
#include "common/leakcheck.h"

#define CHILD_LIMIT_S 60
#define WAIT_NS ((int64_t)CHILD_LIMIT_S * 1000000000)
#define PAYLOAD (4u * 1024 * 1024 + 100) /* not a page multiple */

static void sha256(const void *p, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    EVP_Digest(p, len, out, &n, EVP_sha256(), NULL);
}

static void fill(uint8_t *p, size_t len, uint64_t seed)
{
    uint64_t x = (seed << 1) | 1; /* xorshift state must not be 0 */
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

/* A VMO of `len` bytes holding fill(seed), optionally sealed (0: not). */
static cm_handle_t make_vmo(size_t len, uint64_t seed, int seal, uint8_t digest[32])
{
    cm_handle_t v;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill(buf, len, seed);
    if (digest != NULL)
        sha256(buf, len, digest);
    assert_status(cm_vmo_create(len, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, buf, 0, len), CM_OK);
    free(buf);
    if (seal != 0)
        assert_status(cm_vmo_seal(v, (cm_seal_t)seal), CM_OK);
    return v;
}

/* Forks a child that runs fn(b) with channel end b; the parent keeps a.
 * Each process closes the end it does not use, so either side's exit is
 * seen by the other as PEER_CLOSED. */
static pid_t spawn(int (*fn)(cm_handle_t), cm_handle_t *parent_end)
{
    cm_handle_t a, b;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_LIMIT_S);
        cm_handle_close(a);
        int rc = fn(b);
        cm_handle_close(b);
        _exit(rc);
    }
    assert_status(cm_handle_close(b), CM_OK);
    *parent_end = a;
    return pid;
}

/* Waits for a child, killing it if it outlives CHILD_LIMIT_S. Returns its
 * exit status, 1000 + signal if killed by one, -1 on timeout. */
static int wait_child(pid_t pid)
{
    int status = 0;
    struct timespec tick = { 0, 10 * 1000000 };
    for (int i = 0; i < CHILD_LIMIT_S * 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -1;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* Child helper: waits for and reads one message with up to `cap` handles. */
static cm_status_t child_recv(cm_handle_t ch, void *bytes, uint32_t bytes_cap, uint32_t *nb,
                              cm_handle_t *hs, uint32_t cap, uint32_t *nh)
{
    cm_status_t st = cm_channel_wait_readable(ch, WAIT_NS);
    if (st == CM_OK)
        st = cm_channel_read(ch, bytes, bytes_cap, nb, hs, cap, nh);
    return st;
}

/* ---- producer/consumer ---- */

static int consumer(cm_handle_t ch)
{
    char hello[16];
    cm_handle_t v;
    cm_vmo_info_t info;
    uint32_t nb = 0, nh = 0;
    uint8_t digest[32];
    void *p;
    if (child_recv(ch, hello, sizeof(hello), &nb, &v, 1, &nh) != CM_OK || nh != 1)
        return 10;
    if (cm_vmo_get_info(v, &info) != CM_OK)
        return 11;
    if (!(info.flags & CM_VMO_INFO_IMMUTABLE))
        return 12;
    if (info.rights & CM_RIGHT_WRITE)
        return 13;
    if (info.size != PAYLOAD)
        return 14;
    if (cm_vmo_map(v, 0, info.size, CM_MAP_READ, &p) != CM_OK)
        return 15;
    sha256(p, info.size, digest);
    if (cm_vmo_unmap(p, info.size) != CM_OK)
        return 16;
    cm_handle_close(v);
    if (cm_channel_write(ch, digest, sizeof(digest), NULL, 0) != CM_OK)
        return 17;
    return 0;
}

static void test_sealed_vmo_hashes_the_same_in_another_process(void **state)
{
    (void)state;
    cm_handle_t ch, v, shared;
    uint8_t mine[32], theirs[32];
    uint32_t nb = 0, nh = 0;
    pid_t pid = spawn(consumer, &ch);

    v = make_vmo(PAYLOAD, 0x1234, CM_SEAL_IMMUTABLE, mine);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER,
                                      &shared), CM_OK);
    assert_status(cm_channel_write(ch, "payload", 7, &shared, 1), CM_OK);
    assert_status(cm_channel_wait_readable(ch, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(ch, theirs, sizeof(theirs), &nb, NULL, 0, &nh), CM_OK);
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(nb, 32);
    assert_memory_equal(theirs, mine, 32);

    /* The digest is of this content: a different payload hashes otherwise. */
    uint8_t *other = malloc(PAYLOAD);
    assert_non_null(other);
    fill(other, PAYLOAD, 0x1235);
    sha256(other, PAYLOAD, theirs);
    free(other);
    assert_memory_not_equal(theirs, mine, 32);
    cm_handle_close(v);
    cm_handle_close(ch);
}

/* ---- read-only enforcement across processes ---- */

/* Steps of the write probe; a child's exit code is 16 * object + step. */
enum probe_step {
    P_INFO = 1,      /* get_info */
    P_VMO_WRITE,     /* cm_vmo_write */
    P_MAP_WRITE,     /* writable cm_vmo_map */
    P_SET_SIZE,      /* cm_vmo_set_size */
    P_MAP_READ,      /* read-only cm_vmo_map */
    P_MPROTECT,      /* mprotect(PROT_WRITE) of that mapping */
    P_EXPORT,        /* cm_host_vmo_export_fd */
    P_PROC_WRITE,    /* pwrite through a /proc/self/fd reopen */
    P_PROC_MMAP,     /* mmap(PROT_WRITE, MAP_SHARED) of the reopen */
    P_PROC_TRUNC,    /* ftruncate through the reopen */
    P_CONTENT,       /* content changed under the probes */
};

/* Tries every way to write `v` from this process. If `writable`, each way
 * must work (the probe's control); otherwise each must be refused by the
 * platform with the documented error. Returns 0 or the failing step. */
static int probe_writes(cm_handle_t v, int writable)
{
    cm_vmo_info_t info;
    uint8_t before = 0, after = 0, x = 0xee;
    void *p;
    char path[64];
    int fd;
    if (cm_vmo_get_info(v, &info) != CM_OK || info.size < CM_PAGE_SIZE)
        return P_INFO;
    if (!writable && (info.rights & CM_RIGHT_WRITE))
        return P_INFO;
    if (cm_vmo_read(v, &before, 0, 1) != CM_OK)
        return P_INFO;

    cm_status_t st = cm_vmo_write(v, &x, 1, 1);
    if (st != (writable ? CM_OK : CM_ERR_ACCESS_DENIED))
        return P_VMO_WRITE;
    st = cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ | CM_MAP_WRITE, &p);
    if (st != (writable ? CM_OK : CM_ERR_ACCESS_DENIED))
        return P_MAP_WRITE;
    if (st == CM_OK)
        cm_vmo_unmap(p, CM_PAGE_SIZE);
    st = cm_vmo_set_size(v, info.size);
    if (st != (writable ? CM_OK : CM_ERR_ACCESS_DENIED))
        return P_SET_SIZE;

    if (cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ, &p) != CM_OK)
        return P_MAP_READ;
    /* A read-only mapping of a writable object may or may not be
     * upgradable (that depends on the fd the library maps through); of a
     * sealed one it must never be. */
    int r = mprotect(p, CM_PAGE_SIZE, PROT_READ | PROT_WRITE);
    int e = errno;
    cm_vmo_unmap(p, CM_PAGE_SIZE);
    if (!writable && (r == 0 || e != EACCES))
        return P_MPROTECT;

    if (cm_host_vmo_export_fd(v, &fd) != CM_OK)
        return P_EXPORT;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int rw = open(path, O_RDWR | O_CLOEXEC);
    close(fd);
    if (rw < 0) {
        /* Refusing the reopen outright is also enforcement. */
        if (writable)
            return P_PROC_WRITE;
    } else {
        ssize_t n = pwrite(rw, &x, 1, 2);
        e = errno;
        if (writable ? n != 1 : (n != -1 || e != EPERM)) {
            close(rw);
            return P_PROC_WRITE;
        }
        void *q = mmap(NULL, CM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
        e = errno;
        if (q != MAP_FAILED)
            munmap(q, CM_PAGE_SIZE);
        if (writable ? q == MAP_FAILED : (q != MAP_FAILED || e != EPERM)) {
            close(rw);
            return P_PROC_MMAP;
        }
        r = ftruncate(rw, (off_t)info.size + CM_PAGE_SIZE);
        e = errno;
        if (writable && r == 0) {
            /* The writable map above sealed the size against shrinking
             * (shared memory is mapped only with a size floor). */
            r = ftruncate(rw, (off_t)info.size) == -1 && errno == EPERM ? 0 : -1;
        }
        close(rw);
        if (writable ? r != 0 : (r == 0 || e != EPERM))
            return P_PROC_TRUNC;
    }
    if (cm_vmo_read(v, &after, 0, 1) != CM_OK || after != before)
        return P_CONTENT;
    return 0;
}

/* Receives [READONLY-sealed, IMMUTABLE, unsealed] and probes each. */
static int ro_child(cm_handle_t ch)
{
    cm_handle_t hs[3];
    uint32_t nb = 0, nh = 0;
    char buf[8];
    if (child_recv(ch, buf, sizeof(buf), &nb, hs, 3, &nh) != CM_OK || nh != 3)
        return 1;
    for (int i = 0; i < 3; i++) {
        int step = probe_writes(hs[i], i == 2);
        if (step != 0) {
            fprintf(stderr, "# child: object %d failed probe step %d (errno %d)\n", i, step,
                    errno);
            return 16 * (i + 1) + step;
        }
    }
    for (int i = 0; i < 3; i++)
        cm_handle_close(hs[i]);
    return cm_channel_write(ch, "done", 4, NULL, 0) == CM_OK ? 0 : 2;
}

static void test_ro_mapping_enforced(void **state)
{
    (void)state;
    cm_handle_t ch, vs[3], sent[3];
    uint8_t digest[3][32], now[32];
    char buf[8];
    uint32_t nb = 0, nh = 0;
    void *p;
    pid_t pid = spawn(ro_child, &ch);

    vs[0] = make_vmo(2 * CM_PAGE_SIZE, 1, CM_SEAL_READONLY, digest[0]);
    vs[1] = make_vmo(2 * CM_PAGE_SIZE, 2, CM_SEAL_IMMUTABLE, digest[1]);
    vs[2] = make_vmo(2 * CM_PAGE_SIZE, 3, 0, digest[2]);
    /* Sent with every right the sender holds, WRITE included: only the
     * seals stand between the child and the bytes. */
    for (int i = 0; i < 3; i++)
        assert_status(cm_handle_duplicate(vs[i], CM_RIGHTS_SAME, &sent[i]), CM_OK);
    assert_status(cm_channel_write(ch, "ro", 2, sent, 3), CM_OK);

    int rc = wait_child(pid);
    if (rc != 0) {
        for (int i = 0; i < 3; i++)
            cm_handle_close(vs[i]);
        cm_handle_close(ch);
        fail_msg("child failed: exit %d (object %d, probe step %d)", rc, rc / 16 - 1, rc % 16);
    }
    assert_status(cm_channel_read(ch, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "done", 4);

    /* The sealed objects are byte-for-byte what was sent... */
    for (int i = 0; i < 2; i++) {
        assert_status(cm_vmo_map(vs[i], 0, 2 * CM_PAGE_SIZE, CM_MAP_READ, &p), CM_OK);
        sha256(p, 2 * CM_PAGE_SIZE, now);
        assert_status(cm_vmo_unmap(p, 2 * CM_PAGE_SIZE), CM_OK);
        assert_memory_equal(now, digest[i], 32);
    }
    /* ...while the control object shows the child's writes did land. */
    uint8_t b[3];
    assert_status(cm_vmo_read(vs[2], b, 0, 3), CM_OK);
    assert_int_equal(b[1], 0xee);
    assert_int_equal(b[2], 0xee);
    for (int i = 0; i < 3; i++)
        cm_handle_close(vs[i]);
    cm_handle_close(ch);
}

/* ---- shared memory, not copies ---- */

static int writer_child(cm_handle_t ch)
{
    cm_handle_t v;
    uint32_t nb = 0, nh = 0;
    char buf[8];
    void *p;
    if (child_recv(ch, buf, sizeof(buf), &nb, &v, 1, &nh) != CM_OK || nh != 1)
        return 1;
    if (cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ | CM_MAP_WRITE, &p) != CM_OK)
        return 2;
    memcpy((char *)p + 100, "from child", 10);
    if (cm_channel_write(ch, "w", 1, NULL, 0) != CM_OK)
        return 3;
    /* Wait for the parent's own write, seen through the same mapping. */
    if (child_recv(ch, buf, sizeof(buf), &nb, NULL, 0, &nh) != CM_OK)
        return 4;
    if (memcmp((char *)p + 200, "from parent", 11) != 0)
        return 5;
    cm_vmo_unmap(p, CM_PAGE_SIZE);
    cm_handle_close(v);
    return 0;
}

static void test_unsealed_vmo_is_one_memory_in_both_processes(void **state)
{
    (void)state;
    cm_handle_t ch, v, dup;
    char buf[16];
    uint32_t nb, nh;
    void *p;
    pid_t pid = spawn(writer_child, &ch);
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &v), CM_OK);
    assert_status(cm_vmo_map(v, 0, CM_PAGE_SIZE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
    assert_status(cm_channel_write(ch, "v", 1, &dup, 1), CM_OK);
    assert_status(cm_channel_wait_readable(ch, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(ch, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal((char *)p + 100, "from child", 10);
    memcpy((char *)p + 200, "from parent", 11);
    assert_status(cm_channel_write(ch, "p", 1, NULL, 0), CM_OK);
    assert_int_equal(wait_child(pid), 0);
    assert_status(cm_vmo_unmap(p, CM_PAGE_SIZE), CM_OK);
    cm_handle_close(v);
    cm_handle_close(ch);
}

/* ---- peer death ---- */

/* Reads the request, sends half an answer, and dies without closing. */
static int dying_child(cm_handle_t ch)
{
    cm_handle_t v;
    uint32_t nb = 0, nh = 0;
    char buf[8];
    if (child_recv(ch, buf, sizeof(buf), &nb, &v, 1, &nh) != CM_OK || nh != 1)
        return 1;
    if (cm_channel_write(ch, "part 1", 6, NULL, 0) != CM_OK)
        return 2;
    raise(SIGKILL);
    return 3;
}

static void test_peer_process_death_is_peer_closed_not_a_hang(void **state)
{
    (void)state;
    cm_handle_t ch, v;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    pid_t pid = spawn(dying_child, &ch);
    v = make_vmo(CM_PAGE_SIZE, 9, CM_SEAL_IMMUTABLE, NULL);
    cm_handle_t dup;
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
    assert_status(cm_channel_write(ch, "req", 3, &dup, 1), CM_OK);

    /* What the peer sent before dying is still delivered... */
    assert_status(cm_channel_wait_readable(ch, WAIT_NS), CM_OK);
    assert_status(cm_channel_read(ch, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    assert_memory_equal(buf, "part 1", 6);
    /* ...and waiting for part 2 ends with PEER_CLOSED, not the deadline. */
    assert_status(cm_channel_wait_readable(ch, WAIT_NS), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_read(ch, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    assert_status(cm_channel_write(ch, "more", 4, NULL, 0), CM_ERR_PEER_CLOSED);
    assert_int_equal(wait_child(pid), 1000 + SIGKILL);

    /* The object the dead peer held is still intact here. */
    cm_vmo_info_t info;
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    cm_handle_close(v);
    cm_handle_close(ch);
}

static int sleeping_child(cm_handle_t ch)
{
    (void)ch;
    pause(); /* until killed by the parent, or by alarm() */
    return 1;
}

static void test_peer_killed_while_we_wait_wakes_the_waiter(void **state)
{
    (void)state;
    cm_handle_t ch;
    pid_t pid = spawn(sleeping_child, &ch);
    assert_status(cm_channel_wait_readable(ch, 0), CM_ERR_TIMED_OUT);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_status(cm_channel_wait_readable(ch, WAIT_NS), CM_ERR_PEER_CLOSED);
    assert_int_equal(wait_child(pid), 1000 + SIGKILL);
    cm_handle_close(ch);
}

int main(void)
{
    uint8_t warm[32];
    alarm(600);
    sha256("", 0, warm); /* OpenSSL's one-time setup, outside the leak checks */
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_sealed_vmo_hashes_the_same_in_another_process),
        LEAK_TEST(test_ro_mapping_enforced),
        LEAK_TEST(test_unsealed_vmo_is_one_memory_in_both_processes),
        LEAK_TEST(test_peer_process_death_is_peer_closed_not_a_hang),
        LEAK_TEST(test_peer_killed_while_we_wait_wakes_the_waiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
