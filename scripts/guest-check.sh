#!/usr/bin/env bash
# 'make guest-check', and part of 'make check'. Boot the test kernel and run
# the in-guest suites: those of scripts/guest/check.list, then, booted with
# cgroup_disable=buffer and dma_heap.mem_accounting=1 (memcg charges the
# system heap instead), those of disabled.list; booted with
# dma_heap.mem_accounting=1 and the buffer controller, those of memcg.list
# (both controllers charge the system heap); write
# build/results/guest-*.tap. With "absent", boot the kernel built without
# the controller (build-kernel.sh nobuffer) and run those of absent.list
# instead. The CMA area is 64M: the upstream dmabuf-heaps test keeps its
# first 1 MiB CMA buffer open while it allocates 32 more, which a 32M area
# (the spec's demo size) cannot hold.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

status=0

# boot NAME LIST [KERNEL-ARGS...]: one boot running the suites of LIST.
boot() {
	local name=$1 list=$2
	shift 2
	KERNEL=${KERNEL:-$BUILD/bzImage} CMA=64M QUIET_TIMEOUT=120 \
		guest_suites "$RESULTS" "$name" "$TOP/scripts/guest/$list" \
		"the guest boots, runs its suites and powers off cleanly" \
		check list="$list" "$@" || status=1
}

if [ "${1:-}" = absent ]; then
	KERNEL=$BUILD/kernel-nobuffer/arch/x86/boot/bzImage
	boot guest-absent absent.list
else
	boot guest-check check.list
	boot guest-disabled disabled.list cgroup_disable=buffer dma_heap.mem_accounting=1
	boot guest-memcg memcg.list dma_heap.mem_accounting=1
fi
exit $status
