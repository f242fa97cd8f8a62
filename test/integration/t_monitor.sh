# shellcheck shell=bash
# The memory monitor's flags on this host. The module itself and the kill
# path are proven in the VM (test/vm/tests/monitor_*.sh); the eBPF backend
# on this host in t_monitor_bpf.sh.

monitor_backend() { "$MINIRT" info --format json | jq -r '.memory_monitor.backend'; }

# Where eBPF works (this machine's kernel has BTF), the flags work without
# the module. The hard limits leave room for the container's init before its
# exec: a fork of the shim, it starts with the shim's RSS, 0.3 MiB normally
# but 21 MiB in the ASan+UBSan build (build-asan, -O0), which a 20 MiB limit
# killed.
test_monitor_flags_work_with_ebpf_without_the_module() {
    local backend
    backend=$(monitor_backend)
    [ "$backend" = eBPF ] || skip "the eBPF backend is not usable here (backend: $backend)"
    expect_rc 0 run --rm --hard-mib 64 busybox true
    expect_rc 0 run --rm --soft-mib 10 busybox true
    expect_rc 0 run --rm --monitor-hard 64M busybox true
}

# Neither backend (no module, eBPF disabled or unsupported): refused, and
# the message names both.
test_monitor_flags_without_any_backend_are_refused() {
    # The module cannot be switched off here; the VM suite covers it.
    [ ! -e /dev/container_monitor ] || skip "the kernel module's /dev/container_monitor exists (a backend is always there)"
    export MINIRT_NO_BPF_MONITOR=1
    expect_eq "$(monitor_backend)" none "backend with eBPF disabled"
    expect_rc 125 run --rm --hard-mib 20 busybox true
    expect_contains "$ERR" "--hard-mib"
    expect_contains "$ERR" "/dev/container_monitor"
    expect_contains "$ERR" "eBPF"
    expect_rc 125 run --rm --soft-mib 10 busybox true
    expect_contains "$ERR" "--soft-mib"
    expect_rc 125 run --rm --monitor-hard 20M busybox true
    expect_contains "$ERR" "--monitor-hard"
    [ -z "$(ls -A "$MINIRT_STORAGE/containers" 2>/dev/null)" ] || fail "refused runs left containers"
    # Containers without those flags run exactly as before.
    expect_rc 0 run --rm busybox true
}

test_monitor_flag_values_are_checked() {
    local bad
    for bad in "--soft-mib 0" "--hard-mib -1" "--hard-mib x" "--monitor-hard 0" "--monitor-soft 1Q"; do
        # shellcheck disable=SC2086
        expect_rc 125 run --rm $bad busybox true
        expect_contains "$ERR" "${bad%% *}"
    done
    expect_rc 125 run --rm --soft-mib 30 --hard-mib 20 busybox true
    expect_contains "$ERR" "above the hard limit"
    expect_rc 125 run --rm --soft-mib 10 --monitor-soft 10M busybox true
}
