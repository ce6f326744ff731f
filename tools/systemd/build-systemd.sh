#!/usr/bin/env bash
# Build Debian 12's systemd with the patches of tools/systemd/patches/series:
# PID 1, systemctl and systemd-run, with their private libraries, into
# build/systemd/out/. Debian's source package is fetched and unpacked once
# (build/systemd/source); the patched copy is build/systemd/tree.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

here=$TOP/tools/systemd
work=$BUILD/systemd
out=$work/out
"$TOP/scripts/install-deps.sh" systemd

if [ ! -f "$work/source/.unpacked" ]; then
	log "systemd: fetching Debian's source package"
	rm -rf "$work/source"
	mkdir -p "$work/source"
	(cd "$work/source" && apt-get source -q systemd >"$work/source.log" 2>&1) ||
		die "apt-get source systemd failed: see $work/source.log"
	touch "$work/source/.unpacked"
fi
src=$(find "$work/source" -mindepth 1 -maxdepth 1 -type d -name 'systemd-*' | head -n 1)
[ -n "$src" ] || die "no systemd-* directory in $work/source"

# A fresh patched copy; rsync -c rewrites only what changed, so that meson
# and ninja rebuild only what the patches touch.
rm -rf "$work/stage"
cp -al "$src" "$work/stage"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/patches/series" | while read -r patch; do
	(cd "$work/stage" && patch -p1 -F0 -N -s --no-backup-if-mismatch -r - \
		-i "$here/patches/$patch") ||
		die "tools/systemd/patches/$patch does not apply cleanly to $(basename "$src"); refresh it"
done
mkdir -p "$work/tree"
rsync -rlc --delete "$work/stage/" "$work/tree/"
rm -rf "$work/stage"

if [ ! -f "$work/build/build.ninja" ]; then
	log "systemd: configuring"
	# Only what PID 1, systemctl and systemd-run need; Debian's paths.
	CC="ccache gcc" meson setup "$work/build" "$work/tree" \
		--buildtype=plain -Doptimization=2 -Dmode=release -Dauto_features=disabled -Dtests=false -Dman=false \
		-Dhtml=false -Dsplit-usr=true -Drootlibdir=/usr/lib/x86_64-linux-gnu \
		-Ddefault-hierarchy=unified -Dversion-tag="$(basename "$src" | sed 's/^systemd-//')+buffer" \
		>"$work/configure.log" 2>&1 || die "meson setup failed: see $work/configure.log"
fi
log "systemd: building PID 1, systemctl and systemd-run"
ninja -C "$work/build" -j"$(($(jobs) + 1))" systemd systemctl systemd-run \
	>"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "systemd does not build"; }

# The binaries find their own libraries in /usr/lib/systemd-buffer of the
# guest, so that Debian's other binaries keep Debian's libsystemd-shared.
rm -rf "$out"
mkdir -p "$out/lib"
for prog in systemd systemctl systemd-run; do
	cp "$work/build/$prog" "$out/$prog"
	patchelf --set-rpath /usr/lib/systemd-buffer "$out/$prog"
done
cp "$work"/build/src/shared/libsystemd-shared-*.so "$work"/build/src/core/libsystemd-core-*.so "$out/lib/"
log "systemd: $(ls "$out" | tr '\n' ' ')in build/systemd/out"
