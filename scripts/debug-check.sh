#!/usr/bin/env bash
# 'make debug-check' (and 'make stress', 'make check'). Boot the debug
# kernel (lockdep, KASAN, fault injection, kmemleak): the KUnit suite runs
# at boot, then the suites of scripts/guest/LIST (default debug.list). Any
# splat in its log fails the boot case. Writes build/results/kunit.tap (the
# KTAP from the console, shown by kunit.py parse) and
# build/results/guest-*.tap. KERNEL_NAME=kcsan boots the KCSAN kernel
# instead (build-kernel.sh kcsan), its KTAP in kunit-kcsan.tap.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=${1:-debug.list}
name=guest-${list%.list}
kernel_name=${KERNEL_NAME:-debug}
obj=$BUILD/kernel-$kernel_name
kernel=$obj/arch/x86/boot/bzImage
kunit_tap=$RESULTS/kunit${KERNEL_NAME:+-$KERNEL_NAME}.tap
mkdir -p "$RESULTS" "$LOGS"
[ -f "$kernel" ] || die "$kernel is missing: build the $kernel_name kernel first"

# The shared initramfs, plus this kernel's test module.
initrd=$BUILD/initramfs-$kernel_name.cpio.gz
modules=$BUILD/initramfs-$kernel_name-modules
rm -rf "$modules"
mkdir -p "$modules/lib/modules"
cp "$obj/lib/test_buffer_cg.ko" "$modules/lib/modules/"
{
	cat "$BUILD/initramfs.cpio.gz"
	(cd "$modules" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1)
} >"$initrd"

status=0
KERNEL=$kernel INITRD=$initrd CMA=64M QUIET_TIMEOUT=${QUIET_TIMEOUT:-180} \
	guest_suites "$RESULTS" "$name" "$TOP/scripts/guest/$list" \
	"the debug kernel boots, runs its suites, no splat, clean poweroff" \
	check list="$list" || status=1

# The KUnit suite's KTAP, from the console, timestamps stripped.
sed -n 's/^\[ *[0-9]*\.[0-9]*\] //p' "$LOGS/$name.console" |
	sed -n '/^KTAP version/,$p' | grep -E '^ *(KTAP|#|1\.\.|ok |not ok )' \
	>"$kunit_tap" || true
if ! grep -q '^ok\|^not ok' "$kunit_tap"; then
	echo "not ok 1 kunit: no KUnit results on the $kernel_name kernel's console" >"$kunit_tap"
	status=1
fi
kunit_py parse "$kunit_tap" || status=1
exit $status
