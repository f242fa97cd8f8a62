# shellcheck shell=bash
# The memory monitor's eBPF backend on this host's own kernel (BTF, the
# kmem/rss_stat tracepoint): the same checks as the module's VM test
# (test/vm/tests/monitor_50_minirt.sh) plus ownership of the pins. Skips
# where the module is loaded (it wins) or eBPF is unusable.

bpf_backend_or_skip() {
    local backend
    backend=$("$MINIRT" info --format json | jq -r '.memory_monitor.backend')
    [ "$backend" = eBPF ] || skip "memory monitor backend is '$backend', not eBPF"
}

PINS=/sys/fs/bpf/minirt/v1
# Containers of other tests or users may hold the pins: only check their
# lifetime when nobody else does.
pins_free() { [ ! -e "$PINS/link" ]; }

# Two children of 16 MiB each, plus the init (test_bpf_live_view_and_pins).
live_rss() { [ "$(json_field live .monitor.rss)" -gt $((32 << 20)) ]; }
no_rss_stat_program() { [ "$(bpftool prog show 2>/dev/null | grep -c 'tracepoint  name rss_stat ' || true)" = 0 ]; }

# What a container's init holds before its exec, in MiB (rounded up): it is
# a fork of the shim, and its pages count until the command replaces them.
# About 1 MiB for a release build; a sanitizer build's shim carries tens of
# MiB of instrumented data. The limits below sit this far above their
# figures, so that the kill is always the command's.
init_floor_mib() {
    mr run -d --name floor busybox sleep 1000
    local shim rss
    shim=$(shim_of floor)
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$shim/status")
    [ -n "$rss" ] || fail "no VmRSS for the shim $shim"
    mr rm -f floor
    echo $(((rss + 1023) / 1024))
}

kmsg_mark() {
    MARK="minirt-it-bpf-$$-$RANDOM"
    echo "$MARK" >/dev/kmsg
}
klog() { dmesg | sed -n "/$MARK/,\$p"; }

test_bpf_soft_warning_then_hard_kill() {
    bpf_backend_or_skip
    local floor
    floor=$(init_floor_mib)
    kmsg_mark
    # Above what the init holds before its exec (init_floor_mib), so the
    # kill is memory_hog's, one step past.
    # Fast (a 1 MiB step every 5 ms): a monitor that polled, even every
    # 10 ms, would let it run several steps past the limit.
    expect_rc 137 run --name hog --soft-mib $((floor + 30)) --hard-mib $((floor + 40)) busybox \
        memory_hog --size $((floor + 64))M --step 1M --rate 200M
    mr inspect hog
    expect_contains "$OUT" '"reason": "memory hard limit"'
    expect_contains "$OUT" '"exit_code": 137'
    expect_contains "$OUT" '"backend": "eBPF'
    local rss hard=$(((floor + 40) << 20))
    rss=$(echo "$OUT" | jq -r '.[0].state.monitor.hard_killed.rss')
    [ "$rss" -gt "$hard" ] || fail "killed at rss $rss, not above the hard limit $hard"
    # Per-event check: the kill comes at the first counter change past the
    # limit. The counter a change reports lags the pages faulted in by a
    # sync (64 pages per task on 6.1, a per-cpu batch since 6.2), and a
    # host busy with the sanitizer build once showed 1.05 MiB over: 2 MiB
    # is two of the hog's steps, far below what polling would let through.
    [ "$rss" -le $((hard + (2 << 20))) ] || fail "killed at rss $rss, more than 2 MiB above $hard"
    echo "RSS at the kill: $rss bytes (+$((rss - hard)) over the limit)"
    expect_eq "$(echo "$OUT" | jq -r '.[0].state.monitor.soft_crossed.limit')" $(((floor + 30) << 20)) "soft crossing limit"
    mr status hog
    expect_contains "$OUT" "Killed:"
    mr logs hog
    expect_contains "$OUT" "SOFT LIMIT crossed"
    expect_contains "$OUT" "HARD LIMIT: killed at rss=$rss"
    expect_eq "$(klog | grep -c 'container_monitor: SOFT LIMIT container=hog ')" 1 "SOFT LIMIT lines"
    expect_eq "$(klog | grep -c 'container_monitor: HARD LIMIT container=hog ')" 1 "HARD LIMIT lines"
    expect_rc 0 rm hog
}

test_bpf_children_count_and_all_die() {
    bpf_backend_or_skip
    # Each of the five below the limit, together above it.
    local floor limit each
    floor=$(init_floor_mib)
    limit=$((floor + 30))
    each=$((limit / 3))
    expect_rc 137 run --name kids --hard-mib "$limit" busybox memory_hog --size "${each}M" --step 1M --rate 20M --children 4
    mr inspect kids
    expect_contains "$OUT" '"reason": "memory hard limit"'
    local rss
    rss=$(echo "$OUT" | jq -r '.[0].state.monitor.hard_killed.rss')
    # Above the limit, and not far: five processes fault at once, each
    # one's RSS counter may lag a batch behind (64 faults on 6.1, a percpu
    # batch since 6.2), and the children go on faulting while the kill is
    # sent. 1 MiB was the bound for one process (monitor_60_bpf in the VM);
    # CI runs under ASan saw 31.0 MiB and, on a host busy with a build,
    # 38.0 MiB here. What this test proves is that the children count (each
    # stays at 12 MiB, below the limit: without them nobody is killed), so
    # the bound only says the kill came near the limit, not at the end.
    if [ "$rss" -le $((limit << 20)) ] || [ "$rss" -gt $(((limit + 12) << 20)) ]; then
        fail "killed at rss $rss, want within 12 MiB above $limit MiB"
    fi
    # No process of the container survived (the runner also checks the cgroup).
    local cg
    cg="$(test_cg_parent)/$(json_field kids .id)"
    [ ! -e "$cg/cgroup.procs" ] || [ -z "$(cat "$cg/cgroup.procs")" ] || fail "processes left in $cg"
    expect_rc 0 rm kids
}

test_bpf_calm_container_untouched() {
    bpf_backend_or_skip
    local floor
    # Above what the init holds before its exec (a sanitizer build's shim is
    # tens of MiB), so only memory_hog's 8 MiB could cross it.
    floor=$(init_floor_mib)
    expect_rc 0 run --name calm --soft-mib $((floor + 50)) --hard-mib $((floor + 100)) busybox memory_hog --size 8M --hold-seconds 1
    mr inspect calm
    expect_contains "$OUT" '"reason": "exited"'
    expect_eq "$(echo "$OUT" | jq -r '.[0].state.monitor.soft_crossed')" null "soft crossing"
    expect_eq "$(echo "$OUT" | jq -r '.[0].state.monitor.hard_killed')" null "hard kill"
    expect_rc 0 rm calm
}

test_bpf_live_view_and_pins() {
    bpf_backend_or_skip
    local free=0
    pins_free && free=1
    expect_rc 0 run -d --name live --soft-mib 100 --hard-mib 200 busybox memory_hog --size 16M --children 2 --hold-seconds 60
    # Pinned while a container needs it, with the program attached.
    for p in link containers mms rings lost; do [ -e "$PINS/$p" ] || fail "no pin $PINS/$p"; done
    mountpoint -q /sys/fs/bpf || fail "bpffs not mounted"
    wait_for 30 live_rss
    expect_eq "$(json_field live .monitor.processes)" 3 "processes counted (init + 2 children)"
    mr info
    expect_contains "$OUT" "backend: eBPF"
    expect_contains "$OUT" "loaded: true"
    expect_rc 0 rm -f live
    # The last container gone: unpinned.
    if [ "$free" = 1 ]; then [ ! -e "$PINS" ] || fail "pins left after the last container: $(ls "$PINS")"; fi
}

test_bpf_concurrent_first_starts_load_once() {
    bpf_backend_or_skip
    pins_free || skip "the eBPF monitor is in use by others"
    command -v bpftool >/dev/null || skip "no bpftool"
    local i pids=()
    for i in 1 2 3 4 5 6; do
        "$MINIRT" run -d --name "c$i" --hard-mib 64 busybox sleep 5 >/dev/null 2>"$TESTDIR/err$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a concurrent start failed: $(cat "$TESTDIR"/err*)"; done
    local n
    n=$(bpftool prog show 2>/dev/null | grep -c 'tracepoint  name rss_stat ' || true)
    expect_eq "$n" 1 "rss_stat programs loaded"
    mr info --format json
    expect_eq "$(echo "$OUT" | jq -r '.memory_monitor.ebpf.containers')" 6 "containers in the map"
    expect_rc 0 rm -f c1 c2 c3 c4 c5 c6
    [ ! -e "$PINS" ] || fail "pins left after the last container"
    # The kernel frees a detached program after an RCU grace period.
    wait_for 30 no_rss_stat_program
}

test_bpf_dead_shim_entry_is_swept() {
    bpf_backend_or_skip
    pins_free || skip "the eBPF monitor is in use by others"
    expect_rc 0 run -d --name orphan --hard-mib 64 busybox sleep 60
    local shim init
    shim=$(shim_of orphan)
    init=$(pid_of orphan)
    # A shim that dies without unregistering, and its container with it.
    kill -9 "$shim" "$init"
    wait_for 30 process_gone "$init"
    # The next container to leave sweeps the stale entry and unpins.
    expect_rc 0 run --rm --hard-mib 64 busybox true
    [ ! -e "$PINS" ] || fail "pins left after a dead shim's container: $(ls "$PINS")"
    "$MINIRT" rm -f orphan >/dev/null 2>&1 || true
}
