#!/usr/bin/env bash
# Configure a kernel from tinyconfig plus fragments and build it with ccache.
# usage: build-kernel.sh NAME FRAGMENT...   (output in build/kernel-NAME)
# KERNEL_TARGETS: what to build (default: bzImage), e.g. directories to
# compile without linking.
# The configuration is made in a scratch directory and copied in only when it
# changed, so an unchanged configuration never triggers a rebuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: $0 NAME FRAGMENT..."
name=$1
shift
obj=$BUILD/kernel-$name
scratch=$BUILD/kernel-$name.config-scratch
kmake() { make -C "$TREE" -s "$@"; }

mkdir -p "$obj" "$scratch"
kmake O="$scratch" tinyconfig >/dev/null
"$TREE/scripts/kconfig/merge_config.sh" -m -O "$scratch" "$scratch/.config" "$@" >/dev/null
kmake O="$scratch" olddefconfig >/dev/null

# A setting that did not take effect is a missing dependency: say so. Later
# fragments override earlier ones, so only the last word on a symbol counts.
declare -A wanted from
for fragment in "$@"; do
	while read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*} ;;
		"# CONFIG_"*" is not set") sym=${line#\# } sym=${sym%% *} ;;
		*) continue ;;
		esac
		wanted[$sym]=$line
		from[$sym]=$fragment
	done <"$fragment"
done
for sym in "${!wanted[@]}"; do
	line=${wanted[$sym]}
	case $line in
	CONFIG_*)
		grep -qxF "$line" "$scratch/.config" ||
			die "${from[$sym]}: '$line' did not take effect (missing dependency?)" ;;
	*)
		! grep -q "^$sym=" "$scratch/.config" ||
			die "${from[$sym]}: '$line' did not take effect (selected by another option?)" ;;
	esac
done
cmp -s "$scratch/.config" "$obj/.config" || cp "$scratch/.config" "$obj/.config"

export KBUILD_BUILD_USER=buffer-cg KBUILD_BUILD_HOST=qemu
export KBUILD_BUILD_TIMESTAMP="$(date -u -d @0)"
log "building kernel '$name' (Linux $(base_version))"
# shellcheck disable=SC2086 # a list of targets
kmake O="$obj" CC="ccache gcc" -j"$(($(jobs) + 1))" ${KERNEL_TARGETS:-bzImage}
kmake O="$obj" headers_install >/dev/null
