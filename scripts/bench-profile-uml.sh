#!/usr/bin/env bash
# Where the accounting's cycles go on the heap's allocation path: perf
# samples the UML bench kernel that bench-core-uml.sh built, in boots that
# run dma_heap_bench in one mode (and maybe one size) beside the floor, and
# the report counts the cycles spent in the controller's own functions per
# buffer. Unlike the ratios of bench-heap-uml.sh, this does not move with
# how a build happens to lay out code and data. BENCH_PROFILE_BOOTS
# (default 3) boots per case. Raw results in
# build/bench/profile-CASE-{BOOT,clock}.* and profile-CASE.period; where
# perf cannot count cycles (no PMU in a virtual machine), the reason in
# build/bench/profile-unavailable instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset ARCH

out=$BUILD/bench
kernel=$BUILD/kunit-bench/linux
boots=${BENCH_PROFILE_BOOTS:-3}
# CASE MODE SIZE PERIOD [KERNEL-ARGS]: the boots to profile, SIZE in bytes
# or "all", and the cycles per sample, which the report needs to turn
# samples into cycles. The disabled controller still runs the entry of its
# functions, which the report subtracts from the others. A shorter period
# would be no finer: perf throttles sampling to its max sample rate
# (kernel.perf_event_max_sample_rate, which it lowers when sampling gets
# costly), and a boot of one size runs more loops to be sampled enough.
cases=(
	"disabled disabled all 200000 cgroup_disable=buffer"
	"root root all 200000"
	"depth4 depth4 all 200000"
	"depth4-1M depth4 1048576 200000"
)
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

# boot NAME MODE SIZE KERNEL-ARGS PERF-ARGS...: one boot of dma_heap_bench
# in MODE (and SIZE) under perf.
boot() {
	local name=$1 mode=$2 size=$3 args=$4
	local extra=()
	shift 4
	[ "$size" = all ] || extra+=("dma_heap.bench_size=$size")
	# Word splitting wanted: the case's kernel arguments, if any.
	# shellcheck disable=SC2206
	extra+=($args)
	perf "$@" -- "$kernel" kunit.filter_glob=dma_heap_bench kunit.enable=1 \
		mem=1G console=tty kunit_shutdown=halt "dma_heap.bench_mode=$mode" \
		"${extra[@]}" </dev/null >"$name.ktap" 2>&1 ||
		die "profiled boot failed: see $name.ktap"
	grep -q "bench: heap mode=$mode " "$name.ktap" ||
		die "no $mode bench lines in $name.ktap"
}

for entry in "${cases[@]}"; do
	read -r case mode size period args <<<"$entry"
	echo "$period" >"$out/profile-$case.period"
	# Sampling slows a virtual machine's clock-cycle count down: the clock
	# rate, to turn cycles into ns, comes from a boot that only counts.
	log "bench: the clock rate under UML, $case"
	boot "$out/profile-$case-clock" "$mode" "$size" "${args:-}" \
		stat -x, -e cycles,task-clock \
		-o "$out/profile-$case-clock.stat"
	for run in $(seq "$boots"); do
		name=$out/profile-$case-$run
		log "bench: cycles of the controller's functions under perf, $case ($run/$boots)"
		boot "$name" "$mode" "$size" "${args:-}" \
			record -q -e cycles -c "$period" -o "$name.data"
		perf report -i "$name.data" --stdio -n --sort symbol >"$name.report" 2>/dev/null ||
			die "perf report failed on $name.data"
		rm -f "$name.data"
	done
done
