#!/usr/bin/env bash
# The charge-path benchmark (KUnit suite buffer_cg_bench) in QEMU with two
# CPUs, for what UML cannot show: two CPUs charging one cgroup. Under TCG,
# so its nanoseconds are only comparable among themselves. Writes the
# console to build/bench/core-smp.console.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench
mkdir -p "$out"
log "bench: the core in QEMU, two CPUs"
KERNEL=$BUILD/kernel-bench/arch/x86/boot/bzImage QUIET_TIMEOUT=600 \
	"$TOP/scripts/run-guest.sh" probe bench-core-smp \
	kunit.filter_glob='buffer_cg_bench*' buffer_cg.bench_iterations=20000
cp "$LOGS/bench-core-smp.console" "$out/core-smp.console"
grep -q 'bench: try_charge.*cpus=2' "$out/core-smp.console" ||
	die "no two-CPU bench lines in build/logs/bench-core-smp.console"
