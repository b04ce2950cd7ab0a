/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_OBJWAIT_H
#define CAPMEM_KERNEL_OBJWAIT_H

/* Object signals and waiting (include/capmem/object.h), kernel side:
 * kernel/object/wait.c. */

/* Called by an object after any change of its signals: wakes every process
 * blocked in an object wait so that it re-evaluates its objects. */
void object_signals_changed(void);

#endif
