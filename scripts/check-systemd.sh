#!/usr/bin/env bash
# 'make check-systemd', after its builds. Boot the systemd kernel on the
# Debian root (build/debian-root.cpio) with the patched systemd as PID 1;
# its test unit drives BufferMax= and reports on the results port. Writes
# build/results-systemd/*.tap and prints "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

results=$BUILD/results-systemd
kernel=$BUILD/kernel-systemd/arch/x86/boot/bzImage
rm -rf "$results"
mkdir -p "$results" "$LOGS"
[ -f "$kernel" ] || die "$kernel is missing: run 'make check-systemd'"

status=0
KERNEL=$kernel INITRD=$BUILD/debian-root.cpio MEM=2G QUIET_TIMEOUT=300 \
	guest_suites "$results" guest-systemd "$TOP/tools/systemd/guest/systemd.list" \
	"Debian boots with the patched systemd as PID 1, no splat, clean reboot" \
	systemd || status=1
python3 "$TOP/scripts/tap.py" summary "$results" || status=1
exit $status
