#!/usr/bin/env bash
# The kernel-doc of our new kernel files parses without a warning (the
# driver-API page is generated from it), and every exported function has it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$TREE"
# The controller's files but its tests (and the local benchmark).
mapfile -t sources < <(ls kernel/cgroup/buffer_cg*.c | grep -v '_test\.c$\|_bench\.c$')
files=(include/linux/buffer_cg.h kernel/cgroup/buffer_cg_internal.h "${sources[@]}")
out=$(perl scripts/kernel-doc -none -Wall "${files[@]}" 2>&1)
# Ours in the V4L2 header, whose other functions upstream leaves without
# a Return: section.
out+=$(perl scripts/kernel-doc -none -Wall include/media/v4l2-device.h 2>&1 |
	grep buffer_cg || true)
[ -z "$out" ] || { echo "$out"; exit 1; }
exported=$(cat "${sources[@]}" | grep -c '^EXPORT_SYMBOL')
documented=$(perl scripts/kernel-doc -rst -export "${sources[@]}" 2>/dev/null |
	grep -c '^\.\. c:function::')
[ "$exported" = "$documented" ] ||
	{ echo "$exported exported functions, $documented with kernel-doc"; exit 1; }
