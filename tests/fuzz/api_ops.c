/* SPDX-License-Identifier: MIT */
/* The operations of tests/fuzz/api_fuzz.c: one public call each, with
 * arguments from the recipe. Every status goes through af_check; every
 * success is verified (af_adopt, af_touch, content patterns) before it
 * counts as a stage. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <capmem/capmem.h>
#include <capmem/host.h>
#include <capmem/host_dma.h>

#include "fuzz_stage.h"
#include "api_fuzz.h"

#define PG ((uint64_t)CM_PAGE_SIZE)
#define IOBUF (16 * PG + 1)

static uint8_t iobuf[IOBUF];
static uint8_t msgbuf[CM_CHANNEL_MAX_BYTES + 1];
static uint8_t rdbuf[CM_CHANNEL_MAX_BYTES + 1];
static char listen_name[64];

/* Every message and every loaned slot starts with this pattern, so any
 * bytes received can be checked without tracking which send they are. */
static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 7u + 3u);
}

static void check_pattern(const uint8_t *p, uint64_t len, const char *what)
{
    for (uint64_t i = 0; i < len; i++)
        if (p[i] != pattern(i))
            af_die(what, CM_OK);
}

void af_once(void)
{
    for (size_t i = 0; i < sizeof(msgbuf); i++)
        msgbuf[i] = pattern(i);
    snprintf(listen_name, sizeof(listen_name), "@capmem-apifuzz-%d", (int)getpid());
}

static void note(uint64_t *ring, uint64_t v)
{
    memmove(ring + 1, ring, 7 * sizeof(*ring));
    ring[0] = v;
}

/* ---- argument recipes ---- */

/* A handle: mostly one of the wanted type the input holds, else any value
 * it was given (maybe closed), CM_HANDLE_INVALID, a forged neighbour of
 * one (another generation, bit 31) or a raw value. */
static cm_handle_t pick_h(struct reader *r, uint32_t want)
{
    uint8_t b = byte(r);
    uint32_t k = b >> 3;
    if ((b & 7) < 4) {
        uint32_t n = 0, idx[AF_MAX_ISSUED];
        for (uint32_t i = S.nissued; i-- > 0;)
            if (S.issued[i].type == want)
                idx[n++] = i;
        if (n > 0)
            return S.issued[idx[k % n]].h;
        b = 4;
    }
    switch (b & 7) {
    case 4:
        return S.nissued > 0 ? S.issued[k % S.nissued].h : CM_HANDLE_INVALID;
    case 5:
        return CM_HANDLE_INVALID;
    case 6: {
        cm_handle_t h = S.nissued > 0 ? S.issued[k % S.nissued].h : 1;
        uint8_t x = byte(r);
        return x & 0x80 ? h | 0x80000000u : h ^ (1u << (10 + x % 21));
    }
    default:
        return u32(r);
    }
}

/* Sizes, offsets, lengths. Accepted values stay at a few pages (a success
 * must not commit real memory); refused ones cover every edge. */
static uint64_t pick_size(struct reader *r)
{
    uint8_t b = byte(r);
    switch (b % 16) {
    case 0: return 0;
    case 1: return 1;
    case 2: return PG - 1;
    case 3: return PG;
    case 4: return PG + 1;
    case 5: return 2 * PG;
    case 6: return 3 * PG;
    case 7: return (uint64_t)(b >> 4) * PG;
    case 8: return CM_VMO_MAX_SIZE + 1;
    case 9: return UINT64_MAX;
    case 10: return UINT64_MAX - PG + 1; /* + 2 pages overflows */
    case 11: return 1ull << 63;
    case 12: return CM_VMO_MAX_SIZE + PG;
    case 13: return (u64(r) | (1ull << 41)) & ~(PG - 1); /* aligned, past every limit */
    case 14: return u64(r) | (1ull << 41);
    default: return (uint64_t)byte(r) % 17 * PG;
    }
}

/* Reservation lengths may be huge: a reservation costs no memory. */
static uint64_t pick_resv(struct reader *r)
{
    uint8_t b = byte(r);
    switch (b % 8) {
    case 0: return CM_MAX_RESERVED_BYTES;
    case 1: return CM_MAX_RESERVED_BYTES + PG;
    case 2: return CM_MAX_RESERVED_BYTES / 2;
    case 3: return 64 * PG;
    default: return pick_size(r);
    }
}

static uint32_t pick_u32(struct reader *r, uint32_t limit)
{
    uint8_t b = byte(r);
    switch (b % 8) {
    case 0: return 0;
    case 1: return 1;
    case 2: return limit;
    case 3: return limit + 1;
    case 4: return UINT32_MAX;
    case 5: return 2;
    default: return (uint32_t)byte(r) % (limit + 2);
    }
}

static uint32_t pick_flags(struct reader *r, uint32_t known)
{
    uint8_t b = byte(r);
    switch (b % 8) {
    case 0: return 0;
    case 1: return 1u << 31;
    case 2: return u32(r);
    case 3: return known;
    default: return u32(r) & known;
    }
}

/* Mapping flags: mostly a valid protection (READ, maybe WRITE) with the
 * call's optional bits, else any bits. */
static uint32_t pick_prot(struct reader *r, uint32_t optional, uint32_t known)
{
    uint8_t b = byte(r);
    if (b % 4 == 3)
        return pick_flags(r, known);
    return CM_MAP_READ | (b & 4 ? CM_MAP_WRITE : 0) | (optional & (uint32_t)(b >> 3) * 0x55u);
}

static cm_rights_t pick_rights(struct reader *r)
{
    uint8_t b = byte(r);
    switch (b % 6) {
    case 0: return CM_RIGHTS_SAME;
    case 1: return CM_RIGHTS_ALL;
    case 2: return 0;
    case 3: return u32(r);
    default: return u32(r) & CM_RIGHTS_ALL;
    }
}

/* Polls only: 0, or a negative value other than CM_TIMEOUT_INFINITE. */
static int64_t pick_timeout(struct reader *r)
{
    uint8_t b = byte(r);
    return b % 8 == 6 ? -2 : b % 8 == 7 ? INT64_MIN : 0;
}

/* An address: one the library returned, near it, or raw. */
static void *pick_addr(struct reader *r)
{
    uint8_t b = byte(r);
    uintptr_t a = S.bases[(b >> 2) % 8];
    switch (b & 3) {
    case 0: return (void *)a;
    case 1: return (void *)(a + pick_size(r));
    case 2: return (void *)(a - PG);
    default: return (void *)(uintptr_t)u64(r);
    }
}

/* 1 in 16: NULL for an out pointer (never when the input ran out, whose
 * zeros should make valid calls). */
static int pick_null(struct reader *r)
{
    return byte(r) % 16 == 15;
}

static cm_status_t adopt_out(cm_status_t st, cm_handle_t h, uint32_t type, int stage)
{
    if (st == CM_OK) {
        af_adopt(h, type);
        FUZZ_REACHED(stage);
    }
    return st;
}

/* ---- VMOs ---- */

static cm_status_t op_vmo(struct reader *r, uint8_t sub)
{
    cm_handle_t h = CM_HANDLE_INVALID, out = CM_HANDLE_INVALID;
    cm_status_t st;
    switch (sub % 12) {
    case 0: {
        uint64_t size = pick_size(r);
        uint32_t opt = pick_flags(r, CM_VMO_COMMIT | CM_VMO_HUGE | CM_VMO_BASE_PAGES);
        st = af_check(cm_vmo_create(size, opt, pick_null(r) ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_VMO, ST_VMO);
    }
    case 1:
    case 2: {
        h = pick_h(r, CM_OBJ_VMO);
        uint64_t off = pick_size(r), len = pick_size(r);
        void *buf = len <= IOBUF && !pick_null(r) ? iobuf : NULL;
        if (sub % 12 == 2 && buf != NULL)
            for (uint64_t i = 0; i < len; i++)
                iobuf[i] = (uint8_t)(pattern(i) ^ sub);
        st = af_check(sub % 12 == 1 ? cm_vmo_read(h, buf, off, len)
                                    : cm_vmo_write(h, buf, off, len));
        /* What was written reads back (when the handle can read). */
        static uint8_t back[IOBUF];
        if (st == CM_OK && sub % 12 == 2 && len > 0 &&
            cm_vmo_read(h, back, off, len) == CM_OK && memcmp(back, iobuf, len) != 0)
            af_die("cm_vmo_read does not return what cm_vmo_write wrote", st);
        break;
    }
    case 3:
        h = pick_h(r, CM_OBJ_VMO);
        st = af_check(cm_vmo_set_size(h, pick_size(r)));
        break;
    case 4: {
        h = pick_h(r, CM_OBJ_VMO);
        uint64_t size;
        cm_vmo_info_t info;
        uint8_t which = byte(r) % 3;
        int null = pick_null(r);
        if (which == 0)
            st = af_check(cm_vmo_get_size(h, null ? NULL : &size));
        else if (which == 1)
            st = af_check(cm_vmo_get_info(h, null ? NULL : &info));
        else
            st = af_check(cm_vmo_get_committed(h, null ? NULL : &size));
        if (st == CM_OK && which == 1 && info.reserved != 0)
            af_die("cm_vmo_info.reserved not 0", st);
        break;
    }
    case 5: {
        h = pick_h(r, CM_OBJ_VMO);
        uint8_t b = byte(r);
        cm_seal_t level = (cm_seal_t)(b % 5 == 4 ? u32(r) : b % 5);
        st = af_check(cm_vmo_seal(h, level));
        break;
    }
    case 6:
        h = pick_h(r, CM_OBJ_VMO);
        st = af_check(cm_vmo_snapshot(h, pick_null(r) ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_VMO, ST_VMO);
    case 7: {
        h = pick_h(r, CM_OBJ_VMO);
        uint64_t off = pick_size(r), len = pick_size(r);
        uint32_t flags = pick_prot(r, CM_MAP_POPULATE,
                                   CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE);
        void *addr = NULL;
        st = af_check(cm_vmo_map(h, off, len, flags, pick_null(r) ? NULL : &addr));
        if (st == CM_OK) {
            af_touch(addr, len, (flags & CM_MAP_WRITE) != 0);
            /* Zero-copy: a store through the mapping is the object's content. */
            uint8_t got;
            if ((flags & CM_MAP_WRITE) != 0) {
                ((volatile uint8_t *)addr)[0] = (uint8_t)(sub + 1);
                if (cm_vmo_read(h, &got, off, 1) == CM_OK && got != (uint8_t)(sub + 1))
                    af_die("a store through a writable mapping is not in the VMO", st);
            }
            af_note_mapping(addr, len);
            note((uint64_t *)S.bases, (uintptr_t)addr);
        }
        break;
    }
    case 8: {
        uint8_t b = byte(r);
        void *addr;
        uint64_t len;
        if (S.nmaps > 0 && b % 4 != 3) {
            struct af_map m = S.maps[(b >> 2) % S.nmaps];
            addr = m.addr;
            len = b % 4 == 0 ? m.len : pick_size(r);
            if (b % 4 == 2)
                addr = (uint8_t *)addr + PG;
        } else {
            addr = pick_addr(r);
            len = pick_size(r);
        }
        st = af_check(cm_vmo_unmap(addr, len));
        break;
    }
    case 9: {
        h = pick_h(r, CM_OBJ_VMO);
        uint8_t b = byte(r);
        uint32_t op = b % 4 == 3 ? u32(r) : b % 4;
        st = af_check(cm_vmo_op_range(h, op, pick_size(r), pick_size(r)));
        break;
    }
    case 10: {
        static const char *const paths[] = { NULL, "", "/proc/self/exe", "/dev/null",
                                             "/nonexistent-capmem-apifuzz" };
        const char *path = paths[byte(r) % 5];
        uint64_t off = pick_size(r), len = pick_size(r);
        st = af_check(cm_vmo_create_from_file(path, off, len, pick_null(r) ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_VMO, ST_VMO);
    }
    default: {
        /* Host extras on VMOs: export an fd, wrap one. */
        int fd = -1;
        if (byte(r) & 1) {
            h = pick_h(r, CM_OBJ_VMO);
            st = af_check(cm_host_vmo_export_fd(h, pick_null(r) ? NULL : &fd));
            if (st == CM_OK) {
                if (fd < 0)
                    af_die("export_fd OK without an fd", st);
                close(fd);
            }
            break;
        }
        uint8_t b = byte(r);
        if (b % 4 == 1) {
            fd = memfd_create("apifuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
            if (fd < 0 || ftruncate(fd, (off_t)(b >> 2) % 4 * (off_t)PG) != 0)
                af_die("memfd_create", CM_OK);
        } else if (b % 4 == 2) {
            int p[2];
            if (pipe(p) != 0)
                af_die("pipe", CM_OK);
            close(p[1]);
            fd = p[0];
        }
        st = af_check(cm_host_vmo_from_fd(fd, pick_rights(r), pick_null(r) ? NULL : &out));
        if (st != CM_OK && fd >= 0)
            close(fd); /* on failure the caller keeps it */
        return adopt_out(st, out, CM_OBJ_VMO, ST_VMO);
    }
    }
    if (st == CM_OK)
        FUZZ_REACHED(ST_VMO);
    return st;
}

/* ---- channels and the host's channel extras ---- */

static cm_status_t op_channel(struct reader *r, uint8_t sub)
{
    cm_handle_t h, e0 = CM_HANDLE_INVALID, e1 = CM_HANDLE_INVALID;
    cm_status_t st;
    switch (sub % 8) {
    case 0: {
        uint32_t opt = byte(r) % 8 == 0 ? u32(r) : 0;
        int null = byte(r) % 16;
        st = af_check(cm_channel_create(opt, null == 15 ? NULL : &e0, null == 14 ? NULL : &e1));
        if (st == CM_OK) {
            af_adopt(e0, CM_OBJ_CHANNEL);
            af_adopt(e1, CM_OBJ_CHANNEL);
        }
        break;
    }
    case 1: {
        h = pick_h(r, CM_OBJ_CHANNEL);
        uint32_t nb = pick_u32(r, CM_CHANNEL_MAX_BYTES);
        uint8_t b = byte(r);
        uint32_t nh = b % 8 < 5 ? b % 4 : b % 8 == 5 ? CM_CHANNEL_MAX_HANDLES
                    : b % 8 == 6 ? CM_CHANNEL_MAX_HANDLES + 1 : 1;
        cm_handle_t hs[CM_CHANNEL_MAX_HANDLES + 1];
        static const uint32_t sendable[] = { CM_OBJ_VMO, CM_OBJ_CHANNEL, CM_OBJ_SBUF_CONSUMER };
        for (uint32_t i = 0; i < nh; i++) {
            uint8_t x = byte(r);
            hs[i] = pick_h(r, x % 4 < 3 ? sendable[x % 4] : x % CM_OBJ_TYPE_COUNT);
        }
        const void *bytes = nb <= sizeof(msgbuf) && !pick_null(r) ? msgbuf : NULL;
        const cm_handle_t *hp = pick_null(r) ? NULL : hs;
        st = af_check(cm_channel_write(h, bytes, nb, hp, nh));
        /* The listed handles are always consumed, whatever the error (all
         * but `channel` itself), except when the array is NULL. */
        for (uint32_t i = 0; hp != NULL && i < nh; i++) {
            cm_handle_info_t info;
            if (hs[i] != h && cm_handle_get_info(hs[i], &info) != CM_ERR_BAD_HANDLE)
                af_die("a handle listed in cm_channel_write was not consumed", st);
        }
        break;
    }
    case 2: {
        h = pick_h(r, CM_OBJ_CHANNEL);
        uint32_t bcap = pick_u32(r, CM_CHANNEL_MAX_BYTES), hcap = pick_u32(r, CM_CHANNEL_MAX_HANDLES);
        if (bcap > sizeof(rdbuf))
            bcap = sizeof(rdbuf);
        if (hcap > CM_CHANNEL_MAX_HANDLES)
            hcap = CM_CHANNEL_MAX_HANDLES;
        cm_handle_t hs[CM_CHANNEL_MAX_HANDLES] = { 0 };
        uint32_t ab = UINT32_MAX, ah = UINT32_MAX;
        uint8_t nulls = byte(r);
        nulls = nulls % 4 == 3 ? nulls >> 2 : 0;
        st = af_check(cm_channel_read(h, nulls & 1 ? NULL : rdbuf, bcap,
                                      nulls & 2 ? NULL : &ab, nulls & 4 ? NULL : hs, hcap,
                                      nulls & 8 ? NULL : &ah));
        if (st == CM_OK) {
            /* actual_bytes and actual_handles are optional (NULL: not
             * told); the handles array then shows them by its zeros. */
            if (nulls & 2)
                ab = 0;
            if (nulls & 8)
                for (ah = 0; ah < hcap && hs[ah] != CM_HANDLE_INVALID;)
                    ah++;
            if (ab > bcap || ah > hcap)
                af_die("cm_channel_read OK with more than the caps", st);
            check_pattern(rdbuf, ab, "a channel message's bytes differ from the ones sent");
            for (uint32_t i = 0; i < ah; i++) {
                cm_handle_info_t info;
                if (cm_handle_get_info(hs[i], &info) != CM_OK || info.type == CM_OBJ_NONE ||
                    info.type >= CM_OBJ_TYPE_COUNT)
                    af_die("a received handle is not live", st);
                af_adopt(hs[i], info.type);
            }
        }
        break;
    }
    case 3:
        h = pick_h(r, CM_OBJ_CHANNEL);
        st = af_check(cm_channel_wait_readable(h, pick_timeout(r)));
        if (st == CM_OK || st == CM_ERR_TIMED_OUT)
            FUZZ_REACHED(ST_WAIT);
        return st;
    case 4: { /* listen on an abstract name: no file is left behind */
        static const char *const odd[] = { NULL, "", "@", "./@x" };
        char longname[200];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[0] = '@';
        longname[sizeof(longname) - 1] = '\0';
        uint8_t b = byte(r);
        const char *name = b % 8 < 4 ? listen_name : b % 8 == 4 ? longname : odd[b % 4];
        if (b % 8 == 7)
            name = odd[0];
        st = af_check(cm_host_listen_opts(name, pick_flags(r, CM_HOST_LISTEN_OPTIONS_ALL),
                                          pick_null(r) ? NULL : &e0));
        return adopt_out(st, e0, CM_OBJ_LISTENER, ST_CHANNEL);
    }
    case 5:
        st = af_check(cm_host_connect(byte(r) % 4 ? listen_name : "@capmem-apifuzz-none",
                                      pick_null(r) ? NULL : &e0));
        return adopt_out(st, e0, CM_OBJ_CHANNEL, ST_CHANNEL);
    case 6:
        h = pick_h(r, CM_OBJ_LISTENER);
        st = af_check(cm_host_accept(h, pick_timeout(r), pick_null(r) ? NULL : &e0));
        return adopt_out(st, e0, CM_OBJ_CHANNEL, ST_CHANNEL);
    default: {
        uint8_t b = byte(r);
        if (b & 1) {
            pid_t pid;
            uid_t uid;
            gid_t gid;
            h = pick_h(r, CM_OBJ_CHANNEL);
            int null = byte(r) % 16;
            st = af_check(cm_host_channel_peer_cred(h, null == 15 ? NULL : &pid,
                                                    null == 14 ? NULL : &uid,
                                                    null == 13 ? NULL : &gid));
            if (st == CM_OK && pid != getpid())
                af_die("peer_cred of a channel this process made names another pid", st);
            break;
        }
        int sv[2] = { -1, -1 }, fd = -1;
        b >>= 1;
        if (b % 8 != 1 && S.nfds < AF_MAX_FDS) {
            int type = b % 8 == 3 ? SOCK_STREAM : SOCK_SEQPACKET;
            if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0)
                af_die("socketpair", CM_OK);
            S.fds[S.nfds++] = sv[1];
            fd = sv[0];
        }
        st = af_check(cm_host_channel_from_fd(fd, pick_rights(r), pick_null(r) ? NULL : &e0));
        if (st != CM_OK && fd >= 0)
            close(fd);
        return adopt_out(st, e0, CM_OBJ_CHANNEL, ST_CHANNEL);
    }
    }
    if (st == CM_OK)
        FUZZ_REACHED(ST_CHANNEL);
    return st;
}

/* ---- handles and waits ---- */

static cm_status_t op_handle(struct reader *r, uint8_t sub)
{
    cm_handle_t h = pick_h(r, byte(r) % CM_OBJ_TYPE_COUNT), out = CM_HANDLE_INVALID;
    cm_handle_info_t info, src;
    cm_status_t st;
    int known = cm_handle_get_info(h, &src) == CM_OK;
    switch (sub % 7) {
    case 0:
    case 1:
        st = af_check(sub % 7 == 0
                          ? cm_handle_duplicate(h, pick_rights(r), pick_null(r) ? NULL : &out)
                          : cm_handle_replace(h, pick_rights(r), pick_null(r) ? NULL : &out));
        if (st == CM_OK) {
            if (!known)
                af_die("duplicate/replace of a value that is no handle succeeded", st);
            af_adopt(out, src.type);
            if (cm_handle_get_info(out, &info) != CM_OK || (info.rights & ~src.rights) != 0)
                af_die("duplicate/replace gave rights the source lacked", st);
        }
        break;
    case 2:
        st = af_check(cm_handle_close(h));
        break;
    case 3:
        st = af_check(cm_handle_get_info(h, pick_null(r) ? NULL : &info));
        break;
    case 4: {
        cm_signals_t obs;
        uint8_t b = byte(r);
        cm_signals_t sig = b % 4 == 0 ? u32(r) : b % 4 == 1 ? 0 : (b >> 2) & CM_SIGNALS_ALL;
        st = af_check(cm_object_wait_one(h, sig, pick_timeout(r), pick_null(r) ? NULL : &obs));
        if (st == CM_OK || st == CM_ERR_TIMED_OUT) {
            if (obs & ~CM_SIGNALS_ALL)
                af_die("an undefined signal observed", st);
            FUZZ_REACHED(ST_WAIT);
        }
        return st;
    }
    case 5: {
        cm_wait_item_t items[CM_WAIT_MANY_MAX + 1];
        uint8_t b = byte(r);
        uint32_t n = b % 8 < 4 ? b % 8 : b % 8 == 4 ? CM_WAIT_MANY_MAX
                   : b % 8 == 5 ? CM_WAIT_MANY_MAX + 1 : b % 8 == 6 ? UINT32_MAX : 2;
        for (uint32_t i = 0; i < n && i <= CM_WAIT_MANY_MAX; i++) {
            uint8_t x = byte(r);
            items[i] = (cm_wait_item_t){ pick_h(r, x % 2 ? CM_OBJ_CHANNEL : CM_OBJ_SBUF_CONSUMER),
                                         x % 16 == 0 ? u32(r) : (x >> 1) & CM_SIGNALS_ALL,
                                         0xdead };
        }
        if (n > 0 && n <= CM_WAIT_MANY_MAX && byte(r) % 4 == 0)
            items[0].handle = h;
        st = af_check(cm_object_wait_many(pick_null(r) ? NULL : items, n, pick_timeout(r)));
        if (st == CM_OK || st == CM_ERR_TIMED_OUT)
            FUZZ_REACHED(ST_WAIT);
        return st;
    }
    default: {
        int fd = -1;
        uint32_t ev = 0;
        uint8_t b = byte(r);
        cm_signals_t sig = b % 4 == 0 ? u32(r) : (b >> 2) & CM_SIGNALS_ALL;
        int null = byte(r) % 16;
        st = af_check(cm_host_object_fd(h, sig, null == 15 ? NULL : &fd, null == 14 ? NULL : &ev));
        if (st == CM_OK && fd < 0)
            af_die("cm_host_object_fd OK without an fd", st);
        break;
    }
    }
    if (st == CM_OK)
        FUZZ_REACHED(ST_HANDLE);
    return st;
}

/* ---- VMARs ---- */

static cm_status_t op_vmar(struct reader *r, uint8_t sub)
{
    cm_handle_t v, out = CM_HANDLE_INVALID;
    void *base = NULL;
    cm_status_t st;
    uint32_t mapf = CM_MAP_READ | CM_MAP_WRITE | CM_MAP_POPULATE | CM_MAP_EXECUTE |
                    CM_VMAR_MAP_SPECIFIC;
    switch (sub % 8) {
    case 0: {
        uint8_t b = byte(r);
        void *hint = b % 8 == 0 ? (void *)(uintptr_t)0x7ffffffff000ull
                   : b % 8 == 1 ? (void *)(uintptr_t)(UINT64_MAX & ~(PG - 1))
                   : b % 8 == 2 ? (void *)(uintptr_t)PG
                   : b % 8 < 5 ? NULL : pick_addr(r);
        uint64_t len = pick_resv(r);
        uint32_t flags = pick_flags(r, CM_VMAR_FIXED | CM_VMAR_CAN_MAP_READ);
        uint8_t null = byte(r) % 16;
        st = af_check(cm_vmar_reserve(hint, len, flags, null == 15 ? NULL : &out,
                                      null == 14 ? NULL : &base));
        break;
    }
    case 1: {
        v = pick_h(r, CM_OBJ_VMAR);
        uint64_t off = pick_size(r), len = pick_resv(r);
        uint32_t flags = pick_flags(r, CM_VMAR_FIXED | CM_VMAR_CAN_MAP_READ |
                                           CM_VMAR_CAN_MAP_WRITE);
        uint8_t null = byte(r) % 16;
        st = af_check(cm_vmar_reserve_in(v, off, len, flags, null == 15 ? NULL : &out,
                                         null == 14 ? NULL : &base));
        break;
    }
    case 2:
    case 3: {
        v = pick_h(r, CM_OBJ_VMAR);
        uint64_t voff = pick_size(r), len = pick_size(r);
        uint32_t flags = pick_prot(r, CM_VMAR_MAP_SPECIFIC | CM_MAP_POPULATE, mapf);
        void *addr = NULL;
        if (sub % 8 == 2) {
            cm_handle_t vmo = pick_h(r, CM_OBJ_VMO);
            uint64_t ooff = pick_size(r);
            uint8_t got;
            st = af_check(cm_vmar_map(v, voff, vmo, ooff, len, flags,
                                      pick_null(r) ? NULL : &addr));
            if (st == CM_OK && (flags & CM_MAP_WRITE) != 0) {
                ((volatile uint8_t *)addr)[0] = (uint8_t)(sub + 1);
                if (cm_vmo_read(vmo, &got, ooff, 1) == CM_OK && got != (uint8_t)(sub + 1))
                    af_die("a store through a VMAR mapping is not in the VMO", st);
            }
        } else {
            st = af_check(cm_vmar_map_anon(v, voff, len, flags, pick_null(r) ? NULL : &addr));
        }
        if (st == CM_OK) {
            af_touch(addr, len, (flags & CM_MAP_WRITE) != 0);
            note((uint64_t *)S.bases, (uintptr_t)addr);
            FUZZ_REACHED(ST_VMAR);
        }
        return st;
    }
    case 4: {
        v = pick_h(r, CM_OBJ_VMAR);
        void *addr = pick_addr(r);
        uint64_t len = pick_size(r);
        if (byte(r) & 1)
            st = af_check(cm_vmar_unmap(v, addr, len));
        else
            st = af_check(cm_vmar_unmap_vmo(v, pick_h(r, CM_OBJ_VMO), addr, len));
        break;
    }
    case 5:
        v = pick_h(r, CM_OBJ_VMAR);
        st = af_check(cm_vmar_protect(v, pick_addr(r), pick_size(r), pick_prot(r, 0, mapf)));
        break;
    case 6: {
        cm_vmar_info_t info;
        v = pick_h(r, CM_OBJ_VMAR);
        st = af_check(cm_vmar_get_info(v, pick_null(r) ? NULL : &info));
        if (st == CM_OK && info.mapped_bytes > info.len)
            af_die("cm_vmar_info: more bytes mapped than reserved", st);
        break;
    }
    default: {
        cm_mapping_info_t info;
        const void *addr = pick_addr(r);
        st = af_check(cm_mapping_get_info(addr, pick_null(r) ? NULL : &info));
        break;
    }
    }
    if (st == CM_OK && out != CM_HANDLE_INVALID) {
        if (base == NULL || ((uintptr_t)base & (PG - 1)) != 0)
            af_die("a reservation without an aligned base", st);
        af_adopt(out, CM_OBJ_VMAR);
        note((uint64_t *)S.bases, (uintptr_t)base);
    }
    if (st == CM_OK)
        FUZZ_REACHED(ST_VMAR);
    return st;
}

/* ---- SharedBuffers ---- */

/* The producer's own bookkeeping: every slot in exactly one state, every
 * consumer's counters agreeing with each other and its bounds. */
static void sbuf_info_invariants(const cm_sbuf_info_t *in)
{
    if (in->free + in->loaned + in->published != in->config.slot_count ||
        in->loaned > in->config.max_loans || in->self != UINT32_MAX)
        af_die("cm_sbuf_info: slots not partitioned into free, loaned, published", CM_OK);
    for (uint32_t i = 0; i < CM_SBUF_MAX_CONSUMERS; i++) {
        const cm_sbuf_consumer_info_t *c = &in->consumers[i];
        if (c->state > CM_SBUF_CONSUMER_EVICTED ||
            (c->state != CM_SBUF_CONSUMER_ABSENT && i >= in->config.max_consumers))
            af_die("cm_sbuf_info: a consumer in an undefined state or position", CM_OK);
        if (c->state == CM_SBUF_CONSUMER_ACTIVE &&
            (c->held > in->config.max_held || c->received - c->released != c->held ||
             c->held + c->pending > in->published))
            af_die("cm_sbuf_info: a consumer's counters disagree", CM_OK);
    }
}

static cm_status_t op_sbuf(struct reader *r, uint8_t sub)
{
    cm_handle_t h, out = CM_HANDLE_INVALID;
    cm_status_t st;
    switch (sub % 9) {
    case 0: {
        cm_sbuf_config_t c;
        uint8_t b = byte(r);
        if (b % 4 != 0) { /* mostly a valid small one, one field broken now and then */
            c = (cm_sbuf_config_t){ 1u + byte(r) % 8, 1u + byte(r) % 3 * 100, 1u + byte(r) % 3,
                                    1, 1, CM_SBUF_BLOCK, 0, 0 };
            c.max_held = 1u + byte(r) % c.slot_count;
            c.max_loans = 1u + byte(r) % c.slot_count;
            if (b & 4) {
                c.policy = CM_SBUF_DROP_OLDEST;
                c.slot_count = c.max_consumers * c.max_held + c.max_loans;
            }
        } else {
            c = (cm_sbuf_config_t){ pick_u32(r, CM_SBUF_MAX_SLOTS), pick_u32(r, CM_SBUF_MAX_SLOT_SIZE),
                                    pick_u32(r, CM_SBUF_MAX_CONSUMERS), pick_u32(r, 4),
                                    pick_u32(r, CM_SBUF_MAX_LOANS), pick_u32(r, 3),
                                    byte(r) % 8 == 0 ? u32(r) : 0, byte(r) % 8 == 0 ? u32(r) : 0 };
        }
        int null = byte(r) % 16;
        st = af_check(cm_sbuf_create(null == 15 ? NULL : &c, null == 14 ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_SBUF, ST_SBUF);
    }
    case 1:
        h = pick_h(r, CM_OBJ_SBUF);
        st = af_check(cm_sbuf_consumer_create(h, pick_rights(r), pick_null(r) ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_SBUF_CONSUMER, ST_SBUF);
    case 2: {
        cm_sbuf_loan_t loan;
        h = pick_h(r, CM_OBJ_SBUF);
        uint32_t flags = pick_flags(r, CM_SBUF_BUSY_POLL);
        st = af_check(cm_sbuf_loan(h, flags, pick_timeout(r), pick_null(r) ? NULL : &loan));
        if (st == CM_OK) {
            af_touch(loan.data, loan.capacity, 1);
            uint32_t n = loan.capacity < 16 ? loan.capacity : 16;
            for (uint32_t i = 0; i < n; i++)
                ((uint8_t *)loan.data)[i] = pattern(i);
            note(S.loans, loan.id);
        }
        break;
    }
    case 3:
    case 4: {
        h = pick_h(r, CM_OBJ_SBUF);
        uint8_t b = byte(r);
        uint64_t id = b % 8 == 7 ? u64(r) : S.loans[b % 8] ^ (b % 8 == 6 ? 1ull << 40 : 0);
        if (sub % 9 == 3) {
            uint64_t seq;
            uint32_t len = pick_u32(r, 16);
            st = af_check(cm_sbuf_publish(h, id, len, pick_null(r) ? NULL : &seq));
        } else {
            st = af_check(cm_sbuf_cancel(h, id));
        }
        break;
    }
    case 5:
    case 6: {
        cm_sbuf_msg_t msg;
        h = pick_h(r, CM_OBJ_SBUF_CONSUMER);
        uint32_t flags = pick_flags(r, CM_SBUF_BUSY_POLL);
        int64_t t = pick_timeout(r);
        int null = pick_null(r);
        if (sub % 9 == 5) {
            st = af_check(cm_sbuf_receive(h, flags, t, null ? NULL : &msg));
            if (st == CM_OK && msg.len > 0) {
                af_touch((void *)(uintptr_t)msg.data, msg.len, 0);
                note((uint64_t *)S.bases, (uintptr_t)msg.data & ~(PG - 1));
            }
        } else {
            uint32_t cap = pick_u32(r, 16);
            if (cap > IOBUF)
                cap = IOBUF;
            memset(iobuf, 0, 16);
            st = af_check(cm_sbuf_receive_copy(h, flags, t, pick_null(r) ? NULL : iobuf, cap,
                                               null ? NULL : &msg));
            if (st == CM_OK && msg.data != NULL)
                af_die("cm_sbuf_receive_copy OK with a data pointer", st);
        }
        if (st == CM_OK) {
            if (sub % 9 == 5 && msg.len > 0)
                check_pattern(msg.data, msg.len < 16 ? msg.len : 16,
                              "a SharedBuffer message's bytes differ from the ones loaned");
            if (sub % 9 == 6)
                check_pattern(iobuf, msg.len < 16 ? msg.len : 16,
                              "a copied SharedBuffer message differs from the one loaned");
            note(S.seqs, msg.seq);
            FUZZ_REACHED(ST_SBUF_MSG);
        }
        return st;
    }
    case 7: {
        h = pick_h(r, CM_OBJ_SBUF_CONSUMER);
        uint8_t b = byte(r);
        st = af_check(cm_sbuf_release(h, b % 8 == 7 ? u64(r) : S.seqs[b % 8]));
        break;
    }
    default: {
        static cm_sbuf_info_t info;
        cm_handle_info_t hi;
        h = pick_h(r, byte(r) & 1 ? CM_OBJ_SBUF : CM_OBJ_SBUF_CONSUMER);
        st = af_check(cm_sbuf_get_info(h, pick_null(r) ? NULL : &info));
        if (st == CM_OK && cm_handle_get_info(h, &hi) == CM_OK && hi.type == CM_OBJ_SBUF)
            sbuf_info_invariants(&info);
        break;
    }
    }
    if (st == CM_OK)
        FUZZ_REACHED(ST_SBUF);
    return st;
}

/* ---- DMA pools (no device: io_uring without hardware) ---- */

static cm_status_t op_dma(struct reader *r, uint8_t sub)
{
    cm_handle_t p = CM_HANDLE_INVALID, out = CM_HANDLE_INVALID;
    cm_status_t st;
    if (sub % 10 != 0)
        p = pick_h(r, CM_OBJ_DMA_POOL);
    uint8_t b = byte(r);
    cm_dma_buffer_t buf = b % 8 == 7 ? u64(r) : S.dma_ids[b % 8];
    switch (sub % 10) {
    case 0: {
        cm_dma_pool_config_t c = { 1u + byte(r) % 2, (uint32_t)PG, 1,
                                   byte(r) % 2 ? CM_DMA_POOL_CPU_GUARD : 0 };
        if (byte(r) % 4 == 0)
            c = (cm_dma_pool_config_t){ pick_u32(r, CM_DMA_MAX_BUFFERS),
                                        pick_u32(r, 2) * (uint32_t)PG + (byte(r) % 8 == 0),
                                        pick_u32(r, CM_DMA_MAX_IN_FLIGHT), pick_flags(r, 3) };
        if (c.buffer_size > CM_DMA_MAX_BUFFER_SIZE + PG)
            c.buffer_size = CM_DMA_MAX_BUFFER_SIZE + (uint32_t)PG;
        st = af_check(cm_dma_pool_create(pick_null(r) ? NULL : &c, pick_null(r) ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_DMA_POOL, ST_DMA);
    }
    case 1:
        st = af_check(cm_dma_buffer_acquire(p, pick_null(r) ? NULL : &buf));
        if (st == CM_OK)
            note(S.dma_ids, buf);
        break;
    case 2: {
        void *addr = NULL;
        uint32_t size = 0;
        int null = byte(r) % 16;
        st = af_check(cm_dma_buffer_map(p, buf, null == 15 ? NULL : &addr,
                                        null == 14 ? NULL : &size));
        cm_dma_pool_info_t info;
        if (st == CM_OK && null == 14) { /* size is optional: the pool's buffer size */
            if (cm_dma_pool_get_info(p, &info) != CM_OK)
                af_die("cm_dma_pool_get_info of a pool just used", st);
            size = info.buffer_size;
        }
        if (st == CM_OK)
            af_touch(addr, size, 1);
        break;
    }
    case 3:
    case 4: {
        uint32_t off = pick_u32(r, (uint32_t)PG), len = pick_u32(r, (uint32_t)PG);
        void *io = len <= IOBUF && !pick_null(r) ? iobuf : NULL;
        st = af_check(sub % 10 == 3 ? cm_dma_buffer_read(p, buf, off, io, len)
                                    : cm_dma_buffer_write(p, buf, off, io, len));
        break;
    }
    case 5:
        st = af_check(cm_dma_buffer_release(p, buf));
        break;
    case 6:
        st = af_check(cm_dma_buffer_detach_vmo(p, buf, pick_null(r) ? NULL : &out));
        return adopt_out(st, out, CM_OBJ_VMO, ST_DMA);
    case 7: {
        cm_dma_op_t op = { byte(r) % 4, pick_u32(r, (uint32_t)PG), pick_u32(r, (uint32_t)PG),
                           byte(r) % 8 == 0, pick_size(r) };
        cm_dma_fence_t fence;
        int null = byte(r) % 16;
        st = af_check(cm_dma_submit(p, buf, null == 15 ? NULL : &op, null == 14 ? NULL : &fence));
        if (st == CM_OK)
            note(S.dma_ids, fence);
        break;
    }
    case 8: {
        cm_dma_completion_t c;
        int null = pick_null(r);
        if (byte(r) & 1)
            st = af_check(cm_dma_fence_poll(p, buf, null ? NULL : &c));
        else
            st = af_check(cm_dma_fence_wait(p, buf, pick_timeout(r), null ? NULL : &c));
        break;
    }
    default: {
        cm_dma_pool_info_t info;
        if (byte(r) % 4 == 0) {
            static const char *const dev[] = { NULL, "", "/dev/null", "/nonexistent-capmem" };
            st = af_check(cm_dma_pool_attach(p, dev[byte(r) % 4], pick_flags(r, 3)));
        } else {
            st = af_check(cm_dma_pool_get_info(p, pick_null(r) ? NULL : &info));
        }
        break;
    }
    }
    if (st == CM_OK)
        FUZZ_REACHED(ST_DMA);
    return st;
}

/* ---- ledger, limits, MMIO (host: UNSUPPORTED) ---- */

static cm_status_t op_misc(struct reader *r, uint8_t sub)
{
    cm_status_t st;
    switch (sub % 4) {
    case 0: {
        cm_ledger_info_t li;
        st = af_check(cm_ledger_get(pick_null(r) ? NULL : &li));
        break;
    }
    case 1: {
        /* Never a value that lowers a limit: that is for good, and the
         * next input would start from another state. */
        cm_ledger_info_t li;
        if (cm_ledger_get(&li) != CM_OK)
            af_die("cm_ledger_get", CM_OK);
        uint8_t b = byte(r);
        uint32_t kind = b % 16 < CM_LEDGER_KIND_COUNT ? b % 16 : b % 2 ? u32(r) : CM_LEDGER_KIND_COUNT;
        uint64_t lim = UINT64_MAX;
        if (kind < CM_LEDGER_KIND_COUNT) {
            const cm_ledger_entry_t *e = &li.entry[kind];
            uint8_t x = byte(r) % 4;
            lim = x == 0 ? e->limit : x == 1 ? e->limit + 1 : x == 2 ? UINT64_MAX : e->used - 1;
            if ((x == 3 && e->used == 0) || (x == 1 && e->limit == UINT64_MAX))
                lim = e->limit;
        }
        cm_ledger_info_t was = li;
        st = af_check(cm_ledger_set_limit((cm_ledger_kind_t)kind, lim));
        if (cm_ledger_get(&li) != CM_OK)
            af_die("cm_ledger_get", CM_OK);
        for (int k = 0; k < CM_LEDGER_KIND_COUNT; k++)
            if (li.entry[k].limit != was.entry[k].limit)
                af_die("cm_ledger_set_limit changed a limit without lowering it", st);
        break;
    }
    case 2: {
        cm_limits_t l = { .struct_size = byte(r) % 4 ? sizeof(l) : byte(r) % 64 };
        st = af_check(cm_limits_get(pick_null(r) ? NULL : &l));
        break;
    }
    default: {
        cm_mmio_info_t info;
        volatile void *addr = NULL;
        cm_handle_t h = pick_h(r, CM_OBJ_MMIO);
        uint8_t b = byte(r) % 3;
        if (b == 0)
            st = af_check(cm_mmio_get_info(h, &info));
        else if (b == 1)
            st = af_check(cm_mmio_map(h, pick_size(r), pick_size(r), pick_flags(r, 3), &addr));
        else
            st = af_check(cm_mmio_unmap(h, pick_addr(r), pick_size(r)));
        if (st != CM_ERR_UNSUPPORTED)
            af_die("an MMIO call on host is not UNSUPPORTED", st);
        break;
    }
    }
    return st;
}

/* A world to misuse: byte 0 of the input picks which live objects exist
 * before the first operation (valid calls, each must succeed), so that
 * short inputs reach the calls that need a partner: a received message
 * needs a buffer, a consumer and a publish before it. */
void af_preamble(struct reader *r)
{
    uint8_t w = byte(r);
    cm_handle_t h, h2;
    if (w & 1) {
        if (cm_vmo_create(2 * PG, 0, &h) != CM_OK)
            af_die("preamble: cm_vmo_create", CM_OK);
        af_adopt(h, CM_OBJ_VMO);
    }
    if (w & 2) {
        if (cm_channel_create(0, &h, &h2) != CM_OK)
            af_die("preamble: cm_channel_create", CM_OK);
        af_adopt(h, CM_OBJ_CHANNEL);
        af_adopt(h2, CM_OBJ_CHANNEL);
    }
    if (w & 4) {
        void *base;
        if (cm_vmar_reserve(NULL, 16 * PG, 0, &h, &base) != CM_OK)
            af_die("preamble: cm_vmar_reserve", CM_OK);
        af_adopt(h, CM_OBJ_VMAR);
        note((uint64_t *)S.bases, (uintptr_t)base);
    }
    if (w & 8) {
        cm_sbuf_config_t c = { 4, 64, 2, 2, 2, w & 64 ? CM_SBUF_DROP_OLDEST : CM_SBUF_BLOCK,
                               0, 0 };
        if (w & 64)
            c.slot_count = c.max_consumers * c.max_held + c.max_loans;
        cm_sbuf_loan_t loan;
        if (cm_sbuf_create(&c, &h) != CM_OK)
            af_die("preamble: cm_sbuf_create", CM_OK);
        af_adopt(h, CM_OBJ_SBUF);
        if (cm_sbuf_consumer_create(h, CM_RIGHTS_SAME, &h2) != CM_OK)
            af_die("preamble: cm_sbuf_consumer_create", CM_OK);
        af_adopt(h2, CM_OBJ_SBUF_CONSUMER);
        if (cm_sbuf_loan(h, 0, 0, &loan) != CM_OK)
            af_die("preamble: cm_sbuf_loan", CM_OK);
        for (uint32_t i = 0; i < 16; i++)
            ((uint8_t *)loan.data)[i] = pattern(i);
        note(S.loans, loan.id);
        if (cm_sbuf_publish(h, loan.id, 16, &S.seqs[0]) != CM_OK)
            af_die("preamble: cm_sbuf_publish", CM_OK);
    }
    if (w & 16) {
        cm_dma_pool_config_t c = { 2, (uint32_t)PG, 1, 0 };
        if (af_check(cm_dma_pool_create(&c, &h)) == CM_OK) /* UNSUPPORTED without io_uring */
            af_adopt(h, CM_OBJ_DMA_POOL);
    }
    if (w & 32) {
        if (cm_host_listen(listen_name, &h) != CM_OK)
            af_die("preamble: cm_host_listen", CM_OK);
        af_adopt(h, CM_OBJ_LISTENER);
    }
}

cm_status_t af_op(struct reader *r)
{
    uint8_t op = byte(r), sub = byte(r);
    switch (op % 16) {
    case 0: case 1: case 2: case 3:
        return op_vmo(r, sub);
    case 4: case 5: case 6:
        return op_channel(r, sub);
    case 7: case 8:
        return op_handle(r, sub);
    case 9: case 10:
        return op_vmar(r, sub);
    case 11: case 12: case 13:
        return op_sbuf(r, sub);
    case 14:
        return op_dma(r, sub);
    default:
        return op_misc(r, sub);
    }
}
