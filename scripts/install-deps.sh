#!/usr/bin/env bash
# Install, from Debian's archive, every package the build and tests use.
# usage: install-deps.sh [systemd|bench]
# With "systemd", also what building Debian's systemd and a Debian root
# for it takes ('make check-systemd'), and Debian's source archive; with
# "bench", also perf, which 'make bench' profiles the charge path with, and
# Debian's source archive, where the header of QEMU's plugin API comes from
# (scripts/build-icount-plugin.sh).
set -euo pipefail

packages=(
	linux-source-6.12 qemu-system-x86 busybox-static ccache
	build-essential bc bison flex libelf-dev libssl-dev
	cpio xz-utils kmod rsync perl python3 git
	# checkpatch.pl checks SPDX tags with scripts/spdxcheck.py, which needs both.
	python3-ply python3-git
)
if [ "${1:-}" = systemd ]; then
	packages+=(
		dpkg-dev debootstrap patchelf meson ninja-build gperf pkg-config
		python3-jinja2 libcap-dev libmount-dev libcrypt-dev
	)
elif [ "${1:-}" = bench ]; then
	packages+=(linux-perf)
fi

# 'apt-get source' needs Debian's source archive, which a fresh machine
# does not list.
sources=/etc/apt/sources.list.d/debian-src.sources
need_sources=false
if [ -n "${1:-}" ] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	need_sources=true
fi

missing=()
for pkg in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && ! $need_sources && exit 0

[ "$(id -u)" -eq 0 ] || { echo "error: run as root to install ${missing[*]}" >&2; exit 1; }
if $need_sources; then
	echo "==> adding Debian's source archive in $sources" >&2
	cat >"$sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg (unattended upgrades, say) rather than fail.
apt=(apt-get -q -o DPkg::Lock::Timeout=600)
"${apt[@]}" update >/dev/null
if [ ${#missing[@]} -gt 0 ]; then
	echo "==> installing: ${missing[*]}" >&2
	"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
