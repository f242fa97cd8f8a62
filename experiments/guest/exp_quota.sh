# shellcheck shell=sh source-path=SCRIPTDIR
# Experiment "quota": one cpu_hog container per point of $QUOTA_POINTS (percent of one
# CPU), started with --cpu QUOTA_US (per 100 ms period); achieved CPU from cpu.stat
# usage_usec over $QUOTA_SECONDS, plus the throttling counters.
# Row: quota_pct,quota_us,usage_us,wall_us,nr_periods,nr_throttled,throttled_us
# vmtest-timeout: 400
# shellcheck source=../../test/vm/guest/lib.sh
. "$VMTEST_LIB"
# shellcheck source=common.sh
. /opt/extra/expguest/common.sh
need_minirt
trap cleanup_ctrs EXIT
stat_key() { sed -n "s/^$2 //p" "$CG/minirt/$1/cpu.stat"; }
for pct in $QUOTA_POINTS; do
	q=$((pct * 1000))
	run "$MINIRT" run -d --name exp-q --cpuset-cpus 0 --cpu "$q" busybox cpu_hog --seconds $((QUOTA_SECONDS + 30)) --report-ms 0
	id=$OUT
	wait_for "[ \"\$(usage_us $id)\" -gt 0 ]" 20 "cpu_hog running"
	sleep 1
	u0=$(usage_us "$id"); p0=$(stat_key "$id" nr_periods); n0=$(stat_key "$id" nr_throttled)
	s0=$(stat_key "$id" throttled_usec); t0=$(now_us)
	sleep "$QUOTA_SECONDS"
	u1=$(usage_us "$id"); p1=$(stat_key "$id" nr_periods); n1=$(stat_key "$id" nr_throttled)
	s1=$(stat_key "$id" throttled_usec); t1=$(now_us)
	emit quota "$pct,$q,$((u1 - u0)),$((t1 - t0)),$((p1 - p0)),$((n1 - n0)),$((s1 - s0))"
	run "$MINIRT" rm -f exp-q
done
