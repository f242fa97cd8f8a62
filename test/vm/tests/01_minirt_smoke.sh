# shellcheck shell=sh source-path=SCRIPTDIR
# minirt runs in the guest (its shared libraries were shipped along).
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
run "$MINIRT" --version
info "$OUT"
[ -n "$OUT" ] || fail "minirt --version printed nothing"
