#!/usr/bin/env bash
# The real-GPU check of CDI (docs/devices.md), for a borrowed machine with an
# NVIDIA GPU and nothing installed (no compiler, no network): run from a
# copy of the repository that carries build/runtime (minirt, minirt-shim,
# built here) and build/gpu-image (busybox's rootfs, from
# test/device/gpu-cdi.sh --prepare here). It
#   1. probes what minirt needs (namespaces, overlayfs, pivot_root's mount
#      namespace, cgroup v2 writes) and records why if minirt cannot run;
#   2. makes a glibc userland image: busybox plus the machine's own C
#      library (what nvidia-smi and the driver's libraries link against);
#   3. writes a CDI spec with scripts/cdi-nvidia-spec from /dev/nvidia* and
#      the driver's libraries;
#   4. runs `nvidia-smi -L` in a container given nvidia.com/gpu=all, and
#      checks that a container without it cannot open /dev/nvidia0.
# Everything it finds goes to $OUT (default ./gpu-cdi-out), summary.txt last.
#
# Usage: test/device/gpu-cdi.sh [--prepare]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
image_src=$top/build/gpu-image

if [ "${1:-}" = --prepare ]; then
    # Here, on the build machine: the image's base, small enough to carry.
    rm -rf "$image_src"
    mkdir -p "$image_src"
    cp -a /var/lib/minirt/images/busybox/rootfs "$image_src/rootfs"
    jq '.name = "gpu"' /var/lib/minirt/images/busybox/image.json >"$image_src/image.json"
    echo "prepared $image_src ($(du -sh "$image_src" | cut -f1)); carry build/runtime and build/gpu-image"
    exit 0
fi

out=${OUT:-$PWD/gpu-cdi-out}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }
minirt=$top/build/runtime/minirt
work=$(mktemp -d /tmp/gpu-cdi.XXXXXX)
export MINIRT_ROOT=$work/run MINIRT_STORAGE=$work/storage MINIRT_CGROUP_PARENT=minirt-gpu-check MINIRT_NETWORK=none
cleanup() {
    "$minirt" rm -f -a >/dev/null 2>&1 || true
    local v2
    v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
    [ -z "$v2" ] || rmdir "$v2/$MINIRT_CGROUP_PARENT" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# 1. What minirt needs of the kernel.
{
    echo "kernel: $(uname -r)"
    echo "cgroup2: $(grep -m1 cgroup2 /proc/mounts || echo none)"
    echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || echo '?')"
    unshare -m -p -n -u -i -C --fork true && echo "namespaces: ok" || echo "namespaces: FAILED"
    mkdir -p "$work/o/l" "$work/o/u" "$work/o/w" "$work/o/m"
    if mount -t overlay overlay -o "lowerdir=$work/o/l,upperdir=$work/o/u,workdir=$work/o/w" "$work/o/m"; then
        echo "overlayfs: ok"
        umount "$work/o/m"
    else
        echo "overlayfs: FAILED"
    fi
    v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
    if [ -n "$v2" ] && mkdir "$v2/minirt-gpu-probe"; then
        if echo 100M >"$v2/minirt-gpu-probe/memory.max"; then echo "cgroup writes: ok"; else echo "cgroup writes: FAILED"; fi
        rmdir "$v2/minirt-gpu-probe"
    else
        echo "cgroup v2: none, or no group can be made"
    fi
    ls -l /dev/nvidia* 2>&1 || true
    nvidia-smi -L 2>&1 || echo "nvidia-smi on the host: not found or failed"
} >"$out/probe.txt" 2>&1
cat "$out/probe.txt"
[ -d "$image_src/rootfs" ] || { say "no $image_src: run test/device/gpu-cdi.sh --prepare where minirt is built, and carry it"; exit 1; }
if ! ls /dev/nvidia[0-9]* >/dev/null 2>&1; then
    say "no /dev/nvidiaN here: nothing to check"
    exit 1
fi

# 2. busybox plus this machine's C library, the loader where the
# driver's libraries expect it.
mkdir -p "$MINIRT_STORAGE/images"
cp -a "$image_src" "$MINIRT_STORAGE/images/gpu"
rootfs=$MINIRT_STORAGE/images/gpu/rootfs
mkdir -p "$rootfs/lib64" "$rootfs/usr/lib/x86_64-linux-gnu"
for lib in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do
    src=$(readlink -f "/lib/x86_64-linux-gnu/$lib")
    cp "$src" "$rootfs/usr/lib/x86_64-linux-gnu/$lib"
done
cp "$rootfs/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$rootfs/lib64/"
[ -e "$rootfs/lib" ] || ln -s usr/lib "$rootfs/lib"

if ! "$minirt" run --rm gpu true >"$out/minirt-probe.txt" 2>&1; then
    say "minirt cannot run a container here: $(cat "$out/minirt-probe.txt")"
    exit 1
fi

# 3. The spec.
mkdir -p "$work/cdi"
"$top/scripts/cdi-nvidia-spec" >"$work/cdi/nvidia.yaml"
cp "$work/cdi/nvidia.yaml" "$out/nvidia.yaml"
"$minirt" --cdi-spec-dir "$work/cdi" info >"$out/info.txt" 2>&1 || true

# 4. The GPU in a container, and not in another.
set +e
"$minirt" --cdi-spec-dir "$work/cdi" run --rm --device nvidia.com/gpu=all gpu nvidia-smi -L >"$out/with-gpu.txt" 2>&1
with=$?
"$minirt" run --rm gpu sh -c 'exec 3</dev/nvidia0 && echo opened' >"$out/without-gpu.txt" 2>&1
without=$?
set -e
say "with --device nvidia.com/gpu=all (exit $with):"
sed 's/^/    /' "$out/with-gpu.txt" | tee -a "$summary"
say "without it, opening /dev/nvidia0 (exit $without):"
sed 's/^/    /' "$out/without-gpu.txt" | tee -a "$summary"
if [ "$with" = 0 ] && grep -q '^GPU 0' "$out/with-gpu.txt" && [ "$without" != 0 ]; then
    say "PASS: the GPU through CDI, and only there"
else
    say "FAIL"
    exit 1
fi
