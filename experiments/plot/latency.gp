# latency: io_hog wake-up latency p50/p99 per scenario, the alone run as the ideal.
load plots."/common.gp"
set output dir."/latency.png"
set title "io_hog wake-up latency (500 us work / 10 ms period) on CPU 0 (VM)"
set ylabel "wake-up latency (us, log scale)"
set xlabel "what shares CPU 0 with io_hog"
set logscale y
set style fill solid 0.8 border -1
set boxwidth 0.3
set xrange [-0.6:3.6]
set key top left
plot dir."/latency_plot.csv" using ($1-0.16):4:xtic(2) skip 1 with boxes lc rgb "#1f77b4" title "measured p50", \
     dir."/latency_plot.csv" using ($1+0.16):6 skip 1 with boxes lc rgb "#d62728" title "measured p99", \
     dir."/latency_plot.csv" using 1:9 skip 1 with linespoints dt 2 lw 2 pt 1 lc rgb "#1f77b4" title "expected (ideal = alone) p50", \
     dir."/latency_plot.csv" using 1:10 skip 1 with linespoints dt 2 lw 2 pt 1 lc rgb "#d62728" title "expected (ideal = alone) p99"
