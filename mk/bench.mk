# SPDX-License-Identifier: MIT
# Benchmarks: `make bench` builds and runs every BENCH_TARGETS entry; they
# are not part of `make test` (which only builds them, so they keep
# compiling), except bench/sbuf --quick, whose output's form is tested.
# What each measures: docs/bench.md.
#
# bench/vmo_share.c + bench/common.c + bench/hugepool.c ->
# build/host/bench/vmo_share, linked against the static host library, as
# applications use it. `make bench` runs it through bench/vmo_share_plot.sh,
# which also renders docs/vmo_share.png with gnuplot (installed by
# `scripts/install-deps.sh bench`, only for `make bench`).

BENCH_COMMON_OBJ := $(HOST_BUILD)/obj/bench/common.o
BENCH_POOL_OBJ := $(HOST_BUILD)/obj/bench/hugepool.o

$(HOST_BUILD)/bench/vmo_share: $(HOST_BUILD)/obj/bench/vmo_share.o $(BENCH_COMMON_OBJ) \
                               $(BENCH_POOL_OBJ) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(BENCH_COMMON_OBJ) $(BENCH_POOL_OBJ) $(HOST_LIB) $(HOST_LIBS)

# Driver of bench/hugepool_test.sh (the pool is restored on every exit path).
$(HOST_BUILD)/bench/hugepool_test: $(HOST_BUILD)/obj/bench/hugepool_test.o \
                                   $(BENCH_COMMON_OBJ) $(BENCH_POOL_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

# What `make bench` runs: the bench, then the plot from its data. A
# generated one-line wrapper, so the loop in the Makefile can run it as is.
$(HOST_BUILD)/bench/vmo_share_and_plot: $(HOST_BUILD)/bench/vmo_share bench/vmo_share_plot.sh \
                                        bench/vmo_share.gp
	@printf '#!/bin/sh\nexec sh bench/vmo_share_plot.sh %s "$$@"\n' $< > $@
	@chmod +x $@

BENCH_TARGETS += $(HOST_BUILD)/bench/vmo_share_and_plot

# bench/huge_fill: a huge-page VMO's fill back to back and right after a
# base-page fill of the same size, with the machine's page-touch and
# system-call costs (why bench/vmo_share's 256 MiB huge-page figure varies;
# docs/bench.md). Root configures its hugetlb pool through hugepool.h.
$(HOST_BUILD)/bench/huge_fill: $(HOST_BUILD)/obj/bench/huge_fill.o $(BENCH_COMMON_OBJ) \
                               $(BENCH_POOL_OBJ) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $< $(BENCH_COMMON_OBJ) $(BENCH_POOL_OBJ) $(HOST_LIB) $(HOST_LIBS)

BENCH_TARGETS += $(HOST_BUILD)/bench/huge_fill
ALL_TARGETS += $(HOST_BUILD)/bench/huge_fill

# bench/order_test: the benches' interleaving order (bench_williams) is
# balanced, and the check rejects the rotation used before. In make test.
$(HOST_BUILD)/bench/order_test: $(HOST_BUILD)/obj/bench/order_test.o $(BENCH_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

ALL_TARGETS += $(HOST_BUILD)/bench/order_test
TEST_SUITES += $(HOST_BUILD)/bench/order_test
ALL_TARGETS += $(HOST_BUILD)/bench/vmo_share $(HOST_BUILD)/bench/hugepool_test

# gnuplot for the plot: installed for `make bench` only.
.PHONY: bench-deps bench-hugepool-test
bench: bench-deps
bench-deps:
	@bash scripts/install-deps.sh bench

# Root only; changes /proc/sys/vm/nr_hugepages for a few seconds, so it is
# not in `make test` (bench/hugepool_test.sh says why).
bench-hugepool-test: $(HOST_BUILD)/bench/hugepool_test $(HOST_BUILD)/bench/vmo_share
	@bash bench/hugepool_test.sh $^

# bench/sbuf: SharedBuffer against a UNIX socket and iceoryx (issue 10;
# docs/bench.md "bench/sbuf"). iceoryx's C binding (libiceoryx-binding-c-dev,
# `scripts/install-deps.sh bench`) is compiled in only where its header is
# installed; without it the bench builds anyway and reports the iceoryx
# goals as not measured. iox_flags records which it was, so installing or
# removing iceoryx rebuilds bench/sbuf_iox.o.
SBUF_IOX_API := $(firstword $(wildcard /usr/include/iceoryx/v*/iceoryx_binding_c/api.h))
SBUF_IOX_CFLAGS := $(if $(SBUF_IOX_API),-DBENCH_HAVE_IOX -isystem $(patsubst %/iceoryx_binding_c/api.h,%,$(SBUF_IOX_API)))
SBUF_IOX_LIBS := $(if $(SBUF_IOX_API),-liceoryx_binding_c)
SBUF_OBJS := $(patsubst %,$(HOST_BUILD)/obj/bench/%.o,sbuf sbuf_run sbuf_floor sbuf_iox)

$(HOST_BUILD)/bench/iox_flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SBUF_IOX_CFLAGS)' | cmp -s - $@ || echo '$(SBUF_IOX_CFLAGS)' > $@

$(HOST_BUILD)/obj/bench/sbuf_iox.o: HOST_CFLAGS += $(SBUF_IOX_CFLAGS)
$(HOST_BUILD)/obj/bench/sbuf_iox.o: $(HOST_BUILD)/bench/iox_flags

$(HOST_BUILD)/bench/sbuf: $(SBUF_OBJS) $(BENCH_COMMON_OBJ) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) -o $@ $(SBUF_OBJS) $(BENCH_COMMON_OBJ) $(HOST_LIB) $(HOST_LIBS) $(SBUF_IOX_LIBS)

$(HOST_BUILD)/bench/sbuf_and_plot: $(HOST_BUILD)/bench/sbuf bench/sbuf_plot.sh bench/sbuf.gp
	@printf '#!/bin/sh\nexec sh bench/sbuf_plot.sh %s "$$@"\n' $< > $@
	@chmod +x $@

BENCH_TARGETS += $(HOST_BUILD)/bench/sbuf_and_plot
ALL_TARGETS += $(HOST_BUILD)/bench/sbuf
# Quick mode only: the bench runs and its output is well-formed.
TEST_SUITES += tests/host/sbuf_bench_test.sh

.PHONY: bench-sbuf FORCE
FORCE:
bench-sbuf: bench-deps
	@$(MAKE) --no-print-directory $(HOST_BUILD)/bench/sbuf_and_plot
	@./$(HOST_BUILD)/bench/sbuf_and_plot
