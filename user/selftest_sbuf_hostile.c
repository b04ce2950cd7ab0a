/* SPDX-License-Identifier: MIT */
/* Kernel selftests of the SharedBuffer against a hostile process: raw
 * system calls with bad arguments, consumers without MAP asking for slots
 * they were never given, memory that vanishes under a sleeping call, the
 * pools exhausted, processes killed mid-loan (docs/sbuf.md "Kernel target",
 * "Hostile processes"). The runner checks the kernel's counters around
 * each test: whatever a test leaves behind fails it. */
#include <string.h>

#include <capmem/sbuf.h>

#include "cmk.h"
#include "sbuf_ring.h"
#include "selftest.h"
#include "sys.h"

#define SEC (1000ll * 1000 * 1000)
#define KERNEL_VA 0x80200000ull

static cm_sbuf_config_t cfg(uint32_t slots, uint32_t consumers)
{
    cm_sbuf_config_t c = { slots, 256, consumers, slots, slots < 4 ? slots : 4, CM_SBUF_BLOCK,
                           0, 0 };
    return c;
}

static cm_status_t raw_loan(cm_handle_t b, int64_t timeout, cmk_sbuf_loan_out_t *out)
{
    return (cm_status_t)CMK_SYS4(CMK_SYS_SBUF_LOAN, b, 0, timeout, out);
}

static cm_status_t raw_copy(cm_handle_t k, uint64_t seq, uint64_t slot, void *buf, uint64_t len)
{
    return (cm_status_t)CMK_SYS5(CMK_SYS_SBUF_COPY, k, seq, slot, buf, len);
}

static cm_status_t raw_attach(cm_handle_t h, cmk_sbuf_attach_t *at)
{
    return (cm_status_t)CMK_SYS2(CMK_SYS_SBUF_ATTACH, h, at);
}

/* Loans, fills with `tag` through the producer mapping and publishes. */
static int send(cm_handle_t b, uint8_t tag, uint32_t len, uint64_t *seq, uint32_t *slot)
{
    cm_sbuf_loan_t l;
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    memset(l.data, tag, len);
    *slot = (uint32_t)l.id - 1; /* core/sbuf_own.h: id = gen << 32 | slot + 1 */
    CHECK_ST(cm_sbuf_publish(b, l.id, len, seq), CM_OK);
    return 0;
}

/* Rule: without MAP a consumer gets copies only of messages delivered to
 * it and not released, before and after the producer's death. Before the
 * fix, once the producer was gone sbuf_copy checked only the slot range:
 * the late joiner read a message published before its join, and the slot
 * the producer was filling when it left. */
int test_sbuf_copy_without_map_only_delivered_messages_after_producer_death(void)
{
    cm_handle_t b, early, late;
    uint64_t seq0, seq1;
    uint32_t slot0, slot1;
    uint8_t buf[256];
    cm_sbuf_msg_t m;
    cm_sbuf_config_t c = cfg(4, 2);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &early), CM_OK);
    CHECK(send(b, 0xaa, 100, &seq0, &slot0) == 0); /* to `early` only */
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHT_READ, &late), CM_OK);
    CHECK(send(b, 0xcc, 50, &seq1, &slot1) == 0); /* to both */
    cm_sbuf_loan_t secret;
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &secret), CM_OK);
    memset(secret.data, 0xbb, 256);
    const uint32_t secret_slot = (uint32_t)secret.id - 1;
    /* While the producer lives: refused. */
    CHECK_ST(raw_copy(late, seq0, slot0, buf, 100), CM_ERR_BAD_STATE);
    CHECK_ST(raw_copy(late, seq1 + 1, secret_slot, buf, 1), CM_ERR_BAD_STATE);
    CHECK_ST(cm_handle_close(b), CM_OK); /* dies holding the loan */
    memset(buf, 0, sizeof(buf));
    CHECK_ST(raw_copy(late, seq0, slot0, buf, 100), CM_ERR_BAD_STATE);
    for (uint64_t s = 0; s < 4; s++)
        CHECK_ST(raw_copy(late, s, secret_slot, buf, 256), CM_ERR_BAD_STATE);
    /* Not received yet: not held, not copied. */
    CHECK_ST(raw_copy(late, seq1, slot1, buf, 50), CM_ERR_BAD_STATE);
    CHECK(buf[0] == 0 && buf[99] == 0);
    /* What was delivered to it still drains, then PEER_CLOSED. */
    CHECK_ST(cm_sbuf_receive_copy(late, 0, 0, buf, sizeof(buf), &m), CM_OK);
    CHECK(m.seq == seq1 && m.len == 50 && buf[0] == 0xcc && buf[49] == 0xcc);
    /* Released: no second copy. */
    CHECK_ST(raw_copy(late, seq1, slot1, buf, 50), CM_ERR_BAD_STATE);
    CHECK_ST(cm_sbuf_receive_copy(late, 0, 0, buf, sizeof(buf), &m), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_sbuf_receive(early, 0, 0, &m), CM_OK);
    CHECK(m.seq == seq0 && ((const uint8_t *)m.data)[99] == 0xaa);
    /* The bookkeeping lives while a consumer does, then its pool entry is
     * free again: four new buffers fit. */
    CHECK_ST(cm_handle_close(early), CM_OK);
    CHECK_ST(cm_handle_close(late), CM_OK);
    cm_handle_t bs[4];
    c = cfg(1, 1);
    for (uint32_t i = 0; i < 4; i++)
        CHECK_ST(cm_sbuf_create(&c, &bs[i]), CM_OK);
    for (uint32_t i = 0; i < 4; i++)
        CHECK_ST(cm_handle_close(bs[i]), CM_OK);
    return 0;
}

/* Child: spins 20 ms (the parent is asleep in a loan by then) and exits,
 * closing the consumer it was given: the consumer object dies and removes
 * its mappings from the parent. */
int child_sbuf_spin_then_exit(void)
{
    uint64_t t0 = now_ticks();
    while (now_ticks() - t0 < 20 * TICKS_PER_MS)
        ;
    return 0;
}

/* Rule: user memory probed before a sleep may be gone after it. A loan
 * asleep with its out pointer in a consumer area is woken by that
 * consumer's death, which also unmaps the area: before the fix, the
 * kernel's copyout failed and it panicked. Now INVALID_ARGS, and the loan
 * is undone (no slot leaks as LOANED). */
int test_sbuf_loan_out_pointer_unmapped_during_sleep_is_invalid_args(void)
{
    cm_handle_t b, k;
    cmk_sbuf_attach_t at;
    cmk_sbuf_loan_out_t out;
    uint64_t seq;
    uint32_t slot;
    cm_sbuf_config_t c = cfg(1, 1);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(raw_attach(k, &at), CM_OK);
    CHECK(send(b, 1, 8, &seq, &slot) == 0);
    CHECK_ST(raw_loan(b, 0, &out), CM_ERR_SHOULD_WAIT);
    const char *args[1] = { "child_sbuf_spin_then_exit" };
    int32_t pid = cmk_spawn("selftest", args, 1, &k, 1, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    void *in_area = (void *)(uintptr_t)(at.cons + 128);
    CHECK_ST(raw_loan(b, 5 * SEC, in_area), CM_ERR_INVALID_ARGS);
    cmk_exit_info_t info;
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    cm_sbuf_info_t bi;
    CHECK_ST(cm_sbuf_get_info(b, &bi), CM_OK);
    CHECK(bi.free == 1 && bi.loaned == 0);
    CHECK_ST(raw_loan(b, 0, &out), CM_OK);
    CHECK_ST(cm_sbuf_cancel(b, out.id), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

/* Every SharedBuffer and word call with hostile arguments: NULL, kernel
 * and unaligned pointers, read-only destinations, huge lengths and slot
 * indices, stale and foreign loan ids, a consumer used as a buffer and
 * the reverse, handles of other types and no handle at all. Each gets a
 * typed error and changes nothing (the counters, the pool). */
int test_sbuf_raw_syscalls_with_hostile_arguments(void)
{
    cm_handle_t b, b2, k, v, h;
    cmk_sbuf_attach_t at;
    cmk_sbuf_loan_out_t out, out2;
    cm_sbuf_info_t info;
    uint64_t seq;
    uint8_t buf[512];
    cm_sbuf_config_t c = cfg(2, 1);
    CHECK_ST(cm_vmo_create(PAGE, 0, &v), CM_OK);
    /* create */
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, 0, &h), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, KERNEL_VA, &h), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, &c, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, &c, KERNEL_VA), CM_ERR_INVALID_ARGS);
    cm_sbuf_config_t bad = c;
    bad.slot_size = UINT32_MAX;
    CHECK((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, &bad, &h) < 0);
    bad = c;
    bad.slot_count = 0;
    CHECK((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, &bad, &h) < 0);
    bad = c;
    bad.reserved = 1;
    CHECK((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CREATE, &bad, &h) < 0);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &b2), CM_OK);
    /* consumer_create */
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b, 0x7fffffffu, &h),
             CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b, CM_RIGHTS_SAME, KERNEL_VA),
             CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, v, CM_RIGHTS_SAME, &h),
             CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, 0x12345678u, CM_RIGHTS_SAME, &h),
             CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, k, CM_RIGHTS_SAME, &h),
             CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b, CM_RIGHTS_SAME, &h),
             CM_ERR_NO_RESOURCES); /* max_consumers 1 */
    CHECK_ST(raw_attach(k, &at), CM_OK);
    /* loan */
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_LOAN, b, 0x80, 0, &out), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_loan(b, 0, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_loan(b, 0, (void *)(uintptr_t)KERNEL_VA), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_loan(b, 0, (void *)(uintptr_t)at.prod), CM_ERR_INVALID_ARGS); /* read-only */
    CHECK_ST(raw_loan(b, -5, &out), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_loan(k, 0, &out), CM_ERR_WRONG_TYPE);
    CHECK_ST(raw_loan(v, 0, &out), CM_ERR_WRONG_TYPE);
    CHECK_ST(raw_loan(b, 0, (void *)((uintptr_t)buf + 1)), CM_OK); /* unaligned is fine */
    memcpy(&out, buf + 1, sizeof(out));
    CHECK_ST(raw_loan(b2, 0, &out2), CM_OK);
    /* publish */
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out.id, 8, KERNEL_VA),
             CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out.id, 1ull << 40, &seq),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out.id, 257, &seq),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out2.id, 8, &seq), CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out.id ^ (1ull << 32), 8, &seq),
             CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, 0, 8, &seq), CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, k, out.id, 8, &seq), CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out.id, 8, &seq), CM_OK);
    CHECK_ST((cm_status_t)CMK_SYS4(CMK_SYS_SBUF_PUBLISH, b, out.id, 8, &seq), CM_ERR_BAD_HANDLE);
    /* cancel */
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CANCEL, b, out.id), CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CANCEL, b, out2.id), CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CANCEL, k, out2.id), CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_CANCEL, b2, out2.id), CM_OK);
    /* get_info (the kernel serves buffers only) */
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_GET_INFO, b, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_GET_INFO, b, KERNEL_VA), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_GET_INFO, b, at.prod), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_SBUF_GET_INFO, k, &info), CM_ERR_WRONG_TYPE);
    /* attach */
    CHECK_ST(raw_attach(v, &at), CM_ERR_WRONG_TYPE);
    CHECK_ST(raw_attach(0x12345678u, &at), CM_ERR_BAD_HANDLE);
    CHECK_ST(raw_attach(b, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_attach(k, (cmk_sbuf_attach_t *)(uintptr_t)KERNEL_VA), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_attach(k, (cmk_sbuf_attach_t *)(uintptr_t)at.prod), CM_ERR_INVALID_ARGS);
    cmk_sbuf_attach_t at2;
    CHECK_ST(raw_attach(k, &at2), CM_OK); /* twice: the same mappings */
    CHECK(at2.prod == at.prod && at2.cons == at.cons && at2.data == at.data);
    /* copy */
    cm_sbuf_msg_t m;
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK_ST(raw_copy(b, m.seq, 0, buf, 8), CM_ERR_WRONG_TYPE);
    CHECK_ST(raw_copy(v, m.seq, 0, buf, 8), CM_ERR_WRONG_TYPE);
    CHECK_ST(raw_copy(k, m.seq, 1ull << 40, buf, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq, 2, buf, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq, 0, buf, 257), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq, 0, buf, UINT64_MAX), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq, 0, (void *)(uintptr_t)KERNEL_VA, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq, 0, (void *)(uintptr_t)at.data, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq, 0, (void *)(uintptr_t)(UINT64_MAX - 3), 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(raw_copy(k, m.seq + 1, 0, buf, 8), CM_ERR_BAD_STATE);
    CHECK_ST(raw_copy(k, m.seq, 0, buf, 9), CM_ERR_BAD_STATE); /* past its len */
    CHECK_ST(raw_copy(k, m.seq, 0, buf + 1, 8), CM_OK);
    CHECK_ST(cm_sbuf_release(k, m.seq), CM_OK);
    CHECK_ST(raw_copy(k, m.seq, 0, buf, 8), CM_ERR_BAD_STATE);
    /* kick */
    CHECK_ST((cm_status_t)CMK_SYS1(CMK_SYS_SBUF_KICK, b), CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)CMK_SYS1(CMK_SYS_SBUF_KICK, v), CM_ERR_WRONG_TYPE);
    CHECK_ST((cm_status_t)CMK_SYS1(CMK_SYS_SBUF_KICK, k), CM_OK);
    /* word wait / wake */
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_WORD_WAIT, 0, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_WORD_WAIT, KERNEL_VA, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_WORD_WAIT, at.prod + 2, 0, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_WORD_WAIT, at.prod, 1ull << 32, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_WORD_WAIT, buf, 0, 0), CM_ERR_INVALID_ARGS); /* stack */
    CHECK_ST((cm_status_t)CMK_SYS2(CMK_SYS_WORD_WAKE, KERNEL_VA, 1), CM_ERR_INVALID_ARGS);
    /* A wake on a read-only mapping is allowed and only spurious: a waiter
     * re-checks its word. */
    CHECK((int64_t)CMK_SYS2(CMK_SYS_WORD_WAKE, at.prod, UINT64_MAX) == 0);
    /* Nothing changed the bookkeeping. */
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.free == 2 && info.loaned == 0 && info.consumers[0].state == CM_SBUF_CONSUMER_ACTIVE);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_handle_close(b2), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* 32 consumer objects kernel-wide: the 33rd is NO_RESOURCES, and the
 * refused call leaves no frame and no object behind. Raw calls: the
 * runtime's cache of 32 handles is not what is measured. */
int test_sbuf_consumer_pool_exhaustion_is_no_resources(void)
{
    cm_handle_t b[3], k[33];
    cmk_counters_t before, after;
    cm_sbuf_config_t c = cfg(2, 16);
    for (uint32_t i = 0; i < 3; i++)
        CHECK_ST(cm_sbuf_create(&c, &b[i]), CM_OK);
    for (uint32_t i = 0; i < 32; i++)
        CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b[i / 16], CM_RIGHTS_SAME,
                                       &k[i]),
                 CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b[2], CM_RIGHTS_SAME, &k[32]),
             CM_ERR_NO_RESOURCES);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(before.free_frames == after.free_frames && before.live_objects == after.live_objects);
    /* A freed entry is taken again. */
    CHECK_ST(cm_handle_close(k[0]), CM_OK);
    CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b[2], CM_RIGHTS_SAME, &k[0]),
             CM_OK);
    for (uint32_t i = 0; i < 32; i++)
        CHECK_ST(cm_handle_close(k[i]), CM_OK);
    for (uint32_t i = 0; i < 3; i++)
        CHECK_ST(cm_handle_close(b[i]), CM_OK);
    return 0;
}

/* A producer with two consumers of its own, killed by a fault at `step`:
 * 0 mid-loan, 1 after a publish received and held by one consumer, 2 with
 * every slot held and a consumer evicted for garbage in its area. */
static int die_at_step(uint32_t step)
{
    cm_handle_t b, k[2];
    cm_sbuf_config_t c = cfg(4, 2);
    cm_sbuf_loan_t l;
    cm_sbuf_msg_t m;
    uint64_t seq;
    uint32_t slot;
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k[0]), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHT_READ, &k[1]), CM_OK);
    if (step >= 1) {
        CHECK(send(b, 1, 8, &seq, &slot) == 0);
        CHECK_ST(cm_sbuf_receive(k[0], 0, 0, &m), CM_OK);
    }
    if (step >= 2) {
        for (uint8_t i = 0; i < 3; i++)
            CHECK(send(b, i, 8, &seq, &slot) == 0);
        cmk_sbuf_attach_t at;
        CHECK_ST(raw_attach(k[1], &at), CM_OK);
        ((struct cm_sbuf_cons_ctl *)(uintptr_t)at.cons)->read = UINT64_MAX;
        cm_sbuf_info_t info;
        CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
        CHECK(info.consumers[1].state == CM_SBUF_CONSUMER_EVICTED);
    }
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), step >= 2 ? CM_ERR_SHOULD_WAIT : CM_OK);
    volatile uintptr_t nowhere = 0; /* unmapped */
    *(volatile uint32_t *)nowhere = 0;
    return 3;
}

int child_sbuf_die_mid_loan(void)
{
    return die_at_step(0);
}

int child_sbuf_die_holding(void)
{
    return die_at_step(1);
}

int child_sbuf_die_after_eviction(void)
{
    return die_at_step(2);
}

/* A producer killed at each step (mid-loan, holding published slots, with
 * an evicted consumer) leaves nothing: frames and objects are back where
 * they were before it was spawned, processes included. */
int test_sbuf_producer_killed_at_each_step_leaves_nothing(void)
{
    static const char *const names[3] = { "child_sbuf_die_mid_loan", "child_sbuf_die_holding",
                                          "child_sbuf_die_after_eviction" };
    for (uint32_t step = 0; step < 3; step++) {
        const char *args[1] = { names[step] };
        cmk_counters_t before, after;
        cmk_exit_info_t info;
        CHECK_ST(cmk_counters(&before), CM_OK);
        int32_t pid = cmk_spawn("selftest", args, 1, NULL, 0, CMK_ROLE_MAIN);
        CHECK(pid > 0);
        CHECK_ST(cmk_wait(pid, &info), CM_OK);
        if (info.reason != CMK_EXIT_FAULTED)
            printf("# step %u: child ended: reason %u code %d\n", step, info.reason, info.code);
        CHECK(info.reason == CMK_EXIT_FAULTED && info.code == 15);
        CHECK_ST(cmk_counters(&after), CM_OK);
        CHECK(before.free_frames == after.free_frames && before.live_objects == after.live_objects &&
              before.live_procs == after.live_procs);
    }
    return 0;
}

/* Whether this process maps the word at va (a wake on an address no
 * mapping covers is INVALID_ARGS; on a mapped one it wakes nobody here). */
static int mapped(uint64_t va)
{
    return (int64_t)CMK_SYS2(CMK_SYS_WORD_WAKE, va, 0) == 0;
}

/* Rule: access leaves with the handle. A process that replaced its
 * consumer handle without MAP kept reading the data through the mapping
 * made for the old one; one that sent the consumer away kept reading and
 * writing its areas (and the producer kept a writable data mapping after
 * dropping WRITE) until somebody attached elsewhere. Now each mapping goes
 * at the end of the call that took the right away. */
int test_sbuf_mappings_revoked_when_handle_leaves_or_loses_right(void)
{
    cm_handle_t b, b2, k, k2, k3, dup, ch, peer;
    cmk_sbuf_attach_t at, atb, at3;
    cm_sbuf_msg_t m;
    uint64_t seq;
    uint32_t slot, nb, nh;
    char bytes[64];
    cm_sbuf_config_t c = cfg(2, 1);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(raw_attach(k, &at), CM_OK);
    CHECK_ST(raw_attach(b, &atb), CM_OK);
    CHECK(mapped(at.data) && mapped(at.prod) && mapped(at.cons) && mapped(atb.data));
    /* Replaced with the same rights: the new handle has every right. */
    CHECK_ST(cm_handle_replace(k, CM_RIGHTS_SAME, &dup), CM_OK);
    k = dup;
    CHECK(mapped(at.data) && mapped(at.prod) && mapped(at.cons));
    /* MAP dropped: the data goes, the areas stay. */
    CHECK_ST(cm_handle_replace(k, CM_RIGHT_READ | CM_RIGHT_TRANSFER, &k2), CM_OK);
    CHECK(!mapped(at.data) && mapped(at.prod) && mapped(at.cons));
    /* Sent away (in flight on our own channel, held by no process): the
     * areas go. The bytes of that very message come from the area. */
    CHECK_ST(cm_channel_create(0, &ch, &peer), CM_OK);
    CHECK_ST(cm_channel_write(ch, (const void *)(uintptr_t)at.cons, 64, &k2, 1), CM_OK);
    CHECK(!mapped(at.prod) && !mapped(at.cons));
    /* The old handle is gone for every call: attach, release, copy, kick. */
    CHECK_ST(raw_attach(k2, &at3), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_sbuf_release(k2, 0), CM_ERR_BAD_HANDLE);
    CHECK_ST(raw_copy(k2, 0, 0, bytes, 1), CM_ERR_BAD_HANDLE);
    CHECK_ST((cm_status_t)CMK_SYS1(CMK_SYS_SBUF_KICK, k2), CM_ERR_BAD_HANDLE);
    /* Back here: attached afresh, it works. */
    CHECK_ST(cm_channel_read(peer, bytes, sizeof(bytes), &nb, &k3, 1, &nh), CM_OK);
    CHECK(nb == 64 && nh == 1);
    CHECK(send(b, 0x42, 16, &seq, &slot) == 0);
    uint8_t buf[16];
    CHECK_ST(cm_sbuf_receive_copy(k3, 0, 0, buf, sizeof(buf), &m), CM_OK);
    CHECK(m.seq == seq && buf[15] == 0x42);
    CHECK_ST(raw_attach(k3, &at3), CM_OK);
    CHECK(at3.data == 0 && mapped(at3.prod));
    /* The buffer without WRITE: its data mapping goes. */
    CHECK_ST(cm_handle_replace(b, CM_RIGHT_READ, &b2), CM_OK);
    CHECK(!mapped(atb.data));
    CHECK_ST(cm_handle_close(k3), CM_OK);
    CHECK(!mapped(at3.prod));
    CHECK_ST(cm_handle_close(b2), CM_OK);
    CHECK_ST(cm_handle_close(ch), CM_OK);
    CHECK_ST(cm_handle_close(peer), CM_OK);
    return 0;
}

/* Garbage a consumer may legally write into its own area, one kind per
 * round; `held` says what it received before (0: nothing). */
static void forge(struct cm_sbuf_cons_ctl *k, uint32_t kind, uint64_t seq0, uint32_t slot0)
{
    struct cm_sbuf_rel *ring = (struct cm_sbuf_rel *)(k + 1);
    switch (kind) {
    case 0: k->read += 3; break;                  /* past the tail */
    case 1: k->read = UINT64_MAX; break;          /* far past, wrapping */
    case 2: k->rel_tail += 1; ring[0] = (struct cm_sbuf_rel){ seq0, 0xffffu, 0 }; break;
    case 3: k->rel_tail += 1; ring[0] = (struct cm_sbuf_rel){ seq0, slot0, 7 }; break;
    case 4: k->rel_tail += 1; ring[0] = (struct cm_sbuf_rel){ seq0 + 100, slot0, 0 }; break;
    case 5: k->rel_tail += 1; ring[0] = (struct cm_sbuf_rel){ seq0, slot0, 0 }; break; /* never received */
    case 6: k->rel_tail -= 1; break;              /* backwards */
    case 7: k->read += 2; break;                  /* two held, max_held 1: hoarding */
    default: k->read -= 1; break;                 /* backwards after a reap */
    }
}

/* Rule: everything a consumer writes is hostile input for the kernel. Each
 * kind of garbage in a consumer's own area evicts that consumer only: no
 * kernel fault, the other consumer's messages intact, the buffer usable. */
int test_sbuf_consumer_area_garbage_of_each_kind_evicts_only_it(void)
{
    for (uint32_t kind = 0; kind < 9; kind++) {
        cm_handle_t b, bad, good;
        cmk_sbuf_attach_t at;
        cm_sbuf_info_t info;
        cm_sbuf_msg_t m;
        uint64_t seq[2];
        uint32_t slot[2];
        cm_sbuf_config_t c = { 4, 256, 2, 1, 2, CM_SBUF_BLOCK, 0, 0 };
        CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
        CHECK_ST((cm_status_t)CMK_SYS3(CMK_SYS_SBUF_CONSUMER_CREATE, b, CM_RIGHTS_SAME, &bad),
                 CM_OK);
        CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &good), CM_OK);
        CHECK_ST(raw_attach(bad, &at), CM_OK);
        struct cm_sbuf_cons_ctl *k = (struct cm_sbuf_cons_ctl *)(uintptr_t)at.cons;
        for (uint32_t i = 0; i < 2; i++)
            CHECK(send(b, (uint8_t)(0x60 + i), 32, &seq[i], &slot[i]) == 0);
        if (kind == 8) {
            k->read += 1; /* an honest receive, accounted by the reap below */
            CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
            CHECK(info.consumers[0].state == CM_SBUF_CONSUMER_ACTIVE);
        }
        forge(k, kind, seq[0], slot[0]);
        CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
        if (info.consumers[0].state != CM_SBUF_CONSUMER_EVICTED)
            printf("# kind %u: not evicted\n", kind);
        CHECK(info.consumers[0].state == CM_SBUF_CONSUMER_EVICTED && info.consumers[0].held == 0);
        CHECK(info.consumers[1].state == CM_SBUF_CONSUMER_ACTIVE && info.consumers[1].pending == 2);
        CHECK_ST(raw_copy(bad, seq[0], slot[0], &m, 1), CM_ERR_PEER_CLOSED);
        for (uint32_t i = 0; i < 2; i++) {
            CHECK_ST(cm_sbuf_receive(good, 0, 0, &m), CM_OK);
            CHECK(m.seq == seq[i] && m.len == 32 && ((const uint8_t *)m.data)[31] == 0x60 + i);
            CHECK_ST(cm_sbuf_release(good, m.seq), CM_OK);
        }
        CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
        CHECK(info.free == 4);
        CHECK_ST(cm_handle_close(bad), CM_OK);
        CHECK_ST(cm_handle_close(good), CM_OK);
        CHECK_ST(cm_handle_close(b), CM_OK);
    }
    return 0;
}

/* The bookkeeping of a buffer whose producer left stays while a consumer
 * does: its pool entry is not free (a fifth buffer is NO_RESOURCES, with
 * nothing left of the refused create), and is free again when the last
 * consumer leaves. */
int test_sbuf_buffer_pool_entry_kept_until_last_consumer_leaves(void)
{
    cm_handle_t b[4], k, extra;
    cmk_counters_t before, after;
    cm_sbuf_config_t c = cfg(1, 1);
    CHECK_ST(cm_sbuf_create(&c, &b[0]), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b[0], CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_handle_close(b[0]), CM_OK);
    for (uint32_t i = 1; i < 4; i++)
        CHECK_ST(cm_sbuf_create(&c, &b[i]), CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &extra), CM_ERR_NO_RESOURCES);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(before.free_frames == after.free_frames && before.live_objects == after.live_objects);
    CHECK_ST(cm_handle_close(k), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &extra), CM_OK);
    CHECK_ST(cm_handle_close(extra), CM_OK);
    for (uint32_t i = 1; i < 4; i++)
        CHECK_ST(cm_handle_close(b[i]), CM_OK);
    return 0;
}
