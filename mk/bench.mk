# Benchmarks: `make bench` builds and runs every BENCH_TARGETS entry; they
# are not part of `make test`. What each measures: docs/bench.md.
#
# bench/vmo_share.c + bench/common.c -> build/host/bench/vmo_share, linked
# against the static host library, as applications use it.

BENCH_COMMON_OBJ := $(HOST_BUILD)/obj/bench/common.o

$(HOST_BUILD)/bench/vmo_share: $(HOST_BUILD)/obj/bench/vmo_share.o $(BENCH_COMMON_OBJ) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(HOST_CC) -o $@ $< $(BENCH_COMMON_OBJ) $(HOST_LIB) $(HOST_LIBS)

BENCH_TARGETS += $(HOST_BUILD)/bench/vmo_share
