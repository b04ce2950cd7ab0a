# capmem top-level build. Plain make; each part of the tree has its own
# fragment in mk/ that adds to the variables below.
#
#   make run    install missing deps, build, run the end-to-end demonstration
#   make test   install missing deps, build, run every suite, print "N passed, N failed"
#               (CAPMEM_TEST_REQUIRE=1: a skip in a REQUIRED_SUITES suite fails; CI sets it)
#   make fuzz   every fuzz target under libFuzzer, FUZZ_RUNS executions each
#   make bench  run the benchmarks (not part of make test)

.DEFAULT_GOAL := all
SHELL := /bin/bash

HOST_CC     ?= gcc
BUILD       := build
HOST_BUILD  := $(BUILD)/host
ASAN_BUILD  := $(BUILD)/asan
HOST_LIB    := $(HOST_BUILD)/libcapmem.a
ASAN_LIB    := $(ASAN_BUILD)/libcapmem.a

WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -Icore -D_GNU_SOURCE -fPIC
ASAN_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -Icore -D_GNU_SOURCE \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer

# Fragments append: sources of the host library, test programs (each prints
# TAP through cmocka), suites run by scripts/run-tests.sh, the suites among
# them that must not skip where CAPMEM_TEST_REQUIRE=1 (CI), run/bench targets.
# These are recursive (=) so that every fragment's += stays deferred: a list
# is complete when a rule in mk/rules.mk (included last) expands it.
CORE_SRCS =
HOST_LIB_SRCS =
HOST_LIBS := -lcrypto -luring -lpthread
HOST_TESTS =
HOST_APPS =
TEST_SUITES =
REQUIRED_SUITES =
ALL_TARGETS =
BENCH_TARGETS =

include mk/core.mk
include mk/host.mk
include mk/fuzz.mk
include mk/conformance.mk
include mk/testinfra.mk
-include mk/dma.mk
-include mk/kernel.mk
-include mk/virtio_blk.mk
-include mk/bench.mk
include mk/rules.mk
include mk/tsan.mk

.PHONY: all deps run test test-suites bench clean

deps:
	@bash scripts/install-deps.sh

all: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build-all

.PHONY: build-all
build-all: $(ALL_TARGETS)

run: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build-all
	@bash scripts/run-demo.sh

test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build-all
	@bash scripts/run-tests.sh $(addprefix --require ,$(REQUIRED_SUITES)) $(TEST_SUITES)

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_TARGETS)
	@for b in $(BENCH_TARGETS); do echo "== $$b"; ./$$b || exit 1; done

clean:
	rm -rf $(BUILD)
