# shellcheck shell=sh source-path=SCRIPTDIR
# Docker's daemon with minirt-oci as its runtime, on a pure cgroup v2
# kernel: --memory, --cpus and --pids-limit reach the container's group,
# `docker update --memory` changes it in place, `docker stats` shows the
# container's own figures, and an over-limit container exits 137. test/run
# ships Debian's dockerd, containerd and docker client in
# /opt/extra/engines; the host tests cover the rest of Docker's use
# (test/integration/t_oci_engines.sh). No bridge: the guest has no iptables.
# vmtest-timeout: 300
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
engines=/opt/extra/engines/bin
[ -x "$engines/dockerd" ] || skip "no dockerd in $engines (test/run ships it with docker.io)"
export PATH="$engines:$PATH"
d=/tmp/dk
dk() { "$engines/docker" -H "unix://$d/sock" "$@"; }
cleanup() {
    dk ps -aq 2>/dev/null | xargs -r "$engines/docker" -H "unix://$d/sock" rm -f >/dev/null 2>&1
    [ -f "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$d"
dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/pid" -H "unix://$d/sock" \
    --add-runtime minirt="$engines/minirt-oci" --default-runtime minirt --storage-driver vfs \
    --exec-opt native.cgroupdriver=cgroupfs --iptables=false --ip-masq=false --bridge=none \
    >"$d/log" 2>&1 &
wait_for "dk version >/dev/null 2>&1" 120 "dockerd to answer"
(cd /var/lib/minirt/images/busybox/rootfs && tar -c .) | dk import - busybox:minirt >/dev/null ||
    fail "docker import: $(tail -5 "$d/log")"

# The guest's kernel has AppArmor, but not its parser: Docker would load a profile.
ro="--rm --network none --security-opt apparmor=unconfined"
# (Docker leaves swap out here: the guest's root group has no memory.swap.max.)
# shellcheck disable=SC2086
run dk run $ro --memory 32m --cpus 0.5 --pids-limit 50 busybox:minirt \
    sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max'
expect_eq "33554432
50000 100000
50" "$(printf '%s\n' "$OUT" | grep -v '^WARNING')" "memory.max, cpu.max and pids.max seen inside"

# shellcheck disable=SC2086
expect_rc 137 dk run $ro --memory 32m busybox:minirt \
    memory_hog --size 64M --hold-seconds 0
info "docker run --memory 32m memory_hog --size 64M: exit 137"

id=$(dk run -d --network none --security-opt apparmor=unconfined --memory 32m busybox:minirt sleep 1000) ||
    fail "docker run -d"
run dk update --memory 64m "$id"
run dk exec "$id" cat /sys/fs/cgroup/memory.max
expect_eq 67108864 "$(printf '%s\n' "$OUT" | grep -v '^WARNING')" "memory.max after docker update --memory 64m"
# The container's own figures: a sleeping busybox uses well under 16 MiB
# (the daemon's would be far more).
run dk stats --no-stream --format '{{.MemUsage}}' "$id"
info "docker stats: $OUT"
expect_contains "$OUT" "/ 64MiB" "docker stats' limit"
usage=${OUT%% / *}
case $usage in
*KiB | *[0-9]B) ;;
*MiB)
    n=${usage%MiB}
    [ "${n%%.*}" -lt 16 ] || fail "docker stats shows far more than a sleeping container: $OUT"
    ;;
*) fail "docker stats shows far more than a sleeping container: $OUT" ;;
esac
run dk rm -f "$id"
