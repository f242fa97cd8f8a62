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
for wb in $WEIGHT_POINTS; do
	emit weight "100,$wb,$(split_cpu "--cpu-weight 100" "--cpu-weight $wb" "$WEIGHT_SECONDS")"
done
