#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mutation check of the virtqueue's device checks (docs/virtio-blk.md
# "Tests"): applies each deliberate break of drivers/virtio_blk/virtq.c to a
# copy, builds tests/host/virtq.c against it and reports which tests fail.
# A mutant no test catches is printed as SURVIVED and the script exits 1.
# Not part of make test (a few seconds; needs build/host/libcapmem.a and the
# test common objects: make build/host/tests/virtq first):
#   bash scripts/virtq-mutants.sh
set -u
cd "$(dirname "$0")/.."
muts=(
 "M1 used idx advance not bounded@if (advance > q->outstanding) {@if (0) {"
 "M2 used id range not checked@if (id >= q->size) {@if (0) {"
 "M3 used id not required outstanding@if (!q->chain[id].outstanding) {@if (0) {"
 "M4 used len not bounded@if (len > q->chain[id].writable)@if (0)"
 "M5 unknown status taken as OK@    else\n        done->result = VIRTQ_REQ_BAD_STATUS;@    else\n        done->result = VIRTQ_REQ_OK;"
 "M6 status sentinel not written@q->status[h] = VIRTQ_STATUS_UNSET;@"
 "M7 broken queue harvested again@    if (q->broken)\n        return VIRTQ_ERR_BROKEN;\n    uint16_t idx@    uint16_t idx"
)
common=$(ls build/host/obj/tests/host/common/*.o 2>/dev/null)
if [[ -z "$common" || ! -f build/host/libcapmem.a ]]; then
    echo "virtq-mutants: build first (make build/host/tests/virtq)"; exit 1
fi
survived=0
for m in "${muts[@]}"; do
    IFS='@' read -r name from to <<<"$m"
    d=$(mktemp -d)
    cp drivers/virtio_blk/virtq.h "$d/"
    if ! python3 - drivers/virtio_blk/virtq.c "$d/virtq.c" "$from" "$to" <<'PY'
import sys
src, dst, a, b = sys.argv[1], sys.argv[2], sys.argv[3].replace('\\n', '\n'), sys.argv[4].replace('\\n', '\n')
s = open(src).read()
if s.count(a) != 1:
    sys.exit(1)
open(dst, 'w').write(s.replace(a, b))
PY
    then
        echo "$name: pattern not found (virtq.c changed?)"; survived=1; rm -rf "$d"; continue
    fi
    gcc -std=gnu11 -O1 -g -Iinclude -Icore -D_GNU_SOURCE -Itests/host -c "$d/virtq.c" -o "$d/v.o" &&
        gcc -std=gnu11 -O1 -g -Iinclude -Icore -D_GNU_SOURCE -Itests/host -I"$d" \
            -c tests/host/virtq.c -o "$d/t.o" &&
        gcc -o "$d/t" "$d/t.o" "$d/v.o" $common build/host/libcapmem.a -lcmocka -lcrypto -luring -lpthread ||
        { echo "$name: build failed"; survived=1; rm -rf "$d"; continue; }
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 60 "$d/t" 2>&1)
    failed=$(grep '^not ok' <<<"$out" | sed 's/^not ok [0-9]* - //' | tr '\n' ' ')
    if [[ -z "$failed" ]]; then
        echo "$name: SURVIVED"; survived=1
    else
        echo "$name: caught by $failed"
    fi
    rm -rf "$d"
done
exit $survived
