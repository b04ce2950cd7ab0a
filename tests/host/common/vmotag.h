/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_VMOTAG_H
#define CAPMEM_TESTS_VMOTAG_H

/* Tagged VMOs: a one-page VMO whose first byte is a tag, so that a received
 * handle can be matched to the object that was sent. */

#include <stdint.h>

#include <capmem/host.h>
#include "leakcheck.h" /* cmocka */

/* A new one-page VMO tagged `tag`; fails the test if it cannot. */
cm_handle_t tagged_vmo(uint8_t tag);

/* The tag of VMO v, or -1 if it cannot be read. Asserts nothing: usable in
 * a forked child. */
int tag_of(cm_handle_t v);

#endif
