/* SPDX-License-Identifier: MIT */
/* Reservations (CM_OBJ_VMAR) and their syscalls; see kvmar.h.
 *
 * Every rule (arguments, rights -> maximum protection, placement, runs,
 * provenance) is core/vmar_rules.c's: each call validates there (the
 * *_plan halves), changes the page table, then commits there. Page-table
 * entries are only removed here (unmap, protect, release, DECOMMIT); they
 * are made by kvmar_fault, which asks the rules what the page is, or by a
 * CM_MAP_POPULATE map with the new run's protection, so a PTE never grants
 * more than the run's current protection. One hart and no
 * kernel preemption: nothing changes between a plan and its commit. */
#include "kvmar.h"

#include <capmem/vmar.h>
#include <capmem/vmo.h>

#include "account.h"
#include "as.h"
#include "console.h"
#include "khandle.h"
#include "kobj.h"
#include "memlayout.h"
#include "proc.h"
#include "riscv.h"
#include "usercopy.h"
#include "validate.h"
#include "vm.h"
#include "vmar_rules.h"
#include "vmo.h"

struct kvmar {
    struct kobj obj;
    struct cm__vmar core;
    struct addrspace *as;
    uint32_t released;
    uint32_t destroyed;    /* released with its parent: calls are BAD_STATE */
    struct kvmar *parent;  /* 0: a reservation of the address space (in as->iv) */
    uint64_t gen;          /* the child record's generation in the parent */
    struct cm__iv_node nodes[CM_VMAR_MAX_MAPPINGS];
    struct cm__vmar_rec recs[CM_VMAR_MAX_MAPPINGS];
};

static struct kvmar pool[KVMAR_POOL];

static int live(const struct kvmar *k)
{
    return k->obj.type == CM_OBJ_VMAR && !k->released;
}

static int out_ok(struct proc *p, uint64_t uva, uint64_t len)
{
    return uva != 0 && user_range_ok(p, uva, len, 1);
}

static uint32_t u32_arg(uint64_t r)
{
    return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* Removes the PTEs of [va, va+len) (borrowed frames: not freed) and the
 * table pages left empty (kernel/as.c). */
static void unmap_ptes(struct addrspace *as, uint64_t va, uint64_t len)
{
    as_unmap_range(as, va, len);
}

static void drop(struct addrspace *as, void **dropped, uint32_t n)
{
    as->nmaps -= n;
    for (uint32_t i = 0; i < n; i++)
        kobj_unref(&((struct vmo *)dropped[i])->obj);
}

/* Releases k, which has no live child: its mappings go, its range returns
 * to its parent (a child) or to the address space. */
static void release_leaf(struct kvmar *k)
{
    void *dropped[CM_VMAR_MAX_MAPPINGS];
    uint32_t n = 0;
    struct addrspace *as = k->as;
    uint64_t base = cm__vmar_base(&k->core), len = cm__vmar_len(&k->core);
    unmap_ptes(as, base, len);
    as->mapped_bytes -= k->core.mapped_bytes;
    cm__vmar_clear(&k->core, dropped, &n);
    drop(as, dropped, n);
    if (k->parent != 0) {
        cm__vmar_child_remove(&k->parent->core, k->gen);
    } else {
        as_release_vmar(as, base, len);
        as->reserved_bytes -= len;
    }
    as->nvmars--;
    k->released = 1;
}

/* k and everything nested in it, deepest first (no recursion: the kernel
 * stack is small and every level holds a dropped[] array). The
 * descendants are destroyed: their handles stay, their calls are
 * BAD_STATE. */
static void release(struct kvmar *k)
{
    while (live(k)) {
        struct kvmar *d = k, *c;
        while ((c = cm__vmar_first_child(&d->core)) != 0)
            d = c;
        if (d != k)
            d->destroyed = 1;
        release_leaf(d);
    }
}

void kvmar_destroy(struct kobj *o)
{
    release((struct kvmar *)o);
}

void kvmar_release_all(struct addrspace *as)
{
    for (uint32_t i = 0; i < KVMAR_POOL; i++)
        if (live(&pool[i]) && pool[i].as == as)
            release(&pool[i]);
}

static struct kvmar *of_tag(struct addrspace *as, uint64_t tag)
{
    if (tag == 0 || tag > KVMAR_POOL)
        return 0;
    struct kvmar *k = &pool[tag - 1];
    return live(k) && k->as == as ? k : 0;
}

/* The run of the innermost reservation under k that holds addr: nested
 * reservations are CHILD runs of their parent, walked down until a mapping
 * (or nothing) is found. *leaf: that reservation. */
static cm_status_t lookup_leaf(struct kvmar *k, uint64_t addr, struct cm__vmar_ident *id,
                               struct kvmar **leaf)
{
    cm_status_t st;
    while ((st = cm__vmar_lookup(&k->core, addr, id)) == CM_OK && id->kind == CM__VMAR_REC_CHILD)
        k = id->obj;
    *leaf = k;
    return st;
}

cm_status_t kvmar_fault(struct addrspace *as, uint64_t tag, uint64_t page, int write)
{
    struct kvmar *k = of_tag(as, tag);
    struct cm__vmar_ident id;
    if (k == 0)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = lookup_leaf(k, page, &id, &k);
    if (st != CM_OK)
        return CM_ERR_INVALID_ARGS; /* reserved, nothing mapped */
    if (id.prot == 0 || (write && !(id.prot & CM_MAP_WRITE)) || uvm_mapped(as->root, page))
        return CM_ERR_ACCESS_DENIED;
    struct vmo *v = id.obj;
    uint64_t i = id.obj_off / CM_PAGE_SIZE;
    if (i >= v->npages)
        panic("kvmar_fault: mapping past its object (set_size pin)");
    st = vmo_commit(v, i, 1);
    if (st != CM_OK)
        return st;
    uint64_t perm = PTE_R | ((id.prot & CM_MAP_WRITE) ? PTE_W : 0);
    return uvm_map_page(as->root, page, vmo_page(v, i), perm, as->acct);
}

static const struct cm__vmar_rec *rec_of(const struct kvmar *k, uint64_t gen)
{
    for (uint32_t i = 0; i < CM_VMAR_MAX_MAPPINGS; i++)
        if (k->recs[i].gen == gen && gen != 0)
            return &k->recs[i];
    return 0;
}

void kvmar_vmo_shoot_down(struct vmo *v, uint64_t first, uint64_t n)
{
    for (uint32_t i = 0; i < KVMAR_POOL; i++) {
        struct kvmar *k = &pool[i];
        if (!live(k))
            continue;
        for (uint32_t j = 0; j < k->core.map.count; j++) {
            const struct cm__iv_node *nd = &k->core.map.nodes[j];
            const struct cm__vmar_rec *r = rec_of(k, nd->tag);
            if (r == 0 || r->obj != v)
                continue;
            uint64_t p0 = (r->obj_off + (nd->start - r->start)) / CM_PAGE_SIZE;
            uint64_t p1 = p0 + (nd->end - nd->start) / CM_PAGE_SIZE;
            uint64_t lo = p0 > first ? p0 : first, hi = p1 < first + n ? p1 : first + n;
            if (lo < hi)
                unmap_ptes(k->as, nd->start + (lo - p0) * CM_PAGE_SIZE, (hi - lo) * CM_PAGE_SIZE);
        }
    }
}

cm_status_t kvmar_word_key(struct addrspace *as, uint64_t tag, uint64_t uva, struct vmo **v,
                           uint64_t *off)
{
    struct kvmar *k = of_tag(as, tag);
    struct cm__vmar_ident id;
    if (k == 0 || lookup_leaf(k, uva, &id, &k) != CM_OK || id.obj == 0)
        return CM_ERR_INVALID_ARGS; /* reserved, nothing mapped */
    if (id.prot == 0)
        return CM_ERR_ACCESS_DENIED; /* the word is not readable there */
    *v = id.obj;
    *off = id.obj_off + uva % CM_PAGE_SIZE;
    return CM_OK;
}

uint64_t kvmar_vmo_pinned_pages(const struct vmo *v)
{
    uint64_t end = 0;
    for (uint32_t i = 0; i < KVMAR_POOL; i++) {
        if (!live(&pool[i]))
            continue;
        for (uint32_t j = 0; j < CM_VMAR_MAX_MAPPINGS; j++) {
            const struct cm__vmar_rec *r = &pool[i].recs[j];
            if (r->gen != 0 && r->obj == v && r->obj_end / CM_PAGE_SIZE > end)
                end = r->obj_end / CM_PAGE_SIZE;
        }
    }
    return end;
}

int kvmar_vmo_writable(const struct vmo *v)
{
    for (uint32_t i = 0; i < KVMAR_POOL; i++) {
        if (!live(&pool[i]))
            continue;
        for (uint32_t j = 0; j < CM_VMAR_MAX_MAPPINGS; j++) {
            const struct cm__vmar_rec *r = &pool[i].recs[j];
            if (r->gen != 0 && r->obj == v && (r->max_prot & CM_MAP_WRITE))
                return 1;
        }
    }
    return 0;
}

/* A free slot for a new reservation of p, charged: NO_RESOURCES at
 * CM_MAX_VMARS, a full handle table or past the process's VMARS share. The
 * kernel's pool is carved (CM_LEDGER_VMARS): this process's share first,
 * so no process can take the slots another one needs. */
static cm_status_t slot_charge(struct proc *p, struct kvmar **out)
{
    struct kvmar *k = 0;
    for (uint32_t i = 0; i < KVMAR_POOL && k == 0; i++)
        if (pool[i].obj.type == CM_OBJ_NONE)
            k = &pool[i];
    if (p->as.nvmars >= CM_MAX_VMARS || handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    cm_status_t st = kobj_charge(p->acct, CM_OBJ_VMAR);
    if (st != CM_OK)
        return st;
    if (k == 0)
        panic("vmar: pool full despite the carved VMARS budget");
    *out = k;
    return CM_OK;
}

/* The commit half after slot_charge (and the range taken). */
static void slot_init(struct kvmar *k, struct proc *p, struct kvmar *parent)
{
    kobj_init(&k->obj, CM_OBJ_VMAR, p->acct);
    k->as = &p->as;
    k->released = 0;
    k->destroyed = 0;
    k->parent = parent;
    k->gen = 0;
    p->as.nvmars++;
}

/* (hint, len, flags, *out, *base) */
int64_t sys_vmar_reserve(struct proc *p, const uint64_t *a)
{
    uint64_t hint = a[0], len = a[1];
    uint32_t flags = u32_arg(a[2]);
    struct addrspace *as = &p->as;
    cm_status_t st = cm__vmar_reserve_check_args(hint, len, flags,
                                                 out_ok(p, a[3], sizeof(cm_handle_t)),
                                                 out_ok(p, a[4], sizeof(uint64_t)));
    if (st != CM_OK)
        return st;
    int fixed = (flags & CM_VMAR_FIXED) != 0;
    if (fixed && (hint < USER_BASE || hint + len > USER_TOP))
        return CM_ERR_OUT_OF_RANGE; /* outside the user window */
    uint64_t at;
    if (fixed && (st = cm__iv_reserve_check(&as->iv, hint, len, CM_IV_FIXED, AS_KIND_VMAR, 0,
                                            0, &at)) == CM_ERR_ALREADY_EXISTS)
        return st;
    if (len > CM_MAX_RESERVED_BYTES - as->reserved_bytes)
        return CM_ERR_QUOTA_VIRTUAL;
    struct kvmar *k;
    if ((st = slot_charge(p, &k)) != CM_OK)
        return st;
    uint32_t tag = (uint32_t)(k - pool) + 1u;
    /* No hint: above the image, where cm_vmo_map places too. */
    st = as_reserve_vmar(as, hint != 0 ? hint : USER_MAP_BASE, len, fixed, tag, &at);
    if (st != CM_OK) {
        kobj_uncharge(p->acct, CM_OBJ_VMAR);
        return st;
    }
    slot_init(k, p, 0);
    (void)cm__vmar_init(&k->core, k->nodes, k->recs, CM_VMAR_MAX_MAPPINGS, at, len,
                        ++as->next_vmar_id);
    as->reserved_bytes += len;
    st = handle_publish(p, &k->obj, CM_VMAR_DEFAULT_RIGHTS, a[3], 0);
    if (st != CM_OK) {
        kobj_unref(&k->obj); /* released at the reap */
        return st;
    }
    if (copyout(p, a[4], &at, sizeof(at)) != CM_OK)
        panic("vmar_reserve: validated copyout failed");
    return CM_OK;
}

static cm_status_t get_vmar(struct proc *p, uint64_t h, cm_rights_t need, struct kvmar **k,
                            cm_rights_t *rights)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_VMAR, need, &o, rights);
    if (st == CM_OK) {
        *k = (struct kvmar *)o;
        if ((*k)->destroyed)
            st = CM_ERR_BAD_STATE; /* with its parent: Zircon's destroyed VMAR */
        else if ((*k)->released)
            st = CM_ERR_BAD_HANDLE;
    }
    return st;
}

static cm_status_t get_vmo(struct proc *p, uint64_t h, cm_rights_t need, struct vmo **v,
                           cm_rights_t *rights)
{
    struct kobj *o;
    cm_status_t st = handle_get(p, handle_arg(h), CM_OBJ_VMO, need, &o, rights);
    if (st == CM_OK)
        *v = (struct vmo *)o;
    return st;
}

/* CM_MAP_POPULATE: every page committed and mapped now with the new run's
 * protection, all or nothing (kernel/as.c), before the run exists. */
static cm_status_t populate(struct addrspace *as, uint64_t at, struct vmo *v, uint64_t ooff,
                            uint64_t len, uint32_t flags)
{
    uint64_t perm = PTE_R | ((flags & CM_MAP_WRITE) ? PTE_W : 0);
    return as_populate(as, at, v, ooff / CM_PAGE_SIZE, len / CM_PAGE_SIZE, perm);
}

/* (vmar, vmar_offset, vmo, vmo_offset, len, flags, *addr) */
int64_t sys_vmar_map(struct proc *p, const uint64_t *a)
{
    uint64_t voff = a[1], ooff = a[3], len = a[4];
    uint32_t flags = u32_arg(a[5]);
    cm_rights_t vneed, oneed, vr, orr;
    struct kvmar *k;
    struct vmo *v;
    cm_status_t st = cm__vmar_map_check_args(voff, ooff, len, flags,
                                             out_ok(p, a[6], sizeof(uint64_t)), &vneed, &oneed);
    if (st == CM_OK)
        st = get_vmar(p, a[0], vneed, &k, &vr);
    if (st == CM_OK)
        st = get_vmo(p, a[2], oneed, &v, &orr);
    if (st != CM_OK)
        return st;
    /* Stage 3 in the documented order: the VMO's range and seal (core/
     * validate, as cm_vmo_map), then the reservation's range and room. */
    struct cm__vmo_state f = { v->size, v->seal, 0, 0 };
    st = cm__vmo_map_check_facts(&f, ooff, len, flags & (CM_MAP_READ | CM_MAP_WRITE));
    int specific = (flags & CM_VMAR_MAP_SPECIFIC) != 0;
    uint64_t at = 0;
    if (st == CM_OK)
        st = cm__vmar_map_plan(&k->core, voff, len, specific, &at);
    if (st != CM_OK)
        return st;
    struct addrspace *as = &p->as;
    if (as->nmaps >= CM_MAX_MAPPINGS || len > CMK_MAX_MAPPED_BYTES - as->mapped_bytes)
        return CM_ERR_NO_RESOURCES;
    if ((flags & CM_MAP_POPULATE) != 0 && (st = populate(as, at, v, ooff, len, flags)) != CM_OK)
        return st;
    uint32_t max = cm__vmar_max_prot(vr, orr, v->seal == 0);
    kobj_ref(&v->obj); /* the mapping's reference */
    cm__vmar_map_commit(&k->core, at, len, flags & (CM_MAP_READ | CM_MAP_WRITE), max,
                        ++as->next_map_gen, v->obj.id, v->obj.id, ooff, v);
    as->nmaps++;
    as->mapped_bytes += len;
    if (copyout(p, a[6], &at, sizeof(at)) != CM_OK)
        panic("vmar_map: validated copyout failed");
    return CM_OK;
}

/* The frames of the anonymous pages of [addr, addr+len) (every page
 * mapped: unmap_plan passed): an anonymous page that leaves its mapping is
 * freed now, not when the last run of the mapping goes. */
static void decommit_anon(const struct cm__vmar *v, uint64_t addr, uint64_t len)
{
    struct cm__vmar_ident id;
    for (uint64_t at = addr, end = addr + len; at < end;) {
        if (cm__vmar_lookup(v, at, &id) != CM_OK)
            panic("vmar unmap: planned page not mapped");
        uint64_t seg = id.run_start + id.run_len < end ? id.run_start + id.run_len : end;
        if (id.kind == CM__VMAR_REC_ANON)
            vmo_decommit(id.obj, id.obj_off / CM_PAGE_SIZE, (seg - at) / CM_PAGE_SIZE);
        at = seg;
    }
}

/* (parent, offset, len, flags, *out, *base) */
int64_t sys_vmar_reserve_in(struct proc *p, const uint64_t *a)
{
    uint64_t off = a[1], len = a[2];
    uint32_t flags = u32_arg(a[3]);
    cm_rights_t need, prights;
    struct kvmar *pk;
    cm_status_t st = cm__vmar_reserve_in_check_args(off, len, flags,
                                                    out_ok(p, a[4], sizeof(cm_handle_t)),
                                                    out_ok(p, a[5], sizeof(uint64_t)), &need);
    if (st == CM_OK)
        st = get_vmar(p, a[0], need, &pk, &prights);
    uint64_t at = 0;
    if (st == CM_OK)
        st = cm__vmar_child_plan(&pk->core, off, len, (flags & CM_VMAR_FIXED) != 0, &at);
    if (st != CM_OK)
        return st;
    struct addrspace *as = &p->as;
    struct kvmar *k;
    /* A child is a reservation of the VMARS budget like any; its bytes are
     * the parent's (VIRTUAL charged once, by the root). */
    if ((st = slot_charge(p, &k)) != CM_OK)
        return st;
    slot_init(k, p, pk);
    k->gen = ++as->next_map_gen;
    (void)cm__vmar_child_init(&k->core, &pk->core, k->nodes, k->recs, CM_VMAR_MAX_MAPPINGS,
                              at, len, ++as->next_vmar_id);
    cm__vmar_child_commit(&pk->core, at, len, k->gen, k->core.id, k);
    st = handle_publish(p, &k->obj, cm__vmar_child_rights(prights, flags), a[4], 0);
    if (st != CM_OK) {
        kobj_unref(&k->obj); /* released at the reap */
        return st;
    }
    if (copyout(p, a[5], &at, sizeof(at)) != CM_OK)
        panic("vmar_reserve_in: validated copyout failed");
    return CM_OK;
}

/* (vmar, vmar_offset, len, flags, *addr): the pages are a private VMO's,
 * committed at first touch like any reservation mapping's. */
int64_t sys_vmar_map_anon(struct proc *p, const uint64_t *a)
{
    uint64_t voff = a[1], len = a[2];
    uint32_t flags = u32_arg(a[3]);
    cm_rights_t need, vr;
    struct kvmar *k;
    cm_status_t st = cm__vmar_anon_check_args(voff, len, flags,
                                              out_ok(p, a[4], sizeof(uint64_t)), &need);
    if (st == CM_OK)
        st = get_vmar(p, a[0], need, &k, &vr);
    uint64_t at = 0;
    if (st == CM_OK)
        st = cm__vmar_map_plan(&k->core, voff, len, (flags & CM_VMAR_MAP_SPECIFIC) != 0, &at);
    if (st != CM_OK)
        return st;
    struct addrspace *as = &p->as;
    if (as->nmaps >= CM_MAX_MAPPINGS || len > CMK_MAX_MAPPED_BYTES - as->mapped_bytes)
        return CM_ERR_NO_RESOURCES;
    struct vmo *v;
    if ((st = vmo_make_lazy(len, p->acct, &v)) != CM_OK)
        return st;
    /* CM_MAP_POPULATE as cm_vmar_map's: all or nothing before the run
     * exists; on failure the private object dies with its charges. */
    if ((flags & CM_MAP_POPULATE) != 0 && (st = populate(as, at, v, 0, len, flags)) != CM_OK) {
        kobj_unref(&v->obj);
        return st;
    }
    /* The mapping holds the one reference: dropped at the last run's unmap
     * or the release, which frees every frame still committed. */
    cm__vmar_anon_commit(&k->core, at, len, flags & (CM_MAP_READ | CM_MAP_WRITE),
                         cm__vmar_anon_max_prot(vr), ++as->next_map_gen, v);
    as->nmaps++;
    as->mapped_bytes += len;
    if (copyout(p, a[4], &at, sizeof(at)) != CM_OK)
        panic("vmar_map_anon: validated copyout failed");
    return CM_OK;
}

static int64_t unmap_common(struct proc *p, uint64_t hv, int match, uint64_t ho, uint64_t addr,
                            uint64_t len)
{
    struct kvmar *k;
    uint64_t id = 0;
    cm_status_t st = cm__vmar_range_check_args(addr, len);
    if (st == CM_OK)
        st = get_vmar(p, hv, CM_RIGHT_MAP, &k, 0);
    if (st == CM_OK && match) {
        struct vmo *v;
        if ((st = get_vmo(p, ho, 0, &v, 0)) == CM_OK)
            id = v->obj.id;
    }
    if (st == CM_OK)
        st = cm__vmar_unmap_plan(&k->core, addr, len, match, id);
    if (st != CM_OK)
        return st;
    void *dropped[CM_VMAR_MAX_MAPPINGS];
    uint32_t n = 0;
    unmap_ptes(&p->as, addr, len);
    decommit_anon(&k->core, addr, len);
    cm__vmar_unmap_commit(&k->core, addr, len, dropped, &n);
    p->as.mapped_bytes -= len;
    drop(&p->as, dropped, n);
    return CM_OK;
}

/* (vmar, addr, len) */
int64_t sys_vmar_unmap(struct proc *p, const uint64_t *a)
{
    return unmap_common(p, a[0], 0, 0, a[1], a[2]);
}

/* (vmar, vmo, addr, len) */
int64_t sys_vmar_unmap_vmo(struct proc *p, const uint64_t *a)
{
    return unmap_common(p, a[0], 1, a[1], a[2], a[3]);
}

/* (vmar, addr, len, flags): the PTEs of the range go; faults make them
 * again with the new protection. */
/* cm__vmar_protect_check_gain's question about a run's object. */
static int vmo_unsealed(void *obj)
{
    return ((const struct vmo *)obj)->seal == 0;
}

int64_t sys_vmar_protect(struct proc *p, const uint64_t *a)
{
    struct kvmar *k;
    cm_rights_t need;
    uint32_t flags = u32_arg(a[3]);
    cm_status_t st = cm__vmar_protect_check_args(a[1], a[2], flags, &need);
    if (st == CM_OK)
        st = get_vmar(p, a[0], need, &k, 0);
    if (st == CM_OK)
        st = cm__vmar_protect_plan(&k->core, a[1], a[2], flags);
    /* A sealed VMO's pages never gain WRITE (the same rule as the host's). */
    if (st == CM_OK)
        st = cm__vmar_protect_check_gain(&k->core, a[1], a[2], flags, vmo_unsealed);
    if (st != CM_OK)
        return st;
    unmap_ptes(&p->as, a[1], a[2]);
    cm__vmar_protect_commit(&k->core, a[1], a[2], flags);
    return CM_OK;
}

/* (vmar, *info) */
int64_t sys_vmar_get_info(struct proc *p, const uint64_t *a)
{
    struct kvmar *k;
    if (!out_ok(p, a[1], sizeof(cm_vmar_info_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmar(p, a[0], 0, &k, 0);
    if (st != CM_OK)
        return st;
    cm_vmar_info_t info = { cm__vmar_base(&k->core), cm__vmar_len(&k->core), k->core.id,
                            k->core.mapped_bytes, cm__iv_count(&k->core.map),
                            k->core.mappings };
    return copyout(p, a[1], &info, sizeof(info));
}

/* (addr, *info): a reservation's run, or a cm_vmo_map mapping. */
int64_t sys_mapping_get_info(struct proc *p, const uint64_t *a)
{
    uint64_t addr = a[0];
    if (!out_ok(p, a[1], sizeof(cm_mapping_info_t)))
        return CM_ERR_INVALID_ARGS;
    cm_mapping_info_t info = { 0 };
    info.aspace_id = (uint64_t)p->pid;
    info.aspace_generation = p->as.gen;
    const struct cm__iv_node *n = cm__iv_find(&p->as.iv, addr);
    if (n != 0 && n->kind == AS_KIND_VMAR) {
        struct kvmar *k = of_tag(&p->as, n->tag);
        struct cm__vmar_ident id;
        if (k == 0)
            return CM_ERR_NOT_FOUND;
        cm_status_t st = lookup_leaf(k, addr, &id, &k);
        if (st != CM_OK)
            return CM_ERR_NOT_FOUND;
        info.object_id = id.obj_id;
        info.object_generation = id.obj_gen;
        info.object_offset = id.obj_off;
        info.mapping_generation = id.gen;
        info.vmar_id = k->core.id;
        info.map_base = id.run_start;
        info.map_len = id.run_len;
        info.prot = id.prot;
        info.flags = CM_MAPPING_INFO_IN_VMAR |
                     (id.kind == CM__VMAR_REC_ANON ? CM_MAPPING_INFO_ANON : 0);
    } else if (n != 0 && n->kind == AS_KIND_VMO && n->tag != 0 && n->tag <= CM_MAX_MAPPINGS &&
               p->as.maps[n->tag - 1].vmo != 0) {
        const struct mapping *m = &p->as.maps[n->tag - 1];
        uint64_t page = (addr - m->va) & ~(uint64_t)(CM_PAGE_SIZE - 1);
        info.object_id = m->vmo->obj.id;
        info.object_generation = m->vmo->obj.id;
        info.object_offset = m->offset + page;
        info.mapping_generation = m->gen;
        info.map_base = m->va;
        info.map_len = m->npages * CM_PAGE_SIZE;
        info.prot = CM_MAP_READ | (m->writable ? CM_MAP_WRITE : 0);
    } else {
        return CM_ERR_NOT_FOUND;
    }
    return copyout(p, a[1], &info, sizeof(info));
}
