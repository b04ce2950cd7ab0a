/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_IMAGES_H
#define CAPMEM_KERNEL_IMAGES_H

#include <stdint.h>

/* User programs linked into the kernel image (images.S). */
struct user_image {
    const char *name;
    const uint8_t *start;
    const uint8_t *end;
};

const struct user_image *image_find(const char *name);

#endif
