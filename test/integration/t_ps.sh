# shellcheck shell=bash
# ps/list: --filter with podman's keys and rules (the same key twice:
# either; different keys: all), --last, --latest.

# ps_names ARGS...: the names `ps ARGS` lists, sorted, space-separated.
ps_names() { "$MINIRT" ps --format json "$@" | jq -r '.[].name' | sort | tr '\n' ' ' | sed 's/ $//'; }

test_ps_filters_as_podmans() {
    expect_rc 0 run -d --name web1 -l tier=web -v /data busybox sleep 1000
    expect_rc 3 run --name db1 -l tier=db busybox sh -c 'exit 3'
    expect_rc 0 create --name new1 busybox true
    expect_rc 0 run -d --name hc1 -l tier=web --health-cmd true --health-interval disable busybox sleep 1000
    expect_rc 0 healthcheck run hc1
    local web_id
    web_id=$(json_field web1 .id)
    expect_eq "$(ps_names)" "hc1 web1" "plain ps"
    expect_eq "$(ps_names --filter label=tier=web)" "hc1 web1" "label=KEY=VALUE"
    expect_eq "$(ps_names --filter label=tier)" "db1 hc1 web1" "label=KEY (implies -a)"
    expect_eq "$(ps_names --filter status=exited)" db1 "status=exited without -a"
    expect_eq "$(ps_names --filter status=created)" new1 "status=created"
    expect_eq "$(ps_names --filter exited=3)" db1 "exited=3"
    expect_eq "$(ps_names --filter exited=0)" "" "exited=0"
    expect_eq "$(ps_names --filter name=1$ --filter name=^db)" "db1 hc1 new1 web1" "name= twice: either"
    expect_eq "$(ps_names --filter name=^web)" web1 "name= a regex"
    expect_eq "$(ps_names --filter "id=${web_id:0:10}")" web1 "id= a prefix"
    expect_eq "$(ps_names --filter ancestor=busybox)" "db1 hc1 new1 web1" "ancestor=busybox"
    expect_eq "$(ps_names --filter ancestor=busybox:latest)" "db1 hc1 new1 web1" "ancestor=busybox:latest"
    expect_eq "$(ps_names --filter ancestor=alpine)" "" "ancestor=alpine"
    expect_eq "$(ps_names --filter health=healthy)" hc1 "health=healthy"
    expect_eq "$(ps_names --filter health=none --filter status=running)" web1 "health=none"
    expect_eq "$(ps_names --filter volume=/data)" web1 "volume=DEST"
    expect_eq "$(ps_names --filter network=nosuchnet)" "" "network="
    expect_eq "$(ps_names --filter before=new1)" "db1 web1" "before="
    expect_eq "$(ps_names --filter since=db1)" "hc1 new1" "since="
    expect_eq "$(ps_names --filter label=tier=web --filter status=exited)" "" "different keys: all"
    expect_eq "$(ps_names --last 2)" "hc1 new1" "--last 2"
    expect_eq "$(ps_names -l)" hc1 "--latest"
    expect_rc 0 ps -q --no-trunc --filter name=^web1$
    expect_eq "$OUT" "$web_id" "ps -q with a filter"
    # restart-policy= on the policy alone (the boot rule is start --all's).
    expect_rc 0 run -d --name us1 --restart unless-stopped busybox sleep 1000
    expect_rc 0 stop -t 0 us1
    expect_eq "$(ps_names --filter restart-policy=unless-stopped)" us1 "restart-policy=unless-stopped, stopped"
    expect_rc 0 rm -f web1 db1 new1 hc1 us1
    assert_clean
}

test_ps_bad_filters_are_refused() {
    local bad
    for bad in nokey=1 status=flying exited=x exited=256 "name=(" before=nosuch health=sick restart-policy=sometimes noequals; do
        expect_rc 125 ps --filter "$bad"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "not one line for --filter $bad: $ERR"
        expect_contains "$ERR" "filter" "the error for $bad"
    done
    expect_rc 125 ps --last -1
}

# stop -a, kill -a: every running container; rm -a: every container (a
# running one only with -f); -a with names is a usage error.
test_stop_kill_rm_all() {
    expect_rc 0 run -d --name a1 busybox sleep 1000
    expect_rc 0 run -d --name a2 busybox sleep 1000
    expect_rc 0 run --name a3 busybox true
    expect_rc 0 stop -a -t 0
    expect_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "$(printf '%s\n' "$(json_field a1 .id)" "$(json_field a2 .id)" | sort | tr '\n' ' ')" \
        "stop -a's ids"
    expect_eq "$(ps_names)" "" "running after stop -a"
    expect_rc 0 kill -a
    expect_eq "$OUT" "" "kill -a with nothing running"
    expect_rc 0 start a1
    expect_rc 0 kill -a
    wait_for 30 is_exited a1
    expect_eq "$(exit_code_of a1)" 137 "a1 after kill -a"
    expect_rc 0 run -d --name a4 busybox sleep 1000
    expect_rc 2 rm -a
    expect_eq "$(ps_names --filter status=running)" a4 "the running one stays without -f"
    expect_rc 125 rm -a a4
    expect_rc 125 stop -a a4
    expect_rc 0 rm -a -f
    expect_rc 0 list -q
    expect_eq "$OUT" "" "containers after rm -a -f"
    # stop -a also calls off a restart a container is waiting for.
    expect_rc 0 run -d --name loop --restart always busybox sh -c 'exit 3'
    wait_for 60 waiting_to_restart loop
    expect_rc 0 stop -a
    expect_eq "$OUT" "$(json_field loop .id)" "stop -a's ids"
    expect_eq "$(json_field loop '.state | "\(.status) \(.restarting)"')" "exited false" "after stop -a"
    expect_rc 0 rm loop
    assert_clean
}

# rename: the new name leads to it, the old one is free; a running
# container keeps running and its hostname; a taken or invalid name is
# refused with nothing changed; a link a killed rename left is no hold.
test_rename_as_podmans() {
    expect_rc 0 run -d --name r1 busybox sleep 1000
    local id
    id=$(json_field r1 .id)
    expect_rc 0 rename r1 r2
    expect_eq "$OUT" "" "rename's output"
    expect_eq "$(json_field r2 ' | "\(.id) \(.name) \(.status)"')" "$id r2 running" "r2"
    expect_rc 125 inspect r1
    expect_eq "$(ps_names)" r2 "ps"
    expect_rc 0 exec r2 hostname
    expect_eq "$OUT" r1 "the hostname stays"
    expect_rc 0 run -d --name r1 busybox sleep 1000
    expect_rc 125 rename r2 r1
    expect_contains "$ERR" "already in use" "taken"
    expect_rc 125 rename r2 'bad/name'
    expect_eq "$(ps_names)" "r1 r2" "after refused renames"
    expect_rc 1 rename nosuch r3
    expect_eq "$("$MINIRT" events --since 1m --until 0s --filter event=rename --format json | jq -r .Name)" r2 "rename event"
    expect_rc 0 stop -t 0 r2
    expect_rc 0 rename r2 r3
    expect_rc 0 start r3
    expect_eq "$(json_field r3 .status)" running "r3 started"
    # A rename killed after its new link: the old name's link still points
    # at the container, which bears the new name; the old name is free.
    ln -s "$id" "$MINIRT_STORAGE/names/stale"
    expect_rc 0 run -d --name stale busybox sleep 1000
    expect_ne "$(json_field stale .id)" "$id" "a new container took the stale name"
    expect_rc 0 rm -f r1 r3 stale
    # Renamed while it runs: its exit is told under the new name (events,
    # --rm's unlisting, the code `wait` finds after the removal).
    expect_rc 0 run -d --rm --name rm1 busybox sh -c 'echo ready; sleep 1000'
    wait_for 30 log_has rm1 ready
    local rm_id
    rm_id=$(json_field rm1 .id)
    expect_rc 0 rename rm1 rm2
    expect_rc 0 stop -t 0 rm2
    expect_rc 0 wait rm2
    expect_eq "$OUT" 137 "wait by the new name after --rm"
    mr events --since 1m --until 0s --filter event=died --filter container="$rm_id" --format '{{.Name}}'
    expect_eq "$OUT" rm2 "the died event's name"
    [ ! -e "$MINIRT_STORAGE/names/rm2" ] || fail "the new name's link outlived the --rm container"
    assert_clean
}
waiting_to_restart() { [ "$(json_field "$1" .state.restarting)" = true ]; }

# container prune: every container that is not running (a label filter
# narrows it); system prune: those, unused networks, dangling images and
# (--volumes) unused volumes. Without -f both ask, and no answer is no.
test_container_and_system_prune() {
    expect_rc 0 run -d --name pr-up -v pr-used:/u busybox sleep 1000
    expect_rc 0 run --name pr-done -l keep=no busybox true
    expect_rc 0 create --name pr-new busybox true
    expect_rc 0 run --name pr-kept -l keep=yes busybox true
    expect_rc 0 volume create pr-free
    expect_rc 0 network create pr-net
    local done_id
    done_id=$(json_field pr-done .id)
    expect_rc 0 container prune </dev/null
    expect_eq "$(ps_names -a | tr ' ' '\n' | grep -c '^pr-')" 4 "no answer removes nothing"
    expect_rc 0 container prune -f --filter label=keep=no
    expect_eq "$OUT" "$done_id" "prune prints the ids it removed"
    expect_eq "$(ps_names -a)" "pr-kept pr-new pr-up" "prune --filter label=keep=no"
    expect_rc 125 container prune -f --filter name=x
    expect_rc 0 container ls -a --format '{{.Names}}'
    expect_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "pr-kept pr-new pr-up " "container ls"
    expect_rc 0 system prune -f --volumes
    expect_contains "$OUT" "Deleted Containers"
    expect_eq "$(ps_names -a)" pr-up "system prune keeps the running one"
    expect_rc 1 volume exists pr-free
    expect_rc 0 volume exists pr-used
    expect_rc 1 network exists pr-net
    expect_rc 0 rm -f pr-up
    expect_rc 0 volume rm pr-used
    assert_clean
}

# top: the container's processes as it sees them (its PIDs, its users),
# with podman's default columns or the descriptors asked for.
test_top_lists_the_containers_processes() {
    expect_rc 0 run -d --name tp1 -u 65534 busybox sh -c 'sleep 1000 & echo ready; wait'
    wait_for 30 sh -c "'$MINIRT' logs tp1 | grep -q ready"
    mr top tp1
    expect_eq "$(head -n1 <<<"$OUT" | tr -s ' ')" "USER PID PPID %CPU ELAPSED TTY TIME COMMAND" "the default header"
    expect_eq "$(wc -l <<<"$OUT")" 3 "sh and sleep"
    mr top tp1 pid ppid,user comm
    expect_eq "$(tail -n +2 <<<"$OUT" | tr -s ' ' | sort)" "1 0 nobody sh
2 1 nobody sleep" "pid, ppid, user, comm as the container sees them"
    mr top tp1 hpid
    local hpids
    hpids=$(tail -n +2 <<<"$OUT" | tr -d ' ' | sort | tr '\n' ' ')
    expect_eq "$hpids" "$(sort "$(json_field tp1 .state.cgroup)/cgroup.procs" | tr '\n' ' ')" "hpid: the host's PIDs"
    expect_rc 125 top tp1 bogus
    expect_rc 0 stop -t 0 tp1
    expect_rc 125 top tp1
    expect_contains "$ERR" "not running"
    expect_rc 0 rm tp1
    assert_clean
}

# exec -d: returns once the command has started; a helper of its own
# session reaps it; its errors are exec's; -i/-t with it are refused.
test_exec_detached() {
    expect_rc 0 run -d --name exd busybox sleep 1000
    expect_rc 0 exec -d exd sh -c 'echo started >/tmp/mark; exec sleep 1000'
    wait_for 30 "$MINIRT" exec exd test -e /tmp/mark
    mr top exd comm
    expect_eq "$(tail -n +2 <<<"$OUT" | tr -d ' ' | sort | tr '\n' ' ')" "sleep sleep " "the detached command runs beside the container's"
    expect_rc 127 exec -d exd nosuchcommand
    expect_contains "$ERR" nosuchcommand
    expect_rc 125 exec -d -t exd true
    expect_rc 125 exec -di exd true
    expect_rc 0 rm -f exd
    assert_clean
}

# ps -s: the writable layer's size, and the whole root's (virtual).
test_ps_size() {
    expect_rc 0 run --name sz1 busybox sh -c 'head -c 5000 /dev/zero >/big'
    mr ps -a -s --format json
    expect_eq "$(jq '.[0].size_rw' <<<"$OUT")" 5000 "size_rw"
    [ "$(jq '.[0].size_root_fs > 5000' <<<"$OUT")" = true ] || fail "size_root_fs is not above the layer's: $OUT"
    mr ps -a -s --format '{{.Size}}'
    expect_contains "$OUT" "(virtual "
    mr ps -a --format '[{{.Size}}]'
    expect_eq "$OUT" "[]" "no sizes without -s"
    mr ps -a -s
    expect_contains "$(head -n1 <<<"$OUT")" SIZE
    expect_rc 0 rm sz1
    assert_clean
}

# --sort as podman's (ascending by the key; created: oldest first), after
# --last; a damaged container is still a row of every template (empty
# fields), never an error for the whole listing.
test_ps_sort_and_a_damaged_row() {
    local n
    for n in b c a; do
        expect_rc 0 create --name "$n" busybox sh -c "head -c 5000 /dev/zero >/f$n"
    done
    expect_rc 0 start -a a
    mr ps -a --format '{{.Names}}'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "a c b " "default order: newest first"
    mr ps -a --sort names --format '{{.Names}}'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "a b c " "--sort names"
    mr ps -a --sort created --format '{{.Names}}'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "b c a " "--sort created"
    mr ps -a --sort status --format '{{.Names}} {{.State}}'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "c created b created a exited " "--sort status"
    mr ps -a -n 2 --sort created --format '{{.Names}}'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "c a " "--last, then --sort"
    mr ps -a --sort size --format '{{.Names}}'
    expect_eq "$(tr '\n' ' ' <<<"$OUT")" "c b a " "--sort size: a, the one run, is the largest"
    expect_rc 125 ps --sort bogus
    expect_eq "$ERR" 'minirt: invalid --sort "bogus": use command, created, id, image, names, runningfor, size or status' "bad key"
    local id
    id=$(json_field b .id)
    printf 'garbage' >"$MINIRT_STORAGE/containers/$id/minirt.json"
    printf 'garbage' >"$MINIRT_ROOT/$id/state.json"
    expect_rc 0 ps -a --sort names --format '{{.Names}}|{{.Image}}|{{.Labels}}|{{.State}}'
    expect_contains "$OUT" "?||map[]|error" "the damaged row"
    expect_eq "$(wc -l <<<"$OUT")" 3 "rows"
    expect_rc 0 rm -f -a
    assert_clean
}
