/* SPDX-License-Identifier: MIT */
/* Address-space regions on Linux: reservations, mappings inside them,
 * splits, provenance, commit/decommit with exact counts, mapping identity,
 * each named limit, and error precedence (include/capmem/vmar.h). Every test
 * runs inside the leak check (fds, /proc/self/maps lines, handles, capmem
 * mappings back to where they were). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <capmem/capmem.h>
#include <capmem/host.h>

#include "common/leakcheck.h"

#define PG ((uint64_t)CM_PAGE_SIZE)
#define P(n) ((uint64_t)(n) * PG)
#define RW (CM_MAP_READ | CM_MAP_WRITE)

static cm_handle_t vmo_of(uint64_t pages)
{
    cm_handle_t v;
    assert_status(cm_vmo_create(P(pages), CM_VMO_BASE_PAGES, &v), CM_OK);
    return v;
}

static uint64_t committed(cm_handle_t v)
{
    uint64_t b = UINT64_MAX;
    assert_status(cm_vmo_get_committed(v, &b), CM_OK);
    return b;
}

static void test_fixed_reserve_no_replace_and_reuse_after_release(void **s)
{
    (void)s;
    cm_handle_t r, r2;
    void *base, *b2;
    assert_status(cm_vmar_reserve(NULL, P(16), 0, &r, &base), CM_OK);
    /* Overlap in every shape: exact, head, tail, inside. */
    assert_status(cm_vmar_reserve(base, P(16), CM_VMAR_FIXED, &r2, &b2), CM_ERR_ALREADY_EXISTS);
    assert_status(cm_vmar_reserve((char *)base - P(2), P(4), CM_VMAR_FIXED, &r2, &b2),
                  CM_ERR_ALREADY_EXISTS);
    assert_status(cm_vmar_reserve((char *)base + P(15), P(4), CM_VMAR_FIXED, &r2, &b2),
                  CM_ERR_ALREADY_EXISTS);
    assert_status(cm_vmar_reserve((char *)base + P(4), P(1), CM_VMAR_FIXED, &r2, &b2),
                  CM_ERR_ALREADY_EXISTS);
    assert_status(cm_handle_close(r), CM_OK);
    /* Released: the same range can be reserved again, exactly. */
    assert_status(cm_vmar_reserve(base, P(16), CM_VMAR_FIXED, &r2, &b2), CM_OK);
    assert_ptr_equal(b2, base);
    assert_status(cm_handle_close(r2), CM_OK);
}

static void test_reservation_never_overlaps_an_object_mapping(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(4), r;
    void *p, *b;
    assert_status(cm_vmo_map(v, 0, P(4), CM_MAP_READ, &p), CM_OK);
    assert_status(cm_vmar_reserve(p, P(4), CM_VMAR_FIXED, &r, &b), CM_ERR_ALREADY_EXISTS);
    assert_status(cm_vmar_reserve((char *)p + P(3), P(2), CM_VMAR_FIXED, &r, &b),
                  CM_ERR_ALREADY_EXISTS);
    /* A hint on it is only a hint: placed elsewhere. */
    assert_status(cm_vmar_reserve(p, P(4), 0, &r, &b), CM_OK);
    assert_ptr_not_equal(b, p);
    assert_status(cm_handle_close(r), CM_OK);
    assert_status(cm_vmo_unmap(p, P(4)), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
}

static void test_map_write_read_and_middle_unmap_keeps_the_range_reserved(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(8), r, r2;
    void *base, *p, *b2;
    uint32_t maps0 = cm_host_live_mappings();
    assert_status(cm_vmar_reserve(NULL, P(32), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map(r, P(4), v, 0, P(8), RW | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    assert_ptr_equal(p, (char *)base + P(4));
    memset(p, 0xab, P(8));
    uint8_t byte = 0;
    assert_status(cm_vmo_read(v, &byte, P(7), 1), CM_OK);
    assert_int_equal(byte, 0xab);
    /* cm_vmo_unmap cannot remove a mapping that lives in a reservation. */
    assert_status(cm_vmo_unmap(p, P(8)), CM_ERR_INVALID_ARGS);
    /* Middle split: pages 2..3 of the mapping go; both sides stay. */
    assert_status(cm_vmar_unmap(r, (char *)p + P(2), P(2)), CM_OK);
    cm_vmar_info_t info;
    assert_status(cm_vmar_get_info(r, &info), CM_OK);
    assert_int_equal(info.runs, 2);
    assert_int_equal(info.mappings, 1);
    assert_int_equal(info.mapped_bytes, P(6));
    assert_int_equal(cm_host_live_mappings(), maps0 + 2);
    assert_int_equal(((uint8_t *)p)[P(5)], 0xab);
    /* The hole still belongs to the reservation: nothing else lands there. */
    assert_status(cm_vmar_reserve((char *)p + P(2), P(2), CM_VMAR_FIXED, &r2, &b2),
                  CM_ERR_ALREADY_EXISTS);
    cm_mapping_info_t mi;
    assert_status(cm_mapping_get_info((char *)p + P(2), &mi), CM_ERR_NOT_FOUND);
    /* Tail and head of the remaining runs. */
    assert_status(cm_vmar_unmap(r, (char *)p + P(7), P(1)), CM_OK);
    assert_status(cm_vmar_unmap(r, p, P(1)), CM_OK);
    assert_status(cm_vmar_get_info(r, &info), CM_OK);
    assert_int_equal(info.mapped_bytes, P(4));
    /* A range with a hole is refused whole. */
    assert_status(cm_vmar_unmap(r, p, P(8)), CM_ERR_NOT_FOUND);
    /* Remap into the hole at the same place. */
    assert_status(cm_vmar_map(r, P(6), v, P(2), P(2), RW | CM_VMAR_MAP_SPECIFIC, &b2), CM_OK);
    assert_int_equal(((uint8_t *)b2)[0], 0xab);
    assert_status(cm_handle_close(v), CM_OK); /* mappings keep the object */
    assert_int_equal(((uint8_t *)b2)[1], 0xab);
    assert_status(cm_handle_close(r), CM_OK);
    assert_int_equal(cm_host_live_mappings(), maps0);
}

static void test_protect_no_access_and_back_keeps_pages_committed(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(4), r;
    void *base, *p;
    assert_status(cm_vmar_reserve(NULL, P(4), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map(r, 0, v, 0, P(4), RW, &p), CM_OK);
    memset(p, 0x5a, P(4));
    assert_int_equal(committed(v), P(4));
    assert_status(cm_vmar_protect(r, (char *)p + P(1), P(2), 0), CM_OK);
    cm_mapping_info_t mi;
    assert_status(cm_mapping_get_info((char *)p + P(1), &mi), CM_OK);
    assert_int_equal(mi.prot, 0);
    assert_int_equal(committed(v), P(4));
    assert_status(cm_vmar_protect(r, (char *)p + P(1), P(2), RW), CM_OK);
    assert_int_equal(((uint8_t *)p)[P(2)], 0x5a);
    cm_vmar_info_t info;
    assert_status(cm_vmar_get_info(r, &info), CM_OK);
    assert_int_equal(info.runs, 1); /* merged back */
    /* Beyond the maximum protection: a read-only VMO handle. */
    cm_handle_t ro;
    void *q;
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ | CM_RIGHT_MAP, &ro), CM_OK);
    assert_status(cm_vmar_unmap(r, (char *)p + P(3), P(1)), CM_OK);
    assert_status(cm_vmar_map(r, P(3), ro, 0, P(1), RW | CM_VMAR_MAP_SPECIFIC, &q),
                  CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmar_map(r, P(3), ro, 0, P(1), CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &q),
                  CM_OK);
    assert_status(cm_vmar_protect(r, q, P(1), RW), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmar_protect(r, q, P(1), CM_MAP_READ | CM_MAP_EXECUTE),
                  CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_close(ro), CM_OK);
    assert_status(cm_handle_close(r), CM_OK);
    assert_status(cm_handle_close(v), CM_OK);
}

static void test_decommit_counts_exactly_and_recommit_reads_zeros(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(16), r;
    void *base, *p;
    assert_int_equal(committed(v), 0);
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, P(2), P(8)), CM_OK);
    assert_int_equal(committed(v), P(8));
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, P(6), P(8)), CM_OK); /* 4 new */
    assert_int_equal(committed(v), P(12));
    assert_status(cm_vmar_reserve(NULL, P(16), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map(r, 0, v, 0, P(16), RW, &p), CM_OK);
    memset((char *)p + P(2), 0x77, P(12));
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, P(4), P(3)), CM_OK);
    assert_int_equal(committed(v), P(9));
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, P(0), P(5)), CM_OK); /* 2, 3 */
    assert_int_equal(committed(v), P(7));
    /* Through the mapping and through read: zeros where decommitted. */
    assert_int_equal(((uint8_t *)p)[P(4) + 9], 0);
    uint8_t b = 1;
    assert_status(cm_vmo_read(v, &b, P(2), 1), CM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(((uint8_t *)p)[P(7)], 0x77);
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, P(0), P(16)), CM_OK);
    assert_int_equal(committed(v), P(16));
    assert_int_equal(((uint8_t *)p)[P(3)], 0); /* recommit: zero-filled */
    assert_status(cm_handle_close(r), CM_OK);
    /* Sealed: decommit would change content. */
    assert_status(cm_vmo_seal(v, CM_SEAL_READONLY), CM_OK);
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_DECOMMIT, 0, PG), CM_ERR_ACCESS_DENIED);
    assert_status(cm_handle_close(v), CM_OK);
}

static void test_op_range_error_precedence(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(2), ro, ch[2];
    assert_status(cm_vmo_op_range(CM_HANDLE_INVALID, 9, 0, PG), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_op_range(CM_HANDLE_INVALID, CM_VMO_OP_COMMIT, 1, PG),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_op_range(CM_HANDLE_INVALID, CM_VMO_OP_COMMIT, 0, PG), CM_ERR_BAD_HANDLE);
    assert_status(cm_channel_create(0, &ch[0], &ch[1]), CM_OK);
    assert_status(cm_vmo_op_range(ch[0], CM_VMO_OP_COMMIT, 0, PG), CM_ERR_WRONG_TYPE);
    assert_status(cm_handle_duplicate(v, CM_RIGHT_READ, &ro), CM_OK);
    assert_status(cm_vmo_op_range(ro, CM_VMO_OP_COMMIT, P(9), PG), CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmo_op_range(v, CM_VMO_OP_COMMIT, PG, P(2)), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmo_get_committed(v, NULL), CM_ERR_INVALID_ARGS);
    cm_handle_close(ch[0]);
    cm_handle_close(ch[1]);
    cm_handle_close(ro);
    cm_handle_close(v);
}

static void test_unmap_of_object_x_at_a_fails_when_a_maps_another_object(void **s)
{
    (void)s;
    cm_handle_t a = vmo_of(2), b = vmo_of(2), r, a2;
    void *base, *pa, *pb;
    assert_status(cm_vmar_reserve(NULL, P(4), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map(r, 0, a, 0, P(2), RW | CM_VMAR_MAP_SPECIFIC, &pa), CM_OK);
    assert_status(cm_vmar_map(r, P(2), b, 0, P(2), RW | CM_VMAR_MAP_SPECIFIC, &pb), CM_OK);
    assert_status(cm_vmar_unmap_vmo(r, b, pa, P(2)), CM_ERR_NOT_FOUND);
    assert_status(cm_vmar_unmap_vmo(r, a, pa, P(4)), CM_ERR_NOT_FOUND); /* half is b's */
    cm_mapping_info_t mi;
    assert_status(cm_mapping_get_info(pa, &mi), CM_OK); /* nothing was unmapped */
    /* Another handle to the same object names the same object. */
    assert_status(cm_handle_duplicate(a, CM_RIGHTS_SAME, &a2), CM_OK);
    assert_status(cm_vmar_unmap_vmo(r, a2, pa, P(2)), CM_OK);
    assert_status(cm_vmar_unmap_vmo(r, a2, pb, P(2)), CM_ERR_NOT_FOUND);
    assert_status(cm_vmar_unmap_vmo(r, b, pb, P(2)), CM_OK);
    cm_handle_close(a2);
    cm_handle_close(r);
    cm_handle_close(a);
    cm_handle_close(b);
}

static void test_mapping_identity_names_object_offset_and_generation(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(8), r;
    void *base, *p1, *p2, *p3;
    cm_vmo_info_t vi;
    cm_mapping_info_t m1, m2, m3;
    assert_status(cm_vmo_get_info(v, &vi), CM_OK);
    assert_status(cm_vmar_reserve(NULL, P(8), 0, &r, &base), CM_OK);
    assert_status(cm_vmar_map(r, 0, v, P(2), P(4), RW, &p1), CM_OK);
    assert_status(cm_vmar_map(r, P(4), v, P(2), P(4), CM_MAP_READ, &p2), CM_OK);
    assert_status(cm_vmo_map(v, P(4), P(3), CM_MAP_READ, &p3), CM_OK);
    assert_status(cm_mapping_get_info((char *)p1 + P(1) + 5, &m1), CM_OK);
    assert_status(cm_mapping_get_info(p2, &m2), CM_OK);
    assert_status(cm_mapping_get_info((char *)p3 + P(2), &m3), CM_OK);
    assert_int_equal(m1.object_id, vi.id);
    assert_int_equal(m2.object_id, vi.id);
    assert_int_equal(m3.object_id, vi.id);
    assert_int_equal(m1.object_generation, m2.object_generation);
    assert_int_equal(m1.object_generation, m3.object_generation);
    assert_int_equal(m1.object_offset, P(3));
    assert_int_equal(m2.object_offset, P(2));
    assert_int_equal(m3.object_offset, P(6));
    assert_int_not_equal(m1.mapping_generation, m2.mapping_generation);
    assert_int_not_equal(m2.mapping_generation, m3.mapping_generation);
    assert_int_equal(m1.aspace_id, (uint64_t)getpid());
    assert_int_equal(m1.aspace_generation, m3.aspace_generation);
    assert_int_equal(m1.flags, CM_MAPPING_INFO_IN_VMAR);
    assert_int_equal(m3.flags, 0);
    assert_int_equal(m1.prot, RW);
    assert_int_equal(m2.prot, CM_MAP_READ);
    /* A split mapping keeps its generation; a remap gets a new one. */
    uint64_t g1 = m1.mapping_generation;
    assert_status(cm_vmar_unmap(r, (char *)p1 + P(1), P(1)), CM_OK);
    assert_status(cm_mapping_get_info((char *)p1 + P(3), &m1), CM_OK);
    assert_int_equal(m1.mapping_generation, g1);
    assert_int_equal(m1.object_offset, P(5));
    assert_status(cm_vmar_map(r, P(1), v, 0, P(1), RW | CM_VMAR_MAP_SPECIFIC, &p1), CM_OK);
    assert_status(cm_mapping_get_info(p1, &m1), CM_OK);
    assert_true(m1.mapping_generation > g1);
    assert_status(cm_mapping_get_info(&m1, &m1), CM_ERR_NOT_FOUND); /* the stack */
    assert_status(cm_mapping_get_info(p1, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmo_unmap(p3, P(3)), CM_OK);
    cm_handle_close(r);
    cm_handle_close(v);
}

static void test_map_error_precedence(void **s)
{
    (void)s;
    cm_handle_t v = vmo_of(2), r, ch[2], rro;
    void *base, *p;
    assert_status(cm_vmar_reserve(NULL, P(4), 0, &r, &base), CM_OK);
    assert_status(cm_channel_create(0, &ch[0], &ch[1]), CM_OK);
    /* Stage 1 before any handle. */
    assert_status(cm_vmar_map(CM_HANDLE_INVALID, 0, v, 0, PG, RW, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_map(CM_HANDLE_INVALID, 0, v, 0, PG, CM_MAP_WRITE, &p),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_map(CM_HANDLE_INVALID, 1, v, 0, PG, RW, &p), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_map(CM_HANDLE_INVALID, 0, v, 0, PG, RW | (1u << 20), &p),
                  CM_ERR_INVALID_ARGS);
    /* The VMAR handle, then the VMO handle. */
    assert_status(cm_vmar_map(CM_HANDLE_INVALID, 0, CM_HANDLE_INVALID, 0, PG, RW, &p),
                  CM_ERR_BAD_HANDLE);
    assert_status(cm_vmar_map(ch[0], 0, CM_HANDLE_INVALID, 0, PG, RW, &p), CM_ERR_WRONG_TYPE);
    assert_status(cm_vmar_map(r, 0, CM_HANDLE_INVALID, 0, PG, CM_MAP_READ | CM_MAP_EXECUTE, &p),
                  CM_ERR_ACCESS_DENIED);
    assert_status(cm_vmar_map(r, 0, CM_HANDLE_INVALID, 0, PG, RW, &p), CM_ERR_BAD_HANDLE);
    assert_status(cm_vmar_map(r, 0, ch[0], 0, PG, RW, &p), CM_ERR_WRONG_TYPE);
    assert_status(cm_handle_replace(r, CM_RIGHT_READ | CM_RIGHT_MAP, &rro), CM_OK);
    r = rro;
    assert_status(cm_vmar_map(r, 0, v, 0, PG, RW, &p), CM_ERR_ACCESS_DENIED);
    /* Facts: the VMO's range before the reservation's. */
    assert_status(cm_vmar_map(r, P(9), v, P(2), PG, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmar_map(r, P(4), v, 0, PG, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmar_map(r, P(3), v, 0, P(2), CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmar_map(r, 0, v, 0, P(2), CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p), CM_OK);
    assert_status(cm_vmar_map(r, P(1), v, 0, P(1), CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                  CM_ERR_ALREADY_EXISTS);
    assert_status(cm_vmar_map(r, 0, v, 0, P(2), CM_MAP_READ, &p), CM_OK); /* first fit */
    assert_ptr_equal(p, (char *)base + P(2));
    assert_status(cm_vmar_map(r, 0, v, 0, P(1), CM_MAP_READ, &p), CM_ERR_NO_RESOURCES);
    assert_status(cm_vmar_unmap(r, (char *)base + 1, PG), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_unmap(r, (char *)base + P(4), PG), CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmar_protect(r, base, PG, RW), CM_ERR_ACCESS_DENIED); /* VMAR rights */
    assert_status(cm_vmar_protect(r, base, PG, CM_MAP_WRITE), CM_ERR_INVALID_ARGS);
    cm_handle_t dup;
    assert_status(cm_handle_duplicate(r, CM_RIGHTS_SAME, &dup), CM_ERR_ACCESS_DENIED);
    cm_handle_close(ch[0]);
    cm_handle_close(ch[1]);
    cm_handle_close(r);
    cm_handle_close(v);
}

static void test_each_vmar_limit_has_its_typed_error(void **s)
{
    (void)s;
    static cm_handle_t rs[CM_MAX_VMARS];
    void *b;
    cm_handle_t extra, v = vmo_of(1);
    /* Reserved bytes: one request above the limit, then the sum. */
    assert_status(cm_vmar_reserve(NULL, CM_MAX_RESERVED_BYTES + PG, 0, &extra, &b),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmar_reserve(NULL, CM_MAX_RESERVED_BYTES, 0, &rs[0], &b), CM_OK);
    assert_status(cm_vmar_reserve(NULL, PG, 0, &extra, &b), CM_ERR_QUOTA_VIRTUAL);
    cm_handle_close(rs[0]);
    /* Reservations per process. */
    for (uint32_t i = 0; i < CM_MAX_VMARS; i++)
        assert_status(cm_vmar_reserve(NULL, PG, 0, &rs[i], &b), CM_OK);
    assert_status(cm_vmar_reserve(NULL, PG, 0, &extra, &b), CM_ERR_NO_RESOURCES);
    for (uint32_t i = 0; i < CM_MAX_VMARS; i++)
        cm_handle_close(rs[i]);
    /* Runs per reservation: one-page mappings with a gap between each. */
    cm_handle_t r;
    void *p;
    assert_status(cm_vmar_reserve(NULL, P(2 * CM_VMAR_MAX_MAPPINGS + 2), 0, &r, &b), CM_OK);
    for (uint32_t i = 0; i < CM_VMAR_MAX_MAPPINGS; i++)
        assert_status(cm_vmar_map(r, P(2 * i), v, 0, PG, CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                      CM_OK);
    assert_status(cm_vmar_map(r, P(2 * CM_VMAR_MAX_MAPPINGS), v, 0, PG,
                              CM_MAP_READ | CM_VMAR_MAP_SPECIFIC, &p),
                  CM_ERR_NO_RESOURCES);
    cm_vmar_info_t info;
    assert_status(cm_vmar_get_info(r, &info), CM_OK);
    assert_int_equal(info.runs, CM_VMAR_MAX_MAPPINGS);
    cm_handle_close(r);
    cm_handle_close(v);
    assert_status(cm_vmar_reserve(NULL, PG, 0, &r, &b), CM_OK); /* all back */
    cm_handle_close(r);
}

static void test_reserve_argument_errors(void **s)
{
    (void)s;
    cm_handle_t r;
    void *b;
    assert_status(cm_vmar_reserve(NULL, PG, 0, NULL, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve(NULL, PG, 0, &r, NULL), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve(NULL, 0, 0, &r, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve(NULL, PG + 1, 0, &r, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve((void *)(uintptr_t)(PG + 1), PG, 0, &r, &b),
                  CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve(NULL, PG, CM_VMAR_FIXED, &r, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve(NULL, PG, 2, &r, &b), CM_ERR_INVALID_ARGS);
    assert_status(cm_vmar_reserve((void *)(uintptr_t)(UINT64_MAX & ~(PG - 1)), P(2),
                                  CM_VMAR_FIXED, &r, &b),
                  CM_ERR_OUT_OF_RANGE);
    assert_status(cm_vmar_get_info(CM_HANDLE_INVALID, NULL), CM_ERR_INVALID_ARGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LEAK_TEST(test_fixed_reserve_no_replace_and_reuse_after_release),
        LEAK_TEST(test_reservation_never_overlaps_an_object_mapping),
        LEAK_TEST(test_map_write_read_and_middle_unmap_keeps_the_range_reserved),
        LEAK_TEST(test_protect_no_access_and_back_keeps_pages_committed),
        LEAK_TEST(test_decommit_counts_exactly_and_recommit_reads_zeros),
        LEAK_TEST(test_op_range_error_precedence),
        LEAK_TEST(test_unmap_of_object_x_at_a_fails_when_a_maps_another_object),
        LEAK_TEST(test_mapping_identity_names_object_offset_and_generation),
        LEAK_TEST(test_map_error_precedence),
        LEAK_TEST(test_each_vmar_limit_has_its_typed_error),
        LEAK_TEST(test_reserve_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
