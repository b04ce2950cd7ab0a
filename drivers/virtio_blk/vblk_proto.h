/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_DRIVERS_VBLK_PROTO_H
#define CAPMEM_DRIVERS_VBLK_PROTO_H

/* The block service of the virtio-blk driver (docs/virtio-blk.md), over a
 * channel. One request message, one reply message, in order.
 *
 *   VBLK_OP_READ   no handle. Reply: status, bytes and, on OK, one handle: a
 *                  VMO sealed IMMUTABLE holding the bytes read (the DMA
 *                  buffer's own pages, cm_dma_buffer_detach_vmo: no copy),
 *                  rights READ|MAP|TRANSFER, size VBLK_MAX_IO (the
 *                  buffer's), bytes [0, length) the data.
 *   VBLK_OP_WRITE  one handle: a VMO the driver may READ, at least `length`
 *                  bytes; bytes [0, length) go to the device at `offset`
 *                  (copied into a DMA buffer: the client's VMO is never
 *                  handed to the device). Reply: status, bytes.
 *   VBLK_OP_INFO   no handle. Reply: status OK with capacity and block size.
 *
 * The driver sends one VBLK_OP_INFO reply unasked on its first channel once
 * the device is registered ("virtio-blk0" exists): the spawner waits for it.
 *
 * Validation (every field, before anything is touched): size exactly
 * sizeof(struct vblk_request); magic; op known; reserved 0; for READ/WRITE
 * offset and length multiples of VBLK_BLOCK_SIZE, 0 < length <=
 * VBLK_MAX_IO, offset + length <= capacity without overflow; the handle
 * count the op needs (READ/INFO 0, WRITE 1: a VMO with READ). Errors come
 * back typed in vblk_reply.status: INVALID_ARGS (format, alignment, length,
 * handle count), OUT_OF_RANGE (past the end), WRONG_TYPE (not a VMO),
 * ACCESS_DENIED (no READ right, device read-only), IO (the device failed).
 * Every handle a request carries is closed by the driver whatever happens. */

#include <stdint.h>

#define VBLK_MAGIC 0x6b6c6276u /* "vblk" */
#define VBLK_OP_READ  1u
#define VBLK_OP_WRITE 2u
#define VBLK_OP_INFO  3u

/* virtio-blk sectors; the device is registered with this block size. */
#define VBLK_BLOCK_SIZE 512u
/* Largest READ or WRITE: the driver's own pool buffers are this size. */
#define VBLK_MAX_IO (64u * 1024u)

struct vblk_request {
    uint32_t magic;
    uint32_t op;
    uint64_t offset;   /* bytes */
    uint32_t length;   /* bytes */
    uint32_t reserved; /* 0 */
    uint64_t tag;      /* echoed in the reply */
};

struct vblk_reply {
    uint32_t magic;
    uint32_t op;
    int32_t status;    /* cm_status_t */
    uint32_t bytes;
    uint64_t tag;
    uint64_t capacity; /* bytes */
    uint32_t block_size;
    uint32_t reserved;
};

#endif
