# kernel/ and user/: the capmem microkernel for QEMU riscv64 `virt` and its
# user programs. Everything lands in build/kernel/.
#
#   make build/kernel/capmem.elf   the kernel image (user programs embedded)
#   make qemu                      boot it interactively (Ctrl-A X quits)
#   make qemu-gdb                  same, halted, gdb stub on tcp::1234
#   make qemu-test                 the selftest run; verdict = QEMU exit status

KBUILD     := $(BUILD)/kernel
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
# CM__NO_DETAIL: the user runtime records no status detail (core/status_detail.h).
USER_CFLAGS   := $(KCOMMON) -DCM__NO_DETAIL -Iuser/include -Iuser -Iapps

KERNEL_SRCS := $(wildcard kernel/*.c kernel/object/*.c lib/*.c) \
               kernel/entry.S kernel/trapvec.S \
               core/handle_table.c core/interval.c core/deadline.c core/validate.c core/ledger.c \
               core/dma_own.c  # compiled freestanding now; the virtio-blk driver will use it
# SharedBuffer rules: compiled freestanding now; the kernel object (phase 2,
# docs/sbuf.md) will use sbuf_own, the user runtime sbuf_cons.
KERNEL_SRCS += core/sbuf_ring.c core/sbuf_own.c core/sbuf_cons.c
# Address-space region rules (kernel/object/vmar.c) and the committed-page
# set (kernel/object/vmo.c), docs/memory-model.md.
KERNEL_SRCS += core/vmar_rules.c core/commit_set.c
KERNEL_OBJS := $(patsubst %,$(KBUILD)/k/%.o,$(KERNEL_SRCS))

USER_RT_SRCS := user/crt0.S user/runtime.c user/capmem.c user/dma_unsupported.c user/vmar.c user/platform_kernel.c \
                user/sbuf.c core/sbuf_cons.c core/sbuf_ring.c core/deadline.c \
                lib/fmt.c lib/string.c core/status.c core/status_detail.c core/limits_info.c core/sha256.c core/ledger.c
USER_RT_OBJS := $(patsubst %,$(KBUILD)/u/%.o,$(USER_RT_SRCS))

# Programs embedded in the kernel (kernel/images.S lists the same names).
USER_PROGS := init vmo_share sbuf_stream selftest conformance
USER_PROG_SRC_init      := user/init.c
USER_PROG_SRC_vmo_share := apps/vmo_share.c
USER_PROG_SRC_sbuf_stream := apps/sbuf_stream.c
USER_PROG_SRC_selftest  := user/selftest.c user/selftest_word.c user/selftest_sbuf.c \
                           user/selftest_sbuf_hostile.c user/selftest_ledger.c \
                           user/selftest_vmar.c user/selftest_vmar_hostile.c
USER_PROG_SRC_conformance := tests/conformance/conformance.c tests/conformance/harness.c \
                             tests/conformance/sbuf_cases.c tests/conformance/vmar_cases.c tests/conformance/ledger_cases.c \
                             tests/conformance/target_kernel.c
USER_ELFS := $(patsubst %,$(KBUILD)/user/%.elf,$(USER_PROGS))

KERNEL_ELF := $(KBUILD)/capmem.elf

$(KBUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(KCC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(KBUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(KCC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(KBUILD)/u/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(KCC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(KBUILD)/u/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(KCC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

# One link rule per program (no .SECONDEXPANSION: it would apply to every
# fragment included after this one).
define USER_PROG_RULE
$(KBUILD)/user/$(1).elf: $(patsubst %,$(KBUILD)/u/%.o,$(USER_PROG_SRC_$(1))) $(USER_RT_OBJS) user/user.ld
	@mkdir -p $$(dir $$@)
	$(KCC) $(KARCH) -nostdlib -static -T user/user.ld -Wl,--no-relax -o $$@ \
	    $(USER_RT_OBJS) $(patsubst %,$(KBUILD)/u/%.o,$(USER_PROG_SRC_$(1))) $(KLIBGCC)
endef
$(foreach p,$(USER_PROGS),$(eval $(call USER_PROG_RULE,$(p))))

$(KBUILD)/k/images.o: kernel/images.S $(USER_ELFS)
	@mkdir -p $(dir $@)
	$(KCC) $(KERNEL_CFLAGS) -I$(KBUILD)/user -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) $(KBUILD)/k/images.o kernel/kernel.ld
	$(KCC) $(KARCH) -nostdlib -static -T kernel/kernel.ld -Wl,--no-relax -o $@ \
	    $(KERNEL_OBJS) $(KBUILD)/k/images.o $(KLIBGCC)

QEMU_KERNEL := qemu-system-riscv64 -machine virt -m 128M -smp 1 -nographic -bios default

.PHONY: kernel qemu qemu-gdb qemu-test
kernel: $(KERNEL_ELF)

qemu: $(KERNEL_ELF)
	$(QEMU_KERNEL) -kernel $(KERNEL_ELF)

qemu-gdb: $(KERNEL_ELF)
	@echo "gdb-multiarch $(KERNEL_ELF) -ex 'target remote :1234'"
	$(QEMU_KERNEL) -kernel $(KERNEL_ELF) -s -S

qemu-test: $(KERNEL_ELF)
	@bash scripts/qemu-test.sh $(KERNEL_ELF)

ALL_TARGETS += $(KERNEL_ELF)
TEST_SUITES += scripts/qemu-test.sh
TEST_SUITES += scripts/qemu-tap-check-test.sh
