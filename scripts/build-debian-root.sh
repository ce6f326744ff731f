#!/usr/bin/env bash
# A small Debian 12 root with the patched systemd as PID 1, for
# 'make check-systemd': debootstrap's minbase plus systemd, Debian's OCI
# runtimes (crun, runc), the D-Bus daemon their systemd cgroup driver
# talks to systemd through, and v4l-utils (v4l2-ctl, a camera client),
# made once and cached in build/debian-root/base (made again when that
# list changes); then a copy with our systemd build,
# the buffer tools and the tests of tools/systemd/guest, packed as an
# uncompressed initramfs, build/debian-root.cpio.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=$BUILD/debian-root/base
root=$BUILD/debian-root/root
systemd=$BUILD/systemd/out
"$TOP/scripts/install-deps.sh" systemd
[ -x "$systemd/systemd" ] || die "$systemd is missing: run tools/systemd/build-systemd.sh"
[ -x "$BUILD/tools/buffer-client" ] || die "$BUILD/tools is missing: run 'make guest-programs'"

include=systemd,systemd-sysv,dbus,crun,runc,v4l-utils
if [ "$(cat "$base/.complete" 2>/dev/null)" != "$include" ]; then
	log "debian root: debootstrap bookworm (minbase + $include), once"
	rm -rf "$base"
	mkdir -p "$base"
	debootstrap --variant=minbase --include="$include" bookworm "$base" "$mirror" \
		>"$BUILD/debian-root/debootstrap.log" 2>&1 ||
		die "debootstrap failed: see build/debian-root/debootstrap.log"
	# What a test boot never reads.
	rm -rf "$base"/usr/share/{doc,man,info,locale} "$base"/var/cache/apt/archives/*.deb \
		"$base"/var/lib/apt/lists/*
	echo "$include" >"$base/.complete"
fi

log "debian root: adding the patched systemd and the tests"
rm -rf "$root"
cp -a "$base" "$root"
rm -f "$root/.complete"
install -D -m 0644 -t "$root/usr/lib/systemd-buffer" "$systemd"/lib/*.so
install -m 0755 "$systemd/systemd" "$root/lib/systemd/systemd"
install -m 0755 "$systemd/systemctl" "$root/bin/systemctl"
install -m 0755 "$systemd/systemd-run" "$root/usr/bin/systemd-run"
install -m 0755 "$BUILD"/tools/* "$root/usr/local/bin/"
install -m 0755 -t "$root/usr/local/bin/" "$TOP"/tools/systemd/guest/buffer-{guest-tests,systemd-test,container-test,v4l2-test}
install -m 0644 -t "$root/etc/systemd/system" "$TOP"/tools/systemd/guest/*.service
ln -sf /etc/systemd/system/buffer-systemd-test.service \
	"$root/etc/systemd/system/multi-user.target.wants/buffer-systemd-test.service"
ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
# Nothing to discover in the guest; udev's coldplug only costs time under TCG.
for unit in systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service \
	getty@tty1.service serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer; do
	ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo buffer-guest >"$root/etc/hostname"
ln -sf /lib/systemd/systemd "$root/init"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) \
	>"$BUILD/debian-root.cpio"
log "debian root: build/debian-root.cpio, $(du -h "$BUILD/debian-root.cpio" | cut -f1)"
