#!/usr/bin/env bash
# Guest instructions, exactly, in counting boots (run-guest.sh with ICOUNT:
# the plugin build/icount.so counts between marks), each boot twice, so
# that the report can show the two runs agree to the instruction:
# - per DMA_HEAP_IOCTL_ALLOC + close, buffer-bench -n in the test kernel,
#   build/bench/icount-MODE-RUN.results, lines
#   icount mode=MODE size=... allocs=... warmup=... mark=N kernel=... user=... own=...
#   (own: in the controller's code, kernel/cgroup/buffer_cg*.c); DRM dumb
#   buffers and V4L2 buffers (buffer-bench -D, -V) in modes drm-* and v4l2-*
# - memcg page by page beside its bulk charge, in the bench kernel, if it is
#   built, in build/bench/icount-bench-MODE-RUN.results, mode=bench-MODE
# - per charge + uncharge, the depth and devices cases of the bench
#   kernel's KUnit suite buffer_cg_bench, if the bench kernel is built ('make
#   bench' builds it, 'make bench-icount' alone does not), in
#   build/bench/icount-core-RUN.results, lines
#   icount core=WHAT depth=... devices=... iterations=... mark=N kernel=... user=... own=0
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench
plugin=$BUILD/icount.so
bench_kernel=$BUILD/kernel-bench/arch/x86/boot/bzImage
[ -f "$plugin" ] || die "$plugin is missing: run 'make icount-plugin'"
mkdir -p "$out"
rm -f "$out"/icount-*.results

# own_code BUILD-DIR: that kernel's controller code, for the plugin's own=
# count: the run of consecutive text symbols of System.map that
# kernel/cgroup/buffer_cg*.o define (the longest; names such as css_put
# recur elsewhere), up to the next symbol.
own_code() {
	local own
	own=$(nm --defined-only "$1"/kernel/cgroup/buffer_cg*.o |
		awk 'NR == FNR { if ($2 ~ /^[tT]$/) ours[$3] = 1; next }
		     $2 !~ /^[tTwW]$/ { next }
		     $3 in ours { if (!run++) start = $1; next }
		     run > best { best = run; from = start; to = $1 }
		     { run = 0 }
		     END { if (best) printf "own=%s-%s", from, to }' - "$1/System.map")
	[ -n "$own" ] || die "no controller code in $1/System.map"
	echo "$own"
}
own=$(own_code "$BUILD/kernel-test")

# The modes (scripts/guest/run-bench.sh), MODE KERNEL-ARGS...: one line,
# one counting boot of the test kernel. Each mode boots on its own: after
# other modes' runs the slab caches can be in another steady state (in one
# boot of all the enabled modes, root and depth4 allocated and freed a
# slab twice per buffer where the one-hop modes after them did not, 1,000
# instructions per 4 KiB buffer more), where a fresh boot starts each mode
# from the same state.
modes=(
	"disabled cgroup_disable=buffer"
	"root"
	"depth4"
	"onehop-pidfd"
	"onehop-cgroup"
	"onehop-pidfd-delegated"
	"onehop-cgroup-delegated"
	"memcg cgroup_disable=buffer dma_heap.mem_accounting=1"
	"memcg-none cgroup_disable=buffer"
	"memcg-buffer"
	"drm-disabled cgroup_disable=buffer"
	"drm-root"
	"drm-depth4"
	"v4l2-disabled cgroup_disable=buffer"
	"v4l2-root"
	"v4l2-depth4"
)

# The modes counted in the bench kernel, whose system heap can charge memcg
# page by page as memcg did before its bulk charge: that mode beside the
# bulk charge and no dma-buf accounting, in the same kernel. Their lines
# read mode=bench-MODE. KUnit, which would run at boot, stays off.
bench_modes=(
	"memcg-none cgroup_disable=buffer"
	"memcg cgroup_disable=buffer dma_heap.mem_accounting=1"
	"memcg-page cgroup_disable=buffer dma_heap.bench_page_accounting=1"
)

# pair NAME RUNS: the n-th line of RUNS (what ran, from the guest) with
# the plugin's mark n, into build/bench/NAME.results (without the serial
# port's carriage returns).
pair() {
	local marks
	marks=$(grep '^icount mark=' "$LOGS/$1.icount" | sed 's/^icount //') || true
	[ -n "$2" ] && [ "$(wc -l <<<"$2")" = "$(wc -l <<<"$marks")" ] ||
		die "what ran and the marks do not pair up in build/logs/$1.*"
	paste -d ' ' <(echo "$2" | tr -d '\r') <(echo "$marks") >"$out/$1.results"
}

# count_mode RUN MODE KERNEL-ARGS...: one counting boot of the test kernel.
count_mode() {
	local name=icount-$2-$1
	log "bench: counting instructions, $2, run $1"
	ICOUNT=$plugin,$own QUIET_TIMEOUT=300 "$TOP/scripts/run-guest.sh" bench "$name" \
		bench_count=1 bench_modes="$2" "${@:3}"
	pair "$name" "$(grep '^icount mode=' "$LOGS/$name.results" || true)"
}

# count_bench_mode RUN MODE KERNEL-ARGS...: one counting boot of the bench
# kernel.
count_bench_mode() {
	local name=icount-bench-$2-$1
	log "bench: counting instructions, $2 in the bench kernel, run $1"
	KERNEL=$bench_kernel ICOUNT=$plugin,$own_bench QUIET_TIMEOUT=300 \
		"$TOP/scripts/run-guest.sh" bench "$name" kunit.enable=0 \
		bench_count=1 bench_modes="$2" "${@:3}"
	pair "$name" "$(grep '^icount mode=' "$LOGS/$name.results" |
		sed 's/^icount mode=/icount mode=bench-/' || true)"
}

# count_core RUN: one counting boot of the bench kernel's KUnit cases. Its
# failure costs the report the charge path's counts only (it says so), not
# the rest of 'make bench'.
count_core() {
	local name=icount-core-$1
	log "bench: counting instructions, the charge path (KUnit), run $1"
	if ! KERNEL=$bench_kernel ICOUNT=$plugin QUIET_TIMEOUT=300 "$TOP/scripts/run-guest.sh" \
		probe "$name" kunit.filter_glob='buffer_cg_bench.buffer_cg_bench_de*' \
		buffer_cg.bench_iterations=20000 ||
		! (pair "$name" "$(grep -o 'bench: icount .*' "$LOGS/$name.console" |
			sed 's/^bench: icount /icount core=/' || true)"); then
		log "bench: the charge path's counting boot failed (build/logs/$name.*): not counted"
		rm -f "$out/$name.results"
	fi
}

# The two runs of each boot side by side: the counts do not depend on the
# host's load, and the wait is half as long.
core=()
if [ -f "$bench_kernel" ]; then
	own_bench=$(own_code "$BUILD/kernel-bench")
	core=(core "${bench_modes[@]/#/bench }")
else
	log "bench: no bench kernel ('make bench-kernel'): the charge path and memcg page by page are not counted"
fi
for mode in "${modes[@]}" "${core[@]}"; do
	read -r -a args <<<"$mode"
	label=${args[0]}
	[ "$label" = bench ] && label=bench-${args[1]}
	pids=()
	for run in 1 2; do
		case ${args[0]} in
		core) count_core $run & ;;
		bench) count_bench_mode $run "${args[@]:1}" & ;;
		*) count_mode $run "${args[@]}" & ;;
		esac
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || die "a counting boot failed (build/logs/icount-$label-*)"
	done
done
