#!/usr/bin/env bash
# Print the QEMU accelerator to use: "kvm" only if the CPU advertises
# virtualization, /dev/kvm exists, and a probe boot really reaches userspace;
# otherwise "tcg". The answer is cached in build/accel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cache=$BUILD/accel
if [ -s "$cache" ]; then
	cat "$cache"
	exit 0
fi
accel=tcg
if [ -c /dev/kvm ] && grep -Eqw 'vmx|svm' /proc/cpuinfo; then
	out=$(mktemp)
	timeout 60 qemu-system-x86_64 -accel kvm -m 256M -display none -monitor none \
		-no-reboot -kernel "$BUILD/bzImage" -initrd "$BUILD/initramfs.cpio.gz" \
		-serial null -serial "file:$out" -append "console=ttyS0 panic=-1 run=probe" \
		</dev/null >/dev/null 2>&1 || true
	grep -q guest-probe-ok "$out" && accel=kvm
	rm -f "$out"
fi
echo "$accel" >"$cache"
echo "$accel"
