#!/usr/bin/env bash
# Unpack the base kernel once, then lay the overlay, patches/series and the
# local series (patches/local/series: the benchmarks) over a working copy of
# it, the overlay files as they read at the end of both. Only files whose content changed are rewritten, so a
# rebuild after editing one file recompiles only what depends on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

STAGE=$BUILD/stage
MANAGED=$BUILD/managed-files

unpack_base() {
	local stamp=$BUILD/base/.unpacked want
	[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL is missing: run scripts/install-deps.sh"
	want=$(stat -c '%s %Y' "$BASE_TARBALL")
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$TREE" ]; then
		return
	fi
	log "unpacking $BASE_TARBALL"
	rm -rf "$BUILD/base" "$TREE" "$MANAGED"
	mkdir -p "$BUILD/base"
	tar -C "$BUILD/base" -xf "$BASE_TARBALL"
	# Hard links: every later write replaces a file rather than editing it.
	cp -al "$PRISTINE" "$TREE"
	echo "$want" >"$stamp"
}

files_touched_by_series() {
	local patch
	tree_patches | while read -r patch; do
		[ -f "$PATCHES/$patch" ] || die "a series names missing file patches/$patch"
		sed -n -e 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$PATCHES/$patch"
	done | sort -u
}

compose_stage() {
	local file patch
	rm -rf "$STAGE"
	mkdir -p "$STAGE"
	for file in $(files_touched_by_series); do
		if [ -e "$PRISTINE/$file" ]; then
			mkdir -p "$STAGE/$(dirname "$file")"
			cp -p "$PRISTINE/$file" "$STAGE/$file"
		fi
	done
	for patch in $(tree_patches); do
		if ! (cd "$STAGE" && patch -p1 -F0 -N -s --no-backup-if-mismatch \
			-r - -i "$PATCHES/$patch"); then
			die "patches/$patch does not apply cleanly (no fuzz allowed) to Linux $(base_version); refresh it against $PRISTINE"
		fi
	done
	# shellcheck disable=SC2046 # one word per symbol
	for file in $(overlay_files); do
		mkdir -p "$STAGE/$(dirname "$(overlay_target "$file")")"
		overlay_render "$file" $(series_symbols) >"$STAGE/$(overlay_target "$file")" ||
			die "cannot render $file"
	done
}

sync_stage() {
	local file
	(cd "$STAGE" && find . -type f | sed 's|^\./||' | sort) >"$MANAGED.new"
	# Files the overlay or series no longer provides go back to the base.
	if [ -f "$MANAGED" ]; then
		comm -23 "$MANAGED" "$MANAGED.new" | while read -r file; do
			rm -f "$TREE/$file"
			if [ -e "$PRISTINE/$file" ]; then
				cp -p "$PRISTINE/$file" "$TREE/$file"
			fi
		done
	fi
	rsync -rc "$STAGE/" "$TREE/"
	mv "$MANAGED.new" "$MANAGED"
}

"$(dirname "$0")/install-deps.sh"
# Two make targets run at once (make kunit beside make kernel) share the
# stage: one lays the tree at a time.
mkdir -p "$BUILD"
exec 9>"$BUILD/.tree.lock"
flock 9
unpack_base
compose_stage
sync_stage
log "Linux $(base_version) with $(series_patches | wc -l) patches, $(local_patches | wc -l) local ones and the overlay in $TREE"
