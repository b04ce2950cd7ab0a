/* SPDX-License-Identifier: MIT */
/* drivers/virtio_blk/virtq.c, the split virtqueue the kernel's virtio-blk
 * driver uses, against a fake device model: queue pages and data buffers are
 * host memory whose "device addresses" are their host addresses, and the
 * fake device walks the descriptor table as a virtio 1.x device would. A
 * well-behaved device first (layout, read, write, wrap-around, full queue),
 * then a hostile one writing the used ring and status bytes itself: each
 * check of virtq_harvest has a test that fails without it. */
#include <stdlib.h>
#include <string.h>

#include "common/leakcheck.h"
#include "../../drivers/virtio_blk/virtq.h"

#define DISK_SECTORS 256u
#define SEC VIRTQ_SECTOR_SIZE

struct fake {
    void *page[VIRTQ_PAGES];
    uint64_t dev[VIRTQ_PAGES];
    virtq_t q;
    uint8_t disk[DISK_SECTORS * SEC];
    uint16_t seen_avail; /* the device's own cursor */
    uint16_t used_idx;   /* the device's own used idx */
};

static struct fake *fake_new(uint16_t size)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for (uint32_t i = 0; i < VIRTQ_PAGES; i++) {
        f->page[i] = aligned_alloc(VIRTQ_PAGE_SIZE, VIRTQ_PAGE_SIZE);
        assert_non_null(f->page[i]);
        memset(f->page[i], 0, VIRTQ_PAGE_SIZE);
        f->dev[i] = (uint64_t)(uintptr_t)f->page[i];
    }
    for (uint32_t i = 0; i < sizeof(f->disk); i++)
        f->disk[i] = (uint8_t)(i * 7u + i / SEC);
    assert_int_equal(virtq_init(&f->q, size, f->page, f->dev), VIRTQ_OK);
    return f;
}

static void fake_free(struct fake *f)
{
    for (uint32_t i = 0; i < VIRTQ_PAGES; i++)
        free(f->page[i]);
    free(f);
}

static void *dev_ptr(uint64_t addr)
{
    return (void *)(uintptr_t)addr;
}

/* The device side of one used entry. */
static void push_used(struct fake *f, uint32_t id, uint32_t len)
{
    volatile struct virtq_used *u = f->q.used;
    u->ring[f->used_idx % f->q.size].id = id;
    u->ring[f->used_idx % f->q.size].len = len;
    f->used_idx++;
    u->idx = f->used_idx;
}

/* Takes the next available chain as a device would, performs it on the
 * fake disk and, if `complete`, pushes its used entry. Returns the head. */
static uint16_t device_run_one(struct fake *f, int complete)
{
    virtq_t *q = &f->q;
    assert_int_not_equal(q->avail->idx, f->seen_avail);
    uint16_t head = q->avail->ring[f->seen_avail % q->size];
    f->seen_avail++;
    assert_true(head < q->size);
    volatile struct virtq_desc *d = &q->desc[head];
    /* header: device-readable, 16 bytes, in queue memory */
    assert_int_equal(d->len, sizeof(struct virtio_blk_req_hdr));
    assert_int_equal(d->flags, VIRTQ_DESC_F_NEXT);
    struct virtio_blk_req_hdr hdr;
    memcpy(&hdr, dev_ptr(d->addr), sizeof(hdr));
    uint64_t off = hdr.sector * SEC;
    uint32_t written = 0;
    uint32_t hops = 0;
    for (;;) {
        assert_true(++hops <= q->size);
        d = &q->desc[d->next];
        if ((d->flags & VIRTQ_DESC_F_NEXT) == 0)
            break;
        assert_true(off + d->len <= sizeof(f->disk));
        if (hdr.type == VIRTIO_BLK_T_IN) {
            assert_int_equal(d->flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
            memcpy(dev_ptr(d->addr), f->disk + off, d->len);
            written += d->len;
        } else {
            assert_int_equal(d->flags, VIRTQ_DESC_F_NEXT);
            memcpy(f->disk + off, dev_ptr(d->addr), d->len);
        }
        off += d->len;
    }
    /* status: one device-writable byte, last */
    assert_int_equal(d->len, 1);
    assert_int_equal(d->flags, VIRTQ_DESC_F_WRITE);
    *(uint8_t *)dev_ptr(d->addr) = VIRTIO_BLK_S_OK;
    if (complete)
        push_used(f, head, written + 1);
    return head;
}

static uint8_t buf[8][4 * SEC] __attribute__((aligned(4096)));

static virtq_seg_t seg_of(int i, uint32_t len)
{
    virtq_seg_t s = { (uint64_t)(uintptr_t)buf[i], len };
    return s;
}

static void test_read_chain_carries_disk_bytes_into_every_segment(void **state)
{
    (void)state;
    struct fake *f = fake_new(16);
    memset(buf, 0, sizeof(buf));
    virtq_seg_t s[3] = { seg_of(0, SEC), seg_of(2, 2 * SEC), seg_of(5, SEC) };
    uint16_t head = 0xffff;
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 3, s, 3, 42, &head), VIRTQ_OK);
    assert_int_equal(virtq_outstanding(&f->q), 1);
    assert_int_equal(f->q.num_free, 16 - 5);
    virtq_done_t d;
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_EMPTY);
    assert_int_equal(device_run_one(f, 1), head);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_OK);
    assert_int_equal(d.cookie, 42);
    assert_int_equal(d.data_len, 4 * SEC);
    assert_int_equal(d.used_len, 4 * SEC + 1);
    assert_memory_equal(buf[0], f->disk + 3 * SEC, SEC);
    assert_memory_equal(buf[2], f->disk + 4 * SEC, 2 * SEC);
    assert_memory_equal(buf[5], f->disk + 6 * SEC, SEC);
    assert_int_equal(virtq_outstanding(&f->q), 0);
    assert_int_equal(f->q.num_free, 16);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_EMPTY);
    fake_free(f);
}

static void test_write_then_read_back_round_trips(void **state)
{
    (void)state;
    struct fake *f = fake_new(8);
    virtq_done_t d;
    memset(buf[1], 0xa5, 2 * SEC);
    virtq_seg_t w = seg_of(1, 2 * SEC);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_OUT, 100, &w, 1, 1, NULL), VIRTQ_OK);
    device_run_one(f, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_OK);
    assert_int_equal(d.used_len, 1);
    memset(buf[3], 0, 2 * SEC);
    virtq_seg_t r = seg_of(3, 2 * SEC);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 100, &r, 1, 2, NULL), VIRTQ_OK);
    device_run_one(f, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.cookie, 2);
    assert_memory_equal(buf[3], buf[1], 2 * SEC);
    fake_free(f);
}

/* Completions out of order, and 70000 requests: the 16-bit indices wrap. */
static void test_out_of_order_completions_and_index_wraparound(void **state)
{
    (void)state;
    struct fake *f = fake_new(8);
    virtq_done_t d;
    virtq_seg_t s0 = seg_of(0, SEC), s1 = seg_of(1, SEC);
    uint16_t h0, h1;
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &s0, 1, 10, &h0), VIRTQ_OK);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 1, &s1, 1, 11, &h1), VIRTQ_OK);
    device_run_one(f, 0);
    device_run_one(f, 0);
    push_used(f, h1, SEC + 1);
    push_used(f, h0, SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.cookie, 11);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.cookie, 10);
    for (uint32_t i = 0; i < 70000; i++) {
        assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, i % DISK_SECTORS, &s0, 1, i, NULL),
                         VIRTQ_OK);
        device_run_one(f, 1);
        assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
        assert_int_equal(d.cookie, i);
        assert_int_equal(d.result, VIRTQ_REQ_OK);
    }
    assert_memory_equal(buf[0], f->disk + (69999 % DISK_SECTORS) * SEC, SEC);
    assert_int_equal(f->q.num_free, 8);
    fake_free(f);
}

static void test_full_queue_is_typed_and_harvest_frees_descriptors(void **state)
{
    (void)state;
    struct fake *f = fake_new(8);
    virtq_done_t d;
    virtq_seg_t s[6] = { seg_of(0, SEC), seg_of(1, SEC), seg_of(2, SEC),
                         seg_of(3, SEC), seg_of(4, SEC), seg_of(5, SEC) };
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 3, 1, NULL), VIRTQ_OK);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 2, 2, NULL), VIRTQ_ERR_FULL);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 1, 3, NULL), VIRTQ_OK);
    assert_int_equal(f->q.num_free, 0);
    device_run_one(f, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    /* size - 2 segments is the largest chain */
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 6, 4, NULL), VIRTQ_ERR_FULL);
    device_run_one(f, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 6, 4, NULL), VIRTQ_OK);
    fake_free(f);
}

static void test_bad_arguments_are_refused_without_touching_the_queue(void **state)
{
    (void)state;
    struct fake *f = fake_new(8);
    virtq_t q2;
    uint64_t odd[VIRTQ_PAGES] = { f->dev[0] + 8, f->dev[1] };
    assert_int_equal(virtq_init(&q2, 6, f->page, f->dev), VIRTQ_ERR_ARGS);   /* not 2^k */
    assert_int_equal(virtq_init(&q2, 1, f->page, f->dev), VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_init(&q2, VIRTQ_MAX_SIZE * 2, f->page, f->dev), VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_init(&q2, 8, f->page, odd), VIRTQ_ERR_ARGS);
    virtq_seg_t s[7] = { seg_of(0, SEC), seg_of(1, SEC), seg_of(2, SEC), seg_of(3, SEC),
                         seg_of(4, SEC), seg_of(5, SEC), seg_of(6, SEC) };
    virtq_seg_t odd_len = seg_of(0, SEC + 1), zero = seg_of(0, 0);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 0, 0, NULL), VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 7, 0, NULL), VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &odd_len, 1, 0, NULL),
                     VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &zero, 1, 0, NULL), VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_submit(&f->q, 4 /* FLUSH: not implemented */, 0, s, 1, 0, NULL),
                     VIRTQ_ERR_ARGS);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, NULL, 1, 0, NULL), VIRTQ_ERR_ARGS);
    assert_int_equal(f->q.num_free, 8);
    assert_int_equal(f->q.avail->idx, 0);
    fake_free(f);
}

static void test_coalesce_merges_only_contiguous_segments(void **state)
{
    (void)state;
    virtq_seg_t s[5] = { { 0x1000, 4096 }, { 0x2000, 4096 }, { 0x5000, 512 },
                         { 0x5200, 512 }, { 0x3000, 4096 } };
    assert_int_equal(virtq_coalesce(s, 5), 3);
    assert_int_equal(s[0].addr, 0x1000);
    assert_int_equal(s[0].len, 8192);
    assert_int_equal(s[1].addr, 0x5000);
    assert_int_equal(s[1].len, 1024);
    assert_int_equal(s[2].addr, 0x3000);
    virtq_seg_t wrap[2] = { { UINT64_MAX - 511, 512 }, { 0, 512 } };
    assert_int_equal(virtq_coalesce(wrap, 2), 2);
    virtq_seg_t big[2] = { { 0, 0xfffffe00u }, { 0xfffffe00u, 512 } };
    assert_int_equal(virtq_coalesce(big, 2), 2);
}

/* ---- a hostile device ---- */

/* Two reads offered and taken by the device, nothing completed yet. */
static struct fake *two_outstanding(uint16_t *h0, uint16_t *h1)
{
    struct fake *f = fake_new(8);
    virtq_seg_t s0 = seg_of(0, SEC), s1 = seg_of(1, 2 * SEC);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &s0, 1, 100, h0), VIRTQ_OK);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 2, &s1, 1, 101, h1), VIRTQ_OK);
    device_run_one(f, 0);
    device_run_one(f, 0);
    return f;
}

static void assert_broken(struct fake *f)
{
    virtq_done_t d;
    virtq_seg_t s = seg_of(0, SEC);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_ERR_BROKEN);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &s, 1, 0, NULL), VIRTQ_ERR_BROKEN);
}

static void test_hostile_used_id_out_of_range_breaks_the_queue(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d = { 0 };
    push_used(f, f->q.size, SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_ERR_ID_RANGE);
    assert_broken(f);
    push_used(f, 0xffffffffu, 0);
    assert_broken(f);
    fake_free(f);
}

static void test_hostile_used_id_not_a_chain_head_is_refused(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    /* the data descriptor of chain h0, in range but not a head */
    push_used(f, (uint32_t)(h0 + 1), SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_ERR_NOT_OUTSTANDING);
    assert_broken(f);
    fake_free(f);
}

static void test_hostile_repeated_used_id_is_refused(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    push_used(f, h0, SEC + 1);
    push_used(f, h0, SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.cookie, 100);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_ERR_NOT_OUTSTANDING);
    assert_broken(f);
    fake_free(f);
}

static void test_hostile_used_idx_jump_past_outstanding_is_refused(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    push_used(f, h0, SEC + 1);
    /* 2 outstanding; the device claims size + 1 entries (valid-looking ids) */
    f->used_idx = (uint16_t)(f->q.size + 1);
    f->q.used->idx = f->used_idx;
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_ERR_USED_IDX);
    assert_broken(f);
    fake_free(f);
}

static void test_hostile_used_idx_three_of_two_outstanding_is_refused(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    push_used(f, h0, SEC + 1);
    push_used(f, h1, 2 * SEC + 1);
    push_used(f, h0, SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_ERR_USED_IDX);
    assert_broken(f);
    fake_free(f);
}

static void test_hostile_oversized_used_len_fails_that_request(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    push_used(f, h0, SEC + 2); /* one byte more than the chain offered */
    push_used(f, h1, 2 * SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.cookie, 100);
    assert_int_equal(d.result, VIRTQ_REQ_BAD_LEN);
    assert_int_equal(d.used_len, SEC + 2);
    /* the other request is unaffected */
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_OK);
    /* a write offers only its status byte */
    virtq_seg_t w = seg_of(2, SEC);
    uint16_t hw;
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_OUT, 0, &w, 1, 7, &hw), VIRTQ_OK);
    device_run_one(f, 0);
    push_used(f, hw, 2);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_BAD_LEN);
    fake_free(f);
}

static void test_hostile_status_byte_outside_the_three_values_fails_the_request(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    f->q.status[h0] = 3;
    f->q.status[h1] = VIRTQ_STATUS_UNSET; /* completed without writing a status */
    push_used(f, h0, SEC + 1);
    push_used(f, h1, 2 * SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_BAD_STATUS);
    assert_int_equal(d.status, 3);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_BAD_STATUS);
    fake_free(f);
}

/* The status byte of a reused chain still holds the previous request's OK:
 * a device that completes the new request without writing it is caught
 * because submit resets the byte to VIRTQ_STATUS_UNSET. */
static void test_hostile_completion_without_status_write_is_refused(void **state)
{
    (void)state;
    struct fake *f = fake_new(8);
    virtq_done_t d;
    virtq_seg_t s = seg_of(0, SEC);
    uint16_t h, h2;
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &s, 1, 1, &h), VIRTQ_OK);
    device_run_one(f, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_OK);
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, &s, 1, 2, &h2), VIRTQ_OK);
    assert_int_equal(h2, h); /* the same head, its status byte reused */
    f->seen_avail++;
    push_used(f, h2, SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_BAD_STATUS);
    assert_int_equal(d.status, VIRTQ_STATUS_UNSET);
    fake_free(f);
}

static void test_device_status_values_map_to_typed_results(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    f->q.status[h0] = VIRTIO_BLK_S_IOERR;
    f->q.status[h1] = VIRTIO_BLK_S_UNSUPP;
    push_used(f, h0, 1);
    push_used(f, h1, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_IOERR);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_UNSUPP);
    fake_free(f);
}

/* The device rewrites every descriptor (links included) while chains are
 * outstanding: the driver's own free list is private, so once the chains
 * are harvested all descriptors are free and a full-size chain still fits. */
static void test_hostile_descriptor_rewrite_cannot_corrupt_the_free_list(void **state)
{
    (void)state;
    uint16_t h0, h1;
    struct fake *f = two_outstanding(&h0, &h1);
    virtq_done_t d;
    for (uint16_t i = 0; i < f->q.size; i++) {
        f->q.desc[i].next = h0;
        f->q.desc[i].flags = VIRTQ_DESC_F_NEXT;
    }
    push_used(f, h1, 2 * SEC + 1);
    push_used(f, h0, SEC + 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(f->q.num_free, f->q.size);
    virtq_seg_t s[6] = { seg_of(0, SEC), seg_of(1, SEC), seg_of(2, SEC),
                         seg_of(3, SEC), seg_of(4, SEC), seg_of(5, SEC) };
    uint16_t h;
    assert_int_equal(virtq_submit(&f->q, VIRTIO_BLK_T_IN, 0, s, 6, 9, &h), VIRTQ_OK);
    /* every descriptor of the new chain is distinct: walk it */
    uint8_t seen[VIRTQ_MAX_SIZE] = { 0 };
    uint16_t x = h;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(seen[x], 0);
        seen[x] = 1;
        x = f->q.desc[x].next;
    }
    device_run_one(f, 1);
    assert_int_equal(virtq_harvest(&f->q, &d), VIRTQ_OK);
    assert_int_equal(d.result, VIRTQ_REQ_OK);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_chain_carries_disk_bytes_into_every_segment),
        cmocka_unit_test(test_write_then_read_back_round_trips),
        cmocka_unit_test(test_out_of_order_completions_and_index_wraparound),
        cmocka_unit_test(test_full_queue_is_typed_and_harvest_frees_descriptors),
        cmocka_unit_test(test_bad_arguments_are_refused_without_touching_the_queue),
        cmocka_unit_test(test_coalesce_merges_only_contiguous_segments),
        cmocka_unit_test(test_hostile_used_id_out_of_range_breaks_the_queue),
        cmocka_unit_test(test_hostile_used_id_not_a_chain_head_is_refused),
        cmocka_unit_test(test_hostile_repeated_used_id_is_refused),
        cmocka_unit_test(test_hostile_used_idx_jump_past_outstanding_is_refused),
        cmocka_unit_test(test_hostile_used_idx_three_of_two_outstanding_is_refused),
        cmocka_unit_test(test_hostile_oversized_used_len_fails_that_request),
        cmocka_unit_test(test_hostile_status_byte_outside_the_three_values_fails_the_request),
        cmocka_unit_test(test_hostile_completion_without_status_write_is_refused),
        cmocka_unit_test(test_device_status_values_map_to_typed_results),
        cmocka_unit_test(test_hostile_descriptor_rewrite_cannot_corrupt_the_free_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
