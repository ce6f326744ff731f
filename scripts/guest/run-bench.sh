#!/bin/sh
# 'make bench' in the guest: buffer-bench in each mode of bench_modes= (from
# the kernel command line, comma-separated), bench_repeat= times. Modes and
# sizes are interleaved, and the modes' order alternates between repeats, so
# that drift and the previous run's leftovers hit every mode alike. Lines go
# to the results port:
#   bench mode=MODE repeat=N size=... allocs=... seconds=... rate=...
# Modes: root (the task in the root cgroup), depth4 (in /b1/b2/b3/b4, every
# level with a buffer.max), memcg (in /m1/m2/m3/m4, every level with a
# memory.max; boot with dma_heap.mem_accounting=1), memcg-none (the same
# chain, without dma_heap.mem_accounting=1: what a task in a memory cgroup
# pays for the kernel objects of any allocation), memcg-page (the same
# chain, in the bench kernel booted with dma_heap.bench_page_accounting=1:
# page by page, as memcg charged before the bulk charge), memcg-buffer (in
# /b1/b2/b3/b4 with a memory.max at every level too: the buffer controller
# in that task's place), disabled (the root cgroup; boot with
# cgroup_disable=buffer). One hop, the allocator in
# /b1/b2/b3/alloc charging /b1/b2/b3/b4 through charge_fd, as root
# (CAP_SYS_RESOURCE) or as nobody with that cgroup and the common ancestor
# delegated to it (their cgroup.procs its own): onehop-pidfd (the pidfd of
# a client process in b4), onehop-cgroup (b4's directory, O_PATH),
# onehop-pidfd-delegated, onehop-cgroup-delegated. DRM and V4L2 buffers,
# each against its own floor: drm-disabled, drm-root, drm-depth4 (dumb
# buffers of vgem, drm/vgem limited at every level of /d1/d2/d3/d4) and
# v4l2-disabled, v4l2-root, v4l2-depth4 (buffers of vim2m's output queue,
# in /v1/v2/v3/v4).
# With bench_count=1 (the counting boots of scripts/bench-icount.sh, under
# the QEMU plugin tools/icount), each mode and size runs once, a fixed
# number of buffers between the plugin's marks, sizes in turn, modes in
# the order given; lines:
#   icount mode=MODE size=... allocs=... warmup=...
out=/dev/ttyS1
cg=/sys/fs/cgroup
sizes="4096 65536 1048576 16777216"
modes=$(echo "${bench_modes:-root}" | tr , ' ')
seconds=${bench_seconds:-1}

# chain CONTROLLER PREFIX FILE VALUE: a depth-4 chain, each level limited.
chain() {
	dir=$cg
	for level in 1 2 3 4; do
		echo "+$1" >"$dir/cgroup.subtree_control" || return 1
		dir=$dir/$2$level
		mkdir -p "$dir" && echo "$4" >"$dir/$3" || return 1
	done
	echo "$dir"
}

# onehop: the allocator's cgroup beside depth4's leaf, a client in the leaf.
onehop() {
	leaf=$(chain buffer b buffer.max "heap/system 1G") || return 1
	mkdir -p "${leaf%/*}/alloc" || return 1
	if [ ! -e /tmp/client ]; then
		sleep 1000000 &
		echo $! >/tmp/client
		echo $! >"$leaf/cgroup.procs" || return 1
	fi
	echo "${leaf%/*}/alloc" >/tmp/cg-$mode
}

# vim2m's video node, and its device in the buffer controller,
# v4l2/<driver>_<bus id>.
vim2m() {
	for name in /sys/class/video4linux/video*/name; do
		[ "$(cat "$name")" = vim2m ] || continue
		node=${name%/name}
		echo "/dev/${node##*/}" \
			"v4l2/$(basename "$(readlink "$node/device/driver")")_$(basename "$(readlink "$node/device")")"
		return 0
	done
	return 1
}

# delegate: the leaf and the common ancestor delegated to nobody, who may
# open the heap, and whose shell has no capability left.
delegate() {
	chown 65534 "$leaf/cgroup.procs" "${leaf%/*}/cgroup.procs" &&
		chmod o+rw /dev/dma_heap/system && echo nobody >/tmp/user-$mode &&
		su -s /bin/sh -c 'cat /proc/self/status' nobody | grep -q '^CapEff:[[:space:]]*0*$'
}

for mode in $modes; do
	echo root >/tmp/user-$mode
	: >/tmp/args-$mode
	device=heap/system
	prefix=b
	case $mode in
	drm-disabled | drm-root | drm-depth4)
		device=drm/vgem
		prefix=d
		echo "-D /dev/dri/$(basename /sys/devices/platform/vgem/drm/card*)" >/tmp/args-$mode
		;;
	v4l2-disabled | v4l2-root | v4l2-depth4)
		found=$(vim2m) || { echo "bench: no vim2m for $mode" >$out; exit 1; }
		set -- $found
		device=$2
		prefix=v
		echo "-V $1" >/tmp/args-$mode
		;;
	drm-* | v4l2-*) echo "bench: unknown mode $mode" >$out; exit 1 ;;
	memcg-page)
		[ "$(cat /sys/module/dma_heap/parameters/bench_page_accounting 2>/dev/null)" = Y ] ||
			{ echo "bench: $mode needs dma_heap.bench_page_accounting=1" >$out; exit 1; }
		;;
	esac
	kind=${mode#drm-}
	case ${kind#v4l2-} in
	depth4) chain buffer $prefix buffer.max "$device 1G" >/tmp/cg-$mode ;;
	memcg | memcg-none | memcg-page) chain memory m memory.max 1G >/tmp/cg-$mode ;;
	memcg-buffer)
		chain buffer b buffer.max "heap/system 1G" >/dev/null &&
			chain memory b memory.max 1G >/tmp/cg-$mode ;;
	root | disabled) echo $cg >/tmp/cg-$mode ;;
	onehop-pidfd*) onehop && echo "-p $(cat /tmp/client)" >/tmp/args-$mode ;;
	onehop-cgroup*) onehop && echo "-g $leaf" >/tmp/args-$mode ;;
	*) echo "bench: unknown mode $mode" >$out; exit 1 ;;
	esac || { echo "bench: cannot set up mode $mode" >$out; exit 1; }
	case $mode in
	*-delegated) delegate || { echo "bench: cannot delegate for $mode" >$out; exit 1; } ;;
	esac
done

# bench MODE ARGS...: buffer-bench ARGS in MODE's cgroup, as MODE's user;
# its lines go to the results port, each after $prefix.
bench() {
	mode=$1
	shift
	# The cgroup is entered by the shell that runs the bench, as root;
	# then nobody's shell, if the mode says so, runs it.
	run="buffer-bench $(cat /tmp/args-$mode) $*"
	[ "$(cat /tmp/user-$mode)" = nobody ] && run="su -s /bin/sh -c 'exec $run' nobody"
	if ! sh -c 'echo $$ >"$0/cgroup.procs" && eval exec "$1"' \
		"$(cat /tmp/cg-$mode)" "$run" >/tmp/bench.out; then
		echo "bench: buffer-bench failed in mode $mode" >$out
		exit 1
	fi
	sed "s/^/$prefix /" /tmp/bench.out >$out
}

if [ "${bench_count:-0}" = 1 ]; then
	# About 80 million guest instructions per run, whatever the size.
	for size in $sizes; do
		case $size in
		4096) count=10000 ;;
		65536) count=5000 ;;
		1048576) count=500 ;;
		*) count=32 ;;
		esac
		for mode in $modes; do
			prefix="icount mode=$mode"
			bench "$mode" -n $count $size
		done
	done
	exit 0
fi

reversed=$(echo $modes | tr ' ' '\n' | tac)
for repeat in $(seq "${bench_repeat:-3}"); do
	order=$modes
	[ $((repeat % 2)) = 0 ] && order=$(echo $reversed)
	echo "guest: bench repeat $repeat"
	for size in $sizes; do
		for mode in $order; do
			prefix="bench mode=$mode repeat=$repeat"
			bench "$mode" -t $seconds $size
		done
	done
done
