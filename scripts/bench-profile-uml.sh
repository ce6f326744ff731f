#!/usr/bin/env bash
# Where the accounting's cycles go on the heap's allocation path: perf
# samples the UML bench kernel that bench-core-uml.sh built, in boots that
# run dma_heap_bench in one mode beside the floor, and the report counts the
# cycles spent in the controller's own functions per buffer. Unlike the
# ratios of bench-heap-uml.sh, this does not move with how a build happens
# to lay out code and data. BENCH_PROFILE_BOOTS (default 3) boots per mode.
# Raw results in build/bench/profile-MODE-{BOOT,clock}.*; where
# perf cannot count cycles (no PMU in a virtual machine), the reason in
# build/bench/profile-unavailable instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset ARCH

out=$BUILD/bench
kernel=$BUILD/kunit-bench/linux
boots=${BENCH_PROFILE_BOOTS:-3}
# Cycles per sample; the report needs it to turn samples into cycles.
period=200000
mkdir -p "$out"
rm -f "$out"/profile-*
[ -x "$kernel" ] || die "no UML bench kernel: run scripts/bench-core-uml.sh first"
"$TOP/scripts/install-deps.sh" bench

if ! probe=$(perf stat -x, -e cycles -- true 2>&1 >/dev/null) ||
   ! grep -q '^[0-9]' <<<"$probe"; then
	log "bench: no cycle counts from perf here, the profile is left out"
	printf 'perf cannot count cycles on this machine: %s\n' \
		"$(tail -n 1 <<<"$probe")" >"$out/profile-unavailable"
	exit 0
fi

echo "$period" >"$out/profile-period"
# boot NAME MODE PERF-ARGS...: one boot of dma_heap_bench in MODE under perf.
boot() {
	local name=$1 mode=$2
	shift 2
	perf "$@" -- "$kernel" kunit.filter_glob=dma_heap_bench kunit.enable=1 \
		mem=1G console=tty kunit_shutdown=halt "dma_heap.bench_mode=$mode" \
		</dev/null >"$name.ktap" 2>&1 || die "profiled boot failed: see $name.ktap"
	grep -q "bench: heap mode=$mode " "$name.ktap" ||
		die "no $mode bench lines in $name.ktap"
}

for mode in root depth4; do
	# Sampling slows a virtual machine's clock-cycle count down: the clock
	# rate, to turn cycles into ns, comes from a boot that only counts.
	log "bench: the clock rate under UML, $mode"
	boot "$out/profile-$mode-clock" "$mode" stat -x, -e cycles,task-clock \
		-o "$out/profile-$mode-clock.stat"
	for run in $(seq "$boots"); do
		name=$out/profile-$mode-$run
		log "bench: cycles of the controller's functions under perf, $mode ($run/$boots)"
		boot "$name" "$mode" record -q -e cycles -c "$period" -o "$name.data"
		perf report -i "$name.data" --stdio -n --sort symbol >"$name.report" 2>/dev/null ||
			die "perf report failed on $name.data"
		rm -f "$name.data"
	done
done
