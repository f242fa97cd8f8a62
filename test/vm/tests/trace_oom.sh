# shellcheck shell=sh
# minirt trace on Debian's kernels (6.1 and 6.12): every trace program loads
# and attaches there (CO-RE against the build host's BTF), `minirt trace`
# follows a running container, and the kernel's OOM kill of a container
# under --mem shows as an oom event of the process it picked, then its
# SIGKILL and its exit by signal.
# vmtest-timeout: 120
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
[ -r /sys/kernel/btf/vmlinux ] || skip "the guest kernel has no BTF"
trap '"$MINIRT" rm -f traced oomt >/dev/null 2>&1' EXIT

run "$MINIRT" info
expect_contains "$OUT" "available: true" "minirt info's trace section"

# Every program, from before the init is born; the hog is OOM-killed.
t=/tmp/trace-oom.txt
rm -f "$t"
expect_rc 137 "$MINIRT" run --name oomt --mem 32M --trace "$t" busybox memory_hog --size 64M --hold-seconds 0
info "$(grep -E ' (oom|exit|exec) ' "$t" | tail -n 5)"
grep -q ' pivot_root=. put_old=. result=0' "$t" || fail "no pivot_root in the trace: $(head -n 40 "$t")"
grep -q ' memory_hog .* oom ' "$t" || fail "no oom event of memory_hog: $(grep -E ' oom | signal ' "$t")"
grep -q ' memory_hog .* signal .*signal=KILL' "$t" || fail "no SIGKILL of memory_hog: $(grep ' signal ' "$t")"
grep -q ' memory_hog .* exit .*signal=KILL' "$t" || fail "no exit by SIGKILL: $(grep ' exit ' "$t")"
run "$MINIRT" rm oomt

# oom without signal: the victim is still known by the SIGKILL it is sent.
rm -f "$t"
expect_rc 137 "$MINIRT" run --rm --mem 32M --trace "$t" --trace-events oom,exit busybox memory_hog --size 64M --hold-seconds 0
grep -q ' memory_hog .* oom ' "$t" || fail "no oom event with --trace-events oom,exit: $(cat "$t")"
if grep -q ' signal ' "$t"; then fail "signal events though not chosen: $(grep ' signal ' "$t")"; fi

# minirt trace on a running container, ending with it.
run "$MINIRT" run -d --name traced busybox sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; mkdir /made; exit 5'
"$MINIRT" trace --events exec,mkdir,exit traced >/tmp/trace-cli.txt 2>/tmp/trace-cli.err &
tracer=$!
wait_for "grep -q '^minirt trace: tracing' /tmp/trace-cli.err" 60 "minirt trace to attach"
run "$MINIRT" exec traced touch /tmp/go
wait "$tracer" || fail "minirt trace failed: $(cat /tmp/trace-cli.err)"
grep -q ' mkdir   path=/made mode=0777 result=0' /tmp/trace-cli.txt || fail "no mkdir: $(cat /tmp/trace-cli.txt)"
grep -q ' exit    code=5' /tmp/trace-cli.txt || fail "no exit 5: $(cat /tmp/trace-cli.txt)"
run "$MINIRT" rm traced
