/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_DRIVERS_VIRTQ_H
#define CAPMEM_DRIVERS_VIRTQ_H

/* One virtio 1.x split virtqueue carrying virtio-blk requests, driver side.
 * Portable and freestanding (no libc, no allocation, no syscalls): the
 * kernel's user-space driver (drivers/virtio_blk/main.c) and the host unit
 * test with a fake device (tests/host/virtq.c) compile the same file.
 *
 * Layout, in VIRTQ_PAGES pages of queue memory whose device addresses are
 * given page by page (nothing assumes two pages are contiguous; each area
 * lies inside one page, which the size bound guarantees):
 *
 *   page 0   descriptor table  16 * size bytes at offset 0    (align 16)
 *            available ring     6 + 2 * size at offset 2048    (align 2)
 *   page 1   used ring          6 + 8 * size at offset 0       (align 4)
 *            request headers   16 * size at offset 1088        (align 16)
 *            status bytes       1 * size at offset 3136
 *
 * The header and status byte of a request live at the index of its head
 * descriptor, so each outstanding chain owns its own pair. A request chain is
 * [header, device-readable] [data segments, device-writable for a read,
 * readable for a write] [status byte, device-writable].
 *
 * Trust: the device (or whatever sits behind the MMIO window) is hostile
 * input. The driver never reads back anything it wrote into shared memory
 * (descriptors, free list, headers: the free list and per-chain records live
 * in struct virtq, private memory), and reads each field the device writes
 * (used idx, used id and len, status byte) once, then validates it:
 *   used idx      advance since the last harvest <= chains outstanding
 *   used id       < size, the head of a chain that is outstanding now
 *   used len      <= the device-writable bytes that chain offered
 *   status byte   one of VIRTIO_BLK_S_OK / IOERR / UNSUPP
 * A bad idx or id cannot be tied to one request: the queue is marked broken
 * and every later call fails with VIRTQ_ERR_BROKEN; the driver must reset the
 * device before it reuses any memory a chain named. A bad len or status is
 * tied to its (valid) chain: that request alone fails, typed. */

#include <stdint.h>

#define VIRTQ_PAGE_SIZE 4096u
#define VIRTQ_PAGES 2u
/* Queue size bound (a power of two, as virtio requires of split queues):
 * the descriptor table fills half of page 0 and the used ring, the headers
 * and the status bytes fit in page 1. */
#define VIRTQ_MAX_SIZE 128u
/* A chain is header + data + status: at most size - 2 data segments. */
#define VIRTQ_MAX_DATA_SEGS (VIRTQ_MAX_SIZE - 2u)
/* virtio-blk addresses the disk in 512-byte sectors, whatever its block size. */
#define VIRTQ_SECTOR_SIZE 512u

#define VIRTQ_DESC_OFFSET   0u
#define VIRTQ_AVAIL_OFFSET  2048u
#define VIRTQ_USED_OFFSET   0u
#define VIRTQ_HDR_OFFSET    1088u
#define VIRTQ_STATUS_OFFSET 3136u

/* virtq_desc.flags */
#define VIRTQ_DESC_F_NEXT  1u
#define VIRTQ_DESC_F_WRITE 2u

/* virtio-blk request types and status values (virtio 1.x, 5.2.6). */
#define VIRTIO_BLK_T_IN   0u
#define VIRTIO_BLK_T_OUT  1u
#define VIRTIO_BLK_S_OK     0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u
/* Written into a status byte before the chain is offered: a device that
 * completes a chain without writing its status is caught. */
#define VIRTQ_STATUS_UNSET 0xffu

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* size entries, then used_event (unused: no EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* size entries, then avail_event */
};

struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* Results. Negative: the call failed. */
typedef enum virtq_result {
    VIRTQ_OK = 0,
    VIRTQ_EMPTY = 1,             /* harvest: nothing new in the used ring */
    VIRTQ_ERR_ARGS = -1,         /* caller's arguments (size, segments, type) */
    VIRTQ_ERR_FULL = -2,         /* submit: not enough free descriptors now */
    VIRTQ_ERR_BROKEN = -3,       /* an earlier device violation: reset needed */
    VIRTQ_ERR_USED_IDX = -4,     /* used idx advanced past what is outstanding */
    VIRTQ_ERR_ID_RANGE = -5,     /* used id >= size */
    VIRTQ_ERR_NOT_OUTSTANDING = -6 /* used id names no outstanding chain head */
} virtq_result_t;

/* Per-request outcome of a harvested completion. */
typedef enum virtq_req_result {
    VIRTQ_REQ_OK = 0,      /* status OK, len within bounds */
    VIRTQ_REQ_IOERR,       /* the device reported VIRTIO_BLK_S_IOERR */
    VIRTQ_REQ_UNSUPP,      /* the device reported VIRTIO_BLK_S_UNSUPP */
    VIRTQ_REQ_BAD_STATUS,  /* status byte not one of the three values */
    VIRTQ_REQ_BAD_LEN      /* used len > the writable bytes the chain offered */
} virtq_req_result_t;

typedef struct virtq_seg {
    uint64_t addr; /* device address */
    uint32_t len;
} virtq_seg_t;

typedef struct virtq_done {
    uint64_t cookie;            /* the caller's value given at submit */
    uint32_t data_len;          /* bytes of data the chain carried */
    uint32_t used_len;          /* what the device reported (validated) */
    virtq_req_result_t result;
    uint8_t status;             /* the raw status byte read (once) */
} virtq_done_t;

struct virtq_chain {
    uint64_t cookie;
    uint32_t data_len;
    uint32_t writable;  /* device-writable bytes offered (data if IN, + status) */
    uint16_t ndesc;
    uint8_t outstanding;
};

typedef struct virtq {
    uint16_t size;
    uint16_t num_free;
    uint16_t free_head;
    uint16_t avail_idx;     /* private copy: never read back from shared memory */
    uint16_t last_used;     /* used entries consumed so far (mod 2^16) */
    uint16_t outstanding;   /* chains offered and not yet harvested */
    uint8_t broken;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    volatile struct virtio_blk_req_hdr *hdr;
    volatile uint8_t *status;
    uint64_t desc_addr, avail_addr, used_addr, hdr_addr, status_addr; /* device addresses */
    uint16_t next_free[VIRTQ_MAX_SIZE]; /* private free list */
    struct virtq_chain chain[VIRTQ_MAX_SIZE]; /* by head descriptor index */
} virtq_t;

/* Sets up a queue of `size` (a power of two, 2..VIRTQ_MAX_SIZE) over the
 * zeroed queue pages va[i] with device addresses dev[i] (each page-aligned).
 * ERR_ARGS on a bad size, NULL or unaligned page. */
virtq_result_t virtq_init(virtq_t *q, uint16_t size, void *const va[VIRTQ_PAGES],
                          const uint64_t dev[VIRTQ_PAGES]);

/* Offers one virtio-blk request: type IN (device -> memory) or OUT, at
 * `sector`, over nseg data segments (1 .. size - 2; each len > 0 and a
 * multiple of VIRTQ_SECTOR_SIZE; total <= UINT32_MAX). Publishes the chain in
 * the available ring (barrier before the idx store); the caller then
 * notifies the device. *head receives the chain's head index (may be NULL).
 * Errors: ERR_ARGS, ERR_FULL (retry after harvesting), ERR_BROKEN. */
virtq_result_t virtq_submit(virtq_t *q, uint32_t type, uint64_t sector, const virtq_seg_t *seg,
                            uint32_t nseg, uint64_t cookie, uint16_t *head);

/* Takes the next used entry, if any: OK with *done filled and the chain's
 * descriptors free again; EMPTY; or a device violation (USED_IDX, ID_RANGE,
 * NOT_OUTSTANDING) after which the queue is broken. */
virtq_result_t virtq_harvest(virtq_t *q, virtq_done_t *done);

/* Chains offered and not harvested. */
uint16_t virtq_outstanding(const virtq_t *q);

/* Merges neighbouring segments that are contiguous in device address space
 * (up to a merged length of UINT32_MAX rounded down to a sector multiple);
 * returns the new count. Lets a buffer whose pages happen to be contiguous
 * travel in fewer descriptors. */
uint32_t virtq_coalesce(virtq_seg_t *seg, uint32_t nseg);

#endif
