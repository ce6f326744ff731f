#!/usr/bin/env bash
# End-to-end allocation rates in the guest: buffer-bench (DMA_HEAP_IOCTL_ALLOC
# + close, 4 KiB to 16 MiB) in four modes, BENCH_ROUNDS (default 5) rounds of
# three boots each: the controller disabled; enabled, at the root and at
# depth 4 with limits; memcg accounting the system heap instead. Results in
# build/bench/e2e-*.results.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench
rounds=${BENCH_ROUNDS:-5}
mkdir -p "$out"
rm -f "$out"/e2e-*.results

# boot NAME KERNEL-ARGS...: one boot of the bench job.
boot() {
	local name=$1
	shift
	log "bench: $name"
	QUIET_TIMEOUT=300 "$TOP/scripts/run-guest.sh" bench "bench-$name" \
		bench_repeat=3 "$@"
	grep '^bench ' "$LOGS/bench-$name.results" >"$out/e2e-$name.results" ||
		die "no results from build/logs/bench-$name.console"
}

for round in $(seq "$rounds"); do
	boot "disabled-$round" cgroup_disable=buffer bench_modes=disabled
	boot "enabled-$round" bench_modes=root,depth4,onehop-pidfd,onehop-cgroup,onehop-pidfd-delegated,onehop-cgroup-delegated
	boot "memcg-$round" cgroup_disable=buffer dma_heap.mem_accounting=1 bench_modes=memcg
done
