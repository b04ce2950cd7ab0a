# Fuzz targets (tests/fuzz/*_fuzz.c): built with a deterministic driver under
# ASan+UBSan and run by make test; `make fuzz` runs them under libFuzzer
# (clang) for FUZZ_SECONDS each.
FUZZ_TARGETS := wire htab interval
FUZZ_TARGETS += vmo_admit
FUZZ_SRCS_wire := host/wire.c
FUZZ_SRCS_htab := core/handle_table.c
FUZZ_SRCS_interval := core/interval.c
FUZZ_SRCS_vmo_admit := core/vmo_admit.c
FUZZ_SECONDS ?= 30
# Driver iterations per target in make test (interval ops are costlier).
FUZZ_ITERS_interval := 20000

$(ASAN_BUILD)/fuzz/%: tests/fuzz/%_fuzz.c tests/fuzz/driver.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(ASAN_CFLAGS) -DDRIVER_ITERATIONS=$(or $(FUZZ_ITERS_$*),200000) \
	    -o $@ $^ $(FUZZ_SRCS_$*)

$(BUILD)/libfuzzer/%: tests/fuzz/%_fuzz.c
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Icore \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_SRCS_$*)

.PHONY: fuzz
fuzz: $(patsubst %,$(BUILD)/libfuzzer/%,$(FUZZ_TARGETS))
	@for t in $^; do echo "== $$t"; ./$$t -max_total_time=$(FUZZ_SECONDS) || exit 1; done

ALL_TARGETS += $(patsubst %,$(ASAN_BUILD)/fuzz/%,$(FUZZ_TARGETS))
TEST_SUITES += $(patsubst %,$(ASAN_BUILD)/fuzz/%,$(FUZZ_TARGETS))
