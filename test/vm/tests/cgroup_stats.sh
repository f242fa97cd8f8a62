# shellcheck shell=sh source-path=SCRIPTDIR
# minirt stats --no-stream --format json: per container id, name, memory_current (within
# 10% of a memory_hog's RSS), memory_max, cpu_percent, pids, io_read_bytes, io_write_bytes.
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f st busy >/dev/null 2>&1' EXIT

# jget KEY JSON: the first value of KEY anywhere in JSON (numbers and strings, quotes removed)
jget() {
	printf '%s\n' "$2" | tr ',{}[]' '\n' |
		sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*\$/\1/p" | head -n1
}

run "$MINIRT" run -d --name st --mem 128M busybox memory_hog --size 64M --hold-seconds 30
id=$OUT
run "$MINIRT" run -d --name busy busybox cpu_hog --seconds 30 --report-ms 0
busy=$OUT
wait_for "\"$MINIRT\" logs st | grep -q '^reached '" 30 "memory_hog reaching 64M"
run "$MINIRT" logs st
rss=$(printf '%s\n' "$OUT" | sed -n 's/^reached bytes=\([0-9]*\) .*/\1/p')
info "memory_hog RSS: $rss"
# The CPU hog runs (its group has used CPU) before stats looks at it.
wait_for "[ \"\$(sed -n 's/^usage_usec //p' $cg/minirt/$busy/cpu.stat)\" -gt 0 ]" 60 "cpu_hog running"

run "$MINIRT" stats --no-stream --format json st
js=$OUT
info "stats: $(printf '%s' "$js" | tr -d '\n')"
for k in id name memory_current memory_max cpu_percent pids io_read_bytes io_write_bytes; do
	[ -n "$(jget "$k" "$js")" ] || fail "stats JSON has no $k: $js"
done
expect_eq "$id" "$(jget id "$js")" "stats id"
expect_eq st "$(jget name "$js")" "stats name"
expect_eq 134217728 "$(jget memory_max "$js")" "stats memory_max for --mem 128M"
expect_eq 1 "$(jget pids "$js")" "stats pids"
mc=$(jget memory_current "$js")
info "stats memory_current: $mc, cgroup memory.current: $(cat "$cg/minirt/$id/memory.current")"
diff=$((mc > rss ? mc - rss : rss - mc))
[ "$diff" -le $((rss / 10)) ] || fail "memory_current $mc is not within 10% of the RSS $rss"

# Every running container without names; the busy one shows CPU use.
run "$MINIRT" stats --no-stream --format json
all=$OUT
expect_contains "$all" "$id" "stats of all containers has st"
expect_contains "$all" "$busy" "stats of all containers has busy"
run "$MINIRT" stats --no-stream --format json busy
cpu=$(jget cpu_percent "$OUT")
info "cpu_percent of a CPU hog: $cpu"
[ "${cpu%%.*}" -ge 10 ] || fail "cpu_percent of a CPU hog is $cpu"
info "memory_max without --mem: $(jget memory_max "$OUT")"
run "$MINIRT" rm -f st busy
