#!/usr/bin/env bash
# Write the project as an upstream-style series, one commit per entry of
# patches/series (its diff plus the overlay files patches/overlay.map gives
# it), to build/patches/ with git format-patch, against the pristine base.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$BUILD/series-git
out=$BUILD/patches
map=$TOP/patches/overlay.map
git_() { git -C "$repo" -c user.name=buffer-cg -c user.email=buffer-cg@localhost "$@"; }

mapped() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$map"; }

# Every overlay file belongs to exactly one patch that the series has.
for file in $(overlay_files); do
	patch=$(mapped | awk -v f="$file" '$1 == f {print $2}')
	[ -n "$patch" ] || die "$file is not assigned to a patch in patches/overlay.map"
	series_patches | grep -qxF "$patch" ||
		die "patches/overlay.map assigns $file to $patch, which patches/series lacks"
done

if [ ! -f "$repo/.base-$(base_version)" ]; then
	log "creating the base repository for the series (once)"
	rm -rf "$repo"
	mkdir -p "$repo"
	tar -C "$repo" --strip-components=1 -xf "$BASE_TARBALL"
	git_ init -q
	# -f: Debian's top-level .gitignore ignores everything at the top level.
	git_ add -f -A .
	git_ commit -q -m "Linux $(base_version)"
	git_ tag base
	touch "$repo/.base-$(base_version)"
	echo "/.base-*" >>"$repo/.git/info/exclude"
fi
git_ reset -q --hard base
git_ clean -q -fdx -e '/.base-*'

msg=$(mktemp)
trap 'rm -f "$msg"' EXIT
for patch in $(series_patches); do
	file=$TOP/patches/$patch
	git_ apply --index "$file" || die "patches/$patch does not apply to Linux $(base_version)"
	for overlay in $(mapped | awk -v p="$patch" '$2 == p {print $1}'); do
		mkdir -p "$repo/$(dirname "$(overlay_target "$overlay")")"
		cp "$TOP/$overlay" "$repo/$(overlay_target "$overlay")"
		git_ add -f "$(overlay_target "$overlay")"
	done
	author=$(sed -n 's/^From: //p;/^$/q' "$file" | head -n 1)
	[ -n "$author" ] || die "patches/$patch has no From: line"
	{
		sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//p;/^$/q' "$file" | head -n 1
		echo
		sed -n '/^$/,/^---$/p' "$file" | sed -e '1d' -e '$d'
	} >"$msg"
	git_ commit -q --author="$author" -F "$msg"
done

rm -rf "$out"
git_ format-patch -q -o "$out" base..HEAD
log "$(ls "$out" | wc -l) patches in build/patches/"
