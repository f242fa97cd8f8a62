# shellcheck shell=bash
# Layered images (docs/images.md): load of oci-archive and docker-archive,
# pull from a registry (Debian's docker-registry on 127.0.0.1), the image
# config on run, whiteouts and opaque directories, shared layers, rmi, and
# hostile layers refused with nothing left. Fixtures are built by umoci and
# skopeo (the opaque layer by hand: umoci emits no .wh..wh..opq).

need_image_tools() {
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    command -v umoci >/dev/null || skip "umoci is not installed"
}

# fixture DIR: an OCI layout DIR:v1 of three layers (busybox with
# /data/gone.txt, /opq/old.txt and a user; then gone.txt deleted, which
# umoci writes as a whiteout; then /opq made opaque with a fresh file) and
# a config saying entrypoint, cmd, env, workdir and a user by name.
fixture() {
    local layout=$1 b=$TESTDIR/fixture-bundle t=$TESTDIR/opaque
    umoci init --layout "$layout"
    umoci new --image "$layout:v1"
    umoci unpack --image "$layout:v1" "$b" >/dev/null
    cp -a "$MINIRT_STORAGE/images/busybox/rootfs/." "$b/rootfs/"
    mkdir -p "$b/rootfs/data/keep" "$b/rootfs/opq" "$b/rootfs/etc"
    echo gone >"$b/rootfs/data/gone.txt"
    echo old >"$b/rootfs/opq/old.txt"
    echo 'app:x:1234:4321::/data:/bin/sh' >>"$b/rootfs/etc/passwd"
    echo 'grp:x:4321:' >>"$b/rootfs/etc/group"
    umoci repack --refresh-bundle --image "$layout:v1" "$b"
    rm "$b/rootfs/data/gone.txt"
    echo new >"$b/rootfs/data/new.txt"
    umoci repack --refresh-bundle --image "$layout:v1" "$b"
    mkdir -p "$t/opq"
    echo fresh >"$t/opq/fresh.txt"
    : >"$t/opq/.wh..wh..opq"
    tar -C "$t" -cf "$TESTDIR/opaque.tar" opq
    umoci raw add-layer --image "$layout:v1" "$TESTDIR/opaque.tar"
    umoci config --image "$layout:v1" --config.entrypoint /bin/sh --config.entrypoint -c \
        --config.cmd 'echo cmd-ran; id -u; id -g; pwd; echo $FOO' --config.env FOO=bar \
        --config.workingdir /data --config.user app
    expect_eq "$(umoci stat --image "$layout:v1" --json | jq '[.history[] | select(.empty_layer | not)] | length')" 3 \
        "the fixture's layers"
}

layer_count() { find "$MINIRT_STORAGE/layers" -mindepth 1 -maxdepth 1 -not -name '.*' 2>/dev/null | wc -l; }

test_layered_load_archives_and_run_with_the_image_config() {
    need_image_tools
    fixture "$TESTDIR/fx"
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fx-oci.tar:localhost/fx:v1"
    skopeo copy -q "oci:$TESTDIR/fx:v1" "docker-archive:$TESTDIR/fx-docker.tar:fx:v1"
    expect_rc 0 load -i "$TESTDIR/fx-oci.tar"
    expect_contains "$OUT" "Loaded image: localhost/fx:v1"
    expect_rc 0 load -q -i "$TESTDIR/fx-docker.tar"
    expect_eq "$(layer_count)" 3 "layers (shared by both names)"
    mr images
    expect_contains "$OUT" "localhost/fx:v1"
    expect_contains "$OUT" "docker.io/library/fx:v1"
    # Entrypoint + Cmd, Env, WorkingDir, User by name (uid and group from the image).
    expect_rc 0 run --rm fx:v1
    expect_eq "$OUT" $'cmd-ran\n1234\n4321\n/data\nbar' "the image config"
    # Arguments replace Cmd, after the entrypoint; --user overrides the image's.
    expect_rc 0 run --rm --user 0 localhost/fx:v1 'ls /data /opq; cat /opq/*'
    expect_eq "$OUT" $'/data:\nkeep\nnew.txt\n\n/opq:\nfresh.txt\nfresh' "whiteout and opaque directory"
    # The layers are read-only lowers: a container's writes stay its own.
    expect_rc 0 run --rm --user 0 fx:v1 'echo x >/data/new.txt; rm -r /opq'
    expect_rc 0 run --rm --user 0 fx:v1 'cat /data/new.txt; ls /opq'
    expect_eq "$OUT" $'new\nfresh.txt' "the image after a container wrote"
    # A name of two goes alone; the last one takes the image and its layers.
    expect_rc 0 tag fx:v1 again
    expect_rc 0 rmi localhost/again:latest
    expect_contains "$OUT" "Untagged: localhost/again:latest"
    expect_rc 0 rmi docker.io/library/fx:v1
    expect_rc 0 rmi localhost/fx:v1
    expect_contains "$OUT" "Deleted:"
    expect_eq "$(layer_count)" 0 "layers after the last image went"
    expect_rc 125 run --rm fx:v1 true
    expect_contains "$ERR" "no such image"
}

test_layered_pull_from_a_local_registry_and_rmi_in_use() {
    need_image_tools
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    fixture "$TESTDIR/fx"
    local port=$((20000 + RANDOM % 20000)) reg
    mkdir -p "$TESTDIR/registry"
    cat >"$TESTDIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TESTDIR/registry/data
http:
  addr: 127.0.0.1:$port
EOF
    docker-registry serve "$TESTDIR/registry/config.yml" >"$TESTDIR/registry/log" 2>&1 &
    reg=$!
    # shellcheck disable=SC2064
    trap "kill $reg 2>/dev/null || true" EXIT
    wait_for 30 curl -fs "http://127.0.0.1:$port/v2/" >/dev/null
    skopeo copy -q --dest-tls-verify=false "oci:$TESTDIR/fx:v1" "docker://127.0.0.1:$port/test/fx:v1"
    # Over plain http: without --tls-verify=false skopeo refuses, and nothing is stored.
    expect_rc 125 pull -q "127.0.0.1:$port/test/fx:v1"
    expect_contains "$ERR" "HTTPS"
    expect_eq "$(layer_count)" 0 "layers after a refused pull"
    expect_rc 0 pull -q --tls-verify=false "127.0.0.1:$port/test/fx:v1"
    expect_rc 0 run --name user1 "127.0.0.1:$port/test/fx:v1"
    expect_contains "$OUT" "cmd-ran"
    expect_rc 125 pull -q --tls-verify=false "127.0.0.1:$port/test/nothere:v1"
    # In use by a container (exited, too): refused with podman's code.
    expect_rc 2 rmi "127.0.0.1:$port/test/fx:v1"
    expect_contains "$ERR" "in use by container"
    expect_rc 0 rmi -f "127.0.0.1:$port/test/fx:v1"
    expect_rc 125 inspect user1
    expect_eq "$(layer_count)" 0 "layers after rmi -f"
}

# oci_layout DIR ENTRY...: an OCI layout of one layer holding the tar
# entries given as NAME=CONTENT (NAME ending in / for a directory), with
# diff_ids as they are, or "bad" as the layer's diff_id for BADID=1.
oci_layout() {
    python3 - "$@" <<'EOF'
import hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(data)
    return "sha256:" + h, len(data)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for spec in sys.argv[2:]:
        name, _, content = spec.partition("=")
        info = tarfile.TarInfo(name.rstrip("/"))
        if name.endswith("/"):
            info.type = tarfile.DIRTYPE
            t.addfile(info)
        elif content.startswith("->"):
            info.type = tarfile.LNKTYPE
            info.linkname = content[2:]
            t.addfile(info)
        else:
            info.size = len(content)
            t.addfile(info, io.BytesIO(content.encode()))
layer = buf.getvalue()
diff_id = "sha256:" + ("0" * 64 if os.environ.get("BADID") else hashlib.sha256(layer).hexdigest())
ld, ls = blob(layer)
cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["true"]},
                          "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode())
md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                          "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}).encode())
open(d + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
           "size": ms, "annotations": {"org.opencontainers.image.ref.name": "localhost/hostile:1"}}]},
          open(d + "/index.json", "w"))
EOF
}

test_layered_hostile_layers_are_refused_and_leave_nothing() {
    need_image_tools
    local n=0 case
    for case in "../evil=x" "/abs=x" "a/../../evil=x" "ok/=|ok/.wh...=x" "link=->../../etc/passwd" "bad"; do
        n=$((n + 1))
        local dir=$TESTDIR/h$n
        if [ "$case" = bad ]; then
            BADID=1 oci_layout "$dir" "f=x"
        else
            IFS='|' read -ra entries <<<"$case"
            oci_layout "$dir" "${entries[@]}"
        fi
        skopeo copy -q "oci:$dir" "oci-archive:$dir.tar:localhost/hostile:1"
        expect_rc 125 load -i "$dir.tar"
        mr images
        expect_not_contains "$OUT" "hostile"
        expect_eq "$(layer_count)" 0 "layers after the refused load of $case"
        [ -z "$(find "$MINIRT_STORAGE/layers" "$MINIRT_STORAGE/oci-images" -mindepth 1 -maxdepth 1 2>/dev/null)" ] ||
            fail "left after $case: $(ls -A "$MINIRT_STORAGE/layers" "$MINIRT_STORAGE/oci-images")"
        if [ -e "$TESTDIR/evil" ] || [ -e /evil ]; then fail "$case wrote outside the layer"; fi
    done
    # The same layout, well formed, loads.
    oci_layout "$TESTDIR/good" "bin/=" "f=x"
    skopeo copy -q "oci:$TESTDIR/good" "oci-archive:$TESTDIR/good.tar:localhost/good:1"
    expect_rc 0 load -i "$TESTDIR/good.tar"
}
