# shellcheck shell=sh source-path=SCRIPTDIR
# Experiment "weight": two cpu_hog containers on one CPU (--cpuset-cpus 0), the first
# at cpu.weight 100, the second at each weight of $WEIGHT_POINTS; CPU time from each
# cgroup's cpu.stat usage_usec over $WEIGHT_SECONDS.
# Row: weight_a,weight_b,usage_a_us,usage_b_us,wall_us
# vmtest-timeout: 400
# shellcheck source=../../test/vm/guest/lib.sh
. "$VMTEST_LIB"
# shellcheck source=common.sh
. /opt/extra/expguest/common.sh
need_minirt
trap cleanup_ctrs EXIT
hold=$((WEIGHT_SECONDS + 30))
for wb in $WEIGHT_POINTS; do
	run "$MINIRT" run -d --name exp-wa --cpuset-cpus 0 --cpu-weight 100 busybox cpu_hog --seconds "$hold" --report-ms 0
	a=$OUT
	run "$MINIRT" run -d --name exp-wb --cpuset-cpus 0 --cpu-weight "$wb" busybox cpu_hog --seconds "$hold" --report-ms 0
	b=$OUT
	wait_for "[ \"\$(usage_us $a)\" -gt 0 ] && [ \"\$(usage_us $b)\" -gt 0 ]" 20 "both cpu_hogs running"
	sleep 1
	a0=$(usage_us "$a"); b0=$(usage_us "$b"); t0=$(now_us)
	sleep "$WEIGHT_SECONDS"
	a1=$(usage_us "$a"); b1=$(usage_us "$b"); t1=$(now_us)
	emit weight "100,$wb,$((a1 - a0)),$((b1 - b0)),$((t1 - t0))"
	run "$MINIRT" rm -f exp-wa exp-wb
done
