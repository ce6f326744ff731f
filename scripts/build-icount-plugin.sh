#!/usr/bin/env bash
# Build build/icount.so, the QEMU plugin of tools/icount (host C against
# QEMU's plugin API, no other library), for the installed QEMU. No Debian
# binary package ships qemu-plugin.h: it comes from the source of the
# installed qemu-system-x86 (apt-get source --download-only), cached in
# build/qemu-plugin/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/install-deps.sh" bench
cache=$BUILD/qemu-plugin
version=$(dpkg-query -W -f='${source:Version}' qemu-system-x86)
header=$cache/$version/qemu-plugin.h
if [ ! -f "$header" ]; then
	log "fetching qemu-plugin.h from Debian's qemu $version source"
	rm -rf "$cache/download"
	mkdir -p "$cache/download" "$cache/$version"
	# The installed version's source, or, once the archive has moved on,
	# the current one: QEMU refuses a plugin built for another API version.
	fetch() {
		(cd "$cache/download" &&
			apt-get -q -o APT::Sandbox::User=root source --download-only "$1" >/dev/null)
	}
	fetch "qemu=$version" || fetch qemu || die "cannot fetch Debian's qemu source"
	tar --no-same-owner -xJf "$cache"/download/qemu_*.orig.tar.xz -C "$cache/download" \
		--wildcards '*/include/qemu/qemu-plugin.h'
	mv "$cache"/download/*/include/qemu/qemu-plugin.h "$header"
	rm -rf "$cache/download"
fi
# Renamed into place: a running QEMU may have the old one mapped.
gcc -std=c11 -O2 -fPIC -shared -Wall -Wextra -Werror -I"$(dirname "$header")" \
	-o "$BUILD/icount.so.new" "$TOP/tools/icount/icount.c"
mv "$BUILD/icount.so.new" "$BUILD/icount.so"
