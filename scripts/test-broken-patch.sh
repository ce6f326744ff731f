#!/usr/bin/env bash
# Harness self-test: a patch that no longer applies must stop the build
# with a message naming it, and leave the prepared tree untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp "$PATCHES"/* "$broken/"
victim=$(series_patches | tail -n 1)
# Change a context line of the first hunk, as an upstream change would.
awk '!done && /^ [^ ]/ {sub(/^ /, " BROKEN "); done = 1} {print}' \
	"$PATCHES/$victim" >"$broken/$victim"
before=$(cat "$BUILD/managed-files" 2>/dev/null | md5sum)
if out=$(PATCHES=$broken "$TOP/scripts/prepare-tree.sh" 2>&1); then
	echo "not ok 1 a broken patch is refused: prepare-tree succeeded"
	exit 1
fi
if ! grep -q "$victim does not apply cleanly" <<<"$out"; then
	echo "not ok 1 a broken patch is refused with a message naming it: got '$out'"
	exit 1
fi
echo "ok 1 a broken patch is refused with a message naming it"
after=$(cat "$BUILD/managed-files" 2>/dev/null | md5sum)
if [ "$before" = "$after" ]; then
	echo "ok 2 ...and the prepared tree is left as it was"
else
	echo "not ok 2 ...and the prepared tree is left as it was"
	exit 1
fi
