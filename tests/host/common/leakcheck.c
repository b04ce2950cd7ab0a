/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <capmem/host.h>
#include "leakcheck.h"

struct snapshot {
    int fds;
    int maps;
    uint32_t handles;
    uint32_t mappings;
};

static struct snapshot before;

int count_open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own fd */
}

/* Counts memfd mappings: every VMO mapping shows as one. */
int count_maps(void)
{
    char line[512];
    int n = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return -1;
    /* Only shared-memory mappings: the allocator (and ASan's) map and unmap
     * anonymous memory on its own schedule, which is not a leak of ours. */
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, "/memfd:") != NULL)
            n++;
    fclose(f);
    return n;
}

static struct snapshot take(void)
{
    struct snapshot s = { count_open_fds(), count_maps(), cm_host_live_handles(),
                          cm_host_live_mappings() };
    return s;
}

int leak_setup(void **state)
{
    (void)state;
    before = take();
    return 0;
}

int leak_teardown(void **state)
{
    (void)state;
    struct snapshot after = take();
    if (after.fds != before.fds || after.handles != before.handles ||
        after.mappings != before.mappings || after.maps != before.maps) {
        fprintf(stderr, "LEAK: fds %d -> %d, maps %d -> %d, handles %u -> %u, "
                        "capmem mappings %u -> %u\n",
                before.fds, after.fds, before.maps, after.maps, before.handles,
                after.handles, before.mappings, after.mappings);
        return -1;
    }
    return 0;
}
