# shellcheck shell=sh
# minirt with the kernel monitor: --soft-mib/--hard-mib reach the module
# through the shim, the hard kill shows as exit 137 with reason "memory hard
# limit" and the figures, the soft crossing as a warning in inspect and in
# the log; children count; a calm container is untouched; every container
# is registered (watch-only) while the module is loaded.
# vmtest-timeout: 180
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
need_module

mark="vmtest-mark-minirt-monitor-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }
rmmod monitor 2>/dev/null
run insmod "$VMTEST_MODULE"
wait_for "[ -c /dev/container_monitor ]" 30

# 1. Soft then hard: grows 1 MiB per 100 ms scan, so the kill comes within
#    about one scan's growth of the limit.
expect_rc 137 "$MINIRT" run --name hog --soft-mib 10 --hard-mib 20 busybox \
	memory_hog --size 64M --step 1M --rate 10M
run "$MINIRT" inspect hog
info "$(echo "$OUT" | grep -A14 '"monitor"' | head -n 16)"
expect_contains "$OUT" '"reason": "memory hard limit"'
expect_contains "$OUT" '"exit_code": 137'
rss=$(echo "$OUT" | sed -n '/"hard_killed"/,/}/s/.*"rss": \([0-9]*\).*/\1/p' | head -n1)
[ -n "$rss" ] || fail "no hard_killed.rss in inspect"
hard=$((20 << 20))
[ "$rss" -ge "$hard" ] || fail "killed at rss $rss, below the hard limit $hard"
[ "$rss" -le $((hard * 5 / 4)) ] || fail "killed at rss $rss, more than 25% above $hard"
info "RSS at the kill: $rss bytes ($((rss * 100 / hard))% of the hard limit)"
expect_contains "$(echo "$OUT" | sed -n '/"soft_crossed"/,/}/p')" '"limit": 10485760' "soft crossing recorded"
run "$MINIRT" status hog
expect_contains "$OUT" "Killed:"
run "$MINIRT" logs hog
expect_contains "$OUT" "SOFT LIMIT crossed"
n_soft=$(klog | grep -c 'container_monitor: SOFT LIMIT container=hog ')
n_hard=$(klog | grep -c 'container_monitor: HARD LIMIT container=hog ')
expect_eq 1 "$n_soft" "SOFT LIMIT lines"
expect_eq 1 "$n_hard" "HARD LIMIT lines"
run "$MINIRT" rm hog

# 2. Four children of 12 MiB each against a 30 MiB hard limit: killed.
expect_rc 137 "$MINIRT" run --name kids --hard-mib 30 busybox memory_hog --size 12M --step 1M --rate 20M --children 4
run "$MINIRT" inspect kids
expect_contains "$OUT" '"reason": "memory hard limit"'
run "$MINIRT" rm kids

# 3. A calm container under its limits is untouched.
expect_rc 0 "$MINIRT" run --name calm --soft-mib 50 --hard-mib 100 busybox memory_hog --size 8M --hold-seconds 1
run "$MINIRT" inspect calm
expect_contains "$OUT" '"reason": "exited"'
expect_contains "$OUT" '"soft_crossed": null'
run "$MINIRT" rm calm

# 4. Watch-only: without flags a container is still registered, so the
#    module's list shows it with its RSS, and inspect shows the live view.
run "$MINIRT" run -d --name watched busybox memory_hog --size 16M --hold-seconds 60
wait_for "grep -q watched /proc/container_monitor" 30 "watched in /proc/container_monitor"
info "$(cat /proc/container_monitor)"
wait_for "\"$MINIRT\" inspect watched | grep -q '\"rss\": [1-9]'" 30 "live rss in inspect"
run "$MINIRT" rm -f watched
wait_for "! grep -q watched /proc/container_monitor" 30 "unregistered after rm"

# Without the module (and with the eBPF backend switched off, since this
# kernel could run it: monitor_60_bpf covers that), monitor flags are refused.
run rmmod monitor
expect_rc 125 env MINIRT_NO_BPF_MONITOR=1 "$MINIRT" run --rm --hard-mib 20 busybox true
expect_contains "$OUT" "/dev/container_monitor"
expect_rc 0 "$MINIRT" run --rm busybox true
