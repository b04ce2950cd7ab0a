# SPDX-License-Identifier: MIT
# The test runner's own self-test and the list of suites CI must not skip.
#
# tests/runner/selftest.sh runs scripts/run-tests.sh on crafted suites
# (tests/runner/fake/*.sh, and a cmocka program for cmocka's skip form) and
# checks that each way of hiding a failure is caught (docs/testing.md).

$(HOST_BUILD)/runner/cmocka_fake: tests/runner/cmocka_fake.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(LDFLAGS) $(HOST_CFLAGS) -o $@ $< -lcmocka

ALL_TARGETS += $(HOST_BUILD)/runner/cmocka_fake
TEST_SUITES += tests/runner/selftest.sh

# Suites that must run, never skip, where CAPMEM_TEST_REQUIRE=1 (CI: .ci/run):
# the DMA device path (a real O_DIRECT file through io_uring) and the Spin
# model of the ownership protocol (mk/dma.mk lists the suites themselves).
REQUIRED_SUITES += $(HOST_BUILD)/tests/dma_pool $(ASAN_BUILD)/tests/dma_pool \
                   $(HOST_BUILD)/tests/dma_quarantine $(ASAN_BUILD)/tests/dma_quarantine \
                   tests/host/dma_app_test.sh tests/host/dma_spin_test.sh
# The Spin model of the SharedBuffer ring protocol and its mutants (docs/sbuf.md).
REQUIRED_SUITES += tests/host/sbuf_spin_test.sh

# `make run`'s excerpt of the kernel log must survive a log larger than a
# pipe (no `| head` under pipefail: scripts/demo-kernel-excerpt.sh).
TEST_SUITES += tests/host/demo_excerpt_test.sh
