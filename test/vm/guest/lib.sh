# shellcheck shell=sh
# /opt/vmtests/lib.sh: helpers for VM test scripts (POSIX sh, busybox ash).
# Use:  . "$VMTEST_LIB"     (VMTEST_LIB=/opt/vmtests/lib.sh)
#
#   fail MSG...                 print "FAIL: MSG" and exit 1
#   skip MSG...                 print "SKIP: MSG" and exit 77 (the host reports "SKIP name: MSG")
#   info MSG...                 print "# MSG"
#   need_minirt                 skip unless $MINIRT is an executable
#   need_module                 skip unless $VMTEST_MODULE (monitor.ko) was given
#   expect_eq WANT GOT [MSG]    fail unless the strings are equal
#   expect_ne A B [MSG]         fail if the strings are equal
#   expect_contains HAY NEEDLE [MSG]
#   expect_file FILE            fail unless FILE exists
#   run CMD...                  run CMD; on non-zero exit fail with its output
#   expect_rc RC CMD...         run CMD; fail unless its exit status is RC; its output is in $OUT
#   wait_for COND TIMEOUT [MSG] eval COND every 0.1 s until true; fail after TIMEOUT seconds
#   cg_path                     the cgroup v2 mount point (from /proc/self/mountinfo)

# The guest's busybox ash runs its own applets in preference to PATH: a real tool shipped
# under the name of an applet must be called by its path or through a function like this.
# iproute2's ip (shipped when the host has it): busybox ip cannot name a veth's peer.
if [ -x /usr/local/sbin/ip ]; then
	ip() { /usr/local/sbin/ip "$@"; }
fi

info() { echo "# $*"; }

fail() {
	echo "FAIL: $*"
	exit 1
}

# A skip is its own status (77), never a pass: the guest reports it as
# @@VMTEST SKIP, the host as "SKIP name: MSG".
skip() {
	echo "SKIP: $*"
	exit 77
}

need_minirt() {
	[ -x "${MINIRT:-/usr/local/bin/minirt}" ] || skip "no minirt binary in the guest (run test/vm/run --minirt PATH)"
}

need_module() {
	[ -f "${VMTEST_MODULE:-/nonexistent}" ] || skip "no monitor.ko in the guest (run test/vm/run --module PATH)"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: expected '$1', got '$2'"
}

expect_ne() {
	[ "$1" != "$2" ] || fail "${3:-values are equal}: both '$1'"
}

expect_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "${3:-missing text}: '$2' not in '$1'" ;;
	esac
}

expect_file() {
	[ -e "$1" ] || fail "expected file $1"
}

run() {
	OUT=$("$@" 2>&1) || {
		_rc=$?
		printf '%s\n' "$OUT"
		fail "command failed (exit $_rc): $*"
	}
}

expect_rc() {
	_want=$1
	shift
	_rc=0
	OUT=$("$@" 2>&1) || _rc=$?
	if [ "$_rc" != "$_want" ]; then
		printf '%s\n' "$OUT"
		fail "expected exit $_want, got $_rc: $*"
	fi
}

wait_for() {
	_cond=$1
	_ticks=$(($2 * 10))
	while ! eval "$_cond"; do
		_ticks=$((_ticks - 1))
		[ "$_ticks" -gt 0 ] || fail "${3:-timed out} after $2 s waiting for: $_cond"
		sleep 0.1
	done
}

cg_path() {
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo
}

# jtop KEY: a top-level value of `minirt inspect NAME` (in $OUT): the first
# element's keys are indented by exactly four spaces; nested ones by more.
jtop() { printf '%s\n' "$OUT" | sed -n "s/^    \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n1; }
# cgfile ID FILE: a file of container ID's cgroup (needs $cg from cg_path).
cgfile() { cat "${cg:?set cg=$(cg_path) first}/minirt/$1/$2" 2>/dev/null; }
