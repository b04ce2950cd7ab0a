/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bootargs.h"
#include "console.h"
#include "frame.h"
#include "kmmio.h"
#include "proc.h"
#include "vm.h"

void kmain(uint64_t hartid, uint64_t dtb);
void trap_init(void);

/* Filled before frame_init overwrites the device tree. */
static struct bootargs boot;

/* entry.S passes OpenSBI's a0 (hart id) and a1 (device tree) through. */
void kmain(uint64_t hartid, uint64_t dtb)
{
    (void)hartid;
    console_init();
    kprintf("\ncapmem kernel: booting (riscv64 Sv39, S-mode)\n");
    bootargs_read(dtb, &boot);
    if (boot.error != 0)
        kprintf("capmem kernel: command line ignored: %s\n", boot.error);
    for (uint32_t i = 0; i < boot.len; i += (uint32_t)strlen(&boot.argv[i]) + 1)
        kprintf("%s%s", i == 0 ? "capmem kernel: command line: init " : " ", &boot.argv[i]);
    if (boot.len > 0)
        kprintf("\n");
    frame_init();
    kvm_init();
    trap_init();
    proc_init();
    kmmio_init();
    kprintf("capmem kernel: %lu free frames\n", (unsigned long)frame_free_count());
    int64_t pid = proc_spawn(0, "init", boot.argv, boot.len, 0, 0, CMK_ROLE_MAIN, 0, 0, 0);
    if (pid != 1)
        panic("cannot start init: %ld", (long)pid);
    kmmio_give_to_init(proc_by_pid(1)); /* the device windows: init's only */
    scheduler();
}
