#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints what `make run` shows of the kernel run's log (scripts/run-demo.sh):
# the first 9 "vmo: " / "SELFTEST" lines, the first SharedBuffer stream
# proof (6 lines at most) and the first DMA proof (7 lines at most).
# Each excerpt is one awk that stops by itself: no pipe into `head`, whose
# early exit would kill the writer with SIGPIPE (status 141) once the log
# outgrows a pipe write, and fail `make run` under pipefail.
#   bash scripts/demo-kernel-excerpt.sh LOG
set -euo pipefail
log=$1
# first LIMIT lines matching REGEX
first_matches() {
    awk -v re="$2" -v max="$3" '$0 ~ re { print; if (++n == max) exit }' "$1"
}
# the first range START..END (END included), LIMIT lines at most
first_range() {
    awk -v s="$2" -v e="$3" -v max="$4" '
        !on && $0 ~ s { on = 1 }
        on { print; if (++n == max || $0 ~ e) exit }' "$1"
}
first_matches "$log" '^(vmo: |SELFTEST)' 9
# The first stream proof (the one after it is the deliberately broken run).
first_range "$log" '^sbuf: producer: ' '^SELFTEST: sbuf stream ok$' 6
# apps/dma_read_share against the user-space virtio-blk driver (the first run).
first_range "$log" '^dma: device virtio-blk0' '^SELFTEST: dmabuffer ownership ok$' 7
