# SPDX-License-Identifier: MIT
# Latency and throughput against payload size for capmem SharedBuffer, a
# UNIX stream socket and iceoryx, one CPU and two CPUs, from bench/sbuf's
# --plot-data file (bench/sbuf_plot.sh sets datafile, outfile, subtitle).
# Points: median of 3 repetitions; error bars: min..max. Solid: payload
# copied from a private buffer; dashed: generated in place.
# Columns: 1 size; latency (us) 2-19, throughput (MB/s) 20-37: for capmem
# copy, capmem in place, socket copy, socket in place, iceoryx copy,
# iceoryx in place, median min max each. Index 0: 1cpu, index 1: 2cpu.
set terminal pngcairo size 1400,1000 font ",10" noenhanced
set output outfile
set logscale xy
set xlabel "payload size (bytes)"
set xtics ("64 B" 64, "4 KiB" 4096, "64 KiB" 65536, "1 MiB" 1048576, "16 MiB" 16777216)
set xrange [40:30000000]
set grid
set bars small
set multiplot layout 2,2 title "bench/sbuf: capmem SharedBuffer vs UNIX socket vs iceoryx\n".subtitle
names = "capmem socket iceoryx"
do for [p=0:1] {
    do for [t=0:1] {
        set title sprintf("%s, %s", (t == 0 ? "latency (round trip / 2)" : "one-way throughput"), \
                          (p == 0 ? "both processes on one CPU" : "producer and consumer on two CPUs"))
        set ylabel (t == 0 ? "us (median of 3; bars: min..max)" : "MB/s (median of 3; bars: min..max)")
        if (t == 0) { set key top left } else { set key bottom right }
        o = 2 + t * 18
        plot for [k=0:5] datafile index p \
             using 1:(column(o + k*3)):(column(o + k*3 + 1)):(column(o + k*3 + 2)) \
             with yerrorlines lw 2 lt k/2+1 dt k%2+1 pt 5+2*(k/2) \
             title sprintf("%s, %s", word(names, k/2 + 1), (k%2 == 0 ? "copy" : "in place"))
    }
}
unset multiplot
