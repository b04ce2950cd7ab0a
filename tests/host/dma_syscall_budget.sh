#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# System calls of one DMA read cycle (issue 9): the default capmem pool
# and the guarded pool against plain io_uring on the same kind of buffer
# (the floor). Runs build/host/syscall_dma (tests/host/syscall_dma.c says
# what each step does) under strace and counts the calls between its
# CMBEGIN and CMEND markers, for two steps: submit (one read handed to the
# device) and reap (its posted completion taken back, the data looked at).
# Counts are deterministic: the program waits for the completion to be
# posted between the steps, outside the markers; nothing is timed.
#
# The default pool must need no call the floor does not (ownership is
# checked in memory; the one io_uring_enter per submit is the floor's
# too). The guarded pool pays one mprotect per ownership change
# (docs/dma.md, CPU guard): one in submit, one in reap. Any call added to
# the path shows here. Prints TAP; skips when strace cannot trace here or
# no directory does O_DIRECT to a device.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
PROG="$root/build/host/syscall_dma"
# Allowance above the floor, per variant and step.
declare -A ALLOW=([pool-submit]=0 [pool-reap]=0 [guarded-submit]=1 [guarded-reap]=1)
work=$(mktemp -d "${TMPDIR:-/tmp}/cm-dmabudget.XXXXXX")
file=""
trap 'rm -rf "$work"; [[ -n "$file" ]] && rm -f "$file"' EXIT

# shellcheck source=common/strace_ready.sh
source "$root/tests/host/common/strace_ready.sh"

# The device file: the first directory where a pool accepts it.
for d in ${CAPMEM_DMA_DIR:-} /var/tmp /tmp "$root/build"; do
    [[ -d "$d" && -w "$d" ]] || continue
    f="$d/capmem-dma-budget-$$.bin"
    head -c $((256 << 10)) /dev/urandom >"$f" 2>/dev/null && sync "$f" 2>/dev/null || {
        rm -f "$f"; continue; }
    "$PROG" pool "$f" >/dev/null 2>&1
    rc=$?
    if [[ $rc == 0 ]]; then
        file=$f
        echo "# device: $f ($(stat -f -c %T "$d")), O_DIRECT via io_uring"
        break
    fi
    rm -f "$f"
    [[ $rc == 3 ]] || { echo "Bail out! syscall_dma pool failed (exit $rc)"; exit 1; }
done
if [[ -z "$file" ]]; then
    echo "1..0 # SKIP no directory does O_DIRECT to a device (set CAPMEM_DMA_DIR)"
    exit 0
fi

# count VARIANT -> prints "SUBMIT REAP" (calls in the first and second
# marked step) and saves the names in $work/VARIANT.{submit,reap}.
count() {
    local out="$work/$1.strace"
    if ! timeout 60 strace -f -qq -o "$out" "$PROG" "$1" "$file" >"$work/$1.err" 2>&1; then
        sed 's/^/# /' "$work/$1.err"
        return 1
    fi
    awk -v base="$work/$1" '
        /write\(-1, "CMBEGIN"/ { on = 1; step = seg++ == 0 ? "submit" : "reap"; next }
        /write\(-1, "CMEND"/ { on = 0; next }
        on && $2 !~ /^(<\.\.\.|---|\+\+\+)/ {
            c[step]++
            name = $2; sub(/\(.*/, "", name)
            print name >> (base "." step)
        }
        END { if (seg == 2) print c["submit"] + 0, c["reap"] + 0 }' "$out"
}

touch "$work"/{floor,pool,guarded}.{submit,reap}
read -r fs fr < <(count floor) || fs=""
echo "1..4"
t=0
for v in pool guarded; do
    read -r cs cr < <(count "$v") || cs=""
    for step in submit reap; do
        t=$((t + 1))
        slack=${ALLOW[$v-$step]}
        name="${v}_${step}_at_most_plain_io_uring_plus_${slack}"
        if [[ -z "$fs" || -z "$cs" ]]; then
            echo "not ok $t - $name # a cycle failed or its markers are missing"
            continue
        fi
        if [[ $step == submit ]]; then f=$fs c=$cs; else f=$fr c=$cr; fi
        echo "# $step: $v $c: $(tr '\n' ' ' <"$work/$v.$step")"
        echo "# $step: io_uring $f: $(tr '\n' ' ' <"$work/floor.$step")"
        # The floor's submit is one io_uring_enter: fewer means the trace
        # is not what this test thinks it is.
        if (( fs >= 1 && c <= f + slack )); then
            echo "ok $t - $name"
        else
            echo "not ok $t - $name"
        fi
    done
done
