# shellcheck shell=bash
# Real engines driving minirt-oci: podman (with conmon) through --runtime,
# Docker (dockerd with --add-runtime),
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
    capture podman_ run --rm "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" sh -c 'echo hello from minirt-oci; exit 3'
    expect_eq "$RC" 3 "podman run exit code"
    expect_eq "$OUT" "hello from minirt-oci" "podman run output"
    capture podman_ run --rm "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" nosuchprogram
    expect_eq "$RC" 127 "podman exit code for a missing program"
    expect_contains "$ERR" "executable file not found"
    capture podman_ run --rm "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" /etc/passwd
    expect_eq "$RC" 126 "podman exit code for a non-executable"
}

test_podman_detached_exec_stop_rm() {
    engine_setup podman conmon
    trap podman_cleanup EXIT
    local id pid
    id=$(podman_ run -d "${P_OPTS[@]}" --rootfs "$ENGINE_ROOTFS" sh -c 'trap "exit 0" TERM; sleep 1000 & wait')
    [ -n "$id" ] || fail "podman run -d printed no id"
    [ "$(podman_ inspect -f '{{.State.Status}}' "$id")" = running ] || fail "not running"
    pid=$(podman_ inspect -f '{{.State.Pid}}' "$id")
    # podman's runtime state is ours: the container is minirt-oci's.
    [ -f "/run/minirt-oci/$id/state.json" ] || fail "no minirt-oci state for $id"
    capture podman_ exec "$id" sh -c 'echo in-exec; exit 9'
    expect_eq "$RC" 9 "podman exec exit code"
    expect_eq "$OUT" in-exec "podman exec output"
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
    capture ctr_ run --rm --runc-binary "$ENGINE_OCI" --cgroup "/$MINIRT_CGROUP_PARENT/c1" --rootfs "$ENGINE_ROOTFS" c1 \
        sh -c 'echo from-ctr; exit 4'
    expect_eq "$RC" 4 "ctr run exit code"
    expect_eq "$(tr -d '\r' <<<"$OUT")" from-ctr "ctr run output"
    ctr_ run -d --runc-binary "$ENGINE_OCI" --cgroup "/$MINIRT_CGROUP_PARENT/c2" --rootfs "$ENGINE_ROOTFS" c2 sleep 1000
    wait_for 30 sh -c "ctr --address '$TESTDIR/containerd/sock' task ls | grep -q 'c2 .*RUNNING'"
    capture ctr_ task exec --exec-id e1 c2 sh -c 'echo from-exec; exit 6'
    expect_eq "$RC" 6 "ctr task exec exit code"
    expect_eq "$OUT" from-exec "ctr task exec output"
    ctr_ task pause c2
    wait_for 30 sh -c "ctr --address '$TESTDIR/containerd/sock' task ls | grep -q 'c2 .*PAUSED'"
    ctr_ task resume c2
    ctr_ task kill -s SIGKILL c2
    wait_for 30 sh -c "ctr --address '$TESTDIR/containerd/sock' task ls | grep -q 'c2 .*STOPPED'"
    ctr_ task delete c2 >/dev/null
    ctr_ container rm c2
    [ ! -d "$(test_cg_parent)/c2" ] || fail "cgroup of c2 left behind"
}

# Docker's own daemon (Debian's docker.io) with minirt-oci as its default
# runtime: its data, exec root and socket under the test directory, its
# containers' groups under the test's parent, and the daemon in a network
# namespace of its own, so its bridge, NAT and published ports never touch
# the host's network or firewall. The host's rules are compared after.
DOCKER_DIR=$TESTDIR/docker
dk() { /usr/bin/docker -H "unix://$DOCKER_DIR/sock" "$@"; }
# dk_in_net CMD...: CMD in the daemon's network namespace (its bridge, its ports).
dk_in_net() { nsenter --net="/proc/$(cat "$DOCKER_DIR/pid")/ns/net" "$@"; }

docker_start() {
    engine_setup dockerd /usr/bin/docker containerd nsenter
    mkdir -p "$DOCKER_DIR"
    iptables-save 2>/dev/null | grep -v '^#' >"$DOCKER_DIR/host-rules" || true
    # lo up in the new namespace; then the daemon replaces the shell.
    unshare --net sh -c "ip link set lo up && exec dockerd --data-root '$DOCKER_DIR/data' \
        --exec-root '$DOCKER_DIR/exec' --pidfile '$DOCKER_DIR/pid' -H 'unix://$DOCKER_DIR/sock' \
        --add-runtime minirt='$ENGINE_OCI' --default-runtime minirt --storage-driver vfs \
        --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent '/$MINIRT_CGROUP_PARENT' --bip 10.231.7.1/24" \
        >"$DOCKER_DIR/log" 2>&1 &
    echo $! >"$DOCKER_DIR/daemon"
    wait_for 60 test -S "$DOCKER_DIR/sock"
    wait_for 60 dk version
    tar -C "$ENGINE_ROOTFS" -c . | dk import - busybox:minirt >/dev/null
}

docker_stop() {
    local d=$DOCKER_DIR pid
    if [ -S "$d/sock" ]; then
        dk ps -aq 2>/dev/null | xargs -r /usr/bin/docker -H "unix://$d/sock" rm -f >/dev/null 2>&1 || true
    fi
    if [ -f "$d/daemon" ]; then
        pid=$(cat "$d/daemon")
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    grep " $d" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    find "$(test_cg_parent)" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

docker_rules_unchanged() {
    expect_eq "$(iptables-save 2>/dev/null | grep -v '^#')" "$(cat "$DOCKER_DIR/host-rules")" "the host's firewall rules"
}

test_docker_run_exit_codes_and_confinement() {
    trap docker_stop EXIT
    docker_start
    local out want
    for want in 0 7; do
        capture dk run --rm busybox:minirt sh -c "echo out-$want; exit $want"
        expect_eq "$RC" "$want" "docker run exit code"
        expect_eq "$OUT" "out-$want" "docker run output"
    done
    capture dk run --rm busybox:minirt nosuchprogram
    expect_eq "$RC" 127 "exit code for a missing program"
    capture dk run --rm busybox:minirt /etc/passwd
    expect_eq "$RC" 126 "exit code for a non-executable"
    # -v ro and rw, -e, -w, -u, --read-only, --cap-drop ALL, --init.
    mkdir -p "$TESTDIR/vol"
    echo from-host >"$TESTDIR/vol/in"
    out=$(dk run --rm -v "$TESTDIR/vol:/rw" -v "$TESTDIR/vol:/ro:ro" -e GREETING=hi -w /rw -u 1000:1000 --read-only \
        --cap-drop ALL --init busybox:minirt sh -c 'cat in; echo $GREETING $(pwd) $(id -u):$(id -g);
            touch /ro/x 2>/dev/null || echo ro-refused; touch /etc/x 2>/dev/null || echo root-ro;
            grep CapBnd /proc/self/status | cut -f2; cat /proc/1/comm')
    expect_eq "$out" "from-host
hi /rw 1000:1000
ro-refused
root-ro
0000000000000000
docker-init" "what the container saw"
    dk run --rm -v "$TESTDIR/vol:/rw" busybox:minirt sh -c 'echo from-container > /rw/out'
    expect_eq "$(cat "$TESTDIR/vol/out")" from-container "a file written through -v rw"
    docker_rules_unchanged
}

test_docker_detached_logs_exec_stop_kill_restart_pause() {
    engine_setup script
    trap docker_stop EXIT
    docker_start
    local id out quiet
    id=$(dk run -d busybox:minirt sh -c 'echo started; trap "exit 0" TERM; sleep 1000 & wait')
    wait_for 30 sh -c "/usr/bin/docker -H unix://$DOCKER_DIR/sock logs $id | grep -q started"
    capture dk exec "$id" sh -c 'echo in-exec; exit 9'
    expect_eq "$RC" 9 "docker exec exit code"
    expect_eq "$OUT" in-exec "docker exec output"
    quiet=$(quiet_stdin)
    out=$(script -qec "/usr/bin/docker -H unix://$DOCKER_DIR/sock exec -it $id sh -c 'tty; echo exec-tty-ok'" \
        /dev/null <>"$quiet" | tr -d '\r')
    expect_contains "$out" "/dev/pts/"
    expect_contains "$out" "exec-tty-ok"
    dk pause "$id" >/dev/null
    expect_eq "$(dk inspect -f '{{.State.Status}}' "$id")" paused "after docker pause"
    dk unpause "$id" >/dev/null
    dk stop -t 10 "$id" >/dev/null
    expect_eq "$(dk inspect -f '{{.State.ExitCode}}' "$id")" 0 "exit code after docker stop (its TERM trap)"
    dk restart -t 1 "$id" >/dev/null
    expect_eq "$(dk inspect -f '{{.State.Status}}' "$id")" running "after docker restart"
    dk kill "$id" >/dev/null
    expect_eq "$(dk inspect -f '{{.State.ExitCode}}' "$id")" 137 "exit code after docker kill"
    dk rm "$id" >/dev/null
    local left
    left=$(find "$(test_cg_parent)" -mindepth 1 -type d 2>/dev/null)
    [ -z "$left" ] || fail "groups left under the test's parent: $left"
}

test_docker_bridge_ports_parallel_update_stats() {
    trap docker_stop EXIT
    docker_start
    local id out i pid rc
    id=$(dk run -d -p 8080:80 busybox:minirt sh -c 'mkdir /www; echo page > /www/index.html; httpd -f -p 80 -h /www')
    out=$(dk exec "$id" ip -4 -o addr show eth0)
    expect_contains "$out" "10.231.7." "the container's address on Docker's bridge"
    wait_for 30 dk_in_net wget -q -O "$TESTDIR/page" http://127.0.0.1:8080/
    expect_eq "$(cat "$TESTDIR/page")" page "the page through the published port"
    # 20 parallel starts.
    for i in $(seq 20); do
        dk run --rm busybox:minirt sh -c "exit $((i % 5))" >/dev/null 2>&1 &
        echo $! >>"$TESTDIR/runs"
    done
    i=0
    while read -r pid; do
        i=$((i + 1))
        set +e
        wait "$pid"
        rc=$?
        set -e
        expect_eq "$rc" $((i % 5)) "exit code of parallel run $i"
    done <"$TESTDIR/runs"
    out=$(dk stats --no-stream --format '{{.Name}} {{.PIDs}}' "$id")
    [ -n "$out" ] || fail "docker stats printed nothing"
    # update: this hybrid host's v2 hierarchy has no memory controller, so
    # the runtime refuses it by name and the container runs on (the VM
    # suite, on pure cgroup v2, updates for real).
    if grep -qw memory "$(dirname "$(test_cg_parent)")/cgroup.controllers"; then
        dk update --memory 64m --memory-swap 128m "$id" >/dev/null
        expect_eq "$(cat "$(test_cg_parent)/$(dk inspect -f '{{.Id}}' "$id")/memory.max")" 67108864 "memory.max after docker update"
    else
        capture dk update --memory 64m --memory-swap 128m "$id"
        [ "$RC" != 0 ] || fail "docker update --memory was accepted on a host that cannot limit memory"
        expect_contains "$ERR" "linux.resources.memory.limit needs the cgroup v2 \"memory\" controller"
        expect_eq "$(dk inspect -f '{{.State.Status}}' "$id")" running "after the refused update"
    fi
    dk rm -f "$id" >/dev/null
    docker_rules_unchanged
}
