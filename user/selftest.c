/* SPDX-License-Identifier: MIT */
/* Kernel selftests, xv6 usertests style: every test is a function listed
 * once in `tests[]` at the bottom, and that table is the only list there
 * is. Run without arguments, this program is the runner: it prints the
 * plan "1..N" from the table's size, runs each entry in a process of its
 * own ("selftest NAME") and reports "ok N - name" / "not ok N - name # why"
 * from the same table, so a test cannot exist and never run. The functions
 * are static: one left out of the table is an unused-function error
 * (-Wall -Werror), not a silent gap.
 *
 * The runner also checks the kernel's counters (free frames, live objects,
 * live processes, queued messages, live accounts) around each test: a test
 * whose process leaves anything behind fails, whatever it returned.
 *
 * A test returns 0 only after checking every property it names; CHECK
 * prints the failing line first. Tests that need a victim process spawn
 * this same program with a "child_*" name from `helpers[]` (never reported
 * as tests). */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>

#include "cmk.h"
#include "selftest.h"

const char *selftest_arg;

static int is_live(cm_handle_t h)
{
    cm_handle_info_t info;
    return cm_handle_get_info(h, &info) == CM_OK;
}

/* A VMO of `size` bytes whose first bytes are `text`. */
static int make_vmo(uint64_t size, const char *text, cm_handle_t *out)
{
    CHECK_ST(cm_vmo_create(size, 0, out), CM_OK);
    if (text != NULL)
        CHECK_ST(cm_vmo_write(*out, text, 0, strlen(text) + 1), CM_OK);
    return 0;
}

/* Runs built-in program `prog` with `args` (and `h`, if valid, moved into
 * it) and returns how it ended. */
static int run_program(const char *prog, const char *const *args, uint32_t nargs,
                       cm_handle_t h, cmk_exit_info_t *info)
{
    int32_t pid = cmk_spawn(prog, args, nargs, &h, h != CM_HANDLE_INVALID ? 1 : 0,
                            CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cmk_wait(pid, info), CM_OK);
    return 0;
}

/* Runs this program as a child doing `what`. */
static int run_child(const char *what, cm_handle_t h, cmk_exit_info_t *info)
{
    const char *args[1] = { what };
    return run_program("selftest", args, 1, h, info);
}

static int same_counters(const cmk_counters_t *a, const cmk_counters_t *b)
{
    return a->free_frames == b->free_frames && a->live_objects == b->live_objects &&
           a->live_procs == b->live_procs && a->live_msgs == b->live_msgs;
}

/* The sharing proof of apps/vmo_share.c, unchanged from the host: 4 MiB,
 * small enough for TCG, large enough to span several VMO leaf tables
 * (1024 pages). It prints the "SELFTEST:" markers the demo shows. */
static int test_vmo_share_proof(void)
{
    static const char *const args[] = { "--size", "4194304" };
    cmk_exit_info_t info;
    CHECK(run_program("vmo_share", args, 2, CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    return 0;
}

/* The proof can fail: a consumer that corrupts its digest is caught. */
static int test_vmo_share_detects_corrupted_hash(void)
{
    static const char *const args[] = { "--size", "65536", "--break-hash", "--quiet" };
    cmk_exit_info_t info;
    printf("# the next vmo_share run must report a failure\n");
    CHECK(run_program("vmo_share", args, 4, CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code != 0);
    return 0;
}

/* The SharedBuffer streaming proof of apps/sbuf_stream.c, unchanged from
 * the host: a producer and two consumer processes that receive their
 * consumer handles over channels; every message's sequence, length and
 * SHA-256 checked in place. Small enough for TCG; the buffer, its VMOs and
 * the three processes are all gone afterwards. */
static int test_sbuf_stream_proof(void)
{
    static const char *const args[] = { "--count", "300", "--slot-size", "16384" };
    cmk_counters_t before, after;
    cmk_exit_info_t info;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(run_program("sbuf_stream", args, 4, CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(same_counters(&before, &after));
    return 0;
}

/* The stream proof can fail: a consumer that corrupts a digest is caught. */
static int test_sbuf_stream_detects_corrupted_hash(void)
{
    static const char *const args[] = { "--count", "40", "--slot-size", "4096", "--break-hash",
                                        "--quiet" };
    cmk_exit_info_t info;
    printf("# the next sbuf_stream run must report a failure\n");
    CHECK(run_program("sbuf_stream", args, 6, CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code != 0);
    return 0;
}

static int test_reject_unauthorized_transfer(void)
{
    cm_handle_t vmo, no_xfer, a, b;
    uint32_t nb = 0, nh = 0;
    char buf[8];
    CHECK(make_vmo(PAGE, "secret", &vmo) == 0);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP, &no_xfer), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, &no_xfer, 1), CM_ERR_ACCESS_DENIED);
    /* Consumed even though the write failed; nothing reached the peer. */
    CHECK(!is_live(no_xfer));
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    /* The holder of TRANSFER can send; the original handle was untouched. */
    CHECK(is_live(vmo));
    cm_handle_close(vmo);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static int test_reject_oversized_mapping(void)
{
    cm_handle_t vmo;
    void *p = NULL;
    CHECK(make_vmo(2 * PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_vmo_map(vmo, 0, 3 * PAGE, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_map(vmo, PAGE, 2 * PAGE, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_map(vmo, 4 * PAGE, PAGE, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    /* offset + len wraps around 2^64 */
    CHECK_ST(cm_vmo_map(vmo, UINT64_MAX - PAGE + 1, 2 * PAGE, CM_MAP_READ, &p),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_map(vmo, 0, UINT64_MAX, CM_MAP_READ, &p), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_map(vmo, 1, PAGE, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(vmo, 0, 0, CM_MAP_READ, &p), CM_ERR_INVALID_ARGS);
    CHECK(p == NULL);
    CHECK_ST(cm_vmo_map(vmo, PAGE, PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

/* The receiver's side of a sealed share: what it can do is decided by the
 * kernel's object, whatever the sender claims. */
static int test_ro_mapping_enforced(void)
{
    cm_handle_t vmo, ro, a, b, got = CM_HANDLE_INVALID;
    cm_vmo_info_t info;
    uint32_t nb = 0, nh = 0;
    char msg[16], text[16];
    void *p = NULL;
    CHECK(make_vmo(PAGE, "payload", &vmo) == 0);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &ro),
             CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    /* The sender lies in the bytes; the receiver ignores them. */
    CHECK_ST(cm_channel_write(a, "writable", 9, &ro, 1), CM_OK);
    CHECK_ST(cm_channel_read(b, msg, sizeof(msg), &nb, &got, 1, &nh), CM_OK);
    CHECK(nh == 1 && nb == 9);
    CHECK_ST(cm_vmo_get_info(got, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) != 0);
    CHECK((info.rights & CM_RIGHT_WRITE) == 0);
    CHECK(info.size == PAGE);
    CHECK_ST(cm_vmo_write(got, "X", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(got, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_set_size(got, 2 * PAGE), CM_ERR_ACCESS_DENIED);
    /* Even the creator's handle, which still has WRITE, is held by the seal. */
    CHECK_ST(cm_vmo_write(vmo, "X", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_set_size(vmo, 2 * PAGE), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(got, 0, PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK(strcmp((const char *)p, "payload") == 0);
    CHECK_ST(cm_vmo_read(got, text, 0, 8), CM_OK);
    CHECK(strcmp(text, "payload") == 0);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    cm_handle_close(got);
    cm_handle_close(vmo);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

/* Child: maps its start-up VMO read-only and writes through the mapping.
 * The store must fault and the kernel must end this process. */
static int child_write_ro(void)
{
    void *p = NULL;
    cm_handle_t vmo = cmk_startup_handle(0);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ, &p), CM_OK);
    *(volatile char *)p = 'X';
    printf("# child_write_ro: the write through a read-only mapping did not fault\n");
    return 0;
}

static int test_write_to_sealed_mapping_faults_process(void)
{
    cm_handle_t vmo, given;
    cmk_exit_info_t info;
    cmk_counters_t before, after;
    char text[8];
    CHECK(make_vmo(PAGE, "intact", &vmo) == 0);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, &given),
             CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(run_child("child_write_ro", given, &info) == 0);
    CHECK(info.reason == CMK_EXIT_FAULTED);
    CHECK(info.code == 15); /* store/AMO page fault */
    CHECK(info.fault_va != 0);
    /* Typed: the page is mapped, without the access (abi cmk_exit_info_t). */
    CHECK(info.status == CM_ERR_ACCESS_DENIED);
    /* The kernel reaped it: the child's frames, handle and mapping are gone. */
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(after.free_frames == before.free_frames);
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.live_procs == before.live_procs);
    CHECK_ST(cm_vmo_read(vmo, text, 0, 7), CM_OK);
    CHECK(strcmp(text, "intact") == 0);
    cm_handle_close(vmo);
    return 0;
}

typedef void (*code_fn)(void);

/* Child: copies a return instruction into a writable mapping, remaps the
 * VMO read-only and jumps into it. VMO mappings are never executable. */
static int child_exec_vmo(void)
{
    /* c.jr ra; c.nop */
    static const uint8_t ret_insn[4] = { 0x82, 0x80, 0x01, 0x00 };
    cm_handle_t vmo;
    void *p = NULL;
    CHECK_ST(cm_vmo_create(PAGE, 0, &vmo), CM_OK);
    CHECK_ST(cm_vmo_write(vmo, ret_insn, 0, sizeof(ret_insn)), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ, &p), CM_OK);
    code_fn fn = (code_fn)(uintptr_t)p;
    fn();
    printf("# child_exec_vmo: executing a VMO mapping did not fault\n");
    return 0;
}

static int test_mapping_is_never_executable(void)
{
    cmk_exit_info_t info;
    CHECK(run_child("child_exec_vmo", CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_FAULTED);
    CHECK(info.code == 12); /* instruction page fault */
    CHECK(info.status == CM_ERR_ACCESS_DENIED); /* mapped, not executable */
    return 0;
}

static int test_seal_immutable_refused_while_writable_mapping(void)
{
    cm_handle_t vmo;
    cm_vmo_info_t info;
    void *w = NULL;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &w), CM_OK);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmo_get_info(vmo, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) == 0);
    CHECK_ST(cm_vmo_unmap(w, PAGE), CM_OK);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK); /* idempotent */
    CHECK_ST(cm_vmo_seal(vmo, (cm_seal_t)7), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_get_info(vmo, &info), CM_OK);
    CHECK((info.flags & (CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY)) ==
          (CM_VMO_INFO_IMMUTABLE | CM_VMO_INFO_READONLY));
    cm_handle_close(vmo);
    return 0;
}

static int test_readonly_seal_keeps_existing_mapping(void)
{
    cm_handle_t vmo;
    cm_vmo_info_t info;
    void *w = NULL, *w2 = NULL;
    char c = 0;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &w), CM_OK);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_READONLY), CM_OK);
    CHECK_ST(cm_vmo_get_info(vmo, &info), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_READONLY) != 0);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) == 0); /* not immutable: w still writes */
    ((volatile char *)w)[0] = 'k';
    CHECK_ST(cm_vmo_read(vmo, &c, 0, 1), CM_OK);
    CHECK(c == 'k');
    CHECK_ST(cm_vmo_write(vmo, "z", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | CM_MAP_WRITE, &w2), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_set_size(vmo, 0), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmo_unmap(w, PAGE), CM_OK);
    CHECK_ST(cm_vmo_seal(vmo, CM_SEAL_IMMUTABLE), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

static int test_snapshot_is_immutable(void)
{
    cm_handle_t vmo, snap;
    cm_vmo_info_t info, vinfo;
    char text[8];
    CHECK(make_vmo(3 * PAGE, "before", &vmo) == 0);
    CHECK_ST(cm_vmo_snapshot(vmo, &snap), CM_OK);
    CHECK_ST(cm_vmo_write(vmo, "after!", 0, 7), CM_OK);
    CHECK_ST(cm_vmo_read(snap, text, 0, 7), CM_OK);
    CHECK(strcmp(text, "before") == 0);
    CHECK_ST(cm_vmo_get_info(snap, &info), CM_OK);
    CHECK_ST(cm_vmo_get_info(vmo, &vinfo), CM_OK);
    CHECK((info.flags & CM_VMO_INFO_IMMUTABLE) != 0);
    CHECK((info.rights & CM_RIGHT_WRITE) == 0);
    CHECK(info.size == 3 * PAGE && info.id != vinfo.id);
    CHECK_ST(cm_vmo_write(snap, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    cm_handle_close(vmo);
    cm_handle_close(snap);
    return 0;
}

static int test_set_size_rules(void)
{
    cm_handle_t vmo;
    uint64_t size = 0;
    void *p = NULL;
    char buf[16];
    CHECK(make_vmo(100, "0123456789", &vmo) == 0);
    CHECK_ST(cm_vmo_map(vmo, PAGE * 0, 100, CM_MAP_READ | CM_MAP_WRITE, &p), CM_OK);
    /* A byte written past the size through the mapping must not reappear. */
    ((volatile char *)p)[200] = 'G';
    CHECK_ST(cm_vmo_set_size(vmo, 3 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, buf, 200, 1), CM_OK);
    CHECK(buf[0] == 0);
    CHECK_ST(cm_vmo_unmap(p, 100), CM_OK);
    CHECK_ST(cm_vmo_map(vmo, 2 * PAGE, PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_vmo_set_size(vmo, PAGE), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_OK);
    CHECK_ST(cm_vmo_set_size(vmo, 5), CM_OK);
    CHECK_ST(cm_vmo_get_size(vmo, &size), CM_OK);
    CHECK(size == 5);
    CHECK_ST(cm_vmo_set_size(vmo, 10), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, buf, 0, 10), CM_OK);
    CHECK(memcmp(buf, "01234\0\0\0\0\0", 10) == 0);
    CHECK_ST(cm_vmo_set_size(vmo, CM_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_set_size(vmo, CMK_VMO_MAX_SIZE + 1), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(vmo);
    return 0;
}

static int test_vmo_bounds(void)
{
    cm_handle_t vmo, big;
    char buf[8];
    cm_limits_t lim = { .struct_size = sizeof lim };
    CHECK_ST(cm_limits_get(&lim), CM_OK);
    /* The kernel's effective limits (abi/syscall_abi.h), below the ABI's. */
    CHECK(lim.vmo_max_size == CMK_VMO_MAX_SIZE && lim.vmo_max_size < CM_VMO_MAX_SIZE);
    CHECK(lim.max_mapped_bytes == CMK_MAX_MAPPED_BYTES);
    CHECK(lim.struct_size == sizeof lim && lim.version == CM_LIMITS_VERSION);
    CHECK_ST(cm_vmo_create(lim.vmo_max_size + 1, 0, &big), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_create(CM_VMO_MAX_SIZE, 0, &big), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_create(PAGE, 0x80, &big), CM_ERR_INVALID_ARGS);
    /* At the effective limit: larger than the machine's RAM, so above this
     * process's commit quota (docs/ledger.md): a typed error, not a crash. */
    CHECK_ST(cm_vmo_create(lim.vmo_max_size, 0, &big), CM_ERR_QUOTA_COMMIT);
    /* The kernel target records no detail (docs/api.md "Errors"). */
    CHECK(cm_status_detail()[0] == '\0');
    CHECK_ST(cm_vmo_create(0, CM_VMO_COMMIT, &vmo), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, buf, 0, 0), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, buf, 0, 1), CM_ERR_OUT_OF_RANGE);
    cm_handle_close(vmo);
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_vmo_read(vmo, buf, PAGE, 0), CM_OK);
    CHECK_ST(cm_vmo_read(vmo, buf, PAGE - 4, 8), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_write(vmo, buf, UINT64_MAX - 2, 8), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_read(vmo, NULL, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create_from_file("/x", 0, PAGE, &big), CM_ERR_UNSUPPORTED);
    cm_handle_close(vmo);
    return 0;
}

/* A mapping keeps its VMO alive after the last handle is closed, and the
 * object goes when the mapping does. */
static int test_mapping_outlives_handle(void)
{
    cm_handle_t vmo;
    cmk_counters_t before, during, after;
    void *p = NULL;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(make_vmo(2 * PAGE, "still here", &vmo) == 0);
    CHECK_ST(cm_vmo_map(vmo, 0, 2 * PAGE, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    CHECK_ST(cmk_counters(&during), CM_OK);
    CHECK(during.live_objects == before.live_objects + 1);
    CHECK(strcmp((const char *)p, "still here") == 0);
    CHECK_ST(cm_vmo_unmap(p, PAGE), CM_ERR_INVALID_ARGS); /* not the mapped length */
    CHECK_ST(cm_vmo_unmap((char *)p + PAGE, PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap(p, 2 * PAGE), CM_OK);
    CHECK_ST(cm_vmo_unmap(p, 2 * PAGE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cmk_counters(&after), CM_OK);
    /* Objects, not frames: the page-table pages of the mapping area stay
     * with the address space until the process exits. */
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.free_frames >= during.free_frames + 2);
    return 0;
}

static int test_stale_handle_rejected(void)
{
    cm_handle_t vmo, again;
    uint64_t size;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    CHECK_ST(cm_vmo_get_size(vmo, &size), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(vmo), CM_ERR_BAD_HANDLE);
    /* The slot is reused, but the stale value does not name the new object. */
    CHECK(make_vmo(PAGE, NULL, &again) == 0);
    CHECK(again != vmo);
    CHECK_ST(cm_vmo_get_size(vmo, &size), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_vmo_get_size(0x7fffffffu, &size), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_vmo_get_size(0xffffffffu, &size), CM_ERR_BAD_HANDLE);
    CHECK_ST(cm_handle_close(CM_HANDLE_INVALID), CM_OK);
    cm_handle_close(again);
    return 0;
}

static int test_wrong_type_rejected(void)
{
    cm_handle_t vmo, a, b;
    uint64_t size;
    void *p;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_vmo_get_size(a, &size), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_vmo_map(a, 0, PAGE, CM_MAP_READ, &p), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_channel_write(vmo, "x", 1, NULL, 0), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_channel_wait_readable(vmo, 0), CM_ERR_WRONG_TYPE);
    cm_handle_close(vmo);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static int test_rights_only_shrink(void)
{
    cm_handle_t vmo, r, r2, rep;
    cm_handle_info_t hi;
    void *p;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHT_READ | CM_RIGHT_DUPLICATE, &r), CM_OK);
    CHECK_ST(cm_handle_get_info(r, &hi), CM_OK);
    CHECK(hi.type == CM_OBJ_VMO && hi.rights == (CM_RIGHT_READ | CM_RIGHT_DUPLICATE));
    CHECK_ST(cm_handle_duplicate(r, CM_RIGHT_READ | CM_RIGHT_WRITE, &r2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_replace(r, CM_RIGHTS_ALL, &rep), CM_ERR_INVALID_ARGS);
    CHECK(is_live(r)); /* a failed replace leaves the handle */
    CHECK_ST(cm_vmo_write(r, "x", 0, 1), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmo_map(r, 0, PAGE, CM_MAP_READ, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_replace(r, CM_RIGHT_READ, &rep), CM_OK);
    CHECK(!is_live(r));
    CHECK_ST(cm_handle_duplicate(rep, CM_RIGHTS_SAME, &r2), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_get_info(rep, &hi), CM_OK);
    CHECK(hi.rights == CM_RIGHT_READ);
    cm_handle_close(rep);
    cm_handle_close(vmo);
    return 0;
}

static cm_handle_t table_fill[CM_MAX_HANDLES];

static int test_handle_table_limit(void)
{
    cm_handle_t vmo, extra;
    uint32_t n = 0;
    cm_status_t st;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    while ((st = cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &table_fill[n])) == CM_OK) {
        CHECK(n + 1 < CM_MAX_HANDLES);
        n++;
    }
    CHECK_ST(st, CM_ERR_NO_RESOURCES);
    CHECK(n == CM_MAX_HANDLES - 1); /* vmo itself holds the last slot */
    CHECK_ST(cm_vmo_create(PAGE, 0, &extra), CM_ERR_NO_RESOURCES);
    /* replace still works in a full table: the old slot makes the room. */
    CHECK_ST(cm_handle_replace(table_fill[0], CM_RIGHT_READ, &extra), CM_OK);
    CHECK(!is_live(table_fill[0]) && is_live(extra));
    table_fill[0] = extra;
    for (uint32_t i = 0; i < n; i++)
        CHECK_ST(cm_handle_close(table_fill[i]), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

/* A receiver whose table is full gets NO_RESOURCES, a shortage of its
 * own: the message stays queued, whole, until it makes room. */
static int test_channel_read_without_room_keeps_message(void)
{
    cm_handle_t vmo, d, a, b, got = CM_HANDLE_INVALID;
    uint32_t n = 0, nb = 0, nh = 0;
    char c = 0, text[8];
    cmk_counters_t before, after;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(make_vmo(PAGE, "carried", &d) == 0);
    CHECK_ST(cm_channel_write(a, "m", 1, &d, 1), CM_OK);
    while (cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &table_fill[n]) == CM_OK)
        n++;
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, &got, 1, &nh), CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_channel_wait_readable(b, 0), CM_OK); /* still queued */
    CHECK_ST(cm_handle_close(table_fill[0]), CM_OK);
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, &got, 1, &nh), CM_OK);
    CHECK(c == 'm' && nb == 1 && nh == 1);
    CHECK_ST(cm_vmo_read(got, text, 0, 8), CM_OK);
    CHECK(strcmp(text, "carried") == 0);
    for (uint32_t i = 1; i < n; i++)
        CHECK_ST(cm_handle_close(table_fill[i]), CM_OK);
    CHECK_ST(cm_handle_close(got), CM_OK);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(after.live_objects == before.live_objects && after.live_msgs == before.live_msgs);
    cm_handle_close(vmo);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static int test_channel_too_many_handles(void)
{
    cm_handle_t a, b, vmo, list[CM_CHANNEL_MAX_HANDLES + 1];
    uint32_t nb, nh;
    char c;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_HANDLES + 1; i++)
        CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &list[i]), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, list, CM_CHANNEL_MAX_HANDLES + 1),
             CM_ERR_OUT_OF_RANGE);
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_HANDLES + 1; i++)
        CHECK(!is_live(list[i]));
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, NULL, 0, &nh), CM_ERR_SHOULD_WAIT);
    /* Exactly the limit is fine. */
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_HANDLES; i++)
        CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &list[i]), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, list, CM_CHANNEL_MAX_HANDLES), CM_OK);
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, list, CM_CHANNEL_MAX_HANDLES, &nh), CM_OK);
    CHECK(nh == CM_CHANNEL_MAX_HANDLES);
    for (uint32_t i = 0; i < nh; i++)
        CHECK_ST(cm_handle_close(list[i]), CM_OK);
    cm_handle_close(vmo);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static uint8_t big_msg[CM_CHANNEL_MAX_BYTES + 1];
static uint8_t big_in[CM_CHANNEL_MAX_BYTES];

static int test_channel_too_many_bytes(void)
{
    cm_handle_t a, b;
    uint32_t nb = 0, nh = 0;
    for (uint32_t i = 0; i < sizeof(big_msg); i++)
        big_msg[i] = (uint8_t)(i * 7);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, big_msg, CM_CHANNEL_MAX_BYTES + 1, NULL, 0),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_channel_write(a, big_msg, CM_CHANNEL_MAX_BYTES, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_read(b, big_in, sizeof(big_in), &nb, NULL, 0, &nh), CM_OK);
    CHECK(nb == CM_CHANNEL_MAX_BYTES && nh == 0);
    CHECK(memcmp(big_in, big_msg, CM_CHANNEL_MAX_BYTES) == 0);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static int test_channel_queue_full(void)
{
    cm_handle_t a, b;
    uint32_t nb, nh, v;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_QUEUED; i++)
        CHECK_ST(cm_channel_write(a, &i, sizeof(i), NULL, 0), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_ERR_SHOULD_WAIT);
    /* The other direction has its own queue. */
    CHECK_ST(cm_channel_write(b, "y", 1, NULL, 0), CM_OK);
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_QUEUED; i++) {
        CHECK_ST(cm_channel_read(b, &v, sizeof(v), &nb, NULL, 0, &nh), CM_OK);
        CHECK(v == i && nb == sizeof(v)); /* FIFO */
    }
    CHECK_ST(cm_channel_write(a, "x", 1, NULL, 0), CM_OK);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static int test_channel_consumes_handles_on_failure(void)
{
    cm_handle_t a, b, vmo, dup1, dup2, list[3];
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &dup1), CM_OK);
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &dup2), CM_OK);
    /* A handle listed twice: INVALID_ARGS, still consumed. */
    list[0] = dup1;
    list[1] = dup1;
    CHECK_ST(cm_channel_write(a, NULL, 0, list, 2), CM_ERR_INVALID_ARGS);
    CHECK(!is_live(dup1));
    /* A value that names nothing fails the write; the live one goes anyway. */
    CHECK_ST(cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &dup1), CM_OK);
    list[0] = dup1;
    list[1] = 0x00012345u;
    CHECK_ST(cm_channel_write(a, NULL, 0, list, 2), CM_ERR_BAD_HANDLE);
    CHECK(!is_live(dup1));
    /* The channel itself cannot be sent and is not consumed. */
    CHECK_ST(cm_channel_write(a, NULL, 0, &a, 1), CM_ERR_INVALID_ARGS);
    CHECK(is_live(a));
    /* Peer gone: PEER_CLOSED, and the handle is consumed anyway. */
    CHECK_ST(cm_handle_close(b), CM_OK);
    CHECK_ST(cm_channel_write(a, "x", 1, &dup2, 1), CM_ERR_PEER_CLOSED);
    CHECK(!is_live(dup2));
    CHECK(is_live(vmo));
    cm_handle_close(vmo);
    cm_handle_close(a);
    return 0;
}

static int test_channel_buffer_too_small_keeps_message(void)
{
    cm_handle_t a, b, vmo, got = CM_HANDLE_INVALID;
    uint32_t nb = 0, nh = 0;
    char buf[16];
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_channel_write(a, "hello", 6, &vmo, 1), CM_OK);
    CHECK_ST(cm_channel_read(b, buf, 2, &nb, &got, 1, &nh), CM_ERR_BUFFER_TOO_SMALL);
    CHECK(nb == 6 && nh == 1);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_ERR_BUFFER_TOO_SMALL);
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, &got, 1, &nh), CM_OK);
    CHECK(nb == 6 && nh == 1 && strcmp(buf, "hello") == 0);
    CHECK(is_live(got));
    cm_handle_close(got);
    cm_handle_close(a);
    cm_handle_close(b);
    return 0;
}

static int test_channel_wait_timeout_and_peer_closed(void)
{
    cm_handle_t a, b;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    uint64_t t0 = 0;
    __asm__ volatile("rdtime %0" : "=r"(t0));
    CHECK_ST(cm_channel_wait_readable(b, 20 * 1000 * 1000), CM_ERR_TIMED_OUT);
    uint64_t t1 = 0;
    __asm__ volatile("rdtime %0" : "=r"(t1));
    CHECK(t1 - t0 >= 200000); /* at least 20 ms at 10 MHz */
    CHECK_ST(cm_channel_wait_readable(b, 0), CM_ERR_TIMED_OUT);
    CHECK_ST(cm_channel_write(a, "m", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    /* Queued data is still readable after the peer closes. */
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
    char c;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, NULL, 0, &nh), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, NULL, 0, &nh), CM_ERR_PEER_CLOSED);
    cm_handle_close(b);
    return 0;
}

static const char rodata_text[64] = "read-only data";

static int test_bad_user_pointers_rejected(void)
{
    cm_handle_t vmo, a, b;
    cm_vmo_info_t *kernel_ptr = (cm_vmo_info_t *)(uintptr_t)0x80200000u;
    void *unmapped = (void *)(uintptr_t)0x3000000000ull;
    void *wild = (void *)(uintptr_t)0xffffffffffff0000ull;
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(make_vmo(PAGE, "data", &vmo) == 0);
    CHECK_ST(cm_vmo_get_info(vmo, kernel_ptr), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_get_info(vmo, NULL), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_read(vmo, unmapped, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_read(vmo, wild, 0, 8), CM_ERR_INVALID_ARGS);
    /* Read-only memory is not a valid destination. */
    CHECK_ST(cm_vmo_read(vmo, (void *)(uintptr_t)rodata_text, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK(strcmp(rodata_text, "read-only data") == 0);
    CHECK_ST(cm_vmo_write(vmo, kernel_ptr, 0, 8), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create(PAGE, 0, (cm_handle_t *)kernel_ptr), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_create(PAGE, 0, (cm_handle_t *)(uintptr_t)rodata_text),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_create(0, &a, (cm_handle_t *)unmapped), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, unmapped, 16, NULL, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_write(a, "x", 1, (cm_handle_t *)unmapped, 1), CM_ERR_INVALID_ARGS);
    void *addr;
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ, (void **)kernel_ptr), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_map(vmo, 0, PAGE, CM_MAP_READ | 0x100, &addr), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_unmap(unmapped, PAGE), CM_ERR_INVALID_ARGS);
    /* A range that starts valid and runs off the end of the stack. */
    CHECK_ST(cm_vmo_read(vmo, (void *)(uintptr_t)(0x3f00000000ull - 0x10000ull - 4), 0, 8),
             CM_ERR_INVALID_ARGS);
    cm_handle_close(a);
    cm_handle_close(b);
    cm_handle_close(vmo);
    /* None of the refused calls left anything behind. */
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(after.free_frames == before.free_frames && after.live_objects == before.live_objects);
    return 0;
}

/* Child: computes for 50 ms without a syscall, then reports. */
static int child_spin_then_send(void)
{
    uint64_t end = now_ticks() + 50 * TICKS_PER_MS;
    while (now_ticks() < end)
        ;
    CHECK_ST(cm_channel_write(cmk_startup_handle(0), "done", 5, NULL, 0), CM_OK);
    return 0;
}

/* Both processes spin without blocking: the parent sees the child's message
 * only if the timer takes the CPU away from it. */
static int test_timer_preempts_busy_process(void)
{
    cm_handle_t a, b;
    char buf[8];
    uint32_t nb = 0, nh = 0;
    cmk_exit_info_t info;
    cm_status_t st = CM_ERR_SHOULD_WAIT;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    const char *args[1] = { "child_spin_then_send" };
    int32_t pid = cmk_spawn("selftest", args, 1, &b, 1, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    uint64_t give_up = now_ticks() + 2000 * TICKS_PER_MS;
    while (st == CM_ERR_SHOULD_WAIT && now_ticks() < give_up)
        st = cm_channel_read(a, buf, sizeof(buf), &nb, NULL, 0, &nh);
    CHECK_ST(st, CM_OK);
    CHECK(nb == 5 && strcmp(buf, "done") == 0);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    cm_handle_close(a);
    return 0;
}

/* Child: computes for 50 ms without a syscall (the timer hands the CPU to
 * the parent, which goes to sleep in its wait meanwhile), reads one message
 * from the full channel it was given, then waits for the parent to hang up,
 * so that its end outlives the parent's wait. */
static int child_read_one_then_wait(void)
{
    cm_handle_t b = cmk_startup_handle(0);
    char buf[8];
    uint32_t nb, nh;
    cm_signals_t obs = 0;
    uint64_t end = now_ticks() + 50 * TICKS_PER_MS;
    while (now_ticks() < end)
        ;
    CHECK_ST(cm_channel_read(b, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
    CHECK_ST(cm_object_wait_one(b, CM_SIGNAL_PEER_CLOSED, CM_TIMEOUT_INFINITE, &obs), CM_OK);
    CHECK(obs & CM_SIGNAL_PEER_CLOSED);
    return 0;
}

/* The gap WRITABLE closes: a writer that got SHOULD_WAIT sleeps (in a
 * wait_many, next to an idle channel) until a reader in another process
 * dequeues; the dequeue must wake it, or the wait times out. */
static int test_writer_waiting_for_writable_wakes_on_dequeue(void)
{
    cm_handle_t a, b, idle0, idle1;
    cmk_exit_info_t info;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_create(0, &idle0, &idle1), CM_OK);
    for (uint32_t i = 0; i < CM_CHANNEL_MAX_QUEUED; i++)
        CHECK_ST(cm_channel_write(a, "m", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_write(a, "m", 1, NULL, 0), CM_ERR_SHOULD_WAIT);
    const char *args[1] = { "child_read_one_then_wait" };
    int32_t pid = cmk_spawn("selftest", args, 1, &b, 1, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    cm_wait_item_t it[2] = { { idle0, CM_SIGNAL_READABLE, 0 }, { a, CM_SIGNAL_WRITABLE, 0 } };
    uint64_t deadline = now_ticks() + 5000 * TICKS_PER_MS;
    CHECK_ST(cm_object_wait_many(it, 2, 5000ll * 1000 * 1000), CM_OK);
    /* Woken by the dequeue, not by the deadline (after which the re-check
     * would see the room too). */
    CHECK(now_ticks() < deadline);
    CHECK(it[0].pending == CM_SIGNAL_WRITABLE);
    CHECK(it[1].pending == CM_SIGNAL_WRITABLE);
    CHECK_ST(cm_channel_write(a, "m", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    cm_handle_close(idle0);
    cm_handle_close(idle1);
    return 0;
}

/* ---- hostile callers ---- */

#include "sys.h"

/* A handle, rights or pid argument is a 32-bit value in a 64-bit register:
 * bits above 32 are a bad argument, never ignored (a raw caller must not
 * name its handle 5 as 0x100000005). Handles: BAD_HANDLE; rights:
 * INVALID_ARGS; a pid: NOT_FOUND. */
static int test_syscall_args_with_high_bits_are_rejected(void)
{
    cm_handle_t vmo, dup = CM_HANDLE_INVALID;
    uint64_t size = 0;
    cm_handle_info_t hi;
    cmk_exit_info_t xi;
    const uint64_t high = 1ull << 32;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK(CMK_SYS2(CMK_SYS_VMO_GET_SIZE, high | vmo, &size) == CM_ERR_BAD_HANDLE);
    CHECK(CMK_SYS2(CMK_SYS_HANDLE_GET_INFO, high | vmo, &hi) == CM_ERR_BAD_HANDLE);
    CHECK(CMK_SYS3(CMK_SYS_HANDLE_DUPLICATE, high | vmo, CM_RIGHTS_SAME, &dup) ==
          CM_ERR_BAD_HANDLE);
    CHECK(CMK_SYS3(CMK_SYS_HANDLE_DUPLICATE, vmo, high | CM_RIGHT_READ, &dup) ==
          CM_ERR_INVALID_ARGS);
    CHECK(CMK_SYS3(CMK_SYS_HANDLE_REPLACE, vmo, high | CM_RIGHTS_SAME, &dup) ==
          CM_ERR_INVALID_ARGS);
    CHECK(CMK_SYS1(CMK_SYS_HANDLE_CLOSE, high | vmo) == CM_ERR_BAD_HANDLE);
    CHECK(CMK_SYS1(CMK_SYS_HANDLE_CLOSE, high) == CM_ERR_BAD_HANDLE);
    CHECK(CMK_SYS2(CMK_SYS_WAIT, high | 1u, &xi) == CM_ERR_NOT_FOUND);
    /* Untouched by all of the above. */
    CHECK_ST(cm_vmo_get_size(vmo, &size), CM_OK);
    CHECK(size == PAGE);
    CHECK_ST(cm_handle_close(vmo), CM_OK);
    return 0;
}

/* Child: hands its channel end to a grandchild and exits at once. */
static int child_orphan_maker(void)
{
    const char *args[1] = { "child_orphan" };
    cm_handle_t h = cmk_startup_handle(0);
    CHECK(cmk_spawn("selftest", args, 1, &h, 1, CMK_ROLE_MAIN) > 0);
    return 0;
}

/* Grandchild, orphaned: waits for a word from the test, then exits. */
static int child_orphan(void)
{
    cm_handle_t h = cmk_startup_handle(0);
    char c;
    uint32_t nb, nh;
    CHECK_ST(cm_channel_wait_readable(h, CM_TIMEOUT_INFINITE), CM_OK);
    CHECK_ST(cm_channel_read(h, &c, 1, &nb, NULL, 0, &nh), CM_OK);
    return 0;
}

static int test_orphan_is_reaped(void)
{
    cm_handle_t a, b;
    cmk_exit_info_t info;
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK(run_child("child_orphan_maker", b, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cm_channel_write(a, "g", 1, NULL, 0), CM_OK);
    /* The orphan's exit closes its end: nobody waits for it, yet it is gone. */
    CHECK_ST(cm_channel_wait_readable(a, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
    cm_handle_close(a);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(after.live_procs == before.live_procs);
    CHECK(after.free_frames == before.free_frames);
    CHECK(after.live_objects == before.live_objects);
    return 0;
}


/* ---- snapshots derive their rights ---- */

/* ---- channel cycles (kernel/object/channel.c, "No cycles") ---- */

/* The attack of issue 7: y1 through x0, then x1 through y0, then close both
 * kept ends. Had the second write succeeded, x1 (holding y1) and y1
 * (holding x1) would keep each other, their messages and everything those
 * carry until reboot. It is refused, x1 is consumed like every listed
 * handle, and everything is gone once x0 and y0 are closed. */
static int test_channel_cycle_of_two_refused(void)
{
    cm_handle_t x0, x1, y0, y1, vmo, list[2];
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK_ST(cm_channel_create(0, &x0, &x1), CM_OK);
    CHECK_ST(cm_channel_create(0, &y0, &y1), CM_OK);
    CHECK(make_vmo(2 * PAGE, "queued", &vmo) == 0);
    list[0] = y1;
    list[1] = vmo;
    CHECK_ST(cm_channel_write(x0, big_msg, 3 * PAGE, list, 2), CM_OK);
    CHECK_ST(cm_channel_write(y0, "x1", 2, &x1, 1), CM_ERR_BAD_STATE);
    CHECK(!is_live(x1));
    CHECK(is_live(y0));
    CHECK_ST(cm_handle_close(x0), CM_OK);
    CHECK_ST(cm_handle_close(y0), CM_OK);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(same_counters(&before, &after));
    return 0;
}

/* Three channels, closed in both orders: the last edge of any cycle sends
 * an endpoint whose queue already holds the next one. */
static int test_channel_cycle_of_three_refused(void)
{
    cm_handle_t a0, a1, b0, b1, c0, c1;
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    for (int order = 0; order < 2; order++) {
        CHECK_ST(cm_channel_create(0, &a0, &a1), CM_OK);
        CHECK_ST(cm_channel_create(0, &b0, &b1), CM_OK);
        CHECK_ST(cm_channel_create(0, &c0, &c1), CM_OK);
        if (order == 0) {
            CHECK_ST(cm_channel_write(a0, "b1", 2, &b1, 1), CM_OK); /* a1 holds b1 */
            CHECK_ST(cm_channel_write(b0, "c1", 2, &c1, 1), CM_OK); /* b1 holds c1 */
            CHECK_ST(cm_channel_write(c0, "a1", 2, &a1, 1), CM_ERR_BAD_STATE);
        } else {
            CHECK_ST(cm_channel_write(c0, "a1", 2, &a1, 1), CM_OK); /* c1 holds a1 */
            CHECK_ST(cm_channel_write(a0, "b1", 2, &b1, 1), CM_OK); /* a1 holds b1 */
            CHECK_ST(cm_channel_write(b0, "c1", 2, &c1, 1), CM_ERR_BAD_STATE);
        }
        CHECK_ST(cm_handle_close(a0), CM_OK);
        CHECK_ST(cm_handle_close(b0), CM_OK);
        CHECK_ST(cm_handle_close(c0), CM_OK);
        CHECK_ST(cmk_counters(&after), CM_OK);
        CHECK(same_counters(&before, &after));
    }
    return 0;
}

/* The rule refuses only what could close a cycle: an endpoint whose queue
 * holds bytes and VMOs travels, and so does one whose carried endpoints
 * have been read out. */
static int test_channel_endpoint_travels_once_its_queue_holds_no_endpoint(void)
{
    cm_handle_t x0, x1, y0, y1, z0, z1, vmo, got, got2;
    uint32_t nb, nh;
    char c, text[8];
    CHECK_ST(cm_channel_create(0, &x0, &x1), CM_OK);
    CHECK_ST(cm_channel_create(0, &y0, &y1), CM_OK);
    CHECK_ST(cm_channel_create(0, &z0, &z1), CM_OK);
    CHECK(make_vmo(PAGE, "inside", &vmo) == 0);
    CHECK_ST(cm_channel_write(y0, "z", 1, &z1, 1), CM_OK);
    CHECK_ST(cm_channel_write(y0, "v", 1, &vmo, 1), CM_OK);
    CHECK_ST(cm_channel_read(y1, &c, 1, &nb, &got, 1, &nh), CM_OK);
    CHECK(c == 'z' && nh == 1);
    CHECK_ST(cm_channel_write(x0, "y", 1, &y1, 1), CM_OK);
    CHECK_ST(cm_channel_read(x1, &c, 1, &nb, &y1, 1, &nh), CM_OK);
    CHECK(c == 'y' && nh == 1);
    CHECK_ST(cm_channel_read(y1, &c, 1, &nb, &got2, 1, &nh), CM_OK);
    CHECK(c == 'v' && nh == 1);
    CHECK_ST(cm_vmo_read(got2, text, 0, 7), CM_OK);
    CHECK(strcmp(text, "inside") == 0);
    cm_handle_close(got);
    cm_handle_close(got2);
    cm_handle_close(x0);
    cm_handle_close(x1);
    cm_handle_close(y0);
    cm_handle_close(y1);
    cm_handle_close(z0);
    return 0;
}

/* More attack rounds than the kernel has endpoints (128) or messages
 * (128): if a round could leak, the pools would run dry and every channel
 * in the system would fail. */
#define CYCLE_ROUNDS 300

static int test_channel_cycle_attack_cannot_drain_pools(void)
{
    cm_handle_t x0, x1, y0, y1;
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    for (int i = 0; i < CYCLE_ROUNDS; i++) {
        CHECK_ST(cm_channel_create(0, &x0, &x1), CM_OK);
        CHECK_ST(cm_channel_create(0, &y0, &y1), CM_OK);
        CHECK_ST(cm_channel_write(x0, "y1", 2, &y1, 1), CM_OK);
        (void)cm_channel_write(y0, "x1", 2, &x1, 1);
        CHECK_ST(cm_handle_close(x0), CM_OK);
        CHECK_ST(cm_handle_close(y0), CM_OK);
    }
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(same_counters(&before, &after));
    return 0;
}

/* A chain of endpoints, each in flight in the previous one's queue: built
 * by writing into endpoints that are themselves in flight. Returns the
 * head's handle; `depth` channels long. */
#define CHAIN_DEPTH 48

static int build_chain(int depth, cm_handle_t *head)
{
    cm_handle_t prev0, n0, n1;
    CHECK_ST(cm_channel_create(0, &prev0, head), CM_OK);
    for (int k = 1; k < depth; k++) {
        CHECK_ST(cm_channel_create(0, &n0, &n1), CM_OK);
        CHECK_ST(cm_channel_write(prev0, "link", 4, &n1, 1), CM_OK);
        CHECK_ST(cm_handle_close(prev0), CM_OK);
        prev0 = n0;
    }
    CHECK_ST(cm_handle_close(prev0), CM_OK);
    return 0;
}

/* Closing the head releases the whole chain (iteratively: the kernel's
 * dead list, not recursion on a 16 KiB kernel stack). */
static int test_channel_chain_released_when_head_closed(void)
{
    cm_handle_t head;
    cmk_counters_t before, during, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(build_chain(CHAIN_DEPTH, &head) == 0);
    CHECK_ST(cmk_counters(&during), CM_OK);
    CHECK(during.live_objects == before.live_objects + CHAIN_DEPTH); /* head + links */
    CHECK_ST(cm_handle_close(head), CM_OK);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(same_counters(&before, &after));
    return 0;
}

/* Child: builds a chain and a mapping and exits holding them. */
static int child_chain_and_exit(void)
{
    cm_handle_t head, vmo;
    void *p;
    CHECK(build_chain(CHAIN_DEPTH, &head) == 0);
    CHECK(make_vmo(4 * PAGE, "mapped", &vmo) == 0);
    CHECK_ST(cm_vmo_map(vmo, 0, 4 * PAGE, CM_MAP_READ | CM_MAP_WRITE, &p), CM_OK);
    CHECK_ST(cm_channel_write(cmk_startup_handle(0), "v", 1, &vmo, 1), CM_OK);
    return 0;
}

/* Everything only an exited process could reach is freed with it, however
 * deep; what it sent elsewhere lives on with its new holder. */
static int test_exit_frees_everything_only_the_process_reached(void)
{
    cm_handle_t a, b, got;
    cmk_exit_info_t info;
    cmk_counters_t before, after;
    uint32_t nb, nh;
    char c, text[8];
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(run_child("child_chain_and_exit", b, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cm_channel_read(a, &c, 1, &nb, &got, 1, &nh), CM_OK);
    CHECK_ST(cm_vmo_read(got, text, 0, 7), CM_OK);
    CHECK(strcmp(text, "mapped") == 0);
    CHECK_ST(cm_handle_close(got), CM_OK);
    CHECK_ST(cmk_counters(&after), CM_OK);
    /* b left with the child. */
    CHECK(after.live_objects == before.live_objects - 1);
    CHECK(after.free_frames == before.free_frames && after.live_msgs == before.live_msgs);
    CHECK(after.live_procs == before.live_procs);
    cm_handle_close(a);
    return 0;
}

/* Child: computes for 20 ms, then exits holding its start-up handle. */
static int child_spin_then_exit(void)
{
    uint64_t end = 0;
    __asm__ volatile("rdtime %0" : "=r"(end));
    end += 20 * 10000ull;
    for (uint64_t t = 0; t < end;)
        __asm__ volatile("rdtime %0" : "=r"(t));
    return 0;
}

/* A waiter is woken when its peer dies anywhere, here in flight: x1 sits
 * in y1's queue, y1 goes with the child that held it, and x1 with it. */
static int test_wait_woken_when_peer_dies_in_flight(void)
{
    cm_handle_t x0, x1, y0, y1;
    cmk_exit_info_t info;
    CHECK_ST(cm_channel_create(0, &x0, &x1), CM_OK);
    CHECK_ST(cm_channel_create(0, &y0, &y1), CM_OK);
    CHECK_ST(cm_channel_write(y0, "x1", 2, &x1, 1), CM_OK);
    CHECK_ST(cm_handle_close(y0), CM_OK);
    const char *args[1] = { "child_spin_then_exit" };
    int32_t pid = cmk_spawn("selftest", args, 1, &y1, 1, CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cm_channel_wait_readable(x0, CM_TIMEOUT_INFINITE), CM_ERR_PEER_CLOSED);
    CHECK_ST(cmk_wait(pid, &info), CM_OK);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    cm_handle_close(x0);
    return 0;
}

/* ---- timeouts: core/deadline.h, converted once in kernel/proc.c ---- */

/* A negative timeout other than CM_TIMEOUT_INFINITE is a caller's bug, so
 * INVALID_ARGS, checked before the channel's state; INT64_MAX is simply a
 * very late deadline. */
static int test_channel_wait_rejects_negative_timeouts(void)
{
    cm_handle_t a, b;
    uint32_t nb, nh;
    char c;
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cm_channel_write(a, "m", 1, NULL, 0), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, -2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_wait_readable(b, INT64_MIN), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_wait_readable(b, INT64_MAX), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, CM_TIMEOUT_INFINITE), CM_OK);
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, NULL, 0, &nh), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_channel_wait_readable(b, INT64_MAX), CM_ERR_PEER_CLOSED);
    CHECK_ST(cm_channel_wait_readable(b, -2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_channel_wait_readable(b, INT64_MIN + 1), CM_ERR_INVALID_ARGS);
    /* Arguments before handles, in the wrapper and in the old syscall 19. */
    CHECK_ST(cm_channel_wait_readable(0x12345, -2), CM_ERR_INVALID_ARGS);
    CHECK_ST((cm_status_t)cmk__syscall(CMK_SYS_CHANNEL_WAIT, 0x12345, (uint64_t)-2, 0, 0, 0, 0, 0),
             CM_ERR_INVALID_ARGS);
    cm_handle_close(b);
    return 0;
}

/* INT64_MAX and its neighbours do not wrap into a deadline in the past:
 * the wait lasts until the message comes. */
static int test_channel_wait_huge_timeout_waits(void)
{
    static const int64_t huge[] = { INT64_MAX, INT64_MAX - 1, (int64_t)1 << 62 };
    for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        cm_handle_t a, b;
        cmk_exit_info_t info;
        char buf[8];
        uint32_t nb, nh;
        CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
        const char *args[1] = { "child_spin_then_send" };
        int32_t pid = cmk_spawn("selftest", args, 1, &b, 1, CMK_ROLE_MAIN);
        CHECK(pid > 0);
        CHECK_ST(cm_channel_wait_readable(a, huge[i]), CM_OK);
        CHECK_ST(cm_channel_read(a, buf, sizeof(buf), &nb, NULL, 0, &nh), CM_OK);
        CHECK(strcmp(buf, "done") == 0);
        CHECK_ST(cmk_wait(pid, &info), CM_OK);
        cm_handle_close(a);
    }
    return 0;
}

/* ---- FP state (kernel/proc.c usertrapret: sstatus.FS = Off) ---- */

#define FP_MAGIC 0x46505f7365637265ull /* "FP_secre" */

/* fmv.d.x f0, a0 / fmv.x.d a0, f0, as words: user code is built soft-float,
 * so the assembler would refuse the mnemonics. */
static void fp_set_f0(uint64_t v)
{
    register uint64_t a0 __asm__("a0") = v;
    __asm__ volatile(".word 0xf2050053" ::"r"(a0));
}

static uint64_t fp_get_f0(void)
{
    register uint64_t a0 __asm__("a0");
    __asm__ volatile(".word 0xe2000553" : "=r"(a0));
    return a0;
}

/* Child: leaves a secret in f0 (must be killed doing so). */
static int child_fp_write(void)
{
    fp_set_f0(FP_MAGIC);
    printf("# child_fp_write: an FP instruction ran in user mode\n");
    return 0;
}

/* Child: reads f0 (must be killed doing so); exit 3 if it saw the secret. */
static int child_fp_read(void)
{
    uint64_t v = fp_get_f0();
    printf("# child_fp_read: read f0 = %lx\n", (unsigned long)v);
    return v == FP_MAGIC ? 3 : 4;
}

/* Child: is preempted, makes syscalls and yields, then uses FP: FS must be
 * Off on every return to user mode, not only the first. */
static int child_fp_after_preemption(void)
{
    uint64_t end = 0;
    __asm__ volatile("rdtime %0" : "=r"(end));
    end += 30 * 10000ull; /* 30 ms at 10 MHz: several timer ticks */
    for (uint64_t t = 0; t < end;)
        __asm__ volatile("rdtime %0" : "=r"(t));
    cmk__syscall(CMK_SYS_YIELD, 0, 0, 0, 0, 0, 0, 0);
    cm_handle_close(CM_HANDLE_INVALID);
    fp_set_f0(FP_MAGIC);
    printf("# child_fp_after_preemption: an FP instruction ran in user mode\n");
    return 0;
}

static int expect_fp_kill(const char *child)
{
    cmk_exit_info_t info;
    CHECK(run_child(child, CM_HANDLE_INVALID, &info) == 0);
    if (info.reason == CMK_EXIT_NORMAL)
        printf("# %s exited %d instead of being killed\n", child, info.code);
    CHECK(info.reason == CMK_EXIT_FAULTED);
    CHECK(info.code == 2); /* illegal instruction */
    return 0;
}

/* User code has no FP: the first FP instruction ends the process, and the
 * parent sees FAULTED with scause 2. */
static int test_fp_instruction_kills_process(void)
{
    CHECK(expect_fp_kill("child_fp_write") == 0);
    CHECK(expect_fp_kill("child_fp_after_preemption") == 0);
    return 0;
}

/* Neither direction works: a process can neither leave a value in f0 nor
 * read one another process left there. */
static int test_fp_registers_do_not_leak_between_processes(void)
{
    int wrote = expect_fp_kill("child_fp_write");
    int read = expect_fp_kill("child_fp_read"); /* exit 3: it saw the writer's value */
    CHECK(wrote == 0 && read == 0);
    return 0;
}

/* ---- the table: every test, once ---- */

struct test {
    int (*f)(void);
    const char *name;
};

#define TEST(fn) { fn, #fn }

static const struct test tests[] = {
    TEST(test_mmio_map_reads_virtio_blk_identity),
    TEST(test_mmio_map_refuses_bad_arguments_typed),
    TEST(test_mmio_second_process_without_capability_cannot_reach_device),
    TEST(test_mmio_driver_exit_or_close_resets_device),
    TEST(test_mmio_queue_alloc_bounds_and_frames),
    TEST(test_kdma_ownership_with_fake_driver_process),
    TEST(test_kdma_kept_pointer_faults_and_dead_pool_quarantines_until_completion),
    TEST(test_kdma_driver_killed_mid_flight_quiesces_and_fails_requests),
    TEST(test_kdma_device_registry_bounds_and_errors),
    TEST(test_kdma_pool_pins_and_request_limits),
    TEST(test_kdma_pool_quota_child_cannot_starve_parent),
    TEST(test_kdma_dead_pool_returns_its_pool_charge_while_buffer_quarantined),
    TEST(test_kdma_hostile_submit_fence_pointer_in_its_own_buffer_is_typed_and_undone),
    TEST(test_kdma_hostile_buffer_rw_half_bad_user_range_copies_nothing),
    TEST(test_kdma_hostile_pool_and_device_stay_home_and_a_moved_window_unbinds),
    TEST(test_kdma_hostile_raw_arguments_and_device_side_misuse_are_typed),
    TEST(test_ledger_charges_follow_creates_and_exit_returns_them),
    TEST(test_child_quota_is_carved_and_returns),
    TEST(test_spawn_quota_above_room_is_refused_typed),
    TEST(test_spawn_handle_unpublishable_starts_nothing),
    TEST(test_hostile_vmo_hog_gets_no_resources_and_all_returns_on_kill),
    TEST(test_hostile_channel_hog_gets_no_resources_and_all_returns_on_kill),
    TEST(test_hostile_message_hog_gets_no_resources_and_all_returns_on_kill),
    TEST(test_hostile_commit_hog_gets_quota_commit_and_all_returns_on_kill),
    TEST(test_hostile_sbuf_hog_gets_no_resources_and_all_returns_on_kill),
    TEST(test_hostile_handle_hog_gets_publish_failed_with_rollback),
    TEST(test_hostile_mapping_hog_gets_quota_virtual_under_lowered_limit),
    TEST(test_hostile_spawner_gets_no_resources_and_kill_ends_its_tree),
    TEST(test_fault_on_unmapped_page_exits_typed),
    TEST(test_vmar_fixed_no_replace_over_image_and_reservation_typed),
    TEST(test_vmar_unmap_and_protect_split_runs),
    TEST(test_decommit_frees_frames_and_every_mapping_reads_zero),
    TEST(test_committed_count_exact_under_partial_decommit),
    TEST(test_unmap_vmo_of_another_object_removes_nothing),
    TEST(test_vmar_close_returns_ledger_and_frames),
    TEST(test_vmar_kill_returns_ledger_and_frames),
    TEST(test_vmar_fault_deaths_are_typed),
    TEST(test_vmar_anon_commit_charged_at_touch_and_returned),
    TEST(test_vmar_nested_anon_exit_and_kill_return_frames),
    TEST(test_vmar_raw_syscalls_with_hostile_arguments_typed),
    TEST(test_vmar_mapped_vmo_close_shrink_seal_typed),
    TEST(test_vmar_reservation_pool_hogs_leave_others_room),
    TEST(test_spawn_quota_extremes_typed_and_returned),
    TEST(test_decommit_under_another_process_word_waiter),
    TEST(test_copyout_into_decommitted_page_over_quota_is_typed),
    TEST(test_process_handle_sent_away_kills_self_and_sibling),
    TEST(test_sbuf_areas_refuse_unmap_decommit_and_fixed_reserve),
    TEST(test_child_spends_share_then_grandchild_gets_nothing_of_others),
    TEST(test_kill_in_each_sleeping_syscall_returns_everything),
    TEST(test_vmar_anon_populate_commits_now_or_nothing_over_quota),
    TEST(test_vmar_destroyed_child_leaves_no_pte_and_range_reusable),
    TEST(test_vmar_anon_without_vmos_share_is_typed_and_changes_nothing),
    TEST(test_vmar_deep_populated_exit_and_kill_return_everything),
    TEST(test_word_wait_on_anon_page_typed_in_every_state),
    TEST(test_vmar_nested_close_in_every_order_typed_and_returned),
    TEST(test_vmar_parent_ops_straddling_a_child_edge_change_nothing),
    TEST(test_vmar_shared_table_page_freed_once_in_either_order),
    TEST(test_kill_ends_a_tree_sleeping_in_the_kernel),
    TEST(test_account_shared_by_children_adds_up_and_exhaustion_stays_inside),
    TEST(test_account_lives_while_handle_process_or_charge_then_returns_once),
    TEST(test_account_handle_sent_over_channel_receiver_spawns_into_it),
    TEST(test_account_rights_and_hostile_arguments_are_typed),
    TEST(test_overcommitted_accounts_draw_from_room_and_get_memory_pressure),
    TEST(test_account_hog_stops_at_its_processes_room),
    TEST(test_kdma_fence_wait_out_page_gone_while_asleep_room_spent_is_typed),
    TEST(test_account_last_handle_queued_to_dying_or_moved_into_its_child_ends_once),
    TEST(test_account_raw_pointer_handle_and_limit_abuse_is_typed),
    TEST(test_vmo_share_proof),
    TEST(test_vmo_share_detects_corrupted_hash),
    TEST(test_sbuf_stream_proof),
    TEST(test_sbuf_stream_detects_corrupted_hash),
    TEST(test_reject_unauthorized_transfer),
    TEST(test_reject_oversized_mapping),
    TEST(test_ro_mapping_enforced),
    TEST(test_write_to_sealed_mapping_faults_process),
    TEST(test_mapping_is_never_executable),
    TEST(test_seal_immutable_refused_while_writable_mapping),
    TEST(test_readonly_seal_keeps_existing_mapping),
    TEST(test_snapshot_is_immutable),
    TEST(test_set_size_rules),
    TEST(test_vmo_bounds),
    TEST(test_mapping_outlives_handle),
    TEST(test_stale_handle_rejected),
    TEST(test_wrong_type_rejected),
    TEST(test_rights_only_shrink),
    TEST(test_handle_table_limit),
    TEST(test_channel_read_without_room_keeps_message),
    TEST(test_channel_too_many_handles),
    TEST(test_channel_too_many_bytes),
    TEST(test_channel_queue_full),
    TEST(test_channel_consumes_handles_on_failure),
    TEST(test_channel_buffer_too_small_keeps_message),
    TEST(test_channel_wait_timeout_and_peer_closed),
    TEST(test_channel_wait_rejects_negative_timeouts),
    TEST(test_channel_wait_huge_timeout_waits),
    TEST(test_wait_woken_when_peer_dies_in_flight),
    TEST(test_channel_cycle_of_two_refused),
    TEST(test_channel_cycle_of_three_refused),
    TEST(test_channel_endpoint_travels_once_its_queue_holds_no_endpoint),
    TEST(test_channel_cycle_attack_cannot_drain_pools),
    TEST(test_channel_chain_released_when_head_closed),
    TEST(test_exit_frees_everything_only_the_process_reached),
    TEST(test_bad_user_pointers_rejected),
    TEST(test_timer_preempts_busy_process),
    TEST(test_writer_waiting_for_writable_wakes_on_dequeue),
    TEST(test_random_syscalls_do_not_hurt_kernel),
    TEST(test_syscall_args_with_high_bits_are_rejected),
    TEST(test_orphan_is_reaped),
    TEST(test_fp_instruction_kills_process),
    TEST(test_fp_registers_do_not_leak_between_processes),
    TEST(test_console_read_bounds_are_typed),
    TEST(test_console_read_times_out_without_input),
    TEST(test_word_wake_crosses_processes_at_different_addresses),
    TEST(test_word_wait_keyed_by_vmo_not_address),
    TEST(test_word_wait_returns_at_once_when_word_differs),
    TEST(test_word_wait_deadline_times_out),
    TEST(test_word_wait_rejects_bad_addresses),
    TEST(test_sbuf_consumer_write_to_data_faults),
    TEST(test_sbuf_killed_consumer_slots_reclaimed_and_loan_woken),
    TEST(test_sbuf_producer_killed_consumer_drains_then_peer_closed),
    TEST(test_sbuf_consumer_handle_travels_rights_only_shrink),
    TEST(test_sbuf_object_signals),
    TEST(test_sbuf_pool_exhaustion_is_no_resources),
    TEST(test_sbuf_hostile_consumer_area_evicts_only_it),
    TEST(test_sbuf_stream_to_two_consumer_processes_block),
    TEST(test_sbuf_stream_to_two_consumer_processes_drop_oldest),
    TEST(test_sbuf_copy_without_map_only_delivered_messages_after_producer_death),
    TEST(test_sbuf_loan_out_pointer_unmapped_during_sleep_is_invalid_args),
    TEST(test_sbuf_raw_syscalls_with_hostile_arguments),
    TEST(test_sbuf_consumer_pool_exhaustion_is_no_resources),
    TEST(test_sbuf_producer_killed_at_each_step_leaves_nothing),
    TEST(test_sbuf_mappings_revoked_when_handle_leaves_or_loses_right),
    TEST(test_sbuf_consumer_area_garbage_of_each_kind_evicts_only_it),
    TEST(test_sbuf_buffer_pool_entry_kept_until_last_consumer_leaves),
    TEST(test_kdma_vblk_dma_read_matches_image_with_ownership_rules),
    TEST(test_kdma_vblk_read_served_to_second_process_as_sealed_vmo),
    TEST(test_kdma_vblk_write_then_read_back),
    TEST(test_kdma_vblk_driver_killed_mid_request_fails_the_fence_with_io),
    TEST(test_kdma_vblk_buffers_quarantined_until_quiesced_then_reclaimed),
    TEST(test_kdma_vblk_kept_pointer_faults_while_in_flight),
    TEST(test_kdma_vblk_request_split_across_chains_reads_the_right_sectors),
    TEST(test_kdma_vblk_dma_read_share_app_runs_unchanged),
    TEST(test_kdma_vblk_dma_read_share_app_detects_corrupted_hash),
    TEST(test_vmar_page_table_frames_return_on_unmap_decommit_and_release),
    TEST(test_vmar_table_churn_cannot_exhaust_commit_quota),
    TEST(test_vmar_populate_commits_and_maps_every_page_at_map_time),
    TEST(test_vmar_populate_over_commit_quota_maps_and_charges_nothing),
    TEST(test_vmar_copy_into_unfaulted_page_without_table_room_charges_nothing),
    TEST(test_word_wait_in_reservation_woken_through_vmo_map),
    TEST(test_word_wait_in_vmo_map_woken_through_reservation),
    TEST(test_word_wait_in_reservation_bad_addresses_typed),
    TEST(test_word_wait_in_nested_reservation_keyed_by_vmo),
    TEST(test_sysfuzz_every_syscall_with_hostile_arguments_is_typed_and_leaks_nothing),
};

/* Victims and helpers the tests spawn; never run by the runner. */
static const struct test helpers[] = {
    TEST(child_mmio_no_capability),
    TEST(child_mmio_touch_physical),
    TEST(child_mmio_bound_elsewhere),
    TEST(child_mmio_write_read_only),
    TEST(child_mmio_set_status_then_exit),
    TEST(child_mmio_find_block),
    TEST(child_mmio_read_status),
    TEST(child_mmio_close_then_touch),
    TEST(child_mmio_queue_then_exit),
    TEST(child_kdma_fake_driver),
    TEST(child_kdma_kept_pointer),
    TEST(child_kdma_pool_quota_hog),
    TEST(child_random_syscalls),
    TEST(child_orphan_maker),
    TEST(child_orphan),
    TEST(child_write_ro),
    TEST(child_spin_then_send),
    TEST(child_exec_vmo),
    TEST(child_chain_and_exit),
    TEST(child_spin_then_exit),
    TEST(child_fp_write),
    TEST(child_fp_read),
    TEST(child_fp_after_preemption),
    TEST(child_read_one_then_wait),
    TEST(child_word_waiter),
    TEST(child_sbuf_hold_then_write),
    TEST(child_sbuf_producer_dies),
    TEST(child_sbuf_copy_only),
    TEST(child_sbuf_stream_consumer),
    TEST(child_hog),
    TEST(child_vmar_reserve_hog),
    TEST(child_decommit_word_waiter),
    TEST(child_copyout_into_decommitted_over_quota),
    TEST(child_kill_by_received_handle),
    TEST(child_spend_then_spawn),
    TEST(child_vmo_create_must_fail),
    TEST(child_sleep_in),
    TEST(child_sleeper),
    TEST(child_touch_unmapped),
    TEST(child_vmar_holder),
    TEST(child_vmar_fault_over_quota),
    TEST(child_vmar_touch_no_access),
    TEST(child_vmar_nested_anon_exit),
    TEST(child_vmar_nested_anon_holder),
    TEST(child_vmar_deep_populated_exit),
    TEST(child_vmar_deep_populated_holder),
    TEST(child_deep_sleeper),
    TEST(child_sbuf_spin_then_exit),
    TEST(child_sbuf_die_mid_loan),
    TEST(child_sbuf_die_holding),
    TEST(child_sbuf_die_after_eviction),
    TEST(child_vblk_reader),
    TEST(child_vblk_touch_in_flight),
    TEST(child_vmar_table_churn),
    TEST(child_word_waiter_in_vmar),
    TEST(child_acct_worker),
    TEST(child_fence_wait_into_vanishing_page),
    TEST(child_sysfuzz),
    TEST(child_sysfuzz_idle),
};

#define NTESTS (sizeof(tests) / sizeof(tests[0]))
#define NHELPERS (sizeof(helpers) / sizeof(helpers[0]))

static long delta(uint64_t before, uint64_t after)
{
    return (long)(after - before);
}

/* Runs test n in a process of its own and reports it; 1 if it passed. */
static int run_one(uint32_t n, const struct test *t)
{
    cmk_counters_t before, after;
    cmk_exit_info_t info = { 0, 0, 0, 0, 0 };
    const char *args[1] = { t->name };
    cm_status_t st = cmk_counters(&before);
    int64_t accounts = cmk_account_live_count(); /* each account ends exactly once */
    /* Each test runs alone while the runner waits: all of the runner's
     * room is its quota (docs/ledger.md). */
    cmk_quota_t all;
    if (st == CM_OK)
        st = cmk_quota_share(&all, 1);
    /* The device windows init gave the runner: duplicates for the tests
     * that drive devices (named test_mmio_* / test_kdma_* / test_sysfuzz_*), none for the
     * others, so every other test runs without any device capability. */
    cm_handle_t win[CMK_SPAWN_MAX_HANDLES];
    uint32_t nwin = 0;
    if (strncmp(t->name, "test_mmio_", 10) == 0 || strncmp(t->name, "test_kdma_", 10) == 0 ||
        strncmp(t->name, "test_sysfuzz_", 13) == 0) {
        for (; st == CM_OK && nwin < cmk_startup_handle_count() && nwin < CMK_SPAWN_MAX_HANDLES;
             nwin++)
            st = cm_handle_duplicate(cmk_startup_handle(nwin), CM_RIGHTS_SAME, &win[nwin]);
    }
    if (st == CM_OK) {
        int32_t pid = cmk_spawn_ex("selftest", args, 1, win, nwin, CMK_ROLE_MAIN, &all, NULL);
        for (uint32_t i = 0; pid <= 0 && i < nwin; i++)
            (void)cm_handle_close(win[i]); /* a failed spawn leaves them here */
        st = pid > 0 ? cmk_wait(pid, &info) : (cm_status_t)pid;
    }
    if (st == CM_OK)
        st = cmk_counters(&after);
    if (st != CM_OK) {
        printf("not ok %u - %s # spawn/wait: %s\n", n, t->name, cm_status_name(st));
        return 0;
    }
    if (info.reason != CMK_EXIT_NORMAL) {
        printf("not ok %u - %s # killed: scause %d at %lx\n", n, t->name, info.code,
               (unsigned long)info.fault_va);
        return 0;
    }
    if (info.code != 0) {
        printf("not ok %u - %s # exit %d\n", n, t->name, info.code);
        return 0;
    }
    if (!same_counters(&before, &after)) {
        printf("not ok %u - %s # left behind: frames %ld objects %ld procs %ld msgs %ld\n", n,
               t->name, -delta(before.free_frames, after.free_frames),
               delta(before.live_objects, after.live_objects),
               delta(before.live_procs, after.live_procs),
               delta(before.live_msgs, after.live_msgs));
        return 0;
    }
    if (cmk_account_live_count() != accounts) {
        printf("not ok %u - %s # left behind: accounts %ld\n", n, t->name,
               (long)(cmk_account_live_count() - accounts));
        return 0;
    }
    printf("ok %u - %s\n", n, t->name);
    return 1;
}

static int run_all(void)
{
    uint32_t failed = 0;
    printf("1..%u\n", (unsigned)NTESTS);
    for (uint32_t i = 0; i < NTESTS; i++)
        failed += !run_one(i + 1, &tests[i]);
    printf("# selftest: %u of %u failed\n", failed, (unsigned)NTESTS);
    return failed == 0 ? 0 : 1;
}

static const struct test *find(const struct test *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return run_all();
    if (argc == 2 || argc == 3) {
        const struct test *t = find(tests, NTESTS, argv[1]);
        selftest_arg = argc == 3 ? argv[2] : NULL;
        if (t == NULL)
            t = find(helpers, NHELPERS, argv[1]);
        if (t != NULL)
            return t->f();
        printf("# selftest: no test named %s\n", argv[1]);
    }
    printf("# usage: selftest [TEST_NAME [ARG]]\n");
    return 2;
}
