/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockdir.h"

char sock_dir[64];
char sock_path[128];

int sockdir_setup(void **state)
{
    strcpy(sock_dir, "/tmp/cm-test-XXXXXX");
    if (mkdtemp(sock_dir) == NULL)
        return -1;
    snprintf(sock_path, sizeof(sock_path), "%s/sock", sock_dir);
    return leak_setup(state);
}

int sockdir_teardown(void **state)
{
    unlink(sock_path);
    rmdir(sock_dir);
    return leak_teardown(state);
}
