#!/usr/bin/env bash
# Write the project as an upstream-style series, one commit per entry of
# patches/series (its diff plus the overlay files patches/overlay.map gives
# it), to build/patches/ with git format-patch, against the pristine base.
# Overlay files read at each step as scripts/overlay-render.pl makes them:
# the regions of later patches left out. The local series
# (patches/local/series, the benchmarks) is not exported.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$BUILD/series-git
out=$BUILD/patches
git_() { git -C "$repo" -c user.name="Buffer CG Developers" -c user.email=buffer-cg-devel@example.org "$@"; }

# Every overlay file and SERIES_ symbol belongs to exactly one patch that
# the series or the local series has.
all=$(tree_patches)
for file in $(overlay_files); do
	patch=$(overlay_patch "$file")
	[ -n "$patch" ] || die "$file is not assigned to a patch in patches/overlay.map"
	[ "$(wc -l <<<"$patch")" = 1 ] || die "patches/overlay.map assigns $file twice"
	grep -qxF "$patch" <<<"$all" ||
		die "patches/overlay.map assigns $file to $patch, which no series has"
done
for symbol in $(series_symbols); do
	patch=$(overlay_map | awk -v s="$symbol" '$1 == "ifdef" && $2 == s {print $3}')
	[ "$(wc -l <<<"$patch")" = 1 ] || die "patches/overlay.map assigns $symbol twice"
	grep -qxF "$patch" <<<"$all" ||
		die "patches/overlay.map assigns $symbol to $patch, which no series has"
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
laid=()
symbols=()
for patch in $(series_patches); do
	file=$PATCHES/$patch
	git_ apply --index "$file" || die "patches/$patch does not apply to Linux $(base_version)"
	# shellcheck disable=SC2207 # one word per file or symbol
	laid+=($(overlay_map | awk -v p="$patch" '$2 == p {print $1}'))
	# shellcheck disable=SC2207
	symbols+=($(series_symbols "$patch"))
	for overlay in "${laid[@]}"; do
		mkdir -p "$repo/$(dirname "$(overlay_target "$overlay")")"
		overlay_render "$overlay" "${symbols[@]}" >"$repo/$(overlay_target "$overlay")" ||
			die "cannot render $overlay"
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
git_ format-patch -q --cover-letter -o "$out" base..HEAD
# The cover letter's subject and blurb come from patches/cover-letter.
cover=$out/0000-cover-letter.patch
subject=$(head -n 1 "$PATCHES/cover-letter")
SUBJECT=$subject perl -0pi -e '
	BEGIN { local $/; open my $f, "<", shift @ARGV or die; $blurb = <$f>;
		$blurb =~ s/\A[^\n]*\n\n//; }
	s/\*\*\* SUBJECT HERE \*\*\*/$ENV{SUBJECT}/;
	s/\*\*\* BLURB HERE \*\*\*\n/$blurb/;
' "$PATCHES/cover-letter" "$cover" || die "cannot write the cover letter"
! grep -q '\*\*\* .* HERE \*\*\*' "$cover" || die "the cover letter kept a placeholder"
log "$(ls "$out" | grep -vc '^0000-cover-letter') patches and a cover letter in build/patches/"
