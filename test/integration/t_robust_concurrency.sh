# shellcheck shell=bash
# Robustness under concurrency: many runs and removals at once, and state
# files that are never seen torn while containers start and stop.


test_twenty_runs_then_twenty_rms_at_once() {
    local i pids=() r
    for i in $(seq 1 20); do
        "$MINIRT" run -d --name "c$i" busybox sleep 60 >"run$i.out" 2>"run$i.err" &
        pids+=($!)
    done
    for i in $(seq 1 20); do
        r=0
        wait "${pids[$((i - 1))]}" || r=$?
        [ "$r" = 0 ] || fail "run -d c$i exited $r: $(cat "run$i.err")"
        grep -qE '^[0-9a-f]{64}$' "run$i.out" || fail "run -d c$i printed no id: $(cat "run$i.out")"
    done
    expect_eq "$(cat run*.out | sort -u | wc -l)" 20 "distinct ids"
    mr list -q --no-trunc
    expect_eq "$(sort <<<"$OUT")" "$(cat run*.out | sort)" "listed ids"
    mr list --format json
    expect_eq "$(jq -r '[.[] | select(.status == "running")] | length' <<<"$OUT")" 20 "running containers"
    expect_eq "$(jq -r '[.[].pid] | unique | length' <<<"$OUT")" 20 "distinct init pids"
    local shims
    shims=$(for i in $(seq 1 20); do shim_of "c$i"; done)

    pids=()
    for i in $(seq 1 20); do
        "$MINIRT" rm -f "c$i" >"rm$i.out" 2>"rm$i.err" &
        pids+=($!)
    done
    for i in $(seq 1 20); do
        r=0
        wait "${pids[$((i - 1))]}" || r=$?
        [ "$r" = 0 ] || fail "rm -f c$i exited $r: $(cat "rm$i.err")"
    done
    local s
    for s in $shims; do wait_for 30 process_gone "$s"; done
    assert_clean
}

# Two rm -f of the same containers at once: both succeed.
test_concurrent_rm_force_same_container() {
    local i r1 r2 p1 p2
    for i in 1 2 3 4 5; do
        expect_rc 0 run -d --name d busybox sleep 60
        "$MINIRT" rm -f d >/dev/null 2>rm1.err &
        p1=$!
        "$MINIRT" rm -f d >/dev/null 2>rm2.err &
        p2=$!
        r1=0 r2=0
        wait $p1 || r1=$?
        wait $p2 || r2=$?
        [ "$r1" = 0 ] || fail "first rm -f exited $r1: $(cat rm1.err)"
        [ "$r2" = 0 ] || fail "second rm -f exited $r2: $(cat rm2.err)"
        expect_rc 125 inspect d
    done
    assert_clean
}

test_state_never_torn_while_starting_and_stopping() {
    local i
    for i in $(seq 1 10); do expect_rc 0 run -d --name "l$i" busybox sleep 60; done
    touch go
    local loopers=()
    for i in $(seq 1 10); do
        (
            n=0
            while [ -e go ]; do
                "$MINIRT" stop -t 0 "l$i" >/dev/null 2>>"loop$i.err" || echo "stop l$i failed" >>"loop$i.err"
                "$MINIRT" start "l$i" >/dev/null 2>>"loop$i.err" || echo "start l$i failed" >>"loop$i.err"
                n=$((n + 1))
            done
            echo "$n" >"loop$i.count"
        ) &
        loopers+=($!)
    done
    # At least 8 s and 10 checks; a loaded host gets up to 60 s for them.
    local deadline=$((SECONDS + 8)) limit=$((SECONDS + 60)) checks=0 out rc
    while { [ $SECONDS -lt $deadline ] || [ $checks -lt 10 ]; } && [ $SECONDS -lt $limit ]; do
        rc=0
        out=$("$MINIRT" list --format json 2>list.err) || rc=$?
        [ "$rc" = 0 ] || { rm -f go; fail "list exited $rc: $(cat list.err)"; }
        jq -e . <<<"$out" >/dev/null 2>&1 || { rm -f go; fail "list --format json did not parse: $out"; }
        if ! jq -e 'length == 10 and all(.[]; .status != "error")' <<<"$out" >/dev/null; then
            rm -f go
            fail "list did not show 10 healthy containers while they start/stop: $(jq -c '[.[] | {id, status, error}]' <<<"$out")"
        fi
        checks=$((checks + 1))
        [ $((checks % 5)) = 0 ] || continue
        rc=0
        out=$("$MINIRT" inspect l$((checks / 5 % 10 + 1)) 2>inspect.err) || rc=$?
        [ "$rc" = 0 ] || { rm -f go; fail "inspect exited $rc: $(cat inspect.err)"; }
        jq -e '.[0].state.id' <<<"$out" >/dev/null 2>&1 || { rm -f go; fail "inspect did not parse: $out"; }
    done
    rm -f go
    for i in "${loopers[@]}"; do wait "$i" || true; done
    [ "$checks" -ge 10 ] || fail "only $checks checks ran in 60 s"
    local errs
    errs=$(cat loop*.err 2>/dev/null || true)
    [ -z "$errs" ] || fail "start/stop loops reported errors: $(head -c 2000 <<<"$errs")"
    echo "checks: $checks, cycles: $(cat loop*.count | tr '\n' ' ')"
    # No temp files of atomic writes left behind.
    local tmp
    tmp=$(find "$MINIRT_ROOT" "$MINIRT_STORAGE/containers" -name '*.tmp.*' 2>/dev/null || true)
    [ -z "$tmp" ] || fail "temp files left: $tmp"
    for i in $(seq 1 10); do expect_rc 0 rm -f "l$i"; done
    assert_clean
}
