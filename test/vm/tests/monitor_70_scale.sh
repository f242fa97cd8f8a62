# shellcheck shell=sh
# Kernel monitor: a scan costs O(processes x namespace depth), not O(processes x
# containers). One outer PID namespace holds 200 inner ones, each an init with 9
# sleeping children (2,000 processes in them). The baseline is the outer one alone
# registered: it holds every one of those processes, so the scan reads each one's RSS.
# Then 10, 100 and 200 of the inner ones are registered besides (a process counts
# toward every container that encloses it): the same RSS reads, only the lookups
# differ. With 200 the scan takes at most 2.6x the baseline. The figures are printed
# (TCG is slow: only their ratio is the test) and docs/kernel-monitor.md quotes them.
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
wait_for "[ -c /dev/container_monitor ]" 30
N=200

# The outer namespace's init starts the inner ones and waits for them.
unshare -p -f sh -c "i=0; while [ \$i -lt $N ]; do
	unshare -p -f sh -c 'for j in 1 2 3 4 5 6 7 8 9; do sleep 100000 & done; wait' &
	i=\$((i + 1)); done; wait" &
outer_unshare=$!
cleanup() { [ -z "${outer:-}" ] || kill -KILL "$outer" 2>/dev/null; }
trap cleanup EXIT

# inits DEPTH: host pids of PID 1 of a namespace DEPTH levels below ours (their
# NSpid line has DEPTH+1 ids, the last one 1)
inits() {
	for p in /proc/[0-9]*; do
		sed -n 's/^NSpid:[[:space:]]*//p' "$p/status" 2>/dev/null |
			awk -v d="$1" -v p="${p#/proc/}" 'NF == d + 1 && $NF == 1 { print p }'
	done
}
wait_for "[ -n \"\$(cat /proc/$outer_unshare/task/$outer_unshare/children 2>/dev/null)\" ]" 30 "the outer init"
outer=$(tr -d ' \n' <"/proc/$outer_unshare/task/$outer_unshare/children")
sleepers() { n=0; for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = sleep ] && n=$((n + 1)); done; echo "$n"; }
wait_for "[ \"\$(sleepers)\" -ge $((N * 9)) ]" 180 "$((N * 9)) sleepers"
inits 2 >"$W/inits"
expect_eq "$N" "$(wc -l <"$W/inits")" "inner namespace inits"
nprocs() { set -- /proc/[0-9]*; echo "$#"; }
info "processes: $(nprocs) in all, $N inner namespaces of 10 in the outer one"

scans() { sed -n 's/.* scans=\([0-9]*\) .*/\1/p' /proc/container_monitor; }
last_ns() { sed -n 's/.* last_scan_ns=\([0-9]*\) .*/\1/p' /proc/container_monitor; }
# scan_time: the shortest of 9 scans' durations, in microseconds: whatever else the
# guest runs meanwhile (this script's polling; under single-threaded TCG the other
# vCPU's work) can only lengthen a scan, never shorten it
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
	sort -n "$W/samples" | sed -n 1p
}
run cmctl register outer "$outer" 0 0
wait_for "grep -q ' containers=1\$' /proc/container_monitor" 30 "outer registered"
t1=$(scan_time)
info "scan of $(nprocs) processes, the outer container alone: $t1 us"
registered=0
for k in 10 100 200; do
	while [ "$registered" -lt "$k" ]; do
		registered=$((registered + 1))
		pid=$(sed -n "${registered}p" "$W/inits")
		cmctl register "scale$registered" "$pid" 0 0 >/dev/null || fail "register scale$registered (pid $pid)"
	done
	wait_for "grep -q ' containers=$((k + 1))\$' /proc/container_monitor" 30 "$k inner registered"
	t=$(scan_time)
	eval "t$k=$t"
	info "scan of $(nprocs) processes, the outer container and $k inner ones: $t us"
done
# each inner container counts its own ten processes; the outer one all of them
run cmctl query scale200
expect_contains "$OUT" "procs=10 "
run cmctl query outer
n=$(printf '%s\n' "$OUT" | sed -n 's/.* procs=\([0-9]*\) .*/\1/p')
[ "$n" -ge $((N * 10)) ] || fail "the outer container counts $n processes, want at least $((N * 10))"
# shellcheck disable=SC2154
# The sorted index costs log(containers) per lookup: where the RSS reads are
# cheap (a faster host under TCG) that alone reached 1.56x, and a loaded CI
# host's noise once took it to 2.04x; the list walk it replaced was 3.4x even
# where they were dear. 2.6x tells the two apart with room for the noise.
[ "$((t200 * 10))" -le $((t1 * 26)) ] || fail "a scan with 201 containers took ${t200} us, more than 2.6x the ${t1} us with 1"

cleanup
wait_for "grep -q ' containers=0\$' /proc/container_monitor" 30 "every entry dropped once its init is gone"
run rmmod monitor
if klog | grep -E 'BUG|WARNING|Oops|general protection|Call Trace'; then
	fail "kernel log shows a problem"
fi
# shellcheck disable=SC2154
echo "scale ok: 1 container $t1 us; +10 $t10 us; +100 $t100 us; +200 $t200 us"
