# shellcheck shell=sh source-path=SCRIPTDIR
# The core lifecycle on a pure cgroup v2 kernel: the container's cgroup is
# created under <mount>/minirt, holds all its processes, and is gone after.
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)

expect_rc 0 "$MINIRT" run --rm busybox echo hello
expect_eq hello "$OUT" "foreground output"

run "$MINIRT" run -d --name forks busybox fork_hog --count 50
id=$OUT
wait_for "[ -n \"\$(\"$MINIRT\" logs forks | grep summary)\" ]" 30 "fork_hog forked its children"
expect_file "$cg/minirt/$id"
n=$(wc -l <"$cg/minirt/$id/cgroup.procs")
[ "$n" -ge 51 ] || fail "cgroup holds $n processes, want at least 51"
pids=$(cat "$cg/minirt/$id/cgroup.procs")
run "$MINIRT" stop -t 0 forks
for p in $pids; do
	[ ! -d "/proc/$p" ] || grep -q '^State:.*Z' "/proc/$p/status" || fail "process $p survived stop"
done
[ ! -e "$cg/minirt/$id" ] || fail "cgroup $cg/minirt/$id left after stop"
expect_rc 0 "$MINIRT" inspect forks
expect_contains "$OUT" '"reason": "stopped"'
run "$MINIRT" rm forks
[ ! -e "$cg/minirt" ] || fail "empty parent cgroup $cg/minirt left"
