/* SPDX-License-Identifier: MIT */
/* Huge-page VMOs on a real hugetlb pool (docs/vmo.md, "Huge pages").
 *
 * Needs free 2 MiB pages: run through tests/host/vmo_huge_test.sh, which
 * provides a pool as root and restores it. Every test that expects huge
 * pages checks that it really got them (page_size, and the memfd's
 * filesystem); without a pool the program fails, never passes vacuously. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/magic.h>
#include <capmem/ledger.h>
#include <linux/userfaultfd.h>
#include <unistd.h>

#include <capmem/host.h>
#include "common/child.h"
#include "common/leakcheck.h"
#include "common/rawpeer.h"
#include "common/threads.h"
#include "../../host/mappings.h"

#define HP ((uint64_t)CM_HUGE_PAGE_SIZE)
#define PG ((uint64_t)CM_PAGE_SIZE)
#define WAIT_NS (10ll * 1000000000)

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26)
#endif

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 131u + (i >> 12) + 7u);
}

static void fill(uint8_t *p, uint64_t off, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        p[i] = pattern(off + i);
}

/* A foreign hugetlb memfd of `size` bytes (a multiple of HP), pages allocated. */
static int huge_memfd(uint64_t size)
{
    int fd = memfd_create("test-huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_HUGE_2MB);
    if (fd >= 0 && (ftruncate(fd, (off_t)size) != 0 ||
                    (size > 0 && fallocate(fd, 0, 0, (off_t)size) != 0))) {
        close(fd);
        return -1;
    }
    return fd;
}

static int on_hugetlbfs(int fd)
{
    struct statfs fs;
    return fstatfs(fd, &fs) == 0 && fs.f_type == HUGETLBFS_MAGIC;
}

/* Is the VMO's memfd really on hugetlbfs? Asked of an exported fd. */
static int vmo_on_hugetlbfs(cm_handle_t h)
{
    int fd = -1;
    assert_status(cm_host_vmo_export_fd(h, &fd), CM_OK);
    int r = on_hugetlbfs(fd);
    close(fd);
    return r;
}

static void assert_huge(cm_handle_t h, uint64_t size)
{
    cm_vmo_info_t info;
    assert_status(cm_vmo_get_info(h, &info), CM_OK);
    assert_int_equal(info.size, size);
    assert_int_equal(info.page_size, CM_HUGE_PAGE_SIZE);
    assert_true(info.flags & CM_VMO_INFO_HUGE);
    uint64_t got = 0;
    assert_status(cm_vmo_get_size(h, &got), CM_OK);
    assert_int_equal(got, size);
}

static void assert_base(cm_handle_t h)
{
    cm_vmo_info_t info;
    assert_status(cm_vmo_get_info(h, &info), CM_OK);
    assert_int_equal(info.page_size, CM_PAGE_SIZE);
    assert_false(info.flags & CM_VMO_INFO_HUGE);
}

static long meminfo(const char *key)
{
    char line[128];
    long v = -1;
    size_t n = strlen(key);
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

/* Huge pages nobody has allocated or reserved. */
static long free_huge_pages(void)
{
    return meminfo("HugePages_Free") - meminfo("HugePages_Rsvd");
}

static void test_huge_option_gives_huge_pages_and_exact_size(void **state)
{
    (void)state;
    cm_handle_t h;
    uint64_t size = 3 * HP + 100; /* not a multiple of the huge page */
    uint8_t b = 0x5a, r = 0;
    assert_status(cm_vmo_create(size, CM_VMO_HUGE, &h), CM_OK);
    assert_huge(h, size);
    assert_true(vmo_on_hugetlbfs(h));
    assert_status(cm_vmo_write(h, &b, size - 1, 1), CM_OK); /* hugetlbfs: no pwrite */
    assert_status(cm_vmo_read(h, &r, size - 1, 1), CM_OK);
    assert_int_equal(r, 0x5a);
    /* The file is 4 huge pages; the VMO ends at its exact size. */
    assert_status(cm_vmo_read(h, &r, size, 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_write(h, &b, size, 1), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_handle_close(h), CM_OK);
}

static void test_automatic_policy_uses_huge_pages_from_2mib(void **state)
{
    (void)state;
    cm_handle_t a, b;
    assert_status(cm_vmo_create(HP, 0, &a), CM_OK);
    assert_huge(a, HP);
    assert_status(cm_vmo_create(HP - PG, 0, &b), CM_OK);
    assert_base(b);
    assert_false(vmo_on_hugetlbfs(b));
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_base_pages_option_opts_out_of_huge_pages(void **state)
{
    (void)state;
    cm_handle_t h;
    assert_status(cm_vmo_create(2 * HP, CM_VMO_BASE_PAGES, &h), CM_OK);
    assert_base(h);
    assert_false(vmo_on_hugetlbfs(h));
    assert_status(cm_handle_close(h), CM_OK);
}

static void test_huge_option_with_size_zero_gets_base_pages(void **state)
{
    (void)state;
    cm_handle_t h;
    assert_status(cm_vmo_create(0, CM_VMO_HUGE, &h), CM_OK);
    assert_base(h);
    assert_status(cm_handle_close(h), CM_OK);
}

/* Takes every free huge page, as another process might; returns the fd
 * holding them. Page by page until none is left, so that pages another
 * process takes or gives back meanwhile change nothing. */
static int hog_pool(void)
{
    int hog = memfd_create("test-hog", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
    assert_true(hog >= 0);
    for (off_t n = 0; fallocate(hog, 0, n * (off_t)HP, (off_t)HP) == 0; n++)
        ;
    return hog;
}

static void test_empty_pool_falls_back_to_base_pages(void **state)
{
    (void)state;
    cm_handle_t h;
    int hog = hog_pool();
    int fds = count_open_fds();
    assert_status(cm_vmo_create(HP + 1, CM_VMO_HUGE, &h), CM_OK);
    assert_base(h);
    assert_false(vmo_on_hugetlbfs(h));
    assert_int_equal(count_open_fds(), fds + 1); /* the VMO's memfd, nothing more */
    uint8_t b = 1;
    assert_status(cm_vmo_write(h, &b, HP, 1), CM_OK);
    assert_status(cm_handle_close(h), CM_OK);
    close(hog);
    /* A snapshot of a huge VMO falls back the same way. */
    cm_handle_t src, snap;
    assert_status(cm_vmo_create(HP, CM_VMO_HUGE, &src), CM_OK);
    assert_huge(src, HP);
    hog = hog_pool();
    assert_status(cm_vmo_snapshot(src, &snap), CM_OK);
    assert_base(snap);
    close(hog);
    assert_status(cm_handle_close(snap), CM_OK);
    assert_status(cm_handle_close(src), CM_OK);
    /* Pages back: huge again. */
    assert_status(cm_vmo_create(HP, CM_VMO_HUGE, &h), CM_OK);
    assert_huge(h, HP);
    assert_status(cm_handle_close(h), CM_OK);
}

/* Huge pages allocated to the VMO's file (hugetlbfs counts them in
 * st_blocks), asked of an exported fd: per object, whatever other
 * processes do with the pool meanwhile. */
static uint64_t allocated_pages(cm_handle_t h)
{
    struct stat sb;
    int fd = -1;
    assert_status(cm_host_vmo_export_fd(h, &fd), CM_OK);
    assert_int_equal(fstat(fd, &sb), 0);
    close(fd);
    return (uint64_t)sb.st_blocks * 512u / HP;
}

static void test_create_allocates_every_huge_page_at_once(void **state)
{
    (void)state;
    cm_handle_t h;
    assert_status(cm_vmo_create(2 * HP + 1, CM_VMO_HUGE, &h), CM_OK);
    assert_huge(h, 2 * HP + 1);
    assert_int_equal(allocated_pages(h), 3); /* now, not at a later fault */
    assert_status(cm_handle_close(h), CM_OK);
}

static void test_map_at_interior_offset_returns_interior_pointer(void **state)
{
    (void)state;
    cm_handle_t h;
    uint64_t size = 5 * HP + 300;
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    fill(buf, 0, size);
    assert_status(cm_vmo_create(size, CM_VMO_HUGE, &h), CM_OK);
    assert_huge(h, size);
    assert_status(cm_vmo_write(h, buf, 0, size), CM_OK);
    uint64_t charged = cm__map_total_bytes();
    int maps = count_maps();
    /* 3 pages before a huge-page boundary, across it: two huge pages. */
    uint64_t off = 2 * HP - 3 * PG, len = 5 * PG;
    uint8_t *p = NULL;
    assert_status(cm_vmo_map(h, off, len, CM_MAP_READ, (void **)&p), CM_OK);
    assert_int_equal(((uintptr_t)p) % PG, 0);
    assert_int_equal(((uintptr_t)p) % HP, HP - 3 * PG); /* kernel-aligned cover */
    assert_memory_equal(p, buf + off, len);
    assert_int_equal(cm__map_total_bytes() - charged, 2 * HP); /* the real length */
    /* Only the caller's (addr, len) names it; the cover's base does not. */
    assert_status(cm_vmo_unmap(p - (HP - 3 * PG), 2 * HP), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_unmap(p, len), CM_OK);
    assert_int_equal(cm__map_total_bytes(), charged);
    assert_int_equal(count_maps(), maps); /* the whole cover is gone */
    /* The tail: up to the exact size, never past it. */
    off = 5 * HP;
    assert_status(cm_vmo_map(h, off, 300, CM_MAP_READ | CM_MAP_WRITE, (void **)&p), CM_OK);
    assert_memory_equal(p, buf + off, 300);
    p[299] ^= 0xff;
    uint8_t r = 0;
    assert_status(cm_vmo_read(h, &r, size - 1, 1), CM_OK);
    assert_int_equal(r, (uint8_t)(buf[size - 1] ^ 0xff));
    assert_status(cm_vmo_unmap(p, 300), CM_OK);
    assert_status(cm_vmo_map(h, off, 301, CM_MAP_READ, (void **)&p), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_handle_close(h), CM_OK);
    free(buf);
}

static void test_shrink_then_grow_reads_zeros(void **state)
{
    (void)state;
    cm_handle_t h;
    uint64_t size = 3 * HP;
    uint8_t *buf = malloc(size), *back = malloc(size);
    assert_non_null(buf);
    assert_non_null(back);
    memset(buf, 0xff, size);
    assert_status(cm_vmo_create(size, CM_VMO_HUGE, &h), CM_OK);
    assert_status(cm_vmo_write(h, buf, 0, size), CM_OK);
    /* Inside the last huge page: its tail stays in the file, zeroed. */
    assert_status(cm_vmo_set_size(h, HP + 100), CM_OK);
    assert_huge(h, HP + 100);
    /* What another holder of the file sees past the exact size: zeros
     * (a receiver's mapping covers the whole last huge page). */
    int fd = -1;
    assert_status(cm_host_vmo_export_fd(h, &fd), CM_OK);
    assert_int_equal(pread(fd, back, HP - 100, (off_t)(HP + 100)), (ssize_t)(HP - 100));
    close(fd);
    for (uint64_t i = 0; i < HP - 100; i++)
        if (back[i] != 0)
            fail_msg("file byte %llu is %u past the exact size", (unsigned long long)(HP + 100 + i),
                     back[i]);
    /* Exported: no longer private, so no more resizing; a fresh one below. */
    assert_status(cm_vmo_set_size(h, size), CM_ERR_UNSUPPORTED);
    assert_status(cm_handle_close(h), CM_OK);
    assert_status(cm_vmo_create(size, CM_VMO_HUGE, &h), CM_OK);
    assert_status(cm_vmo_write(h, buf, 0, size), CM_OK);
    assert_status(cm_vmo_set_size(h, HP + 100), CM_OK);
    assert_status(cm_vmo_set_size(h, size), CM_OK);
    assert_huge(h, size);
    assert_status(cm_vmo_read(h, back, 0, size), CM_OK);
    assert_memory_equal(back, buf, HP + 100);
    for (uint64_t i = HP + 100; i < size; i++)
        if (back[i] != 0)
            fail_msg("byte %llu is %u after shrink and grow", (unsigned long long)i, back[i]);
    /* Growing past the pages the file had allocates new ones. */
    assert_status(cm_vmo_set_size(h, 4 * HP + 1), CM_OK);
    uint8_t last = 9;
    assert_status(cm_vmo_read(h, &last, 4 * HP, 1), CM_OK);
    assert_int_equal(last, 0);
    assert_status(cm_vmo_write(h, &last, 4 * HP, 1), CM_OK);
    assert_status(cm_handle_close(h), CM_OK);
    free(buf);
    free(back);
}

static int drain_pool(void);

/* Growing a huge VMO needs new huge pages: with the pool drained Linux has
 * no memory for them, which is MEMORY_PRESSURE (the rule of
 * cm__vmo_pages_errno), never the library's NO_MEMORY; the size and the
 * OBJECT_BACKING charge stay as they were, and the grow works once pages
 * are back. */
static void test_grow_of_huge_vmo_with_pool_drained_is_memory_pressure(void **state)
{
    (void)state;
    cm_handle_t h;
    cm_ledger_info_t before, after;
    assert_status(cm_vmo_create(HP, CM_VMO_HUGE, &h), CM_OK);
    assert_huge(h, HP);
    assert_status(cm_ledger_get(&before), CM_OK);
    int drained = drain_pool();
    assert_true(drained >= 0);
    assert_status(cm_vmo_set_size(h, 3 * HP), CM_ERR_MEMORY_PRESSURE);
    assert_non_null(strstr(cm_status_detail(), "no memory for the VMO's pages"));
    assert_status(cm_ledger_get(&after), CM_OK);
    assert_int_equal(after.entry[CM_LEDGER_OBJECT_BACKING].used,
                     before.entry[CM_LEDGER_OBJECT_BACKING].used);
    assert_huge(h, HP);
    close(drained);
    assert_status(cm_vmo_set_size(h, 3 * HP), CM_OK);
    assert_huge(h, 3 * HP);
    assert_status(cm_handle_close(h), CM_OK);
}

static void test_set_size_never_cuts_a_huge_mapping(void **state)
{
    (void)state;
    cm_handle_t h;
    void *p;
    assert_status(cm_vmo_create(2 * HP, CM_VMO_HUGE, &h), CM_OK);
    assert_status(cm_vmo_map(h, HP, PG, CM_MAP_READ, &p), CM_OK);
    assert_status(cm_vmo_set_size(h, HP + PG - 1), CM_ERR_BAD_STATE);
    assert_status(cm_vmo_set_size(h, HP + PG), CM_OK);
    assert_status(cm_vmo_unmap(p, PG), CM_OK);
    assert_status(cm_handle_close(h), CM_OK);
}

static void test_write_sealed_huge_vmo_refuses_write(void **state)
{
    (void)state;
    cm_handle_t h, snap;
    uint8_t b = 3;
    cm_vmo_info_t info;
    void *p;
    assert_status(cm_vmo_create(HP + 7, CM_VMO_HUGE, &h), CM_OK);
    assert_status(cm_vmo_write(h, &b, HP + 6, 1), CM_OK);
    assert_status(cm_vmo_seal(h, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_vmo_write(h, &b, 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_map(h, 0, PG, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_seal(h, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_vmo_write(h, &b, 0, 1), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_get_info(h, &info), CM_OK);
    assert_int_equal(info.flags, CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY | CM_VMO_INFO_HUGE);
    assert_int_equal(info.size, HP + 7);
    assert_status(cm_vmo_set_size(h, HP), CM_ERR_ACCESS_DENIED);
    /* A snapshot of a huge VMO is huge, exact, IMMUTABLE. */
    assert_status(cm_vmo_snapshot(h, &snap), CM_OK);
    assert_huge(snap, HP + 7);
    uint8_t r = 0;
    assert_status(cm_vmo_read(snap, &r, HP + 6, 1), CM_OK);
    assert_int_equal(r, 3);
    assert_status(cm_vmo_get_info(snap, &info), CM_OK);
    assert_true(info.flags & CM_VMO_INFO_IMMUTABLE);
    assert_status(cm_handle_close(snap), CM_OK);
    assert_status(cm_handle_close(h), CM_OK);
}

/* ---- transfer ---- */

struct recv_arg {
    cm_handle_t ch;
    uint64_t size;
};

/* The receiver: exact size, huge pages, bytes through a mapping at an
 * interior offset, nothing past the exact size. */
static int receiver(void *argp)
{
    struct recv_arg *a = argp;
    cm_handle_t h;
    cm_vmo_info_t info;
    if (recv_one(a->ch, &h) != CM_OK)
        return 1;
    if (cm_vmo_get_info(h, &info) != CM_OK || info.size != a->size ||
        info.page_size != CM_HUGE_PAGE_SIZE || !(info.flags & CM_VMO_INFO_HUGE) ||
        !(info.flags & CM_VMO_INFO_IMMUTABLE))
        return 2;
    uint8_t *p;
    uint64_t off = HP + 5 * PG, len = a->size - off;
    if (cm_vmo_map(h, off, len, CM_MAP_READ, (void **)&p) != CM_OK)
        return 3;
    for (uint64_t i = 0; i < len; i++)
        if (p[i] != pattern(off + i))
            return 4;
    if (cm_vmo_unmap(p, len) != CM_OK)
        return 5;
    uint8_t b;
    if (cm_vmo_read(h, &b, a->size, 1) != CM_ERR_OUT_OF_RANGE ||
        cm_vmo_map(h, off, len + 1, CM_MAP_READ, (void **)&p) != CM_ERR_OUT_OF_RANGE)
        return 6;
    return cm_handle_close(h) == CM_OK ? 0 : 7;
}

static void test_transfer_to_forked_receiver_keeps_exact_size(void **state)
{
    (void)state;
    cm_handle_t a, b, h;
    uint64_t size = 3 * HP + 4321;
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    fill(buf, 0, size);
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_vmo_create(size, 0, &h), CM_OK);
    assert_huge(h, size);
    assert_status(cm_vmo_write(h, buf, 0, size), CM_OK);
    assert_status(cm_vmo_seal(h, CM_SEAL_IMMUTABLE), CM_OK);
    assert_status(cm_channel_write(a, "v", 1, &h, 1), CM_OK);
    struct recv_arg arg = { b, size };
    assert_child_ok(in_child(receiver, &arg));
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
    free(buf);
}

static void test_unsealed_huge_vmo_received_with_write_is_written_through_mapping(void **state)
{
    (void)state;
    cm_handle_t a, b, h, got;
    uint64_t size = HP + 10;
    assert_status(cm_channel_create(0, &a, &b), CM_OK);
    assert_status(cm_vmo_create(size, CM_VMO_HUGE, &h), CM_OK);
    assert_status(cm_channel_write(a, "v", 1, &h, 1), CM_OK);
    assert_status(recv_one(b, &got), CM_OK);
    assert_huge(got, size);
    uint8_t v = 0x77, r = 0;
    assert_status(cm_vmo_write(got, &v, size - 1, 1), CM_OK);
    assert_status(cm_vmo_read(got, &r, size - 1, 1), CM_OK);
    assert_int_equal(r, 0x77);
    assert_status(cm_vmo_write(got, &v, size, 1), CM_ERR_OUT_OF_RANGE);
    /* Shared: the exact size is per process, so it does not change. */
    assert_status(cm_vmo_set_size(got, size + 1), CM_ERR_UNSUPPORTED);
    assert_status(cm_handle_close(got), CM_OK);
    assert_status(cm_handle_close(a), CM_OK);
    assert_status(cm_handle_close(b), CM_OK);
}

static void test_hostile_descriptor_sizes_are_protocol_and_close_the_fd(void **state)
{
    (void)state;
    struct raw_peer rp;
    cm_handle_t h;
    raw_open(&rp);
    const uint64_t bad[] = {
        4 * HP + 1,           /* past the file */
        2 * HP,               /* a whole huge page short: not the file's */
        0,                    /* "none" on a huge file that is not empty */
        1,
        CM_VMO_MAX_SIZE,      /* within the wire's limit, past the file */
        CM_VMO_MAX_SIZE + 1,  /* past the wire's limit */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = huge_memfd(4 * HP);
        assert_true(fd >= 0);
        assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), 0);
        int fds = count_open_fds();
        assert_int_equal(raw_send_sized(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL, bad[i]), 0);
        close(fd);
        assert_status(recv_one(rp.ch, &h), CM_ERR_PROTOCOL);
        assert_int_equal(count_open_fds(), fds - 1); /* the one that came is closed */
    }
    /* The edges that fit: file size, and one byte past the previous page. */
    const uint64_t good[] = { 4 * HP, 3 * HP + 1 };
    for (size_t i = 0; i < 2; i++) {
        int fd = huge_memfd(4 * HP);
        assert_true(fd >= 0);
        assert_int_equal(raw_send_sized(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL, good[i]), 0);
        close(fd);
        assert_status(recv_one(rp.ch, &h), CM_OK);
        assert_huge(h, good[i]);
        assert_status(cm_handle_close(h), CM_OK);
    }
    /* An empty huge file: exactly 0. */
    int fd = huge_memfd(0);
    assert_true(fd >= 0);
    assert_int_equal(raw_send_sized(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL, 0), 0);
    close(fd);
    assert_status(recv_one(rp.ch, &h), CM_OK);
    assert_huge(h, 0);
    assert_status(cm_handle_close(h), CM_OK);
    /* A base-page memfd claiming a size: refused, it carries nothing trusted. */
    fd = memfd_create("base", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_int_equal(ftruncate(fd, (off_t)HP), 0);
    assert_int_equal(raw_send_sized(rp.raw, fd, CM_OBJ_VMO, CM_RIGHTS_ALL, HP), 0);
    close(fd);
    assert_status(recv_one(rp.ch, &h), CM_ERR_PROTOCOL);
    raw_close(&rp);
}

static void test_foreign_hugetlb_memfd_from_fd_has_file_size(void **state)
{
    (void)state;
    cm_handle_t h;
    int fd = huge_memfd(2 * HP);
    assert_true(fd >= 0);
    int keep = dup(fd);
    assert_status(cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &h), CM_OK);
    assert_huge(h, 2 * HP);
    /* Another process may hold it: a write sets the size floor first. */
    assert_int_equal(fcntl(keep, F_GET_SEALS) & F_SEAL_SHRINK, 0);
    uint8_t v = 1;
    assert_status(cm_vmo_write(h, &v, 2 * HP - 1, 1), CM_OK);
    assert_true(fcntl(keep, F_GET_SEALS) & F_SEAL_SHRINK);
    assert_status(cm_vmo_set_size(h, HP), CM_ERR_UNSUPPORTED);
    assert_status(cm_handle_close(h), CM_OK);
    close(keep);
    /* Exported and wrapped again: the exact size does not travel in an fd. */
    assert_status(cm_vmo_create(HP + 5, CM_VMO_HUGE, &h), CM_OK);
    cm_handle_t back;
    assert_status(cm_host_vmo_export_fd(h, &fd), CM_OK);
    assert_true(on_hugetlbfs(fd));
    assert_status(cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &back), CM_OK);
    assert_huge(back, 2 * HP);
    assert_status(cm_handle_close(back), CM_OK);
    assert_status(cm_handle_close(h), CM_OK);
}

static int forked_child(void *argp)
{
    cm_handle_t h = *(cm_handle_t *)argp;
    uint64_t size = 0;
    uint8_t r = 0;
    if (cm_vmo_get_size(h, &size) != CM_OK || size != HP + 3)
        return 1;
    if (cm_vmo_read(h, &r, HP + 2, 1) != CM_OK || r != 0x42)
        return 2;
    if (cm_vmo_set_size(h, 1) != CM_ERR_UNSUPPORTED)
        return 3;
    return 0;
}

static void test_fork_child_reads_exact_size_and_cannot_resize(void **state)
{
    (void)state;
    cm_handle_t h;
    uint8_t v = 0x42;
    void *p;
    assert_status(cm_vmo_create(HP + 3, CM_VMO_HUGE, &h), CM_OK);
    assert_status(cm_vmo_write(h, &v, HP + 2, 1), CM_OK);
    assert_status(cm_vmo_map(h, HP, 3, CM_MAP_READ, &p), CM_OK);
    assert_child_ok(in_child(forked_child, &h));
    assert_int_equal(((uint8_t *)p)[2], 0x42);
    assert_status(cm_vmo_unmap(p, 3), CM_OK);
    assert_status(cm_vmo_set_size(h, 1), CM_ERR_UNSUPPORTED); /* not private since the fork */
    assert_status(cm_handle_close(h), CM_OK);
}

/* ---- a holder that punches holes (docs/vmo.md, "Huge pages") ----
 * fallocate(PUNCH_HOLE) on a hugetlbfs file frees its pages and their
 * reservation; a later touch of a mapping there needs a new huge page, and
 * with the pool empty that touch is SIGBUS. Only a write seal refuses the
 * punch, for every holder. */

static int punch(int fd, uint64_t off, uint64_t len)
{
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}

/* Takes every free huge page into a new memfd (closing it gives them back). */
static int drain_pool(void)
{
    int fd = memfd_create("test-drain", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
    for (off_t n = 0; fd >= 0 && fallocate(fd, 0, n * (off_t)HP, (off_t)HP) == 0; n++)
        ;
    return fd;
}

static int punched_map_child(void *arg)
{
    (void)arg;
    cm_handle_t h;
    void *p = NULL;
    int fd = huge_memfd(2 * HP);
    int keep = fd >= 0 ? dup(fd) : -1;
    if (keep < 0 || cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &h) != CM_OK)
        return 2;
    /* The holder of `keep` can still write the file: no mapping. */
    cm_status_t st = cm_vmo_map(h, 0, HP, CM_MAP_READ, &p);
    if (st == CM_OK) {
        /* What the mapping would risk: the holder punches, drains the pool. */
        if (punch(keep, 0, HP) != 0 || drain_pool() < 0)
            return 3;
        volatile uint8_t c = *(volatile uint8_t *)p; /* SIGBUS */
        (void)c;
        return 4;
    }
    if (st != CM_ERR_BAD_STATE)
        return 5;
    /* Under a write seal no holder can punch: mapped, and the touch is safe. */
    if (fcntl(keep, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) != 0)
        return 6;
    if (cm_vmo_map(h, 0, HP, CM_MAP_READ, &p) != CM_OK)
        return 7;
    if (punch(keep, 0, HP) == 0 || errno != EPERM)
        return 8;
    int drained = drain_pool();
    volatile uint8_t c = *(volatile uint8_t *)p;
    (void)c;
    close(drained);
    if (cm_vmo_unmap(p, HP) != CM_OK || cm_handle_close(h) != CM_OK)
        return 9;
    close(keep);
    return 0;
}

static void test_huge_vmo_another_process_can_punch_is_never_mapped(void **state)
{
    (void)state;
    assert_child_ok(in_child(punched_map_child, NULL));
}

static int export_mapped_child(void *arg)
{
    (void)arg;
    cm_handle_t h, a, b;
    uint8_t *p;
    int fd = -1;
    if (cm_vmo_create(HP, CM_VMO_HUGE, &h) != CM_OK ||
        cm_vmo_map(h, 0, HP, CM_MAP_READ | CM_MAP_WRITE, (void **)&p) != CM_OK)
        return 2;
    p[0] = 1;
    cm_status_t st = cm_host_vmo_export_fd(h, &fd);
    if (st == CM_OK) {
        /* The fd's holder punches the page under our mapping. */
        if (punch(fd, 0, HP) != 0 || drain_pool() < 0)
            return 3;
        p[0] = 2; /* SIGBUS */
        return 4;
    }
    if (st != CM_ERR_BAD_STATE)
        return 5;
    /* Sent over a channel, the fd would reach a peer the same way. */
    cm_handle_t dup_h;
    if (cm_channel_create(0, &a, &b) != CM_OK ||
        cm_handle_duplicate(h, CM_RIGHTS_SAME, &dup_h) != CM_OK)
        return 6;
    if (cm_channel_write(a, "v", 1, &dup_h, 1) != CM_ERR_BAD_STATE)
        return 7;
    /* Sealed READONLY no holder can punch: the export goes. */
    if (cm_vmo_seal(h, CM_SEAL_READONLY) != CM_OK || cm_host_vmo_export_fd(h, &fd) != CM_OK)
        return 8;
    if (punch(fd, 0, HP) == 0 || errno != EPERM)
        return 9;
    close(fd);
    if (cm_vmo_unmap(p, HP) != CM_OK)
        return 10;
    return 0;
}

static void test_mapped_huge_vmo_is_not_handed_out_punchable(void **state)
{
    (void)state;
    assert_child_ok(in_child(export_mapped_child, NULL));
}

/* A copy stalled where the test wants it: the source buffer's page at
 * `HP` is registered with userfaultfd, and the first touch of it (the copy
 * has filled the first huge page, not yet the second) runs the hostile
 * holder: punch the second page, drain the pool; then the page is given. */
struct stall {
    int uffd;
    int victim;
    int drained;
    atomic_int fired;
};

static void *stall_main(void *argp)
{
    struct stall *s = argp;
    struct uffd_msg msg;
    struct pollfd pf = { s->uffd, POLLIN, 0 };
    if (poll(&pf, 1, 10000) != 1 || read(s->uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg) ||
        msg.event != UFFD_EVENT_PAGEFAULT)
        return NULL;
    if (punch(s->victim, HP, HP) == 0)
        s->drained = drain_pool();
    atomic_store(&s->fired, 1);
    struct uffdio_zeropage z = { .range = { msg.arg.pagefault.address & ~(PG - 1), PG } };
    (void)ioctl(s->uffd, UFFDIO_ZEROPAGE, &z);
    return NULL;
}

static int stalled_write_child(void *arg)
{
    (void)arg;
    cm_handle_t h;
    pthread_t t;
    struct stall s = { -1, -1, -1, 0 };
    int fd = huge_memfd(2 * HP);
    s.victim = fd >= 0 ? dup(fd) : -1;
    if (s.victim < 0 || cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &h) != CM_OK ||
        fcntl(s.victim, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
        return 2;
    uint8_t *buf = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return 3;
    memset(buf, 0x5a, HP);
    s.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    struct uffdio_api api = { .api = UFFD_API };
    struct uffdio_register reg = { .range = { (uintptr_t)(buf + HP), PG },
                                   .mode = UFFDIO_REGISTER_MODE_MISSING };
    if (s.uffd < 0 || ioctl(s.uffd, UFFDIO_API, &api) != 0 ||
        ioctl(s.uffd, UFFDIO_REGISTER, &reg) != 0) {
        fprintf(stderr, "child: userfaultfd: %s\n", strerror(errno));
        return 4;
    }
    if (pthread_create(&t, NULL, stall_main, &s) != 0)
        return 5;
    /* A memcpy into the library's mapping would be SIGBUS here. The copy
     * may have got hold of the page before the punch (the bytes then go to
     * the page the holder threw away, as a write racing the punch would),
     * or not (MEMORY_PRESSURE: no huge page for it): either way a status. */
    cm_status_t st = cm_vmo_write(h, buf, 0, 2 * HP);
    pthread_join(t, NULL);
    if (!atomic_load(&s.fired) || s.drained < 0)
        return 6;
    if (st != CM_OK && st != CM_ERR_MEMORY_PRESSURE) {
        fprintf(stderr, "child: stalled write: %s\n", cm_status_name(st));
        return 7;
    }
    close(s.drained); /* the pages are back: the write goes through */
    if (cm_vmo_write(h, buf, 0, 2 * HP) != CM_OK)
        return 8;
    close(s.uffd);
    munmap(buf, 2 * HP);
    close(s.victim);
    return cm_handle_close(h) == CM_OK ? 0 : 9;
}

static void test_write_to_huge_vmo_whose_pages_a_holder_punches_mid_copy_never_sigbus(void **state)
{
    (void)state;
    assert_child_ok(in_child(stalled_write_child, NULL));
}

static int punched_snapshot_child(void *arg)
{
    (void)arg;
    cm_handle_t h, snap;
    uint8_t v = 0x33, r = 0;
    int fd = huge_memfd(2 * HP);
    int keep = fd >= 0 ? dup(fd) : -1;
    if (keep < 0 || cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &h) != CM_OK ||
        cm_vmo_write(h, &v, 0, 1) != CM_OK)
        return 2;
    /* A hole, and no page left to fill it: a mapping of the source (which
     * would have to reserve one) cannot be made, and one made before the
     * punch would fault. pread reads the hole as zeros. */
    int drained = -1;
    if (punch(keep, HP, HP) != 0 || (drained = drain_pool()) < 0)
        return 3;
    cm_status_t st = cm_vmo_snapshot(h, &snap);
    if (st != CM_OK) {
        fprintf(stderr, "child: snapshot: %s\n", cm_status_name(st));
        return 4;
    }
    uint64_t size = 0;
    if (cm_vmo_get_size(snap, &size) != CM_OK || size != 2 * HP)
        return 5;
    if (cm_vmo_read(snap, &r, 0, 1) != CM_OK || r != v)
        return 6;
    if (cm_vmo_read(snap, &r, HP, 1) != CM_OK || r != 0)
        return 7;
    close(drained);
    close(keep);
    if (cm_handle_close(snap) != CM_OK)
        return 8;
    return cm_handle_close(h) == CM_OK ? 0 : 9;
}

static void test_snapshot_of_punchable_huge_vmo_copies_by_pread_not_mapping(void **state)
{
    (void)state;
    assert_child_ok(in_child(punched_snapshot_child, NULL));
}

/* ---- snapshot racing set_size of a private huge VMO ----
 * A snapshot of a VMO private to this process copies through a mapping
 * of it, with no size floor: only this process can resize it. A set_size
 * from another thread that cuts the file under that copy would be SIGBUS. */

#define RESIZE_ROUNDS 300

struct resizer {
    cm_handle_t h;
    atomic_int stop;
};

static void *resizer_main(void *argp)
{
    struct resizer *r = argp;
    while (!atomic_load(&r->stop)) {
        (void)cm_vmo_set_size(r->h, 1);
        (void)cm_vmo_set_size(r->h, 3 * HP);
    }
    return NULL;
}

static int snapshot_resize_child(void *arg)
{
    (void)arg;
    struct resizer r = { CM_HANDLE_INVALID, 0 };
    pthread_t t;
    if (cm_vmo_create(3 * HP, CM_VMO_HUGE, &r.h) != CM_OK)
        return 2;
    if (pthread_create(&t, NULL, resizer_main, &r) != 0)
        return 3;
    int bad = 0;
    for (int i = 0; i < RESIZE_ROUNDS && !bad; i++) {
        cm_handle_t snap;
        cm_status_t st = cm_vmo_snapshot(r.h, &snap);
        if (st == CM_OK)
            st = cm_handle_close(snap);
        /* A shrink the copy sees is OUT_OF_RANGE; no huge page left for
         * the snapshot is a fallback, not an error. */
        if (st != CM_OK && st != CM_ERR_OUT_OF_RANGE) {
            fprintf(stderr, "child: snapshot: %s\n", cm_status_name(st));
            bad = 1;
        }
    }
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    return cm_handle_close(r.h) == CM_OK && !bad ? 0 : 4;
}

static void test_snapshot_racing_set_size_of_private_huge_vmo_never_sigbus(void **state)
{
    (void)state;
    assert_child_ok(in_child(snapshot_resize_child, NULL));
}

/* ---- a write racing the moment its VMO stops being private ----
 * A write to a private huge VMO sets no size floor: only this process can
 * cut it. An export landing between that look and the copy hands out an
 * fd whose holder can. Ordered by the mapping table's lock (held here):
 * the exporter comes up to it first, the writer (past its look) sleeps
 * behind it; the copy then stalls at its second huge page (userfaultfd)
 * while the fd's holder cuts the file. */

struct racer {
    cm_handle_t h;
    atomic_int tid;
    atomic_int done;
    cm_status_t st;
    int fd;
    const uint8_t *buf;
};

static void await_racer(struct racer *r)
{
    for (int i = 0; i < 5000 && (atomic_load(&r->tid) == 0 || !task_sleeping(atomic_load(&r->tid)));
         i++)
        nap_ms(1);
}

static void *racing_exporter(void *arg)
{
    struct racer *r = arg;
    atomic_store(&r->tid, (int)syscall(SYS_gettid));
    r->st = cm_host_vmo_export_fd(r->h, &r->fd);
    atomic_store(&r->done, 1);
    return NULL;
}

static void *racing_writer(void *arg)
{
    struct racer *r = arg;
    atomic_store(&r->tid, (int)syscall(SYS_gettid));
    r->st = cm_vmo_write(r->h, r->buf, 0, 2 * HP);
    atomic_store(&r->done, 1);
    return NULL;
}

struct cutter {
    int uffd;
    struct racer *exporter;
    atomic_int fired;
};

static void *cutter_main(void *argp)
{
    struct cutter *c = argp;
    struct uffd_msg msg;
    struct pollfd pf = { c->uffd, POLLIN, 0 };
    if (poll(&pf, 1, 10000) != 1 || read(c->uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
        return NULL;
    for (int i = 0; i < 5000 && !atomic_load(&c->exporter->done); i++)
        nap_ms(1);
    if (c->exporter->st == CM_OK)
        (void)!ftruncate(c->exporter->fd, 0); /* refused under a size floor */
    atomic_store(&c->fired, 1);
    struct uffdio_zeropage z = { .range = { msg.arg.pagefault.address & ~(PG - 1), PG } };
    (void)ioctl(c->uffd, UFFDIO_ZEROPAGE, &z);
    return NULL;
}

static int export_write_race_child(void *arg)
{
    (void)arg;
    struct racer e = { .fd = -1 }, w = { .fd = -1 };
    struct cutter c = { -1, &e, 0 };
    pthread_t te, tw, tc;
    if (cm_vmo_create(2 * HP, CM_VMO_HUGE, &e.h) != CM_OK)
        return 2;
    w.h = e.h;
    uint8_t *buf = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return 3;
    memset(buf, 0x5a, HP);
    w.buf = buf;
    c.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    struct uffdio_api api = { .api = UFFD_API };
    struct uffdio_register reg = { .range = { (uintptr_t)(buf + HP), PG },
                                   .mode = UFFDIO_REGISTER_MODE_MISSING };
    if (c.uffd < 0 || ioctl(c.uffd, UFFDIO_API, &api) != 0 ||
        ioctl(c.uffd, UFFDIO_REGISTER, &reg) != 0)
        return 4;
    if (pthread_create(&tc, NULL, cutter_main, &c) != 0)
        return 5;
    cm__map_table_hold();
    if (pthread_create(&te, NULL, racing_exporter, &e) != 0)
        return 5;
    await_racer(&e);
    if (pthread_create(&tw, NULL, racing_writer, &w) != 0)
        return 5;
    await_racer(&w);
    cm__map_table_release();
    pthread_join(te, NULL);
    pthread_join(tw, NULL); /* SIGBUS in the writer if the cut went through */
    pthread_join(tc, NULL);
    if (!atomic_load(&c.fired) || e.st != CM_OK)
        return 6;
    if (w.st != CM_OK) {
        fprintf(stderr, "child: racing write: %s\n", cm_status_name(w.st));
        return 7;
    }
    close(e.fd);
    close(c.uffd);
    munmap(buf, 2 * HP);
    return cm_handle_close(e.h) == CM_OK ? 0 : 8;
}

static void test_write_racing_an_export_never_leaves_the_copy_cuttable(void **state)
{
    (void)state;
    assert_child_ok(in_child(export_write_race_child, NULL));
}

/* ---- after a fork, the other process may hand the pages out ----
 * A huge VMO that existed at a fork is held by both processes; a mapping
 * one makes after the fork is not in the other's table, so the other can
 * export it unsealed, and the fd's holder can punch the pages out. */

static int forked_punch_child(void *arg)
{
    (void)arg;
    cm_handle_t h;
    void *p;
    int go[2], done[2];
    if (cm_vmo_create(HP, CM_VMO_HUGE, &h) != CM_OK || pipe(go) != 0 || pipe(done) != 0)
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        /* The other process: hands the object out, and its holder punches. */
        char c;
        int fd = -1;
        alarm(20);
        close(go[1]);
        close(done[0]);
        if (read(go[0], &c, 1) != 1)
            _exit(0); /* the parent mapped nothing */
        if (cm_host_vmo_export_fd(h, &fd) != CM_OK || punch(fd, 0, HP) != 0)
            _exit(1);
        int drained = drain_pool();
        (void)!write(done[1], "d", 1);
        (void)!read(go[0], &c, 1); /* until the parent is done */
        close(drained);
        _exit(0);
    }
    close(go[0]);
    close(done[1]);
    cm_status_t st = cm_vmo_map(h, 0, HP, CM_MAP_READ, &p);
    if (st == CM_OK) {
        char c;
        (void)!write(go[1], "m", 1);
        if (read(done[0], &c, 1) == 1) {
            volatile uint8_t x = *(volatile uint8_t *)p; /* SIGBUS */
            (void)x;
        }
        (void)!write(go[1], "x", 1);
        cm_vmo_unmap(p, HP);
    }
    close(go[1]);
    close(done[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    cm_handle_close(h);
    if (st != CM_ERR_BAD_STATE) {
        fprintf(stderr, "child: map after fork: %s\n", cm_status_name(st));
        return 3;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 4;
}

static void test_huge_vmo_held_across_a_fork_is_not_mapped_unsealed(void **state)
{
    (void)state;
    assert_child_ok(in_child(forked_punch_child, NULL));
}

/* A write to a huge VMO another process may hold copies with
 * process_vm_writev; where a seccomp filter (or the kernel) refuses it the
 * write is UNSUPPORTED, never a memcpy that could be SIGBUS. */
static int no_pvw_child(void *arg)
{
    (void)arg;
    cm_handle_t h;
    uint8_t v = 7, r = 0;
    int fd = huge_memfd(HP);
    if (fd < 0 || cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &h) != CM_OK)
        return 2;
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_writev, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 3;
    cm_status_t st = cm_vmo_write(h, &v, 0, 1);
    if (st != CM_ERR_UNSUPPORTED) {
        fprintf(stderr, "child: write without process_vm_writev: %s\n", cm_status_name(st));
        return 4;
    }
    if (cm_vmo_read(h, &r, 0, 1) != CM_OK || r != 0)
        return 5;
    return cm_handle_close(h) == CM_OK ? 0 : 6;
}

static void test_write_to_shared_huge_vmo_without_process_vm_writev_is_unsupported(void **state)
{
    (void)state;
    assert_child_ok(in_child(no_pvw_child, NULL));
}

/* A foreign hugetlb fd whose creator allocated no page (a sparse file):
 * this process's mapping reserves the pages it covers, so an empty pool is
 * NO_MEMORY from map, never a fault at the touch. */
static int sparse_child(void *arg)
{
    (void)arg;
    cm_handle_t h;
    void *p;
    int fd = memfd_create("test-sparse", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_HUGE_2MB);
    if (fd < 0 || ftruncate(fd, (off_t)(2 * HP)) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) != 0 ||
        cm_host_vmo_from_fd(fd, CM_RIGHTS_SAME, &h) != CM_OK)
        return 2;
    int drained = drain_pool();
    cm_status_t st = cm_vmo_map(h, 0, 2 * HP, CM_MAP_READ, &p);
    if (st != CM_ERR_NO_MEMORY) {
        fprintf(stderr, "child: map of a sparse file, pool empty: %s\n", cm_status_name(st));
        return 3;
    }
    close(drained);
    if (cm_vmo_map(h, 0, 2 * HP, CM_MAP_READ, &p) != CM_OK)
        return 4;
    drained = drain_pool(); /* the mapping's pages are reserved: not taken */
    volatile uint8_t x = ((volatile uint8_t *)p)[HP];
    close(drained);
    if (x != 0 || cm_vmo_unmap(p, 2 * HP) != CM_OK)
        return 5;
    return cm_handle_close(h) == CM_OK ? 0 : 6;
}

static void test_sealed_sparse_huge_fd_is_reserved_at_map_never_faulted(void **state)
{
    (void)state;
    assert_child_ok(in_child(sparse_child, NULL));
}

int main(void)
{
    if (free_huge_pages() < 16) {
        fprintf(stderr, "vmo_huge: needs 16 free 2 MiB pages (HugePages_Free %ld): "
                        "run tests/host/vmo_huge_test.sh\n", meminfo("HugePages_Free"));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_huge_option_gives_huge_pages_and_exact_size),
        LEAK_TEST(test_automatic_policy_uses_huge_pages_from_2mib),
        LEAK_TEST(test_base_pages_option_opts_out_of_huge_pages),
        LEAK_TEST(test_huge_option_with_size_zero_gets_base_pages),
        LEAK_TEST(test_empty_pool_falls_back_to_base_pages),
        LEAK_TEST(test_create_allocates_every_huge_page_at_once),
        LEAK_TEST(test_map_at_interior_offset_returns_interior_pointer),
        LEAK_TEST(test_shrink_then_grow_reads_zeros),
        LEAK_TEST(test_set_size_never_cuts_a_huge_mapping),
        LEAK_TEST(test_grow_of_huge_vmo_with_pool_drained_is_memory_pressure),
        LEAK_TEST(test_write_sealed_huge_vmo_refuses_write),
        LEAK_TEST(test_transfer_to_forked_receiver_keeps_exact_size),
        LEAK_TEST(test_unsealed_huge_vmo_received_with_write_is_written_through_mapping),
        LEAK_TEST(test_hostile_descriptor_sizes_are_protocol_and_close_the_fd),
        LEAK_TEST(test_foreign_hugetlb_memfd_from_fd_has_file_size),
        LEAK_TEST(test_fork_child_reads_exact_size_and_cannot_resize),
        LEAK_TEST(test_huge_vmo_another_process_can_punch_is_never_mapped),
        LEAK_TEST(test_mapped_huge_vmo_is_not_handed_out_punchable),
        LEAK_TEST(test_write_to_huge_vmo_whose_pages_a_holder_punches_mid_copy_never_sigbus),
        LEAK_TEST(test_snapshot_of_punchable_huge_vmo_copies_by_pread_not_mapping),
        LEAK_TEST(test_snapshot_racing_set_size_of_private_huge_vmo_never_sigbus),
        LEAK_TEST(test_write_racing_an_export_never_leaves_the_copy_cuttable),
        LEAK_TEST(test_huge_vmo_held_across_a_fork_is_not_mapped_unsealed),
        LEAK_TEST(test_write_to_shared_huge_vmo_without_process_vm_writev_is_unsupported),
        LEAK_TEST(test_sealed_sparse_huge_fd_is_reserved_at_map_never_faulted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
