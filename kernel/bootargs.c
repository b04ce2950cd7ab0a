/* SPDX-License-Identifier: MIT */
/* Just enough of the flattened device tree format (devicetree spec v0.4,
 * chapter 5) to find /chosen/bootargs. The tree comes from firmware, but
 * every offset and length is still checked against the header's sizes and
 * against RAM, so a damaged tree means "no arguments", never a fault. */
#include "bootargs.h"

#include <stddef.h>
#include <string.h>

#include "memlayout.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
/* Trees QEMU builds are a few KiB; larger is not a tree we expect. */
#define FDT_MAX_SIZE (1u << 20)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Finds the bootargs property; returns its value and length, or 0. */
static const char *find_bootargs(const uint8_t *fdt, uint32_t *len_out)
{
    uint32_t total = be32(fdt + 4);
    uint32_t off_struct = be32(fdt + 8), off_strings = be32(fdt + 12);
    uint32_t size_strings = be32(fdt + 32), size_struct = be32(fdt + 36);
    if (total < 40 || total > FDT_MAX_SIZE || off_struct > total ||
        size_struct > total - off_struct || off_strings > total ||
        size_strings > total - off_strings)
        return 0;
    const uint8_t *s = fdt + off_struct;
    uint32_t pos = 0, depth = 0, in_chosen = 0;
    while (pos + 4 <= size_struct) {
        uint32_t tok = be32(s + pos);
        pos += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)s + pos;
            uint32_t n = 0;
            while (pos + n < size_struct && name[n] != '\0')
                n++;
            if (pos + n >= size_struct)
                return 0;
            depth++;
            /* /chosen is a child of the root (depth 2 counting the root). */
            if (depth == 2 && strcmp(name, "chosen") == 0)
                in_chosen = 1;
            pos += (n + 1 + 3) & ~3u;
        } else if (tok == FDT_END_NODE) {
            if (depth == 0)
                return 0;
            if (depth == 2)
                in_chosen = 0;
            depth--;
        } else if (tok == FDT_PROP) {
            if (pos + 8 > size_struct)
                return 0;
            uint32_t len = be32(s + pos), nameoff = be32(s + pos + 4);
            pos += 8;
            if (len > size_struct - pos || nameoff >= size_strings)
                return 0;
            const char *pname = (const char *)fdt + off_strings + nameoff;
            /* Only the bytes of "bootargs\0" are compared, all inside the
             * strings block. */
            if (in_chosen && depth == 2 && size_strings - nameoff >= sizeof("bootargs") &&
                strncmp(pname, "bootargs", sizeof("bootargs")) == 0) {
                *len_out = len;
                return (const char *)s + pos;
            }
            pos += (len + 3) & ~3u;
        } else if (tok == FDT_END) {
            return 0;
        } else if (tok != FDT_NOP) {
            return 0;
        }
    }
    return 0;
}

void bootargs_read(uint64_t dtb, struct bootargs *out)
{
    out->len = 0;
    out->error = 0;
    if (dtb < RAM_BASE || dtb > PHYS_TOP - 40 || (dtb & 3) != 0)
        return;
    const uint8_t *fdt = (const uint8_t *)dtb;
    if (be32(fdt) != FDT_MAGIC || be32(fdt + 4) > PHYS_TOP - dtb)
        return;
    uint32_t len = 0;
    const char *v = find_bootargs(fdt, &len);
    if (v == 0)
        return;
    /* The value is a string: stop at its NUL (or its end if it has none). */
    uint32_t words = 0, n = 0;
    for (uint32_t i = 0; i < len && v[i] != '\0'; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            if (n > 0 && out->argv[n - 1] != '\0')
                out->argv[n++] = '\0';
            continue;
        }
        if (n == 0 || out->argv[n - 1] == '\0')
            words++;
        /* Room for this byte and the closing NUL. */
        if (n + 2 > sizeof(out->argv) || words > CMK_SPAWN_MAX_ARGS - 1) {
            out->len = 0;
            out->error = "longer than the spawn bounds (CMK_SPAWN_MAX_ARGV bytes, "
                         "CMK_SPAWN_MAX_ARGS - 1 words)";
            return;
        }
        out->argv[n++] = v[i];
    }
    if (n > 0 && out->argv[n - 1] != '\0')
        out->argv[n++] = '\0';
    out->len = n;
}
