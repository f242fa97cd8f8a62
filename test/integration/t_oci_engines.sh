# shellcheck shell=bash
# Real engines driving minirt-oci: podman (with conmon) through --runtime,
# and containerd's `ctr run` through its runc shim with --runc-binary.
# podman's default pids limit (2048) needs the pids controller, which this
# hybrid host's cgroup v2 hierarchy lacks, so the host runs pass
# --pids-limit -1; the VM test (test/vm/tests/oci_podman.sh) covers limits.

ENGINE_ROOTFS=$TESTDIR/rootfs
ENGINE_OCI=$TESTDIR/bin/minirt-oci

# engine_setup PROGRAM...: skips the test where an engine's PROGRAM is
# missing (test/run installs them all), then gives it minirt-oci and a rootfs.
engine_setup() {
    local p
    for p in "$@"; do command -v "$p" >/dev/null || skip "no $p on this host"; done
    mkdir -p "$TESTDIR/bin"
    ln -sf "$MINIRT" "$ENGINE_OCI"
    cp -a "$MINIRT_STORAGE/images/busybox/rootfs" "$ENGINE_ROOTFS"
}

podman_() {
    podman --root "$TESTDIR/podman/root" --runroot "$TESTDIR/podman/run" --tmpdir "$TESTDIR/podman/tmp" \
        --cgroup-manager cgroupfs --events-backend file --runtime "$ENGINE_OCI" "$@"
}
P_OPTS=(--pids-limit -1 --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none
    --cgroup-parent "/$MINIRT_CGROUP_PARENT")

# podman's containers live under its own root; whatever a failed test left
# running goes with the test, and podman's storage mounts with it.
podman_cleanup() { podman_reset podman_; }

test_podman_run_rm_passes_exit_codes_and_output() {
    engine_setup podman conmon
    trap podman_cleanup EXIT
    local out rc
    set +e
    out=$(podman_ run --rm "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" sh -c 'echo hello from minirt-oci; exit 3')
    rc=$?
    set -e
    expect_eq "$rc" 3 "podman run exit code"
    expect_eq "$out" "hello from minirt-oci" "podman run output"
    set +e
    podman_ run --rm "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" nosuchprogram 2>"$TESTDIR/err"
    rc=$?
    set -e
    expect_eq "$rc" 127 "podman exit code for a missing program"
    expect_contains "$(cat "$TESTDIR/err")" "executable file not found"
    set +e
    podman_ run --rm "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" /etc/passwd 2>"$TESTDIR/err"
    rc=$?
    set -e
    expect_eq "$rc" 126 "podman exit code for a non-executable"
}

test_podman_detached_exec_stop_rm() {
    engine_setup podman conmon
    trap podman_cleanup EXIT
    local id pid rc out
    id=$(podman_ run -d "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" sh -c 'trap "exit 0" TERM; sleep 1000 & wait')
    [ -n "$id" ] || fail "podman run -d printed no id"
    [ "$(podman_ inspect -f '{{.State.Status}}' "$id")" = running ] || fail "not running"
    pid=$(podman_ inspect -f '{{.State.Pid}}' "$id")
    # podman's runtime state is ours: the container is minirt-oci's.
    [ -f "/run/minirt-oci/$id/state.json" ] || fail "no minirt-oci state for $id"
    set +e
    out=$(podman_ exec "$id" sh -c 'echo in-exec; exit 9')
    rc=$?
    set -e
    expect_eq "$rc" 9 "podman exec exit code"
    expect_eq "$out" in-exec "podman exec output"
    podman_ stop -t 5 "$id" >/dev/null
    [ "$(podman_ inspect -f '{{.State.ExitCode}}' "$id")" = 0 ] || fail "stop: exit code not 0"
    wait_for 30 process_gone "$pid"
    podman_ rm "$id" >/dev/null
    [ ! -e "/run/minirt-oci/$id" ] || fail "minirt-oci state left for $id"
}

# script(1)'s stdin: open but silent for as long as script runs. At EOF on
# /dev/null, script would end the session's input while podman is still
# attaching, and the output of a quick command could be lost with it. A
# FIFO opened for reading and writing (<>) never reaches EOF, since its
# reader is a writer too, and needs no process that would have to outlive
# podman.
quiet_stdin() {
    [ -p "$TESTDIR/quiet" ] || mkfifo "$TESTDIR/quiet"
    echo "$TESTDIR/quiet"
}

test_podman_tty_uses_the_console_socket() {
    engine_setup podman conmon script
    trap podman_cleanup EXIT
    local out quiet
    quiet=$(quiet_stdin)
    out=$(script -qec "podman --root $TESTDIR/podman/root --runroot $TESTDIR/podman/run --tmpdir $TESTDIR/podman/tmp \
        --cgroup-manager cgroupfs --events-backend file --runtime $ENGINE_OCI run --rm -it ${P_OPTS[*]} \
        --rootfs $ENGINE_ROOTFS sh -c 'tty; echo tty-ok'" /dev/null <>"$quiet" | tr -d '\r')
    expect_contains "$out" "/dev/pts/0"
    expect_contains "$out" "tty-ok"
    # exec -it: conmon hands minirt-oci exec a console socket too.
    local id
    id=$(podman_ run -d "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" sleep 1000)
    out=$(script -qec "podman --root $TESTDIR/podman/root --runroot $TESTDIR/podman/run --tmpdir $TESTDIR/podman/tmp \
        --cgroup-manager cgroupfs --events-backend file --runtime $ENGINE_OCI exec -it $id sh -c 'tty; echo exec-tty-ok'" \
        /dev/null <>"$quiet" | tr -d '\r')
    expect_contains "$out" "/dev/pts/"
    expect_contains "$out" "exec-tty-ok"
    podman_ rm -f -t 0 "$id" >/dev/null
}

# containerd with its own root, state and socket under the test directory.
containerd_start() {
    local d=$TESTDIR/containerd
    mkdir -p "$d"
    cat >"$d/config.toml" <<EOF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/sock"
[ttrpc]
  address = "$d/sock.ttrpc"
EOF
    containerd --config "$d/config.toml" >"$d/log" 2>&1 &
    echo $! >"$d/pid"
    wait_for 30 test -S "$d/sock"
}

containerd_stop() {
    local d=$TESTDIR/containerd
    ctr_ task ls -q 2>/dev/null | while read -r t; do ctr_ task kill -s SIGKILL "$t" >/dev/null 2>&1 || true; ctr_ task delete -f "$t" >/dev/null 2>&1 || true; done
    ctr_ container ls -q 2>/dev/null | xargs -r ctr --address "$d/sock" container rm >/dev/null 2>&1 || true
    if [ -f "$d/pid" ]; then
        kill "$(cat "$d/pid")" 2>/dev/null || true
        wait_for 30 process_gone "$(cat "$d/pid")"
    fi
    grep " $d" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rmdir "$(test_cg_parent)" 2>/dev/null || true
}

ctr_() { ctr --address "$TESTDIR/containerd/sock" "$@"; }

test_containerd_ctr_run_with_minirt_oci() {
    engine_setup containerd ctr
    trap containerd_stop EXIT
    containerd_start
    local rc out
    set +e
    out=$(ctr_ run --rm --runc-binary "$ENGINE_OCI" --cgroup "/$MINIRT_CGROUP_PARENT/c1" --rootfs "$ENGINE_ROOTFS" c1 \
        sh -c 'echo from-ctr; exit 4')
    rc=$?
    set -e
    expect_eq "$rc" 4 "ctr run exit code"
    expect_eq "$(tr -d '\r' <<<"$out")" from-ctr "ctr run output"
    ctr_ run -d --runc-binary "$ENGINE_OCI" --cgroup "/$MINIRT_CGROUP_PARENT/c2" --rootfs "$ENGINE_ROOTFS" c2 sleep 1000
    wait_for 30 sh -c "ctr --address '$TESTDIR/containerd/sock' task ls | grep -q 'c2 .*RUNNING'"
    set +e
    out=$(ctr_ task exec --exec-id e1 c2 sh -c 'echo from-exec; exit 6')
    rc=$?
    set -e
    expect_eq "$rc" 6 "ctr task exec exit code"
    expect_eq "$out" from-exec "ctr task exec output"
    ctr_ task pause c2
    wait_for 30 sh -c "ctr --address '$TESTDIR/containerd/sock' task ls | grep -q 'c2 .*PAUSED'"
    ctr_ task resume c2
    ctr_ task kill -s SIGKILL c2
    wait_for 30 sh -c "ctr --address '$TESTDIR/containerd/sock' task ls | grep -q 'c2 .*STOPPED'"
    ctr_ task delete c2 >/dev/null
    ctr_ container rm c2
    [ ! -d "$(test_cg_parent)/c2" ] || fail "cgroup of c2 left behind"
}
