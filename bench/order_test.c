/* SPDX-License-Identifier: MIT */
/* bench/order_test: bench_williams (bench/common.h), the order in which
 * the benches interleave their variants, is a balanced design for every
 * variant count the benches use and more: over 2n consecutive orders each
 * order is a permutation, every variant runs in every position equally
 * often, and every variant follows every other one equally often. The
 * same check must reject a plain rotation of one cycle, the order the
 * benches used before (each variant always after the same one). TAP. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define MAX_N 16

typedef int (*order_fn)(int n, uint32_t q, int k);

static int rotation(int n, uint32_t q, int k)
{
    return (int)(((uint32_t)k + q) % (uint32_t)n);
}

/* 0 balanced; 1 not a permutation; 2 positions unequal; 3 successions unequal. */
static int check(order_fn f, int n, uint32_t q0)
{
    int pos[MAX_N][MAX_N], follow[MAX_N][MAX_N];
    memset(pos, 0, sizeof(pos));
    memset(follow, 0, sizeof(follow));
    for (uint32_t q = q0; q < q0 + 2u * (uint32_t)n; q++) {
        int seen[MAX_N] = { 0 }, prev = -1;
        for (int k = 0; k < n; k++) {
            int v = f(n, q, k);
            if (v < 0 || v >= n || seen[v]++)
                return 1;
            pos[v][k]++;
            if (prev >= 0)
                follow[prev][v]++;
            prev = v;
        }
    }
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
            if (pos[a][b] != 2)
                return 2;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
            if (a != b && follow[a][b] != follow[0][1 % n])
                return 3;
    return 0;
}

int main(void)
{
    int t = 0, failed = 0;
    printf("1..3\n");
    int bad = 0;
    for (int n = 1; n <= MAX_N && !bad; n++)
        for (uint32_t q0 = 0; q0 < 2u * (uint32_t)n && !bad; q0++)
            bad = check(bench_williams, n, q0) != 0 ? n : 0;
    failed += bad != 0;
    printf("%sok %d - bench_williams is balanced over any 2n consecutive orders, n = 1..%d%s\n",
           bad ? "not " : "", ++t, MAX_N, bad ? " (fails at n shown in the next line)" : "");
    if (bad)
        printf("# first unbalanced n: %d\n", bad);
    int perm = 1;
    for (uint32_t q = 0; q < 1000 && perm; q++)
        perm = check(bench_williams, 3, q) != 1;
    failed += !perm;
    printf("%sok %d - every order of 3 variants is a permutation, for q up to 1000\n",
           perm ? "" : "not ", ++t);
    int rot = check(rotation, 3, 0) == 3 && check(rotation, 14, 0) == 3;
    failed += !rot;
    printf("%sok %d - the same check rejects a rotation of one cycle (3 and 14 variants)\n",
           rot ? "" : "not ", ++t);
    return failed != 0;
}
