/* SPDX-License-Identifier: MIT */
/* The kernel syscall fuzzer's arguments (user/selftest_sysfuzz.c says what
 * the fuzzer does): each call's signature, and the values of each kind a
 * careful or a hostile caller passes. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>

#include "cmk.h"
#include "selftest.h"
#include "selftest_sysfuzz.h"
#include "sys.h"

/* Addresses a confused or malicious caller might pass: NULL, odd, kernel,
 * device and unmapped ones, the top of user space, the image's read-only
 * data; a writable one only ever lands in the fuzzer's area. */
static uint64_t pick_bad_ptr(void)
{
    static const uint64_t fixed[] = {
        0, 1, 0x80200000ull, 0x10000000ull, 0x3000000000ull, 0xffffffffffff0000ull,
        0x3f00000000ull - 0x10000ull - 4, 0x3fffffffffull, 0x4000000000ull, UINT64_MAX,
        CMK_USER_IMAGE_BASE, 0x8000000000000000ull,
    };
    if (fz_rng() % 4 == 0)
        return (uint64_t)(uintptr_t)fz_ro_image_page + fz_rng() % PAGE;
    return PICK(fixed);
}

static uint64_t pick_area_ptr(void)
{
    switch (fz_rng() % 8) {
    case 0: return fz_area + FZ_RW_PAGES * PAGE + fz_rng() % PAGE;     /* read-only page */
    case 1: return fz_area + FZ_RW_PAGES * PAGE - 1 - fz_rng() % 64;   /* straddles into it */
    case 2: return fz_area + (FZ_RW_PAGES + 1) * PAGE - 1 - fz_rng() % 64; /* into the guard */
    case 3: return fz_area + (fz_rng() % FZ_RW_PAGES) * PAGE;          /* page-aligned */
    default: return fz_area + fz_rng() % (FZ_RW_PAGES * PAGE);
    }
}

uint64_t fz_pick_len(void)
{
    static const uint64_t fixed[] = {
        0, 1, 4, 8, 24, 64, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, 3 * PAGE + 5, 16 * PAGE,
        65536, 65537, 1u << 20, CMK_VMO_MAX_SIZE + 1, CM_VMO_MAX_SIZE + 1, 1ull << 32,
        1ull << 63, UINT64_MAX, UINT64_MAX - 4095, UINT64_MAX - PAGE + 1, INT64_MAX,
        0xffffffffull, 0x100000000ull - PAGE,
    };
    switch (fz_rng() % 8) {
    case 0: return fz_rng();
    case 1: return fz_rng() % (4 * PAGE);
    default: return PICK(fixed);
    }
}

static uint64_t pick_off(void)
{
    static const uint64_t fixed[] = { 0, 0, 0, PAGE, 2 * PAGE, 3 * PAGE, 8 * PAGE, 1, 8, 100 };
    return fz_rng() % 4 == 0 ? fz_pick_len() : PICK(fixed);
}

static uint64_t pick_flags(void)
{
    static const uint64_t fixed[] = {
        0,
        CM_MAP_READ,
        CM_MAP_READ | CM_MAP_WRITE,
        CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE,
        CM_MAP_READ | CM_VMAR_MAP_SPECIFIC,
        CM_MAP_READ | CM_MAP_WRITE | CM_VMAR_MAP_SPECIFIC,
        CM_MAP_EXECUTE | CM_MAP_READ,
        CM_VMAR_CAN_MAP_READ | CM_VMAR_CAN_MAP_WRITE,
        CM_VMAR_FIXED | CM_VMAR_CAN_MAP_READ,
        CM_RIGHTS_SAME,
        CM_RIGHT_READ,
        CM_RIGHT_READ | CM_RIGHT_MAP,
        CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER,
        CM_RIGHT_SIGNAL,
        CM_SIGNAL_READABLE,
        CM_SIGNAL_WRITABLE | CM_SIGNAL_PEER_CLOSED,
        CM_DMA_ATTACH_READ | CM_DMA_ATTACH_WRITE,
        CMK_ACCOUNT_OVERCOMMIT,
        1ull << 31,
        1ull << 32 | CM_MAP_READ,
    };
    switch (fz_rng() % 6) {
    case 0: return fz_rng() & 0xff;
    case 1: return fz_rng();
    default: return PICK(fixed);
    }
}

static uint64_t pick_small(void)
{
    static const uint64_t fixed[] = { 0, 1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 64, 1000,
                                      UINT32_MAX, 1ull << 32, (uint64_t)-1, (uint64_t)-9 };
    return fz_rng() % 3 == 0 ? PICK(fixed) : fz_rng() % 8;
}

static cm_handle_t pick_handle(void)
{
    switch (fz_rng() % 16) {
    case 0: return fz_dead[fz_rng() % FZ_DEAD];
    case 1: return (cm_handle_t)fz_rng();
    case 2: return fz_pool[fz_rng() % S_COUNT] ^ (1u << (10 + fz_rng() % 21)); /* another generation */
    case 3:
    case 4: return fz_extra[fz_rng() % FZ_EXTRA];
    default: return fz_pool[fz_rng() % S_COUNT];
    }
}

/* A handle of the type a call wants, from the pool or what the fuzzing
 * made (types as last seen: a moved or closed one is a BAD_HANDLE). */
static cm_handle_t pick_typed(uint32_t type)
{
    cm_handle_t c[S_COUNT + FZ_EXTRA];
    uint32_t n = 0;
    for (uint32_t i = 0; i < S_COUNT; i++) {
        if (fz_slot_type[i] == type)
            c[n++] = fz_pool[i];
    }
    for (uint32_t i = 0; i < FZ_EXTRA; i++) {
        if (fz_extra_type[i] == type)
            c[n++] = fz_extra[i];
    }
    return n == 0 ? pick_handle() : c[fz_rng() % n];
}

static uint64_t pick_handle_arg(void)
{
    uint64_t h = pick_handle();
    return fz_rng() % 32 == 0 ? h | (1ull << (32 + fz_rng() % 32)) : h;
}

/* A pointer the kernel reads or writes through. */
uint64_t fz_pick_ptr(void)
{
    switch (fz_rng() % 8) {
    case 0: return pick_bad_ptr();
    case 1: return fz_addrs[fz_rng() % FZ_ADDRS] + (fz_rng() % 2 ? 0 : fz_rng() % (2 * PAGE));
    default: return pick_area_ptr();
    }
}

/* An address a mapping call names. */
static uint64_t pick_addr(void)
{
    switch (fz_rng() % 6) {
    case 0: return pick_bad_ptr();
    case 1: return pick_area_ptr() & ~(uint64_t)(PAGE - 1);
    case 2: return fz_addrs[fz_rng() % FZ_ADDRS] + (fz_rng() % 4 ? 0 : PAGE * (fz_rng() % 4));
    default: return fz_addrs[fz_rng() % FZ_ADDRS];
    }
}

static uint64_t pick_id(void)
{
    static const uint64_t fixed[] = { 0, 1, 2, 3, 0x10001, 0x20002, UINT64_MAX, 1ull << 32 };
    uint64_t id = fz_ids[fz_rng() % FZ_IDS];
    switch (fz_rng() % 6) {
    case 0: return PICK(fixed);
    case 1: return id + 1;
    case 2: return id ^ (1ull << (fz_rng() % 64));
    default: return id;
    }
}

uint64_t fz_pick_timeout(void)
{
    static const uint64_t fixed[] = { (uint64_t)-2, (uint64_t)INT64_MIN, (uint64_t)-1000 };
    return fz_rng() % 8 == 0 ? PICK(fixed) : 0;
}

/* Somewhere in the area with room for `size` bytes (sometimes not: the
 * block then runs into the read-only page, where only its head is
 * written). */
static uint64_t area_block(uint64_t size)
{
    uint64_t room = FZ_RW_PAGES * PAGE - size;
    uint64_t off = fz_rng() % 16 == 0 ? FZ_RW_PAGES * PAGE - size / 2 : fz_rng() % room;
    return fz_area + (off & ~7ull);
}

/* Copies a block to `at`, as much of it as lies in the read-write pages. */
static uint64_t put_block(uint64_t at, const void *b, uint64_t size)
{
    uint64_t end = fz_area + FZ_RW_PAGES * PAGE;
    (void)fz_area_put(at, b, at + size <= end ? size : end - at);
    return at;
}

static void scribble(void *p, uint64_t size)
{
    uint8_t *b = p;
    uint64_t n = fz_rng() % 4;
    for (uint64_t i = 0; i < n && size > 0; i++)
        b[fz_rng() % size] ^= (uint8_t)(1u << (fz_rng() % 8));
    if (fz_rng() % 8 == 0) {
        uint64_t v = fz_pick_len();
        memcpy(b + (fz_rng() % (size / 8)) * 8, &v, 8);
    }
}

/* Writes a plausible argument block for call n into the area (corrupted a
 * little unless careful) and returns its address. */
static uint64_t pick_block(uint64_t n, int careful)
{
    switch (n) {
    case CMK_SYS_SBUF_CREATE: {
        cm_sbuf_config_t c = { 1 + fz_rng() % 8, 1 + fz_rng() % 512, 1 + fz_rng() % 3, 1 + fz_rng() % 4,
                               1 + fz_rng() % 4, 1 + fz_rng() % 2, 0, 0 };
        if (careful) {
            c.max_held = c.max_held > c.slot_count ? c.slot_count : c.max_held;
            c.max_loans = c.max_loans > c.slot_count ? c.slot_count : c.max_loans;
            c.policy = CM_SBUF_BLOCK;
        } else {
            scribble(&c, sizeof(c));
        }
        return put_block(area_block(sizeof(c)), &c, sizeof(c));
    }
    case CMK_SYS_DMA_POOL_CREATE: {
        cm_dma_pool_config_t c = { 1 + fz_rng() % 3, PAGE * (1 + fz_rng() % 2), 1 + fz_rng() % 2,
                                   fz_rng() % 4 == 0 ? fz_rng() % 4 : 0 };
        if (!careful)
            scribble(&c, sizeof(c));
        return put_block(area_block(sizeof(c)), &c, sizeof(c));
    }
    case CMK_SYS_DMA_SUBMIT: {
        cm_dma_op_t op = { 1 + fz_rng() % 2, (uint32_t)(careful || fz_rng() % 2 ? 0 : fz_rng() % PAGE),
                           careful || fz_rng() % 2 ? 512 : (uint32_t)fz_pick_len(), 0,
                           careful || fz_rng() % 2 ? 0 : pick_off() };
        if (!careful)
            scribble(&op, sizeof(op));
        return put_block(area_block(sizeof(op)), &op, sizeof(op));
    }
    case CMK_SYS_ACCOUNT_CREATE: {
        cmk_quota_t q;
        if (fz_rng() % 3 == 0)
            return 0; /* every default */
        for (uint32_t k = 0; k < CM_LEDGER_KIND_COUNT; k++)
            q.limit[k] = fz_rng() % 2 ? CMK_QUOTA_DEFAULT : fz_pick_len();
        return put_block(area_block(sizeof(q)), &q, sizeof(q));
    }
    default: return fz_pick_ptr();
    }
}

/* An array of handles (channel write, spawn) or wait items (wait many). */
static uint64_t pick_vector(uint64_t n, int careful)
{
    cm_wait_item_t items[4];
    cm_handle_t hs[4];
    if (!careful && fz_rng() % 4 == 0)
        return fz_pick_ptr();
    if (n == CMK_SYS_OBJECT_WAIT_MANY) {
        for (uint32_t i = 0; i < 4; i++) {
            items[i].handle = careful ? fz_pool[fz_rng() % S_COUNT] : pick_handle();
            items[i].waitfor = (cm_signals_t)(careful ? 1 + fz_rng() % 7 : pick_flags());
            items[i].pending = 0;
        }
        return put_block(area_block(sizeof(items)), items, sizeof(items));
    }
    for (uint32_t i = 0; i < 4; i++)
        hs[i] = careful ? fz_extra[fz_rng() % FZ_EXTRA] : pick_handle();
    return put_block(area_block(sizeof(hs)), hs, sizeof(hs));
}

/* A spawn argument block (spawn, spawn_ex, spawn_in share its head) that
 * can never start a program: its name is never a program's, and a block
 * that could not be written whole is not passed. */
uint64_t fz_pick_spawn(void)
{
    static const char no_such[] = "no-such-program";
    static const uint64_t names[] = { 0, 1, 0x80200000ull, UINT64_MAX };
    struct {
        cmk_spawn_in_args_t in;
        char name[64];
    } blk;
    cmk_spawn_in_args_t *in = &blk.in;
    cmk_spawn_ex_args_t *ex = (cmk_spawn_ex_args_t *)(void *)&blk.in;
    if (fz_rng() % 8 == 0)
        return pick_bad_ptr();
    memset(&blk, 0, sizeof(blk));
    uint64_t at = fz_area + (fz_rng() % (FZ_RW_PAGES * PAGE - sizeof(blk)) & ~7ull);
    switch (fz_rng() % 4) {
    case 0: in->base.name = PICK(names); break;
    case 1: /* no NUL within CMK_SPAWN_MAX_NAME */
        memset(blk.name, 'a', sizeof(blk.name) - 1);
        in->base.name = at + sizeof(blk.in);
        break;
    case 2: in->base.name = at + sizeof(blk.in); break; /* "" */
    default: in->base.name = fz_va(no_such); break;
    }
    in->base.argv = fz_rng() % 2 ? fz_va(no_such) : fz_pick_ptr();
    in->base.argv_len = (uint32_t)(fz_rng() % 2 ? fz_rng() % 32 : fz_pick_len());
    in->base.num_handles = (uint32_t)(fz_rng() % 2 ? fz_rng() % 4 : pick_small());
    in->base.handles = pick_vector(CMK_SYS_CHANNEL_WRITE, 0);
    in->base.role = (uint32_t)(fz_rng() % 3);
    in->base.reserved = fz_rng() % 8 == 0 ? 1 : 0;
    if (fz_rng() % 2) {
        in->account = pick_handle();
        in->reserved = fz_rng() % 8 == 0 ? 1 : 0;
    } else {
        ex->quota = fz_rng() % 2 ? 0 : fz_pick_ptr();
    }
    in->proc_out = fz_rng() % 2 ? 0 : fz_pick_ptr();
    return fz_area_put(at, &blk, sizeof(blk)) == 0 ? at : pick_bad_ptr();
}

/* Argument kinds, one letter per argument in a call's signature:
 *   h handle       p pointer read or written   O out pointer
 *   H out handle   A out address               I out id (at offset 0)
 *   l length/size  o offset                    f flags, rights, signals
 *   n small number i id (loan, seq, buffer, fence, request)
 *   a address      t timeout (always 0 or invalid)
 *   c argument block   v handle/wait-item vector   s spawn block
 *   N device name  w pid (never the idle child's) */
const char *const fz_sig[CMK_SYS_COUNT] = {
    [CMK_SYS_DEBUG_WRITE] = "pl",
    [CMK_SYS_HANDLE_CLOSE] = "h",
    [CMK_SYS_HANDLE_DUPLICATE] = "hfH",
    [CMK_SYS_HANDLE_REPLACE] = "hfH",
    [CMK_SYS_HANDLE_GET_INFO] = "hO",
    [CMK_SYS_VMO_CREATE] = "lfH",
    [CMK_SYS_VMO_READ] = "hpol",
    [CMK_SYS_VMO_WRITE] = "hpol",
    [CMK_SYS_VMO_GET_SIZE] = "hO",
    [CMK_SYS_VMO_SET_SIZE] = "hl",
    [CMK_SYS_VMO_GET_INFO] = "hO",
    [CMK_SYS_VMO_SEAL] = "hn",
    [CMK_SYS_VMO_SNAPSHOT] = "hH",
    [CMK_SYS_VMO_MAP] = "holfA",
    [CMK_SYS_VMO_UNMAP] = "al",
    [CMK_SYS_CHANNEL_CREATE] = "fHH",
    [CMK_SYS_CHANNEL_WRITE] = "hplvn",
    [CMK_SYS_CHANNEL_READ] = "hplOpnO",
    [CMK_SYS_CHANNEL_WAIT] = "ht",
    [CMK_SYS_SPAWN] = "s",
    [CMK_SYS_WAIT] = "wO",
    [CMK_SYS_DEBUG_COUNTERS] = "O",
    [CMK_SYS_RESERVED_23] = "",
    [CMK_SYS_YIELD] = "",
    [CMK_SYS_OBJECT_WAIT_ONE] = "hftO",
    [CMK_SYS_OBJECT_WAIT_MANY] = "vnt",
    [CMK_SYS_WORD_WAIT] = "ant",
    [CMK_SYS_WORD_WAKE] = "an",
    [CMK_SYS_SBUF_CREATE] = "cH",
    [CMK_SYS_SBUF_CONSUMER_CREATE] = "hfH",
    [CMK_SYS_SBUF_LOAN] = "hftI",
    [CMK_SYS_SBUF_PUBLISH] = "hilI",
    [CMK_SYS_SBUF_CANCEL] = "hi",
    [CMK_SYS_SBUF_ATTACH] = "hO",
    [CMK_SYS_SBUF_GET_INFO] = "hO",
    [CMK_SYS_SBUF_KICK] = "h",
    [CMK_SYS_SBUF_COPY] = "hinpl",
    [CMK_SYS_SPAWN_EX] = "s",
    [CMK_SYS_PROC_WAIT] = "htO",
    [CMK_SYS_PROC_KILL] = "h",
    [CMK_SYS_LEDGER_GET] = "O",
    [CMK_SYS_LEDGER_SET_LIMIT] = "nl",
    [CMK_SYS_VMAR_RESERVE] = "alfHA",
    [CMK_SYS_VMAR_MAP] = "hohlofA",
    [CMK_SYS_VMAR_UNMAP] = "hal",
    [CMK_SYS_VMAR_UNMAP_VMO] = "hhal",
    [CMK_SYS_VMAR_PROTECT] = "half",
    [CMK_SYS_VMAR_GET_INFO] = "hO",
    [CMK_SYS_MAPPING_GET_INFO] = "aO",
    [CMK_SYS_VMO_OP_RANGE] = "hnol",
    [CMK_SYS_VMO_GET_COMMITTED] = "hO",
    [CMK_SYS_MMIO_GET_INFO] = "hO",
    [CMK_SYS_MMIO_MAP] = "holfA",
    [CMK_SYS_MMIO_UNMAP] = "hal",
    [CMK_SYS_MMIO_QUEUE_ALLOC] = "hnAO",
    [CMK_SYS_DMA_DEVICE_CREATE] = "hNnlfH",
    [CMK_SYS_DMA_DEVICE_NEXT] = "htI",
    [CMK_SYS_DMA_DEVICE_COMPLETE] = "hinl",
    [CMK_SYS_DMA_POOL_CREATE] = "cH",
    [CMK_SYS_DMA_POOL_ATTACH] = "hNf",
    [CMK_SYS_DMA_POOL_GET_INFO] = "hO",
    [CMK_SYS_DMA_BUFFER_ACQUIRE] = "hI",
    [CMK_SYS_DMA_BUFFER_MAP] = "hiAO",
    [CMK_SYS_DMA_BUFFER_RW] = "hiopln",
    [CMK_SYS_DMA_SUBMIT] = "hicI",
    [CMK_SYS_DMA_FENCE_WAIT] = "hitOn",
    [CMK_SYS_DMA_BUFFER_RELEASE] = "hi",
    [CMK_SYS_DMA_BUFFER_DETACH_VMO] = "hiH",
    [CMK_SYS_CONSOLE_READ] = "plt",
    [CMK_SYS_ACCOUNT_CREATE] = "cfH",
    [CMK_SYS_ACCOUNT_GET] = "hO",
    [CMK_SYS_ACCOUNT_SET_LIMIT] = "hnl",
    [CMK_SYS_SPAWN_IN] = "s",
    [CMK_SYS_ACCOUNT_LIVE] = "",
    [CMK_SYS_VMAR_RESERVE_IN] = "holfHA",
    [CMK_SYS_VMAR_MAP_ANON] = "holfA",
};

static uint64_t pick_name(void)
{
    static const char *const names[] = { "fz0", "fz1", "hr0", "", "virtio-blk" };
    return fz_rng() % 4 == 0 ? fz_pick_ptr() : fz_va(names[fz_rng() % 5]);
}

uint64_t fz_pick_kind(char k, uint64_t n)
{
    switch (k) {
    case 'h': return pick_handle_arg();
    case 'p': case 'O': case 'H': case 'A': case 'I': return fz_pick_ptr();
    case 'l': return fz_pick_len();
    case 'o': return pick_off();
    case 'f': return pick_flags();
    case 'n': return pick_small();
    case 'i': return pick_id();
    case 'a': return pick_addr();
    case 'c': return pick_block(n, 0);
    case 'v': return pick_vector(n, 0);
    case 'N': return pick_name();
    default: return fz_rng();
    }
}

/* The handle types a call wants, one hex digit (cm_obj_type_t) per 'h'
 * of its signature. */
static const char *const htypes[CMK_SYS_COUNT] = {
    [CMK_SYS_VMO_READ] = "1", [CMK_SYS_VMO_WRITE] = "1", [CMK_SYS_VMO_GET_SIZE] = "1",
    [CMK_SYS_VMO_SET_SIZE] = "1", [CMK_SYS_VMO_GET_INFO] = "1", [CMK_SYS_VMO_SEAL] = "1",
    [CMK_SYS_VMO_SNAPSHOT] = "1", [CMK_SYS_VMO_MAP] = "1", [CMK_SYS_CHANNEL_WRITE] = "2",
    [CMK_SYS_CHANNEL_READ] = "2", [CMK_SYS_CHANNEL_WAIT] = "2",
    [CMK_SYS_SBUF_CONSUMER_CREATE] = "7", [CMK_SYS_SBUF_LOAN] = "7",
    [CMK_SYS_SBUF_PUBLISH] = "7", [CMK_SYS_SBUF_CANCEL] = "7", [CMK_SYS_SBUF_KICK] = "8",
    [CMK_SYS_SBUF_COPY] = "8", [CMK_SYS_PROC_WAIT] = "9", [CMK_SYS_PROC_KILL] = "9",
    [CMK_SYS_VMAR_MAP] = "61", [CMK_SYS_VMAR_UNMAP] = "6", [CMK_SYS_VMAR_UNMAP_VMO] = "61",
    [CMK_SYS_VMAR_PROTECT] = "6", [CMK_SYS_VMAR_GET_INFO] = "6", [CMK_SYS_VMO_OP_RANGE] = "1",
    [CMK_SYS_VMO_GET_COMMITTED] = "1", [CMK_SYS_MMIO_GET_INFO] = "5", [CMK_SYS_MMIO_MAP] = "5",
    [CMK_SYS_MMIO_UNMAP] = "5", [CMK_SYS_MMIO_QUEUE_ALLOC] = "5",
    [CMK_SYS_DMA_DEVICE_CREATE] = "5", [CMK_SYS_DMA_DEVICE_NEXT] = "a",
    [CMK_SYS_DMA_DEVICE_COMPLETE] = "a", [CMK_SYS_DMA_POOL_ATTACH] = "4",
    [CMK_SYS_DMA_POOL_GET_INFO] = "4", [CMK_SYS_DMA_BUFFER_ACQUIRE] = "4",
    [CMK_SYS_DMA_BUFFER_MAP] = "4", [CMK_SYS_DMA_BUFFER_RW] = "4", [CMK_SYS_DMA_SUBMIT] = "4",
    [CMK_SYS_DMA_FENCE_WAIT] = "4", [CMK_SYS_DMA_BUFFER_RELEASE] = "4",
    [CMK_SYS_DMA_BUFFER_DETACH_VMO] = "4", [CMK_SYS_ACCOUNT_GET] = "b",
    [CMK_SYS_ACCOUNT_SET_LIMIT] = "b", [CMK_SYS_VMAR_RESERVE_IN] = "6",
    [CMK_SYS_VMAR_MAP_ANON] = "6",
};

/* Flags a call accepts. */
static uint64_t good_flags(uint64_t n)
{
    static const uint64_t map[] = { CM_MAP_READ, CM_MAP_READ | CM_MAP_WRITE,
                                    CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE,
                                    CM_MAP_READ | CM_VMAR_MAP_SPECIFIC };
    static const uint64_t rights[] = { CM_RIGHTS_SAME, CM_RIGHT_READ,
                                       CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER };
    switch (n) {
    case CMK_SYS_HANDLE_DUPLICATE:
    case CMK_SYS_HANDLE_REPLACE:
    case CMK_SYS_SBUF_CONSUMER_CREATE: return PICK(rights);
    case CMK_SYS_VMO_MAP:
    case CMK_SYS_VMAR_MAP:
    case CMK_SYS_VMAR_MAP_ANON:
    case CMK_SYS_MMIO_MAP: return PICK(map) & (n == CMK_SYS_MMIO_MAP ? 1u : ~0u);
    case CMK_SYS_VMAR_PROTECT: return fz_rng() % 3 == 0 ? 0 : PICK(map) & 3u;
    case CMK_SYS_OBJECT_WAIT_ONE: return 1 + fz_rng() % 7;
    case CMK_SYS_VMAR_RESERVE: return fz_rng() % 4 == 0 ? CM_VMAR_FIXED : 0;
    case CMK_SYS_VMAR_RESERVE_IN:
        return (fz_rng() % 2 ? CM_VMAR_FIXED : 0) | CM_VMAR_CAN_MAP_READ |
               (fz_rng() % 2 ? CM_VMAR_CAN_MAP_WRITE : 0);
    case CMK_SYS_DMA_POOL_ATTACH:
    case CMK_SYS_DMA_DEVICE_CREATE: return 1 + fz_rng() % 3;
    case CMK_SYS_ACCOUNT_CREATE: return fz_rng() % 2 ? CMK_ACCOUNT_OVERCOMMIT : 0;
    default: return 0;
    }
}

static int has(const char *s, char c)
{
    for (; *s != 0; s++) {
        if (*s == c)
            return 1;
    }
    return 0;
}

/* An argument as a careful caller would pass it; none of it can block or
 * spawn either. */
uint64_t fz_pick_good(char k, uint64_t n, int *hidx)
{
    static const uint64_t lens[] = { 1, 8, 64, 512, PAGE, PAGE, 2 * PAGE };
    static const uint64_t offs[] = { 0, 0, PAGE, 8 };
    const char *ht = n < CMK_SYS_COUNT ? htypes[n] : 0;
    switch (k) {
    case 'h':
        if (ht != 0 && ht[*hidx] != 0) {
            char c = ht[(*hidx)++];
            return pick_typed((uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10));
        }
        return pick_handle();
    case 'p': case 'O': case 'H': case 'A': case 'I':
        return fz_area + (fz_rng() % (FZ_RW_PAGES * PAGE - 2 * PAGE) & ~7ull);
    case 'l':
        /* Address-space calls take whole pages. */
        if (n < CMK_SYS_COUNT && fz_sig[n] != 0 &&
            (has(fz_sig[n], 'a') || has(fz_sig[n], 'o')))
            return PAGE * (1 + fz_rng() % 2);
        return PICK(lens);
    case 'o': return PICK(offs) & ~(uint64_t)(fz_rng() % 4 ? PAGE - 1 : 0);
    case 'c': return pick_block(n, 1);
    case 'v': return pick_vector(n, 1);
    case 'f': return good_flags(n);
    case 'n':
        if (n == CMK_SYS_DMA_DEVICE_CREATE)
            return 512;
        if (n == CMK_SYS_DMA_DEVICE_COMPLETE)
            return fz_rng() % 2 ? 0 : (uint64_t)(int64_t)CM_ERR_IO;
        return fz_rng() % 4;
    case 'a': return fz_addrs[fz_rng() % FZ_ADDRS];
    case 'i': return fz_ids[fz_rng() % FZ_IDS];
    default: return fz_pick_kind(k, n);
    }
}

/* Any kind but the ones that keep the call from blocking or spawning. */
uint64_t fz_pick_any(uint64_t n)
{
    static const char kinds[] = "hpolfniacv";
    return fz_pick_kind(kinds[fz_rng() % (sizeof(kinds) - 1)], n);
}

uint64_t fz_pick_number(void)
{
    static const uint64_t far[] = { 1000, 1ull << 32 | CMK_SYS_VMO_CREATE, UINT64_MAX,
                                    0x8000000000000000ull | CMK_SYS_YIELD };
    for (;;) {
        uint64_t n = fz_rng() % 64 == 0 ? PICK(far) : 1 + fz_rng() % FZ_LAST_NUMBER;
        /* Setting one's own limits starves the rest of the run: rarely. */
        if (n == CMK_SYS_LEDGER_SET_LIMIT && fz_rng() % 8 != 0)
            continue;
        return n;
    }
}
