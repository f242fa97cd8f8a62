# shellcheck shell=sh source-path=SCRIPTDIR
# A container sees its own limits: a private cgroup namespace with its group mounted
# read-only at /sys/fs/cgroup (memory.max of --mem, pids.max of --pids-limit, 0::/ in
# /proc/self/cgroup); --cgroupns host keeps the host's view. And the device allow-list
# (an eBPF program on the group) holds on a pure cgroup v2 host: a node made with
# CAP_MKNOD does not open.
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f cgns >/dev/null 2>&1' EXIT

expect_rc 0 "$MINIRT" run --rm --mem 100M --pids-limit 50 busybox \
    sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; tail -n1 /proc/self/cgroup
           echo 1 > /sys/fs/cgroup/memory.max 2>/dev/null && echo WROTE; true'
info "inside: $(printf '%s' "$OUT" | tr '\n' ' ')"
expect_eq 104857600 "$(printf '%s\n' "$OUT" | sed -n 1p)" "memory.max seen inside for --mem 100M"
expect_eq 50 "$(printf '%s\n' "$OUT" | sed -n 2p)" "pids.max seen inside for --pids-limit 50"
expect_eq "0::/" "$(printf '%s\n' "$OUT" | sed -n 3p)" "/proc/self/cgroup inside"
case $OUT in *WROTE*) fail "the container wrote its own memory.max" ;; esac

# exec sees the same.
run "$MINIRT" run -d --name cgns --mem 64M busybox sleep 60
expect_rc 0 "$MINIRT" exec cgns sh -c 'cat /sys/fs/cgroup/memory.max; tail -n1 /proc/self/cgroup'
expect_eq "67108864
0::/" "$OUT" "exec's view"
run "$MINIRT" rm -f cgns

expect_rc 0 "$MINIRT" run --rm --cgroupns host --mem 100M busybox sh -c 'tail -n1 /proc/self/cgroup'
case $OUT in "0::/minirt/"*) ;; *) fail "--cgroupns host: /proc/self/cgroup reads $OUT" ;; esac

expect_rc 0 "$MINIRT" run --rm --cap-add MKNOD busybox \
    sh -c 'mknod /dev/l b 7 0 && { head -c1 /dev/l >/dev/null 2>&1 && echo OPENED-loop; }
           mknod /dev/k c 1 11 && { echo x 2>/dev/null >/dev/k && echo OPENED-kmsg; }
           head -c 3 /dev/zero | wc -c'
case $OUT in *OPENED*) fail "a device outside the allow-list opened: $OUT" ;; esac
expect_eq 3 "$OUT" "/dev/zero still works"
info "checked: own limits at /sys/fs/cgroup, 0::/, --cgroupns host, device allow-list"
