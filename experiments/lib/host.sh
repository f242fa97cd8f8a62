# shellcheck shell=bash
# Host-side experiments (nice, rr) and helpers, sourced by experiments/run.
# Every experiment writes its raw measurements to $RAW/<name>.csv; analyze.py turns
# them into results/<name>.csv (with the expected values), the tables and the plots.

# Containers of the experiments are named exp-*; they live under their own
# MINIRT_ROOT/MINIRT_STORAGE/MINIRT_CGROUP_PARENT (set by experiments/run).
mr() { "$MINIRT" "$@"; }
ctr_cgroup() { mr inspect "$1" | jq -r '.[0].state.cgroup'; }
ctr_pid() { mr inspect "$1" | jq -r '.[0].pid'; }
cg_usage_us() { sed -n 's/^usage_usec //p' "$1/cpu.stat"; }
# CPU time of one process in ns (first field of /proc/PID/schedstat: sum_exec_runtime)
proc_cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
now_us() { local t; t=$(date +%s%N); echo $((t / 1000)); }
rm_exp_ctrs() {
    local n
    for n in $(mr list --format json 2>/dev/null | jq -r '.[].name | select(startswith("exp-"))'); do
        mr rm -f "$n" >/dev/null 2>&1 || true
    done
}
wait_until() { # wait_until SECS CMD...: poll every 50 ms
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.05
    done
}
usage_positive() { [ "$(cg_usage_us "$1")" -gt 0 ] 2>/dev/null; }

# cpu_work_for SECONDS: the cpu_hog --work that takes SECONDS of CPU on $EXP_CPU alone
# (calibrated by a one-second run there).
cpu_work_for() {
    local line rate
    line=$(taskset -c "$EXP_CPU" "$MINIRT" run --rm --name exp-cal busybox cpu_hog --seconds 1 --report-ms 0 | grep '^total')
    rate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$line")
    [ "${rate:-0}" -gt 0 ] || { echo "calibration of cpu_hog failed: $line" >&2; return 1; }
    echo $((rate * $1))
}

# --- 1. nice ------------------------------------------------------------------------------
# Two cpu_hogs on one CPU (taskset: the host has no cpuset controller in cgroup v2),
# nice 0 against nice N, in two arrangements:
#   containers      two containers, `minirt run --nice 0` and `--nice N`
#   same-container  one container running two cpu_hogs, the second reniced to N from the host
# Row: variant,nice_a,nice_b,cpu_a_us,cpu_b_us,wall_us
exp_nice() {
    local out=$RAW/nice.csv n ca cb a0 b0 a1 b1 t0 t1 pids pa pb hold
    hold=$((NICE_SECONDS + 20))
    echo "variant,nice_a,nice_b,cpu_a_us,cpu_b_us,wall_us" >"$out"
    for n in $NICE_POINTS; do
        # two containers
        taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-na --nice 0 busybox cpu_hog --seconds "$hold" --report-ms 0 >/dev/null
        taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-nb --nice "$n" busybox cpu_hog --seconds "$hold" --report-ms 0 >/dev/null
        ca=$(ctr_cgroup exp-na)
        cb=$(ctr_cgroup exp-nb)
        wait_until 10 usage_positive "$ca"
        wait_until 10 usage_positive "$cb"
        sleep 0.5
        a0=$(cg_usage_us "$ca"); b0=$(cg_usage_us "$cb"); t0=$(now_us)
        sleep "$NICE_SECONDS"
        a1=$(cg_usage_us "$ca"); b1=$(cg_usage_us "$cb"); t1=$(now_us)
        echo "containers,0,$n,$((a1 - a0)),$((b1 - b0)),$((t1 - t0))" | tee -a "$out"
        mr rm -f exp-na exp-nb >/dev/null
        # one container, two processes
        taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-ns busybox sh -c \
            "cpu_hog --seconds $hold --report-ms 0 & cpu_hog --seconds $hold --report-ms 0 & wait" >/dev/null
        ca=$(ctr_cgroup exp-ns)
        pids=()
        wait_until 10 two_hogs "$ca"
        read -r pa pb <<<"${pids[*]}"
        renice -n "$n" -p "$pb" >/dev/null
        sleep 0.5
        a0=$(proc_cpu_ns "$pa"); b0=$(proc_cpu_ns "$pb"); t0=$(now_us)
        sleep "$NICE_SECONDS"
        a1=$(proc_cpu_ns "$pa"); b1=$(proc_cpu_ns "$pb"); t1=$(now_us)
        echo "same-container,0,$n,$(((a1 - a0) / 1000)),$(((b1 - b0) / 1000)),$((t1 - t0))" | tee -a "$out"
        mr rm -f exp-ns >/dev/null
    done
    exp_nice_seed
}
# The seeds' own scenario: two containers started together on one CPU, each
# with SEED_SECONDS of CPU work, one at nice 0 and one at nice 15: when does
# each finish? Row (nice_seed.csv): nice,work,solo_ms,elapsed_ms
exp_nice_seed() {
    local out=$RAW/nice_seed.csv line work solo n
    echo "nice,work,solo_ms,elapsed_ms" >"$out"
    work=$(cpu_work_for "$SEED_SECONDS") || return 1
    solo=$((SEED_SECONDS * 1000))
    taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-s0 --nice 0 busybox cpu_hog --work "$work" --report-ms 0 >/dev/null
    taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-s15 --nice 15 busybox cpu_hog --work "$work" --report-ms 0 >/dev/null
    for n in 0 15; do
        wait_exited "exp-s$n" $((4 * SEED_SECONDS + 30))
        line=$(mr logs "exp-s$n" | grep '^total')
        echo "$n,$work,$solo,$(sed -n 's/.* elapsed_ms=\([0-9]*\).*/\1/p' <<<"$line")" | tee -a "$out"
    done
    mr rm -f exp-s0 exp-s15 >/dev/null
}
# two_hogs CGROUP: sets pids=(the two cpu_hog PIDs of the cgroup), true once both run
two_hogs() {
    local p
    pids=()
    while read -r p; do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = cpu_hog ] && pids+=("$p")
    done <"$1/cgroup.procs"
    [ "${#pids[@]}" -eq 2 ]
}

# --- 5. SCHED_RR (--pin-cpu) against CFS ----------------------------------------------------
# Everything on CPU $EXP_CPU. A fixed amount of work W (cpu_hog --work, about $RR_SECONDS
# of CPU alone); scenarios:
#   alone   A alone (CFS)
#   cfs     A and B (both CFS, same nice) and io_hog (CFS)
#   rr      A with --pin-cpu (SCHED_RR prio 10), B and io_hog CFS
# Row: scenario,workload,policy,work,elapsed_ms,cpu_ms,b_work_while_a,io_p50_us,io_p99_us,io_max_us
exp_rr() {
    local out=$RAW/rr.csv work sc iosecs
    echo "scenario,workload,policy,work,elapsed_ms,cpu_ms,b_work_while_a,io_p50_us,io_p99_us,io_max_us" >"$out"
    work=$(cpu_work_for "$RR_SECONDS") || return 1
    iosecs=$((3 * RR_SECONDS + 1))
    for sc in alone cfs rr; do
        if [ "$sc" != alone ]; then
            taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-io busybox io_hog --seconds "$iosecs" --period-ms 10 --burst-us 500 >/dev/null
            taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-b busybox cpu_hog --work "$work" --report-ms 100 >/dev/null
            sleep 0.2
        fi
        if [ "$sc" = rr ]; then
            "$MINIRT" run -d --name exp-a --pin-cpu="$EXP_CPU" busybox cpu_hog --work "$work" --report-ms 100 >/dev/null
        else
            taskset -c "$EXP_CPU" "$MINIRT" run -d --name exp-a busybox cpu_hog --work "$work" --report-ms 100 >/dev/null
        fi
        wait_exited exp-a $((10 * RR_SECONDS + 30))
        if [ "$sc" = alone ]; then
            rr_row alone A cfs "$work" exp-a "" "" | tee -a "$out"
        else
            wait_exited exp-b $((10 * RR_SECONDS + 30))
            wait_exited exp-io $((iosecs + 30))
            local pol=cfs
            [ "$sc" = rr ] && pol=rr
            rr_row "$sc" A "$pol" "$work" exp-a exp-b exp-io | tee -a "$out"
            rr_row "$sc" B cfs "$work" exp-b "" exp-io | tee -a "$out"
        fi
        mr rm -f exp-a exp-b exp-io >/dev/null 2>&1 || true
    done
}
wait_exited() { # wait_exited NAME SECS
    local end=$((SECONDS + $2))
    until [ "$(mr inspect "$1" | jq -r '.[0].status')" = exited ]; do
        if [ "$SECONDS" -ge "$end" ]; then echo "rr: $1 did not finish in $2 s" >&2; return 1; fi
        sleep 0.2
    done
}
# rr_row SCENARIO WORKLOAD POLICY WORK CTR [OTHER_CTR] [IO_CTR]
rr_row() {
    local total el cpu bwork="" io p50="" p99="" mx=""
    total=$(mr logs "$5" | grep '^total')
    el=$(sed -n 's/.* elapsed_ms=\([0-9]*\).*/\1/p' <<<"$total")
    cpu=$(sed -n 's/.* cpu_ms=\([0-9]*\).*/\1/p' <<<"$total")
    if [ -n "$6" ]; then
        # work B had done when A finished: its last tick at or before A's elapsed time
        bwork=$(mr logs "$6" | awk -v lim="$el" '/^tick/ { split($2, t, "="); split($3, w, "=");
            if (t[2] + 0 <= lim + 0) v = w[2] } END { print v + 0 }')
    fi
    if [ -n "$7" ]; then
        io=$(mr logs "$7" | grep '^latency_us' | tail -n1)
        p50=$(sed -n 's/.* p50=\([0-9]*\).*/\1/p' <<<"$io")
        p99=$(sed -n 's/.* p99=\([0-9]*\).*/\1/p' <<<"$io")
        mx=$(sed -n 's/.* max=\([0-9]*\).*/\1/p' <<<"$io")
    fi
    echo "$1,$2,$3,$4,$el,$cpu,$bwork,$p50,$p99,$mx"
}
