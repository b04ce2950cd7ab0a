# SPDX-License-Identifier: MIT
# Cost per one-shot share against payload size, from bench/vmo_share's
# --plot-data file (bench/vmo_share_plot.sh sets datafile, outfile and
# subtitle). Points: median over the 3 runs; error bars: min..max.
# Columns: 1 size; without hash 2-4 a, 5-7 A, 8-10 b, 11-13 c (median min
# max each); with hash 14-25 in the same order.
set terminal pngcairo size 1400,620 font ",10" noenhanced
set output outfile
set logscale xy
set xlabel "payload size (bytes)"
set ylabel "cost per share, us (median of 3 runs; bars: min..max)"
set xtics ("4 KiB" 4096, "64 KiB" 65536, "1 MiB" 1048576, "2 MiB" 2097152, \
           "16 MiB" 16777216, "256 MiB" 268435456) rotate by -45
set xrange [3000:400000000]
set format y "%.0f"
set grid
set key top left
set bars small
set multiplot layout 1,2 title "bench/vmo_share: one-shot share of a sealed VMO between two processes\n".subtitle
do for [h=0:1] {
    o = h * 12
    set title (h == 0 ? "consumer reads the last 8 bytes (no hash)" : "consumer hashes the payload (SHA-256)")
    plot datafile using 1:(column(o+2)):(column(o+3)):(column(o+4)) with yerrorlines lw 2 pt 7 title "capmem, base pages (a)", \
         ''       using 1:(column(o+5)):(column(o+6)):(column(o+7)) with yerrorlines lw 2 pt 5 dt 2 title "capmem, CM_VMO_HUGE (A)", \
         ''       using 1:(column(o+8)):(column(o+9)):(column(o+10)) with yerrorlines lw 2 pt 9 title "floor: bare syscalls, fastest page option (b)", \
         ''       using 1:(column(o+11)):(column(o+12)):(column(o+13)) with yerrorlines lw 2 pt 11 title "copy through a socket (c)"
}
unset multiplot
