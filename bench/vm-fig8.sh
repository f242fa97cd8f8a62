# shellcheck shell=sh source-path=SCRIPTDIR
# bench/run figure 8, run in the VM guest (test/vm/run, pure cgroup v2, TCG):
# start-to-exit of /bin/true with a memory and CPU limit (cgroup creation
# counted) for minirt, runc and crun, plus minirt without limits and the floor.
# bench/run ships timeit, runc, crun and an OCI bundle in /opt/extra/bench.
# Prints "@@BENCH SUBJECT MEDIAN MIN MAX N" (milliseconds) per subject.
# vmtest-timeout: 900
# shellcheck source=../test/vm/guest/lib.sh
. "$VMTEST_LIB"
need_minirt

extra=/opt/extra/bench
bundle=$extra/bundle
rootfs=/var/lib/minirt/images/busybox/rootfs
n=${BENCH_VM_ITER:-20}
[ -x "$extra/bin/timeit" ] || fail "no timeit in $extra/bin"
[ -d "$rootfs" ] || fail "no busybox rootfs at $rootfs"

# Warm up: the first run of each pays for page-cache misses under TCG.
run "$MINIRT" run --rm --mem 100M --cpus 1 busybox /bin/true
peers=""
for p in runc crun; do
    if [ -x "$extra/bin/$p" ]; then
        if "$extra/bin/$p" --root "/run/$p" run -b "$bundle" "warm-$p" >/dev/null 2>"$VMTEST_WORK/$p.err"; then
            peers="$peers $p"
        else
            info "$p does not run here: $(head -c 300 "$VMTEST_WORK/$p.err")"
        fi
    fi
done

i=0
while [ "$i" -lt "$n" ]; do
    timeit -- unshare -p -u -m -i -n -f chroot "$rootfs" /bin/true >>"$VMTEST_WORK/floor" ||
        fail "the floor failed"
    timeit -- "$MINIRT" run --rm busybox /bin/true >>"$VMTEST_WORK/minirt" || fail "minirt run failed"
    timeit -- "$MINIRT" run --rm --mem 100M --cpus 1 busybox /bin/true >>"$VMTEST_WORK/minirt-limits" ||
        fail "minirt run --mem --cpus failed"
    for p in $peers; do
        timeit -- "$extra/bin/$p" --root "/run/$p" run -b "$bundle" "b$i" >>"$VMTEST_WORK/$p-limits" ||
            fail "$p run failed"
    done
    i=$((i + 1))
done

for s in floor minirt minirt-limits $peers; do
    f=$s
    [ "$s" = runc ] || [ "$s" = crun ] && f=$s-limits
    echo "@@BENCH $f $(timeit --stats <"$VMTEST_WORK/$f")"
done
[ -z "$(ls -A /sys/fs/cgroup/minirt 2>/dev/null)" ] || fail "cgroups left under /sys/fs/cgroup/minirt"
