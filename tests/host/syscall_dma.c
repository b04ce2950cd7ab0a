/* SPDX-License-Identifier: MIT */
/* One DMA read cycle, for tests/host/dma_syscall_budget.sh to count its
 * system calls under strace: plain io_uring (the floor), the default capmem
 * pool and the guarded pool (CM_DMA_POOL_CPU_GUARD), on the same kind of
 * buffer (registered fixed buffer, O_DIRECT file, READ_FIXED).
 *
 *   syscall_dma floor|pool|guarded FILE
 *
 * FILE holds at least 2 * SIZE bytes on a filesystem doing O_DIRECT to a
 * device. Setup and two warm-up cycles run first (a ring's first requests
 * set up state a steady stream does not pay for). Then two measured steps,
 * each between markers (a write(2) of "CMBEGIN" / "CMEND" to fd -1, which
 * fails with EBADF and shows in the trace):
 *   submit  one read handed to the device (floor: get SQE, prep,
 *           io_uring_submit; capmem: cm_dma_submit);
 *   reap    its completion taken back and the data looked at (floor:
 *           io_uring_wait_cqe, cqe_seen; capmem: cm_dma_fence_wait,
 *           cm_dma_buffer_map), after the completion was posted: the
 *           program waits for that between the steps, outside the markers,
 *           so the count does not depend on how fast the device is.
 * Both counts are deterministic. Exit status: 0 done, 2 a call failed,
 * 3 FILE refused as a DMA device (the script tries another directory). */
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/dma.h>
#include "../../host/dma_internal.h"

#define SIZE (64u << 10)

#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "syscall_dma: %s:%d: %s\n", __FILE__, __LINE__, #c);          \
            exit(2);                                                                      \
        }                                                                                 \
    } while (0)

static void marker(const char *m)
{
    (void)!write(-1, m, strlen(m));
}

/* The data is there: the file's bytes at `off`. */
static void verify(const uint8_t *p, const uint8_t *want)
{
    CHECK(memcmp(p, want, SIZE) == 0);
}

static void floor_cycle(struct io_uring *ring, int fd, void *buf, uint64_t off,
                        const uint8_t *want, int measured)
{
    struct io_uring_cqe *cqe;
    if (measured)
        marker("CMBEGIN");
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    CHECK(sqe != NULL);
    io_uring_prep_read_fixed(sqe, fd, buf, SIZE, off, 0);
    sqe->user_data = 1;
    CHECK(io_uring_submit(ring) == 1);
    if (measured)
        marker("CMEND");
    /* The ring fd polls readable once the completion is posted. */
    struct pollfd pfd = { ring->ring_fd, POLLIN, 0 };
    CHECK(poll(&pfd, 1, 10000) == 1);
    if (measured)
        marker("CMBEGIN");
    CHECK(io_uring_wait_cqe(ring, &cqe) == 0);
    CHECK(cqe->res == (int)SIZE);
    io_uring_cqe_seen(ring, cqe);
    verify(buf, want);
    if (measured)
        marker("CMEND");
}

static int run_floor(const char *file, const uint8_t *want)
{
    struct io_uring ring;
    void *buf;
    CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    int fd = open(file, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return 3;
    CHECK(posix_memalign(&buf, 4096, SIZE) == 0);
    memset(buf, 0, SIZE);
    struct iovec iov = { buf, SIZE };
    CHECK(io_uring_register_buffers(&ring, &iov, 1) == 0);
    for (int i = 0; i < 3; i++)
        floor_cycle(&ring, fd, buf, SIZE, want, i == 2);
    io_uring_queue_exit(&ring);
    close(fd);
    free(buf);
    return 0;
}

static void pool_cycle(cm_handle_t pool, cm_dma_buffer_t buf, uint64_t off, const uint8_t *want,
                       int measured)
{
    cm_dma_fence_t fence;
    cm_dma_completion_t c;
    void *p;
    cm_dma_op_t op = { CM_DMA_OP_READ, 0, SIZE, 0, off };
    if (measured)
        marker("CMBEGIN");
    CHECK(cm_dma_submit(pool, buf, &op, &fence) == CM_OK);
    if (measured)
        marker("CMEND");
    CHECK(cm__dma_wait_posted(pool, 10000000000ll) == CM_OK);
    if (measured)
        marker("CMBEGIN");
    CHECK(cm_dma_fence_wait(pool, fence, CM_TIMEOUT_INFINITE, &c) == CM_OK);
    CHECK(c.status == CM_OK && c.bytes == SIZE && c.buffer == buf);
    CHECK(cm_dma_buffer_map(pool, buf, &p, NULL) == CM_OK);
    verify(p, want);
    if (measured)
        marker("CMEND");
}

static int run_pool(const char *file, const uint8_t *want, uint32_t options)
{
    cm_handle_t pool;
    cm_dma_buffer_t buf;
    void *p;
    cm_dma_pool_config_t cfg = { 1, SIZE, 1, options };
    CHECK(cm_dma_pool_create(&cfg, &pool) == CM_OK);
    if (cm_dma_pool_attach(pool, file, CM_DMA_ATTACH_READ) != CM_OK)
        return 3;
    CHECK(cm_dma_buffer_acquire(pool, &buf) == CM_OK);
    CHECK(cm_dma_buffer_map(pool, buf, &p, NULL) == CM_OK);
    memset(p, 0, SIZE);
    for (int i = 0; i < 3; i++)
        pool_cycle(pool, buf, SIZE, want, i == 2);
    CHECK(cm_handle_close(pool) == CM_OK);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: syscall_dma floor|pool|guarded FILE\n");
        return 2;
    }
    static uint8_t want[SIZE];
    int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(pread(fd, want, SIZE, SIZE) == (ssize_t)SIZE);
    close(fd);
    if (strcmp(argv[1], "floor") == 0)
        return run_floor(argv[2], want);
    if (strcmp(argv[1], "pool") == 0)
        return run_pool(argv[2], want, 0);
    if (strcmp(argv[1], "guarded") == 0)
        return run_pool(argv[2], want, CM_DMA_POOL_CPU_GUARD);
    fprintf(stderr, "syscall_dma: unknown variant %s\n", argv[1]);
    return 2;
}
