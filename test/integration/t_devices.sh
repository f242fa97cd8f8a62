# shellcheck shell=bash
# --device, --device-cgroup-rule and --privileged's devices (docs/cli.md
# "Devices"): the host's nodes inside, what the device filter then allows,
# the refusals, a user namespace (the host's node bound), and hostile images
# whose symlinks aim a node at the host.

# numbers_of PATH: "MAJOR:MINOR TYPE" of a host node, as busybox's stat
# prints them inside (hexadecimal numbers).
numbers_of() { stat -c '%t:%T %F' "$1"; }

# spec_of NAME: the OCI spec minirt wrote for the container.
spec_of() { cat "$MINIRT_STORAGE/containers/$(json_field "$1" .id)/config.json"; }

test_device_at_another_path_is_the_hosts_node() {
    mr run -d --name d --device /dev/null:/dev/mynull busybox sh -c \
        'echo x > /dev/mynull && echo wrote; stat -c "%t:%T %F" /dev/mynull'
    expect_eq "$RC" 0 "run: $ERR"
    wait_for 30 is_exited d
    mr logs d
    expect_eq "$OUT" "wrote"$'\n'"$(numbers_of /dev/null)" "inside"
    expect_contains "$OUT" "1:3 character special file"
    # inspect shows podman's three: where on the host, where inside, what access.
    mr inspect d
    expect_contains "$OUT" '"path_on_host": "/dev/null"'
    expect_contains "$OUT" '"path_in_container": "/dev/mynull"'
    expect_contains "$OUT" '"cgroup_permissions": "rwm"'
    expect_eq "$(spec_of d | jq -c '.linux.devices[0] | [.path, .type, .major, .minor]')" '["/dev/mynull","c",1,3]' "linux.devices"
    expect_rc 0 rm d
}

test_device_directory_gives_every_node_below_it() {
    [ -c /dev/net/tun ] || skip "no /dev/net/tun on this host"
    mr run --rm --device /dev/net:/dev/n2 busybox stat -c '%t:%T %F' /dev/n2/tun
    expect_eq "$RC" 0 "run: $ERR"
    expect_eq "$OUT" "$(numbers_of /dev/net/tun)" "/dev/n2/tun"
}

# PERMISSIONS narrow what the device filter allows. Not shown with
# /dev/zero: it is on runc's default allow-list, which the engine adds
# whatever the spec says (as runc does), so :r cannot take its w away.
test_device_permissions_are_what_the_filter_allows() {
    [ -c /dev/loop-control ] || skip "no /dev/loop-control on this host"
    mr run -d --name p --device /dev/zero:/dev/z:r --device /dev/loop-control:/dev/lc:r busybox sh -c \
        'head -c 3 /dev/z | wc -c; exec 3</dev/lc && echo read-ok; (exec 4>/dev/lc) 2>&1'
    expect_eq "$RC" 0 "run: $ERR"
    wait_for 30 is_exited p
    if [ "$(spec_of p | jq '.linux.resources.devices | length')" = 0 ]; then
        expect_rc 0 rm p
        skip "no device filter on this host (no cgroup v2 hierarchy): permissions are not enforced"
    fi
    mr logs p
    expect_eq "$(head -n2 <<<"$OUT")" "3"$'\n'"read-ok" "reads"
    expect_contains "$OUT" "Operation not permitted" "opening /dev/lc for writing"
    expect_eq "$(spec_of p | jq -c '.linux.resources.devices[] | select(.major == 10) | .access')" '"r"' "the rule"
    expect_rc 0 rm p
}

# A node made inside (CAP_MKNOD: not a default capability) opens only if a
# rule allows it: a loop device's b 7:0 is not on the default list.
test_device_cgroup_rule_allows_nodes_made_inside() {
    mr run -d --name r0 --cap-add MKNOD busybox sh -c 'mknod /dev/l0 b 7 0 && (exec 3</dev/l0) 2>&1; echo done'
    expect_eq "$RC" 0 "run: $ERR"
    wait_for 30 is_exited r0
    if [ "$(spec_of r0 | jq '.linux.resources.devices | length')" = 0 ]; then
        expect_rc 0 rm r0
        skip "no device filter on this host (no cgroup v2 hierarchy)"
    fi
    mr logs r0
    expect_contains "$OUT" "Operation not permitted" "without the rule"
    expect_rc 0 rm r0
    mr run --rm --cap-add MKNOD --device-cgroup-rule 'b 7:* rwm' busybox sh -c \
        'mknod /dev/l0 b 7 0 && (exec 3</dev/l0) 2>&1; echo finished'
    expect_eq "$RC" 0 "run: $ERR"
    # Open succeeds, or fails for the device's own reason (no loop device 0).
    expect_not_contains "$OUT" "Operation not permitted" "with the rule"
    expect_contains "$OUT" finished
}

test_device_privileged_gets_the_hosts_devices() {
    local dev
    for dev in /dev/loop-control /dev/loop0 /dev/kmsg /dev/tty1; do [ -e "$dev" ] && break; done
    [ -e "$dev" ] || skip "none of /dev/loop-control, loop0, kmsg, tty1 on this host"
    mr run --rm --privileged busybox sh -c "stat -c '%t:%T %F' $dev; test -e /dev/pts/ptmx && echo own-pts; stat -c '%a %u:%g' $dev"
    expect_eq "$RC" 0 "run: $ERR"
    expect_eq "$OUT" "$(numbers_of "$dev")"$'\n'"own-pts"$'\n'"$(stat -c '%a %u:%g' "$dev")" "$dev inside, with the host's mode and owner"
    # Not without --privileged.
    mr run --rm busybox sh -c "test -e $dev && echo HAS"
    expect_eq "$OUT" "" "$dev without --privileged"
}

test_device_bad_input_is_refused_whole() {
    local flag want
    while IFS='|' read -r flag want; do
        mr run --rm --name bad "$flag" busybox true
        expect_eq "$RC" 125 "[$flag] rc ($ERR)"
        expect_contains "$ERR" "$want" "[$flag]"
        expect_eq "$(wc -l <<<"$ERR")" 1 "[$flag] one line"
    done <<'EOF'
--device=/nonexistent|--device "/nonexistent": /nonexistent: no such file or directory
--device=/etc/passwd|/etc/passwd is not a character or block device
--device=/dev/null:relative|the container path "relative" must be an absolute path
--device=/dev/null:/dev/n:rwx|permissions must be made of r, w and m
--device=/dev/null:/proc/x|must not be under /proc or /sys
--device-cgroup-rule=x 1:2 r|--device-cgroup-rule "x 1:2 r": the type must be a, b or c
--device-cgroup-rule=c 1:2|expected "TYPE MAJOR:MINOR ACCESS"
EOF
    mr list -aq
    expect_eq "$OUT" "" "containers left"
}

# With a user namespace the node is the host's own, bound (as runc does).
test_device_in_a_user_namespace_is_the_hosts_node_bound() {
    mr run --rm --userns=auto --device /dev/null:/dev/mynull busybox sh -c \
        'echo x > /dev/mynull && echo wrote; stat -c "%t:%T %F" /dev/mynull; grep -c " /dev/mynull " /proc/self/mountinfo'
    expect_eq "$RC" 0 "run: $ERR"
    expect_eq "$OUT" "wrote"$'\n'"$(numbers_of /dev/null)"$'\n'"1" "inside"
}

# An image's symlinks are resolved inside its root: a --device destination
# through one (a directory on the way, or the node's own name) lands inside.
test_device_image_symlinks_cannot_aim_a_node_at_the_host() {
    local storage="$TESTDIR/own" rootfs victim="$TESTDIR/victim"
    rootfs=$(image_copy "$storage" evil)
    # The symlinks' targets exist inside the image too, so they resolve
    # (inside the root) and the nodes are made: where, is the test.
    mkdir -p "$victim" "$rootfs$victim"
    echo keep >"$victim/file"
    ln -s "$victim" "$rootfs/evil"
    ln -s "../../../../../../../..$victim" "$rootfs/evil2"
    ln -s "$victim/file" "$rootfs/danger"
    MINIRT_STORAGE="$storage" mr run --rm --device /dev/null:/evil/n1 --device /dev/null:/evil2/n2 \
        --device /dev/null:/danger evil sh -c 'for n in /evil/n1 /evil2/n2 /danger; do test -c $n && echo $n; done'
    local rc=$RC out=$OUT err=$ERR
    expect_eq "$(ls -A "$victim")" file "the victim directory"
    expect_eq "$(cat "$victim/file")" keep "the victim file"
    if [ -L "$victim/file" ] || [ ! -f "$victim/file" ]; then fail "the victim file was replaced"; fi
    expect_eq "$(host_mounts_of "$victim")" "" "host mounts on the victim"
    expect_eq "$rc" 0 "run: $err"
    expect_eq "$out" "/evil/n1"$'\n'"/evil2/n2"$'\n'"/danger" "the nodes, inside"
    rm -rf "$storage"
}

# CDI (docs/devices.md): a made-up vendor's spec maps the host's /dev/null
# and /dev/zero under new names, mounts a host directory, sets variables,
# adds a group and runs hooks of every stage; =all gives every device;
# a container without the device has no such node.
test_cdi_device_applies_its_spec() {
    local dir="$TESTDIR/cdi"
    mkdir -p "$dir/specs" "$dir/share"
    echo shared-data >"$dir/share/data.txt"
    printf '#!/bin/sh\ncat >"%s/hook-state"\necho "$@" >"%s/hook-args"\n' "$dir" "$dir" >"$dir/hook.sh"
    # The other stages' hooks, run by the shim: each notes its stage and
    # the status its state says.
    cat >"$dir/stage.sh" <<STAGE
#!/bin/sh
echo "\$1 \$(jq -r .status)" >>"$dir/stages"
STAGE
    chmod +x "$dir/hook.sh" "$dir/stage.sh"
    cat >"$dir/specs/example.yaml" <<SPEC
cdiVersion: "0.7.0"
kind: example.com/dev
containerEdits:
  env: [EXAMPLE_SPEC=yes]
devices:
  - name: a
    containerEdits:
      deviceNodes:
        - {path: /dev/example-null, hostPath: /dev/null, permissions: rw, fileMode: 0640}
      mounts:
        - {hostPath: $dir/share, containerPath: /opt/example, options: [ro, bind]}
      env: [EXAMPLE_DEV=a]
      hooks:
        - {hookName: createContainer, path: $dir/hook.sh, args: [hook.sh, made, a]}
        - {hookName: prestart, path: $dir/stage.sh, args: [stage.sh, prestart]}
        - {hookName: createRuntime, path: $dir/stage.sh, args: [stage.sh, createRuntime]}
        - {hookName: poststart, path: $dir/stage.sh, args: [stage.sh, poststart]}
        - {hookName: poststop, path: $dir/stage.sh, args: [stage.sh, poststop]}
      additionalGids: [4242]
  - name: b
    containerEdits:
      deviceNodes:
        - {path: /dev/example-zero, hostPath: /dev/zero}
SPEC
    mr --cdi-spec-dir "$dir/specs" run --rm --name cdi1 --device example.com/dev=a busybox sh -c \
        'stat -c "%t:%T %a" /dev/example-null; echo x >/dev/example-null && echo wrote; cat /opt/example/data.txt
         echo "$EXAMPLE_SPEC $EXAMPLE_DEV"; id -G; ls /dev/example-zero 2>&1; true'
    expect_eq "$RC" 0 "run with the CDI device: $ERR"
    local lines
    mapfile -t lines <<<"$OUT"
    expect_eq "${lines[0]}" "$(stat -c '%t:%T' /dev/null) 640" "the node: /dev/null's numbers, the spec's mode"
    expect_eq "${lines[1]}" wrote "writing the node"
    expect_eq "${lines[2]}" shared-data "the spec's mount"
    expect_eq "${lines[3]}" "yes a" "the spec's and the device's variables"
    expect_contains "${lines[4]}" 4242 "the spec's additional gid"
    expect_contains "${lines[5]}" "No such file" "device b was not asked for"
    expect_eq "$(cat "$dir/hook-args")" "made a" "the createContainer hook's arguments"
    expect_eq "$(jq -r .status "$dir/hook-state")" creating "the hook's state"
    wait_for 30 grep -q poststop "$dir/stages"
    expect_eq "$(cat "$dir/stages")" "prestart creating"$'\n'"createRuntime creating"$'\n'"poststart running"$'\n'"poststop stopped" \
        "the shim's hooks, in order"
    mr --cdi-spec-dir "$dir/specs" run --rm --device example.com/dev=all busybox sh -c 'ls /dev/example-*'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "/dev/example-null /dev/example-zero " "=all"
    mr --cdi-spec-dir "$dir/specs" create --name kept --device example.com/dev=b busybox true
    expect_eq "$RC" 0 "create: $ERR"
    mr inspect kept
    expect_eq "$(jq -c '.[0].config.cdi_devices' <<<"$OUT")" '["example.com/dev=b"]' "inspect"
    expect_rc 0 rm kept
    mr run --rm busybox ls /dev/example-null
    expect_ne "$RC" 0 "a container without the device has the node"
    mr --cdi-spec-dir "$dir/specs" info --format json
    expect_eq "$(jq -c .cdi.devices <<<"$OUT")" '["example.com/dev=a","example.com/dev=b"]' "info's CDI devices"
    assert_clean
}

# Bad specs (JSON and YAML) and unknown devices: one line naming the
# device or the file and the field, exit 125, nothing created.
test_cdi_bad_specs_and_devices_are_refused() {
    local dir="$TESTDIR/cdi"
    mkdir -p "$dir/bad-json" "$dir/bad-yaml" "$dir/good"
    printf '{"cdiVersion":"0.6.0","kind":"example.com/j","devices":[{"name":"x","containerEdits":{"deviceNodes":[{"path":"dev/x"}]}}]}' \
        >"$dir/bad-json/j.json"
    printf 'cdiVersion: "0.6.0"\nkind: example.com/y\ndevices:\n  - name: x\n    containerEdits:\n      mounts: {not: a list}\n' \
        >"$dir/bad-yaml/y.yaml"
    printf '{"cdiVersion":"0.6.0","kind":"example.com/g","devices":[{"name":"x","containerEdits":{"deviceNodes":[{"path":"/dev/q","hostPath":"/dev/null"}]}},{"name":"y","containerEdits":{"deviceNodes":[{"path":"/dev/q","hostPath":"/dev/zero"}]}}]}' \
        >"$dir/good/g.json"
    local args
    for args in "bad-json example.com/j=x deviceNodes[0].path" "bad-yaml example.com/y=x mounts: must be a list" \
                "good example.com/g=z (example.com/g has x, y)" "good example.com/g=x,example.com/g=y set the device node /dev/q differently" \
                "good other.org/g=x no spec for other.org/g"; do
        local sub=${args%% *} rest=${args#* }
        local devs=${rest%% *} want=${rest#* } flags=()
        local d
        IFS=, read -ra d <<<"$devs"
        for devs in "${d[@]}"; do flags+=(--device "$devs"); done
        mr --cdi-spec-dir "$dir/$sub" run --rm --name refused "${flags[@]}" busybox true
        expect_eq "$RC" 125 "exit for $args"
        expect_contains "$ERR" "$want" "the error for $args"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "not one line: $ERR"
    done
    expect_rc 0 ps -a -q
    expect_eq "$OUT" "" "containers after the refusals"
    assert_clean
}

# scripts/cdi-nvidia-spec on a stand-in driver (nodes that are /dev/null's
# numbers, a library reached through its soname link, an nvidia-smi that
# prints a GPU): the spec it writes gives a container the nodes, the
# library at both names and the tool.
test_cdi_nvidia_spec_script() {
    local dir="$TESTDIR/nv"
    mkdir -p "$dir/dev" "$dir/lib" "$dir/bin" "$dir/specs"
    mknod "$dir/dev/nvidia0" c 1 3
    mknod "$dir/dev/nvidiactl" c 1 3
    echo fake-cuda >"$dir/lib/libcuda.so.535.104"
    ln -s libcuda.so.535.104 "$dir/lib/libcuda.so.1"
    printf '#!/bin/sh\necho "GPU 0: Stand-in (UUID: GPU-0)"\n' >"$dir/bin/nvidia-smi"
    chmod +x "$dir/bin/nvidia-smi"
    "$(dirname "${BASH_SOURCE[0]}")/../../scripts/cdi-nvidia-spec" --dev "$dir/dev" --libdir "$dir/lib" --bindir "$dir/bin" >"$dir/specs/nvidia.yaml"
    mr --cdi-spec-dir "$dir/specs" run --rm --device nvidia.com/gpu=all busybox sh -c \
        'nvidia-smi -L; cat /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.535.104
         ls /dev/nvidia0 /dev/nvidiactl'
    expect_eq "$RC" 0 "run with the generated spec: $ERR"
    expect_eq "$OUT" "GPU 0: Stand-in (UUID: GPU-0)"$'\n'"fake-cuda"$'\n'"fake-cuda"$'\n'"/dev/nvidia0"$'\n'"/dev/nvidiactl" "the container"
    mr --cdi-spec-dir "$dir/specs" run --rm --device nvidia.com/gpu=0 busybox ls /dev/nvidia0
    expect_eq "$RC" 0 "nvidia.com/gpu=0: $ERR"
    mr run --rm busybox ls /dev/nvidia0
    expect_ne "$RC" 0 "a container without the GPU has its node"
    assert_clean
}
