/* SPDX-License-Identifier: MIT */
/* Address-space regions, commit/decommit and mapping identity
 * (include/capmem/vmar.h), the same on both targets. Written against the
 * public API only; addresses are only compared and dereferenced inside
 * mappings the test made. */
#include <capmem/capmem.h>
#include <capmem/ledger.h>

#include "harness.h"
#include "vmar_cases.h"

#define PG ((uint64_t)CM_PAGE_SIZE)
#define P(n) ((uint64_t)(n) * PG)
#define RW (CM_MAP_READ | CM_MAP_WRITE)
#define NO_VMAR "target does not implement <capmem/vmar.h> yet"

int test_vmar_fixed_reserve_no_replace_and_release(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t r, r2;
    void *base, *b2;
    CHECK_ST(cm_vmar_reserve(0, P(8), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve(base, P(8), CM_VMAR_FIXED, &r2, &b2), CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_reserve((char *)base + P(7), P(2), CM_VMAR_FIXED, &r2, &b2),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_reserve(0, P(8), CM_VMAR_FIXED, &r2, &b2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmar_reserve(0, 0, 0, &r2, &b2), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_vmar_reserve(base, P(8), CM_VMAR_FIXED, &r2, &b2), CM_OK);
    CHECK(b2 == base);
    CHECK_ST(cm_handle_close(r2), CM_OK);
    return 0;
}

int test_vmar_map_split_unmap_and_remap(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t v, r;
    void *base, *p, *q;
    cm_vmar_info_t info;
    CHECK_ST(cm_vmo_create(P(6), 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(8), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, P(1), v, 0, P(6), RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    CHECK(p == (char *)base + P(1));
    for (uint64_t i = 0; i < 6; i++)
        ((volatile uint8_t *)p)[P(i)] = (uint8_t)(i + 1);
    CHECK_ST(cm_vmar_map(r, P(2), v, 0, PG, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &q),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_unmap(r, (char *)p + P(2), P(2)), CM_OK); /* middle */
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 2 && info.mappings == 1 && info.mapped_bytes == P(4));
    CHECK(info.base == (uint64_t)(uintptr_t)base && info.len == P(8));
    CHECK(((volatile uint8_t *)p)[P(5)] == 6);
    CHECK_ST(cm_vmar_unmap(r, p, P(6)), CM_ERR_NOT_FOUND); /* has a hole now */
    CHECK_ST(cm_vmar_unmap(r, (char *)p + P(5), PG), CM_OK); /* tail */
    CHECK_ST(cm_vmar_unmap(r, p, PG), CM_OK);                /* head */
    CHECK_ST(cm_vmar_map(r, P(3), v, P(2), P(2), RW | CM_VMAR_MAP_SPECIFIC, &q), CM_OK);
    CHECK(((volatile uint8_t *)q)[0] == 3);
    CHECK_ST(cm_vmar_unmap(r, (char *)base + P(8), PG), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_handle_close(v), CM_OK); /* mappings keep the object */
    CHECK(((volatile uint8_t *)q)[PG] == 4);
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

int test_vmar_protect_none_and_back_keeps_content(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t v, r;
    void *base, *p;
    uint64_t before = 0, after = 0;
    CHECK_ST(cm_vmo_create(P(3), 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(3), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, P(3), RW, &p), CM_OK);
    ((volatile uint8_t *)p)[P(1)] = 0x42;
    CHECK_ST(cm_vmo_get_committed(v, &before), CM_OK);
    CHECK_ST(cm_vmar_protect(r, (char *)p + P(1), PG, 0), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &after), CM_OK);
    CHECK(after == before && after >= PG);
    CHECK_ST(cm_vmar_protect(r, (char *)p + P(1), PG, RW), CM_OK);
    CHECK(((volatile uint8_t *)p)[P(1)] == 0x42);
    cm_vmar_info_t info;
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 1);
    CHECK_ST(cm_vmar_protect(r, p, PG, CM_MAP_WRITE), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

int test_vmar_unmap_vmo_checks_provenance(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t a, b, r;
    void *base, *pa, *pb;
    CHECK_ST(cm_vmo_create(PG, 0, &a), CM_OK);
    CHECK_ST(cm_vmo_create(PG, 0, &b), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(2), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, a, 0, PG, RW | CM_VMAR_MAP_SPECIFIC, &pa), CM_OK);
    CHECK_ST(cm_vmar_map(r, PG, b, 0, PG, RW | CM_VMAR_MAP_SPECIFIC, &pb), CM_OK);
    CHECK_ST(cm_vmar_unmap_vmo(r, b, pa, PG), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_vmar_unmap_vmo(r, a, pa, P(2)), CM_ERR_NOT_FOUND);
    cm_mapping_info_t mi;
    CHECK_ST(cm_mapping_get_info(pa, &mi), CM_OK);
    CHECK_ST(cm_vmar_unmap_vmo(r, a, pa, PG), CM_OK);
    CHECK_ST(cm_mapping_get_info(pa, &mi), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(a), CM_OK);
    CHECK_ST(cm_handle_close(b), CM_OK);
    return 0;
}

int test_vmar_rights_bound_protection_never_execute(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t v, ro, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(PG, 0, &v), CM_OK);
    CHECK_ST(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(2), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, PG, CM_MAP_READ | CM_MAP_EXECUTE, &p),
             CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_map(r, 0, ro, 0, PG, RW, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_map(r, 0, ro, 0, PG, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_vmar_protect(r, p, PG, RW), CM_ERR_ACCESS_DENIED); /* max protection */
    CHECK_ST(cm_vmar_protect(r, p, PG, 0), CM_OK);
    CHECK_ST(cm_vmar_protect(r, p, PG, CM_MAP_READ), CM_OK);
    cm_handle_t dup;
    CHECK_ST(cm_handle_duplicate(r, CM_RIGHTS_SAME, &dup), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* After a READONLY seal no page gains WRITE: protect cannot give back what
 * a run had dropped, while a run still writable keeps working (the seal's
 * rule, docs/vmo.md). */
int test_vmar_protect_never_regains_write_after_readonly_seal(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t v, r;
    void *base, *p;
    CHECK_ST(cm_vmo_create(P(2), 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(2), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, 0, P(2), RW, &p), CM_OK);
    CHECK_ST(cm_vmar_protect(r, p, PG, CM_MAP_READ), CM_OK);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    CHECK_ST(cm_vmar_protect(r, p, PG, RW), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_protect(r, p, P(2), RW), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_protect(r, (char *)p + PG, PG, RW), CM_OK); /* was writable */
    ((volatile uint8_t *)p)[PG] = 7;
    uint8_t byte = 0;
    CHECK_ST(cm_vmo_read(v, &byte, PG, 1), CM_OK);
    CHECK(byte == 7);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

int test_vmo_decommit_zeroes_and_counts_exactly(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t v;
    uint64_t c = 1;
    uint8_t byte = 1, ff = 0xff;
    CHECK_ST(cm_vmo_create(P(8), 0, &v), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == 0);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, P(1), P(4)), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, P(3), P(4)), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == P(6));
    CHECK_ST(cm_vmo_write(v, &ff, P(4), 1), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, P(4), P(2)), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, P(5), P(3)), CM_OK);
    CHECK_ST(cm_vmo_get_committed(v, &c), CM_OK);
    CHECK(c == P(3));
    CHECK_ST(cm_vmo_read(v, &byte, P(4), 1), CM_OK);
    CHECK(byte == 0);
    CHECK_ST(cm_vmo_op_range(v, 0, 0, PG), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, P(7), P(2)), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    CHECK_ST(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, PG), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

int test_mapping_identity_names_object_and_offset(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t v, r;
    void *base, *p, *q;
    cm_vmo_info_t vi;
    cm_mapping_info_t m, n;
    CHECK_ST(cm_vmo_create(P(4), 0, &v), CM_OK);
    CHECK_ST(cm_vmo_get_info(v, &vi), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(4), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map(r, 0, v, P(1), P(2), RW, &p), CM_OK);
    CHECK_ST(cm_vmar_map(r, P(2), v, P(1), P(2), CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &q), CM_OK);
    CHECK_ST(cm_mapping_get_info((char *)p + P(1) + 17, &m), CM_OK);
    CHECK_ST(cm_mapping_get_info(q, &n), CM_OK);
    CHECK(m.object_id == vi.id && n.object_id == vi.id);
    CHECK(m.object_generation == n.object_generation);
    CHECK(m.object_offset == P(2) && n.object_offset == P(1));
    CHECK(m.mapping_generation != n.mapping_generation);
    CHECK(m.aspace_id == n.aspace_id && m.aspace_generation == n.aspace_generation);
    CHECK(m.prot == RW && n.prot == CM_MAP_READ);
    CHECK((m.flags & CM_MAPPING_INFO_IN_VMAR) != 0);
    CHECK_ST(cm_mapping_get_info(p, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_mapping_get_info(p, &m), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

int test_vmar_limits_have_typed_errors(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    static cm_handle_t rs[CM_MAX_VMARS];
    cm_handle_t extra, r, v;
    void *b, *p;
    CHECK_ST(cm_vmar_reserve(0, CM_MAX_RESERVED_BYTES + PG, 0, &extra, &b),
             CM_ERR_OUT_OF_RANGE);
    for (uint32_t i = 0; i < CM_MAX_VMARS; i++)
        CHECK_ST(cm_vmar_reserve(0, PG, 0, &rs[i], &b), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, PG, 0, &extra, &b), CM_ERR_NO_RESOURCES);
    for (uint32_t i = 0; i < CM_MAX_VMARS; i++)
        CHECK_ST(cm_handle_close(rs[i]), CM_OK);
    CHECK_ST(cm_vmo_create(PG, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(2 * CM_VMAR_MAX_MAPPINGS + 2), 0, &r, &b), CM_OK);
    for (uint32_t i = 0; i < CM_VMAR_MAX_MAPPINGS; i++)
        CHECK_ST(cm_vmar_map(r, P(2 * i), v, 0, PG, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                 CM_OK);
    CHECK_ST(cm_vmar_map(r, P(2 * CM_VMAR_MAX_MAPPINGS), v, 0, PG,
                         CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
             CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* ---- nested reservations (cm_vmar_reserve_in) ---- */

int test_vmar_nested_fixed_and_hint_never_overlap_either_way(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t r, c, c2, v;
    void *base, *cb, *cb2, *p;
    cm_vmar_info_t pi, ci;
    CHECK_ST(cm_vmo_create(P(4), 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(16), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, P(4), P(4), CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK(cb == (char *)base + P(4));
    /* The parent cannot map over the child, nor place a mapping in it. */
    CHECK_ST(cm_vmar_map(r, P(7), v, 0, P(2), RW | CM_VMAR_MAP_SPECIFIC, &p),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_map_anon(r, P(5), PG, RW | CM_VMAR_MAP_SPECIFIC, &p),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_map(r, P(4), v, 0, P(4), RW, &p), CM_OK); /* hint inside the child */
    CHECK((char *)p >= (char *)cb + P(4) || (char *)p + P(4) <= (char *)cb);
    /* Nor can a second child take the first's or a mapping's pages. */
    CHECK_ST(cm_vmar_reserve_in(r, P(6), P(4), CM_VMAR_FIXED, &c2, &cb2),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_reserve_in(r, (uint64_t)((char *)p - (char *)base), PG, CM_VMAR_FIXED,
                                &c2, &cb2),
             CM_ERR_ALREADY_EXISTS);
    CHECK_ST(cm_vmar_reserve_in(r, P(4), P(2), 0, &c2, &cb2), CM_OK); /* hint: moved */
    CHECK((char *)cb2 >= (char *)cb + P(4) || (char *)cb2 + P(2) <= (char *)cb);
    CHECK((char *)cb2 >= (char *)p + P(4) || (char *)cb2 + P(2) <= (char *)p);
    /* The parent's unmap and protect over a child page: BAD_STATE. */
    CHECK_ST(cm_vmar_unmap(r, cb, PG), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_protect(r, cb, PG, CM_MAP_READ), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_reserve_in(r, P(16), PG, CM_VMAR_FIXED, &c2, &cb2), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmar_reserve_in(r, P(15), P(2), CM_VMAR_FIXED, &c2, &cb2), CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmar_reserve_in(r, 0, P(17), 0, &c2, &cb2), CM_ERR_OUT_OF_RANGE);
    /* The child maps at its own offsets; identity names the child. */
    CHECK_ST(cm_vmar_map(c, PG, v, 0, PG, RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    CHECK(p == (char *)cb + PG);
    ((volatile uint8_t *)p)[0] = 9;
    cm_mapping_info_t mi;
    CHECK_ST(cm_vmar_get_info(c, &ci), CM_OK);
    CHECK(ci.base == (uint64_t)(uintptr_t)cb && ci.len == P(4) && ci.mappings == 1);
    CHECK_ST(cm_mapping_get_info(p, &mi), CM_OK);
    CHECK(mi.vmar_id == ci.id && mi.object_offset == 0 && mi.prot == RW);
    CHECK_ST(cm_mapping_get_info(cb, &mi), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_vmar_get_info(r, &pi), CM_OK);
    CHECK(pi.mappings == 1 && pi.mapped_bytes == P(4) && ci.id != pi.id);
    CHECK_ST(cm_vmar_map(c, P(4), v, 0, PG, RW | CM_VMAR_MAP_SPECIFIC, &p),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_handle_close(c2), CM_OK);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

int test_vmar_nested_parent_close_destroys_children_bad_state(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t r, c, g, v, x;
    void *base, *cb, *gb, *p, *q;
    cm_vmar_info_t info;
    cm_mapping_info_t mi;
    CHECK_ST(cm_vmo_create(PG, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(8), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, P(2), P(4), CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(c, PG, P(2), CM_VMAR_FIXED, &g, &gb), CM_OK);
    CHECK_ST(cm_vmar_map(g, 0, v, 0, PG, RW, &p), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, 0, PG, RW, &q), CM_OK);
    ((volatile uint8_t *)p)[0] = 1;
    ((volatile uint8_t *)q)[0] = 2;
    CHECK_ST(cm_handle_close(r), CM_OK);
    /* Both descendants are destroyed; their handles stay, typed. */
    CHECK_ST(cm_vmar_get_info(c, &info), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_get_info(g, &info), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_map(g, 0, v, 0, PG, RW, &p), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_map_anon(c, 0, PG, RW, &p), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_reserve_in(c, 0, PG, 0, &x, &p), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_unmap(g, gb, PG), CM_ERR_BAD_STATE);
    CHECK_ST(cm_vmar_protect(c, q, PG, CM_MAP_READ), CM_ERR_BAD_STATE);
    CHECK_ST(cm_mapping_get_info(gb, &mi), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_mapping_get_info(q, &mi), CM_ERR_NOT_FOUND);
    /* The whole range is free again. */
    CHECK_ST(cm_vmar_reserve(base, P(8), CM_VMAR_FIXED, &x, &p), CM_OK);
    CHECK_ST(cm_handle_close(x), CM_OK);
    CHECK_ST(cm_handle_close(g), CM_OK);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

int test_vmar_nested_child_close_returns_range_to_parent(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t r, c;
    void *base, *cb, *p;
    cm_mapping_info_t mi;
    cm_vmar_info_t info;
    CHECK_ST(cm_vmar_reserve(0, P(4), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 0, P(4), CM_VMAR_FIXED, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, PG, P(2), RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 5;
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 1 && info.mappings == 0 && info.mapped_bytes == 0);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_mapping_get_info(p, &mi), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 0);
    CHECK_ST(cm_vmar_map_anon(r, 0, P(4), RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    CHECK(p == base);
    CHECK(((volatile uint8_t *)p)[PG] == 0); /* the child's page is gone */
    CHECK_ST(cm_handle_close(r), CM_OK);
    return 0;
}

int test_vmar_nested_depth_limit_and_rights_subset(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t h[CM_VMAR_MAX_DEPTH], x, ro, v;
    void *b, *p;
    CHECK_ST(cm_vmar_reserve(0, P(CM_VMAR_MAX_DEPTH + 1), 0, &h[0], &b), CM_OK);
    for (uint32_t i = 1; i < CM_VMAR_MAX_DEPTH; i++)
        CHECK_ST(cm_vmar_reserve_in(h[i - 1], PG, P(CM_VMAR_MAX_DEPTH + 1 - i), CM_VMAR_FIXED,
                                    &h[i], &b),
                 CM_OK);
    CHECK_ST(cm_vmar_reserve_in(h[CM_VMAR_MAX_DEPTH - 1], 0, PG, 0, &x, &b),
             CM_ERR_NO_RESOURCES);
    CHECK_ST(cm_vmar_map_anon(h[CM_VMAR_MAX_DEPTH - 1], 0, PG, RW, &p), CM_OK);
    ((volatile uint8_t *)p)[0] = 1; /* a fault descends every level */
    CHECK_ST(cm_handle_close(h[0]), CM_OK);
    for (uint32_t i = 1; i < CM_VMAR_MAX_DEPTH; i++)
        CHECK_ST(cm_handle_close(h[i]), CM_OK);
    /* Rights: the CAN_MAP flags give a subset, never more than the parent. */
    CHECK_ST(cm_vmo_create(PG, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(4), 0, &h[0], &b), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(h[0], 0, P(2), CM_VMAR_CAN_MAP_WRITE, &x, &b),
             CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmar_reserve_in(h[0], 0, P(2), CM_VMAR_CAN_MAP_READ, &ro, &b), CM_OK);
    CHECK_ST(cm_vmar_map(ro, 0, v, 0, PG, RW, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_map_anon(ro, 0, PG, RW, &p), CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_reserve_in(ro, 0, PG, CM_VMAR_CAN_MAP_READ | CM_VMAR_CAN_MAP_WRITE, &x,
                                &b),
             CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_map_anon(ro, 0, PG, CM_MAP_READ, &p), CM_OK);
    CHECK_ST(cm_vmar_protect(ro, p, PG, RW), CM_ERR_ACCESS_DENIED);
    CHECK(((volatile uint8_t *)p)[0] == 0);
    CHECK_ST(cm_handle_close(ro), CM_OK);
    CHECK_ST(cm_handle_close(h[0]), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* ---- anonymous mappings (cm_vmar_map_anon) ---- */

int test_vmar_anon_zero_fill_split_protect_and_provenance(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_handle_t r, v;
    void *base, *p, *q;
    cm_vmar_info_t info;
    cm_mapping_info_t mi;
    CHECK_ST(cm_vmo_create(PG, 0, &v), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(6), 0, &r, &base), CM_OK);
    CHECK_ST(cm_vmar_map_anon(r, PG, P(4), RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    CHECK(p == (char *)base + PG);
    for (uint64_t i = 0; i < 4; i++) {
        CHECK(((volatile uint8_t *)p)[P(i) + 7] == 0);
        ((volatile uint8_t *)p)[P(i)] = (uint8_t)(0x10 + i);
    }
    CHECK_ST(cm_mapping_get_info((char *)p + P(2), &mi), CM_OK);
    CHECK(mi.object_id == 0 && mi.object_generation == 0 && mi.object_offset == P(2));
    CHECK((mi.flags & (CM_MAPPING_INFO_ANON | CM_MAPPING_INFO_IN_VMAR)) ==
          (CM_MAPPING_INFO_ANON | CM_MAPPING_INFO_IN_VMAR));
    CHECK(mi.map_base == (uint64_t)(uintptr_t)p && mi.map_len == P(4) && mi.prot == RW);
    /* Provenance: an anonymous run names no object. */
    CHECK_ST(cm_vmar_unmap_vmo(r, v, p, PG), CM_ERR_NOT_FOUND);
    CHECK_ST(cm_vmar_unmap(r, (char *)p + PG, PG), CM_OK); /* middle */
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 2 && info.mappings == 1 && info.mapped_bytes == P(3));
    CHECK(((volatile uint8_t *)p)[P(3)] == 0x13);
    CHECK_ST(cm_vmar_protect(r, (char *)p + P(2), PG, CM_MAP_READ), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 3);
    CHECK_ST(cm_vmar_protect(r, (char *)p + P(2), PG, 0), CM_OK);
    CHECK_ST(cm_vmar_protect(r, (char *)p + P(2), P(2), RW), CM_OK);
    CHECK(((volatile uint8_t *)p)[P(2)] == 0x12); /* kept through no-access */
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.runs == 2);
    /* The unmapped page comes back zero-filled, a new mapping. */
    CHECK_ST(cm_vmar_map_anon(r, P(2), PG, RW | CM_VMAR_MAP_SPECIFIC, &q), CM_OK);
    CHECK(((volatile uint8_t *)q)[0] == 0);
    CHECK_ST(cm_mapping_get_info(q, &mi), CM_OK);
    CHECK_ST(cm_vmar_get_info(r, &info), CM_OK);
    CHECK(info.mappings == 2 && info.mapped_bytes == P(4));
    /* Flags and rights: as cm_vmar_map. */
    CHECK_ST(cm_vmar_map_anon(r, 0, PG, CM_MAP_READ | CM_MAP_EXECUTE, &q),
             CM_ERR_ACCESS_DENIED);
    CHECK_ST(cm_vmar_map_anon(r, 0, PG, CM_MAP_WRITE, &q), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmar_map_anon(r, 0, 0, RW, &q), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmar_map_anon(r, 0, PG, RW, 0), CM_ERR_INVALID_ARGS);
    CHECK_ST(cm_vmar_map_anon(r, P(5), P(2), RW | CM_VMAR_MAP_SPECIFIC, &q),
             CM_ERR_OUT_OF_RANGE);
    CHECK_ST(cm_vmar_map_anon(v, 0, PG, RW, &q), CM_ERR_WRONG_TYPE);
    CHECK_ST(cm_vmar_map_anon(r, 0, P(6), RW, &q), CM_ERR_NO_RESOURCES); /* no free range */
    CHECK_ST(cm_vmar_unmap(r, p, P(4)), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_handle_close(v), CM_OK);
    return 0;
}

/* Nested reservations and anonymous mappings hand back every charge when
 * closed: VIRTUAL is charged once (by the root), a child counts in VMARS,
 * and nothing stays behind. */
int test_vmar_nested_and_anon_ledger_returns_exactly(void)
{
    SKIP_UNLESS(conf_target.has_vmar, NO_VMAR);
    cm_ledger_info_t l0, l1, l2;
    cm_handle_t r, c;
    void *base, *cb, *p;
    CHECK_ST(cm_ledger_get(&l0), CM_OK);
    CHECK_ST(cm_vmar_reserve(0, P(8), 0, &r, &base), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    CHECK_ST(cm_vmar_reserve_in(r, 0, P(4), 0, &c, &cb), CM_OK);
    CHECK_ST(cm_vmar_map_anon(c, 0, P(2), RW, &p), CM_OK);
    ((volatile uint8_t *)p)[PG] = 1;
    CHECK_ST(cm_ledger_get(&l2), CM_OK);
    CHECK(l1.entry[CM_LEDGER_VIRTUAL].used == l0.entry[CM_LEDGER_VIRTUAL].used + P(8));
    CHECK(l2.entry[CM_LEDGER_VIRTUAL].used == l1.entry[CM_LEDGER_VIRTUAL].used);
    if (l1.entry[CM_LEDGER_VMARS].flags & CM_LEDGER_ENFORCED)
        CHECK(l2.entry[CM_LEDGER_VMARS].used == l1.entry[CM_LEDGER_VMARS].used + 1);
    CHECK_ST(cm_handle_close(c), CM_OK);
    CHECK_ST(cm_handle_close(r), CM_OK);
    CHECK_ST(cm_ledger_get(&l1), CM_OK);
    static const cm_ledger_kind_t kinds[] = { CM_LEDGER_VIRTUAL, CM_LEDGER_VMARS,
                                              CM_LEDGER_VMOS, CM_LEDGER_OBJECT_BACKING,
                                              CM_LEDGER_HANDLES };
    for (uint32_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        CHECK(l1.entry[kinds[i]].used == l0.entry[kinds[i]].used);
    return 0;
}
