# SPDX-License-Identifier: MIT
# DMA buffers with ownership and fences (docs/dma.md).
#
# core/dma_own.c is the ownership state machine shared with the kernel target;
# host/dma.c drives a real device through io_uring with registered buffers.
# The tests join HOST_TESTS (built and run as build/{host,asan}/tests/NAME by
# mk/host.mk), the proof app joins HOST_APPS; the two scripts print TAP.

CORE_SRCS += core/dma_own.c core/dma_rules.c
HOST_LIB_SRCS += host/dma.c

HOST_TESTS += tests/host/dma_own.c tests/host/dma_own_exhaustive.c \
              tests/host/dma_pool.c tests/host/dma_quarantine.c
HOST_APPS += dma_read_share

# bench/dma.c (make bench only): pool, guarded pool, plain io_uring (on the pool's pages) and pread,
# interleaved, 3 repetitions, goal lines (docs/dma.md); about 2 minutes.
$(HOST_BUILD)/bench/dma: $(HOST_BUILD)/obj/bench/dma.o $(HOST_BUILD)/obj/bench/common.o $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(HOST_BUILD)/obj/bench/common.o $(HOST_LIB) $(HOST_LIBS)

TEST_SUITES += tests/host/dma_app_test.sh tests/host/dma_spin_test.sh
# What a user points dma_read_share at: any file size, block devices, usage.
TEST_SUITES += tests/host/dma_app_sizes_test.sh
BENCH_TARGETS += $(HOST_BUILD)/bench/dma
HOST_TESTS += tests/host/dma_fork.c
HOST_TESTS += tests/host/dma_faults.c
HOST_TESTS += tests/host/dma_limits.c
HOST_TESTS += tests/host/app_platform_wait.c
# System calls of one DMA read cycle, default and guarded pool against plain
# io_uring (docs/dma.md): tests/host/syscall_dma.c, counted under strace.
$(HOST_BUILD)/syscall_dma: $(HOST_BUILD)/obj/tests/host/syscall_dma.o $(HOST_LIB)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(HOST_LIB) $(HOST_LIBS)
ALL_TARGETS += $(HOST_BUILD)/syscall_dma
TEST_SUITES += tests/host/dma_syscall_budget.sh
