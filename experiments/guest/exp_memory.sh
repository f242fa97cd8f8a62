# shellcheck shell=sh source-path=SCRIPTDIR
# shellcheck disable=SC2086 # $hog: the workload command line, split into words on purpose
# Experiment "memory": memory_hog grows to $MEM_SIZE in 1 MiB steps at each rate of
# $MEM_RATES (MiB/s) against a limit of $MEM_LIMIT_MIB MiB enforced by
#   cgroup   --mem LIMIT        (memory.max: the kernel's OOM killer)
#   soft     --mem-soft LIMIT   (memory.high: reclaim and throttling, no kill)
#   monitor  the kernel monitor's hard limit (minirt --soft-mib/--hard-mib when this
#            minirt has them, else cmctl register on the container's init)
# Row: mode,rate_mib_s,limit_bytes,exit_code,reason,first_rss_ts,finished_ts,last_rss_bytes,
#      peak_bytes,high_events,kill_rss_bytes,how
# (timestamps RFC 3339 from `minirt logs -t` / inspect; the runner computes the durations)
# vmtest-timeout: 500
# shellcheck source=../../test/vm/guest/lib.sh
. "$VMTEST_LIB"
# shellcheck source=common.sh
. /opt/extra/expguest/common.sh
need_minirt
trap cleanup_ctrs EXIT
limit=$((MEM_LIMIT_MIB << 20))
soft=$((MEM_LIMIT_MIB / 2))
# first_rss_ts NAME: timestamp of memory_hog's first "rss" line
first_rss_ts() { "$MINIRT" logs -t "$1" | sed -n 's/^\([^ ]*\) rss bytes=.*/\1/p' | head -n1; }
last_rss() { "$MINIRT" logs "$1" | sed -n 's/^rss bytes=\([0-9]*\).*/\1/p' | tail -n1; }
cgkey() { sed -n "s/^$3 //p" "$CG/minirt/$1/$2" 2>/dev/null; }

monitor_how=none
if [ -n "${VMTEST_MODULE:-}" ]; then
	rmmod monitor 2>/dev/null || true
	insmod "$VMTEST_MODULE"
	wait_for "[ -c /dev/container_monitor ]" 5 "/dev/container_monitor"
	if "$MINIRT" run --help 2>&1 | grep -q -- '--hard-mib'; then
		monitor_how=minirt
	elif command -v cmctl >/dev/null; then
		monitor_how=cmctl
	fi
fi
info "monitor limits applied with: $monitor_how"

for rate in $MEM_RATES; do
	hog="memory_hog --size $MEM_SIZE --rate ${rate}M --step 1M"
	# --- cgroup memory.max
	"$MINIRT" run --name exp-m --mem "${MEM_LIMIT_MIB}M" busybox $hog >/dev/null 2>&1 || true
	emit memory "cgroup,$rate,$limit,$(ctr_state exp-m exit_code),$(ctr_state exp-m reason),$(first_rss_ts exp-m),$(ctr_state exp-m finished_at),$(last_rss exp-m),,,,minirt"
	run "$MINIRT" rm -f exp-m
	# --- cgroup memory.high: never killed; hold for the time the hog needs to reach
	# twice the limit, then read memory.peak and the high events
	run "$MINIRT" run -d --name exp-m --mem-soft "${MEM_LIMIT_MIB}M" busybox $hog
	id=$OUT
	sleep $((2 * MEM_LIMIT_MIB / rate + 2))
	peak=$(cat "$CG/minirt/$id/memory.peak" 2>/dev/null || echo "")
	high=$(cgkey "$id" memory.events high)
	emit memory "soft,$rate,$limit,,running,$(first_rss_ts exp-m),,$(last_rss exp-m),$peak,$high,,minirt"
	run "$MINIRT" rm -f exp-m
	# --- kernel monitor hard limit
	[ "$monitor_how" = none ] && continue
	mark="exp-memory-mark-$rate-$$"
	echo "$mark" >/dev/kmsg
	if [ "$monitor_how" = minirt ]; then
		mid=exp-m
		"$MINIRT" run --name exp-m --soft-mib "$soft" --hard-mib "$MEM_LIMIT_MIB" busybox $hog >/dev/null 2>&1 || true
	else
		# The hog waits a second after start so the registration is in place first.
		mid=exp-mon-$rate
		run "$MINIRT" run -d --name exp-m busybox sh -c "sleep 1; exec $hog"
		run cmctl register "$mid" "$(ctr_pid exp-m)" "${soft}M" "${MEM_LIMIT_MIB}M"
		wait_for "[ \"\$(ctr_state exp-m status)\" = exited ]" 60 "monitor kill"
	fi
	krss=$(dmesg | sed -n "/$mark/,\$p" | sed -n "s/.*HARD LIMIT container=$mid pid=[0-9]* rss=\([0-9]*\).*/\1/p" | head -n1)
	emit memory "monitor,$rate,$limit,$(ctr_state exp-m exit_code),$(ctr_state exp-m reason),$(first_rss_ts exp-m),$(ctr_state exp-m finished_at),$(last_rss exp-m),,,$krss,$monitor_how"
	[ "$monitor_how" = cmctl ] && cmctl unregister "$mid" >/dev/null 2>&1
	run "$MINIRT" rm -f exp-m
done
