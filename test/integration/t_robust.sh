# shellcheck shell=bash
# Robustness: no zombies or stray shims, shim and CLI crashes, races between
# commands, exit codes that are never lost, loss of /run, corrupt state
# files, and bad input that must change nothing.

# --- helpers (not tests) ---------------------------------------------------


# Everything minirt made for containers, one path a line (for snapshots).
rb_snapshot() {
    {
        find "$MINIRT_STORAGE/containers" "$MINIRT_STORAGE/names" "$MINIRT_ROOT" -mindepth 1 2>/dev/null || true
        find "$(test_cg_parent)" -mindepth 1 -type d 2>/dev/null || true
    } | sort
}

# Zombies whose parent is the runner, this test's shell, or any minirt shim.
rb_zombies() {
    zombies
    local shims
    shims=$(ps -eo pid=,comm= | awk '$2 == "minirt-shim" { print $1 }' | tr '\n' ' ')
    ps -eo pid=,ppid=,stat=,comm= | awk -v me="$$" -v shims=" $shims " \
        '$3 ~ /^Z/ && ($2 == me || index(shims, " " $2 " ") > 0)'
}
rb_no_zombies() { [ -z "$(rb_zombies)" ]; }

rb_id_of() { json_field "$1" .id; }
rb_shim_comm_ok() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = minirt-shim ]; }

# --- 1. no zombies, no shims left ------------------------------------------

test_no_zombies_after_runs_stops_kills() {
    local shims=() s
    # Foreground runs, including one whose payload leaves orphans behind.
    expect_rc 0 run --name fg1 busybox true
    expect_rc 3 run --name fg2 busybox sh -c 'sleep 0.1 & sleep 0.1 & exit 3'
    expect_rc 0 run --name fg3 busybox sh -c '(sleep 0.2 &) ; true'

    # stop (init ignores TERM: killed after -t 1)
    expect_rc 0 run -d --name st busybox sleep 30
    shims+=("$(shim_of st)")
    # kill -s KILL
    expect_rc 0 run -d --name kk busybox sleep 30
    shims+=("$(shim_of kk)")
    # kill -s TERM with a trap that exits
    expect_rc 0 run -d --name kt busybox sh -c 'trap "exit 0" TERM; echo ready; sleep 30 & wait'
    shims+=("$(shim_of kt)")
    # children inside the container that become zombies of init's subtree
    expect_rc 0 run -d --name orph busybox sh -c 'for i in 1 2 3; do (sleep 30 &); done; sleep 30'
    shims+=("$(shim_of orph)")
    for s in "${shims[@]}"; do rb_shim_comm_ok "$s" || fail "pid $s is not a minirt-shim"; done
    wait_for 30 log_has kt ready

    expect_rc 0 stop -t 1 st
    expect_rc 0 kill -s KILL kk
    expect_rc 0 kill -s TERM kt
    expect_rc 0 stop -t 0 orph
    wait_for 30 is_exited kk
    wait_for 30 is_exited kt
    expect_eq "$(exit_code_of st)" 137 "st exit code"
    expect_eq "$(exit_code_of kk)" 137 "kk exit code"
    expect_eq "$(exit_code_of kt)" 0 "kt exit code"
    for s in "${shims[@]}"; do wait_for 30 process_gone "$s"; done
    wait_for 30 rb_no_zombies
    mr list -a --format json
    expect_eq "$(jq -r '[.[] | select(.status != "exited")] | length' <<<"$OUT")" 0 "non-exited containers"
    expect_rc 0 rm fg1 fg2 fg3 st kk kt orph
    wait_for 30 rb_no_zombies
    assert_clean
}

# --- 2. kill -9 of a shim --------------------------------------------------

test_shim_killed_container_dies_shim_lost() {
    expect_rc 0 run -d --name s busybox sleep 100
    local shim pid cg
    shim=$(shim_of s)
    pid=$(pid_of s)
    cg=$(json_field s .state.cgroup)
    { [ "$shim" -gt 0 ] && [ "$pid" -gt 0 ]; } || fail "no pids in state: shim=$shim pid=$pid"
    expect_eq "$(cat "/proc/$shim/comm")" minirt-shim "comm of shim pid $shim"
    { [ -n "$cg" ] && [ -d "$cg" ]; } || fail "cgroup '$cg' of a running container does not exist"
    # The shim's sign of life, which `list` trusts: a lock on its state dir.
    local dir
    dir="$MINIRT_ROOT/$(json_field s .id)"
    [ -d "$dir" ] || fail "no state dir $dir"
    if flock --nonblock --shared "$dir" true; then fail "the running shim holds no lock on $dir"; fi
    kill -9 "$shim"
    wait_for 30 process_gone "$pid"
    wait_for 30 process_gone "$shim"
    flock --nonblock --shared "$dir" true || fail "the lock on $dir outlived the killed shim"
    mr list --format json
    expect_eq "$RC" 0 "list rc"
    expect_eq "$(jq -r '.[] | select(.name == "s") | .status' <<<"$OUT")" exited "list status"
    expect_eq "$(jq -r '.[] | select(.name == "s") | .reason' <<<"$OUT")" shim-lost "list reason"
    expect_eq "$(status_of s)" exited "inspect status"
    expect_eq "$(json_field s .reason)" shim-lost "inspect reason"
    # The exit code is unknown: it must not be reported as some number.
    expect_eq "$(exit_code_of s)" null "exit code of a shim-lost container"
    expect_rc 0 rm s
    [ ! -e "$cg" ] || fail "cgroup $cg still exists after rm"
    wait_for 30 rb_no_zombies
    assert_clean
}

# The shim is the small static minirt-shim exec'd beside minirt, not a fork
# of the CLI: it must map none of the CLI's libraries (a regression would
# bring back their memory in every shim; figure 4 of bench/run measures it).
test_shim_is_its_own_static_program() {
    expect_rc 0 run -d --name s busybox sleep 100
    local shim want out rc=0
    shim=$(shim_of s)
    [ "$shim" -gt 0 ] || fail "no shim pid in the state"
    want=$(dirname "$(readlink -f "$MINIRT")")/minirt-shim
    expect_eq "$(readlink "/proc/$shim/exe")" "$want" "executable of shim pid $shim"
    if grep -q '/libasan\.so' "/proc/$shim/maps"; then
        # The sanitizer build (build-asan): its runtimes are shared libraries,
        # so that shim is linked dynamically on purpose (runtime/meson.build).
        echo "sanitizer build: the shim's static linking is not checked"
    else
        if grep -E 'libboost|libarchive|libstdc\+\+|\.so' "/proc/$shim/maps"; then
            fail "the shim maps shared libraries (see above)"
        fi
        # static-pie, not -static: an ELF of type ET_DYN (3), not ET_EXEC (2),
        # so that the kernel loads it at a random address.
        expect_eq "$(od -An -tu2 -j16 -N2 "$want" | tr -d ' ')" 3 "ELF type of $want (3: static-pie)"
    fi
    # Without its descriptors it refuses to run, saying what it is.
    out=$("$want" /run/x /var/lib/x 0123 2>&1 3>&- 4>&-) || rc=$?
    expect_eq "$rc" 125 "minirt-shim run by hand"
    expect_contains "$out" "not meant to be run by hand"
    expect_rc 0 rm -f s
}

# --- 3. kill -9 of the CLI -------------------------------------------------

test_cli_killed_during_foreground_run() {
    # The container writes once more after its CLI is gone (when /go
    # appears): proof that it ran on, and that its shim still serves it.
    "$MINIRT" run --name x busybox sh -c 'while [ ! -e /go ]; do sleep 0.05; done; echo after-cli; sleep 30' &
    local cli=$!
    wait_for 30 is_running x
    local shim pid
    shim=$(shim_of x)
    pid=$(pid_of x)
    kill -9 "$cli"
    wait "$cli" 2>/dev/null || true
    expect_rc 0 exec x touch /go
    wait_for 30 log_has x after-cli
    is_running x || fail "container died with its CLI: $(status_of x)"
    kill -0 "$shim" || fail "shim $shim died with the CLI"
    kill -0 "$pid" || fail "init $pid died with the CLI"
    expect_rc 0 stop -t 0 x
    expect_eq "$(status_of x)" exited "status after stop"
    expect_eq "$(exit_code_of x)" 137 "exit code after stop"
    wait_for 30 process_gone "$shim"
    expect_rc 0 rm x
    wait_for 30 rb_no_zombies
    assert_clean
}

test_cli_killed_early_leaves_nothing_half_made() {
    local i cli delay id
    for i in $(seq 0 11); do
        delay=$(printf '0.%03d' $(((i * 2) % 24)))
        "$MINIRT" run --name "early$i" busybox sleep 30 >/dev/null 2>&1 &
        cli=$!
        # Not synchronisation: a spread of delays (0 to 22 ms) so that the
        # kill -9 lands at different points of the start.
        sleep "$delay"
        kill -9 "$cli" 2>/dev/null || true
        wait "$cli" 2>/dev/null || true
    done
    # No wait needed: every CLI is gone, so no container can appear any
    # more, and a shim still starting one holds its lock, which rm -f
    # waits for.
    # Whatever exists must be listable and removable.
    mr list -a --format json
    expect_eq "$RC" 0 "list rc"
    jq -e . <<<"$OUT" >/dev/null || fail "list output is not JSON: $OUT"
    mr list -q --no-trunc
    for id in $OUT; do
        expect_rc 0 rm -f "$id"
    done
    wait_for 30 rb_no_zombies
    assert_clean
    # No name stays taken by a half-made container.
    for i in $(seq 0 11); do expect_rc 0 run --rm --name "early$i" busybox true; done
    assert_clean
}

# What a CLI killed between creating the container dir and writing its
# config.json leaves: the dir alone. It must not be stuck forever.
test_half_created_container_is_removable() {
    local id
    id=$(printf 'ab%.0s' $(seq 32))
    mkdir -p "$MINIRT_STORAGE/containers/$id/upper" "$MINIRT_STORAGE/containers/$id/work" \
        "$MINIRT_STORAGE/containers/$id/merged"
    mkdir -p "$MINIRT_ROOT/$id"
    echo '{}' >"$MINIRT_ROOT/$id/state.json.tmp.1"
    mr list -a --format json
    expect_eq "$RC" 0 "list rc"
    expect_rc 0 rm -f "$id"
    [ ! -e "$MINIRT_STORAGE/containers/$id" ] || fail "rm -f $id exited 0 but left $MINIRT_STORAGE/containers/$id"
    [ ! -e "$MINIRT_ROOT/$id" ] || fail "rm -f $id left $MINIRT_ROOT/$id"
    assert_clean
}

# --- 5. racing commands ----------------------------------------------------

test_stop_races_self_exit() {
    local i d
    for i in 1 2 3 4 5 6; do
        d=$(printf '0.%02d' $((24 + i * 2)))
        expect_rc 0 run -d --name r busybox sh -c 'sleep 0.3'
        # Not synchronisation: delays around the container's own 0.3 s, so
        # the stop lands before, at and after its exit.
        sleep "$d"
        expect_rc 0 stop -t 2 r
        expect_eq "$(status_of r)" exited "status after stop (delay $d)"
        case "$(exit_code_of r)" in 0 | 137 | 143) ;; *) fail "exit code $(exit_code_of r) after stop racing exit" ;; esac
        expect_rc 0 rm r
    done
    wait_for 30 rb_no_zombies
    assert_clean
}

test_two_stops_at_once() {
    expect_rc 0 run -d --name t busybox sleep 30
    local shim
    shim=$(shim_of t)
    "$MINIRT" stop -t 1 t >stop1.out 2>stop1.err &
    local p1=$!
    "$MINIRT" stop -t 1 t >stop2.out 2>stop2.err &
    local p2=$!
    local r1=0 r2=0
    wait $p1 || r1=$?
    wait $p2 || r2=$?
    expect_eq "$r1" 0 "first stop rc ($(cat stop1.err))"
    expect_eq "$r2" 0 "second stop rc ($(cat stop2.err))"
    expect_eq "$(status_of t)" exited "status"
    expect_eq "$(exit_code_of t)" 137 "exit code"
    expect_eq "$(json_field t .reason)" stopped "reason"
    process_gone "$shim" || fail "shim $shim alive after both stops returned"
    expect_rc 0 rm t
    assert_clean
}

test_rm_force_during_stop() {
    expect_rc 0 run -d --name u busybox sh -c 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.1; done'
    wait_for 30 log_has u ready
    # A stop that waits out its -t (u carries on after the TERM) ...
    "$MINIRT" stop -t 600 u >stop.out 2>stop.err &
    local p=$!
    wait_for 30 log_has u got-term
    # ... while rm -f removes the container.
    expect_rc 0 rm -f u
    local r=0
    wait $p || r=$?
    expect_eq "$r" 0 "stop rc while rm -f removed it ($(cat stop.err))"
    expect_rc 125 inspect u
    wait_for 30 rb_no_zombies
    assert_clean
}

# --- 6. exit code never lost -----------------------------------------------

test_foreground_run_status_survives_rm_force() {
    "$MINIRT" run --name f busybox sleep 30 >/dev/null 2>fg.err &
    local cli=$!
    wait_for 30 is_running f
    expect_rc 0 rm -f f
    local r=0
    wait $cli || r=$?
    # rm -f kills the container with SIGKILL: its status is 137.
    expect_eq "$r" 137 "foreground run rc after rm -f ($(cat fg.err))"

    # Same race against an exit of its own: the run gets 5 or 137, never 125.
    local i
    for i in 1 2 3 4; do
        "$MINIRT" run --name g busybox sh -c 'sleep 0.3; exit 5' >/dev/null 2>fg.err &
        cli=$!
        # Running, or already exited on a loaded host: either way created.
        wait_for 30 is_running_or_exited g
        # Not synchronisation: delays (0.22 to 0.28 s) around the
        # container's own exit at 0.3 s, so rm -f races it.
        sleep "0.2$((i * 2))"
        expect_rc 0 rm -f g
        r=0
        wait $cli || r=$?
        case "$r" in 5 | 137) ;; *) fail "foreground run rc $r after racing rm -f ($(cat fg.err))" ;; esac
    done
    wait_for 30 rb_no_zombies
    assert_clean
}

test_wait_after_cli_gone() {
    expect_rc 0 run -d --name w busybox sh -c 'sleep 0.5; exit 3'
    expect_rc 0 wait w
    expect_eq "$OUT" 3 "wait output"
    expect_rc 0 wait w
    expect_eq "$OUT" 3 "wait output, second time"

    "$MINIRT" run --name v busybox sh -c 'sleep 1; exit 4' >/dev/null &
    local cli=$!
    wait_for 30 is_running v
    kill -9 "$cli"
    wait "$cli" 2>/dev/null || true
    expect_rc 0 wait v
    expect_eq "$OUT" 4 "wait output after the CLI was killed"
    expect_eq "$(exit_code_of v)" 4 "exit code"
    expect_rc 0 rm w v
    assert_clean
}

test_exit_codes_of_stop_and_kill() {
    local c
    for c in 0 1 3; do
        expect_rc "$c" run --name e$c busybox sh -c "exit $c"
        expect_eq "$(exit_code_of e$c)" "$c" "recorded exit code $c"
        expect_rc 0 wait e$c
        expect_eq "$OUT" "$c" "wait prints $c"
    done
    # trap TERM → exit 0, after stop
    expect_rc 0 run -d --name t0 busybox sh -c 'trap "exit 0" TERM; echo ready; sleep 30 & wait'
    # trap TERM → exit 143
    expect_rc 0 run -d --name t143 busybox sh -c 'trap "exit 143" TERM; echo ready; sleep 30 & wait'
    # TERM ignored → SIGKILL after the timeout
    expect_rc 0 run -d --name ign busybox sh -c 'trap "" TERM; echo ready; sleep 30 & wait'
    # kill -s KILL
    expect_rc 0 run -d --name k9 busybox sleep 30
    wait_for 30 log_has t0 ready
    wait_for 30 log_has t143 ready
    wait_for 30 log_has ign ready
    expect_rc 0 stop -t 10 t0
    expect_eq "$(exit_code_of t0)" 0 "trap exit 0 after stop"
    expect_eq "$(json_field t0 .reason)" stopped "t0 reason"
    expect_rc 0 stop -t 10 t143
    expect_eq "$(exit_code_of t143)" 143 "trap exit 143 after stop"
    expect_rc 0 stop -t 1 ign
    expect_eq "$(exit_code_of ign)" 137 "TERM ignored, stop -t 1"
    expect_eq "$(json_field ign .reason)" stopped "ign reason"
    expect_rc 0 kill -s KILL k9
    expect_rc 0 wait k9
    expect_eq "$OUT" 137 "wait after kill -s KILL"
    expect_eq "$(json_field k9 .reason)" killed "k9 reason"
    expect_rc 0 rm e0 e1 e3 t0 t143 ign k9
    assert_clean
}

# --- 7. state survives the loss of /run ------------------------------------

test_state_survives_loss_of_run() {
    expect_rc 0 run -d --name p busybox sh -c 'date >> /marker; sleep 30'
    local id upper
    id=$(rb_id_of p)
    upper="$MINIRT_STORAGE/containers/$id/upper"
    wait_for 30 test -s "$upper/marker"
    expect_rc 0 stop -t 0 p
    rm -rf "${MINIRT_ROOT:?}"/*
    mr list --format json
    expect_eq "$RC" 0 "list rc after /run was emptied"
    expect_eq "$(jq -r '.[] | select(.name == "p") | .status' <<<"$OUT")" exited "status after /run was emptied"
    expect_eq "$(status_of p)" exited "inspect status"
    expect_rc 0 start p
    wait_for 30 is_running p
    # The state written anew carries what list shows, copied from the config.
    expect_eq "$(jq -r '"\(.name) \(.image) \(.command[0])"' "$MINIRT_ROOT/$id/state.json")" "p busybox sh" "summary in the new state.json"
    mr list --format json
    expect_eq "$(jq -r '.[] | select(.name == "p") | .status' <<<"$OUT")" running "status after start"
    wait_for 30 eval '[ "$(wc -l <"$upper/marker")" = 2 ]'
    expect_rc 0 stop -t 0 p
    expect_rc 0 rm p
    assert_clean
}

# --- 8. corrupt state.json / config.json -----------------------------------

rb_corrupt() { # FILE KIND
    local f=$1 kind=$2 size
    case $kind in
        truncate)
            size=$(stat -c %s "$f")
            truncate -s $((size / 2)) "$f"
            ;;
        garbage) printf '\x01\xff garbage {{{ not json' >"$f" ;;
        empty) : >"$f" ;;
        wrongtype)
            case $f in
                */state.json) jq '.pid = "abc"' "$f" >"$f.new" ;;
                */config.json) jq '.process.args = "abc"' "$f" >"$f.new" ;;
                *) jq '.command = "abc"' "$f" >"$f.new" ;;
            esac
            mv "$f.new" "$f"
            ;;
        array) echo '[1, 2, 3]' >"$f" ;;
        huge)
            { head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' ' '; echo '{}'; } >"$f"
            ;;
    esac
}

test_corrupt_files_affect_only_their_container() {
    # Running for the whole test, however slow the machine (under ASan its
    # dozen damaged containers took past 30 s in CI).
    expect_rc 0 run -d --name good1 busybox sleep 1000
    expect_rc 0 run --name good2 busybox true
    local which kind id f
    for which in state config; do
        for kind in truncate garbage empty wrongtype array huge; do
            expect_rc 0 run --name broken busybox true
            id=$(rb_id_of broken)
            if [ $which = state ]; then f="$MINIRT_ROOT/$id/state.json"; else f="$MINIRT_STORAGE/containers/$id/minirt.json"; fi
            [ -f "$f" ] || fail "no $f"
            rb_corrupt "$f" $kind
            local what
            what="$(basename "$f") $kind"

            mr list --format json
            expect_eq "$RC" 0 "list rc ($what; $ERR)"
            jq -e . <<<"$OUT" >/dev/null || fail "list --format json not JSON ($what)"
            expect_eq "$(jq -r '[.[] | select(.name == "good1" or .name == "good2")] | length' <<<"$OUT")" 2 "good containers listed ($what)"
            if [ $which = state ]; then
                expect_eq "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .status' <<<"$OUT")" error "broken status ($what)"
                expect_contains "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .error' <<<"$OUT")" "$f" "list .error ($what)"
            else
                # list reads state.json only (it holds a copy of what list
                # shows); the damage shows where the config is needed.
                expect_eq "$(jq -r --arg id "$id" '.[] | select(.id == $id) | "\(.name) \(.status)"' <<<"$OUT")" \
                    "broken exited" "broken listed from its state ($what)"
            fi
            expect_rc 0 list
            expect_contains "$OUT" good1 "table list ($what)"
            expect_contains "$OUT" good2 "table list ($what)"
            mr inspect broken
            expect_eq "$RC" 125 "inspect broken rc ($what)"
            expect_contains "$ERR" "$f" "inspect error ($what)"
            [ "$(wc -l <<<"$ERR")" = 1 ] || fail "inspect error is not one line ($what): $ERR"
            mr status broken
            expect_eq "$RC" 125 "status broken rc ($what)"
            expect_contains "$ERR" "$f" "status error ($what)"
            # The others still work.
            expect_rc 0 start good2
            expect_rc 0 stop -t 0 good2
            expect_eq "$(status_of good1)" running "good1 ($what)"
            expect_rc 0 rm -f broken
            [ ! -e "$MINIRT_STORAGE/containers/$id" ] || fail "rm -f broken left its dir ($what)"
            [ ! -e "$MINIRT_ROOT/$id" ] || fail "rm -f broken left its state dir ($what)"
            expect_rc 125 inspect broken
        done
    done
    # A damaged OCI spec (config.json): the container is listed and
    # inspected from its own record; start refuses, naming the file, and
    # leaves it as it was (exited, removable).
    for kind in truncate garbage wrongtype; do
        expect_rc 0 run --name broken busybox true
        id=$(rb_id_of broken)
        f="$MINIRT_STORAGE/containers/$id/config.json"
        rb_corrupt "$f" $kind
        expect_rc 0 inspect broken
        mr start broken
        expect_eq "$RC" 125 "start with config.json $kind"
        expect_contains "$ERR" "config.json" "start error (config.json $kind)"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "start error is not one line (config.json $kind): $ERR"
        expect_eq "$(status_of broken)" exited "broken after the refused start (config.json $kind)"
        expect_rc 0 rm -f broken
    done
    expect_rc 0 rm -f good1 good2
    assert_clean
}

# A running container whose state.json got corrupted: stop/rm -f still work.
test_corrupt_state_of_running_container() {
    expect_rc 0 run -d --name live busybox sleep 30
    local id pid shim
    id=$(rb_id_of live)
    pid=$(pid_of live)
    shim=$(shim_of live)
    printf 'garbage' >"$MINIRT_ROOT/$id/state.json"
    mr list --format json
    expect_eq "$RC" 0 "list rc"
    expect_rc 0 rm -f live
    local deadline=$((SECONDS + 30))
    while ! { process_gone "$pid" && process_gone "$shim"; } && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if ! process_gone "$pid" || ! process_gone "$shim"; then
        # Clean up what minirt left (pids read from its state), then fail.
        # Killing the init lets the shim tear down (cgroup) and exit.
        kill -9 "$pid" 2>/dev/null || true
        wait_for 30 process_gone "$shim"
        fail "rm -f of a container with a corrupt state.json exited 0 but left its init ($pid) and shim ($shim) running"
    fi
    [ ! -e "$MINIRT_STORAGE/containers/$id" ] || fail "rm -f left $MINIRT_STORAGE/containers/$id"
    wait_for 30 rb_no_zombies
    assert_clean
}

# --- 9. bad input changes nothing ------------------------------------------

test_bad_input_changes_nothing() {
    expect_rc 0 run --name dup busybox true
    local before after long args
    long=$(printf 'a%.0s' $(seq 300))
    before=$(rb_snapshot)
    local -a cases=(
        "run nosuchimage true"
        "run --bogus-flag busybox true"
        "run --name dup busybox true"
        "run --name ../x busybox true"
        "run --name a/b busybox true"
        "run --name '' busybox true"
        "run --name $long busybox true"
        "run --name a$'\t'b busybox true"
        "run --name a$'\n'b busybox true"
        "run --name a$'\e'[31mb busybox true"
        "run --workdir relative busybox true"
        "run -w relative/dir busybox true"
        "run --network bogus busybox true"
        "run -d --network bogus busybox true"
        "run --rm --name ../x busybox true"
        "run"
    )
    local c
    for c in "${cases[@]}"; do
        eval "args=($c)"
        # shellcheck disable=SC2154
        mr "${args[@]}"
        [ "$RC" = 125 ] || fail "minirt $c: exited $RC, want 125 (stderr: $ERR)"
        [ -n "$ERR" ] || fail "minirt $c: no error message"
        [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "minirt $c: error is not one line: $ERR"
        case "$ERR" in *$'\e'* | *$'\t'*) fail "minirt $c: control characters echoed: $ERR" ;; esac
        after=$(rb_snapshot)
        [ "$before" = "$after" ] || fail "minirt $c changed the state: $(diff <(echo "$before") <(echo "$after"))"
    done
    expect_rc 0 list -q
    expect_eq "$(wc -l <<<"$OUT")" 1 "containers after bad input"
    expect_rc 0 rm dup
    assert_clean
}

# --- 10. exit codes --------------------------------------------------------

test_exit_codes_126_127_own_and_signal() {
    mr run --name ne busybox /etc/passwd
    expect_eq "$RC" 126 "non-executable file ($ERR)"
    expect_eq "$(printf '%s\n' "$ERR" | wc -l)" 1 "126 error lines"
    mr run --name dir busybox /etc
    expect_eq "$RC" 126 "a directory as command ($ERR)"
    mr run --name nf busybox nosuchcommand
    expect_eq "$RC" 127 "no such command ($ERR)"
    mr run --name nfp busybox /no/such/file
    expect_eq "$RC" 127 "no such path ($ERR)"
    mr run -d --name nfd busybox nosuchcommand
    expect_eq "$RC" 127 "no such command, detached ($ERR)"
    expect_eq "$(status_of nf)" exited "status after 127"
    expect_eq "$(json_field nf .reason)" exec-failed "reason after 127"
    expect_eq "$(exit_code_of nf)" 127 "recorded 127"
    expect_eq "$(exit_code_of ne)" 126 "recorded 126"
    expect_rc 0 wait nfd
    expect_eq "$OUT" 127 "wait after 127"

    expect_rc 42 run --name own busybox sh -c 'exit 42'
    expect_rc 255 run --name own255 busybox sh -c 'exit 255'

    "$MINIRT" run --name sig busybox sleep 30 >/dev/null &
    local cli=$! r=0
    wait_for 30 is_running sig
    expect_rc 0 kill -s KILL sig
    wait $cli || r=$?
    expect_eq "$r" 137 "foreground run killed by SIGKILL"

    # A trapped signal (not fatal) that the payload turns into 128+N itself.
    "$MINIRT" run --name usr busybox sh -c 'trap "exit 138" USR1; echo ready; sleep 30 & wait' >/dev/null &
    cli=$!
    r=0
    wait_for 30 log_has usr ready
    expect_rc 0 kill -s USR1 usr
    wait $cli || r=$?
    expect_eq "$r" 138 "foreground run after SIGUSR1 trap"

    expect_rc 0 rm ne dir nf nfp nfd own own255 sig usr
    assert_clean
}

# A CLI `rm` killed part-way (e.g. after the container dir was renamed to
# .trash-<id>) must not leave garbage that nothing ever removes.
test_cli_killed_during_rm_leaves_nothing() {
    local i cli id
    for i in $(seq 0 15); do
        expect_rc 0 run -d --name "k$i" busybox true
        "$MINIRT" rm "k$i" >/dev/null 2>&1 &
        cli=$!
        # Not synchronisation: a spread of delays (0 to 9 ms) so that the
        # kill -9 lands at different points of the rm.
        sleep "$(printf '0.%03d' $((i % 10)))"
        kill -9 "$cli" 2>/dev/null || true
        wait "$cli" 2>/dev/null || true
    done
    mr list -q --no-trunc
    for id in $OUT; do expect_rc 0 rm -f "$id"; done
    # One more ordinary run and rm, which may collect leftovers of earlier ones.
    expect_rc 0 run --name last busybox true
    expect_rc 0 rm last
    assert_clean
}

# --- 10. records that lie, records lost, disks full (the attacker's list) ---

# A container whose "ready" line is in its log: it handles SIGTERM by
# exiting with CODE.
rb_run_ready() { # NAME CODE [RUN FLAGS...]
    local name=$1 code=$2
    shift 2
    expect_rc 0 run -d --name "$name" "$@" busybox sh -c \
        "trap 'exit $code' TERM; echo ready; while :; do sleep 0.1; done"
    wait_for 30 log_has "$name" ready
}

# A wrong PID in state.json: stop and rm -f find the container through its
# cgroup (the SIGTERM reaches the real init: it exits with its trap's code),
# and a host process the record names, even with its true start time, is
# never signalled.
test_wrong_pid_in_state_stop_and_rm_use_the_cgroup() {
    local id f gone host start init shim
    rb_run_ready wp 3
    id=$(rb_id_of wp)
    f="$MINIRT_ROOT/$id/state.json"
    # A PID that no longer exists (a reaped child of ours).
    sh -c 'exit 0' &
    gone=$!
    wait "$gone"
    jq --argjson p "$gone" '.pid = $p | .pid_start_time = 0' "$f" >"$f.new" && mv "$f.new" "$f"
    expect_eq "$(status_of wp)" running "status with a wrong pid"
    expect_rc 0 stop wp
    expect_eq "$(status_of wp)" exited
    expect_eq "$(exit_code_of wp)" 3 "the real init got SIGTERM"
    expect_rc 0 rm wp
    # A live host process, with its real start time, and a wrong shim.
    sleep 1000 &
    host=$!
    start=$(awk '{print $22}' "/proc/$host/stat")
    rb_run_ready wq 3
    id=$(rb_id_of wq)
    init=$(pid_of wq)
    shim=$(shim_of wq)
    f="$MINIRT_ROOT/$id/state.json"
    jq --argjson p "$host" --argjson s "$start" '.pid = $p | .pid_start_time = $s | .shim_pid = $p | .shim_start_time = $s' \
        "$f" >"$f.new" && mv "$f.new" "$f"
    # The real shim held still: between the init's exit and the shim's
    # record, the container is stopping (its shim holds its mark), and
    # wait waits for the record rather than calling the exit unknown.
    kill -STOP "$shim"
    # shellcheck disable=SC2064
    trap "kill -CONT $shim 2>/dev/null || true" EXIT
    expect_rc 0 kill -s TERM wq
    wait_for 30 process_gone "$init"
    expect_eq "$(status_of wq)" stopping "status while the real shim has not yet recorded the exit"
    kill -CONT "$shim"
    expect_rc 0 wait wq
    expect_eq "$OUT" 3 "the container's init got the SIGTERM"
    kill -0 "$host" 2>/dev/null || fail "the host process the record named was signalled"
    rb_run_ready wr 3
    id=$(rb_id_of wr)
    f="$MINIRT_ROOT/$id/state.json"
    jq --argjson p "$host" --argjson s "$start" '.pid = $p | .pid_start_time = $s' "$f" >"$f.new" && mv "$f.new" "$f"
    expect_rc 0 rm -f wr
    kill -0 "$host" 2>/dev/null || fail "rm -f signalled the host process the record named"
    kill "$host"
    wait "$host" 2>/dev/null || true
    expect_rc 0 rm -f wq
    assert_clean
}

# A recorded cgroup that is not the container's own is refused, never
# frozen or killed.
test_foreign_cgroup_in_state_is_refused() {
    local id f
    rb_run_ready fc 0
    id=$(rb_id_of fc)
    f="$MINIRT_ROOT/$id/state.json"
    jq --arg cg "$(test_cg_parent)" '.cgroup = $cg' "$f" >"$f.new" && mv "$f.new" "$f"
    expect_rc 125 freeze fc
    expect_contains "$ERR" "not the container's own group"
    expect_rc 0 rm -f fc
    assert_clean
}

# --root deleted under running containers (a lost /run): the cgroup and the
# shim are the truth. ps shows it running, stop stops it, and the exit is
# recorded anew.
test_lost_root_running_container_is_still_owned() {
    local init shim id
    rb_run_ready lr 5
    init=$(pid_of lr)
    shim=$(shim_of lr)
    id=$(rb_id_of lr)
    rm -rf "${MINIRT_ROOT:?}"
    mr ps --format json
    expect_eq "$(jq -r '.[] | select(.name == "lr") | .status' <<<"$OUT")" running "ps after /run was lost"
    # ps told the shim, which writes its record again.
    wait_for 30 test -s "$MINIRT_ROOT/$id/state.json"
    expect_eq "$(jq -r '"\(.status) \(.pid) \(.shim_pid)"' "$MINIRT_ROOT/$id/state.json")" "running $init $shim" "state.json rewritten by the shim"
    expect_eq "$(pid_of lr)" "$init" "pid found from the cgroup"
    expect_eq "$(shim_of lr)" "$shim" "shim found from the init's parent"
    expect_rc 0 stop lr
    expect_eq "$OUT" lr
    process_gone "$init" || fail "stop left the init $init running"
    wait_for 30 process_gone "$shim"
    expect_eq "$(status_of lr)" exited
    expect_eq "$(exit_code_of lr)" 5 "exit code recorded again"
    expect_rc 0 rm lr
    assert_clean
}

# rb_small_tmpfs DIR SIZE: a tmpfs of SIZE at DIR (made), unmounted when the
# test's shell exits, however it ends (the caller unmounts it on success).
rb_small_tmpfs() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" tmpfs "$1"
    # shellcheck disable=SC2064
    trap "umount -l '$1' 2>/dev/null || true" EXIT
}

# A full --root when the container exits: wait, ps and inspect still give
# the real code (the shim's record under --storage) and the cgroup goes.
test_full_root_keeps_the_exit_code() {
    local root="$TESTDIR/smallrun"
    rb_small_tmpfs "$root" 256k
    MINIRT_ROOT=$root rb_full_root_body
    umount "$root"
}
rb_full_root_body() {
    local root=$MINIRT_ROOT
    (
        rb_run_ready fr 7
        local id
        id=$(rb_id_of fr)
        head -c 1M /dev/zero >"$root/filler" 2>/dev/null || true
        expect_rc 0 kill -s TERM fr
        expect_rc 0 wait fr
        expect_eq "$OUT" 7 "wait"
        mr ps -a --format json
        expect_eq "$(jq -r '.[] | select(.name == "fr") | "\(.status) \(.exit_code)"' <<<"$OUT")" "exited 7" "ps"
        expect_eq "$(exit_code_of fr)" 7 "inspect"
        [ ! -e "$(test_cg_parent)/$id" ] || fail "the cgroup stayed"
        rm -f "$root/filler"
        expect_rc 0 rm fr
        assert_clean
    )
}

# A full --storage: log records are whole or missing, never glued together;
# once there is room the log says how much was dropped, and inspect counts it.
test_full_storage_log_records_stay_whole() {
    local st="$TESTDIR/smalllib"
    rb_small_tmpfs "$st" 8m
    ln -s "$MINIRT_STORAGE/images" "$st/images"
    MINIRT_STORAGE=$st rb_full_storage_body
    umount "$st"
}
rb_full_storage_body() {
    local st=$MINIRT_STORAGE id log
    (
        expect_rc 0 run -d --name fl busybox sh -c \
            'i=0; while :; do i=$((i+1)); echo "log line $i"; [ -e /go ] && sleep 0.01; done'
        id=$(rb_id_of fl)
        log="$st/containers/$id/ctr.log"
        wait_for 30 test -s "$log"
        head -c 16M /dev/zero >"$st/filler" 2>/dev/null || true
        wait_for 30 eval '[ "$(json_field fl .state.log_dropped_lines)" -gt 0 ]'
        rm -f "$st/filler"
        expect_rc 0 exec fl touch /go
        wait_for 30 grep -q "minirt: log: dropped [0-9]* lines ([0-9]* bytes): No space left on device" "$log"
        expect_rc 0 stop -t 0 fl
        local bad
        bad=$(cat "$st/containers/$id"/ctr.log* | grep -cvE '^[0-9]{4}-[0-9-]+T[0-9:.]+Z (stdout|stderr|minirt) [FP] ' || true)
        expect_eq "$bad" 0 "malformed log records"
        [ "$(json_field fl .state.log_dropped_bytes)" -gt 0 ] || fail "no dropped bytes in inspect"
        expect_rc 0 rm fl
        assert_clean
    )
}

# wait right after the run CLI was killed during the start: it waits through
# the start (the shim holds the container's lock) and prints the code.
test_wait_through_a_start_whose_cli_was_killed() {
    local i cli
    for i in $(seq 0 9); do
        "$MINIRT" run --name "ws$i" busybox sh -c 'exit 4' >/dev/null 2>&1 &
        cli=$!
        # Killed once the container exists: the start is under way or done.
        wait_for 30 test -L "$MINIRT_STORAGE/names/ws$i"
        kill -9 "$cli" 2>/dev/null || true
        wait "$cli" 2>/dev/null || true
        mr wait "ws$i"
        case "$RC:$OUT" in
            0:4) ;;
            125:*) expect_contains "$ERR" "has not been started" "wait ws$i" ;;
            *) fail "wait ws$i: rc $RC, output '$OUT', $ERR" ;;
        esac
        # "not started" only when no shim ever ran: nothing is starting it.
        if [ "$RC" = 125 ]; then expect_eq "$(json_field "ws$i" .state.shim_pid)" 0 "ws$i has a shim"; fi
        expect_rc 0 rm -f "ws$i"
    done
    assert_clean
}

# podman's scripts: kill then rm, run -d --rm then wait, run --rm -t output.
test_podman_script_idioms() {
    local i
    for i in 1 2 3 4 5; do
        expect_rc 0 run -d --name k busybox sleep 1000
        expect_rc 0 kill k
        expect_eq "$(status_of k)" exited "status right after kill"
        expect_rc 0 rm k
    done
    for i in 1 2 3; do
        expect_rc 0 run -d --rm --name r busybox sh -c 'exit 6'
        expect_rc 0 wait r
        expect_eq "$OUT" 6 "wait of a --rm container"
    done
    # Long gone: the code is still known by name for a while.
    expect_rc 0 wait r
    expect_eq "$OUT" 6 "wait after removal"
    expect_rc 1 wait never-was
    for i in $(seq 10); do
        OUT=$("$MINIRT" run --rm -t busybox echo hello </dev/null)
        expect_eq "$(tr -d '\r' <<<"$OUT")" hello "run --rm -t output, try $i"
    done
    assert_clean
}

# Exit codes scripts test, as podman's.
test_podman_exit_codes() {
    expect_rc 0 run -d --name busy busybox sleep 1000
    expect_rc 2 rm busy
    expect_rc 1 rm nosuch
    expect_contains "$ERR" "no such container"
    expect_rc 0 stop -t 0 busy
    expect_rc 255 exec busy true
    expect_contains "$ERR" busy
    expect_rc 0 rm busy
    assert_clean
}

# Small things: control characters are never echoed; image help works;
# a full disk says so.
test_small_input_and_help_fixes() {
    expect_rc 125 run --rm --hostname $'a\nb\e[31m' busybox true
    expect_eq "$(wc -l <<<"$ERR")" 1 "one line"
    expect_not_contains "$ERR" $'\e' "escape echoed"
    expect_rc 0 image --help
    expect_contains "$OUT" import
    expect_rc 0 image help
    expect_contains "$OUT" import
    local st="$TESTDIR/tiny"
    rb_small_tmpfs "$st" 64k
    head -c 400k /dev/urandom >"$TESTDIR/blob"
    tar -C "$TESTDIR" -cf "$TESTDIR/img.tar" blob
    MINIRT_STORAGE=$st mr image import "$TESTDIR/img.tar" big
    expect_eq "$RC" 125 "import onto a full disk"
    expect_contains "$ERR" "No space left on device"
    umount "$st"
}
