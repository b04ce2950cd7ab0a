/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_USER_SBUF_INTERNAL_H
#define CAPMEM_USER_SBUF_INTERNAL_H

/* The user runtime's SharedBuffer bookkeeping (user/sbuf.c). */
#include <capmem/capmem.h>

/* A handle leaves this process's table (close, replace, channel write,
 * spawn): drop what the runtime cached about it. */
void cmk__sbuf_forget(cm_handle_t h);
/* Whether any SharedBuffer handle is cached now. */
int cmk__sbuf_cached(void);

#endif
