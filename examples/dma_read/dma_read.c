/* SPDX-License-Identifier: MIT */
/* dma_read FILE: reads the first 256 KiB of FILE (or all of it, if shorter)
 * by DMA into a registered buffer of a capmem DMA pool, then checks the
 * bytes against a plain pread() of the same range. On Linux the device is
 * real: O_DIRECT reads through io_uring into pinned pages, no page cache
 * copy. Ownership is explicit: while the read is in flight the buffer
 * belongs to the device (the CPU may not touch it); the fence returns it.
 * Exit 0 when the bytes match; 77 when FILE's filesystem does no direct I/O
 * (tmpfs, for one): capmem refuses rather than silently copy. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <capmem/capmem.h>

#define BUF_SIZE (256u << 10) /* a multiple of CM_PAGE_SIZE */

static void check(cm_status_t st, const char *what)
{
    if (st != CM_OK) {
        const char *detail = cm_status_detail(); /* may be empty */
        fprintf(stderr, "%s: %s (%s)%s%s\n", what, cm_status_str(st), cm_status_name(st),
                *detail ? ": " : "", detail);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    /* One buffer, one read in flight at a time. */
    cm_dma_pool_config_t cfg = { .buffer_count = 1, .buffer_size = BUF_SIZE, .max_in_flight = 1 };
    cm_handle_t pool;
    check(cm_dma_pool_create(&cfg, &pool), "pool_create");
    cm_status_t st = cm_dma_pool_attach(pool, argv[1], CM_DMA_ATTACH_READ);
    if (st == CM_ERR_UNSUPPORTED) {
        fprintf(stderr, "dma_read: %s: no direct I/O on this filesystem\n", argv[1]);
        return 77;
    }
    check(st, "attach");
    cm_dma_pool_info_t info;
    check(cm_dma_pool_get_info(pool, &info), "pool_get_info");

    /* Transfers are in whole device blocks; the device reports fewer bytes
     * at its end, so asking for a whole buffer past a short file is fine. */
    uint32_t len = BUF_SIZE;
    if (info.device_size < len)
        len = (uint32_t)((info.device_size + info.device_block_size - 1) /
                         info.device_block_size * info.device_block_size);
    if (len == 0) {
        fprintf(stderr, "dma_read: %s is empty\n", argv[1]);
        return 1;
    }

    cm_dma_buffer_t buf;
    cm_dma_fence_t fence;
    cm_dma_completion_t done;
    check(cm_dma_buffer_acquire(pool, &buf), "acquire");
    cm_dma_op_t op = { .kind = CM_DMA_OP_READ, .buffer_offset = 0, .length = len,
                       .device_offset = 0 };
    check(cm_dma_submit(pool, buf, &op, &fence), "submit"); /* the device owns buf now */
    check(cm_dma_fence_wait(pool, fence, CM_TIMEOUT_INFINITE, &done), "fence_wait");
    check(done.status, "device read"); /* the device's own result */

    void *p;
    check(cm_dma_buffer_map(pool, buf, &p, NULL), "buffer_map"); /* CPU-owned again */

    /* The proof: the same range through the ordinary read path. */
    char *plain = malloc(done.bytes ? done.bytes : 1);
    int fd = open(argv[1], O_RDONLY);
    ssize_t got = fd >= 0 && plain ? pread(fd, plain, done.bytes, 0) : -1;
    int same = got == (ssize_t)done.bytes && memcmp(p, plain, done.bytes) == 0;
    printf("dma_read: %u bytes of %s read by DMA (block %u bytes): %s a plain read\n",
           done.bytes, argv[1], info.device_block_size, same ? "identical to" : "DIFFERENT from");
    if (fd >= 0)
        close(fd);
    free(plain);

    /* cm_dma_buffer_detach_vmo() would turn buf into a VMO to seal and share
     * without a copy (apps/dma_read_share.c); here it goes back to the pool. */
    check(cm_dma_buffer_release(pool, buf), "release");
    cm_handle_close(pool);
    return same ? 0 : 1;
}
