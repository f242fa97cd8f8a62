# shellcheck shell=sh
# Kernel monitor: a scan costs O(processes x namespace depth), not O(processes x
# containers). 200 PID namespaces, each an init with 9 sleeping children (2,000
# processes in them), are registered 1, 10, 100 and 200 at a time; with 200 the
# scan takes at most 1.5x what it takes with 1. The figures are printed (TCG is
# slow: only their ratio is the test) and docs/kernel-monitor.md quotes them.
# vmtest-timeout: 300
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_module
command -v cmctl >/dev/null || fail "cmctl not on PATH (test/vm/run --extra DIR with DIR/bin/cmctl)"

W=$VMTEST_WORK
mark="vmtest-mark-monitor-scale-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }
rmmod monitor 2>/dev/null
run insmod "$VMTEST_MODULE" scan_interval_ms=50
wait_for "[ -c /dev/container_monitor ]" 5
N=200
: >"$W/inits"
cleanup() {
	while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$W/inits"
}
trap cleanup EXIT

i=0
while [ "$i" -lt "$N" ]; do
	# the init: nine sleepers, then it waits for them (PID 1 of its namespace)
	unshare -p -f sh -c 'for j in 1 2 3 4 5 6 7 8 9; do sleep 100000 & done; wait' &
	echo "$!" >>"$W/unshares"
	i=$((i + 1))
done
# the init of each namespace is its unshare's only child
while read -r u; do
	wait_for "[ -n \"\$(cat /proc/$u/task/$u/children 2>/dev/null)\" ]" 30 "the init under unshare $u"
	tr -d ' \n' <"/proc/$u/task/$u/children" >>"$W/inits"
	echo >>"$W/inits"
done <"$W/unshares"
expect_eq "$N" "$(wc -l <"$W/inits")" "namespace inits"
count_in_ns() { n=0; for p in /proc/[0-9]*; do
	case "$(readlink "$p/ns/pid" 2>/dev/null)" in "$(readlink /proc/self/ns/pid)" | "") ;; *) n=$((n + 1)) ;; esac
done; echo "$n"; }
wait_for "[ \"\$(count_in_ns)\" -ge $((N * 10)) ]" 120 "$((N * 10)) processes in the namespaces"
nprocs() { set -- /proc/[0-9]*; echo "$#"; }
info "processes: $(nprocs) in all, $(count_in_ns) in the $N namespaces"

scans() { sed -n 's/.* scans=\([0-9]*\) .*/\1/p' /proc/container_monitor; }
last_ns() { sed -n 's/.* last_scan_ns=\([0-9]*\) .*/\1/p' /proc/container_monitor; }
# scan_time: the median of 9 scans' durations, in microseconds
scan_time() {
	: >"$W/samples"
	s=$(scans)
	k=0
	while [ "$k" -lt 9 ]; do
		wait_for "[ \"\$(scans)\" -gt $s ]" 30 "a scan"
		s=$(scans)
		echo $(($(last_ns) / 1000)) >>"$W/samples"
		k=$((k + 1))
	done
	sort -n "$W/samples" | sed -n 5p
}
registered=0
register_up_to() {
	while [ "$registered" -lt "$1" ]; do
		registered=$((registered + 1))
		pid=$(sed -n "${registered}p" "$W/inits")
		cmctl register "scale$registered" "$pid" 0 0 >/dev/null || fail "register scale$registered (pid $pid)"
	done
	wait_for "grep -q ' containers=$1\$' /proc/container_monitor" 10 "$1 registered"
}
for k in 1 10 100 200; do
	register_up_to "$k"
	t=$(scan_time)
	eval "t$k=$t"
	info "scan of $(nprocs) processes with $k containers registered: $t us"
done
# every registered container counts its own ten processes, no more
run cmctl query scale200
expect_contains "$OUT" "procs=10 "
# shellcheck disable=SC2154
[ $((t200 * 2)) -le $((t1 * 3)) ] || fail "a scan with 200 containers took ${t200} us, more than 1.5x the ${t1} us with 1"

cleanup
wait_for "grep -q ' containers=0\$' /proc/container_monitor" 30 "every entry dropped once its init is gone"
run rmmod monitor
if klog | grep -E 'BUG|WARNING|Oops|general protection|Call Trace'; then
	fail "kernel log shows a problem"
fi
# shellcheck disable=SC2154
echo "scale ok: 1 $t1 us, 10 $t10 us, 100 $t100 us, 200 $t200 us"
