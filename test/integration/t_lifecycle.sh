# shellcheck shell=bash
# The core lifecycle: run, list, logs, stop, start, rm, and what users see.

test_run_foreground_relays_output_and_status() {
    mr run --rm busybox sh -c 'echo out; echo err >&2; exit 7'
    expect_eq "$RC" 7 "exit status"
    expect_eq "$OUT" out "stdout"
    expect_eq "$ERR" err "stderr"
    mr list -q
    expect_eq "$OUT" "" "containers left by --rm"
}

test_run_detached_prints_id_and_runs() {
    mr run -d --name web busybox sleep 30
    expect_eq "$RC" 0
    [[ "$OUT" =~ ^[0-9a-f]{64}$ ]] || fail "not a full id: $OUT"
    local id=$OUT
    expect_eq "$(status_of web)" running
    expect_eq "$(status_of "${id:0:12}")" running "status by id prefix"
    expect_eq "$(status_of "$id")" running "status by full id"
    mr ps
    expect_contains "$OUT" "web"
    expect_contains "$OUT" "${id:0:12}"
    expect_rc 0 stop -t 0 web
    expect_eq "$(status_of web)" exited
    mr ps
    expect_not_contains "$OUT" "web" "ps without -a"
    mr ps -a
    expect_contains "$OUT" "web" "ps -a"
    expect_rc 0 rm web
}

test_namespaces_are_new() {
    mr run --rm --name iso busybox sh -c 'echo pid=$$; hostname; ls /sys/class/net | tr "\n" " "; cat /sys/class/net/lo/operstate'
    expect_eq "$RC" 0
    expect_contains "$OUT" "pid=1" "PID namespace"
    expect_contains "$OUT" "iso" "hostname = name"
    expect_eq "$(echo "$OUT" | sed -n 3p)" "lo unknown" "only loopback, up"
    mr run --rm --hostname box busybox hostname
    expect_eq "$OUT" box
    # IPC: a new namespace unless --share-ipc.
    local host_ipc
    host_ipc=$(readlink /proc/self/ns/ipc)
    mr run --rm busybox readlink /proc/self/ns/ipc
    [ "$OUT" != "$host_ipc" ] || fail "IPC namespace is the host's"
    mr run --rm --share-ipc busybox readlink /proc/self/ns/ipc
    expect_eq "$OUT" "$host_ipc" "--share-ipc"
    mr run --rm --network host busybox readlink /proc/self/ns/net
    expect_eq "$OUT" "$(readlink /proc/self/ns/net)" "--network host"
    mr run --rm busybox readlink /proc/self/ns/uts
    [ "$OUT" != "$(readlink /proc/self/ns/uts)" ] || fail "UTS namespace is the host's"
}

test_rootfs_is_overlay_entered_with_pivot_root() {
    mr run --rm busybox sh -c 'grep " / " /proc/self/mountinfo; ls /; cat /proc/mounts | grep -c " /sys sysfs ro"'
    expect_eq "$RC" 0
    expect_contains "$OUT" "overlay" "root filesystem"
    # The old root is detached: nothing of the host's mounts remains.
    mr run --rm busybox sh -c 'wc -l < /proc/self/mountinfo'
    [ "$OUT" -lt 30 ] || fail "too many mounts visible in the container: $OUT"
    mr run --rm busybox ls /dev
    for d in null zero full random urandom tty ptmx pts shm; do expect_contains "$OUT" "$d" "/dev"; done
    mr run --rm busybox sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && touch /sys/x 2>&1; true'
    expect_contains "$OUT" "4"
    expect_contains "$OUT" "Read-only file system" "/sys read-only"
}

test_writes_go_to_the_container_layer_only() {
    mr run --name w busybox sh -c 'echo data > /etc/written; rm /bin/ls'
    expect_eq "$RC" 0
    [ ! -e "$MINIRT_STORAGE/images/busybox/rootfs/etc/written" ] || fail "wrote into the image"
    [ -e "$MINIRT_STORAGE/images/busybox/rootfs/bin/ls" ] || fail "deleted from the image"
    local id
    id=$(json_field w .id)
    [ -f "$MINIRT_STORAGE/containers/$id/upper/etc/written" ] || fail "no upper layer file"
    expect_rc 0 rm w
}

test_start_keeps_the_writable_layer() {
    expect_rc 0 run --name s busybox sh -c 'echo $((1+$(cat /count 2>/dev/null || echo 0))) > /count; cat /count'
    expect_eq "$OUT" 1
    expect_rc 0 start s
    wait_for 30 is_exited s
    mr logs s
    expect_eq "$(echo "$OUT" | tail -n1)" 2 "second run sees the first run's file"
    expect_rc 0 rm s
}

# A container made by a minirt before the OCI spec has only its own record,
# as config.json: it is listed and inspected as before, and its next start
# moves the record to minirt.json and writes the spec in its place.
test_container_of_an_older_version_is_migrated_at_its_start() {
    expect_rc 0 run --name old --hostname oldhost busybox sh -c 'echo run-$(hostname)'
    local id dir
    id=$(mr inspect old && jq -r '.[0].id' <<<"$OUT")
    dir=$MINIRT_STORAGE/containers/$id
    mv "$dir/minirt.json" "$dir/config.json"
    expect_rc 0 list
    expect_contains "$OUT" old
    expect_rc 0 inspect old
    expect_eq "$(jq -r '.[0].config.hostname' <<<"$OUT")" oldhost "inspect of the old record"
    expect_rc 0 start old
    wait_for 30 is_exited old
    mr logs old
    expect_eq "$(tail -n1 <<<"$OUT")" "run-oldhost" "the migrated container's second run"
    jq -e '.name == "old"' "$dir/minirt.json" >/dev/null || fail "minirt.json is not the old record"
    jq -e '.ociVersion and .hostname == "oldhost"' "$dir/config.json" >/dev/null || fail "config.json is not the spec"
    # Only minirt.json is made durable: a spec a crash left empty is made again.
    : >"$dir/config.json"
    expect_rc 0 start old
    wait_for 30 is_exited old
    mr logs old
    expect_eq "$(tail -n1 <<<"$OUT")" "run-oldhost" "the run after config.json was lost"
    jq -e '.ociVersion' "$dir/config.json" >/dev/null || fail "config.json was not made again"
    expect_rc 0 rm old
}

test_env_workdir_and_default_command() {
    mr run --rm -e FOO=bar -e EMPTY= -w /tmp/new busybox sh -c 'echo $FOO-$EMPTY-$(pwd)-$HOSTNAME-$PATH'
    expect_eq "$RC" 0
    expect_contains "$OUT" "bar--/tmp/new-"
    expect_contains "$OUT" "/usr/bin"
    export MINIRT_FROM_HOST=hostval
    mr run --rm -e MINIRT_FROM_HOST busybox sh -c 'echo $MINIRT_FROM_HOST'
    expect_eq "$OUT" hostval "-e KEY takes the host's value"
    # The image's default command is sh, which exits at once on /dev/null stdin.
    expect_rc 0 run --rm busybox
}

# --env-file (podman's format) and --env-host, in podman's order: image,
# --env-host, --env-file, -e; exec --env-file too.
test_env_file_and_env_host() {
    printf '%s\n' '# a comment' '' 'A=from file' '  B="quoted kept"' 'C=1' 'MINIRT_FROM_HOST' 'MINIRT_UNSET_HERE' \
        'C=2' >"$TESTDIR/env"
    export MINIRT_FROM_HOST=hostval MINIRT_ONLY_HOST=only
    unset MINIRT_UNSET_HERE
    mr run --rm --env-file "$TESTDIR/env" -e C=3 busybox sh -c \
        'echo "$A|$B|$C|$MINIRT_FROM_HOST|${MINIRT_UNSET_HERE-unset}|${MINIRT_ONLY_HOST-absent}"'
    expect_eq "$OUT" 'from file|"quoted kept"|3|hostval|unset|absent' "--env-file then -e"
    mr run --rm --env-host --env-file "$TESTDIR/env" busybox sh -c 'echo "$MINIRT_ONLY_HOST|$C"'
    expect_eq "$OUT" "only|2" "--env-host, under --env-file"
    expect_rc 0 run -d --name envx busybox sleep 1000
    expect_rc 0 exec --env-file "$TESTDIR/env" -e A=flag envx sh -c 'echo "$A|$C"'
    expect_eq "$OUT" "flag|2" "exec --env-file then -e"
    printf 'BAD KEY=1\n' >"$TESTDIR/bad.env"
    expect_rc 125 run --rm --env-file "$TESTDIR/bad.env" busybox true
    expect_contains "$ERR" "bad.env:1" "the error names the line"
    expect_rc 125 run --rm --env-file "$TESTDIR/missing.env" busybox true
    expect_rc 0 rm -f envx
    assert_clean
}

test_logs_keep_order_tail_and_timestamps() {
    expect_rc 0 run --name l busybox sh -c 'for i in 1 2 3 4 5; do echo out$i; sleep 0.02; echo err$i >&2; sleep 0.02; done; printf partial'
    mr logs l
    expect_eq "$(echo "$OUT" | head -n1)" out1
    expect_contains "$ERR" "err5"
    mr logs --tail 2 l
    expect_eq "$OUT" partial "tail: the last 2 records are err5 (on stderr) and the unterminated line"
    expect_eq "$ERR" err5 "tail on stderr"
    local id
    id=$(json_field l .id)
    # Order across streams is kept in the file itself.
    local streams
    streams=$(awk '{print $2}' "$MINIRT_STORAGE/containers/$id/ctr.log" | head -n 4 | tr '\n' ' ')
    expect_eq "$streams" "stdout stderr stdout stderr " "interleaving"
    mr logs --timestamps l
    [[ "$(echo "$OUT" | head -n1)" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ out1$ ]] || fail "timestamps: $OUT"
    mr logs --since 1h l
    expect_contains "$OUT" out1
    mr logs --until 1h l
    expect_eq "$OUT" "" "--until an hour ago"
    mr logs l
    expect_contains "$OUT" partial "unterminated last line"
    expect_rc 0 rm l
}

test_logs_follow_ends_when_container_exits() {
    # The container prints its second line and exits only once the test
    # says so (/go), while logs -f is following it.
    expect_rc 0 run -d --name f busybox sh -c 'echo first; while [ ! -e /go ]; do sleep 0.05; done; echo second'
    "$MINIRT" logs -f f >"$TESTDIR/follow.out" 2>&1 &
    local follower=$! rc=0
    wait_for 30 grep -qx first "$TESTDIR/follow.out"
    kill -0 "$follower" 2>/dev/null || fail "logs -f ended while the container ran: $(cat "$TESTDIR/follow.out")"
    expect_rc 0 exec f touch /go
    # It ends by itself once the container has exited.
    wait_for 30 is_exited f
    wait_for 30 process_gone "$follower"
    wait "$follower" || rc=$?
    expect_eq "$rc" 0 "logs -f status"
    expect_eq "$(tr '\n' ' ' <"$TESTDIR/follow.out")" "first second " "followed output"
    expect_rc 0 rm f
}

test_log_rotates_at_its_size_limit() {
    expect_rc 0 run --name r --log-max-size 64k busybox sh -c 'i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done'
    local id
    id=$(json_field r .id)
    local size
    size=$(stat -c %s "$MINIRT_STORAGE/containers/$id/ctr.log")
    [ "$size" -le 65536 ] || fail "log is $size bytes, over its 64k limit"
    [ -f "$MINIRT_STORAGE/containers/$id/ctr.log.1" ] || fail "no rotated file"
    mr logs r
    expect_eq "$(echo "$OUT" | tail -n1)" line-2999 "newest line kept"
    expect_rc 0 rm r
    expect_rc 125 run --rm --log-max-size 0 busybox true
}

test_stop_records_exit_codes() {
    expect_rc 0 run -d --name trap busybox sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has trap ready
    expect_rc 0 stop trap
    expect_eq "$(exit_code_of trap)" 0 "trapped TERM"
    expect_eq "$(json_field trap .reason)" stopped
    # TERM first, then KILL once -t has passed: the container saw the TERM
    # (and carried on), and died of the KILL.
    expect_rc 0 run -d --name stubborn busybox sh -c 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has stubborn ready
    expect_rc 0 stop -t 1 stubborn
    expect_eq "$(exit_code_of stubborn)" 137 "ignored TERM"
    log_has stubborn got-term || fail "stop sent no SIGTERM before the SIGKILL: $("$MINIRT" logs stubborn)"
    expect_rc 0 rm trap stubborn
}

test_stop_does_not_block_other_containers() {
    expect_rc 0 run -d --name slow busybox sh -c 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.1; done'
    expect_rc 0 run -d --name fast busybox sleep 30
    wait_for 30 log_has slow ready
    # A stop that waits out its -t: slow ignores the TERM.
    "$MINIRT" stop -t 600 slow >/dev/null &
    local stopper=$! rc=0
    wait_for 30 log_has slow got-term
    # While it waits, list and a stop of another container finish: they
    # end before it does (it would end only after 600 s, or when slow dies).
    expect_rc 0 list
    expect_rc 0 stop -t 0 fast
    kill -0 "$stopper" 2>/dev/null || fail "the stop of slow ended before the others (list, stop fast) returned"
    expect_eq "$(status_of slow)" running "slow while its stop waits"
    expect_rc 0 kill -s KILL slow
    wait "$stopper" || rc=$?
    expect_eq "$rc" 0 "stop of slow, killed while it waited"
    expect_rc 0 rm slow fast
}

test_kill_default_is_sigkill_and_takes_signals() {
    expect_rc 0 run -d --name k busybox sleep 30
    expect_rc 0 kill k
    wait_for 30 is_exited k
    expect_eq "$(exit_code_of k)" 137
    expect_eq "$(json_field k .reason)" killed
    expect_rc 0 run -d --name k2 busybox sh -c 'trap "exit 5" USR1; echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has k2 ready
    expect_rc 0 kill -s USR1 k2
    wait_for 30 is_exited k2
    expect_eq "$(exit_code_of k2)" 5
    expect_rc 125 kill -s BOGUS k2
    expect_rc 125 kill k2
    expect_rc 0 rm k k2
}

test_wait_prints_exit_codes() {
    expect_rc 0 run -d --name a busybox sh -c 'sleep 0.5; exit 4'
    expect_rc 0 run -d --name b busybox true
    expect_rc 0 wait a b
    expect_eq "$(echo "$OUT" | tr '\n' ' ')" "4 0 "
    expect_rc 0 rm a b
}

test_restart_runs_again() {
    expect_rc 0 run -d --name rs busybox sleep 30
    local pid1
    pid1=$(pid_of rs)
    expect_rc 0 restart -t 0 rs
    expect_eq "$(status_of rs)" running
    [ "$(pid_of rs)" != "$pid1" ] || fail "same pid after restart"
    expect_rc 0 rm -f rs
}

test_rm_refuses_running_and_force_removes() {
    expect_rc 0 run -d --name busy busybox sleep 30
    local id cg
    id=$(json_field busy .id)
    cg=$(json_field busy .state.cgroup)
    expect_rc 2 rm busy
    expect_contains "$ERR" "running"
    expect_eq "$(status_of busy)" running "refused rm changed nothing"
    expect_rc 0 rm -f busy
    [ ! -e "$MINIRT_STORAGE/containers/$id" ] || fail "container dir left"
    [ ! -e "$MINIRT_ROOT/$id" ] || fail "state dir left"
    [ -z "$cg" ] || [ ! -e "$cg" ] || fail "cgroup $cg left"
    expect_rc 125 inspect busy
}

test_names_and_handles() {
    expect_rc 0 run -d --name dup busybox sleep 30
    expect_rc 125 run -d --name dup busybox sleep 30
    expect_contains "$ERR" "already in use"
    expect_rc 125 status nosuch
    expect_contains "$ERR" "no such container"
    expect_rc 0 rm -f dup
    # The name is free again.
    expect_rc 0 run --rm --name dup busybox true
}

test_list_formats() {
    expect_rc 0 run -d --name j1 busybox sleep 30
    expect_rc 3 run --name j2 busybox sh -c 'exit 3'
    mr list --format json
    expect_eq "$(echo "$OUT" | jq length)" 2
    expect_eq "$(echo "$OUT" | jq -r '.[] | select(.name=="j2") | .exit_code')" 3
    expect_eq "$(echo "$OUT" | jq -r '.[] | select(.name=="j1") | .status')" running
    mr list -q
    expect_eq "$(echo "$OUT" | wc -l)" 2
    mr list
    expect_contains "$(echo "$OUT" | head -n1)" "CONTAINER ID"
    expect_contains "$OUT" "Exited (3)"
    mr status j1
    expect_contains "$OUT" "Status:"
    expect_contains "$OUT" "Up "
    expect_rc 125 list --format '{{.Nope}}'
    # What list shows comes from state.json's copy of the config: the same
    # as inspect's, newest first; ps shows the running one only.
    mr list --format json
    local j1_id row
    j1_id=$(json_field j1 .id)
    row=$(jq -c '.[] | select(.name == "j1") | [.id, .image, .command, .pid > 0, .exit_code, (.started_at | type)]' <<<"$OUT")
    expect_eq "$row" "[\"$j1_id\",\"busybox\",[\"sleep\",\"30\"],true,null,\"string\"]" "list row of j1"
    expect_eq "$(jq -r '.[0].name' <<<"$OUT")" j2 "newest first"
    expect_eq "$(jq -r '.[] | select(.name == "j1") | .created' <<<"$OUT")" "$(json_field j1 .config.created)" "created"
    # A state.json of an older minirt, without that copy: list reads the config.
    local j2_id before
    j2_id=$(json_field j2 .id)
    before=$(jq -c '.[] | select(.name == "j2")' <<<"$OUT")
    mr ps
    expect_contains "$OUT" j1
    [[ $OUT != *j2* ]] || fail "ps lists the exited j2: $OUT"
    jq 'del(.name, .image, .command, .created)' "$MINIRT_ROOT/$j2_id/state.json" >"$MINIRT_ROOT/$j2_id/state.json.old"
    mv "$MINIRT_ROOT/$j2_id/state.json.old" "$MINIRT_ROOT/$j2_id/state.json"
    mr list --format json
    expect_eq "$(jq -c '.[] | select(.name == "j2")' <<<"$OUT")" "$before" "j2 listed from its config"
    expect_rc 0 rm -f j1 j2
}

test_exit_codes_follow_podman() {
    expect_rc 127 run --rm busybox no-such-command
    expect_contains "$ERR" "not found"
    expect_rc 126 run --rm busybox /etc/passwd
    # The container's status is passed through whatever it is.
    expect_rc 137 run --rm busybox sh -c 'sh -c "kill -9 \$\$"; exit $?'
    expect_rc 125 run --rm no-such-image true
    expect_rc 125 run --bogus-flag busybox true
    expect_rc 125 bogus-command
}

test_signals_to_foreground_run_reach_the_container() {
    "$MINIRT" run --name fg busybox sh -c 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.1; done' >"$TESTDIR/fg.out" 2>&1 &
    local cli=$!
    # "ready": the trap is in place. The CLI sleeping in poll(): it has
    # started the container and waits for its exit with the signals it
    # forwards blocked (before that, a SIGTERM would end the CLI itself).
    wait_for 30 grep -qx ready "$TESTDIR/fg.out"
    wait_for 30 blocked_in "$cli/task/$cli" poll
    kill -TERM "$cli"
    local rc=0
    wait "$cli" || rc=$?
    expect_eq "$rc" 9 "CLI exit status"
    expect_contains "$(cat "$TESTDIR/fg.out")" got-term
    expect_rc 0 rm fg
}

test_propagate_mount() {
    local src="$TESTDIR/shared"
    mkdir -p "$src"
    # Refused while the directory cannot propagate (this host's mounts are private).
    if ! grep -q " $src .*shared:" /proc/self/mountinfo; then
        expect_rc 125 run --rm --propagate-mount "$src" busybox true
        expect_contains "$ERR" "shared"
    fi
    mount --bind "$src" "$src"
    mount --make-shared "$src"
    expect_rc 0 run -d --name prop --propagate-mount "$src" busybox sleep 30
    mkdir -p "$src/later"
    mount -t tmpfs tmpfs "$src/later"
    echo visible > "$src/later/file"
    local out
    out=$(nsenter -t "$(pid_of prop)" -m cat "$src/later/file" 2>&1 || true)
    umount "$src/later"
    expect_rc 0 rm -f prop
    umount "$src"
    expect_eq "$out" visible "mount made after the start"
}

test_images_import_list_and_rm() {
    # This test needs its own images directory (the shared one is read-only).
    rm "$MINIRT_STORAGE/images"
    mkdir -p "$TESTDIR/rootfs/bin"
    cp "$(readlink -f "$TESTDIR/../../../var/lib/minirt/images/busybox/rootfs/bin/busybox" 2>/dev/null || echo /bin/busybox)" "$TESTDIR/rootfs/bin/busybox" 2>/dev/null || cp /bin/busybox "$TESTDIR/rootfs/bin/busybox"
    ln -s busybox "$TESTDIR/rootfs/bin/sh"
    ln -s busybox "$TESTDIR/rootfs/bin/echo"
    expect_rc 0 image import --cmd "echo from-dir" "$TESTDIR/rootfs" mini
    tar -C "$TESTDIR/rootfs" -czf "$TESTDIR/mini.tar.gz" .
    expect_rc 0 image import "$TESTDIR/mini.tar.gz" minitar
    mr images
    expect_contains "$OUT" mini
    expect_contains "$OUT" minitar
    expect_rc 0 run --rm mini
    expect_eq "$OUT" from-dir "image default command"
    expect_rc 0 run -d --name user minitar sh -c 'sleep 30'
    expect_rc 2 image rm minitar
    expect_contains "$ERR" "in use"
    expect_rc 0 rm -f user
    expect_rc 0 image rm minitar mini
    mr images -q
    expect_eq "$OUT" ""
    expect_rc 125 image import "$TESTDIR/rootfs" ../evil
    expect_rc 125 image import "$TESTDIR/nonexistent" x
    [ -z "$(ls -A "$MINIRT_STORAGE/images")" ] || fail "failed imports left: $(ls -A "$MINIRT_STORAGE/images")"
}

lc_ready_lines() { [ "$("$MINIRT" logs "$1" | grep -cx ready)" -ge "$2" ]; }

# --stop-timeout is kept with the container: stop and restart without -t
# wait that long (0: SIGKILL at once, exit 137, though the container would
# have exited 3 on SIGTERM); -t still overrides it.
test_stop_timeout_is_stored_with_the_container() {
    expect_rc 0 run -d --name st0 --stop-timeout 0 busybox sh -c "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done"
    wait_for 30 log_has st0 ready
    expect_eq "$(json_field st0 .config.stop_timeout)" 0 "in inspect"
    expect_rc 0 stop st0
    expect_eq "$(exit_code_of st0)" 137 "stop without -t used --stop-timeout 0"
    expect_rc 0 start st0
    wait_for 30 lc_ready_lines st0 2
    expect_rc 0 stop -t 30 st0
    expect_eq "$(exit_code_of st0)" 3 "-t overrides it"
    expect_rc 125 run --stop-timeout -1 busybox true
    expect_contains "$ERR" "invalid --stop-timeout"
    expect_rc 0 rm st0
    assert_clean
}

# create makes the container and stops there; start runs it, detached or
# (-a) attached with its exit code; -i hands it our stdin.
test_create_then_start_attached_or_not() {
    local id
    expect_rc 0 create --name cr busybox sh -c 'echo "hi from cr"; exit 4'
    id=$OUT
    [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "create printed '$id', not an id"
    expect_eq "$(status_of cr)" created
    expect_eq "$("$MINIRT" logs cr)" "" "nothing ran yet"
    expect_rc 4 start -a cr
    expect_eq "$OUT" "hi from cr" "start -a relays the output"
    expect_rc 0 start cr
    expect_eq "$OUT" cr
    expect_rc 0 wait cr
    expect_eq "$OUT" 4 "start: detached, then wait"
    expect_rc 0 create -i --name ci busybox sh -c 'read -r line; echo "got $line"'
    capture sh -c "echo data | \"\$MINIRT\" start -i ci"
    expect_eq "$RC" 0 "start -i"
    expect_eq "$OUT" "got data" "start -i passes stdin"
    expect_rc 125 start -a cr ci
    expect_contains "$ERR" "one container at a time"
    expect_rc 125 create --name bad --restart sometimes busybox true
    expect_rc 125 inspect bad
    expect_rc 0 create --rm --name gone busybox true
    expect_rc 0 start -a gone
    expect_rc 125 inspect gone
    expect_rc 0 rm cr ci
    assert_clean
}

# podman's run flags for the container's kernel settings, labels and
# annotations: --sysctl, --shm-size, --oom-score-adj, --group-add,
# --label-file, --annotation; and what each refuses.
test_podman_run_flags_reach_the_container() {
    printf '# labels\ntier=db\n\nflag\n' >"$TESTDIR/labels"
    mr run --rm --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=100000 --shm-size 1m --oom-score-adj 500 \
        --group-add 10 --group-add tty busybox sh -c \
        'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/self/oom_score_adj; id -G; df -k /dev/shm | awk "NR==2 {print \$2}"'
    expect_eq "$OUT" "1
100000
500
0 5 10
1024" "sysctls, oom_score_adj, groups, /dev/shm's size"
    [ "$(cat /proc/sys/kernel/shmmax)" != 100000 ] || fail "--sysctl kernel.shmmax reached the host"
    expect_rc 0 create --name flags1 --label-file "$TESTDIR/labels" -l tier=web --annotation io.x=y busybox true
    mr inspect -f '{{json .Config.Labels}} {{json .Config.Annotations}}' flags1
    expect_eq "$OUT" '{"flag":"","tier":"web"} {"io.x":"y"}' "--label-file, then --label; --annotation"
    expect_eq "$(jq -r '.annotations["io.x"]' "$MINIRT_STORAGE/containers/$(json_field flags1 .id)/config.json")" y \
        "the annotation in the OCI spec"
    expect_rc 0 rm flags1
    local bad
    for bad in "--sysctl kernel.printk=1" "--sysctl noequals" "--sysctl vm.swappiness=1" "--oom-score-adj 1001" \
               "--shm-size 0" "--group-add nosuchgroup" "--annotation org.minirt.overlay.upperdir=/" \
               "--annotation noequals" "--label-file /nonexistent"; do
        # shellcheck disable=SC2086 # $bad is words
        expect_rc 125 run --rm $bad busybox true
        expect_contains "$ERR" "${bad%% *}" "the error for $bad"
    done
    expect_rc 125 run --rm --network host --sysctl net.ipv4.ip_forward=1 busybox true
    expect_rc 125 run --rm --share-ipc --sysctl kernel.shmmax=1 busybox true
    assert_clean
}

# --init: catatonit is the container's PID 1, the command its child; it
# passes stop's SIGTERM on (a bare `sleep` as PID 1 would ignore it and be
# killed at the timeout: 137).
test_init_runs_catatonit_as_pid_1() {
    command -v catatonit >/dev/null || [ -x /usr/libexec/podman/catatonit ] || skip "catatonit is not installed"
    mr run --rm --init busybox sh -c 'echo $$; tr "\0" " " </proc/1/cmdline'
    expect_eq "$OUT" "2
/run/minirt-init -- sh -c echo \$\$; tr \"\\0\" \" \" </proc/1/cmdline " "PID 1 and the command's PID"
    expect_rc 0 run -d --name init1 --init busybox sleep 1000
    expect_rc 0 stop -t 60 init1
    expect_eq "$(json_field init1 .exit_code)" 143 "SIGTERM passed on to the command"
    mr inspect -f '{{.Config.Cmd}}' init1
    expect_eq "$OUT" "[sleep 1000]" "the command as given"
    expect_rc 0 rm init1
    expect_rc 125 run --rm --init-path /bin/sh busybox true
    expect_rc 125 run --rm --init --init-path /nonexistent busybox true
    assert_clean
}

# --pid, --ipc, --uts host: the host's namespace (and name); private is
# the default; another container's (container:) is refused for now.
test_pid_ipc_uts_modes() {
    mr run --rm --pid host --ipc host --uts host busybox sh -c \
        'echo $$; for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname'
    local lines
    mapfile -t lines <<<"$OUT"
    [ "${lines[0]}" != 1 ] || fail "--pid host: the command is PID 1"
    expect_eq "${lines[1]}" "$(readlink /proc/self/ns/pid)" "--pid host"
    expect_eq "${lines[2]}" "$(readlink /proc/self/ns/ipc)" "--ipc host"
    expect_eq "${lines[3]}" "$(readlink /proc/self/ns/uts)" "--uts host"
    expect_eq "${lines[4]}" "$(hostname)" "--uts host: the host's name"
    mr run --rm --pid private --ipc shareable --uts private --hostname own busybox sh -c \
        'echo $$; readlink /proc/self/ns/ipc; hostname'
    mapfile -t lines <<<"$OUT"
    expect_eq "${lines[0]}" 1 "--pid private"
    [ "${lines[1]}" != "$(readlink /proc/self/ns/ipc)" ] || fail "--ipc shareable is the host's"
    expect_eq "${lines[2]}" own "--uts private with --hostname"
    expect_rc 0 create --name modes --pid host --uts host busybox true
    mr inspect -f '{{.HostConfig.PidMode}} {{.HostConfig.IpcMode}} {{.HostConfig.UTSMode}}' modes
    expect_eq "$OUT" "host shareable host" "inspect's modes"
    expect_rc 0 rm modes
    local bad
    for bad in "--pid container:x" "--ipc container:x" "--uts container:x" "--pid bogus" "--uts host --hostname x" \
               "--ipc private --share-ipc" "--uts host --sysctl kernel.domainname=x" "--ipc host --shm-size 1m"; do
        # shellcheck disable=SC2086 # $bad is words
        expect_rc 125 run --rm $bad busybox true
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "not one line for $bad: $ERR"
    done
    assert_clean
}

# --pid/--ipc/--uts container:NAME join that container's namespaces at
# each start (its /dev/shm too), start a peer that is not running first
# (podman's rule), and keep the peer from being removed first (rm
# --depend removes both).
test_namespaces_of_another_container() {
    expect_rc 0 run -d --name peer --hostname peerhost busybox sh -c 'echo shared >/dev/shm/mark; echo ready; sleep 1000'
    wait_for 30 log_has peer ready
    mr run --rm --pid container:peer --ipc container:peer --uts container:peer busybox sh -c \
        'for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname; cat /dev/shm/mark; if ps -o comm | grep -qx sleep; then echo sees-sleep; fi
         echo back >/dev/shm/reply'
    [ "$RC" = 0 ] || fail "run with the peer's namespaces: $ERR"
    local lines pid n
    mapfile -t lines <<<"$OUT"
    pid=$(pid_of peer)
    for n in 0 1 2; do
        local kind=(pid ipc uts)
        expect_eq "${lines[$n]}" "$(readlink "/proc/$pid/ns/${kind[$n]}")" "--${kind[$n]} container:peer"
    done
    expect_eq "${lines[3]}" peerhost "the peer's hostname"
    expect_eq "${lines[4]}" shared "the peer's /dev/shm"
    expect_eq "${lines[5]}" sees-sleep "processes seen in the peer's PID namespace"
    mr exec peer cat /dev/shm/reply
    expect_eq "$OUT" back "written to the shared /dev/shm"
    # Joined anew at each start: the peer's namespaces of the moment.
    expect_rc 0 create --name joiner --pid container:peer busybox sh -c 'echo $$'
    expect_rc 0 start -a joiner
    [ "$OUT" != 1 ] || fail "--pid container: the command is PID 1 of its own namespace"
    mr inspect -f '{{.HostConfig.PidMode}}' joiner
    expect_eq "$OUT" "container:$(json_field peer .id)" "inspect's PidMode"
    expect_rc 125 rm -f peer
    expect_contains "$ERR" "dependent containers" "rm of a container another joins"
    expect_eq "$(status_of peer)" running "the refused rm -f left the peer"
    # podman's: a stopped peer is started first.
    expect_rc 0 stop -t 0 peer
    expect_rc 0 start joiner
    expect_eq "$(status_of peer)" running "the peer, started by the joiner's start"
    expect_rc 0 stop -t 0 peer
    expect_rc 0 run --rm --uts container:peer busybox hostname
    expect_eq "$OUT" peerhost "run beside a stopped peer starts it"
    expect_rc 0 stop -t 0 peer
    expect_rc 0 create --name badpeer busybox /no/such/command
    expect_rc 125 run --rm --name orphan --pid container:badpeer busybox true
    expect_contains "$ERR" "whose namespaces this one joins" "a peer that cannot start"
    expect_rc 125 inspect orphan
    expect_rc 0 rm -f badpeer
    expect_rc 0 rm --depend peer
    expect_rc 0 ps -a --format '{{.Names}}'
    expect_eq "$OUT" "" "rm --depend removed the dependent"
    # Removals of many take the joiners first, whatever the listing's order.
    local i
    for i in 1 2 3; do
        expect_rc 0 create --name "p$i" busybox true
        expect_rc 0 create --name "j$i" --pid "container:p$i" busybox true
    done
    expect_rc 0 rm p1 j1 p2 j2
    expect_rc 0 container prune -f
    expect_rc 0 ps -a -q
    expect_eq "$OUT" "" "rm of both and prune"
    # A peer whose /dev/shm is a symlink (to the host's, through /proc):
    # never followed.
    expect_rc 0 run -d --privileged --name bent busybox sh -c \
        'umount /dev/shm && rmdir /dev/shm && ln -s /proc/self/root/tmp /dev/shm && echo ready; sleep 1000'
    wait_for 30 log_has bent ready
    expect_rc 125 run --rm --ipc container:bent busybox true
    expect_contains "$ERR" "--ipc container:" "a symlinked /dev/shm"
    expect_rc 0 rm -f bent
    assert_clean
}

# --log-level: debug tells the command and what it starts, info the
# containers' starts and stops, error silences warnings; the default
# (warn) adds nothing to a plain run.
test_global_log_level() {
    expect_rc 0 run --rm --network none busybox true
    expect_eq "$ERR" "" "stderr of a plain run"
    expect_rc 0 --log-level debug run --rm --network none --name logged busybox true
    expect_contains "$ERR" 'minirt: debug: command: ["run","--rm","--network","none","--name","logged","busybox","true"]' "debug"
    expect_contains "$ERR" "minirt: info: container " "debug"
    expect_contains "$ERR" " started: its command is process " "debug"
    expect_rc 0 --log-level=info run -d --network none --name quiet busybox sleep 1000
    expect_not_contains "$ERR" "debug:" "info"
    expect_contains "$ERR" "started" "info"
    expect_rc 0 --log-level info stop -t 0 quiet
    expect_contains "$ERR" "stopped" "info of stop"
    expect_rc 0 --log-level warn rm quiet
    expect_eq "$ERR" "" "warn: no info lines"
    expect_rc 0 run --rm --network none --cap-add SYS_ADMIN busybox true
    expect_contains "$ERR" "minirt: warning: CAP_SYS_ADMIN" "the default level's warning"
    expect_rc 0 --log-level error run --rm --network none --cap-add SYS_ADMIN busybox true
    expect_eq "$ERR" "" "--log-level error: no warnings"
    expect_rc 0 --log-level debug ps -a --filter name=$'\xff' -q
    expect_contains "$ERR" 'minirt: debug: command: ["ps","-a","--filter","name=' "debug of an argument that is not UTF-8"
    expect_rc 125 --log-level loud run --rm busybox true
    expect_eq "$ERR" 'minirt: invalid --log-level "loud": use trace, debug, info, warn, error, fatal or panic' "a bad level"
    expect_rc 0 ps -a -q
    expect_eq "$OUT" "" "containers after the refused run"
    assert_clean
}

# completion bash|zsh: the script completes commands, subcommands, each
# command's flags (from its --help) and the names of containers, images,
# volumes and networks (asked of minirt while completing).
test_shell_completion() {
    expect_rc 0 run -d --name comp1 busybox sleep 1000
    expect_rc 0 volume create compvol
    mr completion bash
    printf '%s\n' "$OUT" >"$TESTDIR/minirt.bash"
    # complete WORDS...: what the script offers for the last word.
    complete_words() {
        bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _minirt; printf "%s\n" "${COMPREPLY[@]}"' \
            _ "$TESTDIR/minirt.bash" "$MINIRT" "$@"
    }
    expect_eq "$(complete_words ru)" run "a command"
    expect_eq "$(complete_words run --memory-r)" --memory-reservation "a flag of run"
    expect_eq "$(complete_words stop comp)" comp1 "a container's name"
    expect_eq "$(complete_words volume ins)" inspect "a subcommand"
    expect_eq "$(complete_words volume rm compv)" compvol "a volume's name"
    expect_eq "$(complete_words run busy)" busybox:latest "an image"
    expect_eq "$(complete_words container pr)" prune "container's verbs"
    expect_eq "$(complete_words system pr)" prune "system's verbs"
    expect_eq "$(complete_words completion z)" zsh "completion's shells"
    if command -v zsh >/dev/null; then
        mr completion zsh
        printf '%s\n' "$OUT" >"$TESTDIR/minirt.zsh"
        # zsh filters by the prefix itself: what the function offers holds the command.
        capture zsh -c ". '$TESTDIR/minirt.zsh' && emulate sh -c 'COMP_WORDS=(\"$MINIRT\" ru); COMP_CWORD=1; _minirt; printf \"%s\\n\" \"\${COMPREPLY[@]}\"'"
        grep -qx run <<<"$OUT" || fail "the zsh script does not complete: $OUT $ERR"
    fi
    expect_rc 125 completion fish
    expect_rc 0 rm -f comp1
    expect_rc 0 volume rm compvol
    assert_clean
}
