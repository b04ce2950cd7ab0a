/* SPDX-License-Identifier: MIT */
#include "elf.h"

#include "as.h"
#include "memlayout.h"
#include "riscv.h"

/* ELF64 as far as a static executable needs (System V gABI). */
struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

#define ET_EXEC 2
#define EM_RISCV 243
#define PT_LOAD 1
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

static int header_ok(const struct elf64_ehdr *h, uint64_t size)
{
    return h->ident[0] == 0x7f && h->ident[1] == 'E' && h->ident[2] == 'L' &&
           h->ident[3] == 'F' && h->ident[4] == 2 /* 64-bit */ && h->ident[5] == 1 /* LE */ &&
           h->type == ET_EXEC && h->machine == EM_RISCV &&
           h->phentsize == sizeof(struct elf64_phdr) && h->phoff < size &&
           (uint64_t)h->phnum * sizeof(struct elf64_phdr) <= size - h->phoff;
}

static cm_status_t load_segment(struct addrspace *as, const uint8_t *image, uint64_t size,
                                const struct elf64_phdr *ph)
{
    if ((ph->flags & PF_R) == 0 || (ph->flags & (PF_W | PF_X)) == (PF_W | PF_X))
        return CM_ERR_INVALID_ARGS;
    if (ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset)
        return CM_ERR_INVALID_ARGS;
    uint64_t start = PGROUNDDOWN(ph->vaddr);
    if (ph->vaddr < USER_IMAGE_BASE || ph->vaddr >= USER_MAP_BASE ||
        ph->memsz > USER_MAP_BASE - ph->vaddr)
        return CM_ERR_INVALID_ARGS;
    uint64_t end = PGROUNDUP(ph->vaddr + ph->memsz);
    uint64_t perm = PTE_R | ((ph->flags & PF_W) ? PTE_W : 0) | ((ph->flags & PF_X) ? PTE_X : 0);
    cm_status_t st = as_alloc_fixed(as, start, end - start, AS_KIND_IMAGE, perm);
    if (st != CM_OK)
        return st;
    return as_fill(as, ph->vaddr, image + ph->offset, ph->filesz);
}

cm_status_t elf_load(struct addrspace *as, const uint8_t *image, uint64_t size,
                     uint64_t *entry)
{
    const struct elf64_ehdr *h = (const struct elf64_ehdr *)image;
    if (size < sizeof(*h) || !header_ok(h, size))
        return CM_ERR_INVALID_ARGS;
    uint32_t loads = 0;
    for (uint32_t i = 0; i < h->phnum; i++) {
        const struct elf64_phdr *ph =
            (const struct elf64_phdr *)(image + h->phoff + i * sizeof(*ph));
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        if (++loads > AS_MAX_SEGMENTS)
            return CM_ERR_INVALID_ARGS;
        cm_status_t st = load_segment(as, image, size, ph);
        if (st != CM_OK)
            return st;
    }
    *entry = h->entry;
    return loads > 0 ? CM_OK : CM_ERR_INVALID_ARGS;
}
