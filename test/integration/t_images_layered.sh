# shellcheck shell=bash
# Layered images (docs/images.md): load of oci-archive and docker-archive,
# pull from a registry (Debian's docker-registry on 127.0.0.1), the image
# config on run, whiteouts and opaque directories, shared layers, rmi, and
# hostile layers refused with nothing left. Fixtures are built by umoci and
# skopeo (the opaque layer by hand: umoci emits no .wh..wh..opq).

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
    # podman's listing: a row a name, ids, digests, filters, templates.
    mr images --format '{{.Repository}}:{{.Tag}}'
    expect_contains "$OUT" "localhost/fx:v1"
    expect_contains "$OUT" "docker.io/library/fx:v1"
    expect_contains "$OUT" "busybox:latest"
    mr images --filter reference=localhost/fx --format '{{.ID}} {{.Digest}}'
    local id
    id=$(jq -r '.[0].Id' <<<"$(mr image inspect localhost/fx:v1; echo "$OUT")")
    expect_eq "$OUT" "${id:0:12} $(jq -r '.[0].Digest' <<<"$(mr image inspect localhost/fx:v1; echo "$OUT")")" "id and digest"
    mr images -q --filter reference='*fx*'
    expect_contains "$OUT" "${id:0:12}"
    expect_not_contains "$OUT" busybox
    mr images
    expect_contains "$OUT" "REPOSITORY"
    expect_contains "$OUT" "IMAGE ID"
    mr images --format json
    expect_eq "$(jq -r --arg id "$id" '[.[] | select(.Id == $id)][0].RepoTags[0]' <<<"$OUT")" localhost/fx:v1 "json RepoTags"
    expect_rc 125 images --filter bogus=1
    # The imported busybox answers to podman's spellings of it too.
    expect_rc 0 run --rm localhost/busybox:latest true
    # Entrypoint + Cmd, Env, WorkingDir, User by name (uid and group from the image).
    expect_rc 0 run --rm fx:v1
    expect_eq "$OUT" $'cmd-ran\n1234\n4321\n/data\nbar' "the image config"
    # Arguments replace Cmd, after the entrypoint; --user overrides the image's.
    expect_rc 0 run --rm --user 0 localhost/fx:v1 'ls /data /opq; cat /opq/*'
    expect_eq "$OUT" $'/data:\nkeep\nnew.txt\n\n/opq:\nfresh.txt\nfresh' "whiteout and opaque directory"
    # A volume's first mount fills it from the image as containers see it:
    # the union of the layers, whiteouts and opaque directories applied.
    expect_rc 0 run --rm --user 0 -v filled:/data -v opq:/opq fx:v1 'ls -A /data /opq'
    expect_eq "$OUT" $'/data:\nkeep\nnew.txt\n\n/opq:\nfresh.txt' "volumes filled from the layers"
    [ -d "$MINIRT_STORAGE/volumes/filled/_data/keep" ] || fail "the lowest layer's directory is not in the volume"
    expect_eq "$(cat "$MINIRT_STORAGE/volumes/filled/_data/new.txt")" new "a middle layer's file in the volume"
    # The image's Labels are the container's, under --label's.
    expect_rc 0 run --name lb -l tier=mine -l solo fx:v1 true
    mr inspect lb
    expect_eq "$(jq -c '.[0].config.labels' <<<"$OUT")" '{"solo":"","team":"images","tier":"mine"}' "the container's labels"
    expect_rc 0 rm lb
    expect_rc 125 run --rm -l =x fx:v1 true
    # The image's Volumes: an anonymous volume (filled from the image) where
    # no mount was asked for; its StopSignal is what stop sends first.
    expect_rc 0 run -d --name vs --user 0 fx:v1 'trap "echo got-usr1; exit 0" USR1; echo ready; while :; do sleep 1; done'
    wait_for 30 log_has vs ready
    expect_eq "$(mr inspect vs; jq -r '.[0].config.mounts[] | select(.destination == "/opq") | .type' <<<"$OUT")" volume \
        "the image's volume"
    expect_rc 0 stop vs
    wait_for 30 log_has vs got-usr1
    expect_rc 0 rm -v vs
    expect_rc 0 run -d --name vs2 --stop-signal USR2 busybox sh -c 'trap "echo got-usr2; exit 0" USR2; echo ready; while :; do sleep 1; done'
    wait_for 30 log_has vs2 ready
    expect_rc 0 stop vs2
    wait_for 30 log_has vs2 got-usr2
    expect_rc 0 rm vs2
    # The layers are read-only lowers: a container's writes stay its own.
    expect_rc 0 run --rm --user 0 fx:v1 'echo x >/data/new.txt; rm -r /opq/fresh.txt'
    expect_rc 0 run --rm --user 0 fx:v1 'cat /data/new.txt; ls /opq'
    expect_eq "$OUT" $'new\nfresh.txt' "the image after a container wrote"
    # A name of two goes alone; the last one takes the image and its layers.
    expect_rc 0 tag fx:v1 again
    expect_rc 0 rmi localhost/again:latest
    expect_contains "$OUT" "Untagged: localhost/again:latest"
    expect_rc 0 rmi docker.io/library/fx:v1
    expect_rc 0 volume rm filled opq
    expect_rc 0 rmi localhost/fx:v1
    expect_contains "$OUT" "Deleted:"
    expect_eq "$(layer_count)" 0 "layers after the last image went"
    expect_rc 125 run --rm --pull=never fx:v1 true
    expect_contains "$ERR" "no such image"
}

test_layered_pull_from_a_local_registry_and_rmi_in_use() {
    need_image_tools
    fixture "$TESTDIR/fx"
    start_registry
    local port=$REGISTRY_PORT
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
        elif content == "%c":
            info.type = tarfile.CHRTYPE
            info.devmajor, info.devminor = 1, 3
            t.addfile(info)
        elif content.startswith("~>"):
            info.type = tarfile.SYMTYPE
            info.linkname = content[2:]
            t.addfile(info)
        else:
            info.size = len(content)
            t.addfile(info, io.BytesIO(content.encode()))
layer = buf.getvalue()
diff_id = "sha256:" + ("0" * 64 if os.environ.get("BADID") else hashlib.sha256(layer).hexdigest())
ld, ls = blob(layer)
config = {"Cmd": ["true"]}
if os.environ.get("IMAGE_USER"):
    config["User"] = os.environ["IMAGE_USER"]
if os.environ.get("IMAGE_CONFIG"):
    config.update(json.loads(os.environ["IMAGE_CONFIG"]))
cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": config,
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
    # A manifest naming a blob the archive lacks (an oci-archive is a tar of a layout).
    oci_layout "$TESTDIR/missing" "f=x"
    find "$TESTDIR/missing/blobs/sha256" -type f -size +1k -delete
    tar -C "$TESTDIR/missing" -cf "$TESTDIR/missing.tar" .
    expect_rc 125 load -i "$TESTDIR/missing.tar"
    expect_eq "$(layer_count)" 0 "layers after a load of an archive missing a blob"
    # A layer past MINIRT_MAX_LAYER_SIZE (uncompressed) is refused as it is read: a tar bomb stops there.
    oci_layout "$TESTDIR/bomb" "big=$(head -c 20000 /dev/zero | tr '\0' x)"
    skopeo copy -q "oci:$TESTDIR/bomb" "oci-archive:$TESTDIR/bomb.tar:localhost/bomb:1"
    MINIRT_MAX_LAYER_SIZE=10k expect_rc 125 load -i "$TESTDIR/bomb.tar"
    expect_contains "$ERR" "larger than the limit"
    expect_eq "$(layer_count)" 0 "layers after a refused tar bomb"
    # The same layout, well formed, loads; a device node in it is skipped.
    oci_layout "$TESTDIR/good" "bin/=" "f=x" "dev/=" "dev/null=%c"
    skopeo copy -q "oci:$TESTDIR/good" "oci-archive:$TESTDIR/good.tar:localhost/good:1"
    expect_rc 0 load -i "$TESTDIR/good.tar"
    [ -z "$(find "$MINIRT_STORAGE/layers" -type c)" ] || fail "a device node was unpacked"
}

test_layered_commit_push_pull_save_load_round_trip() {
    need_image_tools
    fixture "$TESTDIR/fx"
    start_registry
    local reg=127.0.0.1:$REGISTRY_PORT
    skopeo copy -q --dest-tls-verify=false "oci:$TESTDIR/fx:v1" "docker://$reg/test/fx:v1"
    # run pulls what is not here (--pull=missing); --pull=never does not.
    expect_rc 125 run --rm --pull=never "$reg/test/fx:v1" true
    expect_contains "$ERR" "no such image"
    expect_rc 0 run --name c1 --user 0 --tls-verify=false -q "$reg/test/fx:v1" \
        'rm /data/new.txt; rm -r /data/keep; mkdir -p /data/keep; echo again >/data/keep/k2; echo made >/made'
    # The container's deletions become whiteouts, its re-made directory opaque.
    expect_rc 0 commit -q -c 'ENTRYPOINT ["cat"]' -c 'CMD ["/made"]' -c "ENV ADDED=1" -c "LABEL team=ours" c1 committed:1
    local id=$OUT
    expect_rc 0 run --rm committed:1
    expect_eq "$OUT" "made" "the committed Cmd"
    expect_rc 0 image inspect committed:1
    expect_eq "$(jq -r '.[0].Id' <<<"$OUT")" "$id" "the id commit printed"
    expect_eq "$(jq -r '.[0].Config.Labels.team' <<<"$OUT")" ours "the label"
    expect_eq "$(jq -r '.[0].RootFS.Layers | length' <<<"$OUT")" 4 "layers of the committed image"
    expect_eq "$(jq -r '.[0].Config.Entrypoint[0]' <<<"$OUT")" cat "the entrypoint --change gave"
    expect_rc 0 image history committed:1
    expect_contains "$OUT" "minirt commit"
    expect_rc 0 image exists committed:1
    expect_rc 1 image exists nothing:1
    # Out to the registry and back, out to an archive and back: the same image.
    expect_rc 0 push -q --tls-verify=false committed:1 "$reg/test/committed:1"
    expect_rc 0 save -o "$TESTDIR/committed.tar" --format oci-archive committed:1
    expect_rc 0 rm c1
    expect_rc 0 rmi committed:1 "$reg/test/fx:v1"
    expect_eq "$(layer_count)" 0 "layers after rmi"
    expect_rc 0 pull -q --tls-verify=false "$reg/test/committed:1"
    expect_eq "$OUT" "$id" "the id pulled back"
    expect_rc 0 run --rm --user 0 --entrypoint '["/bin/sh", "-c"]' "$reg/test/committed:1" \
        'ls -A /data; ls -A /data/keep; cat /made; echo $ADDED'
    expect_eq "$OUT" $'keep\nk2\nmade\n1' "the committed filesystem and env, pulled back"
    expect_rc 0 rmi "$reg/test/committed:1"
    expect_rc 0 load -q -i "$TESTDIR/committed.tar"
    expect_rc 0 image inspect localhost/committed:1
    expect_eq "$(jq -r '.[0].Id' <<<"$OUT")" "$id" "the id loaded back"
}

test_layered_commit_of_an_imported_image_container() {
    need_image_tools
    expect_rc 0 run --name c2 busybox sh -c 'echo hi >/hello'
    expect_rc 0 commit -q c2 frombusybox
    expect_rc 0 run --rm frombusybox cat /hello
    expect_eq "$OUT" hi "the file committed over the imported image"
    expect_rc 0 image inspect frombusybox
    expect_eq "$(jq -r '.[0].RootFS.Layers | length' <<<"$OUT")" 2 "the rootfs and the container's layer"
    expect_rc 125 commit -c "BOGUS x" c2 other
    expect_contains "$ERR" "invalid --change"
}

# many_layers DIR N [DUP]: an OCI layout of busybox's files and then N-1
# layers each adding /lK (with DUP, the busybox layer again on top: a layer
# an image names twice).
many_layers() {
    python3 - "$@" "$MINIRT_STORAGE/images/busybox/rootfs" <<'PYEOF'
import hashlib, io, json, os, sys, tarfile
d, n, base = sys.argv[1], int(sys.argv[2]), sys.argv[-1]
dup = len(sys.argv) == 5
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(data)
    return "sha256:" + h, len(data)
def layer(fill):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        fill(t)
    return buf.getvalue()
def one(k):
    def fill(t):
        info = tarfile.TarInfo(f"l{k}")
        info.size = len(str(k))
        t.addfile(info, io.BytesIO(str(k).encode()))
    return fill
layers = [layer(lambda t: t.add(base, arcname=".", filter=lambda i: None if i.isdev() else i))]
layers += [layer(one(k)) for k in range(1, n)]
if dup:
    layers.append(layers[0])
descs, diff_ids = [], []
for l in layers:
    dg, sz = blob(l)
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": dg, "size": sz})
    diff_ids.append(dg)
cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                          "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                          "layers": descs}).encode())
open(d + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
           "size": ms, "annotations": {"org.opencontainers.image.ref.name": "localhost/many:1"}}]},
          open(d + "/index.json", "w"))
PYEOF
}

test_layered_a_hundred_layers_run_and_past_overlays_limit_is_refused() {
    need_image_tools
    many_layers "$TESTDIR/l100" 100
    skopeo copy -q "oci:$TESTDIR/l100" "oci-archive:$TESTDIR/l100.tar:localhost/l100:1"
    expect_rc 0 load -q -i "$TESTDIR/l100.tar"
    expect_rc 0 run --rm localhost/l100:1 sh -c 'ls / | grep -c "^l[0-9]"; cat /l99'
    expect_eq "$OUT" $'99\n99' "files of all 100 layers"
    # overlayfs's most: 500 lowers, and the mount's options fit a page.
    many_layers "$TESTDIR/l500" 500
    skopeo copy -q "oci:$TESTDIR/l500" "oci-archive:$TESTDIR/l500.tar:localhost/l500:1"
    expect_rc 0 load -q -i "$TESTDIR/l500.tar"
    expect_rc 0 run --rm localhost/l500:1 cat /l499
    expect_eq "$OUT" 499 "the top of 500 layers"
    many_layers "$TESTDIR/l501" 501
    skopeo copy -q "oci:$TESTDIR/l501" "oci-archive:$TESTDIR/l501.tar:localhost/l501:1"
    expect_rc 125 load -i "$TESTDIR/l501.tar"
    expect_contains "$ERR" "at most 500"
    mr images
    expect_not_contains "$OUT" "l501"
    # A layer named twice is one lower, where it is topmost.
    many_layers "$TESTDIR/dup" 3 dup
    skopeo copy -q "oci:$TESTDIR/dup" "oci-archive:$TESTDIR/dup.tar:localhost/dup:1"
    expect_rc 0 load -q -i "$TESTDIR/dup.tar"
    expect_rc 0 run --rm localhost/dup:1 cat /l2
    expect_eq "$OUT" 2 "an image with a layer twice"
}

test_layered_whiteouts_never_delete_the_layers_own_files_and_users_stay_in_the_image() {
    need_image_tools
    # .wh.f and f in one layer: the whiteout is for the layers below.
    oci_layout "$TESTDIR/own" "bin/=" ".wh.f=" "f=mine"
    skopeo copy -q "oci:$TESTDIR/own" "oci-archive:$TESTDIR/own.tar:localhost/own:1"
    expect_rc 0 load -q -i "$TESTDIR/own.tar"
    [ "$(cat "$(find "$MINIRT_STORAGE/layers" -path '*/diff/f')")" = mine ] || fail "the layer's own f was whited out"
    # A layer whose /etc is a symlink to the host's: a user is not looked up there.
    IMAGE_USER=daemon oci_layout "$TESTDIR/etc" "etc=~>/etc"
    skopeo copy -q "oci:$TESTDIR/etc" "oci-archive:$TESTDIR/etc.tar:localhost/etc:1"
    expect_rc 0 load -q -i "$TESTDIR/etc.tar"
    expect_rc 125 run --rm localhost/etc:1
    expect_contains "$ERR" "user \"daemon\" is not in the container's /etc/passwd"
    # A uid past what setresuid takes is refused, not made -1 (root kept).
    IMAGE_USER=4294967295 oci_layout "$TESTDIR/bigid" "f=x"
    skopeo copy -q "oci:$TESTDIR/bigid" "oci-archive:$TESTDIR/bigid.tar:localhost/bigid:1"
    expect_rc 0 load -q -i "$TESTDIR/bigid.tar"
    expect_rc 125 run --rm localhost/bigid:1
    expect_contains "$ERR" "User"
}

test_layered_concurrent_pulls_share_layers_and_kill9_leaves_no_half_image() {
    need_image_tools
    fixture "$TESTDIR/fx"
    start_registry
    local reg=127.0.0.1:$REGISTRY_PORT i pids=()
    skopeo copy -q --dest-tls-verify=false "oci:$TESTDIR/fx:v1" "docker://$reg/test/fx:v1"
    # A second image on the same three layers, and one more.
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fx.tar:localhost/fx:v1"
    # From a pipe, as `podman load < FILE`.
    expect_rc 0 load -q -i <(cat "$TESTDIR/fx.tar")
    expect_rc 0 run --name c3 fx:v1 'echo more >/tmp/more'
    expect_rc 0 commit -q c3 more:1
    expect_rc 0 push -q --tls-verify=false more:1 "$reg/test/more:1"
    expect_rc 0 rm c3
    expect_rc 0 rmi more:1 fx:v1
    expect_eq "$(layer_count)" 0 "layers before the pulls"
    # Pulls of both, four at once: every one succeeds, the shared layers are
    # stored once, and nothing is left aside.
    for i in 1 2 3 4; do
        if [ $((i % 2)) = 0 ]; then "$MINIRT" pull -q --tls-verify=false "$reg/test/fx:v1" >/dev/null &
        else "$MINIRT" pull -q --tls-verify=false "$reg/test/more:1" >/dev/null & fi
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a concurrent pull failed"; done
    expect_eq "$(layer_count)" 4 "layers of both images, the shared ones once"
    [ -z "$(find "$MINIRT_STORAGE/layers" "$MINIRT_STORAGE/oci-images" -mindepth 1 -maxdepth 1 -name '.*')" ] ||
        fail "left aside: $(ls -A "$MINIRT_STORAGE/layers" "$MINIRT_STORAGE/oci-images")"
    expect_rc 0 run --rm "$reg/test/more:1" 'cat /tmp/more'
    expect_eq "$OUT" more "the image pulled beside another"
    expect_rc 0 rmi "$reg/test/more:1" "$reg/test/fx:v1"
    # kill -9 of a load at random moments: `images` never lists a half image,
    # and a load after it works and leaves, once removed, nothing behind.
    local pid
    for i in $(seq 8); do
        "$MINIRT" load -q -i "$TESTDIR/fx.tar" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 10))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        mr images --format '{{.Repository}}:{{.Tag}}'
        if [[ "$OUT" == *localhost/fx:v1* ]]; then
            expect_rc 0 run --rm fx:v1 'cat /data/new.txt'
            expect_eq "$OUT" new "an image a killed load had finished"
        fi
    done
    expect_rc 0 load -q -i "$TESTDIR/fx.tar"
    expect_rc 0 run --rm fx:v1 'cat /data/new.txt'
    expect_eq "$OUT" new "the image after the killed loads"
    expect_rc 0 rmi localhost/fx:v1
    expect_eq "$(layer_count)" 0 "layers after the last rmi"
    [ -z "$(find "$MINIRT_STORAGE/layers" "$MINIRT_STORAGE/oci-images" "$MINIRT_STORAGE/blobs" -mindepth 1 -maxdepth 2 \
        -not -name sha256)" ] || fail "left behind: $(find "$MINIRT_STORAGE/layers" "$MINIRT_STORAGE/oci-images" "$MINIRT_STORAGE/blobs")"
}

test_layered_import_of_a_tarball_file_stdin_and_url() {
    need_image_tools
    tar -C "$MINIRT_STORAGE/images/busybox/rootfs" -czf "$TESTDIR/bb.tar.gz" .
    expect_rc 0 import -c 'CMD ["echo", "imported"]' -c "ENV WHERE=file" -c "LABEL=from=file" -m "from a file" \
        "$TESTDIR/bb.tar.gz" imp:file
    expect_rc 0 run --rm imp:file
    expect_eq "$OUT" imported "the --change CMD"
    expect_rc 0 run --rm imp:file sh -c 'echo $WHERE'
    expect_eq "$OUT" file "the --change ENV"
    expect_rc 0 image history imp:file
    expect_contains "$OUT" "from a file"
    expect_rc 0 image inspect imp:file
    expect_eq "$(jq -r '.[0].Labels.from' <<<"$OUT")" file "podman's INSTRUCTION=VALUE form of --change"
    mr import - imp:stdin <"$TESTDIR/bb.tar.gz"
    expect_eq "$RC" 0 "import from stdin"
    expect_rc 0 run --rm imp:stdin cat /bin/busybox >/dev/null
    # Over http, from a server the test runs on a free port.
    local port=$((20000 + RANDOM % 20000))
    (cd "$TESTDIR" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
    # shellcheck disable=SC2064
    trap "kill $! 2>/dev/null || true" EXIT
    wait_for 30 curl -fs "http://127.0.0.1:$port/bb.tar.gz" -o /dev/null
    expect_rc 0 import "http://127.0.0.1:$port/bb.tar.gz" imp:url
    expect_rc 0 run --rm imp:url true
    # One layer, shared by the three (the same bytes).
    expect_eq "$(layer_count)" 1 "the layer of three imports of one tarball"
    expect_rc 125 import -c "FROM x" "$TESTDIR/bb.tar.gz" imp:bad
    expect_rc 125 import "$TESTDIR/nothing.tar" imp:bad
    expect_rc 125 import "http://127.0.0.1:$port/nothing.tar" imp:bad
    mr images --format '{{.Repository}}:{{.Tag}}'
    expect_contains "$OUT" "localhost/imp:url"
    expect_not_contains "$OUT" "localhost/imp:bad"
}

test_layered_system_df_counts_shared_layers_once_and_prune_keeps_what_is_used() {
    need_image_tools
    fixture "$TESTDIR/fx"
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fx.tar:localhost/fx:v1"
    expect_rc 0 load -q -i "$TESTDIR/fx.tar"
    expect_rc 0 run --name d1 --user 0 fx:v1 'echo more >/more'
    expect_rc 0 commit -q d1 more:1
    expect_rc 0 system df -v --format json
    local fx more
    fx=$(jq '.[0].Images[] | select(.Repository == "localhost/fx:v1")' <<<"$OUT")
    more=$(jq '.[0].Images[] | select(.Repository == "localhost/more:1")' <<<"$OUT")
    # more:1 is fx:v1's three layers and one of its own: those three are shared.
    expect_eq "$(jq .SharedSize <<<"$fx")" "$(jq .Size <<<"$fx")" "fx's layers are all shared"
    expect_eq "$(jq .UniqueSize <<<"$fx")" 0 "fx has nothing of its own"
    expect_eq "$(jq .SharedSize <<<"$more")" "$(jq .Size <<<"$fx")" "more shares fx's layers"
    expect_eq "$(jq .Containers <<<"$fx")" 1 "d1 was made from fx"
    # The total counts each layer once: fx's size, more's own, and busybox's.
    local legacy
    legacy=$(jq '[.[0].Images[] | select(.ImageID == "") | .Size] | add // 0' <<<"$OUT")
    expect_eq "$(jq '.[0].Size' <<<"$OUT")" "$(($(jq .Size <<<"$fx") + $(jq .UniqueSize <<<"$more") + legacy))" \
        "the images' total"
    mr system df
    expect_contains "$OUT" "Images"
    expect_contains "$OUT" "Local Volumes"
    # prune: an image without a name goes; with -a, every one no container uses.
    expect_rc 0 untag more:1
    expect_rc 0 image prune
    expect_rc 1 image exists "$(jq -r .ImageID <<<"$more")"
    expect_rc 0 image prune -a
    expect_rc 0 image exists localhost/fx:v1
    expect_rc 0 rm d1
    expect_rc 0 image prune -a
    expect_rc 1 image exists localhost/fx:v1
    expect_rc 0 image exists busybox
    expect_eq "$(layer_count)" 0 "layers after the prune"
}

test_user_names_for_run_and_exec_come_from_the_containers_passwd() {
    # An imported image (busybox) and a layered one (the fixture's app user).
    expect_rc 0 run --rm --user nobody busybox sh -c 'id -u; id -g'
    expect_eq "$OUT" $'65534\n65534' "nobody of busybox's /etc/passwd"
    expect_rc 0 run --rm --user nobody:tty busybox id -g
    expect_eq "$OUT" 5 "a group by name"
    expect_rc 0 run --rm --user 123 busybox id -g
    expect_eq "$OUT" 0 "a uid without an entry keeps group 0"
    expect_rc 125 run --rm --user nosuchuser busybox true
    expect_contains "$ERR" "nosuchuser"
    expect_rc 0 run -d --name ux busybox sh -c 'echo "dyn:x:4242:4343::/:/bin/sh" >>/etc/passwd; echo ready; sleep 1000'
    wait_for 30 log_has ux ready
    # exec --user looks in the running container's own /etc/passwd.
    expect_rc 0 exec --user dyn ux sh -c 'id -u; id -g'
    expect_eq "$OUT" $'4242\n4343' "a user the container added"
    expect_rc 125 exec --user nosuchuser ux true
    expect_rc 0 rm -f ux
    need_image_tools
    fixture "$TESTDIR/fx"
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fx.tar:localhost/fx:v1"
    expect_rc 0 load -q -i "$TESTDIR/fx.tar"
    expect_rc 0 run --rm --user app:grp fx:v1 'id -u; id -g'
    expect_eq "$OUT" $'1234\n4321' "a layered image's user and group"
}

test_layered_save_and_load_of_several_images_and_names() {
    need_image_tools
    fixture "$TESTDIR/fx"
    skopeo copy -q "oci:$TESTDIR/fx:v1" "oci-archive:$TESTDIR/fx.tar:localhost/fx:v1"
    expect_rc 0 load -q -i "$TESTDIR/fx.tar"
    expect_rc 0 run --name s1 --user 0 fx:v1 'echo two >/two'
    expect_rc 0 commit -q s1 two:1
    expect_rc 0 rm s1
    expect_rc 0 tag fx:v1 fx:alias
    # Several images: an oci-archive; one image with two names: a docker-archive keeps both.
    expect_rc 0 save -o "$TESTDIR/both.tar" --format oci-archive fx:v1 two:1 fx:alias
    expect_rc 0 save -o "$TESTDIR/named.tar" fx:v1
    expect_rc 125 save -o "$TESTDIR/no.tar" fx:v1 two:1
    expect_contains "$ERR" "oci-archive"
    [ ! -e "$TESTDIR/no.tar" ] || fail "a refused save wrote its file"
    expect_rc 0 rmi -f fx:v1 two:1
    mr rmi -f fx:alias
    expect_eq "$(layer_count)" 0 "layers after rmi"
    expect_rc 0 load -i "$TESTDIR/both.tar"
    expect_contains "$OUT" "Loaded image: localhost/fx:v1"
    expect_contains "$OUT" "Loaded image: localhost/two:1"
    expect_rc 0 run --rm --user 0 two:1 'cat /two'
    expect_eq "$OUT" two "the second image of the archive"
    expect_rc 0 rmi -f localhost/fx:v1 localhost/two:1
    expect_rc 0 load -i "$TESTDIR/named.tar"
    expect_contains "$OUT" "Loaded image: localhost/fx:v1"
    expect_contains "$OUT" "Loaded image: localhost/fx:alias"
}

test_layered_review_fixes_volumes_whiteout_links_entrypoints_and_names() {
    need_image_tools
    # An image's Volumes key is a path, never -v's SRC:DST: "/:/host" binds nothing.
    IMAGE_CONFIG='{"Volumes": {"/:/host": {}, "/data/": {}, "/data": {}}, "Entrypoint": null, "Cmd": ["sh"]}' \
        oci_layout "$TESTDIR/vol" "bin/=" "etc/=" "data/="
    skopeo copy -q "oci:$TESTDIR/vol" "oci-archive:$TESTDIR/vol.tar:localhost/vol:1"
    expect_rc 0 load -q -i "$TESTDIR/vol.tar"
    # (It has no shell: the container is made, and its command not found.)
    expect_rc 127 run --name v1 localhost/vol:1
    mr inspect v1
    expect_eq "$(jq -c '[.[0].config.mounts[] | .destination]' <<<"$OUT")" '["/data"]' "the image's volumes: one, and no /host"
    expect_rc 0 rm -v v1
    # Two files deleted: overlayfs links its whiteouts to one inode; each
    # is still a whiteout in the committed layer. And an image whose
    # Entrypoint is null commits; the committed entrypoint is --entrypoint's.
    expect_rc 0 run --name w2 --user 0 --entrypoint '["/bin/sh", "-c"]' busybox 'rm /bin/true /bin/false; echo x >/kept'
    expect_rc 0 commit -q w2 wh:1
    expect_rc 0 image inspect wh:1
    expect_eq "$(jq -c '.[0].Config.Entrypoint' <<<"$OUT")" '["/bin/sh","-c"]' "the container's --entrypoint, committed"
    expect_rc 0 run --rm wh:1 'ls /bin/true /bin/false 2>/dev/null; cat /kept'
    expect_eq "$OUT" x "both files deleted in the committed image"
    expect_rc 0 rm w2
    # A reference with a tag means the layered image, beside an imported one of that name.
    mkdir -p "$TESTDIR/imp"
    local imgs="$TESTDIR/images"
    rm "$MINIRT_STORAGE/images"
    mkdir -p "$imgs"
    ln -s "$(readlink -f /var/lib/minirt/images/busybox)" "$imgs/busybox"
    ln -s "$imgs" "$MINIRT_STORAGE/images"
    expect_rc 0 image import --cmd "echo imported" "$MINIRT_STORAGE/images/busybox/rootfs" foo
    expect_rc 0 tag wh:1 foo
    expect_rc 0 run --rm localhost/foo:latest 'echo layered'
    expect_eq "$OUT" layered "localhost/foo:latest is the layered image"
    expect_rc 0 run --rm foo
    expect_eq "$OUT" imported "a plain name is the imported image"
}

test_layered_short_names_are_pulled_from_the_search_registries() {
    need_image_tools
    fixture "$TESTDIR/fx"
    start_registry
    skopeo copy -q --dest-tls-verify=false "oci:$TESTDIR/fx:v1" "docker://127.0.0.1:$REGISTRY_PORT/team/fx:v1"
    # The first registry of the list lacks it; the second has it.
    printf 'unqualified-search-registries = ["127.0.0.1:1", "127.0.0.1:%s"]\n' "$REGISTRY_PORT" >"$TESTDIR/registries.conf"
    MINIRT_REGISTRIES_CONF=$TESTDIR/registries.conf expect_rc 0 pull -q --tls-verify=false team/fx:v1
    expect_rc 0 image exists "127.0.0.1:$REGISTRY_PORT/team/fx:v1"
    expect_rc 0 run --rm team/fx:v1
    expect_contains "$OUT" cmd-ran
    MINIRT_REGISTRIES_CONF=$TESTDIR/registries.conf expect_rc 125 pull -q --tls-verify=false team/nothere:v1
    expect_contains "$ERR" "nothere"
}
