# shellcheck shell=sh
# Kernel monitor: RSS is summed over every process of a container.
#  1. A PID-namespace container whose init forks 4 children of 12 MiB each,
#     hard limit 30 MiB: all five processes are killed, one HARD event.
#  2. The same without a PID namespace (process-tree mode): a registered
#     process and its 2 children of 12 MiB, hard 20 MiB: all killed.
#  3. A container staying under its limits is untouched over several scans;
#     when it exits on its own the next scan drops it with an EXIT event.
# vmtest-timeout: 120
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_module
command -v cmctl >/dev/null || fail "cmctl not on PATH (test/vm/run --extra DIR with DIR/bin/cmctl; see monitor-kmod/vm-test)"

W=$VMTEST_WORK
mark="vmtest-mark-monitor-children-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }
rmmod monitor 2>/dev/null
run insmod "$VMTEST_MODULE"
wait_for "[ -c /dev/container_monitor ]" 30

# pids_in_ns NSLINK: host pids of the processes whose PID namespace is NSLINK
pids_in_ns() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}
scans() { sed -n 's/.* scans=\([0-9]*\) .*/\1/p' /proc/container_monitor; }

cmctl events --timeout 90000 --ready "$W/ready" >"$W/events" 2>&1 &
evpid=$!
wait_for "[ -f $W/ready ]" 30 "event reader"

# --- 1. four children in a PID namespace --------------------------------------
unshare -p -f cmctl hog --children 4 --size 12M --step 1M --step-ms 50 \
	--pidfile "$W/ns.pid" --wait-usr1 2>"$W/ns.err" &
upid=$!
wait_for "[ -s $W/ns.pid ]" 30 "pidfile"
pid=$(cat "$W/ns.pid")
ns=$(readlink /proc/"$pid"/ns/pid)
run cmctl register kids "$pid" 0 30M
kill -USR1 "$pid"
wait "$upid"
wait_for "[ -z \"\$(pids_in_ns '$ns')\" ]" 30 "every process of the namespace gone"
wait_for "grep -q 'type=HARD container=kids' $W/events" 30 "HARD event for kids"
ev=$(grep 'container=kids' "$W/events")
info "$ev"
expect_eq 1 "$(printf '%s\n' "$ev" | wc -l)" "events for kids"
expect_contains "$ev" "event type=HARD container=kids pid=$pid rss="
expect_contains "$ev" "limit=$((30 << 20))"
expect_eq 1 "$(klog | grep -c "container_monitor: HARD LIMIT container=kids pid=$pid ")" "HARD LIMIT lines for kids"
expect_contains "$(klog)" "killed 5 process(es) of container=kids"

# --- 2. process tree without a PID namespace -----------------------------------
cmctl hog --children 2 --size 12M --step 1M --step-ms 20 --pidfile "$W/tree.pid" \
	--wait-usr1 2>"$W/tree.err" &
tpid=$!
wait_for "[ -s $W/tree.pid ]" 30 "pidfile"
expect_eq "$tpid" "$(cat "$W/tree.pid")" "tree pidfile"
run cmctl register tree "$tpid" 0 20M
run cmctl query tree
expect_contains "$OUT" "flags=tree"
kill -USR1 "$tpid"
wait "$tpid"
rc=$?
expect_eq 137 "$rc" "exit status of the tree's root (SIGKILL)"
wait_for "grep -q 'type=HARD container=tree' $W/events" 30 "HARD event for tree"
expect_contains "$(klog)" "killed 3 process(es) of container=tree"
for p in $(ps -o pid,args | awk '/cmctl hog --children 2/ && !/awk/ {print $1}'); do
	fail "process $p of the tree survived"
done

# --- 3. under the limits: untouched, then EXIT ---------------------------------
unshare -p -f cmctl hog --size 8M --step 2M --step-ms 0 --pidfile "$W/idle.pid" \
	--wait-usr1 2>"$W/idle.err" &
ipid_unshare=$!
wait_for "[ -s $W/idle.pid ]" 30 "pidfile"
ipid=$(cat "$W/idle.pid")
run cmctl register idle "$ipid" 20M 40M
kill -USR1 "$ipid"
wait_for "grep -q holds $W/idle.err" 30 "idle hog allocated"
s0=$(scans)
wait_for "[ \$(scans) -ge $((s0 + 5)) ]" 30 "5 more scans"
[ -d /proc/"$ipid" ] || fail "idle container killed"
run cmctl query idle
info "$OUT"
rss=$(printf '%s\n' "$OUT" | sed -n 's/.* rss=\([0-9]*\) .*/\1/p')
[ "$rss" -ge $((8 << 20)) ] || fail "idle rss $rss below the 8 MiB it holds"
[ "$rss" -lt $((20 << 20)) ] || fail "idle rss $rss not below the soft limit"
expect_contains "$OUT" "procs=1 flags=pidns" "idle entry"
klog | grep -q "LIMIT container=idle" && fail "a limit line for idle"
grep -q "container=idle" "$W/events" && fail "an event for idle while under its limits"

# from outside its namespace SIGKILL reaches an init
kill -KILL "$ipid"
wait "$ipid_unshare"
wait_for "grep -q 'type=EXIT container=idle' $W/events" 30 "EXIT event for idle"
expect_contains "$(klog)" "container_monitor: EXIT container=idle pid=$ipid"
expect_rc 1 cmctl query idle

kill "$evpid"
cat "$W/events"
run rmmod monitor
if klog | grep -E 'BUG|WARNING|Oops|general protection|Call Trace'; then
	fail "kernel log shows a problem"
fi
echo "children ok"
