# shellcheck shell=bash
# minirt oci reads a config.json as runc does where the runtime spec leaves
# room, and where it is explicit, as the spec says. Each test here is a gap
# an outside suite found (runtime-tools' validation, another runtime's own
# tests, Docker), reproduced first.

# shellcheck source=test/integration/oci_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/oci_lib.sh"

# run_bundle NAME: create, start and wait for NAME's process to end; its
# output is then in $TESTDIR/container.out.
run_bundle() {
    : >"$TESTDIR/container.out"
    oci_bg_ok create --bundle "$TESTDIR/$1" "$1"
    oci_ok start "$1"
    wait_for 30 is_stopped "$1"
}
container_out() { cat "$TESTDIR/container.out"; }
# create_refused NAME: create must fail (its error in $ERR); one that
# succeeds is deleted before the test fails, so no init is left waiting.
create_refused() {
    oci_bg create --bundle "$TESTDIR/$1" "$1"
    [ "$RC" != 0 ] || { oci delete --force "$1"; fail "create $1 was accepted"; }
}

test_oci_docker_zero_values_mean_not_set() {
    # What Docker 20.10 writes for a container run without limits.
    bundle d1 '.process.args = ["echo", "ran"] | .linux.resources += {
        memory: {limit: 0, reservation: 0, swap: 0, kernel: 0, kernelTCP: 0, disableOOMKiller: false},
        cpu: {shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0, cpus: "", mems: ""},
        pids: {limit: 0},
        blockIO: {weight: 0, leafWeight: 0}}'
    run_bundle d1
    expect_eq "$(container_out)" ran "output"
    oci_ok delete d1
    expect_no_trace d1
}

test_oci_sysctls_of_the_hosts_namespaces_are_refused() {
    local before
    before=$(cat /proc/sys/fs/mqueue/queues_max)
    bundle s1 '.process.args = ["true"] | .linux.namespaces |= map(select(.type != "ipc"))
        | .linux.sysctl = {"fs.mqueue.queues_max": "1"}'
    create_refused s1
    expect_contains "$ERR" "linux.sysctl.fs.mqueue.queues_max: is not allowed in the host's ipc namespace"
    expect_eq "$(cat /proc/sys/fs/mqueue/queues_max)" "$before" "the host's fs.mqueue.queues_max"
    expect_no_trace s1
    bundle s2 '.process.args = ["true"] | .linux.namespaces |= map(select(.type != "network"))
        | .linux.sysctl = {"net.ipv4.ping_group_range": "0 0"}'
    create_refused s2
    expect_contains "$ERR" "is not allowed in the host's network namespace"
    expect_no_trace s2
    bundle s3 '.process.args = ["true"] | .linux.sysctl = {"kernel.hostname": "x"}'
    create_refused s3
    expect_contains "$ERR" "conflicts with the \"hostname\" field"
    expect_no_trace s3
    # In namespaces of its own, they are written there.
    bundle s4 '.process.args = ["cat", "/proc/sys/fs/mqueue/queues_max", "/proc/sys/kernel/domainname"]
        | .linux.sysctl = {"fs.mqueue.queues_max": "7", "kernel.domainname": "example.test"}'
    run_bundle s4
    expect_eq "$(container_out | tr '\n' ' ')" "7 example.test " "the container's sysctls"
    expect_eq "$(cat /proc/sys/fs/mqueue/queues_max)" "$before" "the host's fs.mqueue.queues_max"
    oci_ok delete s4
}

test_oci_preserve_fds_the_caller_left_closed_do_not_hang_start() {
    bundle p1 '.process.args = ["sh", "-c", "ls /proc/self/fd/3 /proc/self/fd/4 2>&1 | grep -c \"No such file\""]'
    # fds 3 and 4 closed: create's own descriptors must not land there (its
    # lock on the state directory would block start and delete forever).
    set +e
    "$MINIRT" oci --root "$OCI_ROOT" create --bundle "$TESTDIR/p1" --preserve-fds 2 p1 \
        3>&- 4>&- >"$TESTDIR/container.out" 2>"$TESTDIR/oci.err"
    local rc=$?
    set -e
    [ "$rc" = 0 ] || fail "create --preserve-fds 2: $(cat "$TESTDIR/oci.err")"
    timeout 60 "$MINIRT" oci --root "$OCI_ROOT" start p1 || fail "start hung or failed"
    wait_for 30 is_stopped p1
    expect_eq "$(container_out)" 2 "fds 3 and 4 in the container (closed, as the caller left them)"
    timeout 60 "$MINIRT" oci --root "$OCI_ROOT" delete --force p1 || fail "delete hung or failed"
    expect_no_trace p1
}

test_oci_a_fifo_at_a_mount_destination_is_covered_not_opened() {
    mkdir -p "$TESTDIR/data"
    mkfifo "$TESTDIR/data/pipe"
    echo covered >"$TESTDIR/file"
    bundle m1 ".process.args = [\"cat\", \"/data/pipe\"] | .mounts += [
        {destination: \"/data\", type: \"bind\", source: \"$TESTDIR/data\", options: [\"rbind\"]},
        {destination: \"/data/pipe\", type: \"bind\", source: \"$TESTDIR/file\", options: [\"bind\", \"ro\"]}]"
    # (A guard: the bug this reproduces blocked create forever.)
    timeout 120 "$MINIRT" oci --root "$OCI_ROOT" create --bundle "$TESTDIR/m1" m1 >"$TESTDIR/container.out" 2>"$TESTDIR/oci.err" ||
        fail "create with a fifo at a mount destination: $(cat "$TESTDIR/oci.err")"
    oci_ok start m1
    wait_for 30 is_stopped m1
    expect_eq "$(container_out)" covered "the file bound over the fifo"
    oci_ok delete m1
    expect_no_trace m1
}

test_oci_state_during_create_is_creating() {
    mkfifo "$TESTDIR/release"
    bundle c1 ".process.args = [\"true\"] | .hooks.prestart = [{path: \"/bin/sh\",
        args: [\"sh\", \"-c\", \"touch $TESTDIR/in-hook; read x < $TESTDIR/release\"]}]"
    "$MINIRT" oci --root "$OCI_ROOT" create --bundle "$TESTDIR/c1" c1 >/dev/null 2>"$TESTDIR/oci.err" &
    local create=$!
    wait_for 30 test -e "$TESTDIR/in-hook"
    expect_eq "$(state_of c1)" creating "status while create runs its hooks"
    echo go >"$TESTDIR/release"
    wait "$create" || fail "create failed: $(cat "$TESTDIR/oci.err")"
    expect_eq "$(state_of c1)" created "status after create"
    oci_ok delete --force c1
    expect_no_trace c1
}

test_oci_home_comes_from_passwd_and_a_missing_cwd_is_made() {
    bundle h1 '.root.readonly = true | .process.env = ["PATH=/bin"] | .process.cwd = "/made/here"
        | .process.args = ["sh", "-c", "echo $HOME $(pwd)"]'
    run_bundle h1
    expect_eq "$(container_out)" "/root /made/here" "HOME and cwd of root under a read-only root"
    oci_ok delete h1
    bundle h2 '.process.env = ["PATH=/bin"] | .process.user = {uid: 4242, gid: 4242}
        | .process.args = ["sh", "-c", "echo $HOME"]'
    run_bundle h2
    expect_eq "$(container_out)" "/" "HOME of a user passwd does not name"
    oci_ok delete h2
    bundle h3 '.process.env = ["PATH=/bin", "HOME=/given"] | .process.args = ["sh", "-c", "echo $HOME"]'
    run_bundle h3
    expect_eq "$(container_out)" "/given" "a HOME the config gives"
    oci_ok delete h3
}

test_oci_exec_process_leads_its_own_process_group() {
    bundle e1 '.process.args = ["sleep", "100"]'
    oci_bg_ok create --bundle "$TESTDIR/e1" e1
    oci_ok start e1
    # /proc/self/stat: pid (comm) state ppid pgrp ...; read by the shell itself.
    oci_ok exec e1 sh -c 'read -r pid comm state ppid pgrp rest </proc/self/stat; echo "$pid $pgrp $HOME"'
    local pid pgrp home
    read -r pid pgrp home <<<"$OUT"
    [ "$pgrp" != 0 ] || fail "getpgrp() is 0 in an exec'd process"
    expect_eq "$pgrp" "$pid" "the exec'd process's group"
    expect_eq "$home" /root "HOME of an exec'd process"
    oci_ok delete --force e1
    expect_no_trace e1
}

test_oci_hooks_of_every_stage_and_failures_after_start_go_on() {
    local log=$TESTDIR/hooks.log
    # No env: the hook runs with the runtime's environment (its PATH).
    cat >"$TESTDIR/hook.sh" <<EOF
#!/bin/sh
echo "\$1 \$(printenv PATH) \$(hostname)" >> "$log"
EOF
    chmod +x "$TESTDIR/hook.sh"
    local h=$TESTDIR/hook.sh
    bundle k1 ".process.args = [\"cat\", \"/started-by-hook\"] | .hostname = \"ctr-k1\" | .hooks = {
        createContainer: [{path: \"$h\", args: [\"hook\", \"createContainer\"]}],
        startContainer: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"echo from-startContainer > /started-by-hook\"]}],
        poststart: [{path: \"/bin/false\"}, {path: \"$h\", args: [\"hook\", \"poststart\"]}],
        poststop: [{path: \"/bin/false\"}, {path: \"$h\", args: [\"hook\", \"poststop\"]}]}"
    oci_bg_ok create --bundle "$TESTDIR/k1" k1
    # createContainer: the host's files, the container's namespaces.
    expect_eq "$(cat "$log")" "createContainer $PATH ctr-k1" "createContainer hook"
    oci_ok start k1
    expect_contains "$ERR" "poststart hook /bin/false failed"
    wait_for 30 is_stopped k1
    expect_eq "$(container_out)" from-startContainer "what the startContainer hook wrote inside the container"
    oci_ok delete k1
    expect_contains "$ERR" "poststop hook /bin/false failed"
    expect_eq "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "createContainer poststart poststop " "hooks run"
    expect_no_trace k1
}

test_oci_mount_destinations_resolve_inside_the_root() {
    bundle r1 '.process.args = ["sh", "-c", "grep -c \" /target tmpfs \" /proc/mounts; stat -c %a /kept /kept-ro"]
        | .mounts += [{destination: "/link", type: "tmpfs", source: "tmpfs"},
                      {destination: "/kept", type: "tmpfs", source: "tmpfs"},
                      {destination: "/kept-ro", type: "tmpfs", source: "tmpfs", options: ["ro"]}]'
    # An absolute symlink means the container's /target, never the host's.
    ln -s /target "$TESTDIR/r1/rootfs/link"
    mkdir -m 0710 "$TESTDIR/r1/rootfs/kept" "$TESTDIR/r1/rootfs/kept-ro"
    run_bundle r1
    expect_eq "$(container_out | tr '\n' ' ')" "1 710 710 " "tmpfs through the link; a tmpfs (read-only too) keeps its directory's mode"
    [ ! -e /target ] || fail "the host's /target was made"
    oci_ok delete r1
    expect_no_trace r1
    # proc (and sysfs) never through a symlink of the image's, as runc refuses.
    bundle r2 '.process.args = ["true"]'
    rmdir "$TESTDIR/r2/rootfs/proc"
    ln -s /tmp "$TESTDIR/r2/rootfs/proc"
    create_refused r2
    expect_contains "$ERR" "proc must be mounted on an ordinary directory, not through a symlink"
    expect_no_trace r2
    # Nor does an image's link lead a mount into /proc, over what the init writes there.
    bundle r3 '.process.args = ["true"] | .mounts += [{destination: "/adj", type: "bind", source: "/dev/null", options: ["bind"]}]'
    ln -s /proc/self/oom_score_adj "$TESTDIR/r3/rootfs/adj"
    create_refused r3
    expect_contains "$ERR" "a symlink in the root leads it into /proc"
    expect_no_trace r3
}

test_oci_user_namespace_mapping_the_full_range() {
    bundle u1 '.process.args = ["cat", "/proc/self/uid_map"] | .linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 0, size: 4294967295}]
        | .linux.gidMappings = [{containerID: 0, hostID: 0, size: 4294967295}]'
    run_bundle u1
    expect_eq "$(container_out | awk '{print $1, $2, $3}')" "0 0 4294967295" uid_map
    oci_ok delete u1
}

# /proc/self/status's capability lines, in the order they appear.
caps_line='grep ^Cap /proc/self/status | cut -f2 | xargs'

test_oci_capability_sets_are_set_as_given() {
    # Non-root: what exec leaves is the ambient set (in permitted and
    # inheritable); the bounding set is CHOWN and NET_RAW, inheritable NET_RAW.
    bundle c1 ".process.user = {uid: 1000, gid: 1000} | .process.args = [\"sh\", \"-c\", \"$caps_line\"]
        | .process.capabilities = {bounding: [\"CAP_CHOWN\", \"CAP_NET_RAW\"], effective: [\"CAP_CHOWN\"],
            permitted: [\"CAP_CHOWN\", \"CAP_NET_RAW\"], inheritable: [\"CAP_NET_RAW\"], ambient: [\"CAP_NET_RAW\"]}"
    run_bundle c1
    expect_eq "$(container_out)" "0000000000002000 0000000000002000 0000000000002000 0000000000002001 0000000000002000" \
        "CapInh CapPrm CapEff CapBnd CapAmb"
    oci_ok delete c1
    # Only inheritable ones for a non-root user: set across the user switch.
    bundle c2 ".process.user = {uid: 1000, gid: 1000} | .process.args = [\"sh\", \"-c\", \"$caps_line\"]
        | .process.capabilities = {bounding: [\"CAP_NET_RAW\"], inheritable: [\"CAP_NET_RAW\"]}"
    run_bundle c2
    expect_eq "$(container_out)" "0000000000002000 0000000000000000 0000000000000000 0000000000002000 0000000000000000" \
        "CapInh CapPrm CapEff CapBnd CapAmb with only inheritable"
    oci_ok delete c2
}

test_oci_capability_outside_the_bounding_set_is_refused_native_drops_it() {
    command -v setpriv >/dev/null || skip "no setpriv"
    bundle b1 '.process.args = ["true"] | .process.capabilities.bounding += ["CAP_SYS_MODULE"]'
    set +e
    setpriv --bounding-set=-sys_module "$MINIRT" oci --root "$OCI_ROOT" create --bundle "$TESTDIR/b1" b1 \
        >/dev/null 2>"$TESTDIR/oci.err"
    local rc=$?
    set -e
    [ "$rc" != 0 ] || { oci delete --force b1; fail "a capability outside the bounding set was accepted"; }
    expect_contains "$(cat "$TESTDIR/oci.err")" "CAP_SYS_MODULE is not in this runtime's bounding set"
    expect_no_trace b1
    # minirt's own CLI leaves it out and runs (docs/security.md).
    set +e
    OUT=$(setpriv --bounding-set=-sys_module "$MINIRT" run --rm --network none --cap-add SYS_MODULE busybox \
        sh -c "$caps_line" 2>&1)
    rc=$?
    set -e
    [ "$rc" = 0 ] || fail "native run without SYS_MODULE in the bounding set: $OUT"
    local bnd
    bnd=$(awk '{print $4}' <<<"$OUT")
    (((16#$bnd >> 16) % 2 == 0)) || fail "CAP_SYS_MODULE in the bounding set: $OUT"
}

test_oci_root_propagation_shared_and_unbindable() {
    # A shared mount of the host's with one inside it (as on a systemd
    # host): the container's copy is its peer, and detaching the old root
    # must not unmount the one inside here.
    mkdir -p "$TESTDIR/shr"
    mount -t tmpfs tmpfs "$TESTDIR/shr"
    mount --make-shared "$TESTDIR/shr"
    mkdir "$TESTDIR/shr/in"
    mount -t tmpfs tmpfs "$TESTDIR/shr/in"
    trap 'umount -l "$TESTDIR/shr/in" 2>/dev/null; umount -l "$TESTDIR/shr" 2>/dev/null; remove_cg_parent' EXIT
    local p
    for p in shared rshared unbindable runbindable slave private; do
        bundle "rp-$p" ".process.args = [\"head\", \"-1\", \"/proc/self/mountinfo\"] | .linux.rootfsPropagation = \"$p\""
        run_bundle "rp-$p"
        case $p in
        *shared) expect_contains "$(container_out)" " shared:" "/ with $p" ;;
        *unbindable) expect_contains "$(container_out)" " unbindable " "/ with $p" ;;
        esac
        oci_ok delete "rp-$p"
        expect_no_trace "rp-$p"
        grep -q " $TESTDIR/shr/in " /proc/self/mountinfo || fail "the host's mount in a shared one was unmounted by a $p container"
    done
}

# Whatever a failure leaves mounted below a rootfs in our namespace goes
# before the test's directory is removed.
unmount_rootfs() {
    local m
    awk -v dir="$TESTDIR/$1/rootfs/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" || true; done
}

test_oci_mounts_without_a_mount_namespace_are_made_and_taken_away() {
    trap 'unmount_rootfs n1; remove_cg_parent' EXIT
    # Only filesystems of its own (nothing of the host's is bound in).
    bundle n1 '.process.args = ["sh", "-c", "cat /proc/1/comm; ls /dev/null; sleep 100"]
        | .linux.namespaces |= map(select(.type != "mount")) | .linux.maskedPaths = [] | .linux.readonlyPaths = []
        | .mounts |= map(select(.destination == "/proc" or .destination == "/dev"))'
    # One that was there before, below the rootfs: delete leaves it.
    mkdir -p "$TESTDIR/n1/rootfs/kept"
    mount -t tmpfs tmpfs "$TESTDIR/n1/rootfs/kept"
    oci_bg_ok create --bundle "$TESTDIR/n1" n1
    oci_ok start n1
    wait_for 30 grep -q /dev/null "$TESTDIR/container.out"
    expect_eq "$(container_out | tr '\n' ' ')" "sh /dev/null " "a /proc and /dev of its own"
    # In our mount namespace, as runc makes them.
    grep -q " $TESTDIR/n1/rootfs/proc " /proc/self/mountinfo || fail "no /proc under the rootfs in the host's namespace"
    expect_eq "$(readlink "/proc/$(oci_pid n1)/ns/mnt")" "$(readlink /proc/self/ns/mnt)" "the container's mount namespace"
    oci_ok delete --force n1
    expect_eq "$(awk -v dir="$TESTDIR/n1/rootfs/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo)" \
        "$TESTDIR/n1/rootfs/kept" "mounts under the rootfs after delete (only the one made before)"
    umount "$TESTDIR/n1/rootfs/kept"
    expect_no_trace n1
    # What would change the host's own paths is refused.
    bundle n2 '.process.args = ["true"] | .linux.namespaces |= map(select(.type != "mount"))'
    create_refused n2
    expect_contains "$ERR" "masked and read-only paths need a new mount namespace"
    expect_no_trace n2
    # Its sysctls are written, or refused: never dropped.
    bundle n3 '.process.args = ["true"] | .linux.namespaces |= map(select(.type != "mount")) | .mounts = []
        | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
    create_refused n3
    expect_contains "$ERR" "sysctl net.ipv4.ip_forward (is /proc mounted in the container?)"
    expect_no_trace n3
}

test_oci_list_events_and_update() {
    bundle l1 '.process.args = ["sleep", "100"]'
    bundle l2 '.process.args = ["true"]'
    oci_bg_ok create --bundle "$TESTDIR/l1" l1
    oci_bg_ok create --bundle "$TESTDIR/l2" l2
    oci_ok start l1
    oci_ok list --format json
    expect_eq "$(jq -r 'map(.id + "=" + .status) | join(" ")' <<<"$OUT")" "l1=running l2=created" "list --format json"
    oci_ok list -q
    expect_eq "$OUT" "l1
l2" "list -q"
    oci_ok list
    expect_contains "$OUT" "$TESTDIR/l1" "list's table"
    # events --stats: one JSON object, runc's shape, from the group's files.
    oci_ok events --stats l1
    expect_eq "$(jq -r '[.type, .id, (.data.cpu.usage.total | type)] | join(" ")' <<<"$OUT")" "stats l1 number" "events --stats"
    # events: a line each interval until the container ends.
    "$MINIRT" oci --root "$OCI_ROOT" events --interval 100ms l1 >"$TESTDIR/events.out" &
    local events=$!
    wait_for 30 test -s "$TESTDIR/events.out"
    oci_ok kill l1 KILL
    wait "$events" || fail "events exited non-zero"
    jq -e 'select(.type == "stats" and .id == "l1")' "$TESTDIR/events.out" >/dev/null || fail "events printed no stats"
    # update: what this hybrid host's v2 hierarchy cannot limit is refused,
    # named by its linux.resources field (the VM suite updates for real).
    oci update --memory 100m l1
    [ "$RC" = 125 ] || fail "update --memory on a stopped container exited $RC"
    oci_ok delete l1
    oci_ok delete --force l2
    expect_no_trace l1
    expect_no_trace l2
}

test_oci_update_names_the_field_a_host_cannot_limit() {
    [ ! -e "$(dirname "$(test_cg_parent)")/cgroup.controllers" ] || grep -qw memory "$(dirname "$(test_cg_parent)")/cgroup.controllers" &&
        skip "this host's cgroup v2 hierarchy has the memory controller (the VM suite covers update)"
    bundle u1 '.process.args = ["sleep", "100"]'
    oci_bg_ok create --bundle "$TESTDIR/u1" u1
    oci update --memory 100m u1
    expect_eq "$RC" 125 "update's exit code"
    expect_contains "$ERR" "update: linux.resources.memory.limit needs the cgroup v2 \"memory\" controller"
    oci update --resources - u1 <<<'{"pids": {"limit": 10}}'
    expect_contains "$ERR" "update: linux.resources.pids.limit needs the cgroup v2 \"pids\" controller"
    oci update --l3-cache-schema L3:0=f u1
    expect_contains "$ERR" "Intel RDT"
    oci_ok delete --force u1
    expect_no_trace u1
}

test_oci_spec_rootless_runs() {
    mkdir -p "$TESTDIR/rl"
    cp -a "$MINIRT_STORAGE/images/busybox/rootfs" "$TESTDIR/rl/rootfs"
    "$MINIRT" oci spec --rootless --bundle "$TESTDIR/rl"
    local c=$TESTDIR/rl/config.json
    expect_eq "$(jq -c '[.linux.namespaces[].type | select(. == "network" or . == "user")]' "$c")" '["user"]' "namespaces"
    expect_eq "$(jq -c '.linux.uidMappings' "$c")" "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" uidMappings
    expect_eq "$(jq -r '.mounts[] | select(.destination == "/sys") | .options | join(",")' "$c")" "rbind,nosuid,noexec,nodev,ro" "/sys"
    [ "$(jq '[.mounts[].options // [] | .[] | select(startswith("gid="))] | length' "$c")" = 0 ] || fail "gid= options left"
    jq --arg cg "/$MINIRT_CGROUP_PARENT/rl" '.linux.cgroupsPath = $cg | .process.terminal = false
        | .process.args = ["cat", "/proc/self/uid_map"]' "$c" >"$c.new"
    mv "$c.new" "$c"
    run_bundle rl
    expect_eq "$(container_out | awk '{print $1, $2, $3}')" "0 $(id -u) 1" "the rootless spec's uid_map"
    oci_ok delete rl
    expect_no_trace rl
}

test_oci_personality_and_io_priority() {
    bundle q1 '.process.args = ["sh", "-c", "uname -m; ionice"] | .linux.personality = {domain: "LINUX32"}
        | .process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 3}'
    run_bundle q1
    expect_eq "$(container_out | tr '\n' ' ')" "i686 best-effort: prio 3 " "uname -m and ionice in the container"
    oci_bg_ok create --bundle "$TESTDIR/q1" q2
    oci_ok start q2
    wait_for 30 is_stopped q2
    oci_ok delete q2
    oci_ok delete q1
}

test_oci_apparmor_unconfined_runs_and_a_profile_needs_apparmor() {
    bundle a1 '.process.args = ["true"] | .process.apparmorProfile = "unconfined"'
    run_bundle a1
    oci_ok delete a1
    [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || skip "AppArmor is enabled here"
    bundle a2 '.process.args = ["true"] | .process.apparmorProfile = "docker-default"'
    create_refused a2
    expect_contains "$ERR" "process.apparmorProfile \"docker-default\": AppArmor is not enabled on this host"
    expect_no_trace a2
}
