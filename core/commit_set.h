/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_CORE_COMMIT_SET_H
#define CAPMEM_CORE_COMMIT_SET_H

/* The committed-page set of one VMO: which pages are backed by memory, and
 * exactly how many (ARCHITECTURE.md §4, commit accounting). The kernel keeps
 * one per VMO (its pages are committed on demand or by
 * cm_vmo_op_range(COMMIT) and returned by DECOMMIT); the host reads Linux's
 * count instead (docs/memory-model.md), and the fuzzer uses this set as the
 * model of a VMO's backing.
 *
 * Invariant C1 (cm__cs_check): count == the number of set bits among pages
 * [0, npages), and no bit at or past npages is set. Every change returns how
 * many pages actually changed state, so a ledger charge or release follows
 * the true delta (a COMMIT of committed pages charges nothing; a DECOMMIT of
 * uncommitted ones releases nothing).
 * Freestanding; storage is the caller's; no locking. */

#include <stdint.h>
#include <capmem/status.h>

struct cm__commit_set {
    uint64_t *words;  /* one bit a page, words[0..(npages+63)/64) */
    uint64_t npages;
    uint64_t count;   /* committed pages */
};

/* Words needed for npages. */
#define CM__CS_WORDS(npages) (((npages) + 63u) / 64u)

/* Empty set over npages pages using words[0..nwords) (cleared here).
 * INVALID_ARGS if cs or words is NULL or nwords < CM__CS_WORDS(npages). */
cm_status_t cm__cs_init(struct cm__commit_set *cs, uint64_t *words, uint64_t nwords,
                        uint64_t npages);

/* Sets (commit != 0) or clears pages [first, first+n) and stores in
 * *changed the number whose state changed. OUT_OF_RANGE (nothing changed)
 * if the range wraps or passes npages. */
cm_status_t cm__cs_apply(struct cm__commit_set *cs, int commit, uint64_t first, uint64_t n,
                         uint64_t *changed);

/* Pages in [first, first+n) that a commit would add (not yet committed).
 * For a charge taken before the commit is made. Range as cm__cs_apply. */
cm_status_t cm__cs_missing(const struct cm__commit_set *cs, uint64_t first, uint64_t n,
                           uint64_t *missing);

int cm__cs_test(const struct cm__commit_set *cs, uint64_t page);
uint64_t cm__cs_count(const struct cm__commit_set *cs);

/* C1: CM_OK or CM_ERR_INTERNAL. O(npages/64). */
cm_status_t cm__cs_check(const struct cm__commit_set *cs);

#endif
