# weight: CPU share of container B (cpu.weight W) against container A (cpu.weight 100).
load plots."/common.gp"
set output dir."/weight.png"
set title "cpu.weight W vs 100, two cpu_hog containers on one CPU (VM, cgroup v2)"
set xlabel "cpu.weight W of container B (log scale)"
set ylabel "CPU share of container B (% of the pair's CPU time)"
set logscale x
set xrange [80:12000]
set yrange [40:100]
set key bottom right
f(w) = 100.0 * w / (100 + w)
plot f(x) with lines lw 2 lc rgb "#444444" title "expected: W / (100 + W)", \
     dir."/weight.csv" using 2:6 skip 1 with points pt 5 ps 1.6 lc rgb "#1f77b4" title "measured (cpu.stat usage_usec)"
