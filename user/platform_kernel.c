/* apps/platform.h on the kernel target.
 *
 * app_run_pair spawns this same program image (argv[0]) in the SECOND role
 * with one end of a fresh channel as its only start-up handle. In that
 * process, app_run_pair runs `second` and exits with its result, so an
 * app's main() never needs to know which role it is. */
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmk.h"
#include "riscv_time.h"
#include "sha256.h"

int app_run_pair(app_role_fn first, app_role_fn second, int argc, char **argv)
{
    if (cmk_role() == CMK_ROLE_SECOND) {
        if (cmk_startup_handle_count() != 1)
            exit(3);
        exit(second(cmk_startup_handle(0), argc, argv) == 0 ? 0 : 1);
    }
    cm_handle_t mine, theirs;
    cm_status_t st = cm_channel_create(0, &mine, &theirs);
    if (st != CM_OK)
        return 1;
    int32_t pid = cmk_spawn(cmk_program_name(), (const char *const *)(argv + 1),
                            argc > 0 ? (uint32_t)(argc - 1) : 0, &theirs, 1, CMK_ROLE_SECOND);
    if (pid < 0) {
        printf("app_run_pair: spawn failed: %s\n", cm_status_name(pid));
        cm_handle_close(mine);
        cm_handle_close(theirs);
        return 1;
    }
    int rc = first(mine, argc, argv);
    cmk_exit_info_t info;
    st = cmk_wait(pid, &info);
    if (st != CM_OK || info.reason != CMK_EXIT_NORMAL || info.code != 0)
        return 1;
    return rc == 0 ? 0 : 1;
}

void app_sha256(const void *data, size_t len, uint8_t digest[32])
{
    cm_sha256(data, len, digest);
}

uint64_t app_now_ns(void)
{
    return cmk_rdtime_ns();
}
