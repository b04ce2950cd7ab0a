# SPDX-License-Identifier: MIT
# kernel/ and user/: the capmem microkernel for QEMU riscv64 `virt` and its
# user programs. Everything lands in build/kernel/.
#
#   make build/kernel/capmem.elf   the kernel image (user programs embedded)
#   make qemu                      boot to the interactive shell (Ctrl-A X quits)
#   make qemu-gdb                  same, halted, gdb stub on localhost:$(GDB_PORT)
#   make gdb                       attach gdb-multiarch to it (another terminal)
#   make qemu-test                 the selftest run; verdict = QEMU exit status
#
# The mode is init's command line, which the kernel reads from the device
# tree (/chosen/bootargs, QEMU -append): none runs the selftests, "shell"
# the shell (docs/kernel.md "The shell").

KBUILD     := $(BUILD)/kernel
comma      := ,
space      := $(subst x, ,x)
KCC        ?= riscv64-unknown-elf-gcc
# No FPU use anywhere (the kernel does not save FP state), so the soft-float
# ABI, and the kernel turns the FPU off for itself and for user mode
# (sstatus.FS = Off: an FP instruction kills the process; docs/kernel.md).
# zicsr/zifencei are spelled out for binutils >= 2.38.
KARCH      := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
KLIBGCC    := $(shell $(KCC) -march=rv64imac -mabi=lp64 -print-libgcc-file-name 2>/dev/null)
KCOMMON    := -std=gnu11 -O2 -g $(WARN) $(KARCH) -ffreestanding -nostdlib \
              -fno-stack-protector -fno-pic -fno-common -fno-omit-frame-pointer \
              -Iinclude -Icore -Iabi -Ilib
# abi/ is the kernel/user boundary (syscall numbers and structures) and lib/
# the freestanding string and format code; both sides compile them, and the
# user side sees nothing else of kernel/ (no -Ikernel/...).
# CM__KERNEL: core rules built for the kernel itself (core/status_detail.h,
# core/target_limits.h); the user runtime is not the kernel.
KERNEL_CFLAGS := $(KCOMMON) -DCM__KERNEL -Ikernel/include -Ikernel/object
# Generated from USER_PROGS below: $(KGEN)/user_progs.h.
KGEN          := $(KBUILD)/gen
# CM__NO_DETAIL: the user runtime records no status detail (core/status_detail.h).
USER_CFLAGS   := $(KCOMMON) -DCM__NO_DETAIL -Iuser/include -Iuser -Iapps -Idrivers/virtio_blk -I$(KGEN)

KERNEL_SRCS := $(wildcard kernel/*.c kernel/object/*.c lib/*.c) \
               kernel/entry.S kernel/trapvec.S \
               core/handle_table.c core/interval.c core/deadline.c core/validate.c core/ledger.c \
               core/dma_own.c core/dma_rules.c  # DMA pools (kernel/object/dma_pool.c)
# SharedBuffer rules: compiled freestanding now; the kernel object (phase 2,
# docs/sbuf.md) will use sbuf_own, the user runtime sbuf_cons.
KERNEL_SRCS += core/sbuf_ring.c core/sbuf_own.c core/sbuf_cons.c
# Address-space region rules (kernel/object/vmar.c) and the committed-page
# set (kernel/object/vmo.c), docs/memory-model.md.
KERNEL_SRCS += core/vmar_rules.c core/commit_set.c
KERNEL_OBJS := $(patsubst %,$(KBUILD)/k/%.o,$(KERNEL_SRCS))

USER_RT_SRCS := user/crt0.S user/runtime.c user/capmem.c user/dma.c user/mmio.c user/vmar.c user/platform_kernel.c \
                user/sbuf.c core/sbuf_cons.c core/sbuf_ring.c core/deadline.c \
                lib/fmt.c lib/string.c core/status.c core/status_detail.c core/limits_info.c core/sha256.c core/ledger.c core/version.c
USER_RT_OBJS := $(patsubst %,$(KBUILD)/u/%.o,$(USER_RT_SRCS))

# Programs embedded in the kernel: this list is the only one. kernel/images.S
# embeds each and the shell's `ls` lists them, both through the generated
# $(KGEN)/user_progs.h. A program's sources are USER_PROG_SRC_<name>, by
# default user/<name>.c alone (docs/kernel.md "Adding a program").
USER_PROGS := init vmo_share sbuf_stream selftest conformance shell virtio_blk dma_read_share
USER_PROG_SRC_init      := user/init.c
USER_PROG_SRC_vmo_share := apps/vmo_share.c
USER_PROG_SRC_sbuf_stream := apps/sbuf_stream.c
USER_PROG_SRC_virtio_blk := drivers/virtio_blk/main.c drivers/virtio_blk/virtq.c
USER_PROG_SRC_dma_read_share := apps/dma_read_share.c
USER_PROG_SRC_selftest  := user/selftest.c user/selftest_word.c user/selftest_sbuf.c \
                           user/selftest_sbuf_hostile.c user/selftest_ledger.c \
                           user/selftest_vmar.c user/selftest_vmar_hostile.c user/selftest_mmio.c user/selftest_kdma.c \
                           user/selftest_kdma_hostile.c \
                           user/selftest_virtio_blk.c user/selftest_console.c \
                           user/selftest_vmar_pt.c \
                           user/selftest_account.c user/selftest_account_hostile.c \
                           user/selftest_sysfuzz.c user/selftest_sysfuzz_pool.c user/selftest_sysfuzz_args.c
USER_PROG_SRC_conformance := tests/conformance/conformance.c tests/conformance/harness.c \
                             tests/conformance/sbuf_cases.c tests/conformance/vmar_cases.c tests/conformance/ledger_cases.c tests/conformance/dma_cases.c \
                             tests/conformance/target_kernel.c
$(foreach p,$(USER_PROGS),$(if $(USER_PROG_SRC_$(p)),,$(eval USER_PROG_SRC_$(p) := user/$(p).c)))
USER_ELFS := $(patsubst %,$(KBUILD)/user/%.elf,$(USER_PROGS))

# The list as C and assembler see it, rewritten only when it changes (the
# recipe runs every time; the file's date moves only with its content).
# Names become assembler symbols and spawn names: [A-Za-z0-9_], at most
# CMK_SPAWN_MAX_NAME - 1 = 31 bytes, each once.
USER_PROGS_H := $(KGEN)/user_progs.h
.PHONY: user-progs-force
$(USER_PROGS_H): user-progs-force
	@mkdir -p $(dir $@)
	@seen=" "; for p in $(USER_PROGS); do \
	    case "$$p" in *[!A-Za-z0-9_]*) echo "mk/kernel.mk: USER_PROGS: bad name '$$p' ([A-Za-z0-9_] only)" >&2; exit 1;; esac; \
	    [ $${#p} -le 31 ] || { echo "mk/kernel.mk: USER_PROGS: '$$p' longer than 31 bytes" >&2; exit 1; }; \
	    case "$$seen" in *" $$p "*) echo "mk/kernel.mk: USER_PROGS: '$$p' listed twice" >&2; exit 1;; esac; \
	    seen="$$seen$$p "; \
	done
	@{ echo '/* Generated from USER_PROGS in mk/kernel.mk: edit that list, not this file. */'; \
	   echo '#define CMK_USER_PROGS $(subst $(space),$(comma),$(strip $(USER_PROGS)))'; \
	   echo '#define CMK_USER_PROG_NAMES $(subst $(space),$(comma) ,$(patsubst %,"%",$(strip $(USER_PROGS))))'; \
	} > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(KBUILD)/u/user/shell.c.o: $(USER_PROGS_H)

KERNEL_ELF := $(KBUILD)/capmem.elf

$(KBUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(KCC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(KBUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(Q)$(KCC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(KBUILD)/u/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(KCC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(KBUILD)/u/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(Q)$(KCC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

# One link rule per program (no .SECONDEXPANSION: it would apply to every
# fragment included after this one).
define USER_PROG_RULE
$(KBUILD)/user/$(1).elf: $(patsubst %,$(KBUILD)/u/%.o,$(USER_PROG_SRC_$(1))) $(USER_RT_OBJS) user/user.ld
	@mkdir -p $$(dir $$@)
	$(Q)$(KCC) $(KARCH) -nostdlib -static -T user/user.ld -Wl,--no-relax -o $$@ \
	    $(USER_RT_OBJS) $(patsubst %,$(KBUILD)/u/%.o,$(USER_PROG_SRC_$(1))) $(KLIBGCC)
endef
$(foreach p,$(USER_PROGS),$(eval $(call USER_PROG_RULE,$(p))))

$(KBUILD)/k/images.o: kernel/images.S $(USER_PROGS_H) $(USER_ELFS)
	@mkdir -p $(dir $@)
	$(Q)$(KCC) $(KERNEL_CFLAGS) -I$(KGEN) -I$(KBUILD)/user -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) $(KBUILD)/k/images.o kernel/kernel.ld
	$(Q)$(KCC) $(KARCH) -nostdlib -static -T kernel/kernel.ld -Wl,--no-relax -o $@ \
	    $(KERNEL_OBJS) $(KBUILD)/k/images.o $(KLIBGCC)

# The virtio-blk test disk (content: scripts/mkdisk.sh); modern virtio-mmio.
KDISK := $(KBUILD)/disk.img
$(KDISK): scripts/mkdisk.sh
	$(Q)bash scripts/mkdisk.sh $@

QEMU_KERNEL := qemu-system-riscv64 -machine virt -m 128M -smp 1 -nographic -bios default \
               -global virtio-mmio.force-legacy=false \
               -drive file=$(KDISK),format=raw,if=none,id=hd0 -device virtio-blk-device,drive=hd0
GDB_PORT    ?= 1234

.PHONY: kernel qemu qemu-gdb gdb qemu-test
kernel: $(KERNEL_ELF)

qemu: $(KERNEL_ELF) $(KDISK)
	@echo "capmem: booting the shell; Ctrl-A X quits QEMU"
	$(QEMU_KERNEL) -kernel $(KERNEL_ELF) -append shell

qemu-gdb: $(KERNEL_ELF) $(KDISK)
	@echo "capmem: QEMU halted at reset, gdb stub on localhost:$(GDB_PORT)."
	@echo "capmem: in another terminal: make gdb GDB_PORT=$(GDB_PORT)   (or scripts/gdb.sh $(KERNEL_ELF) $(GDB_PORT))"
	$(QEMU_KERNEL) -kernel $(KERNEL_ELF) -append shell -S -gdb tcp:localhost:$(GDB_PORT)

gdb: $(KERNEL_ELF)
	@bash scripts/gdb.sh $(KERNEL_ELF) $(GDB_PORT)

qemu-test: $(KERNEL_ELF) $(KDISK)
	@bash scripts/qemu-test.sh $(KERNEL_ELF)

ALL_TARGETS += $(KERNEL_ELF) $(KDISK)
TEST_SUITES += scripts/qemu-test.sh
TEST_SUITES += scripts/qemu-tap-check-test.sh
TEST_SUITES += scripts/qemu-shell-test.sh
TEST_SUITES += scripts/qemu-gdb-test.sh
