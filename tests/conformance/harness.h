/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CONFORMANCE_HARNESS_H
#define CAPMEM_CONFORMANCE_HARNESS_H

/* A small TAP harness for the conformance suite, written against
 * <capmem/capmem.h> and printf only, so that the same source builds for the
 * host library and as a user program of the capmem kernel.
 *
 * A test is a function returning 0 after checking everything it names, 1
 * at the first failed check (which prints "# file:line: ..." first). The
 * suite is one table; conf_run() prints the plan from the table's size and
 * one TAP line per entry, so a test cannot exist and never run. */

#include <stdint.h>
#include <stdio.h>
#include <capmem/capmem.h>

struct conf_test {
    const char *name;
    int (*fn)(void);
};

#define CONF_TEST(f) { #f, f }

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("%s# %s:%d: check failed: %s\n", conf_target.tap_prefix, __func__, __LINE__, #cond); \
            return 1;                                                          \
        }                                                                      \
    } while (0)

#define CHECK_ST(expr, want)                                                   \
    do {                                                                       \
        cm_status_t st__ = (expr);                                             \
        cm_status_t want__ = (want);                                           \
        if (st__ != want__) {                                                  \
            printf("%s# %s:%d: %s returned %s, expected %s\n", conf_target.tap_prefix, __func__, __LINE__, \
                   #expr, cm_status_name(st__), cm_status_name(want__));       \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* What a target provides where the API lets targets differ (docs/api.md,
 * "Target differences"). Each target's shim (target_host.c,
 * target_kernel.c) defines it. */
struct conf_target {
    const char *name;
    /* Printed before every line of the report: "" on host; "conformance: "
     * on the kernel, where the report shares the console with the
     * selftests' own TAP stream. */
    const char *tap_prefix;
    int has_files;              /* cm_vmo_create_from_file works */
    const char *existing_file;  /* a readable regular file, if has_files */
    int unsealed_ro_transfer;   /* a VMO without WRITE can travel unsealed */
    int has_dma;                /* <capmem/dma.h> is implemented (else UNSUPPORTED) */
    int has_vmar;               /* <capmem/vmar.h> is implemented (else its cases skip) */
    int has_mmio;               /* <capmem/mmio.h> is implemented (else UNSUPPORTED) */
    /* Live handles of this process, or -1 if the target cannot count them. */
    int (*live_handles)(void);
};

extern const struct conf_target conf_target;

/* A test returns CONF_SKIP (after conf_skip_reason = "...") when the target
 * lacks a capability the test needs: reported "ok N - name # SKIP reason",
 * which the test runner counts as a skip, never a pass. */
#define CONF_SKIP 77
extern const char *conf_skip_reason;
#define SKIP_UNLESS(cap, why)                                                  \
    do {                                                                       \
        if (!(cap)) {                                                          \
            conf_skip_reason = (why);                                          \
            return CONF_SKIP;                                                  \
        }                                                                      \
    } while (0)

/* Runs every test in order; returns the number that failed. */
int conf_run(const struct conf_test *tests, uint32_t n);

#endif
