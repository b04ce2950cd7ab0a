/* SPDX-License-Identifier: MIT */
/* A free list threaded through the free frames themselves. Single hart and
 * interrupts off in the kernel: no lock needed. */
#include "frame.h"

#include <string.h>

#include "console.h"
#include "memlayout.h"
#include "riscv.h"

extern char __kernel_end[];

struct free_frame {
    struct free_frame *next;
};

static struct free_frame *free_list;
static uint64_t free_count;
static uint64_t first_frame;

void frame_init(void)
{
    first_frame = PGROUNDUP((uint64_t)__kernel_end);
    /* Push from the top so allocation hands out low addresses first. */
    for (uint64_t pa = PHYS_TOP - PGSIZE; pa >= first_frame; pa -= PGSIZE) {
        struct free_frame *f = (struct free_frame *)pa;
        f->next = free_list;
        free_list = f;
        free_count++;
    }
}

uint64_t frame_alloc(void)
{
    struct free_frame *f = free_list;
    if (f == 0)
        return 0;
    free_list = f->next;
    free_count--;
    memset(f, 0, PGSIZE);
    return (uint64_t)f;
}

void frame_free(uint64_t pa)
{
    if ((pa & (PGSIZE - 1)) != 0 || pa < first_frame || pa >= PHYS_TOP)
        panic("frame_free: bad frame %lx", pa);
    struct free_frame *f = (struct free_frame *)pa;
    f->next = free_list;
    free_list = f;
    free_count++;
}

uint64_t frame_free_count(void)
{
    return free_count;
}
