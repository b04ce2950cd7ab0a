/* SPDX-License-Identifier: MIT */
#include "images.h"

#include <string.h>

extern const struct user_image user_images[];
extern const uint64_t user_image_count;

const struct user_image *image_find(const char *name)
{
    for (uint64_t i = 0; i < user_image_count; i++) {
        if (strcmp(user_images[i].name, name) == 0)
            return &user_images[i];
    }
    return 0;
}
