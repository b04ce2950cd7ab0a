/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_ABI_SYSCALL_ABI_H
#define CAPMEM_ABI_SYSCALL_ABI_H

/* The kernel/user boundary, the one header both sides of it include:
 * kernel/ (the implementation) and user/ (the runtime that implements
 * include/capmem/ with syscalls). It holds everything a user program and the
 * kernel must agree on bit for bit, and nothing private of either side.
 *
 * Every structure that crosses the boundary has its size and each field's
 * offset pinned by a _Static_assert below: a change that moves a field
 * breaks the build on both sides instead of silently reinterpreting bytes.
 *
 * Calling convention: `ecall` with the syscall number in a7 and up to seven
 * arguments in a0..a6 (pointers are user virtual addresses). The result comes
 * back in a0: a cm_status_t (0 or negative CM_ERR_*), except where the table
 * in docs/kernel.md says a call returns a non-negative value (pid).
 * Every number below is ABI: never renumber, only append. */

#include <stddef.h>
#include <stdint.h>
#include <capmem/status.h>
#include <capmem/limits.h>
#include <capmem/handle.h>
#include <capmem/object.h>
#include <capmem/vmo.h>
#include <capmem/sbuf.h>
#include <capmem/ledger.h>
#include <capmem/mmio.h>
#include <capmem/dma.h>

enum cmk_sysno {
    CMK_SYS_EXIT = 0,            /* (int32 code) -> never returns            */
    CMK_SYS_DEBUG_WRITE = 1,     /* (buf, len)                               */
    CMK_SYS_HANDLE_CLOSE = 2,    /* (h)                                      */
    CMK_SYS_HANDLE_DUPLICATE = 3,/* (h, rights, *out)                        */
    CMK_SYS_HANDLE_REPLACE = 4,  /* (h, rights, *out)                        */
    CMK_SYS_HANDLE_GET_INFO = 5, /* (h, *cm_handle_info_t)                   */
    CMK_SYS_VMO_CREATE = 6,      /* (size, options, *out)                    */
    CMK_SYS_VMO_READ = 7,        /* (h, buf, offset, len)                    */
    CMK_SYS_VMO_WRITE = 8,       /* (h, buf, offset, len)                    */
    CMK_SYS_VMO_GET_SIZE = 9,    /* (h, *size)                               */
    CMK_SYS_VMO_SET_SIZE = 10,   /* (h, size)                                */
    CMK_SYS_VMO_GET_INFO = 11,   /* (h, *cm_vmo_info_t)                      */
    CMK_SYS_VMO_SEAL = 12,       /* (h, level)                               */
    CMK_SYS_VMO_SNAPSHOT = 13,   /* (h, *out)                                */
    CMK_SYS_VMO_MAP = 14,        /* (h, offset, len, flags, *addr)           */
    CMK_SYS_VMO_UNMAP = 15,      /* (addr, len)                              */
    CMK_SYS_CHANNEL_CREATE = 16, /* (options, *end0, *end1)                  */
    CMK_SYS_CHANNEL_WRITE = 17,  /* (h, bytes, nbytes, handles, nhandles)    */
    CMK_SYS_CHANNEL_READ = 18,   /* (h, bytes, cap, *actual, handles, hcap, *hactual) */
    CMK_SYS_CHANNEL_WAIT = 19,   /* (h, timeout_ns)                          */
    CMK_SYS_SPAWN = 20,          /* (*cmk_spawn_args) -> pid > 0 or status   */
    CMK_SYS_WAIT = 21,           /* (pid, *cmk_exit_info)                    */
    CMK_SYS_DEBUG_COUNTERS = 22, /* (*cmk_counters)                          */
    CMK_SYS_RESERVED_23 = 23,    /* unused: the verdict is init's exit code */
    CMK_SYS_YIELD = 24,          /* ()                                       */
    CMK_SYS_OBJECT_WAIT_ONE = 25, /* (h, signals, timeout_ns, *observed)     */
    CMK_SYS_OBJECT_WAIT_MANY = 26,/* (*cm_wait_item_t, count, timeout_ns)    */
    CMK_SYS_WORD_WAIT = 27,      /* (uint32 *addr, expected, timeout_ns)     */
    CMK_SYS_WORD_WAKE = 28,      /* (uint32 *addr, max) -> woken >= 0 or status */
    CMK_SYS_SBUF_CREATE = 29,    /* (*cm_sbuf_config_t, *out)                */
    CMK_SYS_SBUF_CONSUMER_CREATE = 30, /* (buffer, rights, *out)             */
    CMK_SYS_SBUF_LOAN = 31,      /* (buffer, flags, timeout_ns, *cmk_sbuf_loan_out) */
    CMK_SYS_SBUF_PUBLISH = 32,   /* (buffer, loan_id, len, *seq)             */
    CMK_SYS_SBUF_CANCEL = 33,    /* (buffer, loan_id)                        */
    CMK_SYS_SBUF_ATTACH = 34,    /* (h, *cmk_sbuf_attach_t)                  */
    CMK_SYS_SBUF_GET_INFO = 35,  /* (buffer, *cm_sbuf_info_t)                */
    CMK_SYS_SBUF_KICK = 36,      /* (consumer)                               */
    CMK_SYS_SBUF_COPY = 37,      /* (consumer, seq, slot, *buf, len)         */
    CMK_SYS_SPAWN_EX = 38,       /* (*cmk_spawn_ex_args) -> pid > 0 or status */
    CMK_SYS_PROC_WAIT = 39,      /* (process h, timeout_ns, *cmk_exit_info)  */
    CMK_SYS_PROC_KILL = 40,      /* (process h)                              */
    CMK_SYS_LEDGER_GET = 41,     /* (*cm_ledger_info_t)                      */
    CMK_SYS_LEDGER_SET_LIMIT = 42, /* (kind, limit)                          */
    CMK_SYS_VMAR_RESERVE = 43,   /* (hint, len, flags, *out, *base)          */
    CMK_SYS_VMAR_MAP = 44,       /* (vmar, vmar_off, vmo, vmo_off, len, flags, *addr) */
    CMK_SYS_VMAR_UNMAP = 45,     /* (vmar, addr, len)                        */
    CMK_SYS_VMAR_UNMAP_VMO = 46, /* (vmar, vmo, addr, len)                   */
    CMK_SYS_VMAR_PROTECT = 47,   /* (vmar, addr, len, flags)                 */
    CMK_SYS_VMAR_GET_INFO = 48,  /* (vmar, *cm_vmar_info_t)                  */
    CMK_SYS_MAPPING_GET_INFO = 49, /* (addr, *cm_mapping_info_t)             */
    CMK_SYS_VMO_OP_RANGE = 50,   /* (vmo, op, offset, len)                   */
    CMK_SYS_VMO_GET_COMMITTED = 51, /* (vmo, *bytes)                         */
    /* 52..69: device windows, DMA devices and pools (docs/mmio.md). */
    CMK_SYS_MMIO_GET_INFO = 52,  /* (mmio, *cm_mmio_info_t)                  */
    CMK_SYS_MMIO_MAP = 53,       /* (mmio, offset, len, flags, *addr)        */
    CMK_SYS_MMIO_UNMAP = 54,     /* (mmio, addr, len)                        */
    CMK_SYS_MMIO_QUEUE_ALLOC = 55, /* (mmio, pages, *va, *device_addrs)      */
    CMK_SYS_DMA_DEVICE_CREATE = 56, /* (mmio, name, block_size, device_size, flags, *out) */
    CMK_SYS_DMA_DEVICE_NEXT = 57,   /* (device, timeout_ns, *cmk_dma_request_t) */
    CMK_SYS_DMA_DEVICE_COMPLETE = 58, /* (device, id, status, bytes)          */
    CMK_SYS_DMA_POOL_CREATE = 59,   /* (*cm_dma_pool_config_t, *out)          */
    CMK_SYS_DMA_POOL_ATTACH = 60,   /* (pool, name, flags)                    */
    CMK_SYS_DMA_POOL_GET_INFO = 61, /* (pool, *cm_dma_pool_info_t)            */
    CMK_SYS_DMA_BUFFER_ACQUIRE = 62, /* (pool, *buffer)                       */
    CMK_SYS_DMA_BUFFER_MAP = 63,    /* (pool, buffer, *addr, *size)           */
    CMK_SYS_DMA_BUFFER_RW = 64,     /* (pool, buffer, offset, buf, len, write) */
    CMK_SYS_DMA_SUBMIT = 65,        /* (pool, buffer, *op, *fence)            */
    CMK_SYS_DMA_FENCE_WAIT = 66,    /* (pool, fence, timeout_ns, *completion, poll) */
    CMK_SYS_DMA_BUFFER_RELEASE = 67, /* (pool, buffer)                        */
    CMK_SYS_DMA_BUFFER_DETACH_VMO = 68, /* (pool, buffer, *vmo)               */
    /* 69..75: reserved (never reuse a number). */
    CMK_SYS_CONSOLE_READ = 76,   /* (buf, cap, timeout_ns) -> bytes > 0 or status */
    /* 77..81: account objects (docs/ledger.md "Account objects"). */
    CMK_SYS_ACCOUNT_CREATE = 77, /* (*cmk_quota_t or 0, flags, *out)         */
    CMK_SYS_ACCOUNT_GET = 78,    /* (account, *cm_ledger_info_t)             */
    CMK_SYS_ACCOUNT_SET_LIMIT = 79, /* (account, kind, limit)                */
    CMK_SYS_SPAWN_IN = 80,       /* (*cmk_spawn_in_args) -> pid > 0 or status */
    CMK_SYS_ACCOUNT_LIVE = 81,   /* () -> accounts alive in the kernel (>= 1) */
    /* 82..87: nested reservations and anonymous mappings (vmar.h). */
    CMK_SYS_VMAR_RESERVE_IN = 82, /* (parent, offset, len, flags, *out, *base) */
    CMK_SYS_VMAR_MAP_ANON = 83,   /* (vmar, vmar_offset, len, flags, *addr)  */
    CMK_SYS_COUNT
};

/* Bytes one console read returns at most (the UART's receive FIFO is 16). */
#define CMK_CONSOLE_READ_MAX 256u

/* Bounds of the spawn call, each small because init only passes a few
 * short options and a peer channel. */
#define CMK_SPAWN_MAX_NAME   32u   /* program name, including NUL        */
#define CMK_SPAWN_MAX_ARGS   16u   /* argv entries, argv[0] included     */
#define CMK_SPAWN_MAX_ARGV   1024u /* bytes of NUL-separated argv strings */
#define CMK_SPAWN_MAX_HANDLES 8u   /* initial handles moved to the child  */

/* Role word handed to the child in a3 and readable by the runtime. */
#define CMK_ROLE_MAIN   0u
#define CMK_ROLE_SECOND 1u

typedef struct cmk_spawn_args {
    uint64_t name;        /* user pointer to a NUL-terminated program name */
    uint64_t argv;        /* user pointer to NUL-separated strings          */
    uint32_t argv_len;    /* bytes at argv, <= CMK_SPAWN_MAX_ARGV           */
    uint32_t num_handles; /* <= CMK_SPAWN_MAX_HANDLES                       */
    uint64_t handles;     /* user pointer to cm_handle_t[num_handles]       */
    uint32_t role;        /* CMK_ROLE_*                                     */
    uint32_t reserved;    /* must be 0                                      */
} cmk_spawn_args_t;
_Static_assert(sizeof(cmk_spawn_args_t) == 40, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, name) == 0, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, argv) == 8, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, argv_len) == 16, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, num_handles) == 20, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, handles) == 24, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, role) == 32, "spawn args ABI");
_Static_assert(offsetof(cmk_spawn_args_t, reserved) == 36, "spawn args ABI");

/* Quotas a parent gives a child at spawn (docs/ledger.md): a limit per
 * cm_ledger_kind_t, or CMK_QUOTA_DEFAULT. Pool kinds are carved from the
 * parent's room (default: half of it, rounded up); per-process kinds
 * (virtual, handles) are bounded by the parent's limit (default: it). */
#define CMK_QUOTA_DEFAULT UINT64_MAX
typedef struct cmk_quota {
    uint64_t limit[CM_LEDGER_KIND_COUNT];
} cmk_quota_t;
_Static_assert(sizeof(cmk_quota_t) == 8 * CM_LEDGER_KIND_COUNT, "quota ABI");

typedef struct cmk_spawn_ex_args {
    cmk_spawn_args_t base;
    uint64_t quota;    /* user pointer to cmk_quota_t, 0: every default   */
    uint64_t proc_out; /* user pointer to a cm_handle_t for the process    */
} cmk_spawn_ex_args_t;
_Static_assert(sizeof(cmk_spawn_ex_args_t) == 56, "spawn ex args ABI");
_Static_assert(offsetof(cmk_spawn_ex_args_t, quota) == 40, "spawn ex args ABI");
_Static_assert(offsetof(cmk_spawn_ex_args_t, proc_out) == 48, "spawn ex args ABI");

/* Spawn into an account object (CM_OBJ_ACCOUNT, SIGNAL right): the child
 * is charged to that account, shared with the other processes in it. */
typedef struct cmk_spawn_in_args {
    cmk_spawn_args_t base;
    uint32_t account;  /* cm_handle_t of the account                      */
    uint32_t reserved; /* must be 0                                       */
    uint64_t proc_out; /* user pointer to a cm_handle_t for the process    */
} cmk_spawn_in_args_t;
_Static_assert(sizeof(cmk_spawn_in_args_t) == 56, "spawn in args ABI");
_Static_assert(offsetof(cmk_spawn_in_args_t, account) == 40, "spawn in args ABI");
_Static_assert(offsetof(cmk_spawn_in_args_t, reserved) == 44, "spawn in args ABI");
_Static_assert(offsetof(cmk_spawn_in_args_t, proc_out) == 48, "spawn in args ABI");

/* cmk_account_create flags: COMMIT (and OBJECT_BACKING) of the new account
 * are not carved but drawn from the caller's room at each charge. */
#define CMK_ACCOUNT_OVERCOMMIT (1u << 0)
/* An account handle (CM_OBJ_ACCOUNT): READ its ledger, WRITE to lower its
 * limits, SIGNAL to spawn into it. */
#define CMK_ACCOUNT_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_SIGNAL | \
                                    CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

/* A process handle (CM_OBJ_PROCESS): SIGNAL to wait for it, WRITE to
 * kill it. */
#define CMK_PROC_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_SIGNAL | \
                                 CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

/* How a process ended. */
#define CMK_EXIT_NORMAL  1u /* called exit(code) or returned from main */
#define CMK_EXIT_FAULTED 2u /* killed by the kernel for a fault        */
#define CMK_EXIT_KILLED  3u /* killed through a process handle         */

typedef struct cmk_exit_info {
    uint32_t reason;   /* CMK_EXIT_* */
    int32_t code;      /* exit code, or the scause of the fault     */
    uint64_t fault_va; /* stval of the fault (0 for a normal exit)   */
    /* Typed class of a fault (0 otherwise): a memory fault (page fault
     * scause 12/13/15) is ACCESS_DENIED when the page is mapped without
     * the access, INVALID_ARGS when nothing is mapped there (and, with
     * commit on demand, QUOTA_COMMIT or MEMORY_PRESSURE when the page could
     * not be committed); any other fault (illegal instruction, misaligned
     * access): BAD_STATE. */
    int32_t status;
    uint32_t reserved;
} cmk_exit_info_t;
_Static_assert(sizeof(cmk_exit_info_t) == 24, "exit info ABI");
_Static_assert(offsetof(cmk_exit_info_t, reason) == 0, "exit info ABI");
_Static_assert(offsetof(cmk_exit_info_t, code) == 4, "exit info ABI");
_Static_assert(offsetof(cmk_exit_info_t, fault_va) == 8, "exit info ABI");
_Static_assert(offsetof(cmk_exit_info_t, status) == 16, "exit info ABI");

typedef struct cmk_counters {
    uint64_t free_frames;  /* frames in the physical allocator          */
    uint64_t live_objects; /* kernel objects alive (VMOs, endpoints, sbufs) */
    uint64_t live_procs;   /* process slots in use (incl. zombies)       */
    uint64_t live_msgs;    /* channel messages queued anywhere           */
} cmk_counters_t;
_Static_assert(sizeof(cmk_counters_t) == 32, "counters ABI");
_Static_assert(offsetof(cmk_counters_t, free_frames) == 0, "counters ABI");
_Static_assert(offsetof(cmk_counters_t, live_objects) == 8, "counters ABI");
_Static_assert(offsetof(cmk_counters_t, live_procs) == 16, "counters ABI");
_Static_assert(offsetof(cmk_counters_t, live_msgs) == 24, "counters ABI");

/* Start-up block the kernel writes on the new process's stack; a2 points
 * to it. Handles are already installed in the child's table. */
typedef struct cmk_startup {
    uint32_t role;
    uint32_t num_handles;
    cm_handle_t handles[CMK_SPAWN_MAX_HANDLES];
} cmk_startup_t;
_Static_assert(sizeof(cmk_startup_t) == 8 + 4 * CMK_SPAWN_MAX_HANDLES, "startup ABI");
_Static_assert(offsetof(cmk_startup_t, role) == 0, "startup ABI");
_Static_assert(offsetof(cmk_startup_t, num_handles) == 4, "startup ABI");
_Static_assert(offsetof(cmk_startup_t, handles) == 8, "startup ABI");

/* SharedBuffer (docs/sbuf.md "Kernel target"). A loan as the kernel
 * hands it out: the user runtime adds the slot's address in its mapping. */
typedef struct cmk_sbuf_loan_out {
    uint64_t id;
    uint32_t slot;
    uint32_t reserved;
} cmk_sbuf_loan_out_t;
_Static_assert(sizeof(cmk_sbuf_loan_out_t) == 16, "sbuf loan ABI");

/* What sbuf_attach maps into the caller and tells it. Buffer: `data` is
 * the producer's read-write mapping of the data VMO (one per buffer, in
 * the creating process). Consumer: `data` read-only (0 without MAP),
 * `prod` its producer area read-only, `cons` its consumer area read-write;
 * one set per consumer, in the process that attached last (attaching in
 * another process unmaps the previous set). A mapping lasts while its
 * process holds a handle with the right it needs (data: WRITE for the
 * buffer, MAP for a consumer; areas: any handle): the kernel removes it at
 * the end of the call that dropped the right or moved the last handle. */
typedef struct cmk_sbuf_attach {
    cm_sbuf_config_t config;
    uint64_t data;
    uint64_t prod;
    uint64_t cons;
    uint32_t pos;      /* consumer position; UINT32_MAX for a buffer */
    uint32_t reserved;
} cmk_sbuf_attach_t;
_Static_assert(sizeof(cmk_sbuf_attach_t) == 64, "sbuf attach ABI");
_Static_assert(offsetof(cmk_sbuf_attach_t, data) == 32, "sbuf attach ABI");
_Static_assert(offsetof(cmk_sbuf_attach_t, pos) == 56, "sbuf attach ABI");
_Static_assert(sizeof(cm_sbuf_config_t) == 32, "cm_sbuf_config_t ABI");
_Static_assert(sizeof(cm_sbuf_consumer_info_t) == 40, "cm_sbuf_consumer_info_t ABI");
_Static_assert(sizeof(cm_sbuf_info_t) == 56 + 40 * CM_SBUF_MAX_CONSUMERS, "cm_sbuf_info_t ABI");

/* A DMA device's request as cmk_dma_device_next hands it to its driver
 * (user/cmk.h). segments[] are device (physical) addresses of the buffer
 * window in flight, page pieces (adjacent frames merged). */
#define CMK_DMA_MAX_SEGMENTS ((CM_DMA_MAX_BUFFER_SIZE / 4096u) + 1u)
typedef struct cmk_dma_segment {
    uint64_t addr;
    uint32_t len;
    uint32_t reserved;
} cmk_dma_segment_t;
typedef struct cmk_dma_request {
    uint64_t id;            /* generation-tagged; stale/duplicate ids are BAD_HANDLE */
    uint32_t kind;          /* CM_DMA_OP_READ / CM_DMA_OP_WRITE */
    uint32_t length;        /* bytes, multiple of block_size, > 0 */
    uint64_t device_offset; /* bytes, multiple of block_size */
    uint32_t segment_count;
    uint32_t reserved;
    cmk_dma_segment_t segments[CMK_DMA_MAX_SEGMENTS];
} cmk_dma_request_t;
_Static_assert(sizeof(cmk_dma_segment_t) == 16, "dma segment ABI");
_Static_assert(offsetof(cmk_dma_request_t, segment_count) == 24, "dma request ABI");
_Static_assert(offsetof(cmk_dma_request_t, segments) == 32, "dma request ABI");
_Static_assert(sizeof(cm_dma_pool_config_t) == 16, "cm_dma_pool_config_t ABI");
_Static_assert(sizeof(cm_dma_op_t) == 24, "cm_dma_op_t ABI");
_Static_assert(sizeof(cm_dma_completion_t) == 16, "cm_dma_completion_t ABI");
_Static_assert(sizeof(cm_dma_pool_info_t) == 48, "cm_dma_pool_info_t ABI");

/* The kernel target's effective limits below the ABI maxima of
 * capmem/limits.h (cm_limits_get reports them; no syscall: they are fixed
 * at build time). A VMO's frames are found through a two-level table of
 * 512 x 512 page entries (kernel/include/vmo.h), so a VMO covers at most
 * 2^18 pages, 1 GiB; with 128 MiB of RAM under QEMU the commit quota
 * (CM_LEDGER_OBJECT_BACKING) refuses long before. Mapped bytes: 4 GiB per
 * process of a 252 GiB Sv39 user space. */
#define CMK_VMO_MAX_SIZE (1ull << 30)
#define CMK_MAX_MAPPED_BYTES (4ull << 30)
_Static_assert(CMK_VMO_MAX_SIZE <= CM_VMO_MAX_SIZE, "effective limits are below the ABI's");
_Static_assert(CMK_MAX_MAPPED_BYTES <= CM_MAX_MAPPED_BYTES, "effective limits are below the ABI's");

/* Where user programs are linked (user/user.ld says the same number; the
 * kernel's loader refuses segments below it, kernel/elf.c). */
#define CMK_USER_IMAGE_BASE 0x100000000ul

/* The public structs cross the boundary as-is. */
_Static_assert(sizeof(cm_handle_t) == 4, "cm_handle_t ABI");
_Static_assert(sizeof(cm_rights_t) == 4, "cm_rights_t ABI");
_Static_assert(sizeof(cm_status_t) == 4, "cm_status_t ABI");
_Static_assert(sizeof(cm_handle_info_t) == 8, "cm_handle_info_t ABI");
_Static_assert(offsetof(cm_handle_info_t, type) == 0, "cm_handle_info_t ABI");
_Static_assert(offsetof(cm_handle_info_t, rights) == 4, "cm_handle_info_t ABI");
_Static_assert(sizeof(cm_vmo_info_t) == 32, "cm_vmo_info_t ABI");
_Static_assert(offsetof(cm_vmo_info_t, id) == 0, "cm_vmo_info_t ABI");
_Static_assert(offsetof(cm_vmo_info_t, size) == 8, "cm_vmo_info_t ABI");
_Static_assert(offsetof(cm_vmo_info_t, flags) == 16, "cm_vmo_info_t ABI");
_Static_assert(offsetof(cm_vmo_info_t, rights) == 20, "cm_vmo_info_t ABI");
_Static_assert(offsetof(cm_vmo_info_t, page_size) == 24, "cm_vmo_info_t ABI");
_Static_assert(sizeof(cm_mmio_info_t) == 32, "cm_mmio_info_t ABI");
_Static_assert(offsetof(cm_mmio_info_t, kind) == 16, "cm_mmio_info_t ABI");
_Static_assert(offsetof(cm_mmio_info_t, slot) == 28, "cm_mmio_info_t ABI");
_Static_assert(sizeof(cm_signals_t) == 4, "cm_signals_t ABI");
_Static_assert(sizeof(cm_wait_item_t) == 12, "cm_wait_item_t ABI");
_Static_assert(offsetof(cm_wait_item_t, handle) == 0, "cm_wait_item_t ABI");
_Static_assert(offsetof(cm_wait_item_t, waitfor) == 4, "cm_wait_item_t ABI");
_Static_assert(offsetof(cm_wait_item_t, pending) == 8, "cm_wait_item_t ABI");
_Static_assert(CM_SIGNAL_READABLE == 1 && CM_SIGNAL_WRITABLE == 2 && CM_SIGNAL_PEER_CLOSED == 4,
               "signal values ABI");

#endif
