#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/sbuf --quick runs and its output is well-formed (TAP). No figure is
# judged: the quick mode's numbers mean nothing and tests have no
# wall-clock thresholds. What is checked:
#   - it exits 0 and prints the table (10 rows per placement) and every
#     goal line exactly once, each `goal NAME: met|NOT MET ...`;
#   - the iceoryx goals are `NOT MET not measured` (--quick never starts
#     RouDi, so this suite does not depend on iceoryx being installed);
#   - the plot data has two blocks of 5 sizes x 37 columns;
#   - the checker rejects a malformed copy of that output (a goal line
#     dropped, an unmeasured goal turned into "met"), so it can fail;
#   - --break-sum (every consumer expects a wrong sum) makes the run fail.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/build/host/bench/sbuf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..5"
if [[ ! -x $bin ]]; then
    for i in 1 2 3 4 5; do echo "not ok $i - $bin not built"; done
    exit 0
fi

sizes="64B 4KiB 64KiB 1MiB 16MiB"
expected_goals() {
    for p in 1cpu 2cpu; do
        for s in $sizes; do
            echo "sbuf_latency_vs_iceoryx_${p}_$s"
            echo "sbuf_throughput_vs_iceoryx_${p}_$s"
        done
    done
    for p in 1cpu 2cpu; do
        echo "sbuf_throughput_3x_socket_${p}_1MiB"
        echo "sbuf_throughput_3x_socket_${p}_16MiB"
    done
    echo sbuf_blocking_rtt_vs_futex_1cpu_64B
    echo sbuf_blocking_rtt_vs_futex_2cpu_64B
    echo sbuf_busy_poll_rtt_vs_cacheline_2cpu_64B
}

# check_output FILE: prints the first problem and returns 1, or returns 0.
check_output() {
    local out=$1 bad n
    bad=$(grep '^goal ' "$out" | grep -Ev '^goal [A-Za-z0-9_]+: (met [0-9.]+x \[[0-9.]+x\.\.[0-9.]+x\]( \(.*\))?|NOT MET ([0-9.]+x \[[0-9.]+x\.\.[0-9.]+x\]( \(.*\))?|not measured \(.*\)))$')
    if [[ -n $bad ]]; then echo "malformed goal line: $bad"; return 1; fi
    for g in $(expected_goals); do
        n=$(grep -c "^goal $g: " "$out")
        if [[ $n -ne 1 ]]; then echo "goal $g printed $n times"; return 1; fi
    done
    n=$(grep -c '^goal ' "$out")
    if [[ $n -ne $(expected_goals | wc -l) ]]; then echo "$n goal lines"; return 1; fi
    if grep -E '^goal sbuf_(latency|throughput)_vs_iceoryx' "$out" | grep -v ': NOT MET not measured (' >/dev/null; then
        echo "an iceoryx goal was judged without iceoryx (quick mode)"; return 1
    fi
    local cpus rows
    cpus=$(grep -c '^| [12]cpu | ' "$out")
    rows=$(grep -Ec '^\| [12]cpu \| [0-9]+[KM]?i?B \| (copy|in place) \|( [^|]+ \|){6}$' "$out")
    if [[ $rows -ne $cpus || ( $rows -ne 10 && $rows -ne 20 ) ]]; then
        echo "table: $rows well-formed rows of $cpus"; return 1
    fi
    # The copy-mode bound: one row per placement and size from 1 MiB.
    local bounds
    bounds=$(grep -Ec '^\| bound \| [12]cpu \| (1MiB|16MiB) \|( [0-9.]+ \[[0-9.]+\.\.[0-9.]+\] \|){4}$' "$out")
    if [[ $bounds -ne $((rows / 5)) ]]; then
        echo "copy-mode bound table: $bounds well-formed rows, expected $((rows / 5))"; return 1
    fi
    return 0
}

out="$tmp/out" data="$tmp/data"
timeout -k 10 300 "$bin" --quick --plot-data "$data" >"$out" 2>"$tmp/err"
rc=$?
sed 's/^/# /' "$out" "$tmp/err"
if [[ $rc -eq 0 ]]; then echo "ok 1 - bench/sbuf --quick exits 0"; else echo "not ok 1 - bench/sbuf --quick exited $rc"; fi

if why=$(check_output "$out"); then
    echo "ok 2 - table and every goal line well-formed, iceoryx goals not measured"
else
    echo "not ok 2 - $why"
fi

blocks=$(awk '/^#/ {next} NF == 0 {if (n) {print n; n = 0}; next} {if (NF != 37) bad = 1; n++} END {if (n) print n; if (bad) print "bad"}' "$data" | tr '\n' ' ')
if [[ $blocks == "5 5 " ]]; then
    echo "ok 3 - plot data: two blocks of 5 sizes x 37 columns"
else
    echo "not ok 3 - plot data blocks: '$blocks'"
fi

# The checker itself must reject broken output.
grep -v '^goal sbuf_busy_poll' "$out" >"$tmp/drop"
sed 's/^\(goal sbuf_latency_vs_iceoryx_1cpu_64B:\) NOT MET not measured (.*)$/\1 met 0.50x [0.40x..0.60x]/' "$out" >"$tmp/fake"
grep -v '^| bound | 1cpu | 16MiB |' "$out" >"$tmp/nobound"
if ! check_output "$tmp/drop" >/dev/null && ! check_output "$tmp/fake" >/dev/null \
   && ! cmp -s "$out" "$tmp/fake" && ! check_output "$tmp/nobound" >/dev/null \
   && ! cmp -s "$out" "$tmp/nobound"; then
    echo "ok 4 - the checker rejects a dropped goal line, a judged iceoryx goal and a dropped bound row"
else
    echo "not ok 4 - the checker accepted broken output"
fi

if timeout -k 10 300 "$bin" --quick --break-sum >/dev/null 2>"$tmp/err2"; then
    echo "not ok 5 - --break-sum: the run passed with wrong sums"
elif grep -q 'FAILED: consumer: message' "$tmp/err2"; then
    echo "ok 5 - --break-sum: a wrong payload sum ends the run (status 1)"
else
    echo "not ok 5 - --break-sum failed for another reason: $(head -3 "$tmp/err2")"
fi
