/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_FUZZ_API_FUZZ_H
#define CAPMEM_TESTS_FUZZ_API_FUZZ_H

/* Shared by tests/fuzz/api_fuzz.c (the input loop and its oracles) and
 * tests/fuzz/api_ops.c (the operations and their argument recipes). */

#include <stdint.h>
#include <capmem/capmem.h>
#include <capmem/ledger.h>

#include "fuzz_input.h"

enum { ST_BAD_HANDLE, ST_WRONG_TYPE, ST_ACCESS, ST_INVALID, ST_RANGE, ST_NO_RES, ST_BAD_STATE,
       ST_VMO, ST_CHANNEL, ST_HANDLE, ST_WAIT, ST_VMAR, ST_SBUF, ST_SBUF_MSG, ST_DMA,
       ST_ACCEPTED };

#define AF_MAX_OPS 48
#define AF_MAX_ISSUED 256 /* handle values one input may be given */
#define AF_MAX_MAPS 64
#define AF_MAX_FDS 16

struct af_handle {
    cm_handle_t h;
    uint32_t type; /* cm_obj_type_t the library promised */
};

struct af_map {
    void *addr;
    uint64_t len;
};

struct api_state {
    struct af_handle issued[AF_MAX_ISSUED]; /* every value issued, live or not */
    uint32_t nissued;
    struct af_map maps[AF_MAX_MAPS]; /* cm_vmo_map results */
    uint32_t nmaps;
    int fds[AF_MAX_FDS]; /* fds the target made for the host extras */
    uint32_t nfds;
    uint64_t loans[8]; /* loan ids seen, live or not */
    uint64_t seqs[8];  /* sequence numbers published or received */
    uint64_t dma_ids[8]; /* buffer and fence ids seen */
    uintptr_t bases[8]; /* addresses the library returned */
};

extern struct api_state S;

/* Oracle: aborts unless st is a defined status other than INTERNAL; counts
 * the refusal stages. Returns st. */
cm_status_t af_check(cm_status_t st);
void af_die(const char *what, cm_status_t st) __attribute__((noreturn));
void af_adopt(cm_handle_t h, uint32_t type);
void af_touch(void *p, uint64_t len, int writable);
void af_note_mapping(void *addr, uint64_t len);

/* One operation of the recipe; returns its status (already checked). */
cm_status_t af_op(struct reader *r);
/* Live objects of the types byte 0 of the input names. */
void af_preamble(struct reader *r);
/* Process-wide set-up before the first input. */
void af_once(void);

#endif
