# shellcheck shell=sh source-path=SCRIPTDIR
# podman's resource flags reach the cgroup files as podman's do: --memory,
# --memory-swap (memory and swap together), --memory-reservation
# (memory.low), --cpu-shares (cpu.weight by podman's map), --cpu-quota and
# --cpu-period, --cpuset-mems, --blkio-weight (io.weight), --pids-limit -1;
# and `minirt update` changes a running container's limits in place and
# keeps them for its next start.
# vmtest-timeout: 60
# shellcheck source=../guest/lib.sh
. "$VMTEST_LIB"
need_minirt
cg=$(cg_path)
# A failed check must not leave containers (their shims outlive the test) to later tests.
trap '"$MINIRT" rm -f pflags >/dev/null 2>&1' EXIT

run "$MINIRT" run -d --name pflags --memory 100m --memory-swap 200m --memory-reservation 50m \
	--cpu-shares 512 --cpu-quota 50000 --cpu-period 200000 --cpuset-mems 0 --pids-limit -1 busybox sleep 600
id=$OUT
expect_eq 104857600 "$(cgfile "$id" memory.max)" "memory.max for --memory 100m"
expect_eq 104857600 "$(cgfile "$id" memory.swap.max)" "memory.swap.max for --memory-swap 200m (200m - 100m)"
expect_eq 52428800 "$(cgfile "$id" memory.low)" "memory.low for --memory-reservation 50m"
expect_eq 20 "$(cgfile "$id" cpu.weight)" "cpu.weight for --cpu-shares 512"
expect_eq "50000 200000" "$(cgfile "$id" cpu.max)" "cpu.max for --cpu-quota 50000 --cpu-period 200000"
expect_eq 0 "$(cgfile "$id" cpuset.mems)" "cpuset.mems for --cpuset-mems 0"
expect_eq max "$(cgfile "$id" pids.max)" "pids.max for --pids-limit -1"
run "$MINIRT" inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}}' pflags
expect_eq "104857600 209715200 52428800" "$OUT" "inspect's HostConfig"

# update: in place, while it runs.
run "$MINIRT" update --memory 300m --memory-reservation 60m --cpus 0.5 --pids-limit 50 --cpu-shares 1024 pflags
expect_eq "$id" "$OUT" "update prints the id"
expect_eq 314572800 "$(cgfile "$id" memory.max)" "memory.max after update --memory 300m"
expect_eq 62914560 "$(cgfile "$id" memory.low)" "memory.low after update"
expect_eq "50000 100000" "$(cgfile "$id" cpu.max)" "cpu.max after update --cpus 0.5"
expect_eq 50 "$(cgfile "$id" pids.max)" "pids.max after update --pids-limit 50"
expect_eq 39 "$(cgfile "$id" cpu.weight)" "cpu.weight after update --cpu-shares 1024"
# Kept: the next start has them.
run "$MINIRT" stop -t 0 pflags
run "$MINIRT" start pflags
expect_eq 314572800 "$(cgfile "$id" memory.max)" "memory.max after a restart"
expect_eq 50 "$(cgfile "$id" pids.max)" "pids.max after a restart"
# io.weight is blk-iocost's: where the kernel has it, --blkio-weight's
# 10..1000 lands on its 1..10000 by runc's map.
if [ -e "$cg/minirt/$id/io.weight" ]; then
	run "$MINIRT" update --blkio-weight 500 pflags
	expect_eq "default 4950" "$(cgfile "$id" io.weight)" "io.weight after update --blkio-weight 500"
else
	info "no io.weight in this kernel: --blkio-weight not checked"
fi
run "$MINIRT" update --pids-limit -1 pflags
expect_eq max "$(cgfile "$id" pids.max)" "update --pids-limit -1 lifts the limit"
expect_rc 125 "$MINIRT" update --nice 5 pflags
expect_rc 125 "$MINIRT" update pflags
run "$MINIRT" rm -f pflags
