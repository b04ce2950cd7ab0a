/* SPDX-License-Identifier: MIT */
/* cmk_word_wait / cmk_word_wake (user/cmk.h): a futex-like wait on a 32-bit
 * word of a VMO, for user-space protocols on shared mappings (SharedBuffer,
 * docs/sbuf.md "Notification").
 *
 * The key is (VMO object, offset), never a virtual address (seed 004 slice
 * C). Both calls resolve the caller's address, at call time, through the
 * caller's own mappings (cm_vmo_map mappings and reservation runs) to the
 * VMO it maps and the offset in it. So two
 * processes mapping the same VMO at different addresses meet on one key,
 * and two VMOs mapped one after the other at the same address never do:
 * unmapping, remapping, moving the handle or reusing the address cannot
 * wake the wrong waiter. A waiter holds a reference to its VMO while it
 * sleeps, so the object cannot be destroyed and its slot reused under the
 * key; the key also carries the object's id (unique for the kernel's
 * lifetime), so even a reused pool slot would not match.
 *
 * No lost wake-up: one hart, no preemption in the kernel, so nothing runs
 * between the comparison of the word with `expected` and the sleep. A
 * process has one thread, so a waiter entry per process slot suffices. */
#include "word.h"

#include <capmem/limits.h>

#include "as.h"
#include "kvmar.h"
#include "proc.h"
#include "syscall.h"
#include "vmo.h"

struct word_waiter {
    const struct vmo *vmo; /* NULL: not waiting */
    uint64_t id;           /* vmo->obj.id at the wait */
    uint64_t off;
    int woken;
};

static struct word_waiter waiters[MAX_PROCS];

/* The VMO and offset of uva through a cm_vmo_map mapping of the caller. */
static cm_status_t vmo_map_key(struct proc *p, uint64_t uva, struct vmo **v, uint64_t *off)
{
    for (uint32_t i = 0; i < CM_MAX_MAPPINGS; i++) {
        const struct mapping *m = &p->as.maps[i];
        if (m->vmo == 0 || uva < m->va || uva - m->va >= m->npages * CM_PAGE_SIZE)
            continue;
        *v = m->vmo;
        *off = m->offset + (uva - m->va);
        return CM_OK;
    }
    return CM_ERR_INVALID_ARGS;
}

/* The caller's mapping covering uva (a cm_vmo_map mapping or a run of a
 * reservation), and the offset of uva in its VMO. INVALID_ARGS for a
 * misaligned, unmapped or non-VMO address (a reserved page no run maps
 * included), or a word past the VMO's size; ACCESS_DENIED for a run with
 * no access (the caller could not read the word there). */
static cm_status_t resolve(struct proc *p, uint64_t uva, struct vmo **v, uint64_t *off)
{
    if (uva % sizeof(uint32_t) != 0)
        return CM_ERR_INVALID_ARGS;
    const struct cm__iv_node *n = cm__iv_find(&p->as.iv, uva);
    cm_status_t st = n != 0 && n->kind == AS_KIND_VMAR
                         ? kvmar_word_key(&p->as, n->tag, uva, v, off)
                         : vmo_map_key(p, uva, v, off);
    if (st == CM_OK && *off + sizeof(uint32_t) > (*v)->size)
        return CM_ERR_INVALID_ARGS;
    return st;
}

static uint32_t load_word(const struct vmo *v, uint64_t off)
{
    uint64_t pg = vmo_page(v, off / CM_PAGE_SIZE);
    if (pg == 0)
        return 0; /* decommitted: reads as zero */
    return *(volatile const uint32_t *)(pg + off % CM_PAGE_SIZE);
}

uint32_t word_wake_key(const struct vmo *v, uint64_t off, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < MAX_PROCS && n < max; i++) {
        struct word_waiter *w = &waiters[i];
        if (w->vmo == v && w->id == v->obj.id && w->off == off && !w->woken) {
            w->woken = 1;
            wakeup(w);
            n++;
        }
    }
    return n;
}

static struct word_waiter *waiter_of(struct proc *p)
{
    return &waiters[proc_index(p)];
}

/* (addr, expected, timeout_ns): OK when woken by a wake on the same key;
 * BAD_STATE at once if the word is not `expected`; TIMED_OUT; the timeout
 * under core/deadline.h's rule (INVALID_ARGS for a bad negative). */
int64_t sys_word_wait(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    uint64_t off, deadline;
    if (a[1] > UINT32_MAX)
        return CM_ERR_INVALID_ARGS;
    cm_status_t st = sleep_deadline((int64_t)a[2], &deadline);
    if (st == CM_OK)
        st = resolve(p, a[0], &v, &off);
    if (st != CM_OK)
        return st;
    if (load_word(v, off) != (uint32_t)a[1])
        return CM_ERR_BAD_STATE;
    if (sleep_deadline_passed(deadline))
        return CM_ERR_TIMED_OUT;
    struct word_waiter *w = waiter_of(p);
    kobj_ref(&v->obj); /* the key's object lives while we sleep on it */
    *w = (struct word_waiter){ v, v->obj.id, off, 0 };
    while (!w->woken && !sleep_deadline_passed(deadline))
        sleep_on(w, deadline);
    int woken = w->woken;
    *w = (struct word_waiter){ 0, 0, 0, 0 };
    kobj_unref(&v->obj);
    return woken ? CM_OK : CM_ERR_TIMED_OUT;
}

/* (addr, max): wakes up to max waiters on the key; returns the count. */
int64_t sys_word_wake(struct proc *p, const uint64_t *a)
{
    struct vmo *v;
    uint64_t off;
    cm_status_t st = resolve(p, a[0], &v, &off);
    if (st != CM_OK)
        return st;
    return word_wake_key(v, off, a[1] > UINT32_MAX ? UINT32_MAX : (uint32_t)a[1]);
}
