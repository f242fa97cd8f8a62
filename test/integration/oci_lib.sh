# shellcheck shell=bash
# What the minirt oci tests share: the runc-style command line with the
# test's own --root, and bundles made from the busybox image.

OCI_ROOT=$TESTDIR/oci
# Engines name the cgroup parent (cgroupsPath) and own it; ours is the
# test's, removed when the test ends if nothing was left in it.
remove_cg_parent() { rmdir "$(test_cg_parent)" 2>/dev/null || true; }
trap remove_cg_parent EXIT

# oci ARGS: minirt oci with this test's --root; output in $OUT/$ERR/$RC.
oci() { mr oci --root "$OCI_ROOT" "$@"; }
oci_ok() {
    oci "$@"
    [ "$RC" = 0 ] || fail "minirt oci $* exited $RC: $ERR"
}
# The container keeps create's stdio (as with runc), so create and exec
# --detach never run under $(...): the container would hold its pipe open.
oci_bg() {
    set +e
    "$MINIRT" oci --root "$OCI_ROOT" "$@" >>"$TESTDIR/container.out" 2>"$TESTDIR/oci.err"
    RC=$?
    set -e
    ERR=$(cat "$TESTDIR/oci.err")
}
oci_bg_ok() {
    oci_bg "$@"
    [ "$RC" = 0 ] || fail "minirt oci $* exited $RC: $ERR"
}

# bundle NAME [JQ-FILTER]: a bundle at $TESTDIR/NAME from the busybox image,
# with the default spec edited by the filter; its cgroup under this test's parent.
bundle() {
    local dir=$TESTDIR/$1 filter=${2:-.}
    mkdir -p "$dir"
    [ -d "$dir/rootfs" ] || cp -a "$MINIRT_STORAGE/images/busybox/rootfs" "$dir/rootfs"
    rm -f "$dir/config.json"
    "$MINIRT" oci spec --bundle "$dir"
    jq --arg cg "/$MINIRT_CGROUP_PARENT/$1" '.linux.cgroupsPath = $cg | .root.readonly = false' "$dir/config.json" |
        jq "$filter" >"$dir/config.new"
    mv "$dir/config.new" "$dir/config.json"
}

cg_path() { echo "$(test_cg_parent)/$1"; }
# cg_procs_are NAME N: NAME's cgroup holds N processes. A function, so that
# wait_for reads cgroup.procs on every try (a "$(...)" in wait_for's
# arguments is read once, before the first).
cg_procs_are() { [ "$(wc -l <"$(cg_path "$1")/cgroup.procs")" = "$2" ]; }
state_of() { "$MINIRT" oci --root "$OCI_ROOT" state "$1" | jq -r .status; }
oci_pid() { "$MINIRT" oci --root "$OCI_ROOT" state "$1" | jq -r .pid; }
is_stopped() { [ "$(state_of "$1")" = stopped ]; }

# Nothing of a failed or deleted container may remain.
expect_no_trace() {
    [ ! -e "$OCI_ROOT/$1" ] || fail "state of $1 left in $OCI_ROOT: $(ls "$OCI_ROOT/$1")"
    [ ! -e "$(cg_path "$1")" ] || fail "cgroup of $1 left behind"
}
