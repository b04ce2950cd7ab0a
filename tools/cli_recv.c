/* SPDX-License-Identifier: MIT */
/* capmem recv: listen at a socket path, verify what each sender sends from
 * the object itself, hash it in place, reply the digest; optionally write
 * the bytes to a file (--output) or hand the object to a command (--exec). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "../apps/app_util.h"

#define WRITE_CHUNK (8u << 20)

/* The socket file to remove if a signal ends us (set while listening). */
static char listen_path[4096];
static volatile sig_atomic_t listening;
/* The --output temporary file to remove if a signal ends us (set while it
 * exists: a signal never leaves a partial hidden file beside FILE). */
static const char *volatile output_tmp;
/* The signals on_signal handles: blocked while listening or output_tmp
 * changes. */
static sigset_t cleanup_set;

static void on_signal(int sig)
{
    if (listening)
        unlink(listen_path);
    if (output_tmp != NULL)
        unlink(output_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* Installs on_signal and fills *set (and cleanup_set) with the signals it
 * handles. */
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
    cleanup_set = *set;
}

static void reply_error(cm_handle_t ch, const char *reason)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%s%s", REPLY_ERR, reason);
    if (n >= (int)sizeof(msg))
        n = (int)sizeof(msg) - 1;
    cm_channel_write(ch, msg, (uint32_t)n, NULL, 0);
    fprintf(stderr, "capmem: refused: %s\n", reason);
}

/* What one sender sent, as verified. */
struct received {
    cm_handle_t vmo;
    cm_vmo_info_t info;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    char hex[65];
};

/* ---- --output ---- */

/* Bytes mapped at a time: bounded whatever the object's size. */
#define MAP_WINDOW (256ull << 20)

/* Milliseconds for poll(2) from --timeout: -1 (indefinitely) without it. */
static int timeout_ms(const struct opts *o)
{
    if (o->timeout_ns == CM_TIMEOUT_INFINITE)
        return -1;
    int64_t ms = (o->timeout_ns + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* A non-blocking fd (a FIFO, a tty) that accepts nothing for --timeout
 * fails with ETIMEDOUT: a reader that stops reading cannot hold us. */
static int write_all(int fd, const char *p, uint64_t len, uint64_t base, struct progress *pr,
                     const struct opts *o)
{
    for (uint64_t done = 0; done < len;) {
        size_t want = len - done < WRITE_CHUNK ? (size_t)(len - done) : WRITE_CHUNK;
        ssize_t k = write(fd, p + done, want);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            int n = poll(&pf, 1, timeout_ms(o));
            if (n == 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            if (n < 0 && errno != EINTR)
                return -1;
            continue;
        }
        if (k <= 0)
            return -1;
        done += (uint64_t)k;
        progress_update(pr, base + done);
    }
    return 0;
}

/* Writes the object's bytes to fd from read-only mappings, a window at a
 * time. On failure errno says why, or *st is a capmem status. */
static int write_object(const struct received *r, int fd, const struct opts *o, cm_status_t *st)
{
    uint64_t size = r->info.size;
    int bad = 0, saved = 0;
    *st = CM_OK;
    struct progress pr;
    progress_start(&pr, "writing", size, o->no_progress);
    for (uint64_t woff = 0; !bad && woff < size; woff += MAP_WINDOW) {
        uint64_t wlen = size - woff < MAP_WINDOW ? size - woff : MAP_WINDOW;
        void *p;
        if ((*st = cm_vmo_map(r->vmo, woff, wlen, CM_MAP_READ, &p)) != CM_OK) {
            bad = 1;
            break;
        }
        bad = write_all(fd, p, wlen, woff, &pr, o) != 0;
        saved = errno;
        cm_vmo_unmap(p, wlen);
    }
    progress_end(&pr);
    errno = saved;
    return bad ? -1 : 0;
}

/* An existing FILE that is not a regular file (a FIFO, /dev/null, a tty)
 * is written in place: renaming over it would replace the device itself. */
static const char *write_special(const struct received *r, const struct opts *o, const char *out)
{
    cm_status_t st;
    /* Non-blocking: a FIFO nobody opens for reading (ENXIO) is retried
     * until --timeout, never waited on past it. */
    uint64_t start = cli_now_ns();
    int fd;
    while ((fd = open(out, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0 && errno == ENXIO &&
           (o->timeout_ns == CM_TIMEOUT_INFINITE ||
            cli_now_ns() - start < (uint64_t)o->timeout_ns))
        poll(NULL, 0, 10);
    if (fd < 0 && errno == ENXIO) {
        fprintf(stderr, "capmem: --output %s: no reader opened it within %.3g s (--timeout)\n",
                out, (double)o->timeout_ns / 1e9);
        return "the receiver could not write its output";
    }
    if (fd < 0) {
        fprintf(stderr, "capmem: --output: cannot open %s: %s\n", out, strerror(errno));
        return "the receiver could not write its output";
    }
    int bad = write_object(r, fd, o, &st);
    int saved = errno;
    if (close(fd) != 0 && !bad)
        bad = 1, saved = errno;
    if (!bad)
        return NULL;
    if (st != CM_OK)
        cli_fail("mapping the object for", out, st);
    else if (saved == ETIMEDOUT)
        fprintf(stderr, "capmem: writing %s: nothing was read from it for %.3g s (--timeout)\n",
                out, (double)o->timeout_ns / 1e9);
    else
        fprintf(stderr, "capmem: writing %s: %s\n", out, strerror(saved));
    return "the receiver could not write its output";
}

/* FILE appears whole or not at all: a temporary file beside it, renamed
 * over it once complete (and synced). "-" is stdout. Returns a reason for
 * the sender, or NULL on success; prints the details on stderr. */
static const char *write_output(const struct received *r, const struct opts *o)
{
    cm_status_t st;
    const char *out = o->output;
    if (strcmp(out, "-") == 0) {
        if (write_object(r, STDOUT_FILENO, o, &st) != 0) {
            if (st != CM_OK)
                cli_fail("mapping the object for stdout", NULL, st);
            else
                fprintf(stderr, "capmem: writing the received bytes to stdout: %s\n",
                        strerror(errno));
            return "the receiver could not write its output";
        }
        return NULL;
    }
    struct stat sb;
    if (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode))
        return write_special(r, o, out);
    /* A symlink to a file: the file is replaced, the link stays. */
    char *real = lstat(out, &sb) == 0 && S_ISLNK(sb.st_mode) ? realpath(out, NULL) : NULL;
    if (real != NULL) {
        out = real;
    } else if (lstat(out, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        fprintf(stderr, "capmem: --output %s: a symbolic link to nothing (%s): not replaced\n",
                out, strerror(errno));
        return "the receiver could not write its output";
    }
    size_t n = strlen(out);
    char *dcopy = strdup(out), *bcopy = strdup(out), *tmp = malloc(n + 32);
    const char *reason = "the receiver could not write its output";
    int fd = -1;
    if (dcopy == NULL || bcopy == NULL || tmp == NULL) {
        fprintf(stderr, "capmem: --output %s: out of memory\n", out);
        goto done;
    }
    snprintf(tmp, n + 32, "%s/.%s.capmem-XXXXXX", dirname(dcopy), basename(bcopy));
    sigset_t old_mask;
    sigprocmask(SIG_BLOCK, &cleanup_set, &old_mask);
    fd = mkstemp(tmp);
    if (fd >= 0)
        output_tmp = tmp;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (fd < 0) {
        fprintf(stderr, "capmem: --output %s: cannot create a temporary file beside it: %s\n",
                out, strerror(errno));
        goto done;
    }
    /* As a shell redirection would make it: 0666 less the umask. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || write_object(r, fd, o, &st) != 0 || fsync(fd) != 0) {
        if (st != CM_OK)
            cli_fail("mapping the object for", out, st);
        else
            fprintf(stderr, "capmem: writing %s: %s\n", tmp, strerror(errno));
        goto done;
    }
    sigprocmask(SIG_BLOCK, &cleanup_set, &old_mask);
    int renamed = close(fd) == 0 && rename(tmp, out) == 0;
    int saved = errno;
    fd = -1;
    if (renamed)
        output_tmp = NULL;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (!renamed) {
        fprintf(stderr, "capmem: --output: renaming %s to %s: %s\n", tmp, out, strerror(saved));
        goto done;
    }
    reason = NULL;
done:
    if (output_tmp != NULL) {
        sigprocmask(SIG_BLOCK, &cleanup_set, &old_mask);
        unlink(tmp);
        output_tmp = NULL;
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
    }
    if (fd >= 0)
        close(fd);
    free(dcopy);
    free(bcopy);
    free(tmp);
    free(real);
    return reason;
}

/* ---- --exec ---- */

/* CMD with every "{}" replaced by path; NULL if out of memory. */
static char *substitute(const char *cmd, const char *path)
{
    size_t n = 0, plen = strlen(path);
    for (const char *c = cmd; (c = strstr(c, "{}")) != NULL; c += 2)
        n++;
    size_t len = strlen(cmd) + n * plen + 1; /* plen < 64: no overflow */
    char *s = malloc(len), *w = s;
    if (s == NULL)
        return NULL;
    for (const char *c = cmd; *c;) {
        if (c[0] == '{' && c[1] == '}') {
            memcpy(w, path, plen);
            w += plen;
            c += 2;
        } else {
            *w++ = *c++;
        }
    }
    *w = '\0';
    return s;
}

/* Runs CMD with /bin/sh, the object open read-only (sealed) as fd N, its
 * path /proc/self/fd/N in CAPMEM_PATH and "{}". Returns EXIT_OK if CMD
 * exited 0. */
static int run_exec(const struct received *r, const struct opts *o)
{
    int fd = -1;
    cm_status_t st = cm_host_vmo_export_fd(r->vmo, &fd);
    if (st != CM_OK)
        return cli_fail("--exec: exporting the received object as an fd", NULL, st);
    char path[64], num[24], size[24], pid[24], uid[24];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    snprintf(num, sizeof(num), "%d", fd);
    snprintf(size, sizeof(size), "%llu", (unsigned long long)r->info.size);
    snprintf(pid, sizeof(pid), "%ld", (long)r->pid);
    snprintf(uid, sizeof(uid), "%ld", (long)r->uid);
    char *cmd = substitute(o->exec_cmd, path);
    if (cmd == NULL) {
        close(fd);
        fprintf(stderr, "capmem: --exec: out of memory\n");
        return EXIT_FAIL;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
        /* The fd crosses exec; the signals the tool ignores do not stay
         * ignored for the command. */
        fcntl(fd, F_SETFD, 0);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGXFSZ, SIG_DFL);
        if (setenv("CAPMEM_FD", num, 1) != 0 || setenv("CAPMEM_PATH", path, 1) != 0 ||
            setenv("CAPMEM_SIZE", size, 1) != 0 || setenv("CAPMEM_SHA256", r->hex, 1) != 0 ||
            setenv("CAPMEM_SENDER_PID", pid, 1) != 0 || setenv("CAPMEM_SENDER_UID", uid, 1) != 0)
            _exit(127);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        fprintf(stderr, "capmem: --exec: /bin/sh: %s\n", strerror(errno));
        _exit(127);
    }
    int saved = errno;
    free(cmd);
    close(fd);
    if (child < 0) {
        fprintf(stderr, "capmem: --exec: fork: %s\n", strerror(saved));
        return EXIT_FAIL;
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "capmem: --exec: waitpid: %s\n", strerror(errno));
            return EXIT_FAIL;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return EXIT_OK;
    if (WIFEXITED(status))
        fprintf(stderr, "capmem: --exec command exited with status %d: %s\n",
                WEXITSTATUS(status), o->exec_cmd);
    else
        fprintf(stderr, "capmem: --exec command killed by signal %d: %s\n", WTERMSIG(status),
                o->exec_cmd);
    return EXIT_FAIL;
}

/* ---- one sender ---- */

/* Receives and verifies one sender's object into *r; answers the sender
 * itself when refusing. */
static int receive_one(cm_handle_t ch, const struct opts *o, struct received *r, uint8_t digest[32])
{
    char msg[64];
    uint32_t nb = 0, nh = 0;
    cm_status_t st = cm_host_channel_peer_cred(ch, &r->pid, &r->uid, &r->gid);
    if (st != CM_OK)
        return cli_fail("reading the sender's credentials", NULL, st);
    st = cm_channel_wait_readable(ch, o->timeout_ns);
    if (st == CM_ERR_TIMED_OUT) {
        fprintf(stderr, "capmem: timed out waiting for a message from pid %ld (--timeout)\n",
                (long)r->pid);
        return EXIT_FAIL;
    }
    if (st == CM_OK)
        st = cm_channel_read(ch, msg, sizeof(msg), &nb, &r->vmo, 1, &nh);
    if (st == CM_ERR_BUFFER_TOO_SMALL) {
        /* More bytes or handles than a send carries: left queued, never
         * taken, so nothing of it is held. */
        reply_error(ch, "not a capmem send message (more bytes or handles than one send)");
        return EXIT_FAIL;
    }
    if (st != CM_OK) {
        char who[32];
        snprintf(who, sizeof(who), "pid %ld", (long)r->pid);
        return cli_fail("receiving from", who, st);
    }
    if (nh != 1 || nb != sizeof(HELLO) - 1 || memcmp(msg, HELLO, nb) != 0) {
        reply_error(ch, "not a capmem send message");
        return EXIT_FAIL;
    }
    /* Everything below comes from the object and the kernel. */
    st = cm_vmo_get_info(r->vmo, &r->info);
    if (st != CM_OK) {
        reply_error(ch, st == CM_ERR_WRONG_TYPE ? "the handle is not a VMO" : cm_status_str(st));
        return EXIT_FAIL;
    }
    if (!(r->info.flags & CM_VMO_INFO_IMMUTABLE)) {
        reply_error(ch, "the object is not sealed immutable by the kernel");
        return EXIT_FAIL;
    }
    if ((r->info.rights & (CM_RIGHT_READ | CM_RIGHT_MAP)) != (CM_RIGHT_READ | CM_RIGHT_MAP)) {
        reply_error(ch, "the handle does not allow a read-only mapping");
        return EXIT_FAIL;
    }
    /* --exec hands the object on as an fd (cm_host_vmo_export_fd): found
     * out now, not after the sender was told all is well. */
    const cm_rights_t hand_on = CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER;
    if (o->exec_cmd != NULL && (r->info.rights & hand_on) != hand_on) {
        reply_error(ch, "the handle cannot be handed to --exec (no DUPLICATE or TRANSFER right)");
        return EXIT_FAIL;
    }
    /* Before any work: a sparse sealed object costs its sender nothing,
     * hashing or writing it costs us time and disk. */
    if (r->info.size > o->max_size) {
        fprintf(stderr, "capmem: pid %ld sent %llu bytes, more than --max-size %llu\n",
                (long)r->pid, (unsigned long long)r->info.size,
                (unsigned long long)o->max_size);
        reply_error(ch, "the object is larger than the receiver's --max-size");
        return EXIT_FAIL;
    }
    st = cli_hash_vmo(r->vmo, r->info.size, digest, "hashing", o->no_progress);
    if (st != CM_OK) {
        cli_fail("hashing the received object", NULL, st);
        reply_error(ch, cm_status_str(st));
        return EXIT_FAIL;
    }
    app_hex_digest(digest, r->hex);
    return EXIT_OK;
}

/* Receives, verifies, reports, stores (--output), answers the sender and
 * runs --exec for one sender on channel ch. */
static int serve_one(cm_handle_t ch, const struct opts *o, int first)
{
    struct received r;
    uint8_t digest[32];
    memset(&r, 0, sizeof(r));
    r.vmo = CM_HANDLE_INVALID;
    int rc = receive_one(ch, o, &r, digest);
    if (rc != EXIT_OK)
        goto out;
    /* With --output -, stdout carries the bytes: the report goes to stderr. */
    FILE *rep = o->output != NULL && strcmp(o->output, "-") == 0 ? stderr : stdout;
    if (!first)
        fprintf(rep, "\n");
    fprintf(rep, "size: %llu\n", (unsigned long long)r.info.size);
    fprintf(rep, "pages: %u bytes%s\n", (unsigned)r.info.page_size,
            (r.info.flags & CM_VMO_INFO_HUGE) ? " (huge)" : "");
    fprintf(rep, "immutable: yes\n");
    fprintf(rep, "sender: pid %ld uid %ld gid %ld\n", (long)r.pid, (long)r.uid, (long)r.gid);
    fprintf(rep, "sha256: %s\n", r.hex);
    /* A closed or full stdout is our failure, not the sender's: it still
     * gets its digest, and the exit status says the report was lost. */
    int lost = cli_report_lost(rep);
    if (o->output != NULL) {
        const char *why = write_output(&r, o);
        if (why != NULL) {
            reply_error(ch, why);
            rc = EXIT_FAIL;
            goto out;
        }
        if (strcmp(o->output, "-") != 0)
            fprintf(rep, "output: %s\n", o->output);
        lost |= cli_report_lost(rep);
    }
    char reply[sizeof(REPLY_OK) - 1 + 32];
    memcpy(reply, REPLY_OK, sizeof(REPLY_OK) - 1);
    memcpy(reply + sizeof(REPLY_OK) - 1, digest, 32);
    cm_status_t st = cm_channel_write(ch, reply, sizeof(reply), NULL, 0);
    if (st != CM_OK) {
        rc = cli_fail("replying the digest to the sender", NULL, st);
        goto out;
    }
    /* The sender has its answer: it is not held up by the command. */
    if (o->exec_cmd != NULL && run_exec(&r, o) != EXIT_OK)
        rc = EXIT_FAIL;
    if (lost)
        rc = EXIT_FAIL;
out:
    cm_handle_close(r.vmo);
    return rc;
}

int cmd_recv(int argc, char **argv, const struct opts *o)
{
    cm_handle_t lis, ch;
    if (argc != 1) {
        cli_usage_error("%s", argc < 1 ? "recv: missing PATH" : "recv: too many operands");
        return EXIT_USAGE;
    }
    const char *path = argv[0];
    if (strlen(path) >= sizeof(listen_path)) {
        cli_usage_error("recv: path too long: %s", path);
        return EXIT_USAGE;
    }
    strcpy(listen_path, path);
    /* Signals wait until `listening` says whether the file is ours, so a
     * signal can neither leave our socket behind nor remove another's. */
    sigset_t sigs, old_mask;
    catch_signals(&sigs);
    sigprocmask(SIG_BLOCK, &sigs, &old_mask);
    cm_status_t st = cm_host_listen(path, &lis);
    const char *detail = cm_status_detail();
    listening = st == CM_OK;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (st == CM_ERR_ALREADY_EXISTS) {
        fprintf(stderr, "capmem: cannot listen on %s: %s%s%s%s (if no receiver is running, "
                        "remove the stale file; 'capmem info %s' tells)\n",
                path, cm_status_str(st), detail[0] ? " (" : "", detail, detail[0] ? ")" : "",
                path);
        return EXIT_FAIL;
    }
    if (st != CM_OK)
        return cli_fail("cannot listen on", path, st);

    int rc = EXIT_OK;
    for (long i = 0; i < o->count; i++) {
        st = cm_host_accept(lis, o->timeout_ns, &ch);
        if (st == CM_ERR_TIMED_OUT) {
            fprintf(stderr, "capmem: timed out waiting for a sender on %s (--timeout)\n", path);
            rc = EXIT_FAIL;
            break;
        }
        if (st != CM_OK) {
            rc = cli_fail("accepting a sender on", path, st);
            break;
        }
        if (serve_one(ch, o, i == 0) != EXIT_OK)
            rc = EXIT_FAIL;
        cm_handle_close(ch);
    }
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    cm_handle_close(lis); /* removes the socket file */
    listening = 0;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return rc;
}
