#!/usr/bin/env bash
# Pack busybox, the guest scripts and build/guest-bin into
# build/initramfs.cpio.gz.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$BUILD/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,guest,tests,usr/bin}
cp /bin/busybox "$root/bin/busybox"
cp "$TOP/scripts/guest/init" "$root/init"
cp "$TOP"/scripts/guest/run-*.sh "$root/guest/"
cp "$TOP"/scripts/guest/*.list "$root/tests/"
cp "$BUILD"/guest-bin/* "$TOP"/tools/tests/*.sh "$root/tests/"
cp "$BUILD"/tools/* "$root/usr/bin/"
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
# The same bytes from the same files (no build's times or inode numbers):
# the kernel's unpacking of another archive executes other instructions,
# and the counts of 'make bench-icount' would differ between builds.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort |
	cpio -o -H newc --quiet --reproducible -R 0:0 | gzip -1 -n) >"$BUILD/initramfs.cpio.gz"
