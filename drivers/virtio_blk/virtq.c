/* SPDX-License-Identifier: MIT */
/* Split virtqueue for virtio-blk, driver side (virtq.h has the layout and
 * the trust rules). */
#include "virtq.h"

#include <stddef.h>

/* virtio 1.x rings and headers are little-endian; both targets (riscv64,
 * x86-64) are, so fields are stored as native integers. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtq assumes a little-endian CPU");
_Static_assert(VIRTQ_DESC_OFFSET + 16u * VIRTQ_MAX_SIZE <= VIRTQ_AVAIL_OFFSET, "desc table fits");
_Static_assert(VIRTQ_AVAIL_OFFSET + 6u + 2u * VIRTQ_MAX_SIZE <= VIRTQ_PAGE_SIZE, "avail fits");
_Static_assert(VIRTQ_USED_OFFSET + 6u + 8u * VIRTQ_MAX_SIZE <= VIRTQ_HDR_OFFSET, "used fits");
_Static_assert(VIRTQ_HDR_OFFSET + 16u * VIRTQ_MAX_SIZE <= VIRTQ_STATUS_OFFSET, "headers fit");
_Static_assert(VIRTQ_STATUS_OFFSET + VIRTQ_MAX_SIZE <= VIRTQ_PAGE_SIZE, "status bytes fit");
_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "virtio-blk header is 16 bytes");
_Static_assert(sizeof(struct virtq_desc) == 16, "descriptor is 16 bytes");

/* Orders this CPU's stores to queue memory before the store that publishes
 * them (avail idx), and the load of used idx before the loads of the entries
 * it covers. Queue memory is ordinary RAM to both sides: a full fence is the
 * portable choice (RISC-V: fence rw,rw; x86: mfence). */
static inline void virtq_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

virtq_result_t virtq_init(virtq_t *q, uint16_t size, void *const va[VIRTQ_PAGES],
                          const uint64_t dev[VIRTQ_PAGES])
{
    if (q == NULL || va == NULL || dev == NULL || size < 2 || size > VIRTQ_MAX_SIZE ||
        (size & (size - 1)) != 0)
        return VIRTQ_ERR_ARGS;
    for (uint32_t i = 0; i < VIRTQ_PAGES; i++) {
        if (va[i] == NULL || ((uintptr_t)va[i] % VIRTQ_PAGE_SIZE) != 0 ||
            dev[i] % VIRTQ_PAGE_SIZE != 0)
            return VIRTQ_ERR_ARGS;
    }
    uint8_t *p0 = va[0], *p1 = va[1];
    q->size = size;
    q->desc = (volatile struct virtq_desc *)(p0 + VIRTQ_DESC_OFFSET);
    q->avail = (volatile struct virtq_avail *)(p0 + VIRTQ_AVAIL_OFFSET);
    q->used = (volatile struct virtq_used *)(p1 + VIRTQ_USED_OFFSET);
    q->hdr = (volatile struct virtio_blk_req_hdr *)(p1 + VIRTQ_HDR_OFFSET);
    q->status = (volatile uint8_t *)(p1 + VIRTQ_STATUS_OFFSET);
    q->desc_addr = dev[0] + VIRTQ_DESC_OFFSET;
    q->avail_addr = dev[0] + VIRTQ_AVAIL_OFFSET;
    q->used_addr = dev[1] + VIRTQ_USED_OFFSET;
    q->hdr_addr = dev[1] + VIRTQ_HDR_OFFSET;
    q->status_addr = dev[1] + VIRTQ_STATUS_OFFSET;
    q->num_free = size;
    q->free_head = 0;
    q->avail_idx = 0;
    q->last_used = 0;
    q->outstanding = 0;
    q->broken = 0;
    for (uint16_t i = 0; i < size; i++) {
        q->next_free[i] = (uint16_t)(i + 1 < size ? i + 1 : 0);
        q->chain[i].outstanding = 0;
        q->chain[i].ndesc = 0;
    }
    /* The device reads these once it is told the queue is ready; the
     * driver never relies on their contents afterwards. */
    q->avail->flags = 0;
    q->avail->idx = 0;
    q->used->flags = 0;
    q->used->idx = 0;
    return VIRTQ_OK;
}

static uint16_t take_desc(virtq_t *q)
{
    uint16_t d = q->free_head;
    q->free_head = q->next_free[d];
    q->num_free--;
    return d;
}

static void put_desc(volatile struct virtq_desc *slot, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    slot->addr = addr;
    slot->len = len;
    slot->flags = flags;
    slot->next = next;
}

virtq_result_t virtq_submit(virtq_t *q, uint32_t type, uint64_t sector, const virtq_seg_t *seg,
                            uint32_t nseg, uint64_t cookie, uint16_t *head)
{
    if (q == NULL)
        return VIRTQ_ERR_ARGS;
    if (q->broken)
        return VIRTQ_ERR_BROKEN;
    if (seg == NULL || nseg == 0 || nseg > (uint32_t)q->size - 2u ||
        (type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_OUT))
        return VIRTQ_ERR_ARGS;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nseg; i++) {
        if (seg[i].len == 0 || seg[i].len % VIRTQ_SECTOR_SIZE != 0)
            return VIRTQ_ERR_ARGS;
        total += seg[i].len;
    }
    /* nseg < 2^16 segments of < 2^32 bytes: total cannot overflow 64 bits. */
    if (total > UINT32_MAX - 1u)
        return VIRTQ_ERR_ARGS;
    if ((uint32_t)q->num_free < nseg + 2u)
        return VIRTQ_ERR_FULL;

    /* Take every descriptor first (the chain's links are known before a
     * single one is written), then fill them back to front. */
    uint16_t ids[VIRTQ_MAX_SIZE];
    uint32_t n = nseg + 2u;
    for (uint32_t i = 0; i < n; i++)
        ids[i] = take_desc(q);
    uint16_t h = ids[0];
    uint16_t data_flags = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;

    q->hdr[h].type = type;
    q->hdr[h].reserved = 0;
    q->hdr[h].sector = sector;
    q->status[h] = VIRTQ_STATUS_UNSET;

    put_desc(&q->desc[ids[0]], q->hdr_addr + (uint64_t)h * sizeof(struct virtio_blk_req_hdr),
             (uint32_t)sizeof(struct virtio_blk_req_hdr), VIRTQ_DESC_F_NEXT, ids[1]);
    for (uint32_t i = 0; i < nseg; i++)
        put_desc(&q->desc[ids[i + 1]], seg[i].addr, seg[i].len,
                 (uint16_t)(data_flags | VIRTQ_DESC_F_NEXT), ids[i + 2]);
    put_desc(&q->desc[ids[n - 1]], q->status_addr + h, 1, VIRTQ_DESC_F_WRITE, 0);

    /* Private record of the chain, keyed by its head. The chain's other
     * descriptors are kept in a private list too, so harvest never follows
     * a link the device could have rewritten. */
    for (uint32_t i = 0; i + 1 < n; i++)
        q->next_free[ids[i]] = ids[i + 1];
    q->chain[h].cookie = cookie;
    q->chain[h].data_len = (uint32_t)total;
    q->chain[h].writable = (type == VIRTIO_BLK_T_IN ? (uint32_t)total : 0u) + 1u;
    q->chain[h].ndesc = (uint16_t)n;
    q->chain[h].outstanding = 1;
    q->outstanding++;

    q->avail->ring[q->avail_idx % q->size] = h;
    virtq_barrier(); /* descriptors, header, status sentinel, ring entry before idx */
    q->avail_idx++;
    q->avail->idx = q->avail_idx;
    virtq_barrier(); /* idx visible before the caller's notify */
    if (head != NULL)
        *head = h;
    return VIRTQ_OK;
}

/* Gives a harvested chain's descriptors back (its private links). */
static void free_chain(virtq_t *q, uint16_t h)
{
    uint16_t d = h;
    for (uint16_t i = 1; i < q->chain[h].ndesc; i++)
        d = q->next_free[d];
    q->next_free[d] = q->free_head;
    q->free_head = h;
    q->num_free = (uint16_t)(q->num_free + q->chain[h].ndesc);
    q->chain[h].outstanding = 0;
    q->chain[h].ndesc = 0;
    q->outstanding--;
}

virtq_result_t virtq_harvest(virtq_t *q, virtq_done_t *done)
{
    if (q == NULL || done == NULL)
        return VIRTQ_ERR_ARGS;
    if (q->broken)
        return VIRTQ_ERR_BROKEN;
    uint16_t idx = q->used->idx; /* read once */
    uint16_t advance = (uint16_t)(idx - q->last_used);
    if (advance == 0)
        return VIRTQ_EMPTY;
    if (advance > q->outstanding) {
        q->broken = 1;
        return VIRTQ_ERR_USED_IDX;
    }
    virtq_barrier(); /* the entries are read after the idx that covers them */
    volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
    uint32_t id = e->id;  /* read once */
    uint32_t len = e->len;
    if (id >= q->size) {
        q->broken = 1;
        return VIRTQ_ERR_ID_RANGE;
    }
    if (!q->chain[id].outstanding) {
        q->broken = 1;
        return VIRTQ_ERR_NOT_OUTSTANDING;
    }
    uint8_t status = q->status[id]; /* read once */
    q->last_used++;
    done->cookie = q->chain[id].cookie;
    done->data_len = q->chain[id].data_len;
    done->used_len = len;
    done->status = status;
    if (len > q->chain[id].writable)
        done->result = VIRTQ_REQ_BAD_LEN;
    else if (status == VIRTIO_BLK_S_OK)
        done->result = VIRTQ_REQ_OK;
    else if (status == VIRTIO_BLK_S_IOERR)
        done->result = VIRTQ_REQ_IOERR;
    else if (status == VIRTIO_BLK_S_UNSUPP)
        done->result = VIRTQ_REQ_UNSUPP;
    else
        done->result = VIRTQ_REQ_BAD_STATUS;
    free_chain(q, (uint16_t)id);
    return VIRTQ_OK;
}

uint16_t virtq_outstanding(const virtq_t *q)
{
    return q->outstanding;
}

uint32_t virtq_coalesce(virtq_seg_t *seg, uint32_t nseg)
{
    const uint32_t cap = (UINT32_MAX / VIRTQ_SECTOR_SIZE) * VIRTQ_SECTOR_SIZE;
    if (seg == NULL || nseg == 0)
        return 0;
    uint32_t out = 0;
    for (uint32_t i = 1; i < nseg; i++) {
        virtq_seg_t *last = &seg[out];
        if (last->addr + last->len == seg[i].addr && last->addr + last->len > last->addr &&
            (uint64_t)last->len + seg[i].len <= cap) {
            last->len += seg[i].len;
        } else {
            seg[++out] = seg[i];
        }
    }
    return out + 1;
}
