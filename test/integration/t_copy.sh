# shellcheck shell=bash
# Files in and out of containers (docs/cli.md "Copying files"): cp both
# ways for running and stopped containers, tar streams, owners, hostile
# links and archives, export and diff.

# start_ready NAME FLAGS...: a detached busybox container that says "ready"
# once its own setup ran; waits for it.
start_ready() {
    local name=$1
    shift
    expect_rc 0 run -d --name "$name" "$@" busybox sh -c 'mkdir -p /data; echo ready; exec sleep 1000'
    wait_for 30 log_has "$name" ready
}

host_tree() {
    mkdir -p "$TESTDIR/src/d"
    echo hello >"$TESTDIR/src/a"
    chmod 0640 "$TESTDIR/src/a"
    echo deep >"$TESTDIR/src/d/y"
    ln -s /etc/passwd "$TESTDIR/src/link"
    ln "$TESTDIR/src/a" "$TESTDIR/src/hard"
    chown 1234:2345 "$TESTDIR/src/d/y"
}

test_cp_into_a_running_container_follows_podmans_path_rules() {
    host_tree
    start_ready c
    # A directory into an existing one: it lands under its own name.
    expect_rc 0 cp "$TESTDIR/src" c:/data
    mr exec c sh -c 'cat /data/src/a /data/src/d/y; readlink /data/src/link; stat -c "%a %u:%g" /data/src/a /data/src/d/y;
        stat -c %i /data/src/a /data/src/hard | uniq | wc -l'
    expect_eq "$OUT" $'hello\ndeep\n/etc/passwd\n640 0:0\n644 0:0\n1' "copied tree, modes, owners, hard link"
    # DIR/. copies what is in it; a file to a new name; a file over a file.
    expect_rc 0 cp "$TESTDIR/src/." c:/data
    expect_rc 0 cp "$TESTDIR/src/a" c:/data/renamed
    echo new >"$TESTDIR/new"
    expect_rc 0 cp "$TESTDIR/new" c:/data/renamed
    mr exec c sh -c 'cat /data/a /data/renamed'
    expect_eq "$OUT" $'hello\nnew'
    # Relative container paths are the container's working directory's.
    expect_rc 0 cp "$TESTDIR/new" c:rel
    mr exec c cat /rel
    expect_eq "$OUT" new
}

test_cp_owners_follow_the_containers_user_unless_archive_false() {
    host_tree
    start_ready u --user 1000:1001
    expect_rc 0 cp "$TESTDIR/src/d" u:/tmp
    mr exec u stat -c %u:%g /tmp/d/y
    expect_eq "$OUT" 1000:1001 "--archive (the default): the container's user"
    expect_rc 0 cp --archive=false "$TESTDIR/src/d" u:/tmp/kept
    mr exec u stat -c %u:%g /tmp/kept/y
    expect_eq "$OUT" 1234:2345 "--archive=false: the source's ids"
}

test_cp_out_of_running_and_stopped_containers() {
    start_ready c
    expect_rc 0 exec c sh -c 'mkdir -p /data/out/sub && echo one >/data/out/f && echo two >/data/out/sub/g &&
        chown 7:8 /data/out/f && chmod 600 /data/out/f && ln -s /nowhere /data/out/dangling'
    expect_rc 0 cp c:/data/out "$TESTDIR/got"
    expect_eq "$(cat "$TESTDIR/got/f" "$TESTDIR/got/sub/g")" $'one\ntwo'
    expect_eq "$(stat -c '%a %u:%g' "$TESTDIR/got/f")" "600 7:8" "mode and owner kept"
    expect_eq "$(readlink "$TESTDIR/got/dangling")" /nowhere
    expect_rc 0 stop -t 0 c
    expect_rc 0 cp c:/data/out/sub/g "$TESTDIR/g2"
    expect_eq "$(cat "$TESTDIR/g2")" two "from a stopped container"
    # Into the stopped one: there after it starts again.
    echo later >"$TESTDIR/later"
    expect_rc 0 cp "$TESTDIR/later" c:/data/later
    expect_rc 0 start c
    wait_for 30 is_running c
    mr exec c cat /data/later
    expect_eq "$OUT" later
}

test_cp_reaches_a_stopped_containers_volumes_and_binds() {
    mkdir -p "$TESTDIR/bind"
    expect_rc 0 run --name s -v vol:/vol -v "$TESTDIR/bind:/b" busybox true
    echo v >"$TESTDIR/v"
    expect_rc 0 cp "$TESTDIR/v" s:/vol/v
    expect_rc 0 cp "$TESTDIR/v" s:/b/v
    expect_eq "$(cat "$MINIRT_STORAGE/volumes/vol/_data/v")" v "the volume got it"
    expect_eq "$(cat "$TESTDIR/bind/v")" v "the bind source got it"
    [ ! -e "$MINIRT_STORAGE/containers/$(json_field s .id)/upper/vol/v" ] || fail "the copy went under the volume's mount point"
    expect_rc 0 rm s
    expect_rc 0 volume rm vol
}

test_cp_tar_streams_both_ways() {
    host_tree
    start_ready c
    tar -C "$TESTDIR/src" -cf - . | "$MINIRT" cp - c:/data || fail "cp - failed"
    mr exec c sh -c 'cat /data/a /data/d/y; stat -c %u:%g /data/d/y'
    expect_eq "$OUT" $'hello\ndeep\n0:0'
    "$MINIRT" cp c:/data - >"$TESTDIR/out.tar" || fail "cp to - failed"
    expect_eq "$(tar -tf "$TESTDIR/out.tar" | sort | head -3)" $'data/\ndata/a\ndata/d/'
    "$MINIRT" cp c:/data/a - | tar -xOf - a >"$TESTDIR/a.out"
    expect_eq "$(cat "$TESTDIR/a.out")" hello "a file's stream holds it under its name"
    # An archive that names no directory entries: they are made, as tar does.
    tar -C "$TESTDIR/src" -cf "$TESTDIR/bare.tar" d/y
    expect_rc 0 cp - c:/tmp <"$TESTDIR/bare.tar"
    mr exec c cat /tmp/d/y
    expect_eq "$OUT" deep "a file whose directory the archive does not list"
    expect_rc 125 cp - -
    mr cp - c:/data/a </dev/null
    expect_eq "$RC" 125
    expect_contains "$ERR" "must be an existing directory"
}

test_cp_cannot_be_aimed_at_the_host() {
    start_ready h
    expect_rc 0 exec h sh -c 'ln -s / /hostroot; ln -s /etc /etclink'
    echo pwned >"$TESTDIR/p"
    local victim="/minirt-cp-victim-$$"
    expect_rc 0 cp "$TESTDIR/p" "h:/hostroot$victim"
    [ ! -e "$victim" ] || { rm -f "$victim"; fail "cp followed a container's symlink to the host"; }
    mr exec h cat "$victim"
    expect_eq "$OUT" pwned "it landed inside the container"
    expect_rc 0 exec h sh -c 'echo inside >/etc/marker'
    expect_rc 0 cp h:/etclink/marker "$TESTDIR/marker"
    expect_eq "$(cat "$TESTDIR/marker")" inside "a path read through a link stays in the container"
    # Copied out, a container's link stays a link: nothing below it is written.
    expect_rc 0 exec h sh -c "mkdir -p /trap && ln -s $TESTDIR /trap/escape"
    expect_rc 0 cp h:/trap "$TESTDIR/out"
    [ -L "$TESTDIR/out/escape" ] || fail "the link was not copied as a link"
    # A hostile archive: a ".." entry is refused and nothing is written.
    mkdir -p "$TESTDIR/evil"
    echo x >"$TESTDIR/evil/f"
    tar -C "$TESTDIR/evil" -cf "$TESTDIR/evil.tar" --transform 's|^f$|../../../f-escaped|' f
    mr cp - h:/tmp <"$TESTDIR/evil.tar"
    expect_eq "$RC" 125
    expect_contains "$ERR" "whose path has \"..\""
    # An archive that makes a link to a host path and then writes through
    # it: the link is resolved inside the container, never on the host.
    mkdir -p "$TESTDIR/ln/out"
    ln -s "$TESTDIR" "$TESTDIR/ln/l"
    echo y >"$TESTDIR/ln/out/x"
    tar -C "$TESTDIR/ln" -cf "$TESTDIR/ln.tar" l
    tar -C "$TESTDIR/ln/out" -rf "$TESTDIR/ln.tar" --transform 's|^x$|l/through-link|' x
    mr cp - h:/tmp <"$TESTDIR/ln.tar"
    [ ! -e "$TESTDIR/through-link" ] || fail "an archive wrote through its own link onto the host"
}

test_cp_refuses_bad_input_with_one_line() {
    start_ready c
    echo x >"$TESTDIR/f"
    local args
    for args in "$TESTDIR/f $TESTDIR/g" "nosuch:/x $TESTDIR/g" "$TESTDIR/missing c:/tmp" "c:/missing $TESTDIR/g" \
        "$TESTDIR/f c:/no/such/dir/f" "c:/etc $TESTDIR/f" "c: $TESTDIR/g"; do
        # shellcheck disable=SC2086 # the words are the arguments
        mr cp $args
        [ "$RC" = 125 ] || fail "cp $args exited $RC, want 125 ($ERR)"
        [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "cp $args: more than one line: $ERR"
    done
    [ ! -e "$TESTDIR/g" ] || fail "a refused cp made its destination"
}

test_cp_under_userns_auto_maps_owners() {
    start_ready n --userns=auto
    echo x >"$TESTDIR/f"
    chown 5:6 "$TESTDIR/f"
    expect_rc 0 cp "$TESTDIR/f" n:/tmp/f
    expect_rc 0 cp --archive=false "$TESTDIR/f" n:/tmp/g
    mr exec n stat -c %u:%g /tmp/f /tmp/g /bin/busybox
    expect_eq "$OUT" $'0:0\n5:6\n0:0' "owners seen inside"
    expect_rc 0 exec n sh -c 'echo in >/tmp/made; chown 33:33 /tmp/made'
    expect_rc 0 cp n:/tmp/made "$TESTDIR/made"
    expect_eq "$(stat -c %u:%g "$TESTDIR/made")" 33:33 "ids as the container has them"
    "$MINIRT" cp n:/tmp/made - | tar -tvf - >"$TESTDIR/list"
    expect_contains "$(cat "$TESTDIR/list")" "33/33"
    expect_rc 0 stop -t 0 n
    expect_rc 0 cp n:/bin/busybox "$TESTDIR/bb"
    expect_eq "$(stat -c %u "$TESTDIR/bb")" 0 "a stopped container's image files are its root's"
}

test_cp_killed_midway_leaves_no_mount_and_the_container_usable() {
    expect_rc 0 run --name k busybox true
    mkfifo "$TESTDIR/pipe"
    "$MINIRT" cp - k:/tmp <"$TESTDIR/pipe" 2>/dev/null &
    local cp_pid=$!
    exec 7>"$TESTDIR/pipe"
    # Half an archive: cp has mounted the stopped container and is waiting.
    head -c 4096 /dev/zero | tar -cf - -C "$TESTDIR" pipe 2>/dev/null | head -c 512 >&7 || true
    wait_for 30 grep -q "$MINIRT_STORAGE" "/proc/$cp_pid/mountinfo"
    kill -9 "$cp_pid"
    wait "$cp_pid" 2>/dev/null || true
    exec 7>&-
    ! grep -q "$MINIRT_STORAGE" /proc/self/mountinfo || fail "a mount outlived the killed cp"
    expect_rc 0 start k
    expect_rc 0 wait k
}

test_export_writes_the_root_filesystem_without_mounts() {
    mkdir -p "$TESTDIR/bind"
    echo secret >"$TESTDIR/bind/hostfile"
    expect_rc 0 run -d --name e -v "$TESTDIR/bind:/b" busybox sh -c 'echo made >/made; echo ready; exec sleep 1000'
    wait_for 30 log_has e ready
    "$MINIRT" export e >"$TESTDIR/run.tar" || fail "export of a running container failed"
    tar -tf "$TESTDIR/run.tar" >"$TESTDIR/run.list"
    grep -qx 'bin/busybox' "$TESTDIR/run.list" || fail "no bin/busybox in the export"
    grep -qx 'made' "$TESTDIR/run.list" || fail "the container's own file is missing"
    ! grep -q '^b/hostfile' "$TESTDIR/run.list" || fail "a bind mount's files were exported"
    ! grep -q '^proc/.' "$TESTDIR/run.list" || fail "/proc's files were exported"
    expect_rc 0 stop -t 0 e
    echo old >"$TESTDIR/out.tar"
    expect_rc 0 export -o "$TESTDIR/out.tar" e
    tar -xOf "$TESTDIR/out.tar" made >"$TESTDIR/made"
    expect_eq "$(cat "$TESTDIR/made")" made "export -o of a stopped container"
    expect_rc 125 export -o "$TESTDIR/nodir/out.tar" e
    expect_rc 125 export nosuch
}

test_diff_lists_added_changed_and_deleted_paths() {
    expect_rc 0 run --name d busybox sh -c 'echo x >/tmp/new; echo y >>/etc/passwd; rm /bin/ls; rm -r /home 2>/dev/null; mkdir /fresh'
    mr diff d
    expect_eq "$RC" 0
    for line in "A /tmp/new" "C /etc/passwd" "C /etc" "D /bin/ls" "A /fresh"; do
        grep -qx "$line" <<<"$OUT" || fail "diff lacks '$line': $OUT"
    done
    mr diff --format json d
    expect_eq "$(jq -r '.deleted | index("/bin/ls") != null' <<<"$OUT")" true
    expect_eq "$(jq -r '.added | index("/tmp/new") != null' <<<"$OUT")" true
    expect_rc 125 diff --format yaml d
}

# A container that renames a symlink to a host file over each FIFO cp has
# just made, hoping cp's chmod by name follows it (the attacker's winning
# race against the first cp): cp works on descriptors of what it made, so
# the host file keeps its mode whatever the race does.
test_cp_a_racing_container_cannot_chmod_host_files() {
    local racer="${MINIRT%/runtime/minirt}/test/copy-racer" n=5000 i
    [ -x "$racer" ] || skip "no copy-racer beside $MINIRT (ninja -C build)"
    echo secret >"$TESTDIR/victim"
    chmod 600 "$TESTDIR/victim"
    mkdir -p "$TESTDIR/fifos"
    for ((i = 0; i < n; i++)); do printf 'f%05d\n' "$i"; done | (cd "$TESTDIR/fifos" && xargs mkfifo -m 600)
    chmod 6777 "$TESTDIR"/fifos/f*
    tar -C "$TESTDIR/fifos" -cf "$TESTDIR/fifos.tar" .
    start_ready r
    expect_rc 0 cp "$racer" r:/racer
    expect_rc 0 exec r mkdir /race
    expect_rc 0 exec r sh -c "/racer /race $n $TESTDIR/victim >/race.log 2>&1 &"
    wait_for 30 sh -c "\"$MINIRT\" exec r cat /race.log 2>/dev/null | grep -q ready"
    mr cp - r:/race <"$TESTDIR/fifos.tar"
    expect_eq "$(stat -c %a "$TESTDIR/victim")" 600 "the host file's mode after cp (rc $RC: $ERR)"
    expect_eq "$(cat "$TESTDIR/victim")" secret
}

test_cp_killed_midway_keeps_the_file_it_was_replacing() {
    start_ready c
    expect_rc 0 exec c sh -c 'echo original >/data/f'
    mkdir -p "$TESTDIR/big"
    head -c 4000000 /dev/zero >"$TESTDIR/big/f"
    mkfifo "$TESTDIR/pipe"
    "$MINIRT" cp - c:/data <"$TESTDIR/pipe" 2>/dev/null &
    local cp_pid=$!
    exec 7>"$TESTDIR/pipe"
    # The header and part of the file: once the pipe took it (64 KiB of
    # buffer), cp has read most of it and is writing the file when it dies.
    tar -C "$TESTDIR/big" -cf - f | head -c 1000000 >&7 || true
    kill -9 "$cp_pid"
    wait "$cp_pid" 2>/dev/null || true
    exec 7>&-
    mr exec c sh -c 'cat /data/f; ls -A /data'
    expect_eq "$OUT" $'original\nf' "the file a killed cp was replacing, and nothing else"
}
