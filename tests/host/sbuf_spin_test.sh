#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Model-checks the SharedBuffer ring protocol (models/sbuf.pml) with Spin and
# prints TAP:
#   1-2. safety, exhaustive: BLOCK; DROP_OLDEST with a consumer that may stall
#        (its behaviours include the non-stalling ones);
#   3-4. liveness, without even assuming fairness (every process blocks
#        rather than spins when it cannot progress): BLOCK publishes everything while the
#        consumers keep releasing; DROP_OLDEST publishes everything although
#        a consumer stalls for good;
#   5.   the liveness check has teeth: BLOCK with a stalled consumer must
#        NOT publish everything (it waits, by design);
#   6-9. mutants pan must catch: a slot freed by the first of two releases,
#        the tail published before its descriptor, the producer loading
#        rel_tail before read, and a DROP_OLDEST take-back without CAS.
#   10-11. DROP_OLDEST cell reuse (REUSE: 1 consumer, 2 slots, ring of 2,
#        6 messages, so the producer takes r back and rewrites cell(r) while
#        the consumer copies it): safety with the claim-then-check order, and
#        liveness;
#   12-14. mutants of the DROP_OLDEST receive pan must catch: check before
#        the claim (the old order: false PROTOCOL on a reused cell), no reload
#        of read after tail (false PROTOCOL on tail - read), claim by compare
#        then store (accepts a taken-back, reclaimed slot).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
model="$here/models/sbuf.pml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

N=14
echo "1..$N"
if ! command -v spin >/dev/null 2>&1; then
    for i in $(seq 1 $N); do echo "ok $i - spin # SKIP spin not installed (Debian package spin)"; done
    exit 0
fi

DEPTH=10000  # depth reached is about 600

run_pan() { # dir spinflags cflags panflags -> prints pan output
    local dir=$1 sflags=$2 cflags=$3 flags=$4
    mkdir -p "$work/$dir" && cd "$work/$dir" || return 1
    cp "$model" sbuf.pml
    # shellcheck disable=SC2086
    spin $sflags -a sbuf.pml >spin.log 2>&1 || { cat spin.log; return 1; }
    # shellcheck disable=SC2086
    gcc -O2 -w -o pan pan.c $cflags >gcc.log 2>&1 || { cat gcc.log; return 1; }
    # shellcheck disable=SC2086
    ./pan -m$DEPTH -w22 $flags 2>&1
}

field() { # output pattern -> the number after it
    grep -o "$2 *[0-9]*" <<<"$1" | head -1 | awk '{print $NF}'
}

check() { # n name output expect_errors
    local n=$1 name=$2 out=$3 want=$4 errs states
    errs=$(field "$out" 'errors:')
    states=$(grep -o '^ *[0-9]* states, stored' <<<"$out" | awk '{print $1}')
    echo "# $name: errors=${errs:-?} states=${states:-?}"
    if [[ "$errs" == "$want" ]] && ! grep -q 'max search depth too small' <<<"$out"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        sed 's/^/#   /' <<<"$out" | head -40
    fi
}

# A mutant must be caught by the named assertion (a fragment of its text),
# not by a bad array index or the like.
mutant() { # n name spinflags expected-assertion-fragment
    local n=$1 name=$2 flags=$3 want=$4 out
    out=$(run_pan "m$n" "$flags" "-DSAFETY -DNOCLAIM $QUICK" "")
    if grep -q 'assertion violated' <<<"$out" && grep -F -- "$want" <<<"$out" |
        grep -qv 'invalid array index'; then
        echo "# mutant: $(grep -m1 'assertion violated' <<<"$out")"
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        sed 's/^/#   /' <<<"$out" | head -20
    fi
}

SAFE="-DSAFETY -DNOCLAIM -DNOBOUNDCHECK"
# Small searches (mutants stop at the first error, REUSE is under 100,000
# states): compiling pan without optimisation is the faster whole.
QUICK="-O0"

out=$(run_pan safe_block "" "$SAFE" "")
check 1 test_spin_block_no_slot_written_while_held_in_every_interleaving "$out" 0

out=$(run_pan safe_drop "-DDROP -DSTALL" "$SAFE" "")
check 2 test_spin_drop_oldest_no_slot_written_while_held_in_every_interleaving "$out" 0

out=$(run_pan live_block "" "-DNOBOUNDCHECK" "-a")
check 3 test_spin_block_producer_publishes_everything_while_consumers_release "$out" 0

out=$(run_pan live_drop "-DDROP -DSTALL" "-DNOBOUNDCHECK" "-a")
check 4 test_spin_drop_oldest_producer_never_waits_on_a_stalled_consumer "$out" 0

out=$(run_pan live_block_stall "-DSTALL" "-DNOBOUNDCHECK" "-a")
if grep -q 'acceptance cycle' <<<"$out"; then
    echo "# block + stall: $(grep -m1 'acceptance cycle' <<<"$out")"
    echo "ok 5 - test_spin_block_waits_for_a_stalled_consumer_so_liveness_has_teeth"
else
    echo "not ok 5 - test_spin_block_waits_for_a_stalled_consumer_so_liveness_has_teeth"
    sed 's/^/#   /' <<<"$out" | head -20
fi

mutant 6 test_spin_catches_slot_freed_by_the_first_of_two_releases \
    "-DMUTANT_FIRST_RELEASE_FREES -DUNCHECKED_RELEASES" "!(r)"
mutant 7 test_spin_catches_tail_published_before_its_descriptor \
    "-DMUTANT_TAIL_BEFORE_DESCRIPTOR" "dq=="
mutant 8 test_spin_catches_release_tail_loaded_before_read_index \
    "-DMUTANT_REAP_LOADS_TAIL_FIRST" "mark-prel"
mutant 9 test_spin_catches_drop_oldest_take_back_without_cas \
    "-DDROP -DMUTANT_DROP_WITHOUT_CAS" "assertion violated"

REUSE="-DDROP -DNC=1 -DNS=2 -DD=2 -DNMSG=6 -DSPLIT_LOADS"

# Array bounds checked here (one consumer: an index 1 would be a model bug).
out=$(run_pan safe_reuse "$REUSE" "-DSAFETY -DNOCLAIM $QUICK" "")
check 10 test_spin_drop_oldest_cell_reused_during_copy_is_never_accepted_nor_protocol "$out" 0

out=$(run_pan live_reuse "$REUSE" "$QUICK" "-a")
check 11 test_spin_drop_oldest_one_consumer_ring_equal_slots_publishes_everything "$out" 0

mutant 12 test_spin_catches_drop_oldest_check_before_claim \
    "$REUSE -DMUTANT_CHECK_BEFORE_CLAIM" "dq=="
mutant 13 test_spin_catches_drop_oldest_read_not_reloaded_after_tail \
    "$REUSE -DMUTANT_NO_READ_RELOAD" "((t-r)&255)<="
mutant 14 test_spin_catches_drop_oldest_claim_by_compare_then_store \
    "$REUSE -DMUTANT_CLAIM_WITHOUT_CAS" "sseq[ds]==dq"
