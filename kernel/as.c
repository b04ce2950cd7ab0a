/* SPDX-License-Identifier: MIT */
/* User address spaces on the core/interval reservation map.
 *
 * The interval map is the authority on what a range of user VA is: image,
 * stack or a VMO mapping (kind), its PTE permissions (prot) and its owner
 * (tag: the mapping slot for VMO mappings). Page tables only mirror it.
 * Teardown walks the map, so nothing mapped can be forgotten. */
#include "as.h"

#include <string.h>

#include "account.h"
#include "console.h"
#include "frame.h"
#include "kobj.h"
#include "kvmar.h"
#include "memlayout.h"
#include "riscv.h"
#include "vm.h"
#include "vmo.h"

cm_status_t as_init(struct addrspace *as, struct kacct *acct)
{
    static uint64_t next_as_gen;
    memset(as, 0, sizeof(*as));
    as->gen = ++next_as_gen;
    if (cm__iv_init(&as->iv, as->nodes, AS_IV_NODES, USER_BASE, USER_TOP) != CM_OK)
        panic("as_init: interval map");
    as->acct = acct;
    return uvm_create(acct, &as->root);
}

/* Every reservation is charged VIRTUAL for its length while it exists. */
static cm_status_t reserve(struct addrspace *as, uint64_t hint, uint64_t len, uint32_t flags,
                           enum as_kind kind, uint64_t perm, uint32_t tag, uint64_t *start)
{
    cm_status_t st = kacct_charge(as->acct, CM_LEDGER_VIRTUAL, len);
    if (st != CM_OK)
        return st;
    st = cm__iv_reserve(&as->iv, hint, len, flags, kind, (uint32_t)perm, tag, start);
    if (st != CM_OK)
        kacct_uncharge(as->acct, CM_LEDGER_VIRTUAL, len);
    return st;
}

static void release(struct addrspace *as, uint64_t start, uint64_t len, const char *who)
{
    if (cm__iv_release(&as->iv, start, len) != CM_OK)
        panic("%s: release of a live reservation failed", who);
    kacct_uncharge(as->acct, CM_LEDGER_VIRTUAL, len);
}

/* Unmaps and frees the owned frames of [va, va+len), each one COMMIT
 * charge of the address space's account, then the emptied table pages. */
static void free_owned(struct addrspace *as, uint64_t va, uint64_t len)
{
    for (uint64_t a = va; a < va + len; a += PGSIZE) {
        uint64_t pa = uvm_unmap_page(as->root, a);
        if (pa != 0) {
            sfence_vma();
            frame_free(pa);
            kacct_uncharge_frames(as->acct, 1);
        }
    }
    (void)uvm_prune(as->root, va, len, as->acct);
}

void as_unmap_range(struct addrspace *as, uint64_t va, uint64_t len)
{
    uvm_unmap_range(as->root, va, len);
    (void)uvm_prune(as->root, va, len, as->acct); /* flushes before freeing */
}

/* Frees the table pages over [va, va+len) with no valid entry; flushes. */
static void as_prune(struct addrspace *as, uint64_t va, uint64_t len)
{
    (void)uvm_prune(as->root, va, len, as->acct);
}

cm_status_t as_alloc_fixed(struct addrspace *as, uint64_t va, uint64_t len,
                           enum as_kind kind, uint64_t perm)
{
    uint64_t start;
    cm_status_t st = reserve(as, va, len, CM_IV_FIXED, kind, perm, kind, &start);
    if (st != CM_OK)
        return st;
    for (uint64_t a = start; a < start + len; a += PGSIZE) {
        st = kacct_charge_frames(as->acct, 1);
        if (st != CM_OK)
            goto bad;
        uint64_t pa = frame_alloc();
        if (pa == 0)
            panic("as_alloc_fixed: charged frame missing");
        st = uvm_map_page(as->root, a, pa, perm, as->acct);
        if (st != CM_OK) {
            frame_free(pa);
            kacct_uncharge_frames(as->acct, 1);
            goto bad;
        }
    }
    return CM_OK;
bad:
    free_owned(as, start, len);
    release(as, start, len, "as_alloc_fixed");
    return st;
}

cm_status_t as_fill(struct addrspace *as, uint64_t va, const void *src, uint64_t len)
{
    const uint8_t *s = src;
    while (len > 0) {
        uint64_t pa = uvm_translate(as->root, va, 0);
        if (pa == 0)
            return CM_ERR_INTERNAL;
        uint64_t n = PGSIZE - (va & (PGSIZE - 1));
        if (n > len)
            n = len;
        memcpy((void *)pa, s, n);
        s += n;
        va += n;
        len -= n;
    }
    return CM_OK;
}

static struct mapping *free_slot(struct addrspace *as)
{
    for (uint32_t i = 0; i < CM_MAX_MAPPINGS; i++) {
        if (as->maps[i].vmo == 0) {
            as->maps[i].slot = i;
            return &as->maps[i];
        }
    }
    return 0;
}

/* Flushed before any frame can be freed (the VMO may die right after). */
static void unmap_pages(struct addrspace *as, uint64_t va, uint64_t npages)
{
    as_unmap_range(as, va, npages * PGSIZE);
}

cm_status_t as_map_vmo(struct addrspace *as, struct vmo *vmo, uint64_t offset,
                       uint64_t len, int writable, uint64_t *out_va)
{
    struct mapping *m = free_slot(as);
    if (m == 0)
        return CM_ERR_NO_RESOURCES;
    uint64_t npages = (len + PGSIZE - 1) / PGSIZE;
    uint64_t perm = PTE_R | (writable ? PTE_W : 0);
    uint64_t va;
    /* Tag by slot + 1 so adjacent mappings never merge (interval.h I4). */
    cm_status_t st = reserve(as, USER_MAP_BASE, npages * PGSIZE, 0, AS_KIND_VMO, perm,
                             m->slot + 1u, &va);
    if (st != CM_OK)
        return st;
    uint64_t done = 0;
    for (; done < npages; done++) {
        st = uvm_map_page(as->root, va + done * PGSIZE,
                          vmo_page(vmo, offset / PGSIZE + done), perm, as->acct);
        if (st != CM_OK)
            goto bad;
    }
    m->va = va;
    m->len = len;
    m->npages = npages;
    m->offset = offset;
    m->vmo = vmo;
    m->writable = (uint32_t)writable;
    m->gen = ++as->next_map_gen;
    m->as = as;
    m->vmo_next = vmo->maps;
    vmo->maps = m;
    if (writable)
        vmo->nwritable++;
    kobj_ref(&vmo->obj);
    as->nmaps++;
    as->mapped_bytes += npages * PGSIZE;
    *out_va = va;
    return CM_OK;
bad:
    unmap_pages(as, va, done);
    release(as, va, npages * PGSIZE, "as_map_vmo");
    return st;
}

struct mapping *as_find_mapping(struct addrspace *as, uint64_t va, uint64_t len)
{
    const struct cm__iv_node *n = cm__iv_find(&as->iv, va);
    if (n == 0 || n->kind != AS_KIND_VMO || n->tag == 0 || n->tag > CM_MAX_MAPPINGS)
        return 0;
    struct mapping *m = &as->maps[n->tag - 1];
    if (m->vmo == 0 || m->va != va || m->len != len)
        return 0;
    return m;
}

void as_unmap(struct addrspace *as, struct mapping *m)
{
    struct vmo *v = m->vmo;
    unmap_pages(as, m->va, m->npages);
    release(as, m->va, m->npages * PGSIZE, "as_unmap");
    struct mapping **pp = &v->maps;
    while (*pp != m) {
        if (*pp == 0)
            panic("as_unmap: mapping not on its VMO's list");
        pp = &(*pp)->vmo_next;
    }
    *pp = m->vmo_next;
    if (m->writable)
        v->nwritable--;
    as->nmaps--;
    as->mapped_bytes -= m->npages * PGSIZE;
    m->vmo = 0;
    m->vmo_next = 0;
    kobj_unref(&v->obj);
}

cm_status_t as_map_dev(struct addrspace *as, uint64_t pa0, const uint64_t *pas, uint64_t npages,
                       int writable, uint32_t tag, uint64_t *out_va)
{
    uint64_t bytes = npages * PGSIZE;
    if (as->nmaps >= CM_MAX_MAPPINGS || bytes > CM_MAX_MAPPED_BYTES - as->mapped_bytes)
        return CM_ERR_NO_RESOURCES;
    uint64_t perm = PTE_R | (writable ? PTE_W : 0);
    uint64_t va;
    cm_status_t st = reserve(as, USER_MAP_BASE, bytes, 0, AS_KIND_DEV, perm, tag, &va);
    if (st != CM_OK)
        return st;
    uint64_t done = 0;
    for (; done < npages; done++) {
        uint64_t pa = pas != 0 ? pas[done] : pa0 + done * PGSIZE;
        st = uvm_map_page(as->root, va + done * PGSIZE, pa, perm, as->acct);
        if (st != CM_OK) {
            unmap_pages(as, va, done);
            release(as, va, bytes, "as_map_dev");
            return st;
        }
    }
    as->nmaps++;
    as->mapped_bytes += bytes;
    *out_va = va;
    return CM_OK;
}

void as_unmap_dev(struct addrspace *as, uint64_t va, uint64_t npages)
{
    unmap_pages(as, va, npages);
    release(as, va, npages * PGSIZE, "as_unmap_dev");
    as->nmaps--;
    as->mapped_bytes -= npages * PGSIZE;
}

cm_status_t as_reserve_vmar(struct addrspace *as, uint64_t hint, uint64_t len, int fixed,
                            uint32_t tag, uint64_t *start)
{
    return reserve(as, hint, len, fixed ? CM_IV_FIXED : 0, AS_KIND_VMAR, 0, tag, start);
}

void as_release_vmar(struct addrspace *as, uint64_t start, uint64_t len)
{
    release(as, start, len, "as_release_vmar");
}

cm_status_t as_populate(struct addrspace *as, uint64_t va, struct vmo *v, uint64_t first,
                        uint64_t n, uint64_t perm)
{
    /* Every charge before any PTE: the table pages (this address space's
     * account), then the pages (the VMO's, all or nothing in vmo_commit).
     * A failure of either leaves only empty tables, which the prune frees. */
    cm_status_t st = uvm_prepare(as->root, va, n * PGSIZE, as->acct);
    if (st == CM_OK)
        st = vmo_commit(v, first, n);
    if (st != CM_OK) {
        as_prune(as, va, n * PGSIZE);
        return st;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (uvm_map_page(as->root, va + i * PGSIZE, vmo_page(v, first + i), perm, as->acct) !=
            CM_OK)
            panic("as_populate: page already mapped or table missing");
    }
    return CM_OK;
}

cm_status_t as_fault(struct addrspace *as, uint64_t va, int write)
{
    uint64_t page = va & ~(uint64_t)(PGSIZE - 1);
    const struct cm__iv_node *n = cm__iv_find(&as->iv, page);
    if (n == 0)
        return CM_ERR_INVALID_ARGS;
    if (n->kind == AS_KIND_VMAR)
        return kvmar_fault(as, n->tag, page, write);
    if (uvm_mapped(as->root, page))
        return CM_ERR_ACCESS_DENIED; /* a permission fault, not a missing page */
    if (n->kind != AS_KIND_VMO || n->tag == 0 || n->tag > CM_MAX_MAPPINGS)
        return CM_ERR_INVALID_ARGS;
    struct mapping *m = &as->maps[n->tag - 1];
    if (m->vmo == 0)
        return CM_ERR_INVALID_ARGS;
    if (write && !m->writable)
        return CM_ERR_ACCESS_DENIED;
    /* A page DECOMMIT took away: committed again (zeroed) and mapped. */
    uint64_t i = m->offset / PGSIZE + (page - m->va) / PGSIZE;
    cm_status_t st = vmo_commit(m->vmo, i, 1);
    if (st != CM_OK)
        return st;
    return uvm_map_page(as->root, page, vmo_page(m->vmo, i), n->prot, as->acct);
}

void as_destroy(struct addrspace *as)
{
    if (as->root == 0)
        return;
    /* Reservations first: they hold VMO references and map borrowed frames. */
    kvmar_release_all(as);
    for (uint32_t i = 0; i < CM_MAX_MAPPINGS; i++) {
        if (as->maps[i].vmo != 0)
            as_unmap(as, &as->maps[i]);
    }
    /* What is left is owned: image segments and the stack. */
    while (cm__iv_count(&as->iv) > 0) {
        const struct cm__iv_node *n = cm__iv_at(&as->iv, 0);
        uint64_t start = n->start, len = n->end - n->start;
        if (n->kind == AS_KIND_VMO)
            panic("as_destroy: VMO reservation without mapping");
        if (n->kind == AS_KIND_DEV)
            panic("as_destroy: device mapping left (kmmio_proc_exit runs first)");
        free_owned(as, start, len);
        release(as, start, len, "as_destroy");
    }
    uvm_destroy(as->root, as->acct);
    as->root = 0;
}
