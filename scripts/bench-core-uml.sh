#!/usr/bin/env bash
# The charge-path benchmark (KUnit suite buffer_cg_bench) at native speed
# under UML, one CPU. Writes its raw KTAP, "bench:" lines included, to
# build/bench/core-uml.ktap. The UML kernel also carries dma_heap_bench, which
# bench-heap-uml.sh then boots.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
unset ARCH

out=$BUILD/bench
mkdir -p "$out" "$LOGS"
log "bench: the core under UML (build, then about a minute of loops)"
(cd "$TREE" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig "$TOP/configs/kunit-bench.config" \
	--build_dir "$BUILD/kunit-bench" --jobs "$(($(jobs) + 1))" \
	--make_options CC="ccache gcc" --timeout 1200 --raw_output=kunit \
	'buffer_cg_bench') >"$out/core-uml.ktap" 2>"$LOGS/bench-core-uml.err" ||
	die "the UML benchmark failed: see build/bench/core-uml.ktap and build/logs/bench-core-uml.err"
grep -q 'bench: try_charge' "$out/core-uml.ktap" ||
	die "no bench lines in build/bench/core-uml.ktap"
