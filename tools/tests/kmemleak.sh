#!/bin/sh
# In-guest TAP test for the debug kernel: after everything else ran,
# kmemleak finds no unreferenced object.
k=/sys/kernel/debug/kmemleak
echo "TAP version 13"
echo "1..1"
if [ ! -w $k ]; then
	echo "not ok 1 kmemleak: $k is missing (not the debug kernel?)"
	exit 1
fi
# Two scans: an object must look leaked twice in a row to be reported. A
# kmemleak that disabled itself (out of memory for its metadata, an
# internal error) refuses the scan: that is no verdict, not "no leaks".
for scan in 1 2; do
	if ! err=$( (echo scan >$k) 2>&1); then
		echo "not ok 1 kmemleak: scan $scan refused ($err): kmemleak disabled itself?"
		dmesg | grep -i kmemleak | tail -n 5 | sed 's/^/# /'
		exit 1
	fi
	[ $scan = 2 ] || sleep 5
done
if ! report=$(cat $k); then
	echo "not ok 1 kmemleak: cannot read $k"
	exit 1
fi
if [ -z "$report" ]; then
	echo "ok 1 kmemleak: no suspected leaks"
else
	echo "not ok 1 kmemleak: suspected leaks"
	echo "$report" | sed 's/^/# /'
	exit 1
fi
