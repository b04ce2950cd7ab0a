/* SPDX-License-Identifier: MIT */
#include "fsize.h"

int lower_fsize(rlim_t soft, struct rlimit *was)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, was) != 0)
        return -1;
    rl.rlim_cur = soft;
    rl.rlim_max = was->rlim_max;
    return setrlimit(RLIMIT_FSIZE, &rl);
}
