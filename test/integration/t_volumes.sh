# shellcheck shell=bash
# Named and anonymous volumes (docs/cli.md "Volumes"): the volume commands,
# podman's copy-up, data that outlives its containers, the in-use rules,
# and kill -9 in the middle of making or removing one.

vol_data() { echo "$MINIRT_STORAGE/volumes/$1/_data"; }
only_volume_is() { [ "$("$MINIRT" volume ls -q)" = "$1" ]; }

test_volume_create_ls_inspect_exists_rm() {
    expect_rc 0 volume create --label team=web --label tier data1
    expect_eq "$OUT" data1
    expect_rc 125 volume create data1
    expect_contains "$ERR" "already exists"
    expect_rc 0 volume create --ignore data1
    expect_rc 0 volume create
    local anon=$OUT
    expect_eq "${#anon}" 64 "a generated name"
    mr volume ls
    expect_contains "$OUT" "DRIVER"
    expect_contains "$OUT" "data1"
    mr volume ls --format json
    expect_eq "$(jq -r '.[] | select(.Name == "data1") | .Driver' <<<"$OUT")" local
    expect_eq "$(jq -r '.[] | select(.Name == "data1") | .Labels.team' <<<"$OUT")" web
    expect_eq "$(jq -r '.[] | select(.Name == "data1") | .Mountpoint' <<<"$OUT")" "$(vol_data data1)"
    mr volume ls -q --filter label=team=web
    expect_eq "$OUT" data1
    mr volume ls -q --filter name=nomatch
    expect_eq "$OUT" ""
    mr volume inspect data1
    expect_eq "$(jq -r '.[0].Name' <<<"$OUT")" data1
    expect_rc 0 volume exists data1
    expect_rc 1 volume exists nope
    expect_rc 1 volume rm nope
    expect_rc 125 volume create "bad/name"
    expect_rc 125 volume create --opt type=tmpfs x
    [ ! -e "$MINIRT_STORAGE/volumes/x" ] || fail "a refused create made the volume"
    expect_rc 0 volume rm data1 "$anon"
    [ ! -e "$MINIRT_STORAGE/volumes/data1" ] || fail "volume rm left the volume"
}

test_volume_data_outlives_its_containers() {
    mr run --rm -v keep:/data busybox sh -c 'echo one > /data/f'
    expect_eq "$RC" 0 "first run: $ERR"
    mr volume exists keep
    expect_eq "$RC" 0 "run made the named volume"
    mr run --rm -v keep:/data:ro busybox sh -c 'cat /data/f; (echo x > /data/g) 2>&1'
    expect_contains "$OUT" one
    expect_contains "$OUT" "Read-only file system"
    mr run --name c1 --mount type=volume,src=keep,dst=/d busybox sh -c 'echo two >> /d/f'
    mr rm -v c1
    expect_eq "$(cat "$(vol_data keep)/f")" "one
two" "named volume after rm -v of its container"
    expect_rc 0 volume rm keep
}

test_volume_copy_up_fills_an_empty_volume_once() {
    # busybox's /etc has passwd: the first mount copies it in, owners and modes kept.
    mr run --rm -v etc:/etc busybox sh -c 'ls /etc'
    expect_contains "$OUT" passwd
    [ -f "$(vol_data etc)/passwd" ] || fail "no copy-up into the volume"
    expect_eq "$(stat -c %a "$(vol_data etc)")" "$(stat -c %a "$MINIRT_STORAGE/images/busybox/rootfs/etc")" "volume root mode"
    # Later mounts leave the data as it is, even emptied.
    local data
    data=$(vol_data etc)
    find "${data:?}" -mindepth 1 -delete
    mr run --rm -v etc:/etc busybox sh -c 'ls /etc | wc -l'
    expect_eq "$OUT" 0 "copy-up ran again"
    mr run --rm -v fresh:/etc:nocopy busybox sh -c 'ls /etc | wc -l'
    expect_eq "$OUT" 0 "nocopy"
    mr run --rm --mount type=volume,src=fresh2,dst=/etc,volume-nocopy busybox sh -c 'ls /etc | wc -l'
    expect_eq "$OUT" 0 "volume-nocopy"
    expect_rc 0 volume rm etc fresh fresh2
}

# Defence: the copy-up source is resolved inside the image's root, and
# symlinks are copied as links, never followed.
test_volume_copy_up_never_leaves_the_image() {
    local storage="$TESTDIR/own" rootfs victim="$TESTDIR/victim"
    rootfs=$(image_copy "$storage" evil)
    mkdir -p "$victim"
    echo secret >"$victim/secret"
    ln -s "$victim" "$rootfs/data"
    mkdir -p "$rootfs/inside"
    ln -s /etc/shadow "$rootfs/inside/shadow"
    MINIRT_STORAGE="$storage" mr run --rm -v v1:/data -v v2:/inside evil sh -c 'ls -la /data /inside'
    echo "rc=$RC out=$OUT err=$ERR"
    [ ! -e "$storage/volumes/v1/_data/secret" ] || fail "copy-up followed an image symlink to the host"
    [ -L "$storage/volumes/v2/_data/shadow" ] || fail "a symlink was not copied as a link"
    expect_eq "$(readlink "$storage/volumes/v2/_data/shadow")" /etc/shadow
    MINIRT_STORAGE="$storage" "$MINIRT" volume rm -f v1 v2 >/dev/null
    rm -rf "$storage"
}

test_volume_in_use_needs_force_which_removes_its_containers() {
    mr run -d --name user1 -v shared:/s busybox sleep 1000
    expect_eq "$RC" 0 "run: $ERR"
    mr run --name user2 -v shared:/s busybox true
    expect_rc 2 volume rm shared
    expect_contains "$ERR" "user1"
    expect_contains "$ERR" "user2"
    mr volume ls -q --filter dangling=true
    expect_eq "$OUT" ""
    expect_rc 0 volume prune -f
    mr volume exists shared
    expect_eq "$RC" 0 "prune removed a volume in use"
    expect_rc 0 volume rm -f shared
    mr list -aq
    expect_eq "$OUT" "" "containers of a force-removed volume"
    mr volume exists shared
    expect_eq "$RC" 1 "volume after rm -f"
}

test_volume_anonymous_goes_with_rm_v_and_run_rm_only() {
    mr run --name a1 -v /data busybox sh -c 'echo x > /data/f'
    local anon
    anon=$("$MINIRT" volume ls -q)
    expect_eq "${#anon}" 64 "anonymous volume name: $anon"
    mr volume inspect "$anon"
    expect_eq "$(jq -r '.[0].Anonymous' <<<"$OUT")" true
    mr rm a1
    mr volume exists "$anon"
    expect_eq "$RC" 0 "rm without -v removed the anonymous volume"
    expect_rc 0 volume rm "$anon"
    mr run --name a2 -v /data busybox true
    mr rm -v a2
    expect_eq "$("$MINIRT" volume ls -q)" "" "rm -v"
    mr run --rm -v /data -v named:/n busybox true
    # The shim removes a --rm container's files after it reported the exit.
    wait_for 30 only_volume_is named
    expect_rc 0 volume rm named
}

test_volume_prune_asks_and_removes_only_unused() {
    mr volume create unused
    mr run --name keeper -v used:/u busybox true
    mr volume prune </dev/null
    expect_eq "$RC" 0
    mr volume exists unused
    expect_eq "$RC" 0 "prune without an answer removed a volume"
    expect_contains "$(echo y | "$MINIRT" volume prune 2>/dev/null)" unused "prune's output"
    mr volume exists unused
    expect_eq "$RC" 1 "prune y"
    mr volume exists used
    expect_eq "$RC" 0 "prune removed a volume in use"
    mr rm keeper
    expect_rc 0 volume rm used
}

# kill -9 of volume create/rm and of run's copy-up at random moments: no
# half-made volume is listed, nothing is lost, and the next command cleans up.
test_volume_kill_9_leaves_no_half_volume() {
    local i pid
    # The delays only spread the kills over the commands' work (none of
    # them is waited for: every moment is a valid one to be killed at).
    for i in 1 2 3 4 5 6; do
        "$MINIRT" volume create "k$i" >/dev/null 2>&1 &
        pid=$!
        sleep "0.00$i"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        "$MINIRT" run --rm -v "c$i:/etc" busybox true >/dev/null 2>&1 &
        pid=$!
        sleep "0.00$((i * 2))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    local v
    for v in $("$MINIRT" volume ls -q); do
        [ -f "$MINIRT_STORAGE/volumes/$v/volume.json" ] || fail "volume $v listed without its record"
        [ -d "$MINIRT_STORAGE/volumes/$v/_data" ] || [ -d "$MINIRT_STORAGE/volumes/$v" ] || fail "volume $v half made"
    done
    # A mount after an interrupted copy-up still sees the image's files.
    for v in $("$MINIRT" volume ls -q | grep '^c'); do
        mr run --rm -v "$v:/etc" busybox ls /etc
        expect_contains "$OUT" passwd "volume $v after a killed run"
    done
    mr volume create after
    expect_eq "$RC" 0 "create after kills: $ERR"
    [ -z "$(find "$MINIRT_STORAGE/volumes" -maxdepth 1 -name '.*' ! -name .)" ] || fail "leftovers: $(ls -A "$MINIRT_STORAGE/volumes")"
    "$MINIRT" list -aq | while read -r id; do "$MINIRT" rm -f "$id" >/dev/null; done
    mr volume prune -f
    expect_eq "$("$MINIRT" volume ls -q)" "" "volumes after prune"
}

test_volume_create_opt_mounts_a_filesystem_a_bind_or_sets_owners() {
    expect_rc 0 volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=3m,mode=0700 tv
    mr volume inspect tv
    expect_eq "$(jq -c '.[0].Options' <<<"$OUT")" '{"device":"tmpfs","o":"size=3m,mode=0700","type":"tmpfs"}'
    mr run --rm -v tv:/t busybox sh -c 'grep " /t " /proc/self/mountinfo | cut -d" " -f9-; stat -c %a /t'
    expect_contains "$OUT" "size=3072k" "the volume's tmpfs: $ERR"
    expect_contains "$OUT" 700
    mkdir -p "$TESTDIR/dev"
    expect_rc 0 volume create --opt type=none --opt "device=$TESTDIR/dev" --opt o=bind bv
    expect_rc 0 run --rm -v bv:/b busybox sh -c 'echo hi >/b/x'
    expect_eq "$(cat "$TESTDIR/dev/x")" hi "a bind volume writes to its device directory"
    expect_rc 0 volume create --opt o=uid=1000,gid=1001 ov
    expect_eq "$(stat -c %u:%g "$(vol_data ov)")" 1000:1001
    local bad
    for bad in "type=nosuchfs device=x" "type=tmpfs" "device=/x" "o=size=1m" "foo=bar" "type=none device=$TESTDIR/dev" \
        "type=none device=relative o=bind" "novalue"; do
        local args=() w
        for w in $bad; do args+=(--opt "$w"); done
        mr volume create "${args[@]}" refused
        expect_eq "$RC" 125 "volume create $bad"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "volume create $bad: more than one line: $ERR"
    done
    [ ! -e "$MINIRT_STORAGE/volumes/refused" ] || fail "a refused create made the volume"
    expect_rc 0 volume rm tv bv ov
    expect_eq "$(cat "$TESTDIR/dev/x")" hi "removing a bind volume keeps its device's files"
}

test_volume_under_userns_belongs_to_the_containers_root() {
    expect_rc 0 run --rm --userns=auto -v fresh:/data busybox sh -c 'stat -c %u:%g /data; echo ok >/data/f'
    expect_eq "$OUT" 0:0 "a new volume under --userns=auto: $ERR"
    # Copy-up maps the image's owners too.
    expect_rc 0 run --rm --userns=auto -v etcvol:/etc busybox stat -c %u:%g /etc/passwd
    expect_eq "$OUT" 0:0 "copied up under --userns=auto"
    [ "$(stat -c %u "$(vol_data etcvol)/passwd")" -ge 65536 ] || fail "the copy is not in the container's host range"
    expect_rc 0 volume rm fresh etcvol
}

test_volume_mount_volume_opt_makes_the_volume_with_its_options() {
    mr run --rm --mount type=volume,src=mv,dst=/t,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m,volume-label=k=v,volume-driver=local \
        busybox sh -c 'grep " /t " /proc/self/mountinfo | cut -d" " -f9-'
    expect_eq "$RC" 0 "run: $ERR"
    expect_contains "$OUT" "size=2048k" "the volume's own tmpfs"
    mr volume inspect mv
    expect_eq "$(jq -c '.[0].Options' <<<"$OUT")" '{"device":"tmpfs","o":"size=2m","type":"tmpfs"}'
    expect_eq "$(jq -r '.[0].Labels.k' <<<"$OUT")" v
    # An existing volume keeps its own options, as podman's does.
    expect_rc 0 volume create plain
    expect_rc 0 run --rm --mount type=volume,src=plain,dst=/p,volume-opt=type=tmpfs,volume-opt=device=tmpfs busybox true
    expect_eq "$(jq -c '.[0].Options' <<<"$("$MINIRT" volume inspect plain)")" '{}'
    local bad
    for bad in volume-opt=novalue volume-opt=type=nosuchfs,volume-opt=device=x volume-opt=a=1,volume-opt=a=2 volume-driver=nfs; do
        mr run --rm --mount "type=volume,src=refused,dst=/x,$bad" busybox true
        expect_eq "$RC" 125 "--mount ...,$bad"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "$bad: more than one line: $ERR"
    done
    expect_rc 1 volume exists refused
    expect_rc 0 volume rm mv plain
}
