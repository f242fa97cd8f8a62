# shellcheck shell=bash
# minirt events: the journal under --root, what writes to it, and reading
# it (history, filters, formats, following, rotation, torn records).

ev_statuses() { # FILTER...: the statuses of the last minute's events, space-separated
    local args=() f
    for f in "$@"; do args+=(--filter "$f"); done
    "$MINIRT" events --since 1m --until 0s "${args[@]}" --format '{{.Status}}' | tr '\n' ' ' | sed 's/ $//'
}
ev_lines() { [ "$(grep -c . "$1" 2>/dev/null || true)" -ge "$2" ]; }

# A container's life, in order, each event once, with its exit codes (and
# its health check's verdict).
test_events_tell_a_containers_life_in_order() {
    expect_rc 0 run -d --name ev --health-cmd true --health-interval disable busybox sh -c 'echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has ev ready
    expect_rc 0 exec ev true
    expect_rc 0 healthcheck run ev
    expect_rc 0 freeze ev
    expect_rc 0 thaw ev
    expect_rc 0 stop -t 0 ev
    expect_rc 0 start ev
    expect_rc 0 kill ev
    expect_rc 0 rm ev
    expect_eq "$(ev_statuses container=ev)" "create start exec health_status pause unpause stop died start kill died remove"
    expect_eq "$("$MINIRT" events --since 1m --until 0s --filter event=health_status --format json | jq -r .Attributes.health_status)" \
        healthy "health_status's status"
    mr events --since 1m --until 0s --filter container=ev --filter event=died --format json
    expect_eq "$(jq -r '.ContainerExitCode' <<<"$OUT" | tr '\n' ' ')" "137 137 " "exit codes of died"
    expect_eq "$(jq -r '"\(.Type) \(.Name) \(.Image)"' <<<"$OUT" | sort -u)" "container ev busybox"
    # The text form, podman's: TIME TYPE STATUS ID (image=..., name=..., ...)
    mr events --since 1m --until 0s --filter container=ev --filter event=died
    expect_contains "$OUT" "container died "
    expect_contains "$OUT" "(image=busybox, name=ev, exitCode=137)"
    assert_clean
}

# Restarts by policy, OOM-free exits and --rm's removal are the shim's.
test_events_of_restarts_and_rm_come_from_the_shim() {
    expect_rc 3 run --name rs --restart on-failure:1 busybox sh -c 'exit 3'
    wait_for 60 ev_has_statuses container=rs "create start died restart start died"
    expect_rc 0 rm rs
    expect_rc 0 run --rm --name gone busybox true
    wait_for 30 ev_has_statuses container=gone "create start died remove"
    assert_clean
}
ev_has_statuses() { [ "$(ev_statuses "$1")" = "$2" ]; }

# Images, networks and volumes have theirs.
test_events_of_images_networks_and_volumes() {
    expect_rc 0 volume create evvol
    expect_rc 0 volume rm evvol
    expect_rc 0 network create --subnet 10.231.77.0/24 "evnet$$"
    expect_rc 0 network rm "evnet$$"
    expect_rc 0 image import --cmd sh "$MINIRT_STORAGE/images/busybox/rootfs" evimg
    expect_rc 0 rmi evimg
    expect_eq "$(ev_statuses type=volume)" "create remove"
    expect_eq "$(ev_statuses type=network)" "create remove"
    expect_eq "$(ev_statuses type=image)" "import remove"
    expect_eq "$(ev_statuses volume=evvol)" "create remove"
    assert_clean
}

# Without --until, events follows: what happens after it started.
test_events_follows_new_events() {
    local out=$TESTDIR/follow pid
    expect_rc 0 run --name before busybox true
    "$MINIRT" events --filter type=container --format '{{.Status}} {{.Name}}' >"$out" &
    pid=$!
    # Until the follower has seen one: it reads from where it began.
    local i
    for i in $(seq 100); do
        grep -q "ping" "$out" && break
        expect_rc 0 run --rm --name ping busybox true
    done
    grep -q "ping" "$out" || fail "the follower showed none of $i containers started after it"
    expect_rc 6 run --name after busybox sh -c 'exit 6'
    wait_for 30 grep -q "died after" "$out"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    grep -q "before" "$out" && fail "the follower showed an event from before it began: $(cat "$out")"
    expect_rc 0 rm before after
    assert_clean
}

# Bad input: one clear error, exit 125.
test_events_bad_filters_and_formats() {
    expect_rc 125 events --filter colour=red --until 0s
    expect_contains "$ERR" "invalid --filter"
    expect_rc 125 events --filter nonsense --until 0s
    expect_rc 125 events --format '{{.Nope}}' --until 0s
    expect_contains "$ERR" "template: can't evaluate field Nope"
    expect_rc 125 events --since yesterday --until 0s
    expect_contains "$ERR" "invalid --since"
}

# The journal is bounded: past its size it moves aside (once), and both
# parts are read; a record a killed writer cut short is never shown and is
# cut off by the next writer.
test_events_journal_rotates_and_never_keeps_a_torn_record() {
    local f=$MINIRT_ROOT/events.log line
    expect_rc 0 run --name first busybox true
    line=$(head -n1 "$f")
    # Fill the journal to its bound with copies of a real record.
    awk -v l="$line" 'BEGIN { for (i = 0; i < 1100000 / length(l); i++) print l }' >>"$f"
    printf '{"time":"2026-01-01T00:00:00Z","type":"torn-rec' >>"$f"
    mr events --since 1m --until 0s --format '{{.Type}}'
    expect_not_contains "$OUT" "torn-rec"
    expect_rc 0 run --name second busybox true
    [ -s "$MINIRT_ROOT/events.log.1" ] || fail "no events.log.1 after the bound"
    [ "$(stat -c %s "$f")" -lt 1048576 ] || fail "events.log not begun anew"
    grep -q 'torn-rec' "$MINIRT_ROOT/events.log.1" "$f" && fail "the torn record was kept"
    expect_eq "$(ev_statuses container=second)" "create start died"
    mr events --since 1m --until 0s --filter container=first --filter event=create --format '{{.Name}}'
    [ "$(grep -c first <<<"$OUT")" -gt 1000 ] || fail "the rotated part was not read"
    expect_rc 0 rm first second
    assert_clean
}

# A full --root: the event is lost, never half written, and the container's
# operation is not failed by it.
test_events_on_a_full_root_are_whole_or_absent() {
    local root=$TESTDIR/smallrun
    mkdir -p "$root"
    mount -t tmpfs -o size=256k tmpfs "$root"
    # shellcheck disable=SC2064
    trap "umount -l '$root' 2>/dev/null || true" EXIT
    MINIRT_ROOT=$root ev_full_root_body
    umount "$root"
}
ev_full_root_body() {
    (
        expect_rc 0 run --name fr busybox true
        head -c 1M /dev/zero >"$MINIRT_ROOT/filler" 2>/dev/null || true
        expect_rc 0 rm fr
        rm -f "$MINIRT_ROOT/filler"
        # Every line is a whole record.
        while IFS= read -r l; do
            jq -e . >/dev/null <<<"$l" || fail "a torn record: $l"
        done <"$MINIRT_ROOT/events.log"
        assert_clean
    )
}
