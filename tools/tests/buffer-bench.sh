#!/bin/sh
# In-guest TAP test of buffer-bench, the allocation-rate tool of 'make bench':
# its output line, and its exit codes on bad input.
set -u
. ./tap.sh

echo "TAP version 13"
echo "1..5"
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
exit $failed
