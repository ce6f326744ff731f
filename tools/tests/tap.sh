#!/bin/sh
# TAP helpers for the in-guest tool tests; sourced from /tests.
cg=/sys/fs/cgroup
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n $1"; failed=1; }
# check DESCRIPTION GOT WANT
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi; }
# expect_exit STATUS MESSAGE-PATTERN DESCRIPTION COMMAND...
expect_exit() {
	want=$1 pattern=$2 what=$3
	shift 3
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && echo "$out" | grep -q "$pattern"; then
		ok "$what"
	else
		not_ok "$what: exit $got, output '$out'"
	fi
}
# in_cgroup CGROUP COMMAND...: start COMMAND in CGROUP in the background
in_cgroup() {
	group=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg/$group" "$@" &
}
