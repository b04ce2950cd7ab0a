/* SPDX-License-Identifier: MIT */
/* apps/platform.h on the kernel target.
 *
 * app_run_group (and app_run_pair, a group of one) spawns this same program
 * image (argv[0]) in the SECOND role, each process with one end of a fresh
 * channel as its only start-up handle. In that process, app_run_group runs
 * `second` and exits with its result, so an app's main() never needs to know
 * which role it is. */
#include <stdarg.h>
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmk.h"
#include "riscv_time.h"
#include "sha256.h"
#include "vblk_proto.h"

int app_run_group(app_group_fn first, app_role_fn second, uint32_t n, int argc, char **argv)
{
    if (cmk_role() == CMK_ROLE_SECOND) {
        if (cmk_startup_handle_count() != 1)
            exit(3);
        exit(second(cmk_startup_handle(0), argc, argv) == 0 ? 0 : 1);
    }
    if (n == 0 || n > APP_GROUP_MAX) {
        printf("app_run_group: %u processes (1..%u)\n", n, APP_GROUP_MAX);
        return 1;
    }
    cm_handle_t mine[APP_GROUP_MAX];
    int32_t pids[APP_GROUP_MAX];
    uint32_t started = 0;
    int rc = 1;
    for (; started < n; started++) {
        cm_handle_t theirs;
        cm_status_t st = cm_channel_create(0, &mine[started], &theirs);
        if (st != CM_OK) {
            printf("app_run_group: channel: %s\n", cm_status_name(st));
            break;
        }
        /* Each peer gets an equal share of this process's pools, the
         * first role keeps one too (docs/ledger.md); the default (half of
         * what is left) would starve the last of a group. */
        cmk_quota_t share;
        st = cmk_quota_share(&share, n + 1 - started);
        /* A failed spawn leaves the start-up handle here: closed below. */
        int32_t pid = st != CM_OK ? st
                                  : cmk_spawn_ex(cmk_program_name(),
                                                 (const char *const *)(argv + 1),
                                                 argc > 0 ? (uint32_t)(argc - 1) : 0, &theirs, 1,
                                                 CMK_ROLE_SECOND, &share, NULL);
        if (pid < 0) {
            printf("app_run_group: spawn failed: %s\n", cm_status_name(pid));
            cm_handle_close(mine[started]);
            cm_handle_close(theirs);
            break;
        }
        pids[started] = pid;
    }
    if (started == n) {
        rc = first(mine, n, argc, argv);
    } else {
        /* A partial group never runs: its peers see their channel close. */
        for (uint32_t k = 0; k < started; k++)
            cm_handle_close(mine[k]);
    }
    for (uint32_t k = 0; k < started; k++) {
        cmk_exit_info_t info;
        cm_status_t st = cmk_wait(pids[k], &info);
        if (st != CM_OK || info.reason != CMK_EXIT_NORMAL || info.code != 0)
            rc = 1;
    }
    return rc == 0 ? 0 : 1;
}

/* app_run_pair is a group of one. */
static app_role_fn pair_first;

static int pair_adapter(const cm_handle_t *peers, uint32_t n, int argc, char **argv)
{
    (void)n;
    return pair_first(peers[0], argc, argv);
}

int app_run_pair(app_role_fn first, app_role_fn second, int argc, char **argv)
{
    pair_first = first;
    return app_run_group(pair_adapter, second, 1, argc, argv);
}

void app_sha256(const void *data, size_t len, uint8_t digest[32])
{
    cm_sha256(data, len, digest);
}

uint64_t app_now_ns(void)
{
    return cmk_rdtime_ns();
}

/* One VBLK_OP_READ of at most VBLK_MAX_IO bytes; the data is copied out of
 * the sealed VMO the driver sends. Replies with another tag (the driver's
 * unasked ready message) are skipped, their handles closed. */
static cm_status_t plain_read_chunk(cm_handle_t ch, uint64_t offset, uint8_t *buf, uint32_t len,
                                    uint64_t tag)
{
    struct vblk_request rq = { VBLK_MAGIC, VBLK_OP_READ, offset, len, 0, tag };
    cm_status_t st = cm_channel_write(ch, &rq, sizeof(rq), NULL, 0);
    if (st != CM_OK)
        return st;
    for (;;) {
        struct vblk_reply rp;
        cm_handle_t vmo = CM_HANDLE_INVALID;
        uint32_t nb = 0, nh = 0;
        if ((st = cm_channel_wait_readable(ch, CM_TIMEOUT_INFINITE)) != CM_OK ||
            (st = cm_channel_read(ch, &rp, sizeof(rp), &nb, &vmo, 1, &nh)) != CM_OK)
            return st;
        if (nb != sizeof(rp) || rp.magic != VBLK_MAGIC || rp.tag != tag) {
            if (nh == 1)
                cm_handle_close(vmo);
            if (nb == sizeof(rp) && rp.magic == VBLK_MAGIC && rp.op == VBLK_OP_INFO)
                continue;
            return CM_ERR_IO;
        }
        if (rp.status != CM_OK || nh != 1 || rp.bytes != len) {
            if (nh == 1)
                cm_handle_close(vmo);
            return rp.status != CM_OK ? (cm_status_t)rp.status : CM_ERR_IO;
        }
        st = cm_vmo_read(vmo, buf, 0, len);
        cm_handle_close(vmo);
        return st;
    }
}

cm_status_t app_plain_read(const char *device, uint64_t offset, void *buf, uint64_t len)
{
    (void)device; /* the spawner gave the channel of the driver serving it */
    cm_handle_info_t hi;
    if (cmk_role() != CMK_ROLE_MAIN || cmk_startup_handle_count() < 1 ||
        cm_handle_get_info(cmk_startup_handle(0), &hi) != CM_OK || hi.type != CM_OBJ_CHANNEL)
        return CM_ERR_NOT_FOUND;
    cm_handle_t ch = cmk_startup_handle(0);
    uint8_t *p = buf;
    for (uint64_t done = 0, tag = 1; done < len; tag++) {
        uint32_t n = len - done < VBLK_MAX_IO ? (uint32_t)(len - done) : VBLK_MAX_IO;
        cm_status_t st = plain_read_chunk(ch, offset + done, p + done, n, tag);
        if (st != CM_OK)
            return st;
        done += n;
    }
    return CM_OK;
}

void app_eprintf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("%s", line);
}
