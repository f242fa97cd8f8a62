# shellcheck shell=sh source-path=SCRIPTDIR
# freeze/thaw (aliases pause/unpause) through cgroup.freeze: a frozen CPU hog makes no
# progress and shows as paused; it resumes after thaw; a frozen container can be stopped
# and removed.
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f fz fz2 >/dev/null 2>&1' EXIT

status_of() { "$MINIRT" inspect "$1" | sed -n 's/^    "status": "\([^"]*\)",\{0,1\}$/\1/p'; }
ticks() { "$MINIRT" logs "$1" | grep -c '^tick '; }
shim_of() { "$MINIRT" inspect "$1" | sed -n 's/^ *"shim_pid": \([0-9]*\),\{0,1\}$/\1/p' | head -n1; }
usage_us() { sed -n 's/^usage_usec //p' "$cg/minirt/$1/cpu.stat"; }

run "$MINIRT" run -d --name fz busybox cpu_hog --report-ms 100
id=$OUT
d=$cg/minirt/$id
wait_for "[ \"\$(ticks fz)\" -ge 3 ]" 30 "cpu_hog ticking"

run "$MINIRT" freeze fz
expect_eq 1 "$(cat "$d/cgroup.freeze")" "cgroup.freeze after freeze"
wait_for "grep -qx 'frozen 1' $d/cgroup.events" 30 "cgroup.events frozen 1"
expect_eq paused "$(status_of fz)" "status of a frozen container"
run "$MINIRT" list --format json
expect_contains "$OUT" '"paused"' "list shows the frozen container as paused"
# A tick printed just before the freeze may still be on its way to the log: count once
# the shim has logged all it read.
shim=$(shim_of fz)
[ -n "$shim" ] || fail "no shim_pid in inspect fz"
wait_for "shim_drained $shim" 30 "the shim logging what cpu_hog printed before the freeze"
n1=$(ticks fz)
u1=$(usage_us "$id")
# A measurement window, not synchronisation: nothing may happen in 2 s.
sleep 2
n2=$(ticks fz)
u2=$(usage_us "$id")
info "frozen: ticks $n1 -> $n2, cpu usage $u1 -> $u2 us"
expect_eq "$n1" "$n2" "tick lines while frozen"
[ $((u2 - u1)) -lt 20000 ] || fail "a frozen container used $((u2 - u1)) us of CPU in 2 s"
# freezing a frozen container again (podman: an error) changes nothing
"$MINIRT" freeze fz >/dev/null 2>&1
expect_eq paused "$(status_of fz)" "status after a second freeze"

run "$MINIRT" thaw fz
expect_eq 0 "$(cat "$d/cgroup.freeze")" "cgroup.freeze after thaw"
wait_for "grep -qx 'frozen 0' $d/cgroup.events" 30 "cgroup.events frozen 0"
expect_eq running "$(status_of fz)" "status after thaw"
wait_for "[ \"\$(ticks fz)\" -ge $((n2 + 3)) ]" 30 "cpu_hog ticking again after thaw"

# The aliases, then stop on a frozen container: it ends (cgroup.kill reaches frozen tasks).
run "$MINIRT" pause fz
wait_for "grep -qx 'frozen 1' $d/cgroup.events" 30 "cgroup.events frozen 1 after pause"
expect_eq paused "$(status_of fz)" "status after pause"
run "$MINIRT" unpause fz
wait_for "grep -qx 'frozen 0' $d/cgroup.events" 30 "cgroup.events frozen 0 after unpause"
run "$MINIRT" freeze fz
wait_for "grep -qx 'frozen 1' $d/cgroup.events" 30 "cgroup.events frozen 1"
pid=$("$MINIRT" inspect fz | sed -n 's/^    "pid": \([0-9]*\),$/\1/p')
t0=$(date +%s)
run "$MINIRT" stop -t 2 fz
t1=$(date +%s)
# (how long it took is information: the test's own timeout catches a hang)
info "stop of the frozen container took $((t1 - t0)) s"
[ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status" || fail "process $pid survived stop"
expect_eq exited "$(status_of fz)" "status after stop of a frozen container"
[ ! -e "$d" ] || fail "cgroup $d left after stop"
# freeze of a stopped container is an error, not a hang
"$MINIRT" freeze fz >/dev/null 2>&1 && fail "freeze of an exited container succeeded"
run "$MINIRT" rm fz

# rm -f on a frozen container.
run "$MINIRT" run -d --name fz2 busybox cpu_hog --report-ms 0
id=$OUT
run "$MINIRT" freeze fz2
wait_for "grep -qx 'frozen 1' $cg/minirt/$id/cgroup.events" 30 "cgroup.events frozen 1"
run "$MINIRT" rm -f fz2
[ ! -e "$cg/minirt/$id" ] || fail "cgroup of the removed frozen container left"
expect_rc 125 "$MINIRT" inspect fz2
! pgrep cpu_hog >/dev/null || fail "a cpu_hog survived: $(pgrep -l cpu_hog)"
