# shellcheck shell=sh
# Kernel monitor: a container (a PID namespace made with unshare) whose
# process grows to 40 MiB, registered with soft 10 MiB / hard 20 MiB: exactly
# one SOFT LIMIT line, then one HARD LIMIT line; the process is dead; the
# event stream shows SOFT then HARD with rss and limit; RSS at the kill is at
# most 1.25 x the hard limit at the default 100 ms scan interval.
# vmtest-timeout: 120
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_module
command -v cmctl >/dev/null || fail "cmctl not on PATH (test/vm/run --extra DIR with DIR/bin/cmctl; see monitor-kmod/vm-test)"

W=$VMTEST_WORK
mark="vmtest-mark-monitor-limits-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }
rmmod monitor 2>/dev/null
run insmod "$VMTEST_MODULE"
wait_for "[ -c /dev/container_monitor ]" 30

soft=$((10 << 20))
hard=$((20 << 20))

# The event reader must have the device open before anything happens.
cmctl events --id hog --count 2 --timeout 60000 --ready "$W/ready" >"$W/events" 2>&1 &
evpid=$!
wait_for "[ -f $W/ready ]" 30 "event reader"

# The container's init waits for SIGUSR1, so it is registered before it
# allocates (as minirt's shim does it).
unshare -p -f cmctl hog --size 40M --step 1M --step-ms 20 --pidfile "$W/pid" --wait-usr1 2>"$W/hog.err" &
upid=$!
wait_for "[ -s $W/pid ]" 30 "hog pidfile"
pid=$(cat "$W/pid")
info "container init: host pid $pid (unshare $upid)"
expect_eq 1 "$(sed -n 's/^NSpid:.*[[:space:]]\([0-9]*\)$/\1/p' /proc/"$pid"/status)" "pid inside its namespace"

run cmctl register hog "$pid" "$soft" "$hard"
run cmctl query hog
expect_contains "$OUT" "flags=pidns" "registered as a PID namespace"
t0=$(date +%s)
kill -USR1 "$pid"

wait "$upid"
info "unshare exited with $? after $(($(date +%s) - t0)) s"
wait_for "[ ! -d /proc/$pid ]" 30 "container init gone"
wait "$evpid" || { cat "$W/events"; fail "event reader did not see 2 events"; }
cat "$W/events"

# shellcheck disable=SC2046 # the event line split into its fields
set -- $(sed -n 1p "$W/events")
expect_eq "event type=SOFT container=hog pid=$pid" "$1 $2 $3 $4" "first event"
soft_rss=${5#rss=}
expect_eq "limit=$soft" "$6" "soft event limit"
# shellcheck disable=SC2046
set -- $(sed -n 2p "$W/events")
expect_eq "event type=HARD container=hog pid=$pid" "$1 $2 $3 $4" "second event"
hard_rss=${5#rss=}
expect_eq "limit=$hard" "$6" "hard event limit"
[ "$soft_rss" -gt "$soft" ] || fail "SOFT event rss $soft_rss not above $soft"
[ "$hard_rss" -gt "$hard" ] || fail "HARD event rss $hard_rss not above $hard"
info "RSS at the kill: $hard_rss bytes = $((hard_rss * 1000 / hard)) permille of the hard limit"
[ $((hard_rss * 4)) -le $((hard * 5)) ] || fail "RSS at the kill $hard_rss > 1.25 x $hard"

log=$(klog)
printf '%s\n' "$log" | grep container_monitor
expect_eq 1 "$(printf '%s\n' "$log" | grep -c "container_monitor: SOFT LIMIT container=hog pid=$pid rss=[0-9]* limit=$soft\$")" "SOFT LIMIT lines"
expect_eq 1 "$(printf '%s\n' "$log" | grep -c "container_monitor: HARD LIMIT container=hog pid=$pid rss=$hard_rss limit=$hard\$")" "HARD LIMIT lines"
expect_eq 1 "$(printf '%s\n' "$log" | grep -c "container_monitor: REGISTER container=hog pid=$pid soft=$soft hard=$hard\$")" "REGISTER lines"
sline=$(printf '%s\n' "$log" | grep -n "SOFT LIMIT container=hog" | cut -d: -f1)
hline=$(printf '%s\n' "$log" | grep -n "HARD LIMIT container=hog" | cut -d: -f1)
[ "$sline" -lt "$hline" ] || fail "HARD LIMIT logged before SOFT LIMIT"

# A killed container is removed: no entry, no later EXIT event.
expect_rc 1 cmctl query hog
expect_contains "$OUT" "No such file or directory"
grep -q "^hog " /proc/container_monitor && fail "hog still in /proc/container_monitor"

run rmmod monitor
if printf '%s\n' "$(klog)" | grep -E 'BUG|WARNING|Oops|general protection|Call Trace'; then
	fail "kernel log shows a problem"
fi
echo "soft/hard limits ok"
