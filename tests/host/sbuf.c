/* SPDX-License-Identifier: MIT */
/* SharedBuffer on host, in one process (and forked children only where a
 * fault must be observed): the real implementation, not the core rules
 * (those are tests/host/core_sbuf_*.c). Every test runs under the leak
 * check: no fd, mapping or handle outlives it. */
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/sbuf.h>
#include "common/child.h"
#include "common/fd_limit.h"
#include "common/leakcheck.h"
#include "common/pagemap.h"
#include "common/threads.h"
#include "../../host/sbuf_internal.h"

#define SEC (1000000000ll)

static cm_sbuf_config_t cfg_of(uint32_t slots, uint32_t size, uint32_t consumers, uint32_t held,
                               uint32_t loans, uint32_t policy)
{
    return (cm_sbuf_config_t){ slots, size, consumers, held, loans, policy, 0, 0 };
}

static void fill(void *p, uint32_t len, uint64_t seq)
{
    uint8_t *b = p;
    for (uint32_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seq * 131u + i * 7u);
}

static int filled(const void *p, uint32_t len, uint64_t seq)
{
    const uint8_t *b = p;
    for (uint32_t i = 0; i < len; i++)
        if (b[i] != (uint8_t)(seq * 131u + i * 7u))
            return 0;
    return 1;
}

static uint64_t publish_one(cm_handle_t buf, uint32_t len)
{
    cm_sbuf_loan_t l;
    uint64_t seq;
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_OK);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    fill(l.data, len, info.next_seq);
    assert_status(cm_sbuf_publish(buf, l.id, len, &seq), CM_OK);
    assert_true(seq == info.next_seq);
    return seq;
}

static void test_messages_arrive_in_order_across_ring_wraparound(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(3, 200, 1, 2, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    for (uint64_t i = 0; i < 100; i++) {
        uint32_t len = (uint32_t)(i * 37 % 201);
        uint64_t seq = publish_one(buf, len);
        assert_true(seq == i);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
        assert_true(m.seq == i);
        assert_int_equal(m.len, len);
        assert_true(m.dropped == 0);
        assert_true(filled(m.data, len, i));
        assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    }
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 3);
    assert_true(info.consumers[0].received == 100 && info.consumers[0].released == 100);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* A SharedBuffer is a pool: every page of its data area is in place when
 * create and consumer_create return (MAP_POPULATE on both mappings), so
 * the first use of each slot takes no page fault, whichever slot the
 * loan order reaches first. Without it: one fault per page per side
 * (here 2 x 128). */
static void test_data_area_populated_no_fault_on_first_use_of_any_slot(void **state)
{
    (void)state;
    enum { SLOTS = 8, SIZE = 64 * 1024 };
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(SLOTS, SIZE, 1, SLOTS, SLOTS, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    cm_sbuf_loan_t l[SLOTS];
    cm_sbuf_msg_t m[SLOTS];
    struct rusage r0, r1;
    assert_int_equal(getrusage(RUSAGE_SELF, &r0), 0);
    for (int i = 0; i < SLOTS; i++) {
        assert_status(cm_sbuf_loan(buf, 0, 0, &l[i]), CM_OK);
        memset(l[i].data, 0x5a + i, SIZE);
    }
    for (int i = 0; i < SLOTS; i++)
        assert_status(cm_sbuf_publish(buf, l[i].id, SIZE, NULL), CM_OK);
    uint64_t sum = 0;
    long unmapped = 0;
    for (int i = 0; i < SLOTS; i++) {
        assert_status(cm_sbuf_receive(con, 0, 0, &m[i]), CM_OK);
        unmapped += pages_not_mapped(m[i].data, SIZE);
        const volatile uint8_t *p = m[i].data;
        for (uint32_t k = 0; k < SIZE; k += 512)
            sum += p[k];
    }
    assert_int_equal(getrusage(RUSAGE_SELF, &r1), 0);
    long faults = r1.ru_minflt - r0.ru_minflt + (r1.ru_majflt - r0.ru_majflt);
    for (int i = 0; i < SLOTS; i++)
        assert_status(cm_sbuf_release(con, m[i].seq), CM_OK);
    uint64_t want = 0;
    for (int i = 0; i < SLOTS; i++)
        want += (uint64_t)(SIZE / 512) * (uint8_t)(0x5a + i);
    assert_true(sum == want);
    /* Without populate the producer's writes alone fault 8 x 16 = 128
     * times (measured: 138 with the consumer's reads, which fault around).
     * Populated: 0 here, 32 under ASan (the first touch of its shadow of
     * the two mappings, 2 pages per slot per side). */
    if (faults >= 64)
        fail_msg("%ld page faults on the first use of %d populated slots", faults, SLOTS);
    /* The consumer's half, which the count cannot show: without its own
     * populate its reads fault once per 64 KiB (fault-around), 8 here,
     * under any threshold the producer's 128 cross. Its received slots
     * are mapped in this process before it reads them. */
    if (unmapped != 0)
        fail_msg("%ld pages of the received slots not mapped before the first read",
                 unmapped);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* The pool's pages are allocated by cm_sbuf_create and
 * cm_sbuf_consumer_create (fallocate): when Linux refuses them (here a
 * seccomp filter makes fallocate ENOMEM, as strict overcommit makes it
 * ENOSPC), the call is NO_MEMORY and leaves no fd or mapping behind,
 * instead of a buffer whose first touch of a page that could not be had
 * would be a SIGBUS. The filter refuses fallocate of one fd number: the
 * area's memfd takes the lowest free one, the next area the one after. */
static int refuse_fallocate_of(int fd)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fallocate, 0, 3),
        /* the low word of the fd argument (little-endian hosts) */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)fd, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMEM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* The fd numbers the next two fds opened will take. */
static void next_two_fds(int *first, int *second)
{
    *first = dup(2);
    *second = dup(2);
    close(*first);
    close(*second);
}

/* Which area's fallocate is refused: 0 the data area (at cm_sbuf_create),
 * 1 a producer area, 2 a consumer area (at cm_sbuf_consumer_create, in
 * that order). */
static int no_fallocate_child(void *arg)
{
    int area = *(const int *)arg;
    cm_sbuf_config_t cfg = cfg_of(4, 65536, 1, 4, 4, CM_SBUF_BLOCK);
    cm_handle_t buf, con;
    int fds = count_open_fds(), maps = count_maps(), first, second;
    cm_status_t st = CM_OK;
    if (area > 0 && (st = cm_sbuf_create(&cfg, &buf)) != CM_OK)
        return 2;
    next_two_fds(&first, &second);
    if (first < 0 || second < 0 || !refuse_fallocate_of(area == 2 ? second : first))
        return 3;
    if (area == 0) {
        st = cm_sbuf_create(&cfg, &buf);
    } else {
        st = cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con);
        if (cm_handle_close(buf) != CM_OK)
            return 4;
    }
    if (st != CM_ERR_NO_MEMORY) {
        fprintf(stderr, "child: area %d without memory: %s\n", area, cm_status_name(st));
        return 5;
    }
    if (count_open_fds() != fds || count_maps() != maps) {
        fprintf(stderr, "child: area %d without memory left %d fds, %d mappings\n", area,
                count_open_fds() - fds, count_maps() - maps);
        return 6;
    }
    return 0;
}

static void test_create_without_memory_for_the_pool_is_no_memory(void **state)
{
    (void)state;
    for (int area = 0; area < 3; area++)
        assert_child_ok(in_child(no_fallocate_child, &area));
}

/* A create interrupted by signals still finishes: here a seccomp filter
 * makes every fallocate of more than 64 KiB EINTR, as kernels before 2024
 * do to any call that a periodic signal (a profiler's timer) lands in.
 * Retrying the whole area hangs (the child's alarm ends it); pieces that
 * halve on EINTR finish. */
static int interrupted_fallocate_child(void *arg)
{
    (void)arg;
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fallocate, 0, 5),
        /* the high and low words of the length (little-endian hosts) */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3]) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 64 * 1024, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINTR),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 2;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(16, 256 * 1024, 1, 1, 1, CM_SBUF_BLOCK);
    cm_status_t st = cm_sbuf_create(&cfg, &buf);
    if (st == CM_OK) {
        st = cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con);
        if (st == CM_OK && cm_handle_close(con) != CM_OK)
            return 3;
        if (cm_handle_close(buf) != CM_OK)
            return 4;
    }
    if (st != CM_OK) {
        fprintf(stderr, "child: create under interrupted fallocate: %s\n", cm_status_name(st));
        return 5;
    }
    /* And the pieces add up: an area of an odd length has its size and
     * every block of it. */
    uint64_t size = (5ull << 20) + 3 * 4096;
    int fd;
    struct stat sb;
    if (cm__sbuf_memfd("pieces", size, &fd) != CM_OK || fstat(fd, &sb) != 0)
        return 6;
    close(fd);
    if ((uint64_t)sb.st_size != size || (uint64_t)sb.st_blocks != size / 512) {
        fprintf(stderr, "child: %llu bytes, %lld blocks\n", (unsigned long long)sb.st_size,
                (long long)sb.st_blocks);
        return 7;
    }
    return 0;
}

static void test_create_finishes_when_every_long_fallocate_is_interrupted(void **state)
{
    (void)state;
    assert_child_ok(in_child_alarm(interrupted_fallocate_child, NULL, 5));
}

static void test_full_pool_waits_and_empty_ring_times_out(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, 2, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    assert_status(cm_sbuf_receive(con, 0, SEC / 50, &m), CM_ERR_TIMED_OUT);
    assert_status(cm_sbuf_receive(con, CM_SBUF_BUSY_POLL, SEC / 100, &m), CM_ERR_TIMED_OUT);
    publish_one(buf, 10);
    publish_one(buf, 10);
    cm_sbuf_loan_t l;
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_ERR_SHOULD_WAIT);
    assert_status(cm_sbuf_loan(buf, 0, SEC / 50, &l), CM_ERR_TIMED_OUT);
    assert_status(cm_sbuf_loan(buf, CM_SBUF_BUSY_POLL, SEC / 100, &l), CM_ERR_TIMED_OUT);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 0);
    assert_int_equal(info.consumers[0].pending, 2); /* the culprit is named */
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_ERR_SHOULD_WAIT); /* held, not free */
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_OK);
    assert_status(cm_sbuf_cancel(buf, l.id), CM_OK);
    assert_status(cm_sbuf_cancel(buf, l.id), CM_ERR_BAD_HANDLE);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void test_each_limit_has_its_typed_error(void **state)
{
    (void)state;
    cm_handle_t buf, con, c2;
    cm_sbuf_config_t cfg = cfg_of(CM_SBUF_MAX_SLOTS + 1, 64, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_ERR_OUT_OF_RANGE);
    cfg = cfg_of(4, CM_SBUF_MAX_SLOT_SIZE + 1, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_ERR_OUT_OF_RANGE);
    cfg = cfg_of(4, 64, CM_SBUF_MAX_CONSUMERS + 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_ERR_OUT_OF_RANGE);
    cfg = cfg_of(CM_SBUF_MAX_LOANS + 1, 64, 1, 1, CM_SBUF_MAX_LOANS + 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_ERR_OUT_OF_RANGE);
    cfg = cfg_of(17, CM_SBUF_MAX_SLOT_SIZE, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_ERR_OUT_OF_RANGE);
    cfg = cfg_of(4, 64, 2, 2, 1, CM_SBUF_DROP_OLDEST); /* 4 < 2*2+1 */
    assert_status(cm_sbuf_create(&cfg, &buf), CM_ERR_INVALID_ARGS);
    assert_status(cm_sbuf_create(NULL, &buf), CM_ERR_INVALID_ARGS);

    cfg = cfg_of(4, 64, 1, 1, 2, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    cm_sbuf_loan_t l1, l2, l3;
    assert_status(cm_sbuf_loan(buf, 0, 0, &l1), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 0, &l2), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 0, &l3), CM_ERR_NO_RESOURCES); /* max_loans */
    assert_status(cm_sbuf_publish(buf, l1.id, 65, NULL), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &c2), CM_ERR_NO_RESOURCES);
    assert_status(cm_sbuf_publish(buf, l1.id, 64, NULL), CM_OK);
    assert_status(cm_sbuf_publish(buf, l2.id, 1, NULL), CM_OK);
    cm_sbuf_msg_t m, m2;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_receive(con, 0, 0, &m2), CM_ERR_NO_RESOURCES); /* max_held */
    assert_status(cm_sbuf_release(con, m.seq + 5), CM_ERR_BAD_STATE);
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_sbuf_release(con, m.seq), CM_ERR_BAD_STATE);
    uint8_t small[1];
    assert_status(cm_sbuf_receive_copy(con, 0, 0, small, 0, &m2), CM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(m2.len, 1);
    assert_status(cm_sbuf_receive_copy(con, 0, 0, small, 1, &m2), CM_OK);
    assert_null(m2.data);
    assert_status(cm_sbuf_receive(con, 4, 0, &m2), CM_ERR_INVALID_ARGS);
    assert_status(cm_sbuf_receive(con, 0, -5, &m2), CM_ERR_INVALID_ARGS);
    assert_status(cm_sbuf_receive(buf, 0, 0, &m2), CM_ERR_WRONG_TYPE);
    assert_status(cm_sbuf_loan(con, 0, 0, &l3), CM_ERR_WRONG_TYPE);
    assert_status(cm_handle_close(con), CM_OK);
    /* A consumer without MAP only takes copies; a buffer without READ mints none. */
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHT_READ, &con), CM_OK);
    assert_status(cm_sbuf_receive(con, 0, 0, &m2), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_close(con), CM_OK);
    cm_handle_t wo;
    assert_status(cm_handle_duplicate(buf, CM_RIGHT_WRITE, &wo), CM_OK);
    assert_status(cm_sbuf_consumer_create(wo, CM_RIGHTS_SAME, &con), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_close(wo), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void test_fanout_slot_returns_after_last_release_and_late_joiner(void **state)
{
    (void)state;
    cm_handle_t buf, a, b, late;
    cm_sbuf_config_t cfg = cfg_of(1, 64, 3, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &a), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &b), CM_OK);
    uint64_t s0 = publish_one(buf, 8);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &late), CM_OK);
    cm_sbuf_msg_t m;
    cm_sbuf_loan_t l;
    assert_status(cm_sbuf_receive(late, 0, 0, &m), CM_ERR_SHOULD_WAIT); /* nothing older */
    assert_status(cm_sbuf_receive(a, 0, 0, &m), CM_OK);
    assert_status(cm_sbuf_release(a, m.seq), CM_OK);
    assert_status(cm_sbuf_loan(buf, 0, 0, &l), CM_ERR_SHOULD_WAIT); /* b still has it */
    assert_status(cm_sbuf_receive(b, 0, 0, &m), CM_OK);
    assert_true(m.seq == s0 && filled(m.data, 8, s0));
    assert_status(cm_sbuf_release(b, m.seq), CM_OK);
    uint64_t s1 = publish_one(buf, 8);
    assert_status(cm_sbuf_receive(late, 0, 0, &m), CM_OK);
    assert_true(m.seq == s1);
    /* Leaving with a held and a pending message gives both back. */
    assert_status(cm_handle_close(late), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.free, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(info.consumers[i].state, CM_SBUF_CONSUMER_ABSENT);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void test_drop_oldest_takes_back_and_reports_gap(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(3, 64, 1, 1, 1, CM_SBUF_DROP_OLDEST);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    for (int i = 0; i < 7; i++)
        publish_one(buf, 16); /* never waits */
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_true(m.seq == 4 && m.dropped == 4 && filled(m.data, 16, 4));
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_true(m.seq == 5 && m.dropped == 0);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_true(info.consumers[0].dropped == 4);
    assert_status(cm_sbuf_get_info(con, &info), CM_OK);
    assert_true(info.self == 0 && info.consumers[0].dropped == 4 && info.consumers[0].held == 1);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

struct waker {
    struct test_thread t;
    cm_handle_t h;
    cm_status_t st;
    cm_sbuf_msg_t m;
    cm_sbuf_loan_t l;
};

static void receive_main(void *arg)
{
    struct waker *w = arg;
    w->st = cm_sbuf_receive(w->h, 0, 10 * SEC, &w->m);
}

static void loan_main(void *arg)
{
    struct waker *w = arg;
    w->st = cm_sbuf_loan(w->h, 0, 10 * SEC, &w->l);
}

static void test_blocked_receive_and_loan_are_woken(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(1, 64, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct waker w = { .h = con };
    thread_start(&w.t, receive_main, &w);
    await_blocked(&w.t);
    uint64_t s = publish_one(buf, 20);
    thread_join(&w.t);
    assert_status(w.st, CM_OK);
    assert_true(w.m.seq == s && filled(w.m.data, 20, s));
    struct waker p = { .h = buf };
    thread_start(&p.t, loan_main, &p);
    await_blocked(&p.t);
    assert_status(cm_sbuf_release(con, s), CM_OK);
    thread_join(&p.t);
    assert_status(p.st, CM_OK);
    assert_status(cm_sbuf_cancel(buf, p.l.id), CM_OK);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

struct ro_arg {
    volatile uint8_t *p;
};

static int write_received(void *arg)
{
    struct ro_arg *a = arg;
    a->p[0] = 1;
    return 0;
}

static void test_consumer_mapping_is_read_only(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 4096, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    publish_one(buf, 100);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    struct ro_arg a = { (volatile uint8_t *)m.data };
    assert_int_equal(in_child(write_received, &a), 1000 + SIGSEGV);
    /* Nor can it be made writable: mprotect, a writable shared mapping of
     * the same file, or a writable reopen through /proc. */
    uintptr_t page = (uintptr_t)m.data & ~(uintptr_t)4095;
    assert_int_not_equal(mprotect((void *)page, 4096, PROT_READ | PROT_WRITE), 0);
    char path[128];
    snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)page,
             (unsigned long)page + 2 * 4096);
    int fd = open(path, O_RDWR);
    if (fd >= 0) {
        assert_int_equal(pwrite(fd, "x", 1, 0), -1);
        void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        assert_true(w == MAP_FAILED);
        close(fd);
    }
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0); /* the path names the data file: the reopen above was real */
    char rfd[64];
    snprintf(rfd, sizeof(rfd), "/proc/self/fd/%d", fd);
    int fd2 = open(rfd, O_RDWR);
    if (fd2 >= 0) {
        assert_int_equal(pwrite(fd2, "x", 1, 0), -1);
        close(fd2);
    }
    close(fd);
    assert_true(filled(m.data, 100, m.seq));
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* The consumer's own area, as a hostile consumer would reach it. */
static struct cm__sbuf_consumer *consumer_obj(cm_handle_t h)
{
    struct cm__hobj *obj;
    assert_status(cm__handle_get(h, CM_OBJ_SBUF_CONSUMER, 0, &obj, NULL), CM_OK);
    cm__hobj_put(obj); /* the handle keeps it alive */
    return (struct cm__sbuf_consumer *)obj;
}

static void test_garbage_in_release_ring_evicts_only_that_consumer(void **state)
{
    (void)state;
    cm_handle_t buf, bad, good;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 2, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &bad), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &good), CM_OK);
    publish_one(buf, 8);
    cm_sbuf_msg_t m, g;
    assert_status(cm_sbuf_receive(bad, 0, 0, &m), CM_OK);
    struct cm__sbuf_consumer *c = consumer_obj(bad);
    uint64_t t = c->cons->rel_tail;
    struct cm_sbuf_rel *e = &cm__sbuf_rel_ring(c->cons)[cm__sbuf_cell(t, c->lay.ring_size)];
    e->seq = m.seq + 77; /* a forged sequence number */
    e->slot = 0;
    e->reserved = 0;
    __atomic_store_n(&c->cons->rel_tail, t + 1, __ATOMIC_RELEASE);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
    assert_int_equal(info.consumers[1].state, CM_SBUF_CONSUMER_ACTIVE);
    assert_status(cm_sbuf_receive(bad, 0, 0, &m), CM_ERR_PEER_CLOSED);
    assert_status(cm_sbuf_get_info(bad, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
    /* The other consumer goes on, and so does the producer. */
    for (int i = 0; i < 5; i++) {
        assert_status(cm_sbuf_receive(good, 0, 0, &g), CM_OK);
        assert_status(cm_sbuf_release(good, g.seq), CM_OK);
        publish_one(buf, 8);
    }
    assert_status(cm_handle_close(bad), CM_OK);
    assert_status(cm_handle_close(good), CM_OK);
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    assert_status(cm_handle_close(buf), CM_OK);
}

static void test_closed_producer_is_peer_closed_after_last_message(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, 2, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    uint64_t s = publish_one(buf, 30);
    assert_status(cm_handle_close(buf), CM_OK);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_true(m.seq == s && filled(m.data, 30, s));
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_ERR_PEER_CLOSED);
    assert_status(cm_sbuf_receive(con, 0, CM_TIMEOUT_INFINITE, &m), CM_ERR_PEER_CLOSED);
    assert_status(cm_sbuf_release(con, s), CM_OK);
    assert_status(cm_handle_close(con), CM_OK);
}

/* Forged indices in the consumer's own area: a release index far ahead, a
 * read index moved backwards (BLOCK: the producer checks floor <= read). */
static void test_forged_indices_evict_only_that_consumer(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        cm_handle_t buf, bad, good;
        cm_sbuf_config_t cfg = cfg_of(2, 64, 2, 1, 1, CM_SBUF_BLOCK);
        assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &bad), CM_OK);
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &good), CM_OK);
        publish_one(buf, 8);
        cm_sbuf_msg_t m;
        assert_status(cm_sbuf_receive(bad, 0, 0, &m), CM_OK);
        struct cm__sbuf_consumer *c = consumer_obj(bad);
        cm_sbuf_info_t info;
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK); /* floor = read = 1 */
        if (variant == 0)
            __atomic_store_n(&c->cons->rel_tail, c->cons->rel_tail + 1000, __ATOMIC_RELEASE);
        else
            __atomic_store_n(&c->cons->read, c->cons->read - 1, __ATOMIC_RELEASE);
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
        assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_EVICTED);
        assert_int_equal(info.consumers[1].state, CM_SBUF_CONSUMER_ACTIVE);
        assert_int_equal(info.consumers[1].pending, 1);
        assert_status(cm_sbuf_receive(good, 0, 0, &m), CM_OK);
        assert_status(cm_sbuf_release(good, m.seq), CM_OK);
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
        assert_int_equal(info.free, 2); /* the evicted consumer's hold was reclaimed */
        assert_status(cm_handle_close(bad), CM_OK);
        assert_status(cm_handle_close(good), CM_OK);
        assert_status(cm_handle_close(buf), CM_OK);
    }
}

/* Every fd count short of what create (data memfd, epoll, eventfd: 3) and
 * consumer_create (two area memfds, a socketpair, the consumer's copy of
 * the data memfd: 5 at once) need is
 * NO_RESOURCES with nothing left behind; with enough, both succeed. */
static void test_fd_exhaustion_is_no_resources_and_leaks_nothing(void **state)
{
    (void)state;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, 1, 1, CM_SBUF_BLOCK);
    cm_handle_t buf, con;
    int before = count_open_fds();
    for (int spare = 0; spare < 3; spare++) {
        assert_int_equal(leave_fds(spare), 0);
        cm_status_t st = cm_sbuf_create(&cfg, &buf);
        assert_int_equal(restore_fds(), 0);
        assert_status(st, CM_ERR_NO_RESOURCES);
        assert_int_equal(count_open_fds(), before);
    }
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    int with_buf = count_open_fds();
    for (int spare = 0; spare < 5; spare++) {
        assert_int_equal(leave_fds(spare), 0);
        cm_status_t st = cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con);
        assert_int_equal(restore_fds(), 0);
        assert_status(st, CM_ERR_NO_RESOURCES);
        assert_int_equal(count_open_fds(), with_buf);
        cm_sbuf_info_t info;
        assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
        assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ABSENT);
    }
    assert_int_equal(leave_fds(5), 0);
    cm_status_t st = cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con);
    assert_int_equal(restore_fds(), 0);
    assert_status(st, CM_OK);
    publish_one(buf, 3);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* The producer role never leaves its process: the buffer handle has no
 * TRANSFER (ACCESS_DENIED, and consumed as every listed handle is), and a
 * duplicate cannot gain it. Consumers travel: tests/host/sbuf_transfer.c. */
static void test_buffer_handle_cannot_be_sent(void **state)
{
    (void)state;
    cm_handle_t buf, e0, e1;
    cm_sbuf_config_t cfg = cfg_of(2, 64, 1, 1, 1, CM_SBUF_BLOCK);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    cm_handle_t dup;
    assert_status(cm_handle_duplicate(buf, CM_SBUF_DEFAULT_RIGHTS | CM_RIGHT_TRANSFER, &dup),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_handle_duplicate(buf, CM_RIGHTS_SAME, &dup), CM_OK);
    assert_status(cm_channel_create(0, &e0, &e1), CM_OK);
    assert_status(cm_channel_write(e0, "x", 1, &dup, 1), CM_ERR_ACCESS_DENIED);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(dup, &info), CM_ERR_BAD_HANDLE); /* consumed */
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_status(cm_handle_close(e0), CM_OK);
    assert_status(cm_handle_close(e1), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

/* A peer that sends wake-ups as fast as they are read cannot hold the
 * side that drains them (under its lock): one drain reads at most
 * CM__SBUF_DRAIN_MAX packets, what is left stays for the next look, and a
 * hang-up behind the flood is still seen. */
static void test_drain_is_bounded_and_still_sees_the_hang_up_behind_a_flood(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    const uint32_t n = 3 * CM__SBUF_DRAIN_MAX;
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(send(sv[1], "x", 1, 0), 1);
    close(sv[1]);
    for (uint32_t i = 0; i < n / CM__SBUF_DRAIN_MAX; i++)
        assert_int_equal(cm__sbuf_drain(sv[0]), 0);
    assert_int_equal(cm__sbuf_drain(sv[0]), 1);
    close(sv[0]);
}

/* A hostile producer writing garbage into one consumer's producer area
 * (the test writes it through the producer's own mapping): a tail far
 * ahead, a tail going backwards, a slot out of range, a length past the
 * slot, a sequence jump under BLOCK, a rel_head ahead of rel_tail. Each is
 * PROTOCOL for that consumer, for zero-copy and copying receives alike,
 * and stays PROTOCOL; nothing crashes, and the other consumer, whose area
 * is its own, receives normally. */
static void test_hostile_producer_words_are_protocol_for_that_consumer_only(void **state)
{
    (void)state;
    for (int variant = 0; variant < 6; variant++) {
        cm_handle_t buf, vic, other;
        cm_sbuf_config_t cfg = cfg_of(4, 64, 2, 2, 1, CM_SBUF_BLOCK);
        assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &vic), CM_OK);
        assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &other), CM_OK);
        struct cm__hobj *obj;
        assert_status(cm__handle_get(buf, CM_OBJ_SBUF, 0, &obj, NULL), CM_OK);
        struct cm__sbuf *b = (struct cm__sbuf *)obj;
        struct cm_sbuf_prod_ctl *p = b->links[0].prod;
        cm_sbuf_msg_t m;
        publish_one(buf, 8);
        if (variant == 5) {
            assert_status(cm_sbuf_receive(vic, 0, 0, &m), CM_OK);
            __atomic_store_n(&p->rel_head, p->rel_head + 5, __ATOMIC_RELEASE);
            assert_status(cm_sbuf_release(vic, m.seq), CM_ERR_PROTOCOL);
        } else {
            struct cm_sbuf_desc *d = &cm__sbuf_ring(p)[cm__sbuf_cell(p->tail - 1,
                                                                     b->lay.ring_size)];
            if (variant == 0)
                __atomic_store_n(&p->tail, p->tail + 1000, __ATOMIC_RELEASE);
            else if (variant == 1)
                __atomic_store_n(&p->tail, p->tail - 2, __ATOMIC_RELEASE);
            else if (variant == 2)
                d->slot = 4;
            else if (variant == 3)
                d->len = 65;
            else
                d->seq += 1;
            char copy[64];
            assert_status(cm_sbuf_receive_copy(vic, 0, 0, copy, sizeof(copy), &m),
                          CM_ERR_PROTOCOL);
            assert_status(cm_sbuf_receive(vic, 0, 0, &m), CM_ERR_PROTOCOL);
        }
        assert_status(cm_sbuf_receive(vic, 0, SEC / 100, &m), CM_ERR_PROTOCOL);
        assert_status(cm_sbuf_release(vic, 1), CM_ERR_PROTOCOL);
        assert_status(cm_sbuf_receive(other, 0, 0, &m), CM_OK);
        assert_true(filled(m.data, 8, m.seq));
        assert_status(cm_sbuf_release(other, m.seq), CM_OK);
        cm__hobj_put(obj);
        assert_status(cm_handle_close(vic), CM_OK);
        assert_status(cm_handle_close(other), CM_OK);
        assert_status(cm_handle_close(buf), CM_OK);
    }
}

/* A consumer that says it sleeps (cons_waiting stays 1) and never reads
 * its socket: the producer kicks on every publish, the socket fills after
 * a few hundred, and publish still never blocks (kicks are non-blocking:
 * a full socket already has a wake-up pending). 5000 publishes under
 * DROP_OLDEST all succeed; the consumer then sees the newest messages with
 * the gap counted. */
static void test_consumer_never_reading_its_socket_cannot_block_publish(void **state)
{
    (void)state;
    cm_handle_t buf, con;
    cm_sbuf_config_t cfg = cfg_of(3, 64, 1, 1, 1, CM_SBUF_DROP_OLDEST);
    assert_status(cm_sbuf_create(&cfg, &buf), CM_OK);
    assert_status(cm_sbuf_consumer_create(buf, CM_RIGHTS_SAME, &con), CM_OK);
    struct cm__sbuf_consumer *c = consumer_obj(con);
    __atomic_store_n(&c->cons->cons_waiting, 1u, __ATOMIC_RELEASE);
    for (int i = 0; i < 5000; i++)
        publish_one(buf, 8);
    cm_sbuf_info_t info;
    assert_status(cm_sbuf_get_info(buf, &info), CM_OK);
    assert_int_equal(info.consumers[0].state, CM_SBUF_CONSUMER_ACTIVE);
    assert_int_equal(info.consumers[0].pending + info.consumers[0].dropped, 5000);
    cm_sbuf_msg_t m;
    assert_status(cm_sbuf_receive(con, 0, 0, &m), CM_OK);
    assert_true(m.dropped == info.consumers[0].dropped);
    assert_true(filled(m.data, 8, m.seq));
    assert_status(cm_sbuf_release(con, m.seq), CM_OK);
    assert_status(cm_handle_close(con), CM_OK);
    assert_status(cm_handle_close(buf), CM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_messages_arrive_in_order_across_ring_wraparound),
        LEAK_TEST(test_data_area_populated_no_fault_on_first_use_of_any_slot),
        LEAK_TEST(test_create_without_memory_for_the_pool_is_no_memory),
        LEAK_TEST(test_create_finishes_when_every_long_fallocate_is_interrupted),
        LEAK_TEST(test_full_pool_waits_and_empty_ring_times_out),
        LEAK_TEST(test_each_limit_has_its_typed_error),
        LEAK_TEST(test_fanout_slot_returns_after_last_release_and_late_joiner),
        LEAK_TEST(test_drop_oldest_takes_back_and_reports_gap),
        LEAK_TEST(test_blocked_receive_and_loan_are_woken),
        LEAK_TEST(test_consumer_mapping_is_read_only),
        LEAK_TEST(test_garbage_in_release_ring_evicts_only_that_consumer),
        LEAK_TEST(test_forged_indices_evict_only_that_consumer),
        LEAK_TEST(test_fd_exhaustion_is_no_resources_and_leaks_nothing),
        LEAK_TEST(test_buffer_handle_cannot_be_sent),
        LEAK_TEST(test_closed_producer_is_peer_closed_after_last_message),
        LEAK_TEST(test_drain_is_bounded_and_still_sees_the_hang_up_behind_a_flood),
        LEAK_TEST(test_hostile_producer_words_are_protocol_for_that_consumer_only),
        LEAK_TEST(test_consumer_never_reading_its_socket_cannot_block_publish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
