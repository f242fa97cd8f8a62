# shellcheck shell=sh
# Kernel monitor: insmod creates /dev/container_monitor (crw-------) and
# /proc/container_monitor, rmmod removes both, the module reloads, and the
# kernel log stays free of warnings.  Needs --module and cmctl (--extra).
# vmtest-timeout: 120
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_module
command -v cmctl >/dev/null || fail "cmctl not on PATH (test/vm/run --extra DIR with DIR/bin/cmctl; see monitor-kmod/vm-test)"

dev=/dev/container_monitor
mark="vmtest-mark-monitor-load-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }

rmmod monitor 2>/dev/null
[ -e $dev ] && fail "$dev exists before insmod"

run insmod "$VMTEST_MODULE"
wait_for "[ -c $dev ]" 30 "device node"
mode=$(stat -c %A $dev)
expect_eq "crw-------" "$mode" "mode of $dev"
expect_eq "0 0" "$(stat -c '%u %g' $dev)" "owner of $dev"
expect_file /proc/container_monitor
expect_eq "-r--------" "$(stat -c %A /proc/container_monitor)" "mode of /proc/container_monitor"
expect_eq 100 "$(cat /sys/module/monitor/parameters/scan_interval_ms)" "default scan_interval_ms"
expect_contains "$(klog)" "container_monitor: loaded, scan_interval_ms=100"

run cmctl version
expect_contains "$OUT" "abi=1 scan_interval_ms=100" "cmctl version"
info "$OUT"
expect_contains "$(cat /proc/container_monitor)" "ID PID SOFT HARD RSS PROCS FLAGS" "/proc header"

# Root only: nobody cannot open the device.
if su -s /bin/sh nobody -c "cat $dev" >/dev/null 2>"$VMTEST_WORK/su.err"; then
	fail "nobody could open $dev"
fi
grep -q "Permission denied" "$VMTEST_WORK/su.err" || fail "su as nobody: $(cat "$VMTEST_WORK/su.err")"

# The scan interval parameter is range checked.
if echo 5 >/sys/module/monitor/parameters/scan_interval_ms 2>/dev/null; then
	fail "scan_interval_ms accepted 5"
fi
echo 250 >/sys/module/monitor/parameters/scan_interval_ms || fail "cannot set scan_interval_ms"
run cmctl version
expect_contains "$OUT" "scan_interval_ms=250"

# Busy while open: rmmod must refuse, not free what an open file uses.
sh -c 'exec 3<"$1"; exec sleep 1000' sh $dev &
holder=$!
# Once the holder has the device open (and has become sleep, so the fd stays).
wait_for "[ \"\$(readlink /proc/$holder/fd/3)\" = $dev ] && [ \"\$(cat /proc/$holder/comm)\" = sleep ]" 30 "$dev held open"
if rmmod monitor 2>/dev/null; then
	fail "rmmod succeeded while $dev was open"
fi
kill "$holder"
wait "$holder" 2>/dev/null

run rmmod monitor
[ -e $dev ] && fail "$dev still exists after rmmod"
[ -e /proc/container_monitor ] && fail "/proc/container_monitor still exists after rmmod"
[ -d /sys/module/monitor ] && fail "module still listed after rmmod"

# Load and unload again.
run insmod "$VMTEST_MODULE" scan_interval_ms=50
wait_for "[ -c $dev ]" 30 "device node after reload"
expect_eq 50 "$(cat /sys/module/monitor/parameters/scan_interval_ms)" "scan_interval_ms from insmod"
run rmmod monitor
[ -e $dev ] && fail "$dev still exists after the second rmmod"

log=$(klog)
expect_contains "$log" "container_monitor: unloaded, 0 container(s) dropped"
if printf '%s\n' "$log" | grep -E 'BUG|WARNING|Oops|leak|general protection|Call Trace'; then
	fail "kernel log shows a problem"
fi
echo "load/unload ok"
