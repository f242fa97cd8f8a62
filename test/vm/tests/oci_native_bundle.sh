# shellcheck shell=sh source-path=SCRIPTDIR
# The OCI spec `minirt run` writes (config.json) is a valid bundle, whole:
# runc runs it on this pure cgroup v2 kernel, limits included, and the
# command sees the same cgroup files and the same container as under
# minirt. The overlay is mounted at root.path first, as podman does.
# vmtest-timeout: 120
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
runc=/opt/extra/engines/bin/runc
[ -x "$runc" ] || fail "no runc in /opt/extra/engines/bin (test/run ships it)"
store=/var/lib/minirt
trap '"$MINIRT" rm -f nb >/dev/null 2>&1; umount "$store/containers/$id/merged" 2>/dev/null' EXIT

cmd='cd /sys/fs/cgroup; cat memory.max memory.swap.max memory.high cpu.max cpu.weight pids.max; hostname; id; grep Seccomp: /proc/self/status'
run "$MINIRT" run --name nb --hostname nbhost --user 1000:1000 --mem 64m --mem-soft 48m --cpus 0.5 --cpu-weight 300 \
    --pids-limit 50 busybox sh -c "$cmd"
native=$OUT
expect_contains "$native" "67108864" "memory.max under minirt"
id=$("$MINIRT" inspect nb | sed -n 's/^    "id": "\([0-9a-f]*\)",$/\1/p')
spec=$store/containers/$id/config.json
[ -f "$spec" ] || fail "no config.json for $id"
bundle=/tmp/nb-bundle
mkdir -p "$bundle"
cp "$spec" "$bundle/config.json"
mount -t overlay overlay \
    -o "lowerdir=$store/images/busybox/rootfs,upperdir=$store/containers/$id/upper,workdir=$store/containers/$id/work" \
    "$store/containers/$id/merged"
expect_rc 0 "$runc" --root /run/nb-runc run --bundle "$bundle" nb-runc
umount "$store/containers/$id/merged"
expect_eq "$native" "$OUT" "what the command saw under runc (the spec whole) and under minirt"
[ ! -e "$(cg_path)/minirt/$id" ] || fail "runc left the container's group"
run "$MINIRT" rm nb
