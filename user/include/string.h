#ifndef CAPMEM_USER_STRING_H
#define CAPMEM_USER_STRING_H

/* The user runtime uses the kernel's freestanding string routines
 * (kernel/lib/string.c is compiled into both): one declaration of them. */
#include "../../kernel/lib/string.h"

#endif
