/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_DMA_TESTUTIL_H
#define CAPMEM_TESTS_DMA_TESTUTIL_H

/* Helpers shared by the DMA host tests (header-only: each test program is
 * one .c file). The real device is a file on a filesystem that does direct
 * I/O to a block device; tmpfs does not (it accepts O_DIRECT since Linux 6.6
 * but copies), so directories are tried in order and the first one the pool
 * accepts is used. Tests that need it are skipped, never faked, without. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/dma.h>
#include <capmem/host.h>
#include <capmem/host_dma.h>
#include "common/leakcheck.h"

/* The test file's content: byte i is a function of i (not of the block), so
 * a read at the wrong offset is caught. */
static inline uint8_t dma_pattern(uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ull;
    return (uint8_t)(x >> 56) ^ (uint8_t)i;
}

static char dma_file_path[512];

static void dma_file_cleanup(void)
{
    if (dma_file_path[0] != '\0')
        unlink(dma_file_path);
}

static inline const char *dma_fs_name(const char *path)
{
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return "?";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794c7630: return "overlayfs";
    default: return "other";
    }
}

/* Creates (once per process) a file of `size` bytes of dma_pattern on a
 * filesystem where cm_dma_pool_attach succeeds; NULL if there is none. */
static inline const char *dma_test_file(uint64_t size)
{
    if (dma_file_path[0] != '\0')
        return dma_file_path;
    const char *dirs[] = { getenv("CAPMEM_DMA_DIR"), "/var/tmp", "/tmp", "." };
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        if (dirs[d] == NULL)
            continue;
        snprintf(dma_file_path, sizeof(dma_file_path), "%s/capmem-dma-test-%d.bin", dirs[d],
                 (int)getpid());
        int fd = open(dma_file_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            continue;
        static uint8_t chunk[1 << 16];
        int ok = 1;
        for (uint64_t off = 0; off < size && ok; off += sizeof(chunk)) {
            for (size_t i = 0; i < sizeof(chunk); i++)
                chunk[i] = dma_pattern(off + i);
            size_t n = size - off < sizeof(chunk) ? (size_t)(size - off) : sizeof(chunk);
            ok = pwrite(fd, chunk, n, (off_t)off) == (ssize_t)n;
        }
        ok = ok && fsync(fd) == 0;
        close(fd);
        cm_handle_t pool;
        cm_dma_pool_config_t cfg = { 1, CM_PAGE_SIZE, 1, 0 };
        if (ok && cm_dma_pool_create(&cfg, &pool) == CM_OK) {
            cm_status_t st = cm_dma_pool_attach(pool, dma_file_path, CM_DMA_ATTACH_READ);
            cm_handle_close(pool);
            if (st == CM_OK) {
                printf("# device: %s (%s, O_DIRECT through io_uring)\n", dma_file_path,
                       dma_fs_name(dma_file_path));
                atexit(dma_file_cleanup);
                return dma_file_path;
            }
            printf("# %s (%s) refused as a DMA device: %s\n", dirs[d],
                   dma_fs_name(dma_file_path), cm_status_name(st));
        }
        unlink(dma_file_path);
    }
    dma_file_path[0] = '\0';
    return NULL;
}

/* Size of the shared test file: enough for 16 x 1 MiB reads. */
#define DMA_TEST_FILE_SIZE (16ull << 20)

/* Options of the pools dma_make_pool (and so dma_file_pool, dma_pipe_pool)
 * creates: 0, the default pool, unless a test runs in guarded mode
 * (DMA_IN_GUARDED_MODE). A test file's setup resets it to 0. */
static uint32_t dma_pool_options;

/* Defines t_in_guarded_mode: test t again, every pool it makes with the
 * MMU guard (CM_DMA_POOL_CPU_GUARD). Rules the API enforces are tested in
 * both modes: the default pool must not rely on the MMU for them. */
#define DMA_IN_GUARDED_MODE(t)                          \
    static void t##_in_guarded_mode(void **state)       \
    {                                                   \
        dma_pool_options = CM_DMA_POOL_CPU_GUARD;       \
        t(state);                                       \
        dma_pool_options = 0;                           \
    }

static inline cm_handle_t dma_make_pool(uint32_t count, uint32_t size, uint32_t in_flight)
{
    cm_handle_t pool = CM_HANDLE_INVALID;
    cm_dma_pool_config_t cfg = { count, size, in_flight, dma_pool_options };
    assert_status(cm_dma_pool_create(&cfg, &pool), CM_OK);
    return pool;
}

/* A pool on the real device file, or skip the test. */
static inline cm_handle_t dma_file_pool(uint32_t count, uint32_t size, uint32_t in_flight,
                                        uint32_t flags)
{
    const char *path = dma_test_file(DMA_TEST_FILE_SIZE);
    if (path == NULL)
        skip();
    cm_handle_t pool = dma_make_pool(count, size, in_flight);
    assert_status(cm_dma_pool_attach(pool, path, flags), CM_OK);
    return pool;
}

/* A pool whose device is a pipe: reads complete exactly when the test
 * writes, so "in flight" lasts as long as the test wants. *wfd is the
 * write end, kept by the test. */
static inline cm_handle_t dma_pipe_pool(uint32_t count, uint32_t size, uint32_t in_flight,
                                        int *wfd)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    cm_handle_t pool = dma_make_pool(count, size, in_flight);
    assert_status(cm_host_dma_attach_fd(pool, p[0], CM_DMA_ATTACH_READ), CM_OK);
    close(p[0]);
    *wfd = p[1];
    return pool;
}

static inline cm_dma_fence_t dma_submit_read(cm_handle_t pool, cm_dma_buffer_t b,
                                             uint32_t boff, uint32_t len, uint64_t doff)
{
    cm_dma_op_t op = { CM_DMA_OP_READ, boff, len, 0, doff };
    cm_dma_fence_t f = CM_DMA_FENCE_INVALID;
    assert_status(cm_dma_submit(pool, b, &op, &f), CM_OK);
    return f;
}

#endif
