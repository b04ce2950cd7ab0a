#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make run` prints an excerpt of the kernel run's log
# (scripts/demo-kernel-excerpt.sh). The rule: a script under pipefail must
# not pipe into `head`, whose early exit kills the writer with SIGPIPE once
# the log outgrows one pipe write (`make run` failed with status 141 that
# way when the selftests grew). This feeds the excerpt a log far larger than
# a pipe, with a second stream proof that never ends, and checks the status
# and the lines. Prints TAP.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cm-demo-excerpt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log="$tmp/log"
{
    echo "SELFTEST: mmio map ok"
    for i in 1 2 3 4 5 6 7 8 9 10 11; do echo "vmo: line $i"; done
    echo "sbuf: producer: 8 slots"
    for i in 1 2 3 4; do echo "sbuf: consumer line $i"; done
    echo "SELFTEST: sbuf stream ok"
    echo "sbuf: producer: the deliberately broken run"
    for i in $(seq 20000); do echo "sbuf: line $i of a run that never ends"; done
    echo "dma: device virtio-blk0 found"
    for i in $(seq 20000); do echo "dma: line $i"; done
} >"$log"
echo "1..4"
out=$(bash "$root/scripts/demo-kernel-excerpt.sh" "$log")
rc=$?
if [[ $rc -eq 0 ]]; then echo "ok 1 - the excerpt of a large log exits 0"; else echo "not ok 1 - exit status $rc"; fi
n=$(grep -cE '^(vmo: |SELFTEST)' <<<"$out")
# 9 from the first excerpt, plus the stream proof's closing SELFTEST line.
if [[ $n -eq 10 ]]; then echo "ok 2 - 9 vmo/SELFTEST lines, then the proof's own"; else echo "not ok 2 - $n vmo/SELFTEST lines"; fi
s=$(sed -n '/^sbuf: producer: 8 slots$/,/^SELFTEST: sbuf stream ok$/p' <<<"$out" | wc -l)
b=$(grep -c 'deliberately broken' <<<"$out")
if [[ $s -eq 6 && $b -eq 0 ]]; then echo "ok 3 - the first stream proof whole, not the broken run"; else echo "not ok 3 - proof lines $s, broken run lines $b"; fi
d=$(grep -c '^dma: ' <<<"$out")
if [[ $d -eq 7 ]]; then echo "ok 4 - at most 7 lines of the DMA proof"; else echo "not ok 4 - $d DMA lines"; fi
