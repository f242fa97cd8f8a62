# shellcheck shell=sh source-path=SCRIPTDIR
# podman with minirt-oci as its runtime, on a pure cgroup v2 kernel: the
# limits podman puts in config.json (--memory, --cpus, its default pids
# limit) reach the container's cgroup, and an over-limit container is
# OOM-killed with podman reporting 137. test/run ships podman and conmon in
# /opt/extra/engines (with a minirt-oci symlink); the host tests cover the
# rest of podman's use (test/integration/t_oci_engines.sh).
# vmtest-timeout: 120
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
engines=/opt/extra/engines/bin
[ -x "$engines/podman" ] || fail "no podman in $engines (test/run ships it)"
rootfs=/var/lib/minirt/images/busybox/rootfs
pm() {
    "$engines/podman" --root /tmp/pm/root --runroot /run/pm --tmpdir /tmp/pm/tmp --storage-driver vfs \
        --cgroup-manager cgroupfs --events-backend file --runtime "$engines/minirt-oci" "$@"
}
trap 'pm rm -af -t 0 >/dev/null 2>&1' EXIT

run pm run --rm --network none --memory 32m --memory-swap 32m --cpus 0.5 --rootfs "$rootfs" \
    sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max'
expect_eq "33554432
0
50000 100000
2048" "$OUT" "memory.max, memory.swap.max, cpu.max and pids.max seen inside"

expect_rc 137 pm run --rm --network none --memory 32m --memory-swap 32m --rootfs "$rootfs" \
    memory_hog --size 64M --hold-seconds 0
info "podman run --memory 32m memory_hog --size 64M: exit 137"
case $OUT in *"reached bytes="*) fail "memory_hog reached 64M under --memory 32m: $OUT" ;; esac

expect_rc 0 pm run --rm --network none --memory 128m --rootfs "$rootfs" memory_hog --size 64M --hold-seconds 0
expect_contains "$OUT" "reached bytes=" "memory_hog output under --memory 128m"
# podman update drives minirt-oci update --resources: the new limit is
# what the running container sees. (podman writes that file in /var/tmp.)
mkdir -p /var/tmp
run pm run -d --name upd --network none --memory 32m --rootfs "$rootfs" sleep 1000
run pm update --memory 64m upd
run pm exec upd cat /sys/fs/cgroup/memory.max
expect_eq 67108864 "$OUT" "memory.max after podman update --memory 64m"
run pm rm -f -t 0 upd
# Only the compiled seccomp programs may stay (a cache, not a container's state).
left=""
for e in /run/minirt-oci/* /run/minirt-oci/.[!.]*; do
    [ -e "$e" ] || continue
    [ "${e##*/}" = @seccomp-cache ] || left="$left ${e##*/}"
done
[ -z "$left" ] || fail "minirt-oci state left:$left"
