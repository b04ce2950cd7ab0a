/* SPDX-License-Identifier: MIT */
/* Address-space region rules. See vmar_rules.h for the model and V1..V8. */
#include <capmem/limits.h>

#include "limits_info.h"
#include "status_detail.h"
#include "vmar_rules.h"

#define PAGE_MASK ((uint64_t)CM_PAGE_SIZE - 1u)

static int aligned(uint64_t x)
{
    return (x & PAGE_MASK) == 0;
}

cm_status_t cm__vmar_reserve_check_args(uint64_t hint, uint64_t len, uint32_t flags,
                                        int out_ok, int base_ok)
{
    if (!out_ok || !base_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "out or base is NULL");
    if ((flags & ~CM_VMAR_FIXED) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "unknown flags 0x%x (known: CM_VMAR_FIXED)",
                              (unsigned)(flags & ~CM_VMAR_FIXED));
    if (len == 0 || !aligned(len) || !aligned(hint))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "len %llu or hint 0x%llx is 0 or not a "
                              "multiple of CM_PAGE_SIZE (%u bytes)", (unsigned long long)len,
                              (unsigned long long)hint, CM_PAGE_SIZE);
    if ((flags & CM_VMAR_FIXED) && hint == 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "CM_VMAR_FIXED needs a hint address");
    if (len > CM_MAX_RESERVED_BYTES)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "len %llu above CM_MAX_RESERVED_BYTES (%llu "
                              "bytes)", (unsigned long long)len,
                              (unsigned long long)CM_MAX_RESERVED_BYTES);
    if ((flags & CM_VMAR_FIXED) && hint + len < hint)
        return CM_ERR_OUT_OF_RANGE;
    return CM_OK;
}

/* Rights a protection needs on the VMAR handle (and, without MAP, on the
 * VMO's). Execute needs a right nobody holds. */
static cm_rights_t prot_rights(uint32_t flags)
{
    cm_rights_t r = 0;
    if (flags & CM_MAP_READ)
        r |= CM_RIGHT_READ;
    if (flags & CM_MAP_WRITE)
        r |= CM_RIGHT_WRITE;
    if (flags & CM_MAP_EXECUTE)
        r |= CM__RIGHT_NEVER;
    return r;
}

cm_status_t cm__vmar_map_check_args(uint64_t vmar_off, uint64_t vmo_off, uint64_t len,
                                    uint32_t flags, int addr_ok, cm_rights_t *vmar_need,
                                    cm_rights_t *vmo_need)
{
    const uint32_t known = CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE | CM_MAP_EXECUTE |
                           CM_VMAR_MAP_SPECIFIC;
    if (!addr_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "addr (the out-pointer) is NULL");
    if ((flags & ~known) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "unknown map flags 0x%x",
                              (unsigned)(flags & ~known));
    if (!(flags & CM_MAP_READ))
        return cm__detail_set(CM_ERR_INVALID_ARGS,
                              "flags lack CM_MAP_READ: every mapping is readable");
    if (len == 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "length 0: a mapping needs at least one page");
    if (!aligned(vmar_off) || !aligned(vmo_off) || !aligned(len))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "vmar_offset %llu, vmo_offset %llu and len "
                              "%llu must be multiples of CM_PAGE_SIZE (%u bytes)",
                              (unsigned long long)vmar_off, (unsigned long long)vmo_off,
                              (unsigned long long)len, CM_PAGE_SIZE);
    if (len > CM__VMO_MAX_SIZE)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "len %llu above CM_VMO_MAX_SIZE (%llu bytes)",
                              (unsigned long long)len, (unsigned long long)CM__VMO_MAX_SIZE);
    *vmar_need = CM_RIGHT_MAP | prot_rights(flags);
    *vmo_need = CM_RIGHT_MAP | (prot_rights(flags) & (CM_RIGHT_READ | CM_RIGHT_WRITE));
    return CM_OK;
}

cm_status_t cm__vmar_range_check_args(uint64_t addr, uint64_t len)
{
    if (len == 0 || !aligned(addr) || !aligned(len))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "addr 0x%llx or len %llu is 0 or not a "
                              "multiple of CM_PAGE_SIZE (%u bytes)", (unsigned long long)addr,
                              (unsigned long long)len, CM_PAGE_SIZE);
    return CM_OK;
}

cm_status_t cm__vmar_reserve_in_check_args(uint64_t offset, uint64_t len, uint32_t flags,
                                           int out_ok, int base_ok, cm_rights_t *need)
{
    const uint32_t known = CM_VMAR_FIXED | CM_VMAR_CAN_MAP_READ | CM_VMAR_CAN_MAP_WRITE;
    if (!out_ok || !base_ok)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "out or base is NULL");
    if ((flags & ~known) != 0)
        return cm__detail_set(CM_ERR_INVALID_ARGS, "unknown flags 0x%x (known: CM_VMAR_FIXED, "
                              "CM_VMAR_CAN_MAP_READ, CM_VMAR_CAN_MAP_WRITE)",
                              (unsigned)(flags & ~known));
    if ((flags & CM_VMAR_CAN_MAP_WRITE) && !(flags & CM_VMAR_CAN_MAP_READ))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "CM_VMAR_CAN_MAP_WRITE needs "
                              "CM_VMAR_CAN_MAP_READ: every mapping is readable");
    if (len == 0 || !aligned(len) || !aligned(offset))
        return cm__detail_set(CM_ERR_INVALID_ARGS, "len %llu or offset %llu is 0 or not a "
                              "multiple of CM_PAGE_SIZE (%u bytes)", (unsigned long long)len,
                              (unsigned long long)offset, CM_PAGE_SIZE);
    *need = CM_RIGHT_MAP | ((flags & CM_VMAR_CAN_MAP_READ) ? CM_RIGHT_READ : 0) |
            ((flags & CM_VMAR_CAN_MAP_WRITE) ? CM_RIGHT_WRITE : 0);
    return CM_OK;
}

cm_rights_t cm__vmar_child_rights(cm_rights_t parent, uint32_t flags)
{
    if (flags & (CM_VMAR_CAN_MAP_READ | CM_VMAR_CAN_MAP_WRITE))
        return CM_RIGHT_MAP | ((flags & CM_VMAR_CAN_MAP_READ) ? CM_RIGHT_READ : 0) |
               ((flags & CM_VMAR_CAN_MAP_WRITE) ? CM_RIGHT_WRITE : 0);
    return parent & CM_VMAR_DEFAULT_RIGHTS;
}

cm_status_t cm__vmar_anon_check_args(uint64_t vmar_off, uint64_t len, uint32_t flags,
                                     int addr_ok, cm_rights_t *vmar_need)
{
    cm_rights_t vmo_need;
    return cm__vmar_map_check_args(vmar_off, 0, len, flags, addr_ok, vmar_need, &vmo_need);
}

cm_status_t cm__vmar_protect_check_args(uint64_t addr, uint64_t len, uint32_t flags,
                                        cm_rights_t *vmar_need)
{
    if ((flags & ~(CM_MAP_READ | CM_MAP_WRITE | CM_MAP_EXECUTE)) != 0)
        return CM_ERR_INVALID_ARGS;
    if ((flags & CM_MAP_WRITE) && !(flags & CM_MAP_READ))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__vmar_range_check_args(addr, len);
    if (st != CM_OK)
        return st;
    *vmar_need = CM_RIGHT_MAP | prot_rights(flags);
    return CM_OK;
}

cm_status_t cm__vmo_op_range_check_args(uint32_t op, uint64_t offset, uint64_t len)
{
    if (op != CM_VMO_OP_COMMIT && op != CM_VMO_OP_DECOMMIT)
        return CM_ERR_INVALID_ARGS;
    if (!aligned(offset) || len == 0 || !aligned(len))
        return CM_ERR_INVALID_ARGS;
    return CM_OK;
}

uint32_t cm__vmar_max_prot(cm_rights_t vmar_rights, cm_rights_t vmo_rights, int vmo_writable)
{
    cm_rights_t both = vmar_rights & vmo_rights;
    uint32_t p = 0;
    if ((both & (CM_RIGHT_READ | CM_RIGHT_MAP)) != (CM_RIGHT_READ | CM_RIGHT_MAP))
        return 0;
    p |= CM_MAP_READ;
    if ((both & CM_RIGHT_WRITE) && vmo_writable)
        p |= CM_MAP_WRITE; /* write only ever together with read */
    return p;
}

uint32_t cm__vmar_anon_max_prot(cm_rights_t vmar_rights)
{
    return cm__vmar_max_prot(vmar_rights, CM_RIGHT_READ | CM_RIGHT_WRITE | CM_RIGHT_MAP, 1);
}

cm_status_t cm__vmo_op_range_check_facts(uint64_t size, int sealed, int is_file,
                                         uint32_t op, uint64_t offset, uint64_t len)
{
    uint64_t end = offset + len;
    if (end < offset || end > size)
        return CM_ERR_OUT_OF_RANGE;
    if (is_file)
        return CM_ERR_UNSUPPORTED;
    if (op == CM_VMO_OP_DECOMMIT && sealed)
        return CM_ERR_ACCESS_DENIED;
    return CM_OK;
}

cm_status_t cm__vmar_init(struct cm__vmar *v, struct cm__iv_node *nodes,
                          struct cm__vmar_rec *recs, uint32_t cap, uint64_t base,
                          uint64_t len, uint64_t id)
{
    if (v == 0 || recs == 0 || base + len < base)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = cm__iv_init(&v->map, nodes, cap, base, base + len);
    if (st != CM_OK)
        return st;
    for (uint32_t i = 0; i < cap; i++)
        recs[i] = (struct cm__vmar_rec){ 0 };
    v->recs = recs;
    v->cap = cap;
    v->mappings = 0;
    v->children = 0;
    v->depth = 1;
    v->mapped_bytes = 0;
    v->id = id;
    return CM_OK;
}

cm_status_t cm__vmar_child_init(struct cm__vmar *child, const struct cm__vmar *parent,
                                struct cm__iv_node *nodes, struct cm__vmar_rec *recs,
                                uint32_t cap, uint64_t base, uint64_t len, uint64_t id)
{
    cm_status_t st = cm__vmar_init(child, nodes, recs, cap, base, len, id);
    if (st == CM_OK)
        child->depth = parent->depth + 1;
    return st;
}

uint64_t cm__vmar_base(const struct cm__vmar *v)
{
    return v->map.base;
}

uint64_t cm__vmar_len(const struct cm__vmar *v)
{
    return v->map.limit - v->map.base;
}

static const struct cm__vmar_rec *rec_of(const struct cm__vmar *v, uint64_t gen)
{
    for (uint32_t i = 0; i < v->cap; i++)
        if (v->recs[i].gen == gen && gen != 0)
            return &v->recs[i];
    return 0;
}

static cm_status_t place(const struct cm__vmar *v, uint64_t vmar_off, uint64_t len,
                         int specific, uint32_t kind, uint64_t *addr)
{
    uint64_t size = cm__vmar_len(v);
    if (specific && (vmar_off > size || len > size - vmar_off))
        return CM_ERR_OUT_OF_RANGE;
    if (!specific && len > size)
        return CM_ERR_OUT_OF_RANGE;
    /* A hint past the end is only a hint: first fit from the start. The
     * tag 0 never equals a live generation, so the check never counts a
     * merge that the commit (with the real generation) would not make. */
    uint64_t hint = vmar_off <= size ? v->map.base + vmar_off : 0;
    return cm__iv_reserve_check(&v->map, hint, len, specific ? CM_IV_FIXED : 0, kind, 0, 0,
                                addr);
}

cm_status_t cm__vmar_map_plan(const struct cm__vmar *v, uint64_t vmar_off, uint64_t len,
                              int specific, uint64_t *addr)
{
    return place(v, vmar_off, len, specific, CM__VMAR_KIND_MAP, addr);
}

cm_status_t cm__vmar_child_plan(const struct cm__vmar *v, uint64_t vmar_off, uint64_t len,
                                int fixed, uint64_t *addr)
{
    if (v->depth >= CM_VMAR_MAX_DEPTH)
        return cm__detail_set(CM_ERR_NO_RESOURCES, "CM_VMAR_MAX_DEPTH (%u levels of nested "
                              "reservations) reached", CM_VMAR_MAX_DEPTH);
    return place(v, vmar_off, len, fixed, CM__VMAR_KIND_CHILD, addr);
}

/* Cannot fail after a plan of this exact range: room for a node was
 * checked (a unique generation never merges with a neighbour), and a free
 * record exists (live records <= nodes < cap before this one). */
static void record(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t node_kind,
                   uint32_t prot, const struct cm__vmar_rec *rec)
{
    uint64_t got;
    (void)cm__iv_reserve(&v->map, addr, len, CM_IV_FIXED, node_kind, prot, rec->gen, &got);
    for (uint32_t i = 0; i < v->cap; i++) {
        if (v->recs[i].gen == 0) {
            v->recs[i] = *rec;
            break;
        }
    }
    if (node_kind == CM__VMAR_KIND_CHILD) {
        v->children++;
    } else {
        v->mappings++;
        v->mapped_bytes += len;
    }
}

void cm__vmar_map_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t prot,
                         uint32_t max_prot, uint64_t gen, uint64_t obj_id, uint64_t obj_gen,
                         uint64_t obj_off, void *obj)
{
    struct cm__vmar_rec r = { gen, obj_id, obj_gen, addr, obj_off, obj_off + len, max_prot,
                              CM__VMAR_REC_VMO, obj };
    record(v, addr, len, CM__VMAR_KIND_MAP, prot, &r);
}

void cm__vmar_anon_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t prot,
                          uint32_t max_prot, uint64_t gen, void *obj)
{
    struct cm__vmar_rec r = { gen, 0, 0, addr, 0, len, max_prot, CM__VMAR_REC_ANON, obj };
    record(v, addr, len, CM__VMAR_KIND_MAP, prot, &r);
}

void cm__vmar_child_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint64_t gen,
                           uint64_t child_id, void *child)
{
    struct cm__vmar_rec r = { gen, child_id, 0, addr, 0, len, 0, CM__VMAR_REC_CHILD, child };
    record(v, addr, len, CM__VMAR_KIND_CHILD, 0, &r);
}

void cm__vmar_child_remove(struct cm__vmar *v, uint64_t gen)
{
    for (uint32_t i = 0; i < v->cap; i++) {
        struct cm__vmar_rec *r = &v->recs[i];
        if (r->gen != gen || gen == 0 || r->kind != CM__VMAR_REC_CHILD)
            continue;
        /* One whole node (V7): removing it never splits. */
        (void)cm__iv_release(&v->map, r->start, r->obj_end);
        *r = (struct cm__vmar_rec){ 0 };
        v->children--;
        return;
    }
}

void *cm__vmar_first_child(const struct cm__vmar *v)
{
    for (uint32_t i = 0; i < v->cap; i++)
        if (v->recs[i].gen != 0 && v->recs[i].kind == CM__VMAR_REC_CHILD)
            return v->recs[i].obj;
    return 0;
}

/* Range in the window, every page mapped (not a child's), and (match)
 * every page of object match_id; the first error in that order. */
static cm_status_t covered(const struct cm__vmar *v, uint64_t addr, uint64_t len, int match,
                           uint64_t match_id)
{
    cm_status_t st = cm__vmar_range_check_args(addr, len);
    if (st != CM_OK)
        return st;
    uint64_t end = addr + len;
    if (end < addr || addr < v->map.base || end > v->map.limit)
        return CM_ERR_OUT_OF_RANGE;
    uint64_t at = addr;
    while (at < end) {
        const struct cm__iv_node *n = cm__iv_find(&v->map, at);
        if (n == 0)
            return CM_ERR_NOT_FOUND;
        if (n->kind == CM__VMAR_KIND_CHILD)
            return cm__detail_set(CM_ERR_BAD_STATE, "the range holds a nested reservation "
                                  "at 0x%llx: close its handle to remove it",
                                  (unsigned long long)n->start);
        if (match) {
            const struct cm__vmar_rec *r = rec_of(v, n->tag);
            if (r == 0 || r->kind != CM__VMAR_REC_VMO || r->obj_id != match_id)
                return CM_ERR_NOT_FOUND;
        }
        at = n->end;
    }
    return CM_OK;
}

cm_status_t cm__vmar_unmap_plan(const struct cm__vmar *v, uint64_t addr, uint64_t len,
                                int match, uint64_t match_id)
{
    cm_status_t st = covered(v, addr, len, match, match_id);
    if (st != CM_OK)
        return st;
    return cm__iv_release_check(&v->map, addr, len);
}

/* Drops every mapping record no node names any more. */
static void drop_orphans(struct cm__vmar *v, void **dropped, uint32_t *ndropped)
{
    for (uint32_t i = 0; i < v->cap; i++) {
        if (v->recs[i].gen == 0 || v->recs[i].kind == CM__VMAR_REC_CHILD)
            continue;
        int live = 0;
        for (uint32_t k = 0; k < v->map.count && !live; k++)
            live = v->map.nodes[k].tag == v->recs[i].gen;
        if (!live) {
            dropped[(*ndropped)++] = v->recs[i].obj;
            v->recs[i] = (struct cm__vmar_rec){ 0 };
            v->mappings--;
        }
    }
}

void cm__vmar_unmap_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, void **dropped,
                           uint32_t *ndropped)
{
    *ndropped = 0;
    (void)cm__iv_release(&v->map, addr, len);
    v->mapped_bytes -= len;
    drop_orphans(v, dropped, ndropped);
}

cm_status_t cm__vmar_protect_plan(const struct cm__vmar *v, uint64_t addr, uint64_t len,
                                  uint32_t prot)
{
    cm_status_t st = covered(v, addr, len, 0, 0);
    if (st != CM_OK)
        return st;
    if ((prot & ~CM__VMAR_PROT_MASK) != 0 || ((prot & CM_MAP_WRITE) && !(prot & CM_MAP_READ)))
        return CM_ERR_ACCESS_DENIED;
    for (uint64_t at = addr; at < addr + len;) {
        const struct cm__iv_node *n = cm__iv_find(&v->map, at);
        const struct cm__vmar_rec *r = rec_of(v, n->tag);
        if (r == 0 || (prot & ~r->max_prot) != 0)
            return CM_ERR_ACCESS_DENIED;
        at = n->end;
    }
    return cm__iv_protect_check(&v->map, addr, len, prot);
}

cm_status_t cm__vmar_protect_check_gain(const struct cm__vmar *v, uint64_t addr, uint64_t len,
                                        uint32_t prot, int (*writable)(void *obj))
{
    if (!(prot & CM_MAP_WRITE))
        return CM_OK;
    for (uint64_t at = addr; at < addr + len;) {
        const struct cm__iv_node *n = cm__iv_find(&v->map, at);
        if (n == 0)
            return CM_ERR_NOT_FOUND;
        const struct cm__vmar_rec *r = rec_of(v, n->tag);
        if (r == 0)
            return CM_ERR_INTERNAL;
        /* Anonymous memory has no seal: its maximum protection decides. */
        if (!(n->prot & CM_MAP_WRITE) && r->kind == CM__VMAR_REC_VMO && !writable(r->obj))
            return CM_ERR_ACCESS_DENIED;
        at = n->end;
    }
    return CM_OK;
}

void cm__vmar_protect_commit(struct cm__vmar *v, uint64_t addr, uint64_t len, uint32_t prot)
{
    (void)cm__iv_protect(&v->map, addr, len, prot);
}

void cm__vmar_clear(struct cm__vmar *v, void **dropped, uint32_t *ndropped)
{
    *ndropped = 0;
    v->map.count = 0;
    v->mapped_bytes = 0;
    drop_orphans(v, dropped, ndropped);
}

cm_status_t cm__vmar_lookup(const struct cm__vmar *v, uint64_t addr,
                            struct cm__vmar_ident *out)
{
    const struct cm__iv_node *n = cm__iv_find(&v->map, addr);
    if (n == 0 || addr < v->map.base || addr >= v->map.limit)
        return CM_ERR_NOT_FOUND;
    const struct cm__vmar_rec *r = rec_of(v, n->tag);
    if (r == 0)
        return CM_ERR_INTERNAL;
    uint64_t page = addr & ~PAGE_MASK;
    *out = (struct cm__vmar_ident){ r->obj_id, r->obj_gen, r->obj_off + (page - r->start),
                                    r->gen, n->start, n->end - n->start, n->prot,
                                    r->max_prot, r->obj, r->kind };
    return CM_OK;
}

cm_status_t cm__vmar_check(const struct cm__vmar *v)
{
    if (v == 0 || cm__iv_check(&v->map) != CM_OK)
        return CM_ERR_INTERNAL; /* V1 */
    if (v->depth < 1 || v->depth > CM_VMAR_MAX_DEPTH)
        return CM_ERR_INTERNAL; /* V8 */
    uint64_t bytes = 0;
    for (uint32_t k = 0; k < v->map.count; k++) {
        const struct cm__iv_node *n = &v->map.nodes[k];
        const struct cm__vmar_rec *r = rec_of(v, n->tag);
        if ((n->kind != CM__VMAR_KIND_MAP && n->kind != CM__VMAR_KIND_CHILD) || r == 0)
            return CM_ERR_INTERNAL; /* V2 */
        if ((n->kind == CM__VMAR_KIND_CHILD) != (r->kind == CM__VMAR_REC_CHILD) ||
            (r->kind != CM__VMAR_REC_VMO && r->kind != CM__VMAR_REC_ANON &&
             r->kind != CM__VMAR_REC_CHILD))
            return CM_ERR_INTERNAL; /* V7: kinds agree */
        if (n->kind == CM__VMAR_KIND_CHILD) {
            if (n->start != r->start || n->end - n->start != r->obj_end || n->prot != 0 ||
                r->obj_off != 0)
                return CM_ERR_INTERNAL; /* V7: a child is one whole node */
            continue;
        }
        if ((n->prot & ~r->max_prot) != 0 || (n->prot & ~CM__VMAR_PROT_MASK) != 0 ||
            ((n->prot & CM_MAP_WRITE) && !(n->prot & CM_MAP_READ)))
            return CM_ERR_INTERNAL; /* V3 */
        if (n->start < r->start || r->obj_off + (n->end - r->start) > r->obj_end)
            return CM_ERR_INTERNAL; /* V6 */
        bytes += n->end - n->start;
    }
    uint32_t live = 0, children = 0;
    for (uint32_t i = 0; i < v->cap; i++) {
        if (v->recs[i].gen == 0)
            continue;
        if (v->recs[i].kind == CM__VMAR_REC_CHILD)
            children++;
        else
            live++;
        if (v->recs[i].kind == CM__VMAR_REC_ANON && v->recs[i].obj_id != 0)
            return CM_ERR_INTERNAL; /* V7: anonymous names no object */
        for (uint32_t j = i + 1; j < v->cap; j++)
            if (v->recs[j].gen == v->recs[i].gen)
                return CM_ERR_INTERNAL; /* one record per generation */
        int has = 0;
        for (uint32_t k = 0; k < v->map.count && !has; k++)
            has = v->map.nodes[k].tag == v->recs[i].gen;
        if (!has)
            return CM_ERR_INTERNAL; /* V4 */
    }
    if (bytes != v->mapped_bytes || live != v->mappings)
        return CM_ERR_INTERNAL; /* V5 */
    if (children != v->children)
        return CM_ERR_INTERNAL; /* V7 */
    return CM_OK;
}
