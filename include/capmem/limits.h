#ifndef CAPMEM_LIMITS_H
#define CAPMEM_LIMITS_H

/* Every bound capmem enforces, in one place, with the reason for the number.
 * Both targets enforce the same values; each has a test that hits it. */

/* Page size of both targets (x86-64/arm64 Linux base pages, Sv39). */
#define CM_PAGE_SIZE 4096u

/* Huge page size a VMO may be backed by (x86-64/arm64 PMD-level pages,
 * hugetlbfs default size). Also the threshold of the automatic huge-page
 * policy of cm_vmo_create. Kernel target: never used yet (base pages). */
#define CM_HUGE_PAGE_SIZE (2u * 1024u * 1024u)

/* Largest VMO. 1 GiB covers the benchmarks' 256 MiB payload with room, and
 * keeps any single object well inside a 32-bit-safe page count and inside
 * what a test machine can commit. Larger requests: OUT_OF_RANGE. */
#define CM_VMO_MAX_SIZE (1ull << 30)

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
 * space a process can pin through capmem (4x the largest VMO). */
#define CM_MAX_MAPPED_BYTES (4ull << 30)

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

#endif
