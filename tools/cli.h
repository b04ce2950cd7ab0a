/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TOOLS_CLI_H
#define CAPMEM_TOOLS_CLI_H

/* Shared pieces of the capmem command-line tool (tools/capmem.c and the
 * tools/cli_*.c command files). Host only. */

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <capmem/host.h>


enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define HELLO "capmem-send v1"
#define REPLY_OK "sha256:"
#define REPLY_ERR "error:"

/* Transfers of at least this many bytes show a progress bar when stderr is
 * a terminal (and --no-progress was not given). */
#define PROGRESS_MIN_BYTES (256ull << 20)

struct opts {
    int64_t timeout_ns;      /* CM_TIMEOUT_INFINITE unless --timeout */
    long count;              /* recv --count */
    int wait;                /* send --wait given */
    int64_t wait_ns;         /* its limit: CM_TIMEOUT_INFINITE without =SECS */
    const char *output;      /* recv --output FILE ("-": stdout), or NULL */
    const char *exec_cmd;    /* recv --exec CMD, or NULL */
    int json;                /* info --json */
    int fd;                  /* info --fd N, or -1 */
    int no_progress;         /* --no-progress */
    uint64_t max_size;       /* recv --max-size: CM_VMO_MAX_SIZE unless given */
};

/* Prints "capmem: WHAT[ ARG]: <status message>[ (<detail>)]" and returns
 * EXIT_FAIL. Call it right after the failed capmem call: the detail is the
 * calling thread's last one (cm_status_detail). */
int cli_fail(const char *what, const char *arg, cm_status_t st);

/* Prints a usage error ("capmem: " fmt, with arg) and the --help hint. */
void cli_usage_error(const char *fmt, const char *arg);

/* Flushes stdout (or `f`); reports a lost report on stderr. Returns 1 if
 * the report was lost. */
int cli_report_lost(FILE *f);

/* A progress bar on stderr, drawn only when stderr is a terminal, the
 * transfer is at least PROGRESS_MIN_BYTES (or grows past it when its size
 * is unknown: total 0) and it is not disabled. */
struct progress {
    const char *label;
    uint64_t total;
    uint64_t last_draw_ns;
    int enabled;   /* allowed: tty and not --no-progress */
    int drawn;     /* something was drawn: finish with a newline */
};
void progress_start(struct progress *p, const char *label, uint64_t total, int no_progress);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

/* SHA-256 of the whole VMO through a read-only mapping, with progress. */
cm_status_t cli_hash_vmo(cm_handle_t vmo, uint64_t size, uint8_t digest[32],
                         const char *label, int no_progress);

/* Writes a JSON string literal (quotes, escapes) for s. */
void json_string(FILE *f, const char *s);

/* "READ MAP ..." (sep " ") or "\"READ\", \"MAP\"" (json) into buf. */
/* A bit's name, for cli_flags_str. */
struct cli_flag {
    uint64_t bit;
    const char *name;
};

/* The names of the bits set in `bits`, space-separated ("none" if none), or
 * as JSON array elements with json (the caller writes the brackets);
 * truncated at a whole name to fit n bytes. */
void cli_flags_str(const struct cli_flag *names, size_t count, uint64_t bits, int json,
                   char *buf, size_t n);

void cli_rights_str(cm_rights_t r, int json, char *buf, size_t n);

int cmd_send(int argc, char **argv, const struct opts *o);
int cmd_recv(int argc, char **argv, const struct opts *o);
int cmd_info(int argc, char **argv, const struct opts *o);

/* Reads `fd` (a regular file or a pipe) to EOF into a new VMO sealed
 * IMMUTABLE, hashing it on the way. `name` is used in messages. Prints its
 * own errors; returns EXIT_OK or EXIT_FAIL. */
int cli_load(int fd, const char *name, int no_progress, cm_handle_t *vmo, uint64_t *size,
             uint8_t digest[32]);

/* "NAME: larger than the largest object (CM_VMO_MAX_SIZE, N bytes)";
 * returns EXIT_FAIL. */
int cli_too_large(const char *name);

uint64_t cli_now_ns(void);

#endif
