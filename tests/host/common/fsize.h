/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_TESTS_FSIZE_H
#define CAPMEM_TESTS_FSIZE_H

#include <sys/resource.h>

/* Sets the soft RLIMIT_FSIZE to `soft`, keeping the hard limit so that it
 * can be raised again (setrlimit(RLIMIT_FSIZE, was)); *was gets the old
 * one. Returns 0, or -1 with errno. Usable in a forked child. */
int lower_fsize(rlim_t soft, struct rlimit *was);

#endif
