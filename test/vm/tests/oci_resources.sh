# shellcheck shell=sh source-path=SCRIPTDIR
# minirt oci with linux.resources on a cgroup v2 kernel: every field lands
# in its cgroup v2 file (shares → cpu.weight, reservation → memory.low,
# blockIO weight → io.weight, unified as given), pids.limit is enforced, and
# delete removes the group.
# vmtest-timeout: 90
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
b=/tmp/oci-bundle
oci() { "$MINIRT" oci --root /run/oci-vmtest "$@"; }
trap 'oci delete --force ocr >/dev/null 2>&1; rm -rf "$b"' EXIT

mkdir -p "$b"
cp -a /var/lib/minirt/images/busybox/rootfs "$b/rootfs"
run oci spec --bundle "$b"
# No jq in the guest: the default spec is pretty-printed, so these edits are exact.
sed -i -e 's|"resources": {|"resources": {"memory": {"limit": 67108864, "reservation": 16777216}, "cpu": {"shares": 2048, "quota": 20000, "period": 100000}, "pids": {"limit": 10}, "blockIO": {"weight": 1000}, "unified": {"memory.high": "50331648"},|' \
    -e 's|^\( *\)"sh"$|\1"fork_hog", "--count", "15"|' "$b/config.json"
grep -q '"fork_hog"' "$b/config.json" || fail "could not set args in the default spec"
oci create --bundle "$b" ocr >"$b/out" 2>&1 || fail "create: $(cat "$b/out")"
d=$cg/minirt-oci/ocr
expect_eq 67108864 "$(cat "$d/memory.max")" "memory.max from memory.limit"
expect_eq 16777216 "$(cat "$d/memory.low")" "memory.low from memory.reservation"
expect_eq 50331648 "$(cat "$d/memory.high")" "memory.high from unified"
expect_eq 79 "$(cat "$d/cpu.weight")" "cpu.weight from cpu.shares 2048"
expect_eq "20000 100000" "$(cat "$d/cpu.max")" "cpu.max from quota/period"
expect_eq 10 "$(cat "$d/pids.max")" "pids.max from pids.limit"
expect_eq "default 10000" "$(cat "$d/io.weight")" "io.weight from blockIO.weight 1000"
# oci update, as docker update and podman update drive it: flags, then a
# linux.resources file; the other half of cpu.max is kept.
run oci update --memory 128m --pids-limit 20 --cpu-quota 50000 ocr
expect_eq 134217728 "$(cat "$d/memory.max")" "memory.max after update --memory 128m"
expect_eq 20 "$(cat "$d/pids.max")" "pids.max after update --pids-limit 20"
expect_eq "50000 100000" "$(cat "$d/cpu.max")" "cpu.max after update --cpu-quota 50000"
printf '{"memory": {"limit": -1}, "pids": {"limit": 10}, "cpu": {"shares": 0}}' >"$b/res.json"
run oci update --resources "$b/res.json" ocr
expect_eq max "$(cat "$d/memory.max")" "memory.max after update with limit -1"
expect_rc 125 oci update --memory-swap 100m ocr
expect_contains "$OUT" "memory.swap needs a memory limit, and the container has none" "a swap alone without a limit"
expect_eq 10 "$(cat "$d/pids.max")" "pids.max after update --resources"
expect_eq 79 "$(cat "$d/cpu.weight")" "cpu.weight kept (shares 0 is not set)"
run oci events --stats ocr
expect_contains "$OUT" '"pids":{"current":1,"limit":10}' "events --stats pids"
expect_contains "$OUT" '"type":"stats"' "events --stats"
run oci update --memory 67108864 ocr
run oci start ocr
wait_for "grep -q '^summary ' '$b/out'" 30 "fork_hog's summary"
summary=$(grep '^summary ' "$b/out")
info "$summary"
forked=$(printf '%s\n' "$summary" | sed -n 's/.* forked=\([0-9]*\).*/\1/p')
[ $((forked + 1)) -le 10 ] || fail "$forked children plus fork_hog exceed pids.limit 10"
run oci delete --force ocr
[ ! -e "$d" ] || fail "cgroup $d left after delete"
[ ! -e "$cg/minirt-oci" ] || fail "the minirt-oci parent group was left behind"
