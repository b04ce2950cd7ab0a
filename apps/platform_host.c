/* apps/platform.h on Linux: fork for the peer, OpenSSL for SHA-256. */
#include <errno.h>
#include <signal.h>
#include <openssl/evp.h>
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

int app_run_pair(app_role_fn first, app_role_fn second, int argc, char **argv)
{
    cm_handle_t a, b;
    /* Both processes write to one terminal or pipe: line buffering keeps
     * each marker line whole and in the order it was printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A closed stdout pipe or RLIMIT_FSIZE would kill either process by a
     * signal in the middle of a role (SIGPIPE, SIGXFSZ), leaving its peer
     * to find a dead channel: as errors, they end in the exit status. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    cm_status_t st = cm_channel_create(0, &a, &b);
    if (st != CM_OK) {
        fprintf(stderr, "cannot create channel: %s\n", cm_status_str(st));
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        cm_handle_close(a);
        cm_handle_close(b);
        return 1;
    }
    if (pid == 0) {
        cm_handle_close(a);
        int rc = second(b, argc, argv);
        if (stdout_lost())
            rc = 1;
        fflush(NULL);
        _exit(rc == 0 ? 0 : 1);
    }
    cm_handle_close(b);
    int rc = first(a, argc, argv);
    if (stdout_lost())
        rc = 1;
    int status;
    if (wait_child(pid, &status) != 0) {
        perror("waitpid");
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            fprintf(stderr, "peer process killed by signal %d\n", WTERMSIG(status));
        else
            fprintf(stderr, "peer process failed (exit status %d)\n", WEXITSTATUS(status));
        return 1;
    }
    return rc == 0 ? 0 : 1;
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
