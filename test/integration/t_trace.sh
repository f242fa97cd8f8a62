# shellcheck shell=bash
# minirt trace and run --trace (docs/trace.md): the events of one container
# and none of another's, the container's own creation steps from before its
# init is born, --all picking up a container started later, signals from
# outside, the refusals, and no program left attached afterwards.

need_trace() {
    mr info --format json
    [ "$(jq -r .trace.available <<<"$OUT")" = true ] || skip "tracing is not available here: $(jq -r .trace.why_not <<<"$OUT")"
}

# trace_programs: how many of minirt trace's programs the kernel holds.
trace_programs() { bpftool prog show 2>/dev/null | grep -c ' name on_fork ' || true; }

# start_trace FILE ARGS...: `minirt trace ARGS` in the background writing
# to FILE; TRACE_PID is its PID. Returns once it is attached (it says so).
start_trace() {
    local file=$1
    shift
    "$MINIRT" trace "$@" >"$file" 2>"$file.err" &
    TRACE_PID=$!
    wait_for 30 grep -q '^minirt trace: tracing' "$file.err"
}

# has_event FILE CONDITION: a JSON line of FILE meets the jq CONDITION.
has_event() { jq -s -e "any(.[]; $2)" "$1" >/dev/null; }

# programs_back_to N: the kernel holds N of them again (a program goes
# once the last fd on it is closed, freed after an RCU grace period).
programs_back_to() { [ "$(trace_programs)" = "$1" ]; }

# events_of FILE: the JSON lines' "container event" pairs, sorted, unique.
events_of() { jq -r '"\(.container) \(.event)"' "$1" | sort -u | tr '\n' ' '; }

test_trace_shows_what_one_container_does_and_nothing_of_another() {
    need_trace
    local before
    before=$(trace_programs)
    mkdir "$TESTDIR/sync"
    # The listener is the container's own, on its own loopback (its own
    # network namespace): the connection gives connect and accept (busybox
    # listens on IPv6 too: its peer is then [::ffff:127.0.0.1]:PORT).
    expect_rc 0 run -d --name a -v "$TESTDIR/sync:/sync" busybox sh -c '
        echo ready
        while [ ! -e /sync/go ]; do sleep 0.05; done
        nc -l -p 7777 >/dev/null &
        until echo hi | nc 127.0.0.1 7777; do sleep 0.05; done
        wait
        /bin/true
        mkdir /made
        echo hello >/tmp/file
        exit 3'
    expect_rc 0 run -d --name b busybox sh -c 'echo ready; while :; do /bin/true; mkdir -p /b; sleep 0.05; done'
    wait_for 30 log_has a ready
    wait_for 30 log_has b ready
    start_trace "$TESTDIR/trace.json" --events exec,exit,fork,open,mkdir,connect,accept --format json a
    [ "$(trace_programs)" -gt "$before" ] || fail "no trace program attached while tracing"
    touch "$TESTDIR/sync/go"
    # It ends by itself once a is over.
    local rc=0
    wait "$TRACE_PID" || rc=$?
    expect_eq "$rc" 0 "trace rc ($(cat "$TESTDIR/trace.json.err"))"
    local t=$TESTDIR/trace.json
    jq -e . "$t" >/dev/null || fail "not JSON lines: $(head -c 2000 "$t")"
    expect_eq "$(jq -r .container "$t" | sort -u)" a "the containers in the trace"
    expect_eq "$(events_of "$t")" "a accept a connect a exec a exit a fork a mkdir a open " "the events"
    has_event "$t" '.event == "exec" and .filename == "/bin/true" and .argv == ["/bin/true"]' ||
        fail "no exec of /bin/true: $(grep exec "$t")"
    has_event "$t" '.event == "mkdir" and .path == "/made" and .result == 0' ||
        fail "no mkdir /made: $(grep mkdir "$t")"
    has_event "$t" '.event == "open" and .path == "/tmp/file" and (.flags | contains("O_CREAT")) and .result >= 0' ||
        fail "no open of /tmp/file: $(grep '"open"' "$t" | head -20)"
    has_event "$t" '.event == "connect" and .address == "127.0.0.1:7777" and .result == 0' ||
        fail "no connect to 127.0.0.1:7777: $(grep connect "$t")"
    has_event "$t" '.event == "accept" and .port == 7777 and (.peer | contains("127.0.0.1]:") or startswith("127.0.0.1:")) and .result >= 0' ||
        fail "no accept on 7777: $(grep accept "$t")"
    has_event "$t" '.event == "fork" and .child > 1 and .child_host_pid > 0' || fail "no fork"
    # The container's PID 1 is the shell; its exit is the container's.
    expect_eq "$(jq -r 'select(.event == "exit" and .pid == 1) | .code' "$t")" 3 "pid 1's exit code"
    expect_eq "$(exit_code_of a)" 3 "a's exit code"
    # Nothing stays attached once the session is over.
    wait_for 30 programs_back_to "$before"
    expect_rc 0 rm -f a b
    assert_clean
}

test_run_trace_records_the_creation_and_a_short_command() {
    need_trace
    expect_rc 0 run --name r --trace "$TESTDIR/run.txt" busybox sh -c 'mkdir /x; /bin/true'
    local t
    t=$(cat "$TESTDIR/run.txt")
    expect_contains "$t" "EVENT"
    # The init's steps inside the cgroup, before the command runs ...
    expect_contains "$t" " pivot_root=. put_old=. result=0"
    # ... then both execs and the mkdir.
    expect_contains "$t" " exec    filename=/bin/sh argv=[sh -c \"mkdir /x; /bin/true\"]"
    expect_contains "$t" " exec    filename=/bin/true argv=[/bin/true]"
    expect_contains "$t" " mkdir   path=/x mode=0777 result=0"
    expect_contains "$t" " exit    code=0"
    grep -q '^[0-9:.]* r  ' "$TESTDIR/run.txt" || fail "lines do not name the container r: $t"
    # A second start appends; JSON with the events chosen.
    expect_rc 0 start r
    expect_rc 0 wait r
    expect_eq "$(grep -c 'filename=/bin/true' "$TESTDIR/run.txt")" 2 "execs of /bin/true after two starts"
    mr run --rm --trace "$TESTDIR/run.json" --trace-format json --trace-events exec,exit busybox sh -c 'exit 4'
    expect_eq "$RC" 4 "run rc ($ERR)"
    expect_eq "$(jq -r .event "$TESTDIR/run.json" | tr '\n' ' ')" "exec exit " "the JSON trace's events"
    expect_eq "$(jq -r 'select(.event == "exit") | .code' "$TESTDIR/run.json")" 4 "the exit code in the trace"
    expect_rc 0 rm r
    assert_clean
}

# The reader leaves the ring alone for a moment after each read (a busy
# container is read in batches): a burst must still all come out while
# the container lives, not only when it ends.
test_trace_reads_a_burst_while_the_container_lives() {
    need_trace
    mkdir "$TESTDIR/sync"
    expect_rc 0 run -d --name burst -v "$TESTDIR/sync:/sync" busybox sh -c '
        echo ready
        while [ ! -e /sync/go ]; do sleep 0.05; done
        i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i + 1)); done
        echo finished; sleep 1000'
    wait_for 30 log_has burst ready
    start_trace "$TESTDIR/burst.txt" --all
    touch "$TESTDIR/sync/go"
    wait_for 30 log_has burst finished
    # shellcheck disable=SC2016
    wait_for 30 sh -c '[ "$(grep -c "filename=/bin/true" "$1")" -ge 300 ]' - "$TESTDIR/burst.txt"
    expect_eq "$(status_of burst)" running "the container while its burst is read"
    kill -INT "$TRACE_PID"
    wait "$TRACE_PID" || fail "minirt trace failed: $(cat "$TESTDIR/burst.txt.err")"
    expect_rc 0 rm -f burst
    assert_clean
}

# A process whose threads all die together (its main returns: exit_group)
# has one exit, and each thread it made a clone.
test_trace_reports_one_exit_for_threads_that_die_together() {
    need_trace
    mkdir "$TESTDIR/sync"
    expect_rc 0 run -d --name th -v "$TESTDIR/sync:/sync" busybox sh -c '
        echo ready
        while [ ! -e /sync/go ]; do sleep 0.05; done
        cpu_hog --threads 4 --work 20 --report-ms 0
        echo finished; sleep 1000'
    wait_for 30 log_has th ready
    local t=$TESTDIR/th.json
    start_trace "$t" --events exit,clone --format json th
    touch "$TESTDIR/sync/go"
    wait_for 30 log_has th finished
    wait_for 30 has_event "$t" '.event == "exit" and .comm == "cpu_hog"'
    kill -INT "$TRACE_PID"
    wait "$TRACE_PID" || fail "minirt trace failed: $(cat "$t.err")"
    expect_eq "$(jq -s '[.[] | select(.event == "exit" and .comm == "cpu_hog")] | length' "$t")" 1 \
        "exits of the 4-thread cpu_hog"
    expect_eq "$(jq -s '[.[] | select(.event == "clone" and .comm == "cpu_hog")] | length' "$t")" 3 \
        "clones of cpu_hog"
    expect_rc 0 rm -f th
    assert_clean
}

# A trace file whose filesystem fills up ends the trace, not the container.
test_run_trace_to_a_full_disk_leaves_the_container_alone() {
    need_trace
    mkdir "$TESTDIR/small"
    mount -t tmpfs -o size=32k tmpfs "$TESTDIR/small"
    mr run --name full --trace "$TESTDIR/small/t.txt" busybox sh -c \
        'i=0; while [ $i -lt 500 ]; do /bin/true; i=$((i + 1)); done; echo finished'
    umount "$TESTDIR/small"
    expect_eq "$RC" 0 "run rc ($ERR)"
    expect_contains "$OUT" finished
    expect_rc 0 logs full
    expect_contains "$OUT" "minirt: --trace: the trace file: write: No space left on device"
    expect_eq "$(grep -c 'minirt: --trace:' <<<"$OUT")" 1 "notes of the failed trace"
    expect_rc 0 rm full
    assert_clean
}

test_trace_all_follows_a_container_started_later() {
    need_trace
    local before
    before=$(trace_programs)
    mkdir "$TESTDIR/sync"
    start_trace "$TESTDIR/all.txt" --all --events exec
    expect_rc 0 run --rm --name later busybox /bin/true
    wait_for 30 grep -q ' later .* exec    filename=/bin/true' "$TESTDIR/all.txt"
    # The cgroup parent went with later (the last container in it) and
    # comes back, another group with another id, with the next one; the
    # trace follows it (its sleeps show once it does).
    wait_for 30 no_dir "$(test_cg_parent)"
    expect_rc 0 run -d --name again -v "$TESTDIR/sync:/sync" busybox sh -c \
        'while [ ! -e /sync/go ]; do sleep 0.05; done; /bin/true'
    wait_for 30 grep -q ' again .* exec .*argv=\[sleep 0.05\]' "$TESTDIR/all.txt"
    touch "$TESTDIR/sync/go"
    wait_for 30 grep -q ' again .* exec    filename=/bin/true' "$TESTDIR/all.txt"
    kill -INT "$TRACE_PID"
    local rc=0
    wait "$TRACE_PID" || rc=$?
    expect_eq "$rc" 0 "trace rc after SIGINT ($(cat "$TESTDIR/all.txt.err"))"
    # The shims and CLIs around them are not containers: only theirs.
    expect_eq "$(grep -v -c -e ' later ' -e ' again ' -e '^TIME ' "$TESTDIR/all.txt")" 0 \
        "lines of others: $(cat "$TESTDIR/all.txt")"
    wait_for 30 programs_back_to "$before"
    expect_rc 0 rm again
    assert_clean
}

no_dir() { [ ! -d "$1" ]; }

# --since-start with no other container: the trace makes the cgroup parent,
# and the container's group is born in it, its init traced from birth.
test_trace_since_start_of_a_created_container_to_a_file() {
    need_trace
    expect_rc 0 create --name c busybox sh -c 'mkdir /q; exit 2'
    start_trace "$TESTDIR/stdout.txt" --since-start --events exec,mkdir,exit -o "$TESTDIR/ss.txt" c
    expect_contains "$(cat "$TESTDIR/stdout.txt.err")" "from its next start"
    expect_rc 0 start c
    local rc=0
    wait "$TRACE_PID" || rc=$?
    expect_eq "$rc" 0 "trace rc ($(cat "$TESTDIR/stdout.txt.err"))"
    local t
    t=$(cat "$TESTDIR/ss.txt")
    expect_eq "$(cat "$TESTDIR/stdout.txt")" "" "stdout with --output"
    expect_eq "$(stat -c %a "$TESTDIR/ss.txt")" 600 "the output's mode"
    # The init's own steps come first: it is traced from its birth.
    expect_contains "$t" " c                      1 "
    expect_contains "$t" " minirt-shim      mkdir   path=pts"
    expect_contains "$t" " exec    filename=/bin/sh argv=[sh -c \"mkdir /q; exit 2\"]"
    expect_contains "$t" " mkdir   path=/q mode=0777 result=0"
    expect_contains "$t" " exit    code=2"
    expect_rc 0 rm c
    assert_clean
}

# --since-start while another container holds the cgroup parent, which
# goes with it and comes back with the traced one's start; the other one
# is quiet, so nothing but the trace's own watch tells it c has ended.
test_trace_since_start_follows_a_parent_made_again() {
    need_trace
    mkdir "$TESTDIR/sync"
    expect_rc 0 run -d --name quiet busybox sleep 1000
    expect_rc 0 create --name c -v "$TESTDIR/sync:/sync" busybox sh -c \
        'while [ ! -e /sync/go ]; do sleep 0.05; done; mkdir /q; exit 2'
    start_trace "$TESTDIR/ss.txt" --since-start --events exec,mkdir,exit c
    expect_rc 125 trace --since-start quiet
    expect_contains "$ERR" "running already"
    expect_rc 0 rm -f quiet
    wait_for 30 no_dir "$(test_cg_parent)"
    expect_rc 0 start c
    wait_for 30 grep -q ' c .* exec .*argv=\[sleep 0.05\]' "$TESTDIR/ss.txt"
    touch "$TESTDIR/sync/go"
    local rc=0
    wait "$TRACE_PID" || rc=$?
    expect_eq "$rc" 0 "trace rc ($(cat "$TESTDIR/ss.txt.err"))"
    local t
    t=$(cat "$TESTDIR/ss.txt")
    expect_contains "$t" " mkdir   path=/q mode=0777 result=0"
    expect_contains "$t" " exit    code=2"
    expect_not_contains "$t" " quiet " "the other container's events"
    expect_rc 0 rm c
    assert_clean
}

test_trace_signals_from_outside_reach_the_container() {
    need_trace
    expect_rc 0 run -d --name s busybox sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has s ready
    start_trace "$TESTDIR/sig.json" --events signal --format json s
    expect_rc 0 kill -s USR1 s
    wait_for 30 log_has s got-usr1
    wait_for 30 grep -q '"signal":"USR1"' "$TESTDIR/sig.json"
    has_event "$TESTDIR/sig.json" '.event == "signal" and .signal == "USR1" and .pid == 1 and .from_host_pid > 0' ||
        fail "no USR1 to pid 1: $(cat "$TESTDIR/sig.json")"
    expect_rc 0 rm -f s
    local rc=0
    wait "$TRACE_PID" || rc=$?
    expect_eq "$rc" 0 "trace rc once s was removed"
    has_event "$TESTDIR/sig.json" '.event == "signal" and .signal == "KILL" and .pid == 1' ||
        fail "no KILL of rm -f: $(cat "$TESTDIR/sig.json")"
    assert_clean
}

test_trace_refusals_change_nothing() {
    need_trace
    expect_rc 125 trace
    expect_contains "$ERR" "needs a container"
    expect_rc 125 trace nosuch
    expect_contains "$ERR" "nosuch"
    expect_rc 0 create --name stopped busybox true
    expect_rc 125 trace stopped
    expect_contains "$ERR" "container stopped is not running"
    expect_rc 125 trace --events exec,bogus stopped
    expect_contains "$ERR" 'unknown trace event "bogus"'
    expect_rc 125 trace --format yaml stopped
    expect_contains "$ERR" 'unknown trace format "yaml"'
    expect_rc 125 trace --all stopped
    expect_rc 125 run --trace-events exec busybox true
    expect_contains "$ERR" "go with --trace FILE"
    expect_rc 125 run --trace "$TESTDIR/no/such/dir/t" busybox true
    expect_contains "$ERR" "is not a directory"
    expect_rc 125 run --trace "$TESTDIR/t" --trace-events nope busybox true
    expect_contains "$ERR" "invalid --trace-events"
    [ ! -e "$TESTDIR/t" ] || fail "a refused run made its trace file"
    mr list -q
    expect_eq "$OUT" "$(json_field stopped .id | cut -c1-12)" "containers after the refusals"
    expect_rc 0 rm stopped
    assert_clean
}
