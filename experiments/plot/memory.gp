# memory: time to kill and memory over the limit against the allocation rate.
load plots."/common.gp"
set terminal pngcairo size 1200,560 font "DejaVu Sans,11" noenhanced
set output dir."/memory.png"
set multiplot layout 1,2 title "memory_hog (1 MiB steps) against a 32 MiB limit (VM)"
set xlabel "allocation rate (MiB/s, log scale)"
set logscale x 2
set xrange [10:200]
set ylabel "time from first 1 MiB to the kill (ms, log scale)"
set logscale y
set title "time to kill"
set key top right
plot dir."/memory_cgroup.csv" using 2:8 skip 1 with lines lw 2 lc rgb "#444444" title "expected: limit / rate", \
     dir."/memory_cgroup.csv" using 2:7 skip 1 with points pt 5 ps 1.6 lc rgb "#1f77b4" title "--mem (memory.max, OOM kill)", \
     dir."/memory_monitor.csv" using 2:7 skip 1 with points pt 9 ps 1.8 lc rgb "#d62728" title "kernel monitor hard limit"
unset logscale y
set ylabel "memory at the kill / peak minus the limit (MiB)"
set title "overshoot over the limit"
set key top left
plot dir."/memory_monitor.csv" using 2:11 skip 1 with lines lw 2 dt 2 lc rgb "#d62728" title "expected max, monitor: rate x 100 ms scan + 1 MiB", \
     0 with lines lw 2 lc rgb "#444444" title "expected, cgroup limits: 0", \
     dir."/memory_cgroup.csv" using 2:10 skip 1 with points pt 5 ps 1.6 lc rgb "#1f77b4" title "--mem: RSS at the kill", \
     dir."/memory_soft.csv" using 2:10 skip 1 with points pt 7 ps 1.6 lc rgb "#2ca02c" title "--mem-soft: memory.peak (not killed)", \
     dir."/memory_monitor.csv" using 2:10 skip 1 with points pt 9 ps 1.8 lc rgb "#d62728" title "monitor: RSS in the HARD LIMIT event"
unset multiplot
