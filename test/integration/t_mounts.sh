# shellcheck shell=bash
# -v, --mount and --tmpfs (docs/cli.md "Mounts"): bind mounts of host paths,
# read-only all the way down, tmpfs with podman's defaults, the refusals,
# and hostile images whose symlinks aim a mount at the host.

test_mount_bind_serves_host_files_and_writes_back() {
    local www="$TESTDIR/www"
    mkdir -p "$www"
    echo hello >"$www/index.html"
    mr run --rm -v "$www:/www" busybox sh -c 'cat /www/index.html; echo back > /www/new'
    expect_eq "$RC" 0 "run: $ERR"
    expect_eq "$OUT" hello
    expect_eq "$(cat "$www/new")" back "written from inside"
    expect_eq "$(host_mounts_of "$www")" "" "host mounts left"
}

test_mount_bind_ro_refuses_writes_even_below_submounts() {
    local www="$TESTDIR/www"
    mkdir -p "$www/sub"
    echo hello >"$www/index.html"
    mount -t tmpfs tmpfs "$www/sub"
    mr run --rm -v "$www:/www:ro" busybox sh -c \
        'cat /www/index.html; (echo x > /www/f) 2>&1; (echo x > /www/sub/f) 2>&1; grep " /www" /proc/self/mountinfo'
    local rc=$RC out=$OUT err=$ERR
    umount "$www/sub"
    expect_eq "$rc" 0 "run: $err"
    expect_contains "$out" hello
    expect_contains "$out" "/www/f: Read-only file system"
    expect_contains "$out" "/www/sub/f: Read-only file system"
    [ ! -e "$www/f" ] || fail "a read-only bind was written"
}

test_mount_bind_of_a_file_and_mount_flag() {
    local f="$TESTDIR/conf"
    echo "key=1" >"$f"
    mr run --rm --mount "type=bind,source=$f,target=/etc/app.conf,readonly" busybox sh -c \
        'cat /etc/app.conf; (echo 2 >> /etc/app.conf) 2>&1 || true'
    expect_eq "$RC" 0 "run: $ERR"
    expect_contains "$OUT" "key=1"
    expect_contains "$OUT" "Read-only file system"
    expect_eq "$(cat "$f")" "key=1" "file after a read-only bind"
    mr run --rm --mount "type=bind,src=$f,dst=/etc/app.conf" busybox sh -c 'echo key=2 > /etc/app.conf'
    expect_eq "$RC" 0 "run: $ERR"
    expect_eq "$(cat "$f")" "key=2" "file written through a bind"
}

test_mount_tmpfs_has_podmans_defaults_and_options() {
    mr run --rm --tmpfs /scratch:size=4m,mode=1770 --mount type=tmpfs,destination=/t2,tmpfs-size=2m busybox \
        sh -c 'grep -E " /(scratch|t2) " /proc/self/mountinfo; stat -c %a /scratch; cp /bin/busybox /scratch/busybox; /scratch/busybox true && echo ran'
    expect_contains "$OUT" "/scratch"
    local line
    line=$(grep " /scratch " <<<"$OUT")
    expect_not_contains "$line" noexec "tmpfs options (podman mounts it exec)"
    expect_contains "$line" nosuid "tmpfs options"
    expect_contains "$line" nodev "tmpfs options"
    expect_contains "$line" "size=4096k" "tmpfs size"
    expect_contains "$(grep " /t2 " <<<"$OUT")" "size=2048k" "--mount tmpfs-size"
    expect_contains "$OUT" 1770 "tmpfs mode"
    expect_contains "$OUT" ran "a binary runs from a tmpfs by default: $ERR"
    mr run --rm --tmpfs /scratch:noexec busybox sh -c 'cp /bin/busybox /scratch/busybox && /scratch/busybox true && echo ran'
    expect_ne "$RC" 0 "a binary ran from a noexec tmpfs"
    expect_not_contains "$OUT" ran
}

test_mount_read_only_keeps_tmp_var_tmp_and_run_writable() {
    mr run --rm --read-only busybox sh -c 'touch /tmp/a /var/tmp/b /run/c && echo ok; (touch /etc/x) 2>&1'
    expect_contains "$OUT" ok
    expect_contains "$OUT" "Read-only file system"
    mr run --rm --read-only --read-only-tmpfs=false busybox sh -c '(touch /tmp/a) 2>&1'
    expect_contains "$OUT" "Read-only file system" "/tmp without --read-only-tmpfs"
    # A mount of the user's at /tmp replaces the default one.
    mr run --rm --read-only --tmpfs /tmp:size=1m busybox sh -c 'grep " /tmp " /proc/self/mountinfo | wc -l'
    expect_eq "$OUT" 1 "mounts at /tmp"
}

test_mount_refusals_name_the_flag_and_create_nothing() {
    local d="$TESTDIR/d"
    mkdir -p "$d"
    local bad
    for bad in "-v $TESTDIR/missing:/x" "-v $d:relative" "-v $d:/" "-v $d:/proc" "-v $d:/proc/sys" "-v $d:/sys" \
        "-v $d:/x:ro,rw" "-v $d:/x:bogus" "-v $d:/x:shared,private" "-v bad/name:/x" "-v $d:/x:nocopy" \
        "-v $d:/x -v $d:/x/" "--mount type=volume,src=a/b,dst=/x" "--mount type=volume,dst=/x,volume-opt=o=size=1m" \
        "--mount type=bind,dst=/x" "--mount type=bind,src=$d" "--mount src=$d,dst=/x" "--mount type=nfs,dst=/x" \
        "--mount type=tmpfs,src=$d,dst=/x" "--mount type=bind,src=$d,dst=/x,tmpfs-size=1m" \
        "--tmpfs /x:size=lots" "--tmpfs /x:mode=999" "--tmpfs x" "--read-only-tmpfs=maybe"; do
        # shellcheck disable=SC2086 # each case is several words on purpose
        mr run --rm $bad busybox true
        expect_eq "$RC" 125 "run $bad"
        expect_contains "$ERR" "invalid" "error of run $bad"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "run $bad: more than one line: $ERR"
    done
    expect_contains "$(mr run --rm -v "$TESTDIR/missing:/x" busybox true; echo "$ERR")" "no such file or directory"
    [ -z "$(ls -A "$MINIRT_STORAGE/containers" 2>/dev/null)" ] || fail "containers created: $(ls -A "$MINIRT_STORAGE/containers")"
    [ ! -e "$TESTDIR/missing" ] || fail "the missing source was created"
    # runc's exception: lxcfs's files under /proc.
    echo "fake" >"$d/cpuinfo"
    mr run --rm -v "$d/cpuinfo:/proc/cpuinfo:ro" busybox cat /proc/cpuinfo
    expect_eq "$OUT" fake "lxcfs-style /proc/cpuinfo: $ERR"
}

# Defence: the mount target is resolved inside the container's root
# (openat2 RESOLVE_IN_ROOT): an image symlink cannot aim a bind at the host.
test_mount_image_symlinks_cannot_aim_a_bind_at_the_host() {
    local storage="$TESTDIR/own" rootfs victim="$TESTDIR/victim" src="$TESTDIR/src"
    rootfs=$(image_copy "$storage" evil)
    mkdir -p "$victim" "$src"
    echo secret >"$src/file"
    ln -s "$victim" "$rootfs/data"
    ln -s "../../../../../../../..$victim" "$rootfs/data2"
    MINIRT_STORAGE="$storage" mr run --rm -v "$src:/data" -v "$src/file:/data2/f" evil sh -c 'cat /data/file /data2/f'
    echo "rc=$RC out=$OUT err=$ERR"
    [ -z "$(ls -A "$victim")" ] || fail "a bind reached the host through an image symlink: $(ls -A "$victim")"
    expect_eq "$(host_mounts_of "$victim")" "" "host mounts on the victim"
    [ "$RC" = 0 ] || [ "$RC" = 125 ] || fail "rc $RC: $ERR"
    MINIRT_STORAGE="$storage" "$MINIRT" list -aq | while read -r id; do MINIRT_STORAGE="$storage" "$MINIRT" rm -f "$id"; done
    rm -rf "$storage"
}

test_mount_survives_start_and_is_in_inspect_and_the_spec() {
    local d="$TESTDIR/d"
    mkdir -p "$d"
    mr run -d --name m1 -v "$d:/d:ro" --tmpfs /scratch busybox sh -c 'ls /d; sleep 0'
    expect_eq "$RC" 0 "run: $ERR"
    wait_for 30 is_exited m1
    mr inspect m1
    expect_contains "$OUT" '"destination": "/d"'
    local id
    id=$(json_field m1 .id)
    grep -q '"destination": *"/scratch"' "$MINIRT_STORAGE/containers/$id/config.json" || fail "no /scratch in config.json"
    touch "$d/after"
    mr start m1
    expect_eq "$RC" 0 "start: $ERR"
    wait_for 30 is_exited m1
    wait_for 30 log_has m1 after
    mr rm m1
    [ -d "$d" ] || fail "rm removed the bind's source"
}

# The issue's httpd task: a host directory served read-only from a container.
fetch() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null; }
test_mount_httpd_serves_a_read_only_host_directory() {
    local www="$TESTDIR/www" port=$((20000 + $$ % 20000))
    mkdir -p "$www"
    echo "hello from the host" >"$www/index.html"
    mr run -d --name web --network host -v "$www:/www:ro" busybox httpd -f -p "127.0.0.1:$port" -h /www
    expect_eq "$RC" 0 "run: $ERR"
    wait_for 30 fetch "http://127.0.0.1:$port/index.html"
    expect_eq "$(fetch "http://127.0.0.1:$port/index.html")" "hello from the host"
    mr exec web sh -c '(echo x > /www/index.html) 2>&1'
    expect_contains "$OUT" "Read-only file system"
    expect_eq "$(cat "$www/index.html")" "hello from the host" "the host's file"
    mr rm -f web
}

test_mount_tmpfs_starts_with_the_images_files_unless_notmpcopyup() {
    mr run --rm --tmpfs /etc busybox sh -c 'cat /etc/passwd | head -1; grep " /etc " /proc/self/mountinfo | cut -d" " -f9'
    expect_eq "$OUT" $'root:x:0:0:root:/root:/bin/sh\ntmpfs' "--tmpfs copies the image's files (tmpcopyup): $ERR"
    mr run --rm --mount type=tmpfs,dst=/etc,tmpfs-mode=755 busybox ls /etc/passwd
    expect_eq "$OUT" /etc/passwd "--mount type=tmpfs copies too"
    mr run --rm --tmpfs /etc:notmpcopyup busybox ls -A /etc
    expect_eq "$OUT" "" "notmpcopyup: an empty tmpfs"
}

test_mount_ownership_under_userns_idmap_and_U() {
    mkdir -p "$TESTDIR/src"
    echo f >"$TESTDIR/src/f"
    chown 0:0 "$TESTDIR/src/f"
    # By default the host's ids outside the mapping show as the overflow id.
    mr run --rm --userns=auto -v "$TESTDIR/src:/s" busybox stat -c %u:%g /s/f
    expect_eq "$OUT" 65534:65534 "a plain bind under --userns=auto: $ERR"
    # :idmap: the source through the container's mapping; what it writes
    # lands with the host's ids.
    mr run --rm --userns=auto -v "$TESTDIR/src:/s:idmap" busybox sh -c 'stat -c %u:%g /s/f; echo w >/s/new; stat -c %u /s/new'
    expect_eq "$OUT" $'0:0\n0' "idmap: $ERR"
    expect_eq "$(stat -c %u "$TESTDIR/src/new")" 0 "written through the idmapped mount"
    mr run --rm -v "$TESTDIR/src:/s:idmap" busybox true
    expect_eq "$RC" 125
    expect_contains "$ERR" "idmap needs a user namespace"
    # :U gives the source to the container's user, through the mapping.
    mr run --name u --userns=auto --user 7:8 -v "$TESTDIR/src:/s:U" busybox stat -c %u:%g /s/f /s/new
    expect_eq "$OUT" $'7:8\n7:8' "U: $ERR"
    [ "$(stat -c %u "$TESTDIR/src/f")" -ge 65536 ] || fail "U left the host file owned by $(stat -c %u "$TESTDIR/src/f")"
    mr run --rm --user 1000:1000 -v "$TESTDIR/src:/s:U" busybox stat -c %u:%g /s/f
    expect_eq "$OUT" 1000:1000 "U without a user namespace"
    expect_eq "$(stat -c %u:%g "$TESTDIR/src/f")" 1000:1000
    expect_rc 0 rm u
    # A symlink as the source: what it points at is the container's.
    ln -s "$TESTDIR/src" "$TESTDIR/srclink"
    expect_rc 0 run --rm --user 9:9 -v "$TESTDIR/srclink:/s:U" busybox true
    expect_eq "$(stat -c %u:%g "$TESTDIR/src/f")" 9:9 "U through a symlink source"
    mr run --rm --userns=auto -v "$TESTDIR/src:/s:U,idmap" busybox true
    expect_eq "$RC" 125
    expect_contains "$ERR" "U and idmap together"
    # A tmpfs copied up under a user namespace keeps the directory's owner and mode.
    mr run --rm --userns=auto --tmpfs /etc busybox stat -c '%u %a' /etc
    expect_eq "$OUT" "0 755" "the tmpfs's root under --userns=auto: $ERR"
}
