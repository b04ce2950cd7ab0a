/* SPDX-License-Identifier: MIT */
/* capmem: share a file's bytes with another process as an immutable VMO.
 *
 *   capmem recv [--count N] [--timeout SECS] [--output FILE] [--exec CMD] PATH
 *   capmem send [--wait[=SECS]] [--timeout SECS] PATH FILE|-
 *   capmem info [--json] PATH | --fd N
 *
 * The two sides are unrelated processes meeting at a UNIX socket path.
 * send reads FILE into a VMO sealed IMMUTABLE by the kernel and sends a
 * handle without WRITE. recv trusts nothing the sender says: the size and
 * immutability come from the object (cm_vmo_get_info), the sender's identity
 * from the kernel (SO_PEERCRED). It maps the object read-only, hashes it in
 * place and replies the digest, which send compares with its own.
 * This file parses the command line; the commands are tools/cli_*.c.
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
#include <stdlib.h>
#include <string.h>

#include <capmem/version.h>

#include "cli.h"

#define MAX_TIMEOUT_S 1e6
#define MAX_COUNT 1000000L

static const char usage_text[] =
    "usage: capmem recv [OPTION]... PATH\n"
    "       capmem send [OPTION]... PATH FILE\n"
    "       capmem info [--json] PATH\n"
    "       capmem info [--json] --fd N\n"
    "       capmem --help | --version\n"
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
    "  send PATH FILE  read FILE ('-': stdin) to its end into an immutable\n"
    "                  object, send it to the receiver at PATH and check the\n"
    "                  digest it replies against our own.\n"
    "  info PATH       say what PATH is to capmem: a VMO (memfd, e.g.\n"
    "                  /proc/PID/fd/N) with its size, seals, immutability and\n"
    "                  the rights capmem derives; a file; or a socket, and\n"
    "                  whether a receiver listens on it (never connects).\n"
    "\n"
    "options (may follow the operands; '--' ends the options):\n"
    "  -c, --count N        (recv) serve N senders, one after another (default 1)\n"
    "  -t, --timeout SECS   give up when nothing arrives for SECS seconds (recv:\n"
    "                       waiting for a sender or its message; send: waiting\n"
    "                       for the reply). Default: wait indefinitely.\n"
    "  -o, --output FILE    (recv) write the received bytes to FILE, atomically\n"
    "                       (a temporary file renamed over FILE); '-': stdout,\n"
    "                       and the report goes to stderr\n"
    "  -e, --exec CMD       (recv) run CMD with /bin/sh for each object received,\n"
    "                       the object open read-only (sealed) as an fd: its\n"
    "                       path /proc/self/fd/N replaces '{}' in CMD and is in\n"
    "                       $CAPMEM_PATH; also $CAPMEM_FD, $CAPMEM_SIZE,\n"
    "                       $CAPMEM_SHA256, $CAPMEM_SENDER_PID, $CAPMEM_SENDER_UID\n"
    "      --max-size BYTES (recv) refuse an object larger than BYTES before\n"
    "                       hashing or writing it (default: CM_VMO_MAX_SIZE)\n"
    "  -w, --wait[=SECS]    (send) wait for a receiver to appear at PATH (up to\n"
    "                       SECS seconds; no limit without =SECS) instead of\n"
    "                       failing at once when there is none yet\n"
    "      --json           (info) print one JSON object\n"
    "      --fd N           (info) describe the open file descriptor N\n"
    "      --no-progress    no progress bar (one is drawn on stderr only when\n"
    "                       it is a terminal and the transfer is >= 256 MiB)\n"
    "  -h, --help           show this help and exit\n"
    "      --version        print the version and exit\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  failure: I/O or capmem error, timeout, object refused, digest mismatch,\n"
    "     --exec command failed\n"
    "  2  usage error\n";

static int parse_seconds(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > MAX_TIMEOUT_S)
        return -1;
    *ns = (int64_t)(v * 1e9);
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

enum { OPT_JSON = 256, OPT_FD, OPT_NO_PROGRESS, OPT_VERSION, OPT_MAX_SIZE };

/* Which command each option belongs to ("" = every command). */
static const struct { int opt; const char *name; const char *cmd; } owners[] = {
    { 'c', "--count", "recv" },  { 'o', "--output", "recv" }, { 'e', "--exec", "recv" },
    { 'w', "--wait", "send" },   { 't', "--timeout", "recv send" },
    { OPT_JSON, "--json", "info" }, { OPT_FD, "--fd", "info" },
    { OPT_NO_PROGRESS, "--no-progress", "recv send" }, { OPT_MAX_SIZE, "--max-size", "recv" },
};

static int belongs(int opt, const char *cmd, const char **name, const char **cmds)
{
    for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        if (owners[i].opt != opt)
            continue;
        *name = owners[i].name;
        *cmds = owners[i].cmd;
        return strstr(owners[i].cmd, cmd) != NULL;
    }
    return 1;
}

/* Parses argv (argv[0]: the command) in GNU order: options anywhere, "--"
 * ends them; getopt_long permutes the operands to the end. Returns the
 * index of the first operand, -1 after a usage error, 0 after --help or
 * --version. */
static int parse_opts(int argc, char **argv, const char *cmd, struct opts *o)
{
    static const struct option longopts[] = {
        { "count", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 't' },
        { "output", required_argument, NULL, 'o' },
        { "exec", required_argument, NULL, 'e' },
        { "wait", optional_argument, NULL, 'w' },
        { "json", no_argument, NULL, OPT_JSON },
        { "fd", required_argument, NULL, OPT_FD },
        { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
        { "max-size", required_argument, NULL, OPT_MAX_SIZE },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof(*o));
    o->timeout_ns = CM_TIMEOUT_INFINITE;
    o->wait_ns = CM_TIMEOUT_INFINITE;
    o->count = 1;
    o->fd = -1;
    o->max_size = CM_VMO_MAX_SIZE;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "c:t:o:e:w::h", longopts, NULL);
        if (c == -1)
            break;
        const char *name = NULL, *cmds = NULL;
        if (c != '?' && c != ':' && !belongs(c, cmd, &name, &cmds)) {
            fprintf(stderr, "capmem: %s: %s is an option of %s only\n"
                            "Try 'capmem --help' for more information.\n", cmd, name, cmds);
            return -1;
        }
        long v;
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case OPT_VERSION:
            printf("capmem %s\n", cm_version());
            return 0;
        case 't':
            if (parse_seconds(optarg, &o->timeout_ns) != 0) {
                cli_usage_error("invalid timeout '%s' (seconds, 0 to 1000000)", optarg);
                return -1;
            }
            break;
        case 'w':
            o->wait = 1;
            if (optarg != NULL && parse_seconds(optarg, &o->wait_ns) != 0) {
                cli_usage_error("invalid --wait limit '%s' (seconds, 0 to 1000000)", optarg);
                return -1;
            }
            break;
        case 'c':
            if (parse_long(optarg, 1, MAX_COUNT, &o->count) != 0) {
                cli_usage_error("invalid count '%s' (an integer, 1 to 1000000)", optarg);
                return -1;
            }
            break;
        case 'o':
            if (optarg[0] == '\0') {
                cli_usage_error("%s", "--output needs a file name ('-' for stdout)");
                return -1;
            }
            o->output = optarg;
            break;
        case 'e':
            if (optarg[0] == '\0') {
                cli_usage_error("%s", "--exec needs a command");
                return -1;
            }
            o->exec_cmd = optarg;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_FD:
            if (parse_long(optarg, 0, 1 << 30, &v) != 0) {
                cli_usage_error("invalid --fd '%s' (a file descriptor number)", optarg);
                return -1;
            }
            o->fd = (int)v;
            break;
        case OPT_NO_PROGRESS:
            o->no_progress = 1;
            break;
        case OPT_MAX_SIZE: {
            char *end;
            errno = 0;
            unsigned long long b = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || errno != 0 || *end != '\0' ||
                b > CM_VMO_MAX_SIZE) {
                cli_usage_error("invalid --max-size '%s' (bytes, 0 to CM_VMO_MAX_SIZE)", optarg);
                return -1;
            }
            o->max_size = b;
            break;
        }
        default:
            if (optopt != 0 && strchr("cteo", optopt) != NULL)
                cli_usage_error("option requires an argument: %s", argv[optind - 1]);
            else if (optopt == OPT_FD)
                cli_usage_error("%s", "option requires an argument: --fd");
            else if (optopt == OPT_MAX_SIZE)
                cli_usage_error("%s", "option requires an argument: --max-size");
            else
                cli_usage_error("unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (o->output != NULL && strcmp(o->output, "-") == 0 && o->count > 1) {
        cli_usage_error("%s", "recv: --output - serves one sender (not with --count)");
        return -1;
    }
    return optind;
}

int main(int argc, char **argv)
{
    /* Writing to a closed pipe or past RLIMIT_FSIZE would kill us by a
     * signal (SIGPIPE, SIGXFSZ) before recv could remove its socket file or
     * answer its sender: as errors, they take the ordinary exit path. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        cli_usage_error("%s", "missing command");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("capmem %s\n", cm_version());
        return EXIT_OK;
    }
    int (*run)(int, char **, const struct opts *) =
        strcmp(cmd, "recv") == 0 ? cmd_recv : strcmp(cmd, "send") == 0 ? cmd_send
        : strcmp(cmd, "info") == 0 ? cmd_info : NULL;
    if (run == NULL) {
        cli_usage_error("unknown command '%s' (recv, send, info)", cmd);
        return EXIT_USAGE;
    }
    struct opts o;
    int first = parse_opts(argc - 1, argv + 1, cmd, &o);
    if (first <= 0)
        return first == 0 ? EXIT_OK : EXIT_USAGE;
    return run(argc - 1 - first, argv + 1 + first, &o);
}
