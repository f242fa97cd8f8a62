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
for nb in $NICE_POINTS; do
	emit nicevm "0,$nb,$(split_cpu "--nice 0" "--nice $nb" "$NICE_SECONDS")"
done
