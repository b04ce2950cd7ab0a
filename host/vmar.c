/* SPDX-License-Identifier: MIT */
/* Address-space regions on Linux (include/capmem/vmar.h).
 *
 * A reservation is one PROT_NONE, MAP_NORESERVE anonymous mapping: it costs
 * no memory and keeps every other mmap out of its range. A VMO is mapped into
 * it with MAP_FIXED (through the mapping table, host/mappings.c, so that it
 * counts against CM_MAX_MAPPINGS / CM_MAX_MAPPED_BYTES and set_size cannot
 * cut under it); unmapping puts PROT_NONE anonymous pages back over the
 * range in one MAP_FIXED call, so the reservation keeps its range. The rules
 * (what may be mapped where, runs, provenance, maximum protection) are
 * core/vmar_rules.c's: each call validates there, performs the system call,
 * then commits there.
 *
 * Locking: vmar_lock serializes every reservation's state and the process's
 * list of reservations; the mapping table's lock nests inside it, never the
 * other way. Held across fork (pthread_atfork), after the table's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "internal.h"
#include "mappings.h"
#include "vmar_rules.h"
#include "status_detail.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* The top of the user window without 5-level paging. x86-64: TASK_SIZE_MAX,
 * 128 TiB less one page (the last page below 2^47 is never user memory, so
 * a range ending at 2^47 is outside too); arm64 (48-bit VA): 128 TiB is a
 * conservative bound. A FIXED range past it cannot exist: OUT_OF_RANGE, as
 * for a range below mmap_min_addr (mmap's EPERM), never NO_MEMORY. */
#if defined(__x86_64__)
#define USER_TOP ((1ull << 47) - CM_PAGE_SIZE)
#else
#define USER_TOP (1ull << 47)
#endif

struct vmar {
    struct cm__hobj hdr;
    struct cm__vmar core;
    int released;
    int destroyed;        /* released with its parent: calls are BAD_STATE */
    struct vmar *parent;  /* NULL for a reservation of the address space */
    uint64_t gen;         /* the child record's generation in the parent */
    cm_rights_t rights;   /* the handle's (a child's are derived from them) */
    struct cm__iv_node nodes[CM_VMAR_MAX_MAPPINGS];
    struct cm__vmar_rec recs[CM_VMAR_MAX_MAPPINGS];
};

static pthread_mutex_t vmar_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vmar *live[CM_MAX_VMARS];
static uint32_t nlive;
static uint64_t reserved_bytes;
static uint64_t next_id;
static _Atomic uint64_t next_gen;
static pthread_once_t vmar_once = PTHREAD_ONCE_INIT;

uint64_t cm__mapping_gen_next(void)
{
    return atomic_fetch_add(&next_gen, 1) + 1;
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&vmar_lock);
}

static void atfork_release(void)
{
    pthread_mutex_unlock(&vmar_lock);
}

static void install(void)
{
    /* The table's handler first: prepare handlers run in reverse order of
     * installation, so ours (the outer lock) is taken before the table's. */
    cm__map_table_hold();
    cm__map_table_release();
    (void)pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static void lock(void)
{
    pthread_once(&vmar_once, install);
    pthread_mutex_lock(&vmar_lock);
}

static void unlock(void)
{
    pthread_mutex_unlock(&vmar_lock);
}

/* PROT_NONE, no-memory pages over [addr, addr+len), replacing what is there. */
static int put_back(uint64_t addr, uint64_t len)
{
    void *p = mmap((void *)(uintptr_t)addr, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? -1 : 0;
}

/* The mappings' object references; an anonymous run has none (NULL). */
static void put_objects(void **objs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (objs[i] != NULL)
            cm__hobj_put((struct cm__hobj *)objs[i]);
}

/* Every mapping gone, every child destroyed, the range returned (a child's
 * to its parent, inaccessible again). Caller holds vmar_lock. */
static void release_locked(struct vmar *r)
{
    void *dropped[CM_VMAR_MAX_MAPPINGS];
    uint32_t n = 0;
    if (r->released)
        return;
    struct vmar *c;
    while ((c = cm__vmar_first_child(&r->core)) != NULL) {
        release_locked(c); /* depth <= CM_VMAR_MAX_DEPTH */
        c->destroyed = 1;
    }
    uint64_t base = cm__vmar_base(&r->core), len = cm__vmar_len(&r->core);
    cm__map_table_hold();
    if (r->parent == NULL)
        (void)munmap((void *)(uintptr_t)base, len);
    else
        (void)put_back(base, len); /* failure leaves pages no one maps */
    (void)cm__map_vmar_cut_locked(base, len, 1); /* only removals: cannot fail */
    cm__map_table_release();
    cm__vmar_clear(&r->core, dropped, &n);
    r->released = 1;
    if (r->parent != NULL) {
        cm__vmar_child_remove(&r->parent->core, r->gen);
    } else {
        reserved_bytes -= len;
        cm__hledger_uncharge(CM_LEDGER_VIRTUAL, len);
    }
    for (uint32_t i = 0; i < nlive; i++) {
        if (live[i] == r) {
            live[i] = live[--nlive];
            break;
        }
    }
    /* Object destruction takes only the table's lock, which nests inside. */
    put_objects(dropped, n);
}

static void vmar_destroy(struct cm__hobj *obj)
{
    struct vmar *r = (struct vmar *)obj;
    lock();
    release_locked(r);
    unlock();
    free(r);
}

static void vmar_last_handle(struct cm__hobj *obj)
{
    lock();
    release_locked((struct vmar *)obj);
    unlock();
}

cm_status_t cm_vmar_reserve(void *hint, uint64_t len, uint32_t flags, cm_handle_t *out,
                            void **base)
{
    CM__ENTRY();
    uint64_t h = (uint64_t)(uintptr_t)hint;
    cm_status_t st = cm__vmar_reserve_check_args(h, len, flags, out != NULL, base != NULL);
    if (st != CM_OK)
        return st;
    int fixed = (flags & CM_VMAR_FIXED) != 0;
    if (fixed && h + len > USER_TOP)
        return cm__detail_set(CM_ERR_OUT_OF_RANGE, "CM_VMAR_FIXED range ends past the user "
                              "address space (0x%llx)", (unsigned long long)USER_TOP);
    struct vmar *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return cm__detail_set(CM_ERR_NO_MEMORY, "calloc of the reservation's bookkeeping");
    lock();
    void *p = mmap(hint, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (fixed ? MAP_FIXED_NOREPLACE : 0),
                   -1, 0);
    if (p == MAP_FAILED) {
        if (errno == EEXIST)
            st = cm__detail_set(CM_ERR_ALREADY_EXISTS, "CM_VMAR_FIXED: something is mapped "
                                "in [%p, +%llu) already", hint, (unsigned long long)len);
        else if (fixed && errno == EPERM) /* below mmap_min_addr: outside the window */
            st = cm__detail_set(CM_ERR_OUT_OF_RANGE, "CM_VMAR_FIXED address %p is below "
                                "vm.mmap_min_addr", hint);
        else
            st = cm__errno_detail("mmap(PROT_NONE) of the reservation", errno);
        goto fail;
    }
    if (fixed && p != hint) {
        /* A kernel older than 4.17 takes MAP_FIXED_NOREPLACE as a hint. */
        munmap(p, len);
        st = CM_ERR_ALREADY_EXISTS;
        goto fail;
    }
    if (len > CM_MAX_RESERVED_BYTES - reserved_bytes)
        st = cm__detail_set(CM_ERR_QUOTA_VIRTUAL,
                            "CM_MAX_RESERVED_BYTES (%llu bytes per process): %llu reserved, "
                            "%llu more asked", (unsigned long long)CM_MAX_RESERVED_BYTES,
                            (unsigned long long)reserved_bytes, (unsigned long long)len);
    else if (nlive >= CM_MAX_VMARS)
        st = cm__detail_set(CM_ERR_NO_RESOURCES, "CM_MAX_VMARS (%u live reservations per "
                            "process) reached", CM_MAX_VMARS);
    /* The ledger's VIRTUAL (docs/ledger.md): the reserved bytes, released
     * once by release_locked or below. */
    if (st == CM_OK)
        st = cm__hledger_charge(CM_LEDGER_VIRTUAL, len);
    if (st != CM_OK) {
        munmap(p, len);
        goto fail;
    }
    cm__hobj_init(&r->hdr, CM_OBJ_VMAR, vmar_destroy);
    r->hdr.on_last_handle = vmar_last_handle;
    (void)cm__vmar_init(&r->core, r->nodes, r->recs, CM_VMAR_MAX_MAPPINGS,
                        (uint64_t)(uintptr_t)p, len, ++next_id);
    r->rights = CM_VMAR_DEFAULT_RIGHTS;
    st = cm__handle_install(&r->hdr, CM_VMAR_DEFAULT_RIGHTS, out);
    if (st != CM_OK) {
        munmap(p, len);
        cm__hledger_uncharge(CM_LEDGER_VIRTUAL, len);
        goto fail;
    }
    live[nlive++] = r;
    reserved_bytes += len;
    *base = p;
    unlock();
    return CM_OK;
fail:
    unlock();
    free(r);
    return st;
}

/* Looks up a VMAR handle with `need`; on success the reference is the
 * caller's. A released reservation (its handle closed meanwhile) is
 * BAD_HANDLE: its last handle is gone; one destroyed with its parent is
 * BAD_STATE (its handle lives on). Callers test `released` again under
 * vmar_lock. */
static cm_status_t get_vmar(cm_handle_t h, cm_rights_t need, struct vmar **r,
                            cm_rights_t *rights)
{
    struct cm__hobj *obj;
    cm_status_t st = cm__handle_get(h, CM_OBJ_VMAR, need, &obj, rights);
    if (st != CM_OK)
        return st;
    *r = (struct vmar *)obj;
    lock();
    int destroyed = (*r)->destroyed;
    unlock();
    if (destroyed) {
        cm__hobj_put(obj);
        return cm__detail_set(CM_ERR_BAD_STATE, "the reservation was destroyed with its "
                              "parent (the parent's handle was closed)");
    }
    return CM_OK;
}

/* Under vmar_lock: BAD_STATE if destroyed with its parent since get_vmar,
 * BAD_HANDLE if released (last handle closed meanwhile). */
static cm_status_t gone(const struct vmar *r)
{
    if (r->destroyed)
        return CM_ERR_BAD_STATE;
    return r->released ? CM_ERR_BAD_HANDLE : CM_OK;
}

static int vmo_writable(const struct cm__vmo *v)
{
    if (v->is_file)
        return 0;
    int seals = fcntl(v->fd, F_GET_SEALS);
    return seals >= 0 && !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

/* A READONLY seal (F_SEAL_FUTURE_WRITE) keeps VM_MAYWRITE on mappings made
 * before it, so mprotect alone would let such a page become writable. */
static int obj_writable(void *obj)
{
    return vmo_writable((const struct cm__vmo *)obj);
}

cm_status_t cm_vmar_map(cm_handle_t vmar, uint64_t vmar_offset, cm_handle_t vmo,
                        uint64_t vmo_offset, uint64_t len, uint32_t flags, void **addr)
{
    CM__ENTRY();
    cm_rights_t vneed, oneed, vrights, orights;
    struct vmar *r;
    struct cm__vmo *v;
    cm_status_t st = cm__vmar_map_check_args(vmar_offset, vmo_offset, len, flags,
                                             addr != NULL, &vneed, &oneed);
    if (st != CM_OK)
        return st;
    if ((st = get_vmar(vmar, vneed, &r, &vrights)) != CM_OK)
        return st;
    if ((st = cm__vmo_get(vmo, oneed, &v, &orights)) != CM_OK) {
        cm__hobj_put(&r->hdr);
        return st;
    }
    /* Stage 3 in the documented order: the VMO's range, its seal, what
     * cannot be mapped here, then the reservation's range and room
     * (map_plan). cm__map_create checks size and seals again, atomically
     * with the mmap. */
    struct stat sb;
    uint64_t id;
    if (fstat(v->fd, &sb) != 0) {
        st = cm__errno_detail("fstat", errno);
        goto out;
    }
    uint64_t size = v->is_file ? v->file_len : (uint64_t)sb.st_size;
    if (v->huge)
        size = atomic_load(&v->local_size);
    if (vmo_offset > size || len > size - vmo_offset)
        st = cm__detail_set(CM_ERR_OUT_OF_RANGE,
                            "VMO range offset %llu + len %llu is past the VMO's size %llu",
                            (unsigned long long)vmo_offset, (unsigned long long)len,
                            (unsigned long long)size);
    else if ((flags & CM_MAP_WRITE) && !vmo_writable(v))
        st = cm__detail_set(CM_ERR_ACCESS_DENIED, "CM_MAP_WRITE of a sealed or file-window "
                            "VMO: map it with CM_MAP_READ only");
    else if (v->is_file || v->huge)
        /* A file window is never mapped; a huge-page mapping needs a 2 MiB
         * aligned address the reservation's runs do not promise. */
        st = cm__detail_set(CM_ERR_UNSUPPORTED, v->is_file
                            ? "a file-window VMO cannot be mapped into a reservation: "
                              "cm_vmo_snapshot it first"
                            : "a huge-page VMO cannot be mapped into a reservation: create "
                              "it with CM_VMO_BASE_PAGES (or map it with cm_vmo_map)");
    else
        st = cm__vmo_id(v, &id);
    if (st != CM_OK)
        goto out;
    lock();
    if (gone(r) == CM_OK) {
        uint64_t b = cm__vmar_base(&r->core), rl = cm__vmar_len(&r->core);
        if ((flags & CM_VMAR_MAP_SPECIFIC) && (vmar_offset > rl || len > rl - vmar_offset))
            st = cm__detail_set(CM_ERR_OUT_OF_RANGE, "vmar_offset %llu + len %llu is past the "
                                "reservation's %llu bytes", (unsigned long long)vmar_offset,
                                (unsigned long long)len, (unsigned long long)rl);
        (void)b;
    }
    unlock();
    if (st != CM_OK)
        goto out;
    uint32_t prot = flags & (CM_MAP_READ | CM_MAP_WRITE);
    uint32_t max = cm__vmar_max_prot(vrights, orights, vmo_writable(v));
    lock();
    uint64_t at = 0;
    if ((st = gone(r)) == CM_OK)
        st = cm__vmar_map_plan(&r->core, vmar_offset, len, (flags & CM_VMAR_MAP_SPECIFIC) != 0,
                               &at);
    /* The VMO's own checks (range against its size, seals, size floor)
     * and the mapping table's bounds come with the mapping itself. */
    if (st == CM_OK) {
        uint64_t gen = cm__mapping_gen_next();
        void *p = NULL;
        st = cm__vmo_map_at(v, orights, vmo_offset, len, flags & ~CM_VMAR_MAP_SPECIFIC,
                            (void *)(uintptr_t)at, gen, &p);
        if (st == CM_OK) {
            cm__hobj_ref(&v->hdr); /* the mapping's reference */
            cm__vmar_map_commit(&r->core, at, len, prot, max, gen, id, v->hdr.serial,
                                vmo_offset, v);
            *addr = p;
        } else {
            /* A failed MAP_FIXED may have unmapped the range already. */
            (void)put_back(at, len);
        }
    }
    unlock();
out:
    cm__hobj_put(&v->hdr);
    cm__hobj_put(&r->hdr);
    return st;
}

cm_status_t cm_vmar_reserve_in(cm_handle_t parent, uint64_t offset, uint64_t len,
                               uint32_t flags, cm_handle_t *out, void **base)
{
    CM__ENTRY();
    cm_rights_t need, prights;
    struct vmar *pr;
    cm_status_t st = cm__vmar_reserve_in_check_args(offset, len, flags, out != NULL,
                                                    base != NULL, &need);
    if (st != CM_OK)
        return st;
    if ((st = get_vmar(parent, need, &pr, &prights)) != CM_OK)
        return st;
    struct vmar *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        cm__hobj_put(&pr->hdr);
        return cm__detail_set(CM_ERR_NO_MEMORY, "calloc of the reservation's bookkeeping");
    }
    uint64_t at = 0;
    lock();
    if ((st = gone(pr)) == CM_OK)
        st = cm__vmar_child_plan(&pr->core, offset, len, (flags & CM_VMAR_FIXED) != 0, &at);
    if (st == CM_OK && nlive >= CM_MAX_VMARS)
        st = cm__detail_set(CM_ERR_NO_RESOURCES, "CM_MAX_VMARS (%u live reservations per "
                            "process, nested ones included) reached", CM_MAX_VMARS);
    cm_rights_t rights = cm__vmar_child_rights(prights, flags);
    if (st == CM_OK) {
        cm__hobj_init(&c->hdr, CM_OBJ_VMAR, vmar_destroy);
        c->hdr.on_last_handle = vmar_last_handle;
        (void)cm__vmar_child_init(&c->core, &pr->core, c->nodes, c->recs,
                                  CM_VMAR_MAX_MAPPINGS, at, len, ++next_id);
        c->rights = rights;
        st = cm__handle_install(&c->hdr, rights, out);
    }
    if (st != CM_OK) {
        unlock();
        free(c);
        cm__hobj_put(&pr->hdr);
        return st;
    }
    /* The range is the parent's PROT_NONE pages already: nothing to map,
     * nothing charged (the parent's VIRTUAL covers it). */
    c->parent = pr;
    c->gen = cm__mapping_gen_next();
    cm__vmar_child_commit(&pr->core, at, len, c->gen, c->core.id, c);
    live[nlive++] = c;
    *base = (void *)(uintptr_t)at;
    unlock();
    cm__hobj_put(&pr->hdr);
    return CM_OK;
}

cm_status_t cm_vmar_map_anon(cm_handle_t vmar, uint64_t vmar_offset, uint64_t len,
                             uint32_t flags, void **addr)
{
    CM__ENTRY();
    cm_rights_t need, rights;
    struct vmar *r;
    cm_status_t st = cm__vmar_anon_check_args(vmar_offset, len, flags, addr != NULL, &need);
    if (st != CM_OK)
        return st;
    if ((st = get_vmar(vmar, need, &r, &rights)) != CM_OK)
        return st;
    uint32_t prot = flags & (CM_MAP_READ | CM_MAP_WRITE);
    uint64_t at = 0;
    lock();
    if ((st = gone(r)) == CM_OK)
        st = cm__vmar_map_plan(&r->core, vmar_offset, len, (flags & CM_VMAR_MAP_SPECIFIC) != 0,
                               &at);
    if (st == CM_OK) {
        int pp = PROT_READ | ((prot & CM_MAP_WRITE) ? PROT_WRITE : 0);
        int mf = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
                 ((flags & CM_MAP_POPULATE) ? MAP_POPULATE : 0);
        /* Replaces the reservation's PROT_NONE pages of exactly the planned
         * range, which no mapping covers. */
        void *p = mmap((void *)(uintptr_t)at, len, pp, mf, -1, 0);
        if (p == MAP_FAILED) {
            st = cm__errno_detail("mmap(MAP_PRIVATE|MAP_ANONYMOUS) in the reservation", errno);
            (void)put_back(at, len);
        } else {
            cm__vmar_anon_commit(&r->core, at, len, prot, cm__vmar_anon_max_prot(rights),
                                 cm__mapping_gen_next(), NULL);
            *addr = p;
        }
    }
    unlock();
    cm__hobj_put(&r->hdr);
    return st;
}

static cm_status_t unmap_common(cm_handle_t vmar, int match, cm_handle_t vmo, void *addr,
                                uint64_t len)
{
    uint64_t a = (uint64_t)(uintptr_t)addr, id = 0;
    struct vmar *r;
    cm_status_t st = cm__vmar_range_check_args(a, len);
    if (st != CM_OK)
        return st;
    if ((st = get_vmar(vmar, CM_RIGHT_MAP, &r, NULL)) != CM_OK)
        return st;
    if (match) {
        struct cm__vmo *v;
        /* Only its identity: an unsized file is not sized for it. */
        if ((st = cm__vmo_get_unsized(vmo, 0, &v, NULL)) == CM_OK) {
            st = cm__vmo_id(v, &id);
            cm__hobj_put(&v->hdr);
        }
        if (st != CM_OK) {
            cm__hobj_put(&r->hdr);
            return st;
        }
    }
    void *dropped[CM_VMAR_MAX_MAPPINGS];
    uint32_t n = 0;
    lock();
    if ((st = gone(r)) == CM_OK)
        st = cm__vmar_unmap_plan(&r->core, a, len, match, id);
    if (st == CM_OK) {
        cm__map_table_hold();
        st = cm__map_vmar_cut_locked(a, len, 0);
        if (st == CM_OK && put_back(a, len) != 0)
            st = cm__errno_detail("mmap(PROT_NONE) over the unmapped range", errno);
        if (st == CM_OK)
            (void)cm__map_vmar_cut_locked(a, len, 1);
        cm__map_table_release();
    }
    if (st == CM_OK)
        cm__vmar_unmap_commit(&r->core, a, len, dropped, &n);
    unlock();
    put_objects(dropped, n);
    cm__hobj_put(&r->hdr);
    return st;
}

cm_status_t cm_vmar_unmap(cm_handle_t vmar, void *addr, uint64_t len)
{
    CM__ENTRY();
    return unmap_common(vmar, 0, CM_HANDLE_INVALID, addr, len);
}

cm_status_t cm_vmar_unmap_vmo(cm_handle_t vmar, cm_handle_t vmo, void *addr, uint64_t len)
{
    CM__ENTRY();
    return unmap_common(vmar, 1, vmo, addr, len);
}

cm_status_t cm_vmar_protect(cm_handle_t vmar, void *addr, uint64_t len, uint32_t flags)
{
    CM__ENTRY();
    uint64_t a = (uint64_t)(uintptr_t)addr;
    cm_rights_t need;
    struct vmar *r;
    cm_status_t st = cm__vmar_protect_check_args(a, len, flags, &need);
    if (st != CM_OK)
        return st;
    if ((st = get_vmar(vmar, need, &r, NULL)) != CM_OK)
        return st;
    lock();
    if ((st = gone(r)) == CM_OK)
        st = cm__vmar_protect_plan(&r->core, a, len, flags);
    if (st == CM_OK)
        st = cm__vmar_protect_check_gain(&r->core, a, len, flags, obj_writable);
    if (st == CM_OK) {
        int prot = ((flags & CM_MAP_READ) ? PROT_READ : 0) |
                   ((flags & CM_MAP_WRITE) ? PROT_WRITE : 0);
        if (mprotect(addr, len, prot) != 0)
            st = cm__errno_detail("mprotect", errno);
        else
            cm__vmar_protect_commit(&r->core, a, len, flags);
    }
    unlock();
    cm__hobj_put(&r->hdr);
    return st;
}

cm_status_t cm_vmar_get_info(cm_handle_t vmar, cm_vmar_info_t *info)
{
    CM__ENTRY();
    struct vmar *r;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = get_vmar(vmar, 0, &r, NULL);
    if (st != CM_OK)
        return st;
    lock();
    if (r->destroyed) { /* since get_vmar */
        unlock();
        cm__hobj_put(&r->hdr);
        return CM_ERR_BAD_STATE;
    }
    *info = (cm_vmar_info_t){ cm__vmar_base(&r->core), cm__vmar_len(&r->core), r->core.id,
                              r->core.mapped_bytes, cm__iv_count(&r->core.map),
                              r->core.mappings };
    unlock();
    cm__hobj_put(&r->hdr);
    return CM_OK;
}

/* This address space's generation: random, made again after a fork (the
 * child is a new address space with the same contents). */
static uint64_t aspace_generation(void)
{
    static pid_t made_for;
    static uint64_t gen;
    pid_t me = getpid();
    if (made_for != me) {
        uint64_t g = 0;
        if (getrandom(&g, sizeof(g), 0) != (ssize_t)sizeof(g))
            g = ((uint64_t)me << 32) ^ cm__now_ns();
        gen = g | 1u; /* never 0 */
        made_for = me;
    }
    return gen;
}

cm_status_t cm_mapping_get_info(const void *addr, cm_mapping_info_t *info)
{
    CM__ENTRY();
    uint64_t a = (uint64_t)(uintptr_t)addr;
    if (info == NULL)
        return CM_ERR_INVALID_ARGS;
    memset(info, 0, sizeof(*info));
    struct cm__vmar_ident id;
    cm_status_t st = CM_ERR_NOT_FOUND;
    lock();
    info->aspace_id = (uint64_t)getpid();
    info->aspace_generation = aspace_generation();
    for (uint32_t i = 0; i < nlive; i++) {
        const struct vmar *r = live[i];
        uint64_t b = cm__vmar_base(&r->core);
        if (r->parent != NULL || a < b || a - b >= cm__vmar_len(&r->core))
            continue;
        /* Inside a reservation: its runs are the only mappings there; a
         * child's range is the child's (descend). */
        while ((st = cm__vmar_lookup(&r->core, a, &id)) == CM_OK &&
               id.kind == CM__VMAR_REC_CHILD)
            r = id.obj;
        if (st == CM_OK) {
            info->object_id = id.obj_id;
            info->object_generation = id.obj_gen;
            info->object_offset = id.obj_off;
            info->mapping_generation = id.gen;
            info->vmar_id = r->core.id;
            info->map_base = id.run_start;
            info->map_len = id.run_len;
            info->prot = id.prot;
            info->flags = CM_MAPPING_INFO_IN_VMAR |
                          (id.kind == CM__VMAR_REC_ANON ? CM_MAPPING_INFO_ANON : 0);
        }
        unlock();
        return st;
    }
    unlock();
    uint32_t prot = 0;
    st = cm__map_lookup(a, &info->object_id, &info->object_generation, &info->object_offset,
                        &info->mapping_generation, &info->map_base, &info->map_len, &prot);
    info->prot = prot;
    return st;
}
