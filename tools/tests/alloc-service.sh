#!/bin/sh
# In-guest TAP test of the allocator service, client and compositor: the
# buffers land on the client's cgroup after one hop and after two.
set -u
. ./tap.sh
current() { awk -v d=heap/system '$1 == d {print $2}' "$cg/$1/buffer.current"; }
wait_for() { for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

echo "TAP version 13"
echo "1..6"
grep -qw buffer $cg/cgroup.subtree_control || echo +buffer >$cg/cgroup.subtree_control
for g in svc comp app1 app2; do mkdir -p $cg/$g; done

in_cgroup svc buffer-allocd --socket /tmp/allocd.sock
allocd=$!
in_cgroup comp buffer-compositor --allocator /tmp/allocd.sock --socket /tmp/comp.sock
comp=$!
wait_for /tmp/allocd.sock && wait_for /tmp/comp.sock

in_cgroup app1 buffer-client --socket /tmp/allocd.sock --count 2 --hold >/dev/null
app1=$!
in_cgroup app2 buffer-client --socket /tmp/comp.sock --count 3 --hold >/dev/null
app2=$!
for _ in $(seq 100); do
	[ "$(current app1)" = 2097152 ] && [ "$(current app2)" = 3145728 ] && break
	sleep 0.1
done
check "one hop: the client pays for its 2 buffers" "$(current app1)" 2097152
check "two hops: the client pays for its 3 buffers" "$(current app2)" 3145728
check "the allocator service pays nothing" "$(current svc)" 0
check "the compositor pays nothing" "$(current comp)" 0
check "the compositor's moves are counted" \
	"$(awk '$1 == "heap/system" {print $4}' $cg/comp/buffer.stat)" transfers_out=3

kill $app1 $app2
wait $app1 $app2 2>/dev/null
check "buffers freed with their holders" "$(current app1) $(current app2)" "0 0"
kill $allocd $comp
wait 2>/dev/null
for g in svc comp app1 app2; do rmdir $cg/$g; done
exit $failed
