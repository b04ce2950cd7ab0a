/* SPDX-License-Identifier: MIT */
/* capmem info: what a path or an fd is to capmem: a VMO (memfd) with its
 * size, seals, immutability and the rights capmem derives for it; a regular
 * file (what send would snapshot); or a socket (is a receiver listening?).
 * Nothing is modified, and a socket is never connected to: a waiting
 * `capmem recv` would take the connection for a sender: whether one
 * listens is asked of the kernel instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* What is known about the target, printed as text or JSON. */
struct facts {
    const char *target; /* as named by the user */
    const char *type;   /* "vmo", "file", "socket", "fifo", ... */
    int is_vmo;         /* a VMO capmem admits (memfd) or a file window */
    cm_vmo_info_t info;
    int seals;          /* F_GET_SEALS, or -1 (not sealable) */
    int listening;      /* socket: 1 yes, 0 no, -1 unknown */
    int may_connect;    /* socket: write permission for us */
    const char *note;   /* why it is not a VMO, or what send would do */
};

static const char *type_of(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISSOCK(m) ? "socket"
         : S_ISFIFO(m) ? "fifo" : S_ISCHR(m) ? "character device"
         : S_ISBLK(m) ? "block device" : S_ISLNK(m) ? "symlink" : "other";
}

static void seals_str(int seals, int json, char *buf, size_t n)
{
    static const struct cli_flag names[] = {
        { F_SEAL_SEAL, "seal" },   { F_SEAL_SHRINK, "shrink" },
        { F_SEAL_GROW, "grow" },   { F_SEAL_WRITE, "write" },
        { F_SEAL_FUTURE_WRITE, "future_write" },
    };
    cli_flags_str(names, sizeof(names) / sizeof(names[0]), seals > 0 ? (uint64_t)seals : 0, json,
                  buf, n);
}

/* Is a socket bound at the file `sb` names listening? Asked of the kernel
 * (NETLINK_SOCK_DIAG, UNIX_DIAG_VFS: the inode and device of each
 * listening socket's file), so the match is exact whatever name it was
 * bound with (relative, through a symlink). -1 when the kernel cannot say. */
static int socket_listening(const struct stat *sb)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req req;
    } q;
    memset(&q, 0, sizeof(q));
    q.nlh.nlmsg_len = sizeof(q);
    q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.req.sdiag_family = AF_UNIX;
    q.req.udiag_states = 1u << 10; /* TCP_LISTEN */
    q.req.udiag_show = UDIAG_SHOW_VFS;
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)sizeof(q)) {
        close(nl);
        return -1;
    }
    static long buf[32768 / sizeof(long)]; /* more than a dump message needs */
    int found = 0, done = 0, bad = 0;
    while (!done && !bad) {
        ssize_t n = recv(nl, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            bad = 1;
            break;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                bad = 1;
                break;
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
                h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
                continue;
            struct unix_diag_msg *m = NLMSG_DATA(h);
            int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen);
                 a = RTA_NEXT(a, alen)) {
                if (a->rta_type != UNIX_DIAG_VFS ||
                    RTA_PAYLOAD(a) < sizeof(struct unix_diag_vfs))
                    continue;
                struct unix_diag_vfs v;
                memcpy(&v, RTA_DATA(a), sizeof(v));
                /* The kernel's internal dev_t: major in the top 12 bits. */
                dev_t dev = makedev(v.udiag_vfs_dev >> 20, v.udiag_vfs_dev & 0xfffff);
                if (v.udiag_vfs_ino == sb->st_ino && dev == sb->st_dev)
                    found = 1;
            }
        }
    }
    close(nl);
    return bad ? -1 : found;
}

/* A memfd (or other shmem file) capmem admits, or a regular file as a
 * window. fd is ours to close. */
static int describe_fd(int fd, const char *path, struct facts *x, struct stat *sb)
{
    x->seals = fcntl(fd, F_GET_SEALS);
    int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    cm_handle_t h;
    cm_status_t st = dupfd < 0 ? CM_ERR_NO_RESOURCES : cm_host_vmo_from_fd(dupfd, CM_RIGHTS_ALL, &h);
    if (st != CM_OK && dupfd >= 0)
        close(dupfd);
    if (st == CM_OK) {
        x->type = "vmo";
        x->is_vmo = 1;
        st = cm_vmo_get_info(h, &x->info);
        cm_handle_close(h);
        if (st != CM_OK)
            return cli_fail("reading the object's info", x->target, st);
        return EXIT_OK;
    }
    if (!S_ISREG(sb->st_mode)) {
        x->note = "not a VMO";
        return EXIT_OK;
    }
    if (st != CM_ERR_WRONG_TYPE)
        return cli_fail("cm_host_vmo_from_fd", x->target, st);
    /* A regular file: what cm_vmo_create_from_file makes of it. */
    x->type = "file";
    x->note = "send copies it into a new immutable VMO";
    if (path == NULL) {
        char p[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        st = cm_vmo_create_from_file(p, 0, CM_VMO_TO_END, &h);
    } else {
        st = cm_vmo_create_from_file(path, 0, CM_VMO_TO_END, &h);
    }
    if (st != CM_OK) {
        /* Too large, a lease...: still a file; say why it is no window. */
        const char *d = cm_status_detail();
        static char why[256];
        snprintf(why, sizeof(why), "no VMO window: %s%s%s%s", cm_status_str(st), d[0] ? " (" : "",
                 d, d[0] ? ")" : "");
        x->note = why;
        return EXIT_OK;
    }
    x->is_vmo = 1;
    st = cm_vmo_get_info(h, &x->info);
    cm_handle_close(h);
    if (st != CM_OK)
        return cli_fail("reading the window's info", x->target, st);
    if (sb->st_size == 0)
        x->note = "size 0 as the kernel reports it (procfs reports 0 for files with content); "
                  "send reads to the end";
    return EXIT_OK;
}

static void print_text(const struct facts *x)
{
    char buf[256];
    printf("target: %s\n", x->target);
    printf("type: %s\n", x->type);
    if (x->listening >= 0)
        printf("listening: %s\n", x->listening ? "yes" : "no (nobody accepts connections there)");
    if (!strcmp(x->type, "socket"))
        printf("may connect: %s\n", x->may_connect ? "yes" : "no (no write permission)");
    if (x->is_vmo) {
        printf("size: %llu\n", (unsigned long long)x->info.size);
        seals_str(x->seals, 0, buf, sizeof(buf));
        printf("seals: %s\n", x->seals < 0 ? "unsupported" : buf);
        printf("immutable: %s\n", (x->info.flags & CM_VMO_INFO_IMMUTABLE) ? "yes" : "no");
        printf("readonly: %s\n", (x->info.flags & CM_VMO_INFO_READONLY) ? "yes" : "no");
        printf("pages: %u bytes%s\n", (unsigned)x->info.page_size,
               (x->info.flags & CM_VMO_INFO_HUGE) ? " (huge)" : "");
        cli_rights_str(x->info.rights, 0, buf, sizeof(buf));
        printf("rights: %s\n", buf);
    }
    if (x->note != NULL)
        printf("note: %s\n", x->note);
}

static void print_json(const struct facts *x)
{
    char buf[256];
    printf("{\"target\": ");
    json_string(stdout, x->target);
    printf(", \"type\": ");
    json_string(stdout, x->type);
    if (x->listening >= 0)
        printf(", \"listening\": %s", x->listening ? "true" : "false");
    if (!strcmp(x->type, "socket"))
        printf(", \"may_connect\": %s", x->may_connect ? "true" : "false");
    printf(", \"vmo\": %s", x->is_vmo ? "true" : "false");
    if (x->is_vmo) {
        printf(", \"size\": %llu", (unsigned long long)x->info.size);
        seals_str(x->seals, 1, buf, sizeof(buf));
        if (x->seals < 0)
            printf(", \"seals\": null");
        else
            printf(", \"seals\": [%s]", buf);
        printf(", \"immutable\": %s", (x->info.flags & CM_VMO_INFO_IMMUTABLE) ? "true" : "false");
        printf(", \"readonly\": %s", (x->info.flags & CM_VMO_INFO_READONLY) ? "true" : "false");
        printf(", \"huge\": %s", (x->info.flags & CM_VMO_INFO_HUGE) ? "true" : "false");
        printf(", \"page_size\": %u", (unsigned)x->info.page_size);
        cli_rights_str(x->info.rights, 1, buf, sizeof(buf));
        printf(", \"rights\": [%s]", buf);
    }
    if (x->note != NULL) {
        printf(", \"note\": ");
        json_string(stdout, x->note);
    }
    printf("}\n");
}

int cmd_info(int argc, char **argv, const struct opts *o)
{
    struct facts x;
    struct stat sb;
    char fdname[32];
    memset(&x, 0, sizeof(x));
    x.listening = -1;
    x.seals = -1;
    int rc = EXIT_OK;
    if (o->fd >= 0) {
        if (argc != 0) {
            cli_usage_error("%s", "info: --fd N takes no operand");
            return EXIT_USAGE;
        }
        snprintf(fdname, sizeof(fdname), "fd %d", o->fd);
        x.target = fdname;
        if (fstat(o->fd, &sb) != 0) {
            fprintf(stderr, "capmem: info --fd %d: %s\n", o->fd, strerror(errno));
            return EXIT_FAIL;
        }
        x.type = type_of(sb.st_mode);
        if (S_ISSOCK(sb.st_mode)) {
            int acc = 0;
            socklen_t len = sizeof(acc);
            if (getsockopt(o->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0)
                x.listening = acc != 0;
            x.may_connect = 1;
        } else {
            int fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                fprintf(stderr, "capmem: info --fd %d: %s\n", o->fd, strerror(errno));
                return EXIT_FAIL;
            }
            rc = describe_fd(fd, NULL, &x, &sb);
            close(fd);
        }
    } else {
        if (argc != 1) {
            cli_usage_error("%s", argc < 1 ? "info: missing PATH (or --fd N)"
                                           : "info: too many operands");
            return EXIT_USAGE;
        }
        x.target = argv[0];
        if (stat(argv[0], &sb) != 0) {
            fprintf(stderr, "capmem: info %s: %s\n", argv[0], strerror(errno));
            return EXIT_FAIL;
        }
        x.type = type_of(sb.st_mode);
        if (S_ISSOCK(sb.st_mode)) {
            x.listening = socket_listening(&sb);
            x.may_connect = access(argv[0], W_OK) == 0;
        } else if (S_ISREG(sb.st_mode)) {
            /* O_NONBLOCK: a lease or a mandatory lock never blocks us. */
            int fd = open(argv[0], O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            if (fd < 0) {
                fprintf(stderr, "capmem: info: cannot open %s: %s\n", argv[0], strerror(errno));
                return EXIT_FAIL;
            }
            rc = describe_fd(fd, argv[0], &x, &sb);
            close(fd);
        } else {
            x.note = "not a VMO";
        }
    }
    if (rc != EXIT_OK)
        return rc;
    if (o->json)
        print_json(&x);
    else
        print_text(&x);
    return cli_report_lost(stdout) ? EXIT_FAIL : EXIT_OK;
}
