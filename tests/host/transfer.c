/* SPDX-License-Identifier: MIT */
/* Moving handles over channels: who may send what, and what arrives.
 * The receiver's rights are (sent rights AND what the platform enforces);
 * flags and size come from the object. Receiving into a full handle table
 * drops the message without leaking a descriptor. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/leakcheck.h"

#define VMO_SIZE 10000u /* not a page multiple: the size must be the object's */

static void assert_closed(cm_handle_t h)
{
    cm_handle_info_t info;
    assert_status(cm_handle_get_info(h, &info), CM_ERR_BAD_HANDLE);
}

static void assert_nothing_queued(cm_handle_t ch)
{
    uint8_t b[16];
    uint32_t nb, nh;
    cm_handle_t h[4];
    assert_status(cm_channel_read(ch, b, sizeof(b), &nb, h, 4, &nh), CM_ERR_SHOULD_WAIT);
}

static cm_handle_t filled_vmo(uint64_t size, uint8_t seed)
{
    cm_handle_t v;
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    for (uint64_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(seed + i * 13);
    assert_status(cm_vmo_create(size, 0, &v), CM_OK);
    assert_status(cm_vmo_write(v, buf, 0, size), CM_OK);
    free(buf);
    return v;
}

/* Sends `h` from a to b and returns the handle b received. */
static cm_handle_t pass(cm_handle_t a, cm_handle_t b, cm_handle_t h)
{
    cm_handle_t got = CM_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    char buf[8];
    assert_status(cm_channel_write(a, "vmo", 3, &h, 1), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    assert_int_equal(nh, 1);
    return got;
}

static void test_reject_unauthorized_transfer(void **state)
{
    (void)state;
    cm_handle_t a, b, v, no_transfer, ch0, ch1, weak_ch;
    uint32_t live;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    live = cm_host_live_handles();

    v = filled_vmo(CM_PAGE_SIZE, 1);
    assert_status(cm_handle_duplicate(v, CM_VMO_DEFAULT_RIGHTS & ~CM_RIGHT_TRANSFER,
                                      &no_transfer), CM_OK);
    assert_status(cm_channel_write(a, "x", 1, &no_transfer, 1), CM_ERR_ACCESS_DENIED);
    assert_closed(no_transfer);
    assert_nothing_queued(b);
    /* The same object through a handle that holds TRANSFER goes. */
    cm_handle_t got = pass(a, b, v);
    cm_handle_close(got);

    /* Channels need TRANSFER too. */
    assert_status(cm_channel_create(0, &ch0, &ch1), CM_OK);
    assert_status(cm_handle_replace(ch1, CM_RIGHT_READ | CM_RIGHT_WRITE, &weak_ch), CM_OK);
    assert_status(cm_channel_write(a, "x", 1, &weak_ch, 1), CM_ERR_ACCESS_DENIED);
    assert_closed(weak_ch);
    assert_nothing_queued(b);
    assert_status(cm_channel_wait_readable(ch0, 0), CM_ERR_PEER_CLOSED); /* really gone */
    cm_handle_close(ch0);

    assert_int_equal(cm_host_live_handles(), live);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_unsealed_vmo_without_write_is_unsupported_and_consumed(void **state)
{
    (void)state;
    cm_handle_t a, b, v, ro;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    v = filled_vmo(CM_PAGE_SIZE, 2);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro),
                  CM_OK);
    /* The receiver could reopen the memfd read-write through /proc, so the
     * dropped WRITE could not be enforced: refused, not silently weakened. */
    assert_status(cm_channel_write(a, "x", 1, &ro, 1), CM_ERR_UNSUPPORTED);
    assert_closed(ro);
    assert_nothing_queued(b);
    /* Once sealed, the same reduced handle may go. */
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro),
                  CM_OK);
    cm_handle_t got = pass(a, b, ro);
    cm_handle_close(got);
    cm_handle_close(v);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_sealed_vmo_arrives_with_sent_rights_and_object_facts(void **state)
{
    (void)state;
    cm_handle_t a, b, v, reduced, got;
    cm_vmo_info_t sent, info;
    uint8_t first = 0, expect = 0;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    v = filled_vmo(VMO_SIZE, 3);
    assert_status(cm_vmo_seal(v, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_get_info(v, &sent), CM_OK);

    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER,
                                      &reduced), CM_OK);
    got = pass(a, b, reduced);
    assert_status(cm_vmo_get_info(got, &info), CM_OK);
    assert_int_equal(info.rights, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_true(info.flags & CM_VMO_INFO_READONLY);
    assert_int_equal(info.size, VMO_SIZE);
    assert_true(info.id == sent.id); /* the same object, not a copy */
    assert_status(cm_vmo_read(got, &first, VMO_SIZE - 1, 1), CM_OK);
    assert_status(cm_vmo_read(v, &expect, VMO_SIZE - 1, 1), CM_OK);
    assert_int_equal(first, expect);
    assert_status(cm_handle_duplicate(got, CM_RIGHTS_SAME, &reduced), CM_ERR_ACCESS_DENIED);
    cm_handle_close(got);

    /* Sent with every right it holds, WRITE included: the seal removes it. */
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &reduced), CM_OK);
    got = pass(a, b, reduced);
    assert_status(cm_vmo_get_info(got, &info), CM_OK);
    assert_int_equal(info.rights, CM_VMO_DEFAULT_RIGHTS & ~CM_RIGHT_WRITE);
    cm_handle_info_t hinfo;
    assert_status(cm_handle_get_info(got, &hinfo), CM_OK);
    assert_int_equal(hinfo.rights & CM_RIGHT_WRITE, 0);
    assert_status(cm_vmo_write(got, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    cm_handle_close(got);

    cm_handle_close(v);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_readonly_sealed_vmo_arrives_readonly_not_immutable(void **state)
{
    (void)state;
    cm_handle_t a, b, v, dup, got;
    cm_vmo_info_t info;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    v = filled_vmo(VMO_SIZE, 4);
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
    got = pass(a, b, dup);
    assert_status(cm_vmo_get_info(got, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_READONLY);
    assert_false(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_int_equal(info.rights & CM_RIGHT_WRITE, 0);
    assert_int_equal(info.size, VMO_SIZE);
    cm_handle_close(got);
    cm_handle_close(v);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_unsealed_vmo_sent_with_write_is_the_same_writable_object(void **state)
{
    (void)state;
    cm_handle_t a, b, v, dup, got;
    cm_vmo_info_t info;
    char c = 0;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    v = filled_vmo(CM_PAGE_SIZE, 5);
    assert_status(cm_handle_duplicate(v, CM_RIGHTS_SAME, &dup), CM_OK);
    got = pass(a, b, dup);
    assert_status(cm_vmo_get_info(got, &info), CM_OK);
    assert_int_equal(info.rights, CM_VMO_DEFAULT_RIGHTS);
    assert_int_equal(info.flags & (CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY), 0);
    assert_status(cm_vmo_write(got, "Q", 100, 1), CM_OK);
    assert_status(cm_vmo_read(v, &c, 100, 1), CM_OK);
    assert_int_equal(c, 'Q');
    cm_handle_close(got);
    cm_handle_close(v);
    cm_handle_close(a);
    cm_handle_close(b);
}

/* A memfd whose only fd is O_RDONLY is not read-only on Linux: anyone
 * holding it can reopen it O_RDWR through /proc. Sending such a VMO without
 * WRITE must therefore be refused like any other unsealed VMO (channel.h:
 * "a VMO without WRITE that is not sealed"). */
static void test_readonly_fd_vmo_without_seal_is_not_sent_as_readonly(void **state)
{
    (void)state;
    cm_handle_t a, b, v;
    char path[64];
    int mfd = memfd_create("transfer-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(mfd >= 0);
    assert_int_equal(ftruncate(mfd, CM_PAGE_SIZE), 0);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
    int rofd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(rofd >= 0);
    close(mfd);
    assert_status(cm_host_vmo_from_fd(rofd, CM_RIGHTS_SAME, &v), CM_OK);
    cm_vmo_info_t info;
    assert_status(cm_vmo_get_info(v, &info), CM_OK);
    assert_int_equal(info.rights & CM_RIGHT_WRITE, 0);
    assert_int_equal(info.flags & CM_VMO_INFO_READONLY, 0);

    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    cm_status_t st = cm_channel_write(a, "x", 1, &v, 1);
    assert_closed(v);
    if (st == CM_OK) {
        /* Show what went wrong: the receiver writes to "read-only" memory. */
        cm_handle_t got;
        uint32_t nb, nh;
        char buf[4];
        int fd = -1;
        assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
        assert_status(cm_host_vmo_export_fd(got, &fd), CM_OK);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int rw = open(path, O_RDWR | O_CLOEXEC);
        ssize_t wrote = rw >= 0 ? pwrite(rw, "W", 1, 0) : -1;
        if (rw >= 0)
            close(rw);
        close(fd);
        cm_handle_close(got);
        fprintf(stderr, "# BUG: unsealed O_RDONLY memfd VMO sent without WRITE; the receiver "
                        "reopened it O_RDWR and wrote %zd byte(s)\n", wrote);
    }
    cm_handle_close(a);
    cm_handle_close(b);
    assert_status(st, CM_ERR_UNSUPPORTED);
}

static void test_file_vmos_and_listeners_cannot_be_sent(void **state)
{
    (void)state;
    cm_handle_t a, b, fv, lis;
    char dir[] = "/tmp/cm-transfer-XXXXXX";
    char path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/file", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("file contents", f);
    fclose(f);

    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_vmo_create_from_file(path, 0, CM_VMO_TO_END, &fv), CM_OK);
    /* A file window has no TRANSFER at all; even with it, it is process-local. */
    assert_status(cm_channel_write(a, "x", 1, &fv, 1), CM_ERR_ACCESS_DENIED);
    assert_closed(fv);
    assert_nothing_queued(b);

    snprintf(path, sizeof(path), "%s/sock", dir);
    assert_status(cm_host_listen(path, &lis), CM_OK);
    cm_status_t st = cm_channel_write(a, "x", 1, &lis, 1);
    assert_true(st == CM_ERR_ACCESS_DENIED || st == CM_ERR_UNSUPPORTED);
    assert_closed(lis);
    assert_nothing_queued(b);
    struct stat sb;
    assert_int_equal(stat(path, &sb), -1); /* the consumed listener is gone */

    cm_handle_close(a);
    cm_handle_close(b);
    snprintf(path, sizeof(path), "%s/file", dir);
    unlink(path);
    rmdir(dir);
}

static void test_received_handles_are_counted_and_released(void **state)
{
    (void)state;
    cm_handle_t a, b, vs[3], got[3];
    uint32_t nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    uint32_t live = cm_host_live_handles();
    int fds = count_open_fds();
    for (int i = 0; i < 3; i++)
        vs[i] = filled_vmo(CM_PAGE_SIZE, (uint8_t)i);
    assert_int_equal(cm_host_live_handles(), live + 3);
    assert_int_equal(count_open_fds(), fds + 3);
    assert_status(cm_channel_write(a, "3", 1, vs, 3), CM_OK);
    /* In flight, the objects are held by the socket, not by this table. */
    assert_int_equal(cm_host_live_handles(), live);
    assert_int_equal(count_open_fds(), fds);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh), CM_OK);
    assert_int_equal(nh, 3);
    assert_int_equal(cm_host_live_handles(), live + 3);
    assert_int_equal(count_open_fds(), fds + 3);
    for (int i = 0; i < 3; i++)
        assert_status(cm_handle_close(got[i]), CM_OK);
    assert_int_equal(cm_host_live_handles(), live);
    assert_int_equal(count_open_fds(), fds);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_receive_into_full_handle_table_is_no_resources_and_message_stays_queued(void **state)
{
    (void)state;
    cm_handle_t a, b, anchor, vs[3], got[3];
    static cm_handle_t fill[CM_MAX_HANDLES];
    uint32_t nfill = 0, nb, nh;
    char buf[4];
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_vmo_create(CM_PAGE_SIZE, 0, &anchor), CM_OK);
    for (int i = 0; i < 3; i++)
        vs[i] = filled_vmo(CM_PAGE_SIZE, (uint8_t)(10 + i));
    assert_status(cm_channel_write(a, "3", 1, vs, 3), CM_OK);

    /* Duplicates cost a slot but no fd: fill every slot, then free two so
     * the message's three handles cannot all be installed. */
    cm_status_t st;
    while ((st = cm_handle_duplicate(anchor, CM_RIGHTS_SAME, &fill[nfill])) == CM_OK)
        nfill++;
    assert_status(st, CM_ERR_NO_RESOURCES);
    assert_int_equal(cm_host_live_handles(), CM_MAX_HANDLES);
    cm_handle_close(fill[--nfill]);
    cm_handle_close(fill[--nfill]);

    int fds = count_open_fds();
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh),
                  CM_ERR_NO_RESOURCES);
    assert_int_equal(count_open_fds(), fds);
    assert_int_equal(cm_host_live_handles(), CM_MAX_HANDLES - 2);
    /* A local shortage, not the message's fault: it stays queued, intact. */
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh),
                  CM_ERR_NO_RESOURCES);
    assert_int_equal(nh, 3);

    while (nfill > 0)
        cm_handle_close(fill[--nfill]);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh), CM_OK);
    assert_int_equal(nh, 3);
    assert_int_equal(nb, 1);
    assert_memory_equal(buf, "3", 1);
    for (int i = 0; i < 3; i++) {
        uint8_t first = 0;
        assert_status(cm_vmo_read(got[i], &first, 0, 1), CM_OK);
        assert_int_equal(first, 10 + i); /* filled_vmo: byte 0 is the seed */
        cm_handle_close(got[i]);
    }
    /* The channel still works once there is room. */
    vs[0] = filled_vmo(CM_PAGE_SIZE, 42);
    assert_status(cm_channel_write(a, "1", 1, vs, 1), CM_OK);
    assert_status(cm_channel_read(b, buf, sizeof(buf), &nb, got, 3, &nh), CM_OK);
    assert_int_equal(nh, 1);
    uint8_t tag = 0;
    assert_status(cm_vmo_read(got[0], &tag, 0, 1), CM_OK);
    assert_int_equal(tag, 42);
    cm_handle_close(got[0]);
    cm_handle_close(anchor);
    cm_handle_close(a);
    cm_handle_close(b);
}

int main(void)
{
    alarm(300);
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_reject_unauthorized_transfer),
        LEAK_TEST(test_unsealed_vmo_without_write_is_unsupported_and_consumed),
        LEAK_TEST(test_sealed_vmo_arrives_with_sent_rights_and_object_facts),
        LEAK_TEST(test_readonly_sealed_vmo_arrives_readonly_not_immutable),
        LEAK_TEST(test_unsealed_vmo_sent_with_write_is_the_same_writable_object),
        LEAK_TEST(test_readonly_fd_vmo_without_seal_is_not_sent_as_readonly),
        LEAK_TEST(test_file_vmos_and_listeners_cannot_be_sent),
        LEAK_TEST(test_received_handles_are_counted_and_released),
        LEAK_TEST(test_receive_into_full_handle_table_is_no_resources_and_message_stays_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
