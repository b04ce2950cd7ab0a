/* SPDX-License-Identifier: MIT */
/* Reads a file or a pipe to EOF into a VMO sealed IMMUTABLE, hashing the
 * bytes as they arrive: one copy (read(2) straight into a mapping of the
 * object, a window at a time) and one pass. The size is what was read, never what fstat said:
 * procfs and sysfs files report 0 or 4096 whatever they hold, a pipe has no
 * size, and a file may change while it is read. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli.h"

#define LOAD_MIN_CAP (64u << 10) /* first capacity when the size is unknown */
#define READ_CHUNK (8u << 20)    /* bytes per read(2): progress granularity */
#define LOAD_WINDOW (256ull << 20) /* bytes mapped at a time (a multiple of huge pages) */

int cli_too_large(const char *name)
{
    fprintf(stderr, "capmem: %s: larger than the largest object (CM_VMO_MAX_SIZE, %llu bytes)\n",
            name, (unsigned long long)CM_VMO_MAX_SIZE);
    return EXIT_FAIL;
}

int cli_load(int fd, const char *name, int no_progress, cm_handle_t *out, uint64_t *size_out,
             uint8_t digest[32])
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        fprintf(stderr, "capmem: %s: %s\n", name, strerror(errno));
        return EXIT_FAIL;
    }
    uint64_t hint = S_ISREG(sb.st_mode) && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    if (hint > CM_VMO_MAX_SIZE)
        return cli_too_large(name);
    uint64_t cap = hint > 0 ? hint : LOAD_MIN_CAP, done = 0;
    /* Unknown size: base pages, since the object is resized as it fills. */
    cm_handle_t vmo;
    cm_status_t st = cm_vmo_create(cap, hint > 0 ? 0 : CM_VMO_BASE_PAGES, &vmo);
    if (st != CM_OK)
        return cli_fail("creating an object for", name, st);
    int rc = EXIT_FAIL, eof = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "capmem: %s: cannot start SHA-256\n", name);
        goto out;
    }
    struct progress pr;
    progress_start(&pr, "reading", hint, no_progress);
    while (!eof) {
        if (done == cap) {
            /* Full: one byte more says whether the source has more. */
            char extra;
            ssize_t k = read(fd, &extra, 1);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                progress_end(&pr);
                fprintf(stderr, "capmem: reading %s: %s\n", name, strerror(errno));
                goto out;
            }
            if (k == 0)
                break;
            if (cap == CM_VMO_MAX_SIZE) {
                progress_end(&pr);
                cli_too_large(name);
                goto out;
            }
            uint64_t next = cap > CM_VMO_MAX_SIZE / 2 ? CM_VMO_MAX_SIZE : cap * 2;
            /* No mapping is live here: the object is ours alone to resize. */
            if ((st = cm_vmo_set_size(vmo, next)) != CM_OK ||
                (st = cm_vmo_write(vmo, &extra, done, 1)) != CM_OK) {
                progress_end(&pr);
                cli_fail("growing the object for", name, st);
                goto out;
            }
            cap = next;
            EVP_DigestUpdate(ctx, &extra, 1);
            done++;
            continue;
        }
        /* One window at a time: what is mapped stays bounded
         * (CM_MAX_MAPPED_BYTES) whatever the object's size. */
        uint64_t woff = done / LOAD_WINDOW * LOAD_WINDOW;
        uint64_t wlen = cap - woff < LOAD_WINDOW ? cap - woff : LOAD_WINDOW;
        char *p;
        if ((st = cm_vmo_map(vmo, woff, wlen, CM_MAP_READ | CM_MAP_WRITE, (void **)&p)) != CM_OK) {
            progress_end(&pr);
            cli_fail("mapping the object for", name, st);
            goto out;
        }
        while (done < woff + wlen) {
            uint64_t want = woff + wlen - done < READ_CHUNK ? woff + wlen - done : READ_CHUNK;
            ssize_t k = read(fd, p + (done - woff), (size_t)want);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                int e = errno;
                cm_vmo_unmap(p, wlen);
                progress_end(&pr);
                fprintf(stderr, "capmem: reading %s: %s\n", name, strerror(e));
                goto out;
            }
            if (k == 0) {
                eof = 1;
                break;
            }
            EVP_DigestUpdate(ctx, p + (done - woff), (size_t)k);
            done += (uint64_t)k;
            progress_update(&pr, done);
        }
        cm_vmo_unmap(p, wlen); /* before the IMMUTABLE seal, which needs no writable mapping */
    }
    progress_end(&pr);
    unsigned int n = 32;
    EVP_DigestFinal_ex(ctx, digest, &n);
    if (done != cap && (st = cm_vmo_set_size(vmo, done)) != CM_OK) {
        cli_fail("sizing the object for", name, st);
        goto out;
    }
    if ((st = cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE)) != CM_OK) {
        cli_fail("sealing the object for", name, st);
        goto out;
    }
    *out = vmo;
    *size_out = done;
    vmo = CM_HANDLE_INVALID;
    rc = EXIT_OK;
out:
    EVP_MD_CTX_free(ctx);
    cm_handle_close(vmo);
    return rc;
}
