#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Model-checks the DMA ownership protocol (models/dma.pml) with Spin and
# prints TAP. Three checks:
#   1. safety: every assertion and no invalid end state, exhaustive search;
#   2. liveness: a quarantined slot is eventually FREE (weak fairness);
#   3. the model has teeth: a mutant that skips quarantine (abandoning an
#      in-flight buffer makes it DIRTY at once) must be caught by pan.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
model="$here/models/dma.pml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1..3"
if ! command -v spin >/dev/null 2>&1; then
    for i in 1 2 3; do echo "ok $i - spin # SKIP spin not installed (Debian package spin)"; done
    exit 0
fi

# pan's search depth: the clients' idle steps make long DFS paths.
DEPTH=4000000

run_pan() { # dir model cflags panflags -> prints pan output
    local dir=$1 pml=$2 cflags=$3 flags=$4
    mkdir -p "$dir" && cd "$dir" || return 1
    spin -a "$pml" >spin.log 2>&1 || { cat spin.log; return 1; }
    # shellcheck disable=SC2086
    gcc -O2 -w -o pan pan.c $cflags >gcc.log 2>&1 || { cat gcc.log; return 1; }
    # shellcheck disable=SC2086
    ./pan -m$DEPTH $flags 2>&1
}

check() { # n name output expect_errors
    local n=$1 name=$2 out=$3 want=$4
    local errs states
    errs=$(grep -o 'errors: [0-9]*' <<<"$out" | awk '{print $2}')
    states=$(grep -o '^ *[0-9]* states, stored' <<<"$out" | awk '{print $1}')
    echo "# $name: errors=${errs:-?} states=${states:-?}"
    if [[ "$errs" == "$want" ]] && ! grep -q 'max search depth too small' <<<"$out"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        sed 's/^/#   /' <<<"$out" | head -40
    fi
}

out=$(run_pan "$work/safety" "$model" "-DSAFETY -DNOCLAIM" "")
check 1 test_spin_safety_assertions_hold_in_every_interleaving "$out" 0

out=$(run_pan "$work/live" "$model" "" "-a -f")
check 2 test_spin_quarantine_always_ends_under_fairness "$out" 0

sed 's/:: st\[s\] == FLIGHT -> st\[s\] = QUAR/:: st[s] == FLIGHT -> st[s] = DIRTY; held--/' \
    "$model" >"$work/mutant.pml"
if cmp -s "$model" "$work/mutant.pml"; then
    echo "not ok 3 - test_spin_catches_missing_quarantine # mutation did not apply"
else
    out=$(run_pan "$work/mutant" "$work/mutant.pml" "-DSAFETY -DNOCLAIM" "")
    if grep -q 'assertion violated' <<<"$out"; then
        echo "# mutant: $(grep -m1 'assertion violated' <<<"$out")"
        echo "ok 3 - test_spin_catches_missing_quarantine"
    else
        echo "not ok 3 - test_spin_catches_missing_quarantine"
        sed 's/^/#   /' <<<"$out" | head -20
    fi
fi
