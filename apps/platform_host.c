/* SPDX-License-Identifier: MIT */
/* apps/platform.h on Linux: fork for the peer, OpenSSL for SHA-256. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

/* Flushes stdout; 1 if what was printed was lost (a closed pipe, a full
 * disk, RLIMIT_FSIZE): a role that printed its markers into nothing has
 * not shown anything, so the process fails, by status, not by a signal. */
static int stdout_lost(void)
{
    return fflush(stdout) != 0 || ferror(stdout);
}

/* Waits for the peer: only EINTR is retried. Any other failure (ECHILD:
 * the child was reaped elsewhere, e.g. SIGCHLD ignored) ends the wait with
 * an error instead of spinning. Returns 0 or -1 with errno set. */
static int wait_child(pid_t pid, int *status)
{
    pid_t r;
    while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    return r == pid ? 0 : -1;
}

/* Reaps one peer and says why it failed, if it did. Returns 0 if it exited
 * with status 0. */
static int peer_ok(pid_t pid)
{
    int status;
    if (wait_child(pid, &status) != 0) {
        perror("waitpid");
        return 0;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr, "peer process killed by signal %d\n", WTERMSIG(status));
        else
            fprintf(stderr, "peer process failed (exit status %d)\n", WEXITSTATUS(status));
        return 0;
    }
    return 1;
}

int app_run_group(app_group_fn first, app_role_fn second, uint32_t n, int argc, char **argv)
{
    cm_handle_t mine[APP_GROUP_MAX], theirs[APP_GROUP_MAX];
    pid_t pids[APP_GROUP_MAX];
    uint32_t started = 0;
    int rc = 1;

    if (n == 0 || n > APP_GROUP_MAX) {
        fprintf(stderr, "app_run_group: %u processes (1..%u)\n", n, APP_GROUP_MAX);
        return 1;
    }
    /* Every process writes to one terminal or pipe: line buffering keeps
     * each marker line whole and in the order it was printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A closed stdout pipe or RLIMIT_FSIZE would kill a process by a signal
     * in the middle of a role (SIGPIPE, SIGXFSZ), leaving its peers to find
     * a dead channel: as errors, they end in the exit status. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    for (uint32_t i = 0; i < n; i++) {
        cm_status_t st = cm_channel_create(0, &mine[i], &theirs[i]);
        if (st != CM_OK) {
            fprintf(stderr, "cannot create channel: %s\n", cm_status_str(st));
            for (uint32_t k = 0; k < i; k++) {
                cm_handle_close(mine[k]);
                cm_handle_close(theirs[k]);
            }
            return 1;
        }
    }
    fflush(NULL);
    for (; started < n; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            break;
        }
        if (pid == 0) {
            /* The child keeps only its own end. */
            for (uint32_t k = 0; k < n; k++) {
                cm_handle_close(mine[k]);
                if (k != started)
                    cm_handle_close(theirs[k]);
            }
            int crc = second(theirs[started], argc, argv);
            if (stdout_lost())
                crc = 1;
            fflush(NULL);
            _exit(crc == 0 ? 0 : 1);
        }
        pids[started] = pid;
    }
    for (uint32_t k = 0; k < n; k++)
        cm_handle_close(theirs[k]);
    if (started == n) {
        rc = first(mine, n, argc, argv);
        if (stdout_lost())
            rc = 1;
    } else {
        /* A partial group never runs: its peers see their channel close. */
        for (uint32_t k = 0; k < n; k++)
            cm_handle_close(mine[k]);
    }
    for (uint32_t k = 0; k < started; k++)
        if (!peer_ok(pids[k]))
            rc = 1;
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
    unsigned int n = 32;
    EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL);
}

uint64_t app_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

cm_status_t app_plain_read(const char *path, uint64_t offset, void *buf, uint64_t len)
{
    if (offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - offset)
        return CM_ERR_OUT_OF_RANGE;
    /* O_NONBLOCK: a FIFO cannot hold the open; it then fails the read. */
    int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? CM_ERR_NOT_FOUND : errno == EACCES || errno == EPERM
                                                        ? CM_ERR_ACCESS_DENIED : CM_ERR_IO;
    cm_status_t st = CM_OK;
    for (uint64_t done = 0; done < len;) {
        ssize_t n = pread(fd, (char *)buf + done, (size_t)(len - done), (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st = n == 0 ? CM_ERR_OUT_OF_RANGE : CM_ERR_IO;
            break;
        }
        done += (uint64_t)n;
    }
    close(fd);
    return st;
}

void app_eprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}
