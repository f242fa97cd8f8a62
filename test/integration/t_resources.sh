# shellcheck shell=bash
# Resource flags on this host. Limits need cgroup v2 controllers; where the
# host's v2 hierarchy lacks one (hybrid mode), the flag must be refused with
# the controller named and nothing created. The limits themselves are proven
# in the VM suite (test/vm/tests/cgroup_*.sh).

v2_has() {
    local cg2
    cg2=$(cgroup2_mount)
    grep -qw "$1" "$cg2/cgroup.controllers"
}

test_limits_need_their_controller() {
    local flags=("--mem 64M:memory:memory.max:67108864" "--mem-soft 32M:memory:memory.high:33554432"
                 "--cpus 0.5:cpu:cpu.max:50000 100000" "--cpu-weight 300:cpu:cpu.weight:300"
                 "--pids-limit 20:pids:pids.max:20" "--cpuset-cpus 0:cpuset:cpuset.cpus:0"
                 "--memory 64M:memory:memory.max:67108864" "--memory-reservation 32M:memory:memory.low:33554432"
                 "--cpu-shares 512:cpu:cpu.weight:20" "--cpuset-mems 0:cpuset:cpuset.mems:0")
    local f flag value ctrl file want
    for f in "${flags[@]}"; do
        IFS=: read -r flag ctrl file want <<<"$f"
        value=${flag#* }
        flag=${flag%% *}
        if v2_has "$ctrl"; then
            expect_rc 0 run -d --name lim "$flag" "$value" busybox sleep 30
            expect_eq "$(cat "$(json_field lim .state.cgroup)/$file")" "$want" "$file for $flag"
            expect_rc 0 rm -f lim
        else
            expect_rc 125 run -d --name lim "$flag" "$value" busybox sleep 30
            expect_contains "$ERR" "$flag"
            expect_contains "$ERR" "\"$ctrl\" controller"
            expect_eq "$(echo "$ERR" | wc -l)" 1 "one-line error"
            [ -z "$(ls -A "$MINIRT_STORAGE/containers" 2>/dev/null)" ] || fail "$flag: refused run left a container"
        fi
    done
    # A container without limits still runs.
    expect_rc 0 run --rm busybox true
}

test_bad_resource_values_are_refused() {
    local bad
    for bad in "--mem 0" "--mem -1" "--mem abc" "--mem 99999999999999999999G" "--mem 10Q" "--mem 1.5G" \
               "--mem-soft 0" "--cpus 0" "--cpus -1" "--cpus 99" "--cpus x" "--cpu 10" "--cpu abc" \
               "--cpu-weight 0" "--cpu-weight 10001" "--nice 20" "--nice -21" "--cpuset-cpus 99" \
               "--cpuset-cpus a-b" "--pids-limit 0" "--pids-limit -5" "--pin-cpu=99" "--io-write-bps 8:0:0" \
               "--io-write-bps /nonexistent:1M" "--memory-reservation abc" "--cpu-shares 1" "--blkio-weight 5" \
               "--cpuset-mems x" "--memory-swap 10m" "--cpu-period 5000" "--cpu-quota 10"; do
        # shellcheck disable=SC2086
        expect_rc 125 run --rm $bad busybox true
        expect_contains "$ERR" "${bad%%[ =]*}" "error for $bad"
    done
    expect_rc 125 run --rm --cpus 1 --cpu 50000 busybox true
    expect_rc 125 run --rm --mem 10m --memory 10m busybox true
    expect_rc 125 run --rm --cpu-weight 10 --cpu-shares 512 busybox true
    # --pids-limit -1 is no limit: it needs no pids controller.
    expect_rc 0 run --rm --pids-limit -1 busybox true
    [ -z "$(ls -A "$MINIRT_STORAGE/containers" 2>/dev/null)" ] || fail "refused runs left containers"
}

# update: the limits of the cgroup only, refused as run refuses them; the
# writes themselves are proven in the VM suite (cgroup_podman_flags.sh).
test_update_refuses_what_it_cannot_change() {
    expect_rc 0 run -d --name upd busybox sleep 1000
    expect_rc 125 update upd
    expect_contains "$ERR" "give a limit"
    expect_rc 125 update --nice 5 upd
    expect_contains "$ERR" "--nice cannot be changed"
    expect_rc 125 update --cpu-shares 1 upd
    expect_contains "$ERR" "--cpu-shares"
    if ! v2_has pids; then
        expect_rc 125 update --pids-limit 10 upd
        expect_contains "$ERR" "\"pids\" controller"
    fi
    expect_rc 0 rm -f upd
    assert_clean
}

test_nice_and_pin_cpu_apply_and_survive_start() {
    local last=$(($(nproc) - 1))
    expect_rc 0 run --name sched --nice 7 --pin-cpu busybox sh -c 'cut -d" " -f19,41 /proc/self/stat; grep Cpus_allowed_list /proc/self/status'
    expect_eq "$(echo "$OUT" | head -n1)" "7 2" "nice 7 and policy SCHED_RR (2)"
    expect_contains "$OUT" "Cpus_allowed_list:	$last"
    expect_rc 0 start sched
    wait_for 30 is_exited sched
    mr logs sched
    expect_eq "$(echo "$OUT" | grep -c '^7 2$')" 2 "start applies them again"
    expect_rc 0 rm sched
    expect_rc 0 run --rm --pin-cpu=0 busybox grep Cpus_allowed_list /proc/self/status
    expect_contains "$OUT" "Cpus_allowed_list:	0"
}

# --nice is the container's priority against other work: its processes'
# nice, the nice of its autogroup (its own session's), and cpu.weight.nice
# where the group has the cpu controller; exec'd commands get the same.
test_nice_reaches_between_containers() {
    mr run -d --name nc --nice 15 busybox sh -c 'echo ready; exec sleep 1000'
    expect_eq "$RC" 0 "($ERR)"
    wait_for 30 log_has nc ready
    local pid
    pid=$(pid_of nc)
    if [ -e "/proc/$pid/autogroup" ]; then
        expect_contains "$(cat "/proc/$pid/autogroup")" " nice 15" "the container's autogroup"
        expect_ne "$(cut -d' ' -f1 "/proc/$pid/autogroup")" "$(cut -d' ' -f1 /proc/self/autogroup)" "autogroup of its own"
        expect_eq "$(json_field nc .scheduling.autogroup_nice)" 15 "inspect: autogroup_nice"
    fi
    expect_eq "$(json_field nc .scheduling.nice)" 15 "inspect: nice"
    if v2_has cpu; then
        expect_eq "$(cat "$(json_field nc .state.cgroup)/cpu.weight.nice")" 15 "cpu.weight.nice"
        expect_eq "$(json_field nc .scheduling.cpu_weight_nice)" 15 "inspect: cpu_weight_nice"
    fi
    mr exec nc sh -c 'cut -d" " -f19 /proc/self/stat; cat /proc/self/autogroup 2>/dev/null || echo none'
    expect_eq "$(head -n1 <<<"$OUT")" 15 "exec'd command's nice"
    case "$(tail -n1 <<<"$OUT")" in none | *" nice 15") ;; *) fail "exec'd command's autogroup: $OUT" ;; esac
    expect_rc 0 rm -f nc
    expect_rc 125 run --rm --nice 5 --cpu-weight 50 busybox true
    expect_contains "$ERR" "--nice and --cpu-weight"
}

# fz_ticks: the tick lines cpu_hog (fz) has logged.
fz_ticks() { "$MINIRT" logs fz | grep -c tick; }

test_freeze_and_thaw() {
    expect_rc 0 run -d --name fz busybox cpu_hog --seconds 60 --report-ms 100
    wait_for 30 log_has fz tick
    expect_rc 0 freeze fz
    expect_eq "$(status_of fz)" paused
    local cg
    cg=$(json_field fz .state.cgroup)
    expect_eq "$(cat "$cg/cgroup.freeze")" 1
    grep -q '^frozen 1' "$cg/cgroup.events" || fail "cgroup.events does not say frozen"
    mr list
    expect_contains "$OUT" "Paused"
    # Ticks printed before the freeze may still be on their way to the log:
    # count once the shim has logged all it read.
    wait_for 30 shim_drained "$(shim_of fz)"
    local before after
    before=$(fz_ticks)
    # A measurement window, not synchronisation: no tick in 0.6 s, where a
    # running cpu_hog prints six.
    sleep 0.6
    after=$(fz_ticks)
    expect_eq "$after" "$before" "ticks while frozen"
    expect_rc 125 freeze fz
    expect_rc 0 thaw fz
    expect_eq "$(status_of fz)" running
    wait_for 30 eval '[ "$(fz_ticks)" -gt "$before" ]'
    expect_rc 125 unpause fz
    # stop and rm work on a frozen container.
    expect_rc 0 pause fz
    expect_rc 0 stop -t 1 fz
    expect_eq "$(status_of fz)" exited
    expect_rc 0 start fz
    expect_rc 0 freeze fz
    expect_rc 0 rm -f fz
    expect_rc 125 freeze fz
}

# st_started: all three processes of st run, cpu_hog among them.
st_started() {
    local cg=$1 p n=0 hog=0
    while read -r p; do
        n=$((n + 1))
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = cpu_hog ] && hog=1
    done <"$cg/cgroup.procs"
    [ "$n" = 3 ] && [ "$hog" = 1 ]
}

test_stats_reports_cpu_and_pids() {
    expect_rc 0 run -d --name st busybox sh -c 'cpu_hog --seconds 60 & sleep 60; wait'
    wait_for 30 st_started "$(json_field st .state.cgroup)"
    expect_rc 0 stats --no-stream --format json --interval 500 st
    expect_eq "$(echo "$OUT" | jq -r '.[0].name')" st
    expect_eq "$(echo "$OUT" | jq -r '.[0].pids')" 3 "sh, cpu_hog, sleep"
    # Some CPU, at most one CPU's worth: how much a busy process gets
    # depends on what else the machine runs.
    local cpu
    cpu=$(echo "$OUT" | jq -r '.[0].cpu_percent | floor')
    { [ "$cpu" -ge 1 ] && [ "$cpu" -le 110 ]; } || fail "cpu_percent $cpu for one busy process"
    expect_rc 0 stats --no-stream
    expect_contains "$OUT" "st"
    expect_contains "$OUT" "CPU %"
    expect_rc 0 stop -t 0 st
    expect_rc 125 stats --no-stream st
    expect_rc 0 rm st
}
