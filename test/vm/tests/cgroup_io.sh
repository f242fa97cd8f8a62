# shellcheck shell=sh source-path=SCRIPTDIR
# --io-write-bps DEV:RATE sets io.max for that block device: 4 MiB written with O_DIRECT at
# 1 MiB/s takes at least 3 s, against well under that without the limit. The device is the
# harness's scratch disk (test/vm/run --disk, $VMTEST_DISK), formatted ext2 and mounted on
# a shared mount point the containers get through --propagate-mount.
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
[ -b "${VMTEST_DISK:-}" ] || skip "no scratch disk (test/vm/run --disk SIZE)"
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f iolim iorules >/dev/null 2>&1; umount "$mnt" 2>/dev/null' EXIT
dev=$VMTEST_DISK
majmin=$(cat "/sys/class/block/${dev##*/}/dev")
info "scratch disk $dev ($majmin)"

mnt=/mnt/vmtest-io
mkdir -p "$mnt"
mke2fs -q -F "$dev" >/dev/null 2>&1 || fail "mke2fs $dev failed"
mount -t ext2 "$dev" "$mnt" || fail "cannot mount $dev"
mount --make-shared "$mnt" || fail "cannot make $mnt a shared mount"

# wait_exit NAME SECS: wait until inspect shows the container exited
wait_exit() {
	wait_for "\"$MINIRT\" inspect \"$1\" | grep -q '^    \"status\": \"exited\"'" "$2" "$1 to exit"
}
elapsed_of() { printf '%s\n' "$1" | sed -n 's/^write .*elapsed_ms=\([0-9]*\).*/\1/p'; }

# Limited: io.max has the rule, the writer is throttled.
run "$MINIRT" run -d --name iolim --io-write-bps "$dev:1M" --propagate-mount "$mnt" \
	busybox io_hog --write "$mnt/limited" --bytes 4M --direct
id=$OUT
iomax=$(cat "$cg/minirt/$id/io.max" 2>/dev/null)
info "io.max: $iomax"
expect_contains "$iomax" "$majmin " "io.max has a rule for $dev"
expect_contains "$iomax" "wbps=1048576" "io.max write limit"
wait_exit iolim 30
run "$MINIRT" logs iolim
lim_ms=$(elapsed_of "$OUT")
[ -n "$lim_ms" ] || fail "io_hog printed no write line: $OUT"
info "4 MiB O_DIRECT at --io-write-bps 1M: $lim_ms ms"
expect_rc 0 "$MINIRT" inspect iolim
expect_contains "$OUT" '"exit_code": 0,' "io_hog exit code"
[ "$lim_ms" -ge 3000 ] || fail "4 MiB at 1 MiB/s took only $lim_ms ms, want >= 3000"
[ -s "$mnt/limited" ] || fail "the container's writes did not land on $dev"
run "$MINIRT" rm iolim

# Unlimited: much faster.
expect_rc 0 "$MINIRT" run --rm --propagate-mount "$mnt" busybox io_hog --write "$mnt/free" --bytes 4M --direct
free_ms=$(elapsed_of "$OUT")
info "4 MiB O_DIRECT without a limit: $free_ms ms"
[ -n "$free_ms" ] || fail "io_hog printed no write line: $OUT"
# A control, compared with the limited run rather than with a wall-clock bound that a
# loaded host can miss: without the limit, the same write is at least twice as fast.
[ $((free_ms * 2)) -le "$lim_ms" ] ||
	fail "unlimited 4 MiB took $free_ms ms against $lim_ms ms limited: the throttling test proves nothing"

# MAJ:MIN form and the read limit.
run "$MINIRT" run -d --name iorules --io-read-bps "$majmin:2M" --io-write-bps "$majmin:512K" busybox sleep 60
iomax=$(cat "$cg/minirt/$OUT/io.max" 2>/dev/null)
info "io.max: $iomax"
expect_contains "$iomax" "$majmin " "io.max has a rule for $majmin"
expect_contains "$iomax" "rbps=2097152" "io.max read limit"
expect_contains "$iomax" "wbps=524288" "io.max write limit"
run "$MINIRT" rm -f iorules

umount "$mnt" || fail "cannot unmount $mnt (a container mount left behind?)"
