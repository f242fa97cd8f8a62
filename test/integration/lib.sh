# shellcheck shell=bash
# Helpers for minirt's integration tests. Each test is a function named
# test_*; the runner gives it its own MINIRT_ROOT, MINIRT_STORAGE and cgroup
# parent, so tests never see each other's containers, and checks after each
# one that nothing leaked.

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

# fail MESSAGE: stop the test with a message.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# skip REASON: end the test as skipped, for a prerequisite this host lacks
# (never for a failure). run-all reports "SKIP name: REASON" and counts it
# apart from passes and failures. Call it from the test's own shell, not
# from a subshell or a pipeline, which it would end alone.
skip() {
    echo "SKIP: $*"
    printf '%s\n' "$*" >"$TESTDIR/skip-reason"
    exit 77
}

# capture CMD...: run a command (or a function); output in $OUT, stderr
# in $ERR, status in $RC.
capture() {
    local errf
    errf=$(mktemp)
    set +e
    OUT=$("$@" 2>"$errf")
    RC=$?
    set -e
    ERR=$(cat "$errf")
    rm -f "$errf"
}

# mr ARGS: run minirt, as capture does.
mr() { capture "$MINIRT" "$@"; }

expect_rc() {
    local want=$1
    shift
    mr "$@"
    [ "$RC" = "$want" ] || fail "minirt $* exited $RC, want $want (stdout: $OUT; stderr: $ERR)"
}

expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"; }
expect_ne() { [ "$1" != "$2" ] || fail "${3:-value}: got '$1'"; }
expect_contains() {
    case "$1" in *"$2"*) ;; *) fail "${3:-text} does not contain '$2': $1" ;; esac
}
expect_not_contains() {
    case "$1" in *"$2"*) fail "${3:-text} contains '$2': $1" ;; *) ;; esac
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds. SECONDS is only
# a ceiling against hangs: make it generous (30), as a loaded machine is
# slow; it costs nothing when COMMAND succeeds sooner. Tests wait for
# events this way, never with a bare sleep assumed to be long enough.
wait_for() {
    local secs=$1
    shift
    local deadline=$((SECONDS + secs))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for: $*"
        sleep 0.05
    done
}

# log_has NAME TEXT: the container's log holds TEXT. The handshake of tests
# that act on a container once it is ready: the container prints "ready"
# when it is (a trap installed, a file written) and the test waits for it:
#   wait_for 30 log_has NAME ready
log_has() { "$MINIRT" logs "$1" 2>/dev/null | grep -qF -- "$2"; }

# blocked_in TID CALL: thread TID sleeps inside system call CALL (poll,
# epoll_wait, futex or flock; the numbers of this machine's architecture,
# with the newer variants a C library may call instead). The kernel names
# the call in /proc/TID/syscall only while the thread is blocked in it.
blocked_in() {
    local nr want
    nr=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null) || return 1
    case "$(uname -m):$2" in
        x86_64:poll) want="7 271" ;;
        x86_64:epoll_wait) want="232 281 441" ;;
        x86_64:futex) want="202" ;;
        x86_64:flock) want="73" ;;
        aarch64:poll) want="73" ;;
        aarch64:epoll_wait) want="22 441" ;;
        aarch64:futex) want="98" ;;
        aarch64:flock) want="32" ;;
        *) fail "blocked_in: no system call numbers for $2 on $(uname -m)" ;;
    esac
    [[ " $want " == *" $nr "* ]]
}

# shim_drained SHIM: the shim has logged all the output it has read: its
# event loop sleeps in epoll_wait (so no pipe it watches has data left) and
# its log writer thread, if it has one, waits for work (futex). Once the
# container can write no more (frozen, exited), its log is complete.
shim_drained() {
    local t tid
    for t in /proc/"$1"/task/*; do
        tid=${t##*/}
        if [ "$tid" = "$1" ]; then
            blocked_in "$1/task/$tid" epoll_wait || return 1
        else
            blocked_in "$1/task/$tid" futex || return 1
        fi
    done
}

# status_of NAME: the container's status word from list --format json.
status_of() {
    "$MINIRT" inspect "$1" | jq -r '.[0].status'
}
exit_code_of() {
    "$MINIRT" inspect "$1" | jq -r '.[0].exit_code'
}
json_field() {
    "$MINIRT" inspect "$1" | jq -r ".[0]$2"
}
pid_of() { json_field "$1" .state.pid; }
shim_of() { json_field "$1" .state.shim_pid; }

is_running() { [ "$(status_of "$1")" = running ]; }
is_exited() { [ "$(status_of "$1")" = exited ]; }
is_running_or_exited() { case "$(status_of "$1")" in running | exited) ;; *) return 1 ;; esac; }
process_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# Zombies whose parent is in our process tree (the runner is a subreaper).
zombies() {
    ps -eo pid=,ppid=,stat=,comm= | awk -v p="$REAPER_PID" '$3 ~ /^Z/ && $2 == p'
}

# This test's cgroup parent (the runner gives each test its own).
test_cg_parent() {
    local v2mount
    v2mount=$(cgroup2_mount)
    echo "$v2mount/$MINIRT_CGROUP_PARENT"
}

# Lists a directory's entries except those named in the remaining arguments.
entries_except() {
    local from=$1 e skip out=""
    shift
    for e in "$from"/* "$from"/.[!.]*; do
        [ -e "$e" ] || [ -L "$e" ] || continue
        e=${e##*/}
        for skip in "$@"; do [ "$e" = "$skip" ] && continue 2; done
        out+="$e "
    done
    printf '%s' "$out"
}

# host_mounts_of PATH: the host's mount points at or under PATH (what a
# hostile image must not have reached).
host_mounts_of() { awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo; }

# image_copy STORAGE NAME: a copy of the busybox image as NAME in STORAGE
# (for tests that change an image: hostile symlinks, say); prints its rootfs.
image_copy() {
    local img="$1/images/$2"
    mkdir -p "$img/rootfs"
    cp -a "$MINIRT_STORAGE/images/busybox/rootfs/." "$img/rootfs/"
    sed "s/\"name\": *\"busybox\"/\"name\": \"$2\"/" "$MINIRT_STORAGE/images/busybox/image.json" >"$img/image.json"
    echo "$img/rootfs"
}

# podman_reset FN: removes what a test's podman (the function FN runs it
# with the test's --root) left: its containers, its storage and the mounts
# of it, and the groups its cgroupfs manager made under the test's parent
# in every hierarchy (cgroup v1 ones too, on this hybrid host).
podman_reset() {
    local pm=$1 d
    "$pm" rm -af -t 0 >/dev/null 2>&1 || true
    "$pm" system reset -f >/dev/null 2>&1 || true
    grep " $TESTDIR/podman" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    for d in /sys/fs/cgroup/*/"$MINIRT_CGROUP_PARENT"; do
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
    rmdir "$(test_cg_parent)" 2>/dev/null || true
}

# What assert_clean finds left behind, one complaint per kind (empty: clean).
leftovers() {
    local left
    left=$(entries_except "$MINIRT_STORAGE/containers")
    [ -z "$left" ] || echo "left under $MINIRT_STORAGE/containers: $left"
    left=$(entries_except "$MINIRT_STORAGE/names")
    [ -z "$left" ] || echo "name links left: $left"
    left=$(entries_except "$MINIRT_ROOT" locks exits @seccomp-cache events.log events.log.1)
    [ -z "$left" ] || echo "state dirs left under $MINIRT_ROOT: $left"
    left=$(entries_except "$MINIRT_ROOT/locks" names.lock images.lock volumes.lock networks.lock)
    [ -z "$left" ] || echo "lock files left: $left"
    left=$(find "$(test_cg_parent)" -mindepth 1 -type d 2>/dev/null || true)
    [ -z "$left" ] || echo "cgroups left: ${left//$'\n'/ }"
    return 0
}

# No container, no container dir (nor .trash-*), no state dir, no name link,
# no stray lock file, no cgroup. A --rm container is unlisted before its
# exit is reported and its shim deletes the rest right after: that gets up
# to 30 s here (a loaded machine), and anything still left then is a leak.
assert_clean() {
    local left _
    mr list -q --no-trunc
    expect_eq "$RC" 0 "list rc"
    [ -z "$OUT" ] || fail "containers remain: $OUT"
    for _ in $(seq 300); do
        left=$(leftovers)
        [ -n "$left" ] || return 0
        sleep 0.1
    done
    fail "$left"
}

# --- layered images (t_images_layered.sh, t_podman_side.sh) ---

need_image_tools() {
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    command -v umoci >/dev/null || skip "umoci is not installed"
}

# fixture DIR: an OCI layout DIR:v1 of three layers (busybox with
# /data/gone.txt, /opq/old.txt and a user; then gone.txt deleted, which
# umoci writes as a whiteout; then /opq made opaque with a fresh file) and
# a config saying entrypoint, cmd, env, workdir and a user by name.
fixture() {
    local layout=$1 b=$TESTDIR/fixture-bundle t=$TESTDIR/opaque
    umoci init --layout "$layout"
    umoci new --image "$layout:v1"
    umoci unpack --image "$layout:v1" "$b" >/dev/null
    cp -a "$MINIRT_STORAGE/images/busybox/rootfs/." "$b/rootfs/"
    mkdir -p "$b/rootfs/data/keep" "$b/rootfs/opq" "$b/rootfs/etc"
    echo gone >"$b/rootfs/data/gone.txt"
    echo old >"$b/rootfs/opq/old.txt"
    echo 'app:x:1234:4321::/data:/bin/sh' >>"$b/rootfs/etc/passwd"
    echo 'grp:x:4321:' >>"$b/rootfs/etc/group"
    umoci repack --refresh-bundle --image "$layout:v1" "$b"
    rm "$b/rootfs/data/gone.txt"
    echo new >"$b/rootfs/data/new.txt"
    umoci repack --refresh-bundle --image "$layout:v1" "$b"
    mkdir -p "$t/opq"
    echo fresh >"$t/opq/fresh.txt"
    : >"$t/opq/.wh..wh..opq"
    tar -C "$t" -cf "$TESTDIR/opaque.tar" opq
    umoci raw add-layer --image "$layout:v1" "$TESTDIR/opaque.tar"
    umoci config --image "$layout:v1" --config.entrypoint /bin/sh --config.entrypoint -c \
        --config.cmd 'echo cmd-ran; id -u; id -g; pwd; echo $FOO' --config.env FOO=bar \
        --config.workingdir /data --config.user app --config.volume /opq --config.stopsignal SIGUSR1 \
        --config.label team=images --config.label tier=base
    expect_eq "$(umoci stat --image "$layout:v1" --json | jq '[.history[] | select(.empty_layer | not)] | length')" 3 \
        "the fixture's layers"
}

# start_registry: Debian's docker-registry on 127.0.0.1:$REGISTRY_PORT,
# stopped when the test's shell exits.
start_registry() {
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    REGISTRY_PORT=$((20000 + RANDOM % 20000))
    mkdir -p "$TESTDIR/registry"
    cat >"$TESTDIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TESTDIR/registry/data
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
    docker-registry serve "$TESTDIR/registry/config.yml" >"$TESTDIR/registry/log" 2>&1 &
    # shellcheck disable=SC2064
    trap "kill $! 2>/dev/null || true" EXIT
    wait_for 30 curl -fs "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null
}
