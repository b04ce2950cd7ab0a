#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench` / `make bench-sbuf` for bench/sbuf: runs it (arguments after
# the binary are passed on), keeps its data next to the binary, and renders
# docs/sbuf_bench.png from it with bench/sbuf.gp. A failed run leaves the
# committed plot alone.
#
# Usage: sbuf_plot.sh BINARY [sbuf options]
set -eu
bin=$1
shift
data="$(dirname "$bin")/sbuf.dat"
out=docs/sbuf_bench.png
"$bin" --plot-data "$data" "$@"
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "sbuf_plot: gnuplot missing (scripts/install-deps.sh bench); $out not redrawn" >&2
    exit 1
fi
title=$(sed -n 's/^# title: //p' "$data" | tr -d "'")
if ! gnuplot -e "datafile='$data'; outfile='$out.tmp'; subtitle='$title'" bench/sbuf.gp; then
    rm -f "$out.tmp"
    echo "sbuf_plot: gnuplot failed; $out not redrawn" >&2
    exit 1
fi
mv "$out.tmp" "$out"
echo "sbuf_plot: wrote $out from $data"
