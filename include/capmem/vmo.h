/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_VMO_H
#define CAPMEM_VMO_H

#include <stddef.h>
#include <stdint.h>
#include <capmem/handle.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Virtual memory objects: page-granular memory a process fills, seals and
 * hands to another process, which maps it without a copy.
 * See docs/vmo.md for semantics and what each target enforces. */

/* Rights of a freshly created VMO handle. */
#define CM_VMO_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP | \
                               CM_RIGHT_DUPLICATE | CM_RIGHT_TRANSFER)

/* Seal levels, one-way. */
typedef enum cm_seal {
    /* No new writable mapping and no write by anyone from now on; size fixed.
     * Writable mappings that already exist keep working: not immutable. */
    CM_SEAL_READONLY = 1,
    /* Content and size fixed forever, for every holder. Refused with
     * BAD_STATE while any writable mapping of the object exists. */
    CM_SEAL_IMMUTABLE = 2,
} cm_seal_t;

/* cm_vmo_info.flags */
#define CM_VMO_INFO_IMMUTABLE (1u << 0) /* platform guarantees content+size fixed */
#define CM_VMO_INFO_READONLY  (1u << 1) /* sealed READONLY (or IMMUTABLE)          */
#define CM_VMO_INFO_FILE      (1u << 2) /* window over a file range                */
#define CM_VMO_INFO_HUGE      (1u << 3) /* backed by huge pages (page_size > 4 KiB) */

typedef struct cm_vmo_info {
    uint64_t id;        /* object identity, stable while the object lives */
    uint64_t size;      /* bytes, as the platform reports it */
    uint32_t flags;     /* CM_VMO_INFO_* */
    cm_rights_t rights; /* rights of the handle queried, after seals */
    uint32_t page_size; /* bytes per page backing the object: CM_PAGE_SIZE, or
                           CM_HUGE_PAGE_SIZE for a huge-page VMO (memory used
                           rounds up to it; `size` stays exact) */
    uint32_t reserved;  /* 0 */
} cm_vmo_info_t;

/* cm_vmo_map flags. Mappings are never executable (W^X). */
#define CM_MAP_READ  (1u << 0)
#define CM_MAP_WRITE (1u << 1)
/* Fault every page in now: one kernel pass instead of a fault per page on
 * first touch. Worth it when the caller will read the whole range (hashing
 * a received VMO); slower when it touches little of it. Kernel target: VMOs
 * are committed and mapped eagerly, so this changes nothing there. */
#define CM_MAP_POPULATE (1u << 2)

/* cm_vmo_create options */
/* Commit (allocate) every page now instead of on first touch. Costs the
 * memory up front; makes the first write or mapping access cheaper, and a
 * commit failure surfaces here as MEMORY_PRESSURE instead of a fault later. */
#define CM_VMO_COMMIT (1u << 0)
/* Back the object with CM_HUGE_PAGE_SIZE pages when the system offers them,
 * base pages otherwise (never an error by itself); cm_vmo_get_info says
 * which it got. Without either page option, VMOs of CM_HUGE_PAGE_SIZE bytes
 * and more get huge pages when available (automatic policy). See docs/vmo.md. */
#define CM_VMO_HUGE (1u << 1)
/* Base pages only: opts out of the automatic huge-page policy. */
#define CM_VMO_BASE_PAGES (1u << 2)

/* Creates a zero-filled VMO of `size` bytes (0 allowed) with
 * CM_VMO_DEFAULT_RIGHTS. `options`: CM_VMO_COMMIT, and at most one of
 * CM_VMO_HUGE and CM_VMO_BASE_PAGES.
 * Errors: INVALID_ARGS (out NULL, unknown options, HUGE with BASE_PAGES); OUT_OF_RANGE (size >
 * CM_VMO_MAX_SIZE); NO_MEMORY (the library's own memory); MEMORY_PRESSURE
 * (CM_VMO_COMMIT: no memory for the pages); NO_RESOURCES (handle limit,
 * RLIMIT_NOFILE; host: size over RLIMIT_FSIZE, which would otherwise raise
 * SIGXFSZ). */
cm_status_t cm_vmo_create(uint64_t size, uint32_t options, cm_handle_t *out);

/* len argument of cm_vmo_create_from_file: up to the end of the file. */
#define CM_VMO_TO_END UINT64_MAX

/* Creates a VMO that is a window over bytes [offset, offset+len) of the file
 * at `path`, without copying. offset must be a multiple of CM_PAGE_SIZE;
 * len may be CM_VMO_TO_END. The handle has READ|MAP|DUPLICATE (never WRITE:
 * the file is shared with the filesystem). Not IMMUTABLE: the file may change,
 * and it is never mapped (cm_vmo_map: UNSUPPORTED), since whoever can write
 * the file can truncate it under a mapping; read it or snapshot it.
 * Only a regular file: checked before it is opened, so a FIFO, a device or a
 * tty is refused (INVALID_ARGS) without being opened (no hang, no side effect).
 * Errors: INVALID_ARGS (also: not a regular file); NOT_FOUND; ACCESS_DENIED (cannot open);
 * SHOULD_WAIT (another process holds a lease on the file: never waited for);
 * OUT_OF_RANGE (range past end of file, overflow, > CM_VMO_MAX_SIZE);
 * UNSUPPORTED (target has no files); NO_RESOURCES. */
cm_status_t cm_vmo_create_from_file(const char *path, uint64_t offset, uint64_t len,
                                    cm_handle_t *out);

/* Copies `len` bytes at `offset` out of / into the VMO.
 * offset+len must not exceed the size (computed without overflow); len 0 at
 * offset == size is OK.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED (no READ / no WRITE, or
 * sealed for write); INVALID_ARGS (buf NULL with len > 0); OUT_OF_RANGE
 * (also: another holder shrank the object meanwhile); NO_RESOURCES (write:
 * host, offset+len over RLIMIT_FSIZE); MEMORY_PRESSURE (write: no memory
 * for the pages it fills; host huge pages: no huge page for a page another
 * holder punched out); UNSUPPORTED (write,
 * host huge pages another process may hold, without process_vm_writev);
 * IO. */
cm_status_t cm_vmo_read(cm_handle_t vmo, void *buf, uint64_t offset, uint64_t len);
cm_status_t cm_vmo_write(cm_handle_t vmo, const void *buf, uint64_t offset, uint64_t len);

/* Size in bytes, from the platform object.
 * Errors: BAD_HANDLE; WRONG_TYPE; INVALID_ARGS (size NULL); OUT_OF_RANGE
 * (host: another holder of an unsealed VMO grew it past CM_VMO_MAX_SIZE). */
cm_status_t cm_vmo_get_size(cm_handle_t vmo, uint64_t *size);

/* Changes the size; new bytes read as zero. Needs WRITE. The check that no
 * mapping of this process is cut and the resize are one step with respect
 * to cm_vmo_map in this process.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED (no WRITE, or sealed at a
 * level; host: a shrink after a mapping in another process sealed the size
 * floor); OUT_OF_RANGE (> CM_VMO_MAX_SIZE); BAD_STATE (a mapping exists
 * that the change would cut); NO_MEMORY; MEMORY_PRESSURE (host huge pages:
 * no huge page for the growth); NO_RESOURCES (host: over RLIMIT_FSIZE). */
cm_status_t cm_vmo_set_size(cm_handle_t vmo, uint64_t size);

/* Identity, size, flags and this handle's effective rights.
 * Errors: BAD_HANDLE; WRONG_TYPE; INVALID_ARGS (info NULL); OUT_OF_RANGE
 * (as for cm_vmo_get_size). */
cm_status_t cm_vmo_get_info(cm_handle_t vmo, cm_vmo_info_t *info);

/* Applies a seal level. Needs WRITE. Sealing IMMUTABLE over READONLY is
 * allowed; sealing at a level already held is OK (idempotent).
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED (no WRITE); INVALID_ARGS
 * (unknown level); BAD_STATE (IMMUTABLE while a writable mapping exists);
 * UNSUPPORTED (file VMO). */
cm_status_t cm_vmo_seal(cm_handle_t vmo, cm_seal_t level);

/* Creates a new IMMUTABLE VMO holding the current content of `vmo`. Needs
 * READ. The new handle has READ|MAP|DUPLICATE|TRANSFER whatever other rights
 * the source handle lacked: it names a new object holding a copy of content
 * READ already exposes (this is how a file window, which cannot travel,
 * becomes a VMO that can), never the source, and it never has WRITE.
 * Errors: BAD_HANDLE; WRONG_TYPE; ACCESS_DENIED; INVALID_ARGS; NO_MEMORY;
 * NO_RESOURCES (handle limit, RLIMIT_NOFILE; host: size over RLIMIT_FSIZE);
 * OUT_OF_RANGE (another holder shrank the source during the copy, or grew
 * it past CM_VMO_MAX_SIZE);
 * BAD_STATE (sealing refused: pages pinned). */
cm_status_t cm_vmo_snapshot(cm_handle_t vmo, cm_handle_t *out);

/* Maps [offset, offset+len) of the VMO into the caller's address space.
 * offset must be a multiple of CM_PAGE_SIZE; len > 0; offset+len <= size.
 * flags must include CM_MAP_READ (no target has write-only pages), and may
 * add CM_MAP_POPULATE:
 * CM_MAP_READ needs READ|MAP; CM_MAP_READ|CM_MAP_WRITE needs READ|WRITE|MAP
 * and an unsealed object. The mapping keeps the object alive after the handle is closed.
 * Host: a mapping never extends past what the seals guarantee. A VMO another
 * process may hold (received, cm_host_vmo_from_fd, exported) is mapped only
 * if its size cannot shrink: with WRITE this call sets that floor
 * (F_SEAL_SHRINK, seen by every holder), without WRITE it refuses
 * (BAD_STATE). On huge pages such a VMO must also be write-sealed
 * (READONLY or IMMUTABLE), else BAD_STATE: any holder that can write a
 * hugetlbfs file can punch its pages out (docs/vmo.md, "Huge pages").
 * A file window is never mapped (UNSUPPORTED).
 * Errors: BAD_HANDLE; WRONG_TYPE; INVALID_ARGS (flags, alignment, len 0,
 * addr NULL); ACCESS_DENIED; OUT_OF_RANGE (past the size, overflow);
 * BAD_STATE (shared and shrinkable, or huge and not write-sealed, see
 * above); UNSUPPORTED (file window);
 * NO_RESOURCES (CM_MAX_MAPPINGS or CM_MAX_MAPPED_BYTES); NO_MEMORY (also
 * RLIMIT_AS). */
cm_status_t cm_vmo_map(cm_handle_t vmo, uint64_t offset, uint64_t len, uint32_t flags,
                       void **addr);

/* Removes a mapping made by cm_vmo_map: addr and len must be exactly those of
 * one live mapping. Errors: INVALID_ARGS (no such mapping). */
cm_status_t cm_vmo_unmap(void *addr, uint64_t len);

#ifdef __cplusplus
}
#endif

#endif
