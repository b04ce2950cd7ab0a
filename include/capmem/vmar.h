/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_VMAR_H
#define CAPMEM_VMAR_H

#include <stdint.h>
#include <capmem/handle.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Address-space regions (VMARs), commit/decommit, and mapping identity.
 * Zircon's VMAR is the model; see docs/memory-model.md for the state
 * transitions, what each target enforces and the ledger effect of each call.
 *
 * A reservation is a range of the caller's address space that nothing but
 * the mappings made into it through its handle can occupy. Pages of it that
 * no mapping covers are inaccessible (host: PROT_NONE, MAP_NORESERVE; kernel:
 * no page-table entry) and cost no memory. Mappings inside it can be unmapped
 * and re-protected on any page-aligned sub-range (the mapping is split; the
 * reservation keeps its range). Closing the VMAR handle releases the whole
 * reservation: every mapping in it is removed and its range is returned.
 *
 * Authority: every call that changes the address space names the reservation
 * by its handle; an address only says where inside it. No call accepts a raw
 * virtual address as authority, and cm_vmar_unmap_vmo also names the object
 * the caller believes is mapped there (provenance).
 *
 * Error precedence follows docs/api.md (arguments, handles in parameter
 * order, facts, resources); each call lists its statuses in that order. */

/* Rights of a fresh VMAR handle. READ and WRITE bound the protection of
 * every mapping made or re-protected through the handle; MAP is needed to
 * change the reservation at all. A VMAR names part of the caller's own
 * address space: it can be neither duplicated nor transferred (no
 * DUPLICATE, no TRANSFER), so its one handle owns the reservation. */
#define CM_VMAR_DEFAULT_RIGHTS (CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP)

/* cm_vmar_reserve flags. */
/* Exactly at `hint` (fixed, no replace): if any page of the range is already
 * in use (another reservation, a mapping, anything the target placed there)
 * the call fails with ALREADY_EXISTS and nothing is changed. */
#define CM_VMAR_FIXED (1u << 0)
/* cm_vmar_reserve_in only: the child handle's rights (Zircon's
 * ZX_VM_CAN_MAP_*): MAP plus READ (and WRITE) instead of the parent's
 * rights; each needs the same right on the parent. WRITE needs READ. */
#define CM_VMAR_CAN_MAP_READ (1u << 1)
#define CM_VMAR_CAN_MAP_WRITE (1u << 2)

/* Reserves `len` bytes of the caller's address space and returns a VMAR
 * handle (CM_VMAR_DEFAULT_RIGHTS) and the start address in *base.
 * Placement: with CM_VMAR_FIXED exactly at hint; otherwise at hint when that
 * range is free, else anywhere (hint NULL: anywhere). len and hint must be
 * multiples of CM_PAGE_SIZE. The reservation is charged to the process's
 * reserved bytes (CM_MAX_RESERVED_BYTES, and the ledger's virtual quota).
 * Errors:
 *  1. INVALID_ARGS (out or base NULL, unknown flags, len 0, len or hint not
 *     page-aligned, CM_VMAR_FIXED with hint NULL); OUT_OF_RANGE (len above
 *     CM_MAX_RESERVED_BYTES; FIXED range wrapping past the top of the
 *     address space or outside the target's user window);
 *  3. ALREADY_EXISTS (FIXED: the range overlaps something in use);
 *  4. QUOTA_VIRTUAL (the process's reserved bytes would pass
 *     CM_MAX_RESERVED_BYTES or its virtual quota); NO_RESOURCES
 *     (CM_MAX_VMARS reservations live, handle table full, no free range
 *     large enough); NO_MEMORY. */
cm_status_t cm_vmar_reserve(void *hint, uint64_t len, uint32_t flags, cm_handle_t *out,
                            void **base);

/* Reserves a nested reservation (Zircon's sub-VMAR) of `len` bytes inside
 * the reservation `parent`, at reservation offset `offset` (CM_VMAR_FIXED:
 * exactly there; else a hint as cm_vmar_map's), and returns its handle
 * and start address. Its range is a region of the parent that neither a
 * mapping of the parent nor another child can take (ALREADY_EXISTS, and
 * placement skips it); the parent's cm_vmar_unmap and cm_vmar_protect over
 * any page of it are BAD_STATE (Zircon refuses protect there too, with
 * INVALID_ARGS; unlike Zircon's unmap, a wholly covered child is not
 * destroyed: close its handle). The child is used with every cm_vmar_*
 * call like any reservation. Rights: the parent's, or with a CAN_MAP flag
 * MAP plus the rights asked (a subset: each needs the same right on the
 * parent). Closing the child's handle returns its range to the parent
 * (inaccessible, free again) and removes everything mapped in it. Closing
 * the parent's handle releases the parent and everything nested in it:
 * the children's handles stay valid but every call on them except
 * cm_handle_close returns BAD_STATE (Zircon: a destroyed VMAR). A child
 * counts in CM_MAX_VMARS (and the kernel's VMARS ledger) like any
 * reservation; its bytes are the parent's, never charged again.
 * Errors:
 *  1. INVALID_ARGS (out or base NULL, unknown flags, CAN_MAP_WRITE without
 *     CAN_MAP_READ, len 0, offset or len not page-aligned);
 *  2. BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (no MAP on the parent, or a
 *     CAN_MAP right it lacks), BAD_STATE (the parent was destroyed);
 *  3. OUT_OF_RANGE (FIXED range past the parent or wrapping; len above the
 *     parent's); ALREADY_EXISTS (FIXED: a page of the range is mapped or
 *     another child's);
 *  4. NO_RESOURCES (the parent is CM_VMAR_MAX_DEPTH levels deep;
 *     CM_MAX_VMARS reservations live or the kernel's VMARS share used;
 *     runs over CM_VMAR_MAX_MAPPINGS in the parent; no free range; handle
 *     table full); NO_MEMORY. */
cm_status_t cm_vmar_reserve_in(cm_handle_t parent, uint64_t offset, uint64_t len,
                               uint32_t flags, cm_handle_t *out, void **base);

/* cm_vmar_map / cm_vmar_protect flags: CM_MAP_READ, CM_MAP_WRITE and
 * CM_MAP_POPULATE (capmem/vmo.h), and these: */
/* Requested execute permission. No capmem mapping is ever executable: no
 * right grants it, so asking is always ACCESS_DENIED (at the rights check). */
#define CM_MAP_EXECUTE (1u << 3)
/* cm_vmar_map only: map exactly at vmar_offset; if any page of the range is
 * already mapped: ALREADY_EXISTS (never replaced). Without it, vmar_offset is
 * a hint: there if free, else the lowest free range at or above it, else the
 * lowest free range in the reservation. */
#define CM_VMAR_MAP_SPECIFIC (1u << 8)

/* Maps [vmo_offset, vmo_offset+len) of the VMO at reservation offset
 * vmar_offset and returns the address in *addr. vmo_offset, vmar_offset and
 * len are multiples of CM_PAGE_SIZE, len > 0. flags must include
 * CM_MAP_READ (write implies read). The protection is bounded by both
 * handles: READ needs READ on the VMAR and READ|MAP on the VMO, WRITE also
 * needs WRITE on both and an unsealed VMO; this bound (the mapping's maximum
 * protection) stays with the mapping for cm_vmar_protect. The mapping keeps
 * the object alive after its handle is closed. The VMO's conditions of
 * cm_vmo_map hold here too (a shared VMO must have its size floor; host:
 * huge-page VMOs are not mapped into reservations, UNSUPPORTED).
 * Errors:
 *  1. INVALID_ARGS (addr NULL, unknown flags, no CM_MAP_READ, an offset or
 *     len unaligned, len 0); OUT_OF_RANGE (len above CM_VMO_MAX_SIZE);
 *  2. vmar: BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (no MAP, READ/WRITE
 *     missing for the flags, CM_MAP_EXECUTE), BAD_STATE (a destroyed
 *     nested reservation, cm_vmar_reserve_in); then vmo: BAD_HANDLE,
 *     WRONG_TYPE, ACCESS_DENIED (READ|MAP, and WRITE for a writable map);
 *  3. OUT_OF_RANGE (range past the reservation or past the VMO's size,
 *     overflow); ACCESS_DENIED (writable map of a sealed VMO); BAD_STATE
 *     (as cm_vmo_map: shared and shrinkable); UNSUPPORTED (file window,
 *     host huge-page VMO); ALREADY_EXISTS (SPECIFIC over a mapped page or
 *     a nested reservation's);
 *  4. NO_RESOURCES (CM_VMAR_MAX_MAPPINGS runs in the reservation, no free
 *     range for a non-specific map, CM_MAX_MAPPINGS or CM_MAX_MAPPED_BYTES);
 *     NO_MEMORY; kernel, with CM_MAP_POPULATE: QUOTA_COMMIT,
 *     MEMORY_PRESSURE (and no mapping made, nothing committed).
 * CM_MAP_POPULATE commits and maps every page now instead of at first
 * touch: on the kernel all or nothing (the pages charged to the VMO's
 * creator, the page-table pages to the caller); on the host Linux's
 * MAP_POPULATE (best effort, as for cm_vmo_map). */
cm_status_t cm_vmar_map(cm_handle_t vmar, uint64_t vmar_offset, cm_handle_t vmo,
                        uint64_t vmo_offset, uint64_t len, uint32_t flags, void **addr);

/* Maps `len` bytes of zero-filled private memory (no VMO) at reservation
 * offset vmar_offset, as cm_vmar_map does a VMO: the same flags (READ or
 * READ|WRITE, CM_VMAR_MAP_SPECIFIC, CM_MAP_POPULATE; never EXECUTE), the
 * same placement and split/merge under cm_vmar_unmap and cm_vmar_protect.
 * Its maximum protection is the VMAR handle's READ/WRITE. Its pages are no
 * one else's: unmapped pages are freed and read as zero when mapped again.
 * cm_vmar_unmap_vmo over it is NOT_FOUND (it names no object);
 * cm_mapping_get_info reports object_id 0 and CM_MAPPING_INFO_ANON.
 * Memory: host, Linux private anonymous pages (MAP_PRIVATE|MAP_ANONYMOUS,
 * committed on touch, not charged to the capmem ledger, not counted in
 * CM_MAX_MAPPINGS); kernel, demand-zero frames charged to the process's
 * COMMIT ledger at first touch (as a VMO's), backed by a private object
 * that counts in CM_MAX_MAPPINGS, the VMOS ledger and OBJECT_BACKING
 * (len), all released exactly once at unmap, release or exit.
 * Errors:
 *  1. INVALID_ARGS (addr NULL, unknown flags, no CM_MAP_READ, vmar_offset
 *     or len unaligned, len 0); OUT_OF_RANGE (len above CM_VMO_MAX_SIZE);
 *  2. BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (no MAP, READ/WRITE missing
 *     for the flags, CM_MAP_EXECUTE), BAD_STATE (a destroyed nested
 *     reservation);
 *  3. OUT_OF_RANGE (range past the reservation); ALREADY_EXISTS (SPECIFIC
 *     over a mapped page or a child's);
 *  4. NO_RESOURCES (runs over CM_VMAR_MAX_MAPPINGS, no free range; kernel:
 *     CM_MAX_MAPPINGS, the VMOS share); QUOTA_COMMIT (kernel: the object's
 *     table; with CM_MAP_POPULATE also the pages and page-table pages, all
 *     or nothing as cm_vmar_map's: no mapping made, nothing committed);
 *     NO_MEMORY, MEMORY_PRESSURE. */
cm_status_t cm_vmar_map_anon(cm_handle_t vmar, uint64_t vmar_offset, uint64_t len,
                             uint32_t flags, void **addr);

/* Unmaps [addr, addr+len): every page of it must be mapped (by one or more
 * mappings) inside the reservation. Parts of mappings outside the range stay
 * (a mapping cut in the middle becomes two runs with the same identity).
 * The pages return to the reservation (inaccessible, no memory); the VMO is
 * released when no page of the mapping is left. Needs MAP on the VMAR.
 * Errors:
 *  1. INVALID_ARGS (addr or len not page-aligned, len 0);
 *  2. BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (no MAP), BAD_STATE (a
 *     destroyed nested reservation);
 *  3. OUT_OF_RANGE (range wraps or leaves the reservation); NOT_FOUND (a
 *     page of the range is not mapped) or BAD_STATE (a page of it is a
 *     nested reservation's), whichever page comes first;
 *  4. NO_RESOURCES (a middle cut needs a run over CM_VMAR_MAX_MAPPINGS, or
 *     a mapping slot over CM_MAX_MAPPINGS); NO_MEMORY. */
cm_status_t cm_vmar_unmap(cm_handle_t vmar, void *addr, uint64_t len);

/* cm_vmar_unmap, but only if every page of the range maps the object named
 * by `vmo` (the same object: any handle to it, no right needed). If any page
 * maps another object, nothing is unmapped. Provenance: a caller that got
 * an address from someone else cannot remove a mapping it did not mean.
 * Errors: as cm_vmar_unmap, with vmo's BAD_HANDLE, WRONG_TYPE after the
 * VMAR's, and NOT_FOUND also when a page maps a different object. */
cm_status_t cm_vmar_unmap_vmo(cm_handle_t vmar, cm_handle_t vmo, void *addr, uint64_t len);

/* Sets the protection of [addr, addr+len) to flags: 0 (no access),
 * CM_MAP_READ, or CM_MAP_READ|CM_MAP_WRITE. Every page must be mapped.
 * Pages keep their content and stay committed through no-access and back.
 * Runs are split and merged as needed. Needs MAP, plus the rights of the
 * new protection, on the VMAR; each mapping's maximum protection (fixed at
 * map time) must allow it.
 * Errors:
 *  1. INVALID_ARGS (unknown flags, WRITE without READ, CM_MAP_POPULATE or
 *     CM_VMAR_MAP_SPECIFIC, addr or len unaligned, len 0);
 *  2. BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (no MAP, READ/WRITE missing,
 *     CM_MAP_EXECUTE), BAD_STATE (a destroyed nested reservation);
 *  3. OUT_OF_RANGE (range wraps or leaves the reservation); NOT_FOUND (a
 *     page of it is not mapped) or BAD_STATE (a nested reservation's
 *     page), whichever comes first; ACCESS_DENIED (beyond a mapping's maximum
 *     protection);
 *  4. NO_RESOURCES (runs over CM_VMAR_MAX_MAPPINGS); NO_MEMORY. */
cm_status_t cm_vmar_protect(cm_handle_t vmar, void *addr, uint64_t len, uint32_t flags);

typedef struct cm_vmar_info {
    uint64_t base;         /* start address */
    uint64_t len;          /* bytes reserved */
    uint64_t id;           /* reservation identity, never reused in this address space */
    uint64_t mapped_bytes; /* bytes of it covered by mappings */
    uint32_t runs;         /* maximal runs of pages with one mapping and protection */
    uint32_t mappings;     /* live mappings (a split mapping counts once) */
} cm_vmar_info_t;

/* Errors: INVALID_ARGS (info NULL); BAD_HANDLE; WRONG_TYPE; BAD_STATE (a
 * destroyed nested reservation). No right needed. mapped_bytes, runs and
 * mappings count this reservation's own mappings; a nested reservation's
 * range is one of its parent's runs (it takes a run slot) and is in
 * neither mapped_bytes nor mappings. */
cm_status_t cm_vmar_get_info(cm_handle_t vmar, cm_vmar_info_t *info);

/* ---- Mapping identity (diagnostics) ---- */

/* cm_mapping_info.flags */
#define CM_MAPPING_INFO_IN_VMAR (1u << 0) /* made by cm_vmar_map or cm_vmar_map_anon */
#define CM_MAPPING_INFO_ANON (1u << 1)    /* cm_vmar_map_anon: object_id and object_generation
                                             0, object_offset the page's offset in the
                                             anonymous mapping */

/* Names the mapped page at an address by what it maps, never by the
 * address: the same (object id, object generation, offset) is the same
 * page of the same object, wherever and however often it is mapped. */
typedef struct cm_mapping_info {
    uint64_t object_id;          /* cm_vmo_info.id of the VMO mapped */
    uint64_t object_generation;  /* distinguishes two objects that had the same id
                                    at different times (host: this process's
                                    instance of the object; kernel: slot generation) */
    uint64_t object_offset;      /* offset in the VMO of the page holding addr */
    uint64_t mapping_generation; /* the mapping's number, never reused in this address
                                    space; the runs of a split mapping share it */
    uint64_t aspace_id;          /* the address space (host: pid; kernel: process id) */
    uint64_t aspace_generation;  /* with aspace_id, unique for the life of the system
                                    (host: a per-process random value, new after fork) */
    uint64_t vmar_id;            /* cm_vmar_info.id, 0 outside a reservation */
    uint64_t map_base;           /* start of the run holding addr */
    uint64_t map_len;            /* its length */
    uint32_t prot;               /* CM_MAP_READ/WRITE of the page now (0: no access) */
    uint32_t flags;              /* CM_MAPPING_INFO_* */
} cm_mapping_info_t;

/* Identity of the page at addr if a mapping made by cm_vmo_map or
 * cm_vmar_map covers it. For diagnostics: it confers no authority.
 * Errors: INVALID_ARGS (info NULL); NOT_FOUND (no capmem mapping there: a
 * reserved but unmapped page is NOT_FOUND). */
cm_status_t cm_mapping_get_info(const void *addr, cm_mapping_info_t *info);

/* ---- Commit and decommit (Zircon's op_range) ---- */

#define CM_VMO_OP_COMMIT   1u /* back every page of the range with memory now */
#define CM_VMO_OP_DECOMMIT 2u /* return the range's pages; they read as zero after */

/* Commits or decommits [offset, offset+len) of the VMO (page-aligned,
 * len > 0, inside the size). COMMIT of a committed page and DECOMMIT of an
 * uncommitted one are no-ops, so the committed count stays exact under any
 * sequence. DECOMMIT changes the content (to zero) for every holder and
 * every mapping, so it needs an unsealed VMO; COMMIT does not change it.
 * Both need WRITE.
 * Errors:
 *  1. INVALID_ARGS (unknown op, offset or len unaligned, len 0);
 *  2. BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED (no WRITE);
 *  3. OUT_OF_RANGE (past the size, overflow); ACCESS_DENIED (DECOMMIT of a
 *     write-sealed VMO); UNSUPPORTED (file window; host huge-page VMO);
 *  4. QUOTA_COMMIT (the process's commit quota); MEMORY_PRESSURE (the
 *     system has no memory to commit). A failed COMMIT leaves no page of
 *     the range committed that was not committed before the call. */
cm_status_t cm_vmo_op_range(cm_handle_t vmo, uint32_t op, uint64_t offset, uint64_t len);

/* Bytes of the VMO backed by memory now (a multiple of CM_PAGE_SIZE).
 * Host: what Linux holds for the memfd, so pages committed by writes,
 * faults through any mapping and any other holder count too; kernel: the
 * object's committed-page set.
 * Errors: INVALID_ARGS (bytes NULL); BAD_HANDLE; WRONG_TYPE; UNSUPPORTED
 * (file window). No right needed. */
cm_status_t cm_vmo_get_committed(cm_handle_t vmo, uint64_t *bytes);

#ifdef __cplusplus
}
#endif

#endif
