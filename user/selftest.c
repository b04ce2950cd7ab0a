/* Kernel selftests: one user program, one test per run (argv[1] names it),
 * so each test gets a fresh process and init can check the kernel's leak
 * counters around the whole suite. A test returns 0 only after checking
 * every property it names; CHECK prints the failing line first.
 *
 * The negative cases mirror the host suite's names. Tests that need a
 * victim process spawn this same program with a "child_*" name. */
#include <stdio.h>
#include <string.h>

#include <capmem/capmem.h>

#include "cmk.h"

#define PAGE CM_PAGE_SIZE

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            printf("# %s:%d: check failed: %s\n", __func__, __LINE__, #cond); \
            return 1;                                                  \
        }                                                              \
    } while (0)

#define CHECK_ST(expr, want)                                           \
    do {                                                               \
        cm_status_t st__ = (expr);                                     \
        if (st__ != (want)) {                                          \
            printf("# %s:%d: %s returned %s, expected %s\n", __func__, __LINE__, #expr, \
                   cm_status_name(st__), cm_status_name(want));        \
            return 1;                                                  \
        }                                                              \
    } while (0)

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

/* Runs this program as a child doing `what` (with `h` moved into it) and
 * returns how it ended. */
static int run_child(const char *what, cm_handle_t h, cmk_exit_info_t *info)
{
    const char *args[1] = { what };
    int32_t pid = cmk_spawn("selftest", args, 1, &h, h != CM_HANDLE_INVALID ? 1 : 0,
                            CMK_ROLE_MAIN);
    CHECK(pid > 0);
    CHECK_ST(cmk_wait(pid, info), CM_OK);
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
    cm_handle_close(vmo);
    return 0;
}

static int test_vmo_bounds(void)
{
    cm_handle_t vmo, big;
    char buf[8];
    CHECK_ST(cm_vmo_create(CM_VMO_MAX_SIZE + 1, 0, &big), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_create(PAGE, 0x80, &big), CM_ERR_INVALID_ARGS);
    /* Larger than the machine's RAM: a typed error, not a crash. */
    CHECK_ST(cm_vmo_create(CM_VMO_MAX_SIZE, 0, &big), CM_ERR_NO_MEMORY);
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
    for (uint32_t i = 0; i < n; i++)
        CHECK_ST(cm_handle_close(table_fill[i]), CM_OK);
    cm_handle_close(vmo);
    return 0;
}

/* A receiver whose table is full loses the message, and with it every
 * handle it carried: nothing leaks, nothing stays half-delivered. */
static int test_channel_read_without_room_drops_message(void)
{
    cm_handle_t vmo, d, a, b, got;
    uint32_t n = 0, nb, nh;
    char c;
    cmk_counters_t before, after;
    CHECK(make_vmo(PAGE, NULL, &vmo) == 0);
    CHECK_ST(cm_channel_create(0, &a, &b), CM_OK);
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK_ST(cm_vmo_create(PAGE, 0, &d), CM_OK);
    CHECK_ST(cm_channel_write(a, "m", 1, &d, 1), CM_OK);
    while (cm_handle_duplicate(vmo, CM_RIGHTS_SAME, &table_fill[n]) == CM_OK)
        n++;
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, &got, 1, &nh), CM_ERR_NO_RESOURCES);
    for (uint32_t i = 0; i < n; i++)
        CHECK_ST(cm_handle_close(table_fill[i]), CM_OK);
    CHECK_ST(cm_channel_read(b, &c, 1, &nb, &got, 1, &nh), CM_ERR_SHOULD_WAIT);
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

static uint64_t now_ticks(void)
{
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

/* 10 MHz timebase: ticks per millisecond. */
#define TICKS_PER_MS 10000ull

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

/* ---- hostile callers ---- */

#include "sys.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t scratch[4 * PAGE] __attribute__((aligned(PAGE)));
static const uint8_t ro_scratch[PAGE] = { 1 };

/* Pointers a confused or malicious caller might pass: none of them may make
 * the kernel fault, and writable ones only hit this scratch area. */
static uint64_t pick_ptr(void)
{
    static const uint64_t fixed[] = {
        0, 1, 0x80200000ull, 0x10000000ull, 0x3000000000ull, 0xffffffffffff0000ull,
        0x3f00000000ull - 0x10000ull - 4, 0x4000000000ull, UINT64_MAX,
    };
    switch (rng() % 4) {
    case 0: return fixed[rng() % (sizeof(fixed) / sizeof(fixed[0]))];
    case 1: return (uint64_t)(uintptr_t)ro_scratch + rng() % PAGE;
    default: return (uint64_t)(uintptr_t)scratch + rng() % (3 * PAGE);
    }
}

static uint64_t pick_len(void)
{
    static const uint64_t fixed[] = {
        0, 1, 4, 8, 24, 4096, 3 * 4096 + 5, 65536, 65537, 1u << 20,
        CM_VMO_MAX_SIZE + 1, 1ull << 32, UINT64_MAX, UINT64_MAX - 4095,
    };
    return rng() % 4 == 0 ? rng() : fixed[rng() % (sizeof(fixed) / sizeof(fixed[0]))];
}

/* Child: thousands of syscalls with arguments drawn from live handles,
 * forged handles, bad pointers and extreme lengths. Every call must return
 * a status; the child must end normally. */
static int child_random_syscalls(void)
{
    cm_handle_t live[16];
    uint32_t nlive = 0;
    for (uint32_t i = 0; i < 4; i++) {
        CHECK_ST(cm_vmo_create(PAGE * (i + 1), 0, &live[nlive++]), CM_OK);
        CHECK_ST(cm_channel_create(0, &live[nlive], &live[nlive + 1]), CM_OK);
        nlive += 2;
    }
    /* Calls that would end or block this process, or write to the console
     * (which would garble the TAP stream), are left out. */
    static const uint64_t calls[] = {
        CMK_SYS_HANDLE_CLOSE, CMK_SYS_HANDLE_DUPLICATE, CMK_SYS_HANDLE_REPLACE,
        CMK_SYS_HANDLE_GET_INFO, CMK_SYS_VMO_CREATE, CMK_SYS_VMO_READ, CMK_SYS_VMO_WRITE,
        CMK_SYS_VMO_GET_SIZE, CMK_SYS_VMO_SET_SIZE, CMK_SYS_VMO_GET_INFO, CMK_SYS_VMO_SEAL,
        CMK_SYS_VMO_SNAPSHOT, CMK_SYS_VMO_MAP, CMK_SYS_VMO_UNMAP, CMK_SYS_CHANNEL_CREATE,
        CMK_SYS_CHANNEL_WRITE, CMK_SYS_CHANNEL_READ, CMK_SYS_CHANNEL_WAIT, CMK_SYS_WAIT,
        CMK_SYS_DEBUG_COUNTERS, CMK_SYS_RESERVED_23, CMK_SYS_COUNT, 1000,
    };
    uint32_t statuses = 0;
    for (uint32_t iter = 0; iter < 3000; iter++) {
        uint64_t a[7];
        for (int k = 0; k < 7; k++) {
            switch (rng() % 4) {
            case 0: a[k] = live[rng() % nlive]; break;
            case 1: a[k] = pick_ptr(); break;
            case 2: a[k] = pick_len(); break;
            default: a[k] = rng() % 8; break;
            }
        }
        uint64_t n = calls[rng() % (sizeof(calls) / sizeof(calls[0]))];
        if (n == CMK_SYS_CHANNEL_WAIT)
            a[1] = 0; /* poll: never block */
        if (n == CMK_SYS_VMO_CREATE || n == CMK_SYS_VMO_SET_SIZE)
            a[n == CMK_SYS_VMO_CREATE ? 0 : 1] %= (1u << 20) + 1; /* keep TCG fast */
        int64_t r = cmk__syscall(n, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        CHECK(r <= 0 && r >= CM_ERR_INTERNAL + 0);
        CHECK(r != CM_ERR_INTERNAL);
        statuses |= 1u << (uint32_t)(-r);
        /* Keep a supply of live handles as random closes eat them. */
        if (rng() % 16 == 0 && nlive < 16) {
            if (cm_vmo_create(PAGE, 0, &live[nlive]) == CM_OK)
                nlive++;
        }
    }
    /* The run must have reached both success and the typical refusals. */
    CHECK(statuses & 1u);
    CHECK(statuses & (1u << -CM_ERR_INVALID_ARGS));
    CHECK(statuses & (1u << -CM_ERR_BAD_HANDLE));
    CHECK(statuses & (1u << -CM_ERR_OUT_OF_RANGE));
    return 0;
}

static int test_random_syscalls_do_not_hurt_kernel(void)
{
    cmk_exit_info_t info;
    cmk_counters_t before, after;
    CHECK_ST(cmk_counters(&before), CM_OK);
    CHECK(run_child("child_random_syscalls", CM_HANDLE_INVALID, &info) == 0);
    CHECK(info.reason == CMK_EXIT_NORMAL && info.code == 0);
    CHECK_ST(cmk_counters(&after), CM_OK);
    CHECK(after.free_frames == before.free_frames);
    CHECK(after.live_objects == before.live_objects);
    CHECK(after.live_msgs == before.live_msgs);
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

struct entry {
    const char *name;
    int (*fn)(void);
};

#define T(n) { #n, n }

static const struct entry entries[] = {
    T(test_reject_unauthorized_transfer),
    T(test_reject_oversized_mapping),
    T(test_ro_mapping_enforced),
    T(test_write_to_sealed_mapping_faults_process),
    T(test_mapping_is_never_executable),
    T(test_seal_immutable_refused_while_writable_mapping),
    T(test_readonly_seal_keeps_existing_mapping),
    T(test_snapshot_is_immutable),
    T(test_set_size_rules),
    T(test_vmo_bounds),
    T(test_mapping_outlives_handle),
    T(test_stale_handle_rejected),
    T(test_wrong_type_rejected),
    T(test_rights_only_shrink),
    T(test_handle_table_limit),
    T(test_channel_read_without_room_drops_message),
    T(test_channel_too_many_handles),
    T(test_channel_too_many_bytes),
    T(test_channel_queue_full),
    T(test_channel_consumes_handles_on_failure),
    T(test_channel_buffer_too_small_keeps_message),
    T(test_channel_wait_timeout_and_peer_closed),
    T(test_bad_user_pointers_rejected),
    T(test_timer_preempts_busy_process),
    T(test_random_syscalls_do_not_hurt_kernel),
    T(test_orphan_is_reaped),
    T(child_random_syscalls),
    T(child_orphan_maker),
    T(child_orphan),
    T(child_write_ro),
    T(child_spin_then_send),
    T(child_exec_vmo),
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        printf("# usage: selftest TEST_NAME\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        if (strcmp(entries[i].name, argv[1]) == 0)
            return entries[i].fn();
    }
    printf("# selftest: no test named %s\n", argv[1]);
    return 2;
}
