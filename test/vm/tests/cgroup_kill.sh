# shellcheck shell=sh source-path=SCRIPTDIR
# stop ends every process of a container at once (cgroup.kill), including children that
# ignore the signal path and a container that is frozen: nothing is left behind.
# (02_minirt_lifecycle covers stop of a running 50-child container.)
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f kf kt >/dev/null 2>&1' EXIT

status_of() { "$MINIRT" inspect "$1" | sed -n 's/^    "status": "\([^"]*\)",\{0,1\}$/\1/p'; }
reason_of() { "$MINIRT" inspect "$1" | sed -n 's/^    "reason": "\([^"]*\)",\{0,1\}$/\1/p'; }
# check_gone PID...: every process has exited (or is a zombie about to be reaped)
check_gone() {
	for p in "$@"; do
		[ ! -d "/proc/$p" ] || grep -q '^State:.*Z' "/proc/$p/status" || fail "process $p survived: $(tr '\0' ' ' <"/proc/$p/cmdline")"
	done
}

# A frozen container with 50 children: stop kills all 51 processes without a thaw.
run "$MINIRT" run -d --name kf busybox fork_hog --count 50 --hold-seconds 60
id=$OUT
d=$cg/minirt/$id
wait_for "\"$MINIRT\" logs kf | grep -q '^summary forked=50 failed=0'" 30 "fork_hog forked 50 children"
pids=$(cat "$d/cgroup.procs")
n=$(printf '%s\n' "$pids" | wc -l)
[ "$n" -ge 51 ] || fail "cgroup holds $n processes, want at least 51"
run "$MINIRT" freeze kf
wait_for "grep -qx 'frozen 1' $d/cgroup.events" 30 "cgroup.events frozen 1"
t0=$(date +%s)
run "$MINIRT" stop -t 2 kf
t1=$(date +%s)
# (how long it took is information: the test's own timeout catches a hang)
info "stop of a frozen 51-process container: $((t1 - t0)) s"
# shellcheck disable=SC2086
check_gone $pids
[ ! -e "$d" ] || fail "cgroup $d left after stop"
expect_eq exited "$(status_of kf)" "status after stop"
expect_eq stopped "$(reason_of kf)" "reason after stop"
run "$MINIRT" rm kf

# Children that ignore SIGTERM: stop -t 1 still leaves nothing (SIGKILL to the whole group).
run "$MINIRT" run -d --name kt busybox sh -c \
	'for i in 1 2 3 4 5 6 7 8 9 10; do sh -c "trap \"\" TERM; while :; do sleep 1; done" & done; trap "" TERM; wait'
id=$OUT
d=$cg/minirt/$id
wait_for "[ \"\$(wc -l <$d/cgroup.procs)\" -ge 11 ]" 30 "10 TERM-ignoring children"
pids=$(cat "$d/cgroup.procs")
run "$MINIRT" stop -t 1 kt
# shellcheck disable=SC2086
check_gone $pids
[ ! -e "$d" ] || fail "cgroup $d left after stop"
run "$MINIRT" rm kt
