# shellcheck shell=bash
# --format TEMPLATE (Go's text/template subset, common/go_template) on every
# listing and inspect command, with podman's field names, <no value> for a
# map's missing key, "table" headers and alignment, and a clear error
# (exit 125, one line) for a template that is malformed, outside the
# subset, or names a field that does not exist.

test_ps_templates_as_podmans() {
    expect_rc 0 run -d --name fweb -l app=db -l tier=back -v /data busybox sleep 1000
    expect_rc 3 run --name fdone busybox sh -c 'exit 3'
    local id
    id=$(json_field fweb .id)
    mr ps --format '{{.Names}}'
    expect_eq "$OUT" fweb "ps {{.Names}}: running only"
    mr ps -a --format '{{.Names}} {{.State}} {{.ExitCode}} {{.Exited}}'
    expect_eq "$OUT" "fdone exited 3 true
fweb running 0 false" "ps -a, newest first"
    mr ps --format '{{.ID}}|{{.Id}}|{{.Labels.app}}|{{.Labels.nope}}|{{index .Labels "nope"}}|{{.Mounts}}|{{.Image}}'
    expect_eq "$OUT" "${id:0:12}|$id|db|<no value>||[/data]|busybox" "ids, labels (a missing key), mounts"
    mr ps --no-trunc --format '{{.ID}} {{.Command}}'
    expect_eq "$OUT" "$id sleep 1000" "--no-trunc"
    mr ps --format '{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}{{if eq .State "running"}} up{{end}}'
    expect_eq "$OUT" "app=db;tier=back; up" "range over a map, if eq"
    mr ps --format '{{json .Labels}} {{upper .Names}} {{len .Labels}} {{printf "%-6s|" .Names}}'
    expect_eq "$OUT" '{"app":"db","tier":"back"} FWEB 2 fweb  |' "json, upper, len, printf"
    mr ps --format '{{.Pid}}'
    expect_eq "$OUT" "$(json_field fweb .pid)" "{{.Pid}}"
    # table: the header from the fields' names, the columns lined up.
    mr ps -a --format 'table {{.Names}}\t{{.State}}'
    expect_eq "$OUT" "NAMES       STATE
fdone       exited
fweb        running" "a table"
    mr ps --format 'table {{.ID}} {{.Names}}'
    expect_eq "$(head -n1 <<<"$OUT")" "CONTAINER ID  NAMES" "a table's header (spaces part its columns)"
    mr ps --noheading --format 'table {{.Names}}'
    expect_eq "$OUT" fweb "--noheading"
    mr ps --format '{{.Names}}\t{{.State}}'
    expect_eq "$OUT" "fweb	running" "\\t without table: a tab"
    expect_rc 0 rm -f fweb fdone
    assert_clean
}

test_inspect_templates_read_podmans_fields() {
    expect_rc 0 run -d --name fins -e FOO=bar -l app=db -v /tmp:/host:ro --restart on-failure:2 -w /tmp busybox sleep 1000
    local id pid
    id=$(json_field fins .id)
    pid=$(json_field fins .pid)
    mr inspect --format '{{.State.Pid}} {{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}' fins
    expect_eq "$OUT" "$pid running true 0 false" ".State"
    mr inspect -f '{{.Id}} {{.ID}} {{.Name}} {{.ImageName}} {{.RestartCount}} {{.Path}} {{.Args}}' fins
    expect_eq "$OUT" "$id $id fins busybox 0 sleep [1000]" "top-level fields"
    mr inspect -f '{{range .Config.Env}}{{if eq . "FOO=bar"}}found{{end}}{{end}} {{.Config.Cmd}} {{.Config.WorkingDir}} {{.Config.Labels.app}} {{.Config.Labels.x}}' fins
    expect_eq "$OUT" "found [sleep 1000] /tmp db <no value>" ".Config"
    mr inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.Memory}} {{.HostConfig.NetworkMode}}' fins
    expect_eq "$OUT" "on-failure:2 0 none" ".HostConfig"
    mr inspect -f '{{range .Mounts}}{{if eq .Destination "/host"}}{{.Type}} {{.Source}} {{.RW}}{{end}}{{end}}' fins
    expect_eq "$OUT" "bind /tmp false" ".Mounts"
    mr inspect -f '{{.NetworkSettings.IPAddress}}|{{len .NetworkSettings.Networks}}|{{.State.Health.Status}}|{{.LogPath}}' fins
    expect_eq "$OUT" "|0||$(json_field fins .log_path)" ".NetworkSettings, .State.Health, .LogPath"
    # Without --format, the JSON holds minirt's keys and podman's.
    mr inspect fins
    expect_eq "$(jq -r '.[0].State.Pid == .[0].pid and .[0].Config.Env == .[0].config.env' <<<"$OUT")" true "both shapes"
    # One line per container.
    expect_rc 4 run --name fins2 busybox sh -c 'exit 4'
    mr inspect -f '{{.Name}}={{.State.ExitCode}}' fins fins2
    expect_eq "$OUT" "fins=0
fins2=4" "two containers"
    expect_rc 0 rm -f fins fins2
    assert_clean
}

test_other_commands_take_templates() {
    expect_rc 0 volume create --label k=v fvol
    mr volume ls --format '{{.Name}} {{.Driver}} {{.Labels.k}}' --filter name=fvol
    expect_eq "$OUT" "fvol local v" "volume ls"
    mr volume inspect -f '{{.Mountpoint}}' fvol
    expect_eq "$OUT" "$MINIRT_STORAGE/volumes/fvol/_data" "volume inspect"
    mr network ls --format '{{.Name}} {{.Driver}}' --filter name=minirt
    expect_eq "$OUT" "minirt bridge" "network ls"
    mr network inspect -f '{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}} {{.DNSEnabled}}' minirt
    expect_eq "$OUT" "10.87.0.0/16 10.87.0.1 false" "network inspect"
    mr images --format 'table {{.Repository}}\t{{.Tag}}' busybox
    expect_eq "$OUT" "REPOSITORY  TAG
busybox     latest" "images, a table"
    mr image inspect -f '{{.Config.Cmd}}' busybox
    expect_eq "$OUT" "[sh]" "image inspect"
    mr info --format '{{.Host.OS}} {{.Store.GraphRoot}} {{.Store.RunRoot}}'
    expect_eq "$OUT" "linux $MINIRT_STORAGE $MINIRT_ROOT" "info"
    expect_rc 0 run -d --name fstat busybox sleep 1000
    mr stats --no-stream --interval 20 --format '{{.Name}} {{.PIDs}}' fstat
    expect_eq "$OUT" "fstat 1" "stats"
    expect_rc 0 rm -f fstat
    expect_rc 0 volume rm fvol
    assert_clean
}

test_bad_templates_are_refused() {
    expect_rc 0 run -d --name fbad busybox sleep 1000
    local cmd t
    for t in '{{.Nope}}' '{{.Names' '{{nofunc .Names}}' '{{template "x"}}' '{{if .Names}}x' '{{end}}' '{{$x}}' '{{.Names .Names}}' '{{range .Names}}{{end}}'; do
        for cmd in ps "inspect fbad"; do
            # shellcheck disable=SC2086 # $cmd is words
            expect_rc 125 $cmd --format "$t"
            [ "$(wc -l <<<"$ERR")" = 1 ] || fail "not one line for $cmd --format '$t': $ERR"
            expect_contains "$ERR" "template: " "the error for $cmd --format '$t'"
        done
    done
    expect_rc 125 images --format '{{.Nope}}'
    expect_rc 125 volume ls --format '{{.Nope'
    expect_rc 125 network ls --format '{{.Nope'
    expect_rc 125 info --format '{{.Nope}}'
    expect_rc 125 events --until 0s --format '{{.Nope}}'
    expect_rc 0 rm -f fbad
    assert_clean
}
