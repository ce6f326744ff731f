#!/usr/bin/env bash
# Build the static programs that run in the guest: our kselftests, the
# upstream selftests we run unmodified, and the tools, against the patched
# kernel's uAPI headers. Output in build/guest-bin.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/guest-bin
uapi=$BUILD/kernel-test/usr/include
selftests=$TREE/tools/testing/selftests
[ -d "$uapi" ] || die "$uapi is missing: run 'make kernel'"
mkdir -p "$out"

cc() {
	local prog=$1
	shift
	ccache gcc -std=gnu11 -static -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wno-sign-compare -Wno-missing-field-initializers -isystem "$uapi" \
		-o "$out/$prog" "$@"
}
# Upstream code is built as upstream builds it, without our -Werror.
cc_upstream() {
	local prog=$1
	shift
	ccache gcc -static -O2 -Wall -isystem "$uapi" -o "$out/$prog" "$@"
}

cc_upstream dmabuf-heap "$selftests/dmabuf-heaps/dmabuf-heap.c"
cc_upstream test_core "$selftests/cgroup/test_core.c" "$selftests/cgroup/cgroup_util.c"
for prog in test_buffer test_buffer_absent test_buffer_drm test_buffer_exporter \
	test_buffer_memcg test_buffer_unbind test_buffer_v4l2 buffer_stress buffer_fuzz; do
	cc "$prog" "$selftests/cgroup/$prog.c" "$selftests/cgroup/cgroup_util.c" \
		"$selftests/cgroup/buffer_util.c"
done
make -s -C "$TOP/tools" UAPI="$uapi" OUT="$BUILD/tools" CC="ccache gcc"
