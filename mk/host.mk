# SPDX-License-Identifier: MIT
# host/: the Linux implementation, its tests, apps and tools.
#
# Fragments add library sources to HOST_LIB_SRCS and cmocka test programs to
# HOST_TESTS (a path tests/host/NAME.c builds build/{host,asan}/tests/NAME;
# tests/host/common/*.c are linked into every test).

HOST_LIB_SRCS += host/ledger.c host/handles.c host/vmo.c host/mappings.c host/channel.c \
                 host/wire.c host/listener.c host/vmo_fd.c host/vmo_huge.c

HOST_TESTS += tests/host/core_handle_table.c tests/host/status.c \
              tests/host/handle.c tests/host/vmo_basic.c tests/host/vmo_seal.c \
              tests/host/vmo_map.c tests/host/vmo_limits.c tests/host/channel.c \
              tests/host/channel_hostile.c tests/host/transfer.c \
              tests/host/listener.c tests/host/vmo_share_proc.c
# cm_status_detail and cm_limits_get (docs/api.md "Errors", docs/vmo.md "Limits").
HOST_LIB_SRCS += host/limits.c
HOST_TESTS += tests/host/status_detail.c
TEST_SUITES += tests/host/status_detail_entry.sh

TEST_COMMON_SRCS := $(wildcard tests/host/common/*.c)

TEST_COMMON_HOST = $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(TEST_COMMON_SRCS))
TEST_COMMON_ASAN = $(patsubst %.c,$(ASAN_BUILD)/obj/%.o,$(TEST_COMMON_SRCS))

$(HOST_BUILD)/tests/%: $(HOST_BUILD)/obj/tests/host/%.o $(TEST_COMMON_HOST) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(TEST_COMMON_HOST) $(HOST_LIB) -lcmocka $(HOST_LIBS)

$(ASAN_BUILD)/tests/%: $(ASAN_BUILD)/obj/tests/host/%.o $(TEST_COMMON_ASAN) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -fsanitize=address,undefined -o $@ $< $(TEST_COMMON_ASAN) $(ASAN_LIB) -lcmocka $(HOST_LIBS)

HOST_TEST_BINS = $(patsubst tests/host/%.c,$(HOST_BUILD)/tests/%,$(HOST_TESTS))
ASAN_TEST_BINS = $(patsubst tests/host/%.c,$(ASAN_BUILD)/tests/%,$(HOST_TESTS))

# Apps: apps/NAME.c + apps/launch_host.c -> build/host/apps/NAME
HOST_APPS += vmo_share sbuf_stream
$(HOST_BUILD)/apps/%: $(HOST_BUILD)/obj/apps/%.o $(HOST_BUILD)/obj/apps/platform_host.o $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(HOST_BUILD)/obj/apps/platform_host.o $(HOST_LIB) $(HOST_LIBS)

# The capmem CLI: tools/capmem.c (command line) and tools/cli_*.c (commands).
CLI_OBJS = $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(wildcard tools/*.c))
$(HOST_BUILD)/capmem: $(CLI_OBJS) $(HOST_LIB)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(HOST_LIB) $(HOST_LIBS)

ALL_TARGETS += $(HOST_LIB) $(ASAN_LIB) $(HOST_BUILD)/libcapmem.so $(HOST_BUILD)/$(HOST_SONAME) $(HOST_BUILD)/capmem.pc \
               $(HOST_TEST_BINS) $(ASAN_TEST_BINS) \
               $(patsubst %,$(HOST_BUILD)/apps/%,$(HOST_APPS)) $(HOST_BUILD)/capmem
TEST_SUITES += $(HOST_TEST_BINS) $(ASAN_TEST_BINS) tests/host/apps_test.sh

.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
HOST_TESTS += tests/host/channel_resource.c
HOST_TESTS += tests/host/ledger.c
HOST_TESTS += tests/host/wait_close.c
HOST_TESTS += tests/host/fork_handles.c
HOST_TESTS += tests/host/vmo_hostile.c
HOST_TESTS += tests/host/vmo_race.c
HOST_LIB_SRCS += host/object.c
# Address-space regions, commit/decommit, mapping identity (docs/memory-model.md).
HOST_LIB_SRCS += host/vmar.c host/vmo_commit.c
HOST_LIB_SRCS += host/mmio.c
HOST_TESTS += tests/host/vmar.c
HOST_TESTS += tests/host/object_wait.c
TEST_SUITES += tests/host/hostile_review_apps.sh
HOST_TESTS += tests/host/hostile_review.c
# System calls per one-shot share, capmem against the bare-syscall floor
# (docs/bench.md): tests/host/syscall_share.c, counted under strace.
$(HOST_BUILD)/syscall_share: $(HOST_BUILD)/obj/tests/host/syscall_share.o $(HOST_LIB)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(HOST_LIB) $(HOST_LIBS)
ALL_TARGETS += $(HOST_BUILD)/syscall_share
TEST_SUITES += tests/host/syscall_budget.sh
HOST_TESTS += tests/host/vmo_fastpath.c
HOST_TESTS += tests/host/channel_wait_peek.c

# Huge-page VMOs need a hugetlb pool, which only root can provide: the
# programs are built here and run by tests/host/vmo_huge_test.sh (plain and
# ASan), which sets up a small pool and restores it on every exit path.
# Required: CI runs as root and must not skip it.
HUGE_TEST_BINS := $(HOST_BUILD)/tests/vmo_huge $(ASAN_BUILD)/tests/vmo_huge
ALL_TARGETS += $(HUGE_TEST_BINS)
TEST_SUITES += tests/host/vmo_huge_test.sh
REQUIRED_SUITES += tests/host/vmo_huge_test.sh
# SharedBuffer, host target (docs/sbuf.md).
HOST_LIB_SRCS += host/sbuf.c host/sbuf_consumer.c host/sbuf_wait.c host/sbuf_testpoint.c host/sbuf_watch.c
HOST_TESTS += tests/host/sbuf.c
HOST_TESTS += tests/host/sbuf_proc.c
HOST_TESTS += tests/host/sbuf_transfer.c
HOST_TESTS += tests/host/sbuf_kill.c
HOST_TESTS += tests/host/sbuf_hostile.c
HOST_TESTS += tests/host/sbuf_sleep.c
HOST_TESTS += tests/host/vmar_hostile.c
HOST_TESTS += tests/host/vmar_nested.c
# Event-loop integration (docs/integration.md): pollable fds, adopting a
# connected socket, listener names and stale socket files.
HOST_LIB_SRCS += host/unix_addr.c host/channel_adopt.c host/object_fd.c host/fd_owned.c
HOST_TESTS += tests/host/event_fd.c tests/host/event_fd_sbuf.c tests/host/channel_adopt.c \
              tests/host/listener_names.c tests/host/integration_hostile.c
# Lazily sized VMOs attacked (host/vmo.c, size_state).
HOST_TESTS += tests/host/vmo_lazy_hostile.c
HOST_TESTS += tests/host/vmo_write_vs_resize.c
HOST_TESTS += tests/host/vmo_commit_eintr.c
