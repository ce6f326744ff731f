#!/usr/bin/env bash
# The system heap's allocation path in the kernel (KUnit suite
# dma_heap_bench) at native speed under UML, in every accounting mode:
# BENCH_ROUNDS (default 5) rounds of three boots of the UML kernel that
# bench-core-uml.sh built. Raw KTAP in build/bench/heap-MODES-ROUND.ktap.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset ARCH

out=$BUILD/bench
rounds=${BENCH_ROUNDS:-5}
mkdir -p "$out" "$LOGS"
rm -f "$out"/heap-*.ktap
[ -x "$BUILD/kunit-bench/linux" ] || die "no UML bench kernel: run scripts/bench-core-uml.sh first"

# boot NAME KERNEL-ARGS...: one boot running only dma_heap_bench.
boot() {
	local name=$1 arg args=()
	shift
	for arg in "$@"; do
		args+=(--kernel_args "$arg")
	done
	log "bench: the heap's allocation path under UML, $name"
	kunit_py exec --build_dir "$BUILD/kunit-bench" --timeout 600 --raw_output=kunit \
		"${args[@]}" 'dma_heap_bench' >"$out/heap-$name.ktap" 2>>"$LOGS/bench-heap-uml.err" ||
		die "dma_heap_bench failed: see build/bench/heap-$name.ktap"
	grep -q 'bench: heap' "$out/heap-$name.ktap" ||
		die "no bench lines in build/bench/heap-$name.ktap"
}

: >"$LOGS/bench-heap-uml.err"
for round in $(seq "$rounds"); do
	boot "disabled-$round" cgroup_disable=buffer
	boot "enabled-$round"
	boot "memcg-$round" cgroup_disable=buffer dma_heap.mem_accounting=1
done
