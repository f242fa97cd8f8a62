# shellcheck shell=sh source-path=SCRIPTDIR
# containerd (its runc shim, `ctr run --runc-binary`) with minirt-oci on a
# pure cgroup v2 kernel: --memory-limit and --cpus reach the container's
# group, `ctr task metrics` reads the container's own figures (the shim
# reads the v2 group itself), and exec, pause and kill work as on the host
# (test/integration/t_oci_engines.sh). test/run ships containerd and ctr in
# /opt/extra/engines.
# vmtest-timeout: 240
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
engines=/opt/extra/engines/bin
{ [ -x "$engines/containerd" ] && [ -x "$engines/ctr" ]; } || skip "no containerd or ctr in $engines"
export PATH="$engines:$PATH"
d=/tmp/ctrd
rootfs=/var/lib/minirt/images/busybox/rootfs
c() { "$engines/ctr" --address "$d/sock" "$@"; }
cleanup() {
    c task kill -s SIGKILL m1 >/dev/null 2>&1
    c task delete -f m1 >/dev/null 2>&1
    c container rm m1 >/dev/null 2>&1
    [ -f "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$d"
cat >"$d/config.toml" <<EOF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/sock"
[ttrpc]
  address = "$d/sock.ttrpc"
EOF
containerd --config "$d/config.toml" >"$d/log" 2>&1 &
echo $! >"$d/pid"
wait_for "c version >/dev/null 2>&1" 120 "containerd to answer"

run c run --rm --runc-binary "$engines/minirt-oci" --cgroup /ctrtest/r1 --rootfs "$rootfs" r1 sh -c 'echo from-ctr; exit 0'
expect_eq from-ctr "$(printf '%s\n' "$OUT" | tr -d '\r')" "ctr run output"
# (ctr's spec has no cgroup namespace: inside, /sys/fs/cgroup is the
# hierarchy's root, as with runc; the group is read from here.)
run c run -d --runc-binary "$engines/minirt-oci" --cgroup /ctrtest/m1 --memory-limit 67108864 --cpus 0.5 \
    --rootfs "$rootfs" m1 sleep 1000
wait_for "c task ls | grep -q 'm1 .*RUNNING'" 60 "m1 running"
g=$(cg_path)/ctrtest/m1
expect_eq 67108864 "$(cat "$g/memory.max")" "memory.max from --memory-limit"
expect_eq "50000 100000" "$(cat "$g/cpu.max")" "cpu.max from --cpus 0.5"
expect_rc 5 c task exec --exec-id e1 m1 sh -c 'exit 5'
run c task metrics m1
info "ctr task metrics: $(printf '%s' "$OUT" | tr '\n' ' ')"
# The container's own group: its limit, and a sleeping busybox's few pids.
printf '%s\n' "$OUT" | grep -q '^memory.usage_limit  *67108864 *$' || fail "metrics: not the container's memory limit"
printf '%s\n' "$OUT" | grep -q '^pids.current  *1 *$' || fail "metrics: not the container's one process"
run c task pause m1
wait_for "c task ls | grep -q 'm1 .*PAUSED'" 60 "m1 paused"
run c task resume m1
run c task kill -s SIGKILL m1
wait_for "c task ls | grep -q 'm1 .*STOPPED'" 60 "m1 stopped"
run c task delete m1
run c container rm m1
[ ! -e "$g" ] || fail "the group of m1 was left"
