# Rules whose prerequisites are lists every fragment appends to: included
# last, so the lists are complete when these lines are read.
LIB_SRCS = $(CORE_SRCS) $(HOST_LIB_SRCS)

$(HOST_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(HOST_LIB): $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(ASAN_LIB): $(patsubst %.c,$(ASAN_BUILD)/obj/%.o,$(LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(HOST_BUILD)/libcapmem.so: $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(LIB_SRCS)) host/libcapmem.map
	$(HOST_CC) -shared -Wl,--version-script=host/libcapmem.map -o $@ \
	    $(patsubst %.c,$(HOST_BUILD)/obj/%.o,$(LIB_SRCS)) $(HOST_LIBS)

$(HOST_BUILD)/capmem.pc: host/capmem.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(abspath $(HOST_BUILD))|' -e 's|@INCLUDEDIR@|$(abspath include)|' $< > $@

