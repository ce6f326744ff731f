#!/usr/bin/env bash
# Guest instructions per DMA_HEAP_IOCTL_ALLOC + close, exactly: buffer-bench
# -n in counting boots of the test kernel (run-guest.sh with ICOUNT, the
# plugin build/icount.so counting between the program's marks), each boot
# twice, so that the report can show the two runs agree to the instruction.
# Writes build/bench/icount-BOOT-RUN.results, lines
#   icount mode=MODE size=... allocs=... warmup=... mark=N kernel=... user=...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench
plugin=$BUILD/icount.so
[ -f "$plugin" ] || die "$plugin is missing: run 'make icount-plugin'"
mkdir -p "$out"
rm -f "$out"/icount-*.results

# The counting boots, NAME KERNEL-ARGS...: a mode (scripts/guest/run-bench.sh)
# is a word in a boot's bench_modes=, and a boot is a line here.
boots=(
	"disabled cgroup_disable=buffer bench_modes=disabled"
	"enabled bench_modes=root,depth4,onehop-pidfd,onehop-cgroup,onehop-pidfd-delegated,onehop-cgroup-delegated"
	"memcg cgroup_disable=buffer dma_heap.mem_accounting=1 bench_modes=memcg"
)

for run in 1 2; do
	for boot in "${boots[@]}"; do
		read -r -a args <<<"$boot"
		name=icount-${args[0]}-$run
		log "bench: counting instructions, ${args[0]}, run $run"
		ICOUNT=$plugin QUIET_TIMEOUT=300 "$TOP/scripts/run-guest.sh" bench "$name" \
			bench_count=1 "${args[@]:1}"
		# The n-th run of buffer-bench is the plugin's mark n.
		grep '^icount mode=' "$LOGS/$name.results" >"$out/$name.runs" || true
		grep '^icount mark=' "$LOGS/$name.icount" >"$out/$name.marks" || true
		[ -s "$out/$name.runs" ] && [ "$(wc -l <"$out/$name.runs")" = "$(wc -l <"$out/$name.marks")" ] ||
			die "runs and marks do not pair up in build/logs/$name.results and .icount"
		paste -d ' ' "$out/$name.runs" <(sed 's/^icount //' "$out/$name.marks") \
			>"$out/$name.results"
		rm "$out/$name.runs" "$out/$name.marks"
	done
done
