# shellcheck shell=bash
# minirt oci: the runc-compatible runtime command line, driven directly the
# way conmon and containerd's shim drive it.

# shellcheck source=test/integration/oci_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/oci_lib.sh"
here_tools=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)

test_oci_lifecycle_create_waits_for_start() {
    bundle c1 '.process.args = ["sh", "-c", "touch /started; echo out; sleep 100"]'
    oci_bg_ok create --bundle "$TESTDIR/c1" --pid-file "$TESTDIR/c1.pid" c1
    expect_eq "$(state_of c1)" created "status after create"
    local pid
    pid=$(cat "$TESTDIR/c1.pid")
    expect_eq "$(oci_pid c1)" "$pid" "state pid vs --pid-file"
    kill -0 "$pid" || fail "init $pid is not alive"
    # The init waits for start in poll() on exec.fifo, before it execs the
    # process: once it sleeps there, nothing has run and nothing will.
    wait_for 30 blocked_in "$pid" poll
    expect_contains "$(ls -l "/proc/$pid/fd")" "$OCI_ROOT/c1/exec.fifo" "the init's open files"
    [ ! -e "$TESTDIR/c1/rootfs/started" ] || fail "the process ran before start"
    oci_ok state c1
    expect_eq "$(jq -r .ociVersion <<<"$OUT")" 1.0.2 ociVersion
    expect_eq "$(jq -r .bundle <<<"$OUT")" "$TESTDIR/c1" bundle
    [ -d "$(cg_path c1)" ] || fail "no cgroup at $(cg_path c1)"
    grep -qx "$pid" "$(cg_path c1)/cgroup.procs" || fail "init not in its cgroup"
    oci_ok start c1
    wait_for 30 test -e "$TESTDIR/c1/rootfs/started"
    expect_eq "$(state_of c1)" running "status after start"
    oci start c1
    [ "$RC" != 0 ] || fail "a second start succeeded"
    expect_contains "$ERR" "not created"
    oci delete c1
    [ "$RC" != 0 ] || fail "delete of a running container without --force succeeded"
    expect_contains "$ERR" "not stopped"
    oci_ok kill c1 9
    wait_for 30 is_stopped c1
    expect_eq "$(oci_pid c1)" 0 "pid of a stopped container"
    oci_ok delete c1
    expect_no_trace c1
}

test_oci_delete_force_and_missing() {
    bundle d1 '.process.args = ["sleep", "100"]'
    oci_bg_ok create --bundle "$TESTDIR/d1" d1
    oci_ok start d1
    oci_ok delete --force d1
    expect_no_trace d1
    oci delete d1
    expect_eq "$RC" 125 "delete of a missing container"
    expect_contains "$ERR" 'container "d1" does not exist'
    oci_ok delete --force d1
    # A created (never started) container is deleted without --force.
    bundle d2 '.process.args = ["true"]'
    oci_bg_ok create --bundle "$TESTDIR/d2" d2
    local pid
    pid=$(oci_pid d2)
    oci_ok delete d2
    wait_for 30 process_gone "$pid"
    expect_no_trace d2
    # A stopped one too, and --force on it succeeds (podman relies on it).
    bundle d3 '.process.args = ["true"]'
    oci_bg_ok create --bundle "$TESTDIR/d3" d3
    oci_ok start d3
    wait_for 30 is_stopped d3
    oci_ok delete --force d3
    expect_no_trace d3
}

test_oci_missing_or_unexecutable_command_fails_at_create() {
    bundle m1 '.process.args = ["nosuchprogram"]'
    oci_bg create --bundle "$TESTDIR/m1" m1
    expect_eq "$RC" 127 "exit code for a missing executable"
    expect_contains "$ERR" 'exec: "nosuchprogram": executable file not found in $PATH'
    expect_no_trace m1
    bundle m2 '.process.args = ["/etc/passwd"]'
    oci_bg create --bundle "$TESTDIR/m2" m2
    expect_eq "$RC" 126 "exit code for a non-executable file"
    expect_contains "$ERR" "permission denied"
    expect_no_trace m2
    bundle m3 '.process.args = ["/no/such/file"]'
    oci_bg create --bundle "$TESTDIR/m3" m3
    expect_eq "$RC" 127 "exit code for a missing path"
    expect_contains "$ERR" "no such file or directory"
    expect_no_trace m3
}

test_oci_invalid_config_is_refused_and_unknown_fields_ignored() {
    bundle b1 '.process.args = "sh"'
    oci_bg create --bundle "$TESTDIR/b1" b1
    expect_eq "$RC" 125 "exit code"
    expect_contains "$ERR" "config.json: process.args: must be an array of strings"
    expect_no_trace b1
    bundle b2 '.linux.resources.memory.limit = -5'
    oci_bg create --bundle "$TESTDIR/b2" b2
    expect_contains "$ERR" "linux.resources.memory.limit"
    expect_no_trace b2
    bundle b3 '.mounts += [{"destination": "relative", "type": "tmpfs", "source": "tmpfs"}]'
    oci_bg create --bundle "$TESTDIR/b3" b3
    expect_contains "$ERR" "mounts[7].destination: must be an absolute path"
    expect_no_trace b3
    oci_bg create --bundle "$TESTDIR/nowhere" b4
    expect_contains "$ERR" "has no config.json"
    oci_bg create --bundle "$TESTDIR/b1" 'bad/id'
    expect_contains "$ERR" 'invalid container id "bad/id"'
    bundle b5 '.process.args = ["true"] | .somethingNew = {"x": 1} | .linux.futureField = true'
    oci_bg_ok create --bundle "$TESTDIR/b5" b5
    oci_bg create --bundle "$TESTDIR/b5" b5
    expect_contains "$ERR" 'container "b5" already exists'
    oci_ok delete b5
    expect_no_trace b5
    oci --systemd-cgroup state b5
    expect_contains "$ERR" "--systemd-cgroup is not supported"
    # --log gets errors (json for containerd) and, with --debug, each command.
    oci --log "$TESTDIR/oci.log" --log-format json --debug state nosuch
    jq -se 'any(.[]; .level == "debug" and .msg == "minirt-oci state nosuch")' "$TESTDIR/oci.log" >/dev/null ||
        fail "no debug line in --log: $(cat "$TESTDIR/oci.log")"
    jq -se 'any(.[]; .level == "error" and (.msg | contains("does not exist")))' "$TESTDIR/oci.log" >/dev/null ||
        fail "no error line in --log: $(cat "$TESTDIR/oci.log")"
}

test_oci_kill_signals_and_all() {
    bundle k1 '.process.args = ["sh", "-c", "trap \"echo got-term > /term; exit 0\" TERM; touch /ready; sleep 100 & wait"]'
    oci_bg_ok create --bundle "$TESTDIR/k1" k1
    oci_ok start k1
    wait_for 30 test -e "$TESTDIR/k1/rootfs/ready"
    oci_ok kill k1 SIGTERM
    wait_for 30 test -e "$TESTDIR/k1/rootfs/term"
    wait_for 30 is_stopped k1
    oci kill k1 15
    expect_contains "$ERR" "is not running"
    oci_ok delete k1
    bundle k2 '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
    oci_bg_ok create --bundle "$TESTDIR/k2" k2
    oci_ok start k2
    wait_for 30 cg_procs_are k2 3
    oci_ok kill --all k2 KILL
    wait_for 30 cg_procs_are k2 0
    oci kill k2 NOSUCHSIG
    expect_contains "$ERR" "NOSUCHSIG"
    oci_ok delete k2
    expect_no_trace k2
}

test_oci_exec() {
    bundle e1 '.process.args = ["sleep", "100"] | .process.env += ["FROM_SPEC=yes"]'
    oci_bg_ok create --bundle "$TESTDIR/e1" e1
    oci_ok start e1
    oci exec --env X=1 --cwd /tmp e1 sh -c 'echo "$X $FROM_SPEC $(pwd) $(hostname)"; exit 7'
    expect_eq "$RC" 7 "exec exit code"
    expect_eq "$OUT" "1 yes /tmp minirt" "exec output"
    oci exec e1 nosuch
    expect_eq "$RC" 127 "exec of a missing program"
    expect_contains "$ERR" "executable file not found"
    # --process FILE, --detach and --pid-file, as conmon uses them.
    jq -n '{args: ["sh", "-c", "echo detached > /detached; sleep 100"], cwd: "/", env: ["PATH=/bin"],
            user: {uid: 0, gid: 0}}' >"$TESTDIR/process.json"
    oci_bg_ok exec --process "$TESTDIR/process.json" --detach --pid-file "$TESTDIR/exec.pid" e1
    wait_for 30 test -e "$TESTDIR/e1/rootfs/detached"
    local xpid
    xpid=$(cat "$TESTDIR/exec.pid")
    grep -qx "$xpid" "$(cg_path e1)/cgroup.procs" || fail "exec'd process $xpid not in the container's cgroup"
    expect_eq "$(readlink "/proc/$xpid/ns/pid")" "$(readlink "/proc/$(oci_pid e1)/ns/pid")" "pid namespace"
    oci_ok delete --force e1
    wait_for 30 process_gone "$xpid"
    expect_no_trace e1
    bundle e2 '.process.args = ["true"]'
    oci_bg_ok create --bundle "$TESTDIR/e2" e2
    oci_ok start e2
    wait_for 30 is_stopped e2
    oci exec e2 true
    expect_contains "$ERR" "cannot exec in container \"e2\": it is stopped"
    oci_ok delete e2
}

test_oci_pause_resume_ps() {
    bundle p1 '.process.args = ["sleep", "100"]'
    oci_bg_ok create --bundle "$TESTDIR/p1" p1
    oci_ok start p1
    oci_ok pause p1
    expect_eq "$(state_of p1)" paused "status after pause"
    expect_eq "$(cat "$(cg_path p1)/cgroup.freeze")" 1 cgroup.freeze
    oci exec p1 true
    expect_contains "$ERR" "paused"
    oci_ok resume p1
    expect_eq "$(state_of p1)" running "status after resume"
    oci_ok ps --format json p1
    expect_eq "$(jq -c . <<<"$OUT")" "[$(oci_pid p1)]" "ps json"
    oci_ok ps p1
    expect_contains "$OUT" "sleep 100"
    oci_ok delete --force p1
    expect_no_trace p1
}

test_oci_version_features_spec_and_symlink_name() {
    oci_ok --version
    expect_contains "$OUT" "minirt-oci version"
    expect_contains "$OUT" "spec: 1.0.2"
    oci_ok features
    expect_eq "$(jq -r .ociVersionMax <<<"$OUT")" 1.0.2 ociVersionMax
    expect_eq "$(jq -r '.linux.cgroup.v2' <<<"$OUT")" true "features cgroup v2"
    mkdir -p "$TESTDIR/s"
    oci_ok spec --bundle "$TESTDIR/s"
    jq -e '.process.args == ["sh"] and .root.path == "rootfs"' "$TESTDIR/s/config.json" >/dev/null || fail "default spec"
    oci spec --bundle "$TESTDIR/s"
    expect_contains "$ERR" "already exists"
    # Invoked as minirt-oci (how engines are pointed at it), without PATH
    # in the environment (conmon passes only XDG_RUNTIME_DIR).
    ln -s "$MINIRT" "$TESTDIR/minirt-oci"
    bundle n1 '.process.args = ["true"]'
    env -i XDG_RUNTIME_DIR=/run "$TESTDIR/minirt-oci" --root "$OCI_ROOT" create --bundle "$TESTDIR/n1" n1 ||
        fail "create as minirt-oci with an empty environment"
    env -i "$TESTDIR/minirt-oci" --root "$OCI_ROOT" delete n1 || fail "delete as minirt-oci"
    expect_no_trace n1
}

test_oci_hooks_run_with_state_and_a_failing_one_undoes_create() {
    local log=$TESTDIR/hooks.log
    cat >"$TESTDIR/hook.sh" <<EOF
#!/bin/sh
# stdin: the state; \$1: the stage
printf '%s %s\n' "\$1" "\$(cat | tr -d '\n ')" >> "$log"
EOF
    chmod +x "$TESTDIR/hook.sh"
    local h=$TESTDIR/hook.sh
    bundle h1 ".process.args = [\"true\"] | .hooks = {
        prestart: [{path: \"$h\", args: [\"hook\", \"prestart\"]}],
        createRuntime: [{path: \"$h\", args: [\"hook\", \"createRuntime\"]}],
        poststart: [{path: \"$h\", args: [\"hook\", \"poststart\"]}],
        poststop: [{path: \"$h\", args: [\"hook\", \"poststop\"]}]}"
    oci_bg_ok create --bundle "$TESTDIR/h1" h1
    oci_ok start h1
    wait_for 30 is_stopped h1
    oci_ok delete h1
    expect_eq "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "prestart createRuntime poststart poststop " "hook order"
    grep -q '^prestart .*"status":"creating"' "$log" || fail "prestart did not get the creating state: $(cat "$log")"
    grep -q '^poststart .*"status":"running"' "$log" || fail "poststart state: $(cat "$log")"
    grep -q '"id":"h1"' "$log" || fail "hooks did not get the id"
    bundle h2 '.process.args = ["true"] | .hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; echo twice >&2; exit 3"]}]'
    oci_bg create --bundle "$TESTDIR/h2" h2
    expect_contains "$ERR" "prestart hook /bin/sh failed with exit code 3: nope;twice"
    [ "$(wc -l <<<"$ERR")" = 1 ] || fail "a hook's error is not one line: $ERR"
    expect_no_trace h2
    bundle h3 '.process.args = ["true"] | .hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "10"], timeout: 1}]'
    oci_bg create --bundle "$TESTDIR/h3" h3
    expect_contains "$ERR" "did not finish within 1 s"
    expect_no_trace h3
}

test_oci_config_mounts_security_and_limits() {
    mkdir -p "$TESTDIR/shared"
    echo host-data >"$TESTDIR/shared/file"
    bundle x1 ".process.args = [\"sh\", \"-c\", \"sleep 100\"]
        | .hostname = \"oci-host\"
        | .process.user = {uid: 1000, gid: 1000, additionalGids: [44, 55]}
        | .process.rlimits = [{type: \"RLIMIT_NOFILE\", soft: 123, hard: 456}]
        | .process.capabilities = {bounding: [\"CAP_KILL\"], effective: [\"CAP_KILL\"], permitted: [\"CAP_KILL\"]}
        | .process.noNewPrivileges = true
        | .mounts += [{destination: \"/data\", type: \"bind\", source: \"$TESTDIR/shared\", options: [\"rbind\", \"ro\"]},
                      {destination: \"/scratch\", type: \"tmpfs\", source: \"tmpfs\", options: [\"size=1m\"]}]
        | .linux.sysctl = {\"net.ipv4.ip_forward\": \"1\"}
        | .linux.maskedPaths += [\"/etc/masked-dir\"]
        | .root.readonly = true"
    mkdir -p "$TESTDIR/x1/rootfs/etc/masked-dir"
    echo secret >"$TESTDIR/x1/rootfs/etc/masked-dir/s"
    oci_bg_ok create --bundle "$TESTDIR/x1" x1
    oci_ok start x1
    oci_ok exec x1 sh -c 'id -u; id -G; ulimit -n; ulimit -Hn; hostname; cat /data/file;
        grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -s "\t" " ";
        cat /proc/sys/net/ipv4/ip_forward; ls /etc/masked-dir | wc -l; df /scratch | tail -1 | tr -s " " | cut -d" " -f2'
    expect_eq "$OUT" "1000
1000 44 55
123
456
oci-host
host-data
CapEff: 0000000000000000
NoNewPrivs: 1
1
0
1024" "the process's view"
    oci exec x1 sh -c 'echo x > /data/w'
    expect_contains "$ERR" "Read-only file system"
    oci exec --user 0 x1 sh -c 'touch /rootfile'
    expect_contains "$ERR" "Read-only file system"
    oci_ok exec --user 0 x1 sh -c 'grep CapEff /proc/self/status'
    expect_contains "$OUT" "0000000000000020"
    oci_ok delete --force x1
    expect_no_trace x1
}

test_oci_seccomp_and_device_rules() {
    # CAP_MKNOD, so only the device filter stands between it and /dev/mem.
    bundle s1 '.process.args = ["sleep", "100"]
        | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
        | .process.capabilities.permitted += ["CAP_MKNOD"]
        | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
                            syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}
        | .linux.resources.devices = [{allow: false, access: "rwm"}]'
    oci_bg_ok create --bundle "$TESTDIR/s1" s1
    oci_ok start s1
    oci exec s1 mkdir /tmp/d
    expect_contains "$ERR" "Operation not permitted"
    oci_ok exec s1 sh -c 'head -c 4 /dev/zero | wc -c'
    expect_eq "$OUT" 4 "/dev/zero readable (a default device)"
    oci exec s1 sh -c 'mknod /tmp/mem c 1 1 && echo made && head -c 1 /tmp/mem'
    expect_contains "$OUT" made "mknod (allowed: m on every device)"
    [ "$RC" != 0 ] || fail "a container read /dev/mem through a node it made"
    expect_contains "$ERR" "Operation not permitted"
    oci_ok delete --force s1
    expect_no_trace s1
}

test_oci_console_socket_gives_the_container_a_pty() {
    bundle t1 '.process.args = ["sh", "-c", "tty; echo in-tty"] | .process.terminal = true'
    local sock=$TESTDIR/console.sock
    python3 "$here_tools/console_socket.py" "$sock" >"$TESTDIR/console.out" &
    local peer=$!
    wait_for 30 test -S "$sock"
    oci_bg_ok create --bundle "$TESTDIR/t1" --console-socket "$sock" t1
    oci_ok start t1
    wait "$peer" || fail "console peer failed"
    expect_contains "$(cat "$TESTDIR/console.out")" "/dev/pts/0"
    expect_contains "$(cat "$TESTDIR/console.out")" "in-tty"
    oci_ok delete t1
    bundle t2 '.process.args = ["true"] | .process.terminal = true'
    oci_bg create --bundle "$TESTDIR/t2" t2
    expect_contains "$ERR" "--console-socket is required"
    expect_no_trace t2
}

test_oci_joins_a_network_namespace_by_path() {
    local ns=minirt-oci-it-$$
    ip netns add "$ns"
    # Deleted however the test ends: a failed step ends it at once.
    # shellcheck disable=SC2064 # $ns is fixed now
    trap "ip netns del '$ns' 2>/dev/null || true; remove_cg_parent" EXIT
    ip link add "oci-h$$" type veth peer name oci-in-ns netns "$ns"
    bundle j1 ".process.args = [\"cat\", \"/proc/net/dev\"]
        | .linux.namespaces = [.linux.namespaces[] | if .type == \"network\" then .path = \"/run/netns/$ns\" else . end]"
    oci_bg_ok create --bundle "$TESTDIR/j1" j1
    oci_ok start j1
    wait_for 30 is_stopped j1
    oci_ok delete j1
    grep -q oci-in-ns "$TESTDIR/container.out" || fail "the container did not see the namespace's interface"
    expect_no_trace j1
}

# linux.devices: each node made with the spec's mode and owner (a fifo
# too); with a user namespace the host's node bound instead (as runc).
test_oci_linux_devices() {
    local devices='[{path: "/dev/mynull", type: "c", major: 1, minor: 3, fileMode: 416, uid: 1, gid: 2},
                    {path: "/run/sub/fifo", type: "p", fileMode: 384}]'
    bundle d1 ".process.args = [\"sleep\", \"100\"] | .linux.devices = $devices"
    oci_bg_ok create --bundle "$TESTDIR/d1" d1
    local root
    root=/proc/$(oci_pid d1)/root
    expect_eq "$(stat -c '%a %u %g %t:%T %F' "$root/dev/mynull")" "640 1 2 1:3 character special file" "the node"
    expect_eq "$(stat -c '%a %F' "$root/run/sub/fifo")" "600 fifo" "the fifo"
    oci_ok delete --force d1
    bundle d2 ".process.args = [\"sleep\", \"100\"] | .linux.devices = $devices
        | .linux.namespaces += [{type: \"user\"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]"
    oci_bg_ok create --bundle "$TESTDIR/d2" d2
    local pid
    pid=$(oci_pid d2)
    grep -q " /dev/mynull " "/proc/$pid/mountinfo" || fail "/dev/mynull is not a bind mount: $(cat "/proc/$pid/mountinfo")"
    expect_eq "$(stat -c '%t:%T %F' "/proc/$pid/root/dev/mynull")" "1:3 character special file" "the bound node"
    expect_eq "$(stat -c '%u' "/proc/$pid/root/run/sub/fifo")" 200000 "the fifo's owner, container root through the mapping"
    oci_ok delete --force d2
    bundle d3 '.linux.devices = [{path: "/sys/x", type: "c", major: 1, minor: 3}]'
    oci_bg create --bundle "$TESTDIR/d3" d3
    expect_eq "$RC" 125 "exit code"
    expect_contains "$ERR" 'config.json: linux.devices[0].path: "/sys/x" must not be under /proc or /sys'
    expect_no_trace d1
    expect_no_trace d2
    expect_no_trace d3
}

# CDI devices named by cdi.k8s.io/ annotations (as containerd's and
# CRI-O's device plugins name them): their edits are made, once, even when
# the engine made some already; the engine's config.json is left as it was.
test_oci_cdi_annotations() {
    mkdir -p "$TESTDIR/cdi/share"
    echo shared >"$TESTDIR/cdi/share/f"
    cat >"$TESTDIR/cdi/ex.json" <<SPEC
{"cdiVersion": "0.6.0", "kind": "example.com/dev", "containerEdits": {"env": ["EX=1"]},
 "devices": [{"name": "a", "containerEdits": {
    "deviceNodes": [{"path": "/dev/ex-a", "hostPath": "/dev/zero"}],
    "mounts": [{"hostPath": "$TESTDIR/cdi/share", "containerPath": "/opt/ex", "options": ["ro", "bind"]}],
    "hooks": [{"hookName": "prestart", "path": "/bin/sh", "args": ["sh", "-c", "echo hooked >>$TESTDIR/cdi/hooked"]}]}}]}
SPEC
    bundle c1 '.process.args = ["sh", "-c", "head -c 3 /dev/ex-a | wc -c; cat /opt/ex/f; echo $EX"]
        | .annotations["cdi.k8s.io/test"] = "example.com/dev=a"
        | .process.env += ["EX=0"]'
    local before
    before=$(md5sum <"$TESTDIR/c1/config.json")
    oci_bg_ok --cdi-spec-dir "$TESTDIR/cdi" create --bundle "$TESTDIR/c1" c1
    oci_ok start c1
    wait_for 30 is_stopped c1
    expect_eq "$(tail -n 3 "$TESTDIR/container.out")" "3"$'\n'"shared"$'\n'"1" "the container's node, mount and variable"
    expect_eq "$(cat "$TESTDIR/cdi/hooked")" hooked "the prestart hook ran once"
    expect_eq "$(md5sum <"$TESTDIR/c1/config.json")" "$before" "the bundle's config.json"
    oci_ok delete c1
    # Applied by the engine already (the node and the mount): not twice.
    bundle c2 ".process.args = [\"true\"] | .annotations[\"cdi.k8s.io/x\"] = \"example.com/dev=a\"
        | .linux.devices = [{path: \"/dev/ex-a\", type: \"c\", major: 1, minor: 5}]
        | .mounts += [{destination: \"/opt/ex\", type: \"bind\", source: \"$TESTDIR/cdi/share\", options: [\"rbind\", \"ro\"]}]"
    oci_bg_ok --cdi-spec-dir "$TESTDIR/cdi" create --bundle "$TESTDIR/c2" c2
    expect_eq "$(jq '[.mounts[] | select(.destination == "/opt/ex")] | length' "$OCI_ROOT/c2/config.json")" 1 "mounts on /opt/ex"
    expect_eq "$(jq '[.linux.devices[] | select(.path == "/dev/ex-a")] | length' "$OCI_ROOT/c2/config.json")" 1 "nodes"
    oci_ok delete --force c2
    bundle c3 '.annotations["cdi.k8s.io/y"] = "example.com/dev=nope"'
    oci_bg --cdi-spec-dir "$TESTDIR/cdi" create --bundle "$TESTDIR/c3" c3
    expect_eq "$RC" 125 "an unknown device"
    expect_contains "$ERR" 'unknown CDI device "example.com/dev=nope" (example.com/dev has a)'
    # Another node at the device's path; a field of the wrong type where an edit goes.
    bundle c4 '.annotations["cdi.k8s.io/y"] = "example.com/dev=a" | .linux.devices = [{path: "/dev/ex-a", type: "c", major: 1, minor: 3}]'
    oci_bg --cdi-spec-dir "$TESTDIR/cdi" create --bundle "$TESTDIR/c4" c4
    expect_eq "$RC" 125 "another node there"
    expect_contains "$ERR" "CDI device node /dev/ex-a: config.json has another node there"
    bundle c5 '.annotations["cdi.k8s.io/y"] = "example.com/dev=a" | .hooks = []'
    oci_bg --cdi-spec-dir "$TESTDIR/cdi" create --bundle "$TESTDIR/c5" c5
    expect_eq "$RC" 125 "hooks of the wrong type"
    expect_contains "$ERR" "config.json: "
    [ "$(wc -l <<<"$ERR")" = 1 ] || fail "not one line: $ERR"
    expect_no_trace c4
    expect_no_trace c5
    expect_no_trace c1
    expect_no_trace c2
    expect_no_trace c3
}

test_oci_user_namespace_from_mappings() {
    bundle u1 '.process.args = ["sleep", "100"]
        | .linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
    oci_bg_ok create --bundle "$TESTDIR/u1" u1
    oci_ok start u1
    local pid
    pid=$(oci_pid u1)
    expect_eq "$(awk '{print $1, $2, $3}' "/proc/$pid/uid_map")" "0 200000 65536" uid_map
    expect_eq "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" 200000 "host uid of container root"
    oci_ok delete --force u1
    expect_no_trace u1
}

test_oci_killed_create_is_cleaned_by_delete() {
    bundle z1 '.process.args = ["true"] | .hooks.prestart = [{path: "/bin/sleep", args: ["sleep", "30"]}]'
    "$MINIRT" oci --root "$OCI_ROOT" create --bundle "$TESTDIR/z1" z1 &
    local create=$!
    wait_for 30 test -d "$(cg_path z1)"
    wait_for 30 pgrep -P "$create" -x sleep >/dev/null
    local hook
    hook=$(pgrep -P "$create" -x sleep)
    kill -9 "$create"
    wait "$create" 2>/dev/null || true
    kill "$hook"
    # The init saw create go (its socket closed) and exited.
    oci_ok delete z1
    expect_no_trace z1
}

test_oci_preserve_fds_and_no_pivot() {
    bundle f1 '.process.args = ["sh", "-c", "echo through-fd3 >&3; ls -d /bin /etc; [ ! -e /proc/self/fd/4 ] && echo fd4-closed"]'
    set +e
    "$MINIRT" oci --root "$OCI_ROOT" create --bundle "$TESTDIR/f1" --preserve-fds 1 --no-pivot f1 \
        3>"$TESTDIR/fd3.out" 4>"$TESTDIR/fd4.out" >"$TESTDIR/f1.out" 2>"$TESTDIR/f1.err"
    local rc=$?
    set -e
    [ "$rc" = 0 ] || fail "create --preserve-fds 1 --no-pivot: $(cat "$TESTDIR/f1.err")"
    oci_ok start f1
    wait_for 30 is_stopped f1
    expect_eq "$(cat "$TESTDIR/fd3.out")" through-fd3 "what the process wrote to its preserved fd 3"
    expect_eq "$(cat "$TESTDIR/f1.out")" "/bin
/etc
fd4-closed" "root and fds of a --no-pivot container"
    oci_ok delete f1
    expect_no_trace f1
}

# `minirt run` writes its container as an OCI bundle (config.json); runc
# runs that same spec and the command sees the same container. What runc
# cannot take on this hybrid host is removed: the resources (cgroup v2
# files; runc would use v1 here) and the group (the VM suite runs the spec
# whole); runc mounts v1's hierarchies under /sys/fs/cgroup, so that is
# not compared. The overlay is mounted at root.path first, as podman does.
test_native_bundle_runs_under_runc() {
    command -v runc >/dev/null || fail "runc is not installed (test/run installs it)"
    local cmd='hostname; pwd; echo "$FOO"; id; grep -E "^(Seccomp|NoNewPrivs|CapBnd):" /proc/self/status; ls /dev | tr "\n" " "; echo; awk "{print \$5}" /proc/self/mountinfo | grep -v "^/sys/fs/cgroup" | sort | tr "\n" " "'
    # With a device: linux.devices as runc reads them (it makes the node too).
    expect_rc 0 run --name nb --hostname nbhost -e FOO=bar -w /srv --user 1000:1000 --device /dev/null:/dev/mynull \
        busybox sh -c "$cmd"
    local native=$OUT id spec
    id=$(mr inspect nb && jq -r '.[0].id' <<<"$OUT")
    spec=$MINIRT_STORAGE/containers/$id/config.json
    jq -e '.ociVersion and .process.args and .root.path and .linux.seccomp.syscalls' "$spec" >/dev/null ||
        fail "config.json is not the container's OCI spec: $(head -c 300 "$spec")"
    local b=$TESTDIR/nb-runc root
    mkdir -p "$b"
    jq 'del(.linux.resources, .linux.cgroupsPath)' "$spec" >"$b/config.json"
    root=$(jq -r .root.path "$b/config.json")
    local opts
    opts=$(jq -r '.annotations | "lowerdir=\(.["org.minirt.overlay.lowerdir"]),upperdir=\(.["org.minirt.overlay.upperdir"]),workdir=\(.["org.minirt.overlay.workdir"])"' "$b/config.json")
    mount -t overlay overlay -o "$opts" "$root"
    set +e
    runc --root "$TESTDIR/runc" run --bundle "$b" "nb-runc-$$" >"$TESTDIR/runc.out" 2>"$TESTDIR/runc.err" </dev/null
    local rc=$?
    set -e
    umount "$root"
    expect_eq "$rc" 0 "runc run of minirt's bundle ($(cat "$TESTDIR/runc.err"))"
    expect_eq "$(cat "$TESTDIR/runc.out")" "$native" "what the command saw under runc and under minirt"
    expect_contains "$native" "nbhost" "hostname"
    expect_contains "$native" "uid=1000" "user"
    expect_contains "$native" "Seccomp:	2" "seccomp filter"
    expect_rc 0 rm nb
}
