# SPDX-License-Identifier: MIT
# Rules whose prerequisites are lists every fragment appends to: included
# last, so the lists are complete when these lines are read.
LIB_SRCS = $(CORE_SRCS) $(HOST_LIB_SRCS)

$(HOST_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(HOST_LIB): $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(LIB_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(ASAN_LIB): $(patsubst %.c,$(ASAN_BUILD)/obj/%.o,$(LIB_SRCS))
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

# The shared library as distributions ship one: the real file carries the
# full version, its SONAME names the major version only (what a program
# records in DT_NEEDED), and the unversioned name is the link-time symlink.
$(HOST_SO_REAL): $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(LIB_SRCS)) host/libcapmem.map
	$(Q)$(HOST_CC) $(LDFLAGS) -shared -Wl,-soname,$(HOST_SONAME) \
	    -Wl,--version-script=host/libcapmem.map -Wl,--no-undefined -o $@ \
	    $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(LIB_SRCS)) $(LIB_LIBS)

$(HOST_BUILD)/$(HOST_SONAME): $(HOST_SO_REAL)
	$(Q)ln -sf $(notdir $<) $@

$(HOST_BUILD)/libcapmem.so: $(HOST_BUILD)/$(HOST_SONAME)
	$(Q)ln -sf $(notdir $<) $@

# For building against the build tree (make install writes the one for the
# installed prefix): the rpath lets such a program start without installing.
$(HOST_BUILD)/capmem.pc: host/capmem.pc.in include/capmem/version.h mk/rules.mk
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(abspath $(HOST_BUILD))|' -e 's|@LIBDIR@|$(abspath $(HOST_BUILD))|' \
	    -e 's|@INCLUDEDIR@|$(abspath include)|' -e 's|@VERSION@|$(CAPMEM_VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(LIB_LIBS)|' \
	    -e 's|^Libs: .*|& -Wl,-rpath,$${libdir}|' $< > $@
