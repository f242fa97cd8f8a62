# rr: completion times of a fixed amount of work, SCHED_RR (--pin-cpu) against CFS.
load plots."/common.gp"
set output dir."/rr.png"
set title "Completion time of the same work on one CPU: CFS vs SCHED_RR (--pin-cpu), host"
set ylabel "completion time (ms)"
set xlabel "workload (scenario)"
set style fill solid 0.8 border -1
set boxwidth 0.35
set yrange [0:*]
set xrange [-0.6:4.6]
set key top left
plot dir."/rr_plot.csv" using ($1-0.19):7:xtic(2) skip 1 with boxes lc rgb "#1f77b4" title "measured", \
     dir."/rr_plot.csv" using ($1+0.19):8 skip 1 with boxes lc rgb "#aaaaaa" title "expected on an idle CPU (from A's CPU time alone)"
