# SPDX-License-Identifier: MIT
# Fuzz targets (tests/fuzz/NAME_fuzz.c, one parser or state machine of
# outside input each). Adding one: a word in FUZZ_TARGETS and its
# FUZZ_SRCS_NAME line (the sources it tests); a name whose source file is
# missing is left out.
#
#   make test   runs each through tests/fuzz/driver.c (gcc, ASan+UBSan, a
#               fixed-seed input stream, FUZZ_ITERS_NAME inputs): prints the
#               share of inputs reaching each stage, fails if one is 0
#   make fuzz   runs each under clang's libFuzzer for FUZZ_RUNS executions
#               and prints libFuzzer's final stats (executions, cov, ft)
#   make fuzz-coverage  line/branch coverage of FUZZ_SRCS_NAME by the corpus
FUZZ_TARGETS := wire htab interval vmo_admit vmar api
FUZZ_SRCS_wire := host/wire.c
FUZZ_SRCS_htab := core/handle_table.c
FUZZ_SRCS_interval := core/interval.c
FUZZ_SRCS_vmo_admit := core/vmo_admit.c
FUZZ_SRCS_vmar := core/vmar_rules.c core/interval.c core/commit_set.c core/status_detail.c
# api: the whole public API (tests/fuzz/api_fuzz.c), so the whole library;
# FUZZ_LIBS_NAME: what the target links besides its sources.
FUZZ_SRCS_api := tests/fuzz/api_ops.c tests/host/common/leakcheck.c $(wildcard core/*.c host/*.c)
FUZZ_LIBS_api := -luring -lpthread
FUZZ_RUNS ?= 10000000
# Driver inputs per target in make test (interval ops are costlier).
FUZZ_ITERS_interval := 20000
FUZZ_ITERS_vmar := 20000
# api: each input makes real objects (memfds, sockets, mappings) and reads
# /proc for its leak check: 20,000 take about 15 s under ASan on an idle
# machine (a minute at most on a loaded 2-CPU one).
FUZZ_ITERS_api := 20000
# Extra libFuzzer flags per target: interval inputs are operation lists
# checked page by page after each op; 256 bytes (20-60 ops) reach every state
# a 16-node map has and keep 10^7 runs near half an hour.
FUZZ_OPTS_interval := -max_len=256
FUZZ_OPTS_vmar := -max_len=260
FUZZ_OPTS_api := -max_len=512 -timeout=10

FUZZ_BUILT := $(foreach t,$(FUZZ_TARGETS),$(if $(wildcard tests/fuzz/$(t)_fuzz.c),$(t)))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Icore -fno-omit-frame-pointer

# One rule pair per target, so each binary depends on the sources it tests;
# BIN.d lists the headers they include (-MM over all of them; read back by
# mk/host.mk's -include of every .d under build/).
define FUZZ_RULES
$(ASAN_BUILD)/fuzz/$(1): tests/fuzz/$(1)_fuzz.c tests/fuzz/driver.c $(FUZZ_SRCS_$(1))
	@mkdir -p $$(dir $$@)
	$$(Q)$$(HOST_CC) $$(ASAN_CFLAGS) -MM -MP -MT $$@ $$(filter %.c,$$^) >$$@.d
	$$(Q)$$(HOST_CC) $$(ASAN_CFLAGS) -DDRIVER_ITERATIONS=$$(or $$(FUZZ_ITERS_$(1)),200000) \
	    -o $$@ $$(filter %.c,$$^) $$(FUZZ_LIBS_$(1))

$(BUILD)/fuzzcov/$(1): tests/fuzz/$(1)_fuzz.c $(FUZZ_SRCS_$(1))
	@mkdir -p $$(dir $$@)
	$$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
	    -o $$@ $$(filter %.c,$$^) $$(FUZZ_LIBS_$(1))

$(BUILD)/libfuzzer/$(1): tests/fuzz/$(1)_fuzz.c $(FUZZ_SRCS_$(1))
	@mkdir -p $$(dir $$@)
	$$(Q)clang $(FUZZ_CFLAGS) -MM -MP -MT $$@ $$(filter %.c,$$^) >$$@.d
	$$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $$@ $$(filter %.c,$$^) $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_BUILT),$(eval $(call FUZZ_RULES,$(t))))

# Each target starts from an empty corpus in build/libfuzzer/NAME.corpus
# (kept between runs) and stops at the first crash, leaving the input as
# build/libfuzzer/crash-*.
.PHONY: fuzz
fuzz: $(patsubst %,$(BUILD)/libfuzzer/%,$(FUZZ_BUILT))
	@set -e; $(foreach t,$(FUZZ_BUILT),\
	    echo "== $(t) ($(FUZZ_RUNS) runs)"; mkdir -p $(BUILD)/libfuzzer/$(t).corpus; \
	    $(BUILD)/libfuzzer/$(t) -runs=$(FUZZ_RUNS) -print_final_stats=1 $(FUZZ_OPTS_$(t)) \
	        -artifact_prefix=$(BUILD)/libfuzzer/ $(BUILD)/libfuzzer/$(t).corpus;)

# Line and branch coverage of the code under test by the corpus `make fuzz`
# left (llvm-cov; replays the corpus, no fuzzing).
.PHONY: fuzz-coverage
fuzz-coverage: $(patsubst %,$(BUILD)/fuzzcov/%,$(FUZZ_BUILT))
	@set -e; $(foreach t,$(FUZZ_BUILT),\
	    echo "== $(t): coverage by build/libfuzzer/$(t).corpus"; \
	    LLVM_PROFILE_FILE=$(BUILD)/fuzzcov/$(t).profraw $(BUILD)/fuzzcov/$(t) -runs=0 \
	        $(BUILD)/libfuzzer/$(t).corpus >/dev/null 2>&1; \
	    llvm-profdata merge -sparse $(BUILD)/fuzzcov/$(t).profraw -o $(BUILD)/fuzzcov/$(t).profdata; \
	    llvm-cov report $(BUILD)/fuzzcov/$(t) -instr-profile=$(BUILD)/fuzzcov/$(t).profdata \
	        $(FUZZ_SRCS_$(t));)

ALL_TARGETS += $(patsubst %,$(ASAN_BUILD)/fuzz/%,$(FUZZ_BUILT))
TEST_SUITES += $(patsubst %,$(ASAN_BUILD)/fuzz/%,$(FUZZ_BUILT))
