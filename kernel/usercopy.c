/* SPDX-License-Identifier: MIT */
#include "usercopy.h"

#include <string.h>

#include "memlayout.h"
#include "proc.h"
#include "riscv.h"
#include "vm.h"

/* Walks [uva, uva+len) page by page; calls fn on each piece's kernel
 * address. Fails on wrap-around or any page without the access. */
static cm_status_t each_piece(struct proc *p, uint64_t uva, uint64_t len, int write,
                              void (*fn)(void *ctx, uint8_t *k, uint64_t n), void *ctx)
{
    if (len == 0)
        return CM_OK;
    if (uva + len < uva || uva < USER_BASE || uva + len > USER_TOP)
        return CM_ERR_INVALID_ARGS;
    while (len > 0) {
        uint64_t pa = uvm_translate(p->as.root, uva, write);
        /* A page not faulted in yet (reservation mapping, decommitted page)
         * is made present as the user's own access would. */
        if (pa == 0 && as_fault(&p->as, uva, write) == CM_OK)
            pa = uvm_translate(p->as.root, uva, write);
        /* Only RAM: a user buffer in a device window (cm_mmio_map) is
         * refused, so no syscall makes the kernel touch device registers. */
        if (pa < RAM_BASE || pa >= PHYS_TOP)
            return CM_ERR_INVALID_ARGS;
        uint64_t n = PGSIZE - (uva & (PGSIZE - 1));
        if (n > len)
            n = len;
        if (fn != 0)
            fn(ctx, (uint8_t *)pa, n);
        uva += n;
        len -= n;
    }
    return CM_OK;
}

int user_range_ok(struct proc *p, uint64_t uva, uint64_t len, int write)
{
    return each_piece(p, uva, len, write, 0, 0) == CM_OK;
}

struct cursor {
    uint8_t *k;
};

static void piece_in(void *ctx, uint8_t *u, uint64_t n)
{
    struct cursor *c = ctx;
    memcpy(c->k, u, n);
    c->k += n;
}

static void piece_out(void *ctx, uint8_t *u, uint64_t n)
{
    struct cursor *c = ctx;
    memcpy(u, c->k, n);
    c->k += n;
}

cm_status_t copyin(struct proc *p, void *dst, uint64_t uva, uint64_t len)
{
    /* Check the whole range first so a failure leaves dst untouched. */
    if (!user_range_ok(p, uva, len, 0))
        return CM_ERR_INVALID_ARGS;
    struct cursor c = { dst };
    return each_piece(p, uva, len, 0, piece_in, &c);
}

cm_status_t copyout(struct proc *p, uint64_t uva, const void *src, uint64_t len)
{
    /* All-or-nothing: user memory is not partly written on failure. */
    if (!user_range_ok(p, uva, len, 1))
        return CM_ERR_INVALID_ARGS;
    struct cursor c = { (uint8_t *)(uintptr_t)src };
    return each_piece(p, uva, len, 1, piece_out, &c);
}

cm_status_t copyin_str(struct proc *p, char *dst, uint64_t uva, uint64_t cap)
{
    for (uint64_t i = 0; i < cap; i++) {
        if (copyin(p, &dst[i], uva + i, 1) != CM_OK)
            return CM_ERR_INVALID_ARGS;
        if (dst[i] == '\0')
            return CM_OK;
    }
    return CM_ERR_INVALID_ARGS;
}
