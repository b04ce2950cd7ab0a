#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the huge-page VMO tests (build/{host,asan}/tests/vmo_huge) on a real
# hugetlb pool and prints TAP. The pool is a machine-wide setting only root
# can change: this raises /proc/sys/vm/nr_hugepages by POOL pages (2 MiB
# each) for the run and restores the recorded value on every exit path.
# Not root, or no 2 MiB huge pages in this kernel: the suite is skipped with
# the reason (a required suite: CI, run as root, cannot skip it).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
POOL=64   # 128 MiB: the tests use at most about 20 pages at once
LIMIT=300
knob=/proc/sys/vm/nr_hugepages
bins=("$root/build/host/tests/vmo_huge" "$root/build/asan/tests/vmo_huge")
# Also under the pool: the system-call budget of a huge-page share (a skip
# there, e.g. strace missing, is a failure: this suite is required).
budget="$root/tests/host/syscall_budget.sh"

if [[ $(id -u) -ne 0 ]]; then
    echo "1..0 # SKIP needs root to provide a hugetlb pool ($knob)"
    exit 0
fi
if [[ ! -w $knob || ! -d /sys/kernel/mm/hugepages/hugepages-2048kB ]]; then
    echo "1..0 # SKIP no 2 MiB hugetlb pages in this kernel"
    exit 0
fi

# The pool is machine-wide: two runs of this suite at once (parallel
# builds, other checkouts) would each restore their own "before" and take
# the pages from under the other's run. One run at a time.
exec 9>"${TMPDIR:-/tmp}/capmem-hugetlb-pool.lock"
if ! flock -w 900 9; then
    echo "Bail out! another run has held the hugetlb pool lock for 900 s"
    exit 1
fi

before=$(cat "$knob")
restore() { echo "$before" >"$knob"; }
trap restore EXIT
trap 'exit 1' INT TERM HUP

echo "1..$(( ${#bins[@]} + 1 ))"
echo $((before + POOL)) >"$knob"
free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
echo "# nr_hugepages $before -> $(cat "$knob"), HugePages_Free $free"
n=0
for bin in "${bins[@]}"; do
    n=$((n + 1))
    name=${bin#"$root"/}
    if [[ ! -x $bin ]]; then
        echo "not ok $n - $name # not built"
        continue
    fi
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$LIMIT" "$bin" 2>&1)
    rc=$?
    sed 's/^/# /' <<<"$out"
    passed=$(grep -c '^ok ' <<<"$out")
    if [[ $rc -eq 0 ]] && ! grep -q '^not ok' <<<"$out" && [[ $passed -gt 0 ]]; then
        echo "ok $n - $name ($passed tests)"
    else
        echo "not ok $n - $name (exit $rc)"
    fi
done
n=$((n + 1))
out=$(timeout -k 10 "$LIMIT" bash "$budget" huge 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
if [[ $rc -eq 0 ]] && ! grep -q '^not ok' <<<"$out" && ! grep -q SKIP <<<"$out" &&
    [[ $(grep -c '^ok ' <<<"$out") -eq 2 ]]; then
    echo "ok $n - syscall_budget.sh huge (a huge-page share's system calls)"
else
    echo "not ok $n - syscall_budget.sh huge (exit $rc)"
fi
