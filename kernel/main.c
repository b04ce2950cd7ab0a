#include "console.h"
#include "frame.h"
#include "kmmio.h"
#include "proc.h"
#include "vm.h"

void kmain(void);
void trap_init(void);

void kmain(void)
{
    console_init();
    kprintf("\ncapmem kernel: booting (riscv64 Sv39, S-mode)\n");
    frame_init();
    kvm_init();
    trap_init();
    proc_init();
    kmmio_init();
    kprintf("capmem kernel: %lu free frames\n", (unsigned long)frame_free_count());
    int64_t pid = proc_spawn(0, "init", "", 0, 0, 0, CMK_ROLE_MAIN, 0, 0);
    if (pid != 1)
        panic("cannot start init: %ld", (long)pid);
    kmmio_give_to_init(proc_by_pid(1)); /* the device windows: init's only */
    scheduler();
}
