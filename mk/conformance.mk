# SPDX-License-Identifier: MIT
# tests/conformance/: the API's semantics written once, run on both targets
# (docs/api.md). Host: build/{host,asan}/tests/conformance. The kernel build
# embeds the same sources as the user program `conformance` (mk/kernel.mk).

CONF_SRCS := tests/conformance/conformance.c tests/conformance/harness.c tests/conformance/sbuf_cases.c \
             tests/conformance/vmar_cases.c tests/conformance/ledger_cases.c tests/conformance/dma_cases.c
CONF_HOST_SRCS := $(CONF_SRCS) tests/conformance/target_host.c

$(HOST_BUILD)/tests/conformance: $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(CONF_HOST_SRCS)) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(HOST_LIB) $(HOST_LIBS)

$(ASAN_BUILD)/tests/conformance: $(patsubst %.c,$(ASAN_BUILD)/obj/%.o,$(CONF_HOST_SRCS)) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -fsanitize=address,undefined -o $@ $(filter %.o,$^) $(ASAN_LIB) $(HOST_LIBS)

ALL_TARGETS += $(HOST_BUILD)/tests/conformance $(ASAN_BUILD)/tests/conformance
TEST_SUITES += $(HOST_BUILD)/tests/conformance $(ASAN_BUILD)/tests/conformance
TEST_SUITES += tests/conformance/compare.sh
