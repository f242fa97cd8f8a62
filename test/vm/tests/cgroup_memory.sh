# shellcheck shell=sh source-path=SCRIPTDIR
# Memory limits: --mem sets memory.max (and memory.swap.max 0); a workload over the limit is
# OOM-killed (run exits 137, reason oom-killed), one under it completes; --mem-soft sets
# memory.high, and a workload above it is held there (memory.events high).
# vmtest-timeout: 90
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f memfiles memswap oom fits soft >/dev/null 2>&1' EXIT

cgkey() { sed -n "s/^$3 //p" "$cg/minirt/$1/$2" 2>/dev/null; }

# The limit files, while the container runs.
run "$MINIRT" run -d --name memfiles --mem 32M busybox sleep 60
id=$OUT
expect_eq 33554432 "$(cgfile "$id" memory.max)" "memory.max for --mem 32M"
expect_eq 0 "$(cgfile "$id" memory.swap.max)" "memory.swap.max for --mem without --mem-swap"
expect_eq max "$(cgfile "$id" memory.high)" "memory.high without --mem-soft"
# The limits come back with the container after stop + start (they are in its config).
run "$MINIRT" stop -t 0 memfiles
run "$MINIRT" start memfiles
expect_eq 33554432 "$(cgfile "$id" memory.max)" "memory.max after stop + start"
expect_eq 0 "$(cgfile "$id" memory.swap.max)" "memory.swap.max after stop + start"
run "$MINIRT" rm -f memfiles
# --mem-swap: the swap allowed besides --mem
run "$MINIRT" run -d --name memswap --mem 32M --mem-swap 64M busybox sleep 60
expect_eq 33554432 "$(cgfile "$OUT" memory.max)" "memory.max for --mem 32M --mem-swap 64M"
expect_eq 67108864 "$(cgfile "$OUT" memory.swap.max)" "memory.swap.max for --mem-swap 64M"
run "$MINIRT" rm -f memswap

# Over the limit: the kernel's OOM killer ends it.
expect_rc 137 "$MINIRT" run --name oom --mem 32M busybox memory_hog --size 64M --hold-seconds 0
info "run --mem 32M memory_hog --size 64M: exit 137"
case $OUT in *"reached bytes="*) fail "memory_hog reached 64M under --mem 32M: $OUT" ;; esac
expect_rc 0 "$MINIRT" inspect oom
expect_eq oom-killed "$(jtop reason)" "inspect reason of the OOM-killed container"
expect_eq 137 "$(jtop exit_code)" "inspect exit_code of the OOM-killed container"
expect_eq exited "$(jtop status)" "inspect status of the OOM-killed container"
run "$MINIRT" rm oom

# Under the limit: the same workload completes.
expect_rc 0 "$MINIRT" run --name fits --mem 128M busybox memory_hog --size 64M --hold-seconds 0
expect_contains "$OUT" "reached bytes=" "memory_hog output under --mem 128M"
expect_rc 0 "$MINIRT" inspect fits
expect_eq 0 "$(jtop exit_code)" "exit_code under --mem 128M"
expect_ne oom-killed "$(jtop reason)" "reason under --mem 128M"
run "$MINIRT" rm fits

# --mem-soft: memory.high. A workload that wants 48 MiB is throttled and reclaimed at the
# soft limit (no swap: it stalls there) and the "high" event counter goes up; nothing is
# OOM-killed.
run "$MINIRT" run -d --name soft --mem-soft 16M busybox memory_hog --size 48M --step 1M
id=$OUT
expect_eq 16777216 "$(cgfile "$id" memory.high)" "memory.high for --mem-soft 16M"
expect_eq max "$(cgfile "$id" memory.max)" "memory.max with only --mem-soft"
wait_for "[ \"\$(cgkey $id memory.events high)\" -gt 0 ]" 60 "memory.events high > 0 under --mem-soft 16M"
# Checked once the hog has pushed against the soft limit again (another high event),
# not just reached it.
h1=$(cgkey "$id" memory.events high)
wait_for "[ \"\$(cgkey $id memory.events high)\" -gt $h1 ]" 60 "another memory.events high under --mem-soft 16M"
cur=$(cgfile "$id" memory.current)
info "memory.current under --mem-soft 16M: $cur"
[ "$cur" -le $((24 << 20)) ] || fail "memory.current $cur far above memory.high 16M"
expect_eq 0 "$(cgkey "$id" memory.events oom_kill)" "oom_kill under --mem-soft only"
run "$MINIRT" logs soft
case $OUT in *"reached bytes="*) fail "memory_hog reached 48M under --mem-soft 16M: $OUT" ;; esac
run "$MINIRT" rm -f soft
[ ! -e "$cg/minirt/$id" ] || fail "cgroup $cg/minirt/$id left after rm -f"
