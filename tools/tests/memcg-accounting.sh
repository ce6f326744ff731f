#!/bin/sh
# In-guest TAP test of dma_heap.mem_accounting: with it (usage:
# memcg-accounting.sh on) a held system heap buffer counts in memory.current
# of its holder's cgroup; without it (off, the default) it does not.
set -u
. ./tap.sh
want=$1
size=$((8 * 1024 * 1024))

echo "TAP version 13"
echo "1..3"
param=$(cat /sys/module/dma_heap/parameters/mem_accounting)
check "dma_heap.mem_accounting reads $want" "$param" "$([ "$want" = on ] && echo Y || echo N)"

grep -qw memory $cg/cgroup.subtree_control || echo +memory >$cg/cgroup.subtree_control
mkdir -p $cg/memacct
in_cgroup memacct buffer-client --direct --size 8M --count 1 --hold >/dev/null
holder=$!
# The holder's dma-buf, from its fdinfo (which the controller does not
# write): without it, "not in memory.current" would prove nothing.
held=
for _ in $(seq 100); do
	fd=$(ls -l /proc/$holder/fd 2>/dev/null | awk '/dmabuf/ {print $9; exit}')
	[ -n "$fd" ] && held=$(awk '$1 == "size:" {print $2}' /proc/$holder/fdinfo/$fd) &&
		[ -n "$held" ] && break
	sleep 0.1
done
check "the holder holds an 8M dma-buf" "$held" "$size"
used=$(cat $cg/memacct/memory.current)
if [ "$want" = on ]; then
	[ "$used" -ge "$size" ] && ok "an 8M buffer counts in memory.current ($used)" ||
		not_ok "memory.current $used, want at least $size"
else
	[ "$used" -lt "$size" ] && ok "an 8M buffer does not count in memory.current ($used)" ||
		not_ok "memory.current $used, want less than $size"
fi
kill $holder
wait $holder 2>/dev/null
rmdir $cg/memacct
exit $failed
