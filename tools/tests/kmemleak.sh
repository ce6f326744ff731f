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
# Two scans: an object must look leaked twice in a row to be reported.
echo scan >$k
sleep 5
echo scan >$k
report=$(cat $k)
if [ -z "$report" ]; then
	echo "ok 1 kmemleak: no suspected leaks"
else
	echo "not ok 1 kmemleak: suspected leaks"
	echo "$report" | sed 's/^/# /'
	exit 1
fi
