#!/bin/sh
# In-guest TAP test of buffer-bench, the allocation-rate tool of 'make bench':
# its output line, and its exit codes on bad input; with -n, a fixed count
# between the marks of the instruction counter (NOPs here); with -p and -g,
# its buffers charged to the named process's or cgroup's (refused at that
# cgroup's limit of 0, allowed at max); with -D and -V, dumb buffers of vgem
# and buffers of vim2m's output queue, each charged exactly its size to its
# own device (buffer.peak), refused at a limit of 0.
set -u
. ./tap.sh

echo "TAP version 13"
echo "1..29"
out=$(buffer-bench -t 0.2 4096 65536)
check "one line per size" "$(echo "$out" | wc -l)" 2
line=$(echo "$out" | head -n 1)
allocs=${line#*allocs=}
allocs=${allocs%% *}
if echo "$line" | grep -q '^size=4096 allocs=[0-9]* seconds=[0-9.]* rate=[0-9.]*$' &&
	[ "$allocs" -gt 0 ]; then
	ok "the line reads size, allocs, seconds and rate ($line)"
else
	not_ok "bad line '$line'"
fi
expect_exit 2 "usage:" "no size: usage, exit 2" buffer-bench
expect_exit 2 "bad size '4k'" "a bad size: exit 2" buffer-bench 4k
expect_exit 1 "/dev/dma_heap/nosuch" "a missing heap: exit 1" buffer-bench -H nosuch 4096
out=$(buffer-bench -n 3 4096 65536)
check "-n: a count per size, no warm-up below 10" "$out" \
	"$(printf 'size=4096 allocs=3 warmup=0\nsize=65536 allocs=3 warmup=0')"
expect_exit 0 "^size=4096 allocs=20 warmup=5$" "-n 20 -w 5: 5 buffers, then 20 counted" \
	buffer-bench -n 20 -w 5 4096
expect_exit 2 "bad count '0'" "-n 0: exit 2" buffer-bench -n 0 4096

grep -qw buffer $cg/cgroup.subtree_control || echo +buffer >$cg/cgroup.subtree_control
mkdir -p $cg/bench_hop
echo "heap/system 0" >$cg/bench_hop/buffer.max
in_cgroup bench_hop sleep 100
client=$!
# Bounded: if the cgroup or the move failed, the checks below say so.
tries=0
until grep -qs "^$client$" $cg/bench_hop/cgroup.procs || [ $tries -ge 100 ]; do
	tries=$((tries + 1))
	sleep 0.1
done
expect_exit 1 "Cannot allocate memory" "-g: each buffer charged to the cgroup, refused at its limit" \
	buffer-bench -t 0.1 -g $cg/bench_hop 4096
expect_exit 1 "Cannot allocate memory" "-p: each buffer charged to the process's cgroup, refused at its limit" \
	buffer-bench -t 0.1 -p $client 4096
echo "heap/system max" >$cg/bench_hop/buffer.max
expect_exit 0 "^size=4096 allocs=" "-g: allowed below the cgroup's limit" \
	buffer-bench -t 0.1 -g $cg/bench_hop 4096
expect_exit 0 "^size=4096 allocs=" "-p: allowed below the cgroup's limit" \
	buffer-bench -t 0.1 -p $client 4096
kill $client
wait $client 2>/dev/null
expect_exit 2 "one of -p and -g" "-p and -g together: exit 2" buffer-bench -p 1 -g $cg 4096
expect_exit 1 "/nosuch: No such file" "-g of a missing cgroup: exit 1" buffer-bench -g /nosuch 4096
rmdir $cg/bench_hop

card=
for c in /sys/devices/platform/vgem/drm/card*; do
	[ -e "$c" ] && card=/dev/dri/${c##*/}
done
video=
for name in /sys/class/video4linux/video*/name; do
	[ "$(cat "$name" 2>/dev/null)" = vim2m ] && video=/dev/$(basename "${name%/name}")
done
if [ -z "$card" ] || [ -z "$video" ]; then
	not_ok "no vgem card ('$card') or vim2m node ('$video'): -D and -V not tested"
	exit 1
fi
node=/sys/class/video4linux/${video#/dev/}
vim2m=v4l2/$(basename "$(readlink $node/device/driver)")_$(basename "$(readlink $node/device)")
# in_new_cgroup NAME DEVICE LIMIT COMMAND...: COMMAND in a new cgroup NAME
# whose DEVICE is limited to LIMIT. A setup that fails exits 3, not
# buffer-bench's 1: mkdir's ENOMEM must not pass for a refused charge.
in_new_cgroup() {
	dir=$cg/$1
	mkdir $dir && echo "$2 $3" >$dir/buffer.max || return 3
	shift 3
	sh -c 'echo $$ > "$0/cgroup.procs" || exit 3; exec "$@"' "$dir" "$@"
}
for source in "-D $card drm/vgem" "-V $video $vim2m"; do
	set -- $source
	name=bench_dev_${1#-}
	expect_exit 1 "Cannot allocate memory" "$1: refused at its device's limit of 0 ($3)" \
		in_new_cgroup $name "$3" 0 buffer-bench $1 $2 -t 0.1 4096
	# ENOMEM alone could be the driver's; the refusal is the controller's.
	check "$1: the refusal counted in buffer.events" \
		"$(grep "^$3 " $cg/$name/buffer.events)" "$3 max=1"
	rmdir $cg/$name
	# On one CPU: the first buffer's bytes stay charged in that CPU's
	# stock, and a second buffer charged on another CPU would count them
	# in buffer.peak again (the slack buffer.peak documents).
	expect_exit 0 "^size=65536 allocs=2 warmup=0$" "$1 -n 2: counted" \
		in_new_cgroup $name "$3" max taskset 1 buffer-bench $1 $2 -n 2 65536
	check "$1: each buffer charged exactly its size to $3" \
		"$(grep "^$3 " $cg/$name/buffer.peak) $(grep "^$3 " $cg/$name/buffer.current)" \
		"$3 65536 $3 0"
	rmdir $cg/$name
done
expect_exit 2 "for heap buffers, not with -D or -V" "-D with -g: exit 2" \
	buffer-bench -D $card -g $cg 4096
expect_exit 2 "for heap buffers, not with -D or -V" "-V with -H: exit 2" \
	buffer-bench -V $video -H system 4096
expect_exit 2 "one of -D and -V" "-D and -V together: exit 2" buffer-bench -D $card -V $video 4096
expect_exit 1 "/dev/nosuch: No such file" "-D of a missing device: exit 1" buffer-bench -D /dev/nosuch 4096
expect_exit 1 "not a DRM device" "-D of a V4L2 device: exit 1" buffer-bench -D $video -t 0.1 4096
expect_exit 1 "not a V4L2 device" "-V of a DRM card: exit 1" buffer-bench -V $card -t 0.1 4096
out=$(buffer-bench -D $card -n 1 4096 4294967296 2>&1)
check "-D of 4 GiB after a good size: exit 2 before any buffer" "$?: $out" \
	"2: buffer-bench: 4294967296 bytes: too large for -D and -V"
exit $failed
