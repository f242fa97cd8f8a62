# shellcheck shell=sh
# Helpers for the experiments that run in the test VM (test/vm), sourced by
# experiments/guest/exp_*.sh after the VM suite's lib.sh. experiments/run ships
# this directory with `test/vm/run --extra`, so it is /opt/extra/expguest here,
# next to params.sh (the durations and points the runner chose).
# Results go to the console as lines "@@EXP <experiment> <csv row>"; the runner
# collects them from the console log (the guest has no other way out).

# shellcheck source=/dev/null
. /opt/extra/expguest/params.sh
CG=$(cg_path)
# Keep kernel messages (OOM reports) off the console while results are printed;
# the VM runner still reads the kernel log at the end.
dmesg -n 1 2>/dev/null || true
# Work around a minirt bug: when the parent group (minirt) does not exist (a fresh boot,
# or minirt removed it with its last container), a container that needs a controller fails:
# "enable the cpu controller: open /sys/fs/cgroup/minirt/cgroup.subtree_control: No such
# file or directory". Every minirt call goes through a wrapper that creates it first.
printf '#!/bin/sh\nmkdir -p %s/minirt\nexec %s "$@"\n' "$CG" "$MINIRT" >/tmp/minirt-exp-wrap
chmod +x /tmp/minirt-exp-wrap
MINIRT=/tmp/minirt-exp-wrap

emit() { # emit EXPERIMENT CSV-ROW
	printf '@@EXP %s %s\n' "$1" "$2"
}
# cgroup of a container by name (minirt puts it at $CG/minirt/<id>)
ctr_id() { "$MINIRT" inspect "$1" | sed -n 's/^    "id": "\([0-9a-f]*\)",$/\1/p' | head -n1; }
ctr_pid() { "$MINIRT" inspect "$1" | sed -n 's/^    "pid": \([0-9]*\),$/\1/p' | head -n1; }
# A top-level field of `minirt inspect NAME` (4 spaces deep), e.g. finished_at, reason, exit_code.
ctr_state() { "$MINIRT" inspect "$1" | sed -n "s/^    \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n1; }
usage_us() { sed -n 's/^usage_usec //p' "$CG/minirt/$1/cpu.stat"; }
# monotonic clock in microseconds (10 ms resolution; busybox date has no %N)
now_us() { awk '{ printf "%d\n", $1 * 1000000 }' /proc/uptime; }
cleanup_ctrs() { # remove every container whose name starts with exp-
	for n in $("$MINIRT" list --format json 2>/dev/null | sed -n 's/.*"name": "\(exp-[^"]*\)".*/\1/p'); do
		"$MINIRT" rm -f "$n" >/dev/null 2>&1 || true
	done
}

# split_cpu FLAGS_A FLAGS_B SECONDS: two cpu_hog containers exp-pa and exp-pb on CPU 0, each
# started with its flags; prints "usage_a_us,usage_b_us,wall_us" over SECONDS of sharing.
split_cpu() {
	hold=$(($3 + 30))
	# shellcheck disable=SC2086
	run "$MINIRT" run -d --name exp-pa --cpuset-cpus 0 $1 busybox cpu_hog --seconds "$hold" --report-ms 0
	a=$OUT
	# shellcheck disable=SC2086
	run "$MINIRT" run -d --name exp-pb --cpuset-cpus 0 $2 busybox cpu_hog --seconds "$hold" --report-ms 0
	b=$OUT
	wait_for "[ \"\$(usage_us $a)\" -gt 0 ] && [ \"\$(usage_us $b)\" -gt 0 ]" 20 "both cpu_hogs running"
	sleep 1
	a0=$(usage_us "$a"); b0=$(usage_us "$b"); t0=$(now_us)
	sleep "$3"
	a1=$(usage_us "$a"); b1=$(usage_us "$b"); t1=$(now_us)
	run "$MINIRT" rm -f exp-pa exp-pb
	echo "$((a1 - a0)),$((b1 - b0)),$((t1 - t0))"
}
