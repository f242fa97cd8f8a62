# shellcheck shell=sh
# minirt's eBPF memory monitor on Debian's 6.1 kernel (no module loaded):
# minirt mounts bpffs and tracefs itself, loads and pins the program, and
# gives the same results as the module (monitor_50_minirt): the soft line
# once, the hard kill with the figures, 4 children x 12 MiB killed at a
# 30 MiB limit, a calm container untouched, the reasons in inspect; the
# last container unpins it.
# vmtest-timeout: 180
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt

rmmod monitor 2>/dev/null
[ ! -e /dev/container_monitor ] || fail "the module is still loaded"
[ -r /sys/kernel/btf/vmlinux ] || skip "the guest kernel has no BTF"

# Nothing mounted: minirt must mount what it needs.
umount /sys/kernel/debug 2>/dev/null
umount /sys/kernel/tracing 2>/dev/null
umount /sys/fs/bpf 2>/dev/null

mark="vmtest-mark-minirt-bpf-$$"
echo "$mark" >/dev/kmsg
klog() { dmesg | sed -n "/$mark/,\$p"; }

run "$MINIRT" info
info "$(echo "$OUT" | sed -n '/memory_monitor/,/store/p')"
expect_contains "$OUT" "backend: eBPF"

# 1. Soft then hard, growing 1 MiB per 100 ms.
expect_rc 137 "$MINIRT" run --name hog --soft-mib 10 --hard-mib 20 busybox \
	memory_hog --size 64M --step 1M --rate 10M
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || fail "minirt did not mount bpffs"
grep -q 'tracefs' /proc/mounts || fail "minirt did not mount tracefs"
run "$MINIRT" inspect hog
info "$(echo "$OUT" | grep -A14 '"monitor"' | head -n 16)"
expect_contains "$OUT" '"reason": "memory hard limit"'
expect_contains "$OUT" '"exit_code": 137'
expect_contains "$OUT" '"backend": "eBPF'
rss=$(echo "$OUT" | sed -n '/"hard_killed"/,/}/s/.*"rss": \([0-9]*\).*/\1/p' | head -n1)
[ -n "$rss" ] || fail "no hard_killed.rss in inspect"
hard=$((20 << 20))
[ "$rss" -gt "$hard" ] || fail "killed at rss $rss, not above the hard limit $hard"
# 6.1 batches a thread's counter updates by 64 faults (256 KiB): within 1 MiB.
[ "$rss" -le $((hard + (1 << 20))) ] || fail "killed at rss $rss, more than 1 MiB above $hard"
info "RSS at the kill: $rss bytes (+$((rss - hard)) bytes over the limit)"
expect_contains "$(echo "$OUT" | sed -n '/"soft_crossed"/,/}/p')" '"limit": 10485760' "soft crossing recorded"
run "$MINIRT" status hog
expect_contains "$OUT" "Killed:"
run "$MINIRT" logs hog
expect_contains "$OUT" "SOFT LIMIT crossed"
expect_eq 1 "$(klog | grep -c 'container_monitor: SOFT LIMIT container=hog ')" "SOFT LIMIT lines"
expect_eq 1 "$(klog | grep -c 'container_monitor: HARD LIMIT container=hog ')" "HARD LIMIT lines"
run "$MINIRT" rm hog
[ ! -e /sys/fs/bpf/minirt/v1 ] || fail "pins left after the last container"

# 2. Four children of 12 MiB each against a 30 MiB hard limit: killed.
expect_rc 137 "$MINIRT" run --name kids --hard-mib 30 busybox memory_hog --size 12M --step 1M --rate 20M --children 4
run "$MINIRT" inspect kids
expect_contains "$OUT" '"reason": "memory hard limit"'
rss=$(echo "$OUT" | sed -n '/"hard_killed"/,/}/s/.*"rss": \([0-9]*\).*/\1/p' | head -n1)
info "4 children: killed at rss $rss (limit $((30 << 20)))"
run "$MINIRT" rm kids

# 3. A calm container under its limits is untouched.
expect_rc 0 "$MINIRT" run --name calm --soft-mib 50 --hard-mib 100 busybox memory_hog --size 8M --hold-seconds 1
run "$MINIRT" inspect calm
expect_contains "$OUT" '"reason": "exited"'
expect_contains "$OUT" '"soft_crossed": null'
run "$MINIRT" rm calm

# 4. The live view while running, pinned meanwhile, unpinned after.
run "$MINIRT" run -d --name live --hard-mib 100 busybox memory_hog --size 16M --hold-seconds 60
for p in link containers mms rings lost; do expect_file "/sys/fs/bpf/minirt/v1/$p"; done
wait_for "\"$MINIRT\" inspect live | grep -q '\"rss\": [1-9][0-9]\{7\}'" 30 "live rss in inspect"
run "$MINIRT" rm -f live
wait_for "[ ! -e /sys/fs/bpf/minirt/v1 ]" 30 "unpinned after the last container"

# 5. eBPF disabled and no module: refused, naming both.
export MINIRT_NO_BPF_MONITOR=1
expect_rc 125 "$MINIRT" run --rm --hard-mib 20 busybox true
unset MINIRT_NO_BPF_MONITOR
expect_contains "$OUT" "/dev/container_monitor"
expect_contains "$OUT" "eBPF"
