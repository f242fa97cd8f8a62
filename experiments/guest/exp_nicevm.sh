# shellcheck shell=sh source-path=SCRIPTDIR
# Experiment "nice", in the VM (pure cgroup v2, the cpu controller on): two cpu_hog
# containers on one CPU (--cpuset-cpus 0), `minirt run --nice 0` and `--nice N` for each
# N of $NICE_POINTS; CPU time from each cgroup's cpu.stat usage_usec over $NICE_SECONDS.
# Here --nice reaches the scheduler as the group's cpu.weight.nice.
# Row: nice_a,nice_b,usage_a_us,usage_b_us,wall_us
# vmtest-timeout: 400
# shellcheck source=../../test/vm/guest/lib.sh
. "$VMTEST_LIB"
# shellcheck source=common.sh
. /opt/extra/expguest/common.sh
need_minirt
trap cleanup_ctrs EXIT
hold=$((NICE_SECONDS + 30))
for nb in $NICE_POINTS; do
	run "$MINIRT" run -d --name exp-na --cpuset-cpus 0 --nice 0 busybox cpu_hog --seconds "$hold" --report-ms 0
	a=$OUT
	run "$MINIRT" run -d --name exp-nb --cpuset-cpus 0 --nice "$nb" busybox cpu_hog --seconds "$hold" --report-ms 0
	b=$OUT
	wait_for "[ \"\$(usage_us $a)\" -gt 0 ] && [ \"\$(usage_us $b)\" -gt 0 ]" 20 "both cpu_hogs running"
	sleep 1
	a0=$(usage_us "$a"); b0=$(usage_us "$b"); t0=$(now_us)
	sleep "$NICE_SECONDS"
	a1=$(usage_us "$a"); b1=$(usage_us "$b"); t1=$(now_us)
	emit nicevm "0,$nb,$((a1 - a0)),$((b1 - b0)),$((t1 - t0))"
	run "$MINIRT" rm -f exp-na exp-nb
done
