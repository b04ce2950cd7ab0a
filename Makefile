# SPDX-License-Identifier: MIT
# capmem top-level build. Plain make; each part of the tree has its own
# fragment in mk/ that adds to the variables below.
#
#   make run    install missing deps, build, run the end-to-end demonstration
#   make test   install missing deps, build, run every suite, print "N passed, N failed"
#               (CAPMEM_TEST_REQUIRE=1: a skip in a REQUIRED_SUITES suite fails; CI sets it)
#   make fuzz   every fuzz target under libFuzzer, FUZZ_RUNS executions each
#   make bench  run the benchmarks (not part of make test)
#   make man    the man pages into build/man/man{1,3,7} (also built by make)

.DEFAULT_GOAL := all
SHELL := /bin/bash

# The usual user variables are honoured: CC (default gcc), CPPFLAGS, CFLAGS
# and LDFLAGS append to the project's own flags (which keep -Werror), e.g.
# `make CC=clang CFLAGS=-O3`. HOST_CC stays the name the fragments use.
# V=1 shows every command; by default the build prints none ($(Q) prefix).
ifeq ($(origin CC),default)
CC := gcc
endif
HOST_CC     ?= $(CC)
ifeq ($(V),1)
Q :=
else
Q := @
endif
BUILD       := build
HOST_BUILD  := $(BUILD)/host
ASAN_BUILD  := $(BUILD)/asan
HOST_LIB    := $(HOST_BUILD)/libcapmem.a
ASAN_LIB    := $(ASAN_BUILD)/libcapmem.a

WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -Icore -D_GNU_SOURCE -fPIC $(CPPFLAGS) $(CFLAGS)
ASAN_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -Icore -D_GNU_SOURCE \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer $(CPPFLAGS) $(CFLAGS)

# Fragments append: sources of the host library, test programs (each prints
# TAP through cmocka), suites run by scripts/run-tests.sh, the suites among
# them that must not skip where CAPMEM_TEST_REQUIRE=1 (CI), run/bench targets.
# These are recursive (=) so that every fragment's += stays deferred: a list
# is complete when a rule in mk/rules.mk (included last) expands it.
CORE_SRCS =
HOST_LIB_SRCS =
# LIB_LIBS: what libcapmem itself needs (the .so's DT_NEEDED, capmem.pc's
# Libs.private); programs here also hash with OpenSSL (HOST_LIBS).
LIB_LIBS := -luring -lpthread
HOST_LIBS := -lcrypto $(LIB_LIBS)
# MAJOR.MINOR.PATCH from include/capmem/version.h, the one place it is written.
CAPMEM_VERSION := $(shell awk '/^\#define CAPMEM_VERSION_(MAJOR|MINOR|PATCH) /{v = v s $$3; s = "."} END {print v}' include/capmem/version.h)
HOST_SONAME  := libcapmem.so.$(firstword $(subst ., ,$(CAPMEM_VERSION)))
HOST_SO_REAL := $(HOST_BUILD)/libcapmem.so.$(CAPMEM_VERSION)
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
include mk/install.mk
include mk/package.mk
include mk/docs.mk
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

# What the demonstration runs, and nothing else (scripts/run-demo.sh).
RUN_TARGETS = $(HOST_BUILD)/apps/vmo_share $(HOST_BUILD)/apps/sbuf_stream $(KERNEL_ELF)
run: deps
	@$(MAKE) --no-print-directory -j$$(nproc) $(RUN_TARGETS)
	@bash scripts/run-demo.sh

test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build-all
	@bash scripts/run-tests.sh $(addprefix --require ,$(REQUIRED_SUITES)) $(TEST_SUITES)

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_TARGETS)
	@for b in $(BENCH_TARGETS); do echo "== $$b"; ./$$b || exit 1; done

clean:
	rm -rf $(BUILD)
