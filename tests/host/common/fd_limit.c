/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fd_limit.h"

static int fill[256];
static int nfill;
static struct rlimit saved;

int leave_fds(int spare)
{
    int hi = 0;
    if (getrlimit(RLIMIT_NOFILE, &saved) != 0)
        return -1;
    for (int fd = 0; fd < 4096 && (rlim_t)fd < saved.rlim_cur; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            hi = fd;
    struct rlimit r = { (rlim_t)(hi + 1 + spare), saved.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    nfill = 0;
    while (nfill < (int)(sizeof(fill) / sizeof(fill[0]))) {
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            break;
        if (fd > hi) {
            close(fd);
            break;
        }
        fill[nfill++] = fd;
    }
    return 0;
}

int restore_fds(void)
{
    while (nfill > 0)
        close(fill[--nfill]);
    return setrlimit(RLIMIT_NOFILE, &saved);
}
