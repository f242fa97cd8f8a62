# quota: CPU achieved by one cpu_hog against its cpu.max quota.
load plots."/common.gp"
set output dir."/quota.png"
set title "cpu.max quota vs CPU achieved by one cpu_hog (VM, cgroup v2, period 100 ms)"
set xlabel "quota (--cpu QUOTA_US per 100000 us period), % of one CPU"
set ylabel "CPU achieved (% of one CPU)"
set xrange [0:105]
set yrange [0:110]
set key top left
plot x with lines lw 2 lc rgb "#444444" title "expected: achieved = quota", \
     dir."/quota.csv" using 1:5 skip 1 with linespoints pt 5 ps 1.4 lw 1 lc rgb "#1f77b4" title "measured (cpu.stat usage_usec / wall time)"
