#!/bin/sh
# In-guest TAP test, first of check.list, on a fresh boot: nothing has put
# +buffer in the root's cgroup.subtree_control yet, so the root has no
# buffer.* files (the demo enables the controller before it reads them),
# and buffer-cg says how to enable it rather than that there is none.
set -u
. ./tap.sh
echo "TAP version 13"
echo "1..4"
check "the kernel has the controller, not yet enabled at the root" \
	"$(grep -cw buffer $cg/cgroup.controllers) $(grep -cw buffer $cg/cgroup.subtree_control)" "1 0"
check "...and the root has no buffer.capacity yet" \
	"$([ -e $cg/buffer.capacity ] && echo present || echo absent)" absent
expect_exit 1 "not enabled in $cg: enable it with 'echo +buffer > $cg/cgroup.subtree_control'" \
	"buffer-cg says how to enable it, and exits 1" buffer-cg top -b
echo +buffer >$cg/cgroup.subtree_control
check "once enabled, buffer-cg reads the root" "$(buffer-cg get / | head -n 1 | awk '{print $1, $2}')" \
	"DEVICE CURRENT"
echo -buffer >$cg/cgroup.subtree_control
exit $failed
