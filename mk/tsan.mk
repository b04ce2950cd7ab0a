# SPDX-License-Identifier: MIT
# ThreadSanitizer: the host library built a third time, with
# -fsanitize=thread (build/tsan/libcapmem.a, same sources as the other two),
# and a threaded stress suite linked against it (tests/tsan/stress.c: handles,
# channels, mappings, DMA from several threads, fixed iteration counts).
# A race or lock-order report makes the suite exit 66: a failure.
#
# Included after mk/rules.mk: the archive's prerequisites need the complete
# LIB_SRCS, and prerequisites are expanded when the rule is read.
TSAN_BUILD  := $(BUILD)/tsan
TSAN_LIB    := $(TSAN_BUILD)/libcapmem.a
TSAN_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -Icore -D_GNU_SOURCE \
               -fsanitize=thread -fno-omit-frame-pointer

$(TSAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(TSAN_CFLAGS) -MMD -MP -c $< -o $@

$(TSAN_LIB): $(patsubst %.c,$(TSAN_BUILD)/obj/%.o,$(LIB_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

TSAN_TEST_COMMON := $(patsubst %.c,$(TSAN_BUILD)/obj/%.o,$(TEST_COMMON_SRCS))

$(TSAN_BUILD)/tests/stress: $(TSAN_BUILD)/obj/tests/tsan/stress.o $(TSAN_TEST_COMMON) $(TSAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -fsanitize=thread -o $@ $< $(TSAN_TEST_COMMON) $(TSAN_LIB) -lcmocka $(HOST_LIBS)

ALL_TARGETS += $(TSAN_LIB) $(TSAN_BUILD)/tests/stress
TEST_SUITES += $(TSAN_BUILD)/tests/stress
# Its DMA test needs the real device path, like the DMA suites.
REQUIRED_SUITES += $(TSAN_BUILD)/tests/stress
# The host memory-authority attacks (tests/host/vmar_hostile.c) include a
# VMAR closed under threads mapping in it: run under TSan as well.
$(TSAN_BUILD)/tests/vmar_hostile: $(TSAN_BUILD)/obj/tests/host/vmar_hostile.o $(TSAN_TEST_COMMON) $(TSAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -fsanitize=thread -o $@ $< $(TSAN_TEST_COMMON) $(TSAN_LIB) -lcmocka $(HOST_LIBS)
ALL_TARGETS += $(TSAN_BUILD)/tests/vmar_hostile
TEST_SUITES += $(TSAN_BUILD)/tests/vmar_hostile
# cm_status_detail is per thread (tests/host/status_detail.c starts a second
# thread that fails while the first holds a detail): run under TSan as well.
$(TSAN_BUILD)/tests/status_detail: $(TSAN_BUILD)/obj/tests/host/status_detail.o $(TSAN_TEST_COMMON) $(TSAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) -fsanitize=thread -o $@ $< $(TSAN_TEST_COMMON) $(TSAN_LIB) -lcmocka $(HOST_LIBS)
ALL_TARGETS += $(TSAN_BUILD)/tests/status_detail
TEST_SUITES += $(TSAN_BUILD)/tests/status_detail
# SharedBuffer futex sleepers woken by a watcher thread, a close from
# another thread, a peer's death (tests/host/sbuf_sleep.c): under TSan too.
$(TSAN_BUILD)/tests/sbuf_sleep: $(TSAN_BUILD)/obj/tests/host/sbuf_sleep.o $(TSAN_TEST_COMMON) $(TSAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -fsanitize=thread -o $@ $< $(TSAN_TEST_COMMON) $(TSAN_LIB) -lcmocka $(HOST_LIBS)
ALL_TARGETS += $(TSAN_BUILD)/tests/sbuf_sleep
TEST_SUITES += $(TSAN_BUILD)/tests/sbuf_sleep
