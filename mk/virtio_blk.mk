# SPDX-License-Identifier: MIT
# drivers/virtio_blk/: the user-space virtio-blk driver of the kernel target
# (docs/virtio-blk.md). Its split-virtqueue module is portable: the host test
# tests/host/virtq.c links it with a fake device model.
HOST_TESTS += tests/host/virtq.c
$(HOST_BUILD)/tests/virtq: $(HOST_BUILD)/obj/tests/host/virtq.o \
                           $(HOST_BUILD)/obj/drivers/virtio_blk/virtq.o $(TEST_COMMON_HOST) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) -o $@ $(filter %.o,$^) $(HOST_LIB) -lcmocka $(HOST_LIBS)
$(ASAN_BUILD)/tests/virtq: $(ASAN_BUILD)/obj/tests/host/virtq.o \
                           $(ASAN_BUILD)/obj/drivers/virtio_blk/virtq.o $(TEST_COMMON_ASAN) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(HOST_CC) -fsanitize=address,undefined -o $@ $(filter %.o,$^) $(ASAN_LIB) -lcmocka $(HOST_LIBS)
