/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_APPS_PLATFORM_H
#define CAPMEM_APPS_PLATFORM_H

/* The only per-target piece of an app: how it starts its peer process, how it
 * hashes, and how it reads the clock. Implemented by apps/platform_host.c
 * (Linux: fork, OpenSSL) and by the kernel target's user runtime
 * (spawn syscall, core/sha256). Apps include this and <capmem/capmem.h>. */

#include <stddef.h>
#include <stdint.h>
#include <capmem/capmem.h>

/* A role of a two-process app: runs with the channel to its peer, returns 0
 * on success. It owns `peer` and closes it. */
typedef int (*app_role_fn)(cm_handle_t peer, int argc, char **argv);

/* Runs `first` in this process and `second` in a new process, connected by a
 * channel, both receiving argc/argv. Waits for the second process to end.
 * Returns 0 only if both roles returned 0 (and the second process exited
 * normally); otherwise nonzero. In the second process it never returns: the
 * process exits with status 0 if `second` returned 0, else 1. */
int app_run_pair(app_role_fn first, app_role_fn second, int argc, char **argv);

/* The most processes app_run_group starts. */
#define APP_GROUP_MAX 4

/* The first role of a group app: runs with one channel to each of the n
 * processes started in the second role (peers[i] to the i-th). It owns the
 * peers and closes them. */
typedef int (*app_group_fn)(const cm_handle_t *peers, uint32_t n, int argc, char **argv);

/* As app_run_pair, with n (1 .. APP_GROUP_MAX) processes in the second role,
 * each with its own channel to `first`. Waits for all of them. Returns 0
 * only if `first` and every second process succeeded. */
int app_run_group(app_group_fn first, app_role_fn second, uint32_t n, int argc, char **argv);

/* Reads len bytes at `offset` of block device `device` (the name an app
 * gives cm_dma_pool_attach) by the target's ordinary read path, never
 * through the caller's DMA pool: the reference a DMA read is compared with.
 * Host: pread of the file or block device (len bytes must be there,
 * else OUT_OF_RANGE). Kernel: the block service of the
 * driver that registered `device` (drivers/virtio_blk/vblk_proto.h), on the
 * channel the spawner gave this process as start-up handle 0; the driver
 * reads into its own buffers with its own requests. Errors: host
 * NOT_FOUND, ACCESS_DENIED, OUT_OF_RANGE, IO; kernel: NOT_FOUND (no
 * service channel), the driver's status, IO (a malformed reply). */
cm_status_t app_plain_read(const char *device, uint64_t offset, void *buf, uint64_t len);

/* Prints a diagnostic where the target's errors go: host stderr, kernel
 * the console (the only output there). */
void app_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SHA-256 of len bytes. */
void app_sha256(const void *data, size_t len, uint8_t digest[32]);

/* Monotonic time in nanoseconds. */
uint64_t app_now_ns(void);

#endif
