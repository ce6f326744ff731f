#!/bin/sh
# Runs every in-guest test suite listed in /tests/${list:-check.list} (the
# kernel command line's list=NAME). Each suite's
# TAP output goes to the results port between "### suite NAME" and
# "### end NAME rc=N" markers, which the host counts.
out=/dev/ttyS1
while read -r name cmd; do
	case $name in ''|'#'*) continue ;; esac
	echo "guest: running $name"
	echo "### suite $name" >$out
	(cd /tests && sh -c "$cmd") >$out 2>&1 </dev/null
	echo "### end $name rc=$?" >$out
done </tests/${list:-check.list}
