#!/usr/bin/env bash
# The charge-path benchmark (KUnit suite buffer_cg_bench) at native speed
# under UML, one CPU, in BENCH_CORE_BOOTS boots (default 3). Writes their raw
# KTAP, "bench:" lines included, to build/bench/core-uml.ktap. The UML kernel
# also carries dma_heap_bench, which bench-heap-uml.sh then boots.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset ARCH

out=$BUILD/bench
mkdir -p "$out" "$LOGS"
boots=${BENCH_CORE_BOOTS:-3}
log "bench: the core under UML (build, then $boots boots)"
: >"$out/core-uml.ktap"
# A boot's memory layout can slow one of its cases for the whole boot: the
# report takes the median over boots.
for boot in $(seq "$boots"); do
	if [ "$boot" = 1 ]; then
		step=(run --kunitconfig "$TOP/configs/kunit-bench.config"
		      --jobs "$(($(jobs) + 1))" --make_options CC="ccache gcc")
	else
		step=(exec)
	fi
	kunit_py "${step[@]}" --build_dir "$BUILD/kunit-bench" --timeout 1200 \
		--raw_output=kunit 'buffer_cg_bench' \
		>>"$out/core-uml.ktap" 2>"$LOGS/bench-core-uml.err" ||
		die "the UML benchmark failed: see build/bench/core-uml.ktap and build/logs/bench-core-uml.err"
done
[ "$(grep -c 'bench: try_charge depth=1 ' "$out/core-uml.ktap")" = "$boots" ] ||
	die "not $boots boots' bench lines in build/bench/core-uml.ktap"
