/* SPDX-License-Identifier: MIT */
#include "vm.h"

#include "account.h"
#include "console.h"
#include "frame.h"
#include "memlayout.h"
#include "riscv.h"

extern char __kernel_start[], __text_end[], __rodata_end[];

static uint64_t kernel_root;

/* Returns the leaf PTE slot for va, allocating table pages when alloc is
 * set (charged to `a`; NULL: the kernel's own table at boot); 0 when a
 * table page is missing or cannot be charged or allocated (*st says why). */
static uint64_t *walk_charged(uint64_t root, uint64_t va, int alloc, struct kacct *a,
                              cm_status_t *st)
{
    uint64_t *table = (uint64_t *)root;
    uint64_t *made = 0; /* the root entry this walk filled, if any */
    for (int level = 2; level > 0; level--) {
        uint64_t *pte = &table[VPN(va, level)];
        if ((*pte & PTE_V) != 0) {
            if ((*pte & (PTE_R | PTE_W | PTE_X)) != 0)
                return 0; /* a superpage: never used, so never walked into */
            table = (uint64_t *)PTE_TO_PA(*pte);
            continue;
        }
        if (!alloc)
            return 0;
        if (a != 0 && (*st = kacct_charge_frames(a, 1)) != CM_OK) {
            /* A middle table made by this walk and left empty goes back
             * (no table page stays charged for a mapping that failed). */
            if (made != 0) {
                *made = 0;
                sfence_vma();
                frame_free((uint64_t)table);
                kacct_uncharge_frames(a, 1);
            }
            return 0;
        }
        uint64_t page = frame_alloc();
        if (page == 0) {
            *st = CM_ERR_MEMORY_PRESSURE; /* only the uncharged boot table gets here */
            return 0;
        }
        *pte = PA_TO_PTE(page) | PTE_V;
        made = pte;
        table = (uint64_t *)page;
    }
    return &table[VPN(va, 0)];
}

static uint64_t *walk(uint64_t root, uint64_t va, int alloc)
{
    cm_status_t st;
    return walk_charged(root, va, alloc, 0, &st);
}

static void kmap_range(uint64_t start, uint64_t end, uint64_t perm)
{
    for (uint64_t a = PGROUNDDOWN(start); a < end; a += PGSIZE) {
        uint64_t *pte = walk(kernel_root, a, 1);
        if (pte == 0)
            panic("kvm_init: out of frames");
        /* Global: the kernel half is identical in every address space. */
        *pte = PA_TO_PTE(a) | perm | PTE_V | PTE_G | PTE_A | PTE_D;
    }
}

void kvm_init(void)
{
    kernel_root = frame_alloc();
    if (kernel_root == 0)
        panic("kvm_init: no root");
    kmap_range(SIFIVE_TEST_BASE, SIFIVE_TEST_BASE + PGSIZE, PTE_R | PTE_W);
    kmap_range(UART0_BASE, UART0_BASE + PGSIZE, PTE_R | PTE_W);
    kmap_range(VIRTIO_MMIO_BASE, VIRTIO_MMIO_BASE + VIRTIO_MMIO_SLOTS * VIRTIO_MMIO_STRIDE,
               PTE_R | PTE_W);
    kmap_range((uint64_t)__kernel_start, (uint64_t)__text_end, PTE_R | PTE_X);
    kmap_range((uint64_t)__text_end, (uint64_t)__rodata_end, PTE_R);
    kmap_range((uint64_t)__rodata_end, PHYS_TOP, PTE_R | PTE_W);
    for (unsigned i = KERNEL_ROOT_SLOTS; i < 512; i++) {
        if (((uint64_t *)kernel_root)[i] != 0)
            panic("kvm_init: kernel mapping outside the shared root slots");
    }
    kvm_switch();
}

void kvm_switch(void)
{
    csr_write(satp, MAKE_SATP(kernel_root));
    sfence_vma();
}

uint64_t kvm_root(void)
{
    return kernel_root;
}

cm_status_t uvm_create(struct kacct *a, uint64_t *out)
{
    cm_status_t st = kacct_charge_frames(a, 1);
    if (st != CM_OK)
        return st;
    uint64_t root = frame_alloc();
    if (root == 0)
        panic("uvm_create: charged frame missing");
    for (unsigned i = 0; i < KERNEL_ROOT_SLOTS; i++)
        ((uint64_t *)root)[i] = ((uint64_t *)kernel_root)[i];
    *out = root;
    return CM_OK;
}

void uvm_destroy(uint64_t root, struct kacct *a)
{
    uint64_t frames = 1;
    uint64_t *top = (uint64_t *)root;
    for (unsigned i = KERNEL_ROOT_SLOTS; i < 512; i++) {
        if ((top[i] & PTE_V) == 0)
            continue;
        uint64_t *mid = (uint64_t *)PTE_TO_PA(top[i]);
        for (unsigned j = 0; j < 512; j++) {
            if ((mid[j] & PTE_V) == 0)
                continue;
            uint64_t *leaf = (uint64_t *)PTE_TO_PA(mid[j]);
            for (unsigned k = 0; k < 512; k++) {
                if ((leaf[k] & PTE_V) != 0)
                    panic("uvm_destroy: page still mapped");
            }
            frame_free((uint64_t)leaf);
            frames++;
        }
        frame_free((uint64_t)mid);
        frames++;
    }
    frame_free(root);
    kacct_uncharge_frames(a, frames);
}

static int is_user_va(uint64_t va)
{
    return va >= USER_BASE && va < USER_TOP;
}

cm_status_t uvm_map_page(uint64_t root, uint64_t va, uint64_t pa, uint64_t perm,
                         struct kacct *a)
{
    if (!is_user_va(va) || (perm & (PTE_W | PTE_X)) == (PTE_W | PTE_X) ||
        (perm & ~(PTE_R | PTE_W | PTE_X)) != 0)
        return CM_ERR_INTERNAL;
    cm_status_t st = CM_ERR_INTERNAL;
    uint64_t *pte = walk_charged(root, va, 1, a, &st);
    if (pte == 0)
        return st;
    if ((*pte & PTE_V) != 0)
        return CM_ERR_INTERNAL;
    *pte = PA_TO_PTE(pa) | perm | PTE_U | PTE_V | PTE_A | PTE_D;
    return CM_OK;
}

uint64_t uvm_unmap_page(uint64_t root, uint64_t va)
{
    if (!is_user_va(va))
        return 0;
    uint64_t *pte = walk(root, va, 0);
    if (pte == 0 || (*pte & PTE_V) == 0)
        return 0;
    uint64_t pa = PTE_TO_PA(*pte);
    *pte = 0;
    return pa;
}

uint64_t uvm_translate(uint64_t root, uint64_t va, int write)
{
    if (!is_user_va(va))
        return 0;
    uint64_t *pte = walk(root, va, 0);
    if (pte == 0)
        return 0;
    uint64_t need = PTE_V | PTE_U | (write ? PTE_W : PTE_R);
    if ((*pte & need) != need)
        return 0;
    return PTE_TO_PA(*pte) + (va & (PGSIZE - 1));
}

int uvm_mapped(uint64_t root, uint64_t va)
{
    if (!is_user_va(va))
        return 0;
    uint64_t *pte = walk(root, va, 0);
    return pte != 0 && (*pte & (PTE_V | PTE_U)) == (PTE_V | PTE_U);
}

#define LEAF_SPAN (PGSIZE << 9)  /* bytes one leaf table maps: 2 MiB */
#define MID_SPAN  (PGSIZE << 18) /* bytes one middle table maps: 1 GiB */

/* Whether [va, va+len) is a non-empty range of user VA. */
static int user_range(uint64_t va, uint64_t len)
{
    return len > 0 && is_user_va(va) && len <= USER_TOP - va;
}

void uvm_unmap_range(uint64_t root, uint64_t va, uint64_t len)
{
    if (!user_range(va, len))
        return;
    uint64_t end = va + len;
    for (uint64_t a = va; a < end;) {
        uint64_t *pte = walk(root, a, 0);
        if (pte == 0) {
            a = (a | (LEAF_SPAN - 1)) + 1; /* no leaf table: nothing mapped up to its end */
            continue;
        }
        *pte = 0;
        a += PGSIZE;
    }
}

cm_status_t uvm_prepare(uint64_t root, uint64_t va, uint64_t len, struct kacct *a)
{
    if (!user_range(va, len))
        return CM_ERR_INTERNAL;
    cm_status_t st = CM_ERR_INTERNAL;
    for (uint64_t t = va & ~(LEAF_SPAN - 1); t < va + len; t += LEAF_SPAN) {
        if (walk_charged(root, t < va ? va : t, 1, a, &st) == 0)
            return st;
    }
    return CM_OK;
}

static int table_empty(const uint64_t *t)
{
    for (unsigned i = 0; i < 512; i++) {
        if ((t[i] & PTE_V) != 0)
            return 0;
    }
    return 1;
}

/* Unhooks an empty table page: its parent entry cleared, the page put on
 * `list` through its word 0 (a page address has V clear, so a walk that
 * still reached it would find no valid entry). */
static void unhook(uint64_t *parent_pte, uint64_t *table, uint64_t *list, uint64_t *n)
{
    *parent_pte = 0;
    table[0] = *list;
    *list = (uint64_t)table;
    (*n)++;
}

uint64_t uvm_prune(uint64_t root, uint64_t va, uint64_t len, struct kacct *a)
{
    uint64_t list = 0, n = 0;
    if (user_range(va, len)) {
        uint64_t *top = (uint64_t *)root, end = va + len;
        for (uint64_t g = va & ~(MID_SPAN - 1); g < end; g += MID_SPAN) {
            uint64_t *tpte = &top[VPN(g, 2)];
            if ((*tpte & PTE_V) == 0)
                continue;
            uint64_t *mid = (uint64_t *)PTE_TO_PA(*tpte);
            uint64_t lo = g < va ? va & ~(LEAF_SPAN - 1) : g;
            uint64_t hi = end - g < MID_SPAN ? end : g + MID_SPAN;
            for (uint64_t t = lo; t < hi; t += LEAF_SPAN) {
                uint64_t *mpte = &mid[VPN(t, 1)];
                if ((*mpte & PTE_V) != 0 && table_empty((uint64_t *)PTE_TO_PA(*mpte)))
                    unhook(mpte, (uint64_t *)PTE_TO_PA(*mpte), &list, &n);
            }
            if (table_empty(mid))
                unhook(tpte, mid, &list, &n);
        }
    }
    /* No table page is reused before the TLB (and any cached walk through
     * it) is flushed; the flush also covers the caller's cleared leaves. */
    sfence_vma();
    while (list != 0) {
        uint64_t next = ((uint64_t *)list)[0];
        frame_free(list);
        list = next;
    }
    if (n > 0)
        kacct_uncharge_frames(a, n);
    return n;
}
