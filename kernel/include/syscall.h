/* SPDX-License-Identifier: MIT */
#ifndef CAPMEM_KERNEL_SYSCALL_H
#define CAPMEM_KERNEL_SYSCALL_H

#include <stdint.h>

struct proc;

/* Every syscall has this shape: the process and its a0..a6. The return
 * value goes back in a0. Each object file defines the calls it serves. */
typedef int64_t (*syscall_fn)(struct proc *p, const uint64_t *a);

#define SYSCALL_ARGS 7

void syscall_dispatch(struct proc *p);

int64_t sys_handle_close(struct proc *p, const uint64_t *a);
int64_t sys_handle_duplicate(struct proc *p, const uint64_t *a);
int64_t sys_handle_replace(struct proc *p, const uint64_t *a);
int64_t sys_handle_get_info(struct proc *p, const uint64_t *a);
int64_t sys_vmo_create(struct proc *p, const uint64_t *a);
int64_t sys_vmo_read(struct proc *p, const uint64_t *a);
int64_t sys_vmo_write(struct proc *p, const uint64_t *a);
int64_t sys_vmo_get_size(struct proc *p, const uint64_t *a);
int64_t sys_vmo_set_size(struct proc *p, const uint64_t *a);
int64_t sys_vmo_get_info(struct proc *p, const uint64_t *a);
int64_t sys_vmo_seal(struct proc *p, const uint64_t *a);
int64_t sys_vmo_snapshot(struct proc *p, const uint64_t *a);
int64_t sys_vmo_map(struct proc *p, const uint64_t *a);
int64_t sys_vmo_unmap(struct proc *p, const uint64_t *a);
int64_t sys_channel_create(struct proc *p, const uint64_t *a);
int64_t sys_channel_write(struct proc *p, const uint64_t *a);
int64_t sys_channel_read(struct proc *p, const uint64_t *a);
int64_t sys_channel_wait(struct proc *p, const uint64_t *a);
int64_t sys_object_wait_one(struct proc *p, const uint64_t *a);
int64_t sys_object_wait_many(struct proc *p, const uint64_t *a);
int64_t sys_word_wait(struct proc *p, const uint64_t *a);
int64_t sys_word_wake(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_create(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_consumer_create(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_loan(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_publish(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_cancel(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_attach(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_get_info(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_kick(struct proc *p, const uint64_t *a);
int64_t sys_sbuf_copy(struct proc *p, const uint64_t *a);
int64_t sys_ledger_get(struct proc *p, const uint64_t *a);
int64_t sys_ledger_set_limit(struct proc *p, const uint64_t *a);
int64_t sys_console_read(struct proc *p, const uint64_t *a);
int64_t sys_account_create(struct proc *p, const uint64_t *a);
int64_t sys_account_get(struct proc *p, const uint64_t *a);
int64_t sys_account_set_limit(struct proc *p, const uint64_t *a);
int64_t sys_account_live(struct proc *p, const uint64_t *a);

#endif
