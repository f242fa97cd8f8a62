# shellcheck shell=bash
# Side by side with podman: the same command lines given to podman (with
# runc, the runtime that works on this hybrid-cgroup host; crun refuses it)
# and to minirt must show the container the same mounts and files, and
# `volume ls --format json` the fields scripts read. podman runs the busybox
# image's rootfs through --rootfs, so no registry is needed.

SIDE_ROOTFS=$TESTDIR/rootfs
# What this host needs for podman at all: no pids controller and no nofile
# raise in its cgroup v1 hierarchy (see t_oci_engines.sh).
SIDE_OPTS=(--pids-limit -1 --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none
    --cgroup-parent "/$MINIRT_CGROUP_PARENT")

pm() {
    podman --root "$TESTDIR/podman/root" --runroot "$TESTDIR/podman/run" --tmpdir "$TESTDIR/podman/tmp" \
        --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}

side_cleanup() {
    pm volume rm -af >/dev/null 2>&1 || true
    podman_reset pm
}

side_setup() {
    local p
    for p in podman runc conmon; do command -v "$p" >/dev/null || skip "no $p on this host"; done
    cp -a "$MINIRT_STORAGE/images/busybox/rootfs" "$SIDE_ROOTFS"
    trap side_cleanup EXIT
}

# both ARGS... -- COMMAND...: runs `run --rm ARGS busybox COMMAND` with
# minirt and the same with podman (--rootfs); their stdout+stderr in
# $MINE and $THEIRS.
both() {
    local args=()
    while [ "$1" != -- ]; do
        args+=("$1")
        shift
    done
    shift
    MINE=$("$MINIRT" run --rm "${args[@]}" busybox "$@" 2>&1) || true
    THEIRS=$(pm run --rm "${SIDE_OPTS[@]}" "${args[@]}" --rootfs "$SIDE_ROOTFS" "$@" 2>&1) || true
    # podman's own warnings about the host (a CNI configuration without its
    # plugins, say) are not the container's output.
    THEIRS=$(grep -v '^time="[^"]*" level=warning ' <<<"$THEIRS" || true)
}

# The mount point, its per-mount options and the filesystem's options of
# the mounts at these places (not the source device, not ids).
mounts_at() {
    printf '%s' "grep -E ' ($1) ' /proc/self/mountinfo | awk '{ s = \"\"; for (i = 7; i <= NF; i++) if (\$i == \"-\") { s = \$(i + 1) \" \" \$(i + 3); break } print \$5, \$6, s }' | sort"
}

test_side_mount_flags_as_podman_mounts_them() {
    side_setup
    mkdir -p "$TESTDIR/www"
    echo hello >"$TESTDIR/www/index.html"
    both -v "$TESTDIR/www:/b" -v "$TESTDIR/www:/ro:ro" -v vol:/v --tmpfs /t1 --tmpfs /t2:size=4m,mode=1770 \
        --mount type=tmpfs,dst=/t3 --read-only -- sh -c "$(mounts_at '/b|/ro|/v|/t1|/t2|/t3|/tmp|/var/tmp|/run|/dev/shm')"
    expect_eq "$MINE" "$THEIRS" "mounts, minirt vs podman"
    pm volume rm vol >/dev/null
    expect_rc 0 volume rm vol
}

test_side_httpd_task_files_and_the_read_only_error() {
    side_setup
    mkdir -p "$TESTDIR/www"
    echo hello >"$TESTDIR/www/index.html"
    both -v "$TESTDIR/www:/www:ro" -- sh -c 'cat /www/index.html; touch /www/x 2>&1; echo "rc=$?"'
    expect_eq "$MINE" "$THEIRS" "a read-only bind, minirt vs podman"
    expect_contains "$MINE" "Read-only file system"
}

test_side_tmpfs_and_volume_copy_up_show_the_images_files() {
    side_setup
    both --tmpfs /etc -- sh -c 'ls /etc/group /etc/passwd'
    expect_eq "$MINE" "$THEIRS" "--tmpfs /etc starts with the image's files"
    both -v etcvol:/etc -- sh -c 'ls /etc/group /etc/passwd; stat -c "%a %u" /etc/passwd'
    expect_eq "$MINE" "$THEIRS" "a new volume at /etc gets the image's files"
    # podman binds its own /etc/hostname and /etc/hosts there (minirt does
    # not make them yet): the image's files are what is compared.
    both --tmpfs /etc:notmpcopyup -- sh -c 'ls -A /etc | grep -vx -e hostname -e hosts -e resolv.conf; true'
    expect_eq "$MINE" "$THEIRS" "notmpcopyup"
    pm volume rm etcvol >/dev/null
    expect_rc 0 volume rm etcvol
}

test_side_volume_ls_json_has_podmans_fields() {
    side_setup
    pm volume create --label team=web data >/dev/null
    expect_rc 0 volume create --label team=web data
    local theirs mine
    theirs=$(pm volume ls --format json | jq -c '.[0] | {Name, Driver, Labels, Scope, Options} + {keys: (keys - ["MountCount", "NeedsChown"])}')
    mine=$("$MINIRT" volume ls --format json | jq -c '.[0] | {Name, Driver, Labels, Scope, Options} + {keys: (keys - ["Anonymous"])}')
    expect_eq "$mine" "$theirs" "volume ls --format json"
    theirs=$(pm volume ls -q --filter label=team=web)
    mine=$("$MINIRT" volume ls -q --filter label=team=web)
    expect_eq "$mine" "$theirs" "volume ls --filter label"
    pm volume rm data >/dev/null
    expect_rc 0 volume rm data
}

test_side_cp_in_and_out() {
    side_setup
    expect_rc 0 run -d --name c busybox sleep 1000
    pm run -d --name c "${SIDE_OPTS[@]}" --rootfs "$SIDE_ROOTFS" sleep 1000 >/dev/null
    mkdir -p "$TESTDIR/tree/sub"
    echo a >"$TESTDIR/tree/a"
    echo b >"$TESTDIR/tree/sub/b"
    expect_rc 0 cp "$TESTDIR/tree" c:/tmp
    pm cp "$TESTDIR/tree" c:/tmp
    local look='find /tmp/tree | sort; cat /tmp/tree/sub/b; stat -c "%u:%g %a" /tmp/tree/a'
    expect_eq "$("$MINIRT" exec c sh -c "$look")" "$(pm exec c sh -c "$look")" "cp into a container"
    local mine theirs
    mine=$("$MINIRT" cp c:/tmp/tree - | tar -tf - | sed 's|/$||' | sort)
    theirs=$(pm cp c:/tmp/tree - | tar -tf - | sed 's|/$||' | sort)
    expect_eq "$mine" "$theirs" "cp out as a tar stream"
}

# Bridges: podman on its default network and minirt on its own, the same
# command lines, each publishing a port: both answer from the host, each
# one's container reaches the other's published port through the host, and
# removing one side's container leaves the other's network working.
test_side_bridges_and_published_ports_side_by_side() {
    side_setup
    [ -x /usr/lib/podman/netavark ] || skip "netavark is not installed"
    local opts=() o
    for o in "${SIDE_OPTS[@]}"; do [ "$o" = --network ] || [ "$o" = none ] || opts+=("$o"); done
    mkdir -p "$TESTDIR/www"
    echo side-by-side >"$TESTDIR/www/index.html"
    local args=(-d -p 8080 -v "$TESTDIR/www:/www:ro")
    pm run --name pweb "${opts[@]}" "${args[@]}" --rootfs "$SIDE_ROOTFS" httpd -f -p 8080 -h /www >/dev/null ||
        fail "podman run on its bridge failed"
    expect_rc 0 run --name mweb --network bridge "${args[@]}" busybox httpd -f -p 8080 -h /www
    local pport mport
    pport=$(pm port pweb 8080)
    pport=${pport##*:}
    mr port mweb 8080
    mport=${OUT##*:}
    wait_for 30 curl -sf "http://127.0.0.1:$pport/" -o podman.out
    wait_for 30 curl -sf "http://127.0.0.1:$mport/" -o minirt.out
    expect_eq "$(cat minirt.out)" "$(cat podman.out)" "the page through each one's published port"
    # Each side's container reaches the other's port on the host, the same command line.
    local get='wget -qO- http://host.containers.internal:'
    MINE=$("$MINIRT" run --rm --network bridge busybox sh -c "$get$pport/" 2>&1) || true
    THEIRS=$(pm run --rm "${opts[@]}" --rootfs "$SIDE_ROOTFS" sh -c "$get$mport/" 2>&1) || true
    THEIRS=$(grep -v '^time="[^"]*" level=warning ' <<<"$THEIRS" || true)
    expect_eq "$MINE" side-by-side "minirt's container to podman's port"
    expect_eq "$THEIRS" side-by-side "podman's container to minirt's port"
    expect_rc 0 rm -f mweb
    curl -sf "http://127.0.0.1:$pport/" -o podman.out || fail "podman's port died with minirt's container"
    pm rm -f -t 0 pweb >/dev/null
    expect_rc 0 run --rm --network bridge busybox true
}

# tar_listing FILE: each entry of a tar as "path type mode uid gid link
# sha256", sorted; times left out, and the files each engine writes for
# itself at the start (and the mount points it makes).
tar_listing() {
    python3 - "$1" <<'PYEOF'
import hashlib, sys, tarfile
skip = {"etc/hosts", "etc/resolv.conf", "etc/hostname", "run/.containerenv", "proc", "sys", "dev", "run", "tmp",
        "etc/mtab"}
rows = []
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        name = m.name.lstrip("./").rstrip("/")
        if not name or name in skip or name.split("/")[0] in ("proc", "sys", "dev", "run"):
            continue
        digest = hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isfile() else ""
        rows.append(f"{name} {m.type.decode()} {m.mode & 0o7777:o} {m.uid} {m.gid} {m.linkname} {digest}")
print("\n".join(sorted(rows)))
PYEOF
}

test_side_layered_image_export_and_config_match_podmans() {
    side_setup
    need_image_tools
    fixture "$TESTDIR/fx"
    start_registry
    local ref=127.0.0.1:$REGISTRY_PORT/test/fx:v1 f
    skopeo copy -q --dest-tls-verify=false "oci:$TESTDIR/fx:v1" "docker://$ref"
    pm pull -q --tls-verify=false "$ref" >/dev/null || fail "podman could not pull $ref"
    pm create --name side-exp "${SIDE_OPTS[@]}" "$ref" >/dev/null || fail "podman create"
    pm export -o "$TESTDIR/podman.tar" side-exp || fail "podman export"
    expect_rc 0 pull -q --tls-verify=false "$ref"
    expect_rc 0 run --name side-exp "$ref"
    "$MINIRT" export -o "$TESTDIR/minirt.tar" side-exp || fail "minirt export"
    tar_listing "$TESTDIR/podman.tar" >"$TESTDIR/podman.list"
    tar_listing "$TESTDIR/minirt.tar" >"$TESTDIR/minirt.list"
    diff "$TESTDIR/podman.list" "$TESTDIR/minirt.list" >"$TESTDIR/export.diff" ||
        fail "the exports differ (podman <, minirt >): $(head -20 "$TESTDIR/export.diff")"
    grep -q '^data/new.txt ' "$TESTDIR/minirt.list" || fail "the listing is empty or wrong: $(head -3 "$TESTDIR/minirt.list")"
    ! grep -q '^data/gone.txt ' "$TESTDIR/minirt.list" || fail "a whited-out file is in the export"
    # The image config as both engines read it.
    for f in Entrypoint Cmd Env WorkingDir User; do
        expect_eq "$(mr image inspect "$ref"; jq -c ".[0].Config.$f" <<<"$OUT")" \
            "$(pm image inspect "$ref" | jq -c ".[0].Config.$f")" "image inspect .Config.$f"
    done
    expect_rc 0 rm side-exp
}

# --restart on-failure:3: the same restart count and exit as podman's; and
# the health status words, check by check, as podman's (which checks only
# when asked on this host: its timers are systemd's, and there is none).
side_restarts_done() {
    [ "$(json_field r3 '.state | "\(.status) \(.restarting) \(.restart_count)"')" = "exited false 3" ] &&
        [ "$(pm inspect r3 --format '{{.State.Status}} {{.RestartCount}}' 2>/dev/null)" = "exited 3" ]
}
# side_health_word TOOL NAME: its health status word in ps (podman's in
# parentheses after its Status, minirt's also in --format json's health).
side_health_word() {
    if [ "$1" = pm ]; then
        pm ps --filter name="$2" --format '{{.Status}}' 2>/dev/null | sed -n 's/.*(\([a-z]*\))$/\1/p'
    else
        "$MINIRT" ps --format json | jq -r --arg n "$2" '.[] | select(.name == $n) | .health // ""'
    fi
}
# side_health_steps TOOL: the status word, then each check's exit code and
# output followed by the status word, failing twice, then passing.
side_health_steps() {
    local tool=$1 run=("$MINIRT")
    [ "$tool" = pm ] && run=(pm)
    local steps out rc
    steps="$(side_health_word "$tool" hc)"
    for i in 1 2 3; do
        [ "$i" = 3 ] && "${run[@]}" exec hc touch /tmp/up
        rc=0
        out=$("${run[@]}" healthcheck run hc 2>/dev/null) || rc=$?
        steps+=" | $rc $out $(side_health_word "$tool" hc)"
    done
    echo "$steps"
}
test_side_restart_count_and_health_status_as_podmans() {
    side_setup
    expect_rc 0 run -d --name r3 --restart on-failure:3 busybox sh -c 'exit 3'
    pm run -d --name r3 "${SIDE_OPTS[@]}" --restart on-failure:3 --rootfs "$SIDE_ROOTFS" sh -c 'exit 3' >/dev/null 2>&1 ||
        fail "podman run --restart on-failure:3 failed"
    wait_for 120 side_restarts_done
    expect_eq "$(exit_code_of r3)" "$(pm inspect r3 --format '{{.State.ExitCode}}')" "the exit code, minirt vs podman"
    local hc=(--health-cmd 'test -e /tmp/up' --health-retries 2 --health-interval disable)
    expect_rc 0 run -d --name hc "${hc[@]}" busybox sleep 1000
    pm run -d --name hc "${SIDE_OPTS[@]}" "${hc[@]}" --rootfs "$SIDE_ROOTFS" sleep 1000 >/dev/null 2>&1 ||
        fail "podman run --health-cmd failed"
    MINE=$(side_health_steps minirt)
    THEIRS=$(side_health_steps pm)
    expect_eq "$MINE" "starting | 1 unhealthy starting | 1 unhealthy unhealthy | 0  healthy" "minirt's steps"
    expect_eq "$MINE" "$THEIRS" "health status, minirt vs podman"
    expect_eq "$(json_field hc .health.status)" "$(pm inspect hc --format '{{.State.Health.Status}}')" "inspect's status"
    expect_rc 0 rm -f r3 hc
}

# The compatibility corpus (issue 21): podman's scripting command lines,
# given unchanged to podman and to minirt over the same containers and
# volume; the outputs (and whether each failed) must match once ids are
# masked. What differs on purpose is listed in docs/cli.md ("Differences
# from podman"), not here.

# side_mask: ids (12 and 64 hex digits) as a placeholder.
side_mask() { sed -E 's/\b[0-9a-f]{64}\b/<id>/g; s/\b[0-9a-f]{12}\b/<id>/g'; }

# side_case ARGS...: one command line for both; a difference is appended
# to SIDE_FAILURES.
side_case() {
    local mine theirs mrc=0 prc=0
    # Lines sorted: podman 4.3 lists the oldest container first, minirt
    # (as Docker and newer podman) the newest (docs/cli.md).
    mine=$("$MINIRT" "$@" 2>/dev/null | side_mask | sort; exit "${PIPESTATUS[0]}") || mrc=$?
    theirs=$(pm "$@" 2>/dev/null | side_mask | sort; exit "${PIPESTATUS[0]}") || prc=$?
    if [ "$mine" != "$theirs" ] || [ $((mrc == 0)) != $((prc == 0)) ]; then
        SIDE_FAILURES+=("$*: minirt (exit $mrc) '$mine', podman (exit $prc) '$theirs'")
    fi
}

test_side_scripting_corpus_as_podman() {
    side_setup
    # The same containers and volume on both sides, made in the same order.
    pm volume create --label team=web side-v >/dev/null
    expect_rc 0 volume create --label team=web side-v
    pm run --name side-c2 "${SIDE_OPTS[@]}" --rootfs "$SIDE_ROOTFS" sh -c 'exit 3' >/dev/null 2>&1 || true
    expect_rc 3 run --name side-c2 busybox sh -c 'exit 3'
    pm run -d --name side-c1 -l app=db -l tier=back -v side-v:/data "${SIDE_OPTS[@]}" --rootfs "$SIDE_ROOTFS" \
        sleep 1000 >/dev/null
    expect_rc 0 run -d --name side-c1 -l app=db -l tier=back -v side-v:/data busybox sleep 1000
    SIDE_FAILURES=()
    side_case ps --format '{{.Names}}'
    side_case ps -a --format '{{.Names}}'
    # (not .Image: podman's --rootfs containers have none)
    side_case ps -a --format '{{.Names}}|{{.Exited}}|{{.ExitCode}}'
    side_case ps -a --filter status=exited --format '{{.Names}}'
    side_case ps -a --filter label=app=db --format '{{.Names}}'
    side_case ps -a --filter label=app --format '{{.Names}}'
    side_case ps -a --filter name=side-c --format '{{.Names}}'
    side_case ps -a --filter exited=3 --format '{{.Names}}'
    side_case ps -a --filter status=running --filter label=app=db --format '{{.Names}}'
    side_case ps --format '{{.Labels.app}}|{{.Labels.nope}}|{{index .Labels "nope"}}'
    side_case ps --format '{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}'
    side_case ps --format '{{json .Labels}}'
    side_case ps --format '{{.Mounts}}'
    side_case ps --format '{{if .Exited}}gone{{else}}up{{end}}:{{upper .Names}}:{{len .Names}}'
    side_case ps -a --format 'table {{.Names}}\t{{.ExitCode}}'
    side_case ps --format '{{.Command}}'
    side_case ps --format '{{.Nope}}'
    side_case ps -q --filter name=side-c1
    side_case ps -a --last 1 --format '{{.Names}}'
    side_case inspect --format '{{.Name}}|{{.State.Status}}|{{.State.Running}}|{{.State.ExitCode}}|{{.State.OOMKilled}}' \
        side-c1 side-c2
    side_case inspect --format '{{.Config.Cmd}}|{{.Config.WorkingDir}}|{{.Config.Labels.app}}|{{.Config.Tty}}' side-c1
    side_case inspect --format '{{json .Config.Labels}}' side-c1
    side_case inspect --format '{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}}:{{.RW}} {{end}}' side-c1
    side_case inspect --format '{{.HostConfig.RestartPolicy.Name}}|{{.HostConfig.AutoRemove}}|{{.HostConfig.Memory}}' side-c1
    side_case inspect --format '{{.Path}} {{.Args}}' side-c2
    side_case inspect --format '{{.State.Pid}}' side-c2
    side_case inspect --format '{{.Config.Nope}}' side-c1
    side_case volume ls --format '{{.Name}}|{{.Driver}}|{{.Labels.team}}'
    side_case volume ls --filter label=team=web --format '{{.Name}}'
    side_case volume inspect --format '{{.Name}}|{{.Driver}}|{{.Scope}}|{{json .Labels}}' side-v
    side_case volume exists side-v
    side_case volume exists side-nope
    [ ${#SIDE_FAILURES[@]} = 0 ] || fail "$(printf '%s\n' "${SIDE_FAILURES[@]}")"
    pm rm -f side-c1 side-c2 >/dev/null
    pm volume rm side-v >/dev/null
    expect_rc 0 rm -f side-c1 side-c2
    expect_rc 0 volume rm side-v
}
