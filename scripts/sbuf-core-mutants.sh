#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mutation check of the SharedBuffer core tests (docs/sbuf.md "Verification"):
# applies each deliberate break of core/sbuf_{own,cons,ring}.c to a copy of
# core/, builds tests/host/core_sbuf_{own,cons,exhaustive}.c against it and
# reports how many tests of each program fail. A mutant no program catches
# is printed as SURVIVED. Not part of make test (about two minutes); run it
# after changing those files:  bash scripts/sbuf-core-mutants.sh
# (M16, removing the backwards-read check of cm__sbuf_cons_poll, is left out:
# cm__sbuf_cons_check tests the same condition again, so it cannot fail.)
set -u
cd "$(dirname "$0")/.."
muts=(
 "own@M1 first holder's release frees the slot@s->held &= ~bit;\n    p->held--;@s->held = 0;\n    p->held--;"
 "own@M2 release skips the seq check@s->seq != r.seq || @"
 "own@M3 release skips the holder-bit check@ || (s->held & bit) == 0)@)"
 "cons@M4 consumer skips the seq check@if (d.seq != cs->expected + skipped)@if (0)"
 "cons@M5 consumer accepts tail two rings ahead@if (cm__sbuf_count(read, tail) > cs->ring_size)@if (cm__sbuf_count(read, tail) > 2 * cs->ring_size)"
 "own@M6 late joiner sees the previous message@p->join_seq = o->next_seq;@p->join_seq = o->next_seq - 1;"
 "own@M7 drop takes the youngest@age > best_age@age < best_age"
 "own@M8 leave keeps held bits@        s->pending &= ~bit;\n        s->held &= ~bit;@        s->pending &= ~bit;"
 "own@M9 held bound off by one@p->mark - p->released > o->max_held@p->mark - p->released > o->max_held + 1"
 "own@M10 read index past tail accepted@if (!cm__sbuf_within(p->floor, r2, p->tail) || @if ("
 "ring@M11 DROP_OLDEST bound dropped@if (cfg->policy == CM_SBUF_DROP_OLDEST &&@if (0 &&"
 "cons@M12 full release ring accepted@>= cs->ring_size)\n        return broken(cs);@> cs->ring_size)\n        return broken(cs);"
 "own@M13 max_loans ignored@if (o->loaned >= o->max_loans)@if (0)"
 "cons@M14 max_held ignored by the consumer@if (cs->held >= cs->max_held)\n        return CM_ERR_NO_RESOURCES;@if (0)\n        return CM_ERR_NO_RESOURCES;"
 "own@M15 no settle on publish without consumers@    settle(o, s);\n    if (seq != 0)@    if (seq != 0)"
 "own@M17 release of a slot out of range accepted@if (r.reserved != 0 || r.slot >= o->slot_count)@if (r.reserved != 0)"
 "own@M18 release tail beyond a ring accepted@if (cm__sbuf_count(p->rel_head, rel_tail) > o->ring_size)@if (0)"
)
survived=0
for m in "${muts[@]}"; do
    IFS='@' read -r file name from to <<<"$m"
    d=$(mktemp -d)
    cp -r core "$d/core"
    if ! python3 - "$d/core/sbuf_$file.c" "$from" "$to" <<'PY'
import sys
p, a, b = sys.argv[1], sys.argv[2].replace('\\n', '\n'), sys.argv[3].replace('\\n', '\n')
s = open(p).read()
if a not in s:
    sys.exit(1)
open(p, 'w').write(s.replace(a, b, 1))
PY
    then
        echo "$name: mutation did not apply (the code changed: update this list)"
        survived=1
        rm -rf "$d"
        continue
    fi
    res="" caught=0
    for t in core_sbuf_own core_sbuf_cons core_sbuf_exhaustive; do
        if ! gcc -std=gnu11 -O2 -w -Iinclude -I"$d/core" -Itests/host -D_GNU_SOURCE -o "$d/$t" \
                tests/host/$t.c "$d"/core/sbuf_*.c core/status.c -lcmocka; then
            res="$res $t:build-failed"
            continue
        fi
        n=$(timeout 300 "$d/$t" 2>&1 | grep -c '^\[  FAILED  \] test_')
        n=$((n / 2)) # cmocka prints each failed test twice
        res="$res $t:$n"
        [ "$n" -gt 0 ] && caught=1
    done
    if [ $caught = 1 ]; then echo "caught   $name ->$res"; else echo "SURVIVED $name ->$res"; survived=1; fi
    rm -rf "$d"
done
exit $survived
