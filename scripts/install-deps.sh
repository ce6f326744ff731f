#!/usr/bin/env bash
# Install, from Debian's archive, every package the build and tests use.
set -euo pipefail

packages=(
	linux-source-6.12 qemu-system-x86 busybox-static ccache
	build-essential bc bison flex libelf-dev libssl-dev
	cpio xz-utils kmod rsync perl python3 git
)

missing=()
for pkg in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "==> installing: ${missing[*]}" >&2
[ "$(id -u)" -eq 0 ] || { echo "error: run as root to install ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg (unattended upgrades, say) rather than fail.
apt=(apt-get -q -o DPkg::Lock::Timeout=600)
"${apt[@]}" update >/dev/null
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
