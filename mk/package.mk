# SPDX-License-Identifier: MIT
# Packaging checks (mk/install.mk has install/uninstall): the version test,
# a C++ program against the public headers and libcapmem.so, and two suites
# that `make install` into a staging directory and build against that copy
# only: tests/host/install_test.sh (a C and a C++ program, static and
# dynamic, symbol map, .pc, uninstall) and tests/host/examples_test.sh
# (every examples/ directory, built with its own Makefile and run).
HOST_TESTS += tests/host/version.c

# C++17, pedantic, warnings as errors: a header that is not valid C++ fails
# the build, one without extern "C" fails the link. Linked to the shared
# library of this tree ($ORIGIN: build/host), so the symbol map is exercised.
CAPMEM_CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -pedantic -Iinclude $(CPPFLAGS) $(CXXFLAGS)
$(HOST_BUILD)/tests/cxx_share: tests/cxx/share.cpp $(HOST_BUILD)/libcapmem.so
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(CAPMEM_CXXFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< \
	    -L$(HOST_BUILD) -lcapmem -Wl,-rpath,'$$ORIGIN/..'

ALL_TARGETS += $(HOST_BUILD)/tests/cxx_share
TEST_SUITES += $(HOST_BUILD)/tests/cxx_share tests/host/install_test.sh tests/host/examples_test.sh
