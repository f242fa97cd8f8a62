# shellcheck shell=sh source-path=SCRIPTDIR
# The guest provides what minirt's tests rely on: pure cgroup v2 with every controller,
# overlayfs + pivot_root in a new mount namespace, veth and bridge.
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"

info "kernel $(uname -r), $(nproc) cpus"

# cgroup2 at /sys/fs/cgroup, the only cgroup hierarchy
expect_eq /sys/fs/cgroup "$(cg_path)" "cgroup2 mount point"
grep -q '^cgroup ' /proc/mounts && fail "a cgroup v1 hierarchy is mounted"
read -r controllers </sys/fs/cgroup/cgroup.controllers
read -r enabled </sys/fs/cgroup/cgroup.subtree_control
info "controllers: $controllers"
for c in cpuset cpu io memory pids; do
	expect_contains " $controllers " " $c " "controller $c available"
	expect_contains " $enabled " " $c " "controller $c enabled in subtree_control"
done
# a child group gets the limit files, freeze and kill
cg=/sys/fs/cgroup/vmtest-env
mkdir "$cg" || fail "cannot create $cg"
for f in memory.max memory.high memory.swap.max cpu.max cpu.weight cpuset.cpus io.max pids.max cgroup.freeze cgroup.kill memory.events; do
	expect_file "$cg/$f"
done
echo 10M >"$cg/memory.max" || fail "cannot write memory.max"
expect_eq 10485760 "$(cat "$cg/memory.max")" "memory.max"
sh -c "echo \$\$ >$cg/cgroup.procs; exec sleep 30" &
pid=$!
wait_for "grep -qx $pid $cg/cgroup.procs" 30
echo 1 >"$cg/cgroup.freeze"
wait_for "grep -q 'frozen 1' $cg/cgroup.events" 30 "freeze"
echo 1 >"$cg/cgroup.kill"
wait "$pid" 2>/dev/null
wait_for "[ -z \"\$(cat $cg/cgroup.procs)\" ]" 30 "cgroup.kill"
rmdir "$cg" || fail "cannot remove $cg"

# overlayfs (module loaded by the guest init) + pivot_root in a new mount namespace
grep -qw overlay /proc/filesystems || fail "overlay not in /proc/filesystems"
d=$VMTEST_WORK/ovl
mkdir -p "$d/lower/bin" "$d/lower/old" "$d/upper" "$d/work" "$d/merged"
cp /bin/busybox "$d/lower/bin/busybox"
echo lower >"$d/lower/file"
unshare -m sh -c "
	mount --make-rprivate / &&
	mount -t overlay overlay -o lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work $d/merged &&
	echo upper >$d/merged/file &&
	cd $d/merged && pivot_root . old && exec /bin/busybox sh -c '
		/bin/busybox cat /file >/ok &&
		/bin/busybox umount -l /old && echo pivoted'
" >"$d/out" 2>&1 || { cat "$d/out"; fail "overlay + pivot_root in unshare -m failed"; }
expect_eq pivoted "$(cat "$d/out")" "pivot_root output"
expect_eq upper "$(cat "$d/upper/ok")" "file written through the overlay"
expect_eq lower "$(cat "$d/lower/file")" "lower layer untouched"
grep -q " $d/merged " /proc/mounts && fail "overlay mount leaked out of the namespace"

# veth + bridge
ip link add vmt0 type veth peer name vmt1 || fail "cannot create a veth pair"
if ip -V 2>/dev/null | grep -q iproute2; then
	[ -d /sys/class/net/vmt1 ] || fail "veth peer vmt1 missing"
else
	info "busybox ip: it ignores the veth peer's name"
	peer=""
	read -r peer_idx </sys/class/net/vmt0/iflink
	for n in /sys/class/net/*; do
		[ "$(cat "$n/ifindex")" = "$peer_idx" ] && peer=${n##*/}
	done
	case $peer in "" | vmt0) fail "vmt0 has no peer" ;; esac
	ip link set "$peer" name vmt1 || fail "cannot rename $peer"
fi
ip link add vmtbr0 type bridge || fail "cannot create a bridge"
ip link set vmt0 master vmtbr0 || fail "cannot enslave veth to the bridge"
for l in vmtbr0 vmt0 vmt1; do ip link set "$l" up || fail "cannot set $l up"; done
ip link del vmt0
ip link del vmtbr0
[ -d /sys/module/veth ] || fail "veth module not loaded"
echo "guest environment ok"
