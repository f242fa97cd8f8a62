# shellcheck shell=sh
# Kernel monitor robustness: bad ioctls get the documented errnos
# (cmctl garbage), 4 processes x 10000 concurrent register/unregister cycles
# while the scan runs every 10 ms and event readers come and go
# (cmctl stress), a full event queue drops its oldest events, and rmmod
# with 50 registered containers and queued events frees everything: no
# oops, no hang, the processes are left alone.
# vmtest-timeout: 400
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_module
command -v cmctl >/dev/null || fail "cmctl not on PATH (test/vm/run --extra DIR with DIR/bin/cmctl; see monitor-kmod/vm-test)"

W=$VMTEST_WORK
mark="vmtest-mark-monitor-robust-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }
rmmod monitor 2>/dev/null
run insmod "$VMTEST_MODULE"
wait_for "[ -c /dev/container_monitor ]" 30

run cmctl garbage
printf '%s\n' "$OUT"
expect_contains "$OUT" "garbage: 0 failure(s)"

# A reader that never reads: its queue (256) overflows during the stress.
sh -c 'exec 3</dev/container_monitor; exec sleep 1000' &
lazy=$!
wait_for "[ \"\$(readlink /proc/$lazy/fd/3)\" = /dev/container_monitor ] && [ \"\$(cat /proc/$lazy/comm)\" = sleep ]" 30 "the lazy reader's open device"

echo 10 >/sys/module/monitor/parameters/scan_interval_ms || fail "cannot set scan_interval_ms"
t0=$(date +%s)
run cmctl stress --procs 4 --cycles 10000
printf '%s\n' "$OUT"
info "stress took $(($(date +%s) - t0)) s"
expect_contains "$OUT" "failed_procs=0"
expect_eq 0 "$(cmctl list | wc -l)" "entries left after the stress"
echo 100 >/sys/module/monitor/parameters/scan_interval_ms
kill "$lazy"
wait "$lazy" 2>/dev/null

# Event queue overflow: 300 SOFT events into a reader that holds its queue
# (256) until all happened: the oldest 44 are dropped and counted.
cmctl events --count 256 --timeout 30000 --ready "$W/r1" --wait-file "$W/go" >"$W/ev1" 2>&1 &
evpid=$!
wait_for "[ -f $W/r1 ]" 30 "event reader"
sleep 1000 &
s=$!
i=0
while [ $i -lt 300 ]; do
	cmctl register "q$i" "$s" 1 0 || fail "register q$i"
	i=$((i + 1))
done
wait_for "[ \$(cmctl list | grep -c ',soft') -eq 300 ]" 30 "300 SOFT crossings"
touch "$W/go"
wait "$evpid" || { cat "$W/ev1"; fail "reader did not get 256 events"; }
expect_eq 256 "$(grep -c 'type=SOFT' "$W/ev1")" "events read"
head -n1 "$W/ev1"
expect_contains "$(head -n1 "$W/ev1")" "dropped=44" "first event counts the 44 dropped"
expect_eq 0 "$(tail -n +2 "$W/ev1" | grep -vc 'dropped=0 ')" "later events drop nothing"
i=0
while [ $i -lt 300 ]; do
	cmctl unregister "q$i" || fail "unregister q$i"
	i=$((i + 1))
done
expect_contains "$(cat /proc/container_monitor)" "containers=0"

# 50 containers (10 processes, some in their own PID namespace) and an
# open reader with queued events, then rmmod after the reader closes.
i=0
pids=""
while [ $i -lt 10 ]; do
	if [ $((i % 2)) = 0 ]; then
		unshare -p -f cmctl hog --size 1M --step-ms 0 --pidfile "$W/p$i" 2>/dev/null &
		wait_for "[ -s $W/p$i ]" 30 "pidfile $i"
		p=$(cat "$W/p$i")
	else
		sleep 1000 &
		p=$!
	fi
	pids="$pids $p"
	j=0
	while [ $j -lt 5 ]; do
		cmctl register "c$i-$j" "$p" 1 0 || fail "register c$i-$j"
		j=$((j + 1))
	done
	i=$((i + 1))
done
expect_eq 50 "$(cmctl list | wc -l)" "registered entries"
cmctl events --timeout 1000 >/dev/null &
evpid=$!
wait_for "[ \$(cmctl list | grep -c ',soft') -eq 50 ]" 30 "50 SOFT crossings"
head -n 5 /proc/container_monitor
wait "$evpid"
run rmmod monitor
expect_contains "$(klog)" "container_monitor: unloaded, 50 container(s) dropped"
for p in $pids; do
	[ -d /proc/"$p" ] || fail "process $p died with the module"
	kill -KILL "$p"
done
[ -e /dev/container_monitor ] && fail "device left after rmmod"

# Load again: a clean slate.
run insmod "$VMTEST_MODULE"
expect_eq 0 "$(cmctl list | wc -l)" "entries after reload"
run rmmod monitor

if klog | grep -E 'BUG|WARNING|Oops|general protection|Call Trace|blocked for more'; then
	fail "kernel log shows a problem"
fi
echo "robustness ok"
