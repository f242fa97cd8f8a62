# nice: CPU share of the niced hog (nice N) against a nice 0 hog on one CPU.
load plots."/common.gp"
set output dir."/nice.png"
set title "nice 0 vs nice N on one CPU: CPU share of the hog at nice N"
set xlabel "nice value N of the second cpu_hog"
set ylabel "CPU share of the nice-N hog (% of the pair's CPU time, log scale)"
set logscale y
set yrange [1:70]
set xrange [-0.5:19.5]
set xtics 0,1,19
set key bottom left
plot dir."/nice_expected.csv" using 1:3 skip 1 with linespoints lw 2 pt 7 ps 0.6 lc rgb "#444444" \
        title "expected: w(N) / (1024 + w(N)), kernel weight table", \
     dir."/nice.csv" using 3:(strcol(1) eq "same-container" ? $9 : 1/0) skip 1 with points pt 5 ps 1.6 lc rgb "#1f77b4" \
        title "measured: both hogs in one container (renice)", \
     dir."/nice.csv" using 3:(strcol(1) eq "containers" ? $9 : 1/0) skip 1 with points pt 9 ps 1.8 lc rgb "#d62728" \
        title "measured: two containers, minirt run --nice 0 / --nice N", \
     dir."/nice.csv" using 3:(strcol(1) eq "containers-vm" ? $9 : 1/0) skip 1 with points pt 13 ps 1.4 lc rgb "#2ca02c" \
        title "measured: two containers in the VM (cpu.weight.nice)"
