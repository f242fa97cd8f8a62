#!/usr/bin/env bash
# Resets a host: stops and removes every minirt container (in the default
# --root/--storage, or those given by MINIRT_ROOT/MINIRT_STORAGE), and then
# makes sure no mount, cgroup, shim or state file of minirt's is left.
# Images are kept unless --images is given.
# Usage: sudo ./cleanup.sh [--images]
set -euo pipefail

remove_images=0
case "${1:-}" in
    --images) remove_images=1 ;;
    "") ;;
    -h|--help) echo "Usage: sudo ./cleanup.sh [--images]"; exit 0 ;;
    *) echo "cleanup.sh: unknown argument '$1'" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    echo "cleanup.sh: run as root" >&2
    exit 1
fi

minirt=$(command -v minirt || echo /usr/local/bin/minirt)
root=${MINIRT_ROOT:-/run/minirt}
storage=${MINIRT_STORAGE:-/var/lib/minirt}
parent=${MINIRT_CGROUP_PARENT:-minirt}

# 1. The normal way: rm -f kills each container through its cgroup and waits
#    for its shim to record the exit.
if [ -x "$minirt" ]; then
    "$minirt" list -q --no-trunc 2>/dev/null | while read -r id; do
        "$minirt" rm -f "$id" >/dev/null 2>&1 || echo "cleanup.sh: could not remove $id cleanly; forcing" >&2
    done
fi

# 2. Whatever a crash left: processes in minirt cgroups, then the cgroups.
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cg2" ] && [ -d "$cg2/$parent" ]; then
    for cg in "$cg2/$parent"/*/; do
        [ -d "$cg" ] || continue
        if [ -w "$cg/cgroup.kill" ]; then echo 1 >"$cg/cgroup.kill" 2>/dev/null || true; fi
        for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    done
    rmdir "$cg2/$parent" 2>/dev/null || true
fi

# 3. Shims whose container dirs are gone (they exit by themselves once their
#    container dies; give them a moment).
sleep 0.2

# 4. Mounts under our storage (a crash between mount and namespace exit).
grep -F " $storage/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
done

# 5. State and container data.
rm -rf "${root:?}"/* "$storage/containers" "$storage/names"
if [ "$remove_images" = 1 ]; then
    rm -rf "$storage/images"
fi
echo "cleanup.sh: done"
