# shellcheck shell=sh source-path=SCRIPTDIR
# CPU controls: --cpu QUOTA / --cpus N set cpu.max and a CPU hog gets only that share;
# --cpu-weight on two hogs sharing one CPU (--cpuset-cpus 0) splits it by weight;
# --nice and --pin-cpu reach the container's process.
# vmtest-timeout: 90
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f quota cpus nocpu w100 w400 nice pin >/dev/null 2>&1' EXIT

usage_us() { sed -n 's/^usage_usec //p' "$cg/minirt/$1/cpu.stat"; }
throttled() { sed -n 's/^nr_throttled //p' "$cg/minirt/$1/cpu.stat"; }
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# stat_field PID N: field N of /proc/PID/stat (the command name has no spaces here)
stat_field() { cut -d' ' -f"$2" "/proc/$1/stat"; }
ctr_pid() { "$MINIRT" inspect "$1" | sed -n 's/^    "pid": \([0-9]*\),$/\1/p'; }

# --cpu 20000 (µs per 100 ms period): a fifth of one CPU.
run "$MINIRT" run -d --name quota --cpu 20000 busybox cpu_hog --seconds 60 --report-ms 0
q=$OUT
expect_eq "20000 100000" "$(cgfile "$q" cpu.max)" "cpu.max for --cpu 20000"
# Measured once the quota bites: the hog has used up a period's quota and been throttled.
wait_for "[ \"\$(throttled $q)\" -gt 0 ]" 60 "cpu_hog throttled by cpu.max"
u0=$(usage_us "$q")
t0=$(now_ms)
# A measurement window, not synchronisation: the CPU share over 3 s.
sleep 3
u1=$(usage_us "$q")
t1=$(now_ms)
# per mille of one CPU: usage µs / wall ms
pm=$(((u1 - u0) / (t1 - t0)))
info "--cpu 20000: $((u1 - u0)) us of CPU in $((t1 - t0)) ms = $pm per mille of one CPU"
{ [ "$pm" -ge 150 ] && [ "$pm" -le 250 ]; } || fail "--cpu 20000 gave $pm per mille of a CPU, want 150..250"
run "$MINIRT" rm -f quota

# --cpus 1.5
run "$MINIRT" run -d --name cpus --cpus 1.5 busybox sleep 60
expect_eq "150000 100000" "$(cgfile "$OUT" cpu.max)" "cpu.max for --cpus 1.5"
run "$MINIRT" rm -f cpus
# no CPU flag: no limit
run "$MINIRT" run -d --name nocpu busybox sleep 60
expect_eq "max 100000" "$(cgfile "$OUT" cpu.max)" "cpu.max without a CPU flag"
expect_eq 100 "$(cgfile "$OUT" cpu.weight)" "cpu.weight without a CPU flag"
run "$MINIRT" rm -f nocpu

# --cpu-weight 100 versus 400 on the same single CPU: about 1:4.
run "$MINIRT" run -d --name w100 --cpuset-cpus 0 --cpu-weight 100 busybox cpu_hog --seconds 60 --report-ms 0
a=$OUT
run "$MINIRT" run -d --name w400 --cpuset-cpus 0 --cpu-weight 400 busybox cpu_hog --seconds 60 --report-ms 0
b=$OUT
expect_eq 100 "$(cgfile "$a" cpu.weight)" "cpu.weight for --cpu-weight 100"
expect_eq 400 "$(cgfile "$b" cpu.weight)" "cpu.weight for --cpu-weight 400"
expect_eq 0 "$(cgfile "$a" cpuset.cpus)" "cpuset.cpus for --cpuset-cpus 0"
expect_eq 0 "$(cgfile "$b" cpuset.cpus)" "cpuset.cpus for --cpuset-cpus 0"
expect_eq 0 "$(cgfile "$b" cpuset.cpus.effective)" "cpuset.cpus.effective for --cpuset-cpus 0"
expect_eq 0 "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$(ctr_pid w400)/status")" \
	"CPUs allowed to the --cpuset-cpus 0 process"
wait_for "[ \"\$(usage_us $a)\" -gt 0 ] && [ \"\$(usage_us $b)\" -gt 0 ]" 60 "both cpu_hogs running"
# Measured once both compete for CPU 0: each has run again since both were seen running.
a0=$(usage_us "$a")
b0=$(usage_us "$b")
wait_for "[ \"\$(usage_us $a)\" -gt $a0 ] && [ \"\$(usage_us $b)\" -gt $b0 ]" 60 "both cpu_hogs sharing CPU 0"
a0=$(usage_us "$a")
b0=$(usage_us "$b")
# A measurement window, not synchronisation: the split of CPU 0 over 4 s.
sleep 4
a1=$(usage_us "$a")
b1=$(usage_us "$b")
da=$((a1 - a0))
db=$((b1 - b0))
info "weight 100: $da us, weight 400: $db us (ratio x100: $((db * 100 / (da > 0 ? da : 1))))"
[ "$da" -gt 0 ] || fail "the weight-100 hog got no CPU at all"
{ [ "$db" -ge $((3 * da)) ] && [ "$db" -le $((5 * da)) ]; } ||
	fail "cpu-weight 400:100 split the CPU $db:$da, want a ratio between 3 and 5"
run "$MINIRT" rm -f w100 w400

# --nice N: the command runs at that nice value, and the group is weighted
# as a task of that nice value would be (cpu.weight.nice).
run "$MINIRT" run -d --name nice --nice 5 busybox sleep 60
expect_eq 5 "$(stat_field "$(ctr_pid nice)" 19)" "nice value of the --nice 5 process"
nid=$("$MINIRT" inspect nice | sed -n 's/^    "id": "\([0-9a-f]*\)",$/\1/p')
expect_eq 5 "$(cgfile "$nid" cpu.weight.nice)" "cpu.weight.nice for --nice 5"
run "$MINIRT" rm -f nice

# --pin-cpu=1: one core (CPU 1) and SCHED_RR (policy 2, rt_priority > 0).
run "$MINIRT" run -d --name pin --pin-cpu=1 busybox sleep 60
p=$(ctr_pid pin)
expect_eq 1 "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$p/status")" "CPUs allowed with --pin-cpu=1"
expect_eq 2 "$(stat_field "$p" 41)" "scheduling policy with --pin-cpu (2 = SCHED_RR)"
[ "$(stat_field "$p" 40)" -gt 0 ] || fail "rt_priority of the --pin-cpu process is 0"
pin=$("$MINIRT" inspect pin | sed -n 's/^    "id": "\([0-9a-f]*\)",$/\1/p')
run "$MINIRT" rm -f pin
for i in "$q" "$a" "$b" "$pin"; do
	[ ! -e "$cg/minirt/$i" ] || fail "cgroup $cg/minirt/$i left after rm -f"
done
