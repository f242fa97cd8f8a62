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
#                               (a ceiling against hangs: generous, 30 s or more under TCG)
#   blocked_in TID CALL         thread TID sleeps in system call CALL (epoll_wait, futex, poll)
#   shim_drained SHIM           the minirt shim SHIM has logged all the output it has read
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

# blocked_in TID CALL: thread TID sleeps inside system call CALL. The kernel
# names the call in /proc/TID/syscall only while the thread is blocked in it.
# x86_64 numbers (the guest's), with the newer variants a C library may call.
blocked_in() {
	_nr=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null) || return 1
	case $2 in
	poll) _want=" 7 271 " ;;
	epoll_wait) _want=" 232 281 441 " ;;
	futex) _want=" 202 " ;;
	*) fail "blocked_in: unknown system call $2" ;;
	esac
	case $_want in
	*" $_nr "*) return 0 ;;
	esac
	return 1
}

# shim_drained SHIM: the shim has logged all the output it has read: its event loop
# sleeps in epoll_wait (no pipe it watches has data left) and its log writer thread, if
# it has one, waits for work (futex). Once the container can write no more (frozen,
# exited), its log is complete.
shim_drained() {
	for _t in /proc/"$1"/task/*; do
		_tid=${_t##*/}
		if [ "$_tid" = "$1" ]; then
			blocked_in "$1/task/$_tid" epoll_wait || return 1
		else
			blocked_in "$1/task/$_tid" futex || return 1
		fi
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
