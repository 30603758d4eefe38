# SPDX-License-Identifier: GPL-2.0
# Latency against block size, for docs/benchmarks-latency.png.
# bench/report.py writes the data files and runs:
#
#   gnuplot -e "alloc_data='A'; map_data='M'; output='O'; subtitle='S'; xtics_command='set xtics (...)'" latency.gp
#
# Data files: one line per size: bytes, label, then median, first and third
# quartile in microseconds for coherent, wc, cached and dma-heap in turn;
# "?" where a cell was not measured.

set terminal pngcairo size 1400,600 font "sans,10"
set output output
set datafile missing "?"
set logscale xy
set format y "10^{%L}"
set offsets graph 0.04, graph 0.04, 0, 0
set grid
set key top left
set xlabel "block size"
set ylabel "median latency, µs (bars: quartiles)"
eval xtics_command
names = "coherent wc cached dma-heap"
# Each allocator's points sit a little to one side, so the bars stay apart.
shift(b) = 1.07 ** (b - 1.5)

set multiplot layout 1,2 title "cmamem modes and the dma-buf CMA heap on the same CMA area, ".subtitle
set title "allocate + free"
plot for [b=0:3] alloc_data using ($1 * shift(b)):(column(3 + 3 * b)):(column(4 + 3 * b)):(column(5 + 3 * b)) \
	with yerrorlines linetype (b + 1) linewidth 1.5 pointtype (b + 5) title word(names, b + 1)
set title "allocate + mmap + touch every page + munmap + free"
plot for [b=0:3] map_data using ($1 * shift(b)):(column(3 + 3 * b)):(column(4 + 3 * b)):(column(5 + 3 * b)) \
	with yerrorlines linetype (b + 1) linewidth 1.5 pointtype (b + 5) title word(names, b + 1)
unset multiplot
