/* SPDX-License-Identifier: MIT */
/* Messages, progress bar, hashing and JSON helpers of the capmem tool. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli.h"

int cli_fail(const char *what, const char *arg, cm_status_t st)
{
    /* Read first: nothing below may make a capmem call. */
    const char *detail = cm_status_detail();
    fprintf(stderr, "capmem: %s%s%s: %s", what, arg != NULL ? " " : "", arg != NULL ? arg : "",
            cm_status_str(st));
    if (detail[0] != '\0')
        fprintf(stderr, " (%s)", detail);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

void cli_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "capmem: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'capmem --help' for more information.\n");
}

/* A write error on the report (a closed pipe: EPIPE, since SIGPIPE is
 * ignored; a full disk; RLIMIT_FSIZE: EFBIG) is reported on stderr. */
int cli_report_lost(FILE *f)
{
    if (fflush(f) == 0 && !ferror(f))
        return 0;
    fprintf(stderr, "capmem: writing the report to %s: %s\n", f == stdout ? "stdout" : "stderr",
            strerror(errno));
    return 1;
}

uint64_t cli_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- progress ---- */

#define PROGRESS_EVERY_NS 100000000ull /* redraw at most 10 times a second */
#define BAR_WIDTH 30

void progress_start(struct progress *p, const char *label, uint64_t total, int no_progress)
{
    p->label = label;
    p->total = total;
    p->last_draw_ns = 0;
    p->drawn = 0;
    p->enabled = !no_progress && isatty(STDERR_FILENO);
}

static void draw(struct progress *p, uint64_t done)
{
    const double mib = 1024.0 * 1024.0;
    if (p->total > 0) {
        uint64_t pct = done >= p->total ? 100 : done * 100 / p->total;
        int fill = (int)(pct * BAR_WIDTH / 100);
        char bar[BAR_WIDTH + 1];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %3u%% %.0f/%.0f MiB", p->label, bar, (unsigned)pct,
                (double)done / mib, (double)p->total / mib);
    } else {
        fprintf(stderr, "\r%s %.0f MiB", p->label, (double)done / mib);
    }
    fflush(stderr);
    p->drawn = 1;
}

void progress_update(struct progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    uint64_t size = p->total > 0 ? p->total : done;
    if (size < PROGRESS_MIN_BYTES)
        return;
    uint64_t now = cli_now_ns();
    if (p->drawn && now - p->last_draw_ns < PROGRESS_EVERY_NS && done < p->total)
        return;
    p->last_draw_ns = now;
    draw(p, done);
}

void progress_end(struct progress *p)
{
    if (p->drawn)
        fputc('\n', stderr);
    p->drawn = 0;
}

/* ---- hashing ---- */

#define HASH_CHUNK (16ull << 20)
/* Bytes mapped at a time: bounded (CM_MAX_MAPPED_BYTES) whatever the
 * object's size; a multiple of the huge page size. */
#define MAP_WINDOW (256ull << 20)

cm_status_t cli_hash_vmo(cm_handle_t vmo, uint64_t size, uint8_t digest[32],
                         const char *label, int no_progress)
{
    unsigned int n = 32;
    cm_status_t st = CM_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return CM_ERR_NO_MEMORY;
    }
    struct progress pr;
    progress_start(&pr, label, size, no_progress);
    for (uint64_t woff = 0; st == CM_OK && woff < size; woff += MAP_WINDOW) {
        uint64_t wlen = size - woff < MAP_WINDOW ? size - woff : MAP_WINDOW;
        void *p;
        if ((st = cm_vmo_map(vmo, woff, wlen, CM_MAP_READ, &p)) != CM_OK)
            break;
        for (uint64_t done = 0; done < wlen;) {
            uint64_t k = wlen - done < HASH_CHUNK ? wlen - done : HASH_CHUNK;
            if (EVP_DigestUpdate(ctx, (const char *)p + done, (size_t)k) != 1) {
                st = CM_ERR_INTERNAL;
                break;
            }
            done += k;
            progress_update(&pr, woff + done);
        }
        cm_vmo_unmap(p, wlen);
    }
    progress_end(&pr);
    if (st == CM_OK && EVP_DigestFinal_ex(ctx, digest, &n) != 1)
        st = CM_ERR_INTERNAL;
    EVP_MD_CTX_free(ctx);
    return st;
}

/* ---- JSON and names ---- */

/* Length of the valid UTF-8 sequence at c (1..4), or 0. Rejects overlong
 * forms, surrogates and code points past U+10FFFF, as strict JSON parsers
 * do. */
static int utf8_len(const unsigned char *c)
{
    int n;
    uint32_t cp;
    if (c[0] >= 0xc2 && c[0] <= 0xdf)
        n = 2, cp = c[0] & 0x1f;
    else if (c[0] >= 0xe0 && c[0] <= 0xef)
        n = 3, cp = c[0] & 0x0f;
    else if (c[0] >= 0xf0 && c[0] <= 0xf4)
        n = 4, cp = c[0] & 0x07;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((c[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (c[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        int n = *c >= 0x80 ? utf8_len(c) : 1;
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(f, "\\u%04x", *c);
        else if (n > 0)
            fwrite(c, 1, (size_t)n, f);
        else /* a byte that is not UTF-8: its Latin-1 code point, so the output parses */
            fprintf(f, "\\u%04x", *c);
        c += n > 0 ? n : 1;
    }
    fputc('"', f);
}

void cli_flags_str(const struct cli_flag *names, size_t count, uint64_t bits, int json,
                   char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        if (!(bits & names[i].bit))
            continue;
        int k = snprintf(buf + used, n - used, json ? "%s\"%s\"" : "%s%s",
                         used > 0 ? (json ? ", " : " ") : "", names[i].name);
        if (k < 0 || (size_t)k >= n - used)
            return;
        used += (size_t)k;
    }
    if (used == 0 && !json)
        snprintf(buf, n, "none");
}

void cli_rights_str(cm_rights_t r, int json, char *buf, size_t n)
{
    static const struct cli_flag names[] = {
        { CM_RIGHT_READ, "READ" },         { CM_RIGHT_WRITE, "WRITE" },
        { CM_RIGHT_MAP, "MAP" },           { CM_RIGHT_DUPLICATE, "DUPLICATE" },
        { CM_RIGHT_TRANSFER, "TRANSFER" }, { CM_RIGHT_SIGNAL, "SIGNAL" },
    };
    cli_flags_str(names, sizeof(names) / sizeof(names[0]), r, json, buf, n);
}
