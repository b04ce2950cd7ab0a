/* SPDX-License-Identifier: MIT */
/* Kernel selftests of the SharedBuffer across processes (docs/sbuf.md
 * "Kernel target"): page-table enforcement of the consumer's read-only
 * mapping, death of either side, consumer handles travelling as start-up
 * handles and over channels with rights that only shrink, object waits. */
#include <string.h>

#include <capmem/sbuf.h>

#include "cmk.h"
#include "sbuf_ring.h"
#include "selftest.h"
#include "sys.h"

#define SEC (1000ll * 1000 * 1000)

static cm_sbuf_config_t cfg(uint32_t slots, uint32_t held, uint32_t consumers)
{
    cm_sbuf_config_t c = { slots, 256, consumers, held, slots < 4 ? slots : 4, CM_SBUF_BLOCK, 0, 0 };
    return c;
}

static int publish(cm_handle_t b, uint8_t tag, uint32_t len, int64_t timeout)
{
    cm_sbuf_loan_t l;
    uint64_t seq;
    CHECK_ST(cm_sbuf_loan(b, 0, timeout, &l), CM_OK);
    memset(l.data, tag, len);
    CHECK_ST(cm_sbuf_publish(b, l.id, len, &seq), CM_OK);
    return 0;
}

static int spawn_with(const char *what, const cm_handle_t *hs, uint32_t n, int32_t *pid)
{
    const char *args[1] = { what };
    *pid = cmk_spawn("selftest", args, 1, hs, n, CMK_ROLE_MAIN);
    CHECK(*pid > 0);
    return 0;
}

static int wait_exit(int32_t pid, uint32_t reason, int32_t code)
{
    cmk_exit_info_t info;
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    if (info.reason != reason || (reason == CMK_EXIT_NORMAL && info.code != code))
        printf("# child ended: reason %u code %d\n", info.reason, info.code);
    CHECK(info.reason == reason);
    if (reason == CMK_EXIT_NORMAL)
        CHECK(info.code == code);
    else
        CHECK(info.code == 15); /* store/AMO page fault */
    return 0;
}

/* Child: receives every message it can (holding them), tells the parent
 * over handle 1 how many, then writes into the read-only data mapping:
 * killed by a store page fault, holding its slots. */
int child_sbuf_hold_then_write(void)
{
    cm_handle_t k = cmk_startup_handle(0), ch = cmk_startup_handle(1);
    cm_sbuf_msg_t m, first;
    uint32_t n = 0;
    CHECK_ST(cm_sbuf_receive(k, 0, 5 * SEC, &first), CM_OK);
    n++;
    while (cm_sbuf_receive(k, 0, 0, &m) == CM_OK)
        n++;
    CHECK_ST(cm_channel_write(ch, &n, sizeof(n), NULL, 0), CM_OK);
    *(volatile uint8_t *)first.data = 0xee;
    return 3; /* not reached: the store faults */
}

/* The consumer's data mapping is read-only by page table: its write kills
 * it (the parent reads the fault), the bytes are intact, and the
 * producer's own mapping stays writable. */
int test_sbuf_consumer_write_to_data_faults(void)
{
    cm_handle_t b, k, ch, peer;
    int32_t pid;
    uint32_t n, nb, nh;
    cm_sbuf_config_t c = cfg(2, 2, 1);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_channel_create(0, &ch, &peer), CM_OK);
    CHECK(publish(b, 0x5a, 200, 0) == 0);
    cm_handle_t hs[2] = { k, peer };
    CHECK(spawn_with("child_sbuf_hold_then_write", hs, 2, &pid) == 0);
    CHECK(wait_exit(pid, CMK_EXIT_FAULTED, 0) == 0);
    CHECK_ST(cm_channel_read(ch, &n, sizeof(n), &nb, NULL, 0, &nh), CM_OK);
    CHECK(n == 1);
    /* The dead consumer's slot came back; its bytes are what we wrote. */
    cm_sbuf_info_t info;
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.free == 2 && info.consumers[0].state == CM_SBUF_CONSUMER_ABSENT);
    cm_sbuf_loan_t l;
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_OK);
    CHECK(((uint8_t *)l.data)[0] == 0x5a && ((uint8_t *)l.data)[199] == 0x5a);
    ((uint8_t *)l.data)[0] = 1; /* the producer's mapping is writable */
    CHECK_ST(cm_sbuf_cancel(b, l.id), CM_OK);
    cm_handle_close(ch);
    cm_handle_close(b);
    return 0;
}

/* A BLOCK loan asleep on a full pool is woken when the consumer holding
 * every slot is killed: its slots are reclaimed at its death. */
int test_sbuf_killed_consumer_slots_reclaimed_and_loan_woken(void)
{
    cm_handle_t b, k, ch, peer;
    int32_t pid;
    uint32_t n, nb, nh;
    cm_signals_t obs;
    cm_sbuf_loan_t l;
    cm_sbuf_config_t c = cfg(3, 3, 1);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_channel_create(0, &ch, &peer), CM_OK);
    for (uint8_t i = 0; i < 3; i++)
        CHECK(publish(b, i, 8, 0) == 0);
    CHECK_ST(cm_sbuf_loan(b, 0, 0, &l), CM_ERR_SHOULD_WAIT);
    cm_handle_t hs[2] = { k, peer };
    CHECK(spawn_with("child_sbuf_hold_then_write", hs, 2, &pid) == 0);
    CHECK_ST(cm_object_wait_one(ch, CM_SIGNAL_READABLE, 5 * SEC, &obs), CM_OK);
    CHECK_ST(cm_channel_read(ch, &n, sizeof(n), &nb, NULL, 0, &nh), CM_OK);
    CHECK(n == 3);
    uint64_t t0 = now_ticks();
    CHECK_ST(cm_sbuf_loan(b, 0, 5 * SEC, &l), CM_OK); /* the child's death wakes it */
    CHECK(now_ticks() - t0 < 4000 * TICKS_PER_MS);
    CHECK_ST(cm_sbuf_cancel(b, l.id), CM_OK);
    CHECK(wait_exit(pid, CMK_EXIT_FAULTED, 0) == 0);
    cm_sbuf_info_t info;
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.free == 3 && info.published == 0);
    cm_handle_close(ch);
    cm_handle_close(b);
    return 0;
}

/* Child: the producer. Creates a buffer and a consumer, sends the
 * consumer over the channel (handle 0), publishes three messages, waits
 * for the parent's go, then dies by a fault. */
int child_sbuf_producer_dies(void)
{
    cm_handle_t ch = cmk_startup_handle(0), b, k;
    cm_sbuf_config_t c = cfg(4, 4, 1);
    cm_signals_t obs;
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_channel_write(ch, "k", 1, &k, 1), CM_OK);
    for (uint8_t i = 0; i < 3; i++)
        CHECK(publish(b, (uint8_t)(0x10 + i), 100 + i, 0) == 0);
    CHECK_ST(cm_object_wait_one(ch, CM_SIGNAL_READABLE, 5 * SEC, &obs), CM_OK);
    volatile uint32_t *nowhere = (volatile uint32_t *)(uintptr_t)cmk_role(); /* 0: unmapped */
    *nowhere = 0;
    return 3;
}

/* The producer process is killed: the consumer (received over a channel)
 * still gets every published message, then PEER_CLOSED; a receive blocked
 * before the death is woken by it. */
int test_sbuf_producer_killed_consumer_drains_then_peer_closed(void)
{
    cm_handle_t ch, peer, k;
    int32_t pid;
    char tag[2];
    uint32_t nb, nh;
    cm_signals_t obs;
    cm_sbuf_msg_t m;
    CHECK_ST(cm_channel_create(0, &ch, &peer), CM_OK);
    CHECK(spawn_with("child_sbuf_producer_dies", &peer, 1, &pid) == 0);
    CHECK_ST(cm_object_wait_one(ch, CM_SIGNAL_READABLE, 5 * SEC, &obs), CM_OK);
    CHECK_ST(cm_channel_read(ch, tag, sizeof(tag), &nb, &k, 1, &nh), CM_OK);
    CHECK(nh == 1);
    cm_handle_info_t hi;
    CHECK_ST(cm_handle_get_info(k, &hi), CM_OK);
    CHECK(hi.type == CM_OBJ_SBUF_CONSUMER && hi.rights == CM_SBUF_CONSUMER_DEFAULT_RIGHTS);
    for (uint32_t i = 0; i < 3; i++) {
        CHECK_ST(cm_sbuf_receive(k, 0, 5 * SEC, &m), CM_OK);
        CHECK(m.len == 100 + i && ((const uint8_t *)m.data)[m.len - 1] == 0x10 + i);
        CHECK_ST(cm_sbuf_release(k, m.seq), CM_OK);
    }
    /* Nothing more now; the producer still lives. */
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_ERR_SHOULD_WAIT);
    CHECK_ST(cm_channel_write(ch, "go", 2, NULL, 0), CM_OK);
    /* Asleep in the receive until the death wakes it. */
    CHECK_ST(cm_sbuf_receive(k, 0, 5 * SEC, &m), CM_ERR_PEER_CLOSED);
    CHECK(wait_exit(pid, CMK_EXIT_FAULTED, 0) == 0);
    CHECK_ST(cm_object_wait_one(k, CM_SIGNAL_PEER_CLOSED, 0, &obs), CM_OK);
    CHECK(obs == CM_SIGNAL_PEER_CLOSED);
    cm_handle_close(k);
    cm_handle_close(ch);
    return 0;
}

/* Child: consumer handle 0 arrives over channel handle 1 with READ and
 * TRANSFER only: zero-copy receive is ACCESS_DENIED, copies work. Exit
 * code = messages copied. */
int child_sbuf_copy_only(void)
{
    cm_handle_t ch = cmk_startup_handle(0), k;
    cm_signals_t obs;
    uint32_t nb, nh;
    char b[1];
    uint8_t buf[256];
    cm_sbuf_msg_t m;
    CHECK_ST(cm_object_wait_one(ch, CM_SIGNAL_READABLE, 5 * SEC, &obs), CM_OK);
    CHECK_ST(cm_channel_read(ch, b, 1, &nb, &k, 1, &nh), CM_OK);
    cm_handle_info_t hi;
    CHECK_ST(cm_handle_get_info(k, &hi), CM_OK);
    CHECK(hi.rights == (CM_RIGHT_READ | CM_RIGHT_TRANSFER));
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_ERR_ACCESS_DENIED);
    int n = 0;
    cm_status_t st;
    while ((st = cm_sbuf_receive_copy(k, 0, 10 * SEC, buf, sizeof(buf), &m)) == CM_OK) {
        CHECK(m.data == NULL && m.len == 50 && buf[0] == 0x33 && buf[49] == 0x33);
        n++;
    }
    CHECK_ST(st, CM_ERR_PEER_CLOSED);
    return 10 + n;
}

/* Handles across processes: the buffer (no TRANSFER) cannot leave; a
 * consumer goes over a channel with rights shrunk, and the receiver's
 * handle carries exactly them. Also the object waits: the consumer in the
 * child is woken by publishes here, the producer's WRITABLE by its
 * releases there. */
int test_sbuf_consumer_handle_travels_rights_only_shrink(void)
{
    cm_handle_t b, k, k2, dup, ch, peer;
    int32_t pid;
    cm_sbuf_config_t c = cfg(2, 1, 1);
    cm_signals_t obs;
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_channel_create(0, &ch, &peer), CM_OK);
    CHECK_ST(cm_handle_duplicate(b, CM_RIGHTS_SAME, &dup), CM_OK);
    CHECK_ST(cm_channel_write(ch, "b", 1, &dup, 1), CM_ERR_ACCESS_DENIED);
    CHECK(cmk_spawn("selftest", (const char *const[]){ "child_sbuf_copy_only" }, 1, &b, 1,
                    CMK_ROLE_MAIN) == CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_handle_replace(k, CM_RIGHT_READ | CM_RIGHT_TRANSFER, &k2), CM_OK);
    CHECK_ST(cm_handle_replace(k2, CM_RIGHT_READ | CM_RIGHT_MAP, &k), CM_ERR_INVALID_ARGS);
    CHECK(spawn_with("child_sbuf_copy_only", &peer, 1, &pid) == 0);
    CHECK_ST(cm_channel_write(ch, "k", 1, &k2, 1), CM_OK);
    CHECK_ST(cm_object_wait_one(b, CM_SIGNAL_WRITABLE, 0, &obs), CM_OK);
    for (int i = 0; i < 6; i++) {
        /* Full pool: WRITABLE comes back only by the child's releases. */
        CHECK_ST(cm_object_wait_one(b, CM_SIGNAL_WRITABLE, 5 * SEC, &obs), CM_OK);
        CHECK(publish(b, 0x33, 50, 0) == 0);
    }
    CHECK_ST(cm_handle_close(b), CM_OK); /* the child drains, then PEER_CLOSED */
    CHECK(wait_exit(pid, CMK_EXIT_NORMAL, 16) == 0);
    cm_handle_close(ch);
    return 0;
}

/* Signals on one process: WRITABLE while a slot is free, READABLE while a
 * message waits, PEER_CLOSED once the producer left (READABLE until
 * drained). A VMO still is WRONG_TYPE. */
int test_sbuf_object_signals(void)
{
    cm_handle_t b, k;
    cm_signals_t obs;
    cm_sbuf_msg_t m;
    cm_sbuf_config_t c = cfg(1, 1, 1);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k), CM_OK);
    CHECK_ST(cm_object_wait_one(b, CM_SIGNAL_WRITABLE, 0, &obs), CM_OK);
    CHECK(obs == CM_SIGNAL_WRITABLE);
    CHECK_ST(cm_object_wait_one(k, CM_SIGNAL_READABLE, 0, &obs), CM_ERR_TIMED_OUT);
    CHECK(obs == 0);
    CHECK(publish(b, 1, 1, 0) == 0);
    CHECK_ST(cm_object_wait_one(b, CM_SIGNAL_WRITABLE, 1000000, &obs), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_object_wait_one(k, CM_SIGNAL_READABLE, 0, &obs), CM_OK);
    CHECK(obs == CM_SIGNAL_READABLE);
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK_ST(cm_sbuf_release(k, m.seq), CM_OK);
    CHECK_ST(cm_object_wait_one(b, CM_SIGNAL_WRITABLE, 0, &obs), CM_OK);
    CHECK(publish(b, 2, 1, 0) == 0);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_object_wait_one(k, CM_SIGNAL_PEER_CLOSED, 0, &obs), CM_OK);
    CHECK(obs == (CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED));
    CHECK_ST(cm_sbuf_receive(k, 0, 0, &m), CM_OK);
    CHECK_ST(cm_object_wait_one(k, CM_SIGNAL_READABLE | CM_SIGNAL_PEER_CLOSED, 0, &obs), CM_OK);
    CHECK(obs == CM_SIGNAL_PEER_CLOSED);
    cm_handle_close(k);
    return 0;
}

/* Kernel objects are a fixed pool: the fifth live buffer is NO_RESOURCES,
 * and nothing is left of the refused create. */
int test_sbuf_pool_exhaustion_is_no_resources(void)
{
    cm_handle_t b[5];
    cm_sbuf_config_t c = cfg(1, 1, 1);
    cmk_counters_t before, after;
    for (uint32_t i = 0; i < 4; i++)
        CHECK_ST(cm_sbuf_create(&c, &b[i]), CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &b[4]), CM_ERR_NO_RESOURCES);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(before.free_frames == after.free_frames && before.live_objects == after.live_objects);
    for (uint32_t i = 0; i < 4; i++)
        CHECK_ST(cm_handle_close(b[i]), CM_OK);
    CHECK_ST(cm_sbuf_create(&c, &b[0]), CM_OK);
    CHECK_ST(cm_handle_close(b[0]), CM_OK);
    return 0;
}

/* A consumer that writes garbage into its own consumer area (a release
 * index far past its ring, then a forged release entry) is evicted: the
 * kernel keeps going, its slots come back, it sees PEER_CLOSED, and
 * another consumer is not affected. */
int test_sbuf_hostile_consumer_area_evicts_only_it(void)
{
    cm_handle_t b, bad, good;
    cm_sbuf_msg_t m;
    cm_sbuf_info_t info;
    cmk_sbuf_attach_t at;
    cm_sbuf_config_t c = cfg(2, 2, 2);
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &bad), CM_OK);
    CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &good), CM_OK);
    CHECK(publish(b, 7, 4, 0) == 0);
    CHECK_ST(cm_sbuf_receive(bad, 0, 0, &m), CM_OK);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_SBUF_ATTACH, bad, (uint64_t)(uintptr_t)&at, 0, 0,
                                       0, 0, 0),
             CM_OK);
    struct cm_sbuf_cons_ctl *k = (struct cm_sbuf_cons_ctl *)(uintptr_t)at.cons;
    k->rel_tail += 1000; /* far past its ring */
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.consumers[0].state == CM_SBUF_CONSUMER_EVICTED && info.consumers[0].held == 0);
    CHECK(info.consumers[1].state == CM_SBUF_CONSUMER_ACTIVE && info.consumers[1].pending == 1);
    CHECK_ST(cm_sbuf_receive(bad, 0, 0, &m), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_sbuf_get_info(bad, &info), CM_OK);
    CHECK(info.consumers[info.self].state == CM_SBUF_CONSUMER_EVICTED);
    CHECK_ST(cm_sbuf_receive(good, 0, 0, &m), CM_OK);
    CHECK(((const uint8_t *)m.data)[0] == 7);
    CHECK_ST(cm_sbuf_release(good, m.seq), CM_OK);
    CHECK(publish(b, 8, 4, 0) == 0);
    CHECK(publish(b, 9, 4, 0) == 0);
    CHECK_ST(cm_handle_close(bad), CM_OK);
    CHECK_ST(cm_handle_close(good), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

#define STREAM_N 3000u
#define STREAM_SLOT 4096u

static uint32_t stream_len(uint64_t i)
{
    return 1u + (uint32_t)((i * 2654435761u) % STREAM_SLOT);
}

/* Child: consumer handle 0; receives until PEER_CLOSED, checking each
 * message's bytes against its sequence number (BLOCK: no gaps; DROP_OLDEST:
 * gaps counted in `dropped` exactly). Flag argument via role: 1 = busy
 * poll. Exit 0 only if every message 0..N-1 was received or counted
 * dropped, in order, intact. */
int child_sbuf_stream_consumer(void)
{
    cm_handle_t k = cmk_startup_handle(0);
    const uint32_t flags = cmk_role() == CMK_ROLE_SECOND ? CM_SBUF_BUSY_POLL : 0;
    uint64_t next = 0, got = 0, dropped = 0;
    cm_sbuf_msg_t m;
    cm_status_t st;
    while ((st = cm_sbuf_receive(k, flags, 10 * SEC, &m)) == CM_OK) {
        CHECK(m.seq == next + m.dropped);
        CHECK(m.len == stream_len(m.seq));
        const uint8_t *p = m.data;
        CHECK(p[0] == (uint8_t)m.seq && p[m.len - 1] == (uint8_t)(m.seq >> 8));
        dropped += m.dropped;
        got++;
        next = m.seq + 1;
        CHECK_ST(cm_sbuf_release(k, m.seq), CM_OK);
    }
    CHECK_ST(st, CM_ERR_PEER_CLOSED);
    CHECK(next == STREAM_N && got + dropped == STREAM_N);
    cm_sbuf_info_t info;
    CHECK_ST(cm_sbuf_get_info(k, &info), CM_OK);
    CHECK(info.consumers[info.self].received == got && info.consumers[info.self].dropped == dropped);
    return 0;
}

static int stream(uint32_t policy, uint32_t slots, uint32_t held)
{
    cm_handle_t b, k[2];
    int32_t pid[2];
    cm_sbuf_config_t c = { slots, STREAM_SLOT, 2, held, 1, policy, 0, 0 };
    CHECK_ST(cm_sbuf_create(&c, &b), CM_OK);
    for (uint32_t i = 0; i < 2; i++) {
        CHECK_ST(cm_sbuf_consumer_create(b, CM_RIGHTS_SAME, &k[i]), CM_OK);
        const char *args[1] = { "child_sbuf_stream_consumer" };
        pid[i] = cmk_spawn("selftest", args, 1, &k[i], 1, i == 1 ? CMK_ROLE_SECOND : CMK_ROLE_MAIN);
        CHECK(pid[i] > 0);
    }
    for (uint64_t i = 0; i < STREAM_N; i++) {
        cm_sbuf_loan_t l;
        uint64_t seq;
        uint32_t len = stream_len(i);
        CHECK_ST(cm_sbuf_loan(b, 0, 10 * SEC, &l), CM_OK);
        uint8_t *p = l.data;
        p[0] = (uint8_t)i;
        p[len - 1] = (uint8_t)(i >> 8);
        CHECK_ST(cm_sbuf_publish(b, l.id, len, &seq), CM_OK);
        CHECK(seq == i);
    }
    cm_sbuf_info_t info;
    CHECK_ST(cm_sbuf_get_info(b, &info), CM_OK);
    CHECK(info.consumers[0].state == CM_SBUF_CONSUMER_ACTIVE &&
          info.consumers[1].state == CM_SBUF_CONSUMER_ACTIVE);
    uint64_t dropped = info.consumers[0].dropped + info.consumers[1].dropped;
    /* BLOCK never drops; DROP_OLDEST must have, or the case tested nothing. */
    CHECK(policy == CM_SBUF_BLOCK ? dropped == 0 : dropped > 0);
    printf("# stream: %lu of %u taken back\n", (unsigned long)dropped, 2 * STREAM_N);
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK(wait_exit(pid[0], CMK_EXIT_NORMAL, 0) == 0);
    CHECK(wait_exit(pid[1], CMK_EXIT_NORMAL, 0) == 0);
    return 0;
}

/* 3000 messages of mixed sizes to two consumer processes (one sleeping,
 * one busy-polling), preempted by the timer anywhere: every message in
 * order and intact at both, the ring wrapped hundreds of times. */
int test_sbuf_stream_to_two_consumer_processes_block(void)
{
    return stream(CM_SBUF_BLOCK, 8, 4);
}

/* The same under DROP_OLDEST: the producer never waits; each consumer
 * sees increasing sequence numbers whose gaps are exactly its dropped
 * count, and the last message. */
int test_sbuf_stream_to_two_consumer_processes_drop_oldest(void)
{
    return stream(CM_SBUF_DROP_OLDEST, 7, 3);
}
