#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench` for bench/vmo_share: runs it (arguments after the binary are
# passed on), keeps its per-size data next to the binary, and renders
# docs/vmo_share.png from it with bench/vmo_share.gp. A failed run leaves
# the committed plot alone.
#
# Usage: vmo_share_plot.sh BINARY [vmo_share options]
set -eu
bin=$1
shift
data="$(dirname "$bin")/vmo_share.dat"
out=docs/vmo_share.png
"$bin" --plot-data "$data" "$@"
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "vmo_share_plot: gnuplot missing (scripts/install-deps.sh bench); $out not redrawn" >&2
    exit 1
fi
title=$(sed -n 's/^# title: //p' "$data" | tr -d "'")
gnuplot -e "datafile='$data'; outfile='$out.tmp'; subtitle='$title'" bench/vmo_share.gp
mv "$out.tmp" "$out"
echo "vmo_share_plot: wrote $out from $data"
