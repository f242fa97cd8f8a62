# shellcheck shell=bash
# systemd: `generate systemd [--new]` units, and --sdnotify=conmon, through
# which the shim becomes the unit's main process (this host runs no
# systemd as PID 1: a small manager in Python plays its part, and
# systemd-analyze verify judges the units).

# --- helpers (not tests) ---------------------------------------------------

# sd_unit_lines FILE KEY: the values of KEY= in a unit, one a line.
sd_unit_lines() { sed -n "s/^$2=//p" "$1"; }
# sd_exec LINE: runs an Exec line's command as systemd would split it (its
# %% and $$ undoubled; a leading - only says a failure is ignored).
sd_exec() {
    local line=${1#-}
    python3 -c '
import shlex, subprocess, sys
words = [w.replace("%%", "%").replace("$$", "$") for w in shlex.split(sys.argv[1])]
sys.exit(subprocess.call(words, stdout=subprocess.DEVNULL))' "$line"
}
# sd_manager SOCKET OUT CMD...: as systemd for a Type=notify unit: runs CMD
# with NOTIFY_SOCKET, writes "RC READY MAINPID" once told, then the main
# process's exit code once it exits (it is reparented to us: a subreaper),
# or "gone" for one that was never ours.
sd_manager() {
    python3 -c '
import ctypes, os, socket, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
path, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
rc = subprocess.call(cmd, env=dict(os.environ, NOTIFY_SOCKET=path), stdout=subprocess.DEVNULL)
s.settimeout(120)
fields = dict(l.split("=", 1) for l in s.recv(4096).decode().split("\n") if l)
pid, ready = int(fields["MAINPID"]), fields.get("READY")
with open(out, "w") as f:
    f.write(f"{rc} {ready} {pid}\n")
try:
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
except ChildProcessError:  # not ours (started before us): only its end is seen
    import select
    select.select([os.pidfd_open(pid)], [], [])
    code = "gone"
with open(out, "a") as f:
    f.write(f"{code}\n")
' "$@"
}
lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
need_systemd_analyze() { command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"; }

# --- tests -----------------------------------------------------------------

# Both kinds of unit pass systemd-analyze verify without a word; they run
# this minirt with this --root and --storage.
test_generate_systemd_units_pass_verify() {
    need_systemd_analyze
    expect_rc 0 run -d --name svc --stop-timeout 7 -e 'GREETING=hello 100% $USER' --health-cmd 'test -e /tmp/%up' \
        busybox sh -c 'echo "$GREETING"; sleep 1000'
    mkdir -p "$TESTDIR/units"
    expect_rc 0 generate systemd --name svc
    printf '%s\n' "$OUT" >"$TESTDIR/units/plain.service"
    expect_eq "$(sd_unit_lines "$TESTDIR/units/plain.service" ExecStart)" \
        "$MINIRT --root $MINIRT_ROOT --storage $MINIRT_STORAGE start --sdnotify=conmon svc" "ExecStart"
    expect_eq "$(sd_unit_lines "$TESTDIR/units/plain.service" TimeoutStopSec)" 67 "TimeoutStopSec"
    expect_eq "$(sd_unit_lines "$TESTDIR/units/plain.service" Type)" notify "Type"
    (cd "$TESTDIR/units" && "$MINIRT" generate systemd --new --files --restart-policy always svc >"$TESTDIR/files.out")
    expect_eq "$(cat "$TESTDIR/files.out")" "$TESTDIR/units/container-svc.service" "--files prints the path"
    expect_eq "$(sd_unit_lines "$TESTDIR/units/container-svc.service" Restart)" always "Restart"
    local unit
    for unit in "$TESTDIR/units/plain.service" "$TESTDIR/units/container-svc.service"; do
        systemd-analyze verify "$unit" >"$TESTDIR/verify.out" 2>&1 || fail "verify: $(cat "$TESTDIR/verify.out")"
        [ ! -s "$TESTDIR/verify.out" ] || fail "verify said: $(cat "$TESTDIR/verify.out")"
    done
    expect_rc 0 rm -f svc
    assert_clean
}

# --new: the unit's commands, run as systemd splits them, make a container
# like the first (its flags, env, health check, command), and take it away.
test_generate_systemd_new_makes_the_same_container() {
    expect_rc 0 run -dit --name fresh --rm -e 'GREETING=hello 100% $USER' --health-cmd 'test -e /tmp/%up' \
        --stop-timeout 3 -l tier=web busybox sh -c 'echo "$GREETING"; sleep 1000'
    expect_rc 0 generate systemd --new fresh
    printf '%s\n' "$OUT" >"$TESTDIR/fresh.service"
    local before
    before=$(json_field fresh '.config | {env, command, healthcheck, labels, tty, interactive, stop_timeout}')
    sd_exec "$(sd_unit_lines "$TESTDIR/fresh.service" ExecStartPre)" || fail "ExecStartPre failed"
    expect_rc 125 inspect fresh
    sd_exec "$(sd_unit_lines "$TESTDIR/fresh.service" ExecStart)" || fail "ExecStart failed"
    wait_for 30 log_has fresh 'hello 100% $USER'
    expect_eq "$(json_field fresh '.config | {env, command, healthcheck, labels, tty, interactive, stop_timeout}')" "$before" \
        "the new container's config"
    expect_eq "$(json_field fresh .config.auto_remove)" false "--rm is the unit's ExecStopPost's job"
    sd_exec "$(sd_unit_lines "$TESTDIR/fresh.service" ExecStop)" || fail "ExecStop failed"
    sd_exec "$(sd_unit_lines "$TESTDIR/fresh.service" ExecStopPost)" || fail "ExecStopPost failed"
    expect_rc 125 inspect fresh
    assert_clean
}

# --sdnotify=conmon: the shim tells the manager its PID and READY=1 once
# the container runs, and exits with the container's exit code.
test_sdnotify_conmon_makes_the_shim_the_main_process() {
    expect_rc 0 create --name unit busybox sh -c 'until [ -e /tmp/go ]; do sleep 0.1; done; exit 7'
    sd_manager "$TESTDIR/notify.sock" "$TESTDIR/manager.out" "$MINIRT" start --sdnotify=conmon unit &
    local manager=$!
    wait_for 60 lines_at_least "$TESTDIR/manager.out" 1
    expect_eq "$(head -1 "$TESTDIR/manager.out")" "0 1 $(shim_of unit)" "start's exit, READY, MAINPID"
    expect_rc 0 exec unit touch /tmp/go
    wait "$manager" || fail "the manager failed"
    expect_eq "$(sed -n 2p "$TESTDIR/manager.out")" 7 "the shim's exit code"
    expect_eq "$(exit_code_of unit)" 7 "the container's"
    rm -f "$TESTDIR/notify.sock" "$TESTDIR/manager.out"
    # run --sdnotify=conmon too.
    sd_manager "$TESTDIR/notify.sock" "$TESTDIR/manager.out" "$MINIRT" run -d --rm --sdnotify=conmon --name unit2 \
        busybox sh -c 'exit 0' &
    manager=$!
    wait "$manager" || fail "the manager failed"
    expect_eq "$(sed -n 2p "$TESTDIR/manager.out")" 0 "the shim's exit code"
    # A container already running: ready as it is, its shim the main process.
    expect_rc 0 run -d --name up busybox sleep 1000
    rm -f "$TESTDIR/notify.sock" "$TESTDIR/manager.out"
    sd_manager "$TESTDIR/notify.sock" "$TESTDIR/manager.out" "$MINIRT" start --sdnotify=conmon up &
    manager=$!
    wait_for 60 lines_at_least "$TESTDIR/manager.out" 1
    expect_eq "$(head -1 "$TESTDIR/manager.out")" "0 1 $(shim_of up)" "an already running container"
    expect_rc 0 kill up
    wait "$manager" || fail "the manager failed"
    expect_eq "$(sed -n 2p "$TESTDIR/manager.out")" gone "the shim's end after kill"
    # A restart that cannot start: the shim exits with that failure, not 0.
    expect_rc 0 create --name broken --restart on-failure:1 busybox sh -c 'rm /bin/sh; exit 1'
    rm -f "$TESTDIR/notify.sock" "$TESTDIR/manager.out"
    sd_manager "$TESTDIR/notify.sock" "$TESTDIR/manager.out" "$MINIRT" start --sdnotify=conmon broken &
    manager=$!
    wait "$manager" || fail "the manager failed"
    expect_eq "$(json_field broken .state.reason)" exec-failed "broken's reason"
    expect_eq "$(sed -n 2p "$TESTDIR/manager.out")" 127 "the shim's exit code after the failed restart"
    expect_rc 0 rm unit up broken
    assert_clean
}

# Refused: podman's sdnotify modes minirt has not, a bad Restart=, --new
# for a container made before the command was recorded, --sdnotify on
# more than one container.
test_generate_and_sdnotify_refusals() {
    expect_rc 125 run -d --sdnotify=container --name no busybox true
    expect_contains "$ERR" "not supported" "error"
    expect_rc 125 run -d --sdnotify=sometimes --name no busybox true
    expect_rc 0 list -q
    expect_eq "$OUT" "" "containers after refused runs"
    expect_rc 0 create --name old busybox true
    expect_rc 0 create --name old2 busybox true
    expect_rc 125 start --sdnotify=conmon old old2
    expect_rc 125 generate systemd --restart-policy sometimes old
    local cfg
    cfg="$MINIRT_STORAGE/containers/$(json_field old .id)/minirt.json"
    jq 'del(.create_command)' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
    expect_rc 125 generate systemd --new old
    expect_contains "$ERR" "without --new" "error"
    expect_rc 0 generate systemd old
    expect_rc 125 generate systemd no-such-container
    expect_rc 125 generate systemd --container-prefix $'x\nExecStartPre=/bin/false' old
    expect_rc 125 generate systemd --separator / --files old
    expect_rc 0 rm old old2
    assert_clean
}

# --new reads the recorded command as run parses it: an optional value
# (--pin-cpu) never takes the next word, and a -- stays before the image.
test_generate_systemd_new_reads_the_command_as_run_does() {
    expect_rc 0 create --pin-cpu -l a=b --name g2 busybox sleep 1000
    expect_rc 0 generate systemd --new g2
    local start
    start=$(sed -n 's/^ExecStart=//p' <<<"$OUT")
    expect_contains "$start" "run --sdnotify=conmon -d --name g2 --pin-cpu -l a=b busybox sleep 1000" "ExecStart"
    expect_rc 0 create --name g3 -- busybox sleep 1000
    expect_rc 0 generate systemd --new g3
    start=$(sed -n 's/^ExecStart=//p' <<<"$OUT")
    expect_contains "$start" "run --sdnotify=conmon -d --name g3 -- busybox sleep 1000" "ExecStart with --"
    expect_rc 0 rm g2 g3
    sd_exec "$start" || fail "the ExecStart with -- failed"
    wait_for 30 is_running g3
    expect_rc 0 rm -f g3
    assert_clean
}
