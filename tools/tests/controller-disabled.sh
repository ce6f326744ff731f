#!/bin/sh
# In-guest TAP test on a kernel booted with cgroup_disable=buffer: buffers
# are served uncharged, and buffer-cg says plainly that there is no controller.
set -u
. ./tap.sh
echo "TAP version 13"
echo "1..5"
check "no buffer controller in cgroup.controllers" \
	"$(grep -cw buffer /sys/fs/cgroup/cgroup.controllers)" 0
out=$(buffer-cg get / 2>&1)
check "buffer-cg exits 1 without the controller" "$?" 1
check "...saying why" "$(echo "$out" | grep -c 'controller is not available')" 1
buffer-client --direct --size 1M --count 2 --hold >/dev/null &
holder=$!
# Wait (up to 10 s) for both buffers: nothing else counts them here.
for _ in $(seq 100); do
	[ "$(ls -l /proc/$holder/fd | grep -c dmabuf)" = 2 ] && break
	sleep 0.1
done
fd=$(ls -l /proc/$holder/fd | awk '/dmabuf/ {print $9; exit}')
check "heaps still serve buffers" "$(ls -l /proc/$holder/fd | grep -c dmabuf)" 2
check "an uncharged buffer's fdinfo has no charge lines" \
	"$(grep -c '^charge_' /proc/$holder/fdinfo/$fd)" 0
kill $holder
wait $holder 2>/dev/null
exit $failed
