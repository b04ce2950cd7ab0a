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

/* Reads len bytes at offset of the file or block device at path with the
 * CPU (no DMA): the reference an app compares a DMA read with. len bytes
 * must exist there. Errors: NOT_FOUND, ACCESS_DENIED, OUT_OF_RANGE (fewer
 * bytes there), IO; UNSUPPORTED where the target has no such read. */
cm_status_t app_read_range(const char *path, uint64_t offset, uint64_t len, void *buf);

/* SHA-256 of len bytes. */
void app_sha256(const void *data, size_t len, uint8_t digest[32]);

/* Monotonic time in nanoseconds. */
uint64_t app_now_ns(void);

#endif
