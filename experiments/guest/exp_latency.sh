# shellcheck shell=sh source-path=SCRIPTDIR
# Experiment "latency": io_hog (sleep mode: 500 us of work every 10 ms, latency = wake-up
# time minus deadline) on CPU 0, alone and next to two cpu_hog containers on the same
# CPU: at the same priority, at --nice 19, and at --cpu-weight 1.
# Row: scenario,p50_us,p90_us,p99_us,max_us,samples
# vmtest-timeout: 400
# shellcheck source=../../test/vm/guest/lib.sh
. "$VMTEST_LIB"
# shellcheck source=common.sh
. /opt/extra/expguest/common.sh
need_minirt
trap cleanup_ctrs EXIT
hold=$((LATENCY_SECONDS + 30))
for sc in alone same nice19 weight1; do
	case $sc in
		alone) flags="" ;;
		same) flags="--cpu-weight 100" ;;
		nice19) flags="--nice 19" ;;
		weight1) flags="--cpu-weight 1" ;;
	esac
	if [ "$sc" != alone ]; then
		for h in 1 2; do
			# shellcheck disable=SC2086 # $flags is a list of words
			run "$MINIRT" run -d --name "exp-h$h" --cpuset-cpus 0 $flags busybox cpu_hog --seconds "$hold" --report-ms 0
		done
		sleep 1
	fi
	run "$MINIRT" run --name exp-io --cpuset-cpus 0 busybox io_hog --seconds "$LATENCY_SECONDS" --period-ms 10 --burst-us 500
	line=$(printf '%s\n' "$OUT" | grep '^latency_us' | tail -n1)
	[ -n "$line" ] || fail "no latency line from io_hog: $OUT"
	# latency_us p50=.. p90=.. p99=.. max=.. samples=..
	row=$(printf '%s\n' "$line" | sed 's/^latency_us p50=\([0-9]*\) p90=\([0-9]*\) p99=\([0-9]*\) max=\([0-9]*\) samples=\([0-9]*\).*/\1,\2,\3,\4,\5/')
	emit latency "$sc,$row"
	run "$MINIRT" rm -f exp-io
	"$MINIRT" rm -f exp-h1 exp-h2 >/dev/null 2>&1 || true
done
