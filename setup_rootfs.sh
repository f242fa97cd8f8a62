#!/usr/bin/env bash
# Sets up a host for minirt: installs the build dependencies (apt-get),
# builds with meson, installs /usr/local/bin/minirt, and creates the base
# image "busybox" from Debian's busybox-static package. With --image debian
# it also builds a "debian" image with debootstrap (minbase).
# Safe to re-run: finished steps are skipped.
set -euo pipefail

usage() {
    cat <<USAGE
Usage: sudo ./setup_rootfs.sh [--image debian] [--rebuild-images] [--storage DIR] [--restart-service]
  --image debian     also build a Debian (bookworm, minbase) image with debootstrap
  --restart-service  install (and enable, under systemd) minirt-restart.service: at boot it
                     starts the containers of --restart always, and unless-stopped ones that ran
  --rebuild-images   re-create images even if they exist
  --storage DIR      minirt storage (default: \$MINIRT_STORAGE or /var/lib/minirt)
USAGE
}

want_debian=0
rebuild=0
restart_service=0
while [ $# -gt 0 ]; do
    case "$1" in
        --image) [ "${2:-}" = debian ] || { echo "setup_rootfs.sh: --image takes 'debian'" >&2; exit 2; }
                 want_debian=1; shift 2 ;;
        --image=debian) want_debian=1; shift ;;
        --rebuild-images) rebuild=1; shift ;;
        --restart-service) restart_service=1; shift ;;
        --storage) export MINIRT_STORAGE="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup_rootfs.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "setup_rootfs.sh: run as root (sudo ./setup_rootfs.sh)" >&2
    exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
log() { printf '==> %s\n' "$*"; }

# --- dependencies ----------------------------------------------------------
build_deps=(meson ninja-build g++ gcc pkg-config libboost-program-options-dev nlohmann-json3-dev
            catch2 libseccomp-dev libarchive-dev nettle-dev busybox-static clang libbpf-dev bpftool libyaml-cpp-dev
            # What images move through (pull, load): the containers project's image mover.
            skopeo
            # What bridge networks run (the default --network): podman's network stack.
            netavark aardvark-dns iptables)
[ "$want_debian" = 1 ] && build_deps+=(debootstrap)

missing=()
for p in "${build_deps[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- build and install -----------------------------------------------------
cd "$here"
if [ ! -f build/build.ninja ]; then
    log "configuring (meson)"
    meson setup build --buildtype=release >/dev/null
fi
log "building"
ninja -C build >/dev/null
# The shim first: minirt execs the minirt-shim found beside itself.
install -m 0755 build/runtime/minirt-shim /usr/local/bin/minirt-shim
install -m 0755 build/runtime/minirt /usr/local/bin/minirt
# The OCI runtime entry point engines are pointed at (docs/oci.md).
ln -sfn minirt /usr/local/bin/minirt-oci
log "installed /usr/local/bin/minirt, minirt-shim and minirt-oci ($(/usr/local/bin/minirt --version))"
if [ "$restart_service" = 1 ]; then
    install -m 0644 "$here/scripts/minirt-restart.service" /etc/systemd/system/minirt-restart.service
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable minirt-restart.service
        log "enabled minirt-restart.service"
    else
        log "installed /etc/systemd/system/minirt-restart.service (systemd is not running here: enable it where it is)"
    fi
fi
minirt=/usr/local/bin/minirt

# --- images ----------------------------------------------------------------
image_exists() { "$minirt" image exists "$1"; }

workloads=()
for w in cpu_hog io_hog memory_hog fork_hog; do
    [ -x "build/images/workloads/$w" ] && workloads+=("build/images/workloads/$w")
done

build_busybox_image() {
    local tmp rootfs deb applet
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    log "building image busybox from Debian's busybox-static"
    (cd "$tmp" && apt-get download -q busybox-static >/dev/null 2>&1)
    deb=$(ls "$tmp"/busybox-static_*.deb)
    dpkg-deb -x "$deb" "$tmp/pkg"
    rootfs="$tmp/rootfs"
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,root,run,var/tmp,home}
    chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
    chmod 0700 "$rootfs/root"
    install -m 0755 "$tmp/pkg/bin/busybox" "$rootfs/bin/busybox"
    # One symlink per applet, where busybox says it belongs.
    while read -r applet; do
        [ "$applet" = bin/busybox ] && continue
        mkdir -p "$rootfs/$(dirname "$applet")"
        ln -sf /bin/busybox "$rootfs/$applet"
    done < <("$rootfs/bin/busybox" --list-full)
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
    printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$rootfs/etc/hosts"
    for w in "${workloads[@]}"; do install -m 0755 "$w" "$rootfs/usr/local/bin/"; done
    local err
    if ! err=$("$minirt" image import --replace --cmd sh "$rootfs" busybox 2>&1 >/dev/null); then
        # Containers made from it keep it: a re-run must not fail for them.
        case "$err" in
            *"in use by container"*)
                log "kept image busybox as it is: $err (remove those containers and re-run to refresh it)"
                return 0 ;;
        esac
        echo "$err" >&2
        return 1
    fi
    log "image busybox ready ($(dpkg-deb -f "$deb" Version), ${#workloads[@]} workloads)"
}

stale_workloads() {
    local storage=${MINIRT_STORAGE:-/var/lib/minirt} w
    for w in "${workloads[@]}"; do
        [ "$w" -nt "$storage/images/busybox/image.json" ] && return 0
    done
    return 1
}

if [ "$rebuild" = 1 ] || ! image_exists busybox || stale_workloads; then
    build_busybox_image
else
    log "image busybox already present"
fi

if [ "$want_debian" = 1 ]; then
    if [ "$rebuild" = 1 ] || ! image_exists debian; then
        # The mirror is whatever this host's apt uses: ask apt for a package URL.
        mirror=$(apt-get -qq --print-uris download base-files | sed -n "s|^'\(.*\)/pool/.*|\1|p" | head -n1)
        [ -n "$mirror" ] || { echo "setup_rootfs.sh: cannot find this host's Debian mirror from apt" >&2; exit 1; }
        tmp=$(mktemp -d)
        log "building image debian with debootstrap (minbase, bookworm); this takes a few minutes"
        debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror"
        "$minirt" image import --replace --cmd bash "$tmp/rootfs" debian >/dev/null
        rm -rf "$tmp"
        log "image debian ready"
    else
        log "image debian already present"
    fi
fi

log "done: try 'minirt run --rm busybox echo hello'"
