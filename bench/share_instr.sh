#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# User instructions per one-shot 4 KiB share, capmem against the floor
# (docs/bench.md, "User instructions per share"): runs
# `build/host/syscall_share instr N` (tests/host/syscall_share.c) under
# callgrind, counting only its two share functions, and prints each one's
# instructions per share. The first share of each (one-time set-up) is in
# the count: over N = 200 shares it weighs little. Counts are
# deterministic for a given build, whatever the machine's load. Needs
# valgrind.
#   bash bench/share_instr.sh [BINARY [N]]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/host/syscall_share}
n=${2:-200}
command -v valgrind >/dev/null || { echo "share_instr: valgrind is not installed" >&2; exit 1; }
out=$(mktemp "${TMPDIR:-/tmp}/cm-share-instr.XXXXXX")
trap 'rm -f "$out"' EXIT
valgrind -q --tool=callgrind --callgrind-out-file="$out" --toggle-collect=share_capmem \
    --toggle-collect=share_floor "$bin" instr "$n"
callgrind_annotate --inclusive=yes "$out" | awk -v n="$n" '
    /:share_(capmem|floor) / {
        gsub(",", "", $1); name = $0; sub(/.*:share_/, "", name); sub(/ .*/, "", name)
        v[name] = $1 / (n + 1)
    }
    END {
        if (!("capmem" in v) || !("floor" in v)) { print "share_instr: no counts" > "/dev/stderr"; exit 1 }
        printf "instructions per share: capmem %.0f, floor %.0f (%.1fx)\n", v["capmem"], v["floor"], v["capmem"] / v["floor"]
    }'
