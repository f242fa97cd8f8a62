# shellcheck shell=sh source-path=SCRIPTDIR
# --pids-limit N sets pids.max: a container trying to fork 15 children under a limit of 10
# sees forks fail and never holds more than 10 processes.
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f plim pfree >/dev/null 2>&1' EXIT

run "$MINIRT" run -d --name plim --pids-limit 10 busybox fork_hog --count 15
id=$OUT
d=$cg/minirt/$id
expect_eq 10 "$(cat "$d/pids.max")" "pids.max for --pids-limit 10"
wait_for "\"$MINIRT\" logs plim | grep -q '^summary '" 30 "fork_hog's summary"
run "$MINIRT" logs plim
logs=$OUT
summary=$(printf '%s\n' "$logs" | grep '^summary ')
info "$summary"
forked=$(printf '%s\n' "$summary" | sed -n 's/.* forked=\([0-9]*\).*/\1/p')
failed=$(printf '%s\n' "$summary" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
nfail=$(printf '%s\n' "$logs" | grep -c '^fork_failed ')
[ "$failed" -gt 0 ] || fail "no fork failed under --pids-limit 10: $summary"
expect_eq "$failed" "$nfail" "fork_failed lines versus the summary"
expect_contains "$logs" "err=EAGAIN" "fork failure errno"
# fork_hog itself plus its children: at most 10 (exactly 10 when the limit is what stopped it)
[ $((forked + 1)) -le 10 ] || fail "$forked children plus fork_hog exceed pids.max 10"
expect_eq 15 $((forked + failed)) "forks attempted"
n=$(wc -l <"$d/cgroup.procs")
info "processes in the cgroup: $n, pids.current $(cat "$d/pids.current")"
[ "$n" -le 10 ] || fail "the cgroup holds $n processes, more than pids.max 10"
[ "$(cat "$d/pids.current")" -le 10 ] || fail "pids.current $(cat "$d/pids.current") above 10"
max_events=$(sed -n 's/^max //p' "$d/pids.events")
[ "$max_events" -gt 0 ] || fail "pids.events max is $max_events: the limit never refused a fork"
run "$MINIRT" rm -f plim

# Without the flag: no limit, all 15 forks succeed.
run "$MINIRT" run -d --name pfree busybox fork_hog --count 15
id=$OUT
expect_eq max "$(cat "$cg/minirt/$id/pids.max")" "pids.max without --pids-limit"
wait_for "\"$MINIRT\" logs pfree | grep -q '^summary '" 30 "fork_hog's summary"
run "$MINIRT" logs pfree
expect_contains "$OUT" "summary forked=15 failed=0" "fork_hog without a limit"
run "$MINIRT" rm -f pfree
