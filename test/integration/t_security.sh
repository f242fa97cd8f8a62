# shellcheck shell=bash
# Isolation defences (docs/security.md): the escape battery run from inside
# default containers, the flags that change the defaults, and hostile input
# (names, images, tarballs, numbers). Each check fails if its defence is
# removed: see the comment on each test for which one.

# --- helpers (not tests) ---------------------------------------------------

sec_probe_bin() { echo "${MINIRT%/runtime/minirt}/test/security-probe"; }

# sec_probe [RUN FLAGS...] -- OPS...: runs the static probe in a fresh
# busybox container (fed through stdin) and leaves "OP=RESULT" lines in $OUT.
sec_probe() {
    local flags=()
    while [ "$1" != -- ]; do
        flags+=("$1")
        shift
    done
    shift
    mr run --rm -i "${flags[@]}" busybox sh -c \
        'cat > /tmp/p && chmod +x /tmp/p && touch /etc/minirt-ctr-marker && exec /tmp/p "$@"' probe "$@" \
        <"$(sec_probe_bin)"
    [ "$RC" = 0 ] || fail "probe run exited $RC: $ERR"
}

# sec_result OP: the probe's result for OP.
sec_result() { sed -n "s/^$1=//p" <<<"$OUT"; }

expect_refused() {
    local op
    for op in "$@"; do expect_eq "$(sec_result "$op")" EPERM "$op"; done
}

# podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
# SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP = bits 0 1 3 4 5 6 7 8 10 18 31.
SEC_DEFAULT_CAPS=00000000800405fb

# --- the escape battery ----------------------------------------------------

# Defence: seccomp + no_new_privs + capability drop (status fields).
test_sec_status_of_default_container() {
    mr run --rm busybox sh -c 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):" /proc/self/status'
    expect_eq "$RC" 0
    expect_contains "$OUT" "CapEff:	$SEC_DEFAULT_CAPS" "effective set"
    expect_contains "$OUT" "CapPrm:	$SEC_DEFAULT_CAPS" "permitted set"
    expect_contains "$OUT" "CapBnd:	$SEC_DEFAULT_CAPS" "bounding set"
    expect_contains "$OUT" "CapInh:	0000000000000000" "inheritable set"
    expect_contains "$OUT" "CapAmb:	0000000000000000" "ambient set"
    expect_contains "$OUT" "Seccomp:	2" "seccomp filter mode"
    expect_contains "$OUT" "NoNewPrivs:	1" "no_new_privs"
}

# Defence: PID namespace.
test_sec_cannot_see_host_processes() {
    mr run --rm busybox sh -c 'ls -d /proc/[0-9]* | wc -l; cat /proc/[0-9]*/comm'
    expect_eq "$RC" 0
    [ "$(head -n1 <<<"$OUT")" -le 4 ] || fail "container sees $(head -n1 <<<"$OUT") processes"
    expect_not_contains "$OUT" minirt-shim "processes seen"
    expect_not_contains "$OUT" subreaper "processes seen"
}

# Defence: pivot_root + detaching the old root (a chroot would leave the
# host reachable through ".." and /proc/1/root).
test_sec_cannot_reach_host_files() {
    local marker="$TESTDIR/host-marker-$$"
    echo host >"$marker"
    mr run --rm busybox sh -c "
        touch /etc/minirt-ctr-marker
        cat /proc/1/root$marker 2>/dev/null && echo LEAK-proc1root
        cat /proc/self/cwd/../../..$marker 2>/dev/null && echo LEAK-cwd
        cat /../../..$marker 2>/dev/null && echo LEAK-dotdot
        cd /proc/self/root/../.. && cat .$marker 2>/dev/null && echo LEAK-root-dotdot
        ls /proc/1/root/etc/minirt-ctr-marker"
    expect_eq "$RC" 0 "($ERR)"
    expect_not_contains "$OUT" LEAK "host file reached"
    expect_contains "$OUT" /proc/1/root/etc/minirt-ctr-marker "/proc/1/root is the container's root"
    # chroot inside the container, then the classic walk out of it.
    sec_probe -- chroot_escape_stays_inside
    expect_eq "$(sec_result chroot_escape_stays_inside)" OK "chroot-in-chroot walk"
}

# Defence: seccomp (keyrings, user namespaces, the i386 entry point) and
# capabilities (module, reboot, mount, mknod): every call is refused with
# EPERM, the container is not killed.
test_sec_refused_syscalls() {
    sec_probe -- keyctl keyctl32 add_key request_key bpf perf_event_open init_module finit_module \
        delete_module kexec_load reboot swapon mount umount pivot_root unshare_user setns_user \
        open_by_handle_at io_uring_setup tiocsti mknod settimeofday
    expect_refused keyctl keyctl32 add_key request_key bpf perf_event_open init_module finit_module \
        delete_module kexec_load reboot swapon mount umount pivot_root unshare_user setns_user \
        open_by_handle_at io_uring_setup tiocsti mknod settimeofday
    sec_probe -- clone_user clone3
    expect_refused clone_user
    expect_eq "$(sec_result clone3)" ENOSYS "clone3 (libc falls back to clone)"
}

# Defence: seccomp specifically. With every capability but the default
# filter, the calls no container needs stay refused; unconfined, they work.
test_sec_seccomp_alone_refuses() {
    sec_probe --cap-add ALL -- keyctl keyctl32 add_key unshare_user
    expect_refused keyctl keyctl32 add_key unshare_user
    sec_probe --security-opt seccomp=unconfined -- keyctl
    expect_eq "$(sec_result keyctl)" OK "keyctl unconfined"
}

# Defence: masked and read-only paths; read-only /sys.
test_sec_proc_and_sys_are_masked_or_readonly() {
    mr run --rm busybox sh -c '
        for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/interrupts; do
            [ -e $f ] && echo "$f $(wc -c < $f)"
        done
        ls /proc/acpi /sys/firmware 2>/dev/null | wc -l
        echo x > /proc/sys/kernel/domainname 2>/dev/null && echo WROTE-proc-sys
        echo 1 > /proc/sysrq-trigger 2>/dev/null && echo WROTE-sysrq
        touch /sys/kernel/x 2>/dev/null && echo WROTE-sys
        grep -c " /proc/sys " /proc/self/mountinfo'
    expect_eq "$RC" 0 "($ERR)"
    expect_not_contains "$OUT" WROTE "writes"
    local line
    while read -r line; do
        case "$line" in /proc/*) expect_eq "${line#* }" 0 "size of ${line%% *}" ;; esac
    done <<<"$OUT"
    expect_eq "$(tail -n1 <<<"$OUT")" 1 "/proc/sys mounted read-only"
    # /proc/keys is present on this kernel: it must read empty.
    if [ -e /proc/keys ]; then expect_contains "$OUT" "/proc/keys 0"; fi
}

# Defence: /dev is minirt's own tmpfs; the overlay is nodev; no CAP_MKNOD.
test_sec_cannot_open_host_devices() {
    mr run --rm busybox sh -c '
        ls /dev | tr "\n" " "; echo
        for d in sda vda nvme0n1 mem kmsg port; do [ -e /dev/$d ] && echo HAS-$d; done
        mknod /tmp/disk b 8 0 2>/dev/null && echo MKNOD-OK
        cat /dev/zero | head -c 3 | wc -c'
    expect_eq "$RC" 0 "($ERR)"
    expect_not_contains "$OUT" HAS- "host devices"
    expect_not_contains "$OUT" MKNOD-OK "mknod"
    expect_eq "$(tail -n1 <<<"$OUT")" 3 "/dev/zero works"
}

# Defence: the device allow-list (an eBPF program on the container's cgroup
# v2 group). mknod may succeed with CAP_MKNOD, as under podman and runc, but
# opening a node that is not on the list fails with EPERM.
test_sec_device_allow_list() {
    local mode
    for mode in "" "--cap-add MKNOD" "--cap-add ALL" "--userns=auto --cap-add MKNOD"; do
        # shellcheck disable=SC2086
        sec_probe $mode -- dev_loop_open dev_kmsg_open dev_mem_open
        local op
        for op in dev_loop_open dev_kmsg_open dev_mem_open; do
            case "$(sec_result $op)" in
                OK) fail "$op with [$mode]: the node opened" ;;
                EPERM | ENOENT) ;;
                *) fail "$op with [$mode]: $(sec_result $op)" ;;
            esac
        done
        # With CAP_MKNOD the node is made: it is the open that is refused.
        # (In a user namespace the kernel refuses the mknod itself.)
        case "$mode" in *userns*) ;; *MKNOD* | *ALL*) expect_refused dev_loop_open dev_kmsg_open dev_mem_open ;; esac
    done
    # The allowed nodes still work, and --privileged lifts the list.
    mr run --rm --cap-add MKNOD busybox sh -c 'mknod /dev/z c 1 5 && head -c 3 /dev/z | wc -c; echo x >/dev/null && echo null-ok'
    expect_eq "$RC" 0 "($ERR)"
    expect_eq "$OUT" "3"$'\n'"null-ok" "allowed nodes"
    mr run --rm --privileged busybox sh -c 'mknod /dev/k c 1 11 && head -c 1 /dev/k >/dev/null && echo kmsg-read'
    expect_eq "$RC" 0 "($ERR)"
    expect_eq "$OUT" kmsg-read "--privileged reads /dev/kmsg"
}

# Defence: exec hands the command fds 0-2 only (runc's CVE-2024-21626 class):
# a directory the caller had open would lead out through /proc/self/fd/N/..
test_sec_exec_gets_only_stdio() {
    mkdir -p "$TESTDIR/d"
    mr run -d --name e busybox sleep 1000
    expect_eq "$RC" 0 "($ERR)"
    local flags script='ls /proc/self/fd/7/ >/dev/null 2>&1 && echo LEAK-7
        touch /proc/self/fd/7/../escaped 2>/dev/null && echo WROTE-HOST
        for p in /proc/[0-9]*; do ls $p/fd/7/ >/dev/null 2>&1 && echo LEAK-$p; done
        ls /proc/self/fd | tr -d "\r" | tr "\n" " "'
    for flags in "" "-i" "-t" "-i -t"; do
        # shellcheck disable=SC2086
        OUT=$(exec 7<"$TESTDIR/d" 9>"$TESTDIR/d/file"; "$MINIRT" exec $flags e sh -c "$script" </dev/null 2>&1) ||
            fail "exec $flags: $OUT"
        expect_not_contains "$OUT" LEAK "exec $flags"
        expect_not_contains "$OUT" WROTE "exec $flags"
        # 0 1 2, and 3: ls's own directory.
        expect_eq "$(tr -d '\r' <<<"$OUT" | tail -n1)" "0 1 2 3 " "exec $flags: descriptors"
    done
    [ ! -e "$TESTDIR/escaped" ] || fail "a file was created on the host"
    expect_rc 0 rm -f e
}

# A private cgroup namespace by default: the container sees its own group
# as / and mounted read-only at /sys/fs/cgroup (limits: the VM suite).
test_sec_cgroupns_private() {
    mr run -d --name g busybox sh -c 'tail -n1 /proc/self/cgroup; grep " /sys/fs/cgroup " /proc/self/mountinfo; echo 1 > /sys/fs/cgroup/cgroup.freeze 2>/dev/null && echo WROTE; sleep 1000'
    expect_eq "$RC" 0 "($ERR)"
    wait_for 30 grep -q "cgroup2" "$MINIRT_STORAGE/containers/$OUT/ctr.log"
    mr logs g
    expect_contains "$OUT" "0::/"$'\n' "/proc/self/cgroup"
    expect_contains "$OUT" " /sys/fs/cgroup ro," "cgroup2 mount"
    expect_not_contains "$OUT" WROTE "write to the cgroup mount"
    mr exec g sh -c 'tail -n1 /proc/self/cgroup; test -e /sys/fs/cgroup/cgroup.procs && echo has-procs'
    expect_eq "$OUT" "0::/"$'\n'"has-procs" "exec's view"
    expect_rc 0 rm -f g
    mr run --rm --cgroupns host busybox sh -c 'tail -n1 /proc/self/cgroup; ls /sys/fs/cgroup | wc -l'
    expect_eq "$RC" 0 "($ERR)"
    expect_contains "$OUT" "0::/$MINIRT_CGROUP_PARENT/" "--cgroupns host"
    expect_eq "$(tail -n1 <<<"$OUT")" 0 "--cgroupns host: nothing at /sys/fs/cgroup"
    expect_rc 125 run --rm --cgroupns other busybox true
    expect_contains "$ERR" "--cgroupns"
}

# CAP_SYS_ADMIN in the host's user namespace is host root here (no MAC
# policy): the run says so on stderr, once; not with a user namespace.
test_sec_sys_admin_warns() {
    local flags
    for flags in "--cap-add SYS_ADMIN" "--cap-add ALL"; do
        # shellcheck disable=SC2086
        mr run --rm $flags busybox echo hi
        expect_eq "$RC" 0 "($ERR)"
        expect_eq "$OUT" hi
        expect_contains "$ERR" "warning: CAP_SYS_ADMIN without --userns" "$flags"
        expect_eq "$(wc -l <<<"$ERR")" 1 "one line"
    done
    for flags in "" "--userns=auto --cap-add SYS_ADMIN" "--cap-add NET_ADMIN"; do
        # shellcheck disable=SC2086
        mr run --rm $flags busybox echo hi
        expect_eq "$ERR" "" "stderr with [$flags]"
    done
}

# The escape battery in each mode docs/security.md describes: what holds
# with every capability (--cap-add ALL) and in a user namespace.
test_sec_escape_battery_in_each_mode() {
    local mode marker="$TESTDIR/host-marker"
    echo host >"$marker"
    for mode in "" "--cap-add ALL" "--userns=auto" "--userns=auto --cap-add ALL"; do
        # shellcheck disable=SC2086
        mr run --rm $mode busybox sh -c "
            cat /proc/1/root$marker /../../..$marker 2>/dev/null && echo LEAK-file
            cat /proc/[0-9]*/comm | grep -q minirt-shim && echo LEAK-process
            echo x > /proc/sysrq-trigger 2>/dev/null && echo WROTE-sysrq
            echo x > /proc/sys/kernel/domainname 2>/dev/null && echo WROTE-proc-sys
            touch /sys/kernel/x 2>/dev/null && echo WROTE-sys
            [ ! -e /proc/kcore ] || [ \$(wc -c < /proc/kcore) = 0 ] || echo READ-kcore
            true"
        expect_eq "$RC" 0 "[$mode] ($ERR)"
        expect_eq "$OUT" "" "[$mode] escapes"
        # shellcheck disable=SC2086
        sec_probe $mode -- chroot_escape_stays_inside keyctl bpf init_module kexec_load unshare_user \
            open_by_handle_at dev_loop_open dev_kmsg_open mount
        expect_eq "$(sec_result chroot_escape_stays_inside)" OK "[$mode] chroot walk"
        # Refused whatever the capabilities (seccomp) ...
        expect_refused keyctl unshare_user
        # ... and refused unless the container holds the capability that
        # guards them, as podman's profile does.
        case "$mode" in *ALL*) ;; *) expect_refused bpf init_module kexec_load open_by_handle_at ;; esac
        # EPERM from the allow-list, or ENOENT where mknod itself was refused.
        expect_ne "$(sec_result dev_loop_open)" OK "[$mode] open a loop device"
        expect_ne "$(sec_result dev_kmsg_open)" OK "[$mode] open /dev/kmsg"
        # mount(2) needs CAP_SYS_ADMIN over the mount namespace's owner: with
        # it in the host's user namespace the container is host root
        # (docs/security.md); in a user namespace of its own it is not, since
        # the mount namespace belongs to the host's.
        case "$mode" in
            "--cap-add ALL") expect_eq "$(sec_result mount)" OK "[$mode] mount" ;;
            *) expect_refused mount ;;
        esac
    done
}

# --- flags -----------------------------------------------------------------

test_sec_privileged_keeps_everything() {
    mr run --rm --privileged busybox sh -c 'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status; grep -c " /proc/sys " /proc/self/mountinfo; true'
    expect_eq "$RC" 0
    expect_contains "$OUT" "Seccomp:	0" "no seccomp"
    expect_eq "$(tail -n1 <<<"$OUT")" 0 "/proc/sys not read-only"
    expect_eq "$(sed -n 's/^CapEff:\t//p' <<<"$OUT")" "$(sed -n 's/^CapBnd:\t//p' /proc/self/status)" "all of the host's capabilities"
}

test_sec_cap_add_drop_and_no_new_privs() {
    mr run --rm --cap-drop ALL --cap-add NET_RAW --cap-add cap_kill busybox grep CapEff /proc/self/status
    expect_eq "$OUT" "CapEff:	0000000000002020" "--cap-drop ALL --cap-add NET_RAW,KILL"
    mr run --rm --cap-drop chown --cap-drop SETFCAP busybox grep CapEff /proc/self/status
    expect_eq "$OUT" "CapEff:	00000000000405fa" "--cap-drop CHOWN,SETFCAP"
    mr run --rm --security-opt no-new-privileges=false busybox grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
    expect_contains "$OUT" "NoNewPrivs:	0"
    expect_contains "$OUT" "Seccomp:	2" "the filter is still loaded without no_new_privs"
    local bad
    for bad in "--cap-add BOGUS" "--cap-drop" "--security-opt nonsense" "--security-opt no-new-privileges=maybe" \
        "--security-opt seccomp=" "--security-opt seccomp=/nonexistent.json"; do
        # shellcheck disable=SC2086
        mr run --rm $bad busybox true
        expect_eq "$RC" 125 "minirt run $bad"
        [ -n "$ERR" ] || fail "no message for $bad"
    done
    mr list -q
    expect_eq "$OUT" "" "refused runs left containers"
}

test_sec_seccomp_profile_file() {
    local prof="$TESTDIR/profile.json"
    cat >"$prof" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
 "syscalls": [
   {"names": ["mkdir", "mkdirat", "no_such_call_here"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
   {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
 ]}
EOF
    mr run --rm --security-opt "seccomp=$prof" busybox sh -c 'mkdir /tmp/d; echo rc=$?'
    expect_contains "$OUT" "rc=1"
    expect_contains "$ERR" "Permission denied" "errnoRet 13 = EACCES"
    # The profile is kept in config.json: start works after the file is gone.
    expect_rc 0 run --name keep --security-opt "seccomp=$prof" busybox true
    rm -f "$prof"
    expect_rc 0 start keep
    expect_rc 0 wait keep
    expect_eq "$(json_field keep '.config.security.seccomp')" custom "config.security.seccomp"
    expect_rc 0 rm keep
    printf '{"defaultAction": "SCMP_ACT_BOGUS"}' >"$prof"
    expect_rc 125 run --rm --security-opt "seccomp=$prof" busybox true
    expect_contains "$ERR" "SCMP_ACT_BOGUS"
    printf 'not json' >"$prof"
    expect_rc 125 run --rm --security-opt "seccomp=$prof" busybox true
}

test_sec_read_only_root() {
    mr run --rm --read-only busybox sh -c 'touch /etc/x 2>&1; touch /tmp/x && echo tmp-ok; touch /run/x && echo run-ok'
    expect_eq "$RC" 0
    expect_contains "$OUT" "Read-only file system" "write to /etc"
    expect_contains "$OUT" tmp-ok
    expect_contains "$OUT" run-ok
}

test_sec_user_flag() {
    mr run --rm -u 1000:1001 busybox sh -c 'id -u; id -g; id -G; grep -E "^(CapEff|Groups):" /proc/self/status'
    expect_eq "$RC" 0
    expect_eq "$(sed -n 1p <<<"$OUT")" 1000 uid
    expect_eq "$(sed -n 2p <<<"$OUT")" 1001 gid
    expect_eq "$(sed -n 3p <<<"$OUT")" 1001 "groups (supplementary cleared)"
    expect_contains "$OUT" "CapEff:	0000000000000000" "a non-root user holds no capability"
    mr run --rm --user 0 busybox id -u
    expect_eq "$OUT" 0
    # A name is the image's: root of busybox's /etc/passwd.
    mr run --rm --user root busybox id -u
    expect_eq "$OUT" 0
    local bad
    for bad in nosuchuser 1000: :5 -1 99999999999 1000:abc "1000:1000:1"; do
        expect_rc 125 run --rm --user "$bad" busybox true
        expect_contains "$ERR" "--user" "message for --user $bad"
    done
}

test_sec_ulimits() {
    mr run --rm busybox sh -c 'ulimit -n; ulimit -Hn'
    local hard
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] || [ "$(sed -n 2p <<<"$OUT")" -le "$hard" ] || fail "default nofile above the host's hard limit: $OUT"
    mr run --rm --ulimit nofile=100:200 --ulimit core=unlimited --ulimit nproc=500 busybox sh -c 'ulimit -n; ulimit -Hn; ulimit -c; ulimit -u'
    expect_eq "$RC" 0 "($ERR)"
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "100 200 unlimited 500 "
    # A tiny nofile must not break minirt's own last steps before exec.
    mr run --rm --ulimit nofile=5:6 busybox sh -c 'ulimit -n'
    expect_eq "$RC:$OUT" "0:5" "--ulimit nofile=5:6 ($ERR)"
    local bad
    for bad in nofile nofile= =5 bogus=1 nofile=abc nofile=10:5 nofile=-5 nofile=1:2:3 "nofile=99999999999999999999999"; do
        expect_rc 125 run --rm --ulimit "$bad" busybox true
        expect_contains "$ERR" "--ulimit" "message for --ulimit $bad"
    done
}

# Defence: user namespace. Root inside is an unprivileged host uid; what it
# writes lands in that range.
test_sec_userns_auto() {
    mr run --name u --userns=auto busybox sh -c 'id -u; cat /proc/self/uid_map; echo x > /etc/written; echo y > /root/f; ls -ln /etc/passwd; hostname'
    expect_eq "$RC" 0 "($ERR)"
    local base id
    base=$(sed -n 2p <<<"$OUT" | awk '{print $2}')
    expect_eq "$(sed -n 1p <<<"$OUT")" 0 "uid inside"
    [ "$base" -ge 65536 ] || fail "container root maps to host uid $base"
    expect_contains "$(sed -n 3p <<<"$OUT")" " 0 " "image files owned by container root"
    expect_eq "$(tail -n1 <<<"$OUT")" u "hostname in the user namespace"
    id=$(json_field u .id)
    expect_eq "$(stat -c %u "$MINIRT_STORAGE/containers/$id/upper/etc/written")" "$base" "owner of a written file"
    expect_eq "$(stat -c %u "$MINIRT_STORAGE/containers/$id/upper/root/f")" "$base" "owner of /root/f"
    # A second container gets a different range.
    mr run --rm --userns=auto busybox sh -c 'cat /proc/self/uid_map'
    [ "$(awk '{print $2}' <<<"$OUT")" != "$base" ] || fail "two containers share host range $base"
    expect_rc 0 start u
    expect_rc 0 wait u
    expect_rc 0 rm u
    mr run --rm --uidmap 0:200000:1000 busybox sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
    expect_eq "$(tr -s ' \n' ' ' <<<"$OUT")" " 0 200000 1000 0 200000 1000 "
    local bad
    for bad in "--uidmap 1:200000:10" "--uidmap 0:200000:0" "--uidmap 0:4294967295:10" "--uidmap x" \
        "--userns bogus" "--userns=auto --uidmap 0:1:1" "--uidmap 0:100:10 --uidmap 5:500:10"; do
        # shellcheck disable=SC2086
        mr run --rm $bad busybox true
        expect_eq "$RC" 125 "minirt run $bad"
    done
}

# --- hostile input ---------------------------------------------------------

test_sec_hostile_names_refused() {
    local long
    long=$(printf 'b%.0s' $(seq 300))
    local n own="$TESTDIR/own"
    mkdir -p "$own/images"
    tar -C "$TESTDIR" -cf "$TESTDIR/ok.tar" own
    for n in "../x" "a/b" "" "$long" $'a\tb' $'a\nb' $'\e[31m' "аdmin" "ｂusybox" "a b" ".hidden" "-x"; do
        mr run --rm --name "$n" busybox true
        expect_eq "$RC" 125 "container name '$n'"
        mr run --rm "$n" true
        expect_eq "$RC" 125 "image name '$n'"
        MINIRT_STORAGE="$own" mr image import "$TESTDIR/ok.tar" "$n"
        expect_eq "$RC" 125 "import name '$n'"
        [ -z "$(ls -A "$own/images")" ] || fail "import as '$n' created $(ls -A "$own/images")"
    done
    [ -z "$(ls -A "$MINIRT_STORAGE/containers" 2>/dev/null)" ] || fail "containers created: $(ls -A "$MINIRT_STORAGE/containers")"
    mr list -q
    expect_eq "$OUT" ""
}

# Defence: openat2(RESOLVE_IN_ROOT) for every mount target and the workdir
# created after pivot_root. The image's symlinks point at host paths.
test_sec_image_symlinks_stay_inside() {
    local storage="$TESTDIR/own" rootfs
    rootfs=$(image_copy "$storage" evil)
    local victim="$TESTDIR/victim"
    mkdir -p "$victim"
    rm -rf "$rootfs/tmp" "$rootfs/run" "$rootfs/proc"
    ln -s "$victim" "$rootfs/tmp"          # absolute: into the host
    ln -s "../../../../../../$victim" "$rootfs/run"
    ln -s /etc "$rootfs/proc"
    ln -s "$victim/wd" "$rootfs/wd"
    MINIRT_STORAGE="$storage" mr run --rm --read-only -w /wd/deeper evil sh -c 'pwd; echo x > /wd/deeper/f; ls /proc/ | head -n 3'
    local rc=$RC
    echo "symlink image: rc=$RC out=$OUT err=$ERR"
    # Whatever minirt decided (refuse or run), nothing reached the host.
    [ -z "$(ls -A "$victim")" ] || fail "wrote into the host through an image symlink: $(ls -RA "$victim")"
    [ "$rc" = 0 ] || [ "$rc" = 125 ] || fail "rc $rc: $ERR"
    MINIRT_STORAGE="$storage" mr run --rm -w /wd/deeper evil sh -c 'touch f; pwd'
    [ -z "$(ls -A "$victim")" ] || fail "workdir followed a symlink to the host: $(ls -RA "$victim")"
    MINIRT_STORAGE="$storage" "$MINIRT" list -q | while read -r id; do MINIRT_STORAGE="$storage" "$MINIRT" rm -f "$id"; done
    rm -rf "$storage"
}

# Defence: libarchive SECURE_* flags, device nodes skipped, setuid bits
# stripped. The tarballs are built with python's tarfile (GNU tar refuses
# to create most of these).
test_sec_hostile_tarballs() {
    local storage="$TESTDIR/own" t="$TESTDIR/tars" victim="$TESTDIR/victim"
    mkdir -p "$storage/images" "$t" "$victim"
    echo secret >"$victim/secret"
    python3 - "$t" "$victim" <<'EOF'
import io, sys, tarfile
out, victim = sys.argv[1], sys.argv[2]
def add(tf, name, data=b"x", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)
def make(name, entries):
    with tarfile.open(f"{out}/{name}.tar", "w") as tf:
        add(tf, "bin/ok")
        for e in entries:
            add(tf, *e[0:2], **e[2]) if len(e) > 2 else add(tf, *e)
make("dotdot", [("../../../../../../" + victim.lstrip("/") + "/dotdot", b"pwned")])
make("absolute", [(victim + "/absolute", b"pwned")])
make("device", [("dev/sda", b"", {"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0}),
                ("dev/mem", b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 1})])
make("setuid", [("bin/suid", b"#!/bin/sh\n", {"mode": 0o4755}), ("bin/sgid", b"#!/bin/sh\n", {"mode": 0o2755})])
make("hardlink", [("bin/hl", b"", {"type": tarfile.LNKTYPE, "linkname": victim + "/secret"}),
                  ("bin/hl2", b"", {"type": tarfile.LNKTYPE, "linkname": "../../../../.." + victim + "/secret"})])
make("symlink_then_write", [("escape", b"", {"type": tarfile.SYMTYPE, "linkname": victim}),
                            ("escape/through", b"pwned")])
EOF
    local name
    for name in dotdot absolute device setuid hardlink symlink_then_write; do
        MINIRT_STORAGE="$storage" mr image import "$t/$name.tar" "$name"
        [ "$RC" = 0 ] || [ "$RC" = 125 ] || fail "import $name: rc $RC ($ERR)"
        [ "$(ls -A "$victim")" = secret ] || fail "import $name wrote outside the image: $(ls -A "$victim")"
        expect_eq "$(cat "$victim/secret")" secret "victim file after $name"
        [ -z "$(find "$storage/images" -type b -o -type c)" ] || fail "device node imported ($name)"
        [ -z "$(find "$storage/images" -perm /6000 -type f)" ] || fail "setuid/setgid kept ($name)"
        if [ -e "$storage/images/$name/rootfs/bin/hl" ]; then
            [ "$(stat -c %i "$storage/images/$name/rootfs/bin/hl")" != "$(stat -c %i "$victim/secret")" ] ||
                fail "hard link to a host file imported"
        fi
    done
    # The harmless entry of the setuid tarball is there, without its bits.
    [ -f "$storage/images/setuid/rootfs/bin/suid" ] || fail "setuid tarball not imported"
    expect_eq "$(stat -c %a "$storage/images/setuid/rootfs/bin/suid")" 755 "setuid bit stripped"
    rm -rf "$storage"
}

test_sec_hostile_numbers() {
    local bad flag
    for bad in "--mem 99999999999999999999G" "--mem -1" "--mem ''" "--mem 10Q" "--mem '10M garbage'" "--mem 10Mx" \
        "--mem 1.5.5M" "--cpus -1" "--cpus ''" "--cpus 1e999" "--cpus 99999999999999999999" "--cpuset-cpus 0-" \
        "--cpuset-cpus 99999999999999999999" "--cpuset-cpus a" "--pids-limit -5" "--pids-limit 1x" \
        "--cpu-weight 0" "--nice 100" "--log-max-size 0" "--mem-swap 1T1"; do
        flag=${bad%% *}
        eval "mr run --rm $bad busybox true"
        expect_eq "$RC" 125 "minirt run $bad"
        expect_contains "$ERR" "$flag" "message for $bad"
    done
    mr list -q
    expect_eq "$OUT" "" "containers after refused runs"
}
