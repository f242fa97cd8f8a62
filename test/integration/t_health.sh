# shellcheck shell=bash
# Health checks (--health-*, the image's HEALTHCHECK, `healthcheck run`):
# run by the shim as execs into the container, their status in ps, inspect
# and events, and what --health-on-failure does.

# --- helpers (not tests) ---------------------------------------------------

hc_status() { json_field "$1" .health.status; }
hc_is() { [ "$(hc_status "$1")" = "$2" ]; }
# hc_checks NAME: how many checks its health log holds.
hc_checks() { json_field "$1" '.health.log | length'; }
hc_checked() { [ "$(hc_checks "$1")" -ge "$2" ]; }
hc_events() {
    "$MINIRT" events --since 5m --until 0s --filter container="$1" --filter event=health_status --format json |
        jq -r '.Attributes.health_status' | tr '\n' ' '
}
hc_restarted() { [ "$(json_field "$1" .state.restart_count)" -ge "$2" ]; }
# hc_add_healthcheck LAYOUT:TAG JSON: the image's config gets Docker's
# Healthcheck (umoci writes OCI configs, which have none); the manifest
# and index are rewritten to the new digests.
hc_add_healthcheck() {
    local layout=${1%%:*} tag=${1#*:} hc=$2 index manifest config blobs=${1%%:*}/blobs/sha256
    index=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
        "$layout/index.json")
    manifest=$(cat "$blobs/${index#sha256:}")
    config=$(jq -r .config.digest <<<"$manifest")
    jq -c --argjson hc "$hc" '.config.Healthcheck = $hc' "$blobs/${config#sha256:}" >"$TESTDIR/config.new"
    local cdigest csize mdigest msize
    cdigest=$(sha256sum "$TESTDIR/config.new" | cut -d' ' -f1)
    csize=$(stat -c %s "$TESTDIR/config.new")
    mv "$TESTDIR/config.new" "$blobs/$cdigest"
    jq -c --arg d "sha256:$cdigest" --argjson s "$csize" '.config.digest = $d | .config.size = $s' <<<"$manifest" \
        >"$TESTDIR/manifest.new"
    mdigest=$(sha256sum "$TESTDIR/manifest.new" | cut -d' ' -f1)
    msize=$(stat -c %s "$TESTDIR/manifest.new")
    mv "$TESTDIR/manifest.new" "$blobs/$mdigest"
    jq --arg old "$index" --arg d "sha256:$mdigest" --argjson s "$msize" \
        '(.manifests[] | select(.digest == $old)) |= (.digest = $d | .size = $s)' "$layout/index.json" >"$TESTDIR/index.new"
    mv "$TESTDIR/index.new" "$layout/index.json"
}

# --- tests -----------------------------------------------------------------

# The shim's timer: starting, unhealthy after its retries, healthy again
# once the check passes; each change journaled in order, shown by ps and
# kept (exit code, output, times) in inspect.
test_health_turns_unhealthy_after_retries_and_back() {
    expect_rc 0 run -d --name web --health-cmd 'echo probing; test -e /tmp/up' --health-interval 1s \
        --health-retries 2 busybox sh -c 'echo ready; sleep 1000'
    expect_contains "$("$MINIRT" ps)" "(starting)" "ps at once"
    wait_for 60 hc_is web unhealthy
    expect_contains "$("$MINIRT" ps)" "(unhealthy)" "ps"
    expect_eq "$(json_field web '.health.log[-1] | "\(.exit_code) \(.output)"')" "1 probing" "the last check"
    [ -n "$(json_field web '.health.log[-1].start')" ] || fail "no start time in the log"
    expect_rc 0 exec web touch /tmp/up
    wait_for 60 hc_is web healthy
    expect_contains "$("$MINIRT" ps)" "(healthy)" "ps"
    expect_eq "$(json_field web .health.failing_streak)" 0 "failing streak"
    expect_eq "$(hc_events web)" "unhealthy healthy " "health_status events"
    expect_rc 0 status web
    expect_eq "$(awk '$1 == "Health:" {print $2}' <<<"$OUT")" healthy "status's Health line"
    expect_rc 0 rm -f web
    assert_clean
}

# healthcheck run: 0 and nothing printed when it passes; 1 and
# "unhealthy" when it fails; 125 for a container with no check, or not
# running. Its result is recorded as the timer's are.
test_healthcheck_run_exit_codes_as_podmans() {
    expect_rc 0 run -d --name manual --health-cmd 'test -e /tmp/up' --health-interval disable busybox sleep 1000
    expect_rc 1 healthcheck run manual
    expect_eq "$OUT" unhealthy "output of a failed check"
    expect_eq "$(hc_checks manual)" 1 "checks recorded"
    expect_eq "$(hc_status manual)" starting "status after one failure of three"
    expect_rc 0 exec manual touch /tmp/up
    expect_rc 0 healthcheck run manual
    expect_eq "$OUT" "" "output of a passing check"
    expect_eq "$(hc_status manual)" healthy "status"
    expect_rc 0 run -d --name plain busybox sleep 1000
    expect_rc 125 healthcheck run plain
    expect_contains "$ERR" "no health check" "error"
    expect_rc 125 healthcheck run no-such-container
    expect_rc 0 stop -t 0 manual
    expect_rc 125 healthcheck run manual
    expect_contains "$ERR" "not running" "error"
    expect_rc 0 rm -f manual plain
    assert_clean
}

# In the start period, failures are logged but do not count.
test_health_start_period_failures_do_not_count() {
    expect_rc 0 run -d --name slow --health-cmd false --health-interval disable --health-retries 1 \
        --health-start-period 1h busybox sleep 1000
    expect_rc 1 healthcheck run slow
    expect_eq "$OUT" starting "output in the start period"
    expect_rc 1 healthcheck run slow
    expect_eq "$(hc_status slow)" starting "status"
    expect_eq "$(json_field slow .health.failing_streak)" 0 "failing streak"
    expect_eq "$(hc_checks slow)" 2 "checks logged"
    expect_rc 0 rm -f slow
    assert_clean
}

# A check past its timeout is killed, with the processes it started in the
# container, and fails with exit code -1.
test_health_check_killed_at_its_timeout() {
    expect_rc 0 run -d --name hang --health-cmd 'sleep 300 & sleep 301' --health-interval disable \
        --health-timeout 1s busybox sleep 1000
    expect_rc 1 healthcheck run hang
    expect_eq "$(json_field hang '.health.log[0] | "\(.exit_code) \(.output)"')" \
        "-1 health check exceeded its timeout of 1s" "the check's record"
    expect_rc 0 exec hang ps -o args
    expect_not_contains "$OUT" "sleep 30" "the container's processes after the timeout"
    expect_rc 0 rm -f hang
    assert_clean
}

# The check is the container's own process: its user, capabilities,
# cgroup and namespaces, its environment and working directory.
test_health_check_runs_with_the_containers_confinement() {
    expect_rc 0 run -d --name conf --user 1234:5678 --cap-drop all -e MARK=hc -w /tmp --hostname inside \
        --health-interval disable \
        --health-cmd 'echo "$(id -u):$(id -g) $(grep CapEff /proc/self/status | tr -d "\t") $MARK $PWD $(hostname)"' \
        busybox sleep 1000
    expect_rc 0 healthcheck run conf
    local want
    want="1234:5678 CapEff:0000000000000000 hc /tmp inside"
    expect_contains "$(json_field conf '.health.log[0].output')" "$want" "what the check saw"
    # It is in the container's cgroup (the group of its init).
    expect_rc 0 run -d --name conf2 --health-interval disable --health-cmd 'cat /proc/self/cgroup' busybox sleep 1000
    expect_rc 0 healthcheck run conf2
    expect_rc 0 exec conf2 cat /proc/1/cgroup
    expect_eq "$(json_field conf2 '.health.log[0].output' | grep '^0::')" "$(grep '^0::' <<<"$OUT")" "the check's v2 group"
    expect_rc 0 rm -f conf conf2
    assert_clean
}

# --health-on-failure=restart: killed and started again in place, whatever
# its restart policy (none here); the count goes up, health starts over.
test_health_on_failure_restart_restarts_in_place() {
    expect_rc 0 run -d --name flaky --health-cmd 'test -e /tmp/up' --health-interval 1s --health-retries 1 \
        --health-on-failure restart busybox sh -c 'echo ran; sleep 1000'
    local id
    id=$(json_field flaky .id)
    wait_for 60 hc_restarted flaky 1
    wait_for 30 is_running flaky
    expect_eq "$(json_field flaky .id)" "$id" "the same container"
    expect_contains "$(hc_events flaky)" unhealthy "health events"
    wait_for 30 log_has flaky ran
    expect_eq "$("$MINIRT" events --since 5m --until 0s --filter container=flaky --filter event=restart --format json |
        jq -r .Attributes.restartCount | head -1)" 1 "restart event"
    expect_rc 0 stop -t 0 flaky
    expect_rc 0 rm flaky
    assert_clean
}

# --health-on-failure=kill: SIGKILL, a failure like any other (its restart
# policy, none here, decides); stop: the stop signal, then SIGKILL after its
# stop timeout, and its restart policy (always here) is off.
test_health_on_failure_kill_and_stop() {
    expect_rc 0 run -d --name killed --health-cmd false --health-interval 1s --health-retries 1 \
        --health-on-failure kill busybox sleep 1000
    expect_rc 0 run -d --name stopped --restart always --stop-timeout 0 --health-cmd false --health-interval 1s \
        --health-retries 1 --health-on-failure stop busybox sleep 1000
    wait_for 60 is_exited killed
    expect_eq "$(exit_code_of killed)" 137 "killed's exit"
    wait_for 60 is_exited stopped
    wait_for 30 shim_gone_of stopped
    expect_eq "$(json_field stopped .state.restart_count)" 0 "restarts after the stop"
    expect_eq "$(json_field stopped .state.stop_requested)" true "stop_requested"
    expect_contains "$("$MINIRT" events --since 5m --until 0s --filter container=stopped --format json | jq -r .Status | tr '\n' ' ')" \
        "health_status stop died" "stopped's events"
    expect_rc 0 rm killed stopped
    assert_clean
}
shim_gone_of() { [ "$(json_field "$1" .state.restarting)" = false ] && process_gone "$(shim_of "$1")"; }

# Bad flags: one clear error, exit 125, nothing created.
test_health_bad_flags_are_refused() {
    local bad
    for bad in "--health-cmd true --health-retries 0" "--health-cmd true --health-interval 500ms" \
        "--health-cmd true --health-timeout 0s" "--health-cmd true --health-interval soon" \
        "--health-cmd true --no-healthcheck" "--health-interval 5s" "--health-cmd none --health-retries 2" \
        "--health-cmd true --health-on-failure reboot" "--rm --health-cmd true --health-on-failure restart" \
        "--health-cmd [1]"; do
        # shellcheck disable=SC2086
        expect_rc 125 run -d $bad busybox sleep 1
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "not one line for $bad: $ERR"
    done
    expect_rc 0 list -q
    expect_eq "$OUT" "" "containers after refused runs"
    assert_clean
}

# The image's HEALTHCHECK: run uses it; flags replace parts of it;
# --no-healthcheck and --health-cmd none drop it.
test_health_from_the_images_healthcheck() {
    need_image_tools
    fixture "$TESTDIR/fx"
    hc_add_healthcheck "$TESTDIR/fx:v1" \
        '{"Test": ["CMD-SHELL", "echo from-image"], "Interval": 5000000000, "Retries": 4, "StartPeriod": 1000000000}'
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fx.tar:localhost/hc:v1"
    expect_rc 0 load -q -i "$TESTDIR/fx.tar"
    expect_rc 0 run -d --name img localhost/hc:v1 -c 'sleep 1000'
    expect_eq "$(json_field img '.config.healthcheck | "\(.command | join(" ")) \(.interval_ns) \(.retries) \(.start_period_ns)"')" \
        "/bin/sh -c echo from-image 5000000000 4 1000000000" "the image's check"
    expect_rc 0 healthcheck run img
    expect_eq "$(json_field img '.health.log[0].output')" from-image "its output"
    expect_rc 0 run -d --name over --health-cmd '["CMD", "true"]' --health-retries 9 localhost/hc:v1 -c 'sleep 1000'
    expect_eq "$(json_field over '.config.healthcheck | "\(.command | join(" ")) \(.interval_ns) \(.retries)"')" \
        "true 5000000000 9" "flags over the image's"
    expect_rc 0 run -d --name none1 --no-healthcheck localhost/hc:v1 -c 'sleep 1000'
    expect_rc 0 run -d --name none2 --health-cmd none localhost/hc:v1 -c 'sleep 1000'
    expect_eq "$(json_field none1 .config.healthcheck)$(json_field none2 .config.healthcheck)" nullnull "no check"
    # An image asking for a check every microsecond is refused, unless the
    # flags give an interval.
    hc_add_healthcheck "$TESTDIR/fx:v1" '{"Test": ["CMD", "true"], "Interval": 1000}'
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fast.tar:localhost/hc:fast"
    expect_rc 0 load -q -i "$TESTDIR/fast.tar"
    expect_rc 125 run -d --name fast localhost/hc:fast -c 'sleep 1000'
    expect_contains "$ERR" "--health-interval" "the error"
    expect_rc 0 run -d --name fast --health-interval 2s localhost/hc:fast -c 'sleep 1000'
    expect_rc 0 rm -f img over none1 none2 fast
    expect_rc 0 rmi localhost/hc:v1 localhost/hc:fast
}

# kill -9 of the shim while a check runs: the check's helper dies with it,
# what was recorded stays readable, and nothing is left behind.
test_health_shim_killed_during_a_check() {
    expect_rc 0 run -d --name victim --health-cmd 'echo checking > /tmp/in-check; sleep 300' --health-interval 1s \
        --health-timeout 600s busybox sleep 1000
    wait_for 60 in_check victim
    local shim helper
    shim=$(shim_of victim)
    helper=$(pgrep -P "$shim" -x minirt-health || true)
    [ -n "$helper" ] || fail "no check helper under the shim"
    kill -9 "$shim"
    wait_for 30 process_gone "$helper"
    wait_for 30 is_exited victim
    expect_eq "$(hc_status victim)" starting "health.json after the kill"
    expect_rc 0 rm victim
    assert_clean
}
in_check() { "$MINIRT" exec "$1" cat /tmp/in-check 2>/dev/null | grep -q checking; }

# A check under way when the container is paused is not counted: frozen,
# it would time out for nothing (and with --health-on-failure=kill, kill).
test_health_check_during_a_pause_is_not_counted() {
    expect_rc 0 run -d --name paused --health-interval 1s --health-timeout 5s --health-retries 1 \
        --health-on-failure kill \
        --health-cmd 'echo checking > /tmp/in-check; while [ ! -e /tmp/go ]; do sleep 0.1; done' busybox sleep 1000
    wait_for 60 in_check paused
    local shim helper
    shim=$(shim_of paused)
    helper=$(pgrep -P "$shim" -x minirt-health || true)
    [ -n "$helper" ] || fail "no check under way"
    expect_rc 0 pause paused
    wait_for 60 process_gone "$helper"
    expect_rc 0 unpause paused
    expect_rc 0 exec paused touch /tmp/go
    wait_for 60 hc_is paused healthy
    expect_eq "$(json_field paused .status)" running "status"
    expect_eq "$(hc_events paused)" "healthy " "health_status events"
    expect_eq "$(json_field paused '.health.log | map(.exit_code) | unique | join(",")')" 0 "the checks counted"
    expect_rc 0 rm -f paused
    assert_clean
}
