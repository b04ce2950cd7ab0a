/* capmem: share a file's bytes with another process as an immutable VMO.
 *
 *   capmem recv [--count N] [--timeout SECONDS] PATH
 *   capmem send [--timeout SECONDS] PATH FILE
 *
 * The two sides are unrelated processes meeting at a UNIX socket path.
 * send snapshots FILE into a VMO sealed IMMUTABLE by the kernel and sends a
 * handle without WRITE. recv trusts nothing the sender says: the size and
 * immutability come from the object (cm_vmo_get_info), the sender's identity
 * from the kernel (SO_PEERCRED). It maps the object read-only, hashes it in
 * place and replies the digest, which send compares with its own.
 *
 * Protocol (one capmem channel message each way):
 *   send -> recv: bytes "capmem-send v1", one VMO handle
 *   recv -> send: "sha256:" + 32 digest bytes, or "error:" + a reason
 *
 * Exit status: 0 success, 1 failure (including a refused object or a digest
 * mismatch), 2 usage error. Diagnostics go to stderr prefixed "capmem:". */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <capmem/host.h>
#include "../apps/app_util.h"

/* A full listener backlog is retried every 10 ms for up to 10 s. */
#define CONNECT_RETRIES  1000
#define CONNECT_RETRY_NS 10000000L

#define HELLO "capmem-send v1"
#define REPLY_OK "sha256:"
#define REPLY_ERR "error:"
#define MAX_TIMEOUT_S 1e6
#define MAX_COUNT 1000000L

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: capmem recv [--count N] [--timeout SECONDS] PATH\n"
    "       capmem send [--timeout SECONDS] PATH FILE\n"
    "       capmem --help\n"
    "\n"
    "Share a file's bytes between two processes without copying them through\n"
    "a socket: the sender seals them into an immutable memory object, the\n"
    "receiver maps that object read-only.\n"
    "\n"
    "commands:\n"
    "  recv PATH       listen on the UNIX socket PATH (which must not exist),\n"
    "                  accept one sender (N with --count), verify what arrives\n"
    "                  from the object itself (size, kernel-enforced\n"
    "                  immutability), hash it with SHA-256 and print size,\n"
    "                  immutability, the sender's pid/uid and the digest; the\n"
    "                  digest is sent back to the sender. PATH is removed on exit.\n"
    "  send PATH FILE  snapshot FILE into an immutable object, send it to the\n"
    "                  receiver at PATH and check the digest it replies against\n"
    "                  our own.\n"
    "\n"
    "options:\n"
    "  -c, --count N        (recv) serve N senders, one after another (default 1)\n"
    "  -t, --timeout SECS   give up when nothing arrives for SECS seconds (recv:\n"
    "                       waiting for a sender or its message; send: waiting\n"
    "                       for the reply). Default: wait indefinitely.\n"
    "  -h, --help           show this help and exit\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  failure: I/O or capmem error, timeout, object refused, digest mismatch\n"
    "  2  usage error\n";

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "capmem: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'capmem --help' for more information.\n");
}

/* Flushes stdout; a write error (a closed pipe: EPIPE, since SIGPIPE is
 * ignored; a full disk; RLIMIT_FSIZE: EFBIG) is reported on stderr.
 * Returns 1 if the report was lost. */
static int report_lost(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "capmem: writing the report to stdout: %s\n", strerror(errno));
    return 1;
}

static int fail(const char *what, const char *arg, cm_status_t st)
{
    if (arg != NULL)
        fprintf(stderr, "capmem: %s %s: %s\n", what, arg, cm_status_str(st));
    else
        fprintf(stderr, "capmem: %s: %s\n", what, cm_status_str(st));
    return EXIT_FAIL;
}

/* SHA-256 of a whole VMO, hashed in place through a read-only mapping. */
static cm_status_t hash_vmo(cm_handle_t vmo, uint64_t size, uint8_t digest[32])
{
    unsigned int n = 32;
    void *p;
    if (size == 0)
        return EVP_Digest("", 0, digest, &n, EVP_sha256(), NULL) == 1 ? CM_OK : CM_ERR_INTERNAL;
    cm_status_t st = cm_vmo_map(vmo, 0, size, CM_MAP_READ, &p);
    if (st != CM_OK)
        return st;
    if (EVP_Digest(p, (size_t)size, digest, &n, EVP_sha256(), NULL) != 1)
        st = CM_ERR_INTERNAL;
    cm_vmo_unmap(p, size);
    return st;
}

/* ---- options ---- */

struct opts {
    int64_t timeout_ns; /* CM_TIMEOUT_INFINITE unless --timeout */
    long count;
};

static int parse_timeout(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > MAX_TIMEOUT_S)
        return -1;
    *ns = (int64_t)(v * 1e9);
    return 0;
}

static int parse_count(const char *s, long *count)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_COUNT)
        return -1;
    *count = v;
    return 0;
}

/* Parses the options of a command (argv[0] is the command name). Returns
 * the index of the first operand, or -1 after printing a usage error, or
 * 0 when --help was printed. */
static int parse_opts(int argc, char **argv, int allow_count, struct opts *o)
{
    static const struct option longopts[] = {
        { "count", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    o->timeout_ns = CM_TIMEOUT_INFINITE;
    o->count = 1;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "+c:t:h", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 't':
            if (parse_timeout(optarg, &o->timeout_ns) != 0) {
                usage_error("invalid timeout '%s' (seconds, 0 to 1000000)", optarg);
                return -1;
            }
            break;
        case 'c':
            if (!allow_count) {
                usage_error("%s: --count is an option of recv only", argv[0]);
                return -1;
            }
            if (parse_count(optarg, &o->count) != 0) {
                usage_error("invalid count '%s' (a positive integer)", optarg);
                return -1;
            }
            break;
        default:
            if (optopt != 0 && strchr("ct", optopt) != NULL)
                usage_error("option requires an argument: %s", argv[optind - 1]);
            else
                usage_error("unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

/* ---- recv ---- */

/* The socket file to remove if a signal ends us (set while listening). */
static char listen_path[4096];
static volatile sig_atomic_t listening;

static void on_signal(int sig)
{
    if (listening)
        unlink(listen_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* Installs on_signal and fills *set with the signals it handles. */
static void catch_signals(sigset_t *set)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(set);
    for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++) {
        sigaction(cleanup_signals[i], &sa, NULL);
        sigaddset(set, cleanup_signals[i]);
    }
}

static void reply_error(cm_handle_t ch, const char *reason)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%s%s", REPLY_ERR, reason);
    cm_channel_write(ch, msg, (uint32_t)n, NULL, 0);
    fprintf(stderr, "capmem: refused: %s\n", reason);
}

/* Receives, verifies, reports and answers one sender on channel ch. */
static int serve_one(cm_handle_t ch, int64_t timeout_ns)
{
    char msg[64];
    uint32_t nb = 0, nh = 0;
    cm_handle_t vmo = CM_HANDLE_INVALID;
    cm_vmo_info_t info;
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    uint8_t digest[32];
    char hx[65];
    int rc = EXIT_FAIL;

    cm_status_t st = cm_host_channel_peer_cred(ch, &pid, &uid, &gid);
    if (st != CM_OK)
        return fail("reading the sender's credentials", NULL, st);
    st = cm_channel_wait_readable(ch, timeout_ns);
    if (st == CM_ERR_TIMED_OUT) {
        fprintf(stderr, "capmem: timed out waiting for a message from pid %ld\n", (long)pid);
        return EXIT_FAIL;
    }
    if (st == CM_OK)
        st = cm_channel_read(ch, msg, sizeof(msg), &nb, &vmo, 1, &nh);
    if (st != CM_OK) {
        fprintf(stderr, "capmem: receiving from pid %ld: %s\n", (long)pid, cm_status_str(st));
        return EXIT_FAIL;
    }
    if (nh != 1 || nb != sizeof(HELLO) - 1 || memcmp(msg, HELLO, nb) != 0) {
        reply_error(ch, "not a capmem send message");
        goto out;
    }
    /* Everything below comes from the object and the kernel. */
    st = cm_vmo_get_info(vmo, &info);
    if (st != CM_OK) {
        reply_error(ch, st == CM_ERR_WRONG_TYPE ? "the handle is not a VMO"
                                                 : cm_status_str(st));
        goto out;
    }
    if (!(info.flags & CM_VMO_INFO_IMMUTABLE)) {
        reply_error(ch, "the object is not sealed immutable by the kernel");
        goto out;
    }
    if ((info.rights & (CM_RIGHT_READ | CM_RIGHT_MAP)) != (CM_RIGHT_READ | CM_RIGHT_MAP)) {
        reply_error(ch, "the handle does not allow a read-only mapping");
        goto out;
    }
    st = hash_vmo(vmo, info.size, digest);
    if (st != CM_OK) {
        reply_error(ch, cm_status_str(st));
        goto out;
    }
    app_hex_digest(digest, hx);
    printf("size: %llu\n", (unsigned long long)info.size);
    printf("pages: %u bytes%s\n", (unsigned)info.page_size,
           (info.flags & CM_VMO_INFO_HUGE) ? " (huge)" : "");
    printf("immutable: yes\n");
    printf("sender: pid %ld uid %ld gid %ld\n", (long)pid, (long)uid, (long)gid);
    printf("sha256: %s\n", hx);
    /* A closed or full stdout is our failure, not the sender's: it still
     * gets its digest, and the exit status says the report was lost. */
    int lost = report_lost();

    char reply[sizeof(REPLY_OK) - 1 + 32];
    memcpy(reply, REPLY_OK, sizeof(REPLY_OK) - 1);
    memcpy(reply + sizeof(REPLY_OK) - 1, digest, 32);
    st = cm_channel_write(ch, reply, sizeof(reply), NULL, 0);
    if (st != CM_OK) {
        fail("replying the digest to the sender", NULL, st);
        goto out;
    }
    rc = lost ? EXIT_FAIL : EXIT_OK;
out:
    cm_handle_close(vmo);
    return rc;
}

static int cmd_recv(int argc, char **argv)
{
    struct opts o;
    cm_handle_t lis, ch;
    int first = parse_opts(argc, argv, 1, &o);
    if (first <= 0)
        return first == 0 ? EXIT_OK : EXIT_USAGE;
    if (argc - first != 1) {
        usage_error("%s", argc - first < 1 ? "recv: missing PATH" : "recv: too many operands");
        return EXIT_USAGE;
    }
    const char *path = argv[first];
    if (strlen(path) >= sizeof(listen_path)) {
        usage_error("recv: path too long: %s", path);
        return EXIT_USAGE;
    }
    strcpy(listen_path, path);
    /* Signals wait until `listening` says whether the file is ours, so a
     * signal can neither leave our socket behind nor remove another's. */
    sigset_t sigs, old_mask;
    catch_signals(&sigs);
    sigprocmask(SIG_BLOCK, &sigs, &old_mask);
    cm_status_t st = cm_host_listen(path, &lis);
    listening = st == CM_OK;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (st == CM_ERR_ALREADY_EXISTS) {
        fprintf(stderr, "capmem: cannot listen on %s: %s (if no receiver is running, "
                        "remove the stale file)\n", path, cm_status_str(st));
        return EXIT_FAIL;
    }
    if (st != CM_OK)
        return fail("cannot listen on", path, st);

    int rc = EXIT_OK;
    for (long i = 0; i < o.count; i++) {
        st = cm_host_accept(lis, o.timeout_ns, &ch);
        if (st == CM_ERR_TIMED_OUT) {
            fprintf(stderr, "capmem: timed out waiting for a sender on %s\n", path);
            rc = EXIT_FAIL;
            break;
        }
        if (st != CM_OK) {
            fail("accepting a sender on", path, st);
            rc = EXIT_FAIL;
            break;
        }
        if (i > 0)
            printf("\n");
        if (serve_one(ch, o.timeout_ns) != EXIT_OK)
            rc = EXIT_FAIL;
        cm_handle_close(ch);
    }
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    cm_handle_close(lis); /* removes the socket file */
    listening = 0;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return rc;
}

/* ---- send ---- */

/* Opens FILE as a VMO window (no copy yet). Prints its own errors. */
static int open_file(const char *file, cm_handle_t *win)
{
    struct stat sb;
    if (stat(file, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "capmem: %s: not a regular file\n", file);
        return EXIT_FAIL;
    }
    cm_status_t st = cm_vmo_create_from_file(file, 0, CM_VMO_TO_END, win);
    if (st == CM_ERR_OUT_OF_RANGE) {
        fprintf(stderr, "capmem: %s: larger than the largest object (%llu bytes)\n", file,
                (unsigned long long)CM_VMO_MAX_SIZE);
        return EXIT_FAIL;
    }
    if (st != CM_OK)
        return fail("cannot read", file, st);
    return EXIT_OK;
}

/* Copies the window once into an object the kernel keeps immutable: the
 * file itself could change under the receiver. */
static int make_snapshot(const char *file, cm_handle_t win, cm_handle_t *out, uint64_t *size)
{
    cm_status_t st = cm_vmo_snapshot(win, out);
    if (st != CM_OK)
        return fail("snapshotting", file, st);
    st = cm_vmo_get_size(*out, size);
    if (st != CM_OK) {
        cm_handle_close(*out);
        return fail("sizing the snapshot of", file, st);
    }
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
        fprintf(stderr, "capmem: timed out waiting for the receiver's reply\n");
        return EXIT_FAIL;
    }
    if (st == CM_OK)
        st = cm_channel_read(ch, reply, sizeof(reply) - 1, &nb, NULL, 0, &nh);
    if (st == CM_ERR_PEER_CLOSED) {
        fprintf(stderr, "capmem: the receiver closed the connection without replying\n");
        return EXIT_FAIL;
    }
    if (st != CM_OK)
        return fail("reading the receiver's reply", NULL, st);
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

static int cmd_send(int argc, char **argv)
{
    struct opts o;
    cm_handle_t ch, vmo, shared;
    uint64_t size = 0;
    uint8_t mine[32];
    char hx[65];
    int first = parse_opts(argc, argv, 0, &o);
    if (first <= 0)
        return first == 0 ? EXIT_OK : EXIT_USAGE;
    if (argc - first != 2) {
        usage_error("%s", argc - first < 2 ? "send: missing PATH or FILE"
                                           : "send: too many operands");
        return EXIT_USAGE;
    }
    const char *path = argv[first], *file = argv[first + 1];

    /* Check the file, then the receiver, and only then copy: no point
     * copying a large file for nobody. */
    cm_handle_t win;
    int rc = open_file(file, &win);
    if (rc != EXIT_OK)
        return rc;
    /* A listener whose backlog is full answers SHOULD_WAIT (connect never
     * blocks): retry for a bounded time while the receiver accepts. */
    cm_status_t st = cm_host_connect(path, &ch);
    for (int tries = 0; st == CM_ERR_SHOULD_WAIT && tries < CONNECT_RETRIES; tries++) {
        nanosleep(&(struct timespec){ 0, CONNECT_RETRY_NS }, NULL);
        st = cm_host_connect(path, &ch);
    }
    if (st == CM_ERR_NOT_FOUND || st == CM_ERR_CONNECTION_REFUSED) {
        fprintf(stderr, "capmem: cannot connect to %s: %s (is 'capmem recv %s' running?)\n",
                path, cm_status_str(st), path);
        cm_handle_close(win);
        return EXIT_FAIL;
    }
    if (st != CM_OK) {
        cm_handle_close(win);
        return fail("cannot connect to", path, st);
    }
    rc = make_snapshot(file, win, &vmo, &size);
    cm_handle_close(win);
    if (rc != EXIT_OK)
        goto out_ch;
    st = hash_vmo(vmo, size, mine);
    if (st != CM_OK) {
        rc = fail("hashing", file, st);
        goto out_vmo;
    }
    /* The receiver may read and map; it may not pass the object on. */
    st = cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &shared);
    if (st == CM_OK)
        st = cm_channel_write(ch, HELLO, sizeof(HELLO) - 1, &shared, 1);
    if (st != CM_OK) {
        rc = fail("sending to", path, st);
        goto out_vmo;
    }
    app_hex_digest(mine, hx);
    printf("sent: %s (%llu bytes, immutable)\n", file, (unsigned long long)size);
    cm_vmo_info_t info;
    if (cm_vmo_get_info(vmo, &info) == CM_OK)
        printf("pages: %u bytes%s\n", (unsigned)info.page_size,
               (info.flags & CM_VMO_INFO_HUGE) ? " (huge)" : "");
    printf("sha256: %s\n", hx);
    int lost = report_lost();
    rc = check_reply(ch, o.timeout_ns, mine);
    if (rc == EXIT_OK && (lost || report_lost()))
        rc = EXIT_FAIL;
out_vmo:
    cm_handle_close(vmo);
out_ch:
    cm_handle_close(ch);
    return rc;
}

int main(int argc, char **argv)
{
    /* Writing to a closed pipe or past RLIMIT_FSIZE would kill us by a
     * signal (SIGPIPE, SIGXFSZ) before recv could remove its socket file or
     * answer its sender: as errors, they take the ordinary exit path. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage_error("%s", "missing command");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "recv") == 0)
        return cmd_recv(argc - 1, argv + 1);
    if (strcmp(cmd, "send") == 0)
        return cmd_send(argc - 1, argv + 1);
    usage_error("unknown command '%s'", cmd);
    return EXIT_USAGE;
}
