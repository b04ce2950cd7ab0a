#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Proves that a bench puts the hugetlb pool back on every way it ends
# (bench/hugepool.h). Needs root; changes /proc/sys/vm/nr_hugepages for a
# few seconds, so it is not part of `make test` (tests of huge-page VMOs
# running at the same time would see the pool change). Run it with
# `make bench-hugepool-test`. Prints TAP.
#
# Usage: hugepool_test.sh DRIVER VMO_SHARE
#   DRIVER     build/host/bench/hugepool_test
#   VMO_SHARE  build/host/bench/vmo_share
set -u
driver=$1
bench=$2
nr=/proc/sys/vm/nr_hugepages

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root (writes $nr)"
    exit 0
fi

orig=$(cat "$nr")
trap 'echo "$orig" > "$nr"' EXIT
# A value of our own, different from anything the code sets, so a restore
# to it cannot happen by accident.
base=3
echo "$base" > "$nr"
if [ "$(cat "$nr")" != "$base" ]; then
    echo "1..0 # SKIP kernel refused a pool of $base pages"
    exit 0
fi

n=0
fails=0
check() { # name, unused, actual status, expected status
    n=$((n + 1))
    local now
    now=$(cat "$nr")
    if [ "$3" = "$4" ] && [ "$now" = "$base" ]; then
        echo "ok $n - $1: exit $3, pool back to $base"
    else
        echo "not ok $n - $1: exit $3 (want $4), pool $now (want $base)"
        fails=$((fails + 1))
        echo "$base" > "$nr"
    fi
}

echo "1..8"
"$driver" normal 5 >/dev/null 2>&1; check "restored after a normal end" x $? 0
"$driver" fail 5 >/dev/null 2>&1; check "restored after bench_fail" x $? 1
("$driver" term 5; exit $?) >/dev/null 2>&1; check "restored after SIGTERM" x $? $((128 + 15))
"$driver" int 5 >/dev/null 2>&1; check "restored after SIGINT" x $? $((128 + 2))
"$driver" deadline 5 >/dev/null 2>&1; check "restored after the deadline" x $? 1
"$driver" child 5 >/dev/null 2>&1; check "a failing forked child leaves the pool set" x $? 0
# The bench itself: --break-hash makes its consumer lie, so the run fails
# while the pool it configured is in place.
out=$("$bench" --quick --max-size 4096 --break-hash 2>&1)
st=$?
if ! printf '%s\n' "$out" | grep -q "hugetlb pool configured by the bench"; then
    st="$st, pool never configured"
fi
check "vmo_share failing with its pool set restores it" x "$st" 1
# And stopped by SIGTERM in the middle of its with-pool comparison.
"$bench" --quick >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    [ "$(cat "$nr")" != "$base" ] && break
    sleep 0.05
done
changed=$(cat "$nr")
sleep 0.5
kill -TERM "$pid"
wait "$pid" 2>/dev/null
st=$?
if [ "$changed" = "$base" ]; then
    n=$((n + 1))
    echo "not ok $n - vmo_share SIGTERM: it never changed the pool"
    fails=$((fails + 1))
else
    check "vmo_share stopped by SIGTERM (pool was $changed) restores it" x $st $((128 + 15))
fi
exit $((fails > 0))
