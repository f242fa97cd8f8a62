#!/usr/bin/env bash
# Resets a host: stops and removes every minirt container of one --root and
# --storage (the defaults, or MINIRT_ROOT / MINIRT_STORAGE), then makes sure
# nothing minirt made for them is left: shims, cgroups (under every parent
# that storage has used, and MINIRT_CGROUP_PARENT's), mounts, runtime state,
# and the eBPF memory monitor's pins once no shim on the host needs them.
# Images and volumes are kept unless asked for. Env: MINIRT_ROOT,
# MINIRT_STORAGE, MINIRT_CGROUP_PARENT, MINIRT (the minirt binary).
#
# Usage: sudo ./cleanup.sh [--images] [--volumes] [--all] [--dry-run]
#   --images   also remove images      --volumes  also remove named volumes
#   --all      both                    --dry-run  list what would go, change nothing
# Prints a count per kind; exits 0 when nothing is left, 1 naming what is.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"

usage() { sed -n '10,13p' "$0" | sed 's/^# \{0,1\}//'; }
remove_images=0
remove_volumes=0
dry=0
for arg in "$@"; do
    case "$arg" in
        --images) remove_images=1 ;;
        --volumes) remove_volumes=1 ;;
        --all) remove_images=1 remove_volumes=1 ;;
        --dry-run | -n) dry=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "cleanup.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "cleanup.sh: run as root" >&2
    exit 1
fi

# MINIRT: the binary to use (tests point it at their build).
minirt=${MINIRT:-$(command -v minirt || echo /usr/local/bin/minirt)}
root=$(realpath -m "${MINIRT_ROOT:-/run/minirt}")
storage=$(realpath -m "${MINIRT_STORAGE:-/var/lib/minirt}")
cg2=$(cgroup2_mount)
for dir in "$root" "$storage"; do
    case "$dir" in
        / | /run | /var | /var/lib | /tmp | /usr | /etc | /home)
            echo "cleanup.sh: refusing to clean $dir (MINIRT_ROOT/MINIRT_STORAGE name minirt's own directories)" >&2
            exit 2
            ;;
    esac
done
export MINIRT_ROOT=$root MINIRT_STORAGE=$storage

declare -A count=()
bump() { count[$1]=$((${count[$1]:-0} + ${2:-1})); }
say() { if [ "$dry" = 1 ]; then echo "would remove $*"; fi; }

# The cgroup parents this storage has used, and the one named now: paths of
# plain names below the v2 root (minirt refuses any other), never the root.
cgroup_parents() {
    {
        echo "${MINIRT_CGROUP_PARENT:-minirt}"
        [ ! -f "$storage/cgroup-parents" ] || cat "$storage/cgroup-parents"
    } | awk 'NF && !seen[$0]++' | grep -Ev '(^/|/$|(^|/)\.{1,2}(/|$)|//)' || true
}

is_id() { [[ $1 =~ ^[0-9a-f]{64}$ ]]; }

# The containers this root and storage know of, by id, found before step 1
# removes their records: a cgroup is only ever killed when it is one of
# theirs (a parent such as the default "minirt" may be shared with another
# storage).
declare -A known_ids=()
collect_known_ids() {
    local e name
    for e in "$storage/containers"/* "$storage/containers"/.[!.]* "$root"/*; do
        [ -e "$e" ] || continue
        name=${e##*/}
        name=${name#.trash-}
        name=${name#.new-}
        name=${name%%.gc-*}
        if is_id "$name"; then known_ids[$name]=1; fi
    done
}

# Shims of this root and storage: minirt-shim ROOT STORAGE ID ... (a
# dry run leaves out those of the containers step 1 would remove). With
# --ids, "PID ID" lines.
declare -A removed_ids=()
our_shims() {
    local p a=() id
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = minirt-shim ] || continue
        mapfile -t a < <(tr '\0' '\n' <"$p/cmdline" 2>/dev/null | sed -n '2,4p') || continue
        [ ${#a[@]} = 3 ] || continue
        if [ "$(realpath -m "${a[0]}")" != "$root" ] || [ "$(realpath -m "${a[1]}")" != "$storage" ]; then continue; fi
        id=${a[2]}
        is_id "$id" || continue
        [ -z "${removed_ids[$id]:-}" ] || continue
        if [ "${1:-}" = --ids ]; then echo "${p#/proc/} $id"; else echo "${p#/proc/}"; fi
    done
    return 0
}
any_shim() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = minirt-shim ] && return 0
    done
    return 1
}

# Container groups under every parent; then the parents.
our_cgroups() {
    local parent
    [ -n "$cg2" ] || return 0
    while read -r parent; do
        [ -d "$cg2/$parent" ] || continue
        find "$cg2/$parent" -mindepth 1 -maxdepth 1 -type d | while read -r g; do
            if ! is_id "${g##*/}" || [ -z "${known_ids[${g##*/}]:-}" ]; then continue; fi
            [ -n "${removed_ids[${g##*/}]:-}" ] || echo "$g"
        done
    done < <(cgroup_parents)
}

# Mount points under the storage or the root (a crash between a mount and
# its namespace's end), deepest first.
our_mounts() {
    awk -v s="$storage/" -v r="$root/" '{ m = $5; if (index(m, s) == 1 || index(m, r) == 1) print m }' \
        /proc/self/mountinfo | sort -r
}

collect_known_ids
while read -r _ id; do known_ids[$id]=1; done < <(our_shims --ids)

# 1. The normal way: rm -f kills each container through its cgroup and
#    waits for its shim to record the exit.
if [ -x "$minirt" ]; then
    while read -r id; do
        [ -n "$id" ] || continue
        say "container $id"
        [ "$dry" = 0 ] || removed_ids[$id]=1
        known_ids[$id]=1
        if [ "$dry" = 0 ]; then
            "$minirt" rm -f "$id" >/dev/null 2>&1 || echo "cleanup.sh: rm -f $id failed; forcing" >&2
        fi
        bump containers
    done < <("$minirt" list -q --no-trunc 2>/dev/null || true)
fi

# 2. Shims left by a crash (a lost /run, a killed rm): their init dies
#    with them (PR_SET_PDEATHSIG).
for pid in $(our_shims); do
    say "shim $pid"
    [ "$dry" = 1 ] || kill -KILL "$pid" 2>/dev/null || true
    bump shims
done

# 3. cgroups: everything in each group is killed, then the group goes.
while read -r cg; do
    [ -n "$cg" ] || continue
    say "cgroup $cg"
    if [ "$dry" = 0 ]; then
        if [ -w "$cg/cgroup.kill" ]; then echo 1 >"$cg/cgroup.kill" 2>/dev/null || true; fi
        for _ in $(seq 50); do
            rmdir "$cg" 2>/dev/null && break
            sleep 0.1
        done
    fi
    bump cgroups
done < <(our_cgroups)
if [ "$dry" = 0 ] && [ -n "$cg2" ]; then
    while read -r parent; do
        [ ! -d "$cg2/$parent" ] || rmdir "$cg2/$parent" 2>/dev/null || true
    done < <(cgroup_parents)
fi

# 4. Mounts.
while read -r m; do
    [ -n "$m" ] || continue
    say "mount $m"
    [ "$dry" = 1 ] || umount -l "$m" 2>/dev/null || true
    bump mounts
done < <(our_mounts)

# 5. Runtime state and container data (images and volumes on request).
#    Under the root only what minirt puts there: a directory per container,
#    locks/, exits/ and @seccomp-cache/.
state_list() {
    local e
    for e in "$root"/* "$root"/.[!.]*; do
        [ -e "$e" ] || continue
        case "${e##*/}" in locks | exits | @seccomp-cache) echo "$e" ;; *) if is_id "${e##*/}"; then echo "$e"; fi ;; esac
    done
    return 0
}
state_entries=$(state_list | wc -l)
data=("$storage/containers" "$storage/names")
[ "$remove_images" = 0 ] || data+=("$storage/images")
[ "$remove_volumes" = 0 ] || data+=("$storage/volumes")
for d in "${data[@]}"; do
    if [ -e "$d" ] || [ -L "$d" ]; then
        n=$(find "$d" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        say "$d ($n entries)"
        case "${d##*/}" in
            containers) bump "container dirs" "$n" ;;
            names) bump "name links" "$n" ;;
            *) bump "${d##*/}" "$n" ;;
        esac
    fi
done
say "$root ($state_entries entries)"
bump "state entries" "$state_entries"
if [ "$dry" = 0 ]; then
    state_list | while read -r e; do rm -rf "$e"; done
    rm -rf "${data[@]}"
fi

# 6. The eBPF memory monitor's pins serve every shim on the host, of any
#    storage: they go only once none is left.
if [ -d /sys/fs/bpf/minirt ] && ! any_shim; then
    n=$(find /sys/fs/bpf/minirt -mindepth 1 | wc -l)
    say "eBPF monitor pins /sys/fs/bpf/minirt ($n)"
    [ "$dry" = 1 ] || rm -rf /sys/fs/bpf/minirt
    bump "eBPF pins" "$n"
fi
# Registrations with the kernel module (/dev/container_monitor) name each
# container's init: the module drops those of dead processes at its next
# scan, so removing the containers above is all it takes.

summary=""
for kind in containers shims cgroups mounts "container dirs" "name links" "state entries" "eBPF pins" images volumes; do
    [ -n "${count[$kind]:-}" ] || [ "$kind" = containers ] || continue
    summary+="${summary:+, }${count[$kind]:-0} $kind"
done
if [ "$dry" = 1 ]; then
    echo "cleanup.sh: would remove $summary"
    exit 0
fi
echo "cleanup.sh: removed $summary"

# 7. What is still there is named, and the exit says so.
left=()
[ -z "$(our_shims)" ] || left+=("shims: $(our_shims | tr '\n' ' ')")
[ -z "$(our_cgroups)" ] || left+=("cgroups: $(our_cgroups | tr '\n' ' ')")
[ -z "$(our_mounts)" ] || left+=("mounts: $(our_mounts | tr '\n' ' ')")
[ -z "$(state_list)" ] || left+=("state under $root: $(state_list | tr '\n' ' ')")
for d in "${data[@]}"; do
    if [ -e "$d" ]; then left+=("$d"); fi
done
if [ ${#left[@]} -gt 0 ]; then
    printf 'cleanup.sh: still there: %s\n' "${left[@]}" >&2
    exit 1
fi
echo "cleanup.sh: done"
