/* SPDX-License-Identifier: MIT */
/* VMO objects and their syscalls.
 *
 * Every call validates first (handle, rights, seals, ranges, user pointers,
 * free frames, free handle slots) and only then commits; the commit cannot
 * fail, so no call leaves a half-made object behind. Seals are checked here,
 * against the object, whatever rights a handle claims. */
#include "vmo.h"

#include <capmem/vmo.h>
#include <string.h>

#include "account.h"
#include "as.h"
#include "console.h"
#include "frame.h"
#include "khandle.h"
#include "memlayout.h"
#include "proc.h"
#include "riscv.h"
#include "syscall.h"
#include "usercopy.h"
#include "validate.h"
#include "vm.h"
#include "vmar_rules.h"
#include "kvmar.h"

static struct vmo vmo_pool[KOBJ_MAX_VMOS];


static struct vmo *vmo_slot(void)
{
    for (uint32_t i = 0; i < KOBJ_MAX_VMOS; i++) {
        if (vmo_pool[i].obj.type == CM_OBJ_NONE)
            return &vmo_pool[i];
    }
    return 0;
}

static uint64_t pages_for(uint64_t size)
{
    return (size + CM_PAGE_SIZE - 1) / CM_PAGE_SIZE;
}

/* Leaf frames needed to grow a VMO from `from` to `to` pages (the pages
 * themselves are charged when committed). */
static uint64_t frames_to_grow(uint64_t from, uint64_t to)
{
    uint64_t leaves_from = (from + VMO_PER_LEAF - 1) / VMO_PER_LEAF;
    uint64_t leaves_to = (to + VMO_PER_LEAF - 1) / VMO_PER_LEAF;
    return leaves_to - leaves_from;
}

static uint64_t *leaf_of(const struct vmo *v, uint64_t i)
{
    return (uint64_t *)((uint64_t *)v->dir)[i / VMO_PER_LEAF];
}

uint64_t vmo_page(const struct vmo *v, uint64_t i)
{
    if (i >= v->npages)
        panic("vmo_page: page %lu of %lu", (unsigned long)i, (unsigned long)v->npages);
    return leaf_of(v, i)[i % VMO_PER_LEAF];
}

uint64_t vmo_committed_pages(const struct vmo *v)
{
    uint64_t n = 0;
    for (uint32_t c = 0; c < VMO_CS_CHUNKS; c++)
        if (v->cs[c].words != 0)
            n += cm__cs_count(&v->cs[c]);
    return n;
}

/* Pages of [first, first+n) not committed, and chunks they need that have
 * no words yet. */
static void count_missing(const struct vmo *v, uint64_t first, uint64_t n, uint64_t *pages,
                          uint64_t *chunks)
{
    *pages = 0;
    *chunks = 0;
    for (uint64_t i = first; i < first + n;) {
        uint32_t c = (uint32_t)(i / VMO_CS_CHUNK_PAGES);
        uint64_t lo = i - (uint64_t)c * VMO_CS_CHUNK_PAGES;
        uint64_t k = VMO_CS_CHUNK_PAGES - lo;
        if (k > first + n - i)
            k = first + n - i;
        uint64_t m = k;
        if (v->cs[c].words != 0)
            (void)cm__cs_missing(&v->cs[c], lo, k, &m);
        else
            (*chunks)++;
        *pages += m;
        i += k;
    }
}

cm_status_t vmo_commit(struct vmo *v, uint64_t first, uint64_t n)
{
    uint64_t pages, chunks;
    if (first > v->npages || n > v->npages - first)
        return CM_ERR_OUT_OF_RANGE;
    count_missing(v, first, n, &pages, &chunks);
    /* All or nothing: charged (and the pool checked) before any change. */
    cm_status_t st = kacct_charge_frames(v->obj.acct, pages + chunks);
    if (st != CM_OK)
        return st;
    for (uint64_t i = first; i < first + n; i++) {
        struct cm__commit_set *cs = &v->cs[i / VMO_CS_CHUNK_PAGES];
        uint64_t bit = i % VMO_CS_CHUNK_PAGES, changed;
        if (cs->words == 0) {
            uint64_t w = frame_alloc();
            if (w == 0 || cm__cs_init(cs, (uint64_t *)w, CM_PAGE_SIZE / 8u,
                                      VMO_CS_CHUNK_PAGES) != CM_OK)
                panic("vmo_commit: precounted chunk missing");
        }
        if (cm__cs_test(cs, bit))
            continue;
        uint64_t f = frame_alloc();
        if (f == 0)
            panic("vmo_commit: precounted frame missing");
        leaf_of(v, i)[i % VMO_PER_LEAF] = f;
        (void)cm__cs_apply(cs, 1, bit, 1, &changed);
    }
    return CM_OK;
}

/* Frees the committed frames of [first, first+n); the caller removed every
 * page-table entry of them and flushed. */
static void free_range(struct vmo *v, uint64_t first, uint64_t n)
{
    uint64_t freed = 0;
    for (uint64_t i = first; i < first + n; i++) {
        struct cm__commit_set *cs = &v->cs[i / VMO_CS_CHUNK_PAGES];
        uint64_t bit = i % VMO_CS_CHUNK_PAGES, changed;
        if (cs->words == 0 || !cm__cs_test(cs, bit))
            continue;
        uint64_t *leaf = leaf_of(v, i);
        frame_free(leaf[i % VMO_PER_LEAF]);
        leaf[i % VMO_PER_LEAF] = 0;
        (void)cm__cs_apply(cs, 0, bit, 1, &changed);
        freed += changed;
    }
    kacct_uncharge_frames(v->obj.acct, freed);
}

/* Removes every page-table entry that maps pages [first, first+n) of v,
 * in every address space, and flushes the TLB. */
static void shoot_down(struct vmo *v, uint64_t first, uint64_t n)
{
    for (struct mapping *m = v->maps; m != 0; m = m->vmo_next) {
        uint64_t m0 = m->offset / CM_PAGE_SIZE, m1 = m0 + m->npages;
        uint64_t lo = m0 > first ? m0 : first, hi = m1 < first + n ? m1 : first + n;
        if (lo < hi) /* the PTEs and the table pages they leave empty */
            as_unmap_range(m->as, m->va + (lo - m0) * CM_PAGE_SIZE, (hi - lo) * CM_PAGE_SIZE);
    }
    kvmar_vmo_shoot_down(v, first, n);
    sfence_vma();
}

/* Ledger of a VMO's table (docs/ledger.md): growing from `from` to `to`
 * pages charges the leaf frames to COMMIT and the pages to OBJECT_BACKING,
 * all or nothing; with_dir adds the directory frame (create and destroy).
 * Shrinking releases exactly the same amounts, so these charges always
 * equal frames_to_grow(0, npages) + 1 frames and npages pages of backing.
 * Committed pages and commit-set words are charged apart (vmo_commit),
 * one COMMIT frame each, released by free_range and vmo_destroy. */
static cm_status_t charge_pages(struct kacct *a, uint64_t from, uint64_t to, int with_dir)
{
    uint64_t frames = frames_to_grow(from, to) + (with_dir ? 1 : 0);
    cm_status_t st = kacct_charge(a, CM_LEDGER_OBJECT_BACKING, (to - from) * CM_PAGE_SIZE);
    if (st != CM_OK)
        return st;
    st = kacct_charge_frames(a, frames);
    if (st != CM_OK)
        kacct_uncharge(a, CM_LEDGER_OBJECT_BACKING, (to - from) * CM_PAGE_SIZE);
    return st;
}

static void uncharge_pages(struct kacct *a, uint64_t to, uint64_t from, int with_dir)
{
    kacct_uncharge_frames(a, frames_to_grow(to, from) + (with_dir ? 1 : 0));
    kacct_uncharge(a, CM_LEDGER_OBJECT_BACKING, (from - to) * CM_PAGE_SIZE);
}

/* Grows to n pages. The caller has checked frames_to_grow() against the
 * free count, and nothing else allocates meanwhile (one hart, no kernel
 * preemption), so this cannot run out. */
static void grow_pages(struct vmo *v, uint64_t n)
{
    for (uint64_t i = v->npages; i < n; i++) {
        uint64_t *dir = (uint64_t *)v->dir;
        if (i % VMO_PER_LEAF == 0) {
            dir[i / VMO_PER_LEAF] = frame_alloc();
            if (dir[i / VMO_PER_LEAF] == 0)
                panic("vmo: precounted leaf allocation failed");
        }
        v->npages = i + 1;
    }
}

static void shrink_pages(struct vmo *v, uint64_t n)
{
    if (v->npages > n)
        free_range(v, n, v->npages - n);
    while (v->npages > n) {
        uint64_t i = v->npages - 1;
        uint64_t *leaf = leaf_of(v, i);
        if (i % VMO_PER_LEAF == 0) {
            frame_free((uint64_t)leaf);
            ((uint64_t *)v->dir)[i / VMO_PER_LEAF] = 0;
        }
        v->npages = i;
    }
}

/* Zeroes bytes [from, to) of the VMO (within its pages). */
static void zero_range(struct vmo *v, uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t off = from % CM_PAGE_SIZE;
        uint64_t n = CM_PAGE_SIZE - off;
        if (n > to - from)
            n = to - from;
        uint64_t pg = vmo_page(v, from / CM_PAGE_SIZE);
        if (pg != 0) /* an uncommitted page reads as zero already */
            memset((void *)(pg + off), 0, n);
        from += n;
    }
}

void vmo_destroy(struct vmo *v)
{
    if (v->maps != 0 || v->nwritable != 0)
        panic("vmo_destroy: object %lu still mapped", (unsigned long)v->obj.id);
    uint64_t n = v->npages;
    shrink_pages(v, 0);
    frame_free(v->dir);
    v->dir = 0;
    uint64_t chunks = 0;
    for (uint32_t c = 0; c < VMO_CS_CHUNKS; c++) {
        if (v->cs[c].words != 0) {
            frame_free((uint64_t)v->cs[c].words);
            v->cs[c].words = 0;
            chunks++;
        }
    }
    kacct_uncharge_frames(v->obj.acct, chunks);
    uncharge_pages(v->obj.acct, 0, n, 1);
}

/* A writable user word for a result, as stage 1 of docs/api.md sees it. */
static int out_ok(struct proc *p, uint64_t uva, uint64_t len)
{
    return uva != 0 && user_range_ok(p, uva, len, 1);
}

/* The facts core/validate judges a VMO by. */
static struct cm__vmo_state facts_of(const struct vmo *v)
{
    return (struct cm__vmo_state){ v->size, v->seal, 0, 0 }; /* 4 KiB frames only */
}

/* Charges a new VMO of `size` bytes to `a`: one VMO, its backing and its
 * frames, all or nothing (NO_RESOURCES, QUOTA_COMMIT, MEMORY_PRESSURE).
 * The account's VMO share is never more than the pool's free slots. */
static cm_status_t charge_new(struct kacct *a, uint64_t size)
{
    cm_status_t st = kobj_charge(a, CM_OBJ_VMO);
    if (st != CM_OK)
        return st;
    if (vmo_slot() == 0) {
        kobj_uncharge(a, CM_OBJ_VMO);
        return CM_ERR_NO_RESOURCES;
    }
    st = charge_pages(a, 0, pages_for(size), 1);
    if (st != CM_OK)
        kobj_uncharge(a, CM_OBJ_VMO);
    return st;
}

/* Resources for a new VMO of `size` bytes (stage 4; its arguments passed);
 * on success the charges are taken and make_vmo must follow. */
static cm_status_t check_new(struct proc *p, uint64_t size)
{
    if (handles_free(p) == 0)
        return CM_ERR_NO_RESOURCES;
    return charge_new(p->acct, size);
}

/* Commit half of create/snapshot: cannot fail after check_new. */
static struct vmo *make_vmo(uint64_t size, struct kacct *a)
{
    struct vmo *v = vmo_slot();
    kobj_init(&v->obj, CM_OBJ_VMO, a);
    v->size = size;
    v->npages = 0;
    v->seal = 0;
    v->nwritable = 0;
    v->maps = 0;
    v->pinned = 0;
    for (uint32_t c = 0; c < VMO_CS_CHUNKS; c++)
        v->cs[c] = (struct cm__commit_set){ 0 };
    v->dir = frame_alloc();
    if (v->dir == 0)
        panic("vmo: precounted directory allocation failed");
    grow_pages(v, pages_for(size));
    return v;
}

cm_status_t vmo_make(uint64_t size, struct kacct *a, struct vmo **out)
{
    cm_status_t st = charge_new(a, size);
    if (st != CM_OK)
        return st;
    struct vmo *v = make_vmo(size, a);
    /* The kernel reads and writes these objects itself: always committed. */
    v->pinned = 1;
    st = vmo_commit(v, 0, v->npages);
    if (st != CM_OK) {
        kobj_unref(&v->obj); /* dies at the next reap, every charge with it */
        return st;
    }
    *out = v;
    return CM_OK;
}

cm_status_t vmo_make_lazy(uint64_t size, struct kacct *a, struct vmo **out)
{
    cm_status_t st = charge_new(a, size);
    if (st != CM_OK)
        return st;
    *out = make_vmo(size, a);
    return CM_OK;
}

void vmo_decommit(struct vmo *v, uint64_t first, uint64_t n)
{
    shoot_down(v, first, n);
    free_range(v, first, n);
}

void *vmo_kptr(const struct vmo *v, uint64_t off)
{
    if (!v->pinned)
        panic("vmo_kptr: object %lu is not pinned", (unsigned long)v->obj.id);
    return (void *)(vmo_page(v, off / CM_PAGE_SIZE) + off % CM_PAGE_SIZE);
}

/* Hands the new VMO's creation reference to a handle; if that fails, the
 * VMO dies at the next reap and the caller returns the status. */
static cm_status_t publish(struct proc *p, struct vmo *v, cm_rights_t rights, uint64_t out_uva)
{
    cm_status_t st = handle_publish(p, &v->obj, rights, out_uva, 0);
    if (st != CM_OK)
        kobj_unref(&v->obj);
    return st;
}

int64_t sys_vmo_create(struct proc *p, const uint64_t *a)
{
    uint64_t size = a[0];
    /* Pages are committed on demand; CM_VMO_COMMIT commits them all now,
     * all or nothing (QUOTA_COMMIT, MEMORY_PRESSURE: the new VMO dies at
     * this syscall's reap with every charge). */
    uint32_t options = a[1] > UINT32_MAX ? UINT32_MAX : (uint32_t)a[1];
    cm_status_t st = cm__vmo_create_check(size, options, out_ok(p, a[2], sizeof(cm_handle_t)));
    if (st == CM_OK)
        st = check_new(p, size);
    if (st != CM_OK)
        return st;
    struct vmo *v = make_vmo(size, p->acct);
    if ((options & CM_VMO_COMMIT) != 0 && (st = vmo_commit(v, 0, v->npages)) != CM_OK) {
        kobj_unref(&v->obj);
        return st;
    }
    return publish(p, v, CM_VMO_DEFAULT_RIGHTS, a[2]);
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

static const uint8_t zero_page[CM_PAGE_SIZE];

/* Moves bytes between a VMO and user memory, one page piece at a time.
 * An uncommitted page reads as zeros; a write commits it. */
static cm_status_t transfer(struct proc *p, struct vmo *v, uint64_t uva, uint64_t off,
                            uint64_t len, int to_user)
{
    while (len > 0) {
        uint64_t po = off % CM_PAGE_SIZE;
        uint64_t n = CM_PAGE_SIZE - po;
        if (n > len)
            n = len;
        uint64_t pg = vmo_page(v, off / CM_PAGE_SIZE);
        if (pg == 0 && !to_user) {
            cm_status_t st = vmo_commit(v, off / CM_PAGE_SIZE, 1);
            if (st != CM_OK)
                return st;
            pg = vmo_page(v, off / CM_PAGE_SIZE);
        }
        uint64_t kva = pg != 0 ? pg + po : (uint64_t)zero_page + po;
        cm_status_t st = to_user ? copyout(p, uva, (const void *)kva, n)
                                 : copyin(p, (void *)kva, uva, n);
        if (st != CM_OK)
            return st;
        uva += n;
        off += n;
        len -= n;
    }
    return CM_OK;
}

int64_t sys_vmo_read(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    cm_status_t st = cm__vmo_rw_check_args(a[1] != 0, a[3]);
    if (st == CM_OK)
        st = get_vmo(p, a[0], CM_RIGHT_READ, &v, 0);
    if (st == CM_OK) {
        struct cm__vmo_state f = facts_of(v);
        st = cm__vmo_rw_check_facts(&f, a[2], a[3], 0);
    }
    if (st != CM_OK)
        return st;
    if (!user_range_ok(p, a[1], a[3], 1))
        return CM_ERR_INVALID_ARGS;
    return transfer(p, v, a[1], a[2], a[3], 1);
}

int64_t sys_vmo_write(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    cm_status_t st = cm__vmo_rw_check_args(a[1] != 0, a[3]);
    if (st == CM_OK)
        st = get_vmo(p, a[0], CM_RIGHT_WRITE, &v, 0);
    if (st == CM_OK) {
        struct cm__vmo_state f = facts_of(v);
        st = cm__vmo_rw_check_facts(&f, a[2], a[3], 1);
    }
    if (st != CM_OK)
        return st;
    if (!user_range_ok(p, a[1], a[3], 0))
        return CM_ERR_INVALID_ARGS;
    return transfer(p, v, a[1], a[2], a[3], 0);
}

int64_t sys_vmo_get_size(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    if (!out_ok(p, a[1], sizeof(uint64_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(p, a[0], 0, &v, 0);
    if (st != CM_OK)
        return st;
    return copyout(p, a[1], &v->size, sizeof(v->size));
}

int64_t sys_vmo_set_size(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    uint64_t size = a[1];
    cm_status_t st = cm__vmo_set_size_check_args(size);
    if (st == CM_OK)
        st = get_vmo(p, a[0], CM_RIGHT_WRITE, &v, 0);
    if (st == CM_OK) {
        struct cm__vmo_state f = facts_of(v);
        st = cm__vmo_set_size_check_facts(&f);
    }
    if (st != CM_OK)
        return st;
    uint64_t n = pages_for(size);
    for (struct mapping *m = v->maps; m != 0; m = m->vmo_next) {
        if (m->offset / CM_PAGE_SIZE + m->npages > n)
            return CM_ERR_BAD_STATE;
    }
    if (kvmar_vmo_pinned_pages(v) > n)
        return CM_ERR_BAD_STATE;
    /* The VMO's creator pays for its pages, whoever resizes it: the
     * charges stay with one account for the object's whole life. */
    if (n > v->npages && (st = charge_pages(v->obj.acct, v->npages, n, 0)) != CM_OK)
        return st;
    if (n < v->npages)
        uncharge_pages(v->obj.acct, n, v->npages, 0);
    /* Bytes a writable mapping left past the old size must not reappear. */
    if (size > v->size)
        zero_range(v, v->size, v->npages * CM_PAGE_SIZE < size ? v->npages * CM_PAGE_SIZE : size);
    if (n > v->npages)
        grow_pages(v, n);
    else
        shrink_pages(v, n);
    if (size < v->size)
        zero_range(v, size, n * CM_PAGE_SIZE);
    v->size = size;
    return CM_OK;
}

int64_t sys_vmo_get_info(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    cm_rights_t rights;
    if (!out_ok(p, a[1], sizeof(cm_vmo_info_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(p, a[0], 0, &v, &rights);
    if (st != CM_OK)
        return st;
    struct cm__vmo_state f = facts_of(v);
    cm_vmo_info_t info = { 0 };
    info.id = v->obj.id;
    info.size = v->size;
    info.page_size = CM_PAGE_SIZE; /* 4 KiB frames only: CM_VMO_HUGE falls back */
    info.flags = cm__vmo_info_flags(&f);
    info.rights = cm__vmo_effective_rights(&f, rights);
    return copyout(p, a[1], &info, sizeof(info));
}

int64_t sys_vmo_seal(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    cm_status_t st = cm__vmo_seal_check_args(a[1] > UINT32_MAX ? 0 : (uint32_t)a[1]);
    if (st == CM_OK)
        st = get_vmo(p, a[0], CM_RIGHT_WRITE, &v, 0);
    if (st != CM_OK)
        return st;
    if (a[1] == CM_SEAL_IMMUTABLE && (v->nwritable != 0 || kvmar_vmo_writable(v)))
        return CM_ERR_BAD_STATE;
    if (a[1] > v->seal)
        v->seal = (uint32_t)a[1];
    return CM_OK;
}

/* A snapshot is a new object: an immutable copy of content the READ right
 * already exposes. Its handle gets CM__SNAPSHOT_RIGHTS (never WRITE), the
 * same on both targets (core/validate.h), whatever else the source lacked. */
int64_t sys_vmo_snapshot(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    if (!out_ok(p, a[1], sizeof(cm_handle_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(p, a[0], CM_RIGHT_READ, &v, 0);
    if (st != CM_OK)
        return st;
    st = check_new(p, v->size);
    if (st != CM_OK)
        return st;
    struct vmo *s = make_vmo(v->size, p->acct);
    /* The copy commits exactly the source's committed pages. */
    for (uint64_t i = 0; i < s->npages; i++) {
        if (vmo_page(v, i) == 0)
            continue;
        if ((st = vmo_commit(s, i, 1)) != CM_OK) {
            kobj_unref(&s->obj);
            return st;
        }
        memcpy((void *)vmo_page(s, i), (const void *)vmo_page(v, i), CM_PAGE_SIZE);
    }
    s->seal = CM_SEAL_IMMUTABLE;
    return publish(p, s, CM__SNAPSHOT_RIGHTS, a[1]);
}

int64_t sys_vmo_map(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    uint64_t off = a[1], len = a[2], flags = a[3], addr_uva = a[4];
    cm_rights_t need = 0;
    uint32_t flags32 = flags > UINT32_MAX ? UINT32_MAX : (uint32_t)flags;
    cm_status_t st = cm__vmo_map_check_args(off, len, flags32,
                                            out_ok(p, addr_uva, sizeof(uint64_t)), &need);
    if (st == CM_OK)
        st = get_vmo(p, a[0], need, &v, 0);
    if (st == CM_OK) {
        struct cm__vmo_state f = facts_of(v);
        st = cm__vmo_map_check_facts(&f, off, len, flags32);
    }
    if (st != CM_OK)
        return st;
    int writable = (flags & CM_MAP_WRITE) != 0;
    uint64_t bytes = pages_for(len) * CM_PAGE_SIZE;
    if (p->as.nmaps >= CM_MAX_MAPPINGS || bytes > CMK_MAX_MAPPED_BYTES - p->as.mapped_bytes)
        return CM_ERR_NO_RESOURCES;
    uint64_t va;
    /* A whole-object mapping's pages are committed when it is made. */
    if ((st = vmo_commit(v, off / CM_PAGE_SIZE, bytes / CM_PAGE_SIZE)) != CM_OK)
        return st;
    st = as_map_vmo(&p->as, v, off, len, writable, &va);
    if (st != CM_OK)
        return st;
    if (copyout(p, addr_uva, &va, sizeof(va)) != CM_OK)
        panic("vmo_map: validated copyout failed");
    return CM_OK;
}

int64_t sys_vmo_unmap(struct proc *p, const uint64_t *a)
{
    struct mapping *m = as_find_mapping(&p->as, a[0], a[1]);
    if (m == 0)
        return CM_ERR_INVALID_ARGS;
    as_unmap(&p->as, m);
    return CM_OK;
}

/* (h, op, offset, len): core/vmar_rules for every rule. A kernel-made
 * (pinned) object is never decommitted: ACCESS_DENIED, as if sealed. */
int64_t sys_vmo_op_range(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    uint32_t op = a[1] > UINT32_MAX ? UINT32_MAX : (uint32_t)a[1];
    cm_status_t st = cm__vmo_op_range_check_args(op, a[2], a[3]);
    if (st == CM_OK)
        st = get_vmo(p, a[0], CM_RIGHT_WRITE, &v, 0);
    if (st == CM_OK)
        st = cm__vmo_op_range_check_facts(v->size, v->seal != 0 || v->pinned, 0, op, a[2],
                                          a[3]);
    if (st != CM_OK)
        return st;
    uint64_t first = a[2] / CM_PAGE_SIZE, n = a[3] / CM_PAGE_SIZE;
    if (op == CM_VMO_OP_COMMIT)
        return vmo_commit(v, first, n);
    vmo_decommit(v, first, n);
    return CM_OK;
}

/* (h, *bytes): no right needed. */
int64_t sys_vmo_get_committed(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    if (!out_ok(p, a[1], sizeof(uint64_t)))
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmo(p, a[0], 0, &v, 0);
    if (st != CM_OK)
        return st;
    uint64_t bytes = vmo_committed_pages(v) * CM_PAGE_SIZE;
    return copyout(p, a[1], &bytes, sizeof(bytes));
}
