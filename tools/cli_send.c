/* SPDX-License-Identifier: MIT */
/* capmem send: snapshot a file (or stdin) into an immutable VMO, send it to
 * the receiver at a socket path and check the digest it replies. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "../apps/app_util.h"

/* A full listener backlog is retried for up to 10 s even without --wait. */
#define BACKLOG_WAIT_NS 10000000000ll
#define RETRY_MIN_NS 1000000ll  /* 1 ms: a receiver started just before is found at once */
#define RETRY_MAX_NS 50000000ll /* 50 ms: the longest a receiver that appears waits for us */

/* Statuses that mean "no receiver there yet": nothing at the path, or a
 * socket nobody listens on yet (recv binds the file, then listens), which
 * cm_host_connect reports as CONNECTION_REFUSED; a full queue is SHOULD_WAIT. */
static int not_there_yet(cm_status_t st)
{
    return st == CM_ERR_NOT_FOUND || st == CM_ERR_CONNECTION_REFUSED;
}

static void pause_ns(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000ll), (long)(ns % 1000000000ll) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Connects to the receiver at path. With --wait, "not there yet" is retried
 * (1 ms, doubling to 50 ms) until the receiver appears or the wait's limit
 * passes; a full backlog always is, for a bounded time. Prints its errors. */
static int connect_receiver(const char *path, const struct opts *o, cm_handle_t *ch)
{
    uint64_t start = cli_now_ns();
    int64_t backoff = RETRY_MIN_NS;
    for (;;) {
        cm_status_t st = cm_host_connect(path, ch);
        if (st == CM_OK)
            return EXIT_OK;
        int waiting = st == CM_ERR_SHOULD_WAIT || (o->wait && not_there_yet(st));
        if (!waiting) {
            cli_fail("cannot connect to", path, st);
            if (not_there_yet(st))
                fprintf(stderr, "capmem: is 'capmem recv %s' running? 'capmem send --wait' "
                                "waits for it\n", path);
            return EXIT_FAIL;
        }
        int64_t limit = st == CM_ERR_SHOULD_WAIT && !o->wait ? BACKLOG_WAIT_NS : o->wait_ns;
        int64_t waited = (int64_t)(cli_now_ns() - start);
        if (limit != CM_TIMEOUT_INFINITE && waited >= limit) {
            if (st == CM_ERR_SHOULD_WAIT)
                fprintf(stderr, "capmem: the receiver at %s accepts no connection "
                                "(its queue stayed full for %.3g s)\n", path, (double)waited / 1e9);
            else
                fprintf(stderr, "capmem: no receiver appeared at %s within %.3g s (--wait)\n",
                        path, (double)limit / 1e9);
            return EXIT_FAIL;
        }
        int64_t nap = backoff;
        if (limit != CM_TIMEOUT_INFINITE && limit - waited < nap)
            nap = limit - waited;
        pause_ns(nap);
        backoff = backoff * 2 > RETRY_MAX_NS ? RETRY_MAX_NS : backoff * 2;
    }
}

/* Opens FILE, refusing what is not a regular file without blocking on it
 * (a FIFO, a device); "-" is stdin, whatever it is. */
static int open_input(const char *file, int *fd)
{
    if (strcmp(file, "-") == 0) {
        *fd = STDIN_FILENO;
        return EXIT_OK;
    }
    int f = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0) {
        fprintf(stderr, "capmem: cannot open %s: %s\n", file, strerror(errno));
        return EXIT_FAIL;
    }
    struct stat sb;
    if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "capmem: %s: not a regular file (use '-' to send what is on stdin)\n",
                file);
        close(f);
        return EXIT_FAIL;
    }
    /* Refused before any receiver is bothered; a file that grows past the
     * limit while it is read is refused by cli_load. */
    if ((uint64_t)sb.st_size > CM_VMO_MAX_SIZE) {
        close(f);
        return cli_too_large(file);
    }
    *fd = f;
    return EXIT_OK;
}

/* Waits for and checks the receiver's reply against our digest. */
static int check_reply(cm_handle_t ch, int64_t timeout_ns, const uint8_t mine[32])
{
    char reply[256];
    uint32_t nb = 0, nh = 0;
    char hx[65];
    cm_status_t st = cm_channel_wait_readable(ch, timeout_ns);
    if (st == CM_ERR_TIMED_OUT) {
        fprintf(stderr, "capmem: timed out waiting for the receiver's reply (--timeout)\n");
        return EXIT_FAIL;
    }
    if (st == CM_OK)
        st = cm_channel_read(ch, reply, sizeof(reply) - 1, &nb, NULL, 0, &nh);
    if (st == CM_ERR_PEER_CLOSED) {
        fprintf(stderr, "capmem: the receiver closed the connection without replying\n");
        return EXIT_FAIL;
    }
    if (st != CM_OK)
        return cli_fail("reading the receiver's reply", NULL, st);
    reply[nb] = '\0';
    if (nb >= sizeof(REPLY_ERR) - 1 && memcmp(reply, REPLY_ERR, sizeof(REPLY_ERR) - 1) == 0) {
        fprintf(stderr, "capmem: the receiver refused the object: %s\n",
                reply + sizeof(REPLY_ERR) - 1);
        return EXIT_FAIL;
    }
    if (nb != sizeof(REPLY_OK) - 1 + 32 || memcmp(reply, REPLY_OK, sizeof(REPLY_OK) - 1) != 0) {
        fprintf(stderr, "capmem: malformed reply from the receiver (%u bytes)\n", nb);
        return EXIT_FAIL;
    }
    if (memcmp(reply + sizeof(REPLY_OK) - 1, mine, 32) != 0) {
        app_hex_digest((const uint8_t *)reply + sizeof(REPLY_OK) - 1, hx);
        fprintf(stderr, "capmem: DIGEST MISMATCH: the receiver hashed %s\n", hx);
        return EXIT_FAIL;
    }
    printf("receiver: sha256 ok\n");
    return EXIT_OK;
}

int cmd_send(int argc, char **argv, const struct opts *o)
{
    if (argc != 2) {
        cli_usage_error("%s", argc < 2 ? "send: missing PATH or FILE" : "send: too many operands");
        return EXIT_USAGE;
    }
    const char *path = argv[0], *file = argv[1];
    const char *name = strcmp(file, "-") == 0 ? "stdin" : file;
    cm_handle_t ch = CM_HANDLE_INVALID, vmo = CM_HANDLE_INVALID, shared;
    uint64_t size = 0;
    uint8_t mine[32];
    char hx[65];
    int fd = -1;
    int rc = open_input(file, &fd);
    if (rc != EXIT_OK)
        return rc;
    /* A regular file is copied only once a receiver is there; a pipe is
     * drained first, so that the receiver is not kept waiting on it. */
    struct stat sb;
    int drain_first = fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode);
    if (drain_first)
        rc = cli_load(fd, name, o->no_progress, &vmo, &size, mine);
    if (rc == EXIT_OK)
        rc = connect_receiver(path, o, &ch);
    if (rc == EXIT_OK && !drain_first)
        rc = cli_load(fd, name, o->no_progress, &vmo, &size, mine);
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc != EXIT_OK)
        goto out;
    /* The receiver may read, map and duplicate (to hand an fd to --exec);
     * never write. */
    cm_status_t st = cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_DUPLICATE |
                                                  CM_RIGHT_TRANSFER, &shared);
    if (st == CM_OK)
        st = cm_channel_write(ch, HELLO, sizeof(HELLO) - 1, &shared, 1);
    if (st != CM_OK) {
        rc = cli_fail("sending to", path, st);
        goto out;
    }
    app_hex_digest(mine, hx);
    printf("sent: %s (%llu bytes, immutable)\n", name, (unsigned long long)size);
    cm_vmo_info_t info;
    if (cm_vmo_get_info(vmo, &info) == CM_OK)
        printf("pages: %u bytes%s\n", (unsigned)info.page_size,
               (info.flags & CM_VMO_INFO_HUGE) ? " (huge)" : "");
    printf("sha256: %s\n", hx);
    int lost = cli_report_lost(stdout);
    rc = check_reply(ch, o->timeout_ns, mine);
    if (rc == EXIT_OK && (lost || cli_report_lost(stdout)))
        rc = EXIT_FAIL;
out:
    cm_handle_close(vmo);
    cm_handle_close(ch);
    return rc;
}
