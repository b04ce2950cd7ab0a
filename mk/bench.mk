# Benchmarks: `make bench` builds and runs every BENCH_TARGETS entry; they
# are not part of `make test` (which only builds them, so they keep
# compiling). What each measures: docs/bench.md.
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
	$(HOST_CC) -o $@ $< $(BENCH_COMMON_OBJ) $(BENCH_POOL_OBJ) $(HOST_LIB) $(HOST_LIBS)

# Driver of bench/hugepool_test.sh (the pool is restored on every exit path).
$(HOST_BUILD)/bench/hugepool_test: $(HOST_BUILD)/obj/bench/hugepool_test.o \
                                   $(BENCH_COMMON_OBJ) $(BENCH_POOL_OBJ)
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $^ $(HOST_LIBS)

# What `make bench` runs: the bench, then the plot from its data. A
# generated one-line wrapper, so the loop in the Makefile can run it as is.
$(HOST_BUILD)/bench/vmo_share_and_plot: $(HOST_BUILD)/bench/vmo_share bench/vmo_share_plot.sh \
                                        bench/vmo_share.gp
	@printf '#!/bin/sh\nexec sh bench/vmo_share_plot.sh %s "$$@"\n' $< > $@
	@chmod +x $@

BENCH_TARGETS += $(HOST_BUILD)/bench/vmo_share_and_plot
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
