/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_LIMITS_H
#define CAPMEM_LIMITS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Every bound capmem enforces, in one place, with the reason for the number.
 * These are the ABI maxima: a target never accepts more, and may enforce a
 * lower effective value, which cm_limits_get (capmem/limits_info.h) reports
 * at run time (the kernel target does for CM_VMO_MAX_SIZE and
 * CM_MAX_MAPPED_BYTES). Each has a test that hits it. */

/* Page size of both targets (x86-64/arm64 Linux base pages, Sv39). */
#define CM_PAGE_SIZE 4096u

/* Huge page size a VMO may be backed by (x86-64/arm64 PMD-level pages,
 * hugetlbfs default size). Also the threshold of the automatic huge-page
 * policy of cm_vmo_create. Kernel target: never used yet (base pages). */
#define CM_HUGE_PAGE_SIZE (2u * 1024u * 1024u)

/* Largest VMO: 1 TiB. Tensors and video need far more than a test
 * machine's RAM could once commit; a VMO is committed lazily, so the bound
 * is about address space and arithmetic, not memory: 1 TiB fits the user
 * address space of every 64-bit Linux (x86-64 128 TiB, arm64 with 48-bit VA
 * 256 TiB; a 39-bit-VA arm64 kernel cannot map all of it at once), keeps a
 * page count inside 32 bits (2^28 pages) and byte offsets far from
 * overflow. Host: the effective value (RLIMIT_FSIZE refuses first where it
 * is lower). Kernel target: 1 GiB effective (a two-level frame table,
 * cm_limits_get), and its commit quota refuses earlier. Larger requests:
 * OUT_OF_RANGE. */
#define CM_VMO_MAX_SIZE (1ull << 40)

/* Live handles per process. Each host handle owns one file descriptor, so
 * this stays well under the default RLIMIT_NOFILE soft limit (1024):
 * capmem reports NO_RESOURCES before the process runs out of fds.
 * The kernel's per-process table has exactly this many slots. */
#define CM_MAX_HANDLES 512u

/* Bytes in one channel message (Zircon's value): large payloads go in VMOs. */
#define CM_CHANNEL_MAX_BYTES 65536u

/* Handles in one channel message (Zircon's value; below Linux SCM_MAX_FD 253). */
#define CM_CHANNEL_MAX_HANDLES 64u

/* Messages queued in one direction of a kernel channel before the writer gets
 * SHOULD_WAIT. Host channels are bounded by the socket buffer instead. */
#define CM_CHANNEL_MAX_QUEUED 16u

/* Items in one cm_object_wait_many. The kernel copies the array onto its
 * stack (12 bytes an item) and re-evaluates every item on each wake-up, and
 * the host polls one fd per item plus the wake-up eventfd: 64 (Zircon's
 * ZX_WAIT_MANY_MAX_ITEMS) bounds both while covering a server's channels.
 * Larger counts: OUT_OF_RANGE. */
#define CM_WAIT_MANY_MAX 64u

/* Bytes of VMO mappings live in one process at once. Bounds the address
 * space a process can pin through capmem (4x the largest VMO). Kernel
 * target: 4 GiB effective (cm_limits_get; Sv39 gives user space 252 GiB). */
#define CM_MAX_MAPPED_BYTES (4ull << 40)

/* Live mappings per process: the mapping table is a fixed array. */
#define CM_MAX_MAPPINGS 256u

/* Buffers per pool. On host each buffer is one memfd (so that it can leave
 * the pool as its own VMO) and one registered io_uring buffer: 64 keeps a
 * pool at 66 fds and 64 MiB of pinned memory at most. */
#define CM_DMA_MAX_BUFFERS 64u

/* Bytes per buffer: 1 MiB, a common maximum block-layer request
 * (max_sectors_kb is 1280 on many disks, 512 KiB on some) and the
 * benchmark's block size. Must be a multiple of CM_PAGE_SIZE. */
#define CM_DMA_MAX_BUFFER_SIZE (1u << 20)

/* Submissions held by the device at once per pool (quarantined buffers
 * count: the device still holds them). 32 is twice the depth where NVMe and
 * virtio-blk reach their throughput for 1 MiB reads; more would only pin
 * memory. Hitting it gives NO_RESOURCES, never a blocked submit. */
#define CM_DMA_MAX_IN_FLIGHT 32u

/* SharedBuffer (capmem/sbuf.h, docs/sbuf.md). */

/* Consumers of one buffer at once. Holder sets are 32-bit masks (room to
 * raise it), iceoryx2's default is 8 subscribers, and every publish writes
 * one descriptor per consumer, so the producer's cost grows with it. On
 * host each consumer also costs the producer two memfds (its control areas)
 * and a mapping of each. Beyond: NO_RESOURCES at consumer_create, and
 * OUT_OF_RANGE for a max_consumers above it at create. */
#define CM_SBUF_MAX_CONSUMERS 16u

/* Slots of one buffer. Slot numbers travel in 32-bit descriptor fields but
 * are kept in 16-bit ring mirrors by the producer; each consumer's two rings
 * have a power-of-two size >= slot_count (16 bytes an entry: 32 KiB of
 * rings per consumer at this bound), and DROP_OLDEST scans the slots. */
#define CM_SBUF_MAX_SLOTS 1024u

/* Bytes in one slot: the largest message (bench/sbuf's 16 MiB). Larger
 * messages are refused, never chained (capmem/sbuf.h explains why). */
#define CM_SBUF_MAX_SLOT_SIZE (16u << 20)

/* Slot stride alignment: one cache line, so that two slots never share a
 * line (a producer filling one does not bounce a line a consumer reads). */
#define CM_SBUF_SLOT_ALIGN 64u

/* Bytes of one buffer's data VMO (slot_count x stride): 16 slots of the
 * largest size (a quarter of the kernel target's effective VMO size, where
 * it was first chosen); bounds what one buffer pins in every process that
 * maps it. Independent of CM_VMO_MAX_SIZE. */
#define CM_SBUF_MAX_DATA_SIZE (256ull << 20)

/* Slots the producer may hold loaned at once (its loan table). */
#define CM_SBUF_MAX_LOANS 64u

/* Address-space regions (capmem/vmar.h, docs/memory-model.md). */

/* Live reservations (VMARs) per process. Each is one interval map with its
 * own node arrays (kernel: carved from the process's budget), and on host
 * one PROT_NONE mapping: 64 covers an allocator's arenas and a runtime's
 * heaps with room, and bounds the bookkeeping a process can make us hold.
 * Beyond: NO_RESOURCES. */
#define CM_MAX_VMARS 64u

/* Runs per reservation: maximal ranges of pages with one mapping and one
 * protection (a mapping split by a middle unmap or protect counts twice).
 * The run array is a fixed part of the reservation (core/vmar_rules.h), and
 * each run is at least one Linux VMA on host, where vm.max_map_count
 * (65530) is shared by the whole process. Beyond: NO_RESOURCES. */
#define CM_VMAR_MAX_MAPPINGS 64u

/* Levels of nested reservations (cm_vmar_reserve_in): a reservation of the
 * address space is level 1, a child one level below its parent. Each
 * level is a fixed-size reservation struct and a step of every fault's
 * and lookup's descent; 8 covers an allocator inside a runtime inside a
 * sandbox with room. Below the deepest: NO_RESOURCES. */
#define CM_VMAR_MAX_DEPTH 8u

/* Bytes reserved by all of a process's live reservations together. A
 * reservation costs no memory until mapped, but address space is finite
 * (Sv39 user space: 256 GiB) and page tables grow with it: 64 GiB is a
 * quarter of the kernel target's user space. Beyond: QUOTA_VIRTUAL (a
 * single request above it: OUT_OF_RANGE). Bytes mapped into reservations
 * count against CM_MAX_MAPPED_BYTES as well. */
#define CM_MAX_RESERVED_BYTES (64ull << 30)

/* Device MMIO windows and kernel DMA devices (capmem/mmio.h, user/cmk.h,
 * docs/mmio.md). Kernel target only; each bounds a fixed per-window or
 * kernel-wide array. */

/* Live cm_mmio_map mappings of one window: a driver maps its window once;
 * 4 leaves room for a split register/notify mapping. Beyond: NO_RESOURCES. */
#define CM_MMIO_MAX_MAPPINGS 4u

/* Pages of queue memory (cmk_mmio_queue_alloc) bound to one window: a
 * virtio split queue of 256 entries needs 3 pages (descriptors, available,
 * used) and a driver's request headers one more; 16 leaves room for a few
 * queues. Beyond: NO_RESOURCES. */
#define CMK_MMIO_MAX_QUEUE_PAGES 16u

/* Registered DMA devices in the kernel (cmk_dma_device_create): a fixed
 * table; QEMU virt's harness has one disk, 4 leaves room for a few and
 * stays below the 8 windows so the bound is reachable. Beyond:
 * NO_RESOURCES. */
#define CMK_DMA_MAX_DEVICES 4u

/* DMA pools alive in the kernel at once (a fixed table of pool objects,
 * each up to CM_DMA_MAX_BUFFERS buffer VMOs, which are also charged to the
 * VMOS ledger). The table is the root of the carved CM_LEDGER_DMA_POOLS
 * budget: a process past its share (at most this many) gets NO_RESOURCES
 * while others keep theirs. */
#define CMK_DMA_MAX_POOLS 8u

/* Bytes of a DMA device name, NUL included ("virtio-blk0"). Longer:
 * OUT_OF_RANGE. */
#define CMK_DMA_MAX_NAME 32u

/* Requests queued on one DMA device (submitted, not yet completed): the
 * in-flight bound of every pool attached to it together, each pool being
 * bounded by CM_DMA_MAX_IN_FLIGHT. Beyond: NO_RESOURCES at submit. */
#define CMK_DMA_DEVICE_MAX_REQUESTS 64u

#ifdef __cplusplus
}
#endif

#endif
