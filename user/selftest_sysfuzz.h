/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_SELFTEST_SYSFUZZ_H
#define CAPMEM_USER_SELFTEST_SYSFUZZ_H

/* The kernel syscall fuzzer's parts (user/selftest_sysfuzz*.c): the
 * fuzzer's memory and handle pool (_pool.c), the argument pickers and
 * call signatures (_args.c), and the calls, oracles, sequences and tests
 * (selftest_sysfuzz.c). Private to the selftest program. */
#include <stddef.h>
#include <stdint.h>

#include <capmem/capmem.h>

#include "syscall_abi.h"

#define FZ_SEED_BASE 0x243f6a8885a308d3ull
/* The area: FZ_RW_PAGES read-write pages, one read-only page, then
 * unmapped guard pages up to FZ_AREA_PAGES. */
#define FZ_RW_PAGES 4u
#define FZ_AREA_PAGES 16u
/* Calls numbered up to CMK_SYS_COUNT + 2, then a few far ones. */
#define FZ_LAST_NUMBER (CMK_SYS_COUNT + 2u)

uint64_t fz_rng(void);

static inline uint64_t fz_pick_of(const uint64_t *v, size_t n)
{
    return v[fz_rng() % n];
}
#define PICK(arr) fz_pick_of((arr), sizeof(arr) / sizeof((arr)[0]))

enum slot {
    S_VMO, S_VMO_RO, S_VMO_SNAP,
    S_CH0, S_CH1,
    S_CH_IDLE, /* the end whose peer the idle child waits on */
    S_VMAR, S_VMAR_NESTED, S_VMAR_RO,
    S_SBUF, S_CONS, S_CONS_RO,
    S_DMA_POOL,
    S_ACCT, S_ACCT_RO,
    S_PROC, S_PROC_RO,
    S_MMIO, S_MMIO_RO, S_DMA_DEV,
    S_COUNT
};

#define FZ_EXTRA 24u   /* handles the fuzzing itself made, oldest closed first */
#define FZ_DEAD 8u     /* values of handles seen closed */
#define FZ_ADDRS 16u   /* addresses of mappings calls made */
#define FZ_IDS 16u     /* loan, seq, buffer, fence and request ids calls returned */

/* user/selftest_sysfuzz_pool.c */
extern uint64_t fz_rng_state;
extern uint64_t fz_area;
extern const uint8_t fz_ro_image_page[];
extern const uint8_t fz_slot_type[S_COUNT];
extern cm_handle_t fz_pool[S_COUNT];
extern cm_handle_t fz_extra[FZ_EXTRA];
extern uint8_t fz_extra_type[FZ_EXTRA];
extern cm_handle_t fz_dead[FZ_DEAD];
extern uint64_t fz_addrs[FZ_ADDRS];
extern uint32_t fz_addrs_next;
extern uint64_t fz_ids[FZ_IDS];
extern uint32_t fz_ids_next;
extern cm_handle_t fz_window[2];
extern cm_handle_t fz_device;
int64_t fz_sys(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
               uint64_t a5, uint64_t a6);
int fz_live(cm_handle_t h);
void fz_keep_extra(cm_handle_t h);
cm_handle_t fz_dup(cm_handle_t h, cm_rights_t rights);
uint64_t fz_va(const void *p);
void fz_refill(void);
int fz_area_put(uint64_t dst, const void *src, uint64_t len);
int fz_area_get(void *dst, uint64_t src, uint64_t len);
int fz_in_area(uint64_t p, uint64_t size);
int fz_make_area(void);
int fz_tighten(void);

/* user/selftest_sysfuzz_args.c */
extern const char *const fz_sig[CMK_SYS_COUNT];
uint64_t fz_pick_len(void);
uint64_t fz_pick_ptr(void);
uint64_t fz_pick_kind(char k, uint64_t n);
uint64_t fz_pick_good(char k, uint64_t n, int *hidx);
uint64_t fz_pick_any(uint64_t n);
uint64_t fz_pick_timeout(void);
uint64_t fz_pick_spawn(void);
uint64_t fz_pick_number(void);

#endif
