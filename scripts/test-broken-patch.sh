#!/usr/bin/env bash
# Harness self-test: a patch that no longer applies must stop the build
# with a message naming it, and leave the prepared tree untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp -r "$PATCHES"/* "$broken/"
victim=$(series_patches | tail -n 1)
# Change a context line of the first hunk, as an upstream change would.
awk '!done && /^ [^ ]/ {sub(/^ /, " BROKEN "); done = 1} {print}' \
	"$PATCHES/$victim" >"$broken/$victim"
# The prepared tree's content: every file the overlay and series manage.
# Both must exist: comparing two absent trees proves nothing.
tree_sum() {
	[ -s "$BUILD/managed-files" ] && [ -d "$TREE" ] || return 1
	(cd "$TREE" && xargs -d '\n' md5sum -- <"$BUILD/managed-files") | md5sum
}
if ! before=$(tree_sum); then
	echo "not ok 1 a broken patch is refused: no prepared tree to compare ($TREE, $BUILD/managed-files)"
	exit 1
fi
if out=$(PATCHES=$broken "$TOP/scripts/prepare-tree.sh" 2>&1); then
	echo "not ok 1 a broken patch is refused: prepare-tree succeeded"
	exit 1
fi
if ! grep -q "$victim does not apply cleanly" <<<"$out"; then
	echo "not ok 1 a broken patch is refused with a message naming it: got '$out'"
	exit 1
fi
echo "ok 1 a broken patch is refused with a message naming it"
if after=$(tree_sum) && [ "$before" = "$after" ]; then
	echo "ok 2 ...and the prepared tree is left as it was"
else
	echo "not ok 2 ...and the prepared tree is left as it was"
	exit 1
fi
