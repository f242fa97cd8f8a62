# shellcheck shell=bash
# cleanup.sh: exits 0 on a clean host, after normal runs and after crashes,
# removes everything minirt made for its root and storage (and only that),
# and names what it could not remove.

# The checkout's, whichever build dir MINIRT is in (build/, build-asan/).
cl_script() { echo "${MINIRT%/*/runtime/minirt}/cleanup.sh"; }
cl_run() { # ARGS...: cleanup.sh's output in $OUT, status in $RC
    set +e
    OUT=$("$(cl_script)" "$@" 2>&1)
    RC=$?
    set -e
}
cl_our_shims() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = minirt-shim ] || continue
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q " $MINIRT_ROOT " && echo "${p#/proc/}"
    done
    return 0
}

test_cleanup_on_a_clean_host() {
    cl_run
    expect_eq "$RC" 0 "cleanup.sh on a clean host ($OUT)"
    expect_contains "$OUT" "cleanup.sh: removed 0 containers"
    expect_contains "$OUT" "cleanup.sh: done"
    cl_run
    expect_eq "$RC" 0 "cleanup.sh twice ($OUT)"
}

test_cleanup_after_normal_runs_keeps_images() {
    expect_rc 0 run -d --name a busybox sleep 1000
    expect_rc 0 run --name b busybox true
    cl_run --dry-run
    expect_eq "$RC" 0 "--dry-run ($OUT)"
    expect_contains "$OUT" "would remove 2 containers"
    is_running a || fail "--dry-run stopped a container"
    cl_run
    expect_eq "$RC" 0 "cleanup.sh ($OUT)"
    expect_contains "$OUT" "removed 2 containers"
    [ -z "$(leftovers)" ] || fail "left: $(leftovers)"
    [ ! -d "$(test_cg_parent)" ] || fail "cgroup parent $(test_cg_parent) left"
    [ -e "$MINIRT_STORAGE/images/busybox" ] || fail "images removed without --images"
}

# kill -9 of shims and of CLIs in the middle of runs, and a lost /run.
test_cleanup_after_crashes() {
    local i cli shim
    for i in 1 2 3; do expect_rc 0 run -d --name "c$i" busybox sleep 1000; done
    shim=$(shim_of c1)
    kill -9 "$shim"
    for i in 1 2 3 4; do
        "$MINIRT" run --name "k$i" busybox sleep 1000 >/dev/null 2>&1 &
        cli=$!
        wait_for 30 test -L "$MINIRT_STORAGE/names/k$i"
        kill -9 "$cli" 2>/dev/null || true
        wait "$cli" 2>/dev/null || true
    done
    # A lost /run under running containers: only the cgroup and the shim
    # know of c2 and c3 now. (A shim of a killed CLI may still be writing
    # there: rm races it, and tries again.)
    for i in 1 2 3 4 5; do rm -rf "${MINIRT_ROOT:?}" 2>/dev/null && break; done
    [ ! -e "$MINIRT_ROOT" ] || rm -rf "${MINIRT_ROOT:?}"
    cl_run
    expect_eq "$RC" 0 "cleanup.sh after crashes ($OUT)"
    expect_contains "$OUT" "cleanup.sh: done"
    [ -z "$(cl_our_shims)" ] || fail "shims left: $(cl_our_shims)"
    [ ! -d "$(test_cg_parent)" ] || fail "cgroups left: $(find "$(test_cg_parent)" -mindepth 1 -type d)"
    [ -z "$(leftovers)" ] || fail "left: $(leftovers)"
    mr list -a -q
    expect_eq "$OUT" "" "containers after cleanup"
}

# MINIRT_ROOT, MINIRT_STORAGE and MINIRT_CGROUP_PARENT confine it: another
# set's container keeps running, also when both share one cgroup parent.
test_cleanup_touches_only_its_own() {
    local other="$TESTDIR/other" ocg="$MINIRT_CGROUP_PARENT-other"
    mkdir -p "$other/lib"
    ln -s "$MINIRT_STORAGE/images" "$other/lib/images"
    MINIRT_ROOT=$other/run MINIRT_STORAGE=$other/lib \
        "$MINIRT" run -d --name shared busybox sleep 1000 >/dev/null
    MINIRT_ROOT=$other/run MINIRT_STORAGE=$other/lib MINIRT_CGROUP_PARENT=$ocg \
        "$MINIRT" run -d --name keep busybox sleep 1000 >/dev/null
    expect_rc 0 run -d --name mine busybox sleep 1000
    cl_run
    expect_eq "$RC" 0 "cleanup.sh ($OUT)"
    expect_contains "$OUT" "removed 1 containers"
    local st
    st=$(MINIRT_ROOT=$other/run MINIRT_STORAGE=$other/lib MINIRT_CGROUP_PARENT=$ocg "$MINIRT" inspect keep | jq -r '.[0].status')
    expect_eq "$st" running "the other set's container"
    st=$(MINIRT_ROOT=$other/run MINIRT_STORAGE=$other/lib "$MINIRT" inspect shared | jq -r '.[0].status')
    expect_eq "$st" running "the other set's container in the same cgroup parent"
    MINIRT_ROOT=$other/run MINIRT_STORAGE=$other/lib "$(cl_script)" >/dev/null
    MINIRT_ROOT=$other/run MINIRT_STORAGE=$other/lib MINIRT_CGROUP_PARENT=$ocg \
        "$(cl_script)" >/dev/null
    [ ! -d "$(cgroup2_mount)/$ocg" ] || fail "the other set's cgroup parent stayed"
    # Every parent this storage used is swept, not only the current one.
    MINIRT_CGROUP_PARENT=$ocg-2 "$MINIRT" run -d --name p2 busybox sleep 1000 >/dev/null
    grep -qx "$ocg-2" "$MINIRT_STORAGE/cgroup-parents" || fail "parent $ocg-2 not recorded"
    MINIRT_CGROUP_PARENT=$ocg-2 "$MINIRT" inspect p2 >/dev/null
    kill -9 "$(MINIRT_CGROUP_PARENT=$ocg-2 json_field p2 .state.shim_pid)"
    cl_run
    expect_eq "$RC" 0 "cleanup.sh ($OUT)"
    [ ! -d "$(cgroup2_mount)/$ocg-2" ] || fail "a recorded parent's cgroups stayed"
}

test_cleanup_refuses_bad_arguments() {
    cl_run --bogus
    expect_eq "$RC" 2 "unknown argument"
    MINIRT_ROOT=/ cl_run
    expect_eq "$RC" 2 "MINIRT_ROOT=/"
    # A parent that is not below the v2 root is never swept, nor accepted.
    printf '%s\n' . / ../x a/../.. >>"$MINIRT_STORAGE/cgroup-parents"
    cl_run
    expect_eq "$RC" 0 "cleanup.sh with hostile cgroup-parents ($OUT)"
    local bad
    for bad in . / ../x a/../b a//b; do
        MINIRT_CGROUP_PARENT=$bad mr run --rm busybox true
        expect_eq "$RC" 125 "MINIRT_CGROUP_PARENT=$bad"
    done
    cl_run --help
    expect_eq "$RC" 0
    expect_contains "$OUT" "--dry-run"
}
