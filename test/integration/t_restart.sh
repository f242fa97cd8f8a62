# shellcheck shell=bash
# --restart: the shim starts its container again when it exits (in place,
# with Docker's backoff), and stop, kill, start and rm call that off.

# --- helpers (not tests) ---------------------------------------------------

rs_state() { json_field "$1" ".state.$2"; }
rs_restarts() { rs_state "$1" restart_count; }
rs_restarting() { [ "$(rs_state "$1" restarting)" = true ]; }
# rs_restarts_counted_one NAME N: N restart events of NAME said restartCount 1.
rs_restarts_counted_one() {
    [ "$("$MINIRT" events --since 5m --until 0s --filter container="$1" --filter event=restart --format json |
        jq -r '.Attributes.restartCount' | grep -cx 1)" -ge "$2" ]
}
rs_at_least_restarts() { [ "$(rs_restarts "$1")" -ge "$2" ]; }
# Exited, and its shim will not start it again.
rs_done() {
    [ "$(json_field "$1" '.state | "\(.status) \(.restarting)"')" = "exited false" ]
}
rs_lines() { "$MINIRT" logs "$1" 2>/dev/null | grep -cxF -- "$2" || true; }
rs_has_lines() { [ "$(rs_lines "$1" "$2")" -ge "$3" ]; }
# The waits between runs, in ms (one per restart), from the runs inspect keeps.
rs_gaps_ms() {
    json_field "$1" '.state.runs' | jq -r '
        def ns: sub("Z$"; "") | split(".") | (.[0] + "Z" | fromdateiso8601) * 1000 + ((.[1] // "0")[0:3] | tonumber);
        [range(1; length) as $i | (.[$i].started_at | ns) - (.[$i - 1].finished_at | ns)] | .[]'
}
rs_shim_gone() { process_gone "$1"; }
# rs_crash_loop NAME CODE: a container that exits CODE at once, under
# --restart always, left in its sixth wait (3.2 s).
rs_crash_loop() {
    expect_rc 0 run -d --name "$1" --restart always busybox sh -c "exit $2"
    wait_for 60 rs_at_least_restarts "$1" 5
    wait_for 30 rs_restarting "$1"
}
# The first three waits are at least 100, 200 and 400 ms (lower bounds
# only: a loaded machine only makes them longer).
rs_backoff_doubles() {
    local gaps g
    gaps=$(rs_gaps_ms "$1" | tr '\n' ' ')
    read -r -a g <<<"$gaps"
    if [ "${#g[@]}" -lt 3 ] || [ "${g[0]}" -lt 100 ] || [ "${g[1]}" -lt 200 ] || [ "${g[2]}" -lt 400 ]; then
        fail "waits between runs not at least 100, 200, 400 ms: $gaps"
    fi
}

# --- tests -----------------------------------------------------------------

# on-failure:3: exactly three restarts, then the exit code stays; each run
# is kept with its exit; the waits between them at least double from 100 ms.
test_restart_on_failure_counts_three_then_keeps_the_exit() {
    local shim
    expect_rc 0 run -d --name of --restart on-failure:3 busybox sh -c 'echo run; exit 3'
    wait_for 60 rs_has_lines of run 4
    wait_for 60 rs_done of
    expect_eq "$(rs_restarts of)" 3 "restart_count"
    expect_eq "$(exit_code_of of)" 3 "exit code"
    expect_eq "$(rs_lines of run)" 4 "runs"
    expect_eq "$(json_field of .state.runs | jq -r 'map(.exit_code | tostring) | join(",")')" "3,3,3,3" "the runs' exits"
    expect_eq "$(json_field of .config.restart)" "on-failure:3" "the policy in inspect"
    mr ps -a --format json
    expect_eq "$(jq -r '.[] | select(.name == "of") | "\(.restarts) \(.restarting)"' <<<"$OUT")" "3 false" "ps json"
    expect_eq "$(rs_gaps_ms of | wc -l)" 3 "waits between runs"
    rs_backoff_doubles of
    shim=$(shim_of of)
    wait_for 30 rs_shim_gone "$shim"
    expect_rc 0 rm of
    assert_clean
}

# on-failure: a clean exit is not restarted; `no` (the default) never is.
test_restart_on_failure_not_after_success_nor_by_default() {
    expect_rc 0 run --name ok --restart on-failure busybox true
    expect_eq "$(rs_restarts ok)" 0 "on-failure after exit 0"
    expect_eq "$(rs_state ok restarting)" false
    expect_rc 5 run --name no busybox sh -c 'exit 5'
    expect_eq "$(rs_restarts no)" 0 "no policy"
    expect_eq "$(json_field no .config.restart)" null "no policy in inspect"
    expect_rc 0 rm ok no
    assert_clean
}

# always: a crashing container keeps coming back, with growing waits,
# in place (same id, same writable layer, same shim), until `stop`, which
# calls the pending restart off: the shim is gone when stop returns.
test_restart_always_until_stop() {
    local shim id
    expect_rc 0 run -d --name al --restart always busybox sh -c 'echo "run $(cat /count 2>/dev/null | wc -l)"; echo x >>/count; exit 1'
    id=$(json_field al .id)
    shim=$(shim_of al)
    wait_for 60 rs_at_least_restarts al 4
    # The writable layer is kept: each run saw the last one's file.
    wait_for 30 log_has al "run 3"
    expect_eq "$(json_field al .id)" "$id" "same container"
    expect_eq "$(shim_of al)" "$shim" "the same shim pid throughout"
    rs_backoff_doubles al
    expect_rc 0 stop al
    process_gone "$shim" || fail "stop returned with the shim $shim still there"
    rs_done al || fail "still restarting after stop: $(json_field al .state)"
    expect_rc 0 rm al
    assert_clean
}

# A stop while the shim waits out a long backoff: not started again.
test_restart_stop_during_backoff_calls_it_off() {
    local shim n
    rs_crash_loop bo 1
    shim=$(shim_of bo)
    mr ps -a
    expect_contains "$OUT" "Restarting (1)" "ps during the backoff"
    n=$(rs_restarts bo)
    expect_rc 0 stop bo
    process_gone "$shim" || fail "stop returned with the shim $shim still there"
    expect_eq "$(rs_restarts bo)" "$n" "restarts after stop"
    expect_eq "$(status_of bo)" exited
    # A start by the user begins the count anew: a second restart counted 1.
    expect_rc 0 start bo
    wait_for 30 rs_restarts_counted_one bo 2
    expect_rc 0 rm -f bo
    assert_clean
}

# kill: a signal that ends the container turns the policy off (Docker's
# rule); one a program takes as a request (USR1) leaves it on.
test_restart_kill_by_user_turns_it_off() {
    local shim
    expect_rc 0 run -d --name k --restart always busybox sh -c \
        "trap 'exit 7' USR1; echo ready; while :; do sleep 0.1; done"
    wait_for 30 log_has k ready
    shim=$(shim_of k)
    expect_rc 0 kill -s USR1 k
    wait_for 60 rs_at_least_restarts k 1
    wait_for 30 rs_has_lines k ready 2
    expect_eq "$(json_field k '.state.runs[0].exit_code')" 7 "the USR1 run's exit"
    expect_rc 0 kill k
    wait_for 30 rs_shim_gone "$shim"
    expect_eq "$(exit_code_of k)" 137
    expect_eq "$(rs_restarts k)" 1 "not restarted after kill"
    expect_rc 0 rm k
    assert_clean
}

# rm during the backoff: refused without -f (naming why), done with it.
test_restart_rm_during_backoff() {
    local shim
    rs_crash_loop rm1 2
    shim=$(shim_of rm1)
    expect_rc 2 rm rm1
    expect_contains "$ERR" "is restarting"
    expect_rc 0 rm -f rm1
    process_gone "$shim" || fail "rm -f returned with the shim $shim still there"
    assert_clean
}

# A shim killed during the backoff: the container is not restarted (no
# owner is left); it is shown exited, not restarting, and removable.
test_restart_shim_killed_during_backoff() {
    local shim
    rs_crash_loop sk 4
    shim=$(shim_of sk)
    kill -9 "$shim"
    wait_for 30 rs_shim_gone "$shim"
    rs_done sk || fail "shown restarting with its shim gone: $(json_field sk .state)"
    expect_rc 0 rm sk
    assert_clean
}

# Bad values: one clear error, exit 125, nothing created.
test_restart_bad_values_are_refused() {
    expect_rc 125 run --restart sometimes busybox true
    expect_contains "$ERR" 'invalid --restart "sometimes"'
    expect_rc 125 run --restart always:3 busybox true
    expect_contains "$ERR" "only on-failure takes a retry count"
    expect_rc 125 run --restart on-failure:x busybox true
    expect_contains "$ERR" "retry count"
    expect_rc 125 run --rm --restart always busybox true
    expect_contains "$ERR" "conflict"
    expect_rc 0 run --rm --restart no busybox true
    assert_clean
}

rs_ready() {
    expect_rc 0 run -d --name "$1" "${@:2}" busybox sh -c 'echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has "$1" ready
}
rs_ready_twice() { [ "$("$MINIRT" logs "$1" | grep -cx ready)" -ge 2 ]; }

# The boot path: a "reboot" (every shim killed, --root deleted), then the
# command minirt-restart.service runs brings back the always containers and
# the unless-stopped ones the user had not stopped, and nothing else.
test_boot_starts_always_and_unless_stopped_that_ran() {
    local n shims=()
    rs_ready ba --restart always
    rs_ready bu --restart unless-stopped
    rs_ready bs --restart unless-stopped
    rs_ready bn
    expect_rc 0 stop -t 0 bs
    for n in ba bu bn; do shims+=("$(shim_of "$n")"); done
    kill -9 "${shims[@]}"
    for n in "${shims[@]}"; do wait_for 30 rs_shim_gone "$n"; done
    rm -rf "${MINIRT_ROOT:?}"
    expect_rc 0 start --all --filter restart-policy=always --filter restart-policy=unless-stopped
    expect_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "ba bu " "started at boot"
    wait_for 30 rs_ready_twice ba
    wait_for 30 rs_ready_twice bu
    expect_eq "$(status_of ba) $(status_of bu) $(status_of bs) $(status_of bn)" "running running exited exited"
    # Filters: same key, either value; bad ones refused.
    expect_rc 0 start --all --filter name=bn --filter name=nosuch
    expect_eq "$OUT" bn
    expect_rc 125 start --filter name=bn
    expect_rc 125 start --all --filter colour=red
    expect_rc 125 start --all --filter restart-policy=sometimes
    # The user's start of the one they had stopped: no longer stopped by them.
    expect_rc 0 start bs
    [ -e "$MINIRT_STORAGE/containers/$(json_field bs .id)/user-stopped" ] && fail "user-stopped kept after start"
    expect_rc 0 rm -f ba bu bs bn
    assert_clean
}

# The boot unit setup_rootfs.sh --restart-service installs is one systemd
# takes without a complaint (its command is the boot test's above).
test_restart_service_unit_verifies() {
    local unit
    unit="$(dirname "${BASH_SOURCE[0]}")/../../scripts/minirt-restart.service"
    command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
    [ -x /usr/local/bin/minirt ] || skip "no /usr/local/bin/minirt (setup_rootfs.sh installs it)"
    grep -qx 'ExecStart=/usr/local/bin/minirt start --all --filter restart-policy=always --filter restart-policy=unless-stopped' "$unit" ||
        fail "the unit does not run the boot command"
    capture systemd-analyze verify "$unit"
    expect_eq "$RC" 0 "systemd-analyze verify"
    expect_eq "$OUT$ERR" "" "systemd-analyze's complaints"
}

# A restart that cannot start (its spec damaged during the wait): the
# record says why (exec-failed, the error), the restarts end, and "died"
# says so.
test_restart_that_cannot_start_says_why() {
    local id shim
    rs_crash_loop nf 3
    id=$(json_field nf .id)
    shim=$(shim_of nf)
    echo '{' >"$MINIRT_STORAGE/containers/$id/config.json"
    wait_for 30 rs_shim_gone "$shim"
    expect_eq "$(json_field nf '.state | "\(.reason) \(.restarting)"')" "exec-failed false" "the failed restart's record"
    expect_contains "$(rs_state nf error)" "config.json"
    mr events --since 5m --until 0s --filter container=nf --filter event=died --format json
    expect_contains "$(tail -n1 <<<"$OUT")" "config.json"
    expect_rc 0 rm nf
    assert_clean
}
