#!/bin/sh
# 'make bench' in the guest: buffer-bench in each mode of bench_modes= (from
# the kernel command line, comma-separated), bench_repeat= times. Modes and
# sizes are interleaved, and the modes' order alternates between repeats, so
# that drift and the previous run's leftovers hit every mode alike. Lines go
# to the results port:
#   bench mode=MODE repeat=N size=... allocs=... seconds=... rate=...
# Modes: root (the task in the root cgroup), depth4 (in /b1/b2/b3/b4, every
# level with a buffer.max), memcg (in /m1/m2/m3/m4, every level with a
# memory.max; boot with dma_heap.mem_accounting=1), disabled (the root
# cgroup; boot with cgroup_disable=buffer).
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

for mode in $modes; do
	case $mode in
	depth4) chain buffer b buffer.max "heap/system 1G" >/tmp/cg-$mode ;;
	memcg) chain memory m memory.max 1G >/tmp/cg-$mode ;;
	root | disabled) echo $cg >/tmp/cg-$mode ;;
	*) echo "bench: unknown mode $mode" >$out; exit 1 ;;
	esac || { echo "bench: cannot set up mode $mode" >$out; exit 1; }
done

reversed=$(echo $modes | tr ' ' '\n' | tac)
for repeat in $(seq "${bench_repeat:-3}"); do
	order=$modes
	[ $((repeat % 2)) = 0 ] && order=$(echo $reversed)
	echo "guest: bench repeat $repeat"
	for size in $sizes; do
		for mode in $order; do
			# The cgroup is entered by the shell that runs the bench.
			if ! sh -c 'echo $$ >"$0/cgroup.procs" && exec buffer-bench -t "$1" "$2"' \
				"$(cat /tmp/cg-$mode)" "$seconds" "$size" >/tmp/bench.out; then
				echo "bench: buffer-bench failed in mode $mode" >$out
				exit 1
			fi
			sed "s/^/bench mode=$mode repeat=$repeat /" /tmp/bench.out >$out
		done
	done
done
